"""2. Streaming fidelity: how long each token takes from the model to the client.

The fake model streams N tokens at a fixed interval and stamps each one as it hands it
to its HTTP server; the client stamps each text delta as it reads it. Both clocks are
this process's wall clock. If anything on the way buffered (a proxy, a compressor,
Nagle's algorithm, an event loop starved by the previous token), tokens would arrive in
bursts: gaps would approach the interval and arrivals would bunch up. Both the fake
model and the local host run on uvicorn, which sets TCP_NODELAY on its sockets.
"""

from __future__ import annotations

import itertools
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
    pct,
    stats,
    timed_turn,
)
from tests.fake_model import Reply

TITLE = "2. Streaming fidelity (ms from the model writing a token to the client reading it)"


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    interval_ms = cfg.fidelity_interval * 1000
    result = SectionResult("fidelity", TITLE)
    table = Table(
        TITLE,
        ["store", "tokens", "gap p50", "gap p95", "gap max", "arrival spacing p5/p50",
         "matched", "target (gap p95 < interval)"],
    )  # fmt: skip
    fake = stack.fake
    for store in stores:
        host = stack.host(store, "fidelity")
        url = host.url + "/api/chatkit"
        gaps: list[float] = []
        spacing: list[float] = []
        mismatched = 0
        try:
            with http_client() as client:
                fake.reset()
                thread_id = timed_turn(client, url, new_thread("warm up")).thread_id
                if thread_id is None:
                    raise RuntimeError("warm-up turn failed")
                for n in range(cfg.fidelity_turns):
                    tokens = [f"t{i} " for i in range(cfg.fidelity_tokens)]
                    fake.reset()
                    fake.script(Reply.say(*tokens, delay=cfg.fidelity_interval))
                    turn = timed_turn(client, url, follow_up(thread_id, f"stream {n}"))
                    sent = fake.turn_requests[0].delta_sent_at if fake.turn_requests else []
                    # One model delta -> one ChatKit text delta on this path; anything
                    # else (merged or split deltas) is counted, not paired.
                    if [text for _, text in turn.deltas] != tokens or len(sent) != len(tokens):
                        mismatched += 1
                        continue
                    arrivals = [at for at, _ in turn.deltas]
                    gaps += [(at - s) * 1000 for at, s in zip(arrivals, sent, strict=True)]
                    spacing += [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]
        finally:
            stack.stop_host(host)
        gap = stats(gaps, 2)
        result.data[store] = {
            "tokens": len(gaps),
            "interval_ms": interval_ms,
            "gap_ms": gap,
            "arrival_spacing_ms": {**stats(spacing, 2), "p5": round(pct(spacing, 0.05), 2)},
            "held_back_tokens": sum(g >= interval_ms for g in gaps),
            "mismatched_turns": mismatched,
        }
        check = result.check(
            Check(
                f"token gap p95 below the {interval_ms:g} ms interval, {STORE_LABELS[store]}",
                nan(gap["p95"]),
                interval_ms,
                " ms",
            )
        )
        table.rows.append(
            [
                STORE_LABELS[store],
                str(len(gaps)),
                num(gap["p50"], 2),
                num(gap["p95"], 2),
                num(gap["max"], 2),
                f"{num(pct(spacing, 0.05))}/{num(pct(spacing, 0.5))}",
                f"{cfg.fidelity_turns - mismatched}/{cfg.fidelity_turns}",
                check.cell(2),
            ]
        )
    table.notes += [
        f"the fake model writes one token every {interval_ms:g} ms; arrival spacing at the "
        "client near that interval (p5 too) means tokens arrive one by one, not in bursts",
        "gap >= interval would mean a token waited for the next one: "
        + ", ".join(f"{STORE_LABELS[s]} {result.data[s]['held_back_tokens']}" for s in stores),
    ]
    result.tables.append(table)
    return result
