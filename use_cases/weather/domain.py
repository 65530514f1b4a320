"""Weather rules free of I/O: Open-Meteo JSON parsing, WMO codes, units, payloads.

Everything here is a pure function so it can be tested on sample JSON without a
network or a model. The provider always asks Open-Meteo for its defaults (°C, km/h);
conversion to the user's preferred units happens here, at display time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Units = Literal["celsius", "fahrenheit"]
UNITS_KEY = "weather_units"
DEFAULT_UNITS: Units = "celsius"
DEFAULT_DAYS = 3
MAX_DAYS = 7
MAX_PLACE_CHARS = 100
QUICK_CITIES = ("Paris", "London", "New York", "Tokyo", "Sydney", "Cairo")
MAX_PICKER_CITIES = 8


class WeatherError(Exception):
    """A failure the user should read as is (the message is safe to show)."""


class PlaceNotFound(WeatherError):
    pass


class WeatherUnavailable(WeatherError):
    pass


class BadProviderAnswer(WeatherUnavailable):
    """The provider answered, but not with the JSON shape we expect."""

    def __init__(self, detail: str):
        super().__init__(f"The weather service sent an answer I could not read ({detail}).")


# WMO weather interpretation codes as documented by Open-Meteo: (text, emoji).
_WMO: dict[int, tuple[str, str]] = {
    0: ("Clear sky", "☀️"),
    1: ("Mainly clear", "🌤️"),
    2: ("Partly cloudy", "⛅"),
    3: ("Overcast", "☁️"),
    45: ("Fog", "🌫️"),
    48: ("Depositing rime fog", "🌫️"),
    51: ("Light drizzle", "🌦️"),
    53: ("Moderate drizzle", "🌦️"),
    55: ("Dense drizzle", "🌦️"),
    56: ("Light freezing drizzle", "🌧️"),
    57: ("Dense freezing drizzle", "🌧️"),
    61: ("Slight rain", "🌦️"),
    63: ("Moderate rain", "🌧️"),
    65: ("Heavy rain", "🌧️"),
    66: ("Light freezing rain", "🌧️"),
    67: ("Heavy freezing rain", "🌧️"),
    71: ("Slight snowfall", "🌨️"),
    73: ("Moderate snowfall", "🌨️"),
    75: ("Heavy snowfall", "❄️"),
    77: ("Snow grains", "🌨️"),
    80: ("Slight rain showers", "🌦️"),
    81: ("Moderate rain showers", "🌧️"),
    82: ("Violent rain showers", "⛈️"),
    85: ("Slight snow showers", "🌨️"),
    86: ("Heavy snow showers", "❄️"),
    95: ("Thunderstorm", "⛈️"),
    96: ("Thunderstorm with slight hail", "⛈️"),
    99: ("Thunderstorm with heavy hail", "⛈️"),
}


def describe_code(code: int | None) -> str:
    if code is None:
        return "Unknown conditions"
    return _WMO.get(code, (f"Unknown conditions (code {code})", ""))[0]


def code_emoji(code: int | None) -> str:
    return _WMO.get(code, ("", "🌡️"))[1] if code is not None else "🌡️"


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str | None = None
    region: str | None = None
    timezone: str | None = None

    @property
    def label(self) -> str:
        parts = [self.name]
        if self.region and self.region != self.name:
            parts.append(self.region)
        if self.country:
            parts.append(self.country)
        return ", ".join(parts)


@dataclass(frozen=True)
class DayForecast:
    day: date
    code: int | None
    max_c: float | None
    min_c: float | None

    @property
    def condition(self) -> str:
        return describe_code(self.code)


@dataclass(frozen=True)
class Forecast:
    place: Place
    timezone: str
    observed_at: str  # local time of the observation, as Open-Meteo gives it
    temperature_c: float
    code: int | None
    wind_kmh: float | None
    days: tuple[DayForecast, ...]

    @property
    def condition(self) -> str:
        return describe_code(self.code)


# Parsing

_GEO_FIELDS = ("name", "latitude", "longitude")


def _number(value: Any, what: str) -> float:
    # bool is an int subclass; a JSON true is not a temperature.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadProviderAnswer(f"{what} is not a number")
    return float(value)


def _optional_number(value: Any, what: str) -> float | None:
    return None if value is None else _number(value, what)


def _optional_code(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def _optional_text(value: Any) -> str | None:
    # Also reads widget payloads a client sent back, so keep it short.
    return (value.strip()[:MAX_PLACE_CHARS] or None) if isinstance(value, str) else None


def parse_geocoding(payload: Any, query: str) -> Place:
    """The first result of `GET /v1/search`, or PlaceNotFound.

    Open-Meteo omits `results` entirely (not an empty list) when nothing matches.
    """
    if not isinstance(payload, dict):
        raise BadProviderAnswer("geocoding answer is not an object")
    results = payload.get("results") or []
    if not isinstance(results, list):
        raise BadProviderAnswer("geocoding results are not a list")
    if not results:
        raise PlaceNotFound(f"I could not find a place called '{query[:MAX_PLACE_CHARS]}'.")
    first = results[0]
    if not isinstance(first, dict) or any(k not in first for k in _GEO_FIELDS):
        raise BadProviderAnswer("geocoding result lacks name or coordinates")
    return Place(
        name=str(first["name"]),
        latitude=_number(first["latitude"], "latitude"),
        longitude=_number(first["longitude"], "longitude"),
        country=_optional_text(first.get("country")),
        region=_optional_text(first.get("admin1")),
        timezone=_optional_text(first.get("timezone")),
    )


def _series(daily: dict[str, Any], key: str, length: int) -> list[Any]:
    values = daily.get(key)
    if not isinstance(values, list):
        raise BadProviderAnswer(f"daily {key} is missing")
    # Open-Meteo pads with null rather than shortening a series; tolerate either.
    return values[:length] + [None] * (length - len(values[:length]))


def parse_forecast(payload: Any, place: Place) -> Forecast:
    """`GET /v1/forecast` with `current=temperature_2m,weather_code,wind_speed_10m` and
    `daily=weather_code,temperature_2m_max,temperature_2m_min`."""
    if not isinstance(payload, dict):
        raise BadProviderAnswer("forecast answer is not an object")
    current = payload.get("current")
    daily = payload.get("daily")
    if not isinstance(current, dict) or not isinstance(daily, dict):
        raise BadProviderAnswer("current or daily weather is missing")
    times = daily.get("time")
    if not isinstance(times, list):
        raise BadProviderAnswer("daily time is missing")
    codes = _series(daily, "weather_code", len(times))
    highs = _series(daily, "temperature_2m_max", len(times))
    lows = _series(daily, "temperature_2m_min", len(times))
    days = []
    for day, code, high, low in zip(times, codes, highs, lows, strict=True):
        try:
            parsed_day = date.fromisoformat(str(day))
        except ValueError:
            raise BadProviderAnswer("a daily date is not ISO 8601") from None
        days.append(
            DayForecast(
                day=parsed_day,
                code=_optional_code(code),
                max_c=_optional_number(high, "daily maximum"),
                min_c=_optional_number(low, "daily minimum"),
            )
        )
    timezone = _optional_text(payload.get("timezone")) or place.timezone or "UTC"
    return Forecast(
        place=place,
        timezone=timezone,
        observed_at=str(current.get("time") or ""),
        temperature_c=_number(current.get("temperature_2m"), "current temperature"),
        code=_optional_code(current.get("weather_code")),
        wind_kmh=_optional_number(current.get("wind_speed_10m"), "wind speed"),
        days=tuple(days),
    )


# Input from the model, the user and widget payloads


def clean_place(name: Any) -> str:
    """A place name worth sending to geocoding, or WeatherError."""
    text = " ".join(str(name or "").split())[:MAX_PLACE_CHARS]
    if len(text) < 2:
        raise WeatherError("Please name a city or place (at least two letters).")
    return text


def clamp_days(days: Any) -> int:
    try:
        value = int(days)
    except (TypeError, ValueError, OverflowError):  # None, "soon", NaN, inf (JSON 1e400)
        return DEFAULT_DAYS
    return max(1, min(MAX_DAYS, value))


def normalise_units(value: Any) -> Units:
    text = str(value or "").strip().lower()
    if text in ("f", "°f", "fahrenheit", "imperial", "us"):
        return "fahrenheit"
    if text in ("c", "°c", "celsius", "centigrade", "metric"):
        return "celsius"
    raise WeatherError("Units must be Celsius or Fahrenheit.")


def stored_units(value: Any) -> Units:
    """The session's preference; anything unreadable means the default."""
    try:
        return normalise_units(value)
    except WeatherError:
        return DEFAULT_UNITS


