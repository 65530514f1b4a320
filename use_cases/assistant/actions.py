"""Widget actions. Clicking a zone button writes the same session state as the
`remember_timezone` tool, so a click and a typed request continue identically."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from chatkit.errors import CustomStreamError
from chatkit.types import (
    Action,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadStreamEvent,
    WidgetItem,
)

from shared.context import valid_timezone
from shared.turn_context import ActionContext, ActionHandler
from use_cases.assistant.domain import (
    SESSION_KEY,
    UnknownTimezone,
    effective_timezone,
    normalise_timezone,
    read_clock,
)
from use_cases.assistant.widgets import (
    REFRESH_ACTION,
    SELECT_ACTION,
    clock_copy_text,
    clock_widget,
)


def _payload_zone(action: Action[str, Any]) -> str | None:
    payload = action.payload if isinstance(action.payload, dict) else {}
    zone = payload.get("timezone")
    return zone if isinstance(zone, str) else None


def _render(ctx: ActionContext, zone: str, sender: WidgetItem | None) -> ThreadStreamEvent:
    reading = read_clock(zone)
    widget = clock_widget(reading, remembered=ctx.session.get(SESSION_KEY) == zone)
    copy_text = clock_copy_text(reading)
    if sender is not None:
        return ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": copy_text})
        )
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=ctx.new_item_id(),
            thread_id=ctx.thread.id,
            created_at=datetime.now(UTC),
            widget=widget,
            copy_text=copy_text,
        )
    )


async def refresh_clock(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    zone = valid_timezone(_payload_zone(action)) or effective_timezone(
        ctx.session.get(SESSION_KEY), ctx.request.timezone
    )
    yield _render(ctx, zone, sender)


async def select_timezone(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    try:
        zone = normalise_timezone(_payload_zone(action) or "")
    except UnknownTimezone as exc:
        raise CustomStreamError(str(exc), allow_retry=False) from None
    await ctx.session.set(SESSION_KEY, zone)
    yield _render(ctx, zone, sender)


ACTIONS: Mapping[str, ActionHandler] = {
    REFRESH_ACTION: refresh_clock,
    SELECT_ACTION: select_timezone,
}
