"""Attachment bytes in a local folder (the embedded default): DATA_DIR/attachments.

Uploads go through the app (`POST /api/attachments/{id}/upload`) and previews are
served by it, so the browser never needs direct access to the folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from chatkit.types import Attachment

from shared.attachments.base import (
    SNIFF_BYTES,
    AppAttachmentStore,
    OpenedBytes,
    StoredBytes,
    owner_prefix,
)
from shared.attachments.policy import AttachmentChanged, AttachmentPolicy
from shared.context import RequestContext

_ATTACHMENT_ID = re.compile(r"^atc_[0-9A-Z]{26}$")
_CHUNK = 256 * 1024


def _version(stat: os.stat_result) -> str:
    # Every write goes to a new file renamed over the old one: a new inode, so a
    # replacement is seen even within the filesystem's mtime resolution.
    return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


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
        # One partial file per upload: two at once (two tabs) must not share one.
        partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.partial")
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
                    stat = os.fstat(handle.fileno())
                    return StoredBytes(stat.st_size, handle.read(SNIFF_BYTES), _version(stat))
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read_head)

    async def open(
        self, attachment_id: str, context: RequestContext, version: str | None, limit: int
    ) -> OpenedBytes:
        path = self._path(attachment_id, context)
        if path is None:
            raise FileNotFoundError(attachment_id)
        # The version is checked on the open handle: what is read is what was checked,
        # even if the file is replaced meanwhile.
        handle = await asyncio.to_thread(path.open, "rb")
        stat = os.fstat(handle.fileno())
        if version is not None and _version(stat) != version:
            handle.close()
            raise AttachmentChanged("changed")
        return OpenedBytes(stat.st_size, _chunks(handle, min(stat.st_size, limit)))

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        path = self._path(attachment_id, context)
        if path is not None:
            await asyncio.to_thread(path.unlink, True)


async def _chunks(handle: Any, remaining: int) -> AsyncIterator[bytes]:
    try:
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()
