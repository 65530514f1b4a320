"""Widget actions: the list's buttons and its add form. Each one changes the stored
tasks the same way the tools do, then redraws the clicked widget in place from the
stored state, so a click and a typed request always end in the same list. No model
call happens here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chatkit.types import (
    Action,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadStreamEvent,
    WidgetItem,
)

from shared.turn_context import ActionContext, ActionHandler
from use_cases.todo import domain
from use_cases.todo.domain import TodoError
from use_cases.todo.repository import TodoRepository, user_now
from use_cases.todo.widgets import (
    ADD_ACTION,
    COMPLETE_ACTION,
    DELETE_ACTION,
    REOPEN_ACTION,
    is_todo_widget,
    todo_copy_text,
    todo_widget,
)

# A change: (repository, payload, now) -> the notice shown on the redrawn list.
Change = Callable[[TodoRepository, dict[str, Any], datetime], Awaitable[str]]


def _payload(action: Action[str, Any]) -> dict[str, Any]:
    # Payloads come from the browser: treat them as untrusted input.
    return action.payload if isinstance(action.payload, dict) else {}


def _task_id(payload: dict[str, Any]) -> str:
    task_id = payload.get("id")
    if not isinstance(task_id, str):
        raise TodoError("The widget did not say which task.")
    return task_id


async def _complete(repo: TodoRepository, payload: dict[str, Any], now: datetime) -> str:
    task = await repo.update(_task_id(payload), lambda t: domain.complete(t, now))
    return f"Completed '{task.title}'."


async def _reopen(repo: TodoRepository, payload: dict[str, Any], now: datetime) -> str:
    task = await repo.update(_task_id(payload), domain.reopen)
    return f"Reopened '{task.title}'."


async def _delete(repo: TodoRepository, payload: dict[str, Any], now: datetime) -> str:
    task = await repo.delete(_task_id(payload))
    return f"Deleted '{task.title}'."


async def _add(repo: TodoRepository, payload: dict[str, Any], now: datetime) -> str:
    # The form's field values arrive in the payload keyed by their `name`.
    task = domain.new_task(
        payload.get("title"), payload.get("due"), payload.get("priority"), now=now
    )
    existing = await repo.list()
    fresh, _ = domain.without_duplicates([task], existing)
    if not fresh:
        return f"'{task.title}' is already on the list."
    await repo.add(fresh, existing=len(existing))
    return f"Added '{task.title}'."


def _handler(change: Change) -> ActionHandler:
    async def handle(
        ctx: ActionContext, action: Action[str, Any], sender: WidgetItem | None
    ) -> AsyncIterator[ThreadStreamEvent]:
        repo = TodoRepository.for_user(ctx.documents)
        now = user_now(ctx.request)
        error = False
        try:
            notice = await change(repo, _payload(action), now)
        except TodoError as exc:
            notice, error = str(exc), True
        tasks = await repo.list()
        widget = todo_widget(tasks, now.date(), notice, error=error)
        copy_text = todo_copy_text(tasks, now.date(), notice)
        if sender is not None and is_todo_widget(sender):
            yield ThreadItemReplacedEvent(
                item=sender.model_copy(update={"widget": widget, "copy_text": copy_text})
            )
            return
        yield ThreadItemDoneEvent(
            item=WidgetItem(
                id=ctx.new_item_id(),
                thread_id=ctx.thread.id,
                created_at=datetime.now(UTC),
                widget=widget,
                copy_text=copy_text,
            )
        )

    return handle


ACTIONS: Mapping[str, ActionHandler] = {
    ADD_ACTION: _handler(_add),
    COMPLETE_ACTION: _handler(_complete),
    REOPEN_ACTION: _handler(_reopen),
    DELETE_ACTION: _handler(_delete),
}
