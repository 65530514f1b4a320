"""The plug-in shape every use case under `use_cases/` provides.

A use case is a package whose `__init__.py` defines `USE_CASE = UseCase(...)`: its name,
title and starter prompts. By convention its `agent.py` defines `build_agent()` and its
`actions.py` defines `ACTIONS` (action type -> handler); both are imported only when the
use case first serves a request, so listing use cases stays cheap (no Agents SDK import).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from chatkit.agents import AgentContext
from chatkit.types import Action, ThreadMetadata, ThreadStreamEvent, WidgetItem
from pydantic import ConfigDict, SkipValidation

from shared.context import RequestContext
from shared.documents import Documents
from shared.session_state import SessionStateHandle
from shared.stores.base import AppStore

if TYPE_CHECKING:
    from agents import Agent


class TurnContext(AgentContext[RequestContext]):
    """What tools see as `ctx.context`: ChatKit's AgentContext plus session state."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: Annotated[SessionStateHandle, SkipValidation]
    documents: Annotated[Documents, SkipValidation]


@dataclass(frozen=True)
class ActionContext:
    """What a widget action handler gets: the thread, the caller and session state."""

    thread: ThreadMetadata
    request: RequestContext
    session: SessionStateHandle
    store: AppStore
    documents: Documents

    def new_item_id(self) -> str:
        return self.store.generate_item_id("message", self.thread, self.request)


ActionHandler = Callable[
    [ActionContext, Action[str, Any], WidgetItem | None], AsyncIterator[ThreadStreamEvent]
]


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
