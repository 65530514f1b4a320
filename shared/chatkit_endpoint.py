"""One ChatKit request in, one HTTP response out.

Validation happens before any work so bad input gets a 4xx JSON answer and touches
nothing stored. Streaming requests are started before the headers go out: ChatKit
looks up the thread (and item) before its first event, so a missing or foreign id
becomes a clean 404 instead of a stream that dies after `200 OK`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
from azurefunctions.extensions.http.fastapi import Response, StreamingResponse
from chatkit.store import NotFoundError
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    ErrorEvent,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
    is_streaming_req,
)
from pydantic import TypeAdapter, ValidationError

from shared import telemetry
from shared.attachments.policy import AttachmentNotUploaded
from shared.context import RequestContext
from shared.errors import ApiError, BadRequest, NotFound, StoreUnavailable, TooManyRequests
from shared.runtime import get_runtime
from shared.settings import Settings
from shared.stores.base import AppStore
from shared.stores.read_ahead import ReadAheadStore
from shared.stream_stop import parse_stop_request, request_stop, stoppable, thread_id_of
from shared.turn_lease import TurnGuard

# The largest page a client may ask for in threads.list / items.list.
CLIENT_PAGE_LIMIT = 100

logger = logging.getLogger(__name__)

_REQUEST = TypeAdapter(ChatKitReq)
SSE_HEADERS = {
    # Stop proxies and CDNs from buffering or transforming the stream.
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}


def parse_request(body: bytes) -> ChatKitReq:
    if not body.strip():
        raise BadRequest("The request body is empty; send a ChatKit request as JSON.")
    try:
        return _REQUEST.validate_json(body)
    except ValidationError as exc:
        raise BadRequest(_describe(exc)) from None


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        if "recursion limit" in first["msg"]:
            return "The request body is nested too deeply."
        return "The request body is not valid JSON."
    if kind in ("dict_type", "model_type", "model_attributes_type") and not first["loc"]:
        return "The request body must be a JSON object."
    if kind == "union_tag_not_found":
        return "The request has no 'type'; expected one such as 'threads.create'."
    if kind == "union_tag_invalid":
        return "Unknown ChatKit request type; expected one such as 'threads.create'."
    where = ".".join(str(p) for p in first["loc"][1:]) or "request"
    return f"Invalid ChatKit request: {where}: {first['msg']}."


def _too_deep(value: Any, limit: int) -> bool:
    """Whether free-form JSON nests deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def _too_large(request: ChatKitReq, settings: Settings) -> str | None:
    free_form = [request.metadata]
    action = getattr(request.params, "action", None)
    if action is not None:
        free_form.append(action.payload)
    if any(_too_deep(value, settings.max_json_depth) for value in free_form):
        return f"The request nests JSON deeper than {settings.max_json_depth} levels."
    if isinstance(request, ThreadsCreateReq | ThreadsAddUserMessageReq):
        message = request.params.input
        chars = sum(len(part.text) for part in message.content) + len(message.quoted_text or "")
        if chars > settings.max_message_chars:
            return (
                f"The message is {chars} characters long; the limit is "
                f"{settings.max_message_chars}."
            )
    if request.type == "threads.update":
        # Every threads.list returns every title: one huge title taxes each later page.
        length = len(request.params.title)
        if length > settings.max_title_chars:
            return (
                f"The title is {length} characters long; the limit is {settings.max_title_chars}."
            )
    return None


async def _check_thread_rate(store: AppStore, context: RequestContext, per_minute: int) -> None:
    """At most `per_minute` new threads per user per minute, counted atomically in the
    store: every instance enforces the same limit, concurrent creates cannot all slip
    through, and deleting a thread does not give its slot back."""
    if per_minute <= 0:
        return
    wait = await store.take_rate_slot("threads.create", per_minute, 60, context)
    if wait is not None:
        seconds = max(1, int(wait) + 1)
        raise TooManyRequests(
            f"You started {per_minute} conversations in the last minute. "
            f"Please wait {seconds} seconds before starting another.",
            retry_after=seconds,
        )


