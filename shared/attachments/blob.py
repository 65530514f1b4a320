"""Attachment bytes in Azure Blob Storage (`azure.storage.blob.aio`, one client per process).

Blobs are named `<owner hash>/<attachment id>` in a private container. Browsers upload
straight to Blob with a short-lived create-only SAS for one blob (`ATTACHMENT_UPLOAD=direct`:
Azure's `c` permission cannot overwrite, so once the bytes exist that URL cannot change
them) or through the app (`app`), and read through a short-lived read SAS. Reads insist on
the ETag recorded when the bytes were checked (`If-Match`). With a connection
string the SAS is signed with the account key; keyless deployments sign with a user
delegation key (cached until shortly before it expires).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobSasPermissions, ContentSettings, generate_blob_sas
from azure.storage.blob.aio import BlobServiceClient, LinearRetry
from chatkit.types import Attachment, AttachmentUploadDescriptor

from shared.attachments.base import (
    SNIFF_BYTES,
    AppAttachmentStore,
    OpenedBytes,
    StoredBytes,
    changed,
    owner_prefix,
)
from shared.attachments.policy import AttachmentChanged, AttachmentPolicy, content_disposition
from shared.context import RequestContext
from shared.errors import StoreUnavailable
from shared.settings import Settings, UploadMode

logger = logging.getLogger(__name__)

_ATTACHMENT_ID = re.compile(r"^atc_[0-9A-Z]{26}$")
_CLOCK_SKEW = timedelta(minutes=5)
_DELEGATION_KEY_LIFETIME = timedelta(hours=6)
# An upload URL is for the upload that follows `attachments.create`, not for later: even a
# long preview lifetime (ATTACHMENT_URL_TTL_SECONDS) does not keep it open.
_UPLOAD_TTL_MAX = timedelta(minutes=10)
# Still failing with these after the client's retries: busy or down, try again later.
_BUSY_STATUS = (408, 429, 500, 502, 503, 504)
# A ranged read of an empty blob: 416 (the SDK retries without a range only when no
# offset was given, and it needs one to bound the read).
_EMPTY_RANGE = 416


@contextmanager
def _busy_is_unavailable(operation: str) -> Iterator[None]:
    """Blob Storage throttled or down after the retries -> StoreUnavailable (a retryable
    503 at the edge, a retryable error event in a stream), as the Cosmos DB store does."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StoreUnavailable(f"Blob {operation}: {type(exc).__name__}") from exc
    except HttpResponseError as exc:
        if exc.status_code in _BUSY_STATUS:
            raise StoreUnavailable(f"Blob {operation}: status {exc.status_code}") from exc
        raise


