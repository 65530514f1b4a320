"""Reading what a patient (or the model on their behalf) typed: days, times, clinicians.

Pure functions; `today` is passed in. Every failure is a `Refused` whose message says
what would have worked, so a tool can hand it straight back to the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from use_cases.clinic.domain import (
    BOOKING_HORIZON,
    WEEKDAYS,
    Appointment,
    Clinician,
    Refused,
    format_when,
)

_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_DAY_FORMATS = ("%d %b", "%d %B", "%a %d %b", "%A %d %B", "%d %b %Y", "%d %B %Y")
_FILLER = {"dr", "doctor", "the", "with", "see", "a", "an", "appointment", "my"}


# Days and times further than this from now are refused before any date arithmetic: near
# year 1 or 9999 it overflows, and no real booking or search is that far away.
REACH = timedelta(days=400)


def reachable(moment: datetime, now: datetime) -> bool:
    """Whether an aware moment is within REACH of now (subtraction cannot overflow)."""
    return moment.tzinfo is not None and abs(moment - now) <= REACH


def reachable_day(day: date, today: date) -> bool:
    return abs(day - today) <= REACH


def parse_day(text: str, today: date) -> date:
    """A date from "2025-01-07", "today", "tomorrow", "friday", "next monday" or "7 Jan"."""
    day = _read_day(text, today)
    if not reachable_day(day, today):
        raise Refused(
            f"{day.isoformat()} is too far from today; appointments can be booked up to "
            f"{BOOKING_HORIZON.days} days ahead."
        )
    return day


def _read_day(text: str, today: date) -> date:
    cleaned = " ".join(text.lower().replace(",", " ").split())
    if cleaned in {"today", "now"}:
        return today
    if cleaned == "tomorrow":
        return today + timedelta(days=1)
    if cleaned == "day after tomorrow":
        return today + timedelta(days=2)
    strictly_next = cleaned.startswith("next ")
    name = cleaned.removeprefix("next ").removeprefix("this ")
    for index, weekday in enumerate(WEEKDAYS):
        if name in {weekday, weekday[:3]}:
            ahead = (index - today.weekday()) % 7
            return today + timedelta(days=ahead or (7 if strictly_next else 0))
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    for fmt in _DAY_FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        if "%Y" in fmt:
            return parsed
        # Without a year, the next such day from today.
        candidate = parsed.replace(year=today.year)
        return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    raise Refused(
        f"I could not read the day '{text[:40]}'; use a date like "
        f"{today + timedelta(days=1):%Y-%m-%d}, 'tomorrow' or a weekday."
    )


def parse_clock(text: str) -> time:
    """A time of day from "10:30", "10.30", "9", "2pm", "2:30 pm" or "noon"."""
    cleaned = text.strip().lower()
    if cleaned in {"noon", "midday"}:
        return time(12, 0)
    match = _CLOCK.match(cleaned)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        suffix = (match.group(3) or "").replace(".", "")
        if suffix and 1 <= hour <= 12:
            hour = hour % 12 + (12 if suffix == "pm" else 0)
        elif suffix:
            hour = 99
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise Refused(f"I could not read the time '{text[:20]}'; use 24-hour time like 10:30.")


def slot_at(clinician: Clinician, day: date, at: time) -> datetime:
    """The moment a local day and time mean in the clinician's zone."""
    return datetime.combine(day, at, tzinfo=clinician.tz)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w and w not in _FILLER]


def find_clinician(query: str, clinicians: Sequence[Clinician]) -> Clinician:
    """The one clinician an id, a name ("Dr Patel", "anita") or a specialty points to."""
    words = _words(query)
    cleaned = query.strip().lower()
    exact = [c for c in clinicians if c.id == cleaned]
    if exact:
        return exact[0]
    matches = [
        c
        for c in clinicians
        if words
        and (
            set(words) <= set(_words(c.name)) | set(_words(c.id))
            or " ".join(words) in c.specialty.lower()
        )
    ]
    if len(matches) == 1:
        return matches[0]
    known = "; ".join(f"{c.name} ({c.specialty}, id {c.id})" for c in clinicians)
    if matches:
        names = ", ".join(c.name for c in matches)
        raise Refused(f"'{query[:40]}' matches several clinicians ({names}); say which one.")
    raise Refused(f"No clinician matches '{query[:40]}'. Clinicians: {known}.")


def find_appointment(
    query: str,
    upcoming: Sequence[Appointment],
    clinicians: Sequence[Clinician],
) -> Appointment:
    """One of the patient's upcoming appointments, by id or by clinician.

    A clinician is enough because a patient has at most one upcoming appointment with
    each; with a single upcoming appointment an empty query means that one.
    """
    if not upcoming:
        raise Refused("You have no upcoming appointments.")
    cleaned = query.strip()
    for appointment in upcoming:
        if appointment.id == cleaned:
            return appointment
    if not cleaned and len(upcoming) == 1:
        return upcoming[0]
    by_id = {c.id: c for c in clinicians}
    try:
        clinician = find_clinician(cleaned, clinicians)
    except Refused:
        clinician = None
    chosen = [a for a in upcoming if clinician is not None and a.clinician_id == clinician.id]
    if chosen:
        return chosen[0]
    listed = "; ".join(
        f"{a.id}: {by_id[a.clinician_id].name}, {format_when(by_id[a.clinician_id], a.start)}"
        for a in upcoming
        if a.clinician_id in by_id
    )
    raise Refused(f"No upcoming appointment matches '{cleaned[:40]}'. Your appointments: {listed}.")