# Streamed requests that run a turn on an existing thread: each holds its lease.
_TURNS_ON_A_THREAD = (
    ThreadsAddUserMessageReq,
    ThreadsAddClientToolOutputReq,
    ThreadsRetryAfterItemReq,
    ThreadsCustomActionReq,
)
# Writes to a thread made without its lease (a delete in between must still win).
_UNLEASED_WRITES = (ThreadsUpdateReq, ItemsFeedbackReq)


def _clamp_page(request: ChatKitReq) -> None:
    """A client's page size, clamped to 1..CLIENT_PAGE_LIMIT (README: paging)."""
    if isinstance(request, ThreadsListReq | ItemsListReq) and request.params.limit is not None:
        request.params.limit = min(max(1, request.params.limit), CLIENT_PAGE_LIMIT)


def _unsupported(request: ChatKitReq, max_attachments: int) -> str | None:
    if isinstance(request, AttachmentsCreateReq) and max_attachments == 0:
        return "Attachments are not enabled on this server."
    if isinstance(request, InputTranscribeReq):
        return "Dictation is not supported on this server."
    if isinstance(request, ThreadsSyncCustomActionReq):
        return "Synchronous custom actions are not supported; use threads.custom_action."
    if isinstance(request, ThreadsCreateReq | ThreadsAddUserMessageReq):
        # Distinct ids: one id repeated is one attachment (`_prepare` stores it once).
        count = len(set(request.params.input.attachments))
        if count > max_attachments:
            return f"A message can carry at most {max_attachments} attachments ({count} sent)."
    return None


async def _prepare(request: ChatKitReq, context: RequestContext) -> None:
    """Checks and clean-up that must happen before ChatKit touches the store."""
    runtime = get_runtime()
    store, files = runtime.store, runtime.attachments
    if isinstance(request, ThreadsCreateReq | ThreadsAddUserMessageReq):
        thread_id = getattr(request.params, "thread_id", None)
        if thread_id and request.params.input.attachments:
            # The thread first (its read is already in flight): a foreign or missing
            # thread is a 404 before any attachment is touched.
            try:
                await store.load_thread(thread_id, context)
            except NotFoundError:
                raise NotFound("Thread not found.") from None
        # Each id once: ChatKit would load, store and send to the model one copy per
        # occurrence (a 2 MB file repeated 10x in every message multiplied each turn).
        distinct = list(dict.fromkeys(request.params.input.attachments))
        request.params.input.attachments = distinct
        # Bytes uploaded straight to Blob were never seen by the app: check them now,
        # before the message is stored, so a bad file fails the send cleanly. The check
        # records their size and version; later reads insist on that version.
        for attachment_id in distinct:
            try:
                attachment = await store.load_attachment(attachment_id, context)
            except NotFoundError:
                raise NotFound("Attachment not found.") from None
            metadata = attachment.metadata or {}
            if "size" in metadata:
                continue  # checked when it was uploaded through the app
            try:
                verified = await files.verify(attachment, context)
            except AttachmentNotUploaded:
                raise
            except ApiError:
                await store.delete_attachment(attachment.id, context)
                raise
            # With the thread id ChatKit is about to give it: one write, not two.
            checked: dict[str, Any] = {
                "upload_descriptor": None,
                "metadata": {**metadata, **verified},
            }
            if thread_id:
                checked["thread_id"] = thread_id
            await store.save_attachment(
                attachment.model_copy(update=checked),
                context,
            )
    elif isinstance(request, AttachmentsDeleteReq):
        try:
            await store.load_attachment(request.params.attachment_id, context)
        except NotFoundError:
            raise NotFound("Attachment not found.") from None
    elif isinstance(request, ThreadsDeleteReq):
        # The store removes metadata; the bytes go first so none are left orphaned.
        try:
            attachments = await store.list_thread_attachments(request.params.thread_id, context)
        except NotFoundError:
            attachments = []
        for attachment in attachments:
            await files.delete_attachment(attachment.id, context)


