"""What the patient can do, once, for both ways of asking: tools (typed requests) and
widget buttons call the same `Desk` methods, so a click and a sentence end in the same
stored booking, the same widget and the same session state.

A `Desk` lives for one request. "Now" is read once by the caller and passed in.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.documents import Documents
from shared.session_state import SessionStateHandle
from use_cases.clinic import domain, parsing
from use_cases.clinic.domain import Appointment, Change, ChangeEvent, Clinician
from use_cases.clinic.repository import ClinicRepository
from use_cases.clinic.widgets import Rendered, appointment_card, appointment_list, slot_picker

DEFAULT_DAYS = 3


class Desk:
    def __init__(self, documents: Documents, session: SessionStateHandle, now: datetime):
        self.repo = ClinicRepository(documents)
        self.session = session
        self.now = now

    # Finding things

    async def find_clinician(self, query: str) -> Clinician:
        return parsing.find_clinician(query, await self.repo.clinicians())

    async def find_upcoming(self, query: str) -> Appointment:
        return parsing.find_appointment(
            query, await self.repo.upcoming(self.now), await self.repo.clinicians()
        )

    def slot_from_words(self, clinician: Clinician, day: str, at: str) -> datetime:
        """The slot a typed day ("tomorrow") and time ("10:30") mean for this clinician."""
        on = parsing.parse_day(day, clinician.today(self.now))
        return parsing.slot_at(clinician, on, parsing.parse_clock(at))

    # Views

    async def picker(
        self,
        clinician: Clinician,
        *,
        days: int = DEFAULT_DAYS,
        from_day: date | None = None,
        rescheduling: Appointment | None = None,
        notice: str = "",
    ) -> Rendered:
        candidates = domain.candidate_days(clinician, self.now, days, from_day)
        taken = await self.repo.taken(clinician, candidates)
        shown = domain.open_slots(clinician, self.now, days, taken, from_day)
        await self.session.update(lambda state: domain.note_clinician(state, clinician.id))
        return slot_picker(clinician, shown, rescheduling=rescheduling, notice=notice)

    async def reschedule_picker(
        self, appointment_id: str, *, from_day: date | None = None, notice: str = ""
    ) -> Rendered:
        appointment = await self.find_upcoming(appointment_id)
        clinician = await self.repo.clinician(appointment.clinician_id)
        return await self.picker(
            clinician, from_day=from_day, rescheduling=appointment, notice=notice
        )

    async def my_appointments(self, notice: str = "") -> Rendered:
        by_id = {c.id: c for c in await self.repo.clinicians()}
        entries = [
            (by_id[a.clinician_id], a)
            for a in await self.repo.upcoming(self.now)
            if a.clinician_id in by_id
        ]
        return appointment_list(entries, self.now, notice=notice)

    # Changes (each raises domain.Refused with the patient-facing reason)

    async def book(self, clinician: Clinician, start: datetime) -> Rendered:
        appointment = await self.repo.book(clinician, start, self.now)
        await self._note("booked", appointment)
        return appointment_card(clinician, appointment, self.now, event="booked")

    async def reschedule(self, appointment_id: str, start: datetime) -> Rendered:
        change = await self.repo.reschedule(appointment_id, start, self.now)
        await self._note("rescheduled", change.appointment)
        return await self._card(change, "rescheduled")

    async def cancel(self, appointment_id: str) -> Change:
        change = await self.repo.cancel(appointment_id, self.now)
        await self._note("cancelled", change.appointment)
        return change

    async def cancelled_card(self, change: Change) -> Rendered:
        return await self._card(change, "cancelled")

    async def _card(self, change: Change, event: ChangeEvent) -> Rendered:
        clinician = await self.repo.clinician(change.appointment.clinician_id)
        return appointment_card(
            clinician, change.appointment, self.now, event=event, notice=change.notice
        )

    async def _note(self, event: ChangeEvent, appointment: Appointment) -> None:
        await self.session.update(lambda state: domain.note_event(state, event, appointment))
