"""4. History scaling: per-turn server time on threads of 10, 100 and 1,000 prior items.

Each turn loads only the newest HISTORY_LIMIT items, so server time should not grow with
the thread: the ratio 1,000/10 shows whether it is bounded by the window. The threads
are built before the host starts by writing items straight through the app's own store
classes (what hundreds of real turns would leave behind, in seconds).

Server time per turn = request start -> end of stream at the client, minus the fake
model's own streaming time (request received -> last token written); the added time to
first byte (section 1's measure) and the store time from the app's log are shown too.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from datetime import datetime, timedelta
from pathlib import Path
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
    wait_for,
)
from tests.fake_model import FakeModel, Reply

TITLE = "4. History scaling (ms per follow-up turn on threads of N prior items)"
RATIO_TARGET = 1.2
USER = "local-user"  # AUTH_MODE=local's default user, who owns the seeded threads
SUMMARY = re.compile(r"threads\.add_user_message: (\d+) store requests, [\d.]+ RU, ([\d.]+) ms")
WORDS = "The quick brown fox jumps over the lazy dog and keeps running through the field. "


async def seed(store: str, env: dict[str, str], data_dir: Path, sizes: tuple[int, ...]) -> dict:
    """One thread per size with that many alternating user/assistant messages."""
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
    )

    from shared.context import RequestContext

    if store == "cosmos":
        from shared.stores.cosmos import CosmosStore

        app_store: Any = CosmosStore(
            endpoint=env["COSMOS_ENDPOINT"],
            credential=env["COSMOS_KEY"],
            database=env["COSMOS_DATABASE"],
            container="chat",
        )
    else:
        from shared.stores.sqlite import SQLiteStore

        app_store = SQLiteStore(data_dir / "chatkit.sqlite3")
    context = RequestContext(user_id=USER, use_case="assistant")
    threads: dict[int, str] = {}
    limit = asyncio.Semaphore(16)  # the stand-in answers one write in a few ms

    async def add(thread: Any, item: Any) -> None:
        async with limit:
            await app_store.add_thread_item(thread.id, item, context)

    try:
        for size in sizes:
            start = datetime.now() - timedelta(days=1)
            thread = ThreadMetadata(
                id=app_store.generate_thread_id(context), created_at=start, title=f"{size} items"
            )
            await app_store.save_thread(thread, context)
            items: list[Any] = []
            for n in range(size):
                item_id = app_store.generate_item_id("message", thread, context)
                at = start + timedelta(seconds=n)
                text = f"Message {n}. " + WORDS * 2
                if n % 2 == 0:
                    items.append(
                        UserMessageItem(
                            id=item_id,
                            thread_id=thread.id,
                            created_at=at,
                            content=[UserMessageTextContent(text=text)],
                            attachments=[],
                            inference_options=InferenceOptions(),
                        )
                    )
                else:
                    items.append(
                        AssistantMessageItem(
                            id=item_id,
                            thread_id=thread.id,
                            created_at=at,
                            content=[AssistantMessageContent(text=text)],
                        )
                    )
            await asyncio.gather(*(add(thread, item) for item in items))
            threads[size] = thread.id
    finally:
        await app_store.close()
    return threads


def _turns(
    host: Any, fake: FakeModel, threads: dict[int, str], cfg: Config
) -> dict[int, dict[str, list[float]]]:
    """Follow-up turns on each seeded thread: server time, added TTFB, store use."""
    sizes = cfg.history_sizes
    samples: dict[int, dict[str, list[float]]] = {
        size: {"server": [], "added": [], "store_ms": [], "requests": []} for size in sizes
    }

    def summaries() -> list[tuple[str, str]]:
        return SUMMARY.findall(host.log_text())

    url = host.url + "/api/chatkit"
    with http_client() as client:
        fake.reset()
        timed_turn(client, url, new_thread("warm up"))
        for n in range(cfg.history_turns):
            # Sizes interleaved: drift over the run hits every size alike.
            for size in sizes:
                fake.reset()
                fake.script(Reply.say("Hello", " world", "!"))
                seen = len(summaries())
                turn = timed_turn(client, url, follow_up(threads[size], f"turn {n}"))
                if turn.errors or turn.first_text is None or not fake.turn_requests:
                    raise RuntimeError(f"turn on {size} items failed: {turn.errors}")
                model = fake.turn_requests[0]
                model_ttft = (model.first_token_at or model.received_at) - model.received_at
                model_all = model.delta_sent_at[-1] - model.received_at
                row = samples[size]
                row["server"].append((turn.ended - turn.started - model_all) * 1000)
                row["added"].append((turn.first_text - turn.started - model_ttft) * 1000)
                # The summary line is written just after the stream ends.
                wait_for(lambda seen=seen: len(summaries()) > seen, what="the store summary")
                requests, store_ms = summaries()[-1]
                row["requests"].append(float(requests))
                row["store_ms"].append(float(store_ms))
    return samples


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    result = SectionResult("history", TITLE)
    table = Table(
        TITLE,
        ["store / prior items", "turns", "server p50", "server p95", "added TTFB p50",
         "store ms p50", "store requests", "target"],
    )  # fmt: skip
    sizes = cfg.history_sizes
    for store in stores:
        env = stack.host_env(store)
        data_dir = stack.data_dir(f"history-{store}").resolve()
        threads = asyncio.run(seed(store, env, data_dir, sizes))
        host = stack.host(store, "history", env=env, data_dir=data_dir)
        try:
            samples = _turns(host, stack.fake, threads, cfg)
        finally:
            stack.stop_host(host)
        data: dict[str, Any] = {}
        for size in sizes:
            row = samples[size]
            data[str(size)] = {
                "server_ms": stats(row["server"]),
                "added_ttfb_ms": stats(row["added"]),
                "store_ms": stats(row["store_ms"], 2),
                "store_requests": statistics.median(row["requests"]),
            }
        low, high = str(sizes[0]), str(sizes[-1])
        ratio = nan(data[high]["server_ms"]["p50"]) / nan(data[low]["server_ms"]["p50"])
        added = [nan(data[size]["added_ttfb_ms"]["p50"]) for size in (high, low)]
        ttfb_ratio = added[0] / added[1]
        data["ratio"] = {
            "sizes": f"{high}/{low}",
            "server_p50": round(ratio, 3),
            "added_ttfb_p50": round(ttfb_ratio, 3),
        }
        result.data[store] = data
        check = result.check(
            Check(f"server time ratio {high}/{low}, {STORE_LABELS[store]}", ratio, RATIO_TARGET)
        )
        for size in sizes:
            row = data[str(size)]
            table.rows.append(
                [
                    f"{STORE_LABELS[store]} / {size}",
                    str(row["server_ms"]["n"]),
                    num(row["server_ms"]["p50"]),
                    num(row["server_ms"]["p95"]),
                    num(row["added_ttfb_ms"]["p50"]),
                    num(row["store_ms"]["p50"], 2),
                    f"{row['store_requests']:g}",
                    "",
                ]
            )
        table.rows.append(
            [
                f"{STORE_LABELS[store]} / ratio {high}/{low}",
                "",
                f"{ratio:.2f}x",
                "",
                f"{ttfb_ratio:.2f}x",
                "",
                "",
                check.cell(2),
            ]
        )
    table.notes.append(
        "server = request start -> end of stream minus the fake model's own streaming time"
    )
    if "cosmos" in stores:
        table.notes.append(
            "the Cosmos stand-in answers queries by scanning its in-memory partition; real "
            "Cosmos DB serves the TOP n ORDER BY page from the composite index"
        )
    result.tables.append(table)
    return result