def _read_ahead(request: ChatKitReq, store: AppStore, context: RequestContext, window: int) -> None:
    """Send the reads a turn or a widget action will need, all at once, now."""
    if not isinstance(store, ReadAheadStore):
        return
    if isinstance(request, ThreadsAddUserMessageReq):
        store.start_turn_reads(request.params.thread_id, context, window)
    elif isinstance(request, ThreadsCreateReq):
        store.expect_new_thread(context, window)
    elif isinstance(request, ThreadsCustomActionReq) and request.params.item_id:
        store.start_action_reads(request.params.thread_id, request.params.item_id, context)


async def handle(body: bytes, context: RequestContext) -> Response:
    # The request's span; a streamed answer hands it to `_continue`, which ends it.
    trace = telemetry.start_request(context)
    runtime = get_runtime()
    guard = TurnGuard(runtime.store, context, runtime.settings.turn_lease_seconds)
    try:
        with trace.active():
            response = await _handle(body, context, trace, guard)
    except asyncio.CancelledError:
        await _settle_writes(context)
        await guard.release()
        # 499: the client closed the request before any answer (nginx's convention).
        trace.finish(context.metrics, status=499, cancelled=True)
        raise
    except BaseException as exc:
        await _settle_writes(context)
        await guard.release()
        status, code = _status_of(exc)
        trace.finish(context.metrics, status=status, error_code=code, error=exc)
        raise
    if not isinstance(response, StreamingResponse):
        trace.finish(context.metrics, status=response.status_code)
    return response


