"""Azure Cosmos DB store: one container, hierarchical partition key [/userId, /threadId].

docs/cosmos-data-model.md describes the documents, the indexing policy and each query.
Ownership lives in the request itself: point reads name the partition
[context.user_id, thread_id] and every query filters on `c.userId` in SQL as well as
passing `partition_key=` (the stand-in used by the tests ignores that argument).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.cosmos import PartitionKey
from azure.cosmos import exceptions as cx
from azure.cosmos.aio import ContainerProxy, CosmosClient
from chatkit.store import NotFoundError
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

from shared import telemetry
from shared.context import RequestContext
from shared.errors import ConfigurationError, SessionStateConflict, StoreUnavailable, ThreadBusy
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
from shared.stores.cosmos_documents import CosmosDocumentsMixin

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from shared.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

_ITEM = TypeAdapter(ThreadItem)
_ATTACHMENT = TypeAdapter(Attachment)

PARTITION_PATHS = ["/userId", "/threadId"]
# Attachments exist before they belong to a thread, so they get a per-user partition.
ATTACHMENTS = "~attachments"
SESSION = "session"
FEEDBACK = "feedback:"
# The thread's turn lease, which becomes its tombstone when the thread is deleted.
LEASE = "lease"
# Per-user rate-limit counters (one document per limit) live in their own partition.
RATES = "~rates"
_RATE_ATTEMPTS = 8
# Only the paths queries filter or order on are indexed: each indexed path costs write RU.
INDEXED = ("userId", "threadId", "docType", "sortKey", "attachmentThreadId")
INDEXING_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "automatic": True,
    "includedPaths": [{"path": f"/{name}/?"} for name in INDEXED],
    "excludedPaths": [{"path": "/*"}],
    "compositeIndexes": [
        [{"path": "/docType", "order": "ascending"}, {"path": "/sortKey", "order": order}]
        for order in ("ascending", "descending")
    ],
}
# Throttling, overload and timeouts that outlasted the SDK's own retries.
_BUSY_STATUS = {408, 429, 449, 503}
_UNREACHABLE = (
    ServiceRequestError,
    ServiceResponseError,
    cx.CosmosClientTimeoutError,
    TimeoutError,
)
# Keyless apps need a data-plane role, and the database and container created beforehand
# (data-plane roles cannot create them).
_REFUSED = "Cosmos DB refused the app's credentials or role; see the server log."
_CROSS_PARTITION = {"x-ms-documentdb-query-enablecrosspartition": "true"}
_BAD_ID_CHARS = frozenset("/\\?#")
_CONCURRENCY = 8

# `@userId` is always bound from the request context: ownership is part of every query.
_THREADS = "c.userId = @userId AND c.docType = 'thread'"
_ITEMS = "c.userId = @userId AND c.threadId = @threadId AND c.docType = 'item'"
# 'thread' sorts after 'item': descending, the thread document comes first, then the
# newest items; the (docType, sortKey) composite index serves it in reverse.
_THREAD_WITH_ITEMS = (
    "SELECT TOP @n c.docType, c.sortKey, c.data FROM c WHERE c.userId = @userId "
    "AND c.threadId = @threadId AND (c.docType = 'thread' OR c.docType = 'item') "
    "ORDER BY c.docType DESC, c.sortKey DESC"
)
_PARTITION_DOCS = (
    "SELECT c.id, c.docType FROM c WHERE c.userId = @userId AND c.threadId = @threadId"
)
_THREAD_ATTACHMENTS = (
    f"SELECT c.id, c.data FROM c WHERE c.userId = @userId AND c.threadId = '{ATTACHMENTS}' "  # noqa: S608
    "AND c.docType = 'attachment' AND c.attachmentThreadId = @threadId"
)
_FOUND_ITEMS = f"SELECT c.id FROM c WHERE {_ITEMS} AND ARRAY_CONTAINS(@ids, c.id)"  # noqa: S608
_FEEDBACK = (
    "SELECT c.itemId, c.kind FROM c WHERE c.userId = @userId AND c.threadId = @threadId "
    "AND c.docType = 'feedback'"
)

# The SDK retries throttling and connection failures itself within these limits, which
# stay well under the platform's 230 s response cut-off; then the store gives up.
DEFAULT_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 5,  # attempts on 429 (the SDK honours the server's retry-after)
    "retry_backoff_max": 10,  # seconds of 429 waiting in all before giving up
    "retry_connect": 2,
    "retry_read": 2,
    "connection_timeout": 5,
    "read_timeout": 20,
    "timeout": 30,  # absolute, per operation
}


def _valid_id(value: str) -> bool:
    # Cosmos ids travel in the URL path; these characters would address something else.
    return 0 < len(value) <= 255 and not _BAD_ID_CHARS.intersection(value)


class _Charge:
    """A per-call `response_hook` adding up x-ms-request-charge over the call's responses.

    Per call because `client_connection.last_response_headers` is shared by concurrent
    requests. It has no `clear` attribute on purpose: the SDK would call it.
    """

    __slots__ = ("units",)

    def __init__(self) -> None:
        self.units = 0.0

    def __call__(self, headers: Mapping[str, Any], *_: Any) -> None:
        try:
            self.units += float(headers.get("x-ms-request-charge") or 0)
        except (TypeError, ValueError):
            pass


class CosmosStore(CosmosDocumentsMixin, AppStore):
    kind = "cosmos"

    def __init__(
        self,
        *,
        endpoint: str,
        credential: str | AsyncTokenCredential,
        database: str,
        container: str,
        create_if_missing: bool = True,
        ttl_seconds: int = 0,
        client_options: Mapping[str, Any] | None = None,
    ):
        self.endpoint = endpoint
        self.database = database
        self.container = container
        self.create_if_missing = create_if_missing
        self.ttl_seconds = ttl_seconds
        self._credential = credential
        self._owned_credential: AsyncTokenCredential | None = None
        self._client_options = {**DEFAULT_CLIENT_OPTIONS, **(client_options or {})}
        self._client: CosmosClient | None = None
        self._proxy: ContainerProxy | None = None
        self._open_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CosmosStore:
        if not settings.cosmos_endpoint:
            raise ConfigurationError("COSMOS_ENDPOINT is not set.")
        owned: AsyncTokenCredential | None = None
        if settings.cosmos_key is not None:
            credential: str | AsyncTokenCredential = settings.cosmos_key.get_secret_value()
        else:
            from azure.identity.aio import DefaultAzureCredential

            credential = owned = DefaultAzureCredential()
        store = cls(
            endpoint=settings.cosmos_endpoint,
            credential=credential,
            database=settings.cosmos_database,
            container=settings.cosmos_container,
            create_if_missing=settings.cosmos_create_if_missing,
            ttl_seconds=settings.cosmos_ttl_seconds,
        )
        store._owned_credential = owned
        return store

    async def close(self) -> None:
        client, self._client, self._proxy = self._client, None, None
        if client is not None:
            await client.close()
        credential, self._owned_credential = self._owned_credential, None
        if credential is not None:
            await credential.close()

    # Plumbing: one client per store (per process), metrics and error mapping per call.

    @asynccontextmanager
    async def _measure(self, op: str, context: RequestContext) -> AsyncIterator[_Charge]:
        charge = _Charge()
        started = time.perf_counter()
        with telemetry.store_call(context, "cosmos", op) as span:
            try:
                yield charge
            except ClientAuthenticationError:
                raise ConfigurationError(_REFUSED) from None
            except cx.CosmosHttpResponseError as exc:
                # Refusals are charged too (a 404 read ~1 RU); the hook never sees them.
                charge(exc.headers or {})
                if exc.status_code in _BUSY_STATUS:
                    raise StoreUnavailable(f"Cosmos DB {op}: status {exc.status_code}") from exc
                if exc.status_code in (401, 403):
                    logger.error("Cosmos DB %s refused: %s", op, exc.message)
                    raise ConfigurationError(_REFUSED) from None
                raise
            except _UNREACHABLE as exc:
                raise StoreUnavailable(f"Cosmos DB {op}: {type(exc).__name__}") from exc
            finally:
                seconds = time.perf_counter() - started
                context.metrics.record(seconds, charge.units)
                span.request_charge(charge.units)
                logger.debug("cosmos %s: %.2f RU, %.1f ms", op, charge.units, seconds * 1000)

    async def _container(self, context: RequestContext) -> ContainerProxy:
        if self._proxy is None:
            async with self._open_lock:
                if self._proxy is None:
                    self._proxy = await self._open(context)
        return self._proxy

    async def _open(self, context: RequestContext) -> ContainerProxy:
        if self._client is None:
            self._client = CosmosClient(self.endpoint, self._credential, **self._client_options)
        where = f"container '{self.container}' in database '{self.database}'"
        async with self._measure("open", context) as hook:
            if self.create_if_missing:
                proxy = await self._create_if_missing(self._client, hook)
            else:
                db = self._client.get_database_client(self.database)
                proxy = db.get_container_client(self.container)
            try:
                properties = await proxy.read(response_hook=hook)
            except cx.CosmosResourceNotFoundError:
                raise ConfigurationError(
                    f"Cosmos DB {where} does not exist; create it or set "
                    "COSMOS_CREATE_IF_MISSING=true."
                ) from None
        if properties.get("partitionKey", {}).get("paths") != PARTITION_PATHS:
            raise ConfigurationError(f"Cosmos DB {where} must be partitioned by {PARTITION_PATHS}.")
        if self.ttl_seconds > 0 and properties.get("defaultTtl") is None:
            logger.warning(
                "COSMOS_TTL_SECONDS is set but the %s has TTL off: nothing expires.", where
            )
        return proxy

    async def _create_if_missing(self, client: CosmosClient, hook: _Charge) -> ContainerProxy:
        # "if not exists" is a read, then a create: two instances starting at once on a
        # new account both read "missing" and one create answers 409. Then it exists.
        for attempt in range(1, 6):
            try:
                db = await client.create_database_if_not_exists(self.database, response_hook=hook)
                return await db.create_container_if_not_exists(
                    self.container,
                    partition_key=PartitionKey(path=PARTITION_PATHS, kind="MultiHash"),
                    indexing_policy=INDEXING_POLICY,
                    default_ttl=-1 if self.ttl_seconds > 0 else None,
                    response_hook=hook,
                )
            except cx.CosmosResourceExistsError:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def _call(
        self,
        op: str,
        context: RequestContext,
        run: Callable[[ContainerProxy, _Charge], Awaitable[T]],
    ) -> T:
        container = await self._container(context)
        async with self._measure(op, context) as hook:
            return await run(container, hook)

    async def _query(
        self, op: str, sql: str, pk: list[str], context: RequestContext, **params: Any
    ) -> list[dict[str, Any]]:
        container = await self._container(context)
        bound = {"userId": context.user_id, **params}
        parameters: list[dict[str, object]] = [
            {"name": f"@{k}", "value": v} for k, v in bound.items()
        ]
        # A key prefix spans the user's partitions. The SDK routes it by key range; the
        # stand-in instead wants the cross-partition header (real Cosmos ignores it here).
        headers = _CROSS_PARTITION if len(pk) < len(PARTITION_PATHS) else None
        async with self._measure(op, context) as hook:
            rows = container.query_items(
                sql, parameters=parameters, partition_key=pk, response_hook=hook, headers=headers
            )
            return [row async for row in rows]

    async def _query_scoped(
        self, op: str, sql: str, pk: list[str], context: RequestContext, **params: Any
    ) -> list[dict[str, Any]]:
        """A single-partition query whose parameters the caller binds completely."""
        container = await self._container(context)
        parameters: list[dict[str, object]] = [
            {"name": f"@{k}", "value": v} for k, v in params.items()
        ]
        async with self._measure(op, context) as hook:
            rows = container.query_items(
                sql, parameters=parameters, partition_key=pk, response_hook=hook
            )
            return [row async for row in rows]

    async def _read(
        self, op: str, doc_id: str, pk: list[str] | None, doc_type: str, context: RequestContext
    ) -> dict[str, Any] | None:
        if pk is None or not _valid_id(doc_id):
            return None
        try:
            doc = await self._call(
                op, context, lambda c, hook: c.read_item(doc_id, pk, response_hook=hook)
            )
        except cx.CosmosResourceNotFoundError:
            return None
        # The partition key already scopes the read to the user; this guards against ids
        # shared across document types (an item id "session" must not read the state).
        if doc.get("docType") != doc_type or doc.get("userId") != context.user_id:
            return None
        return dict(doc)

    async def _upsert(self, op: str, doc: dict[str, Any], context: RequestContext) -> None:
        await self._call(op, context, lambda c, hook: c.upsert_item(doc, response_hook=hook))

    async def _delete(self, op: str, doc_id: str, pk: list[str], context: RequestContext) -> None:
        try:
            await self._call(
                op, context, lambda c, hook: c.delete_item(doc_id, pk, response_hook=hook)
            )
        except cx.CosmosResourceNotFoundError:
            pass

    def _pk(self, context: RequestContext, thread_id: str) -> list[str] | None:
        """The thread's partition, or None for an id no thread can have."""
        # "~" partitions hold attachment metadata and use-case documents, never threads.
        if thread_id.startswith("~") or not _valid_id(thread_id):
            return None
        return [context.user_id, thread_id]

    def _doc(
        self, context: RequestContext, partition: str, doc_id: str, doc_type: str, **fields: Any
    ) -> dict[str, Any]:
        if not _valid_id(doc_id):
            raise ValueError(f"Unsupported id {doc_id[:64]!r}")
        doc = {"id": doc_id, "userId": context.user_id, "threadId": partition, "docType": doc_type}
        doc.update(fields)
        if self.ttl_seconds > 0:
            doc["ttl"] = self.ttl_seconds
        return doc

    async def _sort_key(
        self, doc_id: str, pk: list[str], doc_type: str, ctx: RequestContext
    ) -> str:
        key = sort_key_for(doc_id)
        if doc_id.endswith("_" + key):
            return key  # an id this app minted carries its creation time
        # A foreign id is ordered by when the store first saw it: keep that across saves.
        existing = await self._read(f"{doc_type}.sort_key", doc_id, pk, doc_type, ctx)
        return existing["sortKey"] if existing else key

    async def _page(
        self,
        op: str,
        where: str,
        pk: list[str],
        limit: int,
        after: str | None,
        order: str,
        context: RequestContext,
        **params: Any,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Keyset pagination on sortKey; the cursor handed out is the sort key itself."""
        limit = page_limit(limit)
        direction = "DESC" if order == "desc" else "ASC"
        if after:
            where += " AND c.sortKey < @after" if direction == "DESC" else " AND c.sortKey > @after"
            params["after"] = after
        # docType leads the ORDER BY so the (docType, sortKey) composite index serves it.
        sql = (
            f"SELECT TOP @n c.sortKey, c.data FROM c WHERE {where} "  # noqa: S608 - fixed text
            f"ORDER BY c.docType ASC, c.sortKey {direction}"
        )
        rows = await self._query(op, sql, pk, context, n=limit + 1, **params)
        # The cursor is set exactly when there is more to read.
        return rows[:limit], rows[limit - 1]["sortKey"] if len(rows) > limit else None

    # Threads

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        doc = await self._read(
            "thread.read", thread_id, self._pk(context, thread_id), "thread", context
        )
        if doc is None:
            _no_thread(thread_id)
        return ThreadMetadata.model_validate(doc["data"])

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        pk = self._pk(context, thread.id) or _no_thread(thread.id)
        # A `Thread` carries a page of items; only the metadata is stored here.
        metadata = utc_created_at(ThreadMetadata.model_validate(thread.model_dump()))
        data = metadata.model_dump(mode="json")
        sort_key = await self._sort_key(thread.id, pk, "thread", context)
        doc = self._doc(context, thread.id, thread.id, "thread", sortKey=sort_key, data=data)
        await self._upsert("thread.upsert", doc, context)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        # A prefix of the hierarchical key: only the user's partitions are read.
        pk = [context.user_id]
        rows, cursor = await self._page("threads.list", _THREADS, pk, limit, after, order, context)
        data = [ThreadMetadata.model_validate(r["data"]) for r in rows]
        return Page(data=data, has_more=cursor is not None, after=cursor)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        pk = self._pk(context, thread_id)
        if pk is None:
            return
        # The tombstone first (it replaces any turn lease): a turn still streaming on
        # another instance finds it when it releases its lease and removes what it wrote
        # after this purge (docs/turn-lease.md), so the thread stays deleted.
        tombstone = self._doc(
            context, thread_id, LEASE, "lease", deleted=True, expiresAt=time.time()
        )
        tombstone["ttl"] = TOMBSTONE_SECONDS  # honoured where the container has TTL on
        await self._upsert("thread.tombstone", tombstone, context)
        await self._purge(thread_id, pk, context)

    async def _purge(self, thread_id: str, pk: list[str], context: RequestContext) -> None:
        files = [context.user_id, ATTACHMENTS]
        rows = await self._query(
            "attachments.by_thread", _THREAD_ATTACHMENTS, files, context, threadId=thread_id
        )
        await _bounded(self._delete("attachment.delete", r["id"], files, context) for r in rows)
        docs = await self._query("thread.docs", _PARTITION_DOCS, pk, context, threadId=thread_id)
        # Not atomic: the thread document goes last, so a failure leaves a thread the
        # user still sees and can delete again rather than invisible orphans.
        rest = [r["id"] for r in docs if r.get("docType") not in ("thread", "lease")]
        await _bounded(self._delete("thread.delete.doc", doc_id, pk, context) for doc_id in rest)
        await self._delete("thread.delete", thread_id, pk, context)

    async def set_title_if_unset(
        self, thread_id: str, title: str, context: RequestContext
    ) -> str | None:
        pk = self._pk(context, thread_id)
        for _ in range(3):
            doc = await self._read("thread.read", thread_id, pk, "thread", context)
            if doc is None or pk is None:
                return None
            if doc["data"].get("title"):
                return str(doc["data"]["title"])
            body = {k: v for k, v in doc.items() if not k.startswith("_")}
            body["data"] = {**doc["data"], "title": title}
            etag = doc["_etag"]
            try:
                await self._call(
                    "thread.title",
                    context,
                    lambda c, hook, body=body, etag=etag: c.replace_item(
                        thread_id,
                        body,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                        response_hook=hook,
                    ),
                )
            except cx.CosmosAccessConditionFailedError:
                continue  # renamed (or otherwise changed) since the read: look again
            except cx.CosmosResourceNotFoundError:
                return None
            return title
        return None

    # Turn leases (docs/turn-lease.md)

    async def acquire_turn(
        self, thread_id: str, seconds: float, context: RequestContext
    ) -> TurnLease:
        pk = self._pk(context, thread_id) or _no_thread(thread_id)
        for _ in range(2):
            now = time.time()
            lease = TurnLease(thread_id, context.request_id, now + seconds)
            doc = self._lease_doc(lease, context)
            try:
                saved = await self._call(
                    "lease.create",
                    context,
                    lambda c, hook, doc=doc: c.create_item(doc, response_hook=hook),
                )
                return _with_token(lease, saved)
            except cx.CosmosResourceExistsError:
                pass
            current = await self._read("lease.read", LEASE, pk, "lease", context)
            if current is None:
                continue  # released between the create and the read: create again
            if current.get("deleted"):
                _no_thread(thread_id)
            if float(current.get("expiresAt", 0)) > now:
                raise ThreadBusy(retry_after=_retry_after(float(current["expiresAt"]) - now))
            # Expired: its holder crashed or hung. Take it over, unless someone else does.
            return await self._replace_lease("lease.takeover", lease, current["_etag"], context)
        raise ThreadBusy()

    async def renew_turn(
        self, lease: TurnLease, seconds: float, context: RequestContext
    ) -> TurnLease:
        renewed = TurnLease(lease.thread_id, lease.owner, time.time() + seconds, lease.token)
        return await self._replace_lease("lease.renew", renewed, lease.token, context)

    async def _replace_lease(
        self, op: str, lease: TurnLease, etag: str | None, context: RequestContext
    ) -> TurnLease:
        """Write `lease` over the lease document last seen with `etag`; ThreadBusy if it
        changed since (taken by another request, or replaced by a delete's tombstone)."""
        doc = self._lease_doc(lease, context)
        try:
            saved = await self._call(
                op,
                context,
                lambda c, hook: c.replace_item(
                    LEASE,
                    doc,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                    response_hook=hook,
                ),
            )
        except (cx.CosmosAccessConditionFailedError, cx.CosmosResourceNotFoundError):
            raise ThreadBusy() from None
        return _with_token(lease, saved)

    async def release_turn(self, lease: TurnLease, context: RequestContext) -> None:
        pk = self._pk(context, lease.thread_id)
        if pk is None:
            return
        try:
            await self._call(
                "lease.release",
                context,
                lambda c, hook: c.delete_item(
                    LEASE,
                    pk,
                    etag=lease.token,
                    match_condition=MatchConditions.IfNotModified,
                    response_hook=hook,
                ),
            )
            return
        except cx.CosmosAccessConditionFailedError:
            pass  # replaced: by a delete's tombstone, or taken over after it expired
        except cx.CosmosResourceNotFoundError:
            return
        with contextlib.suppress(NotFoundError):  # deleted: what the turn left is purged
            await self.confirm_thread_write(lease.thread_id, context)

    async def confirm_thread_write(self, thread_id: str, context: RequestContext) -> None:
        pk = self._pk(context, thread_id)
        if pk is None:
            return
        current = await self._read("lease.read", LEASE, pk, "lease", context)
        if current is not None and current.get("deleted"):
            # Deleted while this request wrote: everything it wrote was written before
            # this read, so one more purge leaves nothing behind.
            await self._purge(thread_id, pk, context)
            _no_thread(thread_id)

    def _lease_doc(self, lease: TurnLease, context: RequestContext) -> dict[str, Any]:
        return self._doc(
            context,
            lease.thread_id,
            LEASE,
            "lease",
            owner=lease.owner,
            expiresAt=lease.expires_at,
            deleted=False,
        )

    # Rate limits

    async def take_rate_slot(
        self, name: str, limit: int, window_seconds: float, context: RequestContext
    ) -> float | None:
        pk = [context.user_id, RATES]
        for attempt in range(_RATE_ATTEMPTS):
            doc = await self._read("rate.read", name, pk, "rate", context)
            now = time.time()
            since = now - window_seconds
            events = sorted(float(t) for t in (doc or {}).get("events", []) if float(t) > since)
            if len(events) >= limit:
                return min(window_seconds, max(0.0, events[-limit] - since))
            body = self._doc(context, RATES, name, "rate", events=[*events, now][-limit:])
            try:
                if doc is None:
                    await self._call(
                        "rate.create",
                        context,
                        lambda c, hook, b=body: c.create_item(b, response_hook=hook),
                    )
                else:
                    etag = doc["_etag"]
                    await self._call(
                        "rate.write",
                        context,
                        lambda c, hook, b=body, e=etag: c.replace_item(
                            name,
                            b,
                            etag=e,
                            match_condition=MatchConditions.IfNotModified,
                            response_hook=hook,
                        ),
                    )
            except (
                cx.CosmosResourceExistsError,
                cx.CosmosAccessConditionFailedError,
                cx.CosmosResourceNotFoundError,
            ):
                # Another instance counted at the same moment: read again and recount.
                await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311
                continue
            return None
        return 1.0  # still contended after every attempt: refuse (and say when to retry)

    # Items

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: RequestContext
    ) -> Page[ThreadItem]:
        pk = self._pk(context, thread_id) or _no_thread(thread_id)
        rows, cursor = await self._page(
            "items.list", _ITEMS, pk, limit, after, order, context, threadId=thread_id
        )
        if not rows and after is None:
            # An empty page must not hide that the thread is someone else's or gone.
            await self.load_thread(thread_id, context)
        data = [_ITEM.validate_python(r["data"]) for r in rows]
        return Page(data=data, has_more=cursor is not None, after=cursor)

    async def load_thread_with_items(
        self, thread_id: str, limit: int, context: RequestContext
    ) -> tuple[ThreadMetadata, Page[ThreadItem]]:
        """The thread and its newest `limit` items in one query: a turn's read-ahead
        (shared/stores/read_ahead.py) saves a round trip on the way to the model."""
        pk = self._pk(context, thread_id) or _no_thread(thread_id)
        limit = page_limit(limit)
        rows = await self._query(
            "thread.with_items", _THREAD_WITH_ITEMS, pk, context, n=limit + 2, threadId=thread_id
        )
        if not rows or rows[0]["docType"] != "thread":
            _no_thread(thread_id)
        thread = ThreadMetadata.model_validate(rows[0]["data"])
        items = rows[1:]
        cursor = items[limit - 1]["sortKey"] if len(items) > limit else None
        data = [_ITEM.validate_python(r["data"]) for r in items[:limit]]
        return thread, Page(data=data, has_more=cursor is not None, after=cursor)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        pk = self._pk(context, thread_id) or _no_thread(thread_id)
        if _reserved(item.id, thread_id):
            raise ValueError(f"Item id {item.id!r} is reserved")
        sort_key = await self._sort_key(item.id, pk, "item", context)
        data = utc_created_at(item).model_dump(mode="json")
        doc = self._doc(context, thread_id, item.id, "item", sortKey=sort_key, data=data)
        await self._upsert("item.upsert", doc, context)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        doc = await self._read("item.read", item_id, self._pk(context, thread_id), "item", context)
        if doc is None:
            raise NotFoundError(f"Item {item_id} not found")
        return _ITEM.validate_python(doc["data"])

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        pk = self._pk(context, thread_id)
        if pk is not None and _valid_id(item_id) and not _reserved(item_id, thread_id):
            await self._delete("item.delete", item_id, pk, context)

    # Attachments (metadata; the bytes live in an AttachmentStore)

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        data = attachment.model_dump(mode="json")
        doc = self._doc(context, ATTACHMENTS, attachment.id, "attachment", data=data)
        doc["attachmentThreadId"] = attachment.thread_id
        await self._upsert("attachment.upsert", doc, context)

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        pk = [context.user_id, ATTACHMENTS]
        doc = await self._read("attachment.read", attachment_id, pk, "attachment", context)
        if doc is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _ATTACHMENT.validate_python(doc["data"])

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        if _valid_id(attachment_id):
            pk = [context.user_id, ATTACHMENTS]
            await self._delete("attachment.delete", attachment_id, pk, context)

    async def list_thread_attachments(
        self, thread_id: str, context: RequestContext
    ) -> list[Attachment]:
        pk = [context.user_id, ATTACHMENTS]
        rows = await self._query(
            "attachments.by_thread", _THREAD_ATTACHMENTS, pk, context, threadId=thread_id
        )
        return [_ATTACHMENT.validate_python(r["data"]) for r in sorted(rows, key=lambda r: r["id"])]

    # Session state

    async def load_session_state(self, thread_id: str, context: RequestContext) -> SessionState:
        pk = self._pk(context, thread_id)
        doc = await self._read("session.read", SESSION, pk, "session", context)
        if doc is None:
            return SessionState()
        return SessionState(data=doc["data"], version=doc["version"], etag=doc["_etag"])

    async def save_session_state(
        self, thread_id: str, data: dict[str, Any], expected: SessionState, context: RequestContext
    ) -> SessionState:
        self._pk(context, thread_id) or _no_thread(thread_id)
        version = expected.version + 1
        doc = self._doc(context, thread_id, SESSION, "session", version=version, data=data)

        def write(c: ContainerProxy, hook: _Charge) -> Awaitable[dict[str, Any]]:
            if expected.version == 0:
                return c.create_item(doc, response_hook=hook)
            # Compare-and-swap on the etag that was read; never a blind overwrite.
            etag, if_same = expected.etag, MatchConditions.IfNotModified
            return c.replace_item(
                SESSION, doc, etag=etag, match_condition=if_same, response_hook=hook
            )

        if expected.version > 0 and expected.etag is None:
            raise SessionStateConflict(thread_id)  # without the etag read, nothing is safe
        try:
            saved = await self._call("session.write", context, write)
        except (
            cx.CosmosResourceExistsError,  # another request created it first
            cx.CosmosAccessConditionFailedError,  # another request replaced it since our read
            cx.CosmosResourceNotFoundError,  # the thread was deleted since our read
        ):
            raise SessionStateConflict(thread_id) from None
        return SessionState(data=data, version=version, etag=saved.get("_etag"))

    # Feedback

    async def save_feedback(
        self, thread_id: str, item_ids: list[str], kind: FeedbackKind, context: RequestContext
    ) -> int:
        await self.load_thread(thread_id, context)
        if not item_ids:
            return 0
        pk = self._pk(context, thread_id) or _no_thread(thread_id)
        rows = await self._query(
            "feedback.items", _FOUND_ITEMS, pk, context, threadId=thread_id, ids=list(item_ids)
        )
        fields = {"kind": kind, "createdAt": datetime.now(UTC).isoformat()}
        docs = (
            self._doc(context, thread_id, FEEDBACK + r["id"], "feedback", itemId=r["id"], **fields)
            for r in rows
        )
        await _bounded(self._upsert("feedback.upsert", doc, context) for doc in docs)
        return len(rows)

    async def load_feedback(
        self, thread_id: str, context: RequestContext
    ) -> dict[str, FeedbackKind]:
        pk = self._pk(context, thread_id)
        if pk is None:
            return {}
        rows = await self._query("feedback.list", _FEEDBACK, pk, context, threadId=thread_id)
        return {r["itemId"]: r["kind"] for r in rows}


def _no_thread(thread_id: str) -> NoReturn:
    raise NotFoundError(f"Thread {thread_id} not found")


def _reserved(item_id: str, thread_id: str) -> bool:
    """Ids of the thread's own documents, which an item must never overwrite or delete."""
    return item_id in (SESSION, LEASE, thread_id) or item_id.startswith(FEEDBACK)


def _with_token(lease: TurnLease, saved: Mapping[str, Any]) -> TurnLease:
    return TurnLease(lease.thread_id, lease.owner, lease.expires_at, saved.get("_etag"))


def _retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header: at least 1, at most 30."""
    return min(30, max(1, int(seconds) + 1))


async def _bounded(calls: Iterable[Awaitable[None]]) -> None:
    """Run the calls a few at a time: quick, without one request taking the RU budget."""
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def one(call: Awaitable[None]) -> None:
        async with limit:
            await call

    await asyncio.gather(*(one(call) for call in calls))
