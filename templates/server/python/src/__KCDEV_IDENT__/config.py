"""Configuration from the environment. Every value has a default: the kcdev realm this project
was generated for, so `python -m __KCDEV_IDENT__` works next to `kcdev up` with nothing set."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_REALM_URL = "__KCDEV_REALM_URL__"
DEFAULT_SERVER_URL = "__KCDEV_SERVER_URL__"
DEFAULT_REQUIRED_SCOPES = "__KCDEV_SCOPE__"
DEFAULT_OPTIONAL_SCOPES = "__KCDEV_OPTIONAL_SCOPES__"
MCP_PATH = "/mcp"


class ConfigError(ValueError):
    """A variable holds a value the server cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    realm_url: str
    """The token issuer: the Keycloak realm URL, without trailing slash."""
    server_url: str
    """This server's public base URL; the MCP endpoint is this plus /mcp."""
    audiences: tuple[str, ...]
    """A token must name at least one of these in `aud` (RFC 8707: the resource URL)."""
    required_scopes: tuple[str, ...]
    """Scopes every request's token must carry: the realm's default scopes for this server."""
    optional_scopes: tuple[str, ...]
    """Scopes the realm gives on request (step-up), for tools that declare them: advertised in
    the metadata so that clients register for them."""
    host: str
    port: int
    jwks_uri: str | None
    """Where the signing keys are fetched, when Keycloak is reached under another host name
    than its issuer's (in a container network, say)."""

    @property
    def resource_url(self) -> str:
        return self.server_url + MCP_PATH

    @property
    def resolved_jwks_uri(self) -> str:
        return self.jwks_uri or f"{self.realm_url}/protocol/openid-connect/certs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            return env.get(name) or default

        realm_url = http_url("KEYCLOAK_REALM_URL", get("KEYCLOAK_REALM_URL", DEFAULT_REALM_URL))
        server_url = http_url("MCP_SERVER_URL", get("MCP_SERVER_URL", DEFAULT_SERVER_URL))
        parts = urlsplit(server_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host, port = bind_address(get("MCP_BIND", f"127.0.0.1:{port}"))
        audiences = split_list(get("MCP_AUDIENCE", server_url + MCP_PATH))
        required_scopes = split_list(get("MCP_REQUIRED_SCOPES", DEFAULT_REQUIRED_SCOPES))
        optional_scopes = split_list(get("MCP_OPTIONAL_SCOPES", DEFAULT_OPTIONAL_SCOPES))
        if not audiences:
            raise ConfigError("MCP_AUDIENCE is empty: name at least the resource URL")
        jwks_uri = env.get("KEYCLOAK_JWKS_URI") or None
        if jwks_uri is not None:
            http_url("KEYCLOAK_JWKS_URI", jwks_uri)
        return cls(
            realm_url, server_url, audiences, required_scopes, optional_scopes, host, port, jwks_uri
        )


def http_url(name: str, value: str) -> str:
    value = value.rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL")
    return value


def bind_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"MCP_BIND={value!r} is not HOST:PORT (for example 127.0.0.1:8000)")
    return host.strip("[]"), int(port)


def split_list(value: str) -> tuple[str, ...]:
    return tuple(item for item in re.split(r"[,\s]+", value) if item)
