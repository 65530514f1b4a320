"""Reference data seeded into `documents.reference(...)` on first use.

Clinicians are data, not code: operations can change a clinician's document and the
rules in `domain.py` follow. Bump `SEED_VERSION` when adding clinicians (existing
documents are never overwritten by seeding).
"""

from __future__ import annotations

from typing import Any

SEED_VERSION = "1"
# The zone the assistant speaks in when no clinician is in question (all seeded
# clinicians work in it; each clinician document still carries its own).
CLINIC_TIMEZONE = "Europe/London"

CLINICIANS: dict[str, dict[str, Any]] = {
    "dr-patel": {
        "name": "Dr Anita Patel",
        "specialty": "General practice",
        "clinic": "Riverside Clinic",
        "timezone": CLINIC_TIMEZONE,
        "working_days": [0, 1, 2, 3, 4],  # Monday to Friday
        "day_start": "09:00",
        "day_end": "17:00",
        "breaks": [{"start": "12:30", "end": "13:30", "label": "lunch"}],
        "slot_minutes": 30,
    },
    "dr-okafor": {
        "name": "Dr Chidi Okafor",
        "specialty": "Dermatology",
        "clinic": "Riverside Clinic",
        "timezone": CLINIC_TIMEZONE,
        "working_days": [0, 2, 3],  # Monday, Wednesday, Thursday
        "day_start": "10:00",
        "day_end": "16:00",
        "breaks": [{"start": "13:00", "end": "14:00", "label": "lunch"}],
        "slot_minutes": 20,
    },
    "dr-nowak": {
        "name": "Dr Ewa Nowak",
        "specialty": "Physiotherapy",
        "clinic": "Harbour Health Centre",
        "timezone": CLINIC_TIMEZONE,
        "working_days": [1, 2, 3, 4, 5],  # Tuesday to Saturday
        "day_start": "08:00",
        "day_end": "14:00",
        "breaks": [],
        "slot_minutes": 45,
    },
}
