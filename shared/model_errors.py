"""Model failures -> messages a user can act on (no stack traces, no hostnames)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def describe_model_error(exc: BaseException) -> str:
    import openai
    from agents.exceptions import AgentsException, MaxTurnsExceeded

    logger.warning("Model call failed: %s", type(exc).__name__, exc_info=exc)
    if isinstance(exc, openai.APITimeoutError):
        return "The model took too long to answer. Please try again."
    if isinstance(exc, openai.APIConnectionError):
        return "The model service could not be reached. Please try again in a moment."
    if isinstance(exc, openai.RateLimitError):
        retry_after = exc.response.headers.get("retry-after") if exc.response else None
        wait = f" in {retry_after} seconds" if retry_after and retry_after.isdigit() else " shortly"
        return f"The model service is busy (rate limited). Please try again{wait}."
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return (
            f"The model service refused the credentials (HTTP {exc.status_code}). "
            "Check the API key or the app's access to the model."
        )
    if isinstance(exc, openai.NotFoundError):
        return "The model service does not know the configured model or deployment (HTTP 404)."
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return f"The model service had an error (HTTP {exc.status_code}). Please try again."
        return f"The model service rejected the request (HTTP {exc.status_code})."
    if isinstance(exc, MaxTurnsExceeded):
        return "The assistant needed too many steps to answer. Try a simpler request."
    if isinstance(exc, openai.OpenAIError | AgentsException):
        return "The model's answer could not be completed. Please try again."
    return "Something went wrong while generating the answer. Please try again."
