"""What every backend store provides beyond ChatKit's `Store`.

Every method takes the `RequestContext`, and every backend scopes every read, list,
update and delete to `context.user_id` in the query itself: another user's id answers
exactly like a missing one (`NotFoundError`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Literal

from chatkit.store import Store, StoreItemType
from chatkit.types import Attachment, ThreadMetadata
from pydantic import BaseModel, Field

from shared.context import RequestContext
from shared.errors import StoreUnavailable

__all__ = ["AppStore", "FeedbackKind", "SessionState", "StoreUnavailable", "sort_key_for"]
from shared.ids import new_id, new_ulid

FeedbackKind = Literal["positive", "negative"]

_PREFIXES: dict[str, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "task": "tsk",
    "workflow": "wf",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}
_OUR_ID = re.compile(r"^[a-z]{1,8}_([0-9A-HJKMNP-TV-Z]{26})$")


def own_sort_key(item_id: str) -> str | None:
    """The sort key (and page cursor) of an id this app minted: its ULID; else None."""
    match = _OUR_ID.match(item_id)
    return match.group(1) if match else None


def sort_key_for(item_id: str) -> str:
    """The key items and threads are ordered and paged by.

    Ids this app minted carry their creation time; anything else (an id chosen by a
    model or a client) is ordered by when the store first saw it.
    """
    return own_sort_key(item_id) or new_ulid()


class SessionState(BaseModel):
    """A thread's small JSON state that tools and widget actions share.

    `version` is 0 until first saved; saves must pass the state they read. `etag` is
    the backend's own concurrency token where it has one (Cosmos DB).
    """

    data: dict[str, Any] = Field(default_factory=dict)
    version: int = 0
    etag: str | None = None


class AppStore(Store[RequestContext], ABC):
    kind: str = "abstract"

    def generate_thread_id(self, context: RequestContext) -> str:
        return new_id(_PREFIXES["thread"])

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        return new_id(_PREFIXES.get(item_type, "itm"))

    @abstractmethod
    async def list_thread_attachments(
        self, thread_id: str, context: RequestContext
    ) -> list[Attachment]:
        """Metadata of the user's attachments that belong to the thread.

        Read before `delete_thread`, which removes this metadata, so the caller can
        delete the bytes too; empty for a thread that is not the user's.
        """

    @abstractmethod
    async def load_session_state(self, thread_id: str, context: RequestContext) -> SessionState:
        """The thread's session state, or an empty one (version 0) if never saved."""

    @abstractmethod
    async def save_session_state(
        self,
        thread_id: str,
        data: dict[str, Any],
        expected: SessionState,
        context: RequestContext,
    ) -> SessionState:
        """Write `data` if the stored state is still the `expected` one (as loaded).

        Raises `SessionStateConflict` otherwise; never overwrites a newer state.
        """

    @abstractmethod
    async def save_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        kind: FeedbackKind,
        context: RequestContext,
    ) -> int:
        """Record feedback on items of the user's thread; returns how many were found.

        Raises `NotFoundError` when the thread is not the user's.
        """

    @abstractmethod
    async def load_feedback(
        self, thread_id: str, context: RequestContext
    ) -> dict[str, FeedbackKind]:
        """Item id -> feedback kind for the user's thread."""

    async def close(self) -> None:
        """Release connections; the default store holds none."""
