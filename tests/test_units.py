"""Small pure pieces: settings validation, auth, locale, ids, titles, time zones."""

from __future__ import annotations

import base64
import json

import pytest

from shared.auth import user_id_from_headers
from shared.context import locale_from_accept_language, valid_timezone
from shared.errors import Unauthorized
from shared.ids import new_id
from shared.providers import ModelCatalog, ModelUnavailable
from shared.server import fallback_title
from shared.settings import Settings, SettingsError, get_settings
from use_cases.assistant.domain import UnknownTimezone, normalise_timezone, read_clock


def _settings(**values):
    return Settings(_env_file=None, **values)


def test_ids_sort_by_creation_even_within_a_millisecond():
    ids = [new_id("msg") for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr-CH"),
        ("en;q=0.5, de;q=0.9", "de"),
        ("*", "en"),
        ("!!, ja", "ja"),
        ("de;q=abc, it", "it"),
    ],
)
def test_locale_from_accept_language(header, expected):
    assert locale_from_accept_language(header) == expected


def test_timezones():
    assert valid_timezone("Europe/Paris") == "Europe/Paris"
    assert valid_timezone("../../etc/passwd") is None
    assert valid_timezone("Mars/Olympus") is None
    assert normalise_timezone("new york") == "America/New_York"
    assert normalise_timezone("America/Sao Paulo") == "America/Sao_Paulo"
    with pytest.raises(UnknownTimezone):
        normalise_timezone("Atlantis")
    reading = read_clock("Asia/Kolkata")
    assert reading.utc_offset == "UTC+05:30"


def test_fallback_title_cuts_at_a_word():
    assert fallback_title("  Hello   there ") == "Hello there"
    long = "Please help me plan a two week trip through the north of Italy in the spring"
    title = fallback_title(long)
    assert title.endswith("…") and len(title) <= 61 and long.startswith(title[:-1])


def _principal(data) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


async def test_platform_principal_shapes():
    settings = _settings(auth_mode="platform")
    swa = _principal({"identityProvider": "github", "userId": "abc", "userRoles": []})
    assert await user_id_from_headers({"x-ms-client-principal": swa}, settings) == "github:abc"
    easy_auth = _principal(
        {
            "auth_typ": "aad",
            "claims": [
                {
                    "typ": "http://schemas.microsoft.com/identity/claims/objectidentifier",
                    "val": "oid-1",
                }
            ],
        }
    )
    principal = {"x-ms-client-principal": easy_auth}
    assert await user_id_from_headers(principal, settings) == "aad:oid-1"
    for bad in ("", "!!!", _principal([1]), _principal({"userId": 5}), "A" * 20000):
        with pytest.raises(Unauthorized):
            await user_id_from_headers({"x-ms-client-principal": bad}, settings)
    assert await user_id_from_headers({}, _settings(auth_mode="local")) == "local-user"


def test_settings_errors_name_the_setting_and_hide_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("MODELS", "[{not json")
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as caught:
        get_settings()
    get_settings.cache_clear()
    assert "MODELS" in str(caught.value)
    assert "sk-very-secret" not in str(caught.value)

    monkeypatch.setenv(
        "MODELS",
        json.dumps(
            [
                {"id": "a", "label": "A", "provider": "openai", "model": "m"},
                {"id": "a", "label": "B", "provider": "openai", "model": "n"},
            ]
        ),
    )
    with pytest.raises(SettingsError, match="repeated: a"):
        get_settings()
    get_settings.cache_clear()


def test_provider_defaults():
    compatible = ModelCatalog(
        _settings(openai_base_url="http://localhost:11434/v1", openai_model="llama3.2")
    )
    assert compatible.providers["openai"].kind == "openai_compatible"
    assert compatible.providers["openai"].api == "chat_completions"
    assert compatible.resolve(None).model == "llama3.2"
    assert compatible.tracing_enabled is False

    openai = ModelCatalog(_settings(openai_api_key="sk-x"))
    assert openai.providers["openai"].api == "responses" and openai.tracing_enabled

    azure_half = ModelCatalog(_settings(azure_openai_endpoint="https://x.openai.azure.com"))
    assert azure_half.providers["azure"].configured is False
    assert "AZURE_OPENAI_DEPLOYMENT" in (azure_half.providers["azure"].missing or "")
    with pytest.raises(ModelUnavailable, match="No model is configured"):
        azure_half.resolve(None)

    both = ModelCatalog(
        _settings(
            azure_openai_endpoint="https://x.openai.azure.com",
            azure_openai_deployment="gpt-4o",
            openai_api_key="sk-x",
            openai_model="gpt-4o",
        )
    )
    assert both.resolve(None).provider == "azure"
    assert [o.id for o in both.options] == ["gpt-4o", "openai:gpt-4o"]
    assert both.providers["azure"].auth == "entra_id"


def test_local_settings_file_fills_the_environment_but_real_env_wins(tmp_path, monkeypatch):
    from shared.localhost import load_local_settings, route_prefix

    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    monkeypatch.delenv("HISTORY_LIMIT", raising=False)
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(
        json.dumps(
            {"IsEncrypted": False, "Values": {"OPENAI_MODEL": "from-file", "HISTORY_LIMIT": "12"}}
        )
    )

    applied = load_local_settings(settings_file)

    assert applied == ["HISTORY_LIMIT"]
    import os

    assert os.environ["HISTORY_LIMIT"] == "12" and os.environ["OPENAI_MODEL"] == "from-env"
    monkeypatch.delenv("HISTORY_LIMIT")
    assert load_local_settings(tmp_path / "missing.json") == []
    assert route_prefix(tmp_path / "missing-host.json") == "api"


async def test_keyless_azure_uses_an_entra_token_provider():
    from openai import AsyncAzureOpenAI

    catalog = ModelCatalog(
        _settings(
            azure_openai_endpoint="https://x.openai.azure.com", azure_openai_deployment="gpt-4o"
        )
    )
    client = catalog.client("azure")
    try:
        assert isinstance(client, AsyncAzureOpenAI)
        assert client._azure_ad_token_provider is not None
        assert client.api_key in (None, "", "<missing API key>")
        assert catalog.client("azure") is client  # one client per process
    finally:
        await catalog.close()


async def test_tracing_export_is_off_without_a_real_openai_key(in_process):
    from agents.tracing import get_trace_provider

    from shared.runtime import get_runtime

    # Switched off where the SDK is imported anyway: the first ChatKit server built (or
    # the warm-up). Asserting after get_runtime() alone passed only when an earlier test
    # in the same process had built a server.
    get_runtime().server("assistant")
    assert get_trace_provider()._disabled is True


async def test_local_mode_refuses_anything_but_localhost():
    settings = _settings(auth_mode="local")
    for host in ("localhost:7071", "127.0.0.1:4280", "[::1]:7071", "localhost", None):
        headers = {"host": host} if host else {}
        assert await user_id_from_headers(headers, settings) == "local-user"
    for headers in (
        {"host": "func-abc.azurewebsites.net"},
        {"host": "10.0.0.5:7071"},
        {"host": "localhost.evil.example"},
        {"host": "127.0.0.1:7071", "x-forwarded-host": "myapp.azurestaticapps.net"},
    ):
        with pytest.raises(Unauthorized, match="only localhost"):
            await user_id_from_headers(headers, settings)
