"""The world-clock widget."""

from __future__ import annotations

from chatkit.actions import ActionConfig
from chatkit.widgets import Button, Caption, Card, Row, Text, Title

from use_cases.assistant.domain import QUICK_ZONES, ClockReading

REFRESH_ACTION = "clock.refresh"
SELECT_ACTION = "clock.select_timezone"


def clock_widget(reading: ClockReading, *, remembered: bool) -> Card:
    zone_buttons = [
        Button(
            label=zone.split("/")[-1].replace("_", " "),
            style="primary" if zone == reading.timezone else "secondary",
            size="sm",
            onClickAction=ActionConfig(type=SELECT_ACTION, payload={"timezone": zone}),
        )
        for zone in QUICK_ZONES
    ]
    return Card(
        size="sm",
        children=[
            Caption(value=reading.timezone),
            Title(value=reading.time, size="2xl"),
            Text(value=f"{reading.date} ({reading.utc_offset})"),
            Caption(
                value="Remembered for this chat" if remembered else "Not remembered yet"
            ),
            Row(gap=2, wrap="wrap", children=zone_buttons),
            Row(
                children=[
                    Button(
                        label="Refresh",
                        iconStart="reload",
                        size="sm",
                        onClickAction=ActionConfig(
                            type=REFRESH_ACTION, payload={"timezone": reading.timezone}
                        ),
                    )
                ]
            ),
        ],
    )


def clock_copy_text(reading: ClockReading) -> str:
    return f"{reading.time} on {reading.date} in {reading.timezone} ({reading.utc_offset})"
