"""Plumbing shared by the benchmark sections: the servers a run needs (fake model, Cosmos
DB and Blob stand-ins), the app's local host on either store, one timed streamed turn,
percentiles, targets and tables.

Times that are compared with the fake model's own records use the wall clock
(`time.time()`): the fake model runs in this process and stamps its requests and deltas
with it.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.chatkit_client import user_input
from tests.conftest import _APP_SETTINGS, ROOT, LocalHost, cosmos_env, free_port, model_env
from tests.fake_model import FakeModel

STORES = ("sqlite", "cosmos")
STORE_LABELS = {"sqlite": "embedded (SQLite)", "cosmos": "Cosmos stand-in"}
TEXT_DELTA = "assistant_message.content_part.text_delta"


# Statistics


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def stats(values: list[float], digits: int = 1) -> dict[str, float | int | None]:
    """p50/p95/max (and the count) of a sample, rounded for the JSON (None: no sample)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), digits),
        "p95": round(pct(values, 0.95), digits),
        "max": round(max(values), digits),
    }


# Targets and tables


@dataclass
class Check:
    """One number held against one target of the issue."""

    label: str
    value: float
    limit: float
    unit: str = ""
    at_most: bool = True  # the value must be <= limit (False: >= limit)

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def value_text(self, digits: int = 1) -> str:
        return f"{self.value:.{digits}f}{self.unit}"

    def verdict(self) -> str:
        sign = "≤" if self.at_most else "≥"
        return f"{'PASS' if self.passed else 'MISS'} ({sign}{self.limit:g}{self.unit})"

    def cell(self, digits: int = 1) -> str:
        return f"{self.value_text(digits)} {self.verdict()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.label,
            "value": None if math.isnan(self.value) else round(self.value, 3),
            "limit": self.limit,
            "unit": self.unit,
            "comparison": "<=" if self.at_most else ">=",
            "pass": self.passed,
        }


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]

        def line(row: list[str]) -> str:
            first = row[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
            return "  ".join([first, *rest]).rstrip()

        out = [self.title, line(self.headers), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in self.rows]
        out += [f"  * {note}" for note in self.notes]
        return "\n".join(out)


def num(value: float | None, digits: int = 1) -> str:
    """A table cell for a number that may be missing."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def nan(value: float | None) -> float:
    """A stats value as a float for a Check (missing: NaN, which never passes)."""
    return math.nan if value is None else float(value)


@dataclass
class SectionResult:
    name: str
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def check(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "data": self.data,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass
class Config:
    """Sample sizes; `--quick` shrinks them for a smoke run of a couple of minutes."""

    quick: bool = False
    ttfb_turns: int = 50  # per turn kind (new thread, follow-up) and store
    ttfb_warmup: int = 5
    fidelity_turns: int = 5
    fidelity_tokens: int = 50
    fidelity_interval: float = 0.02  # seconds between the fake model's tokens
    store_turns: int = 10
    history_sizes: tuple[int, ...] = (10, 100, 1000)
    history_turns: int = 20
    cold_runs: int = 3
    concurrency: tuple[int, ...] = (1, 10, 100)
    load_tokens: int = 100  # streamed per answer in the concurrency section, 5 ms apart

    @classmethod
    def make(cls, quick: bool, turns: int | None = None) -> Config:
        cfg = (
            cls(
                quick=True,
                ttfb_turns=10,
                ttfb_warmup=2,
                fidelity_turns=2,
                fidelity_tokens=20,
                store_turns=3,
                history_sizes=(10, 100),
                history_turns=5,
                cold_runs=2,
                concurrency=(1, 10),
                load_tokens=20,
            )
            if quick
            else cls()
        )
        if turns is not None:
            cfg.ttfb_turns = cfg.fidelity_turns = cfg.store_turns = cfg.history_turns = turns
            cfg.ttfb_warmup = min(cfg.ttfb_warmup, turns)
        return cfg


# Hosts and servers


class BenchHost(LocalHost):
    """The local host, optionally as another module (a traced variant) or with interpreter
    flags (`-X importtime`); `wait=False` returns at once so cold start can be timed."""

    def __init__(
        self,
        env: dict[str, str],
        data_dir: Path,
        *,
        module: str = "shared.localhost",
        python_flags: tuple[str, ...] = (),
        wait: bool = True,
    ):
        # LocalHost.__init__ always runs `shared.localhost`; the rest mirrors it.
        self.port = free_port()
        self.data_dir = data_dir
        self.log = data_dir / f"localhost-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("wb")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                *python_flags,
                "-m",
                module,
                "--port",
                str(self.port),
                "--settings",
                str(data_dir / "no-local-settings.json"),
            ],
            cwd=ROOT,
            env=child_env({"DATA_DIR": str(data_dir), **env}),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        if wait:
            self._wait_ready()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def child_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without app settings a developer may have set."""
    base = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
    return {**base, "PYTHONUNBUFFERED": "1", **env}


class Stack:
    """The servers one suite run shares: the fake model (in this process) and, on first
    use, the Cosmos DB and Blob stand-ins. Every host gets a fresh database."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.fake = FakeModel().start()
        self._cosmos: Any = None
        self._azurite: Any = None
        self._hosts: list[LocalHost] = []

    def cosmos(self) -> Any:
        if self._cosmos is None:
            from tests.servers import CosmosStandIn

            self._cosmos = CosmosStandIn(self.tmp)
        return self._cosmos

    def store_env(self, store: str) -> dict[str, str]:
        if store == "sqlite":
            return {}
        from tests.servers import Azurite

        if self._azurite is None:
            self._azurite = Azurite(self.tmp)
        name = f"b{uuid.uuid4().hex[:12]}"
        return {
            **cosmos_env(self.cosmos(), name),
            "AZURE_STORAGE_CONNECTION_STRING": self._azurite.connection_string,
            "ATTACHMENTS_CONTAINER": name,
        }

    def host_env(self, store: str, **extra: str) -> dict[str, str]:
        """Model and store settings for a host; `extra` wins."""
        return {**model_env(self.fake), **self.store_env(store), **extra}

    def data_dir(self, label: str) -> Path:
        return self.tmp / f"{label}-{uuid.uuid4().hex[:6]}"

    def host(
        self,
        store: str,
        label: str,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        **kw: Any,
    ) -> Any:
        """A started host on `store`; `env` is the full environment (default: host_env)."""
        data_dir = data_dir or self.data_dir(f"{label}-{store}")
        host = BenchHost(env or self.host_env(store), data_dir, **kw)
        self._hosts.append(host)
        return host

    def stop_host(self, host: LocalHost) -> None:
        if host in self._hosts:
            self._hosts.remove(host)
            host.stop()

    def close(self) -> None:
        for host in self._hosts:
            host.stop()
        self._hosts.clear()
        for server in (self._cosmos, self._azurite):
            if server is not None:
                server.stop()
        self.fake.stop()


# One streamed turn, timed at the client


@dataclass
class Turn:
    started: float  # wall clock when the request was sent
    ended: float = 0.0  # when the stream ended
    first_text: float | None = None  # when the first assistant text delta arrived
    deltas: list[tuple[float, str]] = field(default_factory=list)  # (arrival, text)
    thread_id: str | None = None
    errors: list[str] = field(default_factory=list)
    status: int = 0


def http_client() -> httpx.Client:
    """A keep-alive client with Nagle's algorithm off, as browsers have it: otherwise a
    request sent as two writes (headers, body) can wait ~40 ms for a delayed ACK."""
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.Client(timeout=60, transport=httpx.HTTPTransport(socket_options=options))


def timed_turn(
    client: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Turn:
    """Send one streaming ChatKit request and read the stream to its end."""
    turn = Turn(started=time.time())
    with client.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        turn.status = response.status_code
        if response.status_code != 200:
            response.read()
            turn.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
        else:
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                now = time.time()
                event = json.loads(line[6:])
                kind = event.get("type")
                if kind == "thread.item.updated" and event["update"].get("type") == TEXT_DELTA:
                    if turn.first_text is None:
                        turn.first_text = now
                    turn.deltas.append((now, event["update"]["delta"]))
                elif kind == "thread.created":
                    turn.thread_id = event["thread"]["id"]
                elif kind == "error":
                    turn.errors.append(str(event.get("message")))
    turn.ended = time.time()
    return turn


def new_thread(text: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": user_input(text)}}


def follow_up(thread_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


def wait_for(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition()` until true (host log lines land just after a stream ends)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)
