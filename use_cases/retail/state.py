"""The return flow's per-thread session state and its transitions, free of I/O.

Session state holds what the model and the widgets both refer to: the orders last shown
(numbered items, so "both items" or "#2" resolve), the items ticked in that widget, and
the return being drafted. Each step is one pure function here; tools and widget actions
both call it through `flow.py`, so a click and a typed answer end in the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from use_cases.retail.domain import (
    Eligibility,
    Order,
    OrderLine,
    PolicyError,
    Quote,
    Reason,
    Resolution,
    ReturnStatus,
    Shipping,
    ShippingPlan,
    Tier,
    needs_shipping,
    quote,
    resolution_blocker,
)

SESSION_KEY = "retail"


class FlowError(PolicyError):
    """A step that cannot be taken now; the message says why and what to do instead."""


class ShownItem(BaseModel):
    n: int  # the number shown next to the item (#1, #2, ...)
    line_id: str
    order_id: str
    sku: str
    name: str
    category: str
    price_cents: int
    quantity: int
    eligible: bool
    note: str

    @property
    def subtotal_cents(self) -> int:
        return self.price_cents * self.quantity


class ShownOrder(BaseModel):
    order_id: str
    status: str
    headline: str
    items: list[ShownItem]


class Draft(BaseModel):
    return_id: str
    items: list[ShownItem]
    reason: Reason | None = None
    resolution: Resolution | None = None
    shipping: Shipping | None = None

    @property
    def subtotal_cents(self) -> int:
        return sum(item.subtotal_cents for item in self.items)

    def next_step(self) -> str:
        if self.reason is None:
            return "reason"
        if self.resolution is None:
            return "resolution"
        if needs_shipping(self.resolution) and self.shipping is None:
            return "shipping"
        return "submit"


class RetailState(BaseModel):
    view_id: str | None = None  # identifies the orders widget last shown
    shown: list[ShownOrder] = Field(default_factory=list)
    picked: list[str] = Field(default_factory=list)  # ticked in the widget, not confirmed
    draft: Draft | None = None
    last_return_id: str | None = None
    shown_returns: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, session_data: Mapping[str, Any]) -> RetailState:
        raw = session_data.get(SESSION_KEY)
        return cls.model_validate(raw) if isinstance(raw, dict) else cls()

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def shown_items(self) -> list[ShownItem]:
        return [item for order in self.shown for item in order.items]


def show_orders(
    state: RetailState,
    orders: list[Order],
    verdicts: Mapping[str, Eligibility],
    view_id: str,
) -> RetailState:
    """Remember what the orders widget displays, numbering the items in reading order."""
    shown: list[ShownOrder] = []
    n = 0
    for order in orders:
        items = []
        for line in order.lines:
            n += 1
            verdict = verdicts[line.line_id]
            items.append(_shown_item(n, line, verdict))
        shown.append(
            ShownOrder(
                order_id=order.order_id,
                status=order.status,
                headline=order.headline(),
                items=items,
            )
        )
    return state.model_copy(update={"view_id": view_id, "shown": shown, "picked": []})


def _shown_item(n: int, line: OrderLine, verdict: Eligibility) -> ShownItem:
    return ShownItem(
        n=n,
        line_id=line.line_id,
        order_id=line.order_id,
        sku=line.sku,
        name=line.name,
        category=line.category,
        price_cents=line.price_cents,
        quantity=line.quantity,
        eligible=verdict.eligible,
        note=verdict.note,
    )


def check_view(state: RetailState, view_id: str | None) -> None:
    if view_id is not None and view_id != state.view_id:
        raise FlowError("That list of orders is out of date; use the most recent one.")


def toggle_pick(state: RetailState, line_id: str, view_id: str | None) -> RetailState:
    check_view(state, view_id)
    item = next((i for i in state.shown_items() if i.line_id == line_id), None)
    if item is None:
        raise FlowError("That item is not in the orders shown.")
    if not item.eligible:
        raise FlowError(f"{item.name} cannot be returned. {item.note}")
    picked = [p for p in state.picked if p != line_id]
    if len(picked) == len(state.picked):
        picked.append(line_id)
    return state.model_copy(update={"picked": picked})


def resolve_items(
    state: RetailState,
    refs: list[str] | None,
    order_id: str | None,
    lines: Mapping[str, OrderLine],
) -> list[str]:
    """Line ids for what the customer named, in the terms of what was displayed.

    A ref is an item number as shown ("2", "#2"), a line id, a SKU or a product name.
    No refs means every returnable item of the named order, or of the only order shown
    (that is how "return both items" after one order was displayed resolves).
    """
    shown = state.shown_items()
    if not refs:
        orders = [o for o in state.shown if order_id in (None, o.order_id)]
        if order_id and not orders:
            ids = [line.line_id for line in lines.values() if line.order_id == order_id.upper()]
            if not ids:
                raise FlowError(f"You have no order {order_id}.")
            return ids
        returnable = [o for o in orders if any(i.eligible for i in o.items)]
        if len(returnable) != 1:
            raise FlowError(
                "Which items? Name them by their number in the list shown, e.g. '#1, #2'."
                if shown
                else "Show the orders first, then pick the items to return."
            )
        return [i.line_id for i in returnable[0].items if i.eligible]
    found: list[str] = []
    unknown: list[str] = []
    for ref in refs:
        line_id = _match(ref, shown, lines, order_id)
        if line_id is None:
            unknown.append(ref)
        elif line_id not in found:
            found.append(line_id)
    if unknown:
        raise FlowError(
            f"I could not find {', '.join(repr(u[:40]) for u in unknown)} among your orders; "
            "use the item numbers shown."
        )
    return found


def _match(
    ref: str, shown: list[ShownItem], lines: Mapping[str, OrderLine], order_id: str | None
) -> str | None:
    text = ref.strip().lstrip("#").strip()
    # isdecimal, not isdigit: int() refuses "²"; and an item number is short (int() also
    # refuses more than 4,300 digits).
    if text.isdecimal() and len(text) <= 6:
        return next((i.line_id for i in shown if i.n == int(text)), None)
    upper = text.upper()
    if upper in lines:
        return upper
    scope = [i for i in shown if order_id in (None, i.order_id)]
    by_sku = [i.line_id for i in scope if i.sku == upper]
    by_name = [i.line_id for i in scope if text.lower() in i.name.lower()]
    matches = by_sku or by_name
    return matches[0] if len(matches) == 1 else None


def select_items(
    state: RetailState,
    line_ids: list[str],
    lines: Mapping[str, OrderLine],
    verdicts: Mapping[str, Eligibility],
    new_return_id: str,
) -> RetailState:
    """Start (or restart) the draft with these items; later choices are reset."""
    if not line_ids:
        raise FlowError("Select at least one item to return.")
    refused = [f"{lines[i].name}: {verdicts[i].note}" for i in line_ids if not verdicts[i].eligible]
    if refused:
        raise FlowError("Some items cannot be returned. " + " ".join(refused))
    numbers = {i.line_id: i.n for i in state.shown_items()}
    items = [
        _shown_item(numbers.get(line_id, 0), lines[line_id], verdicts[line_id])
        for line_id in line_ids
    ]
    return_id = state.draft.return_id if state.draft else new_return_id
    draft = Draft(return_id=return_id, items=items)
    return state.model_copy(update={"draft": draft, "picked": list(line_ids)})


def _current_draft(state: RetailState, return_id: str | None) -> Draft:
    draft = state.draft
    if draft is None or (return_id is not None and return_id != draft.return_id):
        done = f" Return {return_id} was already submitted." if return_id else ""
        raise FlowError(
            f"There is no return in progress for that choice.{done} "
            "Show your orders to start a new one."
        )
    return draft


def choose_reason(state: RetailState, reason: Reason, return_id: str | None) -> RetailState:
    draft = _current_draft(state, return_id)
    # The reason decides fees and what is offered: later choices are asked again.
    updated = draft.model_copy(update={"reason": reason, "resolution": None, "shipping": None})
    return state.model_copy(update={"draft": updated})


def choose_resolution(
    state: RetailState, resolution: Resolution, return_id: str | None
) -> RetailState:
    draft = _current_draft(state, return_id)
    if draft.reason is None:
        raise FlowError("Tell me why you are returning the items first.")
    blocked = resolution_blocker(resolution, draft.reason)
    if blocked:
        raise FlowError(blocked)
    updated = draft.model_copy(update={"resolution": resolution, "shipping": None})
    return state.model_copy(update={"draft": updated})


def choose_shipping(state: RetailState, shipping: Shipping, return_id: str | None) -> RetailState:
    draft = _current_draft(state, return_id)
    if draft.resolution is None:
        raise FlowError("Choose how you want to be compensated first.")
    if not needs_shipping(draft.resolution):
        raise FlowError("Nothing needs to be sent back when you keep the items.")
    updated = draft.model_copy(update={"shipping": shipping})
    return state.model_copy(update={"draft": updated})


def draft_quote(draft: Draft, tier: Tier) -> Quote:
    if draft.reason is None or draft.resolution is None:
        raise FlowError("The reason and the resolution are still missing.")
    return quote(draft.resolution, draft.reason, tier, draft.subtotal_cents)


def return_document(
    draft: Draft,
    *,
    tier: Tier,
    customer_id: str,
    thread_id: str,
    today: date,
    plan: ShippingPlan | None,
) -> dict[str, Any]:
    """The stored return for a finished draft."""
    if draft.next_step() != "submit":
        raise FlowError(f"The return still needs a {draft.next_step()}.")
    offer = draft_quote(draft, tier)
    keep = draft.resolution is Resolution.KEEP_WITH_DISCOUNT
    return {
        "return_id": draft.return_id,
        "status": (ReturnStatus.COMPLETED if keep else ReturnStatus.REQUESTED).value,
        "customer_id": customer_id,
        "tier": tier.value,
        "thread_id": thread_id,
        "created_on": today.isoformat(),
        "items": [
            item.model_dump(include={"line_id", "order_id", "sku", "name", "price_cents"})
            | {"quantity": item.quantity}
            for item in draft.items
        ],
        "reason": draft.reason.value if draft.reason else None,
        "resolution": offer.resolution.value,
        "shipping": plan.method.value if plan else None,
        "ship_by": plan.by.isoformat() if plan else None,
        "instructions": plan.instructions if plan else "Nothing to send back.",
        "subtotal_cents": offer.subtotal_cents,
        "fee_percent": offer.fee_percent,
        "fee_cents": offer.fee_cents,
        "refund_cents": offer.refund_cents,
        "store_credit_cents": offer.store_credit_cents,
        "summary": offer.summary(),
    }


def submitted(state: RetailState, return_id: str) -> RetailState:
    """Clear the draft once its return is stored; remember it for "cancel it"."""
    draft = state.draft if state.draft and state.draft.return_id != return_id else None
    return state.model_copy(update={"draft": draft, "picked": [], "last_return_id": return_id})
