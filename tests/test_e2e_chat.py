"""End to end over HTTP through the local host: threads, streaming, history, titles."""

from __future__ import annotations

import itertools
import statistics

from tests.fake_model import Reply


def test_create_thread_streams_answer_incrementally(host, fake_model):
    fake_model.script(Reply.say("Hello", " there", ", how", " can", " I", " help?", delay=0.15))
    client = host.client()

    stream = client.create_thread("Hi!")

    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["x-accel-buffering"] == "no"
    assert "no-cache" in stream.headers["cache-control"]
    assert stream.text == "Hello there, how can I help?"
    arrivals = stream.delta_arrivals()
    # 6 deltas produced 150 ms apart: they must reach the client spread out, not at once.
    assert len(arrivals) == 6
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Buffering anywhere (or a stall, like the first answer of a fresh process once had
    # while openai built its models) delivers deltas together: a gap near 0.
    assert arrivals[-1] - arrivals[0] > 0.5, gaps
    assert min(gaps) > 0.05, gaps
    assert statistics.median(gaps) > 0.1, gaps
    assert not stream.errors


def test_second_turn_sends_history_and_threads_are_listed(host, fake_model):
    fake_model.script(Reply.say("Paris is the capital."), Reply.say("About 2.1 million."))
    client = host.client()

    first = client.create_thread("What is the capital of France?")
    thread_id = first.thread_id
    second = client.add_message(thread_id, "How many people live there?")

    assert second.text == "About 2.1 million."
    turn2 = fake_model.turn_requests[-1].text()
    assert "What is the capital of France?" in turn2
    assert "Paris is the capital." in turn2
    assert "How many people live there?" in turn2

    threads = client.call("threads.list")["data"]
    assert [t["id"] for t in threads] == [thread_id]
    assert threads[0]["title"] == "Fake title"

    thread = client.call("threads.get_by_id", thread_id=thread_id)
    kinds = [i["type"] for i in thread["items"]["data"]]
    assert kinds == ["user_message", "assistant_message", "user_message", "assistant_message"]


def test_title_arrives_as_thread_updated(host, fake_model):
    fake_model.title = "Capital cities"
    stream = host.client().create_thread("What is the capital of France?")
    updated = stream.of_type("thread.updated")
    assert updated and updated[-1]["thread"]["title"] == "Capital cities"


def test_rename_feedback_and_delete(host, fake_model):
    fake_model.script(Reply.say("Sure."))
    client = host.client()
    stream = client.create_thread("Help me plan a trip")
    thread_id = stream.thread_id
    assistant_id = stream.done_items("assistant_message")[0]["id"]

    renamed = client.call("threads.update", thread_id=thread_id, title="Trip to Rome")
    assert renamed["title"] == "Trip to Rome"
    assert client.call("threads.get_by_id", thread_id=thread_id)["title"] == "Trip to Rome"

    assert (
        client.call("items.feedback", thread_id=thread_id, item_ids=[assistant_id], kind="positive")
        == {}
    )
    missing = client.request(
        "items.feedback", thread_id=thread_id, item_ids=["msg_nope"], kind="negative"
    )
    assert missing.status_code == 404

    assert client.call("threads.delete", thread_id=thread_id) == {}
    assert client.call("threads.list")["data"] == []
    gone = client.request("threads.get_by_id", thread_id=thread_id)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


def test_retry_after_item_regenerates_the_answer(host, fake_model):
    fake_model.script(Reply.say("First answer."), Reply.say("Second answer."))
    client = host.client()
    stream = client.create_thread("Tell me a joke")
    thread_id = stream.thread_id
    user_id = stream.done_items("user_message")[0]["id"]

    retried = client.stream("threads.retry_after_item", thread_id=thread_id, item_id=user_id)

    assert retried.status == 200
    assert retried.text == "Second answer."
    items = client.items(thread_id, order="asc")
    texts = [i["content"][0]["text"] for i in items]
    assert texts == ["Tell me a joke", "Second answer."]


def test_items_list_pages_newest_first_with_cursor(host, fake_model):
    client = host.client()
    thread_id = client.create_thread("one").thread_id
    for text in ("two", "three"):
        client.add_message(thread_id, text)

    first = client.call("items.list", thread_id=thread_id, limit=2, order="desc")
    second = client.call(
        "items.list", thread_id=thread_id, limit=2, order="desc", after=first["after"]
    )
    third = client.call(
        "items.list", thread_id=thread_id, limit=2, order="desc", after=second["after"]
    )

    assert first["has_more"] and second["has_more"] and not third["has_more"]
    seen = [i["id"] for page in (first, second, third) for i in page["data"]]
    assert len(seen) == len(set(seen)) == 6
    asc = [i["id"] for i in client.items(thread_id, order="asc", limit=50)]
    assert seen == list(reversed(asc))


def test_stop_mid_stream_keeps_the_partial_answer_and_next_turn_works(host, fake_model):
    import json
    import time

    import httpx

    from tests.chatkit_client import user_input

    client = host.client()
    thread_id = client.create_thread("first").thread_id
    fake_model.script(Reply.say("One", " two", " three", " four", " five", delay=0.3))
    body = {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input("count slowly")},
    }
    deltas = 0
    with httpx.stream("POST", host.url + "/api/chatkit", json=body, timeout=30) as response:
        for line in response.iter_lines():
            if "text_delta" in line:
                deltas += 1
                if deltas == 2:
                    break  # the user pressed Stop: the connection closes
    # The server notices the disconnect and saves what was streamed so far.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = client.items(thread_id, order="asc")
        if items[-1]["type"] == "assistant_message":
            break
        time.sleep(0.1)
    assert items[-1]["type"] == "assistant_message"
    assert items[-1]["content"][0]["text"].startswith("One two")
    assert "five" not in json.dumps(items)
    # The disconnect reached the model call too: it stopped generating.
    assert not fake_model.turn_requests[-1].finished

    fake_model.script(Reply.say("Back again."))
    assert client.add_message(thread_id, "continue").text == "Back again."
    assert "cancelled" in fake_model.turn_requests[-1].text()
