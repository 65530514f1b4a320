"""The return flow's steps with their I/O: one function per step, called by the tool
(typed answers) and by the widget action (clicks) alike, so both end in the same state.

A step reads reference data and the user's returns, applies the pure transition from
`state.py` to the thread's session state (optimistic concurrency, re-applied on a
conflict) and says what to show: `current` is the step's own widget updated with the
outcome (an action replaces the clicked widget with it), `next` the next step's widget.
Steps raise `PolicyError` (or its `FlowError`) with a message meant for the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.context import RequestContext, valid_timezone
from shared.documents import DocumentConflict, Documents
from shared.ids import new_ulid
from shared.session_state import SessionStateHandle
from use_cases.retail import state as flow
from use_cases.retail.data import (
    CATALOGUE_COLLECTION,
    CUSTOMERS_COLLECTION,
    RETURNS_COLLECTION,
    SEED_VERSION,
    catalogue_documents,
    customer_documents,
    customer_id_for_user,
    customer_profile,
    orders_from_document,
)
from use_cases.retail.domain import (
    Eligibility,
    Order,
    OrderLine,
    Resolution,
    ReturnStatus,
    Tier,
    cancellation_blocker,
    eligibility,
    fmt_money,
    parse_reason,
    parse_resolution,
    parse_shipping,
    shipping_plan,
)
from use_cases.retail.state import SESSION_KEY, FlowError, RetailState
from use_cases.retail.widgets import (
    Shown,
    confirmation_widget,
    orders_widget,
    pickup_day,
    reason_widget,
    resolution_widget,
    return_text,
    returns_widget,
    shipping_widget,
)


@dataclass(frozen=True)
class Env:
    """What a step needs, taken from a tool's run context or an action's context."""

    documents: Documents
    session: SessionStateHandle
    request: RequestContext
    thread_id: str

    @property
    def today(self) -> date:
        zone = valid_timezone(self.request.timezone) or "UTC"
        return datetime.now(ZoneInfo(zone)).date()

    @property
    def profile(self) -> tuple[str, Tier]:
        return customer_profile(customer_id_for_user(self.request.user_id))

    def state(self) -> RetailState:
        return RetailState.load(self.session.data)


@dataclass(frozen=True)
class Step:
    message: str  # for the model (a tool's result)
    current: Shown | None = None
    next: Shown | None = None


@dataclass(frozen=True)
class Account:
    customer_id: str
    name: str
    tier: Tier
    orders: list[Order]
    returns: list[dict[str, Any]]

    @property
    def lines(self) -> dict[str, OrderLine]:
        return {line.line_id: line for order in self.orders for line in order.lines}

    def verdicts(self, today: date) -> dict[str, Eligibility]:
        active = {
            item["line_id"]: ret["return_id"]
            for ret in self.returns
            if ret.get("status") != ReturnStatus.CANCELLED
            for item in ret.get("items", [])
        }
        return {
            line.line_id: eligibility(order, line, self.tier, today, active)
            for order in self.orders
            for line in order.lines
        }


async def load_account(env: Env) -> Account:
    """The user's demo customer, orders and returns (reference data seeded on first use)."""
    catalogue = env.documents.reference(CATALOGUE_COLLECTION)
    customers = env.documents.reference(CUSTOMERS_COLLECTION)
    await catalogue.seed(catalogue_documents(), SEED_VERSION)
    await customers.seed(customer_documents(), SEED_VERSION)
    customer_id = customer_id_for_user(env.request.user_id)
    customer = await customers.get(customer_id)
    if customer is None:
        raise FlowError("Your customer record could not be found; please try again later.")
    products = {doc.key: doc.data for doc in await catalogue.list()}
    returns = [doc.data for doc in await env.documents.user(RETURNS_COLLECTION).list()]
    return Account(
        customer_id=customer_id,
        name=str(customer.data.get("name", customer_id)),
        tier=Tier(customer.data["tier"]),
        orders=orders_from_document(customer.data, products, env.today),
        returns=returns,
    )


