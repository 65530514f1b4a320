"""Tools the weather model can call. Who is asking, their locale and their unit
preference come from the run context, never from model arguments."""

from __future__ import annotations

from agents import RunContextWrapper, function_tool
from chatkit.types import ProgressUpdateEvent

from shared.turn_context import TurnContext
from use_cases.assistant.domain import SESSION_KEY as TIMEZONE_KEY
from use_cases.assistant.domain import (
    UnknownTimezone,
    effective_timezone,
    normalise_timezone,
    read_clock,
)
from use_cases.weather.domain import (
    DEFAULT_DAYS,
    MAX_PICKER_CITIES,
    QUICK_CITIES,
    UNITS_KEY,
    Units,
    WeatherError,
    clamp_days,
    clean_place,
    geocoding_language,
    normalise_units,
    stored_units,
)
from use_cases.weather.provider import get_provider
from use_cases.weather.service import look_up
from use_cases.weather.widgets import city_picker_widget


def preferred_units(turn: TurnContext) -> Units:
    return stored_units(turn.session.get(UNITS_KEY))


@function_tool
async def get_weather(
    ctx: RunContextWrapper[TurnContext], place: str, days: int = DEFAULT_DAYS
) -> str:
    """Get the current weather and a daily forecast for a place, and show it as a card.

    Args:
        place: A city or place name, e.g. "Paris" or "Lyon, France".
        days: How many days of forecast, 1 to 7 (default 3).
    """
    turn = ctx.context

    async def progress(text: str) -> None:
        await turn.stream(ProgressUpdateEvent(text=text, icon="globe"))

    result = await look_up(
        get_provider(),
        name=place,
        days=days,
        units=preferred_units(turn),
        language=geocoding_language(turn.request_context.locale),
        progress=progress,
    )
    if result.widget is not None:
        await turn.stream_widget(result.widget, copy_text=result.copy_text)
    if result.forecast is None:
        shown = " An 'unavailable' card with a retry button is shown." if result.widget else ""
        return f"Error: {result.copy_text}{shown}"
    return f"{result.copy_text} (A weather card showing this is displayed to the user.)"


@function_tool
async def show_city_picker(
    ctx: RunContextWrapper[TurnContext],
    cities: list[str] | None = None,
    days: int = DEFAULT_DAYS,
) -> str:
    """Show buttons for a few cities; one click shows that city's weather.

    Args:
        cities: Up to 8 city names; omit them for a default selection of world cities.
        days: How many forecast days a click should show, 1 to 7.
    """
    names: list[str] = []
    for city in cities or QUICK_CITIES:
        try:
            name = clean_place(city)
        except WeatherError:
            continue
        if name not in names:
            names.append(name)
    names = names[:MAX_PICKER_CITIES] or list(QUICK_CITIES)
    widget, copy_text = city_picker_widget(names, clamp_days(days))
    await ctx.context.stream_widget(widget, copy_text=copy_text)
    return f"Shown a city picker with: {', '.join(names)}. The user can click one."


@function_tool
async def set_temperature_units(ctx: RunContextWrapper[TurnContext], units: str) -> str:
    """Remember whether the user wants Celsius or Fahrenheit for the rest of this conversation.

    Args:
        units: "celsius" or "fahrenheit".
    """
    try:
        chosen = normalise_units(units)
    except WeatherError as exc:
        return f"Error: {exc}"
    await ctx.context.session.set(UNITS_KEY, chosen)
    wind = "mph" if chosen == "fahrenheit" else "km/h"
    return f"From now on temperatures are shown in {chosen.title()} and wind in {wind}."


@function_tool
async def get_local_time(ctx: RunContextWrapper[TurnContext], place: str | None = None) -> str:
    """Get the current local date and time for a time zone or a place.

    Args:
        place: An IANA time zone (e.g. Asia/Tokyo) or a place name; omit it for the user's own.
    """
    turn = ctx.context
    if not place:
        zone = effective_timezone(turn.session.get(TIMEZONE_KEY), turn.request_context.timezone)
    else:
        try:
            zone = normalise_timezone(place)
        except UnknownTimezone:
            # Not a zone name: a place's time zone comes with its geocoding result.
            zone = await _zone_of_place(turn, place)
            if zone is None:
                return f"Error: I could not find the time zone of '{place[:100]}'."
    reading = read_clock(zone)
    return f"It is {reading.time} on {reading.date} in {reading.timezone} ({reading.utc_offset})."


async def _zone_of_place(turn: TurnContext, place: str) -> str | None:
    try:
        name = clean_place(place)
        await turn.stream(ProgressUpdateEvent(text=f"Looking up {name}…", icon="globe"))
        found = await get_provider().find_place(
            name, geocoding_language(turn.request_context.locale)
        )
    except WeatherError:
        return None
    try:
        return normalise_timezone(found.timezone or "")
    except UnknownTimezone:
        return None
