"""AUTH_MODE=entra: bearer tokens checked against the tenant's signing keys, served here
by a stand-in for Entra ID's key endpoint on a loopback port; tokens are signed with
locally generated RSA keys the way Entra ID signs them (RS256, `kid` header)."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.entra import EntraValidator, SignInUnavailable
from shared.errors import Unauthorized
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.servers import ThreadedApp

TENANT = "11111111-2222-3333-4444-555555555555"
API_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class FakeEntra:
    """Serves /{tenant}/discovery/v2.0/keys and signs tokens with those keys."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.key_requests = 0
        self.fail = False
        self.rotate()
        self._server = ThreadedApp(
            Starlette(routes=[Route("/{tenant}/discovery/v2.0/keys", self._serve)]), "fake-entra"
        )
        self.url = f"http://127.0.0.1:{self._server.start()}"

    def rotate(self) -> str:
        kid = uuid.uuid4().hex
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    async def _serve(self, request: Request) -> JSONResponse:
        self.key_requests += 1
        if self.fail or request.path_params["tenant"] != TENANT:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        public = [
            {"kty": "RSA", "use": "sig", "kid": kid, "n": _b64(k.public_key().public_numbers().n),
             "e": _b64(k.public_key().public_numbers().e)}
            for kid, k in self.keys.items()
        ]  # fmt: skip
        return JSONResponse({"keys": public})

    def token(self, kid: str | None = None, **overrides: Any) -> str:
        kid = kid or next(iter(self.keys))
        now = int(time.time())
        claims = {
            "aud": f"api://{API_ID}",
            "iss": f"{self.url}/{TENANT}/v2.0",
            "tid": TENANT,
            "oid": "oid-alice",
            "scp": "user_impersonation",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    server = FakeEntra()
    yield server
    server.stop()


def validator(entra: FakeEntra) -> EntraValidator:
    return EntraValidator(TENANT, [f"api://{API_ID}", API_ID], "user_impersonation", entra.url)


async def test_a_valid_token_names_the_user_by_oid_and_keys_are_fetched_once(entra):
    check = validator(entra)
    assert await check.user_id(f"Bearer {entra.token()}") == "entra:oid-alice"
    v1 = entra.token(iss=f"https://sts.windows.net/{TENANT}/", aud=API_ID, oid="oid-bob")
    assert await check.user_id(f"bearer {v1}") == "entra:oid-bob"
    assert entra.key_requests == 1
    await check.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "api://someone-else"}, "another application"),
        ({"iss": "https://login.microsoftonline.com/other-tenant/v2.0"}, "another tenant"),
        ({"tid": "other-tenant"}, "another tenant"),
        ({"scp": "User.Read"}, "lacks the 'user_impersonation' scope"),
        ({"scp": None, "roles": ["Admin"]}, "lacks the 'user_impersonation' scope"),
        ({"oid": None}, "names no user"),
        ({"exp": None}, "not valid"),
    ],
)
async def test_tokens_that_must_not_pass(entra, change, message):
    check = validator(entra)
    with pytest.raises(Unauthorized, match=message):
        await check.user_id(f"Bearer {entra.token(**change)}")
    await check.close()


async def test_forged_and_malformed_tokens_are_refused(entra):
    check = validator(entra)
    genuine = entra.token()
    header, _, signature = genuine.split(".")
    forged_payload = jwt.utils.base64url_encode(b'{"oid":"oid-admin"}').decode()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = next(iter(entra.keys))
    wrong_signer = jwt.encode(
        {"aud": API_ID, "oid": "x", "exp": 9999999999, "iat": 1}, other_key, "RS256",
        headers={"kid": kid},
    )  # fmt: skip
    unsigned = jwt.encode({"oid": "x"}, None, algorithm="none")
    symmetric = jwt.encode(
        {"oid": "x"}, "a-guessed-shared-secret-32-bytes!", algorithm="HS256", headers={"kid": kid}
    )
    for bad in (
        None,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-jwt",
        f"Bearer {header}.{forged_payload}.{signature}",
        f"Bearer {wrong_signer}",
        f"Bearer {unsigned}",
        f"Bearer {symmetric}",
        "Bearer " + "a" * 20_000,
    ):
        with pytest.raises(Unauthorized):
            await check.user_id(bad)
    await check.close()


async def test_rotated_keys_are_picked_up_but_unknown_kids_do_not_hammer_entra(entra):
    check = validator(entra)
    assert await check.user_id(f"Bearer {entra.token()}") == "entra:oid-alice"
    new_kid = entra.rotate()
    check._fetched_at -= 301  # the refresh back-off has passed
    assert await check.user_id(f"Bearer {entra.token(kid=new_kid)}") == "entra:oid-alice"
    assert entra.key_requests == 2
    unknown = jwt.encode(
        jwt.decode(entra.token(), options={"verify_signature": False}),
        entra.keys[new_kid],
        algorithm="RS256",
        headers={"kid": "not-a-published-key"},
    )
    for _ in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await check.user_id(f"Bearer {unknown}")
    assert entra.key_requests == 2
    await check.close()


async def test_unreachable_keys_are_a_retryable_503_not_a_401(entra):
    entra.fail = True
    check = validator(entra)
    with pytest.raises(SignInUnavailable) as raised:
        await check.user_id(f"Bearer {entra.token()}")
    assert raised.value.status == 503
    await check.close()


def test_the_app_in_entra_mode_over_http(start_host, fake_model, entra):
    env = {
        **model_env(fake_model),
        "AUTH_MODE": "entra",
        "ENTRA_TENANT_ID": TENANT,
        "ENTRA_AUDIENCE": f"api://{API_ID},{API_ID}",
        "ENTRA_AUTHORITY_HOST": entra.url,
    }
    host = start_host(env)
    anonymous = host.client()
    refused = anonymous.request("threads.list", limit=5)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"

    alice = host.client(Authorization=f"Bearer {entra.token(oid='oid-alice')}")
    bob = host.client(Authorization=f"Bearer {entra.token(oid='oid-bob')}")
    fake_model.script(Reply.say("Hello Alice."))
    thread_id = alice.create_thread("hi").thread_id
    assert [t["id"] for t in alice.call("threads.list", limit=5)["data"]] == [thread_id]
    assert bob.call("threads.list", limit=5)["data"] == []
    assert bob.request("threads.get_by_id", thread_id=thread_id).status_code == 404
    expired = host.client(Authorization=f"Bearer {entra.token(exp=int(time.time()) - 999)}")
    response = expired.request("threads.list", limit=5)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
    assert httpx.get(f"{host.url}/api/health", timeout=5).status_code == 200
