"""The MCP tools. Add yours here: a function registered in `register`. The caller's verified
token claims come with every request (see `caller_claims`).

Every request needs the server's required scopes (`MCP_REQUIRED_SCOPES`). A tool that needs
more declares it where it is registered, `@mcp.tool(meta=requires(...))`: a call without them is
answered 403 `insufficient_scope` before the tool runs, so the client logs in again asking for
them (see `scopes.py`). Roles are checked in the tool: a missing role is a tool error the model
can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.dependencies import get_access_token
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from .scopes import requires

ADMIN_ROLE = "admin"
"""The realm role `admin_only` requires."""
ADMIN_SCOPE = "__KCDEV_ADMIN_SCOPE__"
"""The scope `admin_only` requires: kcdev's realm offers it as an optional scope."""


# The output schema stays within what every client's validator reads alike: an absent claim is
# an absent member, not `null` (a `null` type draws warnings from MCP Inspector's `--strict`),
# and no `format`. The docstrings are the schema's descriptions.
@with_config(ConfigDict(use_attribute_docstrings=True))
class WhoAmI(TypedDict):
    """The caller, from the access token."""

    subject: NotRequired[str]
    """The user's id (`sub`)."""
    username: NotRequired[str]
    """The user's login name."""
    client: NotRequired[str]
    """The client the token was issued to (`azp`)."""
    scopes: list[str]
    """Granted scopes."""
    realm_roles: list[str]
    """Realm roles."""
    audience: list[str]
    """Audiences (`aud`)."""
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
    me = WhoAmI(
        scopes=str(claims.get("scope", "")).split(),
        realm_roles=realm_roles(claims),
        audience=[audience] if isinstance(audience, str) else list(audience),
        expires_at=int(claims.get("exp", 0)),
    )
    if "sub" in claims:
        me["subject"] = str(claims["sub"])
    if "preferred_username" in claims:
        me["username"] = str(claims["preferred_username"])
    if "azp" in claims:
        me["client"] = str(claims["azp"])
    return me


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

    @mcp.tool(
        description=f"An example of a tool only users with the realm role '{ADMIN_ROLE}' may use; "
        f"it needs the scope '{ADMIN_SCOPE}'",
        meta=requires(ADMIN_SCOPE),
    )
    def admin_only() -> str:
        # Without the scope the call never gets here (403, and the client steps up); without
        # the role it is a tool error.
        return admin_greeting(caller_claims())
