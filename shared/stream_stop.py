"""Stop a streaming turn from any instance.

A browser's Stop closes its connection, and ChatKit's cancellation path then saves the
partial answer, but only if the disconnect reaches the function: proxies in between
(Static Web Apps' linked backend, its CLI emulator) may keep the upstream stream open,
and the model keeps generating tokens nobody reads. And with many stateless instances,
the request that says "stop" can land anywhere. So Stop is also a small request,
`threads.stop_turn`, that writes a time stamp into the thread's session state; the
streaming turn, wherever it runs, reads it every `STOP_POLL_SECONDS` and cancels itself
through the same path as a disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
from chatkit.store import NotFoundError
from pydantic import BaseModel, ValidationError

from shared.context import RequestContext
from shared.errors import NotFound
from shared.session_state import SessionStateHandle
from shared.stores.base import AppStore

STOP_KEY = "_stop_requested_at"


class StopTurnParams(BaseModel):
    thread_id: str


class ThreadsStopTurnReq(BaseModel):
    """Our one extension of the ChatKit protocol (the official component never sends it)."""

    type: Literal["threads.stop_turn"]
    params: StopTurnParams


def parse_stop_request(body: bytes) -> ThreadsStopTurnReq | None:
    try:
        return ThreadsStopTurnReq.model_validate_json(body)
    except ValidationError:
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def request_stop(store: AppStore, thread_id: str, context: RequestContext) -> None:
    try:
        await store.load_thread(thread_id, context)
    except NotFoundError:
        raise NotFound("Thread not found.") from None
    session = await SessionStateHandle.load(store, thread_id, context)
    await session.set(STOP_KEY, _now())


async def _watch(
    store: AppStore,
    thread_id: Callable[[], str | None],
    context: RequestContext,
    started: str,
    interval: float,
) -> None:
    """Returns once a stop newer than this turn's start is stored."""
    while True:
        await asyncio.sleep(interval)
        current = thread_id()
        if current is None:
            continue
        state = await store.load_session_state(current, context)
        stop = state.data.get(STOP_KEY)
        if isinstance(stop, str) and stop > started:
            return


def thread_id_of(first_chunk: bytes | None) -> str | None:
    """The id in a `thread.created` event (the first event of threads.create)."""
    if not first_chunk or b'"thread.created"' not in first_chunk:
        return None
    try:
        event = json.loads(first_chunk.removeprefix(b"data: "))
        return str(event["thread"]["id"])
    except (ValueError, KeyError, TypeError):
        return None


_CHUNK, _FAILED, _DONE, _STOPPED = range(4)


async def _pump(events: AsyncIterator[bytes], queue: asyncio.Queue[tuple[int, Any]]) -> None:
    # One task iterates ChatKit's generator from start to end, so the context variables
    # it sets stay in one context, and cancelling this task is exactly what a client
    # disconnect does: ChatKit saves the partial answer and notes the cancellation.
    try:
        async for chunk in events:
            queue.put_nowait((_CHUNK, chunk))
    except asyncio.CancelledError:
        queue.put_nowait((_STOPPED, None))
        raise
    except Exception as exc:  # handed to the reader, which turns it into an error event
        queue.put_nowait((_FAILED, exc))
    else:
        queue.put_nowait((_DONE, None))


async def stoppable(
    events: AsyncGenerator[bytes, None],
    store: AppStore,
    thread_id: Callable[[], str | None],
    context: RequestContext,
    interval: float,
) -> AsyncGenerator[bytes, None]:
    """ChatKit's event stream, ended early (and saved) when a stop arrives."""
    if interval <= 0:
        async for chunk in events:
            yield chunk
        return
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    pump = asyncio.create_task(_pump(events, queue))
    watcher = asyncio.create_task(_watch(store, thread_id, context, _now(), interval))
    watcher.add_done_callback(lambda w: w.cancelled() or w.exception() or pump.cancel())
    try:
        while True:
            kind, value = await queue.get()
            if kind == _CHUNK:
                yield value
            elif kind == _FAILED:
                raise value
            else:
                return
    finally:
        watcher.cancel()
        pump.cancel()
        # Let ChatKit finish saving the partial answer even if this reader was
        # cancelled (client gone): the pump runs its clean-up shielded.
        with anyio.CancelScope(shield=True), contextlib.suppress(BaseException):
            await asyncio.gather(pump, watcher, return_exceptions=True)
