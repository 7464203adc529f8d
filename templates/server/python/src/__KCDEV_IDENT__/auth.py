"""Who may call: tokens of the Keycloak realm, for this server, with the required scopes.

FastMCP's `KeycloakAuthProvider` serves the protected resource metadata (RFC 9728) and answers
requests without a valid token with the MCP challenge. Its `JWTVerifier` checks each token
locally against the realm's published keys (fetched once and cached, no call to Keycloak per
request): signature (RS256 only, so `alg: none` and HMAC tricks fail), issuer, expiry, audience
and, in the provider, the required scopes. The scopes a tool declares are checked in `scopes.py`.
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.auth.providers.keycloak import KeycloakAuthProvider

from .config import Settings


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
            return None
        return access


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
