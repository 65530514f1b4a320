"""The clinic use case end to end over HTTP, on SQLite and on the Cosmos DB stand-in:
slot picker → click → stored booking → gone for another patient (by widget and by tool)
→ cancel by button → free again; typing and clicking end in the same booking and the
same session state; the appointment list's reschedule and cancel buttons."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.context import RequestContext
from shared.documents import Documents
from shared.stores.base import AppStore
from shared.stores.cosmos import CosmosStore
from shared.stores.sqlite import SQLiteStore
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal
from use_cases.clinic.data import CLINICIANS
from use_cases.clinic.domain import Clinician
from use_cases.clinic.repository import APPOINTMENTS_COLLECTION, slot_collection, slot_key

LONDON = ZoneInfo("Europe/London")
PATEL = Clinician.from_data("dr-patel", CLINICIANS["dr-patel"])


# Helpers


@pytest.fixture
def platform_host(start_host, fake_model, store_env):
    """Several signed-in patients (platform auth) on each store."""
    host = start_host({**model_env(fake_model), **store_env, "AUTH_MODE": "platform"})
    return host, store_env


@pytest.fixture
def local_host(start_host, fake_model, store_env):
    return start_host({**model_env(fake_model), **store_env}), store_env


def with_store(host: Any, env: dict[str, str], fn: Any) -> Any:
    """Run `fn(store)` against the host's own data, as a second process would."""

    async def run() -> Any:
        if env.get("COSMOS_ENDPOINT"):
            store: AppStore = CosmosStore(
                endpoint=env["COSMOS_ENDPOINT"],
                credential=env["COSMOS_KEY"],
                database=env["COSMOS_DATABASE"],
                container="chat",
            )
        else:
            store = SQLiteStore(host.data_dir / "chatkit.sqlite3")
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def ctx(user: str) -> RequestContext:
    return RequestContext(user_id=user, use_case="clinic")


def appointments(host: Any, env: dict[str, str], user: str) -> list[dict[str, Any]]:
    async def read(store: AppStore) -> list[dict[str, Any]]:
        docs = await Documents(store, ctx(user)).user(APPOINTMENTS_COLLECTION).list()
        return [d.data for d in docs]

    return with_store(host, env, read)


def slot_lock(host: Any, env: dict[str, str], start: datetime) -> dict[str, Any] | None:
    local = start.astimezone(LONDON)

    async def read(store: AppStore) -> dict[str, Any] | None:
        collection = slot_collection("dr-patel", local.date())
        key = slot_key("dr-patel", local)
        doc = await Documents(store, ctx("anyone")).reference(collection).get(key)
        return doc.data if doc else None

    return with_store(host, env, read)


def session_state(host: Any, env: dict[str, str], user: str, thread_id: str) -> dict[str, Any]:
    async def read(store: AppStore) -> dict[str, Any]:
        return (await store.load_session_state(thread_id, ctx(user))).data

    return with_store(host, env, read)


