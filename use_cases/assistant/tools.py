"""Tools the assistant's model can call. They only ever act for the request's user:
everything they touch comes from the run context, never from model arguments."""

from __future__ import annotations

import json

from agents import RunContextWrapper, function_tool

from shared.turn_context import TurnContext
from use_cases.assistant.domain import (
    SESSION_KEY,
    UnknownTimezone,
    effective_timezone,
    normalise_timezone,
    read_clock,
)
from use_cases.assistant.widgets import clock_copy_text, clock_widget


def current_zone(turn: TurnContext) -> str:
    return effective_timezone(turn.session.get(SESSION_KEY), turn.request_context.timezone)


@function_tool
async def get_current_time(ctx: RunContextWrapper[TurnContext], timezone: str | None = None) -> str:
    """Get the current date and time, and show it to the user as a clock.

    Args:
        timezone: An IANA time zone (e.g. Europe/Paris) or a city; omit it for the user's own zone.
    """
    turn = ctx.context
    try:
        zone = normalise_timezone(timezone) if timezone else current_zone(turn)
    except UnknownTimezone as exc:
        return str(exc)
    reading = read_clock(zone)
    remembered = turn.session.get(SESSION_KEY) == zone
    await turn.stream_widget(
        clock_widget(reading, remembered=remembered), copy_text=clock_copy_text(reading)
    )
    return json.dumps(reading.__dict__)


@function_tool
async def remember_timezone(ctx: RunContextWrapper[TurnContext], timezone: str) -> str:
    """Remember the user's time zone for the rest of this conversation.

    Args:
        timezone: An IANA time zone (e.g. Asia/Tokyo) or a city the user named.
    """
    try:
        zone = normalise_timezone(timezone)
    except UnknownTimezone as exc:
        return str(exc)
    await ctx.context.session.set(SESSION_KEY, zone)
    return f"Remembered the time zone {zone} for this conversation."
