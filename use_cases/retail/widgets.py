"""Widgets of the return flow, rendered from the `.widget` templates next to this file.

Each builder returns the widget and its `copy_text`: the plain-text summary the model
reads in later turns (widgets reach it as text, not JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from use_cases.retail.domain import (
    KEEP_DISCOUNT_PERCENT,
    REASON_LABELS,
    RESOLUTION_LABELS,
    SHIPPING_LABELS,
    Reason,
    Resolution,
    ReturnStatus,
    Shipping,
    Tier,
    cancellation_blocker,
    fmt_date,
    fmt_money,
    quote,
    resolution_blocker,
    restocking_fee_percent,
    shipping_plan,
    window_days,
)
from use_cases.retail.state import Draft, RetailState

TOGGLE_ACTION = "retail.toggle_item"
SELECT_ACTION = "retail.select_items"
REASON_ACTION = "retail.choose_reason"
RESOLUTION_ACTION = "retail.choose_resolution"
SHIPPING_ACTION = "retail.choose_shipping"
CANCEL_ACTION = "retail.cancel_return"

_DIR = Path(__file__).parent
_ORDERS = WidgetTemplate.from_file(str(_DIR / "orders.widget"))
_CHOICE = WidgetTemplate.from_file(str(_DIR / "choice.widget"))
_CONFIRMATION = WidgetTemplate.from_file(str(_DIR / "confirmation.widget"))
_RETURNS = WidgetTemplate.from_file(str(_DIR / "returns.widget"))

_STATUS_COLORS = {
    "delivered": "success",
    "shipped": "info",
    "processing": "warning",
    "cancelled": "secondary",
}
_RETURN_COLORS = {
    ReturnStatus.REQUESTED: "info",
    ReturnStatus.COMPLETED: "success",
    ReturnStatus.CANCELLED: "secondary",
}


@dataclass(frozen=True)
class Shown:
    widget: DynamicWidgetRoot
    copy_text: str


def _items_text(draft: Draft) -> str:
    return ", ".join(f"#{i.n} {i.name}" if i.n else i.name for i in draft.items)


def orders_widget(state: RetailState, customer: str, tier: Tier, *, locked: bool) -> Shown:
    """The orders last shown; `locked` once the selection is confirmed (no more buttons)."""
    if locked and state.draft is not None:
        picked = {i.line_id for i in state.draft.items}
    else:
        picked = set(state.picked)
    orders: list[dict[str, Any]] = []
    texts: list[str] = []
    for order in state.shown:
        items = []
        item_texts = []
        for item in order.items:
            qty = f" × {item.quantity}" if item.quantity > 1 else ""
            items.append(
                {
                    "line_id": item.line_id,
                    "label": f"#{item.n} {item.name}",
                    "detail": f"{fmt_money(item.price_cents)}{qty} · {item.note}",
                    "eligible": item.eligible,
                    "picked": item.line_id in picked,
                }
            )
            item_texts.append(
                f"#{item.n} {item.name}{qty} ({item.line_id}, {fmt_money(item.subtotal_cents)}): "
                f"{item.note.rstrip('.')}"
            )
        orders.append(
            {
                "order_id": order.order_id,
                "status_label": order.status.capitalize(),
                "status_color": _STATUS_COLORS.get(order.status, "secondary"),
                "headline": order.headline,
                "lines": items,
            }
        )
        texts.append(f"{order.order_id} ({order.headline}): " + "; ".join(item_texts))
    names = [f"#{i.n} {i.name}" for i in state.shown_items() if i.line_id in picked]
    if locked:
        footer = f"Returning: {', '.join(names)}" if names else "No items selected."
    else:
        footer = f"Selected: {', '.join(names)}" if names else "Select the items to return."
    widget = _ORDERS.build(
        {
            "title": "Your recent orders",
            "subtitle": f"{customer} · {tier} member · {window_days(tier)}-day return window",
            "view_id": state.view_id or "",
            "locked": locked,
            "any_eligible": any(i.eligible for i in state.shown_items()),
            "picked_count": len(picked),
            "footer": footer,
            "orders": orders,
        }
    )
    return Shown(widget, "Orders shown: " + " | ".join(texts) + f". {footer}")


def _choice(
    title: str,
    subtitle: str,
    action: str,
    draft: Draft,
    options: list[dict[str, Any]],
    locked: bool,
) -> Shown:
    if locked:
        options = [o for o in options if o["chosen"]]
    widget = _CHOICE.build(
        {
            "title": title,
            "subtitle": subtitle,
            "action": action,
            "return_id": draft.return_id,
            "locked": locked,
            "options": options,
        }
    )
    chosen = [o["label"] for o in options if o["chosen"]]
    if chosen:
        copy = f"{title} Chosen: {chosen[0]}."
    else:
        listed = "; ".join(f"{o['value']} ({o['label']}: {o['detail']})" for o in options)
        copy = f"{title} Options: {listed}."
    return Shown(widget, f"[{draft.return_id}] {copy}")


def reason_widget(draft: Draft, tier: Tier, *, locked: bool = False) -> Shown:
    options = []
    for reason in Reason:
        percent = restocking_fee_percent(reason, tier)
        base = restocking_fee_percent(reason, Tier.STANDARD)
        if percent:
            detail = f"{percent}% restocking fee on refunds"
        elif base:
            detail = f"{base}% restocking fee waived for {tier} members"
        else:
            detail = "No restocking fee"
        options.append(
            {
                "value": reason.value,
                "label": REASON_LABELS[reason],
                "detail": detail,
                "chosen": draft.reason is reason,
                "enabled": True,
            }
        )
    return _choice(
        f"Why are you returning {_items_text(draft)}?",
        f"Return {draft.return_id}",
        REASON_ACTION,
        draft,
        options,
        locked,
    )


def resolution_widget(draft: Draft, tier: Tier, *, locked: bool = False) -> Shown:
    assert draft.reason is not None
    options = []
    for resolution in Resolution:
        blocked = resolution_blocker(resolution, draft.reason)
        detail = (
            blocked
            if blocked
            else quote(resolution, draft.reason, tier, draft.subtotal_cents).summary()
        )
        options.append(
            {
                "value": resolution.value,
                "label": RESOLUTION_LABELS[resolution],
                "detail": detail,
                "chosen": draft.resolution is resolution,
                "enabled": blocked is None,
            }
        )
    return _choice(
        "What would you like instead?",
        f"Return {draft.return_id} · {REASON_LABELS[draft.reason]} · items worth "
        f"{fmt_money(draft.subtotal_cents)}",
        RESOLUTION_ACTION,
        draft,
        options,
        locked,
    )


def shipping_widget(draft: Draft, today: date, *, locked: bool = False) -> Shown:
    options = [
        {
            "value": method.value,
            "label": SHIPPING_LABELS[method],
            "detail": shipping_plan(method, today).instructions,
            "chosen": draft.shipping is method,
            "enabled": True,
        }
        for method in Shipping
    ]
    return _choice(
        "How will you send the items back?",
        f"Return {draft.return_id} · free return shipping",
        SHIPPING_ACTION,
        draft,
        options,
        locked,
    )


def pickup_day(ret: Mapping[str, Any]) -> date | None:
    ship_by = ret.get("ship_by")
    return date.fromisoformat(ship_by) if ship_by else None


def is_cancellable(ret: Mapping[str, Any], today: date) -> bool:
    return cancellation_blocker(ret["status"], ret.get("shipping"), pickup_day(ret), today) is None


def _status(ret: Mapping[str, Any]) -> tuple[str, str]:
    status = ReturnStatus(ret["status"])
    return status.value.capitalize(), _RETURN_COLORS[status]


def confirmation_widget(ret: Mapping[str, Any], today: date) -> Shown:
    label, color = _status(ret)
    resolution = Resolution(ret["resolution"])
    facts = [
        {"label": "Reason", "value": REASON_LABELS[Reason(ret["reason"])]},
        {"label": "Resolution", "value": RESOLUTION_LABELS[resolution]},
        {"label": "You get", "value": ret["summary"]},
    ]
    if ret.get("shipping"):
        facts.append(
            {"label": "Return shipping", "value": SHIPPING_LABELS[Shipping(ret["shipping"])]}
        )
    items = [
        {
            "key": item["line_id"],
            "label": f"{item['name']} ({item['order_id']})",
            "value": fmt_money(int(item["price_cents"]) * int(item["quantity"])),
        }
        for item in ret["items"]
    ]
    titles = {
        ReturnStatus.REQUESTED: "Return requested",
        ReturnStatus.COMPLETED: f"Partial refund issued ({KEEP_DISCOUNT_PERCENT}%)",
        ReturnStatus.CANCELLED: "Return cancelled",
    }
    instructions = ret["instructions"]
    if ret["status"] == ReturnStatus.CANCELLED:
        instructions = "This return was cancelled; nothing needs to be sent."
    widget = _CONFIRMATION.build(
        {
            "title": titles[ReturnStatus(ret["status"])],
            "return_id": ret["return_id"],
            "status_label": label,
            "status_color": color,
            "items": items,
            "facts": facts,
            "instructions": instructions,
            "cancellable": is_cancellable(ret, today),
        }
    )
    return Shown(widget, return_text(ret, today))


def return_text(ret: Mapping[str, Any], today: date) -> str:
    names = ", ".join(f"{i['name']} ({i['line_id']})" for i in ret["items"])
    if ret["status"] == ReturnStatus.CANCELLED:
        tail = f"Cancelled on {ret.get('cancelled_on', 'an earlier day')}."
    elif is_cancellable(ret, today):
        tail = f"{ret['instructions']} It can be cancelled."
    else:
        tail = f"{ret['instructions']} It can no longer be cancelled."
    return (
        f"Return {ret['return_id']} ({ret['status']}, created {ret['created_on']}): {names}; "
        f"reason {ret['reason']}; {ret['resolution']}: {ret['summary']}. {tail}"
    )


def returns_widget(returns: list[Mapping[str, Any]], today: date) -> Shown:
    rows = []
    for ret in returns:
        label, color = _status(ret)
        created = fmt_date(date.fromisoformat(ret["created_on"]))
        names = ", ".join(i["name"] for i in ret["items"])
        rows.append(
            {
                "return_id": ret["return_id"],
                "label": f"{ret['return_id']} · {names}",
                "detail": f"Requested {created} · {ret['summary']}",
                "status_label": label,
                "status_color": color,
                "cancellable": is_cancellable(ret, today),
            }
        )
    widget = _RETURNS.build(
        {"title": "Your returns", "empty": "You have no returns yet.", "returns": rows}
    )
    if not returns:
        return Shown(widget, "Returns shown: none.")
    return Shown(widget, "Returns shown: " + " | ".join(return_text(r, today) for r in returns))
