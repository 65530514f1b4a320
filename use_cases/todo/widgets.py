"""The to-do list widget, rendered from `todo_list.widget` (ChatKit's widget template
format). Its buttons and form call the actions in `actions.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from chatkit.types import WidgetItem
from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from use_cases.todo.domain import (
    MAX_SHOWN,
    Task,
    counts,
    display_order,
    is_overdue,
    summary_text,
)

WIDGET_ID = "todo-list"
ADD_ACTION = "todo.add"
COMPLETE_ACTION = "todo.complete"
REOPEN_ACTION = "todo.reopen"
DELETE_ACTION = "todo.delete"

_TEMPLATE = WidgetTemplate.from_file(str(Path(__file__).parent / "todo_list.widget"))


def _caption(task: Task, today: date) -> str:
    parts = []
    if task.due:
        parts.append(f"Due {task.due}" + (" (overdue)" if is_overdue(task, today) else ""))
    if task.priority == "low":
        parts.append("low priority")
    return " · ".join(parts)


def todo_widget(
    tasks: Sequence[Task], today: date, notice: str | None = None, *, error: bool = False
) -> DynamicWidgetRoot:
    c = counts(tasks, today)
    shown = display_order(tasks)[:MAX_SHOWN]
    data: dict[str, Any] = {
        "open": c.open,
        "done": c.done,
        "overdue": c.overdue,
        "hidden": max(0, len(tasks) - len(shown)),
        "notice": notice,
        "notice_is_error": error,
        # A new key per list state remounts the form, so a submitted title is cleared.
        "form_key": f"add-{len(tasks)}-{max((t.id for t in tasks), default='')}",
        "tasks": [
            {
                "id": t.id,
                "title": t.title,
                "done": t.done,
                "priority": t.priority,
                "caption": _caption(t, today),
                "overdue": is_overdue(t, today),
            }
            for t in shown
        ],
    }
    return _TEMPLATE.build(data)


def todo_copy_text(tasks: Sequence[Task], today: date, notice: str | None = None) -> str:
    # What the model reads when this widget is in the history: the list with ids.
    text = summary_text(tasks, today)
    return f"{notice}\n{text}" if notice else text


def is_todo_widget(item: object) -> bool:
    return isinstance(item, WidgetItem) and getattr(item.widget, "id", None) == WIDGET_ID
