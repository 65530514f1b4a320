"""Weather widgets, rendered from `.widget` templates (ChatKit's widget template format).

Each builder returns the widget and the copy text that goes with it: the copy text is
also what the model reads when the widget comes back in the history.
"""

from __future__ import annotations

from pathlib import Path

from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from use_cases.weather.domain import (
    Forecast,
    Units,
    code_emoji,
    observed_time,
    place_payload,
    short_day,
    summary,
    temperature,
    wind,
)

SELECT_CITY_ACTION = "weather.select_city"
REFRESH_ACTION = "weather.refresh"
SET_UNITS_ACTION = "weather.set_units"

_HERE = Path(__file__).parent
_WEATHER = WidgetTemplate.from_file(str(_HERE / "weather.widget"))
_CITIES = WidgetTemplate.from_file(str(_HERE / "cities.widget"))
_UNAVAILABLE = WidgetTemplate.from_file(str(_HERE / "unavailable.widget"))

Rendered = tuple[DynamicWidgetRoot, str]


def weather_widget(forecast: Forecast, units: Units) -> Rendered:
    place = {**place_payload(forecast.place), "days": len(forecast.days)}
    other: Units = "fahrenheit" if units == "celsius" else "celsius"
    widget = _WEATHER.build(
        {
            "place": forecast.place.label,
            "emoji": code_emoji(forecast.code),
            "temperature": temperature(forecast.temperature_c, units),
            "condition": forecast.condition,
            "wind": wind(forecast.wind_kmh, units),
            "updated": (
                f"Updated {observed_time(forecast)} local time ({forecast.timezone}) · Open-Meteo"
            ),
            "days": [
                {
                    "key": day.day.isoformat(),
                    "label": short_day(day.day),
                    "emoji": code_emoji(day.code),
                    "condition": day.condition,
                    "max": temperature(day.max_c, units),
                    "min": temperature(day.min_c, units),
                }
                for day in forecast.days
            ],
            "refresh": place,
            "toggle": {**place, "units": other},
            "toggle_label": "Show °F" if other == "fahrenheit" else "Show °C",
        }
    )
    return widget, summary(forecast, units)


def city_picker_widget(cities: list[str], days: int) -> Rendered:
    widget = _CITIES.build({"cities": cities, "days": days})
    return widget, "Choose a city: " + ", ".join(cities)


def unavailable_widget(place: str, message: str, retry: dict[str, object]) -> Rendered:
    widget = _UNAVAILABLE.build({"place": place, "message": message, "retry": retry})
    return widget, f"No weather for {place}: {message}"
