"""Model providers and the composer's model picker.

Providers: `azure` (Azure OpenAI, Entra ID keyless by default, key when given) and
`openai` (OpenAI, or any OpenAI-compatible server such as Ollama or vLLM when
OPENAI_BASE_URL is set). Both can be configured at once; `MODELS` lists what the
picker offers. Clients are created once per process and reused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.settings import ModelApi, ModelOption, ProviderId, Settings

if TYPE_CHECKING:
    from agents.models.interface import Model
    from openai import AsyncOpenAI

logger = logging.getLogger(__name__)

AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"

NO_MODEL_MESSAGE = (
    "No model is configured. Set AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT "
    "(Azure OpenAI), or OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL and OPENAI_MODEL "
    "(an OpenAI-compatible server such as Ollama), in the environment or local.settings.json."
)


class ModelUnavailable(Exception):
    """The chosen model's provider is not configured; the message says what to set."""


@dataclass(frozen=True)
class Provider:
    id: ProviderId
    kind: str  # azure_openai | openai | openai_compatible
    configured: bool
    api: ModelApi
    auth: str  # entra_id | api_key | none
    missing: str | None = None  # what to set, when not configured

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "configured": self.configured,
            "api": self.api,
            "auth": self.auth,
        }
        if self.missing:
            data["missing"] = self.missing
        return data


def _providers(settings: Settings) -> dict[ProviderId, Provider]:
    azure_missing = None
    if not settings.azure_openai_endpoint:
        azure_missing = "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT"
    elif not settings.azure_openai_deployment:
        azure_missing = "AZURE_OPENAI_DEPLOYMENT (AZURE_OPENAI_ENDPOINT is set)"
    azure = Provider(
        id="azure",
        kind="azure_openai",
        configured=azure_missing is None,
        api=settings.azure_openai_model_api or settings.model_api or "responses",
        auth="api_key" if settings.azure_openai_api_key else "entra_id",
        missing=azure_missing,
    )

    compatible = settings.openai_base_url is not None
    openai_configured = compatible or settings.openai_api_key is not None
    openai = Provider(
        id="openai",
        kind="openai_compatible" if compatible else "openai",
        configured=openai_configured,
        # Compatible servers (Ollama, vLLM, LM Studio) mostly speak only Chat Completions.
        api=settings.openai_model_api
        or settings.model_api
        or ("chat_completions" if compatible else "responses"),
        auth="api_key" if settings.openai_api_key else "none",
        missing=None if openai_configured else "OPENAI_API_KEY or OPENAI_BASE_URL",
    )
    return {"azure": azure, "openai": openai}


