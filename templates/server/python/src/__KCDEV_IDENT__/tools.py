"""The MCP tools. Add yours here: a function registered in `register`. The caller's verified
token claims come with every request (see `caller_claims`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.dependencies import get_access_token
from pydantic import BaseModel

ADMIN_ROLE = "admin"
"""The realm role `admin_only` requires."""


class WhoAmI(BaseModel):
    subject: str | None
    """The user's id (`sub`)."""
    username: str | None
    client: str | None
    """The client the token was issued to (`azp`)."""
    scopes: list[str]
    realm_roles: list[str]
    audience: list[str]
    expires_at: int
    """Expiry, seconds since the epoch."""


def caller_claims() -> Mapping[str, Any]:
    token = get_access_token()
    if token is None:
        # Only reachable when the auth provider is not in front of the tools.
        raise ToolError("no authenticated caller on this request")
    return token.claims


def realm_roles(claims: Mapping[str, Any]) -> list[str]:
    return list(claims.get("realm_access", {}).get("roles", []))


def identity(claims: Mapping[str, Any]) -> WhoAmI:
    audience = claims.get("aud", [])
    return WhoAmI(
        subject=claims.get("sub"),
        username=claims.get("preferred_username"),
        client=claims.get("azp"),
        scopes=str(claims.get("scope", "")).split(),
        realm_roles=realm_roles(claims),
        audience=[audience] if isinstance(audience, str) else list(audience),
        expires_at=int(claims.get("exp", 0)),
    )


def admin_greeting(claims: Mapping[str, Any]) -> str:
    # A permission failure is a tool error the model can read, not a protocol error.
    if ADMIN_ROLE not in realm_roles(claims):
        raise ToolError(f"forbidden: this tool requires the realm role '{ADMIN_ROLE}'")
    name = claims.get("preferred_username") or claims.get("sub")
    return f"Hello {name}: you are an admin."


def register(mcp: FastMCP) -> None:
    @mcp.tool
    def whoami() -> WhoAmI:
        """Who is calling: user id, user name, client, scopes, realm roles, audience and expiry
        of the access token."""
        return identity(caller_claims())

    @mcp.tool
    def admin_only() -> str:
        """An example of a tool only users with the realm role 'admin' may use."""
        return admin_greeting(caller_claims())
