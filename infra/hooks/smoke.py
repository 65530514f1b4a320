"""After `azd deploy`: check from your machine that the deployment answers as designed.

- the page serves an /app-config.json for the chosen topology;
- direct: the API is up (/api/health), admits the page's origin over CORS, and refuses a
  chat request without a bearer token;
- linked: the API is not reachable around Static Web Apps (a direct call, even with a forged
  x-ms-client-principal header, is refused) and /api through the page needs sign-in.

Run by azd's postdeploy hook with the azd environment in the process environment (or by
hand the same way as local_config.py). Exit status 1 when a check fails. Standard library
only.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

import azd_env  # sibling module: infra/hooks is on sys.path when run

TIMEOUT = 30
# A cold start after deployment, and role assignments that are still propagating, can take
# a few minutes.
WARM_UP_SECONDS = 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect (to a sign-in page) is an answer to check, not something to follow.
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request(
    method: str, url: str, headers: Mapping[str, str] | None = None
) -> tuple[int, dict, bytes]:
    """(status, headers, body); status 0 when the host could not be reached."""
    req = urllib.request.Request(url, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with _OPENER.open(req, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0, {}, b""


def _refused(status: int) -> bool:
    # 401/403, or a redirect to a sign-in page.
    return status in (401, 403) or 300 <= status < 400


def _forged_principal() -> str:
    principal = {"identityProvider": "aad", "userId": "smoke-test", "userRoles": ["authenticated"]}
    return base64.b64encode(json.dumps(principal).encode()).decode()


def check(env: Mapping[str, str]) -> list[str]:
    """The failed checks' descriptions (empty when all passed)."""
    failures: list[str] = []
    topology = env.get("API_TOPOLOGY", "direct") or "direct"
    api = env["SERVICE_API_URI"].rstrip("/")
    web = env["SERVICE_WEB_URI"].rstrip("/")

    def expect(ok: bool, what: str) -> None:
        print(("ok: " if ok else "FAILED: ") + what)
        if not ok:
            failures.append(what)

    status, _, body = request("GET", f"{web}/app-config.json")
    try:
        mode = json.loads(body).get("auth", {}).get("mode") if status == 200 else None
    except (ValueError, AttributeError):
        mode = None
    wanted_mode = "entra" if topology == "direct" else "swa"
    expect(mode == wanted_mode, f"{web}/app-config.json has auth.mode {wanted_mode!r} ({mode!r})")

    if topology == "direct":
        deadline = time.monotonic() + WARM_UP_SECONDS
        status = 0
        while time.monotonic() < deadline:
            status, _, _ = request("GET", f"{api}/api/health")
            if status == 200:
                break
            time.sleep(10)
        expect(status == 200, f"{api}/api/health answers 200 ({status})")
        _, headers, _ = request(
            "OPTIONS",
            f"{api}/api/chatkit",
            {
                "Origin": web,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin")
        expect(allowed == web, f"the API admits {web} over CORS ({allowed!r})")
        status, _, _ = request("POST", f"{api}/api/chatkit", {"Content-Type": "application/json"})
        expect(_refused(status), f"a chat request without a token is refused ({status})")
    else:
        status, _, _ = request("GET", f"{api}/api/health")
        expect(_refused(status), f"{api} refuses direct calls ({status})")
        status, _, _ = request(
            "POST",
            f"{api}/api/chatkit",
            {"Content-Type": "application/json", "x-ms-client-principal": _forged_principal()},
        )
        expect(_refused(status), f"{api} refuses a forged principal header ({status})")
        status, _, _ = request("GET", f"{web}/api/health")
        expect(status == 401, f"{web}/api needs sign-in ({status})")
    return failures


def main() -> int:
    env = azd_env.environment()
    missing = [n for n in ("SERVICE_API_URI", "SERVICE_WEB_URI") if not env.get(n)]
    if missing:
        print(f"error: {', '.join(missing)} not set; run azd provision first.", file=sys.stderr)
        return 1
    failures = check(env)
    if failures:
        print(f"{len(failures)} deployment check(s) failed; see infra/README.md.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
