"""Who is calling: the user id comes from the platform, never from the request body.

`platform`: Static Web Apps / App Service authentication put the signed-in user in the
`x-ms-client-principal` header (base64 JSON). The Function app must only be reachable
through that platform, or anyone could forge the header.
`entra`: a Microsoft Entra ID bearer token for this API (shared/entra.py), for pages
that call the Function app directly.
`anonymous`: each browser is its own user, by a signed cookie (shared/anonymous.py).
`local`: one fixed local user, for development on your own machine.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping

import pydantic_core

from shared.errors import Unauthorized
from shared.settings import Settings

PRINCIPAL_HEADER = "x-ms-client-principal"
_MAX_PRINCIPAL_BYTES = 16_384
# App Service (Easy Auth) puts the user's object id in these claims.
_USER_ID_CLAIMS = (
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "oid",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "sub",
)


_LOOPBACK = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _is_loopback(host: str | None) -> bool:
    if not host:
        # HTTP/1.0, or the Functions host (it drops Host): the peer check decides.
        return True
    name = host.split(",")[0].strip().lower()
    name = name.rsplit(":", 1)[0] if not name.endswith("]") else name
    return name in _LOOPBACK


def _is_loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False  # a name, "unknown", a Unix socket path: not provably this machine
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


def _from_this_machine(peer: str | None, headers: Mapping[str, str]) -> bool:
    """The TCP peer and every proxy hop it reports are loopback addresses.

    `Host` is whatever the client wrote, so it alone proves nothing. The peer is the
    socket's other end: the browser under the local host, the Functions host process under
    the worker, which then reports the real client in X-Forwarded-For (uvicorn may already
    have moved that into the peer). Unknown counts as remote.
    """
    if peer is None or not _is_loopback_address(peer):
        return False
    forwarded = headers.get("x-forwarded-for")
    if forwarded is None:
        return True
    hops = [hop.strip() for hop in forwarded.split(",")]
    return all(_is_loopback_address(hop) for hop in hops)


async def identify(
    headers: Mapping[str, str], settings: Settings, peer: str | None = None
) -> tuple[str, str | None]:
    """(user id, a Set-Cookie value the response must carry, if any).

    `peer` is the request's client address (None when the server does not know it).
    """
    if settings.auth_mode == "anonymous":
        from shared.anonymous import identify as anonymous

        return anonymous(headers, settings)
    if settings.auth_mode == "local" and not _from_this_machine(peer, headers):
        raise Unauthorized(
            "AUTH_MODE=local serves only localhost; a deployment needs AUTH_MODE platform or entra."
        )
    return await user_id_from_headers(headers, settings), None


async def user_id_from_headers(headers: Mapping[str, str], settings: Settings) -> str:
    if settings.auth_mode == "anonymous":
        return (await identify(headers, settings))[0]
    if settings.auth_mode == "local":
        # One shared identity for everyone: fine on a developer's machine, never on a
        # reachable host (a deployment that forgot to set AUTH_MODE).
        if not (
            _is_loopback(headers.get("host")) and _is_loopback(headers.get("x-forwarded-host"))
        ):
            raise Unauthorized(
                "AUTH_MODE=local serves only localhost; a deployment needs AUTH_MODE "
                "platform or entra."
            )
        return settings.local_user_id
    if settings.auth_mode == "entra":
        from shared.entra import validator_for

        return await validator_for(settings).user_id(headers.get("authorization"))
    return _user_id_from_principal(headers.get(PRINCIPAL_HEADER))


def _user_id_from_principal(raw: str | None) -> str:
    if not raw:
        raise Unauthorized("Sign-in required: the x-ms-client-principal header is missing.")
    if len(raw) > _MAX_PRINCIPAL_BYTES:
        raise Unauthorized("The x-ms-client-principal header is malformed.")
    try:
        # pydantic-core's parser stops at a fixed depth (ValueError); the stdlib's recurses
        # until RecursionError, which nothing here would map to a 401.
        principal = pydantic_core.from_json(base64.b64decode(raw, validate=False))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Unauthorized("The x-ms-client-principal header is malformed.") from None
    if not isinstance(principal, dict):
        raise Unauthorized("The x-ms-client-principal header is malformed.")

    # Static Web Apps shape: {"identityProvider", "userId", "userDetails", "userRoles"}.
    user_id = principal.get("userId")
    provider = principal.get("identityProvider") or principal.get("auth_typ") or "aad"
    if not user_id:
        # App Service shape: {"auth_typ", "claims": [{"typ", "val"}, ...]}.
        claims = principal.get("claims")
        if isinstance(claims, list):
            by_type = {c.get("typ"): c.get("val") for c in claims if isinstance(c, dict)}
            user_id = next((by_type[t] for t in _USER_ID_CLAIMS if by_type.get(t)), None)
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 256:
        raise Unauthorized("The x-ms-client-principal header names no user.")
    if not isinstance(provider, str):
        provider = "unknown"
    # The provider keeps two identity systems' user ids from ever colliding.
    return f"{provider.strip().lower()[:32]}:{user_id.strip()}"
