"""6. Concurrency: 1, 10 and 100 concurrent streams in one worker process.

Each level runs `bench.load.run_load` (every turn opens its own thread, answers stream
`load_tokens` tokens 5 ms apart, then every thread is listed and checked: one user
message and one complete answer, none lost or doubled). Small levels repeat in rounds so
their p95 has a sample. Memory is the host process's RSS after a warm-up turn and its
high-water mark after each level; growth per stream = (peak - baseline) / streams.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.harness import (
    STORE_LABELS,
    Check,
    Config,
    SectionResult,
    Stack,
    Table,
    num,
    pct,
)
from bench.load import WORD, LoadResult, run_load
from tests.fake_model import Reply

TITLE = "6. Concurrency (one host process; every answer streams its tokens 5 ms apart)"
TOKEN_DELAY = 0.005


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rounds(streams: int) -> int:
    """Enough turns at small levels for a p95 without making the run long."""
    return max(1, 20 // streams) if streams < 20 else 1


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    result = SectionResult("concurrency", TITLE)
    table = Table(
        TITLE,
        ["store / streams", "turns", "failed", "lost", "turns/s", "p50 s", "p95 s",
         "peak RSS MB", "MB per stream", "target (no failures)"],
    )  # fmt: skip
    fake = stack.fake
    saved_default = fake.default
    fake.default = Reply.say(*([WORD] * cfg.load_tokens), delay=TOKEN_DELAY)
    try:
        for store in stores:
            env = stack.host_env(store, AUTH_MODE="platform", MODEL_TIMEOUT_SECONDS="120")
            host = stack.host(store, "concurrency", env=env)
            pid = host.process.pid
            levels: dict[str, Any] = {}
            try:
                fake.reset()
                asyncio.run(run_load(host.url, pid, 1, 1, cfg.load_tokens, store))  # warm-up
                baseline = _rss_mb(pid)
                for streams in cfg.concurrency:
                    merged = LoadResult(streams, min(streams, 20), cfg.load_tokens, store)
                    for _ in range(_rounds(streams)):
                        fake.reset()
                        one = asyncio.run(
                            run_load(
                                host.url, pid, streams, min(streams, 20), cfg.load_tokens, store
                            )
                        )
                        merged.latencies += one.latencies
                        merged.failures += one.failures
                        merged.problems += one.problems
                        merged.seconds += one.seconds
                        merged.peak_rss_mb = one.peak_rss_mb
                    turns = len(merged.latencies) + len(merged.failures)
                    levels[str(streams)] = {
                        "turns": turns,
                        "failed_turns": len(merged.failures),
                        "lost_or_duplicated": len(merged.problems),
                        "turns_per_s": round(len(merged.latencies) / merged.seconds, 2),
                        "p50_s": round(pct(merged.latencies, 0.5), 3),
                        "p95_s": round(pct(merged.latencies, 0.95), 3),
                        "peak_rss_mb": round(merged.peak_rss_mb, 1),
                        "mb_per_stream": round((merged.peak_rss_mb - baseline) / streams, 2),
                        "first_failures": (merged.failures + merged.problems)[:5],
                    }
            finally:
                stack.stop_host(host)
            # Per extra stream between the two largest levels: without the fixed cost
            # the first turns leave behind (caches, imports, connection pools).
            low, high = sorted(cfg.concurrency)[-2:] if len(cfg.concurrency) > 1 else (0, 0)
            marginal = None
            if high > low:
                grown = levels[str(high)]["peak_rss_mb"] - levels[str(low)]["peak_rss_mb"]
                marginal = round(grown / (high - low), 3)
            result.data[store] = {
                "baseline_rss_mb": round(baseline, 1),
                "marginal_mb_per_stream": marginal,
                "tokens_per_answer": cfg.load_tokens,
                "levels": levels,
            }
            top = str(max(cfg.concurrency))
            for streams, row in levels.items():
                cell = ""
                if streams == top:
                    cell = result.check(
                        Check(
                            f"failed or lost turns at {top} streams, {STORE_LABELS[store]}",
                            float(row["failed_turns"] + row["lost_or_duplicated"]),
                            0,
                        )
                    ).cell(0)
                table.rows.append(
                    [
                        f"{STORE_LABELS[store]} / {streams}",
                        str(row["turns"]),
                        str(row["failed_turns"]),
                        str(row["lost_or_duplicated"]),
                        num(row["turns_per_s"]),
                        num(row["p50_s"], 2),
                        num(row["p95_s"], 2),
                        num(row["peak_rss_mb"]),
                        num(row["mb_per_stream"], 2),
                        cell,
                    ]
                )
            table.notes.append(
                f"{STORE_LABELS[store]}: RSS {baseline:.0f} MB after a warm-up turn; "
                f"{num(marginal, 2)} MB more per stream from {low} to {high} streams"
            )
    finally:
        fake.default = saved_default
    table.notes.append(
        "MB per stream = (peak RSS after the level - RSS after warm-up) / streams; the peak "
        "is the process's high-water mark, so it never falls between levels"
    )
    table.notes.append(
        f"{cfg.load_tokens} tokens per answer = {cfg.load_tokens * TOKEN_DELAY:.1f} s of model "
        "time per turn; a turn's latency is request start -> end of its stream"
    )
    result.tables.append(table)
    return result
