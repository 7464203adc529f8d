"""A FastMCP server configured the way FastMCP's Keycloak page shows (the page this project grew
from), with the audience check it recommends for production turned on.

Run: fastmcp run fastmcp_server.py --transport http --port <port>
Environment: KEYCLOAK_REALM_URL, FASTMCP_BASE_URL (e.g. http://localhost:8000).

With FASTMCP_ADVANCED_AUDIENCE and FASTMCP_ADVANCED_REQUIRED_SCOPES (comma-separated), the page's
"Advanced Configuration" instead: a JWTVerifier of its own (that audience, those required scopes)
as KeycloakAuthProvider's token_verifier.
"""

import os

from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.auth.providers.keycloak import KeycloakAuthProvider
from fastmcp.server.dependencies import get_access_token

realm_url = os.getenv("KEYCLOAK_REALM_URL") or "http://localhost:8080/realms/myrealm"
advanced_audience = os.getenv("FASTMCP_ADVANCED_AUDIENCE")

if advanced_audience:
    custom_verifier = JWTVerifier(
        jwks_uri=f"{realm_url}/protocol/openid-connect/certs",
        issuer=realm_url,
        audience=advanced_audience,
        required_scopes=os.environ["FASTMCP_ADVANCED_REQUIRED_SCOPES"].split(","),
    )
    auth = KeycloakAuthProvider(
        realm_url=realm_url,
        base_url=os.environ["FASTMCP_BASE_URL"],
        token_verifier=custom_verifier,
    )
else:
    auth = KeycloakAuthProvider(
        realm_url=realm_url,
        base_url=os.environ["FASTMCP_BASE_URL"],
        audience=os.environ["FASTMCP_BASE_URL"],
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
    }


@mcp.tool
async def admin_only_tool() -> str:
    """A tool only available to admin users."""
    token = get_access_token()
    roles = token.claims.get("realm_access", {}).get("roles", [])
    if "admin" not in roles:
        raise ValueError("This tool requires admin access")
    return "Admin access granted!"
