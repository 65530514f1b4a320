"""The embedded default store: one SQLite file under DATA_DIR.

Lets the app run with no Azure at all. Every statement carries `user_id` in its WHERE
clause, so isolation holds in the query itself rather than by filtering after a load.
One connection per process (aiosqlite runs it on its own thread, so the event loop
never blocks); WAL and a busy timeout let several processes share the file.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite
from chatkit.store import NotFoundError
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

from shared import telemetry
from shared.context import RequestContext
from shared.documents import Document, DocumentConflict
from shared.errors import SessionStateConflict
from shared.stores.base import AppStore, FeedbackKind, SessionState, sort_key_for

_ITEM = TypeAdapter(ThreadItem)
_ATTACHMENT = TypeAdapter(Attachment)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    user_id TEXT NOT NULL, id TEXT NOT NULL, sort_key TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (user_id, id));
CREATE INDEX IF NOT EXISTS threads_by_user ON threads (user_id, sort_key);
CREATE TABLE IF NOT EXISTS items (
    user_id TEXT NOT NULL, thread_id TEXT NOT NULL, id TEXT NOT NULL,
    sort_key TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (user_id, thread_id, id));
CREATE INDEX IF NOT EXISTS items_by_thread ON items (user_id, thread_id, sort_key);
CREATE TABLE IF NOT EXISTS attachments (
    user_id TEXT NOT NULL, id TEXT NOT NULL, thread_id TEXT, data TEXT NOT NULL,
    PRIMARY KEY (user_id, id));
CREATE INDEX IF NOT EXISTS attachments_by_thread ON attachments (user_id, thread_id);
CREATE TABLE IF NOT EXISTS session_state (
    user_id TEXT NOT NULL, thread_id TEXT NOT NULL, version INTEGER NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (user_id, thread_id));
CREATE TABLE IF NOT EXISTS documents (
    scope TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
    version INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (scope, collection, key));
CREATE TABLE IF NOT EXISTS feedback (
    user_id TEXT NOT NULL, thread_id TEXT NOT NULL, item_id TEXT NOT NULL,
    kind TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, thread_id, item_id));
"""


