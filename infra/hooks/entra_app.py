"""Microsoft Entra ID app registrations for the direct topology (AUTH_MODE=entra).

Two registrations in your tenant, single-tenant (AzureADMyOrg):

- the API (`chatkit-<env>-api`): exposes the delegated scope `user_impersonation` at
  `api://<client id>`, issues v2 access tokens (aud = its client id, which the Function app
  checks as ENTRA_AUDIENCE) and pre-authorizes the page, so users see no consent prompt;
- the page (`chatkit-<env>-web`): a single-page application (auth code + PKCE, no secret)
  whose redirect URI is the static web app's origin, allowed to request that scope.

Commands (run by azd's hooks; see infra/README.md):

    ensure         preprovision: create or reuse them; writes ENTRA_* into the azd env
    redirect-uris  postprovision: add the static web app's URL as a SPA redirect URI
    delete         remove the registrations this script created (after `azd down`)

Nothing happens in the linked topology. With your own registrations, set
ENTRA_API_CLIENT_ID and ENTRA_SPA_CLIENT_ID (and ENTRA_TENANT_ID, ENTRA_API_SCOPE if they
differ from the defaults) with `azd env set`: this script then changes nothing in them.
Needs the Azure CLI signed in (`az login`) to the tenant, with the right to register
applications. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import azd_env  # sibling module: infra/hooks is on sys.path when run

GRAPH = "https://graph.microsoft.com/v1.0"
SCOPE_VALUE = "user_impersonation"
# The azd environment values this script reads (besides the ENTRA_* it writes).
READS = ("AZURE_ENV_NAME", "API_TOPOLOGY", "SERVICE_WEB_URI")


class SetupError(Exception):
    """Something the user must fix; the message says what."""


class Az:
    """The Azure CLI, as JSON in and out."""

    def __init__(self, executable: str | None = None, retries: int = 6, delay: float = 5.0):
        self.executable = executable or shutil.which("az")
        self.retries = retries
        self.delay = delay

    def __call__(self, *args: str) -> Any:
        if not self.executable:
            raise SetupError(
                "The Azure CLI (az) is needed to create the Entra ID app registrations: install "
                "it and run `az login`, or set ENTRA_API_CLIENT_ID and ENTRA_SPA_CLIENT_ID."
            )
        result = subprocess.run(  # noqa: S603 - fixed executable, arguments are ours
            [self.executable, *args, "--output", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SetupError(f"az {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def patch_application(self, object_id: str, body: Mapping[str, Any]) -> None:
        """PATCH a Microsoft Graph application (the body goes through a file: Windows quoting)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "body.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(body, handle)
            self.retrying(
                "rest",
                "--method",
                "PATCH",
                "--uri",
                f"{GRAPH}/applications/{object_id}",
                "--headers",
                "Content-Type=application/json",
                "--body",
                f"@{path}",
            )

    def retrying(self, *args: str) -> Any:
        # A registration created a moment ago may not have replicated yet.
        for attempt in range(self.retries):
            try:
                return self(*args)
            except SetupError:
                if attempt == self.retries - 1:
                    raise
                time.sleep(self.delay)
        return None


def scope_manifest(scope_id: str) -> dict[str, Any]:
    return {
        "id": scope_id,
        "value": SCOPE_VALUE,
        "type": "User",
        "isEnabled": True,
        "adminConsentDisplayName": "Use the chat app",
        "adminConsentDescription": "Lets the chat page call the chat API as the signed-in user.",
        "userConsentDisplayName": "Use the chat app",
        "userConsentDescription": "Lets the chat page call the chat API as you.",
    }


def api_manifest(app_id: str, scope_id: str, spa_app_id: str | None = None) -> dict[str, Any]:
    """The API registration's identifier URI, scope, token version and pre-authorized page."""
    api: dict[str, Any] = {
        # v2 tokens: aud is the client id, iss https://login.microsoftonline.com/<tenant>/v2.0.
        "requestedAccessTokenVersion": 2,
        "oauth2PermissionScopes": [scope_manifest(scope_id)],
    }
    if spa_app_id:
        api["preAuthorizedApplications"] = [
            {"appId": spa_app_id, "delegatedPermissionIds": [scope_id]}
        ]
    return {"identifierUris": [f"api://{app_id}"], "api": api}