def _status_of(exc: BaseException) -> tuple[int, str]:
    """The status the HTTP edge answers for an exception (shared/http_edge.py)."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code
    if isinstance(exc, StoreUnavailable):
        return 503, "store_unavailable"
    return 500, "internal_error"


async def _handle(
    body: bytes, context: RequestContext, trace: telemetry.Trace, guard: TurnGuard
) -> Response:
    runtime = get_runtime()
    server = runtime.server(context.use_case)
    try:
        request = parse_request(body)
    except BadRequest:
        stop = parse_stop_request(body)
        if stop is None:
            trace.describe("invalid")
            raise
        trace.describe(stop.type, stop.params.thread_id)
        await request_stop(runtime.store, stop.params.thread_id, context)
        return Response(
            content=b'{"stopping":true}',
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )
    trace.describe(request.type, getattr(request.params, "thread_id", None))
    problem = _unsupported(request, runtime.settings.max_attachments_per_message)
    if problem:
        raise BadRequest(problem, code="unsupported")
    problem = _too_large(request, runtime.settings)
    if problem:
        raise BadRequest(problem, code="too_large")
    _clamp_page(request)
    _read_ahead(request, runtime.store, context, runtime.settings.history_limit)
    if isinstance(request, ThreadsCreateReq):
        await _check_thread_rate(runtime.store, context, runtime.settings.threads_per_minute)
    if isinstance(request, _TURNS_ON_A_THREAD):
        # Before anything of the turn is read or written; the reads above are in flight.
        try:
            await guard.acquire(request.params.thread_id)
        except NotFoundError:
            raise NotFound("Thread not found.") from None
    await _prepare(request, context)
    try:
        result = await server.process_parsed(request, context)
        if isinstance(request, _UNLEASED_WRITES):
            await runtime.store.confirm_thread_write(request.params.thread_id, context)
    except NotFoundError:
        raise NotFound(_not_found_message(request)) from None
    except ValueError:
        raise BadRequest("The request does not apply to this thread or item.") from None

    if not is_streaming_req(request):
        _log_store_use(request, context)
        return Response(
            content=result.json,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    events = result.json_events
    try:
        first = await anext(events)
    except StopAsyncIteration:
        if isinstance(request, ThreadsRetryAfterItemReq):
            raise NotFound("Item not found.") from None
        first = None
    except NotFoundError:
        raise NotFound(_not_found_message(request)) from None
    except ValueError:
        raise BadRequest("The request does not apply to this thread or item.") from None
    known_thread = getattr(request.params, "thread_id", None) or thread_id_of(first)
    trace.describe(thread_id=known_thread)
    if isinstance(request, ThreadsCreateReq) and known_thread:
        # The new thread's id exists only on this instance until this first event goes
        # out: no other request can hold its lease yet.
        await guard.acquire(known_thread)
    events = stoppable(
        events,
        runtime.store,
        lambda: known_thread,
        context,
        runtime.settings.stop_poll_seconds,
    )
    return StreamingResponse(
        _continue(first, events, request, context, trace, guard),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


def _not_found_message(request: ChatKitReq) -> str:
    params = getattr(request, "params", None)
    if getattr(params, "item_id", None) or getattr(params, "item_ids", None):
        return "Thread or item not found."
    if getattr(params, "attachment_id", None):
        return "Attachment not found."
    return "Thread not found."


def _log_store_use(request: ChatKitReq, context: RequestContext) -> None:
    metrics = context.metrics
    logger.info(
        "%s: %d store requests, %.2f RU, %.1f ms in the store",
        request.type,
        metrics.requests,
        metrics.request_units,
        metrics.seconds * 1000,
        # Fields of their own in Application Insights (customDimensions of `traces`).
        extra={
            "chatkit.operation": request.type,
            "chatkit.store.requests": metrics.requests,
            "chatkit.store.request_units": round(metrics.request_units, 2),
        },
    )


async def _continue(
    first: bytes | None,
    events: AsyncGenerator[bytes, None],
    request: ChatKitReq,
    context: RequestContext,
    trace: telemetry.Trace,
    guard: TurnGuard,
) -> AsyncIterator[bytes]:
    """The rest of the stream; a late failure ends it with an error event, not a cut.

    The request's span stays open until here ends: last event sent, or client gone.
    """
    cancelled = False
    # Renewed from here, where the `finally` below is sure to release it: a stream
    # that never starts leaves a lease that simply expires.
    guard.keep()
    try:
        if first is not None:
            trace.observe(first)
            yield first
        while True:
            # Current for one step only: the next step may run in another task.
            with trace.active():
                chunk = await anext(events, None)
            if chunk is None:
                break
            trace.observe(chunk)
            yield chunk
        # The user's message was written behind (shared/stores/read_ahead.py): the
        # stream ends only once it is stored, or with an error event if it is not.
        with trace.active():
            await _flush_writes(context)
    except (asyncio.CancelledError, GeneratorExit):
        cancelled = True
        raise
    except ApiError as exc:
        yield _error_event(trace, exc.message, allow_retry=False)
    except StoreUnavailable:
        yield _error_event(trace, "The chat store is busy right now. Please try again.", True)
    except NotFoundError:
        yield _error_event(trace, "Thread or item not found.", allow_retry=False)
    except Exception:
        # ChatKit has logged the traceback; the client gets a well-formed ending.
        message = "Something went wrong while answering. Please try again."
        yield _error_event(trace, message, True)
    finally:
        try:
            await events.aclose()
        finally:
            await _settle_writes(context)
            await guard.release()
            with trace.active():
                _log_store_use(request, context)
            trace.finish(context.metrics, cancelled=cancelled)


async def _flush_writes(context: RequestContext) -> None:
    if not context.read_ahead:
        return
    store = get_runtime().store
    if isinstance(store, ReadAheadStore):
        await store.flush(context)


async def _settle_writes(context: RequestContext) -> None:
    """Let writes still in flight finish even when the client has gone (never raises)."""
    with anyio.CancelScope(shield=True):
        try:
            await _flush_writes(context)
        except Exception:
            logger.warning("A write of this turn failed after its stream ended", exc_info=True)


def _error_event(trace: telemetry.Trace, message: str, allow_retry: bool) -> bytes:
    event = ErrorEvent(code="custom", message=message, allow_retry=allow_retry)
    chunk = b"data: " + json.dumps(event.model_dump(mode="json")).encode() + b"\n\n"
    trace.observe(chunk)
    return chunk