class SQLiteStore(AppStore):
    kind = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        # One statement (or transaction) at a time on the shared connection: an open
        # cursor from one coroutine would otherwise pin a stale read snapshot under
        # another coroutine's write, which WAL answers with an immediate "locked".
        self._lock = asyncio.Lock()

    async def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            async with self._open_lock:
                if self._db is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    db = await aiosqlite.connect(self.path, isolation_level=None)
                    # The busy timeout first: switching to WAL itself may wait on a lock.
                    await db.execute("PRAGMA busy_timeout=5000")
                    await db.execute("PRAGMA journal_mode=WAL")
                    await db.execute("PRAGMA synchronous=NORMAL")
                    await db.executescript(_SCHEMA)
                    self._db = db
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @contextmanager
    def _measure(self, operation: str, context: RequestContext) -> Iterator[None]:
        """One statement (or transaction): StoreMetrics and, when on, a span."""
        started = time.perf_counter()
        with telemetry.store_call(context, "sqlite", operation):
            yield
        context.metrics.record(time.perf_counter() - started)

    async def _one(
        self, sql: str, params: tuple[Any, ...], context: RequestContext
    ) -> tuple[Any, ...] | None:
        db = await self._conn()
        with self._measure(_verb(sql), context):
            async with self._lock, db.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        return row

    async def _all(self, sql: str, params: tuple[Any, ...], context: RequestContext) -> list[Any]:
        db = await self._conn()
        with self._measure(_verb(sql), context):
            async with self._lock, db.execute(sql, params) as cursor:
                rows = list(await cursor.fetchall())
        return rows

    async def _write(self, sql: str, params: tuple[Any, ...], context: RequestContext) -> int:
        db = await self._conn()
        with self._measure(_verb(sql), context):
            async with self._lock, db.execute(sql, params) as cursor:
                changed = cursor.rowcount
        return changed

    # Threads

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        row = await self._one(
            "SELECT data FROM threads WHERE user_id = ? AND id = ?",
            (context.user_id, thread_id),
            context,
        )
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return ThreadMetadata.model_validate_json(row[0])

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        data = ThreadMetadata.model_validate(thread.model_dump()).model_dump_json()
        await self._write(
            "INSERT INTO threads (user_id, id, sort_key, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, id) DO UPDATE SET data = excluded.data",
            (context.user_id, thread.id, sort_key_for(thread.id), data),
            context,
        )

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        rows = await self._page(
            "threads", "user_id = ?", (context.user_id,), limit, after, order, context
        )
        page = [ThreadMetadata.model_validate_json(r[1]) for r in rows[:limit]]
        return Page(
            data=page,
            has_more=len(rows) > limit,
            after=rows[limit - 1][0] if len(rows) > limit else None,
        )

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        db = await self._conn()
        key = (context.user_id, thread_id)
        with self._measure("DELETE thread", context):
            async with self._lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    for sql in (
                        "DELETE FROM items WHERE user_id = ? AND thread_id = ?",
                        "DELETE FROM attachments WHERE user_id = ? AND thread_id = ?",
                        "DELETE FROM session_state WHERE user_id = ? AND thread_id = ?",
                        "DELETE FROM feedback WHERE user_id = ? AND thread_id = ?",
                        "DELETE FROM threads WHERE user_id = ? AND id = ?",
                    ):
                        await db.execute(sql, key)
                    await db.execute("COMMIT")
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise

    async def _page(
        self,
        table: str,
        where: str,
        params: tuple[Any, ...],
        limit: int,
        after: str | None,
        order: str,
        context: RequestContext,
    ) -> list[Any]:
        """Keyset pagination on sort_key; the cursor handed out is the sort key itself."""
        direction = "DESC" if order == "desc" else "ASC"
        if after:
            where += " AND sort_key < ?" if direction == "DESC" else " AND sort_key > ?"
            params = (*params, after)
        return await self._all(
            f"SELECT sort_key, data FROM {table} WHERE {where} "  # noqa: S608 - fixed names
            f"ORDER BY sort_key {direction} LIMIT ?",
            (*params, max(1, limit) + 1),
            context,
        )

    # Items

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        limit = max(1, limit)
        rows = await self._page(
            "items",
            "user_id = ? AND thread_id = ?",
            (context.user_id, thread_id),
            limit,
            after,
            order,
            context,
        )
        if not rows and after is None:
            # An empty page must not hide that the thread is someone else's or gone.
            await self.load_thread(thread_id, context)
        return Page(
            data=[_ITEM.validate_json(r[1]) for r in rows[:limit]],
            has_more=len(rows) > limit,
            after=rows[limit - 1][0] if len(rows) > limit else None,
        )

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await self._write(
            "INSERT INTO items (user_id, thread_id, id, sort_key, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, thread_id, id) DO UPDATE SET data = excluded.data",
            (context.user_id, thread_id, item.id, sort_key_for(item.id), item.model_dump_json()),
            context,
        )

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        row = await self._one(
            "SELECT data FROM items WHERE user_id = ? AND thread_id = ? AND id = ?",
            (context.user_id, thread_id, item_id),
            context,
        )
        if row is None:
            raise NotFoundError(f"Item {item_id} not found")
        return _ITEM.validate_json(row[0])

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        await self._write(
            "DELETE FROM items WHERE user_id = ? AND thread_id = ? AND id = ?",
            (context.user_id, thread_id, item_id),
            context,
        )

    # Attachments (metadata; the bytes live in an AttachmentStore)

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        await self._write(
            "INSERT INTO attachments (user_id, id, thread_id, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, id) DO UPDATE SET "
            "thread_id = excluded.thread_id, data = excluded.data",
            (context.user_id, attachment.id, attachment.thread_id, attachment.model_dump_json()),
            context,
        )

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        row = await self._one(
            "SELECT data FROM attachments WHERE user_id = ? AND id = ?",
            (context.user_id, attachment_id),
            context,
        )
        if row is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _ATTACHMENT.validate_json(row[0])

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        await self._write(
            "DELETE FROM attachments WHERE user_id = ? AND id = ?",
            (context.user_id, attachment_id),
            context,
        )

    async def list_thread_attachments(
        self, thread_id: str, context: RequestContext
    ) -> list[Attachment]:
        rows = await self._all(
            "SELECT data FROM attachments WHERE user_id = ? AND thread_id = ? ORDER BY id",
            (context.user_id, thread_id),
            context,
        )
        return [_ATTACHMENT.validate_json(r[0]) for r in rows]

    # Session state

    async def load_session_state(self, thread_id: str, context: RequestContext) -> SessionState:
        row = await self._one(
            "SELECT version, data FROM session_state WHERE user_id = ? AND thread_id = ?",
            (context.user_id, thread_id),
            context,
        )
        if row is None:
            return SessionState()
        return SessionState(version=row[0], data=json.loads(row[1]))

    async def save_session_state(
        self,
        thread_id: str,
        data: dict[str, Any],
        expected: SessionState,
        context: RequestContext,
    ) -> SessionState:
        expected_version = expected.version
        encoded = json.dumps(data, separators=(",", ":"))
        new_version = expected_version + 1
        if expected_version == 0:
            changed = await self._write(
                "INSERT INTO session_state (user_id, thread_id, version, data) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, thread_id) DO NOTHING",
                (context.user_id, thread_id, new_version, encoded),
                context,
            )
        else:
            # Compare-and-swap in one statement: atomic even across processes.
            changed = await self._write(
                "UPDATE session_state SET version = ?, data = ? "
                "WHERE user_id = ? AND thread_id = ? AND version = ?",
                (new_version, encoded, context.user_id, thread_id, expected_version),
                context,
            )
        if changed != 1:
            raise SessionStateConflict(thread_id)
        return SessionState(version=new_version, data=data)

    # Feedback

    async def save_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        kind: FeedbackKind,
        context: RequestContext,
    ) -> int:
        await self.load_thread(thread_id, context)
        if not item_ids:
            return 0
        marks = ",".join("?" for _ in item_ids)
        rows = await self._all(
            f"SELECT id FROM items WHERE user_id = ? AND thread_id = ? AND id IN ({marks})",  # noqa: S608
            (context.user_id, thread_id, *item_ids),
            context,
        )
        now = datetime.now(UTC).isoformat()
        for (item_id,) in rows:
            await self._write(
                "INSERT INTO feedback (user_id, thread_id, item_id, kind, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, thread_id, item_id) "
                "DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at",
                (context.user_id, thread_id, item_id, kind, now),
                context,
            )
        return len(rows)

    async def load_feedback(
        self, thread_id: str, context: RequestContext
    ) -> dict[str, FeedbackKind]:
        rows = await self._all(
            "SELECT item_id, kind FROM feedback WHERE user_id = ? AND thread_id = ?",
            (context.user_id, thread_id),
            context,
        )
        return {item_id: kind for item_id, kind in rows}

    # Use-case documents

    async def load_document(
        self, scope: str, collection: str, key: str, context: RequestContext
    ) -> Document | None:
        row = await self._one(
            "SELECT version, data FROM documents WHERE scope = ? AND collection = ? AND key = ?",
            (scope, collection, key),
            context,
        )
        if row is None:
            return None
        return Document(key=key, version=row[0], data=json.loads(row[1]))

    async def save_document(
        self,
        scope: str,
        collection: str,
        key: str,
        data: dict[str, Any],
        context: RequestContext,
        expected: Document | None = None,
    ) -> Document:
        encoded = json.dumps(data, separators=(",", ":"))
        if expected is None:
            row = await self._one(
                "INSERT INTO documents (scope, collection, key, version, data) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (scope, collection, key) DO UPDATE SET "
                "version = version + 1, data = excluded.data RETURNING version",
                (scope, collection, key, encoded),
                context,
            )
            assert row is not None
            return Document(key=key, version=row[0], data=data)
        if expected.version == 0:
            changed = await self._write(
                "INSERT INTO documents (scope, collection, key, version, data) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (scope, collection, key) DO NOTHING",
                (scope, collection, key, encoded),
                context,
            )
        else:
            changed = await self._write(
                "UPDATE documents SET version = version + 1, data = ? "
                "WHERE scope = ? AND collection = ? AND key = ? AND version = ?",
                (encoded, scope, collection, key, expected.version),
                context,
            )
        if changed != 1:
            raise DocumentConflict(f"{collection}/{key}")
        return Document(key=key, version=expected.version + 1, data=data)

    async def delete_document(
        self, scope: str, collection: str, key: str, context: RequestContext
    ) -> bool:
        changed = await self._write(
            "DELETE FROM documents WHERE scope = ? AND collection = ? AND key = ?",
            (scope, collection, key),
            context,
        )
        return changed == 1

    async def list_documents(
        self, scope: str, collection: str, context: RequestContext, limit: int
    ) -> list[Document]:
        rows = await self._all(
            "SELECT key, version, data FROM documents WHERE scope = ? AND collection = ? "
            "ORDER BY key LIMIT ?",
            (scope, collection, limit),
            context,
        )
        return [Document(key=k, version=v, data=json.loads(d)) for k, v, d in rows]


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)")


@lru_cache(maxsize=128)
def _verb(sql: str) -> str:
    """`SELECT threads` for a statement: the span's operation, never its parameters."""
    table = _TABLE.search(sql)
    return sql.split(None, 1)[0].upper() + (f" {table.group(1)}" if table else "")
