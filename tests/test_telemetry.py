"""OpenTelemetry: spans per ChatKit request, store round trip and model call; logs that
carry their ids; no message text anywhere; nothing imported or configured without a
connection string.

Requests go through the Function app's own handlers in this process (as the Functions
host calls them), with the fake model, exported to OpenTelemetry's in-memory exporters
through `telemetry.configure(exporter=...)` instead of Azure Monitor.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.requests import Request

from shared import telemetry
from shared.context import RequestContext
from tests.chatkit_client import user_input
from tests.conftest import _APP_SETTINGS, ROOT, cosmos_env
from tests.fake_model import Reply
from tests.test_function_app import _request as function_request


@dataclass
class Captured:
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def requests(self) -> list[ReadableSpan]:
        return [s for s in self.finished() if s.kind is SpanKind.SERVER]

    def children(self, parent: ReadableSpan, key: str) -> list[ReadableSpan]:
        return [
            s
            for s in self.finished()
            if s.parent is not None
            and s.parent.span_id == parent.context.span_id
            and key in (s.attributes or {})
        ]


@pytest.fixture
def otel() -> Iterator[Captured]:
    telemetry.reset()
    captured = Captured(InMemorySpanExporter(), InMemoryLogRecordExporter())
    assert telemetry.configure(exporter=captured.spans, log_exporter=captured.logs)
    yield captured
    telemetry.reset()


@dataclass
class Answer:
    status: int
    events: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None
    returned_ns: int = 0  # when the handler returned (headers)
    arrivals_ns: list[int] = field(default_factory=list)  # when each SSE event arrived


def _handler() -> Any:
    import function_app

    function_app.app.functions_bindings = None
    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    return functions["chatkit_use_case"].get_user_function()


def _request(body: bytes, use_case: str = "assistant") -> Request:
    return function_request(
        "POST", f"/api/chatkit/{use_case}", body, path_params={"use_case": use_case}
    )


async def _call(kind: str, stop_after_deltas: int | None = None, **params: Any) -> Answer:
    body = json.dumps({"type": kind, "params": params}).encode()
    response = await _handler()(_request(body))
    reply = Answer(status=response.status_code, returned_ns=time.time_ns())
    if response.media_type != "text/event-stream":
        reply.body = json.loads(response.body)
        return reply
    deltas = 0
    async for chunk in response.body_iterator:
        reply.arrivals_ns.append(time.time_ns())
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        reply.events += [json.loads(line[6:]) for line in text.splitlines() if line[:6] == "data: "]
        deltas += '"assistant_message.content_part.text_delta"' in text
        if stop_after_deltas is not None and deltas >= stop_after_deltas:
            await response.body_iterator.aclose()  # what a client disconnect does
            break
    return reply


def _one(spans: list[ReadableSpan], **attributes: Any) -> ReadableSpan:
    found = [
        s for s in spans if all((s.attributes or {}).get(k) == v for k, v in attributes.items())
    ]
    assert len(found) == 1, [(s.name, dict(s.attributes or {})) for s in spans]
    return found[0]


async def test_a_streamed_turn_is_one_request_span_covering_the_stream(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    fake_model.script(Reply.say("Hello", " there", " friend", delay=0.1))
    started_ns = time.time_ns()

    reply = await _call("threads.create", input=user_input("hi"))

    thread_id = reply.events[0]["thread"]["id"]
    [request] = otel.requests()
    attributes = dict(request.attributes or {})
    assert request.name == "chatkit threads.create"
    assert attributes["chatkit.operation"] == "threads.create"
    assert attributes["chatkit.use_case"] == "assistant"
    assert attributes["chatkit.thread_id"] == thread_id
    assert attributes["chatkit.outcome"] == "ok"
    assert attributes["http.response.status_code"] == 200
    assert attributes["enduser.id"] == telemetry.pseudonym("local-user") != "local-user"
    assert request.status.status_code is StatusCode.UNSET
    # The span is the whole stream, not the time to headers: it ends after the last event.
    assert request.start_time is not None and request.end_time is not None
    assert started_ns <= request.start_time
    assert request.end_time >= reply.arrivals_ns[-1] > reply.returned_ns + 150_000_000

    answer = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "answer"})
    assert answer.name == "chat fake-model" and answer.kind is SpanKind.CLIENT
    model = dict(answer.attributes or {})
    assert model["gen_ai.request.model"] == "fake-model"
    assert model["gen_ai.system"] == "openai"
    assert (model["gen_ai.usage.input_tokens"], model["gen_ai.usage.output_tokens"]) == (10, 5)
    assert 0 < model["gen_ai.time_to_first_token_ms"] < (answer.end_time - answer.start_time) / 1e6
    assert "chatkit.cancelled" not in model
    title = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "title"})
    assert title.attributes["gen_ai.usage.input_tokens"] == 10

    # The turn's totals on the request span: one KQL row answers "tokens per turn".
    assert attributes["chatkit.usage.input_tokens"] == 20
    assert attributes["chatkit.usage.output_tokens"] == 10
    assert attributes["chatkit.model.requests"] == 2
    assert attributes["chatkit.time_to_first_token_ms"] >= model["gen_ai.time_to_first_token_ms"]

    stores = otel.children(request, "db.system.name")
    assert stores and len(stores) == attributes["chatkit.store.requests"]
    assert {s.attributes["db.system.name"] for s in stores} == {"sqlite"}
    assert all(s.kind is SpanKind.CLIENT and s.name.startswith("sqlite ") for s in stores)
    assert "chatkit.store.request_units" not in stores[0].attributes  # no RU off Cosmos
    assert all(s.context.trace_id == request.context.trace_id for s in otel.finished())


async def test_json_requests_and_refusals_have_their_own_span(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    thread_id = (await _call("threads.create", input=user_input("hi"))).events[0]["thread"]["id"]
    otel.spans.clear()

    listed = await _call("items.list", thread_id=thread_id)
    missing = await _call("threads.add_user_message", thread_id="thr_nope", input=user_input("x"))

    assert listed.status == 200 and missing.status == 404
    ok, refused = otel.requests()
    assert ok.name == "chatkit items.list"
    assert ok.attributes["chatkit.thread_id"] == thread_id
    assert ok.attributes["chatkit.outcome"] == "ok"
    assert len(otel.children(ok, "db.system.name")) == ok.attributes["chatkit.store.requests"] > 0
    assert refused.attributes["http.response.status_code"] == 404
    assert refused.attributes["chatkit.outcome"] == "client_error"
    assert refused.attributes["chatkit.error_code"] == "not_found"
    assert refused.status.status_code is StatusCode.UNSET  # the caller's mistake, not ours


async def test_a_store_outage_is_a_server_error(
    otel: Captured, in_process: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.errors import StoreUnavailable
    from shared.runtime import get_runtime

    async def busy(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("Cosmos DB threads.list: status 429")

    monkeypatch.setattr(get_runtime().store, "load_threads", busy)

    assert (await _call("threads.list")).status == 503

    [request] = otel.requests()
    assert request.attributes["chatkit.outcome"] == "server_error"
    assert request.attributes["chatkit.error_code"] == "store_unavailable"
    assert request.attributes["chatkit.error_type"] == "StoreUnavailable"
    assert request.attributes["http.response.status_code"] == 503
    assert request.status.status_code is StatusCode.ERROR


async def test_http_requests_to_the_model_nest_under_the_model_span(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    """As the distro's `httpx2` instrumentation records them."""
    from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor

    instrumentor = HTTPX2ClientInstrumentor()  # the openai client's HTTP library
    instrumentor.instrument(tracer_provider=telemetry._owned[0])
    try:
        await _call("threads.create", input=user_input("hi"))
    finally:
        instrumentor.uninstrument()

    [request] = otel.requests()
    answer = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "answer"})
    title = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "title"})
    for run in (answer, title):
        [http] = [
            s for s in otel.finished() if s.parent and s.parent.span_id == run.context.span_id
        ]
        assert http.kind is SpanKind.CLIENT and http.name == "POST"
        assert http.attributes["http.url"].endswith("/v1/chat/completions")


