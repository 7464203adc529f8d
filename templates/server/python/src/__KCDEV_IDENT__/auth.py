"""Who may call: tokens of the Keycloak realm, for this server, with the required scopes.

FastMCP's `KeycloakAuthProvider` serves the protected resource metadata (RFC 9728) and answers
requests without a valid token with the MCP challenge. Its `JWTVerifier` checks each token
locally against the realm's published keys (fetched once and cached, no call to Keycloak per
request): signature (RS256 only, so `alg: none` and HMAC tricks fail), issuer, expiry, audience
and, in the provider, the required scopes. The scopes a tool declares are checked in `scopes.py`.

Each refusal is logged, one line saying why (`RefusalLog`); FastMCP's own answer does not say.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.auth.providers.keycloak import KeycloakAuthProvider
from fastmcp.utilities.auth import decode_jwt_header, decode_jwt_payload
from joserfc import jwk, jwt
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Settings

logger = logging.getLogger(__package__)

NBF_LEEWAY_SECONDS = 30
"""What FastMCP tolerates on `nbf`; it tolerates nothing on `exp`."""


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused, and what its token said about whose it was."""

    reason: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    verified: bool = False
    """Whether the token passed every check but scopes: otherwise its claims may lie."""
    level: int = logging.WARNING

    def log(self, scope: Scope) -> None:
        """One line, `token refused: <reason>; <method> <path>[; client "...", user "..."
        [ (unverified)]]`. Never the token: its claims are enough to tell whose it is."""
        line = f"token refused: {self.reason}; {scope['method']} {scope['path']}"
        names = [
            f"{what} {quoted(self.claims[claim])}"
            for what, claim in (("client", "azp"), ("user", "preferred_username"))
            if isinstance(self.claims.get(claim), str)
        ]
        if names:
            line += "; " + ", ".join(names) + ("" if self.verified else " (unverified)")
        logger.log(self.level, line)


