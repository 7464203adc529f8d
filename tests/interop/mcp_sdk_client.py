"""Interop check with a client nobody here wrote: the official Python MCP SDK, with its OAuth
provider doing discovery, client registration (or none), PKCE and the token exchange against the
kcdev realm. Only the browser is replaced: the redirect handler logs in headlessly.

Usage: python mcp_sdk_client.py <mcp url> <username> <password>
           [--client-id ID | --client-metadata-url URL] [--redirect-uri URI]
           [--call TOOL ...] [--allow-http-metadata-url] [--mode legacy|auto] [--leave-consent]

Without a client option the SDK registers itself (DCR). With --client-id it starts with that
client already known (a pre-registered client) and must not register. With
--client-metadata-url it uses that URL as its client id (a Client ID Metadata Document), which it
does only when the authorization server advertises CIMD; --allow-http-metadata-url lifts the SDK's
https-only check, for a test whose document server speaks plain HTTP on its own Docker network.

--mode legacy (the default here) opens a session with the `initialize` handshake; --mode auto
connects as the SDK's own `Client` does by default: a `server/discover` probe at the newest
protocol revision (2026-07-28: no session, no handshake), falling back to `initialize`.

Prints one JSON object: the tools listed, what each called tool answered, the access token's
claims, the client id used, the RFC 8707 `resource` the authorization request carried, the
protocol version the connection settled on and the session ids the server handed out.
"""

import argparse
import asyncio
import base64
import json
import socket
from urllib.parse import parse_qs, urlparse

import httpx2
import mcp.client.auth.oauth2 as sdk_oauth
from mcp import ClientSession
from mcp.client._probe import negotiate_auto
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from keycloak_login import login


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


def claims_of(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def tool_result(result) -> dict:
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "text": result.content[0].text if result.content else "",
    }


async def main(args) -> None:
    redirect = {}
    authorize_query = {}

    authorized_scopes = []

    async def redirect_handler(authorize_url: str) -> None:
        authorize_query.update(parse_qs(urlparse(authorize_url).query))
        authorized_scopes.append(authorize_query.get("scope", [None])[0])
        redirect.clear()
        redirect.update(
            await login(
                authorize_url,
                args.redirect_uri,
                args.username,
                args.password,
                answer_consent=not args.leave_consent,
            )
        )

    async def callback_handler() -> AuthorizationCodeResult:
        if "error" in redirect:
            raise RuntimeError(f"authorization refused: {redirect['error']} {redirect.get('error_description', '')}")
        return AuthorizationCodeResult(code=redirect["code"], state=redirect.get("state"), iss=redirect.get("iss"))

    # Its own name per mode, so a test can tell whether it registered.
    name = "kcdev interop (Python MCP SDK" + (", pre-registered)" if args.client_id else ")")
    metadata = OAuthClientMetadata(
        client_name=name,
        redirect_uris=[args.redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    storage = MemoryStorage()
    if args.client_id:
        storage.client_info = OAuthClientInformationFull(client_id=args.client_id, **metadata.model_dump())
    if args.allow_http_metadata_url:
        sdk_oauth.is_valid_client_metadata_url = lambda url: url is not None
    provider = OAuthClientProvider(
        server_url=args.url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=args.client_metadata_url,
    )
    calls = {}
    session_ids = set()

    header_values = set()

    async def record_session(response) -> None:
        if "mcp-session-id" in response.headers:
            session_ids.add(response.headers["mcp-session-id"])
        if args.record_header and args.record_header in response.headers:
            header_values.add(response.headers[args.record_header])

    hooks = {"response": [record_session]}
    tools = None
    protocol_version = None
    current = None
    try:
        async with httpx2.AsyncClient(auth=provider, timeout=30, event_hooks=hooks) as http:
            async with streamable_http_client(args.url, http_client=http) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    if args.mode == "auto":
                        await negotiate_auto(session)
                    else:
                        await session.initialize()
                    protocol_version = session.protocol_version
                    tools = await session.list_tools()
                    for tool in args.call:
                        current = tool
                        calls[tool] = tool_result(await session.call_tool(tool, {}))
                    current = None
    except BaseException as error:  # noqa: BLE001 - a failed call is reported to the test
        if current is None or isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        calls[current] = {"failed": f"{type(error).__name__}: {error}"}
    print(
        json.dumps(
            {
                "tools": sorted(tool.name for tool in tools.tools) if tools else None,
                "calls": calls,
                "token_claims": claims_of(storage.tokens.access_token) if storage.tokens else None,
                "client_id": storage.client_info.client_id if storage.client_info else None,
                "registered_scope": storage.client_info.scope if storage.client_info else None,
                "resource_requested": authorize_query.get("resource", [None])[0],
                # The `scope` of each authorization request: a second one is a step-up.
                "authorized_scopes": authorized_scopes,
                "iss_returned": redirect.get("iss"),
                "protocol_version": protocol_version,
                "session_ids": sorted(session_ids),
                "header_values": sorted(header_values),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("--client-id")
    parser.add_argument("--client-metadata-url")
    parser.add_argument("--redirect-uri", default="http://localhost:39123/callback")
    parser.add_argument("--call", action="append", default=[])
    parser.add_argument("--allow-http-metadata-url", action="store_true")
    parser.add_argument("--mode", choices=["legacy", "auto"], default="legacy")
    # Leave a consent page unanswered, as a user who never looks at the browser does (the login,
    # and so the script, fails).
    parser.add_argument("--leave-consent", action="store_true")
    # HOST=ADDRESS: reach HOST at ADDRESS, as if DNS said so (a public name in front of a balancer).
    parser.add_argument("--resolve")
    # A response header whose values are reported (which replica answered, say).
    parser.add_argument("--record-header")
    arguments = parser.parse_args()
    if arguments.resolve:
        name, _, address = arguments.resolve.partition("=")
        system_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host, *rest, **options):
            # anyio passes the host IDNA-encoded, as bytes.
            wanted = host.decode() if isinstance(host, bytes) else host
            return system_getaddrinfo(address if wanted == name else host, *rest, **options)

        socket.getaddrinfo = getaddrinfo
    asyncio.run(main(arguments))
