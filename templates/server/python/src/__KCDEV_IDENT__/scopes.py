"""Scopes per tool. A tool that needs more than the scopes every request needs says so where it
is registered, `@mcp.tool(meta=requires("mcp:admin"))` (see `tools.py`). A `tools/call` whose
token lacks one of them is answered 403 `insufficient_scope` naming every scope the call needs,
before the tool runs, and the client logs in again asking for them (step-up). The declaration
also shows in `tools/list`, under the tool's `_meta`.

FastMCP's own `auth=require_scopes(...)` is not used for this: it hides the tool from
`tools/list` and refuses the call with a JSON-RPC error, and clients start a step-up only from
an HTTP 403 with a challenge.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastmcp import FastMCP
from fastmcp.tools import Tool
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import Refusal

META_KEY = "kcdev/requiredScopes"
"""The member of a tool's `_meta` that lists the scopes it needs."""


def requires(*scopes: str) -> dict[str, Any]:
    """The `meta` of a tool that needs `scopes` (on top of the server's required scopes)."""
    return {META_KEY: list(scopes)}


def declared_scopes(tool: Tool) -> tuple[str, ...]:
    return tuple((tool.meta or {}).get(META_KEY, ()))


def tool_scopes(mcp: FastMCP) -> dict[str, tuple[str, ...]]:
    """The scopes each tool of `mcp` declared, for the metadata and the start-up check."""
    # Synchronous: the metadata document is made with the app, before uvicorn's loop runs.
    tools = asyncio.run(mcp.list_tools(run_middleware=False))
    return {tool.name: scopes for tool in tools if (scopes := declared_scopes(tool))}


def in_order(*groups: Iterable[str]) -> list[str]:
    """Every scope of `groups`, each once, in order of first appearance."""
    return list(dict.fromkeys(scope for group in groups for scope in group))


def unoffered(
    declared: Mapping[str, Sequence[str]], offered: Iterable[str]
) -> list[tuple[str, str]]:
    """The (tool, scope) pairs whose scope the realm is not known to offer this server."""
    known = set(offered)
    return [
        (tool, scope) for tool, scopes in declared.items() for scope in scopes if scope not in known
    ]


def called_tool(body: bytes) -> str | None:
    """The tool a JSON-RPC message calls, when it is a single `tools/call`."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class ToolScopeGuard:
    """ASGI middleware around the MCP endpoint: refuses a `tools/call` whose token lacks a scope
    the tool declared, before the tool runs.

    It reads the body of every POST from a caller that passed FastMCP's checks and hands it on
    unchanged. Everything else (no token, a bad one, one without the required scopes) goes
    through untouched, for FastMCP's own 401 or 403.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        mcp: FastMCP,
        required_scopes: Sequence[str],
        resource_metadata_url: str,
    ) -> None:
        self.app = app
        self.mcp = mcp
        self.required_scopes = tuple(required_scopes)
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not isinstance(user, AuthenticatedUser)
            or not set(self.required_scopes) <= set(user.scopes)
        ):
            await self.app(scope, receive, send)
            return
        body = await Request(scope, receive).body()
        name = called_tool(body)
        # Looked up per call, as FastMCP resolves it: a tool added or mounted later counts too.
        tool = await self.mcp.get_tool(name) if name is not None else None
        if tool is not None:
            declared = declared_scopes(tool)
            missing = [needed for needed in declared if needed not in user.scopes]
            if missing:
                claims = user.access_token.claims or {}
                reason = f"missing scope {' '.join(missing)} for tool {tool.name}"
                Refusal(reason, claims, verified=True).log(scope)
                refusal = self.refusal(missing, in_order(self.required_scopes, declared))
                await refusal(scope, receive, send)
                return
        await self.app(scope, replay(body, receive), send)

    def refusal(self, missing: Sequence[str], needed: Sequence[str]) -> JSONResponse:
        """403 `insufficient_scope` (RFC 6750), naming every scope the call needs (`needed`), so
        that the client asks for all of them at once."""
        description = f"missing scope {' '.join(missing)}"
        challenge = (
            f'Bearer error="insufficient_scope", error_description="{description}", '
            f'scope="{" ".join(needed)}", resource_metadata="{self.resource_metadata_url}"'
        )
        return JSONResponse(
            {"error": "insufficient_scope", "error_description": description},
            status_code=403,
            headers={"WWW-Authenticate": challenge},
        )


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out `body` again, then whatever the client sends next (a
    disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
