"""Retail returns: the pure policy, demo data and flow transitions, without a model."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from chatkit.widgets import Card

from use_cases.retail.data import (
    CUSTOMERS,
    catalogue_documents,
    customer_documents,
    customer_id_for_user,
    customer_profile,
    orders_from_document,
)
from use_cases.retail.domain import (
    NON_RETURNABLE_CATEGORIES,
    Order,
    OrderLine,
    PolicyError,
    Reason,
    Resolution,
    Shipping,
    Tier,
    cancellation_blocker,
    eligibility,
    fmt_date,
    fmt_money,
    parse_reason,
    parse_resolution,
    parse_shipping,
    percent_of,
    quote,
    restocking_fee_percent,
    shipping_plan,
    window_days,
)
from use_cases.retail.state import (
    FlowError,
    RetailState,
    resolve_items,
    return_document,
    select_items,
    show_orders,
    submitted,
    toggle_pick,
)
from use_cases.retail.state import choose_reason as st_reason
from use_cases.retail.state import choose_resolution as st_resolution
from use_cases.retail.state import choose_shipping as st_shipping
from use_cases.retail.widgets import (
    confirmation_widget,
    orders_widget,
    reason_widget,
    resolution_widget,
    returns_widget,
    shipping_widget,
)

TODAY = date(2025, 6, 15)


def line(category: str = "apparel", price: int = 4900, qty: int = 1, n: int = 1) -> OrderLine:
    return OrderLine(f"ORD-1-{n}", "ORD-1", f"SKU-{n}", f"Thing {n}", category, price, qty)


def delivered(days_ago: int, *lines: OrderLine) -> Order:
    day = TODAY - timedelta(days=days_ago)
    return Order("ORD-1", "delivered", day - timedelta(days=3), delivered_on=day, lines=lines)


# Return windows


@pytest.mark.parametrize(
    ("tier", "days"),
    [(Tier.STANDARD, 30), (Tier.SILVER, 37), (Tier.GOLD, 44), (Tier.PLATINUM, 60)],
)
def test_window_is_30_days_plus_the_tier_extension(tier, days):
    assert window_days(tier) == days
    last_day = eligibility(delivered(days, line()), line(), tier, TODAY)
    assert last_day.eligible and last_day.deadline == TODAY
    assert f"Returnable until {fmt_date(TODAY)} ({days}-day {tier} window)" in last_day.note

    late = eligibility(delivered(days + 1, line()), line(), tier, TODAY)
    assert not late.eligible
    closed_on = fmt_date(TODAY - timedelta(days=1))
    delivered_on = fmt_date(TODAY - timedelta(days=days + 1))
    assert late.note == (
        f"Not returnable: the {days}-day {tier} return window closed on {closed_on} "
        f"(delivered {delivered_on})."
    )


def test_shipped_orders_are_returnable_from_their_expected_delivery():
    expected = TODAY + timedelta(days=2)
    order = Order("ORD-1", "shipped", TODAY - timedelta(days=1), expected_on=expected)
    verdict = eligibility(order, line(), Tier.STANDARD, TODAY)
    assert verdict.eligible
    assert verdict.deadline == expected + timedelta(days=30)
    assert fmt_date(expected) in verdict.note and fmt_date(verdict.deadline) in verdict.note


@pytest.mark.parametrize(
    ("status", "fragment"),
    [("processing", "has not shipped"), ("cancelled", "was cancelled")],
)
def test_only_delivered_or_shipped_orders_are_returnable(status, fragment):
    order = Order("ORD-1", status, TODAY - timedelta(days=4))
    verdict = eligibility(order, line(), Tier.PLATINUM, TODAY)
    assert not verdict.eligible
    assert fragment in verdict.note
    assert f"placed {fmt_date(TODAY - timedelta(days=4))}" in verdict.note


@pytest.mark.parametrize("category", sorted(NON_RETURNABLE_CATEGORIES))
def test_non_returnable_categories_are_explained_even_inside_the_window(category):
    item = line(category)
    verdict = eligibility(delivered(1, item), item, Tier.PLATINUM, TODAY)
    assert not verdict.eligible
    assert NON_RETURNABLE_CATEGORIES[category] in verdict.note
    assert fmt_date(TODAY - timedelta(days=4)) in verdict.note  # the order date


def test_an_item_in_an_open_return_is_not_returnable_again():
    verdict = eligibility(delivered(1, line()), line(), Tier.GOLD, TODAY, {"ORD-1-1": "RET-A"})
    assert not verdict.eligible and verdict.note == "Already in return RET-A."


# Fees and amounts


@pytest.mark.parametrize(
    ("reason", "standard_percent"),
    [
        (Reason.CHANGED_MIND, 15),
        (Reason.OTHER, 10),
        (Reason.DAMAGED, 0),
        (Reason.DEFECTIVE, 0),
        (Reason.WRONG_SIZE, 0),
        (Reason.WRONG_COLOR, 0),
        (Reason.NOT_AS_DESCRIBED, 0),
        (Reason.ARRIVED_LATE, 0),
    ],
)
def test_restocking_fee_by_reason_waived_for_gold_and_platinum(reason, standard_percent):
    assert restocking_fee_percent(reason, Tier.STANDARD) == standard_percent
    assert restocking_fee_percent(reason, Tier.SILVER) == standard_percent
    assert restocking_fee_percent(reason, Tier.GOLD) == 0
    assert restocking_fee_percent(reason, Tier.PLATINUM) == 0


def test_refund_subtracts_the_fee_rounded_half_up_to_the_cent():
    offer = quote(Resolution.FULL_REFUND, Reason.CHANGED_MIND, Tier.STANDARD, 1999)
    assert (offer.fee_percent, offer.fee_cents, offer.refund_cents) == (15, 300, 1699)
    assert offer.fee_cents + offer.refund_cents == 1999
    assert percent_of(1005, 10) == 101  # 100.5 rounds up, not to even
    assert "restocking fee of $3.00" in offer.summary()
    waived = quote(Resolution.FULL_REFUND, Reason.CHANGED_MIND, Tier.GOLD, 1999)
    assert (waived.fee_cents, waived.refund_cents) == (0, 1999)


def test_store_credit_and_exchange_carry_no_fee():
    credit = quote(Resolution.STORE_CREDIT, Reason.OTHER, Tier.STANDARD, 10000)
    assert (credit.fee_cents, credit.store_credit_cents, credit.refund_cents) == (0, 10000, 0)
    exchange = quote(Resolution.EXCHANGE, Reason.CHANGED_MIND, Tier.STANDARD, 10000)
    assert (exchange.fee_cents, exchange.refund_cents) == (0, 0)


def test_keep_with_discount_refunds_30_percent_but_not_for_a_change_of_mind():
    offer = quote(Resolution.KEEP_WITH_DISCOUNT, Reason.DAMAGED, Tier.STANDARD, 10800)
    assert (offer.refund_cents, offer.fee_cents) == (3240, 0)
    assert "$32.40" in offer.summary() and "30%" in offer.summary()
    with pytest.raises(PolicyError, match="changed your mind"):
        quote(Resolution.KEEP_WITH_DISCOUNT, Reason.CHANGED_MIND, Tier.GOLD, 10800)


def test_money_formatting():
    assert fmt_money(123456) == "$1,234.56" and fmt_money(5) == "$0.05"


# Shipping and cancellation


def test_shipping_plans_and_cancellation_before_pickup_only():
    pickup = shipping_plan(Shipping.SCHEDULE_PICKUP, TODAY)
    assert pickup.by == TODAY + timedelta(days=2) and fmt_date(pickup.by) in pickup.instructions
    assert shipping_plan(Shipping.DROP_OFF, TODAY).by == TODAY + timedelta(days=14)
    assert "label" in shipping_plan(Shipping.PREPAID_LABEL, TODAY).instructions

    assert cancellation_blocker("REQUESTED", "SCHEDULE_PICKUP", pickup.by, TODAY) is None
    after = cancellation_blocker("REQUESTED", "SCHEDULE_PICKUP", pickup.by, pickup.by)
    assert after and "before pickup" in after and fmt_date(pickup.by) in after
    assert cancellation_blocker("REQUESTED", "DROP_OFF", None, TODAY + timedelta(days=99)) is None
    assert "already cancelled" in cancellation_blocker("CANCELLED", "DROP_OFF", None, TODAY)
    assert "partial refund" in cancellation_blocker("COMPLETED", None, None, TODAY)


def test_typed_answers_map_to_codes_and_unknown_ones_list_the_options():
    assert parse_reason("it is too small") is Reason.WRONG_SIZE
    assert parse_reason("wrong-color") is Reason.WRONG_COLOR
    assert parse_reason("I changed my mind") is Reason.CHANGED_MIND
    assert parse_reason("arrived broken") is Reason.DAMAGED
    assert parse_resolution("store credit please") is Resolution.STORE_CREDIT
    assert parse_resolution("keep it with a discount") is Resolution.KEEP_WITH_DISCOUNT
    assert parse_shipping("schedule a pickup") is Shipping.SCHEDULE_PICKUP
    assert parse_shipping("drop off") is Shipping.DROP_OFF
    with pytest.raises(PolicyError, match="DAMAGED, DEFECTIVE"):
        parse_reason("because")


# Demo data


def test_customers_are_chosen_deterministically_and_local_user_is_gold():
    assert customer_profile(customer_id_for_user("local-user"))[1] is Tier.GOLD
    ids = {cid for cid, _name, _tier in CUSTOMERS}
    assert customer_id_for_user("alice") == customer_id_for_user("alice") in ids
    assert len({customer_id_for_user(f"user-{n}") for n in range(40)}) == len(CUSTOMERS)


@pytest.mark.parametrize("customer_id", [c[0] for c in CUSTOMERS])
def test_every_demo_customer_has_eligible_and_ineligible_items_whatever_the_day(customer_id):
    doc = customer_documents()[customer_id]
    orders = orders_from_document(doc, catalogue_documents(), TODAY)
    tier = Tier(doc["tier"])
    verdicts = [eligibility(o, ln, tier, TODAY) for o in orders for ln in o.lines]
    assert any(v.eligible for v in verdicts) and any(not v.eligible for v in verdicts)
    assert {o.status for o in orders} == {"delivered", "shipped", "processing", "cancelled"}
    assert orders == sorted(orders, key=lambda o: o.ordered_on, reverse=True)
    coat = next(ln for o in orders for ln in o.lines if ln.name == "Wool coat")
    coat_order = next(o for o in orders if coat in o.lines)
    assert eligibility(coat_order, coat, tier, TODAY).eligible is (window_days(tier) >= 40)


# Flow transitions


def gold_state() -> tuple[RetailState, dict, dict]:
    doc = customer_documents()["CUS-3"]
    orders = orders_from_document(doc, catalogue_documents(), TODAY)
    lines = {ln.line_id: ln for o in orders for ln in o.lines}
    verdicts = {ln.line_id: eligibility(o, ln, Tier.GOLD, TODAY) for o in orders for ln in o.lines}
    return show_orders(RetailState(), orders, verdicts, "view1"), lines, verdicts


def test_items_resolve_by_number_line_id_name_or_the_only_order_shown():
    state, lines, _ = gold_state()
    assert [i.n for i in state.shown_items()] == list(range(1, 14))
    assert resolve_items(state, ["#5", "ORD-3003-2"], None, lines) == ["ORD-3003-1", "ORD-3003-2"]
    assert resolve_items(state, ["linen shirt"], None, lines) == ["ORD-3003-1"]
    # Nothing named: all returnable items of the named order ("return both items").
    assert resolve_items(state, None, "ORD-3003", lines) == ["ORD-3003-1", "ORD-3003-2"]
    with pytest.raises(FlowError, match="Which items"):
        resolve_items(state, None, None, lines)  # several orders shown: ambiguous
    with pytest.raises(FlowError, match="'#99'"):
        resolve_items(state, ["#99"], None, lines)
    one = state.model_copy(update={"shown": [o for o in state.shown if o.order_id == "ORD-3003"]})
    assert resolve_items(one, None, None, lines) == ["ORD-3003-1", "ORD-3003-2"]


def test_toggling_and_selecting_respect_eligibility_and_the_view():
    state, lines, verdicts = gold_state()
    state = toggle_pick(state, "ORD-3003-1", "view1")
    assert state.picked == ["ORD-3003-1"]
    assert toggle_pick(state, "ORD-3003-1", "view1").picked == []
    with pytest.raises(FlowError, match="out of date"):
        toggle_pick(state, "ORD-3003-2", "older-view")
    with pytest.raises(FlowError, match="swimwear"):
        toggle_pick(state, "ORD-3005-2", "view1")
    with pytest.raises(FlowError, match=r"Swim shorts: .*\(ordered"):
        select_items(state, ["ORD-3003-1", "ORD-3005-2"], lines, verdicts, "RET-1")


def test_steps_run_in_order_and_a_stale_widget_is_refused():
    state, lines, verdicts = gold_state()
    state = select_items(state, ["ORD-3003-1", "ORD-3003-2"], lines, verdicts, "RET-1")
    assert state.draft.return_id == "RET-1" and state.draft.next_step() == "reason"
    with pytest.raises(FlowError, match="why you are returning"):
        st_resolution(state, Resolution.FULL_REFUND, "RET-1")
    with pytest.raises(FlowError, match="no return in progress"):
        st_reason(state, Reason.DAMAGED, "RET-OLD")
    state = st_reason(state, Reason.CHANGED_MIND, None)
    with pytest.raises(FlowError, match="changed your mind"):
        st_resolution(state, Resolution.KEEP_WITH_DISCOUNT, "RET-1")
    state = st_shipping(
        st_resolution(state, Resolution.FULL_REFUND, "RET-1"), Shipping.DROP_OFF, None
    )
    assert state.draft.next_step() == "submit"
    # Reselecting keeps the return id but asks the later steps again.
    again = select_items(state, ["ORD-3003-1"], lines, verdicts, "RET-2")
    assert again.draft.return_id == "RET-1" and again.draft.reason is None

    plan = shipping_plan(Shipping.DROP_OFF, TODAY)
    doc = return_document(
        state.draft, tier=Tier.GOLD, customer_id="CUS-3", thread_id="thr", today=TODAY, plan=plan
    )
    assert doc["status"] == "REQUESTED" and doc["refund_cents"] == 10800 and doc["fee_cents"] == 0
    assert [i["line_id"] for i in doc["items"]] == ["ORD-3003-1", "ORD-3003-2"]
    done = submitted(state, "RET-1")
    assert done.draft is None and done.last_return_id == "RET-1"


def test_widgets_are_valid_chatkit_cards_with_a_text_summary():
    state, lines, verdicts = gold_state()
    state = select_items(state, ["ORD-3003-1", "ORD-3003-2"], lines, verdicts, "RET-1")
    state = st_resolution(st_reason(state, Reason.DAMAGED, None), Resolution.EXCHANGE, None)
    state = st_shipping(state, Shipping.SCHEDULE_PICKUP, None)
    doc = return_document(
        state.draft,
        tier=Tier.GOLD,
        customer_id="CUS-3",
        thread_id="thr",
        today=TODAY,
        plan=shipping_plan(Shipping.SCHEDULE_PICKUP, TODAY),
    )
    shown = [
        orders_widget(state, "Ava", Tier.GOLD, locked=False),
        orders_widget(state, "Ava", Tier.GOLD, locked=True),
        reason_widget(state.draft, Tier.GOLD),
        resolution_widget(state.draft, Tier.GOLD, locked=True),
        shipping_widget(state.draft, TODAY),
        confirmation_widget(doc, TODAY),
        returns_widget([doc], TODAY),
        returns_widget([], TODAY),
    ]
    for item in shown:
        Card.model_validate(item.widget.model_dump(exclude_none=True))
        assert item.copy_text
    assert "#9 Swim shorts" in shown[0].copy_text and "swimwear" in shown[0].copy_text
    assert "Returning: #5 Linen shirt, #6 Chino trousers" in shown[1].copy_text
    assert "Chosen: Exchange" in shown[3].copy_text
    assert "RET-1" in shown[5].copy_text and "can be cancelled" in shown[5].copy_text
