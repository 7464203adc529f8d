"""Interop check with a client nobody here wrote: the official Python MCP SDK, with its OAuth
provider doing discovery, dynamic client registration, PKCE and the token exchange against the
kcdev realm. Only the browser is replaced: the redirect handler logs in headlessly.

Usage: python mcp_sdk_client.py <mcp url> <username> <password> [<client id> <redirect uri>]
With a client id, the SDK starts with that client already known (a pre-registered client) and
must not register. Prints one JSON object: the tools listed and what `whoami` and `admin_only`
answered.
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from keycloak_login import login

DCR_REDIRECT_URI = "http://localhost:39123/callback"


class MemoryStorage:
    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


async def main(url: str, username: str, password: str, client_id=None, redirect_uri=DCR_REDIRECT_URI) -> None:
    redirect = {}

    async def redirect_handler(authorize_url: str) -> None:
        redirect.update(await login(authorize_url, redirect_uri, username, password))

    async def callback_handler() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=redirect["code"], state=redirect.get("state"), iss=redirect.get("iss"))

    metadata = OAuthClientMetadata(
        # Its own name when it was given a client id, so a test can tell it did not register.
        client_name="kcdev interop (Python MCP SDK, pre-registered)" if client_id else "kcdev interop (Python MCP SDK)",
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    storage = MemoryStorage()
    if client_id:
        storage.client_info = OAuthClientInformationFull(client_id=client_id, **metadata.model_dump())
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                whoami = await session.call_tool("whoami", {})
                admin_only = await session.call_tool("admin_only", {})
    print(
        json.dumps(
            {
                "tools": sorted(tool.name for tool in tools.tools),
                "whoami": whoami.structured_content,
                "admin_only": {
                    "is_error": bool(admin_only.is_error),
                    "text": admin_only.content[0].text if admin_only.content else "",
                },
                "registered_scope": storage.client_info.scope if storage.client_info else None,
                "client_id": storage.client_info.client_id if storage.client_info else None,
                "iss_returned": redirect.get("iss"),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
