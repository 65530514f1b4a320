"""Time-zone rules, free of I/O so they can be tested without a model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.context import valid_timezone

# Friendly names users type; anything else must be an IANA zone name.
_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "new york": "America/New_York",
    "los angeles": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "tokyo": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
    "singapore": "Asia/Singapore",
    "mumbai": "Asia/Kolkata",
}

QUICK_ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo")
SESSION_KEY = "timezone"


class UnknownTimezone(ValueError):
    pass


def normalise_timezone(name: str) -> str:
    """An IANA zone name for what the user typed, or UnknownTimezone."""
    cleaned = " ".join(name.strip().split())
    alias = _ALIASES.get(cleaned.lower())
    if alias:
        return alias
    candidate = cleaned.replace(" ", "_")
    zone = valid_timezone(candidate)
    if zone is None:
        raise UnknownTimezone(
            f"'{cleaned[:64]}' is not a time zone I know; use an IANA name like Europe/Paris."
        )
    return zone


@dataclass(frozen=True)
class ClockReading:
    timezone: str
    iso: str
    time: str
    date: str
    utc_offset: str


def read_clock(timezone: str, now: datetime | None = None) -> ClockReading:
    local = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return ClockReading(
        timezone=timezone,
        iso=local.isoformat(timespec="seconds"),
        time=local.strftime("%H:%M"),
        date=local.strftime("%A %d %B %Y"),
        utc_offset=f"UTC{offset[:3]}:{offset[3:]}",
    )


def effective_timezone(session_zone: str | None, request_zone: str | None) -> str:
    """What the user chose in this thread wins over what their browser says."""
    return valid_timezone(session_zone) or valid_timezone(request_zone) or "UTC"
