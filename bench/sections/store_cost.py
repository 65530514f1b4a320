"""3. Store cost per turn: store requests per plain turn, per turn with one attachment and
per widget action, on each store; with Cosmos DB the request units.

Counts come from the app's own per-request log line (`<type>: N store requests, X RU,
Y ms in the store`, shared/chatkit_endpoint.py) and, per operation, from the traced host
(bench/traced_host.py), which also sees the upload route that logs no summary. The
Cosmos stand-in's charges are not Azure's, so the expected RU on Azure is estimated from
the operation mix with Azure's published per-operation costs (ESTIMATE_SOURCE).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.harness import (
    STORE_LABELS,
    Check,
    Config,
    SectionResult,
    Stack,
    Table,
    num,
    pct,
    stats,
    wait_for,
)
from tests.chatkit_client import ChatKitClient, user_input
from tests.fake_model import Reply
from tests.test_e2e_attachments import PNG

TITLE = "3. Store cost per turn (median per action)"
PLAIN_TURN_TARGET = 6  # store requests, issue 8

SUMMARY = re.compile(
    r"(threads\.\w+|attachments\.\w+|items\.\w+): (\d+) store requests, ([\d.]+) RU, "
    r"([\d.]+) ms in the store"
)
CALL = re.compile(r"store call (\w+) (.+) ([\d.]+) ms$", re.MULTILINE)

# Azure's published costs for ~1 KB documents at session consistency.
READ_RU = 1.0
WRITE_RU = 4.95
QUERY_RU = 2.5  # a small single-partition page; more with more or larger documents
ESTIMATE_SOURCE = (
    "estimate from Azure's published costs: point read of 1 KB = 1 RU, write of 1 KB ≈ 5 RU "
    "(learn.microsoft.com/azure/cosmos-db/understand-request-unit-consumption and "
    "/request-units); queries ≥ ~2.5 RU each (a lower bound: a 30-item history page costs "
    "more); deletes taken as writes"
)


KINDS = ("read", "write", "query")


def classify(system: str, operation: str) -> str:
    """read, write, query or setup, for the RU estimate and the operation mix."""
    if system == "sqlite":
        return "read" if operation.startswith("SELECT") else "write"
    if operation == "open":
        return "setup"  # database and container check, once per process
    if operation.endswith(".read") or operation.endswith(".sort_key"):
        return "read"
    # Leases, tombstones, titles and rate counters are single-document writes too.
    writes = (".upsert", ".write", ".create", ".release", ".renew", ".takeover", ".title")
    if operation.endswith(writes) or ".delete" in operation or operation.endswith("tombstone"):
        return "write"
    return "query"


def expected_ru(kinds: Counter) -> float:
    return kinds["read"] * READ_RU + kinds["write"] * WRITE_RU + kinds["query"] * QUERY_RU


@dataclass
class Usage:
    """What one action (one or more HTTP requests) cost in the store."""

    logged: int = 0  # store requests in the app's summary lines
    traced: int = 0  # store calls seen by the traced host
    sdk_ru: float = 0.0
    store_ms: float = 0.0
    kinds: Counter = field(default_factory=Counter)
    calls: list[str] = field(default_factory=list)  # operation names, in order
    call_ms: list[tuple[str, float]] = field(default_factory=list)

    def add(self, other: Usage) -> Usage:
        return Usage(
            self.logged + other.logged,
            self.traced + other.traced,
            self.sdk_ru + other.sdk_ru,
            self.store_ms + other.store_ms,
            self.kinds + other.kinds,
            self.calls + other.calls,
            self.call_ms + other.call_ms,
        )


class LogReader:
    """Cuts the host's log into per-action segments (actions run one at a time)."""

    def __init__(self, host: Any):
        self.host = host
        self.pos = len(host.log_text())

    def take(self, summaries: int) -> Usage:
        """The segment since the last take, once it holds `summaries` summary lines:
        a streamed request logs its summary just after the stream ends."""
        wait_for(
            lambda: len(SUMMARY.findall(self.host.log_text()[self.pos :])) >= summaries,
            what="the request's store summary in the host log",
        )
        text = self.host.log_text()
        segment, self.pos = text[self.pos :], len(text)
        usage = Usage()
        for match in SUMMARY.finditer(segment):
            usage.logged += int(match[2])
            usage.sdk_ru += float(match[3])
            usage.store_ms += float(match[4])
        for match in CALL.finditer(segment):
            usage.traced += 1
            usage.calls.append(match[2].strip())
            usage.call_ms.append((usage.calls[-1], float(match[3])))
            kind = classify(match[1], usage.calls[-1])
            if kind != "setup":
                usage.kinds[kind] += 1
        return usage


