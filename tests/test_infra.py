"""Offline checks that `infra/` (Bicep, parameters, azd hooks) and `azure.yaml` stay in step
with the code. Bicep cannot be compiled here, so the .bicep files are read as text: comments
and strings are handled, blocks are matched by their braces, and literal values (the Cosmos
DB indexing policy, CORS rules) are parsed into Python values. Each failure names what
drifted and where to fix it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import SecretStr, ValidationError

from shared.settings import Settings
from shared.stores import cosmos as cosmos_store

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"
HOOKS = INFRA / "hooks"

# ── What the deployment promises ─────────────────────────────────────────────────────────

# Settings of shared/settings.py the Function app does not set, and why (the app's default is
# right in Azure, or the setting is for local runs only). A new setting must be either set in
# infra/modules/function-app.bicep (appSettings) or added here with its reason.
OPTIONAL_SETTINGS = {
    "ANONYMOUS_COOKIE_SAMESITE": "only for AUTH_MODE=anonymous, which the deployment does not use",
    "MAX_MESSAGE_CHARS": "app default (32,000 characters)",
    "MAX_JSON_DEPTH": "app default (32 levels)",
    "MAX_TITLE_CHARS": "app default (200 characters, the page's rename box)",
    "THREADS_PER_MINUTE": "app default (30 new conversations per user per minute)",
    "APPLICATIONINSIGHTS_LIVE_METRICS": "off by default: its start-up stalls each instance's "
    "first streamed answer (docs/observability.md)",
    "OPENAI_BASE_URL": "OpenAI-compatible servers are a local option; Azure OpenAI is deployed",
    "OPENAI_MODEL": "only for the openai provider, which the deployment does not configure",
    "OPENAI_MODEL_API": "only for the openai provider",
    "MODEL_API": "AZURE_OPENAI_MODEL_API is set for the one deployed provider",
    "MODELS": "default: one entry for the deployed model; set it to offer several deployments",
    "DEFAULT_MODEL": "default: the deployed model",
    "MODEL_TIMEOUT_SECONDS": "default suits streamed turns",
    "MODEL_MAX_RETRIES": "default suits streamed turns",
    "ATTACHMENT_MAX_BYTES": "app default (20 MB)",
    "ATTACHMENT_TYPES": "app default",
    "ATTACHMENT_IMAGE_INPUT": "data_url needs no model-side access to Blob",
    "ATTACHMENT_URL_TTL_SECONDS": "app default (5 minutes)",
    "MAX_ATTACHMENTS_PER_MESSAGE": "app default",
    "MODEL_ATTACHMENT_MAX_BYTES": "app default (20 MB per model request)",
    "MODEL_ATTACHMENT_MAX_COUNT": "app default (5 attachments per model request)",
    "WEATHER_API_URL": "public Open-Meteo default",
    "WEATHER_GEOCODING_URL": "public Open-Meteo default",
    "WEATHER_TIMEOUT_SECONDS": "app default",
    "ENTRA_REQUIRED_SCOPE": "default user_impersonation: the scope infra/hooks/entra_app.py adds",
    "ENTRA_AUTHORITY_HOST": "public cloud default",
    "LOCAL_USER_ID": "AUTH_MODE=local only, never deployed",
    "DATA_DIR": "embedded store only; the deployment uses Cosmos DB and Blob Storage",
    "DEFAULT_USE_CASE": "app default",
    "HISTORY_LIMIT": "app default",
    "MAX_REQUEST_BYTES": "app default",
    "TITLE_TIMEOUT_SECONDS": "app default",
    "STOP_POLL_SECONDS": "app default",
    "TURN_LEASE_SECONDS": "app default (60 s)",
    "OTEL_SERVICE_NAME": "app default (chatkit-api)",
    "WARM_UP": "app default (on): cold instances start their imports at once",
}

# App settings that are not fields of shared/settings.py: read by the Functions host, the
# Azure SDK, or code that is not (yet) behind the settings module.
EXTRA_APP_SETTINGS = {
    "AzureWebJobsStorage__accountName": "Functions host storage, identity-based",
    "AzureWebJobsStorage__credential": "Functions host storage, identity-based",
    "AzureWebJobsStorage__clientId": "Functions host storage: the user-assigned identity",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Functions host telemetry (and the app's)",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra-authenticated telemetry ingestion",
    "PYTHON_ENABLE_INIT_INDEXING": "Python worker: required for HTTP streaming on <= 3.12",
    "AZURE_CLIENT_ID": "azure-identity: DefaultAzureCredential picks the user-assigned identity",
    "ENTRA_TENANT_ID": "AUTH_MODE=entra bearer validation",
    "ENTRA_AUDIENCE": "AUTH_MODE=entra bearer validation",
    "CORS_ALLOWED_ORIGINS": "the page's origin (direct topology); platform CORS is set too",
}

# Never app settings on Flex Consumption: replaced by functionAppConfig, or key-based.
FLEX_FORBIDDEN_SETTINGS = {
    "AzureWebJobsStorage",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
}

# Azure's documented built-in role ids (the same in every tenant). The Cosmos DB role is a
# Cosmos SQL role definition (data plane), not an Azure RBAC role.
BUILT_IN_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Delegator": "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Cosmos DB Built-in Data Reader": "00000000-0000-0000-0000-000000000001",
    "Cosmos DB Built-in Data Contributor": "00000000-0000-0000-0000-000000000002",
}

# Least privilege: every grant to the app's identity, as (role, type of the scope resource).
APP_GRANTS = {
    ("storageBlobDataOwner", "Microsoft.Storage/storageAccounts"),  # host storage only
    ("storageBlobDataContributor", "Microsoft.Storage/storageAccounts/blobServices/containers"),
    ("storageBlobDelegator", "Microsoft.Storage/storageAccounts"),
    ("cognitiveServicesOpenAiUser", "Microsoft.CognitiveServices/accounts"),
    ("monitoringMetricsPublisher", "Microsoft.Insights/components"),
}
# The deployer, for local development against the cloud: the app's data access, no more.
DEPLOYER_GRANTS = {
    ("storageBlobDataContributor", "Microsoft.Storage/storageAccounts/blobServices/containers"),
    ("storageBlobDelegator", "Microsoft.Storage/storageAccounts"),
    ("cognitiveServicesOpenAiUser", "Microsoft.CognitiveServices/accounts"),
}

# Parameter-file variables that are also Bicep outputs: azd feeds the output back in on the
# next provision, so each must be the parameter's own (possibly defaulted) value.
ROUND_TRIP_VARIABLES = {
    "AZURE_LOCATION",
    "AZURE_RESOURCE_GROUP",
    "API_TOPOLOGY",
    "ENTRA_TENANT_ID",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_MODEL_API",
}

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CONNECTION_?STRING|SAS", re.IGNORECASE)


# ── Reading Bicep as text ────────────────────────────────────────────────────────────────


def _skip_string(text: str, i: int) -> int:
    """Index just past the string literal starting at text[i] ("'")."""
    if text.startswith("'''", i):
        end = text.find("'''", i + 3)
        return len(text) if end < 0 else end + 3
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "'":
            return i + 1
        i += 1
    return i


def strip_comments(text: str) -> str:
    """The Bicep text without // and /* */ comments (strings are left alone)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "'":
            end = _skip_string(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def matching_close(text: str, start: int) -> int:
    """Index of the bracket closing the one at text[start]."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack, i = [pairs[text[start]]], start + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            i = _skip_string(text, i)
            continue
        if char in pairs:
            stack.append(pairs[char])
        elif char in ")]}":
            if char != stack.pop():
                raise ValueError(f"unbalanced {char!r} at {i}")
            if not stack:
                return i
        i += 1
    raise ValueError("unclosed bracket")


def entries(body: str) -> dict[str, str]:
    """Top-level `key: value` pairs of an object body (the text between its braces)."""
    result: dict[str, str] = {}
    segments, depth, start, i = [], 0, 0, 0
    while i < len(body):
        char = body[i]
        if char == "'":
            i = _skip_string(body, i)
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char in "\n," and depth == 0:
            segments.append(body[start:i])
            start = i + 1
        i += 1
    segments.append(body[start:])
    for segment in segments:
        match = re.match(r"\s*('?)([\w.\-$]+)\1\s*:\s*(.*)", segment, re.DOTALL)
        if match:
            result[match.group(2)] = match.group(3).strip()
    return result


def inner(value: str) -> str:
    """The body of an object or array value."""
    value = value.strip()
    assert value[0] in "{[", f"not an object or array: {value[:60]!r}"
    return value[1 : matching_close(value, 0)]


def path(value: str, *keys: str) -> str:
    for key in keys:
        found = entries(inner(value))
        assert key in found, f"no {key!r} in {value[:80]!r}"
        value = found[key]
    return value


def parse_literal(text: str) -> Any:
    """A Bicep literal (objects, arrays, strings, numbers, booleans, null) as Python data.
    Raises ValueError for anything else (an expression)."""
    tokens = re.findall(r"'(?:[^'\\]|\\.)*'|-?\d+|[{}\[\]:]|[A-Za-z_$][\w$]*|\S", text)
    position = 0

    def value() -> Any:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "{":
            obj = {}
            while tokens[position] != "}":
                key = tokens[position].strip("'")
                if tokens[position + 1] != ":":
                    raise ValueError(f"expected ':' after {key!r}")
                position += 2
                obj[key] = value()
                while tokens[position] == ",":
                    position += 1
            position += 1
            return obj
        if token == "[":
            items = []
            while tokens[position] != "]":
                items.append(value())
                while tokens[position] == ",":
                    position += 1
            position += 1
            return items
        if token.startswith("'"):
            if "${" in token:
                raise ValueError(f"interpolated string {token}")
            return token[1:-1].replace("\\'", "'")
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        literals = {"true": True, "false": False, "null": None}
        if token in literals:
            return literals[token]
        raise ValueError(f"not a literal: {token!r}")

    result = value()
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r}")
    return result


def string_literals(value: str) -> list[str]:
    return [s[1:-1] for s in re.findall(r"'(?:[^'\\]|\\.)*'", value) if "${" not in s]


@dataclass
class Resource:
    file: str
    symbol: str
    type: str
    existing: bool
    condition: str | None
    body: str

    @property
    def props(self) -> dict[str, str]:
        return entries(self.body)


@dataclass
class Bicep:
    name: str
    text: str  # without comments

    def params(self) -> dict[str, tuple[str, str | None]]:
        found = re.findall(r"^param\s+(\w+)\s+(\w+)(?:[ \t]*=[ \t]*(.+))?$", self.text, re.M)
        return {name: (kind, default.strip() if default else None) for name, kind, default in found}

    def decorated_allowed(self, param: str) -> list[Any] | None:
        """The @allowed([...]) values of a parameter, if any."""
        match = re.search(
            rf"((?:^@.*\n(?:(?!^param\b).*\n)*?)+)^param\s+{param}\b", self.text, re.M
        )
        if not match:
            return None
        decorators = match.group(1)
        allowed = decorators.find("@allowed(")
        if allowed < 0:
            return None
        start = decorators.index("[", allowed)
        return parse_literal(decorators[start : matching_close(decorators, start) + 1])

    def outputs(self) -> dict[str, tuple[str, str]]:
        found = re.findall(r"^output\s+(\w+)\s+(\w+)\s*=\s*(.+)$", self.text, re.M)
        return {name: (kind, expr.strip()) for name, kind, expr in found}

    def var(self, name: str) -> str:
        match = re.search(rf"^var\s+{name}\s*=\s*", self.text, re.M)
        assert match, f"{self.name}: no `var {name}`"
        start = match.end()
        if self.text[start] in "{[":
            return self.text[start : matching_close(self.text, start) + 1]
        return self.text[start : self.text.index("\n", start)].strip()

    def resources(self) -> list[Resource]:
        found = []
        pattern = re.compile(
            r"^resource\s+(\w+)\s+'([^'@]+)@[^']+'(\s+existing)?\s*=\s*"
            r"(?:if\s*(\(.*?\))\s*)?\{",
            re.M,
        )
        for match in pattern.finditer(self.text):
            start = match.end() - 1
            body = self.text[start + 1 : matching_close(self.text, start)]
            found.append(
                Resource(
                    self.name,
                    match.group(1),
                    match.group(2),
                    bool(match.group(3)),
                    match.group(4),
                    body,
                )
            )
        return found

    def resource(self, symbol: str) -> Resource:
        for resource in self.resources():
            if resource.symbol == symbol:
                return resource
        raise AssertionError(f"{self.name}: no resource `{symbol}`")

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources() if r.type == type_ and not r.existing]

    def modules(self) -> dict[str, tuple[str, str | None, str]]:
        """symbol -> (path, condition, body)."""
        found = {}
        pattern = re.compile(r"^module\s+(\w+)\s+'([^']+)'\s*=\s*(?:if\s*(\(.*?\))\s*)?\{", re.M)
        for match in pattern.finditer(self.text):
            start = match.end() - 1
            body = self.text[start + 1 : matching_close(self.text, start)]
            found[match.group(1)] = (match.group(2), match.group(3), body)
        return found

    def module_params(self, symbol: str) -> dict[str, str]:
        return entries(inner(entries(self.modules()[symbol][2])["params"]))


@cache
def bicep(relative: str) -> Bicep:
    return Bicep(relative, strip_comments((INFRA / relative).read_text(encoding="utf-8")))


def all_bicep() -> list[Bicep]:
    return [bicep(str(p.relative_to(INFRA))) for p in sorted(INFRA.rglob("*.bicep"))]


MAIN = "main.bicep"
FUNCTION_APP = "modules/function-app.bicep"


def app_settings() -> dict[str, str]:
    return entries(inner(bicep(FUNCTION_APP).var("appSettings")))


def settings_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def secret_settings() -> set[str]:
    return {
        name.upper()
        for name, field in Settings.model_fields.items()
        if SecretStr in typing.get_args(field.annotation) or field.annotation is SecretStr
    }


def roles_table() -> dict[str, dict[str, str]]:
    table = json.loads((INFRA / "built-in-roles.json").read_text(encoding="utf-8"))
    return {key: value for key, value in table.items() if not key.startswith("$")}


def load_hook(name: str) -> ModuleType:
    if str(HOOKS) not in sys.path:
        sys.path.insert(0, str(HOOKS))  # as when the hook runs: its siblings are importable
    spec = importlib.util.spec_from_file_location(f"infra_hooks_{name}", HOOKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ── The reader itself ────────────────────────────────────────────────────────────────────


def test_the_bicep_reader_handles_comments_strings_and_nesting() -> None:
    text = strip_comments(
        "var x = { // note\n  a: 'it''s // not a comment'\n  b: [\n    1\n    'two'\n  ]\n"
        "  c: { d: true, e: null }\n  /* gone */ f: cond ? 'x' : 'y'\n}\n"
    )
    found = entries(inner(text[text.index("{") :]))
    assert set(found) == {"a", "b", "c", "f"}
    assert parse_literal(found["b"]) == [1, "two"]
    assert parse_literal(found["c"]) == {"d": True, "e": None}
    assert string_literals(found["f"]) == ["x", "y"]
    with pytest.raises(ValueError):
        parse_literal(found["f"])


# ── Settings: what shared/ reads is what the Function app gets ───────────────────────────


def test_every_setting_is_set_in_the_function_app_or_documented_as_optional() -> None:
    names = settings_names()
    secrets = secret_settings()
    set_in_bicep = set(app_settings())
    missing = sorted(names - secrets - set_in_bicep - set(OPTIONAL_SETTINGS))
    assert not missing, (
        f"shared/settings.py reads {missing}, which {FUNCTION_APP} (var appSettings) does not "
        "set: set them there, or add them to OPTIONAL_SETTINGS in tests/test_infra.py with why "
        "the app's default is right in Azure."
    )
    stale = sorted(set(OPTIONAL_SETTINGS) - names)
    assert not stale, f"OPTIONAL_SETTINGS names settings shared/settings.py no longer has: {stale}"
    both = sorted(set(OPTIONAL_SETTINGS) & set_in_bicep)
    assert not both, f"{both} are set in {FUNCTION_APP} but listed as optional: pick one."


def test_no_secret_setting_and_no_unknown_setting_in_the_function_app() -> None:
    settings = app_settings()
    secrets = sorted(secret_settings() & set(settings))
    assert not secrets, f"{FUNCTION_APP} sets secret settings {secrets}: the deployment is keyless."
    unknown = sorted(set(settings) - settings_names() - set(EXTRA_APP_SETTINGS))
    assert not unknown, (
        f"{FUNCTION_APP} sets {unknown}, which shared/settings.py does not read: add them to "
        "EXTRA_APP_SETTINGS in tests/test_infra.py with what reads them, or remove them."
    )
    forbidden = sorted(FLEX_FORBIDDEN_SETTINGS & set(settings))
    assert not forbidden, f"{forbidden} must not be app settings on Flex Consumption."


def _literal_choices(value: str) -> list[str]:
    """The values a setting can take when Bicep gives it as a literal or a two-way choice of
    literals (`cond ? 'a' : 'b'`); empty when it is computed."""
    literal = r"'[^'$]*'"
    value = value.strip()
    if re.fullmatch(literal, value):
        return [value[1:-1]]
    match = re.fullmatch(rf"\w+ \? ({literal}) : ({literal})", value)
    return [match.group(1)[1:-1], match.group(2)[1:-1]] if match else []


def test_literal_setting_values_are_valid_for_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in settings_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in app_settings().items():
        if name not in settings_names():
            continue
        for literal in _literal_choices(value):
            try:
                Settings(**{name.lower(): literal})
            except ValidationError as exc:
                # Only this field's own errors (AUTH_MODE=entra alone also lacks its tenant).
                errors = [e for e in exc.errors() if e["loc"][:1] == (name.lower(),)]
                assert not errors, f"{FUNCTION_APP}: {name}={literal!r} is invalid: {errors}"


def test_app_settings_are_the_function_apps_only_settings() -> None:
    function_app = bicep(FUNCTION_APP)
    config = function_app.of_type("Microsoft.Web/sites/config")
    assert [(r.props["name"], r.props["properties"]) for r in config] == [
        ("'appsettings'", "appSettings")
    ], "the Function app's settings must come from `var appSettings` alone"
    site = function_app.of_type("Microsoft.Web/sites")[0]
    assert "appSettings" not in entries(inner(site.props["properties"])).get("siteConfig", "")


def test_settings_are_wired_to_the_resources_that_back_them() -> None:
    settings = app_settings()
    main = bicep(MAIN)
    api = main.module_params("api")
    expected = {
        "AZURE_OPENAI_ENDPOINT": "openAiEndpoint",
        "AZURE_OPENAI_DEPLOYMENT": "openAiDeployment",
        "COSMOS_ENDPOINT": "cosmosEndpoint",
        "COSMOS_DATABASE": "cosmosDatabaseName",
        "COSMOS_CONTAINER": "cosmosContainerName",
        "AZURE_STORAGE_ACCOUNT_URL": "attachmentsAccountUrl",
        "ATTACHMENTS_CONTAINER": "attachmentsContainerName",
        "AZURE_CLIENT_ID": "identity.properties.clientId",
        "AzureWebJobsStorage__clientId": "identity.properties.clientId",
        "AzureWebJobsStorage__accountName": "hostStorageName",
    }
    for name, value in expected.items():
        assert settings.get(name) == value, f"{FUNCTION_APP}: {name} should be {value}"
    assert settings["COSMOS_CREATE_IF_MISSING"] == "'false'", (
        "the identity's data-plane role cannot create the database or container"
    )
    assert settings["PYTHON_ENABLE_INIT_INDEXING"] == "'1'"
    assert settings["AzureWebJobsStorage__credential"] == "'managedidentity'"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "'Authorization=AAD;ClientId=${identity.properties.clientId}'"
    )
    # One main.bicep value feeds both the resource and the setting that names it.
    cosmos = main.module_params("cosmos")
    storage = main.module_params("storage")
    pairs = [
        (cosmos["databaseName"], api["cosmosDatabaseName"], "Cosmos DB database"),
        (cosmos["containerName"], api["cosmosContainerName"], "Cosmos DB container"),
        (storage["attachmentsContainerName"], api["attachmentsContainerName"], "container"),
        ("cosmos.outputs.endpoint", api["cosmosEndpoint"], "Cosmos DB endpoint"),
        ("storage.outputs.attachmentsAccountUrl", api["attachmentsAccountUrl"], "Blob account"),
        ("openAiAccess.outputs.endpoint", api["openAiEndpoint"], "Azure OpenAI endpoint"),
    ]
    for resource_side, setting_side, what in pairs:
        assert resource_side == setting_side, f"main.bicep wires a different {what} into the app"
    # Retention: COSMOS_TTL_SECONDS and the container's TTL come from the same parameter.
    assert api["cosmosTtlSeconds"] == "retentionDays * 86400"
    assert cosmos["ttlEnabled"] == "retentionDays > 0"
    assert settings["COSMOS_TTL_SECONDS"] == "string(cosmosTtlSeconds)"


# ── Topology ─────────────────────────────────────────────────────────────────────────────


def test_topology_parameter_switches_auth_plan_cors_and_link_together() -> None:
    main = bicep(MAIN)
    assert main.decorated_allowed("apiTopology") == ["direct", "linked"]
    assert main.params()["apiTopology"][1] == "'direct'"
    assert main.var("isDirect") == "apiTopology == 'direct'"
    assert main.module_params("web")["sku"] == "isDirect ? 'Free' : 'Standard'"
    assert main.modules()["apiLink"][1] == "(!isDirect)", (
        "the link exists in the linked topology only"
    )
    link = bicep("modules/linked-backend.bicep").of_type("Microsoft.Web/staticSites/linkedBackends")
    assert link and "backendResourceId" in inner(link[0].props["properties"])

    function_app = bicep(FUNCTION_APP)
    assert function_app.var("isDirect") == "apiTopology == 'direct'"
    settings = app_settings()
    assert settings["AUTH_MODE"] == "isDirect ? 'entra' : 'platform'"
    assert settings["ENTRA_TENANT_ID"] == "isDirect ? entraTenantId : ''"
    assert settings["ENTRA_AUDIENCE"] == "isDirect ? entraAudience : ''"
    assert settings["CORS_ALLOWED_ORIGINS"] == "join(browserOrigins, ',')"
    assert function_app.var("browserOrigins") == "isDirect ? [staticWebAppUrl] : []"
    site = function_app.of_type("Microsoft.Web/sites")[0]
    cors = path(site.props["properties"], "siteConfig", "cors")
    assert entries(inner(cors))["allowedOrigins"] == "browserOrigins"
    assert entries(inner(cors))["supportCredentials"] == "false"
    # The page's origin is what both CORS lists get.
    assert main.module_params("api")["staticWebAppUrl"] == "web.outputs.uri"
    assert main.module_params("storage")["browserOrigins"] == "[web.outputs.uri]"
    # Audience default: the v2 (client id) and v1 (api:// URI) forms of the API registration.
    assert main.var("audience") == (
        "empty(entraAudience) ? '${entraApiClientId},api://${entraApiClientId}' : entraAudience"
    )


# ── Flex Consumption ─────────────────────────────────────────────────────────────────────


def test_function_app_is_flex_consumption_with_identity_based_storage() -> None:
    function_app = bicep(FUNCTION_APP)
    (plan,) = function_app.of_type("Microsoft.Web/serverfarms")
    assert parse_literal(plan.props["sku"]) == {"name": "FC1", "tier": "FlexConsumption"}
    assert entries(inner(plan.props["properties"]))["reserved"] == "true"

    (site,) = function_app.of_type("Microsoft.Web/sites")
    assert site.props["kind"] == "'functionapp,linux'"
    assert entries(inner(site.props["identity"]))["type"] == "'UserAssigned'"
    properties = site.props["properties"]
    assert entries(inner(properties))["httpsOnly"] == "true"
    config = path(properties, "functionAppConfig")
    storage = path(config, "deployment", "storage")
    assert entries(inner(storage))["type"] == "'blobContainer'"
    assert entries(inner(path(storage, "authentication")))["type"] == "'UserAssignedIdentity'"
    runtime = entries(inner(path(config, "runtime")))
    assert runtime == {"name": "'python'", "version": "pythonVersion"}
    scale = entries(inner(path(config, "scaleAndConcurrency")))
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    assert scale["alwaysReady"] == "alwaysReady"
    always_ready = "[{ name: 'http', instanceCount: alwaysReadyInstanceCount }]"
    assert function_app.var("alwaysReady") == f"alwaysReadyInstanceCount > 0 ? {always_ready} : []"
    assert path(config, "scaleAndConcurrency", "triggers", "http", "perInstanceConcurrency") == (
        "httpPerInstanceConcurrency"
    )

    main = bicep(MAIN)
    params = main.params()
    assert params["alwaysReadyInstanceCount"][1] == "0", "pure pay-per-request by default"
    assert int(params["httpPerInstanceConcurrency"][1]) > 1, "long streams share an instance"
    assert set(main.decorated_allowed("pythonVersion")) <= {"3.10", "3.11", "3.12"}
    for name in ("alwaysReadyInstanceCount", "maximumInstanceCount", "instanceMemoryMB"):
        assert main.module_params("api")[name] == name


# ── Cosmos DB: the container the store expects ───────────────────────────────────────────


def _store_partition_key_kind() -> tuple[str, Any]:
    """The kind the store passes to PartitionKey(...) and the default_ttl it uses, read from
    shared/stores/cosmos.py's source (they are call arguments, not constants)."""
    tree = ast.parse(Path(cosmos_store.__file__).read_text(encoding="utf-8"))
    kinds, ttls = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PartitionKey":
            keywords = {k.arg: k.value for k in node.keywords}
            assert isinstance(keywords["path"], ast.Name) and keywords["path"].id == (
                "PARTITION_PATHS"
            )
            kinds.append(ast.literal_eval(keywords["kind"]))
        if isinstance(node, ast.keyword) and node.arg == "default_ttl":
            ttls.append(ast.unparse(node.value))
    assert len(kinds) == 1 and len(ttls) == 1, "the store creates its container in one place"
    return kinds[0], ttls[0]


def test_cosmos_container_matches_the_store() -> None:
    from azure.cosmos import PartitionKey

    (container,) = bicep("modules/cosmos.bicep").of_type(
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"
    )
    resource = entries(inner(path(container.props["properties"], "resource")))
    kind, store_ttl = _store_partition_key_kind()
    expected_key = dict(PartitionKey(path=cosmos_store.PARTITION_PATHS, kind=kind))
    assert parse_literal(resource["partitionKey"]) == expected_key, (
        "modules/cosmos.bicep partitionKey differs from the store's "
        f"PartitionKey(path=PARTITION_PATHS, kind={kind!r}) = {expected_key}"
    )
    assert parse_literal(resource["indexingPolicy"]) == cosmos_store.INDEXING_POLICY, (
        "modules/cosmos.bicep indexingPolicy differs from shared/stores/cosmos.py INDEXING_POLICY"
    )
    # TTL on (-1: per document) when retention is on, as the store does when it creates it.
    assert "-1" in store_ttl
    assert resource["defaultTtl"] == "ttlEnabled ? -1 : null"


def test_cosmos_account_is_serverless_keyless_and_grants_items_only() -> None:
    cosmos = bicep("modules/cosmos.bicep")
    (account,) = cosmos.of_type("Microsoft.DocumentDB/databaseAccounts")
    properties = entries(inner(account.props["properties"]))
    assert properties["disableLocalAuth"] == "true"
    assert properties["disableKeyBasedMetadataWriteAccess"] == "true"
    assert properties["minimalTlsVersion"] == "'Tls12'"
    assert parse_literal(properties["capabilities"]) == [{"name": "EnableServerless"}]
    grants = cosmos.of_type("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert {g.symbol for g in grants} == {"appDataAccess", "deployerDataAccess"}
    for grant in grants:
        props = entries(inner(grant.props["properties"]))
        role = cosmos.var(props["roleDefinitionId"])
        assert role == (
            "'${account.id}/sqlRoleDefinitions/${roles.cosmosDbBuiltInDataContributor.id}'"
        )
        scope = cosmos.var(props["scope"])
        assert scope == "'${account.id}/dbs/${database.name}'", "scoped to the app's database"
    principals = {entries(inner(g.props["properties"]))["principalId"] for g in grants}
    assert principals == {"appPrincipalId", "deployerPrincipalId"}


# ── Roles: documented built-in ids, least privilege ──────────────────────────────────────


def test_role_table_holds_the_documented_built_in_ids() -> None:
    for key, role in roles_table().items():
        assert role["name"] in BUILT_IN_ROLES, f"built-in-roles.json: unknown role {role['name']}"
        assert role["id"] == BUILT_IN_ROLES[role["name"]], (
            f"built-in-roles.json: {key} ({role['name']}) has id {role['id']}, Azure documents "
            f"{BUILT_IN_ROLES[role['name']]}"
        )


def test_bicep_refers_to_roles_only_through_the_table() -> None:
    table = roles_table()
    for file in all_bicep():
        guids = GUID.findall(file.text)
        assert not guids, f"{file.name} has GUID literals {guids}: use built-in-roles.json"
        for key in re.findall(r"(?<![\w-])roles\.(\w+)", file.text):
            assert key in table, f"{file.name} uses roles.{key}, which built-in-roles.json lacks"
        if "roles." in file.text:
            assert "var roles = loadJsonContent('../built-in-roles.json')" in file.text


def _role_assignments() -> list[tuple[str, str, str, str]]:
    """(file, principal, role key, scope resource type) of every Azure RBAC assignment."""
    found = []
    for file in all_bicep():
        types = {r.symbol: r.type for r in file.resources()}
        for resource in file.of_type("Microsoft.Authorization/roleAssignments"):
            props = resource.props
            assert "scope" in props, (
                f"{file.name}: {resource.symbol} has no scope, so it would apply to the whole "
                "resource group"
            )
            properties = entries(inner(props["properties"]))
            match = re.fullmatch(
                r"subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', "
                r"roles\.(\w+)\.id\)",
                properties["roleDefinitionId"],
            )
            assert match, f"{file.name}: {resource.symbol} role is not a built-in-roles.json entry"
            assert "principalType" in properties, f"{file.name}: {resource.symbol} principalType"
            assert props["scope"] in types, (
                f"{file.name}: {resource.symbol} scope is not a resource"
            )
            found.append(
                (file.name, properties["principalId"], match.group(1), types[props["scope"]])
            )
    return found


def test_app_identity_and_deployer_get_exactly_the_least_privileged_roles() -> None:
    assignments = _role_assignments()
    app = {
        (role, scope) for _, principal, role, scope in assignments if principal == "appPrincipalId"
    }
    deployer = {
        (role, scope)
        for _, principal, role, scope in assignments
        if principal == "deployerPrincipalId"
    }
    others = {a for a in assignments if a[1] not in ("appPrincipalId", "deployerPrincipalId")}
    assert app == APP_GRANTS, f"app identity grants drifted: {sorted(app ^ APP_GRANTS)}"
    assert deployer == DEPLOYER_GRANTS, (
        f"deployer grants drifted: {sorted(deployer ^ DEPLOYER_GRANTS)}"
    )
    assert not others, f"role assignments to unexpected principals: {others}"
    # Blob Data Owner only on the Functions host's account, never where attachments live.
    owner = [a for a in assignments if a[2] == "storageBlobDataOwner"]
    storage = bicep("modules/storage.bicep")
    assert [storage.resource("appHostStorageOwner").props["scope"]] == ["hostStorage"]
    assert len(owner) == 1


def test_main_passes_the_identity_and_the_deployer_to_every_grant() -> None:
    main = bicep(MAIN)
    for module in ("monitoring", "storage", "cosmos", "openAiAccess"):
        assert main.module_params(module)["appPrincipalId"] == "identity.outputs.principalId"
    for module in ("storage", "cosmos", "openAiAccess"):
        assert main.module_params(module)["deployerPrincipalId"] == "deployerPrincipalId"
    assert main.var("deployerPrincipalId") == "deployerDataAccess ? principalId : ''"


# ── Security posture ─────────────────────────────────────────────────────────────────────


def test_storage_accounts_are_keyless_private_and_tls12() -> None:
    storage = bicep("modules/storage.bicep")
    accounts = storage.of_type("Microsoft.Storage/storageAccounts")
    assert {a.symbol for a in accounts} == {"hostStorage", "filesStorage"}
    for account in accounts:
        properties = entries(inner(account.props["properties"]))
        for key, value in {
            "allowSharedKeyAccess": "false",
            "allowBlobPublicAccess": "false",
            "minimumTlsVersion": "'TLS1_2'",
            "supportsHttpsTrafficOnly": "true",
            "defaultToOAuthAuthentication": "true",
        }.items():
            assert properties.get(key) == value, f"{account.symbol}: {key} must be {value}"
    for container in storage.of_type("Microsoft.Storage/storageAccounts/blobServices/containers"):
        assert path(container.props["properties"], "publicAccess") == "'None'"


def test_other_services_are_keyless_and_https_only() -> None:
    (openai,) = bicep("modules/openai.bicep").of_type("Microsoft.CognitiveServices/accounts")
    assert entries(inner(openai.props["properties"]))["disableLocalAuth"] == "true"
    (insights,) = bicep("modules/monitoring.bicep").of_type("Microsoft.Insights/components")
    assert entries(inner(insights.props["properties"]))["DisableLocalAuth"] == "true"
    function_app = bicep(FUNCTION_APP)
    (site,) = function_app.of_type("Microsoft.Web/sites")
    site_config = entries(inner(path(site.props["properties"], "siteConfig")))
    assert site_config["minTlsVersion"] == "'1.2'"
    assert site_config["ftpsState"] == "'Disabled'"
    policies = function_app.of_type("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {(p.props["name"], path(p.props["properties"], "allow")) for p in policies} == {
        ("'ftp'", "false"),
        ("'scm'", "false"),
    }


def test_no_keys_or_connection_strings_anywhere() -> None:
    for file in all_bicep():
        calls = re.findall(r"\blist\w*\s*\(|\.list\w*\s*\(", file.text)
        assert not calls, f"{file.name} calls {calls}: keys and connection strings stay unused"
        for marker in ("AccountKey=", "SharedAccessSignature", "primaryKey", "@secure"):
            assert marker not in file.text, f"{file.name} mentions {marker}"
    for name, (_, expr) in bicep(MAIN).outputs().items():
        assert not SECRET_NAME.search(name), f"main.bicep output {name} looks like a secret"
        assert "ConnectionString" not in expr, f"main.bicep output {name} is a connection string"


def test_attachment_storage_cors_admits_what_the_upload_descriptor_sends() -> None:
    # The browser PUTs with the headers shared/attachments/blob.py puts in the descriptor.
    blob = ast.parse((ROOT / "shared/attachments/blob.py").read_text(encoding="utf-8"))
    descriptor = next(
        node
        for node in ast.walk(blob)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "AttachmentUploadDescriptor"
        and any(k.arg == "headers" for k in node.keywords)
    )
    keywords = {k.arg: k.value for k in descriptor.keywords}
    method = ast.literal_eval(keywords["method"])
    headers = {ast.literal_eval(k).lower() for k in keywords["headers"].keys}  # type: ignore[attr-defined]

    storage = bicep("modules/storage.bicep")
    rules = parse_literal(
        path(storage.resource("filesBlob").props["properties"], "cors", "corsRules").replace(
            "browserOrigins", "['ORIGINS']"
        )
    )
    assert len(rules) == 1
    rule = rules[0]
    assert rule["allowedOrigins"] == ["ORIGINS"], "only the page's origins"
    assert method in rule["allowedMethods"], f"CORS must allow the descriptor's {method}"
    assert headers <= set(rule["allowedHeaders"]), f"CORS must allow headers {sorted(headers)}"
    assert "GET" in rule["allowedMethods"], "previews and downloads read with a SAS URL"
    assert "cors" not in storage.resource("hostBlob").body, "no browser reaches the host storage"


def test_attachment_lifecycle_rule_follows_the_retention_parameter() -> None:
    storage = bicep("modules/storage.bicep")
    (policy,) = storage.of_type("Microsoft.Storage/storageAccounts/managementPolicies")
    (rule,) = [
        entries(inner(r)) for r in _array_items(path(policy.props["properties"], "policy", "rules"))
    ]
    assert rule["enabled"] == "attachmentRetentionDays > 0"
    definition = rule["definition"]
    prefixes = re.findall(r"'[^']*'", path(definition, "filters", "prefixMatch"))
    assert prefixes == ["'${attachmentsContainerName}/'"], "the rule covers the attachments only"
    days = path(definition, "actions", "baseBlob", "delete", "daysAfterModificationGreaterThan")
    assert days == "max(attachmentRetentionDays, 1)"
    main = bicep(MAIN)
    assert main.module_params("storage")["attachmentRetentionDays"] == (
        "effectiveAttachmentRetentionDays"
    )
    assert main.var("effectiveAttachmentRetentionDays") == (
        "attachmentRetentionDays > 0 ? attachmentRetentionDays : retentionDays"
    )


def _array_items(array: str) -> list[str]:
    body, items, i = inner(array), [], 0
    while i < len(body):
        if body[i] in "{[":
            end = matching_close(body, i)
            items.append(body[i : end + 1])
            i = end + 1
        else:
            i += 1
    return items


# ── Names, tags, outputs, parameters ─────────────────────────────────────────────────────


def test_names_come_from_the_resource_token_and_resources_are_tagged() -> None:
    main = bicep(MAIN)
    assert main.var("resourceToken") == (
        "toLower(uniqueString(subscription().id, environmentName, location))"
    )
    assert "'azd-env-name': environmentName" in main.var("tags")
    names = entries(inner(main.var("names")))
    for key, value in names.items():
        if key != "resourceGroup":
            assert "${resourceToken}" in value, f"names.{key} must include the resource token"
    for file in all_bicep():
        for resource in file.resources():
            top_level = resource.type.count("/") == 1
            if (
                resource.existing
                or not top_level
                or resource.type.startswith(("Microsoft.Authorization/", "Microsoft.Resources/"))
            ):
                continue
            assert resource.props.get("tags") == "tags", f"{file.name}: {resource.symbol} untagged"


def test_azure_yaml_services_match_the_project_and_the_bicep_tags() -> None:
    config = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))
    assert config["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    services = config["services"]
    assert {name: s["host"] for name, s in services.items()} == {
        "api": "function",
        "web": "staticwebapp",
    }
    api_dir = ROOT / services["api"]["project"]
    for required in ("function_app.py", "host.json", "requirements.txt", ".funcignore"):
        assert (api_dir / required).is_file(), f"api project has no {required}"
    assert services["api"]["language"] == "python"
    web_dir = ROOT / services["web"]["project"]
    package = json.loads((web_dir / "package.json").read_text(encoding="utf-8"))
    assert "build" in package["scripts"], "azd runs the web project's build script"
    vite = (web_dir / "vite.config.ts").read_text(encoding="utf-8")
    assert f'outDir: "{services["web"]["dist"]}"' in vite, "azure.yaml dist != vite outDir"

    # azd finds each service's resource by its azd-service-name tag.
    main = bicep(MAIN)
    resource_types = {"api": "Microsoft.Web/sites", "web": "Microsoft.Web/staticSites"}
    for service, resource_type in resource_types.items():
        modules = [
            symbol
            for symbol in main.modules()
            if f"'azd-service-name': '{service}'" in main.module_params(symbol).get("tags", "")
        ]
        assert len(modules) == 1, f"one module must tag its resource azd-service-name={service}"
        module_file = bicep(main.modules()[modules[0]][0])
        tagged = [r for r in module_file.of_type(resource_type) if r.props.get("tags") == "tags"]
        assert len(tagged) == 1, f"{module_file.name} must create one tagged {resource_type}"


def test_azure_yaml_hooks_exist_for_posix_and_windows() -> None:
    config = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))
    hooks = [(ROOT, name, hook) for name, hook in config["hooks"].items()]
    for service in config["services"].values():
        base = ROOT / service["project"]
        hooks += [(base, name, hook) for name, hook in (service.get("hooks") or {}).items()]
    assert {name for _, name, _ in hooks} >= {"preprovision", "postprovision", "prebuild"}
    for base, name, hook in hooks:
        assert set(hook) >= {"posix", "windows"}, f"hook {name} needs posix and windows variants"
        for platform, shell, suffix in (("posix", "sh", ".sh"), ("windows", "pwsh", ".ps1")):
            variant = hook[platform]
            assert variant["shell"] == shell
            script = (base / variant["run"]).resolve()
            assert script.is_file() and script.suffix == suffix, f"{name}: {variant['run']} missing"


