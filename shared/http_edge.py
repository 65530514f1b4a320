"""Helpers for the HTTP edge: request context, body limits, errors as JSON.

Shared by every route in function_app.py so each route stays a few lines.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

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
    check_origin(req, settings)
    peer = req.client.host if req.client else None
    user_id, set_cookie = await identify(headers, settings, peer)
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


# Modes where the browser adds the credential by itself (a cookie, or nothing but being on
# this machine): a page on any site could make it send a request. A bearer token (entra)
# is added only by the page's own script, so it needs no origin check.
_AMBIENT_CREDENTIAL_MODES = ("anonymous", "local", "platform")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# What a page on another site can send without a CORS preflight (the Fetch standard's
# CORS-safelisted request content types), plus no content type at all.
_SIMPLE_FORM_TYPES = ("", "text/plain", "application/x-www-form-urlencoded")


def _media_type(req: Request) -> str:
    return req.headers.get("content-type", "").split(";")[0].strip().lower()


def _origin_key(origin: str) -> str | None:
    """`scheme://host[:port]` as browsers serialise it (lower case, no default port), or None
    for anything that is not a plain http(s) origin (`null`, paths, user info)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("http", "https") or not host or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "\\" in origin:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _own_origins(req: Request, settings: Settings) -> set[str]:
    """The origins this app is served from: PUBLIC_BASE_URL and the host the browser asked
    for (either scheme: a proxy that terminates TLS may not say so)."""
    own = {_origin_key(origin) for origin in settings.cors_allowed_origins}
    if settings.public_base_url:
        # Its origin only: the setting may carry a path.
        own.add(_origin_key("/".join(settings.public_base_url.split("/", 3)[:3])))
    host = req.headers.get("x-forwarded-host") or req.headers.get("host")
    if host:
        host = host.split(",")[0].strip()
        own.update(_origin_key(f"{scheme}://{host}") for scheme in ("http", "https"))
    own.discard(None)
    return own  # type: ignore[return-value]


def check_origin(req: Request, settings: Settings) -> None:
    """Refuse a state-changing browser request sent by a page of another site (CSRF).

    Browsers send `Origin` on every cross-origin request and on same-origin POST/PUT; a
    client without one is not a browser acting for someone, so it passes.
    """
    if settings.auth_mode not in _AMBIENT_CREDENTIAL_MODES or req.method in _SAFE_METHODS:
        return
    origins = req.headers.getlist("origin")
    if not origins:
        return
    key = _origin_key(origins[0]) if len(origins) == 1 else None
    if key is None or key not in _own_origins(req, settings):
        raise ApiError(
            "Requests from this page's origin are not allowed; add it to "
            "CORS_ALLOWED_ORIGINS if it should be.",
            status=403,
            code="forbidden_origin",
        )


def check_upload_type(req: Request) -> None:
    """Uploads through the app: multipart `file`, or raw bytes with a real type.

    A browser POSTs text/plain, form-urlencoded or untyped bodies to any site without a
    preflight, so those are refused; multipart is too, but the Origin check stops a foreign
    page's form. Any other type (image/png, application/pdf, ...) and every PUT makes the
    browser ask first (CORS preflight), which only allowed origins pass.
    """
    if req.method == "POST" and _media_type(req) in _SIMPLE_FORM_TYPES:
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data (field 'file') or as the raw bytes with "
            "the file's own content type."
        )


async def read_body(req: Request, limit: int) -> bytes:
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    # Only JSON: text/plain and untyped bodies are what a page on another site can send
    # without a CORS preflight, which would make this a cross-site request forgery target.
    if _media_type(req) != "application/json":
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
