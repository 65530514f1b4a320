"""The clinic's storage on both backends (SQLite and the Cosmos DB stand-in): double
booking is impossible under concurrency, one patient cannot race two bookings with one
clinician, and cancelling or moving frees exactly the right slot."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.context import RequestContext
from shared.documents import Documents
from tests.test_store_conformance import store  # noqa: F401 - fixture
from use_cases.clinic.domain import Refused
from use_cases.clinic.repository import HOLDS_COLLECTION, ClinicRepository, slot_collection

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2025, 1, 13, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
TUESDAY = date(2025, 1, 14)


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=LONDON)


def repo(store, user: str) -> ClinicRepository:  # noqa: F811
    return ClinicRepository(Documents(store, RequestContext(user_id=user, use_case="clinic")))


async def test_clinicians_are_seeded_once_and_shared(store):  # noqa: F811
    first = await repo(store, "alice").clinicians()
    second = await repo(store, "bob").clinicians()
    assert [c.id for c in first] == ["dr-nowak", "dr-okafor", "dr-patel"]
    assert first == second


async def test_many_patients_racing_for_one_slot_only_one_wins(store):  # noqa: F811
    patel = await repo(store, "p0").clinician("dr-patel")
    start = at(TUESDAY, "10:30")

    async def attempt(n: int) -> str:
        try:
            await repo(store, f"p{n}").book(patel, start, NOW)
            return "booked"
        except Refused as exc:
            return str(exc)

    results = await asyncio.gather(*(attempt(n) for n in range(8)))

    assert results.count("booked") == 1, results
    assert all("already booked" in r for r in results if r != "booked")
    locks = (
        await Documents(store, RequestContext("x", "clinic"))
        .reference(slot_collection("dr-patel", TUESDAY))
        .list()
    )
    assert [d.key for d in locks] == ["dr-patel.2025-01-14.1030"]
    winners = [n for n, r in enumerate(results) if r == "booked"]
    mine = await repo(store, f"p{winners[0]}").appointments()
    assert [a.id for a in mine] == [locks[0].data["appointment_id"]]
    # Shared data never names the patient.
    assert set(locks[0].data) == {"appointment_id", "clinician_id", "start"}


async def test_one_patient_racing_two_slots_with_one_clinician_gets_one(store):  # noqa: F811
    alice = repo(store, "alice")
    patel = await alice.clinician("dr-patel")
    starts = [at(TUESDAY, "09:00"), at(TUESDAY, "09:30"), at(TUESDAY, "14:00")]

    async def attempt(start: datetime) -> str:
        try:
            await repo(store, "alice").book(patel, start, NOW)
            return "booked"
        except Refused as exc:
            return str(exc)

    results = await asyncio.gather(*(attempt(s) for s in starts))

    assert results.count("booked") == 1, results
    assert [a.status for a in await alice.appointments()] == ["booked"]
    taken = await alice.taken(patel, [TUESDAY])
    assert len(taken) == 1  # the losers gave their slots back


async def test_cancel_frees_the_slot_and_the_clinician(store):  # noqa: F811
    alice, bob = repo(store, "alice"), repo(store, "bob")
    patel = await alice.clinician("dr-patel")
    booked = await alice.book(patel, at(TUESDAY, "11:00"), NOW)
    with pytest.raises(Refused, match="already booked"):
        await bob.book(patel, at(TUESDAY, "11:00"), NOW)
    with pytest.raises(Refused, match="no appointment with the reference"):
        await bob.cancel(booked.id, NOW)  # another patient's reference means nothing

    change = await alice.cancel(booked.id, NOW)

    assert not change.late  # Tuesday 11:00 is 27 hours ahead
    assert await alice.taken(patel, [TUESDAY]) == []
    stored = (await alice.appointments())[0]
    assert stored.status == "cancelled" and stored.late_cancellation == change.late
    await bob.book(patel, at(TUESDAY, "11:00"), NOW)
    await alice.book(patel, at(TUESDAY, "15:00"), NOW)  # the cancelled one no longer counts
    with pytest.raises(Refused, match="already cancelled"):
        await alice.cancel(booked.id, NOW)


async def test_reschedule_moves_the_lock(store):  # noqa: F811
    alice, bob = repo(store, "alice"), repo(store, "bob")
    patel = await alice.clinician("dr-patel")
    booked = await alice.book(patel, at(TUESDAY, "11:00"), NOW)
    await bob.book(patel, at(TUESDAY, "11:30"), NOW)
    with pytest.raises(Refused, match="already booked"):
        await alice.reschedule(booked.id, at(TUESDAY, "11:30"), NOW)

    change = await alice.reschedule(booked.id, at(TUESDAY + timedelta(days=1), "09:00"), NOW)

    assert change.appointment.id == booked.id
    assert [f"{t:%H:%M}" for t in await alice.taken(patel, [TUESDAY])] == ["11:30"]
    moved = await alice.taken(patel, [TUESDAY + timedelta(days=1)])
    assert [f"{t:%H:%M}" for t in moved] == ["09:00"]
    assert [a.start for a in await alice.upcoming(NOW)] == [change.appointment.start]


async def test_a_hold_left_by_a_dead_booking_expires(store):  # noqa: F811
    alice = repo(store, "alice")
    patel = await alice.clinician("dr-patel")
    holds = alice.documents.user(HOLDS_COLLECTION)
    claim = {"appointment_id": "apt_never_written", "claimed_at": NOW.isoformat()}
    await holds.put("dr-patel", claim)
    with pytest.raises(Refused, match="in progress"):
        await alice.book(patel, at(TUESDAY, "10:00"), NOW + timedelta(seconds=10))

    await alice.book(patel, at(TUESDAY, "10:00"), NOW + timedelta(minutes=2))


async def test_a_failed_appointment_write_gives_the_slot_back(store, monkeypatch):  # noqa: F811
    alice = repo(store, "alice")
    patel = await alice.clinician("dr-patel")
    real = ClinicRepository._appointments

    class Broken:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        async def create(self, key, data):
            raise RuntimeError("store hiccup")

    monkeypatch.setattr(
        ClinicRepository, "_appointments", property(lambda self: Broken(real.fget(self)))
    )
    with pytest.raises(RuntimeError):
        await alice.book(patel, at(TUESDAY, "10:00"), NOW)
    monkeypatch.undo()

    assert await alice.taken(patel, [TUESDAY]) == []
    await alice.book(patel, at(TUESDAY, "10:30"), NOW)  # the hold was released too


async def test_same_time_on_other_days_and_clinicians_are_separate_slots(store):  # noqa: F811
    alice, bob, carol = repo(store, "alice"), repo(store, "bob"), repo(store, "carol")
    patel = await alice.clinician("dr-patel")
    okafor = await alice.clinician("dr-okafor")
    wednesday = TUESDAY + timedelta(days=1)
    await alice.book(patel, at(TUESDAY, "14:00"), NOW)
    await bob.book(patel, at(wednesday, "14:00"), NOW)
    await carol.book(okafor, at(wednesday, "14:00"), NOW)

    assert await alice.taken(patel, [TUESDAY]) == [at(TUESDAY, "14:00")]
    assert await alice.taken(patel, [wednesday]) == [at(wednesday, "14:00")]
    assert await alice.taken(okafor, [TUESDAY, wednesday]) == [at(wednesday, "14:00")]
    await bob.cancel((await bob.appointments())[0].id, NOW)
    assert await alice.taken(patel, [TUESDAY, wednesday]) == [at(TUESDAY, "14:00")]
