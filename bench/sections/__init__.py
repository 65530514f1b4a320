"""The sections of the benchmark suite, in the order the issue lists them.

Each module has `run(stack, stores, cfg, done) -> SectionResult`; `done` holds the
sections already run, for a section that needs another's numbers (none does now: 7 runs
section 1's workload itself, in alternation with the reference).
"""

from __future__ import annotations

SECTIONS = {
    "ttfb": "bench.sections.ttfb",
    "fidelity": "bench.sections.fidelity",
    "store_cost": "bench.sections.store_cost",
    "history": "bench.sections.history",
    "cold_start": "bench.sections.cold_start",
    "concurrency": "bench.sections.concurrency",
    "reference": "bench.sections.reference",
}
# Sections whose numbers another section needs in the same run.
REQUIRES: dict[str, tuple[str, ...]] = {}
