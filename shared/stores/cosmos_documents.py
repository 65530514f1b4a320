"""Use-case documents in the Cosmos DB chat container (mixed into CosmosStore).

Each collection of a scope is its own logical partition `[scope, "~docs:<collection>"]`,
so reading or listing one user's todos, orders or bookings is a single-partition
operation, and the `~` prefix keeps these partitions apart from chat threads.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos import exceptions as cx

from shared.context import RequestContext
from shared.documents import Document, DocumentConflict

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

DOCS_PREFIX = "~docs:"
_LIST = (
    "SELECT TOP @limit c.id, c.version, c.data, c._etag FROM c "
    "WHERE c.userId = @scope AND c.threadId = @partition AND c.docType = 'document' "
    "ORDER BY c.docType ASC, c.sortKey ASC"
)


class CosmosDocumentsMixin:
    # Provided by CosmosStore.
    _call: Any
    _query_scoped: Any
    ttl_seconds: int

    @staticmethod
    def _doc_pk(scope: str, collection: str) -> list[str]:
        return [scope, DOCS_PREFIX + collection]

    async def load_document(
        self, scope: str, collection: str, key: str, context: RequestContext
    ) -> Document | None:
        pk = self._doc_pk(scope, collection)
        try:
            doc = await self._call(
                "document.read",
                context,
                lambda c, hook: c.read_item(key, pk, response_hook=hook),
            )
        except cx.CosmosResourceNotFoundError:
            return None
        if doc.get("docType") != "document":
            return None
        return Document(key=key, data=doc["data"], version=doc["version"], etag=doc["_etag"])

    async def save_document(
        self,
        scope: str,
        collection: str,
        key: str,
        data: dict[str, Any],
        context: RequestContext,
        expected: Document | None = None,
    ) -> Document:
        pk = self._doc_pk(scope, collection)
        version = (expected.version if expected is not None else 0) + 1
        body: dict[str, Any] = {
            "id": key,
            "userId": pk[0],
            "threadId": pk[1],
            "docType": "document",
            "sortKey": key,
            "version": version,
            "data": data,
        }
        if self.ttl_seconds > 0:
            body["ttl"] = self.ttl_seconds

        def write(c: ContainerProxy, hook: Any) -> Awaitable[dict[str, Any]]:
            if expected is None:
                return c.upsert_item(body, response_hook=hook)
            if expected.version == 0:
                return c.create_item(body, response_hook=hook)
            return c.replace_item(
                key,
                body,
                etag=expected.etag,
                match_condition=MatchConditions.IfNotModified,
                response_hook=hook,
            )

        if expected is not None and expected.version > 0 and expected.etag is None:
            raise DocumentConflict(f"{collection}/{key}")
        if expected is None:
            # A blind upsert still counts versions so later conditional writes line up.
            current = await self.load_document(scope, collection, key, context)
            body["version"] = (current.version if current else 0) + 1
        try:
            saved = await self._call("document.write", context, write)
        except (
            cx.CosmosResourceExistsError,
            cx.CosmosAccessConditionFailedError,
            cx.CosmosResourceNotFoundError,
        ):
            raise DocumentConflict(f"{collection}/{key}") from None
        return Document(key=key, data=data, version=body["version"], etag=saved.get("_etag"))

    async def delete_document(
        self, scope: str, collection: str, key: str, context: RequestContext
    ) -> bool:
        pk = self._doc_pk(scope, collection)
        try:
            await self._call(
                "document.delete",
                context,
                lambda c, hook: c.delete_item(key, pk, response_hook=hook),
            )
        except cx.CosmosResourceNotFoundError:
            return False
        return True

    async def list_documents(
        self, scope: str, collection: str, context: RequestContext, limit: int
    ) -> list[Document]:
        pk = self._doc_pk(scope, collection)
        rows = await self._query_scoped(
            "document.list",
            _LIST,
            pk,
            context,
            scope=pk[0],
            partition=pk[1],
            limit=max(1, limit),
        )
        return [
            Document(key=r["id"], data=r["data"], version=r["version"], etag=r.get("_etag"))
            for r in rows
        ]
