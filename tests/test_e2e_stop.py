"""Stop as a request (`threads.stop_turn`): it reaches the streaming turn through the
store, whichever instance runs it, even when a proxy keeps the stream's connection
open after the browser let go."""

from __future__ import annotations

import json
import threading
import time

from tests.conftest import model_env
from tests.fake_model import Reply


def _host(start_host, fake_model, store_env):
    return start_host({**model_env(fake_model), **store_env, "STOP_POLL_SECONDS": "0.2"})


def test_stop_request_ends_the_turn_saves_the_partial_answer_and_stops_the_model(
    start_host, fake_model, store_env
):
    host = _host(start_host, fake_model, store_env)
    client = host.client()
    thread_id = client.create_thread("first").thread_id
    fake_model.script(Reply.say(*[f"w{i} " for i in range(20)], delay=0.25))
    result: dict[str, object] = {}

    def listen() -> None:
        started = time.monotonic()
        result["stream"] = client.add_message(thread_id, "count slowly")
        result["seconds"] = time.monotonic() - started

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1.0)  # a few words streamed
    stop = client.request("threads.stop_turn", thread_id=thread_id)
    assert stop.status_code == 200 and stop.json() == {"stopping": True}
    listener.join(timeout=15)

    stream = result["stream"]
    # The stream ended on its own, cleanly, long before the 5 s the model needed.
    assert result["seconds"] < 3.5, result["seconds"]
    assert stream.errors == []
    items = client.items(thread_id, order="asc")
    answer = [i for i in items if i["type"] == "assistant_message"][-1]
    text = answer["content"][0]["text"]
    assert text.startswith("w0 w1") and "w19" not in text

    # The model's stream was closed too: no tokens generated for nobody.
    stopped = fake_model.turn_requests[-1]
    assert not stopped.finished and stopped.deltas_sent < 12, stopped.deltas_sent

    fake_model.script(Reply.say("Back again."))
    assert client.add_message(thread_id, "continue").text == "Back again."
    assert "cancelled" in fake_model.turn_requests[-1].text()


def test_an_old_stop_does_not_stop_the_next_turn(start_host, fake_model, store_env):
    host = _host(start_host, fake_model, store_env)
    client = host.client()
    thread_id = client.create_thread("first").thread_id
    assert client.request("threads.stop_turn", thread_id=thread_id).status_code == 200
    time.sleep(0.05)
    fake_model.script(Reply.say("one ", "two ", "three", delay=0.25))
    stream = client.add_message(thread_id, "count")
    assert stream.text == "one two three" and stream.errors == []


def test_stopping_a_thread_that_is_not_yours_is_a_plain_404(start_host, fake_model):
    host = _host(start_host, fake_model, {})
    alice = host.client(**{"X-Test": "a"})
    thread_id = alice.create_thread("mine").thread_id
    before = json.dumps(alice.items(thread_id, order="asc"))
    for unknown in ("thr_does_not_exist", thread_id + "x"):
        response = alice.request("threads.stop_turn", thread_id=unknown)
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Thread not found."}}
    bad = alice.request("threads.stop_turn")
    assert bad.status_code == 400 and "error" in bad.json()
    assert json.dumps(alice.items(thread_id, order="asc")) == before
