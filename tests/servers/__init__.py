"""Local stand-ins for Azure services, started on free loopback ports by the tests.

The npm packages come from package.json (installed by scripts/test); nothing is
downloaded at run time. Each server is stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"

# The public Cosmos DB emulator key; the stand-in checks no auth.
COSMOS_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
# Azurite's documented development account.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, tls: bool = False) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if tls:
                    context = ssl.create_default_context()
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                    context.wrap_socket(sock).close()
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not open port {port}:\n{log.read_text()}")


class LocalServer:
    def __init__(self, args: list[str], port: int, log: Path, tls: bool = False):
        if shutil.which(args[0]) is None and not Path(args[0]).exists():
            raise RuntimeError(f"{args[0]} not found: run scripts/test (it installs Node.js deps)")
        self.port = port
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        _wait_for_port(port, self.process, log, tls)

    def stop(self) -> None:
        stop_process(self.process)
        self._log_file.close()


def stop_process(process: subprocess.Popen) -> None:
    """Terminate by pid, then kill if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class CosmosStandIn(LocalServer):
    def __init__(self, log_dir: Path):
        port = free_port()
        script = str(ROOT / "tests" / "servers" / "cosmos_standin.js")
        super().__init__(
            ["node", script, "127.0.0.1", str(port)], port, log_dir / "cosmos.log", tls=True
        )
        self.endpoint = f"https://127.0.0.1:{port}"
        self.key = COSMOS_KEY

    def inject(self, status: int = 0, count: int = 0, **match: Any) -> None:
        """Answer the next `count` matching requests with `status` (0: disarm)."""
        import httpx

        body = {"status": status, "count": count, **match}
        httpx.post(f"{self.endpoint}/__faults", json=body, verify=False).raise_for_status()

    def injected(self) -> int:
        import httpx

        return httpx.get(f"{self.endpoint}/__faults", verify=False).json()["injected"]


class Azurite(LocalServer):
    def __init__(self, log_dir: Path):
        port = free_port()
        binary = str(NODE_MODULES / ".bin" / "azurite-blob")
        super().__init__(
            [
                binary,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
            ],
            port,
            log_dir / "azurite.log",
        )
        self.blob_endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.blob_endpoint};"
        )


class ThreadedApp:
    """An ASGI app served by uvicorn in a daemon thread on a free loopback port (the fake
    model and fake weather servers). The listening socket is made with IPPROTO_TCP: asyncio
    sets TCP_NODELAY on accepted sockets only then, and without it small streamed writes
    wait ~40 ms for delayed ACKs on reused keep-alive connections."""

    def __init__(self, app: Any, name: str):
        self.name = name
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        return self.port

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


class SwaEmulator:
    """The Static Web Apps CLI emulator (`swa start`) serving the built page, applying
    staticwebapp.config.json, offering its mock sign-in and proxying /api to `api_url`
    with the real `x-ms-client-principal` header."""

    def __init__(self, site: Path, api_url: str, log_dir: Path):
        binary = NODE_MODULES / ".bin" / "swa"
        if not binary.exists():
            raise RuntimeError("the Static Web Apps CLI is missing: run scripts/test")
        self.port = free_port()
        self.log = log_dir / f"swa-{self.port}.log"
        self._log_file = self.log.open("wb")
        # Its own process group: the CLI starts child processes of its own.
        self.process = subprocess.Popen(
            [
                str(binary),
                "start",
                str(site),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--api-devserver-url",
                api_url,
                # Without it the CLI looks for staticwebapp.config.json under its cwd.
                "--swa-config-location",
                str(site),
            ],
            cwd=log_dir,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "SWA_CLI_DEBUG": "", "SWA_DISABLE_TELEMETRY": "true"},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        _wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log_file.close()
