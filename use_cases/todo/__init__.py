"""A personal to-do list: add, list, complete, reopen, rename and delete tasks by chat
or in an interactive list widget. Tasks belong to the user and persist across threads."""

from __future__ import annotations

from shared.use_case import StarterPrompt, UseCase

USE_CASE = UseCase(
    name="todo",
    title="To-do list",
    description="Your personal to-do list: add, check off and tidy up tasks by chat or by click.",
    greeting="Hi! Tell me what you need to do, or ask to see your list.",
    starter_prompts=(
        StarterPrompt(label="Show my list", prompt="Show me my to-do list.", icon="notebook"),
        StarterPrompt(
            label="Add a few tasks",
            prompt="Add buy milk, call mom tomorrow, and renew my passport (high priority).",
            icon="plus",
        ),
        StarterPrompt(
            label="What's due?",
            prompt="Which of my tasks are still open, and what is due soonest?",
            icon="calendar",
        ),
    ),
)
