"""The HTTP edge under attack (issue 13): cross-site request forgery, forged `Host`/peer in
local mode, deeply nested principals, Entra keys right after boot, huge titles, and the
telemetry pseudonym. Over real HTTP where the behaviour is an HTTP one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from shared.errors import Unauthorized
from shared.http_edge import request_context
from shared.settings import Settings, get_settings
from tests.chatkit_client import user_input
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal
from tests.test_entra import API_ID, TENANT, FakeEntra

SECRET = "s" * 40
EVIL = "https://evil.example"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class _http:
    """httpx's one-shot calls with a timeout that survives a loaded machine's cold start
    (no shared client: a cookie jar would carry cookies between "browsers")."""

    @staticmethod
    def post(url: str, **kw: Any) -> httpx.Response:
        return httpx.post(url, timeout=30, **kw)

    @staticmethod
    def put(url: str, **kw: Any) -> httpx.Response:
        return httpx.put(url, timeout=30, **kw)

    @staticmethod
    def get(url: str, **kw: Any) -> httpx.Response:
        return httpx.get(url, timeout=30, **kw)

    @staticmethod
    def request(method: str, url: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, url, timeout=30, **kw)


def _create_body(text: str = "add 'pay the attacker' to my list") -> bytes:
    return json.dumps({"type": "threads.create", "params": {"input": user_input(text)}}).encode()


def _list_body() -> bytes:
    return json.dumps({"type": "threads.list", "params": {}}).encode()


def _threads(host: Any, **headers: str) -> list[dict[str, Any]]:
    response = _http.post(
        f"{host.url}/api/chatkit/todo",
        content=_list_body(),
        headers={"content-type": "application/json", **headers},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _refused(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and "Traceback" not in response.text
    if code:
        assert error["code"] == code


# ── 5. Cross-site request forgery ────────────────────────────────────────────────────────


@pytest.fixture(params=["anonymous", "local"])
def cookie_host(request, start_host, fake_model, store_env) -> tuple[Any, dict[str, str]]:
    """A host in a mode where the browser supplies the credential by itself, on each store,
    and the headers that credential travels in."""
    env = {**model_env(fake_model), **store_env, "AUTH_MODE": request.param}
    if request.param == "anonymous":
        env |= {"ANONYMOUS_COOKIE_SECRET": SECRET, "ANONYMOUS_COOKIE_SAMESITE": "none"}
    host = start_host(env)
    if request.param == "anonymous":
        cookie = _http.get(f"{host.url}/api/config").headers["set-cookie"].split(";")[0]
        return host, {"cookie": cookie}
    return host, {}


def test_a_page_on_another_site_cannot_plant_anything(cookie_host, fake_model):
    host, credential = cookie_host
    fake_model.script(Reply.call("add_tasks", tasks=[{"title": "pay the attacker"}]))
    url = f"{host.url}/api/chatkit/todo"
    forged = [
        # What a cross-site <form> or fetch(no-cors) sends without a CORS preflight.
        ({"content-type": "text/plain", "origin": EVIL}, 403),
        ({"content-type": "text/plain;charset=UTF-8"}, 415),  # a browser that sent no Origin
        ({"content-type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),  # no content type at all (fetch with a Blob body)
        ({"content-type": ""}, 415),
        # JSON needs a preflight that CORS refuses; a foreign Origin is refused anyway.
        ({"content-type": "application/json", "origin": EVIL}, 403),
        ({"content-type": "application/json", "origin": "null"}, 403),
    ]
    for headers, status in forged:
        response = _http.post(url, content=_create_body(), headers={**credential, **headers})
        _refused(response, status)
    assert fake_model.requests == []
    assert _threads(host, **credential) == []

    # The real page (same origin, JSON) still works.
    fake_model.script(Reply.say("Hello."))
    own = _http.post(
        url,
        content=_create_body("hello"),
        headers={**credential, "content-type": "application/json", "origin": host.url},
    )
    assert own.status_code == 200, own.text
    assert len(_threads(host, **credential)) == 1


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://localhost.evil.com",
        "http://127.0.0.1.evil.com",
        "http://evil.com@127.0.0.1",  # not an origin: user info
        "http://127.0.0.1@evil.com",
        "http://evil.com#@127.0.0.1",
        "https://evil.example, {own}",  # two origins in one header
        "{own}/path",
        "{own}.evil.com",
        "ftp://127.0.0.1",
        "{own}0",  # another port
        "http://127.0.0.2:{port}",
        "http://[::1]:{port}",
        "https://chat.example.com.evil.example",
        "x" * 8000,
        "",
    ],
)
def test_hostile_origins_are_refused(start_host, fake_model, origin):
    host = start_host({**model_env(fake_model), "CORS_ALLOWED_ORIGINS": "https://chat.example.com"})
    origin = origin.format(own=host.url, port=host.port)
    response = _http.post(
        f"{host.url}/api/chatkit",
        content=_list_body(),
        headers={"content-type": "application/json", "origin": origin},
    )
    _refused(response, 403, "forbidden_origin")


def test_own_and_configured_origins_pass_however_they_are_written(start_host, fake_model):
    host = start_host({**model_env(fake_model), "CORS_ALLOWED_ORIGINS": "https://Chat.Example.com"})
    url = f"{host.url}/api/chatkit"
    for origin in (
        host.url,
        host.url.upper().replace("HTTP://", "http://"),
        f"{host.url}/",
        "https://chat.example.com",
        "https://CHAT.example.com:443",
    ):
        response = _http.post(
            url,
            content=_list_body(),
            headers={"content-type": "application/json", "origin": origin},
        )
        assert response.status_code == 200, (origin, response.text)
    # Two Origin headers: not something a browser sends.
    raw = [("content-type", "application/json"), ("origin", host.url), ("origin", EVIL)]
    _refused(_http.post(url, content=_list_body(), headers=raw), 403, "forbidden_origin")


def test_public_base_url_is_the_apps_own_origin(start_host, fake_model):
    """The linked topology: Static Web Apps proxies the page's calls, PUBLIC_BASE_URL names it."""
    host = start_host(
        {**model_env(fake_model), "AUTH_MODE": "platform",
         "PUBLIC_BASE_URL": "https://swa.example.net/some/path"}
    )  # fmt: skip
    headers = {"x-ms-client-principal": principal("alice"), "content-type": "application/json"}
    url = f"{host.url}/api/chatkit"
    for origin, status in (
        ("https://swa.example.net", 200),
        ("http://swa.example.net", 403),
        ("https://swa.example.net.evil.example", 403),
    ):
        response = _http.post(url, content=_list_body(), headers={**headers, "origin": origin})
        assert response.status_code == status, (origin, response.text)


