"""The to-do agent: instructions from prompts/, tools from tools.py."""

from __future__ import annotations

from pathlib import Path

from agents import Agent, RunContextWrapper

from shared.turn_context import TurnContext
from use_cases.todo.repository import user_now
from use_cases.todo.tools import TOOLS

_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "instructions.md").read_text()


def instructions(ctx: RunContextWrapper[TurnContext], agent: Agent[TurnContext]) -> str:
    # Rebuilt every turn: "today" is the user's, so "tomorrow" becomes the right date.
    turn = ctx.context
    now = user_now(turn.request_context)
    return _INSTRUCTIONS.format(
        locale=turn.request_context.locale,
        today=now.date().isoformat(),
        weekday=now.strftime("%A"),
        timezone=now.tzinfo,
    )


def build_agent() -> Agent[TurnContext]:
    return Agent[TurnContext](name="To-do", instructions=instructions, tools=list(TOOLS))