async def _transition(env: Env, change: Callable[[RetailState], RetailState]) -> RetailState:
    """Apply a pure transition to the freshly stored state; a FlowError writes nothing."""
    result: list[RetailState] = []

    def mutate(data: dict[str, Any]) -> None:
        result[:] = [change(RetailState.load(data))]
        data[SESSION_KEY] = result[0].dump()

    await env.session.update(mutate)
    return result[0]


def _short_id() -> str:
    return new_ulid()[-8:]


# Orders and item selection


async def show_orders(env: Env, order_id: str | None = None) -> Step:
    account = await load_account(env)
    orders = account.orders
    if order_id:
        orders = [o for o in orders if o.order_id == order_id.strip().upper()]
        if not orders:
            raise FlowError(f"You have no order {order_id[:40]}.")
    verdicts = account.verdicts(env.today)
    view_id = _short_id()
    state = await _transition(env, lambda s: flow.show_orders(s, orders, verdicts, view_id))
    shown = orders_widget(state, account.name, account.tier, locked=False)
    return Step(
        f"The orders are displayed to the customer. {shown.copy_text} "
        "Ask which items to return (by number).",
        next=shown,
    )


async def toggle_item(env: Env, line_id: str, view_id: str | None) -> Step:
    state = await _transition(env, lambda s: flow.toggle_pick(s, line_id, view_id))
    name, tier = env.profile
    shown = orders_widget(state, name, tier, locked=False)
    return Step(shown.copy_text, current=shown)


async def select_items(
    env: Env,
    refs: list[str] | None = None,
    order_id: str | None = None,
    *,
    view_id: str | None = None,
    use_picked: bool = False,
) -> Step:
    account = await load_account(env)
    lines = account.lines
    verdicts = account.verdicts(env.today)
    return_id = f"RET-{_short_id()}"

    def change(s: RetailState) -> RetailState:
        flow.check_view(s, view_id)
        chosen = list(s.picked) if use_picked else flow.resolve_items(s, refs, order_id, lines)
        return flow.select_items(s, chosen, lines, verdicts, return_id)

    state = await _transition(env, change)
    draft = state.draft
    assert draft is not None
    ask = reason_widget(draft, account.tier)
    names = ", ".join(f"#{i.n} {i.name}" if i.n else i.name for i in draft.items)
    return Step(
        f"Return {draft.return_id} started for {names} (worth {fmt_money(draft.subtotal_cents)}). "
        f"The reason options are displayed. {ask.copy_text}",
        current=orders_widget(state, account.name, account.tier, locked=True),
        next=ask,
    )


# Reason, resolution, shipping


async def choose_reason(env: Env, text: str, return_id: str | None = None) -> Step:
    reason = parse_reason(text)
    state = await _transition(env, lambda s: flow.choose_reason(s, reason, return_id))
    _name, tier = env.profile
    draft = state.draft
    assert draft is not None
    ask = resolution_widget(draft, tier)
    return Step(
        f"Reason {reason.value} recorded for return {draft.return_id}. "
        f"The resolution options are displayed. {ask.copy_text}",
        current=reason_widget(draft, tier, locked=True),
        next=ask,
    )


async def choose_resolution(env: Env, text: str, return_id: str | None = None) -> Step:
    resolution = parse_resolution(text)
    state = await _transition(env, lambda s: flow.choose_resolution(s, resolution, return_id))
    _name, tier = env.profile
    draft = state.draft
    assert draft is not None
    current = resolution_widget(draft, tier, locked=True)
    if resolution is Resolution.KEEP_WITH_DISCOUNT:
        return await _submit(env, state, current)
    ask = shipping_widget(draft, env.today)
    return Step(
        f"Resolution {resolution.value} recorded for return {draft.return_id}. "
        f"The return shipping options are displayed. {ask.copy_text}",
        current=current,
        next=ask,
    )


