"""The embedded store: isolation in every query, keyset pages, session-state CAS."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from chatkit.store import NotFoundError
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata

from shared.context import RequestContext
from shared.errors import SessionStateConflict
from shared.session_state import SessionStateHandle
from shared.stores.base import SessionState
from shared.stores.sqlite import SQLiteStore

ALICE = RequestContext(user_id="alice", use_case="assistant")
BOB = RequestContext(user_id="bob", use_case="assistant")


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


def _message(store, thread, text):
    return AssistantMessageItem(
        id=store.generate_item_id("message", thread, ALICE),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


async def test_other_users_see_nothing(store):
    thread = await _thread(store, ALICE)
    item = _message(store, thread, "secret")
    await store.add_thread_item(thread.id, item, ALICE)

    for call in (
        store.load_thread(thread.id, BOB),
        store.load_item(thread.id, item.id, BOB),
        store.load_thread_items(thread.id, None, 10, "asc", BOB),
        store.save_feedback(thread.id, [item.id], "negative", BOB),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert (await store.load_threads(10, None, "desc", BOB)).data == []
    await store.delete_thread(thread.id, BOB)
    await store.delete_thread_item(thread.id, item.id, BOB)
    assert (await store.load_item(thread.id, item.id, ALICE)).content[0].text == "secret"
    assert (await store.load_session_state(thread.id, BOB)).version == 0


async def test_keyset_pages_in_both_orders(store):
    threads = [await _thread(store, ALICE, f"t{n}") for n in range(7)]
    for order, expected in (("asc", threads), ("desc", threads[::-1])):
        seen, after = [], None
        while True:
            page = await store.load_threads(3, after, order, ALICE)
            seen += page.data
            if not page.has_more:
                break
            after = page.after
        assert [t.id for t in seen] == [t.id for t in expected]


async def test_session_state_compare_and_swap(store):
    thread = await _thread(store, ALICE)
    empty = await store.load_session_state(thread.id, ALICE)
    saved = await store.save_session_state(thread.id, {"a": 1}, empty, ALICE)
    assert saved.version == 1
    with pytest.raises(SessionStateConflict):
        await store.save_session_state(thread.id, {"a": 2}, empty, ALICE)
    with pytest.raises(SessionStateConflict):
        await store.save_session_state(thread.id, {"a": 2}, SessionState(version=5), ALICE)
    assert (await store.load_session_state(thread.id, ALICE)).data == {"a": 1}


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


async def test_delete_thread_removes_everything(store):
    thread = await _thread(store, ALICE)
    item = _message(store, thread, "x")
    await store.add_thread_item(thread.id, item, ALICE)
    await store.save_session_state(thread.id, {"x": 1}, SessionState(), ALICE)
    await store.save_feedback(thread.id, [item.id], "positive", ALICE)

    await store.delete_thread(thread.id, ALICE)

    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, item.id, ALICE)
    assert (await store.load_session_state(thread.id, ALICE)).version == 0
    assert await store.load_feedback(thread.id, ALICE) == {}
