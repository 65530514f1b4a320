"""5. Cold start: importing `function_app`, and a fresh process serving its first request.

Import cost per top dependency comes from `python -X importtime` (self time of every
module, summed per top-level package; cumulative = its outermost import, including what
it pulls in), once for `import function_app` alone (what the Functions worker does when
it indexes the app) and once for a local host through its first chat turn (what the
first response pays for: the heavy imports the app defers to first use land there).

Cold start = process start -> the first response (/api/health, answered without the chat
stack), and -> the first text of a new chat sent as soon as the host answers (the worst
case: a message wakes a scaled-to-zero app). The app imports the chat stack in a
background thread from `import function_app` on (shared/warmup.py); its log line says
when that was done. A run before the counted ones warms the OS file cache and creates
the Cosmos database, as an existing deployment would have it. The import-time profiles
run with the warm-up off (WARM_UP=false): two threads importing at once would garble
`-X importtime`'s nesting.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    STORE_LABELS,
    BenchHost,
    Check,
    Config,
    SectionResult,
    Stack,
    Table,
    child_env,
    http_client,
    nan,
    new_thread,
    num,
    timed_turn,
)
from tests.conftest import ROOT
from tests.fake_model import Reply

TITLE = "5. Cold start"
FIRST_RESPONSE_TARGET_S = 1.5
APP_BUILT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO localhost: Data in", re.M)
WARM = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO shared.warmup: Warm-up", re.M)
NO_WARM_UP = {"WARM_UP": "false"}
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$", re.MULTILINE)
OWN = {"function_app", "shared", "use_cases", "bench"}
NAMESPACES = {"azure", "opentelemetry", "google"}  # group these by their second level


def group_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] in OWN:
        return "(this app)"
    if parts[0] in NAMESPACES and len(parts) > 1:
        return ".".join(parts[:2])
    if parts[0] in sys.stdlib_module_names or parts[0].startswith("_"):
        return "(stdlib)"
    return parts[0]


def import_groups(text: str) -> dict[str, tuple[float, float]]:
    """Group -> (self ms summed over its modules, cumulative ms of its outermost import)."""
    own: dict[str, float] = defaultdict(float)
    outer: dict[str, float] = defaultdict(float)
    for self_us, cumulative_us, _indent, module in IMPORT_LINE.findall(text):
        group = group_of(module)
        own[group] += int(self_us) / 1000
        outer[group] = max(outer[group], int(cumulative_us) / 1000)
    return {group: (own[group], outer[group]) for group in own}


def _python(code: str, importtime: bool = False) -> tuple[float, str]:
    """Run `code` in a fresh interpreter at the repository root: (wall seconds, stderr)."""
    flags = ["-X", "importtime"] if importtime else []
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=child_env(NO_WARM_UP),
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stderr


def _first_response(
    stack: Stack, env: dict[str, str], data_dir: Path, after_warm_up: bool = False
) -> dict[str, Any]:
    """One fresh host: seconds from process start to health, and to the first text.

    `after_warm_up`: the first chat is sent only once the warm-up has finished, as when
    the page loaded first and the user is typing; then its own time to first text counts.
    """
    stack.fake.reset()
    stack.fake.script(Reply.say("Hello", " world", "!"))
    started_wall = time.time()
    host = BenchHost(env, data_dir, wait=False)
    try:
        health = None
        deadline = time.perf_counter() + 30
        while health is None:
            if host.process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"host did not start:\n{host.log_text()[-2000:]}")
            try:
                if httpx.get(host.url + "/api/health", timeout=1).status_code == 200:
                    health = time.perf_counter() - host.started_at
            except httpx.HTTPError:
                time.sleep(0.005)
        while after_warm_up and WARM.search(host.log_text()) is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no warm-up line:\n{host.log_text()[-2000:]}")
            time.sleep(0.01)
        with http_client() as client:
            turn = timed_turn(client, host.url + "/api/chatkit", new_thread("hello"))
        if turn.first_text is None:
            raise RuntimeError(f"first turn failed: {turn.errors}")
    finally:
        host.stop()
    # Wall-clock offsets: process start was stamped just before Popen.
    return {
        "app_built_s": _stamp(APP_BUILT, host.log_text(), started_wall),
        "warm_up_done_s": _stamp(WARM, host.log_text(), started_wall),
        "health_s": health,
        "first_text_s": turn.first_text - started_wall,
        "turn_to_first_text_s": turn.first_text - turn.started,
        "first_turn_done_s": turn.ended - started_wall,
    }


def _stamp(line: re.Pattern[str], log: str, started_wall: float) -> float | None:
    """Process start -> a line of the host's log: "Data in ..." is logged once
    `function_app` is imported and its routes are built, just before uvicorn listens;
    "Warm-up imports done" when the background imports have finished."""
    match = line.search(log)
    if match is None:
        return None
    stamp = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return round(stamp - started_wall, 3)


def _profile_first_response(stack: Stack, store: str) -> str:
    """The import-time log of a host from process start through its first chat turn."""
    env = stack.host_env(store, **NO_WARM_UP)
    host = stack.host(store, "importtime", env=env, python_flags=("-X", "importtime"))
    try:
        stack.fake.reset()
        with http_client() as client:
            timed_turn(client, host.url + "/api/chatkit", new_thread("hello"))
        return host.log_text()
    finally:
        stack.stop_host(host)


def run(stack: Stack, stores: list[str], cfg: Config, done: dict[str, SectionResult]) -> Any:
    result = SectionResult("cold_start", TITLE)
    runs = max(1, cfg.cold_runs)
    interpreter = statistics.median(_python("pass")[0] for _ in range(runs))
    import_wall = statistics.median(_python("import function_app")[0] for _ in range(runs))
    at_import = import_groups(_python("import function_app", importtime=True)[1])

    timing = Table(
        f"{TITLE}: seconds from process start (median of {runs} fresh processes)",
        ["store", "app built", "first response", "warm-up done", "first text",
         "first turn done", "after warm-up", "target (first response)", "target (first text)"],
    )  # fmt: skip
    result.data["interpreter_s"] = round(interpreter, 3)
    result.data["import_function_app_s"] = round(import_wall, 3)
    for store in stores:
        env = stack.host_env(store)
        data_dir = stack.data_dir(f"cold-{store}")
        _first_response(stack, env, data_dir)  # warms the file cache, creates the DB
        samples = [_first_response(stack, env, data_dir) for _ in range(runs)]
        medians = {
            k: round(statistics.median(s[k] for s in samples), 3)
            for k in samples[0]
            if all(s[k] is not None for s in samples)
        }
        medians.setdefault("app_built_s", None)
        medians.setdefault("warm_up_done_s", None)
        warmed = [_first_response(stack, env, data_dir, after_warm_up=True) for _ in range(runs)]
        medians["after_warm_up_turn_s"] = round(
            statistics.median(s["turn_to_first_text_s"] for s in warmed), 3
        )
        result.data[store] = {**medians, "runs": samples, "after_warm_up_runs": warmed}
        first_response = result.check(
            Check(
                f"cold start to first response, {STORE_LABELS[store]}",
                nan(medians["health_s"]),
                FIRST_RESPONSE_TARGET_S,
                " s",
            )
        )
        first_text = result.check(
            Check(
                f"cold start to first streamed text, {STORE_LABELS[store]}",
                nan(medians["first_text_s"]),
                FIRST_RESPONSE_TARGET_S,
                " s",
            )
        )
        timing.rows.append(
            [
                STORE_LABELS[store],
                num(medians["app_built_s"], 2),
                num(medians["health_s"], 2),
                num(medians["warm_up_done_s"], 2),
                num(medians["first_text_s"], 2),
                num(medians["first_turn_done_s"], 2),
                num(medians["after_warm_up_turn_s"], 2),
                first_response.cell(2),
                first_text.cell(2),
            ]
        )
    timing.notes += [
        "app built = `function_app` imported and routes mounted (from the host's log, "
        "ms resolution); first response = /api/health's first answer, which builds the "
        "runtime; warm-up done = the background imports of the chat stack finished; first "
        "text = a new chat sent as soon as the host answered; after warm-up = a fresh "
        "host's first chat sent once the warm-up is done (the page loaded first, the user "
        "typed), from sending to its first text",
        f"a bare interpreter starts in {interpreter:.2f} s; `python -c 'import function_app'` "
        f"takes {import_wall:.2f} s in all (warm-up off)",
        "the local host also imports uvicorn and Starlette, which the Functions worker "
        "replaces with its own (heavier) start-up",
    ]

    # Cosmos DB is the production store (its SDK and aiohttp load on first use).
    profiled = "cosmos" if "cosmos" in stores else stores[0]
    by_first_response = import_groups(_profile_first_response(stack, profiled))
    groups = sorted(by_first_response, key=lambda g: by_first_response[g][0], reverse=True)
    imports = Table(
        f"{TITLE}: import time per top dependency, ms (top 10 by self time through the "
        f"first response, {STORE_LABELS[profiled]})",
        ["package", "at import function_app", "by first response", "cumulative", "deferred"],
    )
    for group in groups[:10]:
        own_at_import = at_import.get(group, (0.0, 0.0))[0]
        own, cumulative = by_first_response[group]
        imports.rows.append(
            [
                group,
                num(own_at_import),
                num(own),
                num(cumulative),
                "yes" if own_at_import < 0.5 * own else "",
            ]
        )
    imports.notes += [
        "self time summed over a package's modules (python -X importtime; it inflates "
        "absolute times somewhat); cumulative = its outermost import, including the "
        "packages it pulls in; deferred = mostly imported after `import function_app`",
        f"total at import function_app: {sum(v[0] for v in at_import.values()):.0f} ms; "
        f"through the first response: {sum(v[0] for v in by_first_response.values()):.0f} ms",
    ]
    result.data["imports_ms"] = {
        "at_import_function_app": {g: round(v[0], 1) for g, v in at_import.items()},
        "through_first_response": {
            g: {"self": round(v[0], 1), "cumulative": round(v[1], 1)}
            for g, v in by_first_response.items()
        },
        "profiled_store": profiled,
    }
    result.tables += [timing, imports]
    return result
