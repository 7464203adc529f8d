"""A FastMCP server configured the way FastMCP's Keycloak page shows (the page this project grew
from), with the audience check it recommends for production turned on.

Run: fastmcp run fastmcp_server.py --transport http --port <port>
Environment: KEYCLOAK_REALM_URL, FASTMCP_BASE_URL (e.g. http://localhost:8000).

The page's "Advanced Configuration" instead (a JWTVerifier of its own, with an audience and
required scopes, passed to KeycloakAuthProvider as token_verifier), with FASTMCP_ADVANCED_AUDIENCE
and FASTMCP_ADVANCED_REQUIRED_SCOPES (comma-separated) set, or with the server arguments
`-- --advanced AUDIENCE SCOPE[,SCOPE...]`, e.g. `--advanced my-resource-server api:read,api:write`
as on the page. Its protected resource metadata then lists those scopes in scopes_supported, so a
client that registers dynamically asks for them.
"""

import argparse
import os

from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.auth.providers.keycloak import KeycloakAuthProvider
from fastmcp.server.dependencies import get_access_token


def advanced_settings() -> tuple[str, list[str]] | None:
    """The audience and required scopes of the advanced configuration, if asked for."""
    parser = argparse.ArgumentParser(prog="fastmcp_server.py", allow_abbrev=False)
    parser.add_argument("--advanced", nargs=2, metavar=("AUDIENCE", "SCOPE[,SCOPE...]"))
    # `fastmcp run` hands the server the arguments after `--` (and only those) in sys.argv.
    arguments, _ = parser.parse_known_args()
    audience, scopes = arguments.advanced or (
        os.getenv("FASTMCP_ADVANCED_AUDIENCE"),
        os.getenv("FASTMCP_ADVANCED_REQUIRED_SCOPES"),
    )
    if not audience:
        return None
    return audience, [scope for scope in (scopes or "").split(",") if scope]


realm_url = os.getenv("KEYCLOAK_REALM_URL") or "http://localhost:8080/realms/myrealm"
advanced = advanced_settings()
if advanced is None:
    auth = KeycloakAuthProvider(
        realm_url=realm_url,
        base_url=os.environ["FASTMCP_BASE_URL"],
        audience=os.environ["FASTMCP_BASE_URL"],
    )
else:
    # The page's Advanced Configuration, with its realm and base URL and these values.
    audience, required_scopes = advanced
    custom_verifier = JWTVerifier(
        jwks_uri=f"{realm_url}/protocol/openid-connect/certs",
        issuer=realm_url,
        audience=audience,
        required_scopes=required_scopes,
    )
    auth = KeycloakAuthProvider(
        realm_url=realm_url,
        base_url=os.environ["FASTMCP_BASE_URL"],
        token_verifier=custom_verifier,
    )

mcp = FastMCP("Keycloak Example Server", auth=auth)


@mcp.tool
async def get_access_token_claims() -> dict:
    """Get the authenticated user's access token claims."""
    token = get_access_token()
    return {
        "sub": token.claims.get("sub"),
        "scope": token.claims.get("scope"),
        "azp": token.claims.get("azp"),
        # Not on the page: the audience, so a test sees which one the token was issued for.
        "aud": token.claims.get("aud"),
    }


@mcp.tool
async def admin_only_tool() -> str:
    """A tool only available to admin users."""
    token = get_access_token()
    roles = token.claims.get("realm_access", {}).get("roles", [])
    if "admin" not in roles:
        raise ValueError("This tool requires admin access")
    return "Admin access granted!"
