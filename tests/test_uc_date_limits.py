"""Dates at the edges of what Python can represent (year 1, 9999-12-31T23:59, offsets of
almost a day) in every use case's widget actions and tool arguments: each answers the
use case's own clear message, never a generic stream error (issue 13, finding 15)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_uc_clinic_e2e import only_widget, slot_buttons

EXTREME_STARTS = [
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:00+00:00",
    "9999-12-31T23:59:00-14:00",
    "9999-12-31T23:59:59.999999-23:59",
    "9999-12-31T10:00:00+00:00",
]
EXTREME_DAYS = ["9999-12-31", "0001-01-01", "31 Dec 9999", "1 January 0001"]


@pytest.fixture
def clinic_host(start_host, fake_model, store_env):
    return start_host({**model_env(fake_model), **store_env})


def _generic(stream: Any) -> list[str]:
    return [e["message"] for e in stream.errors if "Something went wrong" in e["message"]]


def test_forged_clicks_with_extreme_times_are_an_invalid_start_time(clinic_host, fake_model):
    client = clinic_host.client("clinic")
    fake_model.script(
        Reply.call("show_open_slots", clinician="Dr Patel", days=2), Reply.say("Pick one.")
    )
    shown = client.create_thread("When can I see Dr Patel?")
    picker = only_widget(shown)
    action = slot_buttons(picker)[0]["onClickAction"]

    for start in EXTREME_STARTS:
        for kind, extra in (
            ("clinic.book", {}),
            ("clinic.reschedule", {"appointment_id": "apt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        ):
            forged = {"type": kind, "payload": {**action["payload"], **extra, "start": start}}
            stream = client.stream(
                "threads.custom_action",
                thread_id=shown.thread_id,
                item_id=picker["id"],
                action=forged,
            )
            assert stream.status == 200
            messages = [e["message"] for e in stream.errors]
            assert messages == ["This button sent an invalid start time."], (kind, start, messages)

    for day in ("9999-12-31", "0001-01-01"):
        forged = {
            "type": "clinic.show_slots",
            "payload": {"clinician_id": "dr-patel", "from_day": day},
        }
        stream = client.stream(
            "threads.custom_action", thread_id=shown.thread_id, item_id=picker["id"], action=forged
        )
        assert [e["message"] for e in stream.errors] == ["This button sent an invalid day."], day

    # Nothing was booked.
    fake_model.script(Reply.call("show_my_appointments"), Reply.say("None."))
    mine = client.add_message(shown.thread_id, "my appointments?")
    assert "no upcoming appointments" in only_widget(mine)["copy_text"].lower()


def test_tool_calls_with_extreme_days_come_back_as_a_refusal(clinic_host, fake_model):
    client = clinic_host.client("clinic")
    thread_id = None
    for day in EXTREME_DAYS:
        calls = [
            Reply.call("book_appointment", clinician="Dr Patel", day=day, time="23:59"),
            Reply.call("book_appointment", clinician="Dr Patel", day=day, time="00:00"),
            Reply.call("show_open_slots", clinician="Dr Patel", days=7, from_day=day),
        ]
        fake_model.script(*calls, Reply.say("Sorry."))
        text = f"Book Dr Patel on {day}"
        if thread_id is None:
            stream = client.create_thread(text)
            thread_id = stream.thread_id
        else:
            stream = client.add_message(thread_id, text)
        assert not stream.errors, stream.errors
        assert stream.text == "Sorry."
        results = [
            m["content"]
            for m in fake_model.turn_requests[-1].body["messages"]
            if m.get("role") == "tool"
        ][-len(calls) :]
        assert len(results) == len(calls)
        for result in results:
            assert "too far from today" in result, (day, result)


def test_todo_due_dates_outside_the_calendar_people_use_are_refused(start_host, fake_model):
    host = start_host(model_env(fake_model))
    client = host.client("todo")
    fake_model.script(Reply.call("show_todo_list"), Reply.say("Here."))
    shown = client.create_thread("show my list")
    widget = only_widget(shown)
    for due in ("0001-01-01", "9999-12-31", "9999-12-31T23:59:59-23:59", "1899-12-31"):
        stream = client.stream(
            "threads.custom_action",
            thread_id=shown.thread_id,
            item_id=widget["id"],
            action={"type": "todo.add", "payload": {"title": f"due {due}", "due": due}},
        )
        assert not stream.errors, stream.errors
        [event] = stream.of_type("thread.item.replaced")
        text = json.dumps(event["item"]["widget"])
        assert "A due date must be between 1900-01-01 and 2999-12-31" in text, due
    fake_model.script(
        Reply.call("add_tasks", tasks=[{"title": "far", "due": "9999-12-31"}]), Reply.say("ok")
    )
    client.add_message(shown.thread_id, "add far, due 9999-12-31")
    assert "A due date must be between" in fake_model.turn_requests[-1].text()
    ok = client.stream(
        "threads.custom_action",
        thread_id=shown.thread_id,
        item_id=widget["id"],
        action={"type": "todo.add", "payload": {"title": "soon", "due": "2030-01-02"}},
    )
    assert "due 2030-01-02" not in json.dumps(ok.errors)
    assert "Added 'soon'." in json.dumps(ok.of_type("thread.item.replaced"))


def test_weather_days_that_are_not_a_finite_number_fall_back_to_the_default():
    from use_cases.weather.domain import DEFAULT_DAYS, MAX_DAYS, clamp_days

    # JSON 1e400 parses as infinity; int(inf) raises OverflowError.
    for value in (float("inf"), float("-inf"), float("nan"), "1e400", None, "soon"):
        assert clamp_days(value) == DEFAULT_DAYS
    assert clamp_days(10**30) == MAX_DAYS and clamp_days(-(10**30)) == 1


def test_weather_action_with_an_infinite_day_count_is_not_a_server_error(
    start_host, fake_model, fake_weather
):
    host = start_host({**model_env(fake_model), **fake_weather.env()})
    client = host.client("weather")
    fake_model.script(Reply.say("Hi."))
    thread_id = client.create_thread("hi").thread_id
    # Raw bytes: JSON's 1e400 is a float infinity once parsed, which json.dumps cannot write.
    action = (
        b'{"type": "threads.custom_action", "params": {"thread_id": "' + thread_id.encode() + b'",'
        b' "item_id": null, "action": {"type": "weather.refresh", "payload":'
        b' {"place": "Paris", "days": 1e400}}}}'
    )
    response = client.post_raw(action)
    assert response.status_code == 200, response.text
    events = [
        json.loads(line[6:]) for line in response.text.split("\n") if line.startswith("data: ")
    ]
    assert [e for e in events if e["type"] == "error"] == []
    [done] = [e for e in events if e["type"] == "thread.item.done"]
    assert done["item"]["type"] == "widget" and "Paris" in done["item"]["copy_text"]


def test_retail_item_numbers_that_int_cannot_read_are_just_unknown():
    from use_cases.retail.state import ShownItem, _match

    shown = ShownItem(
        n=1, line_id="L1", order_id="O1", sku="SKU1", name="Mug", category="home",
        price_cents=900, quantity=1, eligible=True, note="",
    )  # fmt: skip
    assert _match("#1", [shown], {}, None) == "L1"
    for ref in ("²", "9" * 5000):
        assert _match(ref, [shown], {}, None) is None