def test_shell_hooks_parse_and_have_powershell_twins() -> None:
    sh = shutil.which("sh")
    for script in sorted(HOOKS.glob("*.sh")):
        assert script.with_suffix(".ps1").is_file(), f"{script.name} has no PowerShell twin"
        if sh:
            result = subprocess.run([sh, "-n", str(script)], capture_output=True, text=True)
            assert result.returncode == 0, f"{script.name}: {result.stderr}"


def test_parameters_file_matches_main_bicep() -> None:
    main = bicep(MAIN)
    params = main.params()
    file = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    given = file["parameters"]
    unknown = sorted(set(given) - set(params))
    assert not unknown, f"main.parameters.json sets {unknown}, which main.bicep does not declare"
    required = sorted(name for name, (_, default) in params.items() if default is None)
    missing = sorted(set(required) - set(given))
    assert not missing, f"main.bicep requires {missing}; main.parameters.json must supply them"

    outputs = main.outputs()
    for name, entry in given.items():
        match = re.fullmatch(r"\$\{(\w+)(?:=(.*))?\}", entry["value"])
        assert match, f"main.parameters.json {name}: use ${{AZD_VARIABLE}} or ${{VAR=default}}"
        variable, default = match.groups()
        assert variable not in outputs or variable in ROUND_TRIP_VARIABLES, (
            f"{name} reads {variable}, which main.bicep also outputs: the output would become "
            "the next provision's input"
        )
        if default is None:
            continue
        allowed = main.decorated_allowed(name)
        kind, bicep_default = params[name]
        typed: Any = {"int": int, "bool": lambda v: v == "true"}.get(kind, str)(default)
        if allowed is not None:
            assert typed in allowed, f"{name}: default {default!r} is not an allowed value"
        if bicep_default is not None:
            assert parse_literal(bicep_default) == typed, (
                f"{name}: main.parameters.json defaults to {default!r}, main.bicep to "
                f"{bicep_default}"
            )