def quoted(value: Any) -> str:
    """What a token holds, as JSON: a made-up claim cannot break the line or pass for the
    server's own words."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def timestamp(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(seconds)


_refusal: ContextVar[Refusal | None] = ContextVar("refusal", default=None)
"""Why the verifier refused this request's token, for `RefusalLog`: FastMCP's bearer check runs
before the route, in the same task, and keeps only a yes or no."""


class RealmTokenVerifier(JWTVerifier):
    """A `JWTVerifier` that insists on an expiry and leaves the scope check to the provider.

    FastMCP checks `exp` only when a token has one; every Keycloak access token has, so one
    without is refused.

    A verifier that checks `required_scopes` itself refuses a token without them as invalid
    (401). Checked by the provider, a valid token without the scope gets 403
    `insufficient_scope`, as the MCP spec asks, so the client knows to ask for more.
    """

    async def verify_token(self, token: str) -> AccessToken | None:
        access = await super().verify_token(token)
        if access is None or access.expires_at is None:
            _refusal.set(await self.refusal(token))
            return None
        return access

    async def refusal(self, token: str) -> Refusal:
        """Why `token` was refused. FastMCP only says that it was, so its checks are retraced,
        in its order, on what the token holds."""
        try:
            header, claims = decode_jwt_header(token), decode_jwt_payload(token)
        except ValueError:
            return Refusal("malformed token")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return Refusal("malformed token")

        def refused(reason: str) -> Refusal:
            return Refusal(reason, claims)

        if header.get("alg") != self.algorithm:
            alg = quoted(header.get("alg"))
            return refused(f"algorithm {alg} not accepted (accepted: {self.algorithm})")
        try:
            key = await self._get_verification_key(token)
        except ValueError:
            kid = header.get("kid")
            # FastMCP loads the keys on the first token: none yet means it could not.
            if self.jwks_uri and not self._jwks_cache:
                return refused(f"signing keys unavailable from {self.jwks_uri}")
            if not kid:
                return refused("token names no signing key (no kid)")
            return refused(f"unknown signing key {quoted(kid)}")
        try:
            registry = JWSRegistry(algorithms=[self.algorithm], strict_check_header=False)
            jwt.decode(token, jwk.import_key(key, "RSA"), registry=registry)
        except JoseError:
            return refused("bad signature")
        now = int(time.time())
        exp, nbf, iss, aud = (claims.get(claim) for claim in ("exp", "nbf", "iss", "aud"))
        if exp is None:
            return refused("no exp claim")
        if not isinstance(exp, int | float):
            return refused("malformed exp claim")
        if exp < time.time():
            return refused(f"expired (exp {timestamp(exp)}, {now - int(exp)} s ago)")
        if isinstance(nbf, int | float) and nbf > time.time() + NBF_LEEWAY_SECONDS:
            return refused(f"not valid yet (nbf {timestamp(nbf)}, in {int(nbf) - now} s)")
        if iss != self.issuer:
            found = "no issuer" if iss is None else f"issuer {quoted(iss)}"
            return refused(f"{found} where {self.issuer} was expected")
        found = [] if aud is None else aud if isinstance(aud, list) else [aud]
        expected = self.audience if isinstance(self.audience, list) else [self.audience]
        if not any(audience in expected for audience in found):
            had = f"audience {quoted(found)}" if found else "no audience"
            accepted = expected[0] if len(expected) == 1 else f"one of {', '.join(expected)}"
            return refused(f"{had} where {accepted} was expected")
        return refused("invalid token")


class RefusalLog:
    """ASGI middleware around FastMCP's bearer check on the MCP endpoint: logs why it refuses a
    request (no token, a bad one, one without the required scopes). FastMCP's answer reads the
    same for every bad token, and says nothing on the server's side."""

    def __init__(self, app: ASGIApp, *, required_scopes: Sequence[str]) -> None:
        self.app = app
        self.required_scopes = tuple(required_scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (refusal := self.refusal(scope)) is not None:
            refusal.log(scope)
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> Refusal | None:
        """What FastMCP's `RequireAuthMiddleware` is about to refuse, and why; None if nothing."""
        user = scope.get("user")
        if isinstance(user, AuthenticatedUser):
            missing = [needed for needed in self.required_scopes if needed not in user.scopes]
            if not missing:
                return None
            claims = user.access_token.claims or {}
            return Refusal(f"missing scope {' '.join(missing)}", claims, verified=True)
        # Bearer credentials as FastMCP recognizes them; anything else it treats as none.
        if not any(
            name.lower() == b"authorization" and value[:7].lower() == b"bearer "
            for name, value in scope.get("headers", [])
        ):
            # A client's first request carries none by design (the answer tells it where to log
            # in): worth a line, not a warning.
            return Refusal("no bearer token", level=logging.INFO)
        return _refusal.get() or Refusal("invalid token")


class RealmAuthProvider(KeycloakAuthProvider):
    """A `KeycloakAuthProvider` whose metadata lists every scope a client may need here, while
    its challenges name only the required ones.

    FastMCP would take both lists from the verifier, which knows neither: it checks no scope.
    """

    def __init__(self, *, scopes_supported: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._advertised_scopes = scopes_supported

    @property
    def scopes_supported(self) -> list[str]:
        return self._advertised_scopes

    def get_challenge_scopes(self, required_scopes: list[str] | None = None) -> list[str]:
        return self.required_scopes if required_scopes is None else required_scopes


def token_verifier(settings: Settings, public_key: str | None = None) -> JWTVerifier:
    """The realm's verifier; tests pass a `public_key` of their own instead of the realm's keys."""
    keys = {"public_key": public_key} if public_key else {"jwks_uri": settings.resolved_jwks_uri}
    return RealmTokenVerifier(
        issuer=settings.realm_url,
        # The audience check is what keeps a token the realm issued for another service from
        # working here; FastMCP's Keycloak page leaves it commented out, do not.
        audience=list(settings.audiences),
        algorithm="RS256",
        **keys,
    )


def keycloak_auth(
    settings: Settings, scopes_supported: list[str], verifier: TokenVerifier | None = None
) -> KeycloakAuthProvider:
    """The auth provider, whose metadata lists `scopes_supported`; tests pass a verifier that
    trusts a key of their own."""
    return RealmAuthProvider(
        realm_url=settings.realm_url,
        base_url=settings.server_url,
        required_scopes=list(settings.required_scopes),
        scopes_supported=scopes_supported,
        audience=list(settings.audiences),
        token_verifier=verifier or token_verifier(settings),
    )
