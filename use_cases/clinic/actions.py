"""Widget actions. They never call the model: each one does what the matching tool
does (through `Desk`) and replaces the clicked widget with the result, so a click and
a typed request end in the same stored booking and the same session state.

A refusal (slot just taken, too late, ...) is not an error: the widget is redrawn with
the reason on it. Only a malformed payload is an error event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from chatkit.errors import CustomStreamError
from chatkit.types import (
    Action,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadStreamEvent,
    WidgetItem,
)

from shared.turn_context import ActionContext, ActionHandler
from use_cases.clinic import parsing
from use_cases.clinic.desk import Desk
from use_cases.clinic.domain import Refused
from use_cases.clinic.widgets import (
    BOOK_ACTION,
    CANCEL_ACTION,
    RESCHEDULE_ACTION,
    SHOW_SLOTS_ACTION,
    Rendered,
)

Handler = AsyncIterator[ThreadStreamEvent]


def _desk(ctx: ActionContext) -> Desk:
    return Desk(ctx.documents, ctx.session, datetime.now(UTC))


def _bad(what: str) -> CustomStreamError:
    return CustomStreamError(f"This button sent an invalid {what}.", allow_retry=False)


def _text(action: Action[str, Any], name: str, required: bool = True) -> str | None:
    payload = action.payload if isinstance(action.payload, dict) else {}
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 100:
        raise _bad(name.replace("_", " "))
    return value


def _moment(action: Action[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(action, "start") or "")
    except ValueError:
        raise _bad("start time") from None
    # Far-off moments (year 1, 9999) would overflow the date arithmetic that follows.
    if not parsing.reachable(moment, datetime.now(UTC)):
        raise _bad("start time")
    return moment


def _day(action: Action[str, Any]) -> date | None:
    value = _text(action, "from_day", required=False)
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        raise _bad("day") from None
    if day is not None and not parsing.reachable_day(day, datetime.now(UTC).date()):
        raise _bad("day")
    return day


def _show(ctx: ActionContext, rendered: Rendered, sender: WidgetItem | None) -> ThreadStreamEvent:
    update = {"widget": rendered.widget, "copy_text": rendered.copy_text}
    if sender is not None:
        return ThreadItemReplacedEvent(item=sender.model_copy(update=update))
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=ctx.new_item_id(), thread_id=ctx.thread.id, created_at=datetime.now(UTC), **update
        )
    )


async def show_slots(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> Handler:
    """Page the picker, or open it for moving an appointment (`appointment_id`)."""
    desk = _desk(ctx)
    moving = _text(action, "appointment_id", required=False)
    from_day = _day(action)
    try:
        if moving:
            rendered = await desk.reschedule_picker(moving, from_day=from_day)
        else:
            clinician = await desk.repo.clinician(_text(action, "clinician_id") or "")
            rendered = await desk.picker(clinician, from_day=from_day)
    except Refused as exc:
        rendered = await desk.my_appointments(notice=str(exc))
    yield _show(ctx, rendered, sender)


async def book(ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None) -> Handler:
    desk = _desk(ctx)
    start = _moment(action)
    try:
        clinician = await desk.repo.clinician(_text(action, "clinician_id") or "")
    except Refused as exc:
        raise CustomStreamError(str(exc), allow_retry=False) from None
    try:
        rendered = await desk.book(clinician, start)
    except Refused as exc:
        # Taken meanwhile or too late now: fresh slots, with the reason on top.
        rendered = await desk.picker(clinician, notice=str(exc))
    yield _show(ctx, rendered, sender)


async def reschedule(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> Handler:
    desk = _desk(ctx)
    appointment_id = _text(action, "appointment_id") or ""
    start = _moment(action)
    try:
        rendered = await desk.reschedule(appointment_id, start)
    except Refused as exc:
        try:
            rendered = await desk.reschedule_picker(appointment_id, notice=str(exc))
        except Refused:
            rendered = await desk.my_appointments(notice=str(exc))
    yield _show(ctx, rendered, sender)


async def cancel(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> Handler:
    """From a card, the card turns into the cancelled card; from the list, the list
    is redrawn without it. The late-cancellation notice shows either way."""
    desk = _desk(ctx)
    appointment_id = _text(action, "appointment_id") or ""
    from_list = _text(action, "view", required=False) == "list"
    try:
        change = await desk.cancel(appointment_id)
    except Refused as exc:
        yield _show(ctx, await desk.my_appointments(notice=str(exc)), sender)
        return
    if from_list:
        notice = change.notice or "Appointment cancelled."
        rendered = await desk.my_appointments(notice=notice)
    else:
        rendered = await desk.cancelled_card(change)
    yield _show(ctx, rendered, sender)


ACTIONS: Mapping[str, ActionHandler] = {
    SHOW_SLOTS_ACTION: show_slots,
    BOOK_ACTION: book,
    RESCHEDULE_ACTION: reschedule,
    CANCEL_ACTION: cancel,
}
