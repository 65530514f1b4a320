"""Microsoft Entra ID access tokens, for AUTH_MODE=entra.

In the direct topology the page calls the Function app itself (CORS) and sends a bearer
token for this API. The token is checked here: RS256 signature against the tenant's
published keys, issuer (v1 or v2 form of the configured tenant), audience (the API's
client id or application id URI), expiry, and a delegated scope, so an app-only token
cannot act as a user. The user is the token's `oid`. Signing keys are fetched once per
process and again only when a token names a key not seen yet (keys rotate), at most
every few minutes, without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from shared.errors import ApiError, Unauthorized
from shared.settings import Settings

_KEYS_TTL_SECONDS = 24 * 3600
_UNKNOWN_KID_REFRESH_SECONDS = 300
_LEEWAY_SECONDS = 60
_MAX_TOKEN_CHARS = 16_384


class SignInUnavailable(ApiError):
    status = 503
    code = "sign_in_unavailable"


class EntraValidator:
    def __init__(
        self,
        tenant_id: str,
        audiences: list[str],
        required_scope: str | None,
        authority_host: str,
    ):
        self.tenant_id = tenant_id
        self.audiences = audiences
        self.required_scope = required_scope
        self.issuers = [
            f"{authority_host}/{tenant_id}/v2.0",
            f"https://sts.windows.net/{tenant_id}/",
        ]
        self.keys_url = f"{authority_host}/{tenant_id}/discovery/v2.0/keys"
        self._keys: dict[str, Any] = {}
        # None until the first fetch: monotonic time counts from boot, so 0.0 would read as
        # "fetched at boot" and hold off the first fetch for minutes on a fresh machine.
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._http: httpx.AsyncClient | None = None

    async def user_id(self, authorization: str | None) -> str:
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is malformed.") from None
        kid = header.get("kid")
        if header.get("alg") != "RS256" or not isinstance(kid, str):
            raise Unauthorized("The bearer token is not signed the way Entra ID signs tokens.")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuers,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The bearer token has expired; sign in again.") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The bearer token is for another application.") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("The bearer token is from another tenant.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not valid.") from None
        if claims.get("tid") not in (None, self.tenant_id):
            raise Unauthorized("The bearer token is from another tenant.")
        if self.required_scope and self.required_scope not in str(claims.get("scp", "")).split():
            raise Unauthorized(f"The bearer token lacks the '{self.required_scope}' scope.")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid.strip() or len(oid) > 128:
            raise Unauthorized("The bearer token names no user.")
        return f"entra:{oid.strip()}"

    def _age(self) -> float:
        """Seconds since the keys were fetched; infinite before the first fetch."""
        if self._fetched_at is None:
            return float("inf")
        return time.monotonic() - self._fetched_at

    async def _key(self, kid: str) -> Any:
        if kid in self._keys and self._age() < _KEYS_TTL_SECONDS:
            return self._keys[kid]
        async with self._lock:
            # Another request may have refreshed the keys while this one waited.
            age = self._age()
            stale = age >= _KEYS_TTL_SECONDS
            if (kid not in self._keys and age >= _UNKNOWN_KID_REFRESH_SECONDS) or stale:
                await self._fetch_keys()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The bearer token is signed with an unknown key.")
        return key

    async def _fetch_keys(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        try:
            response = await self._http.get(self.keys_url)
            response.raise_for_status()
            keys = response.json()["keys"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, RecursionError):
            raise SignInUnavailable(
                "Sign-in could not be checked right now (Entra ID keys unavailable). "
                "Please try again."
            ) from None
        parsed = {}
        for jwk in keys:
            if (
                isinstance(jwk, dict)
                and jwk.get("kty") == "RSA"
                and isinstance(jwk.get("kid"), str)
            ):
                try:
                    parsed[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256").key
                except jwt.PyJWTError:
                    continue
        self._keys = parsed
        self._fetched_at = time.monotonic()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Sign-in required: send an Entra ID access token as a bearer token.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_CHARS:
        raise Unauthorized("The Authorization header must be 'Bearer <access token>'.")
    return token


_validators: dict[tuple[Any, ...], EntraValidator] = {}


def validator_for(settings: Settings) -> EntraValidator:
    """One validator (and key cache) per process and event loop."""
    key = (
        id(asyncio.get_running_loop()),
        settings.entra_tenant_id,
        tuple(settings.entra_audience),
        settings.entra_required_scope,
        settings.entra_authority_host,
    )
    validator = _validators.get(key)
    if validator is None:
        validator = EntraValidator(
            settings.entra_tenant_id or "",
            list(settings.entra_audience),
            settings.entra_required_scope,
            settings.entra_authority_host,
        )
        _validators[key] = validator
    return validator
