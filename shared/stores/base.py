"""What every backend store provides beyond ChatKit's `Store`.

Every method takes the `RequestContext`, and every backend scopes every read, list,
update and delete to `context.user_id` in the query itself: another user's id answers
exactly like a missing one (`NotFoundError`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from chatkit.store import Store, StoreItemType
from chatkit.types import Attachment, ThreadMetadata
from pydantic import BaseModel, Field

from shared.context import RequestContext
from shared.errors import StoreUnavailable
from shared.ids import new_id, new_ulid

__all__ = [
    "MAX_PAGE_LIMIT",
    "AppStore",
    "FeedbackKind",
    "SessionState",
    "StoreUnavailable",
    "TurnLease",
    "page_limit",
    "sort_key_for",
    "utc_created_at",
]

FeedbackKind = Literal["positive", "negative"]
ModelT = TypeVar("ModelT", bound=BaseModel)

# The largest page a store reads in one call (a client's `limit` is clamped to
# 1..CLIENT_PAGE_LIMIT at the edge; internal callers such as the history window ask
# for up to HISTORY_LIMIT): a bound that keeps every backend's LIMIT a small integer.
MAX_PAGE_LIMIT = 1000
# How long a deleted thread's tombstone outlives the delete: far longer than any turn
# can still be writing (the platform cuts a response at 230 s).
TOMBSTONE_SECONDS = 24 * 3600


def page_limit(limit: int) -> int:
    """A page size every backend can serve: 1..MAX_PAGE_LIMIT."""
    return min(max(1, limit), MAX_PAGE_LIMIT)


def utc_created_at(model: ModelT) -> ModelT:
    """The model with `created_at` as timezone-aware UTC.

    ChatKit (and code written like it) stamps `datetime.now()`: naive local time, which
    means a different instant on every server time zone. A naive value is taken as
    this process's local time, the way it was made.
    """
    created_at = getattr(model, "created_at", None)
    if not isinstance(created_at, datetime):
        return model
    if created_at.tzinfo is not None and created_at.utcoffset() == UTC.utcoffset(None):
        return model
    return model.model_copy(update={"created_at": created_at.astimezone(UTC)})


@dataclass(frozen=True)
class TurnLease:
    """A request's exclusive right to run a turn on one thread, until `expires_at`.

    `token` is the backend's concurrency token for the lease record (Cosmos DB's ETag;
    the owner id for SQLite), so a release or renewal never touches a lease that
    another request has taken over after this one expired.
    """

    thread_id: str
    owner: str
    expires_at: float
    token: str | None = None


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

    # One turn per thread, across instances (docs/turn-lease.md)

    @abstractmethod
    async def acquire_turn(
        self, thread_id: str, seconds: float, context: RequestContext
    ) -> TurnLease:
        """Take the thread's turn lease for `seconds`.

        Raises `ThreadBusy` while another request holds an unexpired lease, and
        `NotFoundError` for a deleted thread. A lease left by a crashed instance is
        taken over once it has expired.
        """

    @abstractmethod
    async def renew_turn(
        self, lease: TurnLease, seconds: float, context: RequestContext
    ) -> TurnLease:
        """Extend a held lease; raises `ThreadBusy` if it was lost (expired and taken)."""

    @abstractmethod
    async def release_turn(self, lease: TurnLease, context: RequestContext) -> None:
        """Give the lease back. If the thread was deleted while the turn ran, remove
        whatever of it the turn's writes left behind (a deleted thread stays deleted)."""

    async def confirm_thread_write(self, thread_id: str, context: RequestContext) -> None:
        """After a write to a thread made without its turn lease (a rename, feedback):
        raise `NotFoundError`, and leave nothing behind, if the thread was deleted.

        Backends whose writes check the tombstone atomically need nothing here.
        """

    @abstractmethod
    async def take_rate_slot(
        self, name: str, limit: int, window_seconds: float, context: RequestContext
    ) -> float | None:
        """Count one event of `name` for the user if fewer than `limit` happened in the
        last `window_seconds`; otherwise count nothing and return the seconds until a
        slot frees. Atomic across instances; deleting what was counted frees nothing."""

    @abstractmethod
    async def set_title_if_unset(
        self, thread_id: str, title: str, context: RequestContext
    ) -> str | None:
        """Store `title` unless the thread already has one (the user may have renamed it
        while its first answer streamed); returns the title the thread now has, or None
        if the thread is gone."""

    async def close(self) -> None:
        """Release connections; the default store holds none."""
