"""Read-ahead for one streamed turn: the reads a turn needs, sent at once, answered once.

A follow-up turn needs the thread, the newest history window and the session state.
Left to themselves, ChatKit and the use-case server read them one after another (the
thread; after the user's message is stored, the window and the state; then ChatKit's
`stream_agent_response` reads the newest two items again). On Cosmos DB each is a round
trip on the way to the model. `start_turn_reads` sends the three reads together as soon
as the request is parsed; the store then answers the turn's own calls from them:

- the thread: every `load_thread` of the request (a deep copy each time, kept current
  by the request's own `save_thread`);
- the window: any newest-first first page that fits in it, with this request's own
  item writes and deletes applied;
- the session state: the first `load_session_state` only. Later ones (a retry after a
  conflict, the Stop poll) must see other requests' writes, so they go to the store.

A thread created by this request (`expect_new_thread`) has no items and no state:
nothing is read for it.

The user's message itself (and a new thread's document before it) is written behind:
its write starts, and the turn goes on to the model while it is in flight. Every later
write of the request waits for it first (so nothing is stored after a message that
failed to store, and a failure surfaces as that write's error), and the endpoint calls
`flush` when the stream ends.

Attachment metadata read or written by the request is remembered too: ChatKit reads
each attachment of a message again and writes it back with the thread id, which the
endpoint has already read (and, for an upload it verified, written with the thread id).

Everything lives on the request's `RequestContext.read_ahead` and ends with the request.
Another request's writes during the turn are not seen, as before: history was always
read once, at the start of the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata

from shared.stores.base import (
    AppStore,
    SessionState,
    TurnLease,
    own_sort_key,
    utc_created_at,
)

if TYPE_CHECKING:
    from shared.context import RequestContext

StoreT = TypeVar("StoreT", bound=AppStore)
_NEW_THREAD = "new-thread"
_PENDING = "pending-writes"
_ATTACHMENTS = "attachments"  # id -> the attachment as this request last read or wrote it


@dataclass
class _ThreadReads:
    window_limit: int
    thread: asyncio.Future[ThreadMetadata] | None = None
    latest_thread: ThreadMetadata | None = None
    window: asyncio.Future[Page[ThreadItem]] | None = None
    session: asyncio.Future[SessionState] | None = None
    item: tuple[str, asyncio.Future[ThreadItem]] | None = None  # a widget action's sender
    # A turn writes its user message behind (once; see the module docstring).
    write_behind: bool = False
    # Items already handed to a caller: later callers get copies (a caller may mutate
    # what it got, as it may a store's fresh answer); the first gets them as read.
    lent: set[int] = field(default_factory=set)
    # This request's item writes (by id, in write order) and deletes.
    written: dict[str, ThreadItem] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


def _quiet(task: asyncio.Task[Any]) -> None:
    # A read nobody ends up awaiting (the request failed first) must not log
    # "Task exception was never retrieved".
    if not task.cancelled():
        task.exception()


def _task(coro: Any) -> asyncio.Future[Any]:
    task = asyncio.ensure_future(coro)
    task.add_done_callback(_quiet)
    return task


def _known(value: Any) -> asyncio.Future[Any]:
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


async def _part(both: asyncio.Future[tuple[Any, Any]], index: int) -> Any:
    return (await both)[index]


@cache
def with_read_ahead(backend: type[StoreT]) -> type[StoreT]:
    """The backend with the turn read-ahead in front of its methods."""
    namespace = {"__doc__": backend.__doc__, "__module__": backend.__module__}
    return type(backend.__name__, (ReadAheadStore, backend), namespace)


class ReadAheadStore:
    """Mixin for an `AppStore` backend (listed before it): serves a turn's reads from
    the read-ahead of its request, and passes everything else through."""

    def start_turn_reads(self, thread_id: str, context: RequestContext, window: int) -> None:
        """Send the turn's three reads now; the turn's own calls will await them."""
        reads = _ThreadReads(window_limit=window)
        base: Any = super()
        combined = getattr(base, "load_thread_with_items", None)
        if combined is not None:  # one query for both where the backend has it (Cosmos DB)
            both = _task(combined(thread_id, window, context))
            reads.thread, reads.window = _task(_part(both, 0)), _task(_part(both, 1))
        else:
            reads.thread = _task(base.load_thread(thread_id, context))
            reads.window = _task(base.load_thread_items(thread_id, None, window, "desc", context))
        reads.session = _task(base.load_session_state(thread_id, context))
        reads.write_behind = True
        context.read_ahead[thread_id] = reads

    def start_action_reads(self, thread_id: str, item_id: str, context: RequestContext) -> None:
        """A widget action's reads (thread, the widget item, session state), sent at once."""
        reads = _ThreadReads(window_limit=0)
        base: Any = super()
        reads.thread = _task(base.load_thread(thread_id, context))
        reads.item = (item_id, _task(base.load_item(thread_id, item_id, context)))
        reads.session = _task(base.load_session_state(thread_id, context))
        context.read_ahead[thread_id] = reads

    def expect_new_thread(self, context: RequestContext, window: int) -> None:
        """This request creates a thread: its first `save_thread` starts an empty one."""
        context.read_ahead[_NEW_THREAD] = window

    async def flush(self, context: RequestContext) -> None:
        """Wait for the request's writes still in flight; raises the first one's error."""
        pending: list[asyncio.Future[None]] = context.read_ahead.get(_PENDING, [])
        # The write itself passes through here when a backend delegates between its own
        # methods (add_thread_item -> save_item): it must not wait for itself.
        current = asyncio.current_task()
        while waiting := [w for w in pending if w is not current]:
            pending.remove(waiting[0])  # its error surfaces once, at this wait
            try:
                await waiting[0]
            except BaseException:
                # Later writes wait for this one and fail with it: report it once.
                pending[:] = [w for w in pending if w is current]
                raise

    def _behind(self, write: Callable[[], Awaitable[None]], context: RequestContext) -> None:
        """Start `write` after the request's writes in flight, without waiting for it."""
        pending: list[asyncio.Future[None]] = context.read_ahead.setdefault(_PENDING, [])
        earlier = list(pending)

        async def in_order() -> None:
            for previous in earlier:
                await previous
            await write()

        pending.append(_task(in_order()))

    def _reads(self, thread_id: str, context: RequestContext) -> _ThreadReads | None:
        reads = context.read_ahead.get(thread_id)
        return reads if isinstance(reads, _ThreadReads) else None

    # Threads

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        reads = self._reads(thread_id, context)
        base: Any = super()
        if reads is None:
            return await base.load_thread(thread_id, context)
        if reads.latest_thread is None:
            if reads.thread is None:
                return await base.load_thread(thread_id, context)
            reads.latest_thread = await reads.thread
        return reads.latest_thread.model_copy(deep=True)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        base: Any = super()
        reads = self._reads(thread.id, context)
        window = context.read_ahead.pop(_NEW_THREAD, None)
        if reads is None and window is not None:
            # A new thread is written behind too; its first message's write follows it.
            saved = thread.model_copy(deep=True)
            self._behind(lambda: base.save_thread(saved, context), context)
        else:
            await self.flush(context)
            await base.save_thread(thread, context)
        if reads is None and window is not None:
            reads = _ThreadReads(window_limit=window, write_behind=True)
            reads.window = _known(Page(data=[], has_more=False))
            reads.session = _known(SessionState())
            context.read_ahead[thread.id] = reads
        if reads is not None:
            reads.latest_thread = utc_created_at(thread).model_copy(deep=True)

    async def set_title_if_unset(
        self, thread_id: str, title: str, context: RequestContext
    ) -> str | None:
        base: Any = super()
        await self.flush(context)  # a new thread's document may still be on its way
        stored: str | None = await base.set_title_if_unset(thread_id, title, context)
        reads = self._reads(thread_id, context)
        if reads is not None and reads.latest_thread is not None:
            reads.latest_thread.title = stored
        return stored

    async def release_turn(self, lease: TurnLease, context: RequestContext) -> None:
        base: Any = super()
        try:
            await self.flush(context)  # the turn's writes are all stored (or failed) first
        finally:
            await base.release_turn(lease, context)

    # Items

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: RequestContext
    ) -> Page[ThreadItem]:
        reads = self._reads(thread_id, context)
        base: Any = super()
        if (
            reads is None
            or reads.window is None
            or reads.window_limit < 1
            or after is not None
            or order != "desc"
            or limit > reads.window_limit
        ):
            return await base.load_thread_items(thread_id, after, limit, order, context)
        page = await reads.window
        in_page = {item.id for item in page.data}
        # Written by this request and not in the page read: newer than anything in it.
        newer = sorted(
            (i for i in reads.written.values() if i.id not in in_page),
            key=lambda i: own_sort_key(i.id) or "",
            reverse=True,
        )
        stored = [reads.written.get(i.id, i) for i in page.data if i.id not in reads.deleted]
        view = [*newer, *stored]
        data = view[: max(1, limit)]
        has_more = len(view) > len(data) or page.has_more
        cursor = own_sort_key(data[-1].id) if has_more and data else None
        if has_more and cursor is None:
            # An item with a foreign id ends the page: only the store knows its cursor.
            return await base.load_thread_items(thread_id, after, limit, order, context)
        return Page(
            data=[self._lend(reads, item) for item in data], has_more=has_more, after=cursor
        )

    @staticmethod
    def _lend(reads: _ThreadReads, item: ThreadItem) -> ThreadItem:
        # Deep copies cost ~50 µs per item: a 30-item window is copied only when a
        # second caller asks for it.
        if id(item) in reads.lent:
            return item.model_copy(deep=True)
        reads.lent.add(id(item))
        return item

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        reads = self._reads(thread_id, context)
        base: Any = super()
        if reads is None or item_id in reads.deleted:
            return await base.load_item(thread_id, item_id, context)
        if item_id in reads.written:
            return reads.written[item_id].model_copy(deep=True)
        if reads.item is None or reads.item[0] != item_id:
            return await base.load_item(thread_id, item_id, context)
        return (await reads.item[1]).model_copy(deep=True)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        base: Any = super()
        reads = self._reads(thread_id, context)
        if reads is not None and reads.write_behind and item.type == "user_message":
            reads.write_behind = False
            written = item.model_copy(deep=True)
            self._behind(lambda: base.add_thread_item(thread_id, written, context), context)
        else:
            await self.flush(context)
            await base.add_thread_item(thread_id, item, context)
        self._written(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        base: Any = super()
        await self.flush(context)
        await base.save_item(thread_id, item, context)
        self._written(thread_id, item, context)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        base: Any = super()
        await self.flush(context)
        await base.delete_thread_item(thread_id, item_id, context)
        reads = self._reads(thread_id, context)
        if reads is not None:
            reads.written.pop(item_id, None)
            reads.deleted.add(item_id)

    def _written(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        reads = self._reads(thread_id, context)
        if reads is not None:
            # As the store keeps it (UTC), so reads answer exactly like the store's.
            reads.written[item.id] = utc_created_at(item).model_copy(deep=True)
            reads.deleted.discard(item.id)

    # Attachment metadata

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        known = context.read_ahead.get(_ATTACHMENTS, {}).get(attachment_id)
        if known is not None:
            return known.model_copy(deep=True)
        base: Any = super()
        attachment = await base.load_attachment(attachment_id, context)
        self._remember(attachment, context)
        return attachment

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        if context.read_ahead.get(_ATTACHMENTS, {}).get(attachment.id) == attachment:
            return  # stored exactly so by this request already
        base: Any = super()
        await base.save_attachment(attachment, context)
        self._remember(attachment, context)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        context.read_ahead.get(_ATTACHMENTS, {}).pop(attachment_id, None)
        base: Any = super()
        await base.delete_attachment(attachment_id, context)

    def _remember(self, attachment: Attachment, context: RequestContext) -> None:
        known = context.read_ahead.setdefault(_ATTACHMENTS, {})
        known[attachment.id] = attachment.model_copy(deep=True)

    # Session state

    async def save_session_state(
        self, thread_id: str, data: dict[str, Any], expected: SessionState, context: RequestContext
    ) -> SessionState:
        base: Any = super()
        await self.flush(context)
        return await base.save_session_state(thread_id, data, expected, context)

    async def load_session_state(self, thread_id: str, context: RequestContext) -> SessionState:
        reads = self._reads(thread_id, context)
        base: Any = super()
        if reads is None or reads.session is None:
            return await base.load_session_state(thread_id, context)
        task, reads.session = reads.session, None
        return await task
