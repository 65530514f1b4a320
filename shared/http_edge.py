"""Helpers for the HTTP edge: request context, body limits, errors as JSON.

Shared by every route in function_app.py so each route stays a few lines.
"""

from __future__ import annotations

import logging
from typing import Any

from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response

from shared.auth import identify
from shared.context import RequestContext, locale_from_accept_language, valid_timezone
from shared.errors import (
    ApiError,
    ConfigurationError,
    PayloadTooLarge,
    StoreUnavailable,
    UnsupportedMediaType,
)
from shared.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


async def request_context(req: Request, settings: Settings, use_case: str) -> RequestContext:
    headers = req.headers
    user_id, set_cookie = await identify(headers, settings)
    return RequestContext(
        user_id=user_id,
        set_cookie=set_cookie,
        use_case=use_case,
        locale=locale_from_accept_language(headers.get("accept-language")),
        timezone=valid_timezone(headers.get("x-user-timezone")),
        base_url=public_base_url(req, settings),
    )


def public_base_url(req: Request, settings: Settings) -> str:
    """Where callers reach this app, for the absolute URLs in upload descriptors."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    # Behind Static Web Apps or a gateway, the original host arrives forwarded.
    host = req.headers.get("x-forwarded-host") or req.headers.get("host") or req.url.netloc
    scheme = req.headers.get("x-forwarded-proto") or req.url.scheme
    return f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"


async def read_body(req: Request, limit: int) -> bytes:
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    content_type = req.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type not in ("application/json", "text/plain", ""):
        raise UnsupportedMediaType("Send the ChatKit request as application/json.")
    body = bytearray()
    async for chunk in req.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    return bytes(body)


def with_session(response: Response, context: RequestContext) -> Response:
    """Hand a new browser its session cookie (AUTH_MODE=anonymous)."""
    if context.set_cookie:
        response.headers.append("Set-Cookie", context.set_cookie)
    return response


def json_response(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers=NO_STORE)


def error_response(exc: BaseException) -> Response:
    """Any failure -> JSON a client can show; details stay in the logs."""
    if isinstance(exc, SettingsError):
        exc = ConfigurationError(str(exc))
    if isinstance(exc, StoreUnavailable):
        logger.warning("Store unavailable: %s", exc)
        response = json_response(
            {
                "error": {
                    "code": "store_unavailable",
                    "message": "The chat store is busy right now. Please try again.",
                }
            },
            503,
        )
        response.headers["Retry-After"] = "2"
        return response
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            logger.error("%s: %s", exc.code, exc.message)
        response = json_response(exc.body(), exc.status)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        set_cookie = getattr(exc, "set_cookie", None)
        if set_cookie:
            response.headers.append("Set-Cookie", set_cookie)
        return response
    logger.exception("Unhandled error", exc_info=exc)
    return json_response(
        {"error": {"code": "internal_error", "message": "Something went wrong on our side."}},
        500,
    )
