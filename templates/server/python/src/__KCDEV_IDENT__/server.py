"""The server: FastMCP with the realm's auth in front of the tools, served over Streamable HTTP
at `MCP_SERVER_URL` + /mcp."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from fastmcp import FastMCP
from fastmcp.server.auth import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from . import tools
from .auth import RefusalLog, keycloak_auth
from .config import MCP_PATH, ConfigError, Settings
from .scopes import ToolScopeGuard, in_order, tool_scopes, unoffered

NAME = "__KCDEV_NAME__"


def create_server(settings: Settings, verifier: TokenVerifier | None = None) -> FastMCP:
    mcp = FastMCP(
        NAME,
        instructions="Tools of an OAuth-protected MCP server. `whoami` shows who is calling.",
    )
    tools.register(mcp)

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    declared = tool_scopes(mcp)
    offered = (*settings.required_scopes, *settings.optional_scopes)
    for tool, scope in unoffered(declared, offered):
        print(
            f"warning: tool {tool} declares scope {scope}, which is in neither "
            "MCP_REQUIRED_SCOPES nor MCP_OPTIONAL_SCOPES: the realm may never issue it; declare "
            'it in kcdev.toml under the server\'s `scopes` with `assigned = "optional"`, then '
            "`kcdev up`",
            file=sys.stderr,
        )
    # Auth comes last: its metadata lists the scopes the tools declare.
    mcp.auth = keycloak_auth(settings, in_order(offered, *declared.values()), verifier)
    return mcp


def create_app(settings: Settings, verifier: TokenVerifier | None = None) -> ASGIApp:
    mcp = create_server(settings, verifier)
    # Host allow-list against DNS rebinding: the server URL's host name, whatever it is (a
    # public name behind a proxy included).
    app = mcp.http_app(path=MCP_PATH, allowed_hosts=[urlsplit(settings.server_url).netloc])
    # The tool scope check and the refusal log wrap FastMCP's own /mcp route, so they see exactly
    # the requests the MCP endpoint does (a path test in app-wide middleware could miss some).
    [route] = [r for r in app.routes if isinstance(r, Route) and r.path == MCP_PATH]
    route.app = ToolScopeGuard(
        RefusalLog(route.app, required_scopes=settings.required_scopes),
        mcp=mcp,
        required_scopes=settings.required_scopes,
        resource_metadata_url=str(build_resource_metadata_url(AnyHttpUrl(settings.resource_url))),
    )
    return app


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    import uvicorn

    log_to_stderr()
    print(
        f"MCP endpoint {settings.resource_url}, tokens from {settings.realm_url}",
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def log_to_stderr() -> None:
    """This package's log lines (why a token was refused) on stderr, looking like uvicorn's:
    uvicorn configures its own loggers only."""
    from uvicorn.logging import DefaultFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    package = logging.getLogger(__package__)
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    # FastMCP logs a few refusals itself, its own way, and "Auth error returned" after each: one
    # line per refusal is enough.
    for name in ("fastmcp.server.auth.providers.jwt", "fastmcp.server.auth.middleware"):
        logging.getLogger(name).setLevel(logging.ERROR)