def measure(stack: Stack, store: str, env: dict[str, str], turns: int) -> dict[str, list[Usage]]:
    fake = stack.fake
    host = stack.host(store, "store-cost", env=env, module="bench.traced_host")
    client = host.client()
    log = LogReader(host)
    usage: dict[str, list[Usage]] = {
        "plain turn, new thread": [],
        "plain turn, follow-up": [],
        "turn with one attachment": [],
        "widget action": [],
    }
    try:
        fake.reset()
        thread_id = client.create_thread("warm up").thread_id
        log.take(1)  # includes opening the store, once per process
        for n in range(min(turns, 5)):  # under the default 30 new threads a minute
            fake.script(Reply.say("ok"))
            client.create_thread(f"new thread {n}")
            usage["plain turn, new thread"].append(log.take(1))
        for n in range(turns):
            fake.script(Reply.say("ok"))
            client.add_message(thread_id, f"plain turn {n}")
            usage["plain turn, follow-up"].append(log.take(1))
        for n in range(turns):
            usage["turn with one attachment"].append(_attachment_turn(client, log, thread_id, n))
            fake.reset()
        fake.script(
            Reply.call("get_current_time", timezone="Europe/Paris"), Reply.say("Shown above.")
        )
        widget = client.add_message(thread_id, "What time is it in Paris?").done_items("widget")
        log.take(1)
        if not widget:
            raise RuntimeError("the clock tool streamed no widget to click")
        for n in range(turns):
            zone = ("Asia/Tokyo", "Europe/Paris")[n % 2]  # a change, so state is written
            clicked = client.stream(
                "threads.custom_action",
                thread_id=thread_id,
                item_id=widget[0]["id"],
                action={"type": "clock.select_timezone", "payload": {"timezone": zone}},
            )
            if clicked.errors:
                raise RuntimeError(f"widget action failed: {clicked.errors}")
            usage["widget action"].append(log.take(1))
    finally:
        stack.stop_host(host)
    return usage


def _attachment_turn(client: ChatKitClient, log: LogReader, thread_id: str, n: int) -> Usage:
    """attachments.create, the upload (to the app, or straight to Blob), then the send."""
    attachment = client.call(
        "attachments.create", name="p.png", size=len(PNG), mime_type="image/png"
    )
    created = log.take(1)
    descriptor = attachment["upload_descriptor"]
    if descriptor["method"] == "PUT":  # a SAS URL: the bytes never pass through the app
        response = httpx.put(descriptor["url"], content=PNG, headers=descriptor["headers"])
    else:
        response = httpx.post(descriptor["url"], files={"file": ("p.png", PNG, "image/png")})
    response.raise_for_status()
    uploaded = log.take(0)
    payload = user_input(f"attachment turn {n}")
    payload["attachments"] = [attachment["id"]]
    client.stream("threads.add_user_message", thread_id=thread_id, input=payload)
    return created.add(uploaded).add(log.take(1))