async def choose_shipping(env: Env, text: str, return_id: str | None = None) -> Step:
    method = parse_shipping(text)
    state = await _transition(env, lambda s: flow.choose_shipping(s, method, return_id))
    assert state.draft is not None
    return await _submit(env, state, shipping_widget(state.draft, env.today, locked=True))


async def _submit(env: Env, state: RetailState, current: Shown) -> Step:
    """Store the return, re-checking eligibility; submitting twice stores it once."""
    draft = state.draft
    assert draft is not None
    returns = env.documents.user(RETURNS_COLLECTION)
    account = await load_account(env)
    stored = next((r for r in account.returns if r.get("return_id") == draft.return_id), None)
    if stored is None:
        verdicts = account.verdicts(env.today)
        refused = [
            f"{item.name}: {verdicts[item.line_id].note}"
            for item in draft.items
            if item.line_id not in verdicts or not verdicts[item.line_id].eligible
        ]
        if refused:
            raise FlowError("These items can no longer be returned. " + " ".join(refused))
        plan = shipping_plan(draft.shipping, env.today) if draft.shipping else None
        document = flow.return_document(
            draft,
            tier=account.tier,
            customer_id=account.customer_id,
            thread_id=env.thread_id,
            today=env.today,
            plan=plan,
        )
        try:
            stored = (await returns.create(draft.return_id, document)).data
        except DocumentConflict:
            # A concurrent submit of the same draft (a double click) stored it first.
            existing = await returns.get(draft.return_id)
            if existing is None:
                raise FlowError("The return could not be saved; please try again.") from None
            stored = existing.data
    await _transition(env, lambda s: flow.submitted(s, draft.return_id))
    card = confirmation_widget(stored, env.today)
    return Step(
        f"Return submitted; the confirmation is displayed. {card.copy_text}",
        current=current,
        next=card,
    )


# Existing returns


def _sorted(returns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(returns, key=lambda r: (r.get("created_on", ""), r["return_id"]), reverse=True)


async def list_returns(env: Env) -> Step:
    docs = _sorted([d.data for d in await env.documents.user(RETURNS_COLLECTION).list()])
    ids = [r["return_id"] for r in docs]
    await _transition(env, lambda s: s.model_copy(update={"shown_returns": ids}))
    shown = returns_widget(docs, env.today)
    return Step(f"The returns are displayed. {shown.copy_text}", next=shown)


async def cancel_return(env: Env, return_id: str | None = None) -> Step:
    target = (return_id or "").strip().upper() or _default_return(env.state())
    returns = env.documents.user(RETURNS_COLLECTION)
    for _attempt in range(5):
        current = await returns.get(target)
        if current is None:
            raise FlowError(f"You have no return {target[:40]}.")
        ret = current.data
        blocker = cancellation_blocker(
            ret["status"], ret.get("shipping"), pickup_day(ret), env.today
        )
        if blocker:
            raise FlowError(f"Return {target} cannot be cancelled: {blocker}")
        updated = {
            **ret,
            "status": ReturnStatus.CANCELLED.value,
            "cancelled_on": env.today.isoformat(),
        }
        try:
            await returns.put(target, updated, expected=current)
        except DocumentConflict:
            continue  # changed meanwhile: re-read and decide again
        card = confirmation_widget(updated, env.today)
        return Step(
            f"Return {target} is cancelled; its items can be returned again. "
            f"{return_text(updated, env.today)}",
            current=card,
        )
    raise FlowError(f"Return {target} is being changed elsewhere; please try again.")


def _default_return(state: RetailState) -> str:
    if state.last_return_id:
        return state.last_return_id
    if len(state.shown_returns) == 1:
        return state.shown_returns[0]
    raise FlowError("Which return? Give its id (RET-...), or ask to see your returns.")