class BlobAttachmentStore(AppAttachmentStore):
    kind = "blob"

    def __init__(
        self,
        service: BlobServiceClient,
        container: str,
        policy: AttachmentPolicy,
        *,
        upload_mode: UploadMode = "direct",
        url_ttl_seconds: int = 300,
        credential: Any = None,
    ):
        super().__init__(policy)
        self.service = service
        self.container = service.get_container_client(container)
        self.upload_mode = upload_mode
        self.url_ttl = timedelta(seconds=url_ttl_seconds)
        self._credential = credential  # closed with the store when we created it
        self._container_ready = False
        self._delegation_key: Any = None
        self._delegation_expiry = datetime.min.replace(tzinfo=UTC)
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BlobAttachmentStore:
        # The SDK's default retry waits 15 s and more between attempts: far too long for
        # someone waiting on an upload. Short, jittered retries still ride out throttling
        # (429/503); if they are used up the request fails as "busy, try again" (503).
        retry = {"retry_policy": LinearRetry(backoff=0.5, random_jitter_range=0.3, retry_total=3)}
        policy = AttachmentPolicy.from_settings(settings)
        options = {
            "upload_mode": settings.attachment_upload,
            "url_ttl_seconds": settings.attachment_url_ttl_seconds,
        }
        if settings.azure_storage_connection_string:
            service = BlobServiceClient.from_connection_string(
                settings.azure_storage_connection_string.get_secret_value(), **retry
            )
            return cls(service, settings.attachments_container, policy, **options)
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        service = BlobServiceClient(
            str(settings.azure_storage_account_url), credential=credential, **retry
        )
        return cls(
            service, settings.attachments_container, policy, credential=credential, **options
        )

    async def close(self) -> None:
        await self.service.close()
        if self._credential is not None:
            await self._credential.close()

    def _blob_name(self, attachment_id: str, context: RequestContext) -> str | None:
        if not _ATTACHMENT_ID.match(attachment_id):
            return None
        return f"{owner_prefix(context.user_id)}/{attachment_id}"

    async def _ready(self) -> None:
        if self._container_ready:
            return
        try:
            with _busy_is_unavailable("create container"):
                await self.container.create_container()
        except ResourceExistsError:
            pass
        self._container_ready = True

    # SAS

    async def _sas(
        self,
        blob_name: str,
        permission: BlobSasPermissions,
        ttl: timedelta | None = None,
        **extra: Any,
    ) -> str:
        now = datetime.now(UTC)
        signing: dict[str, Any] = {}
        credential = getattr(self.service, "credential", None)
        account_key = getattr(credential, "account_key", None)
        if account_key:
            signing["account_key"] = account_key
        else:
            signing["user_delegation_key"] = await self._user_delegation_key(now)
        return generate_blob_sas(
            account_name=self.service.account_name,
            container_name=self.container.container_name,
            blob_name=blob_name,
            permission=permission,
            start=now - _CLOCK_SKEW,
            expiry=now + (ttl or self.url_ttl),
            **signing,
            **extra,
        )

    async def _user_delegation_key(self, now: datetime) -> Any:
        async with self._lock:
            if self._delegation_key is None or now + self.url_ttl >= self._delegation_expiry:
                expiry = now + _DELEGATION_KEY_LIFETIME
                with _busy_is_unavailable("user delegation key"):
                    self._delegation_key = await self.service.get_user_delegation_key(
                        key_start_time=now - _CLOCK_SKEW, key_expiry_time=expiry
                    )
                self._delegation_expiry = expiry
            return self._delegation_key

    def _url(self, blob_name: str, sas: str) -> str:
        return f"{self.container.url}/{quote(blob_name)}?{sas}"

    async def upload_descriptor(
        self, attachment_id: str, mime_type: str, context: RequestContext
    ) -> AttachmentUploadDescriptor:
        if self.upload_mode == "app":
            return await super().upload_descriptor(attachment_id, mime_type, context)
        await self._ready()
        blob_name = self._blob_name(attachment_id, context)
        assert blob_name is not None  # we just minted the id
        # Create only: `w` would let the same URL replace the bytes after they were checked.
        sas = await self._sas(
            blob_name, BlobSasPermissions(create=True), ttl=min(self.url_ttl, _UPLOAD_TTL_MAX)
        )
        return AttachmentUploadDescriptor(
            url=self._url(blob_name, sas),
            method="PUT",
            headers={"x-ms-blob-type": "BlockBlob", "Content-Type": mime_type},
        )

    async def read_url(self, attachment: Attachment, context: RequestContext) -> str | None:
        blob_name = self._blob_name(attachment.id, context)
        if blob_name is None:
            return None
        version = (attachment.metadata or {}).get("version")
        if version:
            # A SAS cannot pin an ETag: hand one out only while the blob is still the
            # checked one. Only holders of the account's credentials can change it now.
            try:
                with _busy_is_unavailable("read"):
                    await self.container.get_blob_client(blob_name).get_blob_properties(
                        etag=version, match_condition=MatchConditions.IfNotModified
                    )
            except (ResourceModifiedError, ResourceNotFoundError):
                raise changed(attachment.name) from None
        sas = await self._sas(
            blob_name,
            BlobSasPermissions(read=True),
            content_type=attachment.mime_type,
            content_disposition=content_disposition(attachment.mime_type, attachment.name),
        )
        return self._url(blob_name, sas)

    # Bytes

    async def write(
        self, attachment: Attachment, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> None:
        blob_name = self._blob_name(attachment.id, context)
        if blob_name is None:
            raise ValueError("invalid attachment id")
        await self._ready()
        with _busy_is_unavailable("upload"):
            await self.container.get_blob_client(blob_name).upload_blob(
                chunks,
                overwrite=True,
                content_settings=ContentSettings(content_type=attachment.mime_type),
            )

    async def stat(self, attachment_id: str, context: RequestContext) -> StoredBytes | None:
        blob_name = self._blob_name(attachment_id, context)
        if blob_name is None:
            return None
        try:
            # One ranged read gives both the first bytes and the blob's total size.
            with _busy_is_unavailable("read"):
                download = await self.container.get_blob_client(blob_name).download_blob(
                    offset=0, length=SNIFF_BYTES
                )
                head = await download.readall()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code != _EMPTY_RANGE:
                raise
            return StoredBytes(size=0, head=b"", version="")  # empty: refused as such
        return StoredBytes(size=_blob_size(download), head=head, version=download.properties.etag)

    async def open(
        self, attachment_id: str, context: RequestContext, version: str | None, limit: int
    ) -> OpenedBytes:
        blob_name = self._blob_name(attachment_id, context)
        if blob_name is None:
            raise FileNotFoundError(attachment_id)
        condition: dict[str, Any] = {}
        if version is not None:
            condition = {"etag": version, "match_condition": MatchConditions.IfNotModified}
        try:
            with _busy_is_unavailable("read"):
                # Ranged: a blob grown past the limit is never downloaded whole.
                download = await self.container.get_blob_client(blob_name).download_blob(
                    offset=0, length=max(limit, 1), **condition
                )
        except ResourceModifiedError:
            raise AttachmentChanged("changed") from None
        except ResourceNotFoundError:
            raise FileNotFoundError(attachment_id) from None
        except HttpResponseError as exc:
            if exc.status_code != _EMPTY_RANGE:
                raise
            raise AttachmentChanged("emptied") from None  # checked bytes are never empty
        return OpenedBytes(_blob_size(download), _chunks(download))

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        blob_name = self._blob_name(attachment_id, context)
        if blob_name is None:
            return
        try:
            with _busy_is_unavailable("delete"):
                await self.container.get_blob_client(blob_name).delete_blob(
                    delete_snapshots="include"
                )
        except ResourceNotFoundError:
            pass


async def _chunks(download: Any) -> AsyncIterator[bytes]:
    with _busy_is_unavailable("read"):
        async for chunk in download.chunks():
            yield chunk


def _blob_size(download: Any) -> int:
    """The whole blob's size. After a ranged download the SDK's `properties.size` is the
    range's (4 KB for the sniffing read: a 60 MB upload passed the size check); the total
    is in the Content-Range it rewrites as `bytes start-end/total`."""
    total = (download.properties.content_range or "").rpartition("/")[2]
    return int(total) if total.isdigit() else download.properties.size
