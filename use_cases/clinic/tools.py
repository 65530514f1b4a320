"""Tools the clinic's model can call. They act only for the request's user: the
patient is the signed-in user of the request (from the run context), never an argument.

Each tool does what the matching widget button does (through `Desk`) and streams the
same widget. Anything the rules refuse comes back as a plain sentence for the model.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agents import RunContextWrapper, function_tool

from shared.turn_context import TurnContext
from use_cases.clinic import parsing
from use_cases.clinic.desk import DEFAULT_DAYS, Desk
from use_cases.clinic.domain import Refused
from use_cases.clinic.widgets import Rendered


def desk_for(turn: TurnContext) -> Desk:
    return Desk(turn.documents, turn.session, datetime.now(UTC))


async def _show(turn: TurnContext, rendered: Rendered) -> None:
    await turn.stream_widget(rendered.widget, copy_text=rendered.copy_text)


@function_tool
async def list_clinicians(ctx: RunContextWrapper[TurnContext]) -> str:
    """List the clinic's clinicians with their specialty, clinic, working hours and id."""
    clinicians = await desk_for(ctx.context).repo.clinicians()
    return "\n".join(c.describe() for c in clinicians)


@function_tool
async def show_open_slots(
    ctx: RunContextWrapper[TurnContext],
    clinician: str,
    days: int = DEFAULT_DAYS,
    from_day: str | None = None,
) -> str:
    """Show the patient a slot picker with a clinician's open appointment times.

    The patient can book by clicking a time. Returns the open times as text too.

    Args:
        clinician: The clinician's name (e.g. "Dr Patel"), id or specialty.
        days: How many working days to show (1-7).
        from_day: First day to show: a date (YYYY-MM-DD), "tomorrow" or a weekday; omit for today.
    """
    desk = desk_for(ctx.context)
    try:
        found = await desk.find_clinician(clinician)
        first = parsing.parse_day(from_day, found.today(desk.now)) if from_day else None
        rendered = await desk.picker(found, days=days, from_day=first)
    except Refused as exc:
        return str(exc)
    await _show(ctx.context, rendered)
    return f"Shown to the patient as a slot picker. {rendered.copy_text}"


@function_tool
async def book_appointment(
    ctx: RunContextWrapper[TurnContext], clinician: str, day: str, time: str
) -> str:
    """Book an appointment for the patient, exactly as if they clicked the slot.

    Args:
        clinician: The clinician's name (e.g. "Dr Patel"), id or specialty.
        day: The day: a date (YYYY-MM-DD), "today", "tomorrow" or a weekday.
        time: The start time in the clinic's local time, e.g. "10:30".
    """
    desk = desk_for(ctx.context)
    try:
        found = await desk.find_clinician(clinician)
        start = desk.slot_from_words(found, day, time)
        rendered = await desk.book(found, start)
    except Refused as exc:
        return f"Not booked: {exc}"
    await _show(ctx.context, rendered)
    return f"{rendered.copy_text} A confirmation card is shown to the patient."


@function_tool
async def show_my_appointments(ctx: RunContextWrapper[TurnContext]) -> str:
    """Show the patient their upcoming appointments, with reschedule and cancel buttons."""
    rendered = await desk_for(ctx.context).my_appointments()
    await _show(ctx.context, rendered)
    return rendered.copy_text


@function_tool
async def cancel_appointment(ctx: RunContextWrapper[TurnContext], appointment: str) -> str:
    """Cancel one of the patient's upcoming appointments.

    Args:
        appointment: Its reference (apt_...) or the clinician's name; empty if the patient
            has only one upcoming appointment.
    """
    desk = desk_for(ctx.context)
    try:
        found = await desk.find_upcoming(appointment)
        change = await desk.cancel(found.id)
        rendered = await desk.cancelled_card(change)
    except Refused as exc:
        return f"Not cancelled: {exc}"
    await _show(ctx.context, rendered)
    return rendered.copy_text


@function_tool
async def reschedule_appointment(
    ctx: RunContextWrapper[TurnContext], appointment: str, day: str, time: str
) -> str:
    """Move one of the patient's upcoming appointments to another time with the same clinician.

    Args:
        appointment: Its reference (apt_...) or the clinician's name.
        day: The new day: a date (YYYY-MM-DD), "tomorrow" or a weekday.
        time: The new start time in the clinic's local time, e.g. "14:00".
    """
    desk = desk_for(ctx.context)
    try:
        found = await desk.find_upcoming(appointment)
        clinician = await desk.repo.clinician(found.clinician_id)
        start = desk.slot_from_words(clinician, day, time)
        rendered = await desk.reschedule(found.id, start)
    except Refused as exc:
        return f"Not rescheduled: {exc}"
    await _show(ctx.context, rendered)
    return rendered.copy_text


TOOLS = [
    list_clinicians,
    show_open_slots,
    book_appointment,
    show_my_appointments,
    cancel_appointment,
    reschedule_appointment,
]
