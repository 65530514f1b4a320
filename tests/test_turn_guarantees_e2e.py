"""Per-thread guarantees over HTTP, with two app instances on one store (both stores):
one turn per thread (a second concurrent turn gets 409 `thread_busy`, never a second
answer), a thread deleted while it streams stays deleted and leaves nothing behind, a
rename during the first answer is kept, the new-thread limit holds under concurrency
and create/delete cycles, page sizes are clamped, and timestamps are UTC whatever the
server's time zone (issue 13: findings 4, 6, 9, 11, 14).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.chatkit_client import Stream, user_input
from tests.conftest import model_env
from tests.fake_model import FakeModel, Reply

# ~6.5 s of answer: well past the 3 s a second turn waits for the lease.
SLOW = [f"word{n} " for n in range(14)]


def slow_reply() -> Reply:
    return Reply.say(*SLOW, delay=0.5)


def wait_until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def answering(fake: FakeModel, count: int) -> Callable[[], bool]:
    """True once the model has been asked for `count` answers (title requests aside)."""
    return lambda: len(fake.turn_requests) >= count


def leftovers(store_env: dict[str, str], data_dir: Path, thread_id: str) -> list[str]:
    """What the store still holds for the thread, read beneath the app (the tombstone
    aside): anything here is an orphan no API call can reach or delete."""
    if not store_env:
        with sqlite3.connect(data_dir / "chatkit.sqlite3") as db:
            found = []
            for table, column in (
                ("threads", "id"),
                ("items", "thread_id"),
                ("session_state", "thread_id"),
                ("attachments", "thread_id"),
                ("feedback", "thread_id"),
            ):
                rows = db.execute(
                    f"SELECT count(*) FROM {table} WHERE {column} = ?",
                    (thread_id,),
                ).fetchone()
                found += [table] * rows[0]
            return found
    from azure.cosmos import CosmosClient

    client = CosmosClient(store_env["COSMOS_ENDPOINT"], store_env["COSMOS_KEY"])
    container = client.get_database_client(store_env["COSMOS_DATABASE"]).get_container_client(
        "chat"
    )
    rows = container.query_items(
        "SELECT c.docType, c.attachmentThreadId FROM c WHERE c.threadId = @t "
        "OR c.attachmentThreadId = @t",
        parameters=[{"name": "@t", "value": thread_id}],
        enable_cross_partition_query=True,
    )
    return [r["docType"] for r in rows if r["docType"] != "lease"]


@pytest.fixture
def two_hosts(start_host, fake_model, store_env, tmp_path):
    env = {**model_env(fake_model), **store_env}
    hosts = start_host(env, data_dir=tmp_path / "data"), start_host(env, data_dir=tmp_path / "data")
    for host in hosts:
        host.client().call("threads.list")  # the chat stack imported: no warm-up wait later
    return hosts


def _in_background(pool: ThreadPoolExecutor, call: Callable[[], Stream]) -> Future[Stream]:
    return pool.submit(call)


def test_a_second_turn_on_a_busy_thread_is_refused_not_run_twice(two_hosts, fake_model):
    a, b = (host.client() for host in two_hosts)
    thread_id = a.create_thread("hello").thread_id
    user_item = a.items(thread_id, order="asc")[0]["id"]
    asked = len(fake_model.turn_requests)

    fake_model.script(slow_reply())
    with ThreadPoolExecutor(2) as pool:
        first = _in_background(
            pool,
            lambda: a.stream("threads.retry_after_item", thread_id=thread_id, item_id=user_item),
        )
        wait_until(answering(fake_model, asked + 1))
        # On the other instance, while the first retry streams: a retry, then a message.
        retry = b.request("threads.retry_after_item", thread_id=thread_id, item_id=user_item)
        message = b.request(
            "threads.add_user_message", thread_id=thread_id, input=user_input("me too")
        )
        done = first.result(timeout=30)

    assert done.status == 200 and done.errors == [] and done.text == "".join(SLOW)
    for refused in (retry, message):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "thread_busy"
        assert 0 < int(refused.headers["retry-after"]) <= 30
    kinds = [i["type"] for i in b.items(thread_id, order="asc")]
    assert kinds == ["user_message", "assistant_message"], kinds
    assert len(fake_model.turn_requests) == asked + 1  # the refused turns never ran

    # Once it is done the thread takes turns again, on either instance.
    fake_model.script(Reply.say("next"))
    assert b.add_message(thread_id, "and now?").text == "next"


def test_turns_queue_briefly_instead_of_failing_when_the_first_ends_soon(two_hosts, fake_model):
    a, b = (host.client() for host in two_hosts)
    thread_id = a.create_thread("hello").thread_id
    asked = len(fake_model.turn_requests)
    fake_model.script(Reply.say("short ", "answer", delay=0.4), Reply.say("then this"))
    with ThreadPoolExecutor(2) as pool:
        first = _in_background(pool, lambda: a.add_message(thread_id, "one"))
        wait_until(answering(fake_model, asked + 1))
        second = b.add_message(thread_id, "two")
        assert first.result(timeout=30).text == "short answer"
    assert second.status == 200 and second.text == "then this"
    texts = [
        i["content"][0]["text"]
        for i in a.items(thread_id, order="asc")
        if i["type"] == "user_message"
    ]
    assert texts == ["hello", "one", "two"]


@pytest.mark.parametrize("first_turn", [True, False], ids=["new-thread", "follow-up"])
def test_a_thread_deleted_while_it_streams_stays_deleted(
    two_hosts, fake_model, store_env, tmp_path, first_turn
):
    a, b = (host.client() for host in two_hosts)
    asked = len(fake_model.turn_requests)
    with ThreadPoolExecutor(2) as pool:
        if first_turn:
            fake_model.script(slow_reply())
            streaming = _in_background(pool, lambda: a.create_thread("plan my week"))
            wait_until(lambda: bool(b.call("threads.list")["data"]))
            thread_id = b.call("threads.list")["data"][0]["id"]
        else:
            thread_id = a.create_thread("hello").thread_id
            asked = len(fake_model.turn_requests)
            fake_model.script(slow_reply())
            streaming = _in_background(pool, lambda: a.add_message(thread_id, "more"))
        wait_until(answering(fake_model, asked + 1))
        assert b.request("threads.delete", thread_id=thread_id).status_code == 200
        ended = streaming.result(timeout=30)

    assert ended.status == 200  # it ends, with its answer or an error event
    for client in (a, b):
        assert client.request("threads.get_by_id", thread_id=thread_id).status_code == 404
        assert client.request("items.list", thread_id=thread_id).status_code == 404
        assert thread_id not in [t["id"] for t in client.call("threads.list")["data"]]
        later = client.request(
            "threads.add_user_message", thread_id=thread_id, input=user_input("hello?")
        )
        assert later.status_code == 404, later.text
        renamed = client.request("threads.update", thread_id=thread_id, title="back?")
        assert renamed.status_code == 404
    assert leftovers(store_env, tmp_path / "data", thread_id) == []


def test_a_rename_during_the_first_answer_is_kept(two_hosts, fake_model):
    a, b = (host.client() for host in two_hosts)
    fake_model.title = "Generated title"
    fake_model.script(slow_reply())
    with ThreadPoolExecutor(1) as pool:
        streaming = _in_background(pool, lambda: a.create_thread("what should I cook?"))
        wait_until(lambda: bool(b.call("threads.list")["data"]))
        thread_id = b.call("threads.list")["data"][0]["id"]
        wait_until(answering(fake_model, 1))
        assert b.call("threads.update", thread_id=thread_id, title="Dinner ideas")
        ended = streaming.result(timeout=30)

    assert ended.errors == []
    assert a.call("threads.get_by_id", thread_id=thread_id)["title"] == "Dinner ideas"
    # What the stream told the page agrees with what is stored.
    titles = [e["thread"]["title"] for e in ended.of_type("thread.updated")]
    assert titles in ([], ["Dinner ideas"]), titles

    # Without a rename, the generated title is kept as before.
    fresh = a.create_thread("and dessert?")
    assert a.call("threads.get_by_id", thread_id=fresh.thread_id)["title"] == "Generated title"


def test_the_new_thread_limit_holds_for_concurrent_creates_and_deletes(
    start_host, fake_model, store_env, tmp_path
):
    env = {**model_env(fake_model), **store_env, "THREADS_PER_MINUTE": "4"}
    hosts = [start_host(env, data_dir=tmp_path / "data") for _ in range(2)]
    clients = [h.client() for h in hosts]
    fake_model.responder = lambda _: Reply.say("ok")

    def create(n: int) -> int:
        response = clients[n % 2].request("threads.create", input=user_input(f"thread {n}"))
        response.read()
        return response.status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(create, range(12)))
    assert sorted(statuses).count(200) == 4, statuses
    assert set(statuses) == {200, 429}
    assert len(clients[0].call("threads.list", limit=50)["data"]) == 4

    # Deleting them gives no slot back.
    for thread in clients[0].call("threads.list", limit=50)["data"]:
        clients[1].call("threads.delete", thread_id=thread["id"])
    refused = clients[0].request("threads.create", input=user_input("again"))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(
    "limit", [-1, 0, 1, 101, 2**63, 10**30], ids=["neg", "zero", "one", "101", "2^63", "1e30"]
)
def test_page_sizes_are_clamped_not_500(host, fake_model, limit):
    client = host.client()
    fake_model.responder = lambda _: Reply.say("ok")
    thread_id = client.create_thread("hello").thread_id
    for _ in range(2):
        client.add_message(thread_id, "more")
    expected = 1 if limit < 2 else 6  # 1..100: the whole thread fits in one page
    threads = client.request("threads.list", limit=limit)
    assert threads.status_code == 200, threads.text
    assert len(threads.json()["data"]) == 1
    items = client.request("items.list", thread_id=thread_id, limit=limit)
    assert items.status_code == 200, items.text
    assert len(items.json()["data"]) == expected
    assert items.json()["has_more"] is (limit < 2)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_timestamps_and_the_thread_limit_ignore_the_servers_time_zone(
    start_host, fake_model, store_env, zone
):
    client = start_host(
        {**model_env(fake_model), **store_env, "TZ": zone, "THREADS_PER_MINUTE": "2"}
    ).client()
    fake_model.responder = lambda _: Reply.say("ok")
    # The limit counts what it should: two threads, then a refusal (Tokyo once refused
    # everyone for 9 hours; Los Angeles never refused).
    ids = [client.create_thread(f"t{n}").thread_id for n in range(2)]
    assert client.request("threads.create", input=user_input("third")).status_code == 429

    now = datetime.now(UTC)
    thread = client.call("threads.get_by_id", thread_id=ids[0])
    stamps = [thread["created_at"], *(i["created_at"] for i in thread["items"]["data"])]
    for stamp in stamps:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert moment.utcoffset() == timedelta(0), stamp
        assert abs(now - moment) < timedelta(seconds=60), stamp
    # Items come back in the order they were written.
    client.add_message(ids[0], "later")
    texts = [
        json.dumps(i.get("content"))
        for i in client.items(ids[0], order="asc")
        if i["type"] == "user_message"
    ]
    assert "t0" in texts[0] and "later" in texts[-1]


def test_a_long_turn_keeps_its_lease_past_the_lease_time(
    start_host, fake_model, store_env, tmp_path
):
    env = {**model_env(fake_model), **store_env, "TURN_LEASE_SECONDS": "5"}
    a, b = (start_host(env, data_dir=tmp_path / "data").client() for _ in range(2))
    thread_id = a.create_thread("hello").thread_id
    asked = len(fake_model.turn_requests)
    fake_model.script(Reply.say(*SLOW, delay=0.9))  # ~12.5 s: well over twice the lease
    with ThreadPoolExecutor(1) as pool:
        streaming = _in_background(pool, lambda: a.add_message(thread_id, "long one"))
        wait_until(answering(fake_model, asked + 1))
        time.sleep(6)  # past the first lease's expiry: only a renewal keeps it
        late = b.request("threads.add_user_message", thread_id=thread_id, input=user_input("now?"))
        assert streaming.result(timeout=30).text == "".join(SLOW)
    assert late.status_code == 409, late.text