def test_only_json_reaches_the_chatkit_endpoint_however_the_type_is_spelled(start_host, fake_model):
    host = start_host(model_env(fake_model))
    url = f"{host.url}/api/chatkit"
    for content_type in (
        "application/json",
        "Application/JSON; charset=utf-8",
    ):
        response = _http.post(url, content=_list_body(), headers={"content-type": content_type})
        assert response.status_code == 200, (content_type, response.text)
    for content_type in (
        "TEXT/PLAIN",
        "text/plain; charset=application/json",
        "application/json, text/plain",
        "application/jsonp",
        "application/x-json",
        "multipart/form-data; boundary=x",
    ):
        response = _http.post(url, content=_list_body(), headers={"content-type": content_type})
        _refused(response, 415, "unsupported_media_type")
    # A hundred Origin headers, all "right": not a browser's request.
    many = [("content-type", "application/json")] + [("origin", host.url)] * 100
    _refused(_http.post(url, content=_list_body(), headers=many), 403, "forbidden_origin")


def test_platform_mode_checks_the_origin_too_and_entra_mode_does_not_need_to(
    start_host, fake_model
):
    platform = start_host({**model_env(fake_model), "AUTH_MODE": "platform"})
    signed_in = {"x-ms-client-principal": principal("alice"), "content-type": "application/json"}
    url = f"{platform.url}/api/chatkit"
    _refused(_http.post(url, content=_create_body(), headers={**signed_in, "origin": EVIL}), 403)
    assert _http.post(url, content=_list_body(), headers=signed_in).status_code == 200
    # Static Web Apps keeps the page's Host: the page's own origin passes.
    same = _http.post(url, content=_list_body(), headers={**signed_in, "origin": platform.url})
    assert same.status_code == 200, same.text


