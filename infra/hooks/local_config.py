"""Write the deployment's files from the azd environment (the Bicep outputs).

- `static_web/app-config.json`: where the page finds the API and how users sign in
  (`static_web/src/boot/runtime-config.ts` reads it; the Vite build copies it into
  `dist/app-config.json`). Both files are git-ignored.
- `local.settings.json`: `func start` / `./scripts/run` against the cloud resources, keyless
  (your `az login` identity has data access when DEPLOYER_DATA_ACCESS is on). Values you set
  yourself are kept; the ones that point at the cloud are replaced, and keys that would
  override keyless access are blanked.

Run by azd's hooks (`postprovision`, and the web service's `prebuild` with `--only
app-config`) with the azd environment in the process environment; by hand:
`azd env get-values > /tmp/env && set -a && . /tmp/env && python infra/hooks/local_config.py`.
Standard library only: it runs before any project dependency is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import azd_env  # sibling module: infra/hooks is on sys.path when run

ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = ROOT / "static_web" / "app-config.json"
LOCAL_SETTINGS = ROOT / "local.settings.json"

# Bicep outputs (infra/main.bicep) read here; tests/test_infra.py checks that each exists.
OUTPUTS = (
    "API_TOPOLOGY",
    "SERVICE_API_URI",
    "SERVICE_WEB_URI",
    "ENTRA_TENANT_ID",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_MODEL_API",
    "COSMOS_ENDPOINT",
    "COSMOS_DATABASE",
    "COSMOS_CONTAINER",
    "COSMOS_TTL_SECONDS",
    "AZURE_STORAGE_ACCOUNT_URL",
    "ATTACHMENTS_CONTAINER",
)
# Set by the preprovision hook (entra_app.py) or by you with `azd env set`.
ENTRA_INPUTS = ("ENTRA_SPA_CLIENT_ID", "ENTRA_API_CLIENT_ID", "ENTRA_API_SCOPE")

# Cloud values copied into local.settings.json under the same names: every output that
# names a resource (the rest describe the deployment itself).
_DEPLOYMENT_OUTPUTS = ("API_TOPOLOGY", "SERVICE_API_URI", "SERVICE_WEB_URI", "ENTRA_TENANT_ID")
_CLOUD_VALUES = tuple(name for name in OUTPUTS if name not in _DEPLOYMENT_OUTPUTS)
# Set, these would take precedence over keyless access to the cloud resources (or point
# at a local stand-in with the cloud endpoint): they are blanked.
_KEYED_VALUES = ("AZURE_OPENAI_API_KEY", "COSMOS_KEY", "AZURE_STORAGE_CONNECTION_STRING")
_DEFAULT_HOST = {"CORS": "http://localhost:4280,http://127.0.0.1:4280", "CORSCredentials": False}


class ConfigError(Exception):
    """A value the files need is missing from the azd environment."""


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{name} is not set in the azd environment; run `azd provision` "
            f"(or `azd env set {name} <value>`) first."
        )
    return value


def topology(env: Mapping[str, str]) -> str:
    value = env.get("API_TOPOLOGY", "").strip() or "direct"
    if value not in ("direct", "linked"):
        raise ConfigError(f"API_TOPOLOGY must be 'direct' or 'linked', not {value!r}.")
    return value


def api_scope(env: Mapping[str, str]) -> str:
    scope = env.get("ENTRA_API_SCOPE", "").strip()
    return scope or f"api://{_require(env, 'ENTRA_API_CLIENT_ID')}/user_impersonation"


def app_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The page's /app-config.json for this deployment (shape: runtime-config.ts)."""
    if topology(env) == "linked":
        # Same origin: SWA proxies /api and adds the signed-in user's principal header.
        return {"apiBaseUrl": "", "auth": {"mode": "swa", "provider": "aad"}, "ui": "auto"}
    tenant = _require(env, "ENTRA_TENANT_ID")
    return {
        "apiBaseUrl": _require(env, "SERVICE_API_URI").rstrip("/"),
        "auth": {
            "mode": "entra",
            "provider": "aad",
            "entra": {
                "clientId": _require(env, "ENTRA_SPA_CLIENT_ID"),
                "authority": f"https://login.microsoftonline.com/{tenant}",
                "scopes": [api_scope(env)],
            },
        },
        "ui": "auto",
    }


def local_settings(env: Mapping[str, str], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """local.settings.json for running the app locally against this deployment's resources."""
    existing = dict(existing or {})
    values = dict(existing.get("Values") or {})
    values.update(
        {
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "PYTHON_ENABLE_INIT_INDEXING": "1",
            # One fixed local user; the cloud data it writes is that user's only.
            "AUTH_MODE": "local",
            "COSMOS_CREATE_IF_MISSING": "false",
            # No storage CORS rule admits localhost: uploads go through the local host.
            "ATTACHMENT_UPLOAD": "app",
        }
    )
    values.setdefault("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    for name in _CLOUD_VALUES:
        values[name] = str(_require(env, name))
    for name in _KEYED_VALUES:
        values[name] = ""
    # Never the Function app's identity locally: DefaultAzureCredential uses `az login`.
    values.pop("AZURE_CLIENT_ID", None)
    return {
        **existing,
        "IsEncrypted": False,
        "Values": values,
        "Host": existing.get("Host", _DEFAULT_HOST),
    }


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("app-config", "local-settings"))
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    env = azd_env.environment() if env is None else env
    app_config_path = args.root / APP_CONFIG.relative_to(ROOT)
    local_settings_path = args.root / LOCAL_SETTINGS.relative_to(ROOT)
    try:
        if args.only in (None, "app-config"):
            _write_json(app_config_path, app_config(env))
            print(f"Wrote {app_config_path.relative_to(args.root)} ({topology(env)} topology)")
        if args.only in (None, "local-settings"):
            existing = None
            if local_settings_path.exists():
                existing = json.loads(local_settings_path.read_text(encoding="utf-8"))
            _write_json(local_settings_path, local_settings(env, existing))
            print(
                f"Wrote {local_settings_path.relative_to(args.root)}: the local host now uses "
                "this deployment's Cosmos DB, Blob Storage and Azure OpenAI with your az login "
                "identity (AUTH_MODE=local)."
            )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