class ModelCatalog:
    """Which models exist, which is the default, and how to build a runnable Model."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.providers = _providers(settings)
        self.options = settings.models or self._default_options()
        self._clients: dict[ProviderId, AsyncOpenAI] = {}
        self._credential: Any = None

    def _default_options(self) -> list[ModelOption]:
        options = []
        s = self.settings
        if self.providers["azure"].configured and s.azure_openai_deployment:
            options.append(
                ModelOption(
                    id=s.azure_openai_deployment,
                    label=f"{s.azure_openai_deployment} (Azure OpenAI)",
                    provider="azure",
                    model=s.azure_openai_deployment,
                )
            )
        if self.providers["openai"].configured:
            suffix = "OpenAI-compatible" if s.openai_base_url else "OpenAI"
            model_id = s.openai_model
            if any(o.id == model_id for o in options):
                model_id = f"openai:{model_id}"
            options.append(
                ModelOption(
                    id=model_id,
                    label=f"{s.openai_model} ({suffix})",
                    provider="openai",
                    model=s.openai_model,
                )
            )
        return options

    @property
    def any_configured(self) -> bool:
        return any(p.configured for p in self.providers.values())

    def default_option(self) -> ModelOption | None:
        if self.settings.default_model:
            for option in self.options:
                if option.id == self.settings.default_model:
                    return option
            logger.warning(
                "DEFAULT_MODEL %r is not among the models; ignoring it", self.settings.default_model
            )
        # Azure OpenAI wins when both providers are configured.
        for provider in ("azure", "openai"):
            for option in self.options:
                if option.provider == provider and self.providers[provider].configured:
                    return option
        return self.options[0] if self.options else None

    def resolve(self, model_id: str | None) -> ModelOption:
        """The option to run for a message's `inference_options.model`.

        Unknown ids fall back to the default (logged); a known model whose provider is
        not configured raises ModelUnavailable with what to set.
        """
        option = None
        if model_id:
            option = next((o for o in self.options if o.id == model_id), None)
            if option is None:
                logger.warning("Unknown model id %r requested; using the default", model_id)
        if option is None:
            option = self.default_option()
        if option is None or not self.any_configured:
            raise ModelUnavailable(NO_MODEL_MESSAGE)
        provider = self.providers[option.provider]
        if not provider.configured:
            raise ModelUnavailable(
                f"The model '{option.label}' needs the {provider.kind} provider, which is "
                f"not configured: set {provider.missing}."
            )
        return option

    def public_models(self) -> list[dict[str, Any]]:
        default = self.default_option()
        return [
            {
                "id": o.id,
                "label": o.label,
                "provider": o.provider,
                "available": self.providers[o.provider].configured,
                "default": default is not None and o.id == default.id,
            }
            for o in self.options
        ]

    def client(self, provider_id: ProviderId) -> AsyncOpenAI:
        client = self._clients.get(provider_id)
        if client is None:
            client = self._make_client(provider_id)
            self._clients[provider_id] = client
        return client

    def _make_client(self, provider_id: ProviderId) -> AsyncOpenAI:
        from openai import AsyncAzureOpenAI, AsyncOpenAI

        s = self.settings
        common: dict[str, Any] = {
            "timeout": s.model_timeout_seconds,
            "max_retries": s.model_max_retries,
        }
        if provider_id == "azure":
            if s.azure_openai_api_key:
                auth: dict[str, Any] = {"api_key": s.azure_openai_api_key.get_secret_value()}
            else:
                from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

                self._credential = DefaultAzureCredential()
                auth = {
                    "azure_ad_token_provider": get_bearer_token_provider(
                        self._credential, AZURE_SCOPE
                    )
                }
            return AsyncAzureOpenAI(
                azure_endpoint=s.azure_openai_endpoint,
                api_version=s.azure_openai_api_version,
                **auth,
                **common,
            )
        key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
        # Compatible servers often need no key, but the client insists on one.
        return AsyncOpenAI(api_key=key or "not-needed", base_url=s.openai_base_url, **common)

    def warm_up(self) -> None:
        """Do once, before the first byte of the first answer, what would otherwise
        stall that answer mid-stream on every cold instance (see `build_openai_models`)."""
        build_openai_models()
        for provider in self.providers.values():
            if provider.configured:
                client = self.client(provider.id)
                # Resource modules are imported lazily on first attribute access.
                _ = client.chat.completions, client.responses

    def model(self, option: ModelOption) -> Model:
        from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel

        provider = self.providers[option.provider]
        client = self.client(option.provider)
        if provider.api == "chat_completions":
            return OpenAIChatCompletionsModel(model=option.model, openai_client=client)
        return OpenAIResponsesModel(model=option.model, openai_client=client)

    @property
    def tracing_enabled(self) -> bool:
        return tracing_allowed(self.settings)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._credential is not None:
            await self._credential.close()
            self._credential = None


def build_openai_models() -> None:
    """Build the openai package's streaming models now (a no-op once built).

    The package defers building its pydantic models until first use; the Agents SDK
    creates Responses event objects for every streamed delta (on both API paths), so
    without this the first answer of a cold instance froze for ~0.15 s after its first
    token. shared/warmup.py calls it in the background at start-up.
    """
    import openai.types.chat
    import openai.types.responses
    from pydantic import BaseModel

    for module in (openai.types.responses, openai.types.chat):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                if not value.__pydantic_complete__:
                    value.model_rebuild()


def tracing_allowed(settings: Settings) -> bool:
    """Agents SDK traces go to OpenAI: only a real OpenAI key (not a compatible server or
    Azure OpenAI) may send them."""
    return settings.openai_api_key is not None and settings.openai_base_url is None