def test_uploads_take_multipart_or_a_real_type_and_refuse_foreign_pages(
    start_host, fake_model, store_env
):
    host = start_host(
        {**model_env(fake_model), **store_env, "AUTH_MODE": "anonymous",
         "ANONYMOUS_COOKIE_SECRET": SECRET, "ATTACHMENT_UPLOAD": "app"}
    )  # fmt: skip
    cookie = {"cookie": _http.get(f"{host.url}/api/config").headers["set-cookie"].split(";")[0]}
    client = host.client(**cookie)

    def attachment() -> str:
        created = client.call(
            "attachments.create", name="dot.png", size=len(PNG), mime_type="image/png"
        )
        return f"{host.url}/api/attachments/{created['id']}/upload"

    url = attachment()
    for headers in (
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {},
    ):
        _refused(_http.post(url, content=PNG, headers={**cookie, **headers}), 415)
    foreign = _http.post(
        url, files={"file": ("dot.png", PNG, "image/png")}, headers={**cookie, "origin": EVIL}
    )
    _refused(foreign, 403, "forbidden_origin")
    put_foreign = _http.put(
        url, content=PNG, headers={**cookie, "content-type": "image/png", "origin": EVIL}
    )
    _refused(put_foreign, 403, "forbidden_origin")

    # Our own clients: multipart from the page, raw bytes with their type, PUT or POST.
    page = _http.post(
        url, files={"file": ("dot.png", PNG, "image/png")}, headers={**cookie, "origin": host.url}
    )
    assert page.status_code == 200, page.text
    for method in ("PUT", "POST"):
        raw = _http.request(
            method, attachment(), content=PNG, headers={**cookie, "content-type": "image/png"}
        )
        assert raw.status_code == 200, (method, raw.text)


# ── 13. AUTH_MODE=local: the peer must be this machine ───────────────────────────────────


def _scope_request(client: tuple[str, int] | None, headers: dict[str, str]) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/api/config",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "query_string": b"",
        "client": client,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "headers", "allowed"),
    [
        (("127.0.0.1", 5000), {"host": "localhost:7071"}, True),
        (("127.0.0.2", 5000), {"host": "127.0.0.1:7071"}, True),
        (("::1", 5000), {"host": "[::1]:7071"}, True),
        (("::ffff:127.0.0.1", 5000), {"host": "localhost"}, True),
        (("127.0.0.1", 5000), {}, True),  # the Functions host drops Host
        (("10.0.0.5", 5000), {"host": "localhost:7071"}, False),
        (("203.0.113.9", 5000), {}, False),
        (("192.168.1.20", 5000), {"host": "127.0.0.1"}, False),
        (None, {"host": "localhost"}, False),  # the server does not know the peer
        (("testclient", 5000), {"host": "localhost"}, False),
        (("127.0.0.1", 5000), {"host": "localhost", "x-forwarded-for": "203.0.113.9"}, False),
        (("127.0.0.1", 5000), {"x-forwarded-for": "127.0.0.1, 198.51.100.4"}, False),
        (("127.0.0.1", 5000), {"host": "localhost", "x-forwarded-for": "127.0.0.1"}, True),
        (("127.0.0.1", 5000), {"x-forwarded-for": "[::1], 127.0.0.3"}, True),
        (("127.0.0.1", 5000), {"x-forwarded-for": "unknown"}, False),
        (("127.0.0.1", 5000), {"x-forwarded-for": "127.0.0.1:5000"}, False),  # not provable
        (("127.0.0.1", 5000), {"x-forwarded-for": ""}, False),
        (("127.0.0.1", 5000), {"host": "localhost", "x-forwarded-host": "evil.example"}, False),
    ],
)
async def test_local_mode_serves_only_peers_on_this_machine(peer, headers, allowed):
    settings = Settings(auth_mode="local")
    request = _scope_request(peer, headers)
    if allowed:
        context = await request_context(request, settings, "assistant")
        assert context.user_id == "local-user"
    else:
        with pytest.raises(Unauthorized, match="only localhost"):
            await request_context(request, settings, "assistant")


