"""Cosmos DB faults, injected by the stand-in (tests/servers/cosmos_standin.js) on the real
wire: throttling (429 with x-ms-retry-after-ms) is absorbed by the SDK's retries; a store
that keeps failing mid-turn gives the user a retryable error, keeps what was stored
consistent, and the retry completes the turn with nothing duplicated."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import cosmos_env, model_env
from tests.fake_model import Reply

DOCS = r"/docs"


@pytest.fixture
def cosmos(cosmos_server: Any) -> Iterator[Any]:
    cosmos_server.inject(0)
    yield cosmos_server
    cosmos_server.inject(0)


@pytest.fixture
def host(start_host, fake_model, cosmos, azurite_server):
    name = f"t{uuid.uuid4().hex[:16]}"
    return start_host(
        {
            **model_env(fake_model),
            **cosmos_env(cosmos, name),
            "AZURE_STORAGE_CONNECTION_STRING": azurite_server.connection_string,
            "ATTACHMENTS_CONTAINER": name,
        }
    )


def _kinds(client, thread_id: str) -> list[str]:
    return [i["type"] for i in client.items(thread_id, order="asc", limit=50)]


def test_throttled_writes_and_reads_are_retried_invisibly(host, fake_model, cosmos):
    client = host.client()
    thread_id = client.create_thread("warm up").thread_id

    cosmos.inject(429, 4, method="POST", path=DOCS, query=False)
    fake_model.script(Reply.say("Despite throttling."))
    stream = client.add_message(thread_id, "are you there?")
    assert stream.errors == [] and stream.text == "Despite throttling."
    assert cosmos.injected() == 4

    cosmos.inject(429, 3, method="POST", path=DOCS, query=True)
    listed = client.call("threads.list")
    assert [t["id"] for t in listed["data"]] == [thread_id]
    assert cosmos.injected() == 3
    assert _kinds(client, thread_id).count("assistant_message") == 2


def test_a_store_outage_mid_turn_is_a_retryable_error_and_retry_completes(host, fake_model, cosmos):
    client = host.client()
    thread_id = client.create_thread("first").thread_id
    before = _kinds(client, thread_id)

    # The turn's lease and the user's message are written; every write after them fails
    # (503), so the answer streams but cannot be saved.
    cosmos.inject(503, 1000, method="POST", path=DOCS, query=False, skip=2)
    fake_model.script(Reply.say("This answer cannot be saved."))
    failed = client.add_message(thread_id, "second question")
    cosmos.inject(0)
    assert failed.status == 200
    assert failed.errors and failed.errors[-1]["allow_retry"] is True, failed.events
    # ChatKit catches the store error inside its stream and reports its generic code.
    assert failed.errors[-1]["code"] == "stream.error"
    # Nothing half-written: the user's message is kept, no partial answer was stored.
    assert _kinds(client, thread_id) == [*before, "user_message"]

    fake_model.reset()
    fake_model.script(Reply.say("Saved this time."))
    last_user = client.items(thread_id, order="desc", limit=1)[0]["id"]
    retried = client.stream("threads.retry_after_item", thread_id=thread_id, item_id=last_user)
    assert retried.errors == [] and retried.text == "Saved this time."
    final = _kinds(client, thread_id)
    assert final.count("user_message") == 2, final
    assert final.count("assistant_message") == 2, final


def test_a_user_message_that_cannot_be_stored_ends_the_turn_with_an_error(host, fake_model, cosmos):
    """The message is written while the model already answers (shared/stores/read_ahead.py):
    when that write fails, the stream still ends with a retryable error, nothing of the
    turn is stored, and the thread takes the next message normally."""
    client = host.client()
    thread_id = client.create_thread("first").thread_id
    before = client.items(thread_id, order="asc", limit=50)

    # The turn's lease is taken; every write after it fails (503).
    cosmos.inject(503, 1000, method="POST", path=DOCS, query=False, skip=1)
    fake_model.script(Reply.say("Answered, but not kept."))
    failed = client.add_message(thread_id, "this message will not be stored")
    cosmos.inject(0)
    assert failed.status == 200
    assert failed.errors and failed.errors[-1]["allow_retry"] is True, failed.events
    assert client.items(thread_id, order="asc", limit=50) == before

    fake_model.reset()
    fake_model.script(Reply.say("Kept."))
    ok = client.add_message(thread_id, "again")
    assert ok.errors == [] and ok.text == "Kept."
    assert _kinds(client, thread_id) == [*(i["type"] for i in before), "user_message",
                                         "assistant_message"]  # fmt: skip
