"""The clinic's agent: instructions from prompts/, tools from tools.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agents import Agent, RunContextWrapper

from shared.turn_context import TurnContext
from use_cases.clinic import domain
from use_cases.clinic.data import CLINIC_TIMEZONE
from use_cases.clinic.tools import TOOLS, desk_for

_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "instructions.md").read_text()


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def _recent(state: dict[str, Any], names: dict[str, str]) -> str:
    """What this conversation last did, from the session state tools and buttons share."""
    clinic = state.get(domain.SESSION_KEY) or {}
    parts = []
    if clinic.get("clinician_id") in names:
        parts.append(f"The clinician in question in this chat: {names[clinic['clinician_id']]}.")
    last = clinic.get("last") or {}
    if last.get("clinician_id") in names:
        parts.append(
            f"Last change in this chat: {last.get('event')} appointment "
            f"{last.get('appointment_id')} with {names[last['clinician_id']]} "
            f"starting {last.get('start')} (UTC)."
        )
    return " ".join(parts) or "Nothing has been booked or changed in this chat yet."


async def instructions(ctx: RunContextWrapper[TurnContext], agent: Agent[TurnContext]) -> str:
    # Rebuilt every turn from the store: reference data, the patient's own appointments
    # and this thread's session state.
    turn = ctx.context
    desk = desk_for(turn)
    clinicians = {c.id: c for c in await desk.repo.clinicians()}
    upcoming = [a for a in await desk.repo.upcoming(desk.now) if a.clinician_id in clinicians]
    appointments = "; ".join(
        f"{a.id} with {clinicians[a.clinician_id].name}, "
        f"{domain.format_when(clinicians[a.clinician_id], a.start)}"
        for a in upcoming
    )
    now = desk.now.astimezone(ZoneInfo(CLINIC_TIMEZONE))
    return _INSTRUCTIONS.format(
        locale=turn.request_context.locale,
        now=f"{now:%A} {now.day} {now:%B %Y, %H:%M}",
        timezone=CLINIC_TIMEZONE,
        clinicians="\n".join(f"- {c.describe()}" for c in clinicians.values()),
        appointments=appointments or "none",
        recent=_recent(turn.session.data, {k: c.name for k, c in clinicians.items()}),
        notice=_hours(domain.MIN_NOTICE),
        horizon=domain.BOOKING_HORIZON.days,
        late=_hours(domain.LATE_CANCELLATION_WINDOW),
        fee=domain.LATE_CANCELLATION_FEE,
    )


def build_agent() -> Agent[TurnContext]:
    return Agent[TurnContext](name="Clinic desk", instructions=instructions, tools=list(TOOLS))
