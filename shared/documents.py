"""A small document repository for use-case data (todos, orders, returns, bookings).

It lives in the configured backend next to the chat data: the embedded SQLite file, or
Cosmos DB (partition `[scope, "~docs:<collection>"]` of the chat container). A use case
sees two kinds of collection:
  - `user(name)`: the request user's own documents; the scope comes from the request
    context, never from tool arguments, so a prompt cannot reach another user's data;
  - `reference(name)`: shared reference data (catalogues, clinics), seeded idempotently.
Writes can be conditional on the version read (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.context import RequestContext

if TYPE_CHECKING:
    from shared.stores.base import AppStore

REFERENCE_SCOPE = "~reference"
_SEED_MARKER = "~seeded"


class Document(BaseModel):
    key: str
    data: dict[str, Any] = Field(default_factory=dict)
    version: int = 0
    etag: str | None = None


class DocumentConflict(Exception):
    """The document changed (or exists) since it was read; re-read and try again."""


@dataclass(frozen=True)
class Collection:
    store: AppStore
    name: str
    scope: str
    context: RequestContext

    async def get(self, key: str) -> Document | None:
        return await self.store.load_document(self.scope, self.name, key, self.context)

    async def put(
        self, key: str, data: dict[str, Any], expected: Document | None = None
    ) -> Document:
        """Write; with `expected`, only if it is still the stored version."""
        return await self.store.save_document(
            self.scope, self.name, key, data, self.context, expected=expected
        )

    async def create(self, key: str, data: dict[str, Any]) -> Document:
        """Write only if absent (DocumentConflict otherwise)."""
        return await self.store.save_document(
            self.scope, self.name, key, data, self.context, expected=Document(key=key)
        )

    async def delete(self, key: str) -> bool:
        return await self.store.delete_document(self.scope, self.name, key, self.context)

    async def list(self, limit: int = 500) -> list[Document]:
        """All documents of the collection in key order (collections here are small)."""
        docs = await self.store.list_documents(self.scope, self.name, self.context, limit + 1)
        return [d for d in docs if d.key != _SEED_MARKER][:limit]

    async def seed(self, documents: Mapping[str, dict[str, Any]], version: str = "1") -> None:
        """Insert sample data once; later calls cost one point read."""
        marker = await self.get(_SEED_MARKER)
        if marker is not None and marker.data.get("version") == version:
            return
        for key, data in documents.items():
            try:
                await self.create(key, data)
            except DocumentConflict:
                pass  # another instance seeded it first
        await self.put(_SEED_MARKER, {"version": version})


class Documents:
    """Per-request entry point: collections bound to the request's user.

    A plain class (not a dataclass) so pydantic models can hold it as an opaque value.
    """

    __slots__ = ("context", "store")

    def __init__(self, store: AppStore, context: RequestContext):
        self.store = store
        self.context = context

    def user(self, name: str) -> Collection:
        return Collection(self.store, name, self.context.user_id, self.context)

    def reference(self, name: str) -> Collection:
        return Collection(self.store, name, REFERENCE_SCOPE, self.context)
