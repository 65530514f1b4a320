"""One weather lookup, shared by the model's tools and the widgets' actions, so a typed
request and a click produce the same widget and the same messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatkit.widgets import DynamicWidgetRoot

from use_cases.weather.domain import (
    Forecast,
    Place,
    Units,
    WeatherError,
    WeatherUnavailable,
    clamp_days,
    clean_place,
    place_from_payload,
    place_payload,
)
from use_cases.weather.provider import WeatherProvider
from use_cases.weather.widgets import unavailable_widget, weather_widget

Progress = Callable[[str], Awaitable[None]]


async def _no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class Lookup:
    """The widget to show, its copy text, and what went wrong (if anything)."""

    widget: DynamicWidgetRoot | None
    copy_text: str
    forecast: Forecast | None = None
    error: WeatherError | None = None


async def look_up(
    provider: WeatherProvider,
    *,
    name: Any = None,
    place: Place | None = None,
    days: Any = None,
    units: Units,
    language: str = "en",
    progress: Progress = _no_progress,
) -> Lookup:
    """Geocode `name` (unless `place` is already known), then fetch its forecast.

    Never raises a WeatherError: an unknown place comes back without a widget (the
    caller decides how to ask again); an outage comes back with an "unavailable" card
    whose button retries the same request.
    """
    count = clamp_days(days)
    label = place.name if place else str(name or "").strip()[:100] or "that place"
    retry: dict[str, Any] = (
        {**place_payload(place), "days": count} if place else {"place": label, "days": count}
    )
    try:
        if place is None:
            query = clean_place(name)
            await progress(f"Looking up {query}…")
            place = await provider.find_place(query, language)
            retry = {**place_payload(place), "days": count}
        await progress(f"Fetching the weather for {place.label}…")
        forecast = await provider.forecast(place, count)
    except WeatherUnavailable as exc:
        widget, copy_text = unavailable_widget(label, str(exc), retry)
        return Lookup(widget, copy_text, error=exc)
    except WeatherError as exc:  # PlaceNotFound or bad input: nothing to retry
        return Lookup(None, str(exc), error=exc)
    widget, copy_text = weather_widget(forecast, units)
    return Lookup(widget, copy_text, forecast=forecast)


def requested_place(payload: Any) -> tuple[Place | None, Any]:
    """What an action payload asks for: known coordinates, or else a name to geocode."""
    place = place_from_payload(payload)
    name = payload.get("place") if isinstance(payload, dict) else None
    return place, name
