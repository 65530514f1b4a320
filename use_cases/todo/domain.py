"""To-do rules, free of I/O so they can be tested without a model or a store.

Every function that checks user input raises `TodoError` whose message is written for
the user (tools return it to the model as text, widgets show it as a notice).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from shared.ids import new_ulid

Priority = Literal["low", "normal", "high"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high")
_PRIORITY_ALIASES: dict[str, Priority] = {
    "low": "low",
    "minor": "low",
    "normal": "normal",
    "medium": "normal",
    "default": "normal",
    "high": "high",
    "urgent": "high",
    "important": "high",
}
_PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}

MAX_TITLE_CHARS = 200
# A soft per-user cap: a list this long is no longer a to-do list, and it keeps the
# widget, the model's context and each listing query small.
MAX_TASKS = 200
MAX_SHOWN = 50

# Due dates outside these are typos (year 1, 9999), not plans; refusing them also keeps
# any date arithmetic on a due date (overdue, "due in n days") clear of Python's limits.
EARLIEST_DUE = date(1900, 1, 1)
LATEST_DUE = date(2999, 12, 31)

_ID = re.compile(r"^t_[0-9A-HJKMNP-TV-Z]{26}$")
_NO_DATE = {"", "none", "null", "no", "clear", "-"}


class TodoError(ValueError):
    """A request that cannot be carried out; the message is meant for the user."""


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    done: bool = False
    due: str | None = None  # ISO date (YYYY-MM-DD)
    priority: Priority = "normal"
    created_at: str = ""
    completed_at: str | None = None

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")  # the document key
        return data

    @classmethod
    def from_data(cls, key: str, data: dict[str, Any]) -> Task:
        """Tolerant of older or hand-edited documents: bad fields fall back to defaults."""
        title = data.get("title")
        due = data.get("due")
        priority = data.get("priority")
        completed = data.get("completed_at")
        return cls(
            id=key,
            title=str(title) if title else "(untitled)",
            done=bool(data.get("done", False)),
            due=due if isinstance(due, str) and _parse_iso_date(due) else None,
            priority=priority if priority in PRIORITIES else "normal",
            created_at=str(data.get("created_at") or ""),
            completed_at=completed if isinstance(completed, str) else None,
        )


def new_task_id() -> str:
    # Time-sortable, so the store's key order is creation order.
    return "t_" + new_ulid()


def normalise_id(value: str) -> str:
    # Models sometimes change the case of ids they copy; ULIDs are case-insensitive.
    value = value.strip()
    return "t_" + value[2:].upper() if value[:2].lower() == "t_" else value


def is_task_id(value: str) -> bool:
    return bool(_ID.match(normalise_id(value)))


# Input checks


def clean_title(raw: object) -> str:
    if not isinstance(raw, str):
        raise TodoError("A task needs a title.")
    title = " ".join(raw.split())
    if not title:
        raise TodoError("A task needs a title; an empty one was given.")
    if len(title) > MAX_TITLE_CHARS:
        raise TodoError(f"Task titles are limited to {MAX_TITLE_CHARS} characters.")
    return title


def _parse_iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def parse_due(raw: object) -> str | None:
    """An ISO date, or None for no due date. Accepts a full ISO timestamp (a date
    picker may send one) and keeps its date part."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise TodoError("A due date must be written as YYYY-MM-DD.")
    text = raw.strip()
    if text.lower() in _NO_DATE:
        return None
    parsed = _parse_iso_date(text)
    if parsed is None or (len(text) > 10 and not _is_iso_timestamp(text)):
        raise TodoError(f"'{text[:40]}' is not a date I understand; use YYYY-MM-DD.")
    if not EARLIEST_DUE <= parsed <= LATEST_DUE:
        raise TodoError(
            f"A due date must be between {EARLIEST_DUE.isoformat()} and "
            f"{LATEST_DUE.isoformat()}; '{text[:40]}' is not."
        )
    return parsed.isoformat()


def _is_iso_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def parse_priority(raw: object) -> Priority:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "normal"
    if isinstance(raw, str):
        found = _PRIORITY_ALIASES.get(raw.strip().lower())
        if found:
            return found
    raise TodoError(f"'{str(raw)[:40]}' is not a priority; use low, normal or high.")


# Changes


def new_task(title: object, due: object = None, priority: object = None, *, now: datetime) -> Task:
    return Task(
        id=new_task_id(),
        title=clean_title(title),
        due=parse_due(due),
        priority=parse_priority(priority),
        created_at=now.isoformat(timespec="seconds"),
    )


def complete(task: Task, now: datetime) -> Task:
    if task.done:
        return task
    return replace(task, done=True, completed_at=now.isoformat(timespec="seconds"))