def spa_manifest(api_app_id: str, scope_id: str, redirect_uris: Sequence[str]) -> dict[str, Any]:
    """The page's registration: SPA redirect URIs and the API scope it requests."""
    return {
        "spa": {"redirectUris": list(redirect_uris)},
        "requiredResourceAccess": [
            {"resourceAppId": api_app_id, "resourceAccess": [{"id": scope_id, "type": "Scope"}]}
        ],
    }


def merge_redirect_uris(existing: Sequence[str], web_uri: str) -> list[str]:
    """Add the page's origin (MSAL's redirect URI is `<origin>/`) to the existing ones."""
    wanted = web_uri.rstrip("/") + "/"
    return [*existing, wanted] if wanted not in existing else list(existing)


def _topology(env: Mapping[str, str]) -> str:
    return env.get("API_TOPOLOGY", "").strip() or "direct"


def _find_or_create(az: Az, display_name: str, app_id: str) -> tuple[dict[str, Any], bool]:
    """The registration, and whether this script owns it (created it, now or on an earlier run)."""
    query = "{id:id, appId:appId, api:api, spa:spa}"
    if app_id:
        return az("ad", "app", "show", "--id", app_id, "--query", query), False
    found = az("ad", "app", "list", "--display-name", display_name, "--query", f"[].{query}")
    if len(found or []) > 1:
        raise SetupError(
            f"Several app registrations are named {display_name!r}; set ENTRA_API_CLIENT_ID and "
            "ENTRA_SPA_CLIENT_ID to the ones to use."
        )
    if found:
        return found[0], True
    print(f"Creating the Entra ID app registration {display_name!r}")
    created = az(
        "ad",
        "app",
        "create",
        "--display-name",
        display_name,
        "--sign-in-audience",
        "AzureADMyOrg",
        "--query",
        query,
    )
    return created, True


def _ensure_service_principal(az: Az, app_id: str) -> None:
    # Users of the tenant sign in to (and get tokens for) an app through its service principal.
    if not az("ad", "sp", "list", "--filter", f"appId eq '{app_id}'", "--query", "[].id"):
        az.retrying("ad", "sp", "create", "--id", app_id)


def _owned(env: Mapping[str, str]) -> list[str]:
    return [i for i in env.get("ENTRA_OWNED_APP_IDS", "").replace(" ", "").split(",") if i]


def ensure(env: Mapping[str, str], az: Az, set_env: Callable[[str, str], None]) -> None:
    if _topology(env) != "direct":
        print("API_TOPOLOGY=linked: Static Web Apps signs users in; no app registration needed.")
        return
    api_id = env.get("ENTRA_API_CLIENT_ID", "").strip()
    spa_id = env.get("ENTRA_SPA_CLIENT_ID", "").strip()
    if api_id and spa_id:
        # Set by an earlier run or by you: nothing to do (and no az login needed).
        print(f"Using app registrations: API {api_id}, page {spa_id}.")
        return

    tenant = az("account", "show", "--query", "tenantId")
    wanted_tenant = env.get("ENTRA_TENANT_ID", "").strip()
    if wanted_tenant and wanted_tenant != tenant:
        raise SetupError(
            f"The Azure CLI is signed in to tenant {tenant}, but ENTRA_TENANT_ID is "
            f"{wanted_tenant}: run `az login --tenant {wanted_tenant}`."
        )
    env_name = env.get("AZURE_ENV_NAME", "").strip() or "chatkit"
    owned = _owned(env)

    api, api_owned = _find_or_create(az, f"chatkit-{env_name}-api", api_id)
    scopes = (api.get("api") or {}).get("oauth2PermissionScopes") or []
    scope_id = next((s["id"] for s in scopes if s.get("value") == SCOPE_VALUE), None)
    if api_owned:
        scope_id = scope_id or str(uuid.uuid4())
        az.patch_application(api["id"], api_manifest(api["appId"], scope_id))
        _ensure_service_principal(az, api["appId"])
        owned.append(api["appId"])
    elif scope_id is None:
        # The app requires this scope in tokens (ENTRA_REQUIRED_SCOPE, default user_impersonation).
        raise SetupError(
            f"App registration {api['appId']} exposes no {SCOPE_VALUE!r} scope: add it, or "
            "create the page's registration yourself and set ENTRA_SPA_CLIENT_ID, "
            "ENTRA_API_SCOPE and the app setting ENTRA_REQUIRED_SCOPE."
        )

    spa, spa_owned = _find_or_create(az, f"chatkit-{env_name}-web", spa_id)
    if spa_owned:
        redirect_uris = (spa.get("spa") or {}).get("redirectUris") or []
        az.patch_application(spa["id"], spa_manifest(api["appId"], scope_id, redirect_uris))
        _ensure_service_principal(az, spa["appId"])
        owned.append(spa["appId"])
    if api_owned:
        # Now that the page exists, pre-authorize it for the scope (no consent prompt).
        az.patch_application(api["id"], api_manifest(api["appId"], scope_id, spa["appId"]))

    for name, value in (
        ("ENTRA_TENANT_ID", tenant),
        ("ENTRA_API_CLIENT_ID", api["appId"]),
        ("ENTRA_SPA_CLIENT_ID", spa["appId"]),
        ("ENTRA_API_SCOPE", env.get("ENTRA_API_SCOPE") or f"api://{api['appId']}/{SCOPE_VALUE}"),
        ("ENTRA_OWNED_APP_IDS", ",".join(dict.fromkeys(owned))),
    ):
        set_env(name, value)
    print(f"App registrations ready: API {api['appId']}, page {spa['appId']} (tenant {tenant}).")


