"""Concurrent chat turns against the local host: nothing fails, nothing is lost or doubled.

Starts the fake model (every answer streams `--tokens` deltas) and the local host with
AUTH_MODE=platform, then runs `--turns` turns at once spread over `--users` users (each
turn opens its own thread), on the embedded store or the Cosmos DB + Blob stand-ins.
Afterwards it lists every user's threads and items through the API and checks each turn
left exactly one thread with one user message and one complete answer. Prints p50/p95 turn
latency, failures and the host process's memory (RSS now and peak).

Run: .venv/bin/python -m bench.load [--turns 100 --users 20 --tokens 200 --store sqlite|cosmos]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.chatkit_client import user_input
from tests.conftest import LocalHost, cosmos_env, model_env
from tests.fake_model import FakeModel, Reply
from tests.test_e2e_bad_input import principal

WORD = "tok "


@dataclass
class LoadResult:
    turns: int
    users: int
    tokens: int
    store: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    seconds: float = 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "turns": self.turns,
            "users": self.users,
            "tokens_per_answer": self.tokens,
            "failed_turns": len(self.failures),
            "lost_or_duplicated": len(self.problems),
            "p50_turn_s": round(statistics.median(self.latencies), 3) if self.latencies else None,
            "p95_turn_s": round(self.pct(0.95), 3) if self.latencies else None,
            "wall_s": round(self.seconds, 2),
            "turns_per_s": round(len(self.latencies) / self.seconds, 1) if self.seconds else None,
            "host_rss_mb": round(self.rss_mb, 1),
            "host_peak_rss_mb": round(self.peak_rss_mb, 1),
        }


async def _turn(client: httpx.AsyncClient, url: str, user: str, n: int, result: LoadResult) -> None:
    body = {"type": "threads.create", "params": {"input": user_input(f"{user} question {n}")}}
    start = time.perf_counter()
    deltas = 0
    errors = []
    try:
        async with client.stream(
            "POST", url, json=body, headers={"x-ms-client-principal": principal(user)}
        ) as response:
            if response.status_code != 200:
                await response.aread()
                result.failures.append(f"{user}#{n}: HTTP {response.status_code} {response.text}")
                return
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event["type"] == "error":
                    errors.append(event.get("message"))
                elif event["type"] == "thread.item.updated" and event["update"]["type"].endswith(
                    "text_delta"
                ):
                    deltas += 1
    except httpx.HTTPError as exc:
        result.failures.append(f"{user}#{n}: {type(exc).__name__}")
        return
    if errors:
        result.failures.append(f"{user}#{n}: error events {errors}")
    elif deltas == 0:
        result.failures.append(f"{user}#{n}: no text streamed")
    else:
        result.latencies.append(time.perf_counter() - start)


async def _verify(
    client: httpx.AsyncClient, url: str, users: list[str], per_user: Counter, result: LoadResult
) -> None:
    expected_text = WORD * result.tokens
    for user in users:
        headers = {"x-ms-client-principal": principal(user)}
        threads, after = [], None
        while True:
            params = {"limit": 50, **({"after": after} if after else {})}
            page = (
                await client.post(
                    url, json={"type": "threads.list", "params": params}, headers=headers
                )
            ).json()
            threads += page["data"]
            if not page["has_more"]:
                break
            after = page["after"]
        if len(threads) != per_user[user] or len({t["id"] for t in threads}) != len(threads):
            result.problems.append(f"{user}: {len(threads)} threads, expected {per_user[user]}")
        for thread in threads:
            items = (
                await client.post(
                    url,
                    json={
                        "type": "items.list",
                        "params": {"thread_id": thread["id"], "limit": 50, "order": "asc"},
                    },
                    headers=headers,
                )
            ).json()["data"]
            kinds = [i["type"] for i in items]
            answers = [i for i in items if i["type"] == "assistant_message"]
            if kinds.count("user_message") != 1 or len(answers) != 1:
                result.problems.append(f"{user}/{thread['id']}: items {kinds}")
            elif answers[0]["content"][0]["text"] != expected_text:
                result.problems.append(f"{user}/{thread['id']}: answer incomplete")


def _memory(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


async def run_load(
    host_url: str, pid: int, turns: int, users: int, tokens: int, store: str
) -> LoadResult:
    result = LoadResult(turns=turns, users=users, tokens=tokens, store=store)
    names = [f"user-{uuid.uuid4().hex[:8]}" for _ in range(users)]
    assignment = [names[n % users] for n in range(turns)]
    url = host_url + "/api/chatkit"
    limits = httpx.Limits(max_connections=turns + 10, max_keepalive_connections=turns + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(
            *(_turn(client, url, user, n, result) for n, user in enumerate(assignment))
        )
        result.seconds = time.perf_counter() - start
        result.rss_mb, result.peak_rss_mb = _memory(pid)
        await _verify(client, url, names, Counter(assignment), result)
    return result


def start_stack(tmp: Path, fake: FakeModel, store: str, tokens: int) -> tuple[LocalHost, list[Any]]:
    fake.default = Reply.say(*([WORD] * tokens), delay=0.005)
    servers: list[Any] = []
    env = {**model_env(fake), "AUTH_MODE": "platform", "MODEL_TIMEOUT_SECONDS": "120"}
    if store == "cosmos":
        from tests.servers import Azurite, CosmosStandIn

        cosmos, azurite = CosmosStandIn(tmp), Azurite(tmp)
        servers += [cosmos, azurite]
        env.update(cosmos_env(cosmos, "load"))
        env["AZURE_STORAGE_CONNECTION_STRING"] = azurite.connection_string
    return LocalHost(env, tmp / "data"), servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--store", choices=["sqlite", "cosmos", "both"], default="both")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    stores = ["sqlite", "cosmos"] if args.store == "both" else [args.store]
    summaries = []
    fake = FakeModel().start()
    try:
        for store in stores:
            with tempfile.TemporaryDirectory() as tmp:
                host, servers = start_stack(Path(tmp), fake, store, args.tokens)
                try:
                    result = asyncio.run(
                        run_load(
                            host.url, host.process.pid, args.turns, args.users, args.tokens, store
                        )
                    )
                finally:
                    host.stop()
                    for server in servers:
                        server.stop()
            summaries.append(result.summary())
            for line in (result.failures + result.problems)[:10]:
                print("  !", line)
    finally:
        fake.stop()
    width = max(len(k) for k in summaries[0])
    for key in summaries[0]:
        print(f"{key:<{width}}  " + "  ".join(f"{s[key]!s:>12}" for s in summaries))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summaries, indent=2))
    if any(s["failed_turns"] or s["lost_or_duplicated"] for s in summaries):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
