"""Hostile sizes: deep JSON, huge messages, and a flood of new threads are refused with a
clear 4xx before anything is stored."""

from __future__ import annotations

import json

from tests.chatkit_client import user_input
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"a": [value]} if depth % 2 else [value]
    return value


def test_deep_json_and_long_messages_are_refused_and_store_nothing(start_host, fake_model):
    host = start_host({**model_env(fake_model), "MAX_MESSAGE_CHARS": "1000"})
    client = host.client()
    thread_id = client.create_thread("hello").thread_id
    before = json.dumps(client.items(thread_id))

    deep = client.request(
        "threads.custom_action",
        thread_id=thread_id,
        item_id="msg_x",
        action={"type": "todo.add", "payload": nested(40)},
    )
    assert deep.status_code == 400
    assert deep.json()["error"]["message"] == "The request nests JSON deeper than 32 levels."

    deeper = client.post_raw(
        '{"type":"threads.list","params":{},"metadata":{"a":' + "[" * 500 + "]" * 500 + "}}"
    )
    assert deeper.status_code == 400
    assert deeper.json()["error"]["message"] == "The request body is nested too deeply."

    for text, quoted in (("x" * 1001, None), ("x" * 600, "y" * 401)):
        message = user_input(text)
        message["quoted_text"] = quoted
        long = client.request("threads.add_user_message", thread_id=thread_id, input=message)
        assert long.status_code == 400, long.text
        assert "the limit is 1000" in long.json()["error"]["message"]
        created = client.request("threads.create", input=message)
        assert created.status_code == 400

    fine = user_input("x" * 1000)
    fake_model.script(Reply.say("ok"))
    assert (
        client.request("threads.add_user_message", thread_id=thread_id, input=fine).status_code
        == 200
    )
    assert len(client.call("threads.list")["data"]) == 1
    assert json.dumps(client.items(thread_id)) != before  # only the accepted message landed


def test_new_threads_per_minute_are_limited_per_user(start_host, fake_model, store_env):
    host = start_host(
        {**model_env(fake_model), **store_env, "AUTH_MODE": "platform", "THREADS_PER_MINUTE": "3"}
    )
    alice = host.client(**{"x-ms-client-principal": principal("alice")})
    bob = host.client(**{"x-ms-client-principal": principal("bob")})
    threads = [alice.create_thread(f"thread {n}").thread_id for n in range(3)]

    refused = alice.request("threads.create", input=user_input("one too many"))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "3 conversations in the last minute" in refused.json()["error"]["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 61
    assert len(alice.call("threads.list", limit=10)["data"]) == 3

    # Other users, and more turns in existing threads, are not affected.
    assert bob.create_thread("bob's first").thread_id
    assert alice.add_message(threads[0], "still talking").errors == []
