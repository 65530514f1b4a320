"""Statelessness: turn 1 in one process, turn 2 in a fresh process on the same data."""

from __future__ import annotations

from tests.conftest import model_env
from tests.fake_model import Reply


def test_second_process_sees_history_and_session_state(start_host, fake_model, tmp_path, store_env):
    data_dir = tmp_path / "shared-data"
    env = {**model_env(fake_model), **store_env}

    first = start_host(env, data_dir=data_dir)
    fake_model.script(
        Reply.call("remember_timezone", timezone="Europe/Berlin"),
        Reply.say("I will use Berlin time."),
    )
    thread_id = first.client().create_thread("I am in Berlin.").thread_id
    first.stop()

    second = start_host(env, data_dir=data_dir)
    fake_model.script(Reply.say("Yes, Berlin."))
    stream = second.client().add_message(thread_id, "Which zone am I in?")

    assert stream.text == "Yes, Berlin."
    seen = fake_model.turn_requests[-1].text()
    assert "I am in Berlin." in seen and "I will use Berlin time." in seen
    assert "The user asked to use Europe/Berlin in this conversation." in seen
    threads = second.client().call("threads.list")["data"]
    assert [t["id"] for t in threads] == [thread_id]


def test_history_window_is_the_newest_items(start_host, fake_model):
    host = start_host({**model_env(fake_model), "HISTORY_LIMIT": "4"})
    client = host.client()
    thread_id = client.create_thread("message number 1").thread_id
    for n in range(2, 5):
        client.add_message(thread_id, f"message number {n}")

    seen = fake_model.turn_requests[-1].text()
    # 4 newest items: user 3, reply, user 4 ... and never the oldest ones.
    assert "message number 4" in seen and "message number 3" in seen
    assert "message number 1" not in seen and "message number 2" not in seen
