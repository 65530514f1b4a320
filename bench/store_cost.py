"""Store requests and store time per chat turn, on the embedded store and on Cosmos DB +
Blob (the local stand-ins), read from the per-request log line the app writes.

Run: .venv/bin/python -m bench.store_cost [--turns 20]
The Cosmos stand-in reports a flat request charge, so RU figures here are not Azure's:
count requests, and see docs/cosmos-data-model.md for the expected RU per operation.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import uuid
from pathlib import Path

import httpx

from tests.chatkit_client import user_input
from tests.conftest import LocalHost, cosmos_env, model_env
from tests.fake_model import FakeModel, Reply
from tests.servers import Azurite, CosmosStandIn
from tests.test_e2e_attachments import PNG

LINE = re.compile(
    r"(threads\.\w+|attachments\.\w+): (\d+) store requests, ([\d.]+) RU, "
    r"([\d.]+) ms in the store"
)


def _entries(log: Path, start: int) -> list[tuple[str, int, float]]:
    text = log.read_text()[start:]
    return [(m[1], int(m[2]), float(m[4])) for m in LINE.finditer(text)]


def _median_requests(entries: list[tuple[str, int, float]]) -> float:
    return statistics.median(requests for _, requests, _ in entries)


def run(label: str, env: dict[str, str], fake: FakeModel, turns: int, tmp: Path) -> None:
    host = LocalHost({**model_env(fake), **env}, tmp / label)
    client = host.client()
    try:
        thread_id = client.create_thread("warm up").thread_id
        mark = len(host.log.read_text())
        for n in range(turns):
            fake.script(Reply.say("ok"))
            client.add_message(thread_id, f"plain turn {n}")
        plain = [e for e in _entries(host.log, mark) if e[0] == "threads.add_user_message"]

        mark = len(host.log.read_text())
        for n in range(max(5, turns // 2)):
            attachment = client.call(
                "attachments.create", name="p.png", size=len(PNG), mime_type="image/png"
            )
            descriptor = attachment["upload_descriptor"]
            if descriptor["method"] == "PUT":
                httpx.put(descriptor["url"], content=PNG, headers=descriptor["headers"])
            else:
                httpx.post(descriptor["url"], files={"file": ("p.png", PNG, "image/png")})
            payload = user_input(f"attachment turn {n}")
            payload["attachments"] = [attachment["id"]]
            fake.script(Reply.say("ok"))
            client.stream("threads.add_user_message", thread_id=thread_id, input=payload)
        with_attachment = _entries(host.log, mark)
        create = [e for e in with_attachment if e[0] == "attachments.create"]
        sends = [e for e in with_attachment if e[0] == "threads.add_user_message"]
    finally:
        host.stop()
    print(
        f"{label:<22}{statistics.median(r for _, r, _ in plain):>8.0f}"
        f"{statistics.median(ms for _, _, ms in plain):>10.1f}"
        f"{_median_requests(create) + _median_requests(sends):>10.0f}"
        f"{statistics.median(ms for _, _, ms in sends):>10.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    fake = FakeModel().start()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        cosmos, azurite = CosmosStandIn(tmp), Azurite(tmp)
        try:
            print(f"median per turn over {args.turns} turns (store requests / ms in the store)")
            print(f"{'backend':<22}{'plain':>8}{'ms':>10}{'+1 file':>10}{'ms':>10}")
            run("sqlite + folder", {}, fake, args.turns, tmp)
            name = f"b{uuid.uuid4().hex[:12]}"
            run(
                "cosmos + blob (stand-ins)",
                {
                    **cosmos_env(cosmos, name),
                    "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
                    "ATTACHMENTS_CONTAINER": name,
                },
                fake,
                args.turns,
                tmp,
            )
        finally:
            cosmos.stop()
            azurite.stop()
            fake.stop()


if __name__ == "__main__":
    main()