# ── Hooks: the files they write and the outputs they read ────────────────────────────────

DIRECT_ENV = {
    "AZURE_ENV_NAME": "dev",
    "API_TOPOLOGY": "direct",
    "SERVICE_API_URI": "https://func-api-abc.azurewebsites.net",
    "SERVICE_WEB_URI": "https://stapp-web-abc.azurestaticapps.net",
    "ENTRA_TENANT_ID": "11111111-1111-1111-1111-111111111111",
    "ENTRA_API_CLIENT_ID": "22222222-2222-2222-2222-222222222222",
    "ENTRA_SPA_CLIENT_ID": "33333333-3333-3333-3333-333333333333",
    "AZURE_OPENAI_ENDPOINT": "https://oai-abc.openai.azure.com/",
    "AZURE_OPENAI_DEPLOYMENT": "gpt-4.1-mini",
    "AZURE_OPENAI_API_VERSION": "2025-04-01-preview",
    "AZURE_OPENAI_MODEL_API": "responses",
    "COSMOS_ENDPOINT": "https://cosmos-abc.documents.azure.com:443/",
    "COSMOS_DATABASE": "chatkit",
    "COSMOS_CONTAINER": "chat",
    "COSMOS_TTL_SECONDS": "0",
    "AZURE_STORAGE_ACCOUNT_URL": "https://stfilesabc.blob.core.windows.net",
    "ATTACHMENTS_CONTAINER": "attachments",
}


