"""AUTH_MODE=anonymous: every browser gets its own signed session cookie; forged or
tampered cookies are refused and cleared; two browsers never see each other's threads."""

from __future__ import annotations

import httpx
import pytest

from shared.settings import SettingsError, get_settings
from tests.conftest import model_env
from tests.fake_model import Reply

SECRET = "k" * 40


def _session(host) -> httpx.Client:
    return httpx.Client(base_url=host.url, timeout=30)


def _chatkit(client: httpx.Client, kind: str, **params):
    return client.post("/api/chatkit", json={"type": kind, "params": params})


def test_each_browser_is_its_own_user_and_forged_cookies_are_refused(start_host, fake_model):
    host = start_host({**model_env(fake_model), "AUTH_MODE": "anonymous",
                       "ANONYMOUS_COOKIE_SECRET": SECRET})  # fmt: skip
    with _session(host) as first, _session(host) as second:
        config = first.get("/api/config")
        assert config.status_code == 200
        cookie = config.headers["set-cookie"]
        assert cookie.startswith("chatkit_anon=") and "HttpOnly" in cookie
        assert "Path=/api" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http on loopback

        fake_model.script(Reply.say("Hi, first browser."))
        created = _chatkit(
            first,
            "threads.create",
            input={"content": [{"type": "input_text", "text": "hello"}], "attachments": [],
                   "inference_options": {}},
        )  # fmt: skip
        assert created.status_code == 200
        assert "set-cookie" not in created.headers  # the browser already has its cookie
        mine = _chatkit(first, "threads.list").json()["data"]
        assert len(mine) == 1

        assert _chatkit(second, "threads.list").json()["data"] == []
        assert _chatkit(second, "threads.get_by_id", thread_id=mine[0]["id"]).status_code == 404

        value = first.cookies["chatkit_anon"]
        user, _, mac = value.rpartition(".")
        for forged in (
            f"someone-else.{mac}",  # another id with this id's signature
            f"{user}.{mac[:-2]}AA",  # tampered signature
            user,  # no signature
            f"{user}.{mac}.extra",
            "",
        ):
            with _session(host) as attacker:
                attacker.cookies.set("chatkit_anon", forged, path="/api")
                refused = _chatkit(attacker, "threads.list")
                if forged == "":
                    assert refused.status_code == 200 and refused.json()["data"] == []
                    continue
                assert refused.status_code == 401, forged
                assert refused.json()["error"]["code"] == "unauthorized"
                assert "Max-Age=0" in refused.headers["set-cookie"]
        assert len(_chatkit(first, "threads.list").json()["data"]) == 1


def test_cookie_attributes_follow_the_settings(start_host, fake_model):
    host = start_host({**model_env(fake_model), "AUTH_MODE": "anonymous",
                       "ANONYMOUS_COOKIE_SECRET": SECRET,
                       "ANONYMOUS_COOKIE_SAMESITE": "none"})  # fmt: skip
    cookie = httpx.get(f"{host.url}/api/config").headers["set-cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie
    behind_tls = httpx.get(f"{host.url}/api/config", headers={"x-forwarded-proto": "https"})
    assert "Secure" in behind_tls.headers["set-cookie"]


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_anonymous_mode_needs_a_long_secret(monkeypatch, secret):
    monkeypatch.setenv("AUTH_MODE", "anonymous")
    if secret:
        monkeypatch.setenv("ANONYMOUS_COOKIE_SECRET", secret)
    else:
        monkeypatch.delenv("ANONYMOUS_COOKIE_SECRET", raising=False)
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert "ANONYMOUS_COOKIE_SECRET" in str(raised.value)
    assert "too-short" not in str(raised.value)
    get_settings.cache_clear()
