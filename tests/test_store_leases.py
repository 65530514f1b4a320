"""The store's per-thread guarantees, on every backend: one turn lease at a time (taken
over only once expired), deleted threads stay deleted whatever writes arrive late,
rate-limit slots counted atomically, generated titles never overwrite the user's, and
timestamps stored as UTC whatever the server's time zone.

Each request is its own `RequestContext` (its own request id = lease owner), as over
HTTP. Two store objects on one database stand for two instances.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from chatkit.store import NotFoundError
from chatkit.types import ThreadMetadata

from shared.errors import SessionStateConflict, ThreadBusy
from shared.stores.base import AppStore, SessionState, utc_created_at
from shared.stores.cosmos import CosmosStore
from shared.stores.sqlite import SQLiteStore
from tests.test_store_conformance import _attachment, _message, _thread, ctx, store  # noqa: F401


def request() -> object:
    return ctx("alice")


@pytest.fixture
async def second(store, tmp_path):  # noqa: F811 - the fixture imported above
    """Another instance on the same database."""
    if isinstance(store, SQLiteStore):
        other: AppStore = SQLiteStore(store.path)
    else:
        assert isinstance(store, CosmosStore)
        other = CosmosStore(
            endpoint=store.endpoint,
            credential=store._credential,
            database=store.database,
            container=store.container,
        )
    yield other
    await other.close()


async def test_one_turn_lease_at_a_time_across_instances(store, second):  # noqa: F811
    thread = await _thread(store)
    first = await store.acquire_turn(thread.id, 30, ctx("alice"))
    for instance in (store, second):
        with pytest.raises(ThreadBusy) as busy:
            await instance.acquire_turn(thread.id, 30, ctx("alice"))
        assert 0 < busy.value.retry_after <= 30
    # Another user's thread of the same id is another lease.
    await second.acquire_turn(thread.id, 30, ctx("bob"))

    await store.release_turn(first, ctx("alice"))
    again = await second.acquire_turn(thread.id, 30, ctx("alice"))
    await second.release_turn(again, ctx("alice"))


async def test_concurrent_acquires_let_exactly_one_turn_run(store, second):  # noqa: F811
    thread = await _thread(store)

    async def attempt(instance: AppStore) -> str:
        try:
            await instance.acquire_turn(thread.id, 30, ctx("alice"))
        except ThreadBusy:
            return "busy"
        return "ran"

    outcomes = await asyncio.gather(*(attempt(i) for i in (store, second) * 5))
    assert sorted(outcomes) == ["busy"] * 9 + ["ran"]


async def test_an_expired_lease_is_taken_over_and_its_late_owner_changes_nothing(
    store,  # noqa: F811
    second,
):
    thread = await _thread(store)
    crashed = await store.acquire_turn(thread.id, 0.2, ctx("alice"))
    await asyncio.sleep(0.3)
    taken = await second.acquire_turn(thread.id, 30, ctx("alice"))
    # The crashed instance comes back: it can neither renew nor free the new turn's lease.
    with pytest.raises(ThreadBusy):
        await store.renew_turn(crashed, 30, ctx("alice"))
    await store.release_turn(crashed, ctx("alice"))
    with pytest.raises(ThreadBusy):
        await store.acquire_turn(thread.id, 30, ctx("alice"))
    renewed = await second.renew_turn(taken, 30, ctx("alice"))
    assert renewed.expires_at > taken.expires_at
    await second.release_turn(renewed, ctx("alice"))


async def test_a_deleted_thread_stays_deleted_whatever_writes_arrive_late(
    store,  # noqa: F811
    second,
):
    thread = await _thread(store)
    turn = ctx("alice")
    lease = await store.acquire_turn(thread.id, 30, turn)
    await store.add_thread_item(thread.id, _message(store, thread, "before"), turn)

    await second.delete_thread(thread.id, ctx("alice"))

    # The turn on the first instance goes on writing, as ChatKit would after a delete it
    # does not know about: the answer, the title, session state, an attachment, then it
    # ends its turn.
    late = [
        store.add_thread_item(thread.id, _message(store, thread, "after"), turn),
        store.save_thread(thread.model_copy(update={"title": "generated"}), turn),
        store.save_session_state(thread.id, {"k": 1}, SessionState(), turn),
        store.save_attachment(_attachment(store, thread.id), turn),
    ]
    for write in late:
        try:
            await write
        except (NotFoundError, SessionStateConflict):
            pass  # refused at once (SQLite) or removed when the turn ends (Cosmos DB)
    await store.release_turn(lease, turn)
    await store.set_title_if_unset(thread.id, "late title", turn)

    for instance in (store, second):
        reader = ctx("alice")
        with pytest.raises(NotFoundError):
            await instance.load_thread(thread.id, reader)
        with pytest.raises(NotFoundError):
            await instance.load_thread_items(thread.id, None, 10, "asc", reader)
        assert (await instance.load_threads(10, None, "desc", reader)).data == []
        assert await instance.list_thread_attachments(thread.id, reader) == []
        assert (await instance.load_session_state(thread.id, reader)).version == 0
        with pytest.raises(NotFoundError):
            await instance.acquire_turn(thread.id, 30, reader)


async def test_a_rename_without_the_lease_cannot_resurrect_a_deleted_thread(store):  # noqa: F811
    thread = await _thread(store)
    rename = ctx("alice")
    loaded = await store.load_thread(thread.id, rename)
    await store.delete_thread(thread.id, ctx("alice"))
    loaded.title = "renamed"
    with pytest.raises(NotFoundError):
        await store.save_thread(loaded, rename)
        await store.confirm_thread_write(thread.id, rename)
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, ctx("alice"))


async def test_generated_titles_never_overwrite_the_users(store, second):  # noqa: F811
    thread = await _thread(store, title=None)
    assert await store.set_title_if_unset(thread.id, "Generated", ctx("alice")) == "Generated"
    assert await second.set_title_if_unset(thread.id, "Another", ctx("alice")) == "Generated"

    renamed = await _thread(store, title=None)
    user = ctx("alice")
    mine = await store.load_thread(renamed.id, user)
    mine.title = "Mine"
    await second.save_thread(mine, user)
    assert await store.set_title_if_unset(renamed.id, "Generated", ctx("alice")) == "Mine"
    assert (await store.load_thread(renamed.id, ctx("alice"))).title == "Mine"
    assert await store.set_title_if_unset("thr_missing", "x", ctx("alice")) is None


async def test_rate_slots_are_counted_atomically_and_not_given_back(store, second):  # noqa: F811
    async def take(instance: AppStore) -> float | None:
        return await instance.take_rate_slot("threads.create", 5, 60, ctx("alice"))

    results = await asyncio.gather(*(take(i) for i in (store, second) * 10))
    accepted = [r for r in results if r is None]
    assert len(accepted) == 5
    assert all(0 < r <= 60 for r in results if r is not None), results
    # Another user's limit and another limit's name are counted apart.
    assert await store.take_rate_slot("threads.create", 5, 60, ctx("bob")) is None
    assert await store.take_rate_slot("other", 5, 60, ctx("alice")) is None
    # Slots free once they leave the window.
    assert await store.take_rate_slot("short", 1, 0.2, ctx("alice")) is None
    assert await store.take_rate_slot("short", 1, 0.2, ctx("alice")) is not None
    await asyncio.sleep(0.3)
    assert await store.take_rate_slot("short", 1, 0.2, ctx("alice")) is None


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
async def test_timestamps_are_stored_as_utc_whatever_the_servers_zone(
    store,  # noqa: F811
    zone,
    monkeypatch,
):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        # ChatKit's own stamping: naive local time.
        local_now = datetime.now()
        thread = ThreadMetadata(id=store.generate_thread_id(ctx("alice")), created_at=local_now)
        await store.save_thread(thread, ctx("alice"))
        item = _message(store, thread, "hi").model_copy(update={"created_at": local_now})
        await store.add_thread_item(thread.id, item, ctx("alice"))

        stored = await store.load_thread(thread.id, ctx("alice"))
        stored_item = await store.load_item(thread.id, item.id, ctx("alice"))
        for value in (stored.created_at, stored_item.created_at):
            assert value.utcoffset() == timedelta(0)
            assert abs(value - datetime.now(UTC)) < timedelta(seconds=30)
        assert utc_created_at(thread).created_at == stored.created_at
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert os.environ.get("TZ") is None
