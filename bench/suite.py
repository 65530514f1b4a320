"""The performance benchmark suite (issue 8): one command, one table per section with
each target's PASS/MISS beside its number, and the results as JSON.

Runs the app's local host against the fake model server, on the embedded store and on the
Cosmos DB + Blob stand-ins it starts itself:
  1 ttfb         added time to first byte (p50/p95 over new-thread and follow-up turns)
  2 fidelity     model token -> client delta gap; proof that nothing buffers
  3 store_cost   store requests (and Cosmos RU, estimated for Azure) per turn and action
  4 history      per-turn server time on threads of 10, 100 and 1,000 prior items
  5 cold_start   import time per dependency; fresh process -> first response
  6 concurrency  1, 10, 100 concurrent streams: turns/s, p95, failures, memory
  7 reference    section 1's workload on ours and a minimal in-memory ChatKit server in
                 alternation, as ratios

Run: .venv/bin/python -m bench.suite [--quick] [--json PATH] [--only ttfb,fidelity,...]
     [--stores sqlite,cosmos]
Full: about 10 minutes on 2 cores; --quick: about 2 minutes (fewer turns, 10/100 history
items, 1/10 streams). Writes bench/results/suite.json (suite-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import STORES, Config, SectionResult, Stack, Table
from bench.sections import REQUIRES, SECTIONS

RESULTS = Path(__file__).resolve().parent / "results"


def _names(value: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
        )
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of ~2 minutes")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument(
        "--only",
        type=lambda v: _names(v, list(SECTIONS), "section"),
        default=list(SECTIONS),
        help=f"comma-separated sections: {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--stores",
        type=lambda v: _names(v, STORES, "store"),
        default=list(STORES),
        help="comma-separated: sqlite,cosmos",
    )
    parser.add_argument("--turns", type=int, help="override the turns per sample (tests)")
    return parser.parse_args(argv)


def _selected(only: list[str]) -> list[str]:
    wanted = set(only)
    for name in only:
        wanted.update(REQUIRES.get(name, ()))
    return [name for name in SECTIONS if name in wanted]  # the order


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def _summary(results: list[SectionResult]) -> Table:
    table = Table("Targets of issue 8", ["target", "value", "verdict"])
    for result in results:
        for check in result.checks:
            table.rows.append([check.label, check.value_text(2), check.verdict()])
    return table


def _finite(value: Any) -> Any:
    """NaN (a ratio of missing numbers) is not JSON: write null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config.make(args.quick, args.turns)
    sections = _selected(args.only)
    out = args.json or RESULTS / ("suite-quick.json" if args.quick else "suite.json")
    # The client and the fake model share this interpreter; a short switch interval keeps
    # one thread from holding the other off for the default 5 ms while both are busy.
    sys.setswitchinterval(0.0005)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "meta": {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            # Other work on the machine moves every number here: say how busy it was.
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
            "quick": args.quick,
            "stores": args.stores,
            "sections": sections,
            "config": dataclasses.asdict(cfg),
        },
        "sections": {},
    }
    results: list[SectionResult] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        stack = Stack(Path(tmp))
        try:
            done: dict[str, SectionResult] = {}
            for name in sections:
                print(f"[{time.perf_counter() - started:6.1f}s] {name} ...", file=sys.stderr)
                try:
                    module = importlib.import_module(SECTIONS[name])
                    result = module.run(stack, args.stores, cfg, done)
                except Exception:
                    # One broken section must not cost the numbers of the others.
                    failed.append(name)
                    report["sections"][name] = {"error": traceback.format_exc()}
                    print(traceback.format_exc(), file=sys.stderr)
                    continue
                done[name] = result
                results.append(result)
                report["sections"][name] = result.to_json()
                for table in result.tables:
                    print(table.render() + "\n", flush=True)
        finally:
            stack.close()
    summary = _summary(results)
    print(summary.render())
    report["checks"] = [c.to_json() for r in results for c in r.checks]
    report["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    report["meta"]["failed_sections"] = failed
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(_finite(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )
    print(
        f"\n{len(results)} sections in {report['meta']['seconds']} s (1-minute load average "
        f"{report['meta']['load_average_1m_at_start']} at the start); results in {out}"
    )
    if failed:
        print(f"sections that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
