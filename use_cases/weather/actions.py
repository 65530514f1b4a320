"""Widget actions. They call the weather provider directly, never the model: a click
costs one or two HTTP requests to Open-Meteo and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from chatkit.types import (
    Action,
    ProgressUpdateEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadStreamEvent,
    WidgetItem,
)
from chatkit.widgets import DynamicWidgetRoot

from shared.turn_context import ActionContext, ActionHandler
from use_cases.weather.domain import (
    UNITS_KEY,
    Units,
    WeatherError,
    geocoding_language,
    normalise_units,
    stored_units,
)
from use_cases.weather.provider import get_provider
from use_cases.weather.service import look_up, requested_place
from use_cases.weather.widgets import (
    REFRESH_ACTION,
    SELECT_CITY_ACTION,
    SET_UNITS_ACTION,
    unavailable_widget,
)


def _payload(action: Action[str, Any]) -> dict[str, Any]:
    return action.payload if isinstance(action.payload, dict) else {}


def _new_item(ctx: ActionContext, widget: DynamicWidgetRoot, copy_text: str) -> ThreadStreamEvent:
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=ctx.new_item_id(),
            thread_id=ctx.thread.id,
            created_at=datetime.now(UTC),
            widget=widget,
            copy_text=copy_text,
        )
    )


def _show(
    ctx: ActionContext,
    widget: DynamicWidgetRoot,
    copy_text: str,
    sender: WidgetItem | None,
    *,
    replace: bool,
) -> ThreadStreamEvent:
    if replace and sender is not None:
        return ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": copy_text})
        )
    return _new_item(ctx, widget, copy_text)


async def _weather(
    ctx: ActionContext,
    action: Action[str, Any],
    sender: WidgetItem | None,
    *,
    replace: bool,
    units: Units | None = None,
) -> AsyncIterator[ThreadStreamEvent]:
    payload = _payload(action)
    place, name = requested_place(payload)
    shown = place.label if place else str(name or "").strip()[:100]
    if shown:
        yield ProgressUpdateEvent(text=f"Fetching the weather for {shown}…", icon="globe")
    result = await look_up(
        get_provider(),
        name=name,
        place=place,
        days=payload.get("days"),
        units=units or stored_units(ctx.session.get(UNITS_KEY)),
        language=geocoding_language(ctx.request.locale),
    )
    widget, copy_text = result.widget, result.copy_text
    if widget is None:
        # A click has no model to ask a follow-up question, so show why it failed.
        widget, copy_text = unavailable_widget(shown or "that place", result.copy_text, payload)
    yield _show(ctx, widget, copy_text, sender, replace=replace)


async def select_city(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    # The picker stays in place so another city is one more click; the weather is a new item.
    async for event in _weather(ctx, action, sender, replace=False):
        yield event


async def refresh(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    async for event in _weather(ctx, action, sender, replace=True):
        yield event


async def set_units(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    try:
        units = normalise_units(_payload(action).get("units"))
    except WeatherError as exc:
        widget, copy_text = unavailable_widget("this card", str(exc), _payload(action))
        yield _show(ctx, widget, copy_text, sender, replace=True)
        return
    # The same session key the set_temperature_units tool writes.
    await ctx.session.set(UNITS_KEY, units)
    async for event in _weather(ctx, action, sender, replace=True, units=units):
        yield event


ACTIONS: Mapping[str, ActionHandler] = {
    SELECT_CITY_ACTION: select_city,
    REFRESH_ACTION: refresh,
    SET_UNITS_ACTION: set_units,
}
