"""Import what the first chat turn needs in a background thread, as soon as the app loads.

A cold instance otherwise pays for ChatKit, the Agents SDK, `openai` (and `mcp`, which the
Agents SDK imports eagerly) and the store's SDK inside its first chat request: about
1.5 s of CPU on a small machine. Started when `function_app` is imported (the worker's
indexing), the imports overlap with the host's own start-up and with the page's first
requests (`/api/health`, `/api/config`), which need none of them.

Garbage collection is paused while the thread imports: imports allocate hundreds of
thousands of long-lived objects and the collector's repeated passes over them cost
about a fifth of the import time. Afterwards the survivors are frozen (`gc.freeze`), so
later full collections during requests do not walk them again.

Routes that import the heavy modules await `ready()` first, so a request never imports
them concurrently with the thread (no partially initialised modules).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import threading
import time

logger = logging.getLogger(__name__)

# Always needed by a chat turn, whatever the configuration.
_CORE = (
    "shared.chatkit_endpoint",
    "shared.server",
    "shared.attachment_endpoint",
    # The openai client imports its resources on first attribute access.
    "openai.resources.chat",
    "openai.resources.responses",
)

_done = threading.Event()
_started = False
_lock = threading.Lock()
seconds: float | None = None  # how long the imports took (None until done)


def modules_for_settings() -> list[str]:
    """The modules the configured app needs for its first turn (the use cases' agents too)."""
    from shared.settings import get_settings
    from use_cases import registry

    settings = get_settings()
    if not settings.warm_up:
        return []
    modules = list(_CORE)
    modules.append(f"shared.stores.{'cosmos' if settings.store_kind == 'cosmos' else 'sqlite'}")
    modules.append(f"shared.attachments.{settings.attachment_backend}")
    for name in registry():
        modules += [f"use_cases.{name}.agent", f"use_cases.{name}.actions"]
    return modules


def _import_all(modules: list[str]) -> None:
    global seconds
    started = time.perf_counter()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                # A use case without actions is fine; a missing dependency is not.
                if exc.name != name:
                    raise
        from shared.providers import build_openai_models
        from shared.runtime import configure_tracing
        from shared.settings import get_settings

        build_openai_models()
        _complete_models("chatkit.")
        configure_tracing(get_settings())
    except Exception:
        # The first request imports the same modules and reports the problem properly.
        logger.debug("Warm-up imports stopped early", exc_info=True)
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()
        seconds = time.perf_counter() - started
        _done.set()
        logger.info("Warm-up imports done in %.2f s", seconds)


def _complete_models(package: str) -> None:
    """Build the package's pydantic models that defer building until first use (ChatKit's
    widgets and events): on a cold instance that was ~0.1 s inside the first answer."""
    from pydantic import BaseModel

    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith(package) and not model.__pydantic_complete__:
            model.model_rebuild()


def start() -> None:
    """Start the warm-up thread once per process (later calls do nothing).

    Settings are read here, synchronously (the first request needs them anyway): with
    invalid settings, or WARM_UP=false, no thread starts and requests behave as before.
    """
    global _started
    with _lock:
        if _started:
            return
        try:
            modules = modules_for_settings()
        except Exception:
            logger.debug("No warm-up: the settings do not load", exc_info=True)
            return
        if not modules:
            return
        _started = True
    threading.Thread(target=_import_all, args=(modules,), name="warm-imports", daemon=True).start()


async def ready() -> None:
    """Wait, without blocking the event loop, until the warm-up imports are done."""
    if _started and not _done.is_set():
        await asyncio.to_thread(_done.wait)
