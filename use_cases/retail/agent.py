"""The returns assistant's agent: instructions rebuilt every turn from the session state
just loaded from the store (orders shown, the return in progress), tools from tools.py."""

from __future__ import annotations

from pathlib import Path

from agents import Agent, RunContextWrapper

from shared.turn_context import TurnContext
from use_cases.retail.data import customer_id_for_user, customer_profile
from use_cases.retail.domain import (
    BASE_WINDOW_DAYS,
    FEE_WAIVED_TIERS,
    KEEP_DISCOUNT_PERCENT,
    NON_RETURNABLE_CATEGORIES,
    RESTOCKING_FEE_PERCENT,
    TIER_EXTENSION_DAYS,
    Tier,
    fmt_date,
    window_days,
)
from use_cases.retail.state import Draft, RetailState
from use_cases.retail.tools import TOOLS, env_of

_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "instructions.md").read_text()


def policy_text() -> str:
    """The policy as the model should explain it, built from the rules the tools apply."""
    extensions = ", ".join(f"{tier} +{days}" for tier, days in TIER_EXTENSION_DAYS.items())
    fees = ", ".join(f"{reason} {pct}%" for reason, pct in RESTOCKING_FEE_PERCENT.items())
    waived = " and ".join(sorted(FEE_WAIVED_TIERS))
    return "\n".join(
        [
            f"- Window: {BASE_WINDOW_DAYS} days from delivery, extended by tier ({extensions}"
            " days); shipped orders count from their expected delivery.",
            "- Only delivered or shipped orders can be returned (not processing or cancelled).",
            "- Never returnable: " + "; ".join(NON_RETURNABLE_CATEGORIES.values()) + ".",
            f"- Restocking fee on refunds: {fees}; none for other reasons; waived for"
            f" {waived}. Store credit and exchanges have no fee.",
            f"- Keep with discount: keep the items and get {KEEP_DISCOUNT_PERCENT}% of their"
            " price back; not offered for CHANGED_MIND.",
            "- Returns can be cancelled until the courier pickup (or while not yet sent).",
        ]
    )


def _customer(tier: Tier, name: str) -> str:
    fees = "restocking fees waived" if tier in FEE_WAIVED_TIERS else "restocking fees apply"
    return f"{name}, {tier} member ({window_days(tier)}-day return window, {fees})"


def _shown(state: RetailState) -> str:
    if not state.shown:
        return "No orders have been shown in this conversation yet."
    lines = ["Orders shown most recently (numbers as displayed):"]
    for order in state.shown:
        items = "; ".join(
            f"#{i.n} {i.name} [{i.line_id}] " + ("returnable" if i.eligible else "NOT returnable")
            for i in order.items
        )
        lines.append(f"- {order.order_id} ({order.headline}): {items}")
    return "\n".join(lines)


def _draft(draft: Draft | None) -> str:
    if draft is None:
        return "No return is in progress."
    items = ", ".join(f"#{i.n} {i.name}" if i.n else i.name for i in draft.items)
    return (
        f"Return in progress: {draft.return_id} for {items}; "
        f"reason: {draft.reason or 'not chosen'}; resolution: {draft.resolution or 'not chosen'};"
        f" shipping: {draft.shipping or 'not chosen'}. Next step: {draft.next_step()}."
    )


def instructions(ctx: RunContextWrapper[TurnContext], agent: Agent[TurnContext]) -> str:
    env = env_of(ctx.context)
    state = env.state()
    name, tier = customer_profile(customer_id_for_user(env.request.user_id))
    last = (
        f"Last submitted return: {state.last_return_id}."
        if state.last_return_id
        else "No return was submitted in this conversation."
    )
    return _INSTRUCTIONS.format(
        locale=env.request.locale,
        customer=_customer(tier, name),
        today=fmt_date(env.today),
        policy=policy_text(),
        shown=_shown(state),
        draft=_draft(state.draft),
        last=last,
    )


def build_agent() -> Agent[TurnContext]:
    return Agent[TurnContext](name="Returns assistant", instructions=instructions, tools=TOOLS)
