"""Return policy for the retail use case, free of I/O so it is tested without a model.

Money is integer cents; percentages are applied with Decimal and rounded half-up to the
cent, so a fee and the refund it leaves always add up to the subtotal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TypeVar


class Tier(StrEnum):
    STANDARD = "Standard"
    SILVER = "Silver"
    GOLD = "Gold"
    PLATINUM = "Platinum"


class Reason(StrEnum):
    DAMAGED = "DAMAGED"
    DEFECTIVE = "DEFECTIVE"
    WRONG_SIZE = "WRONG_SIZE"
    WRONG_COLOR = "WRONG_COLOR"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    ARRIVED_LATE = "ARRIVED_LATE"
    CHANGED_MIND = "CHANGED_MIND"
    OTHER = "OTHER"


class Resolution(StrEnum):
    FULL_REFUND = "FULL_REFUND"
    EXCHANGE = "EXCHANGE"
    STORE_CREDIT = "STORE_CREDIT"
    KEEP_WITH_DISCOUNT = "KEEP_WITH_DISCOUNT"


class Shipping(StrEnum):
    SCHEDULE_PICKUP = "SCHEDULE_PICKUP"
    DROP_OFF = "DROP_OFF"
    PREPAID_LABEL = "PREPAID_LABEL"


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"  # waiting for the parcel
    COMPLETED = "COMPLETED"  # keep-with-discount: the partial refund is issued at once
    CANCELLED = "CANCELLED"


REASON_LABELS = {
    Reason.DAMAGED: "Arrived damaged",
    Reason.DEFECTIVE: "Defective / does not work",
    Reason.WRONG_SIZE: "Wrong size",
    Reason.WRONG_COLOR: "Wrong colour",
    Reason.NOT_AS_DESCRIBED: "Not as described",
    Reason.ARRIVED_LATE: "Arrived late",
    Reason.CHANGED_MIND: "Changed my mind",
    Reason.OTHER: "Other",
}
RESOLUTION_LABELS = {
    Resolution.FULL_REFUND: "Full refund",
    Resolution.EXCHANGE: "Exchange for the same item",
    Resolution.STORE_CREDIT: "Store credit",
    Resolution.KEEP_WITH_DISCOUNT: "Keep it with a partial refund",
}
SHIPPING_LABELS = {
    Shipping.SCHEDULE_PICKUP: "Schedule a courier pickup",
    Shipping.DROP_OFF: "Drop off at a partner point",
    Shipping.PREPAID_LABEL: "Prepaid label (post it yourself)",
}

BASE_WINDOW_DAYS = 30
TIER_EXTENSION_DAYS = {Tier.STANDARD: 0, Tier.SILVER: 7, Tier.GOLD: 14, Tier.PLATINUM: 30}
RETURNABLE_STATUSES = frozenset({"delivered", "shipped"})
# Category -> why it cannot be returned (shown to the customer as-is).
NON_RETURNABLE_CATEGORIES = {
    "underwear": "underwear cannot be returned for hygiene reasons",
    "swimwear": "swimwear cannot be returned for hygiene reasons",
    "earrings": "earrings cannot be returned for hygiene reasons",
    "personalised": "personalised items are made to order and cannot be returned",
    "final_sale": "final-sale items cannot be returned",
}
# Restocking fee in percent of the returned items' price; reasons that are our fault
# (or the carrier's) carry none.
RESTOCKING_FEE_PERCENT = {Reason.CHANGED_MIND: 15, Reason.OTHER: 10}
FEE_WAIVED_TIERS = frozenset({Tier.GOLD, Tier.PLATINUM})
# Keep-with-discount: the customer keeps the items and gets this share of their price
# back, with no shipping. It compensates a problem with the item, so it is not offered
# to someone who simply changed their mind.
KEEP_DISCOUNT_PERCENT = 30
KEEP_NOT_OFFERED_FOR = frozenset({Reason.CHANGED_MIND})
PICKUP_LEAD_DAYS = 2  # the courier comes this many days after the request
SEND_BACK_DAYS = 14  # drop-off or prepaid-label parcels must be sent within this time


class PolicyError(ValueError):
    """A choice the policy does not allow; the message says why, for the customer."""


def fmt_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def fmt_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def percent_of(cents: int, percent: int) -> int:
    value = Decimal(cents) * Decimal(percent) / Decimal(100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# Eligibility


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    order_id: str
    sku: str
    name: str
    category: str
    price_cents: int
    quantity: int

    @property
    def subtotal_cents(self) -> int:
        return self.price_cents * self.quantity


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str  # delivered | shipped | processing | cancelled
    ordered_on: date
    delivered_on: date | None = None
    expected_on: date | None = None  # shipped orders: the estimated delivery
    lines: tuple[OrderLine, ...] = ()

    def headline(self) -> str:
        if self.status == "delivered" and self.delivered_on:
            return f"Delivered {fmt_date(self.delivered_on)}"
        if self.status == "shipped" and self.expected_on:
            return f"Shipped, arriving {fmt_date(self.expected_on)}"
        if self.status == "cancelled":
            return f"Cancelled (ordered {fmt_date(self.ordered_on)})"
        return f"Processing (ordered {fmt_date(self.ordered_on)})"


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    note: str  # why (not), with the relevant dates
    deadline: date | None = None


def window_days(tier: Tier) -> int:
    return BASE_WINDOW_DAYS + TIER_EXTENSION_DAYS[tier]


def eligibility(
    order: Order,
    line: OrderLine,
    tier: Tier,
    today: date,
    active_returns: Mapping[str, str] | None = None,
) -> Eligibility:
    """Whether one order line can be returned today, and why (not).

    `active_returns` maps line ids to the open return that already holds them.
    """
    ordered = fmt_date(order.ordered_on)
    if order.status == "cancelled":
        return Eligibility(False, f"Not returnable: the order placed {ordered} was cancelled.")
    if order.status not in RETURNABLE_STATUSES:
        return Eligibility(
            False, f"Not returnable yet: the order placed {ordered} has not shipped."
        )
    blocked = NON_RETURNABLE_CATEGORIES.get(line.category)
    if blocked:
        return Eligibility(False, f"Not returnable: {blocked} (ordered {ordered}).")
    held_by = (active_returns or {}).get(line.line_id)
    if held_by:
        return Eligibility(False, f"Already in return {held_by}.")
    days = window_days(tier)
    # A parcel still in transit has its window start at the estimated delivery.
    start = order.delivered_on or order.expected_on or order.ordered_on
    deadline = start + timedelta(days=days)
    if order.status == "delivered" and today > deadline:
        return Eligibility(
            False,
            f"Not returnable: the {days}-day {tier} return window closed on "
            f"{fmt_date(deadline)} (delivered {fmt_date(start)}).",
            deadline,
        )
    if order.status == "shipped":
        return Eligibility(
            True,
            f"In transit (arriving {fmt_date(start)}); returnable until {fmt_date(deadline)}.",
            deadline,
        )
    return Eligibility(
        True, f"Returnable until {fmt_date(deadline)} ({days}-day {tier} window).", deadline
    )


# Money


def restocking_fee_percent(reason: Reason, tier: Tier) -> int:
    if tier in FEE_WAIVED_TIERS:
        return 0
    return RESTOCKING_FEE_PERCENT.get(reason, 0)


def resolution_blocker(resolution: Resolution, reason: Reason) -> str | None:
    if resolution is Resolution.KEEP_WITH_DISCOUNT and reason in KEEP_NOT_OFFERED_FOR:
        return (
            "Keeping the items with a partial refund is offered only when something is wrong "
            "with them, not when you changed your mind."
        )
    return None


@dataclass(frozen=True)
class Quote:
    resolution: Resolution
    subtotal_cents: int
    fee_percent: int = 0
    fee_cents: int = 0
    refund_cents: int = 0  # money back to the original payment method
    store_credit_cents: int = 0

    def summary(self) -> str:
        if self.resolution is Resolution.FULL_REFUND:
            fee = (
                f" after a {self.fee_percent}% restocking fee of {fmt_money(self.fee_cents)}"
                if self.fee_cents
                else ", no restocking fee"
            )
            return f"Refund of {fmt_money(self.refund_cents)}{fee}"
        if self.resolution is Resolution.STORE_CREDIT:
            return f"{fmt_money(self.store_credit_cents)} store credit, no restocking fee"
        if self.resolution is Resolution.EXCHANGE:
            return "A replacement of the same item, no charge"
        return (
            f"Keep the items and get {fmt_money(self.refund_cents)} back "
            f"({KEEP_DISCOUNT_PERCENT}% of {fmt_money(self.subtotal_cents)}), nothing to send"
        )


def quote(resolution: Resolution, reason: Reason, tier: Tier, subtotal_cents: int) -> Quote:
    """What the customer gets for a resolution.

    The restocking fee applies to refunds only: store credit and exchanges keep the sale,
    and keep-with-discount ships nothing back.
    """
    blocked = resolution_blocker(resolution, reason)
    if blocked:
        raise PolicyError(blocked)
    if resolution is Resolution.FULL_REFUND:
        percent = restocking_fee_percent(reason, tier)
        fee = percent_of(subtotal_cents, percent)
        return Quote(resolution, subtotal_cents, percent, fee, refund_cents=subtotal_cents - fee)
    if resolution is Resolution.STORE_CREDIT:
        return Quote(resolution, subtotal_cents, store_credit_cents=subtotal_cents)
    if resolution is Resolution.EXCHANGE:
        return Quote(resolution, subtotal_cents)
    refund = percent_of(subtotal_cents, KEEP_DISCOUNT_PERCENT)
    return Quote(resolution, subtotal_cents, refund_cents=refund)


def needs_shipping(resolution: Resolution) -> bool:
    return resolution is not Resolution.KEEP_WITH_DISCOUNT


# Shipping and cancellation


@dataclass(frozen=True)
class ShippingPlan:
    method: Shipping
    by: date  # pickup day, or the last day to send the parcel
    instructions: str


def shipping_plan(method: Shipping, today: date) -> ShippingPlan:
    if method is Shipping.SCHEDULE_PICKUP:
        day = today + timedelta(days=PICKUP_LEAD_DAYS)
        return ShippingPlan(method, day, f"A courier picks the parcel up on {fmt_date(day)}.")
    day = today + timedelta(days=SEND_BACK_DAYS)
    if method is Shipping.DROP_OFF:
        text = f"Drop the parcel at any partner point by {fmt_date(day)}; show the return id."
    else:
        text = f"A prepaid label is in your email; post the parcel by {fmt_date(day)}."
    return ShippingPlan(method, day, text)


def cancellation_blocker(
    status: str, shipping: str | None, pickup_on: date | None, today: date
) -> str | None:
    """Why a return can no longer be cancelled, or None.

    Returns can be cancelled until the parcel is collected: for a courier pickup that is
    the pickup day; drop-off and label parcels are not tracked in this demo, so those stay
    cancellable while requested.
    """
    if status == ReturnStatus.CANCELLED:
        return "This return is already cancelled."
    if status == ReturnStatus.COMPLETED:
        return "This return is complete (the partial refund was already issued)."
    if shipping == Shipping.SCHEDULE_PICKUP and pickup_on is not None and today >= pickup_on:
        return (
            f"The courier pickup was on {fmt_date(pickup_on)}; a return can only be cancelled "
            "before pickup."
        )
    return None


# Understanding what the customer typed

_REASON_WORDS: tuple[tuple[str, Reason], ...] = (
    (r"damag|broken|crack|torn|smash", Reason.DAMAGED),
    (r"defect|faulty|not work|doesn.?t work|stopped working|malfunction", Reason.DEFECTIVE),
    (r"size|too (small|big|large|tight|loose)|fit", Reason.WRONG_SIZE),
    (r"colou?r", Reason.WRONG_COLOR),
    (r"describ|different|not what|pictur|photo", Reason.NOT_AS_DESCRIBED),
    (r"\blate\b|delay|too long", Reason.ARRIVED_LATE),
    (r"changed? (my )?mind|don.?t (want|need|like)|no longer|unwanted", Reason.CHANGED_MIND),
    (r"\bother\b", Reason.OTHER),
)
_RESOLUTION_WORDS: tuple[tuple[str, Resolution], ...] = (
    (r"keep|discount|partial", Resolution.KEEP_WITH_DISCOUNT),
    (r"credit|voucher|gift card", Resolution.STORE_CREDIT),
    (r"exchang|swap|replace", Resolution.EXCHANGE),
    (r"refund|money back", Resolution.FULL_REFUND),
)
_SHIPPING_WORDS: tuple[tuple[str, Shipping], ...] = (
    (r"pick ?up|collect|courier", Shipping.SCHEDULE_PICKUP),
    (r"label|post|mail", Shipping.PREPAID_LABEL),
    (r"drop|store|shop|point", Shipping.DROP_OFF),
)


_E = TypeVar("_E", bound=StrEnum)


def _parse(text: str, kind: type[_E], words: tuple[tuple[str, _E], ...]) -> _E:
    cleaned = text.strip()
    code = re.sub(r"[\s-]+", "_", cleaned).upper()
    if code in kind.__members__:
        return kind[code]
    lowered = cleaned.lower()
    for pattern, value in words:
        if re.search(pattern, lowered):
            return value
    options = ", ".join(kind.__members__)
    raise PolicyError(f"'{cleaned[:60]}' is not one of: {options}.")


def parse_reason(text: str) -> Reason:
    return _parse(text, Reason, _REASON_WORDS)


def parse_resolution(text: str) -> Resolution:
    return _parse(text, Resolution, _RESOLUTION_WORDS)


def parse_shipping(text: str) -> Shipping:
    return _parse(text, Shipping, _SHIPPING_WORDS)
