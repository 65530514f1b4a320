"""The `todo` use case without a model: domain rules, the widget, and the repository's
conditional writes on both stores."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from shared.documents import Documents
from tests.test_store_conformance import ALICE, BOB, store  # noqa: F401 - fixture
from use_cases.todo import domain
from use_cases.todo.domain import MAX_TASKS, Task, TodoError
from use_cases.todo.repository import TodoRepository
from use_cases.todo.widgets import WIDGET_ID, todo_copy_text, todo_widget

NOW = datetime(2025, 5, 1, 9, 30)
TODAY = NOW.date()


def task(title: str, **kw) -> Task:
    return domain.new_task(title, kw.pop("due", None), kw.pop("priority", None), now=NOW)


# Input checks


@pytest.mark.parametrize("raw", ["", "   ", None, 42])
def test_a_task_needs_a_title(raw):
    with pytest.raises(TodoError, match="title"):
        domain.clean_title(raw)


def test_titles_are_tidied_and_bounded():
    assert domain.clean_title("  buy \n milk  ") == "buy milk"
    with pytest.raises(TodoError, match="200"):
        domain.clean_title("x" * 201)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("none", None),
        ("2025-05-03", "2025-05-03"),
        (" 2025-05-03 ", "2025-05-03"),
        ("2025-05-03T00:00:00.000Z", "2025-05-03"),
        ("2025-05-03T10:00:00+02:00", "2025-05-03"),
    ],
)
def test_due_dates_are_iso_dates(raw, expected):
    assert domain.parse_due(raw) == expected


@pytest.mark.parametrize(
    "raw", ["tomorrow", "2025-13-01", "2025-02-30", "03/05/2025", "2025-05-03x", 7]
)
def test_bad_due_dates_are_refused_clearly(raw):
    with pytest.raises(TodoError, match="YYYY-MM-DD"):
        domain.parse_due(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, "normal"), ("", "normal"), ("HIGH", "high"), ("urgent", "high"), ("medium", "normal")],
)
def test_priorities(raw, expected):
    assert domain.parse_priority(raw) == expected


def test_unknown_priority_is_refused():
    with pytest.raises(TodoError, match="low, normal or high"):
        domain.parse_priority("whenever")


# Changes


def test_new_task_has_a_time_sortable_id():
    first, second = task("a"), task("b")
    assert domain.is_task_id(first.id) and first.id < second.id
    assert first.created_at == "2025-05-01T09:30:00"
    assert (first.done, first.due, first.priority) == (False, None, "normal")


def test_complete_and_reopen():
    done = domain.complete(task("a"), NOW)
    assert done.done and done.completed_at == "2025-05-01T09:30:00"
    assert domain.complete(done, datetime(2026, 1, 1)) == done  # finishing twice changes nothing
    reopened = domain.reopen(done)
    assert not reopened.done and reopened.completed_at is None


def test_edit_changes_only_the_given_fields():
    t = task("a", due="2025-05-02", priority="high")
    assert domain.edit(t, title=" b ").title == "b"
    assert domain.edit(t, title="b").due == "2025-05-02"
    assert domain.edit(t, due="none").due is None
    assert domain.edit(t, priority="low").priority == "low"
    with pytest.raises(TodoError):
        domain.edit(t, title="  ")


def test_documents_round_trip_and_bad_stored_fields_fall_back():
    t = task("a", due="2025-05-02", priority="high")
    assert Task.from_data(t.id, t.to_data()) == t
    assert "id" not in t.to_data()
    odd = Task.from_data("t_x", {"title": "", "due": "soon", "priority": "max", "done": 1})
    assert (odd.title, odd.due, odd.priority, odd.done) == ("(untitled)", None, "normal", True)


def test_duplicates_of_open_tasks_are_not_added_twice():
    existing = [task("Buy milk"), domain.complete(task("Call mom"), NOW)]
    fresh, repeated = domain.without_duplicates(
        [task("buy milk"), task("call mom"), task("x"), task("X")], existing
    )
    assert [t.title for t in fresh] == ["call mom", "x"]
    assert [t.title for t in repeated] == ["buy milk", "X"]


def test_room_is_limited():
    domain.check_room(MAX_TASKS - 1, 1)
    with pytest.raises(TodoError, match="at most"):
        domain.check_room(MAX_TASKS, 1)


# Finding tasks


def test_resolve_by_id_title_or_unique_words():
    milk, mom, groceries = task("Buy milk"), task("Call mom"), task("Groceries for the week")
    tasks = [milk, mom, groceries]
    assert domain.resolve(milk.id, tasks) is milk
    assert domain.resolve(milk.id.lower(), tasks) is milk  # models change the case
    assert domain.resolve("call MOM", tasks) is mom
    assert domain.resolve("groceries", tasks) is groceries


def test_resolve_prefers_the_task_the_change_applies_to():
    old = domain.complete(task("Buy milk"), NOW)
    current = task("buy milk")
    tasks = [old, current]
    assert domain.resolve("milk", tasks, prefer=lambda t: not t.done) is current
    assert domain.resolve("buy milk", tasks, prefer=lambda t: t.done) is old
    with pytest.raises(TodoError, match="several tasks"):
        domain.resolve("milk", tasks)


def test_resolve_explains_what_went_wrong():
    tasks = [task("Call mom"), task("Call dad")]
    with pytest.raises(TodoError, match="several tasks"):
        domain.resolve("call", tasks)
    with pytest.raises(TodoError, match="No task matches"):
        domain.resolve("walk the dog", tasks)
    with pytest.raises(TodoError, match="no task with the id"):
        domain.resolve(domain.new_task_id(), tasks)
    with pytest.raises(TodoError, match="which task"):
        domain.resolve("  ", tasks)


# Views


def test_counts_order_and_summary():
    late = task("late", due="2025-04-30")
    soon_low = task("soon low", due="2025-05-02", priority="low")
    soon_high = task("soon high", due="2025-05-02", priority="high")
    undated = task("undated")
    done = domain.complete(task("done", due="2025-04-01"), NOW)  # done is never overdue
    tasks = [undated, done, soon_low, late, soon_high]

    assert domain.counts(tasks, TODAY) == domain.Counts(open=4, done=1, overdue=1)
    assert [t.title for t in domain.display_order(tasks)] == [
        "late",
        "soon high",
        "soon low",
        "undated",
        "done",
    ]
    text = domain.summary_text(tasks, TODAY)
    assert text.startswith("To-do list: 4 open, 1 done, 1 overdue.")
    assert f"[{late.id}] late (due 2025-04-30, overdue) - open" in text
    assert f"[{soon_high.id}] soon high (due 2025-05-02, high priority) - open" in text
    assert domain.summary_text([], TODAY) == "The to-do list is empty."


def test_widget_shows_counts_buttons_and_the_add_form():
    open_task, done_task = task("open one", priority="high"), domain.complete(task("done"), NOW)
    widget = todo_widget([open_task, done_task], TODAY, "Added 2 tasks.").model_dump(
        exclude_none=True
    )
    assert widget["type"] == "Card" and widget["id"] == WIDGET_ID
    header, notice, first, second = widget["children"][:4]
    assert [b["label"] for b in header["children"][1:]] == ["1 open", "1 done"]
    assert notice["value"] == "Added 2 tasks."
    toggle, body, badge, delete = first["children"]
    assert toggle["onClickAction"] == {"type": "todo.complete", "payload": {"id": open_task.id}}
    assert body["children"][0]["value"] == "open one" and badge["label"] == "high"
    assert delete["onClickAction"] == {"type": "todo.delete", "payload": {"id": open_task.id}}
    assert second["children"][0]["onClickAction"]["type"] == "todo.reopen"
    assert second["children"][1]["children"][0]["lineThrough"] is True
    form = widget["children"][-1]
    assert form["type"] == "Form" and form["onSubmitAction"]["type"] == "todo.add"
    names = {"title", "due", "priority"}
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if "name" in node:
                found.add(node["name"])
            for child in node.get("children", []):
                walk(child)

    walk(form)
    assert found == names


def test_empty_and_long_lists_render():
    empty = todo_widget([], TODAY).model_dump(exclude_none=True)
    assert "Nothing to do yet" in str(empty)
    many = [task(f"task {n}") for n in range(60)]
    rendered = todo_widget(many, TODAY).model_dump(exclude_none=True)
    assert "…and 10 more" in str(rendered)
    assert todo_copy_text(many, TODAY).endswith("...and 10 more.")


def test_widget_escapes_titles():
    odd = task('quote " and {{ braces }} and </script>')
    widget = todo_widget([odd], TODAY).model_dump(exclude_none=True)
    assert widget["children"][1]["children"][1]["children"][0]["value"] == odd.title


# The repository on both stores


async def test_tasks_are_per_user(store):  # noqa: F811
    alice = TodoRepository.for_user(Documents(store, ALICE))
    bob = TodoRepository.for_user(Documents(store, BOB))
    added = await alice.add([task("a"), task("b")])
    assert [t.title for t in await alice.list()] == ["a", "b"]
    assert await bob.list() == []
    with pytest.raises(TodoError, match="no longer exists"):
        await bob.update(added[0].id, domain.reopen)
    with pytest.raises(TodoError, match="no longer exists"):
        await bob.delete(added[0].id)
    assert len(await alice.list()) == 2


async def test_odd_ids_never_reach_the_store(store):  # noqa: F811
    repo = TodoRepository.for_user(Documents(store, ALICE))
    for bad in ("../x", "t_/", "", "x" * 500):
        with pytest.raises(TodoError, match="not a task id"):
            await repo.update(bad, domain.reopen)
        with pytest.raises(TodoError, match="not a task id"):
            await repo.delete(bad)


async def test_concurrent_changes_to_one_task_lose_nothing(store):  # noqa: F811
    repo = TodoRepository.for_user(Documents(store, ALICE))
    (t,) = await repo.add([task("a")])
    changes = [
        lambda x: domain.complete(x, NOW),
        lambda x: domain.edit(x, title="renamed"),
        lambda x: domain.edit(x, due="2025-06-01"),
        lambda x: domain.edit(x, priority="high"),
    ]
    await asyncio.gather(*(repo.update(t.id, change) for change in changes))
    (stored,) = await repo.list()
    assert (stored.done, stored.title, stored.due, stored.priority) == (
        True,
        "renamed",
        "2025-06-01",
        "high",
    )


async def test_concurrent_adds_and_deletes_lose_nothing(store):  # noqa: F811
    repo = TodoRepository.for_user(Documents(store, ALICE))
    first = await repo.add([task(f"old {n}") for n in range(3)])
    await asyncio.gather(
        *(repo.add([task(f"new {n}")]) for n in range(5)),
        *(repo.delete(t.id) for t in first),
    )
    assert sorted(t.title for t in await repo.list()) == [f"new {n}" for n in range(5)]