def buttons(widget_item: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Button":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(widget_item["widget"])
    return found


def slot_buttons(widget_item: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for b in buttons(widget_item)
        if b["onClickAction"]["type"] in {"clinic.book", "clinic.reschedule"}
    ]


def start_of(button: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(button["onClickAction"]["payload"]["start"])


def button(widget_item: dict[str, Any], label: str) -> dict[str, Any]:
    return next(b for b in buttons(widget_item) if b.get("label") == label)


def click(client: Any, thread_id: str, item: dict[str, Any], target: dict[str, Any]) -> Any:
    return client.stream(
        "threads.custom_action",
        thread_id=thread_id,
        item_id=item["id"],
        action=target["onClickAction"],
    )


def replaced(stream: Any) -> dict[str, Any]:
    assert not stream.errors, stream.errors
    events = stream.of_type("thread.item.replaced")
    assert len(events) == 1, stream.events
    return events[0]["item"]


def only_widget(stream: Any) -> dict[str, Any]:
    assert not stream.errors, stream.errors
    widgets = stream.done_items("widget")
    assert len(widgets) == 1, stream.events
    return widgets[0]


def comfortable_10_30() -> tuple[str, date]:
    """A 10:30 with Dr Patel well clear of the notice and late-cancellation windows:
    "tomorrow" when that is a working day, else the next working day as a date."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    day = today + timedelta(days=1)
    while day.weekday() not in PATEL.working_days:
        day += timedelta(days=1)
    return ("tomorrow" if day == today + timedelta(days=1) else day.isoformat()), day


def without(value: Any, *ids: str) -> Any:
    text = json.dumps(value, sort_keys=True)
    for ident in ids:
        text = text.replace(ident, "APT")
    return json.loads(text)


# Tests


def test_click_books_the_slot_is_gone_for_others_and_cancelling_frees_it(platform_host, fake_model):
    host, env = platform_host
    alice = host.client("clinic", **{"x-ms-client-principal": principal("alice")})
    bob = host.client("clinic", **{"x-ms-client-principal": principal("bob")})

    fake_model.script(
        Reply.call("show_open_slots", clinician="Dr Patel", days=3), Reply.say("Pick a time.")
    )
    shown = alice.create_thread("When can I see Dr Patel?")
    alice_thread = shown.thread_id
    picker = only_widget(shown)
    assert picker["copy_text"].startswith("Open slots with Dr Anita Patel")
    assert "Shown to the patient as a slot picker" in fake_model.turn_requests[-1].text()
    # A slot more than a day ahead, so cancelling it later is not a late cancellation.
    soon = datetime.now(UTC) + timedelta(hours=26)
    slot = next(b for b in slot_buttons(picker) if start_of(b) > soon)
    start = start_of(slot)
    local = start.astimezone(LONDON)
    model_calls = len(fake_model.requests)

    # Alice clicks: booked without a model call, the picker becomes the confirmation.
    card = replaced(click(alice, alice_thread, picker, slot))
    assert len(fake_model.requests) == model_calls
    assert card["id"] == picker["id"]
    assert card["copy_text"].startswith("Booked: Dr Anita Patel (General practice)")
    assert f"at {local:%H:%M} (Europe/London)" in card["copy_text"]
    stored = next(i for i in alice.items(alice_thread) if i["id"] == picker["id"])
    assert stored["copy_text"] == card["copy_text"]
    [booked] = appointments(host, env, "aad:alice")
    assert booked["status"] == "booked" and booked["clinician_id"] == "dr-patel"
    assert datetime.fromisoformat(booked["start"]) == start
    assert slot_lock(host, env, start) == {
        "appointment_id": booked["id"],
        "clinician_id": "dr-patel",
        "start": start.isoformat(),
    }
    assert booked["id"] in card["copy_text"]

    # Bob's picker no longer offers it.
    fake_model.script(
        Reply.call("show_open_slots", clinician="dr-patel", days=3), Reply.say("Here.")
    )
    bob_shown = bob.create_thread("Dr Patel please")
    bob_thread = bob_shown.thread_id
    bob_picker = only_widget(bob_shown)
    bob_starts = {start_of(b) for b in slot_buttons(bob_picker)}
    assert start not in bob_starts
    assert (
        start + timedelta(minutes=30) in bob_starts or start - timedelta(minutes=30) in bob_starts
    )

    # Booking it by typing is a clear refusal, and the turn goes on.
    fake_model.script(
        Reply.call(
            "book_appointment",
            clinician="Dr Patel",
            day=local.date().isoformat(),
            time=f"{local:%H:%M}",
        ),
        Reply.say("Sorry, that time has just gone."),
    )
    typed = bob.add_message(bob_thread, f"Book {local:%H:%M} with Dr Patel on {local:%A}")
    assert not typed.errors and typed.text == "Sorry, that time has just gone."
    tool_result = fake_model.turn_requests[-1].text()
    assert "Not booked:" in tool_result and "is already booked" in tool_result
    # A forged click on his own picker is refused the same way, on the picker itself.
    forged = replaced(click(bob, bob_thread, bob_picker, slot))
    assert "is already booked" in forged["copy_text"]
    assert forged["widget"]["children"][2]["value"].endswith("Please pick another time.")
    assert appointments(host, env, "aad:bob") == []

    # Alice cancels from her confirmation card: the slot is free again.
    cancelled = replaced(click(alice, alice_thread, card, button(card, "Cancel")))
    assert cancelled["copy_text"].startswith("Cancelled: Dr Anita Patel")
    assert "Late cancellation" not in cancelled["copy_text"]
    assert [b["label"] for b in buttons(cancelled)] == ["Book again"]
    [after] = appointments(host, env, "aad:alice")
    assert after["status"] == "cancelled" and after["late_cancellation"] is False
    assert slot_lock(host, env, start) is None

    # ... so Bob can now book it by typing.
    fake_model.script(
        Reply.call(
            "book_appointment",
            clinician="Dr Patel",
            day=local.date().isoformat(),
            time=f"{local:%H:%M}",
        ),
        Reply.say("Booked!"),
    )
    again = bob.add_message(bob_thread, "Try again please")
    assert only_widget(again)["copy_text"].startswith("Booked: Dr Anita Patel")
    [bobs] = appointments(host, env, "aad:bob")
    assert datetime.fromisoformat(bobs["start"]) == start
    assert slot_lock(host, env, start)["appointment_id"] == bobs["id"]


def test_typing_and_clicking_end_in_the_same_booking_and_session_state(platform_host, fake_model):
    # Two patients, one after the other, so that each thread belongs to its own user.
    host, env = platform_host
    alice = host.client("clinic", **{"x-ms-client-principal": principal("alice")})
    bob = host.client("clinic", **{"x-ms-client-principal": principal("bob")})
    said, day = comfortable_10_30()
    start = datetime.fromisoformat(f"{day.isoformat()}T10:30").replace(tzinfo=LONDON)

    # Alice types: "book the 10:30 with Dr Patel tomorrow".
    fake_model.script(
        Reply.call("book_appointment", clinician="Dr Patel", day=said, time="10:30"),
        Reply.say("Done, see the card."),
    )
    typed = alice.create_thread(f"Book the 10:30 with Dr Patel {said}")
    typed_thread = typed.thread_id
    typed_card = only_widget(typed)
    [typed_booking] = appointments(host, env, "aad:alice")
    typed_state = session_state(host, env, "aad:alice", typed_thread)
    assert datetime.fromisoformat(typed_booking["start"]) == start
    assert "A confirmation card is shown" in fake_model.turn_requests[-1].text()

    # She changes her mind (by typing), which frees the slot.
    fake_model.script(
        Reply.call("cancel_appointment", appointment="Dr Patel"), Reply.say("Cancelled.")
    )
    alice.add_message(typed_thread, "Actually, cancel it")
    assert "Cancelled: Dr Anita Patel" in fake_model.turn_requests[-1].text()
    assert slot_lock(host, env, start) is None

    # Bob clicks the 10:30 button of the same day in his picker.
    fake_model.script(
        Reply.call("show_open_slots", clinician="Dr Patel", days=1, from_day=day.isoformat()),
        Reply.say("Pick one."),
    )
    shown = bob.create_thread("Show me Dr Patel's times")
    clicked_thread = shown.thread_id
    picker = only_widget(shown)
    ten_thirty = next(b for b in slot_buttons(picker) if b["label"] == "10:30")
    assert start_of(ten_thirty) == start
    clicked_card = replaced(click(bob, clicked_thread, picker, ten_thirty))
    [clicked_booking] = appointments(host, env, "aad:bob")
    clicked_state = session_state(host, env, "aad:bob", clicked_thread)

    # The same stored booking, the same widget and the same session state, but the ids.
    typed_id, clicked_id = typed_booking["id"], clicked_booking["id"]
    assert typed_id != clicked_id
    volatile = ("id", "booked_at")
    assert {k: v for k, v in typed_booking.items() if k not in volatile} == {
        k: v for k, v in clicked_booking.items() if k not in volatile
    }
    assert without(typed_card["widget"], typed_id) == without(clicked_card["widget"], clicked_id)
    assert without(typed_card["copy_text"], typed_id) == without(
        clicked_card["copy_text"], clicked_id
    )
    assert without(typed_state, typed_id) == without(clicked_state, clicked_id)
    assert clicked_state["clinic"]["last"] == {
        "event": "booked",
        "appointment_id": clicked_id,
        "clinician_id": "dr-patel",
        "start": start.astimezone(UTC).isoformat(),
    }
    assert slot_lock(host, env, start)["appointment_id"] == clicked_id

    # And the next turn sees the click exactly as it would have seen the typed booking.
    fake_model.script(Reply.say("You're all set."))
    bob.add_message(clicked_thread, "Thanks!")
    seen = fake_model.turn_requests[-1].text()
    assert f"Last change in this chat: booked appointment {clicked_id} with Dr Anita Patel" in seen
    assert f"{clicked_id} with Dr Anita Patel, " in seen  # among the upcoming appointments
    assert clicked_card["copy_text"] in seen  # the replaced widget, as text


def test_appointment_list_reschedule_and_cancel_buttons(local_host, fake_model):
    host, env = local_host
    client = host.client("clinic")
    said, day = comfortable_10_30()
    fake_model.script(
        Reply.call("book_appointment", clinician="Dr Patel", day=said, time="10:30"),
        Reply.say("Booked."),
        Reply.call("show_my_appointments"),
        Reply.say("Here they are."),
    )
    thread_id = client.create_thread("Book the 10:30 with Dr Patel").thread_id
    listed = client.add_message(thread_id, "Show my appointments")
    listing = only_widget(listed)
    [booked] = appointments(host, env, "local-user")
    assert listing["copy_text"] == (
        f"Upcoming appointments: Dr Anita Patel (General practice), "
        f"{datetime.fromisoformat(booked['start']).astimezone(LONDON):%A} "
        f"{day.day} {day:%B %Y} at 10:30, reference {booked['id']}."
    )
    model_calls = len(fake_model.requests)

    # Reschedule: the list turns into a picker for new times...
    picker = replaced(click(client, thread_id, listing, button(listing, "Reschedule")))
    assert picker["copy_text"].startswith(f"New times for appointment {booked['id']}")
    old_start = datetime.fromisoformat(booked["start"])
    target = next(b for b in slot_buttons(picker) if start_of(b) > old_start + timedelta(days=1))
    assert target["onClickAction"]["payload"] == {
        "appointment_id": booked["id"],
        "start": target["onClickAction"]["payload"]["start"],
    }
    # ... whose buttons move the appointment.
    moved = replaced(click(client, thread_id, picker, target))
    assert moved["copy_text"].startswith("Rescheduled: Dr Anita Patel")
    [after] = appointments(host, env, "local-user")
    assert after["id"] == booked["id"]
    assert datetime.fromisoformat(after["start"]) == start_of(target)
    assert after["rescheduled_from"] == [booked["start"]]
    assert slot_lock(host, env, old_start) is None
    assert slot_lock(host, env, start_of(target))["appointment_id"] == booked["id"]
    assert session_state(host, env, "local-user", thread_id)["clinic"]["last"]["event"] == (
        "rescheduled"
    )

    # Cancel from the list: the list is redrawn without it.
    fake_model.script(Reply.call("show_my_appointments"), Reply.say("Here."))
    listing = only_widget(client.add_message(thread_id, "And now?"))
    model_calls = len(fake_model.requests)
    emptied = replaced(click(client, thread_id, listing, button(listing, "Cancel")))
    assert len(fake_model.requests) == model_calls
    assert emptied["copy_text"] == "Appointment cancelled. You have no upcoming appointments."
    assert appointments(host, env, "local-user")[0]["status"] == "cancelled"
    assert slot_lock(host, env, start_of(target)) is None


def test_bad_input_gets_clear_answers(local_host, fake_model):
    host, _env = local_host
    client = host.client("clinic")
    fake_model.script(
        Reply.call("book_appointment", clinician="Dr Smith", day="tomorrow", time="10:30"),
        Reply.say("a"),
        Reply.call("book_appointment", clinician="Dr Patel", day="someday", time="10:30"),
        Reply.say("b"),
        Reply.call("book_appointment", clinician="Dr Patel", day="saturday", time="10:30"),
        Reply.say("c"),
        Reply.call("book_appointment", clinician="Dr Patel", day="monday", time="12:45"),
        Reply.say("d"),
        Reply.call("cancel_appointment", appointment="Dr Patel"),
        Reply.say("e"),
    )
    thread_id = client.create_thread("Book with Dr Smith").thread_id
    expected = [
        "No clinician matches 'Dr Smith'",
        "could not read the day 'someday'",
        "does not work on Saturdays",
        "lunch break",
        "Not cancelled: You have no upcoming appointments.",
    ]
    for n, fragment in enumerate(expected):
        if n:
            stream = client.add_message(thread_id, f"attempt {n}")
            assert not stream.errors, stream.errors
        assert fragment in fake_model.turn_requests[-1].text(), fragment

    # A malformed button payload is an error event, and nothing is booked.
    broken = client.stream(
        "threads.custom_action",
        thread_id=thread_id,
        action={"type": "clinic.book", "payload": {"clinician_id": "dr-patel", "start": "soon"}},
    )
    assert broken.errors and broken.errors[0]["allow_retry"] is False
    assert "invalid start time" in broken.errors[0]["message"]


def test_instructions_carry_the_clinic_and_the_patients_appointments(local_host, fake_model):
    host, _env = local_host
    fake_model.script(Reply.say("Hello"))
    host.client("clinic").create_thread("Hi")
    seen = fake_model.turn_requests[-1].text()
    assert "Dr Anita Patel (General practice, Riverside Clinic; id dr-patel)" in seen
    assert "The patient's upcoming appointments: none" in seen
    assert re.search(r"Now: \w+day \d+ \w+ \d{4}, \d\d:\d\d \(clinic time, Europe/London\)", seen)