def test_local_mode_refuses_a_forwarded_remote_client_over_http(start_host, fake_model):
    """Under the Functions worker the peer is the Functions host, which reports the real
    client in X-Forwarded-For (uvicorn trusts it from loopback and makes it the peer)."""
    host = start_host(model_env(fake_model))
    url = f"{host.url}/api/chatkit"
    body, json_type = _list_body(), {"content-type": "application/json"}
    assert _http.post(url, content=body, headers=json_type).status_code == 200
    remote = _http.post(
        url,
        content=body,
        headers={**json_type, "host": "localhost", "x-forwarded-for": "203.0.113.9"},
    )
    _refused(remote, 401, "unauthorized")

    # No Host at all (HTTP/1.0) from a remote client: refused too.
    with socket.create_connection(("127.0.0.1", host.port), timeout=30) as conn:
        conn.sendall(
            b"POST /api/chatkit HTTP/1.0\r\ncontent-type: application/json\r\n"
            b"x-forwarded-for: 198.51.100.7\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"unauthorized"' in answer


# ── 12. Deeply nested JSON where the client controls it ──────────────────────────────────


def test_deeply_nested_principal_is_401_not_500(start_host, fake_model):
    host = start_host({**model_env(fake_model), "AUTH_MODE": "platform"})
    url = f"{host.url}/api/chatkit"
    for raw in (
        b"[" * 5000 + b"]" * 5000,
        b'{"userId": ' + b"[" * 4000 + b"]" * 4000 + b"}",
        b'{"claims": [' + b'{"typ":' * 1200 + b"1" + b"}" * 1200 + b"]}",
    ):
        header = base64.b64encode(raw).decode()
        assert len(header) <= 16_384
        response = _http.post(
            url,
            content=_list_body(),
            headers={"content-type": "application/json", "x-ms-client-principal": header},
        )
        _refused(response, 401, "unauthorized")


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    server = FakeEntra()
    yield server
    server.stop()


def _validator(entra: FakeEntra) -> Any:
    from shared.entra import EntraValidator

    return EntraValidator(TENANT, [f"api://{API_ID}"], "user_impersonation", entra.url)


async def test_deeply_nested_token_header_is_refused_as_malformed(entra):
    header = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="malformed"):
        await _validator(entra).user_id(f"Bearer {header}.e30.c2ln")


async def test_a_deeply_nested_weather_answer_is_a_bad_answer_not_a_crash():
    """The same class one hop out: the weather service's JSON (stdlib parser, recursive)."""
    import asyncio

    from use_cases.weather.domain import BadProviderAnswer
    from use_cases.weather.provider import OpenMeteoProvider

    deep = b"[" * 100_000 + b"]" * 100_000
    provider = OpenMeteoProvider("http://weather.test/v1", "http://geo.test/v1", 5)
    provider._client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=deep))
    )
    provider._loop = asyncio.get_running_loop()
    with pytest.raises(BadProviderAnswer):
        await provider.find_place("Paris")
    await provider.aclose()


# ── 3. Entra keys right after the machine boots ──────────────────────────────────────────


async def test_tokens_are_accepted_in_the_first_minutes_after_boot(entra, monkeypatch):
    clock = [3.0]  # time.monotonic() counts from boot: a fresh machine reads a few seconds
    monkeypatch.setattr("shared.entra.time", SimpleNamespace(monotonic=lambda: clock[0]))
    check = _validator(entra)
    assert await check.user_id(f"Bearer {entra.token()}") == "entra:oid-alice"
    assert entra.key_requests == 1

    # The unknown-key refresh limit still holds after that first fetch.
    rotated = entra.rotate()
    clock[0] = 60.0
    with pytest.raises(Unauthorized, match="unknown key"):
        await check.user_id(f"Bearer {entra.token(rotated)}")
    assert entra.key_requests == 1
    clock[0] = 400.0
    assert await check.user_id(f"Bearer {entra.token(rotated)}") == "entra:oid-alice"
    assert entra.key_requests == 2
    await check.close()


async def test_a_failed_first_fetch_is_retried_on_the_next_token(entra, monkeypatch):
    from shared.entra import SignInUnavailable

    monkeypatch.setattr("shared.entra.time", SimpleNamespace(monotonic=lambda: 1.0))
    check = _validator(entra)
    entra.fail = True
    with pytest.raises(SignInUnavailable):
        await check.user_id(f"Bearer {entra.token()}")
    entra.fail = False
    assert await check.user_id(f"Bearer {entra.token()}") == "entra:oid-alice"
    await check.close()


