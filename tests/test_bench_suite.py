"""The benchmark suite keeps working: a tiny run of two sections on both stores writes the
JSON the README's numbers come from, with sane values; and its parsers read what the
app and `python -X importtime` actually print."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from bench.harness import Check, pct
from bench.sections.cold_start import group_of, import_groups
from bench.sections.store_cost import SUMMARY, classify, expected_ru
from tests.conftest import ROOT


def test_quick_suite_writes_the_expected_json(tmp_path):
    out = tmp_path / "suite.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.suite", "--quick", "--turns", "2",
         "--only", "ttfb,store_cost", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1. Added time to first byte" in done.stdout
    assert "3. Store cost per turn" in done.stdout

    report = json.loads(out.read_text())
    assert report["meta"]["quick"] is True
    assert report["meta"]["failed_sections"] == []
    assert set(report["sections"]) == {"ttfb", "store_cost"}
    for store in ("sqlite", "cosmos"):
        ttfb = report["sections"]["ttfb"]["data"][store]
        for kind in ("new thread", "follow-up", "all"):
            assert ttfb[kind]["failed_turns"] == 0
            added = ttfb[kind]["added_ms"]
            assert 0 < added["p50"] <= added["p95"] < 5000, added
        cost = report["sections"]["store_cost"]["data"][store]
        plain = cost["plain turn, follow-up"]
        assert 0 < plain["store_requests"] <= 50
        # The traced host sees every call the app counts, and the upload route's too.
        for action in cost.values():
            assert action["traced_calls"] >= action["store_requests"]
    assert (
        report["sections"]["store_cost"]["data"]["cosmos"]["widget action"]["expected_azure_ru"] > 0
    )
    targets = {c["target"] for c in report["checks"]}
    assert "added TTFB p50, Cosmos stand-in" in targets
    assert all(isinstance(c["pass"], bool) for c in report["checks"])


def test_store_log_lines_are_parsed_and_classified():
    line = (
        "INFO shared.chatkit_endpoint: threads.add_user_message: 6 store requests, "
        "16.90 RU, 4.2 ms in the store"
    )
    match = SUMMARY.search(line)
    assert match is not None and match.groups() == ("threads.add_user_message", "6", "16.90", "4.2")
    assert classify("cosmos", "item.upsert") == "write"
    for write in ("lease.create", "lease.release", "lease.renew", "thread.tombstone", "rate.write"):
        assert classify("cosmos", write) == "write", write
    assert classify("cosmos", "lease.read") == "read"
    assert classify("cosmos", "session.read") == "read"
    assert classify("cosmos", "items.list") == "query"
    assert classify("cosmos", "open") == "setup"
    assert classify("sqlite", "SELECT items") == "read"
    assert expected_ru(Counter(read=1, write=1, query=1)) > 8


def test_importtime_output_is_grouped_per_top_package():
    text = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |     openai._types\n"
        "import time:       300 |        400 |   openai\n"
        "import time:        50 |         50 |   azure.cosmos.aio\n"
        "import time:        20 |        470 | shared.server\n"
    )
    groups = import_groups(text)
    assert groups["openai"] == (0.4, 0.4)
    assert groups["azure.cosmos"] == (0.05, 0.05)
    assert groups["(this app)"] == (0.02, 0.47)
    assert group_of("json.decoder") == "(stdlib)"


def test_checks_and_percentiles():
    assert Check("x", 5.0, 6).passed and not Check("x", 7.0, 6).passed
    assert not Check("x", float("nan"), 6).passed
    assert Check("x", 1.0, 1.3).cell(2) == "1.00 PASS (≤1.3)"
    assert pct([1, 2, 3, 4, 5], 0.5) == 3 and pct(list(range(101)), 0.95) == 95
