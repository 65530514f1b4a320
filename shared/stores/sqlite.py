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
from shared.errors import SessionStateConflict, ThreadBusy
from shared.stores.base import (
    TOMBSTONE_SECONDS,
    AppStore,
    FeedbackKind,
    SessionState,
    TurnLease,
    page_limit,
    sort_key_for,
    utc_created_at,
)

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
-- A thread's turn lease (owner set) or, once deleted, its tombstone (deleted = 1).
CREATE TABLE IF NOT EXISTS thread_leases (
    user_id TEXT NOT NULL, thread_id TEXT NOT NULL, owner TEXT,
    expires_at REAL NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, thread_id));
CREATE TABLE IF NOT EXISTS rate_events (
    user_id TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rate_events_by_user ON rate_events (user_id, name, at);
"""

# Appended to a write's WHERE: nothing is written into a deleted thread, in the same
# statement as the write itself (atomic: a delete in between cannot be missed).
_ALIVE = (
    "NOT EXISTS (SELECT 1 FROM thread_leases WHERE user_id = ? AND thread_id = ? AND deleted = 1)"
)


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
        metadata = utc_created_at(ThreadMetadata.model_validate(thread.model_dump()))
        key = (context.user_id, thread.id)
        changed = await self._write(
            "INSERT INTO threads (user_id, id, sort_key, data) "
            f"SELECT ?, ?, ?, ? WHERE {_ALIVE} "
            "ON CONFLICT (user_id, id) DO UPDATE SET data = excluded.data",
            (*key, sort_key_for(thread.id), metadata.model_dump_json(), *key),
            context,
        )
        if changed != 1:
            raise NotFoundError(f"Thread {thread.id} was deleted")

    async def set_title_if_unset(
        self, thread_id: str, title: str, context: RequestContext
    ) -> str | None:
        key = (context.user_id, thread_id)
        await self._write(
            "UPDATE threads SET data = json_set(data, '$.title', ?) "
            "WHERE user_id = ? AND id = ? AND json_extract(data, '$.title') IS NULL",
            (title, *key),
            context,
        )
        row = await self._one(
            "SELECT json_extract(data, '$.title') FROM threads WHERE user_id = ? AND id = ?",
            key,
            context,
        )
        return None if row is None else row[0]

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        limit = page_limit(limit)
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
        now = time.time()
        with self._measure("DELETE thread", context):
            async with self._lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    # The tombstone first: from now on no write lands in this thread,
                    # including those of a turn still streaming on another instance.
                    await db.execute(
                        "INSERT INTO thread_leases (user_id, thread_id, owner, expires_at, "
                        "deleted) VALUES (?, ?, NULL, ?, 1) ON CONFLICT (user_id, thread_id) "
                        "DO UPDATE SET owner = NULL, expires_at = excluded.expires_at, "
                        "deleted = 1",
                        (*key, now + TOMBSTONE_SECONDS),
                    )
                    await db.execute(
                        "DELETE FROM thread_leases WHERE user_id = ? AND deleted = 1 "
                        "AND expires_at < ?",
                        (context.user_id, now),
                    )
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
            (*params, page_limit(limit) + 1),
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
        limit = page_limit(limit)
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
        key = (context.user_id, thread_id)
        data = utc_created_at(item).model_dump_json()
        changed = await self._write(
            "INSERT INTO items (user_id, thread_id, id, sort_key, data) "
            f"SELECT ?, ?, ?, ?, ? WHERE {_ALIVE} "
            "ON CONFLICT (user_id, thread_id, id) DO UPDATE SET data = excluded.data",
            (*key, item.id, sort_key_for(item.id), data, *key),
            context,
        )
        if changed != 1:
            raise NotFoundError(f"Thread {thread_id} was deleted")

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
        changed = await self._write(
            "INSERT INTO attachments (user_id, id, thread_id, data) "
            f"SELECT ?, ?, ?, ? WHERE {_ALIVE} "
            "ON CONFLICT (user_id, id) DO UPDATE SET "
            "thread_id = excluded.thread_id, data = excluded.data",
            (
                context.user_id,
                attachment.id,
                attachment.thread_id,
                attachment.model_dump_json(),
                context.user_id,
                attachment.thread_id or "",
            ),
            context,
        )
        if changed != 1:
            raise NotFoundError(f"Thread {attachment.thread_id} was deleted")

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
                f"SELECT ?, ?, ?, ? WHERE {_ALIVE} "
                "ON CONFLICT (user_id, thread_id) DO NOTHING",
                (context.user_id, thread_id, new_version, encoded, context.user_id, thread_id),
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
            if await self._deleted(thread_id, context):
                raise NotFoundError(f"Thread {thread_id} was deleted")
            raise SessionStateConflict(thread_id)
        return SessionState(version=new_version, data=data)

    async def _deleted(self, thread_id: str, context: RequestContext) -> bool:
        row = await self._one(
            "SELECT 1 FROM thread_leases WHERE user_id = ? AND thread_id = ? AND deleted = 1",
            (context.user_id, thread_id),
            context,
        )
        return row is not None

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
        key = (context.user_id, thread_id)
        for (item_id,) in rows:
            changed = await self._write(
                "INSERT INTO feedback (user_id, thread_id, item_id, kind, created_at) "
                f"SELECT ?, ?, ?, ?, ? WHERE {_ALIVE} "
                "ON CONFLICT (user_id, thread_id, item_id) "
                "DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at",
                (*key, item_id, kind, now, *key),
                context,
            )
            if changed != 1:
                raise NotFoundError(f"Thread {thread_id} was deleted")
        return len(rows)

    # Turn leases and rate limits (atomic across processes: one statement or one
    # IMMEDIATE transaction each)

    async def acquire_turn(
        self, thread_id: str, seconds: float, context: RequestContext
    ) -> TurnLease:
        now = time.time()
        lease = TurnLease(thread_id, context.request_id, now + seconds, context.request_id)
        key = (context.user_id, thread_id)
        changed = await self._write(
            "INSERT INTO thread_leases (user_id, thread_id, owner, expires_at, deleted) "
            "VALUES (?, ?, ?, ?, 0) ON CONFLICT (user_id, thread_id) DO UPDATE SET "
            "owner = excluded.owner, expires_at = excluded.expires_at "
            "WHERE thread_leases.deleted = 0 AND (thread_leases.owner IS NULL "
            "OR thread_leases.expires_at < ?)",
            (*key, lease.owner, lease.expires_at, now),
            context,
        )
        if changed == 1:
            return lease
        row = await self._one(
            "SELECT deleted, expires_at FROM thread_leases WHERE user_id = ? AND thread_id = ?",
            key,
            context,
        )
        if row is not None and row[0]:
            raise NotFoundError(f"Thread {thread_id} was deleted")
        wait = (row[1] - now) if row is not None else 1.0
        raise ThreadBusy(retry_after=_retry_after(wait))

    async def renew_turn(
        self, lease: TurnLease, seconds: float, context: RequestContext
    ) -> TurnLease:
        renewed = TurnLease(lease.thread_id, lease.owner, time.time() + seconds, lease.token)
        changed = await self._write(
            "UPDATE thread_leases SET expires_at = ? WHERE user_id = ? AND thread_id = ? "
            "AND owner = ? AND deleted = 0",
            (renewed.expires_at, context.user_id, lease.thread_id, lease.owner),
            context,
        )
        if changed != 1:
            raise ThreadBusy()
        return renewed

    async def release_turn(self, lease: TurnLease, context: RequestContext) -> None:
        # A tombstone stays; writes after it were refused, so nothing needs removing.
        await self._write(
            "DELETE FROM thread_leases WHERE user_id = ? AND thread_id = ? AND owner = ? "
            "AND deleted = 0",
            (context.user_id, lease.thread_id, lease.owner),
            context,
        )

    async def take_rate_slot(
        self, name: str, limit: int, window_seconds: float, context: RequestContext
    ) -> float | None:
        db = await self._conn()
        now = time.time()
        since = now - window_seconds
        with self._measure("RATE slot", context):
            async with self._lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    await db.execute(
                        "DELETE FROM rate_events WHERE user_id = ? AND name = ? AND at <= ?",
                        (context.user_id, name, since),
                    )
                    async with db.execute(
                        "SELECT at FROM rate_events WHERE user_id = ? AND name = ? "
                        "ORDER BY at DESC LIMIT ?",
                        (context.user_id, name, max(1, limit)),
                    ) as cursor:
                        recent = [r[0] for r in await cursor.fetchall()]
                    if len(recent) >= limit:
                        await db.execute("COMMIT")
                        return min(window_seconds, max(0.0, recent[-1] - since))
                    await db.execute(
                        "INSERT INTO rate_events (user_id, name, at) VALUES (?, ?, ?)",
                        (context.user_id, name, now),
                    )
                    await db.execute("COMMIT")
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
        return None

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


def _retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header: at least 1, at most 30."""
    return min(30, max(1, int(seconds) + 1))


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)")


@lru_cache(maxsize=128)
def _verb(sql: str) -> str:
    """`SELECT threads` for a statement: the span's operation, never its parameters."""
    table = _TABLE.search(sql)
    return sql.split(None, 1)[0].upper() + (f" {table.group(1)}" if table else "")
