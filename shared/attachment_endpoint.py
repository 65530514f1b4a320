"""Attachment bytes over HTTP: upload through the app and owner-only previews.

`POST|PUT /api/attachments/{id}/upload` is for clients that cannot (or are not allowed
to) write to Blob directly: multipart with a `file` field, or the raw bytes.
`GET /api/attachments/{id}/content` checks ownership, then redirects to a short-lived
read URL (Blob) or serves the bytes (local folder). Another user's id answers 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from azurefunctions.extensions.http.fastapi import (
    JSONResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from chatkit.store import NotFoundError
from chatkit.types import Attachment

from shared.attachments.policy import AttachmentTooLarge
from shared.context import RequestContext
from shared.errors import ApiError, BadRequest, NotFound
from shared.runtime import get_runtime

_CHUNK = 256 * 1024
_MULTIPART_OVERHEAD = 64 * 1024


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
    declared = req.headers.get("content-length")
    limit = files.policy.max_bytes + _MULTIPART_OVERHEAD
    if declared and declared.isdigit() and int(declared) > limit:
        raise AttachmentTooLarge(
            f"'{attachment.name}' is larger than the limit of {files.policy.max_bytes} bytes."
        )

    content_type = req.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await req.form(max_files=1, max_fields=8)
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise BadRequest("Send the file in a multipart field named 'file'.")

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await part.read(_CHUNK):
                yield chunk

        try:
            size = await files.receive(attachment, chunks(), context)
        finally:
            await form.close()
    else:
        size = await files.receive(attachment, req.stream(), context)

    metadata = {**(attachment.metadata or {}), "size": size}
    stored = attachment.model_copy(update={"upload_descriptor": None, "metadata": metadata})
    await runtime.store.save_attachment(stored, context)
    return JSONResponse(public_json(stored), headers={"Cache-Control": "no-store"})


async def content(req: Request, context: RequestContext, attachment_id: str) -> Response:
    files = get_runtime().attachments
    attachment = await _owned(attachment_id, context)
    url = await files.read_url(attachment, context)
    if url:
        return RedirectResponse(
            url, status_code=302, headers={"Cache-Control": "private, no-store"}
        )
    stored = await files.stat(attachment.id, context)
    if stored is None:
        raise NotFound("This attachment has not been uploaded yet.")
    disposition = "inline" if files.policy.is_image(attachment.mime_type) else "attachment"
    return StreamingResponse(
        files.stream(attachment.id, context),
        media_type=attachment.mime_type,
        headers={
            "Content-Length": str(stored.size),
            "Content-Disposition": f'{disposition}; filename="{attachment.name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=300",
        },
    )