async def test_a_failed_model_call_marks_the_turn_failed(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    fake_model.script(Reply.error(500))

    reply = await _call("threads.create", input=user_input("hi"))

    assert reply.status == 200 and reply.events[-1]["type"] in ("error", "thread.updated")
    [request] = otel.requests()
    assert request.attributes["chatkit.outcome"] == "stream_error"
    assert request.attributes["chatkit.error_code"] == "custom"
    assert request.status.status_code is StatusCode.ERROR
    answer = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "answer"})
    assert answer.status.status_code is StatusCode.ERROR
    assert answer.attributes["error.type"] == "InternalServerError"


async def test_a_client_disconnect_ends_the_request_span(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    fake_model.script(Reply.say(*[f"w{i} " for i in range(20)], delay=0.2))

    await _call("threads.create", stop_after_deltas=2, input=user_input("count slowly"))

    [request] = otel.requests()
    assert request.attributes["chatkit.outcome"] == "cancelled"
    assert request.end_time is not None
    answer = _one(otel.children(request, "gen_ai.request.model"), **{"chatkit.purpose": "answer"})
    assert answer.attributes["chatkit.cancelled"] is True
    # The partial answer saved on the way out is counted too.
    stores = otel.children(request, "db.system.name")
    assert len(stores) == request.attributes["chatkit.store.requests"]


@pytest.mark.parametrize("stop_poll", ["1", "0"])
async def test_the_stream_carries_the_request_span_into_other_tasks(
    otel: Captured,
    in_process: dict[str, str],
    fake_model: Any,
    monkeypatch: pytest.MonkeyPatch,
    stop_poll: str,
) -> None:
    """The Functions worker (and uvicorn) iterate the body in another task than the one
    that ran the handler: what runs in the stream must still see the request's span."""
    from opentelemetry import trace

    from shared.runtime import get_runtime, reset_runtime

    monkeypatch.setenv("STOP_POLL_SECONDS", stop_poll)  # 1: ChatKit runs in a pump task
    await reset_runtime()
    store = get_runtime().store
    seen: list[int] = []
    add_item = store.add_thread_item

    async def spy(thread_id: str, item: Any, context: RequestContext) -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)
        await add_item(thread_id, item, context)

    monkeypatch.setattr(store, "add_thread_item", spy)
    fake_model.script(Reply.say("Hello", " there"))
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("hi")}})
    response = await _handler()(_request(body.encode()))

    async def drain() -> None:
        async for _ in response.body_iterator:
            pass

    # A task with an empty context, as a server's own task would be.
    await asyncio.get_running_loop().create_task(drain(), context=contextvars.Context())

    [request] = otel.requests()
    assert len(seen) == 2  # the user's message and the answer, both stored mid-stream
    assert set(seen) == {request.context.span_id}


