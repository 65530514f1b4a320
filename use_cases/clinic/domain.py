"""Scheduling rules: working hours, breaks, notice, one booking per slot and per
clinician, the cancellation policy. Pure Python: no I/O, and "now" is always passed in,
so every rule is tested without a model, a store or a clock.

Times are timezone-aware datetimes; stored times are UTC, shown times are the
clinician's own zone (daylight saving is handled by `zoneinfo`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

# Policy. Changing a number here changes the behaviour of tools and buttons alike.
MIN_NOTICE = timedelta(hours=2)
LATE_CANCELLATION_WINDOW = timedelta(hours=24)
BOOKING_HORIZON = timedelta(days=60)
LATE_CANCELLATION_FEE = "£25"
MAX_DAYS_SHOWN = 7
# A hold whose booking never got written (the process died mid-booking) stops
# blocking the patient after this long.
HOLD_GRACE = timedelta(minutes=1)

SESSION_KEY = "clinic"

Status = Literal["booked", "cancelled"]
ChangeEvent = Literal["booked", "rescheduled", "cancelled"]


class Refused(ValueError):
    """A request the rules turn down; the message is shown to the patient as is."""


# Reference data


@dataclass(frozen=True)
class Break:
    start: time
    end: time
    label: str = "break"


@dataclass(frozen=True)
class Clinician:
    id: str
    name: str
    specialty: str
    clinic: str
    timezone: str
    working_days: frozenset[int]  # 0 = Monday
    day_start: time
    day_end: time
    slot_minutes: int
    breaks: tuple[Break, ...] = ()

    @classmethod
    def from_data(cls, clinician_id: str, data: Mapping[str, Any]) -> Clinician:
        return cls(
            id=clinician_id,
            name=str(data["name"]),
            specialty=str(data["specialty"]),
            clinic=str(data["clinic"]),
            timezone=str(data["timezone"]),
            working_days=frozenset(int(d) for d in data["working_days"]),
            day_start=time.fromisoformat(data["day_start"]),
            day_end=time.fromisoformat(data["day_end"]),
            slot_minutes=int(data["slot_minutes"]),
            breaks=tuple(
                Break(time.fromisoformat(b["start"]), time.fromisoformat(b["end"]), b["label"])
                for b in data.get("breaks", [])
            ),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def describe(self) -> str:
        days = ", ".join(WEEKDAYS[d][:3].title() for d in sorted(self.working_days))
        breaks = "".join(f", {b.label} {b.start:%H:%M}-{b.end:%H:%M}" for b in self.breaks)
        return (
            f"{self.name} ({self.specialty}, {self.clinic}; id {self.id}): {days} "
            f"{self.day_start:%H:%M}-{self.day_end:%H:%M}{breaks}; "
            f"{self.slot_minutes}-minute appointments; times in {self.timezone}"
        )


# Patient data


@dataclass(frozen=True)
class Appointment:
    id: str
    clinician_id: str
    start: datetime  # UTC
    end: datetime  # UTC
    booked_at: datetime
    status: Status = "booked"
    cancelled_at: datetime | None = None
    late_cancellation: bool = False
    rescheduled_from: tuple[datetime, ...] = field(default_factory=tuple)
    late_reschedules: int = 0

    def is_upcoming(self, now: datetime) -> bool:
        return self.status == "booked" and self.start > now

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clinician_id": self.clinician_id,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "booked_at": _iso(self.booked_at),
            "status": self.status,
            "cancelled_at": _iso(self.cancelled_at) if self.cancelled_at else None,
            "late_cancellation": self.late_cancellation,
            "rescheduled_from": [_iso(t) for t in self.rescheduled_from],
            "late_reschedules": self.late_reschedules,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Appointment:
        cancelled = data.get("cancelled_at")
        return cls(
            id=str(data["id"]),
            clinician_id=str(data["clinician_id"]),
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            booked_at=datetime.fromisoformat(data["booked_at"]),
            status="cancelled" if data.get("status") == "cancelled" else "booked",
            cancelled_at=datetime.fromisoformat(cancelled) if cancelled else None,
            late_cancellation=bool(data.get("late_cancellation", False)),
            rescheduled_from=tuple(
                datetime.fromisoformat(t) for t in data.get("rescheduled_from", [])
            ),
            late_reschedules=int(data.get("late_reschedules", 0)),
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def new_appointment(
    appointment_id: str, clinician: Clinician, start: datetime, now: datetime
) -> Appointment:
    start = start.astimezone(UTC)
    return Appointment(
        id=appointment_id,
        clinician_id=clinician.id,
        start=start,
        end=start + clinician.slot_length,
        booked_at=now.astimezone(UTC),
    )


# Slots


def slot_starts(clinician: Clinician, day: date) -> list[datetime]:
    """Every slot start of a day in the clinician's zone (none on days off)."""
    if day.weekday() not in clinician.working_days:
        return []
    starts = []
    cursor = datetime.combine(day, clinician.day_start)
    day_end = datetime.combine(day, clinician.day_end)
    while cursor + clinician.slot_length <= day_end:
        slot_end = cursor + clinician.slot_length
        clash = next((b for b in clinician.breaks if _overlaps(clinician, cursor, b)), None)
        if clash is None:
            starts.append(cursor.replace(tzinfo=clinician.tz))
            cursor = slot_end
        else:
            # Slots resume at the end of the break, not on the original grid.
            cursor = max(slot_end, datetime.combine(day, clash.end))
    return starts


