"""FastMCP's own client, `Client(url, auth="oauth")` as FastMCP's page shows, with the browser
replaced by a headless login: discovery, registration, PKCE and the token exchange are FastMCP's.

Usage: python fastmcp_client.py <mcp url> <username> <password>
Prints one JSON object with the claims tool's answer and the admin tool's outcome.
"""

import asyncio
import json
import sys

from fastmcp import Client
from fastmcp.client.auth import OAuth
from mcp.shared.auth import AuthorizationCodeResult

from keycloak_login import login


class HeadlessOAuth(OAuth):
    def __init__(self, username: str, password: str):
        super().__init__()
        self._credentials = (username, password)
        self._redirect = {}

    async def redirect_handler(self, authorization_url: str) -> None:
        redirect_uri = f"http://localhost:{self.redirect_port}/callback"
        self._redirect = await login(authorization_url, redirect_uri, *self._credentials)

    async def callback_handler(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=self._redirect["code"], state=self._redirect.get("state"), iss=self._redirect.get("iss")
        )


async def main(url: str, username: str, password: str) -> None:
    async with Client(url, auth=HeadlessOAuth(username, password)) as client:
        claims = await client.call_tool("get_access_token_claims")
        admin = await client.call_tool("admin_only_tool", raise_on_error=False)
    print(
        json.dumps(
            {
                "claims": claims.data,
                "admin": {"is_error": admin.is_error, "text": admin.content[0].text if admin.content else ""},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