def place_from_payload(payload: Any) -> Place | None:
    """A place a widget put into an action payload, if it carries valid coordinates."""
    if not isinstance(payload, dict):
        return None
    try:
        latitude = _number(payload.get("latitude"), "latitude")
        longitude = _number(payload.get("longitude"), "longitude")
    except BadProviderAnswer:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    try:
        name = clean_place(payload.get("name"))
    except WeatherError:
        return None
    return Place(
        name=name,
        latitude=latitude,
        longitude=longitude,
        country=_optional_text(payload.get("country")),
        region=_optional_text(payload.get("region")),
        timezone=_optional_text(payload.get("timezone")),
    )


def place_payload(place: Place) -> dict[str, Any]:
    return {
        "name": place.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "country": place.country,
        "region": place.region,
        "timezone": place.timezone,
    }


def geocoding_language(locale: str) -> str:
    """Open-Meteo's `language` parameter takes a lowercase two-letter code."""
    code = locale.split("-")[0].strip().lower()
    return code if len(code) == 2 and code.isalpha() else "en"


# Display


def _whole(value: float) -> int:
    # Half up, as people read thermometers; round() would turn 18.5 into 18.
    return math.floor(value + 0.5)


def temperature(celsius: float | None, units: Units) -> str:
    if celsius is None:
        return "–"
    if units == "fahrenheit":
        return f"{_whole(celsius * 9 / 5 + 32)}°F"
    return f"{_whole(celsius)}°C"


def wind(kmh: float | None, units: Units) -> str:
    if kmh is None:
        return "–"
    if units == "fahrenheit":
        return f"{_whole(kmh / 1.609344)} mph"
    return f"{_whole(kmh)} km/h"


def short_day(day: date) -> str:
    return day.strftime("%a %d")


def observed_time(forecast: Forecast) -> str:
    """'14:15' from Open-Meteo's local ISO time ('2024-06-03T14:15')."""
    _, _, clock = forecast.observed_at.partition("T")
    return clock[:5] or forecast.observed_at


def summary(forecast: Forecast, units: Units) -> str:
    """One paragraph for the model and for the widget's copy text."""
    days = "; ".join(
        f"{short_day(d.day)}: {d.condition}, "
        f"{temperature(d.min_c, units)} to {temperature(d.max_c, units)}"
        for d in forecast.days
    )
    return (
        f"{forecast.place.label}: {temperature(forecast.temperature_c, units)}, "
        f"{forecast.condition}, wind {wind(forecast.wind_kmh, units)} "
        f"(observed {forecast.observed_at} {forecast.timezone}). Forecast: {days}."
    )
