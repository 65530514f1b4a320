"""A general helpful assistant: answers questions, tells the time in the user's zone,
remembers the zone for the thread, and shows a world-clock widget."""

from __future__ import annotations

from shared.use_case import StarterPrompt, UseCase

USE_CASE = UseCase(
    name="assistant",
    title="Assistant",
    description="A general helpful assistant that also knows the time anywhere.",
    greeting="Hi! Ask me anything, or ask what time it is somewhere.",
    starter_prompts=(
        StarterPrompt(label="What time is it?", prompt="What time is it for me?", icon="clock"),
        StarterPrompt(
            label="Time in Tokyo",
            prompt="Show me the time in Tokyo and remember that I am in Asia/Tokyo.",
            icon="globe",
        ),
        StarterPrompt(
            label="Explain serverless",
            prompt="Explain in three sentences what serverless computing is.",
            icon="lightbulb",
        ),
    ),
)
