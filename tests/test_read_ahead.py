"""The turn read-ahead answers exactly what the store would, with fewer requests.

Every comparison reads the same data twice: through a request whose reads were sent
ahead (`start_turn_reads` and friends), and through a fresh request, which goes to the
store. Both stores: SQLite and the Cosmos DB stand-in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from shared.context import RequestContext
from shared.stores.base import AppStore
from shared.stores.cosmos import CosmosStore
from shared.stores.read_ahead import ReadAheadStore, with_read_ahead
from shared.stores.sqlite import SQLiteStore

WINDOW = 30


def ctx(user: str = "alice") -> RequestContext:
    return RequestContext(user_id=user, use_case="assistant")


@pytest.fixture(params=["sqlite", "cosmos"])
async def store(request: pytest.FixtureRequest, tmp_path: Any):
    if request.param == "sqlite":
        store: Any = with_read_ahead(SQLiteStore)(tmp_path / "db.sqlite3")
    else:
        server = request.getfixturevalue("cosmos_server")
        store = with_read_ahead(CosmosStore)(
            endpoint=server.endpoint,
            credential=server.key,
            database=f"db-{uuid.uuid4().hex}",
            container="chat",
        )
    assert isinstance(store, ReadAheadStore) and isinstance(store, AppStore)
    yield store
    await store.close()


def _answer(store: AppStore, thread: ThreadMetadata, text: str, item_id: str | None = None):
    return AssistantMessageItem(
        id=item_id or store.generate_item_id("message", thread, ctx()),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


def _question(store: AppStore, thread: ThreadMetadata, text: str) -> UserMessageItem:
    return UserMessageItem(
        id=store.generate_item_id("message", thread, ctx()),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=text)],
        inference_options={},
    )


async def _thread_with(store: AppStore, items: int, foreign_at: int | None = None):
    context = ctx()
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now())
    await store.save_thread(thread, context)
    for n in range(items):
        # A model- or client-chosen id sorts by when the store first saw it.
        item_id = f"foreign-{n}" if n == foreign_at else None
        await store.add_thread_item(
            thread.id, _answer(store, thread, f"answer {n}", item_id), context
        )
    await store.save_session_state(
        thread.id, {"n": 1}, await store.load_session_state(thread.id, context), context
    )
    return thread


async def _same_pages(store: AppStore, thread_id: str, turn: RequestContext) -> None:
    for limit in (1, 2, 5, WINDOW):
        ahead = await store.load_thread_items(thread_id, None, limit, "desc", turn)
        fresh = await store.load_thread_items(thread_id, None, limit, "desc", ctx())
        assert [i.model_dump() for i in ahead.data] == [i.model_dump() for i in fresh.data], limit
        assert (ahead.has_more, ahead.after) == (fresh.has_more, fresh.after), limit


async def test_a_turn_sends_its_three_reads_once_and_answers_like_the_store(store: Any) -> None:
    thread = await _thread_with(store, 40)
    turn = ctx()
    store.start_turn_reads(thread.id, turn, WINDOW)

    loaded = await store.load_thread(thread.id, turn)
    assert loaded == await store.load_thread(thread.id, ctx())
    await store.add_thread_item(thread.id, _question(store, thread, "next question"), turn)
    await store.flush(turn)  # the user's message is written behind
    session = await store.load_session_state(thread.id, turn)
    assert session.data == {"n": 1}
    await _same_pages(store, thread.id, turn)
    first = await store.load_thread_items(thread.id, None, 2, "desc", turn)
    again = await store.load_thread_items(thread.id, None, 2, "desc", turn)
    assert first.data[0].type == "user_message"
    # Each caller gets its own objects: changing one answer does not change the next.
    first.data[0].content.clear()
    assert again.data[0] is not first.data[0] and again.data[0].content
    # Thread and window (one query on Cosmos DB), session, then the one write: nothing
    # read twice.
    reads = 2 if hasattr(store, "load_thread_with_items") else 3
    assert turn.metrics.requests == reads + 1


async def test_the_turns_own_writes_replacements_and_deletes_show_in_its_reads(store: Any) -> None:
    thread = await _thread_with(store, 12)
    turn = ctx()
    store.start_turn_reads(thread.id, turn, WINDOW)
    page = await store.load_thread_items(thread.id, None, WINDOW, "desc", turn)
    older = page.data[5]
    await store.save_item(thread.id, older.model_copy(update={"content": [
        AssistantMessageContent(text="edited")]}), turn)  # fmt: skip
    await store.delete_thread_item(thread.id, page.data[3].id, turn)
    await store.add_thread_item(thread.id, _question(store, thread, "q"), turn)
    await store.add_thread_item(thread.id, _answer(store, thread, "a"), turn)
    await _same_pages(store, thread.id, turn)
    # A renamed thread reads back renamed within the request too.
    renamed = (await store.load_thread(thread.id, turn)).model_copy(update={"title": "Renamed"})
    await store.save_thread(renamed, turn)
    assert (await store.load_thread(thread.id, turn)).title == "Renamed"
    assert (await store.load_thread(thread.id, ctx())).title == "Renamed"


async def test_a_page_ending_on_a_foreign_id_takes_its_cursor_from_the_store(store: Any) -> None:
    # The 6th newest item has an id this app did not mint: its cursor is the store's.
    thread = await _thread_with(store, 10, foreign_at=4)
    turn = ctx()
    store.start_turn_reads(thread.id, turn, WINDOW)
    await _same_pages(store, thread.id, turn)
    ahead = await store.load_thread_items(thread.id, None, 6, "desc", turn)
    assert ahead.data[-1].id == "foreign-4" and ahead.has_more
    rest = await store.load_thread_items(thread.id, ahead.after, 50, "desc", ctx())
    assert [i.id for i in ahead.data + rest.data][-4:] == [
        i.id for i in (await store.load_thread_items(thread.id, None, 50, "desc", ctx())).data
    ][-4:]


async def test_later_session_reads_see_other_requests_writes(store: Any) -> None:
    thread = await _thread_with(store, 1)
    turn = ctx()
    store.start_turn_reads(thread.id, turn, WINDOW)
    first = await store.load_session_state(thread.id, turn)
    other = ctx()
    await store.save_session_state(thread.id, {"n": 2}, first, other)
    assert (await store.load_session_state(thread.id, turn)).data == {"n": 2}


async def test_another_users_thread_stays_not_found(store: Any) -> None:
    thread = await _thread_with(store, 3)
    bob = ctx("bob")
    store.start_turn_reads(thread.id, bob, WINDOW)
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, bob)
    with pytest.raises(NotFoundError):
        await store.load_thread_items(thread.id, None, 2, "desc", bob)
    assert (await store.load_session_state(thread.id, bob)).data == {}
    alice = await store.load_thread_items(thread.id, None, 10, "desc", ctx())
    assert len(alice.data) == 3


async def _new_thread_turn(store: Any) -> tuple[RequestContext, ThreadMetadata, UserMessageItem]:
    """A request that creates a thread and adds its first message, as ChatKit does."""
    turn = ctx()
    store.expect_new_thread(turn, WINDOW)
    thread = ThreadMetadata(id=store.generate_thread_id(turn), created_at=datetime.now())
    await store.save_thread(thread, turn)
    question = _question(store, thread, "hello")
    await store.add_thread_item(thread.id, question, turn)
    return turn, thread, question


async def test_a_new_thread_reads_nothing_before_its_first_answer(store: Any) -> None:
    await store.load_threads(1, None, "desc", ctx("warm-up"))  # Cosmos: opens the container
    turn, thread, question = await _new_thread_turn(store)
    await store.flush(turn)
    assert (await store.load_session_state(thread.id, turn)).data == {}
    page = await store.load_thread_items(thread.id, None, 2, "desc", turn)
    assert [i.id for i in page.data] == [question.id] and not page.has_more
    assert turn.metrics.requests == 2  # the thread and the message: writes only
    await _same_pages(store, thread.id, turn)


async def test_a_widget_action_reads_thread_item_and_state_at_once(store: Any) -> None:
    thread = await _thread_with(store, 3)
    widget_id = (await store.load_thread_items(thread.id, None, 1, "desc", ctx())).data[0].id
    action = ctx()
    store.start_action_reads(thread.id, widget_id, action)
    assert (await store.load_thread(thread.id, action)).id == thread.id
    item = await store.load_item(thread.id, widget_id, action)
    assert item == await store.load_item(thread.id, widget_id, ctx())
    assert (await store.load_session_state(thread.id, action)).data == {"n": 1}
    assert action.metrics.requests == 3
    # The handler's replacement reads back as written.
    edited = item.model_copy(update={"content": [AssistantMessageContent(text="edited")]})
    await store.save_item(thread.id, edited, action)
    assert (await store.load_item(thread.id, widget_id, action)).content[0].text == "edited"
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, "msg_missing", action)


async def test_the_user_message_is_written_behind_and_later_writes_wait_for_it(store: Any) -> None:
    thread = await _thread_with(store, 2)
    turn = ctx()
    store.start_turn_reads(thread.id, turn, WINDOW)
    await store.load_thread(thread.id, turn)
    question = _question(store, thread, "asked")
    await store.add_thread_item(thread.id, question, turn)
    # The turn sees its message at once, whether or not the write has landed yet.
    newest = await store.load_thread_items(thread.id, None, 1, "desc", turn)
    assert newest.data[0].id == question.id
    # Any later write of the request first waits for it: the answer is stored after it.
    answer = _answer(store, thread, "answered")
    await store.add_thread_item(thread.id, answer, turn)
    stored = await store.load_thread_items(thread.id, None, 2, "desc", ctx())
    assert [i.id for i in stored.data] == [answer.id, question.id]
    await store.flush(turn)  # nothing left in flight: a no-op
    # Only the first user message of a turn is written behind.
    second = _question(store, thread, "again")
    await store.add_thread_item(thread.id, second, turn)
    assert (await store.load_thread_items(thread.id, None, 1, "desc", ctx())).data[
        0
    ].id == second.id


async def test_attachment_metadata_is_read_and_written_once_per_request(store: Any) -> None:
    from chatkit.types import FileAttachment

    await store.load_threads(1, None, "desc", ctx("warm-up"))
    attachment = FileAttachment(id="atc_" + "0" * 26, name="a.txt", mime_type="text/plain")
    await store.save_attachment(attachment, ctx())
    send = ctx()
    loaded = await store.load_attachment(attachment.id, send)
    assert loaded == attachment
    with_thread = loaded.model_copy(update={"thread_id": "thr_" + "1" * 26})
    await store.save_attachment(with_thread, send)
    # ChatKit reads it again and writes it back unchanged: neither reaches the store.
    again = await store.load_attachment(attachment.id, send)
    assert again == with_thread
    await store.save_attachment(again, send)
    assert send.metrics.requests == 2  # one read, one write
    assert await store.load_attachment(attachment.id, ctx()) == with_thread
    await store.delete_attachment(attachment.id, send)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, send)


async def test_a_new_thread_and_its_message_are_written_in_order_behind_the_turn(
    store: Any,
) -> None:
    turn, thread, question = await _new_thread_turn(store)
    # The turn reads both at once, stored or not yet.
    assert (await store.load_thread(thread.id, turn)).id == thread.id
    await store.flush(turn)
    assert (await store.load_thread(thread.id, ctx())).id == thread.id
    stored = await store.load_thread_items(thread.id, None, 5, "desc", ctx())
    assert [i.id for i in stored.data] == [question.id]


async def test_a_failed_thread_write_fails_the_turn_once_and_stores_nothing(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.errors import StoreUnavailable

    backend = type(store).__mro__[2]  # with_read_ahead(backend) -> ReadAheadStore -> backend

    async def unavailable(*_: Any) -> None:
        raise StoreUnavailable("injected")

    turn = ctx()
    store.expect_new_thread(turn, WINDOW)
    thread = ThreadMetadata(id=store.generate_thread_id(turn), created_at=datetime.now())
    monkeypatch.setattr(backend, "save_thread", unavailable)
    await store.save_thread(thread, turn)
    await store.add_thread_item(thread.id, _question(store, thread, "lost"), turn)
    with pytest.raises(StoreUnavailable):
        await store.flush(turn)
    await store.flush(turn)  # reported once; the message's write failed with it
    monkeypatch.undo()
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, ctx())
    with pytest.raises(NotFoundError):  # no orphaned message either
        await store.load_thread_items(thread.id, None, 5, "desc", ctx())
    page = await store.load_threads(10, None, "desc", ctx())
    assert thread.id not in [t.id for t in page.data]
