"""Concurrent turns, reduced size (the full 100 turns x 20 users x 200 tokens run is
`python -m bench.load`): no failed turn, every user's threads and answers complete, none
lost or doubled, on both stores."""

from __future__ import annotations

import asyncio

from bench.load import WORD, run_load
from tests.conftest import model_env
from tests.fake_model import Reply


def test_concurrent_turns_lose_and_duplicate_nothing(start_host, fake_model, store_env):
    tokens = 50
    default = fake_model.default
    fake_model.default = Reply.say(*([WORD] * tokens), delay=0.005)
    try:
        host = start_host(
            {**model_env(fake_model), **store_env, "AUTH_MODE": "platform",
             "MODEL_TIMEOUT_SECONDS": "60"}
        )  # fmt: skip
        store = "cosmos" if store_env else "sqlite"
        result = asyncio.run(run_load(host.url, host.process.pid, 24, 6, tokens, store))
    finally:
        fake_model.default = default
    assert result.failures == [], result.failures[:5]
    assert result.problems == [], result.problems[:5]
    assert len(result.latencies) == 24
    print(result.summary())
