"""AUTH_MODE=anonymous: each browser is its own user, remembered by a signed cookie.

For public demos and kiosks where nobody signs in. The cookie holds a random user id and an
HMAC-SHA256 of it under `ANONYMOUS_COOKIE_SECRET`; it is HttpOnly (scripts can't read it),
Secure on https, SameSite as configured, scoped to /api. A cookie whose signature does not
verify is refused (401) and cleared, so the browser starts over as a new user instead of
becoming someone else. Anyone who deletes the cookie loses their threads: that is the
nature of anonymous use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie

from shared.errors import Unauthorized
from shared.settings import Settings

COOKIE = "chatkit_anon"
_MAX_AGE_SECONDS = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


class BadSessionCookie(Unauthorized):
    """Refused, and the response tells the browser to drop the cookie."""

    def __init__(self, message: str, clear_cookie: str):
        super().__init__(message)
        self.set_cookie = clear_cookie


def _mac(user: str, secret: bytes) -> str:
    digest = hmac.new(secret, user.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _cookie(value: str, max_age: int, headers: Mapping[str, str], settings: Settings) -> str:
    secure = settings.anonymous_cookie_samesite == "none" or _https(headers)
    parts = [
        f"{COOKIE}={value}",
        "Path=/api",
        f"Max-Age={max_age}",
        "HttpOnly",
        f"SameSite={settings.anonymous_cookie_samesite.capitalize()}",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _https(headers: Mapping[str, str]) -> bool:
    if headers.get("x-arr-ssl"):  # App Service's front end terminated TLS
        return True
    proto = headers.get("x-forwarded-proto", "")
    return proto.split(",")[0].strip().lower() == "https"


def identify(headers: Mapping[str, str], settings: Settings) -> tuple[str, str | None]:
    """(user id, Set-Cookie value for a new browser or None)."""
    secret = settings.anonymous_cookie_secret
    if secret is None:  # settings validation requires it in this mode
        raise Unauthorized("Anonymous sign-in is not configured.")
    key = secret.get_secret_value().encode()
    raw = _read_cookie(headers.get("cookie"))
    if not raw:  # a new browser (or one whose cleared cookie lingers as empty)
        user = secrets.token_urlsafe(18)
        value = f"{user}.{_mac(user, key)}"
        return f"anon:{user}", _cookie(value, _MAX_AGE_SECONDS, headers, settings)
    user, _, mac = raw.rpartition(".")
    valid = bool(user) and len(user) <= 64 and user.replace("-", "").replace("_", "").isalnum()
    if not valid or not hmac.compare_digest(mac, _mac(user, key)):
        raise BadSessionCookie(
            "The session cookie is not valid; reload the page to start a new session.",
            clear_cookie=_cookie("", 0, headers, settings),
        )
    return f"anon:{user}", None


def _read_cookie(header: str | None) -> str | None:
    if not header:
        return None
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None
