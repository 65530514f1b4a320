"""The attachment store every backend provides, on top of ChatKit's two-phase uploads.

`attachments.create` validates the declared name, size and type and returns an
`upload_descriptor`: where and how the client sends the bytes. Bytes are checked
against the policy when they arrive through the app, and again on first use, so a
client that lied about size or type gets a clear error and leaves nothing behind.

Checking records the bytes' version (Blob's ETag, or the local file's identity) and
size in the attachment's metadata; every later read insists on that version, so bytes
replaced after the check are never sent to the model or served (`AttachmentChanged`).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypedDict

from chatkit.store import AttachmentStore
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
)

from shared.attachments.policy import (
    AttachmentChanged,
    AttachmentNotUploaded,
    AttachmentPolicy,
    AttachmentRejected,
    AttachmentTooLarge,
)
from shared.context import RequestContext
from shared.ids import new_id

SNIFF_BYTES = 4096


@dataclass(frozen=True)
class StoredBytes:
    size: int
    head: bytes
    version: str  # changes whenever the bytes do (Blob ETag; local inode, size, mtime)


@dataclass(frozen=True)
class OpenedBytes:
    size: int
    chunks: AsyncIterator[bytes]


class CheckedBytes(TypedDict):
    """What verification records in the attachment's metadata."""

    size: int
    version: str


def changed(name: str) -> AttachmentChanged:
    return AttachmentChanged(
        f"'{name}' was changed after it was checked and is no longer available; attach it again."
    )


def owner_prefix(user_id: str) -> str:
    """A stable, opaque folder per user: paths never carry a raw user id."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:32]


class AppAttachmentStore(AttachmentStore[RequestContext], ABC):
    kind = "abstract"

    def __init__(self, policy: AttachmentPolicy):
        self.policy = policy

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return new_id("atc")

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        name, mime_type = self.policy.check_declared(input.name, input.size, input.mime_type)
        attachment_id = self.generate_attachment_id(mime_type, context)
        common: dict[str, Any] = {
            "id": attachment_id,
            "name": name,
            "mime_type": mime_type,
            "upload_descriptor": await self.upload_descriptor(attachment_id, mime_type, context),
            "metadata": {"declared_size": input.size},
        }
        if self.policy.is_image(mime_type):
            return ImageAttachment(**common, preview_url=self.content_url(attachment_id, context))
        return FileAttachment(**common)

    async def upload_descriptor(
        self, attachment_id: str, mime_type: str, context: RequestContext
    ) -> AttachmentUploadDescriptor:
        """Default: upload through the app (multipart POST, the widest client support)."""
        return AttachmentUploadDescriptor(
            url=self.app_upload_url(attachment_id, context), method="POST"
        )

    @staticmethod
    def app_upload_url(attachment_id: str, context: RequestContext) -> str:
        return f"{context.base_url}/api/attachments/{attachment_id}/upload"

    @staticmethod
    def content_url(attachment_id: str, context: RequestContext) -> str:
        return f"{context.base_url}/api/attachments/{attachment_id}/content"

    # Bytes

    async def receive(
        self, attachment: Attachment, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> CheckedBytes:
        """Store uploaded bytes (through the app), capped at the limit, then check them."""

        async def capped() -> AsyncIterator[bytes]:
            total = 0
            async for chunk in chunks:
                total += len(chunk)
                if total > self.policy.max_bytes:
                    raise AttachmentTooLarge(
                        f"'{attachment.name}' is larger than the limit of "
                        f"{self.policy.max_bytes} bytes."
                    )
                yield chunk

        try:
            await self.write(attachment, capped(), context)
        except AttachmentTooLarge:
            await self.delete_attachment(attachment.id, context)
            raise
        return await self.verify(attachment, context)

    async def verify(self, attachment: Attachment, context: RequestContext) -> CheckedBytes:
        """Size and version of the stored bytes, once they pass the policy; otherwise
        delete them and raise. Store the result in the attachment's metadata."""
        stored = await self.stat(attachment.id, context)
        if stored is None:
            raise AttachmentNotUploaded(
                f"'{attachment.name}' has not been uploaded yet; wait for the upload to finish."
            )
        try:
            self.policy.check_bytes(attachment.name, attachment.mime_type, stored.size, stored.head)
        except (AttachmentRejected, AttachmentTooLarge):
            await self.delete_attachment(attachment.id, context)
            raise
        return {"size": stored.size, "version": stored.version}

    async def open_checked(self, attachment: Attachment, context: RequestContext) -> OpenedBytes:
        """The bytes as they were checked, or `AttachmentChanged`; FileNotFoundError if
        nothing is stored. Attachments checked before versions were recorded have none:
        they are still held to the size limit."""
        metadata = attachment.metadata or {}
        version = metadata.get("version")
        size = metadata.get("size")
        limit = size if isinstance(size, int) and version else self.policy.max_bytes
        try:
            opened = await self.open(attachment.id, context, version or None, limit)
        except AttachmentChanged:
            raise changed(attachment.name) from None
        if opened.size > limit or (version and opened.size != size):
            await _close(opened.chunks)
            raise changed(attachment.name)
        return opened

    async def read(
        self, attachment: Attachment, context: RequestContext, max_bytes: int | None = None
    ) -> bytes:
        """The checked bytes (for model input): the first `max_bytes` of them if given.
        One attachment at a time, never more than its checked size."""
        opened = await self.open_checked(attachment, context)
        wanted = opened.size if max_bytes is None else min(opened.size, max_bytes)
        data = bytearray()
        try:
            async for chunk in opened.chunks:
                data.extend(chunk[: wanted - len(data)])
                if len(data) >= wanted:
                    break
        finally:
            await _close(opened.chunks)
        return bytes(data)

    @abstractmethod
    async def write(
        self, attachment: Attachment, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> None:
        """Store the bytes of the user's attachment (replacing earlier ones)."""

    @abstractmethod
    async def stat(self, attachment_id: str, context: RequestContext) -> StoredBytes | None:
        """Size, version and first bytes of the user's attachment, or None if nothing is
        stored."""

    @abstractmethod
    async def open(
        self, attachment_id: str, context: RequestContext, version: str | None, limit: int
    ) -> OpenedBytes:
        """The stored bytes in chunks, at most `limit` of them; `AttachmentChanged` if
        `version` is given and the stored bytes are no longer that version;
        FileNotFoundError if nothing is stored."""

    async def read_url(self, attachment: Attachment, context: RequestContext) -> str | None:
        """A short-lived URL a browser or model can fetch, if the backend has one (only
        while the bytes are still the checked ones)."""
        return None

    async def close(self) -> None:
        """Release clients; the local store holds none."""


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