async def test_no_message_text_in_any_span_or_log_even_at_debug(
    otel: Captured,
    in_process: dict[str, str],
    fake_model: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.runtime import reset_runtime

    secret, answer, title = "Zebra-secret-7781", "Quokka-answer-4432", "Wombat title 9920"
    root = logging.getLogger()
    level = root.level
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # the openai client logs request bodies here
    await reset_runtime()
    try:
        fake_model.title = title
        fake_model.script(Reply.say(answer), Reply.say(answer + " again"))
        created = await _call("threads.create", input=user_input(f"my code is {secret}"))
        thread_id = created.events[0]["thread"]["id"]
        await _call("threads.add_user_message", thread_id=thread_id, input=user_input(secret))
        await _call("threads.get_by_id", thread_id=thread_id)
        await _call("threads.list")
    finally:
        root.setLevel(level)
    assert secret in fake_model.turn_requests[-1].text()  # the text did flow through

    exported: list[str] = []
    for span in otel.finished():
        exported += [span.name, str(span.status.description or "")]
        exported += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        exported += [f"{e.name} {dict(e.attributes or {})}" for e in span.events]
    logs = [entry.log_record for entry in otel.logs.get_finished_logs()]
    for record in logs:
        exported += [str(record.body)] + [f"{k}={v}" for k, v in (record.attributes or {}).items()]
    assert len(exported) > 100 and logs
    for text in (secret, answer, title, "my code is"):
        assert not [line for line in exported if text in line], text

    # Logs carry the ids of the span they were written under.
    [store_log] = [
        r for r in logs if "store requests" in str(r.body) and "threads.list" in str(r.body)
    ]
    [listing] = [s for s in otel.requests() if s.name == "chatkit threads.list"]
    assert store_log.trace_id == listing.context.trace_id
    assert store_log.span_id == listing.context.span_id
    assert store_log.attributes["chatkit.operation"] == "threads.list"


async def test_cosmos_store_spans_carry_request_units(
    otel: Captured,
    in_process: dict[str, str],
    fake_model: Any,
    cosmos_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.runtime import reset_runtime

    for name, value in cosmos_env(cosmos_server, f"t{uuid.uuid4().hex[:16]}").items():
        monkeypatch.setenv(name, value)
    await reset_runtime()
    fake_model.script(Reply.say("Stored in Cosmos."), Reply.say("Again."))

    created = await _call("threads.create", input=user_input("hi"))
    thread_id = next(e["thread"]["id"] for e in created.events if e["type"] == "thread.created")
    # A follow-up reads the thread's session state, which does not exist yet (a 404).
    await _call("threads.add_user_message", thread_id=thread_id, input=user_input("again"))

    request = otel.requests()[-1]
    stores = otel.children(request, "db.system.name")
    assert len(stores) == request.attributes["chatkit.store.requests"] > 0
    assert {s.attributes["db.system.name"] for s in stores} == {"azure.cosmosdb"}
    charges = [s.attributes["chatkit.store.request_units"] for s in stores]
    assert [s.attributes["db.cosmosdb.request_charge"] for s in stores] == charges
    # The stand-in answers a flat 1 RU per response, refusals (404) included; real
    # Cosmos DB reports the real charge (~1 for a small point read, 5-10 for a write).
    assert all(charge >= 1 for charge in charges), [(s.name, dict(s.attributes)) for s in stores]
    assert request.attributes["chatkit.store.request_units"] == pytest.approx(sum(charges))
    # A missing session document is an expected 404, not a failed span.
    assert not [s for s in stores if s.status.status_code is StatusCode.ERROR]
    assert any(s.attributes.get("db.response.status_code") == "404" for s in stores)
    # In Application Insights: dependencies of type azure.cosmosdb; db.* attributes are
    # not copied into customDimensions, hence the chatkit.* copy of the charge.
    from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
        _convert_span_to_envelope,
    )

    data = _convert_span_to_envelope(stores[0]).data.base_data
    assert data.type == "azure.cosmosdb" and data.data == stores[0].attributes["db.operation.name"]
    assert "chatkit.store.request_units" in data.properties
    assert "db.cosmosdb.request_charge" not in data.properties


async def test_application_insights_gets_the_fields_the_kql_reads(
    otel: Captured, in_process: dict[str, str], fake_model: Any
) -> None:
    """docs/observability.md queries these tables and columns: convert our spans and
    logs with the Azure Monitor exporter's own mapping and check they are there."""
    from azure.monitor.opentelemetry.exporter.export.logs._exporter import (
        _convert_log_to_envelope,
    )
    from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
        _convert_span_to_envelope,
    )

    await _call("threads.create", input=user_input("hi"))

    by_kind: dict[str, list[Any]] = {}
    for span in otel.finished():
        envelope = _convert_span_to_envelope(span)
        by_kind.setdefault(envelope.data.base_type, []).append((envelope, span))
    [(request, _)] = by_kind["RequestData"]  # -> the `requests` table
    data, properties = request.data.base_data, request.data.base_data.properties
    assert data.name == "chatkit threads.create" and data.response_code == "200"
    assert data.success is True
    for key in (
        "chatkit.operation",
        "chatkit.use_case",
        "chatkit.thread_id",
        "chatkit.outcome",
        "chatkit.store.requests",
        "chatkit.store.request_units",
        "chatkit.usage.input_tokens",
        "chatkit.usage.output_tokens",
        "chatkit.time_to_first_token_ms",
    ):
        assert key in properties, key  # -> customDimensions
    assert request.tags["ai.user.authUserId"] == telemetry.pseudonym("local-user")
    dependencies = [envelope.data.base_data for envelope, _ in by_kind["RemoteDependencyData"]]
    models = [d for d in dependencies if d.type == "GenAI | openai"]
    assert {d.properties["chatkit.purpose"] for d in models} == {"answer", "title"}
    assert all("gen_ai.usage.input_tokens" in d.properties for d in models)
    assert "gen_ai.time_to_first_token_ms" in next(
        d.properties for d in models if d.properties["chatkit.purpose"] == "answer"
    )
    stores = [d for d in dependencies if d.type == "SQL"]  # SQLite; Cosmos: "azure.cosmosdb"
    assert stores and all(d.name.startswith("sqlite ") for d in stores)
    # A new thread is written, not read: its items and state are known to be empty.
    assert {d.data for d in stores} >= {"INSERT threads", "INSERT items"}

    [line] = [
        r for r in otel.logs.get_finished_logs() if "store requests" in str(r.log_record.body)
    ]
    log = _convert_log_to_envelope(line)  # -> the `traces` table
    assert log.tags["ai.operation.id"] == request.tags["ai.operation.id"]
    assert log.tags["ai.operation.parentId"] == data.id
    assert log.data.base_data.properties["chatkit.operation"] == "threads.create"