def test_hooks_read_only_outputs_that_main_bicep_writes() -> None:
    local_config = load_hook("local_config")
    entra_app = load_hook("entra_app")
    outputs = set(bicep(MAIN).outputs())
    azd_builtins = {"AZURE_ENV_NAME"}
    for name in (*local_config.OUTPUTS, *entra_app.READS):
        assert name in outputs | azd_builtins, (
            f"the hooks read {name}, which main.bicep never outputs"
        )
    # The parameters the preprovision hook writes are the ones main.parameters.json reads.
    parameters = (INFRA / "main.parameters.json").read_text(encoding="utf-8")
    for name in ("ENTRA_TENANT_ID", "ENTRA_API_CLIENT_ID"):
        assert "${" + name + "}" in parameters


def test_app_config_for_each_topology_fits_the_page(tmp_path: Path) -> None:
    local_config = load_hook("local_config")
    direct = local_config.app_config(DIRECT_ENV)
    assert direct == {
        "apiBaseUrl": "https://func-api-abc.azurewebsites.net",
        "auth": {
            "mode": "entra",
            "provider": "aad",
            "entra": {
                "clientId": DIRECT_ENV["ENTRA_SPA_CLIENT_ID"],
                "authority": f"https://login.microsoftonline.com/{DIRECT_ENV['ENTRA_TENANT_ID']}",
                "scopes": [f"api://{DIRECT_ENV['ENTRA_API_CLIENT_ID']}/user_impersonation"],
            },
        },
        "ui": "auto",
    }
    linked = local_config.app_config({**DIRECT_ENV, "API_TOPOLOGY": "linked"})
    assert linked == {"apiBaseUrl": "", "auth": {"mode": "swa", "provider": "aad"}, "ui": "auto"}
    # The page's parser accepts these modes (static_web/src/boot/runtime-config.ts).
    runtime_config = (ROOT / "static_web/src/boot/runtime-config.ts").read_text(encoding="utf-8")
    for config in (direct, linked):
        assert f'"{config["auth"]["mode"]}"' in runtime_config
        assert set(config) == {"apiBaseUrl", "auth", "ui"}
    # The scope the page asks for is the one the API registration exposes and the app requires.
    entra_app = load_hook("entra_app")
    assert direct["auth"]["entra"]["scopes"][0].endswith("/" + entra_app.SCOPE_VALUE)
    assert Settings.model_fields["entra_required_scope"].default == entra_app.SCOPE_VALUE

    missing = {k: v for k, v in DIRECT_ENV.items() if k != "ENTRA_SPA_CLIENT_ID"}
    with pytest.raises(local_config.ConfigError, match="ENTRA_SPA_CLIENT_ID"):
        local_config.app_config(missing)
    (tmp_path / "static_web").mkdir()
    assert local_config.main(["--root", str(tmp_path), "--only", "app-config"], DIRECT_ENV) == 0
    written = json.loads((tmp_path / "static_web/app-config.json").read_text(encoding="utf-8"))
    assert written == direct


