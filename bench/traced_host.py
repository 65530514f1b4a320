"""`python -m shared.localhost` with every store call logged, for the store-cost section.

Every operation of both stores (SQLite statements, Cosmos DB calls) enters
`shared.telemetry.store_call` exactly once, which is where `StoreMetrics` counts them
too; wrapping it adds one log line per call as it ends, `store call <backend>
<operation> <ms> ms`. That shows the operation mix behind each request's count (reads,
writes, queries: what the RU estimate needs), what each operation costs, and counts
routes that log no summary of their own (the upload). The app itself is unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared import localhost, telemetry

_log = logging.getLogger("bench.store_calls")
_store_call = telemetry.store_call


@contextmanager
def _traced(context: Any, system: str, operation: str) -> Iterator[Any]:
    started = time.perf_counter()
    try:
        with _store_call(context, system, operation) as span:
            yield span
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        _log.info("store call %s %s %.2f ms", system, operation, elapsed)


telemetry.store_call = _traced

if __name__ == "__main__":
    localhost.main()
