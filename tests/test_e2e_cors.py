"""Cross-origin calls (the direct topology): only the configured page origin may call the
API from a browser; anything else gets no CORS grant. Checked on the local host, which
enforces CORS_ALLOWED_ORIGINS the way the Function app's platform CORS does in Azure."""

from __future__ import annotations

import httpx

from shared.settings import SettingsError, get_settings
from tests.conftest import model_env

PAGE = "https://chat.example.com"


def test_only_the_configured_origin_gets_a_cors_grant(start_host, fake_model):
    host = start_host({**model_env(fake_model), "CORS_ALLOWED_ORIGINS": f"{PAGE}/"})
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-user-timezone",
    }
    allowed = httpx.options(f"{host.url}/api/chatkit", headers={"Origin": PAGE, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PAGE
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    for origin in ("https://evil.example", "https://chat.example.com.evil.example", "null"):
        refused = httpx.options(f"{host.url}/api/chatkit", headers={"Origin": origin, **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = httpx.get(f"{host.url}/api/config", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers

    same = httpx.get(f"{host.url}/api/config", headers={"Origin": PAGE})
    assert same.headers["access-control-allow-origin"] == PAGE


def test_no_origins_configured_means_no_cross_origin_access(start_host, fake_model):
    host = start_host(model_env(fake_model))
    response = httpx.get(f"{host.url}/api/config", headers={"Origin": PAGE})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_wildcards_and_paths_are_refused_with_a_clear_message(monkeypatch):
    for bad in ("*", "https://a.example/path", "chat.example.com"):
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", bad)
        get_settings.cache_clear()
        try:
            get_settings()
            raise AssertionError(f"{bad!r} was accepted")
        except SettingsError as exc:
            assert "CORS_ALLOWED_ORIGINS" in str(exc) and "no '*'" in str(exc)
    get_settings.cache_clear()
