"""The per-request context: who is asking, for which use case, in which locale.

It travels as ChatKit's `context` argument into every Store call, which is how stores
scope every read and write to the user. Built fresh for each invocation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.ids import new_ulid


@dataclass
class StoreMetrics:
    """Store round trips and Cosmos request units spent on one request."""

    requests: int = 0
    request_units: float = 0.0
    seconds: float = 0.0

    def record(self, seconds: float, request_units: float = 0.0) -> None:
        self.requests += 1
        self.seconds += seconds
        self.request_units += request_units


@dataclass(frozen=True)
class RequestContext:
    user_id: str
    use_case: str
    locale: str = "en"
    timezone: str | None = None
    # Where this app is reachable from the caller, for absolute upload/preview URLs.
    base_url: str = "http://localhost:7071"
    request_id: str = field(default_factory=new_ulid)
    # A session cookie the response must set (AUTH_MODE=anonymous, first request).
    set_cookie: str | None = None
    metrics: StoreMetrics = field(default_factory=StoreMetrics, compare=False)
    # Reads a streamed turn sent ahead of need (shared/stores/read_ahead.py); ends with
    # the request.
    read_ahead: dict[str, Any] = field(default_factory=dict, compare=False)


_LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def locale_from_accept_language(header: str | None, default: str = "en") -> str:
    """The preferred language tag of an `Accept-Language` header (highest q wins)."""
    if not header:
        return default
    best, best_q = default, -1.0
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or not _LANG_TAG.match(tag):
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        # Earlier entries win ties, as the header's order expresses preference.
        score = q - position * 1e-6
        if score > best_q:
            best, best_q = tag, score
    return best


def valid_timezone(name: str | None) -> str | None:
    """The IANA zone name if it exists, else None (never raises on user input)."""
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name
