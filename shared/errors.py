"""Errors that map to an HTTP status and a JSON body a client can show.

Messages are written for users: they name what was wrong, never a stack trace,
a secret or an internal host name.
"""

from __future__ import annotations


class ApiError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class ConfigurationError(ApiError):
    status = 500
    code = "configuration_error"


class SessionStateConflict(Exception):
    """Another request changed the thread's session state since it was read."""


class StoreUnavailable(Exception):
    """The store stayed busy or unreachable after the SDK's retries; try again later."""


class TooManyRequests(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ThreadBusy(ApiError):
    """Another request is running a turn on this thread (on any instance)."""

    status = 409
    code = "thread_busy"

    def __init__(self, retry_after: int = 2):
        super().__init__(
            "This conversation is still answering another request. "
            "Please wait a moment and try again."
        )
        self.retry_after = retry_after
