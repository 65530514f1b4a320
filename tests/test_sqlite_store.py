"""What only the embedded store has: several connections (processes) on one file.

The behaviour every store shares is in test_store_conformance.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from chatkit.types import ThreadMetadata

from shared.context import RequestContext
from shared.session_state import SessionStateHandle
from shared.stores.sqlite import SQLiteStore

ALICE = RequestContext(user_id="alice", use_case="assistant")


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(tmp_path / "db.sqlite3")
    yield store
    await store.close()


async def _thread(store, context, title="t"):
    thread = ThreadMetadata(
        id=store.generate_thread_id(context), created_at=datetime.now(), title=title
    )
    await store.save_thread(thread, context)
    return thread


async def test_concurrent_updates_lose_nothing(store, tmp_path):
    thread = await _thread(store, ALICE)
    # A second connection stands for a second Functions instance on the same data.
    other = SQLiteStore(tmp_path / "db.sqlite3")
    try:

        async def add(target, key):
            handle = await SessionStateHandle.load(target, thread.id, ALICE)
            await asyncio.sleep(0)
            await handle.set(key, True)

        await asyncio.gather(*(add(store if n % 2 else other, f"k{n}") for n in range(12)))
        state = await store.load_session_state(thread.id, ALICE)
        assert state.data == {f"k{n}": True for n in range(12)}
        assert state.version == 12
    finally:
        await other.close()
