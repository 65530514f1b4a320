"""Shared fixtures: the fake model server, the app served over real HTTP by the local
host in a subprocess, and an in-process app for direct function calls."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Settings
from tests.chatkit_client import ChatKitClient
from tests.fake_model import FakeModel

ROOT = Path(__file__).resolve().parent.parent

# Settings a developer may have in their shell must not leak into tests.
_APP_SETTINGS = tuple(name.upper() for name in Settings.model_fields)


@pytest.fixture(scope="session")
def fake_model_server() -> Iterator[FakeModel]:
    server = FakeModel().start()
    yield server
    server.stop()


@pytest.fixture
def fake_model(fake_model_server: FakeModel) -> Iterator[FakeModel]:
    fake_model_server.reset()
    yield fake_model_server
    fake_model_server.reset()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_env(fake: FakeModel, api: str = "chat_completions") -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_MODEL": "fake-model",
        "MODEL_API": api,
        "MODEL_MAX_RETRIES": "0",
        "MODEL_TIMEOUT_SECONDS": "5",
    }


class LocalHost:
    """`python -m shared.localhost` in a subprocess, as a user would run it."""

    def __init__(self, env: dict[str, str], data_dir: Path):
        self.port = free_port()
        self.data_dir = data_dir
        self.log = data_dir / f"localhost-{self.port}.log"
        child_env = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
        child_env.update({"DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **env})
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.localhost",
                "--port",
                str(self.port),
                "--settings",
                str(data_dir / "no-local-settings.json"),
            ],
            cwd=ROOT,
            env=child_env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local host exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"local host did not start:\n{self.log.read_text()}")

    def client(self, use_case: str | None = None, **headers: str) -> ChatKitClient:
        return ChatKitClient(self.url, use_case=use_case, headers=headers)

    def stop(self) -> None:
        from tests.servers import stop_process

        stop_process(self.process)
        self._log_file.close()


@pytest.fixture
def start_host(tmp_path: Path) -> Iterator[Any]:
    """Start local hosts: `start_host(env, data_dir=None)`; all are stopped after the test."""
    hosts: list[LocalHost] = []

    def start(env: dict[str, str] | None = None, data_dir: Path | None = None) -> LocalHost:
        host = LocalHost(env or {}, data_dir or tmp_path / "data")
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.stop()


@pytest.fixture(params=["sqlite", "cosmos"])
def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for each store backend: the embedded default, or Cosmos DB + Blob on the
    local stand-ins (a fresh database and container per test)."""
    if request.param == "sqlite":
        return {}
    cosmos = request.getfixturevalue("cosmos_server")
    azurite = request.getfixturevalue("azurite_server")
    name = f"t{uuid.uuid4().hex[:16]}"
    return {
        **cosmos_env(cosmos, name),
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "ATTACHMENTS_CONTAINER": name,
    }


@pytest.fixture
def host(start_host: Any, fake_model: FakeModel, store_env: dict[str, str]) -> LocalHost:
    """The app on each store, talking to the fake model over Chat Completions."""
    return start_host({**model_env(fake_model), **store_env})


@pytest.fixture
async def in_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_model: FakeModel
) -> AsyncIterator[dict[str, str]]:
    """Configure this process's runtime (for direct calls); returns the env it set."""
    from shared.runtime import reset_runtime

    for name in _APP_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    env = {**model_env(fake_model), "DATA_DIR": str(tmp_path / "inproc")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await reset_runtime()
    yield env
    await reset_runtime()


@pytest.fixture(scope="session")
def cosmos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.servers import CosmosStandIn

    server = CosmosStandIn(tmp_path_factory.mktemp("cosmos"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.servers import Azurite

    server = Azurite(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


def cosmos_env(server: Any, database: str) -> dict[str, str]:
    """Settings that switch the app to the Cosmos stand-in, one database per test."""
    return {
        "COSMOS_ENDPOINT": server.endpoint,
        "COSMOS_KEY": server.key,
        "COSMOS_DATABASE": database,
    }


@pytest.fixture(scope="session")
def fake_weather_server() -> Iterator[Any]:
    from tests.fake_weather import FakeWeather

    server = FakeWeather().start()
    yield server
    server.stop()


@pytest.fixture
def fake_weather(fake_weather_server: Any) -> Iterator[Any]:
    """The fake Open-Meteo API, reset around each test."""
    fake_weather_server.reset()
    yield fake_weather_server
    fake_weather_server.reset()
