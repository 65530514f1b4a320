"""One contract, every store: the same tests run against SQLite and the Cosmos DB stand-in.

Cosmos runs against `tests/servers/cosmos_standin.js` (one fresh database per test).
Where only real Cosmos DB could behave differently, the assertion says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ServiceResponseError
from azure.cosmos.exceptions import CosmosHttpResponseError
from chatkit.store import NotFoundError
from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageItem,
    ClientToolCallItem,
    CustomTask,
    DurationSummary,
    EndOfTurnItem,
    FileAttachment,
    GeneratedImage,
    GeneratedImageItem,
    HiddenContextItem,
    ImageAttachment,
    InferenceOptions,
    SDKHiddenContextItem,
    SearchTask,
    StructuredInputFreeform,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    TaskItem,
    ThoughtTask,
    Thread,
    ThreadMetadata,
    ToolChoice,
    URLSource,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from chatkit.types import Page as ChatKitPage
from chatkit.widgets import ActionConfig, Button, Card, Text

from shared.context import RequestContext
from shared.errors import ConfigurationError, SessionStateConflict, StoreUnavailable
from shared.session_state import SessionStateHandle
from shared.stores.base import AppStore, SessionState, sort_key_for
from shared.stores.cosmos import CosmosStore
from shared.stores.sqlite import SQLiteStore
from tests.servers import COSMOS_KEY, free_port


def ctx(user: str) -> RequestContext:
    return RequestContext(user_id=user, use_case="assistant")


ALICE = ctx("alice")
BOB = ctx("bob")


def _cosmos(server: Any, **kwargs: Any) -> CosmosStore:
    return CosmosStore(
        endpoint=server.endpoint,
        credential=server.key,
        database=f"db-{uuid.uuid4().hex}",
        container="chat",
        **kwargs,
    )


@pytest.fixture(params=["sqlite", "cosmos"])
async def store(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        store: AppStore = SQLiteStore(tmp_path / "db.sqlite3")
    else:
        store = _cosmos(request.getfixturevalue("cosmos_server"))
    yield store
    await store.close()


@pytest.fixture
async def cosmos(cosmos_server):
    store = _cosmos(cosmos_server)
    yield store
    await store.close()


async def _thread(store: AppStore, context: RequestContext = ALICE, title: str = "t"):
    thread = ThreadMetadata(
        id=store.generate_thread_id(context), created_at=datetime.now(UTC), title=title
    )
    await store.save_thread(thread, context)
    return thread


def _message(store: AppStore, thread: ThreadMetadata, text: str, item_id: str | None = None):
    return AssistantMessageItem(
        id=item_id or store.generate_item_id("message", thread, ALICE),
        thread_id=thread.id,
        created_at=datetime.now(UTC),
        content=[AssistantMessageContent(text=text)],
    )


def _attachment(store: AppStore, thread_id: str | None, name: str = "a.txt") -> FileAttachment:
    return FileAttachment(
        id=f"atc_{sort_key_for('x')}", name=name, mime_type="text/plain", thread_id=thread_id
    )


def _every_item(store: AppStore, thread: ThreadMetadata) -> list[Any]:
    def new(kind: Any) -> dict[str, Any]:
        return {
            "id": store.generate_item_id(kind, thread, ALICE),
            "thread_id": thread.id,
            "created_at": datetime.now(UTC),
        }

    image = ImageAttachment(
        id="atc_img", name="p.png", mime_type="image/png", preview_url="https://x.test/p.png"
    )
    return [
        UserMessageItem(
            **new("message"),
            content=[
                UserMessageTextContent(text="hello ünïcödé 👋"),
                UserMessageTagContent(id="tag1", text="@doc", data={"k": [1, 2]}, group="g"),
            ],
            attachments=[image],
            quoted_text="quoted",
            inference_options=InferenceOptions(model="fast", tool_choice=ToolChoice(id="clock")),
        ),
        AssistantMessageItem(
            **new("message"),
            content=[
                AssistantMessageContent(
                    text="see [1]",
                    annotations=[
                        Annotation(source=URLSource(title="S", url="https://s.test"), index=4)
                    ],
                )
            ],
        ),
        WidgetItem(
            **new("message"),
            widget=Card(
                children=[
                    Text(value="12:00"),
                    Button(label="Refresh", onClickAction=ActionConfig(type="r", payload={"a": 1})),
                ]
            ),
            copy_text="12:00",
        ),
        HiddenContextItem(**new("message"), content={"clicked": "refresh", "n": [1, None]}),
        SDKHiddenContextItem(**new("sdk_hidden_context"), content="sdk context"),
        ClientToolCallItem(
            **new("tool_call"),
            status="completed",
            call_id="call_1",
            name="get_location",
            arguments={"precise": True},
            output={"city": "Oslo"},
        ),
        TaskItem(**new("task"), task=CustomTask(title="Look up", content="done")),
        WorkflowItem(
            **new("workflow"),
            workflow=Workflow(
                type="reasoning",
                tasks=[
                    ThoughtTask(content="thinking", status_indicator="complete"),
                    SearchTask(queries=["q"], sources=[URLSource(title="R", url="https://r.test")]),
                ],
                summary=DurationSummary(duration=3),
                expanded=True,
            ),
        ),
        GeneratedImageItem(**new("message"), image=GeneratedImage(id="g", url="https://g.test")),
        StructuredInputItem(
            **new("message"),
            inputs=[
                StructuredInputMultipleChoice(
                    id="q1",
                    question="Which?",
                    options=[StructuredInputMultipleChoiceOption(value="a")],
                ),
                StructuredInputFreeform(id="q2", question="Why?"),
            ],
        ),
        EndOfTurnItem(**new("message")),
    ]


async def _all_pages(fetch, order: str, size: int = 3) -> tuple[list[str], list[bool]]:
    ids: list[str] = []
    flags: list[bool] = []
    after = None
    while True:
        page: ChatKitPage = await fetch(size, after, order)
        ids += [x.id for x in page.data]
        flags.append(page.has_more)
        if page.has_more:
            assert page.after == sort_key_for(page.data[-1].id)
        else:
            assert page.after is None
            return ids, flags
        after = page.after


# Threads


async def test_thread_save_update_and_title(store):
    thread = await _thread(store, title="first")
    assert (await store.load_thread(thread.id, ALICE)).model_dump() == thread.model_dump()

    thread.title = "renamed"
    thread.metadata = {"use_case": "assistant"}
    await store.save_thread(thread, ALICE)
    loaded = await store.load_thread(thread.id, ALICE)
    assert (loaded.title, loaded.metadata) == ("renamed", {"use_case": "assistant"})

    # A full `Thread` (with a page of items) is stored as its metadata only.
    full = Thread(**thread.model_dump(), items=ChatKitPage(data=[_message(store, thread, "x")]))
    full.title = "again"
    await store.save_thread(full, ALICE)
    assert type(await store.load_thread(thread.id, ALICE)) is ThreadMetadata
    listed = await store.load_threads(10, None, "desc", ALICE)
    assert [(t.id, t.title) for t in listed.data] == [(thread.id, "again")]


async def test_thread_pages_in_both_orders(store):
    threads = [await _thread(store, title=f"t{n}") for n in range(7)]
    ids = [t.id for t in threads]

    def fetch(limit, after, order):
        return store.load_threads(limit, after, order, ALICE)

    assert await _all_pages(fetch, "asc") == (ids, [True, True, False])
    assert await _all_pages(fetch, "desc") == (ids[::-1], [True, True, False])
    whole = await store.load_threads(7, None, "asc", ALICE)
    assert (len(whole.data), whole.has_more, whole.after) == (7, False, None)


# Items


async def test_every_item_type_round_trips(store):
    thread = await _thread(store)
    items = _every_item(store, thread)
    for item in items:
        await store.add_thread_item(thread.id, item, ALICE)

    for item in items:
        loaded = await store.load_item(thread.id, item.id, ALICE)
        assert type(loaded) is type(item)
        assert loaded.model_dump(mode="json") == item.model_dump(mode="json")
    page = await store.load_thread_items(thread.id, None, 50, "asc", ALICE)
    assert [i.model_dump(mode="json") for i in page.data] == [
        i.model_dump(mode="json") for i in items
    ]


async def test_save_item_upserts(store):
    thread = await _thread(store)
    item = _message(store, thread, "draft")
    await store.add_thread_item(thread.id, item, ALICE)
    item.content = [AssistantMessageContent(text="final")]
    await store.save_item(thread.id, item, ALICE)

    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [i.content[0].text for i in page.data] == ["final"]


async def test_item_pages_in_both_orders(store):
    thread = await _thread(store)
    items = [_message(store, thread, f"m{n}") for n in range(7)]
    for item in items:
        await store.add_thread_item(thread.id, item, ALICE)
    ids = [i.id for i in items]

    def fetch(limit, after, order):
        return store.load_thread_items(thread.id, after, limit, order, ALICE)

    assert await _all_pages(fetch, "asc") == (ids, [True, True, False])
    assert await _all_pages(fetch, "desc") == (ids[::-1], [True, True, False])
    # Past the last page: empty, not an error (the thread exists).
    last = await store.load_thread_items(thread.id, sort_key_for(ids[-1]), 3, "asc", ALICE)
    assert (last.data, last.has_more) == ([], False)


async def test_foreign_ids_keep_their_place(store):
    """An id this app did not mint is ordered by first save, and re-saving keeps that."""
    thread = await _thread(store)
    first = _message(store, thread, "1")
    foreign = _message(store, thread, "2", item_id="call_from_the_model")
    await store.add_thread_item(thread.id, first, ALICE)
    await store.add_thread_item(thread.id, foreign, ALICE)
    last = _message(store, thread, "3")
    await store.add_thread_item(thread.id, last, ALICE)
    await store.save_item(thread.id, foreign, ALICE)

    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [i.id for i in page.data] == [first.id, foreign.id, last.id]


async def test_delete_thread_item(store):
    thread = await _thread(store)
    keep, drop = _message(store, thread, "keep"), _message(store, thread, "drop")
    for item in (keep, drop):
        await store.add_thread_item(thread.id, item, ALICE)

    await store.delete_thread_item(thread.id, drop.id, ALICE)
    await store.delete_thread_item(thread.id, "msg_missing", ALICE)

    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, drop.id, ALICE)
    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [i.id for i in page.data] == [keep.id]


async def test_missing_thread_and_item(store):
    # The raw Cosmos stand-in answers 500 to a point read of a missing id; the test harness
    # patches that to real Cosmos DB's 404, which is what the store handles.
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_missing", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_missing", None, 10, "desc", ALICE)
    thread = await _thread(store)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, "msg_missing", ALICE)
    assert (await store.load_thread_items(thread.id, None, 10, "desc", ALICE)).data == []


# Attachments


async def test_attachments_save_load_list_delete(store):
    thread = await _thread(store)
    other = await _thread(store)
    loose = _attachment(store, None, "loose.txt")
    image = ImageAttachment(
        id=f"atc_{sort_key_for('x')}",
        name="p.png",
        mime_type="image/png",
        preview_url="https://x.test/p.png",
        metadata={"size": 3},
    )
    for attachment in (loose, image):
        await store.save_attachment(attachment, ALICE)
        loaded = await store.load_attachment(attachment.id, ALICE)
        assert loaded.model_dump(mode="json") == attachment.model_dump(mode="json")
    assert await store.list_thread_attachments(thread.id, ALICE) == []

    # Sending a message binds the attachments to the thread.
    image.thread_id = thread.id
    await store.save_attachment(image, ALICE)
    in_other = _attachment(store, other.id)
    await store.save_attachment(in_other, ALICE)
    assert [a.id for a in await store.list_thread_attachments(thread.id, ALICE)] == [image.id]
    assert [a.id for a in await store.list_thread_attachments(other.id, ALICE)] == [in_other.id]

    await store.delete_attachment(image.id, ALICE)
    await store.delete_attachment("atc_missing", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment(image.id, ALICE)
    assert await store.list_thread_attachments(thread.id, ALICE) == []
    assert (await store.load_attachment(loose.id, ALICE)).name == "loose.txt"


# Deleting a thread


async def test_delete_thread_removes_everything(store):
    thread = await _thread(store)
    other = await _thread(store)
    item = _message(store, thread, "x")
    other_item = _message(store, other, "y")
    await store.add_thread_item(thread.id, item, ALICE)
    await store.add_thread_item(other.id, other_item, ALICE)
    await store.save_session_state(thread.id, {"x": 1}, SessionState(), ALICE)
    await store.save_feedback(thread.id, [item.id], "positive", ALICE)
    attached = [_attachment(store, thread.id), _attachment(store, thread.id)]
    loose, elsewhere = _attachment(store, None), _attachment(store, other.id)
    for attachment in (*attached, loose, elsewhere):
        await store.save_attachment(attachment, ALICE)
    listed = await store.list_thread_attachments(thread.id, ALICE)
    assert sorted(a.id for a in listed) == sorted(a.id for a in attached)

    await store.delete_thread(thread.id, ALICE)

    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, item.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert (await store.load_session_state(thread.id, ALICE)).version == 0
    assert await store.load_feedback(thread.id, ALICE) == {}
    assert await store.list_thread_attachments(thread.id, ALICE) == []
    for attachment in attached:
        with pytest.raises(NotFoundError):
            await store.load_attachment(attachment.id, ALICE)
    # Everything else stays.
    assert (await store.load_attachment(loose.id, ALICE)).id == loose.id
    assert (await store.load_attachment(elsewhere.id, ALICE)).id == elsewhere.id
    assert (await store.load_item(other.id, other_item.id, ALICE)).id == other_item.id
    assert [t.id for t in (await store.load_threads(10, None, "asc", ALICE)).data] == [other.id]
    await store.delete_thread(thread.id, ALICE)  # deleting twice is harmless


# Session state


async def test_session_state_compare_and_swap(store):
    thread = await _thread(store)
    empty = await store.load_session_state(thread.id, ALICE)
    assert (empty.version, empty.data) == (0, {})
    saved = await store.save_session_state(thread.id, {"a": 1}, empty, ALICE)
    assert saved.version == 1
    assert (await store.load_session_state(thread.id, ALICE)).data == {"a": 1}

    with pytest.raises(SessionStateConflict):  # a second "first save"
        await store.save_session_state(thread.id, {"a": 2}, empty, ALICE)
    with pytest.raises(SessionStateConflict):  # a state that was never read
        await store.save_session_state(thread.id, {"a": 2}, SessionState(version=5), ALICE)

    current = await store.load_session_state(thread.id, ALICE)
    second = await store.save_session_state(thread.id, {"a": 3}, current, ALICE)
    assert second.version == 2
    with pytest.raises(SessionStateConflict):  # stale: read before `second` was written
        await store.save_session_state(thread.id, {"a": 4}, current, ALICE)
    state = await store.load_session_state(thread.id, ALICE)
    assert (state.version, state.data) == (2, {"a": 3})


async def test_concurrent_session_updates_all_land(store):
    thread = await _thread(store)

    async def add(key: str) -> None:
        handle = await SessionStateHandle.load(store, thread.id, ALICE)
        await asyncio.sleep(0)
        await handle.set(key, True)

    await asyncio.gather(*(add(f"k{n}") for n in range(12)))
    state = await store.load_session_state(thread.id, ALICE)
    assert state.data == {f"k{n}": True for n in range(12)}
    assert state.version == 12


# Feedback


async def test_feedback(store):
    thread = await _thread(store)
    a, b = _message(store, thread, "a"), _message(store, thread, "b")
    for item in (a, b):
        await store.add_thread_item(thread.id, item, ALICE)

    assert await store.save_feedback(thread.id, [a.id, "msg_missing"], "positive", ALICE) == 1
    assert await store.load_feedback(thread.id, ALICE) == {a.id: "positive"}
    assert await store.save_feedback(thread.id, [a.id, b.id], "negative", ALICE) == 2
    assert await store.load_feedback(thread.id, ALICE) == {a.id: "negative", b.id: "negative"}
    assert await store.save_feedback(thread.id, [], "positive", ALICE) == 0
    with pytest.raises(NotFoundError):
        await store.save_feedback("thr_missing", [a.id], "positive", ALICE)
    # Feedback is not a thread item.
    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [i.id for i in page.data] == [a.id, b.id]


# Isolation: user B holding user A's ids


async def test_other_users_see_and_change_nothing(store):
    # In the Cosmos stand-in `partition_key=` is ignored, so what isolates queries here is
    # the `c.userId` filter in the SQL; real Cosmos DB also routes by the partition key.
    thread = await _thread(store, title="mine")
    item = _message(store, thread, "secret")
    await store.add_thread_item(thread.id, item, ALICE)
    attachment = _attachment(store, thread.id, "secret.txt")
    await store.save_attachment(attachment, ALICE)
    state = await store.save_session_state(thread.id, {"s": 1}, SessionState(), ALICE)
    await store.save_feedback(thread.id, [item.id], "positive", ALICE)

    async def alice_unchanged() -> None:
        assert (await store.load_thread(thread.id, ALICE)).title == "mine"
        items = (await store.load_thread_items(thread.id, None, 10, "asc", ALICE)).data
        assert [(i.id, i.content[0].text) for i in items] == [(item.id, "secret")]
        assert (await store.load_attachment(attachment.id, ALICE)).name == "secret.txt"
        assert [a.id for a in await store.list_thread_attachments(thread.id, ALICE)] == [
            attachment.id
        ]
        loaded = await store.load_session_state(thread.id, ALICE)
        assert (loaded.version, loaded.data) == (1, {"s": 1})
        assert await store.load_feedback(thread.id, ALICE) == {item.id: "positive"}
        assert [t.id for t in (await store.load_threads(10, None, "asc", ALICE)).data] == [
            thread.id
        ]

    # Reads: exactly like missing.
    for call in (
        lambda: store.load_thread(thread.id, BOB),
        lambda: store.load_item(thread.id, item.id, BOB),
        lambda: store.load_thread_items(thread.id, None, 10, "asc", BOB),
        lambda: store.load_attachment(attachment.id, BOB),
        lambda: store.save_feedback(thread.id, [item.id], "negative", BOB),
    ):
        with pytest.raises(NotFoundError):
            await call()
    assert (await store.load_threads(10, None, "desc", BOB)).data == []
    assert await store.list_thread_attachments(thread.id, BOB) == []
    assert (await store.load_session_state(thread.id, BOB)).version == 0
    assert await store.load_feedback(thread.id, BOB) == {}
    with pytest.raises(SessionStateConflict):
        await store.save_session_state(thread.id, {"s": "bob"}, state, BOB)

    # Deletes of what B does not have: no effect on A.
    await store.delete_thread_item(thread.id, item.id, BOB)
    await store.delete_attachment(attachment.id, BOB)
    await alice_unchanged()

    # Writes with A's ids land in B's own space and never touch A's.
    await store.save_thread(thread.model_copy(update={"title": "bob's"}), BOB)
    await store.save_item(thread.id, _message(store, thread, "bob", item_id=item.id), BOB)
    await store.save_attachment(attachment.model_copy(update={"name": "bob.txt"}), BOB)
    await store.save_session_state(thread.id, {"s": "bob"}, SessionState(), BOB)
    await store.save_feedback(thread.id, [item.id], "negative", BOB)
    await alice_unchanged()
    assert (await store.load_thread(thread.id, BOB)).title == "bob's"
    assert (await store.load_item(thread.id, item.id, BOB)).content[0].text == "bob"
    assert await store.load_feedback(thread.id, BOB) == {item.id: "negative"}

    # B deleting "its" thread of that id deletes only B's, and B's tombstone keeps A's
    # thread writable.
    await store.delete_thread(thread.id, BOB)
    await alice_unchanged()
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, BOB)
    await store.save_thread(thread.model_copy(update={"title": "mine"}), ALICE)
    await store.acquire_turn(thread.id, 30, ALICE)
    await alice_unchanged()


# Cosmos DB only


async def test_cosmos_records_request_units_per_operation(cosmos, caplog):
    caplog.set_level(logging.DEBUG, logger="shared.stores.cosmos")
    context = ctx("metrics")
    thread = await _thread(cosmos, context)
    after_save = context.metrics.requests
    assert after_save >= 2  # opening the container, then the upsert

    await cosmos.load_thread(thread.id, context)
    assert context.metrics.requests == after_save + 1
    await cosmos.load_threads(10, None, "desc", context)
    assert context.metrics.requests == after_save + 2
    # The stand-in reports a flat charge per response; real Cosmos DB reports actual RU
    # (about 1 for a 1 KB point read, more for queries and writes).
    assert context.metrics.request_units >= context.metrics.requests
    assert context.metrics.seconds > 0
    logged = [r.getMessage() for r in caplog.records if r.name == "shared.stores.cosmos"]
    assert any(m.startswith("cosmos thread.read: ") and " RU" in m for m in logged)
    assert any(m.startswith("cosmos threads.list: ") for m in logged)


async def test_cosmos_two_instances_lose_nothing(cosmos_server):
    """Two stores on one container stand for two Functions instances: the etag decides."""
    first = _cosmos(cosmos_server)
    second = CosmosStore(
        endpoint=cosmos_server.endpoint,
        credential=cosmos_server.key,
        database=first.database,
        container="chat",
    )
    try:
        thread = await _thread(first)

        async def add(target: AppStore, key: str) -> None:
            handle = await SessionStateHandle.load(target, thread.id, ALICE)
            await asyncio.sleep(0)
            await handle.set(key, True)

        await asyncio.gather(*(add(first if n % 2 else second, f"k{n}") for n in range(12)))
        state = await second.load_session_state(thread.id, ALICE)
        assert state.data == {f"k{n}": True for n in range(12)}
        assert state.version == 12
    finally:
        await first.close()
        await second.close()


async def test_cosmos_unreachable_raises_store_unavailable():
    store = CosmosStore(
        endpoint=f"https://127.0.0.1:{free_port()}",  # nothing listens there
        credential=COSMOS_KEY,
        database="db",
        container="chat",
        client_options={"retry_connect": 0, "retry_read": 0, "connection_timeout": 2},
    )
    context = ctx("alice")
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable):
            await store.load_thread("thr_x", context)
    finally:
        await store.close()
    assert time.monotonic() - started < 10
    assert context.metrics.requests == 1


@pytest.mark.parametrize(
    "error",
    [
        CosmosHttpResponseError(status_code=429, message="throttled"),
        CosmosHttpResponseError(status_code=503, message="unavailable"),
        CosmosHttpResponseError(status_code=408, message="timeout"),
        ServiceResponseError("connection reset"),
    ],
)
async def test_cosmos_busy_after_retries_raises_store_unavailable(cosmos, monkeypatch, error):
    # The SDK has already retried by the time such an error reaches the store; real 429s
    # cannot be provoked in the stand-in, so the container call is made to fail.
    thread = await _thread(cosmos)

    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(cosmos._proxy, "read_item", fail)
    monkeypatch.setattr(cosmos._proxy, "query_items", fail)
    with pytest.raises(StoreUnavailable):
        await cosmos.load_thread(thread.id, ALICE)
    with pytest.raises(StoreUnavailable):
        await cosmos.load_session_state(thread.id, ALICE)


async def test_cosmos_documents_and_ttl(cosmos_server):
    # TTL is stored by the stand-in but nothing expires there; real Cosmos DB deletes a
    # document `ttl` seconds after its last write.
    store = _cosmos(cosmos_server, ttl_seconds=3600)
    try:
        thread = await _thread(store)
        item = _message(store, thread, "x")
        await store.add_thread_item(thread.id, item, ALICE)
        await store.save_session_state(thread.id, {"a": 1}, SessionState(), ALICE)
        await store.save_attachment(_attachment(store, thread.id), ALICE)
        container = store._proxy
        assert container is not None
        assert (await container.read())["defaultTtl"] == -1
        docs = [d async for d in container.query_items("SELECT * FROM c")]
        assert {d["docType"] for d in docs} == {"thread", "item", "session", "attachment"}
        assert all(d["ttl"] == 3600 and d["userId"] == "alice" for d in docs)
        raw = await container.read_item(item.id, partition_key=["alice", thread.id])
        assert raw["sortKey"] == sort_key_for(item.id)
        assert raw["data"] == item.model_dump(mode="json")
    finally:
        await store.close()


async def test_cosmos_without_ttl_writes_no_ttl_field(cosmos):
    thread = await _thread(cosmos)
    raw = await cosmos._proxy.read_item(thread.id, partition_key=["alice", thread.id])
    assert "ttl" not in raw
    assert (raw["docType"], raw["threadId"]) == ("thread", thread.id)


async def test_cosmos_missing_container_is_a_configuration_error(cosmos_server):
    store = _cosmos(cosmos_server, create_if_missing=False)
    try:
        with pytest.raises(ConfigurationError, match="does not exist"):
            await store.load_thread("thr_x", ALICE)
    finally:
        await store.close()


async def test_cosmos_reserved_ids_are_not_items(cosmos):
    thread = await _thread(cosmos)
    await cosmos.save_session_state(thread.id, {"a": 1}, SessionState(), ALICE)
    # The session document shares the thread's partition; item calls never reach it.
    with pytest.raises(NotFoundError):
        await cosmos.load_item(thread.id, "session", ALICE)
    await cosmos.delete_thread_item(thread.id, "session", ALICE)
    await cosmos.delete_thread_item(thread.id, thread.id, ALICE)
    assert (await cosmos.load_session_state(thread.id, ALICE)).data == {"a": 1}
    assert (await cosmos.load_thread(thread.id, ALICE)).id == thread.id
    with pytest.raises(NotFoundError):
        await cosmos.load_thread("~attachments", ALICE)
