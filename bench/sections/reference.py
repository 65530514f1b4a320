"""7. Side by side with a minimal reference server (bench/reference_server.py: FastAPI,
ChatKitServer, an in-memory store, the same fake model), in the same run: section 1's
workload against it, and the ratio ours/reference of the added time to first byte.

The issue's goal: persist everything to Cosmos DB and stay within 1.3x of the in-memory
reference on added time to first byte (p50).
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx

from bench.harness import (
    STORE_LABELS,
    Check,
    Config,
    SectionResult,
    Stack,
    Table,
    child_env,
    nan,
    num,
)
from bench.sections import ttfb
from tests.conftest import ROOT, free_port, model_env
from tests.servers import stop_process

TITLE = "7. Side by side with the in-memory reference server (added time to first byte, ms)"
RATIO_TARGET = 1.3  # Cosmos DB vs the in-memory reference, p50


class ReferenceProcess:
    """bench/reference_server.py under uvicorn in its own process, like the local host."""

    def __init__(self, env: dict[str, str], log_path: Any):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.reference_server", "--port", str(self.port)],
            cwd=ROOT,
            env=child_env(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"reference server did not start: see {log_path}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    ours = done.get("ttfb")
    if ours is None:
        raise RuntimeError("section 7 compares with section 1: run ttfb in the same run")
    result = SectionResult("reference", TITLE)
    stack.tmp.mkdir(parents=True, exist_ok=True)
    server = ReferenceProcess(model_env(stack.fake), stack.tmp / "reference.log")
    try:
        samples = ttfb.workload(
            server.url + "/chatkit", stack.fake, cfg.ttfb_turns, cfg.ttfb_warmup
        )
    finally:
        server.stop()
    reference = ttfb.summarise(samples)
    result.data["reference"] = reference
    table = Table(
        TITLE,
        ["server / turn", "added p50", "added p95", "ratio p50", "ratio p95", "target"],
    )
    for kind in (*ttfb.KINDS, "all"):
        row = reference[kind]["added_ms"]
        table.rows.append([f"reference / {kind}", num(row["p50"]), num(row["p95"]), "", "", ""])
    for store in stores:
        result.data[store] = {}
        for kind in (*ttfb.KINDS, "all"):
            mine = ours.data[store][kind]["added_ms"]
            base = reference[kind]["added_ms"]
            ratio50 = nan(mine["p50"]) / nan(base["p50"])
            ratio95 = nan(mine["p95"]) / nan(base["p95"])
            result.data[store][kind] = {"p50": round(ratio50, 3), "p95": round(ratio95, 3)}
            cell = ""
            if store == "cosmos" and kind == "all":
                cell = result.check(
                    Check("added TTFB p50, Cosmos stand-in / reference", ratio50, RATIO_TARGET)
                ).cell(2)
            table.rows.append(
                [
                    f"{STORE_LABELS[store]} / {kind}",
                    num(mine["p50"]),
                    num(mine["p95"]),
                    f"{ratio50:.2f}x",
                    f"{ratio95:.2f}x",
                    cell,
                ]
            )
    table.notes += [
        "the reference keeps threads in a dict, checks nothing, writes no title and talks to "
        "the same fake model over Chat Completions, sending the same 30-item history window "
        "(the starter app sends 20); ours = section 1's numbers from this run",
    ]
    result.tables.append(table)
    return result
