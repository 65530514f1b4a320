"""Per-thread session state, read from the store at the start of each request.

Tools and widget actions change it through `update`, which writes at once with
optimistic concurrency: on a conflict it re-reads the stored state and re-applies the
change, so two concurrent turns on one thread never silently overwrite each other.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable
from typing import Any

from shared.context import RequestContext
from shared.errors import SessionStateConflict
from shared.stores.base import AppStore, SessionState

Mutator = Callable[[dict[str, Any]], None]


class SessionStateHandle:
    """One request's view of a thread's session state; lives only for that request."""

    max_attempts = 25

    def __init__(
        self, store: AppStore, thread_id: str, context: RequestContext, state: SessionState
    ):
        self._store = store
        self._thread_id = thread_id
        self._context = context
        self._state = state

    @classmethod
    async def load(
        cls, store: AppStore, thread_id: str, context: RequestContext
    ) -> SessionStateHandle:
        return cls(store, thread_id, context, await store.load_session_state(thread_id, context))

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the state as last read or written (changes go through `update`)."""
        return copy.deepcopy(self._state.data)

    @property
    def version(self) -> int:
        return self._state.version

    def get(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self._state.data.get(key, default))

    async def update(self, mutate: Mutator) -> dict[str, Any]:
        """Apply `mutate` to a copy of the state and save it; returns the saved data."""
        for attempt in range(self.max_attempts):
            data = copy.deepcopy(self._state.data)
            mutate(data)
            if data == self._state.data:
                return self.data
            try:
                self._state = await self._store.save_session_state(
                    self._thread_id, data, self._state, self._context
                )
                return self.data
            except SessionStateConflict:
                # Jittered back-off so colliding writers stop colliding.
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311
                self._state = await self._store.load_session_state(self._thread_id, self._context)
        raise SessionStateConflict(self._thread_id)

    async def set(self, key: str, value: Any) -> dict[str, Any]:
        def apply(data: dict[str, Any]) -> None:
            data[key] = value

        return await self.update(apply)