def _run_app_process(tmp_path: Any, env: dict[str, str]) -> dict[str, Any]:
    code = """
import json, os, sys
import function_app
from shared.runtime import get_runtime
from shared import telemetry
get_runtime()
import logging
handlers = [type(h).__name__ for h in logging.getLogger().handlers]
print(json.dumps({
    "enabled": telemetry.enabled(),
    "azure_monitor": sorted({m.split(".")[2] for m in sys.modules if m[:14] == "azure.monitor."}),
    "sdk": any(m.startswith("opentelemetry.sdk") for m in sys.modules),
    "handlers": handlers,
}))
sys.stdout.flush()
os._exit(0)  # no exit-time flush to the (unreachable) ingestion endpoint
"""
    child = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
    child.update({"DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path), **env})
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_without_a_connection_string_nothing_is_imported_or_configured(tmp_path: Any) -> None:
    state = _run_app_process(tmp_path, {})
    assert state == {"enabled": False, "azure_monitor": [], "sdk": False, "handlers": []}


# Every endpoint on a closed loopback port, and the SDK's own phone-home channels
# (statsbeat, its settings service) off: nothing leaves the machine.
_CLOSED = "http://127.0.0.1:9/"
DISTRO_ENV = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        f"IngestionEndpoint={_CLOSED};LiveEndpoint={_CLOSED}"
    ),
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
    "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
}


