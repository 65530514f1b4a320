"""Clinic appointments: clinicians with working hours, a slot picker whose buttons book
directly, the patient's own appointments with reschedule and cancel, and the rules
(hours, breaks, notice, no double booking, late cancellation) in plain Python."""

from __future__ import annotations

from shared.use_case import StarterPrompt, UseCase

USE_CASE = UseCase(
    name="clinic",
    title="Clinic appointments",
    description="Book, move and cancel clinic appointments; a slot picker books in one click.",
    greeting="Hello! I can find you an appointment, or change one you already have.",
    starter_prompts=(
        StarterPrompt(
            label="See Dr Patel",
            prompt="When can I see Dr Patel in the next few days?",
            icon="calendar",
        ),
        StarterPrompt(
            label="Book a time",
            prompt="Book the 10:30 with Dr Patel tomorrow.",
            icon="clock",
        ),
        StarterPrompt(
            label="My appointments",
            prompt="Show my appointments.",
            icon="notebook",
        ),
        StarterPrompt(
            label="Who can help?",
            prompt="Which clinicians do you have, and when do they work?",
            icon="user",
        ),
    ),
)