# ── 17. Thread titles set by clients are bounded ─────────────────────────────────────────


def test_titles_over_the_limit_are_refused_and_the_old_title_kept(host, fake_model):
    client = host.client()
    fake_model.script(Reply.say("Hi."))
    thread_id = client.create_thread("hello").thread_id
    assert client.call("threads.update", thread_id=thread_id, title="t" * 200)["title"] == "t" * 200

    for title in ("t" * 201, "x" * 900_000):
        response = client.request("threads.update", thread_id=thread_id, title=title)
        _refused(response, 400, "too_large")
        assert "limit is 200" in response.json()["error"]["message"]
    listed = client.call("threads.list")["data"]
    assert [t["title"] for t in listed] == ["t" * 200]


def test_the_title_limit_is_a_setting(start_host, fake_model):
    host = start_host({**model_env(fake_model), "MAX_TITLE_CHARS": "10"})
    client = host.client()
    fake_model.script(Reply.say("Hi."))
    thread_id = client.create_thread("hello").thread_id
    _refused(client.request("threads.update", thread_id=thread_id, title="x" * 11), 400)
    assert client.call("threads.update", thread_id=thread_id, title="x" * 10)["title"] == "x" * 10


# ── 18. The telemetry pseudonym is keyed ─────────────────────────────────────────────────


@pytest.fixture
def fresh_settings(monkeypatch) -> Iterator[Any]:
    """`apply(**env)`: the settings a new process with just these variables would read."""

    def apply(**env: str) -> None:
        for name in ("TELEMETRY_PSEUDONYM_KEY", "ANONYMOUS_COOKIE_SECRET", "AUTH_MODE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def test_pseudonyms_are_keyed_and_not_recomputable_from_the_user_id(fresh_settings):
    from shared import telemetry

    user = "entra:00000000-1111-2222-3333-444444444444"
    public = hashlib.sha256(b"chatkit-user:" + user.encode()).hexdigest()[:32]

    key = "k" * 32
    fresh_settings(TELEMETRY_PSEUDONYM_KEY=key)
    keyed = telemetry.pseudonym(user)
    expected = hmac.new(key.encode(), b"chatkit-user:" + user.encode(), hashlib.sha256)
    assert keyed == expected.hexdigest()[:32] != public
    assert telemetry.pseudonym(user) == keyed  # stable
    assert telemetry.pseudonym("entra:someone-else") != keyed

    fresh_settings(TELEMETRY_PSEUDONYM_KEY="j" * 32)
    assert telemetry.pseudonym(user) not in (keyed, public)


def test_without_a_key_pseudonyms_use_the_cookie_secret_or_a_random_key(fresh_settings, caplog):
    from shared import telemetry

    user = "anon:abc"
    public = hashlib.sha256(b"chatkit-user:" + user.encode()).hexdigest()[:32]

    fresh_settings(AUTH_MODE="anonymous", ANONYMOUS_COOKIE_SECRET=SECRET)
    derived = telemetry.pseudonym(user)
    fresh_settings()  # a second instance with the same secret agrees
    fresh_settings(AUTH_MODE="anonymous", ANONYMOUS_COOKIE_SECRET=SECRET)
    assert telemetry.pseudonym(user) == derived != public
    cookie_mac = hmac.new(SECRET.encode(), user.encode(), hashlib.sha256).hexdigest()[:32]
    assert derived != cookie_mac

    fresh_settings(AUTH_MODE="local")
    with caplog.at_level(logging.WARNING, logger="shared.telemetry"):
        first = telemetry.pseudonym(user)
    assert first not in (public, derived) and telemetry.pseudonym(user) == first
    assert "TELEMETRY_PSEUDONYM_KEY is not set" in caplog.text


def test_a_short_pseudonym_key_is_a_clear_configuration_error(fresh_settings):
    from shared.settings import SettingsError

    fresh_settings(TELEMETRY_PSEUDONYM_KEY="too-short-secret")
    with pytest.raises(SettingsError, match="TELEMETRY_PSEUDONYM_KEY: must be at least 32") as err:
        get_settings()
    assert "too-short-secret" not in str(err.value)
