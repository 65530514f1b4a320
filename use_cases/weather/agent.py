"""The weather agent: instructions from prompts/, tools from tools.py."""

from __future__ import annotations

from pathlib import Path

from agents import Agent, RunContextWrapper

from shared.turn_context import TurnContext
from use_cases.assistant.domain import SESSION_KEY as TIMEZONE_KEY
from use_cases.assistant.domain import effective_timezone
from use_cases.weather.domain import UNITS_KEY
from use_cases.weather.tools import (
    get_local_time,
    get_weather,
    preferred_units,
    set_temperature_units,
    show_city_picker,
)

_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "instructions.md").read_text()


def instructions(ctx: RunContextWrapper[TurnContext], agent: Agent[TurnContext]) -> str:
    # Rebuilt every turn from the session state just loaded from the store.
    turn = ctx.context
    units = preferred_units(turn)
    return _INSTRUCTIONS.format(
        locale=turn.request_context.locale,
        timezone=effective_timezone(turn.session.get(TIMEZONE_KEY), turn.request_context.timezone),
        units=f"{units.title()} (wind in {'mph' if units == 'fahrenheit' else 'km/h'})",
        units_note=(
            f"The user asked for {units.title()} in this conversation."
            if turn.session.get(UNITS_KEY)
            else "That is the default; the user has not chosen units yet."
        ),
    )


def build_agent() -> Agent[TurnContext]:
    return Agent[TurnContext](
        name="Weather",
        instructions=instructions,
        tools=[get_weather, show_city_picker, set_temperature_units, get_local_time],
    )
