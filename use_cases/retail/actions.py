"""Widget actions of the return flow. Each calls the same step function as the matching
tool (`flow.py`), so clicking and typing write the same session state. Actions never
call the model: they replace the clicked widget with its outcome and add the next step's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
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

from shared.turn_context import ActionContext, ActionHandler
from use_cases.retail import flow
from use_cases.retail.domain import PolicyError
from use_cases.retail.widgets import (
    CANCEL_ACTION,
    REASON_ACTION,
    RESOLUTION_ACTION,
    SELECT_ACTION,
    SHIPPING_ACTION,
    TOGGLE_ACTION,
    Shown,
)


def _env(ctx: ActionContext) -> flow.Env:
    return flow.Env(
        documents=ctx.documents, session=ctx.session, request=ctx.request, thread_id=ctx.thread.id
    )


def _text(action: Action[str, Any], key: str) -> str | None:
    payload = action.payload if isinstance(action.payload, dict) else {}
    value = payload.get(key)
    return value[:200] if isinstance(value, str) and value else None


def _new_item(ctx: ActionContext, shown: Shown) -> ThreadStreamEvent:
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=ctx.new_item_id(),
            thread_id=ctx.thread.id,
            created_at=datetime.now(UTC),
            widget=shown.widget,
            copy_text=shown.copy_text,
        )
    )


async def _emit(
    ctx: ActionContext, sender: WidgetItem | None, step: Awaitable[flow.Step]
) -> AsyncIterator[ThreadStreamEvent]:
    try:
        result = await step
    except PolicyError as exc:
        raise CustomStreamError(str(exc), allow_retry=False) from None
    if result.current is not None:
        if sender is not None:
            update = {"widget": result.current.widget, "copy_text": result.current.copy_text}
            yield ThreadItemReplacedEvent(item=sender.model_copy(update=update))
        elif result.next is None:
            yield _new_item(ctx, result.current)
    if result.next is not None:
        yield _new_item(ctx, result.next)


def _required(action: Action[str, Any], key: str) -> str:
    value = _text(action, key)
    if value is None:
        raise CustomStreamError(f"The action is missing '{key}'.", allow_retry=False)
    return value


async def toggle_item(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    step = flow.toggle_item(_env(ctx), _required(action, "line_id"), _text(action, "view_id"))
    async for event in _emit(ctx, sender, step):
        yield event


async def select_items(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    step = flow.select_items(_env(ctx), view_id=_text(action, "view_id"), use_picked=True)
    async for event in _emit(ctx, sender, step):
        yield event


def _choice_handler(choose: Any) -> Any:
    """Reason, resolution and shipping clicks differ only in the flow step they call."""

    async def handler(
        ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
    ) -> AsyncIterator[ThreadStreamEvent]:
        step = choose(_env(ctx), _required(action, "choice"), _required(action, "return_id"))
        async for event in _emit(ctx, sender, step):
            yield event

    return handler


choose_reason = _choice_handler(flow.choose_reason)
choose_resolution = _choice_handler(flow.choose_resolution)
choose_shipping = _choice_handler(flow.choose_shipping)


async def cancel_return(
    ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
) -> AsyncIterator[ThreadStreamEvent]:
    env = _env(ctx)

    async def step() -> flow.Step:
        done = await flow.cancel_return(env, _required(action, "return_id"))
        if _text(action, "view") == "list":
            # Clicked in the returns list: show the list again, with this one cancelled.
            listed = await flow.list_returns(env)
            return flow.Step(done.message, current=listed.next)
        return done

    async for event in _emit(ctx, sender, step()):
        yield event


ACTIONS: Mapping[str, ActionHandler] = {
    TOGGLE_ACTION: toggle_item,
    SELECT_ACTION: select_items,
    REASON_ACTION: choose_reason,
    RESOLUTION_ACTION: choose_resolution,
    SHIPPING_ACTION: choose_shipping,
    CANCEL_ACTION: cancel_return,
}
