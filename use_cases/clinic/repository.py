"""Clinic data in the document repository, and the storage half of the booking rules.

Collections:
  - reference `clinic-clinicians`: one document per clinician (seeded from data.py);
  - reference `clinic-slots:<clinician>:<local day>`: one document per booked slot
    (key `<clinician>.<day>.<HHMM>`), written with `create()`. Two bookings of one slot
    race for the same key, so only one can ever win, on SQLite and on Cosmos DB alike,
    across processes. The document names only the appointment id, never the patient;
  - user `appointments`: the patient's appointments (cancelled ones stay, flagged);
  - user `clinic-holds`: one document per clinician, claimed with a conditional write
    before booking, so two concurrent bookings by one patient with one clinician
    cannot both pass the one-upcoming-appointment rule.

The domain rules are checked first (for the message); the documents then enforce
what concurrency could slip past them. There is no cross-document transaction: each
step undoes the earlier ones if a later one fails. A process dying between creating a
slot document and writing the appointment leaves that slot blocked (never double-booked).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from shared.documents import Collection, Document, DocumentConflict, Documents
from shared.ids import new_id
from use_cases.clinic import domain
from use_cases.clinic.data import CLINICIANS, SEED_VERSION
from use_cases.clinic.domain import Appointment, Change, Clinician, Refused

CLINICIANS_COLLECTION = "clinic-clinicians"
APPOINTMENTS_COLLECTION = "appointments"
HOLDS_COLLECTION = "clinic-holds"

_CHANGED = "That appointment changed meanwhile (in another window?). Please look again."


def slot_collection(clinician_id: str, day: date) -> str:
    return f"clinic-slots:{clinician_id}:{day.isoformat()}"


def slot_key(clinician_id: str, local_start: datetime) -> str:
    # The key repeats the collection's clinician and day so that it is unique within the
    # whole reference scope, not only within its collection: the Cosmos DB stand-in used
    # in tests keeps ids unique per first partition-key component only.
    return f"{clinician_id}.{local_start:%Y-%m-%d.%H%M}"


class ClinicRepository:
    """One request's view: reference data plus the request user's own appointments."""

    def __init__(self, documents: Documents):
        self.documents = documents
        self._clinicians: dict[str, Clinician] | None = None

    @property
    def _appointments(self) -> Collection:
        return self.documents.user(APPOINTMENTS_COLLECTION)

    # Reference data

    async def clinicians(self) -> list[Clinician]:
        if self._clinicians is None:
            collection = self.documents.reference(CLINICIANS_COLLECTION)
            await collection.seed(CLINICIANS, version=SEED_VERSION)
            docs = await collection.list()
            self._clinicians = {d.key: Clinician.from_data(d.key, d.data) for d in docs}
        return list(self._clinicians.values())

    async def clinician(self, clinician_id: str) -> Clinician:
        for clinician in await self.clinicians():
            if clinician.id == clinician_id:
                return clinician
        raise Refused(f"There is no clinician with the id '{clinician_id[:40]}'.")

    # Slots

    def _slot(self, clinician: Clinician, start: datetime) -> tuple[Collection, str]:
        local = clinician.local(start)
        name = slot_collection(clinician.id, local.date())
        return self.documents.reference(name), slot_key(clinician.id, local)

    async def taken(self, clinician: Clinician, days: list[date]) -> list[datetime]:
        """Booked slot starts on these local days (one small partition per day)."""
        pages = await asyncio.gather(
            *(self.documents.reference(slot_collection(clinician.id, d)).list() for d in days)
        )
        found = []
        for day, docs in zip(days, pages, strict=True):
            for doc in docs:
                at = datetime.strptime(doc.key.rsplit(".", 1)[-1], "%H%M").time()
                found.append(datetime.combine(day, at, tzinfo=clinician.tz))
        return found

    async def is_taken(self, clinician: Clinician, start: datetime) -> bool:
        collection, key = self._slot(clinician, start)
        return await collection.get(key) is not None

    async def _free_slot(self, clinician: Clinician, appointment: Appointment) -> None:
        collection, key = self._slot(clinician, appointment.start)
        lock = await collection.get(key)
        # Only the lock this appointment holds: only this patient's flows for this
        # appointment delete it, and they are serialised by the appointment's version.
        if lock is not None and lock.data.get("appointment_id") == appointment.id:
            await collection.delete(key)

    # The patient's appointments

    async def appointments(self) -> list[Appointment]:
        docs = await self._appointments.list()
        return sorted((Appointment.from_data(d.data) for d in docs), key=lambda a: a.start)

    async def upcoming(self, now: datetime) -> list[Appointment]:
        return [a for a in await self.appointments() if a.is_upcoming(now)]

    async def _load(self, appointment_id: str) -> tuple[Document, Appointment]:
        doc = await self._appointments.get(appointment_id) if appointment_id else None
        if doc is None:
            raise Refused(f"You have no appointment with the reference '{appointment_id[:40]}'.")
        return doc, Appointment.from_data(doc.data)

    # Booking

    async def book(self, clinician: Clinician, start: datetime, now: datetime) -> Appointment:
        start = start.astimezone(UTC)
        mine, taken = await asyncio.gather(self.appointments(), self.is_taken(clinician, start))
        domain.check_booking(clinician, start, now, patient_appointments=mine, slot_taken=taken)
        appointment = domain.new_appointment(new_id("apt"), clinician, start, now)
        hold = await self._claim_hold(clinician, appointment.id, now)
        collection, key = self._slot(clinician, start)
        try:
            await collection.create(key, _lock(appointment))
        except DocumentConflict:
            await self._release_hold(clinician, hold)
            # Someone else won the race for this slot since we looked.
            raise domain.slot_taken_refusal(clinician, start) from None
        try:
            await self._appointments.create(appointment.id, appointment.to_data())
        except Exception:
            await collection.delete(key)
            await self._release_hold(clinician, hold)
            raise
        return appointment

    async def _claim_hold(
        self, clinician: Clinician, appointment_id: str, now: datetime
    ) -> Document:
        holds = self.documents.user(HOLDS_COLLECTION)
        current = await holds.get(clinician.id)
        claim = {"appointment_id": appointment_id, "claimed_at": now.astimezone(UTC).isoformat()}
        busy = Refused(
            f"Another booking with {clinician.name} is in progress; try again in a moment."
        )
        if current is not None and current.data.get("appointment_id"):
            held_doc = await self._appointments.get(current.data["appointment_id"])
            held = Appointment.from_data(held_doc.data) if held_doc else None
            claimed = current.data.get("claimed_at")
            claimed_at = datetime.fromisoformat(claimed) if claimed else None
            if domain.hold_is_active(held, claimed_at, now):
                if held is not None:
                    # Booked since we checked: the rule's own message.
                    raise domain.already_booked_with(clinician, held)
                raise busy
        try:
            if current is None:
                return await holds.create(clinician.id, claim)
            return await holds.put(clinician.id, claim, expected=current)
        except DocumentConflict:
            raise busy from None

    async def _release_hold(self, clinician: Clinician, hold: Document) -> None:
        try:
            await self.documents.user(HOLDS_COLLECTION).put(
                clinician.id, {"appointment_id": None}, expected=hold
            )
        except DocumentConflict:
            pass  # already claimed again: that claim is not ours to undo

    # Changes

    async def cancel(self, appointment_id: str, now: datetime) -> Change:
        doc, appointment = await self._load(appointment_id)
        change = domain.cancel(appointment, now)
        try:
            await self._appointments.put(appointment.id, change.appointment.to_data(), expected=doc)
        except DocumentConflict:
            raise Refused(_CHANGED) from None
        await self._free_slot(await self.clinician(appointment.clinician_id), appointment)
        return change

    async def reschedule(self, appointment_id: str, new_start: datetime, now: datetime) -> Change:
        doc, appointment = await self._load(appointment_id)
        clinician = await self.clinician(appointment.clinician_id)
        new_start = new_start.astimezone(UTC)
        mine, taken = await asyncio.gather(self.appointments(), self.is_taken(clinician, new_start))
        change = domain.reschedule(
            clinician, appointment, new_start, now, patient_appointments=mine, slot_taken=taken
        )
        collection, key = self._slot(clinician, new_start)
        try:
            await collection.create(key, _lock(change.appointment))
        except DocumentConflict:
            raise domain.slot_taken_refusal(clinician, new_start) from None
        try:
            await self._appointments.put(appointment.id, change.appointment.to_data(), expected=doc)
        except DocumentConflict:
            await collection.delete(key)
            raise Refused(_CHANGED) from None
        except Exception:
            await collection.delete(key)
            raise
        await self._free_slot(clinician, appointment)
        return change


def _lock(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appointment.id,
        "clinician_id": appointment.clinician_id,
        "start": appointment.start.isoformat(timespec="seconds"),
    }
