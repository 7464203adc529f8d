"""The server: FastMCP with the realm's auth in front of the tools, served over Streamable HTTP
at `MCP_SERVER_URL` + /mcp."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from fastmcp import FastMCP
from fastmcp.server.auth import TokenVerifier
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp

from . import tools
from .auth import keycloak_auth
from .config import MCP_PATH, ConfigError, Settings

NAME = "__KCDEV_NAME__"


def create_server(settings: Settings, verifier: TokenVerifier | None = None) -> FastMCP:
    mcp = FastMCP(
        NAME,
        auth=keycloak_auth(settings, verifier),
        instructions="Tools of an OAuth-protected MCP server. `whoami` shows who is calling.",
    )
    tools.register(mcp)

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return mcp


def create_app(settings: Settings, verifier: TokenVerifier | None = None) -> ASGIApp:
    # Host allow-list against DNS rebinding: the server URL's host name, whatever it is (a
    # public name behind a proxy included).
    return create_server(settings, verifier).http_app(
        path=MCP_PATH,
        allowed_hosts=[urlsplit(settings.server_url).netloc],
    )


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    import uvicorn

    print(
        f"MCP endpoint {settings.resource_url}, tokens from {settings.realm_url}",
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
