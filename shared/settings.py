"""One typed settings object for the whole app, read from the environment.

Azure Functions and the local host both put `local.settings.json` `Values` into the
environment, so environment variables are the single source. Each setting's name,
default and meaning live here and in the README's configuration table, nowhere else.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ModelApi = Literal["responses", "chat_completions"]
AuthMode = Literal["local", "platform", "entra", "anonymous"]
UploadMode = Literal["direct", "app"]
ImageInput = Literal["data_url", "url"]

DEFAULT_ATTACHMENT_TYPES = (
    "image/png,image/jpeg,image/gif,image/webp,"
    "application/pdf,text/plain,text/markdown,text/csv,application/json"
)
ProviderId = Literal["azure", "openai"]


class SettingsError(Exception):
    """Configuration is invalid; the message names the setting and never echoes secrets."""


class ModelOption(BaseModel):
    """One entry of the composer's model picker (an item of the `MODELS` setting)."""

    id: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=100)
    provider: ProviderId
    model: str = Field(min_length=1, description="Deployment name (Azure) or model name")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # OpenAI, or any OpenAI-compatible server when OPENAI_BASE_URL is set.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4.1-mini"
    openai_model_api: ModelApi | None = None

    # Azure OpenAI: keyless (Entra ID) unless AZURE_OPENAI_API_KEY is given.
    azure_openai_endpoint: str | None = None
    azure_openai_deployment: str | None = None
    azure_openai_api_key: SecretStr | None = None
    azure_openai_api_version: str = "2025-04-01-preview"
    azure_openai_model_api: ModelApi | None = None

    # Applies to every provider that has no provider-specific *_MODEL_API.
    model_api: ModelApi | None = None
    models: Annotated[list[ModelOption], NoDecode] = Field(default_factory=list)
    default_model: str | None = None
    model_timeout_seconds: float = Field(default=60.0, gt=0)
    model_max_retries: int = Field(default=2, ge=0, le=10)

    # Cosmos DB: setting COSMOS_ENDPOINT selects it over the embedded store.
    cosmos_endpoint: str | None = None
    cosmos_key: SecretStr | None = None
    cosmos_database: str = Field(default="chatkit", min_length=1)
    cosmos_container: str = Field(default="chat", min_length=1)
    cosmos_create_if_missing: bool = True
    cosmos_ttl_seconds: int = Field(default=0, ge=0)

    # Blob Storage for attachment bytes; otherwise files under DATA_DIR/attachments.
    azure_storage_connection_string: SecretStr | None = None
    azure_storage_account_url: str | None = None
    attachments_container: str = Field(default="attachments", min_length=3, max_length=63)
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: DEFAULT_ATTACHMENT_TYPES.split(",")
    )
    attachment_upload: UploadMode = "direct"
    attachment_image_input: ImageInput = "data_url"
    attachment_url_ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    max_attachments_per_message: int = Field(default=10, ge=0, le=100)
    # What one model request may carry as attachment content (bytes before base64, and
    # distinct attachments), newest first; the rest are named only. Bounds the request a
    # long thread full of attachments makes, and the memory it takes to build it.
    model_attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=0)
    model_attachment_max_count: int = Field(default=5, ge=0, le=100)
    public_base_url: str | None = None

    # The weather use case's provider (Open-Meteo needs no key).
    weather_api_url: str = "https://api.open-meteo.com/v1"
    weather_geocoding_url: str = "https://geocoding-api.open-meteo.com/v1"
    weather_timeout_seconds: float = Field(default=10.0, gt=0)

    auth_mode: AuthMode = "local"
    # AUTH_MODE=entra: the page calls the Function app directly with a Microsoft Entra ID
    # access token for this API (shared/entra.py validates it).
    entra_tenant_id: str | None = None
    # The API app registration's client id and/or application id URI (api://...).
    entra_audience: Annotated[list[str], NoDecode] = Field(default_factory=list)
    entra_required_scope: str | None = "user_impersonation"
    entra_authority_host: str = "https://login.microsoftonline.com"
    # AUTH_MODE=anonymous: the key that signs each browser's session cookie (32+ chars).
    anonymous_cookie_secret: SecretStr | None = None
    # "none" for a page on another origin (direct topology); it forces Secure.
    anonymous_cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    # Browser origins allowed to call the API cross-origin (the page's origin in the direct
    # topology). In Azure the Function app's platform CORS setting enforces the same list;
    # the local host enforces it itself.
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    local_user_id: str = Field(default="local-user", min_length=1, max_length=128)
    data_dir: Path = Path(".data")
    default_use_case: str = "assistant"
    history_limit: int = Field(default=30, ge=1, le=500)
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    # Longest user message, in characters (text parts plus quoted text).
    max_message_chars: int = Field(default=32_000, ge=1, le=1_000_000)
    # Longest thread title a client may set (threads.update); every thread list carries
    # every title. 200 is what the page's rename box admits; generated titles are shorter
    # (shared/server.py).
    max_title_chars: int = Field(default=200, ge=1, le=10_000)
    # Deepest nesting accepted in free-form JSON (widget action payloads, metadata).
    max_json_depth: int = Field(default=32, ge=4, le=150)
    # New threads a user may start per minute (0: no limit); counted from the store.
    threads_per_minute: int = Field(default=30, ge=0, le=10_000)
    title_timeout_seconds: float = Field(default=8.0, gt=0)
    # How often a streaming turn checks the store for a Stop sent to another instance
    # (threads.stop_turn); 0 turns the check off.
    stop_poll_seconds: float = Field(default=1.0, ge=0, le=30)
    # How long a turn's per-thread lease lasts without renewal (a live turn renews it
    # every third of that): the longest a thread stays busy after its instance died.
    turn_lease_seconds: float = Field(default=60.0, ge=5, le=600)
    chatkit_domain_key: str | None = None
    # Import the chat turn's dependencies in a background thread as the app loads
    # (shared/warmup.py), so a cold instance's first chat turn does not wait for them.
    warm_up: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Application Insights through OpenTelemetry (shared/telemetry.py): off unless the
    # connection string is set. It names the resource and holds no secret.
    applicationinsights_connection_string: str | None = None
    # "Authorization=AAD;ClientId=<user-assigned identity>": Entra-authenticated ingestion.
    applicationinsights_authentication_string: str | None = None
    otel_service_name: str = Field(default="chatkit-api", min_length=1, max_length=256)
    # Live Metrics: its start-up stalls each instance's first streamed answer by ~0.2 s.
    applicationinsights_live_metrics: bool = False
    # Keys the user pseudonym in telemetry (HMAC-SHA256), so nobody who knows a user id can
    # find that user's requests. Unset: derived from ANONYMOUS_COOKIE_SECRET, else random
    # per process (pseudonyms then differ across instances). shared/telemetry.py.
    telemetry_pseudonym_key: SecretStr | None = None

    @field_validator(
        "openai_base_url",
        "azure_openai_endpoint",
        "azure_openai_deployment",
        "default_model",
        "chatkit_domain_key",
        "cosmos_endpoint",
        "azure_storage_account_url",
        "public_base_url",
        "applicationinsights_connection_string",
        "applicationinsights_authentication_string",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # local.settings.json.example ships empty strings; treat them as "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator(
        "openai_api_key",
        "azure_openai_api_key",
        "cosmos_key",
        "azure_storage_connection_string",
        "anonymous_cookie_secret",
        "telemetry_pseudonym_key",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telemetry_pseudonym_key")
    @classmethod
    def _long_pseudonym_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 random characters")
        return value

    @field_validator("openai_model_api", "azure_openai_model_api", "model_api", mode="before")
    @classmethod
    def _blank_api_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("models", mode="before")
    @classmethod
    def _parse_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    'must be a JSON list like [{"id": "gpt-4.1", "label": "GPT-4.1", '
                    '"provider": "azure", "model": "gpt-4.1"}]'
                ) from exc
        return value

    @field_validator("entra_audience", mode="before")
    @classmethod
    def _parse_audience(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [a.strip() for a in value.split(",") if a.strip()]
        return value

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        for origin in value or []:
            if origin == "*" or not re.match(r"^https?://[^/\s]+$", str(origin)):
                raise ValueError(
                    f"must list origins like https://app.example.com (no paths, no '*'); "
                    f"got {origin!r}"
                )
        return value

    @field_validator("entra_tenant_id", "entra_required_scope", mode="before")
    @classmethod
    def _blank_entra_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("entra_authority_host")
    @classmethod
    def _authority_host(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https URL such as https://login.microsoftonline.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _anonymous_needs_a_secret(self) -> Settings:
        secret = self.anonymous_cookie_secret
        if self.auth_mode == "anonymous" and (
            secret is None or len(secret.get_secret_value()) < 32
        ):
            raise ValueError(
                "AUTH_MODE=anonymous needs ANONYMOUS_COOKIE_SECRET, at least 32 random "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return self

    @model_validator(mode="after")
    def _entra_needs_tenant_and_audience(self) -> Settings:
        if self.auth_mode == "entra" and (not self.entra_tenant_id or not self.entra_audience):
            raise ValueError(
                "AUTH_MODE=entra needs ENTRA_TENANT_ID and ENTRA_AUDIENCE (the API app "
                "registration's client id or api:// URI)"
            )
        return self

    @field_validator("attachment_types", mode="before")
    @classmethod
    def _parse_types(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [t.strip().lower() for t in value.split(",") if t.strip()]
        return value

    @field_validator("applicationinsights_connection_string")
    @classmethod
    def _connection_string(cls, value: str | None) -> str | None:
        if value is not None and "instrumentationkey" not in _pairs(value):
            raise ValueError(
                "must be an Application Insights connection string "
                "(InstrumentationKey=...;IngestionEndpoint=...)"
            )
        return value

    @field_validator("applicationinsights_authentication_string")
    @classmethod
    def _authentication_string(cls, value: str | None) -> str | None:
        if value is None:
            return value
        pairs = _pairs(value)
        if pairs.get("authorization", "").upper() != "AAD" or set(pairs) - {
            "authorization",
            "clientid",
        }:
            raise ValueError(
                "must be 'Authorization=AAD' (system-assigned identity) or "
                "'Authorization=AAD;ClientId=<client id of a user-assigned identity>'"
            )
        return value

    @field_validator("models")
    @classmethod
    def _unique_model_ids(cls, value: list[ModelOption]) -> list[ModelOption]:
        ids = [m.id for m in value]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"model ids must be unique; repeated: {', '.join(duplicates)}")
        return value

    @property
    def store_kind(self) -> str:
        return "cosmos" if self.cosmos_endpoint else "sqlite"

    @property
    def attachment_backend(self) -> str:
        if self.azure_storage_connection_string or self.azure_storage_account_url:
            return "blob"
        return "local"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def telemetry_identity(self) -> tuple[bool, str | None]:
        """(Entra-authenticated ingestion?, the user-assigned identity's client id)."""
        if self.applicationinsights_authentication_string is None:
            return False, None
        client_id = _pairs(self.applicationinsights_authentication_string).get("clientid")
        return True, client_id or None


def _pairs(value: str) -> dict[str, str]:
    """`Key=Value;Key=Value` (connection-string style) with lower-case keys."""
    pairs = {}
    for part in value.split(";"):
        key, sep, item = part.partition("=")
        if sep and key.strip():
            pairs[key.strip().lower()] = item.strip()
    return pairs


def _describe(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        name = "_".join(str(part) for part in err["loc"][:1]).upper()
        detail = err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error":
            detail = f"must be one of {err.get('ctx', {}).get('expected', '')}"
        lines.append(f"{name}: {detail}" if name else detail)
    return "Invalid configuration. " + "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, validated once. Raises SettingsError with a clear message."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
