"""Time to first SSE text byte through the whole stack, minus the model's own time.

Starts the fake model and the local host (embedded store), runs N fresh-thread turns
and N follow-up turns, and prints median and p95 of:
  total     request start -> first assistant text delta at the client
  model     fake model: request received -> first token written
  overhead  total - model (the platform's added time: auth, store, history, agent setup,
            the model HTTP hop, SSE relay)
Run: .venv/bin/python -m bench.ttfb [--turns 20] [--api chat_completions|responses]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.chatkit_client import user_input
from tests.conftest import LocalHost, model_env
from tests.fake_model import FakeModel, Reply


def _turn(url: str, body: dict) -> float:
    start = time.perf_counter()
    with httpx.stream("POST", url, json=body, timeout=30) as response:
        for line in response.iter_lines():
            if "assistant_message.content_part.text_delta" in line:
                return time.perf_counter() - start
    raise RuntimeError("no text delta in the stream")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--api", default="chat_completions")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    fake = FakeModel().start()
    with tempfile.TemporaryDirectory() as tmp:
        # Many new threads in a minute: the per-user creation limit would refuse them.
        host = LocalHost({**model_env(fake, api=args.api), "THREADS_PER_MINUTE": "0"}, Path(tmp))
        url = host.url + "/api/chatkit"
        try:
            _turn(url, {"type": "threads.create", "params": {"input": user_input("warm up")}})
            results: dict[str, dict[str, float]] = {}
            for kind in ("new thread", "follow-up"):
                totals, models = [], []
                thread_id = None
                for n in range(args.turns):
                    fake.reset()
                    fake.script(Reply.say("Hello", " world", "!"))
                    if kind == "new thread" or thread_id is None:
                        body = {
                            "type": "threads.create",
                            "params": {"input": user_input(f"question {n}")},
                        }
                    else:
                        body = {
                            "type": "threads.add_user_message",
                            "params": {
                                "thread_id": thread_id,
                                "input": user_input(f"question {n}"),
                            },
                        }
                    total = _turn(url, body)
                    if kind == "follow-up" and thread_id is None:
                        listed = httpx.post(url, json={"type": "threads.list", "params": {}})
                        thread_id = listed.json()["data"][0]["id"]
                    request = fake.turn_requests[0]
                    first_token = request.first_token_at or request.received_at
                    model_time = first_token - request.received_at
                    totals.append(total * 1000)
                    models.append(model_time * 1000)
                overhead = [t - m for t, m in zip(totals, models, strict=True)]
                results[kind] = {
                    "total_p50_ms": statistics.median(totals),
                    "total_p95_ms": _pct(totals, 0.95),
                    "model_p50_ms": statistics.median(models),
                    "overhead_p50_ms": statistics.median(overhead),
                    "overhead_p95_ms": _pct(overhead, 0.95),
                }
        finally:
            host.stop()
            fake.stop()

    print(f"time to first text delta, {args.turns} turns each, api={args.api}, embedded store")
    print(
        f"{'turn':<12}{'total p50':>11}{'total p95':>11}{'model p50':>11}"
        f"{'overhead p50':>14}{'overhead p95':>14}"
    )
    for kind, r in results.items():
        print(
            f"{kind:<12}{r['total_p50_ms']:>9.1f}ms{r['total_p95_ms']:>9.1f}ms"
            f"{r['model_p50_ms']:>9.1f}ms{r['overhead_p50_ms']:>12.1f}ms"
            f"{r['overhead_p95_ms']:>12.1f}ms"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
