"""An HTTP reverse proxy on a loopback port that can answer chosen requests with a fault
(429, 503, ...) instead of forwarding them: put in front of Azurite, it makes Blob Storage
throttle or fail on the real wire, for the fault tests."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers import ThreadedApp

_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class Fault:
    status: int
    count: int
    method: str | None = None
    path: str | None = None


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.injected = 0
        self._fault: Fault | None = None
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._forward,
                    methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
                )
            ]
        )
        self._server = ThreadedApp(app, "fault-proxy")
        self.port = self._server.start()
        self.url = f"http://127.0.0.1:{self.port}"
        self._client = httpx.AsyncClient(timeout=30)

    def inject(
        self, status: int = 0, count: int = 0, method: str | None = None, path: str | None = None
    ) -> None:
        with self._lock:
            self._fault = Fault(status, count, method, path) if status else None
            self.injected = 0

    def _take(self, request: Request) -> int | None:
        with self._lock:
            fault = self._fault
            if fault is None or fault.count <= 0:
                return None
            if fault.method and fault.method != request.method:
                return None
            if fault.path and not re.search(fault.path, request.url.path):
                return None
            fault.count -= 1
            self.injected += 1
            return fault.status

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        status = self._take(request)
        if status is not None:
            headers = {"x-ms-error-code": "ServerBusy", "retry-after": "0"}
            return Response(b"<Error><Code>ServerBusy</Code></Error>", status, headers)
        url = (
            self.upstream
            + request.url.path
            + (f"?{request.url.query}" if request.url.query else "")
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        upstream = await self._client.request(request.method, url, headers=headers, content=body)
        out = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower() not in _HOP | {"content-encoding"}
        }
        return Response(upstream.content, upstream.status_code, out)

    def stop(self) -> None:
        self._server.stop()