def test_local_settings_point_the_local_host_at_the_cloud_keylessly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_config = load_hook("local_config")
    (tmp_path / "local.settings.json").write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {
                    "COSMOS_KEY": "c2VjcmV0LWtleS1mb3ItdGhlLWxvY2FsLWVtdWxhdG9y",
                    "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
                    "OPENAI_BASE_URL": "http://localhost:11434/v1",
                    "AZURE_CLIENT_ID": "not-locally",
                    "LOG_LEVEL": "DEBUG",
                },
                "Host": {"CORS": "http://localhost:9999"},
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "static_web").mkdir()
    assert local_config.main(["--root", str(tmp_path)], DIRECT_ENV) == 0
    written = json.loads((tmp_path / "local.settings.json").read_text(encoding="utf-8"))
    values = written["Values"]
    assert written["IsEncrypted"] is False
    assert written["Host"] == {"CORS": "http://localhost:9999"}, "your Host section is kept"
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["PYTHON_ENABLE_INIT_INDEXING"] == "1"
    assert values["AUTH_MODE"] == "local"
    assert values["LOG_LEVEL"] == "DEBUG", "your own values are kept"
    assert values["COSMOS_KEY"] == values["AZURE_STORAGE_CONNECTION_STRING"] == ""
    assert "AZURE_CLIENT_ID" not in values, "locally, DefaultAzureCredential is your az login"
    for name in local_config._CLOUD_VALUES:
        assert values[name] == DIRECT_ENV[name], f"local.settings.json {name}"

    # It is a valid configuration for the app: Cosmos DB, Blob keyless, Azure OpenAI.
    for name in settings_names():
        monkeypatch.delenv(name, raising=False)
    known = {k.lower(): v for k, v in values.items() if k.upper() in settings_names()}
    settings = Settings(**known)
    assert settings.store_kind == "cosmos"
    assert settings.attachment_backend == "blob"
    assert settings.azure_storage_connection_string is None and settings.cosmos_key is None
    assert settings.cosmos_create_if_missing is False


