"""A cold instance: what its first requests have to import, and the background warm-up.

Each case runs in a fresh interpreter, as a new Functions worker would, calling the
Function app's handlers directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import _APP_SETTINGS, ROOT

HEAVY = ("agents", "openai", "chatkit.server", "mcp", "azure.cosmos")

_CALL_HANDLERS = """
import asyncio, gc, json, os, sys
from tests.test_function_app import _functions, _request
from shared.runtime import reset_runtime

async def main():
    functions = _functions()
    answers = {}
    for name in ("health", "config"):
        response = await functions[name].get_user_function()(_request("GET", "/api/" + name))
        answers[name] = response.status_code
    loaded = [m for m in %(heavy)r if m in sys.modules]
    from shared import warmup
    await warmup.ready()
    body = json.dumps({"type": "threads.list", "params": {"limit": 5}}).encode()
    listed = await functions["chatkit"].get_user_function()(
        _request("POST", "/api/chatkit", body)
    )
    print(json.dumps({
        "answers": answers,
        "heavy_before_chat": loaded,
        "warm": [m for m in %(heavy)r if m in sys.modules],
        "warm_seconds": warmup.seconds,
        "gc_enabled": gc.isenabled(),
        "threads_list": listed.status_code,
        "threads_list_body": json.loads(listed.body),
    }))
    sys.stdout.flush()
    await reset_runtime()

asyncio.run(main())
os._exit(0)
"""


def _cold_process(tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    child = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
    child.update({"DATA_DIR": str(tmp_path / "data"), **env})
    code = _CALL_HANDLERS % {"heavy": HEAVY}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_health_and_config_answer_without_the_chat_stack(tmp_path: Path) -> None:
    """With the warm-up off, nothing a chat turn needs is imported by the first page
    requests: a cold instance answers them in a fraction of the chat stack's import time."""
    state = _cold_process(tmp_path, {"WARM_UP": "false"})
    assert state["answers"] == {"health": 200, "config": 200}
    assert state["heavy_before_chat"] == []
    # The first ChatKit request still works, importing what it needs itself.
    assert state["threads_list"] == 200
    assert state["threads_list_body"]["data"] == []
    assert state["warm_seconds"] is None  # no warm-up ran


def test_the_warm_up_imports_the_chat_stack_in_the_background(tmp_path: Path) -> None:
    state = _cold_process(tmp_path, {})
    assert state["answers"] == {"health": 200, "config": 200}
    # Everything the configured (embedded) store's turn needs; not the Cosmos SDK.
    assert state["warm"] == ["agents", "openai", "chatkit.server", "mcp"]
    assert state["warm_seconds"] > 0
    assert state["gc_enabled"] is True  # paused only while importing
    assert state["threads_list"] == 200


def test_the_warm_up_imports_the_cosmos_sdk_when_cosmos_is_configured(tmp_path: Path) -> None:
    # Settings only: the store client is created on first use, so nothing connects here.
    env = {"STORE": "cosmos", "COSMOS_ENDPOINT": "https://127.0.0.1:9/"}
    code = (
        "import function_app, asyncio, sys\n"
        "from shared import warmup\n"
        "asyncio.run(warmup.ready())\n"
        "print('azure.cosmos.aio' in sys.modules, 'shared.stores.cosmos' in sys.modules)\n"
        "sys.stdout.flush()\n"
        "import os; os._exit(0)\n"
    )
    child = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
    child.update({"DATA_DIR": str(tmp_path / "data"), **env})
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert done.stdout.decode().split() == ["True", "True"]


def test_invalid_settings_do_not_break_the_warm_up(tmp_path: Path) -> None:
    """The warm-up stops quietly; the request reports the bad setting as it always did."""
    state = _cold_process(tmp_path, {"HISTORY_LIMIT": "not a number"})
    assert state["answers"]["health"] == 500
    assert state["threads_list"] == 500
    assert "HISTORY_LIMIT" in json.dumps(state["threads_list_body"])
    assert state["gc_enabled"] is True
