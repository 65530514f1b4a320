"""The azd environment for the hook scripts.

azd runs hooks with its environment's values (the Bicep outputs and `azd env set` values) in
the process environment. Run by hand, the scripts read them from `azd env get-values`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping


def environment() -> Mapping[str, str]:
    if "AZURE_ENV_NAME" in os.environ:
        return os.environ  # run by azd
    azd = shutil.which("azd")
    if not azd:
        return os.environ
    result = subprocess.run(  # noqa: S603 - fixed executable and arguments
        [azd, "env", "get-values", "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return os.environ
    return {**json.loads(result.stdout), **os.environ}