async def round_trips(env: dict[str, str], samples: int = 20) -> dict[str, float]:
    """Median ms of a point read and an upsert against the stand-in: what one store
    request costs there, to read the turn numbers against."""
    from chatkit.types import ThreadMetadata

    from shared.context import RequestContext
    from shared.stores.cosmos import CosmosStore

    store = CosmosStore(
        endpoint=env["COSMOS_ENDPOINT"],
        credential=env["COSMOS_KEY"],
        database=env["COSMOS_DATABASE"],
        container="chat",
    )
    context = RequestContext(user_id="round-trip", use_case="assistant")
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now())
    reads: list[float] = []
    writes: list[float] = []
    try:
        await store.save_thread(thread, context)  # opens the container first
        for _ in range(samples):
            started = time.perf_counter()
            await store.save_thread(thread, context)
            writes.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await store.load_thread(thread.id, context)
            reads.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return {"read": statistics.median(reads), "upsert": statistics.median(writes)}


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    result = SectionResult("store_cost", TITLE)
    table = Table(
        TITLE,
        ["store / action", "requests", "traced", "reads/writes/queries", "ms in store",
         "RU (SDK)", "RU on Azure (est.)", "target"],
    )  # fmt: skip
    operations = Table(
        "3. Store time per operation (ms, every call of the actions above)",
        ["store / operation", "calls", "p50", "p95"],
    )
    for store in stores:
        env = stack.host_env(store)
        measured = measure(stack, store, env, cfg.store_turns)
        result.data[store] = {}
        per_operation: dict[str, list[float]] = defaultdict(list)
        for samples in measured.values():
            for usage in samples:
                for name, elapsed in usage.call_ms:
                    per_operation[name].append(elapsed)
        result.data[f"{store}_operation_ms"] = {
            name: stats(values, 2) for name, values in sorted(per_operation.items())
        }
        for name, values in sorted(per_operation.items(), key=lambda kv: -pct(kv[1], 0.5)):
            operations.rows.append(
                [f"{STORE_LABELS[store]} / {name}", str(len(values)),
                 num(pct(values, 0.5), 2), num(pct(values, 0.95), 2)]
            )  # fmt: skip
        if store == "cosmos":
            latency = asyncio.run(round_trips(env))
            result.data["cosmos_standin_round_trip_ms"] = latency
            table.notes.append(
                f"one Cosmos stand-in round trip from the same SDK: point read p50 "
                f"{latency['read']:.1f} ms, upsert p50 {latency['upsert']:.1f} ms (Azure, "
                "same region: a few ms)"
            )
        for action, samples in measured.items():
            kinds = Counter({k: statistics.median(s.kinds[k] for s in samples) for k in KINDS})
            row = {
                "samples": len(samples),
                "store_requests": statistics.median(s.logged for s in samples),
                "traced_calls": statistics.median(s.traced for s in samples),
                "operations": dict(kinds),
                "store_ms": round(statistics.median(s.store_ms for s in samples), 2),
                "sdk_ru": round(statistics.median(s.sdk_ru for s in samples), 2),
                "calls_of_last_sample": samples[-1].calls,
            }
            if store == "cosmos":
                row["expected_azure_ru"] = round(expected_ru(kinds), 1)
            result.data[store][action] = row
            target = ""
            if action.startswith("plain turn"):
                target = result.check(
                    Check(
                        f"store requests per {action}, {STORE_LABELS[store]}",
                        float(row["store_requests"]),
                        PLAIN_TURN_TARGET,
                    )
                ).cell(0)
            table.rows.append(
                [
                    f"{STORE_LABELS[store]} / {action}",
                    f"{row['store_requests']:g}",
                    f"{row['traced_calls']:g}",
                    "/".join(f"{kinds[k]:g}" for k in KINDS),
                    num(row["store_ms"]),
                    num(row["sdk_ru"]) if store == "cosmos" else "-",
                    f"≈{row['expected_azure_ru']:g}" if store == "cosmos" else "-",
                    target,
                ]
            )
    result.data["ru_estimate_basis"] = ESTIMATE_SOURCE
    table.notes += [
        "requests = the app's own per-request log line; traced = store calls counted by "
        "bench/traced_host.py (also counts the upload route, which logs no summary)",
        "attachment turn = attachments.create + upload + the send; the embedded store "
        "uploads through the app, Blob takes the bytes directly (SAS PUT)",
        "RU (SDK) is what the Cosmos stand-in reports, not Azure's charge",
        "RU on Azure: " + ESTIMATE_SOURCE,
    ]
    result.tables += [table, operations]
    return result
