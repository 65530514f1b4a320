"""The HTTP edge: routes, parsing, auth, and errors mapped to responses. Nothing else.

Every route uses the FastAPI request/response types from
`azurefunctions.extensions.http.fastapi`, which is what lets the ChatKit route stream.
"""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

from shared import warmup
from shared.http_edge import (
    check_upload_type,
    error_response,
    json_response,
    read_body,
    request_context,
    with_session,
)
from shared.runtime import get_runtime

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
# The first chat turn's imports (ChatKit, Agents SDK, store SDK) start now, in the background.
warmup.start()


@app.route(route="chatkit", methods=["POST"])
async def chatkit(req: Request) -> Response:
    return await _chatkit(req, None)


@app.route(route="chatkit/{use_case}", methods=["POST"])
async def chatkit_use_case(req: Request) -> Response:
    return await _chatkit(req, req.path_params.get("use_case"))


async def _chatkit(req: Request, use_case: str | None) -> Response:
    try:
        await warmup.ready()
        from shared import chatkit_endpoint

        runtime = get_runtime()
        context = await request_context(req, runtime.settings, runtime.use_case_name(use_case))
        body = await read_body(req, runtime.settings.max_request_bytes)
        return with_session(await chatkit_endpoint.handle(body, context), context)
    except Exception as exc:
        return error_response(exc)


@app.route(route="attachments/{attachment_id}/upload", methods=["POST", "PUT"])
async def attachment_upload(req: Request) -> Response:
    return await _attachment(req, "upload")


@app.route(route="attachments/{attachment_id}/content", methods=["GET"])
async def attachment_content(req: Request) -> Response:
    return await _attachment(req, "content")


async def _attachment(req: Request, action: str) -> Response:
    try:
        await warmup.ready()
        from shared import attachment_endpoint

        runtime = get_runtime()
        context = await request_context(req, runtime.settings, runtime.settings.default_use_case)
        if action == "upload":
            check_upload_type(req)
        handler = getattr(attachment_endpoint, action)
        return with_session(await handler(req, context, req.path_params["attachment_id"]), context)
    except Exception as exc:
        return error_response(exc)


@app.route(route="config", methods=["GET"])
async def config(req: Request) -> Response:
    try:
        from shared.public_info import config_body

        runtime = get_runtime()
        context = await request_context(req, runtime.settings, runtime.settings.default_use_case)
        return with_session(json_response(config_body(runtime)), context)
    except Exception as exc:
        return error_response(exc)


@app.route(route="health", methods=["GET"])
async def health(req: Request) -> Response:
    try:
        from shared.public_info import health_body

        return json_response(health_body(get_runtime()))
    except Exception as exc:
        return error_response(exc)