def _overlaps(clinician: Clinician, start: datetime, brk: Break) -> bool:
    """Whether a slot starting at naive local `start` runs into the break."""
    brk_start = datetime.combine(start.date(), brk.start)
    brk_end = datetime.combine(start.date(), brk.end)
    return start < brk_end and start + clinician.slot_length > brk_start


def check_slot(clinician: Clinician, start: datetime) -> None:
    """Refused unless `start` is one of the clinician's slot starts."""
    local = clinician.local(start)
    day = local.date()
    when = f"{local:%H:%M} on {format_day(day)}"
    if day.weekday() not in clinician.working_days:
        raise Refused(f"{clinician.name} does not work on {WEEKDAYS[day.weekday()].title()}s.")
    if local.replace(tzinfo=None) in (s.replace(tzinfo=None) for s in slot_starts(clinician, day)):
        return
    naive = local.replace(tzinfo=None, second=0, microsecond=0)
    for brk in clinician.breaks:
        inside_day = clinician.day_start <= naive.time() < clinician.day_end
        if inside_day and _overlaps(clinician, naive, brk):
            raise Refused(
                f"{when} falls in {clinician.name}'s {brk.label} break "
                f"({brk.start:%H:%M}-{brk.end:%H:%M})."
            )
    opens, closes = (datetime.combine(day, t) for t in (clinician.day_start, clinician.day_end))
    if naive < opens or naive + clinician.slot_length > closes:
        raise Refused(
            f"{when} is outside {clinician.name}'s working hours "
            f"({clinician.day_start:%H:%M}-{clinician.day_end:%H:%M})."
        )
    nearby = ", ".join(f"{s:%H:%M}" for s in _nearest(slot_starts(clinician, day), local))
    raise Refused(
        f"{when} is not a slot start; {clinician.name}'s appointments are "
        f"{clinician.slot_minutes} minutes long. Nearest slots: {nearby}."
    )


def _nearest(starts: list[datetime], target: datetime, count: int = 2) -> list[datetime]:
    return sorted(sorted(starts, key=lambda s: abs(s - target))[:count])


@dataclass(frozen=True)
class DaySlots:
    day: date
    open: tuple[datetime, ...]  # bookable starts, clinician's zone
    scheduled: int  # all slot starts of the day, bookable or not


def shown_days(requested: int) -> int:
    return max(1, min(requested, MAX_DAYS_SHOWN))


def candidate_days(
    clinician: Clinician, now: datetime, days: int, from_day: date | None = None
) -> list[date]:
    """The working days `open_slots` may show (one extra in case today is over)."""
    days = shown_days(days)
    first = max(from_day or date.min, clinician.today(now))
    last = clinician.today(now + BOOKING_HORIZON)
    found: list[date] = []
    day = first
    while day <= last and len(found) < days + 1:
        if day.weekday() in clinician.working_days:
            found.append(day)
        day += timedelta(days=1)
    return found


def open_slots(
    clinician: Clinician,
    now: datetime,
    days: int,
    taken: Iterable[datetime],
    from_day: date | None = None,
) -> list[DaySlots]:
    """The next `days` working days from `from_day` (default today) with their open slots.

    Today is skipped once no slot on it can be booked any more; a fully booked day is
    still shown (with no open slots) so the patient sees why.
    """
    days = shown_days(days)
    busy = {t.astimezone(UTC) for t in taken}
    result: list[DaySlots] = []
    for day in candidate_days(clinician, now, days, from_day):
        starts = slot_starts(clinician, day)
        timely = [s for s in starts if _timely(s, now)]
        if day == clinician.today(now) and not timely:
            continue
        bookable = tuple(s for s in timely if s.astimezone(UTC) not in busy)
        result.append(DaySlots(day=day, open=bookable, scheduled=len(starts)))
        if len(result) == days:
            break
    return result


def _timely(start: datetime, now: datetime) -> bool:
    return start - now >= MIN_NOTICE and start - now <= BOOKING_HORIZON


# Booking, rescheduling, cancelling