def update_redirect_uris(
    env: Mapping[str, str], az: Az, set_env: Callable[[str, str], None]
) -> None:
    if _topology(env) != "direct":
        return
    spa_id = env.get("ENTRA_SPA_CLIENT_ID", "").strip()
    web_uri = env.get("SERVICE_WEB_URI", "").strip()
    if not spa_id or not web_uri:
        raise SetupError("ENTRA_SPA_CLIENT_ID and SERVICE_WEB_URI must be set (run azd provision).")
    wanted = merge_redirect_uris([], web_uri)[0]
    if env.get("ENTRA_REDIRECT_URI", "").strip() == wanted:
        return  # added by an earlier run: no az login needed
    try:
        spa = az("ad", "app", "show", "--id", spa_id, "--query", "{id:id, spa:spa}")
        existing = (spa.get("spa") or {}).get("redirectUris") or []
        merged = merge_redirect_uris(existing, web_uri)
        if merged != existing:
            az.patch_application(spa["id"], {"spa": {"redirectUris": merged}})
            print(f"Added {wanted} as a redirect URI of the page's app registration.")
        set_env("ENTRA_REDIRECT_URI", wanted)
    except SetupError as exc:
        if spa_id in _owned(env):
            raise
        # Someone else's registration: say what to add instead of failing the deployment.
        print(
            f"warning: could not update app registration {spa_id} ({exc}). Add {wanted} as a "
            "'Single-page application' redirect URI, or sign-in will fail.",
            file=sys.stderr,
        )


def delete(env: Mapping[str, str], az: Az, set_env: Callable[[str, str], None]) -> None:
    owned = _owned(env)
    if not owned:
        print("No app registrations were created by this script; nothing to delete.")
        return
    for app_id in owned:
        az("ad", "app", "delete", "--id", app_id)
        print(f"Deleted app registration {app_id}.")
    api_id = env.get("ENTRA_API_CLIENT_ID", "").strip()
    cleared = ["ENTRA_REDIRECT_URI", "ENTRA_OWNED_APP_IDS"]
    if api_id in owned:
        cleared += ["ENTRA_API_CLIENT_ID", "ENTRA_API_SCOPE"]
    if env.get("ENTRA_SPA_CLIENT_ID", "").strip() in owned:
        cleared.append("ENTRA_SPA_CLIENT_ID")
    for name in cleared:
        set_env(name, "")


def azd_env_set(name: str, value: str) -> None:
    azd = shutil.which("azd")
    if not azd:
        raise SetupError(f"azd is not on PATH; run `azd env set {name} {value}` yourself.")
    subprocess.run([azd, "env", "set", name, value], check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("ensure", "redirect-uris", "delete"))
    args = parser.parse_args(argv)
    az = Az()
    env = azd_env.environment()
    try:
        if args.command == "ensure":
            ensure(env, az, azd_env_set)
        elif args.command == "redirect-uris":
            update_redirect_uris(env, az, azd_env_set)
        else:
            delete(env, az, azd_env_set)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
