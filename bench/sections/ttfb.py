"""1. Added time to first byte.

Request start -> the first SSE event carrying assistant text, at the client, minus the
fake model's own time to first token (request received -> first token written). What is
left is what the platform adds: auth, store reads and writes, history, agent set-up, the
model HTTP hop and the SSE relay. Split into the part before the model saw the request
and the part after its first token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.harness import (
    STORE_LABELS,
    Check,
    Config,
    SectionResult,
    Stack,
    Table,
    follow_up,
    http_client,
    nan,
    new_thread,
    num,
    stats,
    timed_turn,
)
from tests.fake_model import FakeModel, Reply

TITLE = "1. Added time to first byte (ms; minus the fake model's own time to first token)"
KINDS = ("new thread", "follow-up")
# Targets of issue 8 on the p50 of all turns.
P50_TARGET_MS = {"sqlite": 30.0, "cosmos": 60.0}


@dataclass
class Samples:
    added: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    model: list[float] = field(default_factory=list)
    before_model: list[float] = field(default_factory=list)
    after_model: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def extend(self, other: Samples) -> None:
        for name in ("added", "total", "model", "before_model", "after_model", "failures"):
            getattr(self, name).extend(getattr(other, name))

    def summary(self) -> dict[str, Any]:
        return {
            "added_ms": stats(self.added),
            "total_ms": stats(self.total),
            "model_ttft_ms": stats(self.model),
            "before_model_ms": stats(self.before_model),
            "after_model_ms": stats(self.after_model),
            "failed_turns": len(self.failures),
        }


def workload(
    url: str, fake: FakeModel, turns: int, warmup: int, reply: Reply | None = None
) -> dict[str, Samples]:
    """`turns` new-thread and `turns` follow-up turns, interleaved, after `warmup` turns.

    Follow-ups go to one thread, so its history fills the window as it would in use.
    Shared with section 7, which runs it against the reference server.
    """
    samples = {kind: Samples() for kind in KINDS}
    with http_client() as client:
        fake.reset()
        first = timed_turn(client, url, new_thread("warm up"))
        if first.thread_id is None:
            raise RuntimeError(f"warm-up turn failed: {first.errors}")
        thread_id = first.thread_id
        for n in range(warmup):
            timed_turn(client, url, follow_up(thread_id, f"warm up {n}"))
        for n in range(turns):
            for kind in KINDS:
                fake.reset()
                fake.script(reply or Reply.say("Hello", " world", "!"))
                text = f"question {n}"
                body = new_thread(text) if kind == "new thread" else follow_up(thread_id, text)
                turn = timed_turn(client, url, body)
                record(samples[kind], turn, fake)
    return samples


def record(samples: Samples, turn: Any, fake: FakeModel) -> None:
    requests = fake.turn_requests
    if turn.errors or turn.first_text is None or not requests:
        samples.failures.append("; ".join(turn.errors) or "no text streamed")
        return
    model = requests[0]
    first_token = model.first_token_at or model.received_at
    total = (turn.first_text - turn.started) * 1000
    model_ms = (first_token - model.received_at) * 1000
    samples.total.append(total)
    samples.model.append(model_ms)
    samples.added.append(total - model_ms)
    samples.before_model.append((model.received_at - turn.started) * 1000)
    samples.after_model.append((turn.first_text - first_token) * 1000)


def summarise(samples: dict[str, Samples]) -> dict[str, Any]:
    everything = Samples()
    for kind in KINDS:
        everything.extend(samples[kind])
    return {**{kind: samples[kind].summary() for kind in KINDS}, "all": everything.summary()}


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    result = SectionResult("ttfb", TITLE)
    table = Table(
        TITLE,
        ["store / turn", "turns", "added p50", "added p95", "before model", "after model",
         "total p50", "model p50", "target (added p50)"],
    )  # fmt: skip
    for store in stores:
        # Many new threads a minute: the per-user creation limit would refuse them.
        env = stack.host_env(store, THREADS_PER_MINUTE="0")
        host = stack.host(store, "ttfb", env=env)
        try:
            samples = workload(
                host.url + "/api/chatkit", stack.fake, cfg.ttfb_turns, cfg.ttfb_warmup
            )
        finally:
            stack.stop_host(host)
        data = summarise(samples)
        result.data[store] = data
        check = result.check(
            Check(
                f"added TTFB p50, {STORE_LABELS[store]}",
                nan(data["all"]["added_ms"]["p50"]),
                P50_TARGET_MS[store],
                " ms",
            )
        )
        for kind in (*KINDS, "all"):
            row = data[kind]
            table.rows.append(
                [
                    f"{STORE_LABELS[store]} / {kind}",
                    str(row["added_ms"]["n"]),
                    num(row["added_ms"]["p50"]),
                    num(row["added_ms"]["p95"]),
                    num(row["before_model_ms"]["p50"]),
                    num(row["after_model_ms"]["p50"]),
                    num(row["total_ms"]["p50"]),
                    num(row["model_ttft_ms"]["p50"]),
                    check.cell() if kind == "all" else "",
                ]
            )
        failed = data["all"]["failed_turns"]
        if failed:
            table.notes.append(f"{STORE_LABELS[store]}: {failed} failed turns")
    table.notes.append(
        "before model = request start -> the fake model received the request; after model = "
        "its first token -> the client read the first text delta (p50 of each)"
    )
    result.tables.append(table)
    return result
