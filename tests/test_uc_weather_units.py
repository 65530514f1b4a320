"""The weather use case without a model: Open-Meteo parsing on sample JSON, WMO codes,
units, widget templates, the shared lookup, and the real provider against the fake."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

from tests.fake_weather import FakePlace, FakeWeather
from use_cases.weather.domain import (
    BadProviderAnswer,
    Forecast,
    Place,
    PlaceNotFound,
    WeatherError,
    WeatherUnavailable,
    clamp_days,
    clean_place,
    code_emoji,
    describe_code,
    geocoding_language,
    normalise_units,
    parse_forecast,
    parse_geocoding,
    place_from_payload,
    place_payload,
    stored_units,
    summary,
    temperature,
    wind,
)
from use_cases.weather.provider import OpenMeteoProvider
from use_cases.weather.service import look_up
from use_cases.weather.widgets import (
    REFRESH_ACTION,
    SELECT_CITY_ACTION,
    SET_UNITS_ACTION,
    city_picker_widget,
    unavailable_widget,
    weather_widget,
)

# Trimmed from real answers of geocoding-api.open-meteo.com/v1/search?name=Berlin&count=1
GEOCODING_BERLIN = {
    "results": [
        {
            "id": 2950159,
            "name": "Berlin",
            "latitude": 52.52437,
            "longitude": 13.41053,
            "elevation": 74.0,
            "feature_code": "PPLC",
            "country_code": "DE",
            "admin1_id": 2950157,
            "timezone": "Europe/Berlin",
            "population": 3426354,
            "postcodes": ["10967", "13347"],
            "country_id": 2921044,
            "country": "Deutschland",
            "admin1": "Berlin",
        }
    ],
    "generationtime_ms": 0.7,
}
GEOCODING_NOTHING = {"generationtime_ms": 0.3}  # no `results` key at all

# ...and of api.open-meteo.com/v1/forecast with the app's current/daily fields.
FORECAST_BERLIN = {
    "latitude": 52.52,
    "longitude": 13.419998,
    "generationtime_ms": 0.06,
    "utc_offset_seconds": 7200,
    "timezone": "Europe/Berlin",
    "timezone_abbreviation": "GMT+2",
    "elevation": 38.0,
    "current_units": {
        "time": "iso8601",
        "interval": "seconds",
        "temperature_2m": "°C",
        "weather_code": "wmo code",
        "wind_speed_10m": "km/h",
    },
    "current": {
        "time": "2025-06-02T14:15",
        "interval": 900,
        "temperature_2m": 18.6,
        "weather_code": 3,
        "wind_speed_10m": 14.3,
    },
    "daily_units": {
        "time": "iso8601",
        "weather_code": "wmo code",
        "temperature_2m_max": "°C",
        "temperature_2m_min": "°C",
    },
    "daily": {
        "time": ["2025-06-02", "2025-06-03", "2025-06-04"],
        "weather_code": [3, 61, 95],
        "temperature_2m_max": [21.4, 17.0, None],
        "temperature_2m_min": [10.2, 9.5, None],
    },
}

BERLIN = Place("Berlin", 52.52437, 13.41053, "Deutschland", "Berlin", "Europe/Berlin")


def berlin_forecast() -> Forecast:
    return parse_forecast(FORECAST_BERLIN, BERLIN)


# Parsing


def test_geocoding_first_result_becomes_a_place():
    place = parse_geocoding(GEOCODING_BERLIN, "berlin")
    assert place == BERLIN
    assert place.label == "Berlin, Deutschland"  # the region is not repeated


def test_geocoding_without_results_is_place_not_found():
    with pytest.raises(PlaceNotFound, match="could not find a place called 'Atlantis'"):
        parse_geocoding(GEOCODING_NOTHING, "Atlantis")
    with pytest.raises(PlaceNotFound):
        parse_geocoding({"results": []}, "x")


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"results": "Berlin"},
        {"results": [{"name": "Berlin"}]},
        {"results": [{"name": "B", "latitude": "52", "longitude": 13}]},
        {"results": [{"name": "B", "latitude": True, "longitude": 13}]},
    ],
)
def test_malformed_geocoding_is_a_bad_answer(payload):
    with pytest.raises(BadProviderAnswer):
        parse_geocoding(payload, "Berlin")


def test_forecast_parses_current_and_daily_values():
    forecast = berlin_forecast()
    assert forecast.timezone == "Europe/Berlin"
    assert forecast.temperature_c == 18.6 and forecast.wind_kmh == 14.3
    assert forecast.code == 3 and forecast.condition == "Overcast"
    assert [d.day for d in forecast.days] == [date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 4)]
    assert [d.condition for d in forecast.days] == ["Overcast", "Slight rain", "Thunderstorm"]
    # Open-Meteo sends null for values it has no data for; they stay unknown, not zero.
    assert forecast.days[2].max_c is None and forecast.days[2].min_c is None


def test_forecast_tolerates_short_series_and_missing_timezone():
    payload = json.loads(json.dumps(FORECAST_BERLIN))
    payload["daily"]["weather_code"] = [3]
    del payload["timezone"]
    forecast = parse_forecast(payload, BERLIN)
    assert forecast.timezone == "Europe/Berlin"  # from the geocoding result
    assert [d.code for d in forecast.days] == [3, None, None]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("current"),
        lambda p: p.pop("daily"),
        lambda p: p["daily"].pop("time"),
        lambda p: p["daily"].pop("temperature_2m_max"),
        lambda p: p["current"].update(temperature_2m=None),
        lambda p: p["current"].update(temperature_2m="warm"),
        lambda p: p["daily"].update(time=["yesterday", "2025-06-03", "2025-06-04"]),
    ],
)
def test_malformed_forecast_is_a_bad_answer(mutate):
    payload = json.loads(json.dumps(FORECAST_BERLIN))
    mutate(payload)
    with pytest.raises(BadProviderAnswer):
        parse_forecast(payload, BERLIN)


# WMO codes and units


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0, "Clear sky"),
        (1, "Mainly clear"),
        (2, "Partly cloudy"),
        (3, "Overcast"),
        (45, "Fog"),
        (48, "Depositing rime fog"),
        (55, "Dense drizzle"),
        (57, "Dense freezing drizzle"),
        (65, "Heavy rain"),
        (67, "Heavy freezing rain"),
        (75, "Heavy snowfall"),
        (77, "Snow grains"),
        (82, "Violent rain showers"),
        (86, "Heavy snow showers"),
        (95, "Thunderstorm"),
        (99, "Thunderstorm with heavy hail"),
    ],
)
def test_wmo_codes_have_readable_text_and_an_emoji(code, text):
    assert describe_code(code) == text
    assert code_emoji(code)


def test_unknown_wmo_codes_do_not_crash():
    assert describe_code(42) == "Unknown conditions (code 42)"
    assert describe_code(None) == "Unknown conditions"
    assert code_emoji(42) == code_emoji(None) == "🌡️"


def test_units_conversion_and_rounding():
    assert temperature(21.4, "celsius") == "21°C"
    assert temperature(21.4, "fahrenheit") == "71°F"
    assert temperature(-40, "fahrenheit") == "-40°F"
    assert temperature(None, "celsius") == "–"
    assert temperature(18.5, "celsius") == "19°C" and temperature(-0.4, "celsius") == "0°C"
    assert wind(16.09344, "fahrenheit") == "10 mph"
    assert wind(11.6, "celsius") == "12 km/h"


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("Fahrenheit", "fahrenheit"),
        (" °F ", "fahrenheit"),
        ("imperial", "fahrenheit"),
        ("celsius", "celsius"),
        ("C", "celsius"),
        ("metric", "celsius"),
    ],
)
def test_units_names(text, units):
    assert normalise_units(text) == units


def test_unknown_units_are_refused_and_stored_garbage_means_celsius():
    with pytest.raises(WeatherError):
        normalise_units("kelvin")
    assert stored_units(None) == stored_units({"x": 1}) == "celsius"
    assert stored_units("fahrenheit") == "fahrenheit"


def test_input_cleaning():
    assert clean_place("  New   York ") == "New York"
    assert len(clean_place("x" * 500)) == 100
    for bad in ("", " ", "a", None):
        with pytest.raises(WeatherError):
            clean_place(bad)
    assert [clamp_days(d) for d in (0, 3, 99, "5", None, "many")] == [1, 3, 7, 5, 3, 3]
    assert geocoding_language("fr-FR") == "fr"
    assert geocoding_language("zzz") == geocoding_language("") == "en"


def test_place_payload_round_trip_and_validation():
    assert place_from_payload(place_payload(BERLIN)) == BERLIN
    assert place_from_payload({**place_payload(BERLIN), "latitude": 95}) is None
    assert place_from_payload({**place_payload(BERLIN), "longitude": "13"}) is None
    assert place_from_payload({**place_payload(BERLIN), "name": ""}) is None
    assert place_from_payload({"place": "Paris"}) is None
    assert place_from_payload("Paris") is None


def test_summary_in_both_units():
    text = summary(berlin_forecast(), "celsius")
    assert text.startswith("Berlin, Deutschland: 19°C, Overcast, wind 14 km/h")
    assert "Mon 02: Overcast, 10°C to 21°C" in text and "Wed 04: Thunderstorm, – to –" in text
    assert "65°F, Overcast, wind 9 mph" in summary(berlin_forecast(), "fahrenheit")


# Widgets


def _texts(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key in ("value", "label"):
            if isinstance(node.get(key), str):
                found.append(node[key])
        for child in node.get("children") or []:
            found.extend(_texts(child))
    return found


def _buttons(node) -> list[dict]:
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "Button" else []
    for child in node.get("children") or []:
        found.extend(_buttons(child))
    return found


def test_weather_widget_shows_the_numbers_and_offers_refresh_and_units():
    widget, copy_text = weather_widget(berlin_forecast(), "celsius")
    tree = widget.model_dump(exclude_none=True)
    texts = _texts(tree)
    assert tree["type"] == "Card"
    for expected in ("Berlin, Deutschland", "19°C", "Overcast", "Wind 14 km/h", "21°C / 10°C"):
        assert expected in texts
    assert any("Europe/Berlin" in t and "14:15" in t for t in texts)
    refresh, toggle = _buttons(tree)[-2:]
    assert refresh["onClickAction"]["type"] == REFRESH_ACTION
    assert place_from_payload(refresh["onClickAction"]["payload"]) == BERLIN
    assert refresh["onClickAction"]["payload"]["days"] == 3
    assert toggle["onClickAction"] == {
        "type": SET_UNITS_ACTION,
        "payload": {**place_payload(BERLIN), "days": 3, "units": "fahrenheit"},
    }
    assert copy_text == summary(berlin_forecast(), "celsius")


def test_weather_widget_in_fahrenheit_escapes_text_safely():
    place = Place('Quote "town" <b>', 1.0, 2.0, "Land", None, "UTC")
    widget, _ = weather_widget(parse_forecast(FORECAST_BERLIN, place), "fahrenheit")
    texts = _texts(widget.model_dump(exclude_none=True))
    assert 'Quote "town" <b>, Land' in texts and "65°F" in texts and "Show °C" in texts


def test_city_picker_and_unavailable_widgets():
    widget, copy_text = city_picker_widget(["Paris", "Tokyo"], 4)
    buttons = _buttons(widget.model_dump(exclude_none=True))
    assert [b["label"] for b in buttons] == ["Paris", "Tokyo"]
    assert buttons[1]["onClickAction"] == {
        "type": SELECT_CITY_ACTION,
        "payload": {"place": "Tokyo", "days": 4},
    }
    assert copy_text == "Choose a city: Paris, Tokyo"

    widget, copy_text = unavailable_widget("Paris", "Down.", {"place": "Paris", "days": 3})
    tree = widget.model_dump(exclude_none=True)
    assert "Down." in _texts(tree) and copy_text == "No weather for Paris: Down."
    assert _buttons(tree)[0]["onClickAction"]["type"] == REFRESH_ACTION


# The shared lookup, with a stub provider


class StubProvider:
    def __init__(self, error: Exception | None = None, geocode_error: Exception | None = None):
        self.error = error
        self.geocode_error = geocode_error
        self.calls: list[str] = []

    async def find_place(self, name: str, language: str = "en") -> Place:
        self.calls.append(f"find:{name}:{language}")
        if self.geocode_error:
            raise self.geocode_error
        return BERLIN

    async def forecast(self, place: Place, days: int) -> Forecast:
        self.calls.append(f"forecast:{place.name}:{days}")
        if self.error:
            raise self.error
        return berlin_forecast()


async def test_look_up_geocodes_reports_progress_and_renders():
    provider, steps = StubProvider(), []

    async def progress(text: str) -> None:
        steps.append(text)

    result = await look_up(
        provider, name=" berlin ", days=9, units="celsius", language="de", progress=progress
    )
    assert result.error is None and result.forecast is not None and result.widget is not None
    assert provider.calls == ["find:berlin:de", "forecast:Berlin:7"]
    assert steps == ["Looking up berlin…", "Fetching the weather for Berlin, Deutschland…"]


async def test_look_up_with_known_coordinates_skips_geocoding():
    provider = StubProvider()
    result = await look_up(provider, place=BERLIN, units="fahrenheit")
    assert provider.calls == ["forecast:Berlin:3"] and result.forecast is not None


async def test_look_up_outage_gives_an_unavailable_card_that_retries_the_same_place():
    provider = StubProvider(error=WeatherUnavailable("Service down."))
    result = await look_up(provider, name="Berlin", days=2, units="celsius")
    assert result.forecast is None and isinstance(result.error, WeatherUnavailable)
    assert result.copy_text == "No weather for Berlin: Service down."
    retry = _buttons(result.widget.model_dump(exclude_none=True))[0]["onClickAction"]["payload"]
    assert place_from_payload(retry) == BERLIN and retry["days"] == 2


async def test_look_up_unknown_place_and_bad_input_have_no_widget():
    provider = StubProvider(geocode_error=PlaceNotFound("No such place."))
    result = await look_up(provider, name="Atlantis", units="celsius")
    assert result.widget is None and result.copy_text == "No such place."
    result = await look_up(StubProvider(), name="?", units="celsius")
    assert result.widget is None and "at least two letters" in result.copy_text


# The real provider over HTTP, against the fake Open-Meteo


@pytest.fixture
async def provider(fake_weather: FakeWeather):
    provider = OpenMeteoProvider(fake_weather.api_url, fake_weather.geocoding_url, 0.5)
    yield provider
    await provider.aclose()


async def test_provider_geocodes_and_forecasts_with_open_meteo_parameters(provider, fake_weather):
    place = await provider.find_place("Paris", "fr")
    forecast = await provider.forecast(place, 4)

    assert place.label == "Paris, Île-de-France, France" and place.timezone == "Europe/Paris"
    assert forecast.temperature_c == 21.4 and forecast.condition == "Partly cloudy"
    assert [d.max_c for d in forecast.days] == [23.6, 19.2, 17.8, 25.0]
    assert fake_weather.seen("geocoding") == [
        {"name": "Paris", "count": "1", "language": "fr", "format": "json"}
    ]
    query = fake_weather.seen("forecast")[0]
    assert query["current"] == "temperature_2m,weather_code,wind_speed_10m"
    assert query["daily"] == "weather_code,temperature_2m_max,temperature_2m_min"
    assert query["timezone"] == "auto" and query["forecast_days"] == "4"
    assert float(query["latitude"]) == 48.85341


async def test_provider_reuses_one_client(provider):
    await provider.find_place("Paris")
    client = provider._client
    await provider.find_place("London")
    assert provider._client is client


async def test_provider_unknown_place(provider):
    with pytest.raises(PlaceNotFound, match="Atlantis"):
        await provider.find_place("Atlantis")


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"status": 503}, "unavailable right now (HTTP 503)"),
        ({"status": 502}, "unavailable right now (HTTP 502)"),
        ({"status": 429}, "busy"),
        ({"status": 400}, "refused the request (HTTP 400: fake failure 400)"),
        ({"status": 200, "not_json": True}, "could not read (not JSON)"),
        ({"status": 200, "hang": 2.0}, "did not answer within 0.5 seconds"),
    ],
)
async def test_provider_failures_are_weather_unavailable(provider, fake_weather, failure, message):
    fake_weather.fail("forecast", **failure)
    with pytest.raises(WeatherUnavailable, match=message.replace("(", r"\(").replace(")", r"\)")):
        await provider.forecast(BERLIN, 3)
    # The next request goes through: the failure was scripted for one request only.
    assert (await provider.forecast(BERLIN, 3)).timezone == "GMT"


async def test_provider_unreachable(fake_weather):
    provider = OpenMeteoProvider("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1", 0.5)
    try:
        with pytest.raises(WeatherUnavailable, match="could not be reached"):
            await provider.find_place("Paris")
    finally:
        await provider.aclose()


async def test_provider_with_a_broken_url_setting_is_unavailable_not_a_crash():
    provider = OpenMeteoProvider("http://[::1", "http://[::1", 0.5)
    try:
        with pytest.raises(WeatherUnavailable, match="not configured correctly"):
            await provider.find_place("Paris")
    finally:
        await provider.aclose()


async def test_provider_serves_concurrent_requests(provider, fake_weather):
    fake_weather.add_place(
        FakePlace("Lima", -12.04, -77.03, "Peru", "Lima", "America/Lima", 17, 3, 9)
    )
    places = await asyncio.gather(*(provider.find_place(n) for n in ("Paris", "Lima", "Tokyo")))
    assert [p.timezone for p in places] == ["Europe/Paris", "America/Lima", "Asia/Tokyo"]
