"""OpenTelemetry spans for ChatKit requests, store calls and model calls.

Off unless APPLICATIONINSIGHTS_CONNECTION_STRING is set: then `azure-monitor-opentelemetry`
is imported (only then: it costs cold-start time) and configured once per process. Off,
every helper here returns a shared no-op object and this module imports no OpenTelemetry.

Spans hold ids, counts and timings, never message text or titles. Our own spans find
their parent through the request's id (`RequestContext.request_id`), because a streamed
answer runs in other tasks than the handler that started it; the request's context is
also made current around each step of the stream so the SDKs' own spans and every log
record nest under it. Where spans and logs go is shared/telemetry_export.py;
docs/observability.md lists each span and attribute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

    from shared.context import RequestContext, StoreMetrics
    from shared.settings import Settings

logger = logging.getLogger(__name__)

_tracer: Tracer | None = None
_configured = False
_owned: list[Any] = []  # providers and handlers a test installed, to undo in reset()
# Live requests by request id; weak, so a stream that never started cannot leak one.
_active: weakref.WeakValueDictionary[str, RequestTrace] = weakref.WeakValueDictionary()

# Cosmos answers these for expected outcomes (a missing document, a lost optimistic race).
_EXPECTED_STATUS = frozenset({404, 409, 412})


def configure(
    settings: Settings | None = None,
    *,
    exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> bool:
    """Set up telemetry once per process; returns whether it is on.

    `exporter` (tests) installs a plain OpenTelemetry SDK pipeline instead of Azure
    Monitor. Telemetry must never take the app down: a failure is logged and it stays off.
    """
    global _tracer, _configured
    if _configured:
        return _tracer is not None
    _configured = True
    try:
        if exporter is not None:
            from shared.telemetry_export import sdk_pipeline

            _tracer = sdk_pipeline(exporter, log_exporter, _owned)
        elif settings is not None and settings.applicationinsights_connection_string:
            from shared.telemetry_export import azure_monitor

            _tracer = azure_monitor(settings)
    except Exception:
        logger.exception("OpenTelemetry could not be configured; continuing without it")
        _tracer = None
    return _tracer is not None


def enabled() -> bool:
    return _tracer is not None


def reset() -> None:
    """Forget the configuration (tests only: a real process configures once)."""
    global _tracer, _configured
    for owned in reversed(_owned):
        if isinstance(owned, logging.Handler):
            logging.getLogger().removeHandler(owned)
        else:
            owned.shutdown()
    _owned.clear()
    _active.clear()
    _tracer, _configured = None, False


# (the Settings it came from, the key); holding the Settings keeps `is` meaningful.
_pseudonym_key_of: tuple[Settings, bytes] | None = None


def _pseudonym_key() -> bytes:
    """TELEMETRY_PSEUDONYM_KEY; else one derived from ANONYMOUS_COOKIE_SECRET; else random.

    A known constant would let anyone who knows a user id (an Entra object id is no secret)
    find that user's requests, so there is none. A random key is per process: pseudonyms
    then still group one instance's turns, not the same user across instances or restarts.
    """
    global _pseudonym_key_of
    from shared.settings import get_settings

    settings = get_settings()
    if _pseudonym_key_of is None or _pseudonym_key_of[0] is not settings:
        if settings.telemetry_pseudonym_key is not None:
            key = settings.telemetry_pseudonym_key.get_secret_value().encode()
        elif settings.anonymous_cookie_secret is not None:
            secret = settings.anonymous_cookie_secret.get_secret_value().encode()
            # Its own key, so a pseudonym says nothing about cookie signatures.
            key = hmac.new(secret, b"chatkit telemetry pseudonym", hashlib.sha256).digest()
        else:
            key = secrets.token_bytes(32)
            logger.warning(
                "TELEMETRY_PSEUDONYM_KEY is not set: user pseudonyms in telemetry are "
                "random per process and differ across instances and restarts."
            )
        _pseudonym_key_of = (settings, key)
    return _pseudonym_key_of[1]


def pseudonym(user_id: str) -> str:
    """A stable stand-in for a user id: turns group by user, the id itself stays home.

    Keyed (HMAC-SHA256), so it cannot be recomputed from a user id without the key.
    """
    digest = hmac.new(_pseudonym_key(), b"chatkit-user:" + user_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


# One ChatKit request


class RequestTrace:
    """The SERVER span of one ChatKit request, open until its stream ends."""

    def __init__(self, tracer: Tracer, context: RequestContext):
        from opentelemetry import trace

        self._started = time.perf_counter()
        self._span: Span = tracer.start_span(
            "chatkit",
            kind=trace.SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "chatkit.use_case": context.use_case,
                "enduser.id": pseudonym(context.user_id),
            },
        )
        self.context: Context = _with_span(self._span)
        self.input_tokens = self.output_tokens = self.model_requests = 0
        self._first_token = False
        self._outcome: tuple[str, str | None] | None = None  # stream error seen
        self._ended = False
        self._request_id = context.request_id
        _active[context.request_id] = self

    def describe(self, operation: str | None = None, thread_id: str | None = None) -> None:
        """The request type (`threads.create`, ...) and its thread, once either is known."""
        if operation:
            self._span.update_name(f"chatkit {operation}")
            self._span.set_attribute("chatkit.operation", operation)
        if thread_id:
            self._span.set_attribute("chatkit.thread_id", thread_id)

    def active(self) -> AbstractContextManager[None]:
        """This request's span as the current one; never held across a `yield` of a
        stream (another task may resume it), only around one step of it."""
        return _current(self.context)

    def observe(self, chunk: bytes) -> None:
        """Note an SSE `error` event: the HTTP status is 200 but the turn failed."""
        head = chunk[:40].replace(b" ", b"")
        if not head.startswith(b'data:{"type":"error"'):
            return
        try:
            code = str(json.loads(chunk.removeprefix(b"data: ")).get("code", "error"))
        except ValueError:
            code = "error"
        self._outcome = ("stream_error", code)

    def first_token(self) -> None:
        if not self._first_token:
            self._first_token = True
            elapsed = (time.perf_counter() - self._started) * 1000
            self._span.set_attribute("chatkit.time_to_first_token_ms", round(elapsed, 1))

    def finish(
        self,
        metrics: StoreMetrics,
        *,
        status: int = 200,
        error_code: str | None = None,
        error: BaseException | None = None,
        cancelled: bool = False,
    ) -> None:
        if self._ended:
            return
        self._ended = True
        from opentelemetry.trace import Status, StatusCode

        if cancelled:
            outcome: tuple[str, str | None] = ("cancelled", None)
        elif status >= 500:
            outcome = ("server_error", error_code or "internal_error")
        elif status >= 400:
            outcome = ("client_error", error_code)
        else:
            outcome = self._outcome or ("ok", None)
        span = self._span
        span.set_attribute("http.response.status_code", status)
        span.set_attribute("chatkit.outcome", outcome[0])
        if outcome[1]:
            span.set_attribute("chatkit.error_code", outcome[1])
        if outcome[0] in ("server_error", "stream_error"):
            span.set_status(Status(StatusCode.ERROR, outcome[1]))
        if outcome[0] == "server_error" and error is not None:
            # The class only (its message could quote input); not error.type, which
            # Azure Monitor keeps out of customDimensions.
            span.set_attribute("chatkit.error_type", type(error).__name__)
        span.set_attributes(
            {
                "chatkit.store.requests": metrics.requests,
                "chatkit.store.request_units": round(metrics.request_units, 2),
                "chatkit.store.duration_ms": round(metrics.seconds * 1000, 1),
                "chatkit.model.requests": self.model_requests,
                "chatkit.usage.input_tokens": self.input_tokens,
                "chatkit.usage.output_tokens": self.output_tokens,
            }
        )
        span.end()
        _active.pop(self._request_id, None)


def start_request(context: RequestContext) -> RequestTrace | _Off:
    return _OFF if _tracer is None else RequestTrace(_tracer, context)


def _parent(context: RequestContext) -> tuple[RequestTrace | None, Context | None]:
    request = _active.get(context.request_id)
    return request, (request.context if request is not None else None)


# Store round trips


class StoreCall:
    """A CLIENT span around one store round trip; use it as a context manager."""

    def __init__(self, tracer: Tracer, context: RequestContext, system: str, operation: str):
        from opentelemetry import trace

        _, parent = _parent(context)
        self._span = tracer.start_span(
            f"{system} {operation}",
            context=parent,
            kind=trace.SpanKind.CLIENT,
            attributes={
                "db.system.name": _DB_SYSTEMS.get(system, system),
                "db.operation.name": operation,
            },
        )
        self._scope = _current(_with_span(self._span))

    def request_charge(self, units: float) -> None:
        # db.* attributes are the semantic convention, but Azure Monitor's exporter keeps
        # none of them in customDimensions: the chatkit.* copy is the one KQL can read.
        self._span.set_attribute("db.cosmosdb.request_charge", units)
        self._span.set_attribute("chatkit.store.request_units", units)

    def __enter__(self) -> StoreCall:
        # Current while it runs, so the Azure SDK's HTTP spans nest under it.
        self._scope.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self._scope.__exit__(None, None, None)
        if exc is not None:
            status = getattr(exc, "status_code", None)
            if isinstance(status, int):
                self._span.set_attribute("db.response.status_code", str(status))
            if status not in _EXPECTED_STATUS:
                _mark_failed(self._span, exc)
        self._span.end()


_DB_SYSTEMS = {"cosmos": "azure.cosmosdb"}


def store_call(context: RequestContext, system: str, operation: str) -> StoreCall | _Off:
    return _OFF if _tracer is None else StoreCall(_tracer, context, system, operation)


# Model calls


class ModelCall:
    """A CLIENT span over one agent run (one or more model requests): its tokens and
    the time from the run's start to the first streamed text."""

    def __init__(
        self, tracer: Tracer, context: RequestContext, model: str, provider: str, purpose: str
    ):
        from opentelemetry import trace

        self._request, parent = _parent(context)
        self._started = time.perf_counter()
        self._span = tracer.start_span(
            f"chat {model}",
            context=parent,
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.system": _GEN_AI_SYSTEMS.get(provider, provider),
                "gen_ai.request.model": model,
                "chatkit.purpose": purpose,
            },
        )
        self.awaiting_first_token = True
        self._scope: AbstractContextManager[None] = nullcontext()
        self._usage: Any = None
        self._completed = False
        self._ended = False

    def active(self) -> AbstractContextManager[None]:
        """Current while the run starts: the task the Agents SDK creates then inherits
        it, so the instrumented HTTP requests to the model nest under this span."""
        return _current(_with_span(self._span))

    def first_token(self) -> None:
        self.awaiting_first_token = False
        elapsed = (time.perf_counter() - self._started) * 1000
        self._span.set_attribute("gen_ai.time_to_first_token_ms", round(elapsed, 1))
        if self._request is not None:
            self._request.first_token()

    def completed(self) -> None:
        self._completed = True

    def record_usage(self, usage: Any) -> None:
        """The Agents SDK's `Usage` of the run (summed over its model requests)."""
        self._usage = usage

    def end(self, usage: Any = None, error: BaseException | None = None) -> None:
        """A run that neither completed nor failed was cancelled (client gone, or Stop)."""
        if self._ended:
            return
        self._ended = True
        usage = usage if usage is not None else self._usage
        inputs = int(getattr(usage, "input_tokens", 0) or 0)
        outputs = int(getattr(usage, "output_tokens", 0) or 0)
        requests = int(getattr(usage, "requests", 0) or 0)
        self._span.set_attributes(
            {
                "gen_ai.usage.input_tokens": inputs,
                "gen_ai.usage.output_tokens": outputs,
                "chatkit.model.requests": requests,
            }
        )
        if error is not None:
            _mark_failed(self._span, error)
        elif not self._completed:
            self._span.set_attribute("chatkit.cancelled", True)
        if self._request is not None:
            self._request.input_tokens += inputs
            self._request.output_tokens += outputs
            self._request.model_requests += requests
        self._span.end()

    def __enter__(self) -> ModelCall:
        self._scope = self.active()
        self._scope.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self._scope.__exit__(None, None, None)
        if exc is None:
            self.completed()
        self.end(error=exc if isinstance(exc, Exception) else None)


_GEN_AI_SYSTEMS = {"azure": "azure.ai.openai", "openai": "openai"}


def model_call(
    context: RequestContext, model: str, provider: str, purpose: str
) -> ModelCall | _Off:
    if _tracer is None:
        return _OFF
    return ModelCall(_tracer, context, model, provider, purpose)


class _Off:
    """Telemetry off: one shared object answers every call at once."""

    awaiting_first_token = False

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def active(self) -> nullcontext[None]:
        return _NOTHING

    def _nothing(self, *args: Any, **kwargs: Any) -> None:
        pass

    describe = observe = finish = _nothing
    request_charge = first_token = completed = record_usage = end = _nothing


_OFF = _Off()
_NOTHING: nullcontext[None] = nullcontext()
# What `start_request` returns, on or off.
Trace = RequestTrace | _Off


@contextmanager
def _current(context: Context) -> Iterator[None]:
    from opentelemetry import context as otel

    token = otel.attach(context)
    try:
        yield
    finally:
        otel.detach(token)


def _with_span(span: Span) -> Context:
    from opentelemetry import trace

    return trace.set_span_in_context(span)


def _mark_failed(span: Span, error: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    # The type only: exception messages can quote model input.
    span.set_attribute("error.type", type(error).__name__)
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
