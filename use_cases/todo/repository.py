"""The user's tasks in the document repository: one document per task.

One document per task means two changes to different tasks never touch the same
document, and a change to one task is a conditional write (re-read and re-applied on a
conflict), so concurrent clicks and chat turns lose nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.context import RequestContext, valid_timezone
from shared.documents import Collection, DocumentConflict, Documents
from use_cases.todo.domain import MAX_TASKS, Task, TodoError, check_room, is_task_id, normalise_id

COLLECTION = "todos"
_ATTEMPTS = 10


def user_now(context: RequestContext) -> datetime:
    """Now in the user's time zone (their browser's, else UTC): 'today' is theirs."""
    return datetime.now(ZoneInfo(valid_timezone(context.timezone) or "UTC"))


@dataclass(frozen=True)
class TodoRepository:
    collection: Collection

    @classmethod
    def for_user(cls, documents: Documents) -> TodoRepository:
        # The scope is the request's user; no argument can name another user.
        return cls(documents.user(COLLECTION))

    async def list(self) -> list[Task]:
        docs = await self.collection.list(limit=MAX_TASKS + 50)
        return [Task.from_data(d.key, d.data) for d in docs]

    async def add(self, tasks: Sequence[Task], existing: int | None = None) -> list[Task]:
        """Create the tasks; `existing` is the list's size if the caller just read it."""
        if not tasks:
            return []
        check_room(len(await self.list()) if existing is None else existing, len(tasks))
        for task in tasks:
            await self.collection.create(task.id, task.to_data())
        return list(tasks)

    async def update(self, task_id: str, change: Callable[[Task], Task]) -> Task:
        """Apply `change` to the stored task with a conditional write; on a conflict
        re-read and re-apply, so a concurrent change is built upon, not overwritten."""
        task_id = self._checked(task_id)
        for attempt in range(_ATTEMPTS):
            doc = await self.collection.get(task_id)
            if doc is None:
                raise TodoError("That task no longer exists; it may have been deleted.")
            current = Task.from_data(doc.key, doc.data)
            changed = change(current)
            if changed == current:
                return current
            try:
                await self.collection.put(task_id, changed.to_data(), expected=doc)
                return changed
            except DocumentConflict:
                await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311
        raise TodoError("That task kept changing while I updated it; please try again.")

    async def delete(self, task_id: str) -> Task:
        task_id = self._checked(task_id)
        doc = await self.collection.get(task_id)
        if doc is None or not await self.collection.delete(task_id):
            raise TodoError("That task no longer exists; it may have been deleted.")
        return Task.from_data(doc.key, doc.data)

    @staticmethod
    def _checked(task_id: str) -> str:
        # Ids come from widget payloads and model output: never send odd keys to the store.
        if not isinstance(task_id, str) or not is_task_id(task_id):
            raise TodoError(f"'{str(task_id)[:40]}' is not a task id.")
        return normalise_id(task_id)
