"""One turn per thread, across instances: the lease a streaming request holds.

Every streamed request on an existing thread takes the thread's lease before ChatKit
touches the store, and a new thread's first turn takes it as soon as its id exists
(before any client can know that id). A second turn on the same thread, on any
instance, is answered 409 `thread_busy` with Retry-After instead of running twice.
The lease expires by itself if its instance dies; a live turn renews it while it
streams. docs/turn-lease.md has the design and its cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

import anyio
from chatkit.store import NotFoundError

from shared.context import RequestContext
from shared.errors import ThreadBusy
from shared.stores.base import AppStore, TurnLease

logger = logging.getLogger(__name__)

# How long a turn waits for the thread's lease before answering 409 `thread_busy`: long
# enough for a widget action or the end of an answer, short enough to feel like an answer.
# Each attempt costs a store write (and a read when busy) on Cosmos DB.
WAIT_SECONDS = 3.0
# Longest a turn keeps renewing its lease.
MAX_TURN_SECONDS = 300.0


class TurnGuard:
    """A request's hold on one thread's lease: acquire, keep while streaming, release."""

    def __init__(self, store: AppStore, context: RequestContext, seconds: float):
        self.store = store
        self.context = context
        self.seconds = seconds
        self.lease: TurnLease | None = None
        self._keeper: asyncio.Task[None] | None = None

    async def acquire(self, thread_id: str, wait: float = WAIT_SECONDS) -> None:
        """Take the lease, waiting up to `wait` seconds for a turn that is finishing.

        Widget clicks in quick succession each run a short turn: they queue here for a
        moment instead of failing. A model answer takes longer: ThreadBusy (409).
        """
        deadline = time.monotonic() + wait
        delay = 0.05
        while True:
            try:
                self.lease = await self.store.acquire_turn(thread_id, self.seconds, self.context)
                return
            except ThreadBusy:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                await asyncio.sleep(min(delay, left) * random.uniform(0.5, 1.0))  # noqa: S311
                delay = min(delay * 2, 0.5)

    def keep(self) -> None:
        """Renew the lease in the background while the turn streams."""
        if self.lease is not None and self._keeper is None:
            self._keeper = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        # No response outlives the platform's 230 s cut: a turn still "streaming" long
        # after that is stuck, and its lease should lapse rather than live on.
        stop_at = time.monotonic() + MAX_TURN_SECONDS
        while self.lease is not None and time.monotonic() < stop_at:
            await asyncio.sleep(self.seconds / 3)
            try:
                self.lease = await self.store.renew_turn(self.lease, self.seconds, self.context)
            except ThreadBusy:
                # Lost (this instance stalled past the expiry and another took over).
                logger.warning("Turn lease on %s lost while streaming", self.lease.thread_id)
                return
            except Exception:
                logger.warning("Turn lease renewal failed; retrying", exc_info=True)

    async def release(self) -> None:
        """Give the lease back (never raises; runs even when the client has gone)."""
        lease, self.lease = self.lease, None
        keeper, self._keeper = self._keeper, None
        with anyio.CancelScope(shield=True):
            if keeper is not None:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
            if lease is None:
                return
            try:
                await self.store.release_turn(lease, self.context)
            except NotFoundError:
                pass  # deleted during the turn: the store removed what the turn left
            except Exception:
                # It expires by itself; until then the thread answers "busy".
                logger.warning("Could not release the turn lease", exc_info=True)