def test_with_a_connection_string_the_distro_is_configured(tmp_path: Any) -> None:
    state = _run_app_process(tmp_path, DISTRO_ENV)
    assert state["enabled"] and state["sdk"] and "opentelemetry" in state["azure_monitor"]
    assert "LoggingHandler" in state["handlers"]


def test_with_the_distro_on_answers_still_stream_event_by_event(
    start_host: Any, fake_model: Any, tmp_path: Any
) -> None:
    """The production configuration (every exporter, live metrics, the instrumentations)
    under the local host, with ingestion unreachable: nothing stalls the stream."""
    from tests.conftest import model_env

    host = start_host({**model_env(fake_model), **DISTRO_ENV, "TMPDIR": str(tmp_path)})
    fake_model.script(Reply.say("One", " two", " three", " four", delay=0.15))

    stream = host.client().create_thread("hi")

    assert stream.text == "One two three four" and not stream.errors
    arrivals = stream.delta_arrivals()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) > 0.05, gaps
    # Only the exporters complain (ingestion is unreachable); the app logs no error.
    errors = [line for line in host.log.read_text().splitlines() if " ERROR " in line]
    assert all(" azure.monitor.opentelemetry." in line for line in errors), errors


def test_settings_validate_the_connection_and_authentication_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.settings import Settings, SettingsError, get_settings

    for name in _APP_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert Settings().telemetry_identity == (False, None)
    assert Settings().otel_service_name == "chatkit-api"
    assert Settings().applicationinsights_live_metrics is False
    aad = Settings(applicationinsights_authentication_string="Authorization=AAD;ClientId=abc-1")
    assert aad.telemetry_identity == (True, "abc-1")
    system = Settings(applicationinsights_authentication_string="Authorization=AAD")
    assert system.telemetry_identity == (True, None)
    for name, value in (
        ("APPLICATIONINSIGHTS_CONNECTION_STRING", "not-a-connection-string"),
        ("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "Authorization=Key;Secret=x"),
    ):
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match=name):
            get_settings()
        monkeypatch.delenv(name)
    get_settings.cache_clear()


def test_exported_logs_skip_debug_and_library_chatter() -> None:
    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "m", None, None)

    from shared.telemetry_export import export_filter as keep

    assert keep(record("shared.chatkit_endpoint", logging.INFO))
    assert not keep(record("shared.chatkit_endpoint", logging.DEBUG))
    assert not keep(record("openai._base_client", logging.INFO))
    assert not keep(record("httpx", logging.INFO))
    assert keep(record("httpx", logging.WARNING))


def test_http_client_spans_lose_their_query_strings(otel: Captured) -> None:
    from opentelemetry import trace

    assert telemetry._tracer is not None
    span = telemetry._tracer.start_span(
        "GET", kind=trace.SpanKind.CLIENT, attributes={"url.full": "https://x/search?name=Paris"}
    )
    span.end()
    [finished] = otel.finished()
    assert finished.attributes["url.full"] == "https://x/search"


def test_off_every_helper_is_the_shared_no_op() -> None:
    telemetry.reset()
    context = RequestContext(user_id="u", use_case="assistant")
    assert not telemetry.configure(None)
    trace = telemetry.start_request(context)
    with trace.active(), telemetry.store_call(context, "sqlite", "SELECT") as call:
        call.request_charge(1.0)
    assert (
        trace
        is telemetry.store_call(context, "x", "y")
        is telemetry.model_call(context, "m", "openai", "answer")
    )
    telemetry.reset()
