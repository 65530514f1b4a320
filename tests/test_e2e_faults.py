"""Model failures: a clear retryable error event, the user message kept, and the
server keeps serving; plus the no-model-configured start."""

from __future__ import annotations

import pytest

from tests.conftest import free_port, model_env
from tests.fake_model import Reply


def _user_texts(client, thread_id):
    return [
        i["content"][0]["text"]
        for i in client.items(thread_id, order="asc")
        if i["type"] == "user_message"
    ]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.error(500), "HTTP 500"),
        (Reply.error(429, **{"retry-after": "7"}), "try again in 7 seconds"),
        (Reply.error(401), "refused the credentials"),
        (Reply(hang=3.0), "took too long"),
        (Reply.say("Partial", " answer", " never", " finished", cut_after=2), "try again"),
    ],
    ids=["http-500", "http-429", "http-401", "timeout", "cut-mid-stream"],
)
def test_model_failure_is_a_retryable_error_event(start_host, fake_model, reply, expected):
    env = {**model_env(fake_model), "MODEL_TIMEOUT_SECONDS": "1"}
    host = start_host(env)
    client = host.client()
    fake_model.script(reply)

    stream = client.create_thread("Please answer this")

    assert stream.status == 200
    errors = stream.errors
    assert len(errors) == 1, stream.events
    assert errors[0]["allow_retry"] is True
    assert expected in errors[0]["message"]
    assert "Traceback" not in str(stream.events) and "127.0.0.1" not in str(stream.events)
    thread_id = stream.thread_id
    # The user's message is kept; a partial answer is discarded, never half-stored.
    items = client.items(thread_id, order="asc")
    assert [i["type"] for i in items] == ["user_message"]
    # The thread still gets a title. The title's model call starts only once the answer's
    # first text is out: after a failure before any text, the title is the message's
    # first words, without a second call to the model that just failed (which could hang
    # as long again). An answer cut after some text may already have asked for one.
    title = client.call("threads.get_by_id", thread_id=thread_id)["title"]
    asked = [r for r in fake_model.requests if r.is_title]
    if not stream.text:
        assert asked == []
    assert title == ("Fake title" if asked else "Please answer this")

    # Retry works and the next turn works.
    fake_model.script(Reply.say("Recovered."), Reply.say("Still here."))
    retried = client.stream("threads.retry_after_item", thread_id=thread_id, item_id=items[0]["id"])
    assert retried.text == "Recovered."
    assert client.add_message(thread_id, "next").text == "Still here."
    assert _user_texts(client, thread_id) == ["Please answer this", "next"]


def test_model_connection_refused(start_host, fake_model):
    env = {**model_env(fake_model), "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    client = start_host(env).client()
    stream = client.create_thread("Anyone there?")
    assert "could not be reached" in stream.errors[0]["message"]
    assert stream.errors[0]["allow_retry"] is True
    assert stream.of_type("thread.updated")[-1]["thread"]["title"] == "Anyone there?"
    assert _user_texts(client, stream.thread_id) == ["Anyone there?"]


def test_no_model_configured_starts_and_says_what_to_set(start_host):
    host = start_host({})
    client = host.client()

    import httpx

    assert httpx.get(host.url + "/").status_code == 200
    config = httpx.get(host.url + "/api/config").json()
    assert config["model_configured"] is False and config["models"] == []
    stream = client.create_thread("Hello?")

    assert stream.status == 200
    message = stream.errors[0]["message"]
    for setting in ("AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        assert setting in message
    assert _user_texts(client, stream.thread_id) == ["Hello?"]
