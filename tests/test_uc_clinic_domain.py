"""The clinic's rules and parsing, without a model, a store or a clock: "now" is fixed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from use_cases.clinic import domain, parsing, widgets
from use_cases.clinic.data import CLINICIANS
from use_cases.clinic.domain import Clinician, Refused

LONDON = ZoneInfo("Europe/London")
PATEL = Clinician.from_data("dr-patel", CLINICIANS["dr-patel"])
OKAFOR = Clinician.from_data("dr-okafor", CLINICIANS["dr-okafor"])
NOWAK = Clinician.from_data("dr-nowak", CLINICIANS["dr-nowak"])
ALL = [PATEL, OKAFOR, NOWAK]

# Monday 13 January 2025, 08:00 in London (GMT, so also 08:00 UTC).
NOW = datetime(2025, 1, 13, 8, 0, tzinfo=UTC)
MONDAY = date(2025, 1, 13)


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=LONDON)


def book_check(start: datetime, now: datetime = NOW, mine=(), taken=False, who=PATEL) -> None:
    domain.check_booking(who, start, now, patient_appointments=list(mine), slot_taken=taken)


def appointment(start: datetime, who: Clinician = PATEL, ident: str = "apt_1"):
    return domain.new_appointment(ident, who, start, NOW)


# Working hours and breaks


def test_slots_follow_working_hours_breaks_and_slot_length():
    starts = [f"{s:%H:%M}" for s in domain.slot_starts(PATEL, MONDAY)]
    assert starts[0] == "09:00" and starts[-1] == "16:30"  # the last one ends at 17:00
    assert "12:00" in starts and "12:30" not in starts and "13:00" not in starts
    assert "13:30" in starts
    assert len(starts) == 14
    # 20-minute slots resume at the end of lunch, 45-minute ones fill the day exactly.
    okafor = [f"{s:%H:%M}" for s in domain.slot_starts(OKAFOR, MONDAY)]
    assert okafor[:3] == ["10:00", "10:20", "10:40"] and "12:40" in okafor and "14:00" in okafor
    assert "13:00" not in okafor and okafor[-1] == "15:40"
    tuesday = MONDAY + timedelta(days=1)
    assert [f"{s:%H:%M}" for s in domain.slot_starts(NOWAK, tuesday)][-1] == "13:15"


def test_days_off_have_no_slots():
    assert domain.slot_starts(PATEL, date(2025, 1, 18)) == []  # Saturday
    assert domain.slot_starts(NOWAK, MONDAY) == []
    assert domain.slot_starts(NOWAK, date(2025, 1, 18)) != []  # she works Saturdays
    with pytest.raises(Refused, match="does not work on Saturdays"):
        book_check(at(date(2025, 1, 18), "10:00"))


@pytest.mark.parametrize(
    ("hhmm", "reason"),
    [
        ("08:30", "outside Dr Anita Patel's working hours"),
        ("17:00", "outside"),
        ("16:45", "outside"),  # would end after 17:00
        ("12:30", "lunch break"),
        ("13:00", "lunch break"),
        ("10:15", "not a slot start"),
    ],
)
def test_times_outside_the_grid_are_refused(hhmm, reason):
    with pytest.raises(Refused, match=reason):
        book_check(at(MONDAY + timedelta(days=1), hhmm))


def test_misaligned_time_names_the_nearest_slots():
    with pytest.raises(Refused) as refused:
        book_check(at(MONDAY, "10:30"), who=OKAFOR)
    assert "20 minutes long" in str(refused.value) and "10:20, 10:40" in str(refused.value)


def test_slots_are_local_time_across_daylight_saving():
    summer = date(2025, 7, 8)
    start = domain.slot_starts(PATEL, summer)[0]
    assert start.astimezone(UTC).hour == 8  # 09:00 BST
    domain.check_slot(PATEL, datetime(2025, 7, 8, 8, 0, tzinfo=UTC))


# Notice and horizon


def test_minimum_notice():
    book_check(at(MONDAY, "10:00"))  # exactly two hours ahead
    with pytest.raises(Refused, match="at least 2 hours' notice"):
        book_check(at(MONDAY, "09:30"))
    with pytest.raises(Refused, match="in the past"):
        book_check(at(MONDAY, "09:00"), now=at(MONDAY, "11:00"))


def test_booking_horizon():
    with pytest.raises(Refused, match="60 days in advance"):
        book_check(at(MONDAY + timedelta(days=63), "10:00"))


# No double booking, one upcoming appointment per clinician


def test_a_taken_slot_is_refused():
    with pytest.raises(Refused, match="already booked"):
        book_check(at(MONDAY, "14:00"), taken=True)


def test_one_upcoming_appointment_per_clinician():
    existing = appointment(at(MONDAY, "14:00"))
    with pytest.raises(Refused, match="already have an appointment with Dr Anita Patel"):
        book_check(at(MONDAY + timedelta(days=1), "10:00"), mine=[existing])
    # Another clinician is fine; so is the same one once the old appointment is over
    # or cancelled.
    book_check(at(MONDAY, "14:00"), mine=[existing], who=OKAFOR)
    later = at(MONDAY, "16:00")
    book_check(at(MONDAY + timedelta(days=1), "10:00"), now=later, mine=[existing])
    cancelled = domain.cancel(existing, NOW).appointment
    book_check(at(MONDAY + timedelta(days=1), "10:00"), mine=[cancelled])


# Open slots


def test_open_slots_skip_taken_and_too_soon_and_days_off():
    friday_noon = datetime(2025, 1, 17, 11, 0, tzinfo=UTC)
    taken = [at(date(2025, 1, 20), "09:00")]
    days = domain.open_slots(PATEL, friday_noon, 2, taken)
    assert [d.day for d in days] == [date(2025, 1, 17), date(2025, 1, 20)]
    friday, monday = days
    assert f"{friday.open[0]:%H:%M}" == "13:30"  # 12:00 is within two hours
    assert f"{monday.open[0]:%H:%M}" == "09:30"  # 09:00 is taken
    assert monday.scheduled == 14


def test_open_slots_drop_today_once_it_is_over_but_show_full_days():
    evening = datetime(2025, 1, 13, 16, 0, tzinfo=UTC)
    tuesday = date(2025, 1, 14)
    full = domain.slot_starts(PATEL, tuesday)
    days = domain.open_slots(PATEL, evening, 2, full)
    assert [d.day for d in days] == [tuesday, date(2025, 1, 15)]
    assert days[0].open == () and days[0].scheduled == 14
    picker = widgets.slot_picker(PATEL, days)
    assert "Tue 14 Jan: fully booked" in picker.copy_text


def test_open_slots_page_from_a_day_and_stop_at_the_horizon():
    days = domain.open_slots(PATEL, NOW, 3, [], from_day=date(2025, 1, 17))
    assert [d.day for d in days] == [date(2025, 1, 17), date(2025, 1, 20), date(2025, 1, 21)]
    near_end = domain.open_slots(PATEL, NOW, 5, [], from_day=NOW.date() + timedelta(days=59))
    assert all(d.day <= (NOW + domain.BOOKING_HORIZON).date() for d in near_end)
    assert len(domain.open_slots(PATEL, NOW, 50, [])) == domain.MAX_DAYS_SHOWN


# Cancelling


def test_early_cancellation_is_not_flagged():
    change = domain.cancel(appointment(at(MONDAY + timedelta(days=2), "10:00")), NOW)
    assert change.appointment.status == "cancelled" and not change.late
    assert change.notice == "" and change.appointment.cancelled_at == NOW


def test_late_cancellation_is_allowed_but_flagged_with_the_fee():
    change = domain.cancel(appointment(at(MONDAY + timedelta(days=1), "07:59")), NOW)
    assert change.late and change.appointment.late_cancellation
    assert "Late cancellation" in change.notice and "£25" in change.notice
    assert not domain.cancel(appointment(at(MONDAY + timedelta(days=1), "08:00")), NOW).late


def test_past_or_cancelled_appointments_cannot_be_cancelled():
    past = appointment(at(MONDAY, "10:00"))
    with pytest.raises(Refused, match="already started"):
        domain.cancel(past, at(MONDAY, "10:00"))
    cancelled = domain.cancel(past, NOW).appointment
    with pytest.raises(Refused, match="already cancelled"):
        domain.cancel(cancelled, NOW)


# Rescheduling keeps the rules


def reschedule(current, new_start, now=NOW, mine=None, taken=False, who=PATEL):
    return domain.reschedule(
        who,
        current,
        new_start,
        now,
        patient_appointments=[current] if mine is None else mine,
        slot_taken=taken,
    )


def test_reschedule_moves_and_remembers_the_old_time():
    current = appointment(at(MONDAY + timedelta(days=2), "10:00"))
    change = reschedule(current, at(MONDAY + timedelta(days=3), "14:00"))
    moved = change.appointment
    assert moved.id == current.id and moved.start == at(date(2025, 1, 16), "14:00")
    assert moved.end - moved.start == timedelta(minutes=30)
    assert moved.rescheduled_from == (current.start,) and not change.late
    # The patient's own appointment does not count against the one-per-clinician rule.


@pytest.mark.parametrize(
    ("new_start", "taken", "reason"),
    [
        (at(MONDAY + timedelta(days=3), "12:30"), False, "lunch break"),
        (at(MONDAY + timedelta(days=3), "18:00"), False, "outside"),
        (at(MONDAY, "09:00"), False, "notice"),
        (at(MONDAY + timedelta(days=3), "11:00"), True, "already booked"),
        (at(MONDAY + timedelta(days=2), "10:00"), False, "already at"),
    ],
)
def test_reschedule_keeps_every_booking_rule(new_start, taken, reason):
    current = appointment(at(MONDAY + timedelta(days=2), "10:00"))
    with pytest.raises(Refused, match=reason):
        reschedule(current, new_start, taken=taken)


def test_reschedule_only_with_the_same_clinician_and_before_the_start():
    current = appointment(at(MONDAY + timedelta(days=2), "10:00"))
    with pytest.raises(Refused, match="same clinician"):
        reschedule(current, at(MONDAY + timedelta(days=2), "10:00"), who=OKAFOR)
    with pytest.raises(Refused, match="already started"):
        reschedule(current, at(MONDAY + timedelta(days=7), "10:00"), now=current.start)


def test_late_reschedule_is_flagged():
    current = appointment(at(MONDAY, "15:00"))
    change = reschedule(current, at(MONDAY + timedelta(days=3), "10:00"))
    assert change.late and "Late change" in change.notice
    assert change.appointment.late_reschedules == 1


def test_appointment_round_trips_through_stored_data():
    current = appointment(at(MONDAY, "15:00"))
    moved = reschedule(current, at(MONDAY + timedelta(days=3), "10:00")).appointment
    for value in (current, moved, domain.cancel(moved, NOW).appointment):
        assert domain.Appointment.from_data(value.to_data()) == value


# Holds (concurrent bookings by one patient)


def test_hold_blocks_while_the_appointment_is_upcoming_or_being_written():
    upcoming = appointment(at(MONDAY, "15:00"))
    assert domain.hold_is_active(upcoming, None, NOW)
    assert not domain.hold_is_active(domain.cancel(upcoming, NOW).appointment, None, NOW)
    assert not domain.hold_is_active(upcoming, None, at(MONDAY, "16:00"))
    assert domain.hold_is_active(None, NOW - timedelta(seconds=5), NOW)
    assert not domain.hold_is_active(None, NOW - timedelta(minutes=5), NOW)
    assert not domain.hold_is_active(None, None, NOW)


# Session state written by tools and buttons alike


def test_session_notes():
    state: dict = {"other": 1}
    domain.note_clinician(state, "dr-okafor")
    booked = appointment(at(MONDAY, "15:00"))
    domain.note_event(state, "booked", booked)
    assert state == {
        "other": 1,
        "clinic": {
            "clinician_id": "dr-patel",
            "last": {
                "event": "booked",
                "appointment_id": "apt_1",
                "clinician_id": "dr-patel",
                "start": "2025-01-13T15:00:00+00:00",
            },
        },
    }


# Parsing what people type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2025, 1, 13)),
        ("Tomorrow", date(2025, 1, 14)),
        ("friday", date(2025, 1, 17)),
        ("Mon", date(2025, 1, 13)),
        ("next monday", date(2025, 1, 20)),
        ("2025-02-03", date(2025, 2, 3)),
        ("7 Feb", date(2025, 2, 7)),
        ("Tue 14 Jan", date(2025, 1, 14)),
        ("10 January", date(2026, 1, 10)),  # already past this year
    ],
)
def test_parse_day(text, expected):
    assert parsing.parse_day(text, MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:30", time(10, 30)),
        ("10.30", time(10, 30)),
        ("9", time(9, 0)),
        ("2pm", time(14, 0)),
        ("2:30 p.m.", time(14, 30)),
        ("12am", time(0, 0)),
        ("noon", time(12, 0)),
    ],
)
def test_parse_clock(text, expected):
    assert parsing.parse_clock(text) == expected


@pytest.mark.parametrize("text", ["half ten", "25:00", "13pm", "10:75", ""])
def test_unreadable_times_and_days_are_clear_refusals(text):
    with pytest.raises(Refused, match="could not read the time"):
        parsing.parse_clock(text)
    with pytest.raises(Refused, match="could not read the day"):
        parsing.parse_day(text or "someday", MONDAY)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Dr Patel", "dr-patel"),
        ("dr-okafor", "dr-okafor"),
        ("Ewa Nowak", "dr-nowak"),
        ("dermatology", "dr-okafor"),
        ("the physio", "dr-nowak"),
        ("Dr Smith", None),
    ],
)
def test_find_clinician(query, expected):
    if expected is None:
        with pytest.raises(Refused, match="No clinician matches") as refused:
            parsing.find_clinician(query, ALL)
        assert "Dr Anita Patel (General practice, id dr-patel)" in str(refused.value)
    else:
        assert parsing.find_clinician(query, ALL).id == expected


def test_find_clinician_ambiguous():
    twin = replace(PATEL, id="dr-patel-2", name="Dr Raj Patel")
    with pytest.raises(Refused, match="matches several"):
        parsing.find_clinician("Dr Patel", [PATEL, twin])


def test_find_appointment_by_reference_clinician_or_only_one():
    first = appointment(at(MONDAY, "15:00"), ident="apt_a")
    second = appointment(at(MONDAY, "15:00"), who=OKAFOR, ident="apt_b")
    assert parsing.find_appointment("apt_b", [first, second], ALL) is second
    assert parsing.find_appointment("Dr Patel", [first, second], ALL) is first
    assert parsing.find_appointment("", [first], ALL) is first
    with pytest.raises(Refused, match="Your appointments: apt_a: Dr Anita Patel"):
        parsing.find_appointment("Dr Nowak", [first, second], ALL)
    with pytest.raises(Refused, match="no upcoming appointments"):
        parsing.find_appointment("apt_a", [], ALL)


def test_widgets_render_with_copy_text():
    days = domain.open_slots(PATEL, NOW, 2, [])
    picker = widgets.slot_picker(PATEL, days)
    first = days[0].open[0]
    button = picker.widget.model_dump()["children"][3]["children"][0]
    assert button["label"] == "10:00"
    assert button["onClickAction"]["payload"] == {
        "clinician_id": "dr-patel",
        "start": first.astimezone(UTC).isoformat(),
    }
    assert picker.copy_text.startswith("Open slots with Dr Anita Patel")
    booked = appointment(first)
    card = widgets.appointment_card(PATEL, booked, NOW, event="booked")
    assert card.copy_text == (
        "Booked: Dr Anita Patel (General practice), Monday 13 January 2025 at 10:00 "
        "(Europe/London), Riverside Clinic. Reference apt_1."
    )
    listing = widgets.appointment_list([(PATEL, booked)], NOW)
    assert "reference apt_1" in listing.copy_text
    empty = widgets.appointment_list([], NOW)
    assert empty.copy_text == "You have no upcoming appointments."
    moving = widgets.slot_picker(PATEL, days, rescheduling=booked, notice="Taken.")
    dumped = moving.widget.model_dump()
    assert dumped["children"][2]["value"] == "Taken."
    assert moving.copy_text.startswith("Taken. New times for appointment apt_1")


def test_every_button_has_a_handler_and_the_use_case_is_registered():
    from use_cases import registry
    from use_cases.clinic.actions import ACTIONS

    booked = appointment(at(MONDAY, "15:00"))
    rendered = [
        widgets.slot_picker(PATEL, domain.open_slots(PATEL, NOW, 2, [])),
        widgets.slot_picker(PATEL, domain.open_slots(PATEL, NOW, 2, []), rescheduling=booked),
        widgets.appointment_card(PATEL, booked, NOW, event="booked"),
        widgets.appointment_card(
            PATEL, domain.cancel(booked, NOW).appointment, NOW, event="cancelled"
        ),
        widgets.appointment_list([(PATEL, booked)], NOW),
    ]
    kinds: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("onClickAction"), dict):
                kinds.add(node["onClickAction"]["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for r in rendered:
        assert r.copy_text
        walk(r.widget.model_dump())
    assert kinds == set(ACTIONS)

    clinic = registry()["clinic"].public()
    assert clinic["title"] == "Clinic appointments" and len(clinic["starter_prompts"]) == 4
    assert registry()["clinic"].build_agent().tools