def test_deployed_settings_make_a_valid_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Function app's settings, with sample values where Bicep computes them, are a
    configuration the app accepts in both topologies."""
    for name in settings_names():
        monkeypatch.delenv(name, raising=False)
    samples = {
        "AZURE_OPENAI_ENDPOINT": DIRECT_ENV["AZURE_OPENAI_ENDPOINT"],
        "AZURE_OPENAI_DEPLOYMENT": "gpt-4.1-mini",
        "AZURE_OPENAI_API_VERSION": "2025-04-01-preview",
        "AZURE_OPENAI_MODEL_API": "responses",
        "COSMOS_ENDPOINT": DIRECT_ENV["COSMOS_ENDPOINT"],
        "COSMOS_DATABASE": "chatkit",
        "COSMOS_CONTAINER": "chat",
        "COSMOS_TTL_SECONDS": "2592000",
        "AZURE_STORAGE_ACCOUNT_URL": DIRECT_ENV["AZURE_STORAGE_ACCOUNT_URL"],
        "ATTACHMENTS_CONTAINER": "attachments",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
        ),
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD;ClientId=abc",
        "ENTRA_TENANT_ID": DIRECT_ENV["ENTRA_TENANT_ID"],
        "ENTRA_AUDIENCE": f"{DIRECT_ENV['ENTRA_API_CLIENT_ID']},api://x",
        "PUBLIC_BASE_URL": DIRECT_ENV["SERVICE_API_URI"],
        "CORS_ALLOWED_ORIGINS": DIRECT_ENV["SERVICE_WEB_URI"],
        "CHATKIT_DOMAIN_KEY": "",
        "LOG_LEVEL": "INFO",
    }
    for topology, auth_mode in (("direct", "entra"), ("linked", "platform")):
        values = {}
        for name, value in app_settings().items():
            if name not in settings_names():
                continue
            if value.startswith("isDirect ?"):
                value = value.split("?", 1)[1].split(":", 1)[0 if topology == "direct" else 1]
            value = value.strip()
            if re.fullmatch(r"'[^'$]*'", value):
                values[name] = value[1:-1]
            else:
                assert name in samples, f"add a sample value for {name} to this test"
                values[name] = samples[name]
        assert values["AUTH_MODE"] == auth_mode
        settings = Settings(**{k.lower(): v for k, v in values.items()})
        assert settings.store_kind == "cosmos" and settings.attachment_backend == "blob"
        assert settings.auth_mode == auth_mode


class FakeAz:
    """Records az calls and answers like an empty tenant that fills up."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.apps: dict[str, dict[str, Any]] = {}
        self.patches: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, *args: str) -> Any:
        self.calls.append(args)
        if args[:2] == ("account", "show"):
            return "tenant-1"
        if args[:3] == ("ad", "app", "list"):
            name = args[args.index("--display-name") + 1]
            return [a for a in self.apps.values() if a["name"] == name]
        if args[:3] == ("ad", "app", "create"):
            name = args[args.index("--display-name") + 1]
            app_id = f"app-{len(self.apps) + 1}"
            self.apps[app_id] = {"id": f"obj-{app_id}", "appId": app_id, "name": name}
            return self.apps[app_id]
        if args[:3] == ("ad", "app", "show"):
            return self.apps[args[args.index("--id") + 1]]
        if args[:3] == ("ad", "sp", "list"):
            return []
        return None

    retrying = __call__

    def patch_application(self, object_id: str, body: dict[str, Any]) -> None:
        self.patches.append((object_id, body))
        app = next(a for a in self.apps.values() if a["id"] == object_id)
        app.update(body)