def reopen(task: Task) -> Task:
    return replace(task, done=False, completed_at=None)


def edit(task: Task, *, title: object = None, due: object = None, priority: object = None) -> Task:
    """Change the given fields; None leaves a field as it is (`due="none"` clears it)."""
    return replace(
        task,
        title=clean_title(title) if title is not None else task.title,
        due=parse_due(due) if due is not None else task.due,
        priority=parse_priority(priority) if priority is not None else task.priority,
    )


def check_room(existing: int, adding: int) -> None:
    if existing + adding > MAX_TASKS:
        raise TodoError(
            f"A list holds at most {MAX_TASKS} tasks and this one has {existing}; "
            "delete finished tasks first."
        )


def without_duplicates(
    new: Sequence[Task], existing: Sequence[Task]
) -> tuple[list[Task], list[Task]]:
    """Split new tasks into (to add, already open on the list), so a repeated request
    (or a retried tool call) does not add the same task twice."""
    seen = {t.title.lower() for t in existing if not t.done}
    fresh: list[Task] = []
    repeated: list[Task] = []
    for task in new:
        key = task.title.lower()
        (repeated if key in seen else fresh).append(task)
        seen.add(key)
    return fresh, repeated


# Finding tasks


def resolve(
    reference: str, tasks: Sequence[Task], prefer: Callable[[Task], bool] | None = None
) -> Task:
    """The task a reference names: its id, else its exact title, else the one task whose
    title contains the words. Among several matches, the one `prefer` picks (completing
    "milk" means the open "milk", not last week's done one). Ambiguity is an error
    listing the candidates."""
    ref = " ".join(str(reference).split())
    if not ref:
        raise TodoError("Say which task: give its id or its title.")
    wanted = normalise_id(ref)
    for task in tasks:
        if task.id == wanted:
            return task
    if is_task_id(ref):
        raise TodoError(f"There is no task with the id {ref}; it may have been deleted.")
    lowered = ref.lower()
    exact = [t for t in tasks if t.title.lower() == lowered]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [t for t in tasks if lowered in t.title.lower()]
    if len(partial) == 1:
        return partial[0]
    preferred = [t for t in partial if prefer(t)] if prefer else []
    if len(preferred) == 1:
        return preferred[0]
    if not partial:
        raise TodoError(f"No task matches '{ref[:60]}'. Call list_tasks to see the ids.")
    names = "; ".join(f"{t.id} '{t.title}'" for t in partial[:10])
    raise TodoError(f"'{ref[:60]}' matches several tasks ({names}); name one by its id.")


# Views


@dataclass(frozen=True)
class Counts:
    open: int
    done: int
    overdue: int


def is_overdue(task: Task, today: date) -> bool:
    return not task.done and task.due is not None and task.due < today.isoformat()


def counts(tasks: Iterable[Task], today: date) -> Counts:
    tasks = list(tasks)
    done = sum(t.done for t in tasks)
    overdue = sum(is_overdue(t, today) for t in tasks)
    return Counts(open=len(tasks) - done, done=done, overdue=overdue)


def display_order(tasks: Iterable[Task]) -> list[Task]:
    """Open tasks first (earliest due, then highest priority, then oldest), then done
    tasks, most recently finished first."""
    tasks = list(tasks)
    open_tasks = sorted(
        (t for t in tasks if not t.done),
        key=lambda t: (t.due is None, t.due or "", _PRIORITY_RANK[t.priority], t.id),
    )
    done_tasks = sorted(
        (t for t in tasks if t.done), key=lambda t: (t.completed_at or "", t.id), reverse=True
    )
    return open_tasks + done_tasks


def describe(task: Task, today: date) -> str:
    details = []
    if task.due:
        details.append(f"due {task.due}" + (", overdue" if is_overdue(task, today) else ""))
    if task.priority != "normal":
        details.append(f"{task.priority} priority")
    state = "done" if task.done else "open"
    extra = f" ({', '.join(details)})" if details else ""
    return f"[{task.id}] {task.title}{extra} - {state}"


def count_text(c: Counts) -> str:
    text = f"{c.open} open, {c.done} done"
    return text + (f", {c.overdue} overdue" if c.overdue else "")


def summary_text(tasks: Sequence[Task], today: date, limit: int = MAX_SHOWN) -> str:
    """The list as text with ids: what the model reads from tools and widgets."""
    if not tasks:
        return "The to-do list is empty."
    ordered = display_order(tasks)
    lines = [f"To-do list: {count_text(counts(tasks, today))}."]
    lines += [describe(t, today) for t in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"...and {len(ordered) - limit} more.")
    return "\n".join(lines)
