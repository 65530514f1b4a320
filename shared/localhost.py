"""Serve the Function app without Azure Functions Core Tools.

`python -m shared.localhost` reads `local.settings.json` the way `func start` does,
discovers the routes from the `FunctionApp` itself (no second copy of the routing),
mounts each user function at `/<routePrefix>/<route>` and serves `static_web/` at `/`.
Uvicorn streams each SSE chunk as soon as the function yields it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("localhost")


def load_local_settings(path: Path) -> list[str]:
    """Put the file's `Values` into the environment; real environment variables win.

    Returns the names it set. A missing file is fine: everything has a default.
    """
    if not path.is_file():
        return []
    try:
        values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise SystemExit(f"{path.name} is not valid JSON with a 'Values' object: {exc}") from None
    applied = []
    for name, value in values.items():
        if name not in os.environ and value is not None:
            os.environ[name] = str(value)
            applied.append(name)
    return applied


def route_prefix(host_json: Path) -> str:
    try:
        http = json.loads(host_json.read_text(encoding="utf-8"))["extensions"]["http"]
        return str(http.get("routePrefix", "api")).strip("/")
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return "api"


def function_routes(function_app: Any, prefix: str) -> list[BaseRoute]:
    """One Starlette route per function the app declares."""
    # get_functions() builds the bindings once; a second call on the same app raises
    # a duplicate-name error unless the cached bindings are dropped first.
    function_app.functions_bindings = None
    routes: list[BaseRoute] = []
    for function in function_app.get_functions():
        trigger = function.get_trigger()
        methods = [getattr(m, "value", str(m)) for m in (trigger.methods or ["GET", "POST"])]
        path = "/" + "/".join(p for p in (prefix, trigger.route.strip("/")) if p)
        routes.append(
            Route(
                path,
                _endpoint(function.get_user_function()),
                methods=methods,
                name=function.get_function_name(),
            )
        )
    return routes


def _endpoint(user_function: Callable[[Request], Awaitable[Response]]):
    async def endpoint(request: Request) -> Response:
        return await user_function(request)

    return endpoint


def build_app(
    function_app: Any,
    static_dir: Path | None,
    prefix: str = "api",
    cors_origins: list[str] | None = None,
) -> Starlette:
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    from shared.runtime import reset_runtime

    @asynccontextmanager
    async def lifespan(_: Starlette):
        yield
        await reset_runtime()

    routes: list[BaseRoute] = function_routes(function_app, prefix)
    if static_dir is not None and static_dir.is_dir():
        routes.append(Mount("/", StaticFiles(directory=static_dir, html=True), name="static"))
    middleware = []
    if cors_origins:
        # What the Function app's platform CORS setting does in Azure (CORS_ALLOWED_ORIGINS).
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=cors_origins,
                allow_methods=["GET", "POST", "PUT"],
                allow_headers=["authorization", "content-type", "x-user-timezone"],
                max_age=600,
            )
        )
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "7071")))
    parser.add_argument("--settings", type=Path, default=ROOT / "local.settings.json")
    parser.add_argument("--static", type=Path, default=ROOT / "static_web" / "dist")
    args = parser.parse_args(list(argv) if argv is not None else None)

    applied = load_local_settings(args.settings)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if applied:
        logger.info("Loaded %d settings from %s", len(applied), args.settings.name)

    import uvicorn

    import function_app
    from shared.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    app = build_app(
        function_app.app,
        args.static,
        route_prefix(ROOT / "host.json"),
        cors_origins=settings.cors_allowed_origins,
    )
    logger.info("Data in %s; open http://%s:%d/", settings.resolved_data_dir, args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
