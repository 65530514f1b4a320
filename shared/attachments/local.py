"""Attachment bytes in a local folder (the embedded default): DATA_DIR/attachments.

Uploads go through the app (`POST /api/attachments/{id}/upload`) and previews are
served by it, so the browser never needs direct access to the folder.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from chatkit.types import Attachment

from shared.attachments.base import SNIFF_BYTES, AppAttachmentStore, StoredBytes, owner_prefix
from shared.attachments.policy import AttachmentPolicy
from shared.context import RequestContext

_ATTACHMENT_ID = re.compile(r"^atc_[0-9A-Z]{26}$")
_CHUNK = 256 * 1024


class LocalAttachmentStore(AppAttachmentStore):
    kind = "local"

    def __init__(self, root: Path, policy: AttachmentPolicy):
        super().__init__(policy)
        self.root = root

    def _path(self, attachment_id: str, context: RequestContext) -> Path | None:
        # Ids arrive in URLs: only our own id shape may become a path (no traversal).
        if not _ATTACHMENT_ID.match(attachment_id):
            return None
        return self.root / owner_prefix(context.user_id) / attachment_id

    async def write(
        self, attachment: Attachment, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> None:
        path = self._path(attachment.id, context)
        if path is None:
            raise ValueError("invalid attachment id")
        partial = path.with_suffix(".partial")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
        except BaseException:
            handle.close()
            await asyncio.to_thread(partial.unlink, True)
            raise
        handle.close()
        await asyncio.to_thread(os.replace, partial, path)

    async def stat(self, attachment_id: str, context: RequestContext) -> StoredBytes | None:
        path = self._path(attachment_id, context)
        if path is None:
            return None

        def read_head() -> StoredBytes | None:
            try:
                with path.open("rb") as handle:
                    return StoredBytes(os.fstat(handle.fileno()).st_size, handle.read(SNIFF_BYTES))
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read_head)

    async def read(self, attachment_id: str, context: RequestContext) -> bytes:
        path = self._path(attachment_id, context)
        if path is None:
            raise FileNotFoundError(attachment_id)
        return await asyncio.to_thread(path.read_bytes)

    async def stream(self, attachment_id: str, context: RequestContext) -> AsyncIterator[bytes]:
        path = self._path(attachment_id, context)
        if path is None:
            return
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, _CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        path = self._path(attachment_id, context)
        if path is not None:
            await asyncio.to_thread(path.unlink, True)