def check_booking(
    clinician: Clinician,
    start: datetime,
    now: datetime,
    *,
    patient_appointments: Iterable[Appointment],
    slot_taken: bool,
    moving: str | None = None,
) -> None:
    """Refused with the patient-facing reason, or None if `start` can be booked.

    `moving` names the patient's appointment being rescheduled, which does not count
    against the one-upcoming-appointment-per-clinician rule.
    """
    check_slot(clinician, start)
    when = format_when(clinician, start)
    if start <= now:
        raise Refused(f"{when} is in the past.")
    if start - now < MIN_NOTICE:
        hours = int(MIN_NOTICE.total_seconds() // 3600)
        raise Refused(f"{when} is too soon: appointments need at least {hours} hours' notice.")
    if start - now > BOOKING_HORIZON:
        raise Refused(
            f"{when} is too far ahead: bookings open {BOOKING_HORIZON.days} days in advance."
        )
    if slot_taken:
        raise slot_taken_refusal(clinician, start)
    for existing in patient_appointments:
        if (
            existing.id != moving
            and existing.clinician_id == clinician.id
            and existing.is_upcoming(now)
        ):
            raise already_booked_with(clinician, existing)


def slot_taken_refusal(clinician: Clinician, start: datetime) -> Refused:
    """The no-double-booking rule's refusal."""
    return Refused(
        f"{format_when(clinician, start)} with {clinician.name} is already booked. "
        "Please pick another time."
    )


def already_booked_with(clinician: Clinician, existing: Appointment) -> Refused:
    """The one-upcoming-appointment-per-clinician rule's refusal."""
    return Refused(
        f"You already have an appointment with {clinician.name} "
        f"({format_when(clinician, existing.start)}). Reschedule or cancel it instead."
    )


@dataclass(frozen=True)
class Change:
    """What a cancellation or reschedule did, and what the patient must be told."""

    appointment: Appointment
    late: bool
    notice: str


def _late_notice(what: str) -> str:
    hours = int(LATE_CANCELLATION_WINDOW.total_seconds() // 3600)
    return (
        f"Late {what}: less than {hours} hours before the appointment, so a "
        f"{LATE_CANCELLATION_FEE} late-{what} fee may apply."
    )


def _check_changeable(appointment: Appointment, now: datetime) -> None:
    if appointment.status == "cancelled":
        raise Refused("That appointment is already cancelled.")
    if appointment.start <= now:
        raise Refused("That appointment has already started or is over; it can no longer change.")


def cancel(appointment: Appointment, now: datetime) -> Change:
    """Cancelling is always allowed before the start; inside the window it is flagged."""
    _check_changeable(appointment, now)
    late = appointment.start - now < LATE_CANCELLATION_WINDOW
    cancelled = replace(
        appointment, status="cancelled", cancelled_at=now.astimezone(UTC), late_cancellation=late
    )
    return Change(cancelled, late, _late_notice("cancellation") if late else "")


def reschedule(
    clinician: Clinician,
    appointment: Appointment,
    new_start: datetime,
    now: datetime,
    *,
    patient_appointments: Iterable[Appointment],
    slot_taken: bool,
) -> Change:
    """Moving keeps every booking rule; moving late is allowed but flagged like a
    late cancellation (the original slot is freed at short notice)."""
    _check_changeable(appointment, now)
    if clinician.id != appointment.clinician_id:
        raise Refused("An appointment can only move to another time with the same clinician.")
    new_start = new_start.astimezone(UTC)
    if new_start == appointment.start:
        raise Refused(f"Your appointment is already at {format_when(clinician, new_start)}.")
    check_booking(
        clinician,
        new_start,
        now,
        patient_appointments=patient_appointments,
        slot_taken=slot_taken,
        moving=appointment.id,
    )
    late = appointment.start - now < LATE_CANCELLATION_WINDOW
    moved = replace(
        appointment,
        start=new_start,
        end=new_start + clinician.slot_length,
        rescheduled_from=(*appointment.rescheduled_from, appointment.start),
        late_reschedules=appointment.late_reschedules + int(late),
    )
    return Change(moved, late, _late_notice("change") if late else "")


def hold_is_active(
    appointment: Appointment | None, claimed_at: datetime | None, now: datetime
) -> bool:
    """Whether a patient's per-clinician hold still blocks a new booking.

    The hold names the appointment it was claimed for. It blocks while that appointment
    is upcoming, or, if the appointment is not written yet, while its booking may still
    be in progress.
    """
    if appointment is not None:
        return appointment.is_upcoming(now)
    return claimed_at is not None and now - claimed_at < HOLD_GRACE


# Session state shared by tools and buttons


def note_clinician(state: dict[str, Any], clinician_id: str) -> None:
    state.setdefault(SESSION_KEY, {})["clinician_id"] = clinician_id


def note_event(state: dict[str, Any], event: ChangeEvent, a: Appointment) -> None:
    clinic = state.setdefault(SESSION_KEY, {})
    clinic["clinician_id"] = a.clinician_id
    clinic["last"] = {
        "event": event,
        "appointment_id": a.id,
        "clinician_id": a.clinician_id,
        "start": _iso(a.start),
    }


# Wording

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def format_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def format_when(clinician: Clinician, start: datetime) -> str:
    local = clinician.local(start)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"
