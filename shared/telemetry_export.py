"""Where telemetry goes: Application Insights through the Azure Monitor distro, or (tests)
a given OpenTelemetry exporter. Imported only when telemetry is being switched on.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

    from shared.settings import Settings

logger = logging.getLogger(__name__)

# Content-bearing or per-request chatter: their facts are in our spans already.
_QUIET_LOGGERS = ("openai", "httpx", "httpcore", "azure", "opentelemetry")
# The pipeline's own complaints (ingestion unreachable) must not ride the same pipeline.
_EXPORTER_LOGGERS = ("azure.monitor.opentelemetry", "opentelemetry.sdk")
_UNUSED_LIBRARIES = ("django", "fastapi", "flask", "psycopg2", "requests", "urllib", "urllib3")


def azure_monitor(settings: Settings) -> Tracer:
    """The Azure Monitor distro for this process: traces, logs and metrics."""
    from opentelemetry import trace

    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        # The distro's default detectors include azure_vm, which probes the VM metadata
        # address for 0.2 s wherever the app is not on App Service or Functions.
        os.environ.setdefault("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "azure_functions")
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry.sdk.resources import Resource

        options: dict[str, Any] = {
            "connection_string": settings.applicationinsights_connection_string,
            # cloud_RoleName in Application Insights; the detectors add the rest.
            "resource": Resource({"service.name": settings.otel_service_name}),
            "logger_name": "",  # the root logger: every module's records, ours and the SDKs'
            # Kept: azure_sdk (Cosmos, Blob), httpx and httpx2 (weather, model calls). The
            # rest are libraries this app does not use: instrumenting them costs time only.
            "instrumentation_options": {name: {"enabled": False} for name in _UNUSED_LIBRARIES},
            "span_processors": [redact_query_processor()],
            "enable_live_metrics": settings.applicationinsights_live_metrics,
        }
        entra, client_id = settings.telemetry_identity
        if entra:
            # The exporter sends from its own thread: the synchronous credential fits it.
            from azure.identity import ManagedIdentityCredential

            options["credential"] = ManagedIdentityCredential(client_id=client_id)
        configure_azure_monitor(**options)
    else:
        # The Functions worker configured the distro itself
        # (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY); a second pipeline would export twice.
        logger.info("OpenTelemetry is already configured in this process; adding spans to it")
        provider = trace.get_tracer_provider()
        if hasattr(provider, "add_span_processor"):
            provider.add_span_processor(redact_query_processor())
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "LoggingHandler":
            handler.addFilter(export_filter)
    return trace.get_tracer("chatkit")


def sdk_pipeline(
    exporter: SpanExporter, log_exporter: LogRecordExporter | None, owned: list[Any]
) -> Tracer:
    """A plain SDK pipeline to `exporter` (tests); what it installs goes into `owned`."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(redact_query_processor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    owned.append(provider)
    if log_exporter is not None:
        from opentelemetry.instrumentation.logging.handler import LoggingHandler
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

        logs = LoggerProvider()
        logs.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        handler = LoggingHandler(logger_provider=logs)
        handler.addFilter(export_filter)
        logging.getLogger().addHandler(handler)
        owned.extend((logs, handler))
    return provider.get_tracer("chatkit")


def export_filter(record: logging.LogRecord) -> bool:
    """What leaves the process: INFO and up, and only warnings from chatty libraries.

    At DEBUG the openai client logs whole request bodies (the user's messages); those
    must never reach Application Insights, whatever LOG_LEVEL says.
    """
    if record.levelno < logging.INFO or record.name.startswith(_EXPORTER_LOGGERS):
        return False
    if record.levelno < logging.WARNING:
        return not record.name.startswith(_QUIET_LOGGERS)
    return True


def redact_query_processor() -> Any:
    from opentelemetry.sdk.trace import SpanProcessor

    class RedactQuery(SpanProcessor):
        """Drop query strings from the HTTP client spans of the SDK instrumentations:
        a weather lookup's carries the place the user asked about."""

        def on_start(self, span: Any, parent_context: Context | None = None) -> None:
            for key in ("url.full", "http.url"):
                value = (span.attributes or {}).get(key)
                if isinstance(value, str) and "?" in value:
                    span.set_attribute(key, value.split("?", 1)[0])

    return RedactQuery()
