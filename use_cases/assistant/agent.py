"""The assistant's agent: instructions from prompts/, tools from tools.py."""

from __future__ import annotations

from pathlib import Path

from agents import Agent, RunContextWrapper

from shared.turn_context import TurnContext
from use_cases.assistant.domain import SESSION_KEY
from use_cases.assistant.tools import current_zone, get_current_time, remember_timezone

_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "instructions.md").read_text()


def instructions(ctx: RunContextWrapper[TurnContext], agent: Agent[TurnContext]) -> str:
    # Rebuilt every turn from the session state just loaded from the store.
    turn = ctx.context
    remembered = turn.session.get(SESSION_KEY)
    return _INSTRUCTIONS.format(
        locale=turn.request_context.locale,
        timezone=current_zone(turn),
        remembered=(
            f"The user asked to use {remembered} in this conversation."
            if remembered
            else "The user has not named a time zone in this conversation yet."
        ),
    )


def build_agent() -> Agent[TurnContext]:
    return Agent[TurnContext](
        name="Assistant",
        instructions=instructions,
        tools=[get_current_time, remember_timezone],
    )
