"""Tools of the returns assistant. They act only for the request's user: the customer,
orders and returns come from the run context, never from model arguments. A step the
policy refuses comes back as a plain sentence for the model to relay, not an exception.

When the customer types an answer, the tool records it and shows only the next step's
widget; the widget they could have clicked instead is not shown again.
"""

from __future__ import annotations

from collections.abc import Awaitable

from agents import RunContextWrapper, function_tool
from chatkit.types import ProgressUpdateEvent

from shared.turn_context import TurnContext
from use_cases.retail import flow
from use_cases.retail.domain import PolicyError


def env_of(turn: TurnContext) -> flow.Env:
    return flow.Env(
        documents=turn.documents,
        session=turn.session,
        request=turn.request_context,
        thread_id=turn.thread.id,
    )


async def _run(turn: TurnContext, step: Awaitable[flow.Step]) -> str:
    try:
        result = await step
    except PolicyError as exc:
        return f"Not done: {exc}"
    if result.next is not None:
        await turn.stream_widget(result.next.widget, copy_text=result.next.copy_text)
    return result.message


@function_tool
async def show_recent_orders(
    ctx: RunContextWrapper[TurnContext], order_id: str | None = None
) -> str:
    """Show the customer's recent orders as a widget, each item numbered and marked
    returnable or not (with the reason and date). Call it when they want to return
    something and the orders are not on screen yet.

    Args:
        order_id: Only this order (e.g. ORD-3003); omit it for all recent orders.
    """
    await ctx.context.stream(ProgressUpdateEvent(text="Looking up your orders…", icon="search"))
    return await _run(ctx.context, flow.show_orders(env_of(ctx.context), order_id))


@function_tool
async def select_return_items(
    ctx: RunContextWrapper[TurnContext],
    items: list[str] | None = None,
    order_id: str | None = None,
) -> str:
    """Choose the items to return; this starts (or restarts) the return draft.

    Args:
        items: Items as numbered in the orders shown ("1", "#2"), or line ids like
            ORD-3003-1. Omit to take every returnable item of `order_id`, or of the only
            order shown (e.g. "return both items" after one order was displayed).
        order_id: The order the items belong to, when the customer names one.
    """
    return await _run(ctx.context, flow.select_items(env_of(ctx.context), items, order_id))


@function_tool
async def set_return_reason(ctx: RunContextWrapper[TurnContext], reason: str) -> str:
    """Record why the items are returned.

    Args:
        reason: One of DAMAGED, DEFECTIVE, WRONG_SIZE, WRONG_COLOR, NOT_AS_DESCRIBED,
            ARRIVED_LATE, CHANGED_MIND, OTHER.
    """
    return await _run(ctx.context, flow.choose_reason(env_of(ctx.context), reason))


@function_tool
async def set_return_resolution(ctx: RunContextWrapper[TurnContext], resolution: str) -> str:
    """Record what the customer wants instead; KEEP_WITH_DISCOUNT submits the return.

    Args:
        resolution: One of FULL_REFUND, EXCHANGE, STORE_CREDIT, KEEP_WITH_DISCOUNT.
    """
    return await _run(ctx.context, flow.choose_resolution(env_of(ctx.context), resolution))


@function_tool
async def set_return_shipping(ctx: RunContextWrapper[TurnContext], method: str) -> str:
    """Record how the items go back, then submit the return and show its confirmation.

    Args:
        method: One of SCHEDULE_PICKUP, DROP_OFF, PREPAID_LABEL.
    """
    await ctx.context.stream(ProgressUpdateEvent(text="Submitting your return…", icon="check"))
    return await _run(ctx.context, flow.choose_shipping(env_of(ctx.context), method))


@function_tool
async def list_my_returns(ctx: RunContextWrapper[TurnContext]) -> str:
    """Show the customer's returns (requested, completed, cancelled) as a widget."""
    return await _run(ctx.context, flow.list_returns(env_of(ctx.context)))


@function_tool
async def cancel_return(ctx: RunContextWrapper[TurnContext], return_id: str | None = None) -> str:
    """Cancel one of the customer's returns (possible until the parcel is picked up).

    Args:
        return_id: The return id (RET-...); omit it for the return just submitted.
    """
    return await _run(ctx.context, flow.cancel_return(env_of(ctx.context), return_id))


TOOLS = [
    show_recent_orders,
    select_return_items,
    set_return_reason,
    set_return_resolution,
    set_return_shipping,
    list_my_returns,
    cancel_return,
]
