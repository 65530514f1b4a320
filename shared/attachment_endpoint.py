"""Attachment bytes over HTTP: upload through the app and owner-only previews.

`POST|PUT /api/attachments/{id}/upload` is for clients that cannot (or are not allowed
to) write to Blob directly: multipart with a `file` field, or the raw bytes. Either way
the body is counted as it arrives and refused (413) the moment it passes the limit, with
or without a Content-Length: nothing is spooled or stored past it.
`GET /api/attachments/{id}/content` checks ownership, then redirects to a short-lived
read URL (Blob) or serves the bytes (local folder). Another user's id answers 404. Only
raster images are shown inline, always in a sandbox: an SVG or HTML file runs no script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from azurefunctions.extensions.http.fastapi import (
    JSONResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from chatkit.store import NotFoundError
from chatkit.types import Attachment
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.attachments.policy import (
    AttachmentNotUploaded,
    AttachmentTooLarge,
    base_type,
    content_disposition,
)
from shared.context import RequestContext
from shared.errors import ApiError, BadRequest, NotFound, UnsupportedMediaType
from shared.runtime import get_runtime

_CHUNK = 256 * 1024
# Room for the part headers, boundaries and a few small fields around the file.
_MULTIPART_OVERHEAD = 64 * 1024
# Fields other than `file` are ignored; they need not be large.
_MAX_FIELD_BYTES = 8 * 1024
_CONTENT_HEADERS = {
    # Even our own page cannot run script from an attachment: a sandboxed, opaque origin.
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=300",
}


async def _owned(attachment_id: str, context: RequestContext) -> Attachment:
    try:
        return await get_runtime().store.load_attachment(attachment_id, context)
    except NotFoundError:
        raise NotFound("Attachment not found.") from None


def public_json(attachment: Attachment) -> dict[str, object]:
    return attachment.model_dump(
        mode="json", by_alias=True, exclude_none=True, context={"exclude_metadata": True}
    )


async def upload(req: Request, context: RequestContext, attachment_id: str) -> Response:
    runtime = get_runtime()
    files = runtime.attachments
    attachment = await _owned(attachment_id, context)
    if attachment.thread_id:
        raise ApiError(
            "This attachment was already sent and cannot be replaced.", status=409, code="conflict"
        )

    def too_large() -> ApiError:
        return AttachmentTooLarge(
            f"'{attachment.name}' is larger than the limit of {files.policy.max_bytes} bytes."
        )

    kind = base_type(req.headers.get("content-type", ""))
    multipart = kind == "multipart/form-data"
    limit = files.policy.max_bytes + (_MULTIPART_OVERHEAD if multipart else 0)
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large()
    if (kind.startswith("multipart/") and not multipart) or kind in _FORM_TYPES:
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data (field 'file') or as the raw bytes."
        )
    body = _capped(req.stream(), limit, too_large)
    if multipart:
        part = await _file_part(req, body)
        try:
            checked = await files.receive(attachment, _read(part), context)
        finally:
            await part.close()
    else:
        checked = await files.receive(attachment, body, context)

    metadata = {**(attachment.metadata or {}), **checked}
    stored = attachment.model_copy(update={"upload_descriptor": None, "metadata": metadata})
    await runtime.store.save_attachment(stored, context)
    return JSONResponse(public_json(stored), headers={"Cache-Control": "no-store"})


async def content(req: Request, context: RequestContext, attachment_id: str) -> Response:
    runtime = get_runtime()
    files = runtime.attachments
    attachment = await _owned(attachment_id, context)
    metadata = attachment.metadata or {}
    if "size" not in metadata:
        # Bytes sent straight to Blob that the app has not seen: check them (and pin their
        # version) before serving any, as sending them would.
        try:
            checked = await files.verify(attachment, context)
        except AttachmentNotUploaded:
            raise NotFound("This attachment has not been uploaded yet.") from None
        except ApiError:
            await runtime.store.delete_attachment(attachment.id, context)
            raise
        attachment = attachment.model_copy(
            update={"upload_descriptor": None, "metadata": {**metadata, **checked}}
        )
        await runtime.store.save_attachment(attachment, context)
    url = await files.read_url(attachment, context)
    if url:
        return RedirectResponse(
            url, status_code=302, headers={"Cache-Control": "private, no-store"}
        )
    try:
        opened = await files.open_checked(attachment, context)
    except FileNotFoundError:
        raise NotFound("This attachment has not been uploaded yet.") from None
    return StreamingResponse(
        opened.chunks,
        media_type=attachment.mime_type,
        headers={
            **_CONTENT_HEADERS,
            "Content-Length": str(opened.size),
            "Content-Disposition": content_disposition(attachment.mime_type, attachment.name),
        },
    )


# What a multipart upload is not: these would be stored as the file's bytes.
_FORM_TYPES = ("application/x-www-form-urlencoded",)


async def _capped(
    stream: AsyncIterator[bytes], limit: int, too_large: Callable[[], ApiError]
) -> AsyncIterator[bytes]:
    """The request body, refused the moment it passes `limit` (chunked bodies declare no
    length): no parser or store ever sees more than that."""
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise too_large()
        yield chunk


async def _file_part(req: Request, body: AsyncIterator[bytes]) -> UploadFile:
    """The multipart body's one `file` part, parsed as it streams in (Starlette's parser;
    `req.form()` would read the whole body before any limit applied)."""
    parser = MultiPartParser(
        req.headers, body, max_files=1, max_fields=8, max_part_size=_MAX_FIELD_BYTES
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"The multipart body is malformed: {exc.message}") from None
    part: Any = None
    for name, value in form.multi_items():
        if isinstance(value, UploadFile) and name == "file":
            part = value
        elif isinstance(value, UploadFile):
            await value.close()
    if part is None:
        raise BadRequest("Send the file in a multipart field named 'file'.")
    return part


async def _read(part: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await part.read(_CHUNK):
        yield chunk
