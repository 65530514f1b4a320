"""What a use case's tools and widget actions receive for one request.

Built fresh per request from the store; nothing here outlives the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from chatkit.agents import AgentContext
from chatkit.types import Action, ThreadMetadata, ThreadStreamEvent, WidgetItem
from pydantic import ConfigDict, SkipValidation

from shared.context import RequestContext
from shared.documents import Documents
from shared.session_state import SessionStateHandle
from shared.stores.base import AppStore


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
