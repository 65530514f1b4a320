"""The use-case document repository on both backends: per-user scoping, reference
data, conditional writes, idempotent seeding, and no path into chat threads."""

from __future__ import annotations

import asyncio

import pytest
from chatkit.store import NotFoundError

from shared.documents import Document, DocumentConflict, Documents
from tests.test_store_conformance import ALICE, BOB, store  # noqa: F401 - fixture


async def test_user_collections_are_private(store):  # noqa: F811
    alice, bob = Documents(store, ALICE), Documents(store, BOB)
    await alice.user("todos").put("t1", {"title": "buy milk"})

    assert (await alice.user("todos").get("t1")).data == {"title": "buy milk"}
    assert await bob.user("todos").get("t1") is None
    assert await bob.user("todos").list() == []
    assert await bob.user("todos").delete("t1") is False
    assert [d.key for d in await alice.user("todos").list()] == ["t1"]


async def test_conditional_writes_and_versions(store):  # noqa: F811
    todos = Documents(store, ALICE).user("todos")
    created = await todos.create("a", {"n": 1})
    assert created.version == 1
    with pytest.raises(DocumentConflict):
        await todos.create("a", {"n": 2})
    updated = await todos.put("a", {"n": 2}, expected=await todos.get("a"))
    assert updated.version == 2
    with pytest.raises(DocumentConflict):
        await todos.put("a", {"n": 3}, expected=created)
    blind = await todos.put("a", {"n": 4})
    assert blind.version == 3
    assert (await todos.get("a")).data == {"n": 4}


async def test_concurrent_read_modify_write_loses_nothing(store):  # noqa: F811
    counter = Documents(store, ALICE).user("counters")
    await counter.put("c", {"n": 0})

    async def increment() -> None:
        while True:
            current = await counter.get("c")
            try:
                await counter.put("c", {"n": current.data["n"] + 1}, expected=current)
                return
            except DocumentConflict:
                await asyncio.sleep(0.001)

    await asyncio.gather(*(increment() for _ in range(10)))
    assert (await counter.get("c")).data["n"] == 10


async def test_reference_data_is_shared_and_seeded_once(store):  # noqa: F811
    catalogue = {f"p{n}": {"name": f"product {n}"} for n in range(5)}
    await Documents(store, ALICE).reference("products").seed(catalogue)
    await Documents(store, BOB).reference("products").seed({"p0": {"name": "overwritten?"}})

    listed = await Documents(store, BOB).reference("products").list()
    assert [d.key for d in listed] == [f"p{n}" for n in range(5)]
    assert listed[0].data == {"name": "product 0"}
    assert await Documents(store, ALICE).user("products").list() == []


async def test_document_partitions_are_not_threads(store):  # noqa: F811
    docs = Documents(store, ALICE)
    await docs.user("todos").put("t1", {"title": "keep me"})
    for thread_id in ("~docs:todos", "~attachments"):
        with pytest.raises(NotFoundError):
            await store.load_thread(thread_id, ALICE)
        await store.delete_thread(thread_id, ALICE)
    assert (await docs.user("todos").get("t1")).data == {"title": "keep me"}
    assert isinstance(await docs.user("todos").get("t1"), Document)
