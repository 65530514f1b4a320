"""The world-clock widget, rendered from `clock.widget` (ChatKit's widget template format)."""

from __future__ import annotations

from pathlib import Path

from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from use_cases.assistant.domain import QUICK_ZONES, ClockReading

REFRESH_ACTION = "clock.refresh"
SELECT_ACTION = "clock.select_timezone"

_CLOCK = WidgetTemplate.from_file(str(Path(__file__).parent / "clock.widget"))


def clock_widget(reading: ClockReading, *, remembered: bool) -> DynamicWidgetRoot:
    return _CLOCK.build(
        {
            "timezone": reading.timezone,
            "time": reading.time,
            "date": reading.date,
            "utc_offset": reading.utc_offset,
            "remembered": remembered,
            "quick_zones": [
                {"timezone": zone, "label": zone.split("/")[-1].replace("_", " ")}
                for zone in QUICK_ZONES
            ],
        }
    )


def clock_copy_text(reading: ClockReading) -> str:
    return f"{reading.time} on {reading.date} in {reading.timezone} ({reading.utc_offset})"
