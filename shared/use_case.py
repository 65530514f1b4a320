"""The plug-in shape every use case under `use_cases/` provides.

A use case is a package whose `__init__.py` defines `USE_CASE = UseCase(...)`: its name,
title and starter prompts. By convention its `agent.py` defines `build_agent()` and its
`actions.py` defines `ACTIONS` (action type -> handler); both are imported only when the
use case first serves a request, so listing use cases stays cheap: this module imports
neither ChatKit nor the Agents SDK, and `GET /api/config` on a cold instance does not wait
for them (what tools and actions receive is in `shared/turn_context.py`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents import Agent

    from shared.turn_context import ActionHandler, TurnContext


@dataclass(frozen=True)
class StarterPrompt:
    label: str
    prompt: str
    icon: str | None = None


@dataclass(frozen=True)
class UseCase:
    name: str
    title: str
    description: str
    starter_prompts: tuple[StarterPrompt, ...] = ()
    greeting: str = "How can I help you today?"

    def build_agent(self) -> Agent[TurnContext]:
        module = importlib.import_module(f"use_cases.{self.name}.agent")
        return module.build_agent()

    def load_actions(self) -> Mapping[str, ActionHandler]:
        try:
            module = importlib.import_module(f"use_cases.{self.name}.actions")
        except ModuleNotFoundError as exc:
            if exc.name != f"use_cases.{self.name}.actions":
                raise
            return {}  # a use case without widget actions
        return module.ACTIONS

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "greeting": self.greeting,
            "starter_prompts": [
                {"label": p.label, "prompt": p.prompt, **({"icon": p.icon} if p.icon else {})}
                for p in self.starter_prompts
            ],
        }
