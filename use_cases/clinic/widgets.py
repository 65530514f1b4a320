"""The clinic's widgets, rendered from `.widget` templates (ChatKit's template format):
the slot picker, one appointment's card, and the patient's appointment list.

Every widget comes with its `copy_text`, which is also what the model reads of it in
later turns, so the text says everything the buttons know (ids included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from use_cases.clinic.domain import (
    Appointment,
    ChangeEvent,
    Clinician,
    DaySlots,
    format_day,
    format_when,
)

BOOK_ACTION = "clinic.book"
SHOW_SLOTS_ACTION = "clinic.show_slots"
RESCHEDULE_ACTION = "clinic.reschedule"
CANCEL_ACTION = "clinic.cancel"

_HERE = Path(__file__).parent
_PICKER = WidgetTemplate.from_file(str(_HERE / "slot_picker.widget"))
_CARD = WidgetTemplate.from_file(str(_HERE / "appointment.widget"))
_LIST = WidgetTemplate.from_file(str(_HERE / "appointments.widget"))

_STATUS: dict[ChangeEvent, tuple[str, str]] = {
    "booked": ("Booked", "success"),
    "rescheduled": ("Rescheduled", "info"),
    "cancelled": ("Cancelled", "danger"),
}


@dataclass(frozen=True)
class Rendered:
    widget: DynamicWidgetRoot
    copy_text: str


def _action(kind: str, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "payload": {k: v for k, v in payload.items() if v is not None}}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _details(clinician: Clinician) -> str:
    return f"{clinician.specialty} · {clinician.clinic} · times in {clinician.timezone}"


def slot_picker(
    clinician: Clinician,
    days: list[DaySlots],
    *,
    rescheduling: Appointment | None = None,
    notice: str = "",
) -> Rendered:
    """Slot buttons book directly (or move `rescheduling` there) without a model call."""
    moving = rescheduling.id if rescheduling else None

    def slot_action(start: datetime) -> dict[str, Any]:
        if moving:
            return _action(RESCHEDULE_ACTION, appointment_id=moving, start=_iso(start))
        return _action(BOOK_ACTION, clinician_id=clinician.id, start=_iso(start))

    shown = [
        {
            "date": d.day.isoformat(),
            "label": format_day(d.day),
            "empty": "Fully booked" if d.scheduled else "Closed",
            "slots": [
                {"key": _iso(s), "label": f"{s:%H:%M}", "action": slot_action(s)} for s in d.open
            ],
        }
        for d in days
    ]
    later = (
        _action(
            SHOW_SLOTS_ACTION,
            clinician_id=clinician.id,
            from_day=(days[-1].day + timedelta(days=1)).isoformat(),
            appointment_id=moving,
        )
        if days
        else None
    )
    if rescheduling:
        subtitle = (
            f"Choose a new time for your appointment on "
            f"{format_when(clinician, rescheduling.start)}."
        )
    else:
        subtitle = (
            f"{clinician.specialty} · {clinician.clinic} · "
            f"{clinician.slot_minutes}-minute appointments."
        )
    widget = _PICKER.build(
        {
            "title": clinician.name,
            "subtitle": f"{subtitle} Times in {clinician.timezone}.",
            "notice": notice,
            "notice_color": "danger",
            "days": shown,
            "later": later,
        }
    )
    listing = "; ".join(
        f"{format_day(d.day)}: "
        + (", ".join(f"{s:%H:%M}" for s in d.open) or ("fully booked" if d.scheduled else "closed"))
        for d in days
    )
    head = (
        f"New times for appointment {moving} with {clinician.name}"
        if moving
        else f"Open slots with {clinician.name} ({clinician.specialty}, {clinician.clinic})"
    )
    copy = f"{head}, times in {clinician.timezone}: {listing or 'none in the booking window'}."
    if notice:
        copy = f"{notice} {copy}"
    return Rendered(widget, copy)


def _buttons(
    clinician: Clinician, appointment: Appointment, now: datetime, view: str
) -> list[dict[str, Any]]:
    if not appointment.is_upcoming(now):
        if appointment.status == "cancelled":
            again = _action(SHOW_SLOTS_ACTION, clinician_id=clinician.id)
            return [{"label": "Book again", "style": "primary", "action": again}]
        return []
    return [
        {
            "label": "Reschedule",
            "style": "secondary",
            "action": _action(
                SHOW_SLOTS_ACTION, clinician_id=clinician.id, appointment_id=appointment.id
            ),
        },
        {
            "label": "Cancel",
            "style": "secondary",
            "action": _action(CANCEL_ACTION, appointment_id=appointment.id, view=view),
        },
    ]


def appointment_card(
    clinician: Clinician,
    appointment: Appointment,
    now: datetime,
    *,
    event: ChangeEvent,
    notice: str = "",
) -> Rendered:
    status, color = _STATUS[event]
    when = format_when(clinician, appointment.start)
    widget = _CARD.build(
        {
            "status": status,
            "status_color": color,
            "title": clinician.name,
            "when": when,
            "details": _details(clinician),
            "notice": notice,
            "notice_color": "warning",
            "buttons": _buttons(clinician, appointment, now, "card"),
            "appointment_id": appointment.id,
        }
    )
    copy = (
        f"{status}: {clinician.name} ({clinician.specialty}), {when} ({clinician.timezone}), "
        f"{clinician.clinic}. Reference {appointment.id}."
    )
    if notice:
        copy = f"{copy} {notice}"
    return Rendered(widget, copy)


def appointment_list(
    entries: list[tuple[Clinician, Appointment]], now: datetime, *, notice: str = ""
) -> Rendered:
    items = [
        {
            "key": a.id,
            "when": f"{format_when(c, a.start)} · {c.name}",
            "details": f"{_details(c)} · Reference {a.id}",
            "buttons": _buttons(c, a, now, "list"),
        }
        for c, a in entries
    ]
    count = len(entries)
    summary = (
        f"{count} upcoming appointment{'s' if count != 1 else ''}."
        if count
        else "You have no upcoming appointments."
    )
    widget = _LIST.build(
        {"notice": notice, "notice_color": "warning", "items": items, "summary": summary}
    )
    lines = "; ".join(
        f"{c.name} ({c.specialty}), {format_when(c, a.start)}, reference {a.id}" for c, a in entries
    )
    copy = f"Upcoming appointments: {lines}." if entries else summary
    if notice:
        copy = f"{notice} {copy}"
    return Rendered(widget, copy)