def test_entra_app_registrations_are_created_once_and_reused() -> None:
    entra_app = load_hook("entra_app")
    az, env = FakeAz(), {"AZURE_ENV_NAME": "dev", "API_TOPOLOGY": "direct"}
    entra_app.ensure(env, az, env.__setitem__)
    assert {a["name"] for a in az.apps.values()} == {"chatkit-dev-api", "chatkit-dev-web"}
    api = next(a for a in az.apps.values() if a["name"] == "chatkit-dev-api")
    spa = next(a for a in az.apps.values() if a["name"] == "chatkit-dev-web")
    assert api["identifierUris"] == [f"api://{api['appId']}"]
    assert api["api"]["requestedAccessTokenVersion"] == 2
    (scope,) = api["api"]["oauth2PermissionScopes"]
    assert scope["value"] == "user_impersonation" and scope["isEnabled"]
    assert api["api"]["preAuthorizedApplications"] == [
        {"appId": spa["appId"], "delegatedPermissionIds": [scope["id"]]}
    ]
    assert spa["requiredResourceAccess"] == [
        {"resourceAppId": api["appId"], "resourceAccess": [{"id": scope["id"], "type": "Scope"}]}
    ]
    assert env["ENTRA_API_CLIENT_ID"] == api["appId"]
    assert env["ENTRA_SPA_CLIENT_ID"] == spa["appId"]
    assert env["ENTRA_API_SCOPE"] == f"api://{api['appId']}/user_impersonation"
    assert env["ENTRA_TENANT_ID"] == "tenant-1"
    assert set(env["ENTRA_OWNED_APP_IDS"].split(",")) == {api["appId"], spa["appId"]}

    # The next provision: ids are known, no az call at all (no az login needed).
    calls = len(az.calls)
    entra_app.ensure(env, az, env.__setitem__)
    assert len(az.calls) == calls

    # Lost env but same tenant: the registrations are found by name, not duplicated.
    fresh = {"AZURE_ENV_NAME": "dev"}
    entra_app.ensure(fresh, az, fresh.__setitem__)
    assert len(az.apps) == 2 and fresh["ENTRA_API_CLIENT_ID"] == api["appId"]

    # postprovision: the page's origin becomes a SPA redirect URI, once.
    env["SERVICE_WEB_URI"] = DIRECT_ENV["SERVICE_WEB_URI"]
    entra_app.update_redirect_uris(env, az, env.__setitem__)
    assert spa["spa"]["redirectUris"] == [DIRECT_ENV["SERVICE_WEB_URI"] + "/"]
    patches = len(az.patches)
    entra_app.update_redirect_uris(env, az, env.__setitem__)
    assert len(az.patches) == patches

    # Linked topology: nothing to do.
    linked = FakeAz()
    entra_app.ensure({"API_TOPOLOGY": "linked"}, linked, {}.__setitem__)
    assert linked.calls == []


