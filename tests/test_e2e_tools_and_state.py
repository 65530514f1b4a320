"""Tools, widgets, widget actions and per-thread session state, end to end, on both
model API paths."""

from __future__ import annotations

import pytest

from tests.conftest import model_env
from tests.fake_model import Reply


@pytest.fixture(params=["chat_completions", "responses"])
def api_host(request, start_host, fake_model, store_env):
    return start_host({**model_env(fake_model, api=request.param), **store_env}), request.param


def test_two_turns_on_each_api_path(api_host, fake_model):
    host, api = api_host
    fake_model.script(Reply.say("Hi! ", "I'm fine."), Reply.say("You said hello."))
    client = host.client()
    thread_id = client.create_thread("Hello, how are you?").thread_id

    second = client.add_message(thread_id, "What did I say first?")

    assert not second.errors, second.errors
    assert second.text == "You said hello."
    request = fake_model.turn_requests[-1]
    assert request.api == api
    assert "Hello, how are you?" in request.text() and "I'm fine." in request.text()


def test_tool_call_changes_session_state_and_a_later_turn_sees_it(api_host, fake_model):
    host, _api = api_host
    fake_model.script(
        Reply.call("remember_timezone", timezone="Tokyo"),
        Reply.say("Done, I'll use Tokyo time."),
        Reply.say("Noted."),
    )
    client = host.client()
    thread_id = client.create_thread("I live in Tokyo, remember that.").thread_id
    assert "Remembered the time zone Asia/Tokyo" in fake_model.turn_requests[1].text()

    later = client.add_message(thread_id, "Thanks")

    assert later.text == "Noted."
    instructions = fake_model.turn_requests[-1].text()
    assert "The user asked to use Asia/Tokyo in this conversation." in instructions


def test_clock_widget_streams_and_its_buttons_update_it_in_place(host, fake_model):
    fake_model.script(
        Reply.call("get_current_time", timezone="Europe/Paris"), Reply.say("It is shown above.")
    )
    client = host.client(**{"X-User-Timezone": "America/New_York"})
    stream = client.create_thread("What time is it in Paris?")
    thread_id = stream.thread_id
    widgets = stream.done_items("widget")
    assert len(widgets) == 1
    widget = widgets[0]
    assert widget["widget"]["children"][0]["value"] == "Europe/Paris"

    clicked = client.stream(
        "threads.custom_action",
        thread_id=thread_id,
        item_id=widget["id"],
        action={"type": "clock.select_timezone", "payload": {"timezone": "Asia/Tokyo"}},
    )

    replaced = clicked.of_type("thread.item.replaced")
    assert len(replaced) == 1 and replaced[0]["item"]["id"] == widget["id"]
    assert replaced[0]["item"]["widget"]["children"][0]["value"] == "Asia/Tokyo"
    stored = next(i for i in client.items(thread_id) if i["id"] == widget["id"])
    assert stored["widget"]["children"][0]["value"] == "Asia/Tokyo"
    assert stored["widget"]["children"][3]["value"] == "Remembered for this chat"

    # The click wrote the same session state the remember_timezone tool writes.
    fake_model.script(Reply.say("ok"))
    client.add_message(thread_id, "And now?")
    assert "The user asked to use Asia/Tokyo" in fake_model.turn_requests[-1].text()
    # The widget reaches the model as text, not as raw JSON.
    assert "A widget (id " in fake_model.turn_requests[-1].text()


def test_unknown_action_is_a_clean_error_event(host, fake_model):
    client = host.client()
    thread_id = client.create_thread("hi").thread_id
    stream = client.stream(
        "threads.custom_action", thread_id=thread_id, action={"type": "nope.nothing", "payload": {}}
    )
    assert stream.status == 200
    assert "does not know the action" in stream.errors[0]["message"]
    assert stream.errors[0]["allow_retry"] is False


def test_request_timezone_header_is_the_default_zone(host, fake_model):
    fake_model.script(Reply.say("ok"))
    host.client(**{"X-User-Timezone": "Australia/Sydney"}).create_thread("time?")
    assert "current time zone is Australia/Sydney" in fake_model.turn_requests[-1].text()
