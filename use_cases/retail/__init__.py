"""Order returns: show recent orders, pick items, give a reason, choose a resolution and
return shipping, get a return id; list and cancel returns. Every step works by clicking
the widget or by typing, and continues from the thread's session state."""

from __future__ import annotations

from shared.use_case import StarterPrompt, UseCase

USE_CASE = UseCase(
    name="retail",
    title="Order returns",
    description="Return items from recent orders: eligibility, fees, refunds and pickup.",
    greeting="Hi! I can help you return items from your recent orders. What would you like "
    "to send back?",
    starter_prompts=(
        StarterPrompt(
            label="Return an item", prompt="I want to return something I ordered.", icon="cube"
        ),
        StarterPrompt(
            label="My latest order",
            prompt="Show my most recent delivered order; I want to return both items.",
            icon="suitcase",
        ),
        StarterPrompt(label="My returns", prompt="Show my returns.", icon="document"),
        StarterPrompt(
            label="Return policy",
            prompt="What is your return policy for my membership tier?",
            icon="circle-question",
        ),
    ),
)
