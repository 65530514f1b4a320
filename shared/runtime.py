"""Per-process collaborators: settings, the store, the model catalog, one ChatKit
server per use case. Created on first use and reused by every invocation; none of
them holds user or thread data (that is rebuilt from the store on every request)."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING

from shared import telemetry
from shared.errors import NotFound
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from shared.attachments.base import AppAttachmentStore
    from shared.providers import ModelCatalog
    from shared.server import UseCaseServer
    from shared.stores.base import AppStore


class _QuietNotFound(logging.Filter):
    """ChatKit logs a traceback for every missing thread; those are answered 404."""

    def filter(self, record: logging.LogRecord) -> bool:
        from chatkit.store import NotFoundError

        return not (record.exc_info and isinstance(record.exc_info[1], NotFoundError))


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._servers: dict[str, UseCaseServer] = {}
        logging.getLogger().setLevel(settings.log_level)
        # The Azure SDKs log every HTTP request and its headers at INFO.
        logging.getLogger("azure").setLevel(max(logging.WARNING, logging.getLogger().level))
        chatkit_logger = logging.getLogger("chatkit")
        if not any(isinstance(f, _QuietNotFound) for f in chatkit_logger.filters):
            chatkit_logger.addFilter(_QuietNotFound())

    @cached_property
    def store(self) -> AppStore:
        from shared.stores.read_ahead import with_read_ahead

        if self.settings.store_kind == "cosmos":
            from shared.stores.cosmos import CosmosStore

            return with_read_ahead(CosmosStore).from_settings(self.settings)
        from shared.stores.sqlite import SQLiteStore

        return with_read_ahead(SQLiteStore)(self.settings.resolved_data_dir / "chatkit.sqlite3")

    @cached_property
    def attachments(self) -> AppAttachmentStore:
        from shared.attachments.policy import AttachmentPolicy

        if self.settings.attachment_backend == "blob":
            from shared.attachments.blob import BlobAttachmentStore

            return BlobAttachmentStore.from_settings(self.settings)
        from shared.attachments.local import LocalAttachmentStore

        return LocalAttachmentStore(
            self.settings.resolved_data_dir / "attachments",
            AttachmentPolicy.from_settings(self.settings),
        )

    @cached_property
    def catalog(self) -> ModelCatalog:
        from shared.providers import ModelCatalog

        return ModelCatalog(self.settings)

    def use_case_name(self, requested: str | None) -> str:
        from use_cases import registry

        name = requested or self.settings.default_use_case
        if name not in registry():
            raise NotFound(f"Unknown use case '{name[:64]}'.")
        return name

    def server(self, use_case: str) -> UseCaseServer:
        server = self._servers.get(use_case)
        if server is None:
            from shared.server import UseCaseServer
            from use_cases import registry

            server = UseCaseServer(
                use_case=registry()[use_case],
                store=self.store,
                catalog=self.catalog,
                settings=self.settings,
                attachment_store=self.attachments,
            )
            self._servers[use_case] = server
            configure_tracing(self.settings)
            self.catalog.warm_up()
        return server

    async def close(self) -> None:
        if "store" in self.__dict__:
            await self.store.close()
        if "attachments" in self.__dict__:
            await self.attachments.close()
        if "catalog" in self.__dict__:
            await self.catalog.close()


_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(get_settings())
        # Once per process (a no-op after the first call, and without a connection string).
        telemetry.configure(_runtime.settings)
    return _runtime


def configure_tracing(settings: Settings) -> None:
    # The Agents SDK exports traces to OpenAI by default; without a real OpenAI key
    # that would only fail (or leak), so it is switched off process-wide. Done by the
    # warm-up thread, or when the first ChatKit server is built, which imports the SDK
    # anyway: /api/health and /api/config must not pay for that import.
    from shared.providers import tracing_allowed

    if not tracing_allowed(settings):
        from agents import set_tracing_disabled

        set_tracing_disabled(True)


async def reset_runtime() -> None:
    """Drop the process's runtime and settings (tests and shutdown)."""
    global _runtime
    if _runtime is not None:
        await _runtime.close()
    _runtime = None
    get_settings.cache_clear()
