"""Tools the to-do model can call. They act only for the request's user: the task
collection comes from the run context, never from model arguments. Bad input comes
back as text the model can relay, never as an exception that ends the turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Literal

from agents import RunContextWrapper, function_tool
from chatkit.types import ThreadItemReplacedEvent
from pydantic import BaseModel, Field

from shared.turn_context import TurnContext
from use_cases.todo import domain
from use_cases.todo.domain import Task, TodoError
from use_cases.todo.repository import TodoRepository, user_now
from use_cases.todo.widgets import is_todo_widget, todo_copy_text, todo_widget

_MAX_PER_CALL = 50
# How far back a typed change looks for a list widget to refresh in place.
_REFRESH_WINDOW = 30


class NewTask(BaseModel):
    title: str = Field(description="What to do, short, in the user's words.")
    due: str | None = Field(
        default=None, description="Due date as YYYY-MM-DD, only if the user gave one."
    )
    priority: str | None = Field(
        default=None, description="low, normal or high, only if the user gave one."
    )


def _repo(turn: TurnContext) -> TodoRepository:
    return TodoRepository.for_user(turn.documents)


def _today(turn: TurnContext) -> date:
    return user_now(turn.request_context).date()


async def _show(turn: TurnContext, tasks: Sequence[Task], notice: str | None = None) -> None:
    today = _today(turn)
    await turn.stream_widget(
        todo_widget(tasks, today, notice), copy_text=todo_copy_text(tasks, today, notice)
    )


async def _refresh_shown(turn: TurnContext, notice: str) -> None:
    """Redraw the newest list widget of this thread in place, so what the user sees
    matches what they just changed by typing (a click redraws its own widget)."""
    page = await turn.store.load_thread_items(
        turn.thread.id, None, _REFRESH_WINDOW, "desc", turn.request_context
    )
    shown = next((item for item in page.data if is_todo_widget(item)), None)
    if shown is None:
        return
    tasks = await _repo(turn).list()
    today = _today(turn)
    await turn.stream(
        ThreadItemReplacedEvent(
            item=shown.model_copy(
                update={
                    "widget": todo_widget(tasks, today, notice),
                    "copy_text": todo_copy_text(tasks, today, notice),
                }
            )
        )
    )


@function_tool
async def add_tasks(ctx: RunContextWrapper[TurnContext], tasks: list[NewTask]) -> str:
    """Add one or more tasks to the user's to-do list, then show the list.

    Args:
        tasks: Every task the user asked to add ("buy milk and call mom" is two tasks).
    """
    turn = ctx.context
    if not tasks:
        return "No tasks were given; ask the user what to add."
    now = user_now(turn.request_context)
    valid: list[Task] = []
    problems: list[str] = []
    for item in tasks[:_MAX_PER_CALL]:
        try:
            valid.append(domain.new_task(item.title, item.due, item.priority, now=now))
        except TodoError as exc:
            problems.append(f"Not added '{item.title[:60]}': {exc}")
    if len(tasks) > _MAX_PER_CALL:
        problems.append(f"Only the first {_MAX_PER_CALL} tasks were considered.")
    repo = _repo(turn)
    existing = await repo.list()
    fresh, repeated = domain.without_duplicates(valid, existing)
    problems += [f"'{t.title}' is already on the list." for t in repeated]
    try:
        await repo.add(fresh, existing=len(existing))
    except TodoError as exc:
        return str(exc)
    everything = await repo.list() if fresh else existing
    if fresh:
        await _show(turn, everything, f"Added {len(fresh)} task{'s' * (len(fresh) != 1)}.")
    today = _today(turn)
    lines = [f"Added: {domain.describe(t, today)}" for t in fresh] + problems
    if fresh:
        lines.append("The updated list is shown to the user.")
    lines.append(domain.count_text(domain.counts(everything, today)) + ".")
    return "\n".join(lines)


@function_tool
async def list_tasks(
    ctx: RunContextWrapper[TurnContext], status: Literal["all", "open", "done"] = "all"
) -> str:
    """Look up the user's tasks with their ids (nothing is shown to the user). Use it to
    find the task the user means before completing, reopening, editing or deleting it.

    Args:
        status: Which tasks to list.
    """
    turn = ctx.context
    tasks = await _repo(turn).list()
    if status != "all":
        tasks = [t for t in tasks if t.done == (status == "done")]
    if not tasks:
        return "There are no tasks." if status == "all" else f"There are no {status} tasks."
    return domain.summary_text(tasks, _today(turn))


@function_tool
async def show_todo_list(ctx: RunContextWrapper[TurnContext]) -> str:
    """Show the user their to-do list as an interactive widget (check off, delete, add)."""
    turn = ctx.context
    tasks = await _repo(turn).list()
    await _show(turn, tasks)
    return "The list is shown to the user.\n" + domain.summary_text(tasks, _today(turn))


async def _change_each(
    turn: TurnContext,
    references: list[str],
    verb: str,
    change: Callable[[TodoRepository, Task], Awaitable[Task]],
    no_op: Callable[[Task], str | None] = lambda task: None,
    prefer: Callable[[Task], bool] | None = None,
) -> str:
    if not references:
        return "No tasks were named."
    repo = _repo(turn)
    tasks = await repo.list()
    lines: list[str] = []
    changed = 0
    for reference in references[:_MAX_PER_CALL]:
        try:
            task = domain.resolve(reference, tasks, prefer)
            if skipped := no_op(task):
                lines.append(skipped)
                continue
            result = await change(repo, task)
        except TodoError as exc:
            lines.append(str(exc))
            continue
        changed += 1
        lines.append(f"{verb} '{result.title}' ({result.id}).")
    if changed:
        notice = f"{verb} {changed} task{'s' * (changed != 1)}."
        await _refresh_shown(turn, notice)
        today = _today(turn)
        lines.append(domain.count_text(domain.counts(await repo.list(), today)) + ".")
    return "\n".join(lines)


def _already(task: Task, *, done: bool) -> str | None:
    if task.done != done:
        return None
    return f"'{task.title}' ({task.id}) is already {'done' if done else 'open'}."


@function_tool
async def complete_tasks(ctx: RunContextWrapper[TurnContext], tasks: list[str]) -> str:
    """Mark tasks as done.

    Args:
        tasks: Task ids from list_tasks (a task's exact title also works).
    """
    now = user_now(ctx.context.request_context)

    def change(repo: TodoRepository, task: Task) -> Awaitable[Task]:
        return repo.update(task.id, lambda t: domain.complete(t, now))

    return await _change_each(
        ctx.context,
        tasks,
        "Completed",
        change,
        no_op=lambda t: _already(t, done=True),
        prefer=lambda t: not t.done,
    )


@function_tool
async def reopen_tasks(ctx: RunContextWrapper[TurnContext], tasks: list[str]) -> str:
    """Mark done tasks as open again.

    Args:
        tasks: Task ids from list_tasks (a task's exact title also works).
    """

    def change(repo: TodoRepository, task: Task) -> Awaitable[Task]:
        return repo.update(task.id, domain.reopen)

    return await _change_each(
        ctx.context,
        tasks,
        "Reopened",
        change,
        no_op=lambda t: _already(t, done=False),
        prefer=lambda t: t.done,
    )


@function_tool
async def delete_tasks(ctx: RunContextWrapper[TurnContext], tasks: list[str]) -> str:
    """Delete tasks from the list for good. Only when the user asks to delete or remove.

    Args:
        tasks: Task ids from list_tasks (a task's exact title also works).
    """

    def change(repo: TodoRepository, task: Task) -> Awaitable[Task]:
        return repo.delete(task.id)

    return await _change_each(ctx.context, tasks, "Deleted", change)


@function_tool
async def update_task(
    ctx: RunContextWrapper[TurnContext],
    task: str,
    title: str | None = None,
    due: str | None = None,
    priority: str | None = None,
) -> str:
    """Rename a task or change its due date or priority. Leave a field null to keep it.

    Args:
        task: The task's id from list_tasks (its exact title also works).
        title: The new title.
        due: The new due date as YYYY-MM-DD, or "none" to remove it.
        priority: low, normal or high.
    """
    if title is None and due is None and priority is None:
        return "Nothing to change was given."

    def change(repo: TodoRepository, found: Task) -> Awaitable[Task]:
        return repo.update(
            found.id, lambda t: domain.edit(t, title=title, due=due, priority=priority)
        )

    return await _change_each(ctx.context, [task], "Updated", change)


TOOLS = [
    add_tasks,
    list_tasks,
    show_todo_list,
    complete_tasks,
    reopen_tasks,
    delete_tasks,
    update_task,
]