def test_entra_app_leaves_your_own_registrations_alone() -> None:
    entra_app = load_hook("entra_app")
    az = FakeAz()
    az.apps["yours"] = {"id": "obj-yours", "appId": "yours", "name": "your api", "api": {}}
    env = {"AZURE_ENV_NAME": "dev", "ENTRA_API_CLIENT_ID": "yours"}
    with pytest.raises(entra_app.SetupError, match="user_impersonation"):
        entra_app.ensure(env, az, env.__setitem__)
    assert az.patches == [], "a registration you passed in is never modified"
    deleted: list[str] = []
    entra_app.delete({"ENTRA_API_CLIENT_ID": "yours"}, lambda *a: deleted.append(a), {}.__setitem__)
    assert deleted == []


def test_smoke_checks_flag_an_unprotected_linked_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    smoke = load_hook("smoke")
    env = {**DIRECT_ENV, "API_TOPOLOGY": "linked"}
    api, web = env["SERVICE_API_URI"], env["SERVICE_WEB_URI"]
    answers = {
        ("GET", f"{web}/app-config.json"): (200, {}, b'{"auth": {"mode": "swa"}}'),
        ("GET", f"{api}/api/health"): (401, {}, b""),
        ("POST", f"{api}/api/chatkit"): (401, {}, b""),
        ("GET", f"{web}/api/health"): (401, {}, b""),
    }
    monkeypatch.setattr(smoke, "request", lambda method, url, headers=None: answers[(method, url)])
    assert smoke.check(env) == []
    answers[("POST", f"{api}/api/chatkit")] = (200, {}, b"{}")
    assert len(smoke.check(env)) == 1, "a forged principal header that gets through must fail"
