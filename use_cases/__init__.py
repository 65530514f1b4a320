"""Use-case plug-ins: each sub-package defines `USE_CASE` (see `shared/use_case.py`).

Adding a folder here with an `__init__.py` that defines `USE_CASE` is all it takes to
serve it at `POST /api/chatkit/<name>` and list it in `GET /api/config`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from shared.use_case import UseCase


@lru_cache(maxsize=1)
def registry() -> dict[str, UseCase]:
    found: dict[str, UseCase] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.ispkg or module.name.startswith("_"):
            continue
        package = importlib.import_module(f"{__name__}.{module.name}")
        use_case = getattr(package, "USE_CASE", None)
        if isinstance(use_case, UseCase):
            if use_case.name != module.name:
                raise RuntimeError(
                    f"use_cases/{module.name} declares name {use_case.name!r}; they must match"
                )
            found[use_case.name] = use_case
    return found
