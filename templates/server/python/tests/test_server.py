"""The server's checks, against a signing key this test makes: no Keycloak needed."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from fastmcp.server.auth.providers.jwt import RSAKeyPair
from starlette.testclient import TestClient

from __KCDEV_IDENT__.auth import token_verifier
from __KCDEV_IDENT__.config import ConfigError, Settings
from __KCDEV_IDENT__.server import create_app
from __KCDEV_IDENT__.tools import admin_greeting, identity

REALM = "http://keycloak.test/realms/test"
SERVER = "http://mcp.test:8000"
RESOURCE = SERVER + "/mcp"
KEY = RSAKeyPair.generate()
OTHER_KEY = RSAKeyPair.generate()
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    },
}


def settings() -> Settings:
    return Settings.from_env({"KEYCLOAK_REALM_URL": REALM, "MCP_SERVER_URL": SERVER})


def token(key: RSAKeyPair = KEY, **changes: object) -> str:
    claims = {
        "issuer": REALM,
        "audience": [RESOURCE, SERVER],
        "scopes": ["openid", "__KCDEV_SCOPE__"],
        "expires_in_seconds": 300,
    }
    claims.update(changes)
    return key.create_token(
        subject="user-1",
        additional_claims={"preferred_username": "alice", "realm_access": {"roles": ["user"]}},
        **claims,
    )


@pytest.fixture
def client():
    app = create_app(settings(), token_verifier(settings(), KEY.public_key))
    with TestClient(app, base_url=SERVER) as client:
        yield client


def post(client: TestClient, bearer: str | None):
    headers = {"accept": "application/json, text/event-stream"}
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    return client.post("/mcp", json=INITIALIZE, headers=headers)


def test_unauthenticated_requests_get_the_challenge(client):
    response = post(client, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer scope="__KCDEV_SCOPE__", ')
    assert f'resource_metadata="{SERVER}/.well-known/oauth-protected-resource/mcp"' in challenge


def test_metadata_names_the_realm_and_the_scope(client):
    document = client.get("/.well-known/oauth-protected-resource/mcp").json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [REALM]
    assert document["scopes_supported"] == ["__KCDEV_SCOPE__"]


def test_a_good_token_gets_through(client):
    assert post(client, token()).status_code == 200


def tampered() -> str:
    header, payload, signature = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["realm_access"]["roles"].append("admin")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def without_expiry() -> str:
    # FastMCP's `create_token` always sets `exp`; PyJWT (which the MCP SDK brings) need not.
    claims = {"iss": REALM, "aud": RESOURCE, "sub": "user-1", "scope": "__KCDEV_SCOPE__"}
    return jwt.encode(claims, KEY.private_key.get_secret_value(), algorithm="RS256")


def unsigned() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{token().split('.')[1]}."


@pytest.mark.parametrize(
    ("case", "bad", "status"),
    [
        ("expired", lambda: token(expires_in_seconds=-600), 401),
        ("wrong audience", lambda: token(audience="account"), 401),
        ("wrong issuer", lambda: token(issuer="http://keycloak.test/realms/elsewhere"), 401),
        ("another key", lambda: token(key=OTHER_KEY), 401),
        ("missing scope", lambda: token(scopes=["openid"]), 403),
        ("tampered", tampered, 401),
        ("alg none", unsigned, 401),
        ("garbage", lambda: "garbage", 401),
        ("no expiry", without_expiry, 401),
    ],
)
def test_bad_tokens_are_refused(client, case, bad, status):
    response = post(client, bad())
    assert response.status_code == status, case
    challenge = response.headers["www-authenticate"]
    error = "insufficient_scope" if status == 403 else "invalid_token"
    assert challenge.startswith(f'Bearer error="{error}"'), challenge
    assert "resource_metadata=" in challenge, case


def test_whoami_and_admin_only_read_the_claims():
    claims = {
        "sub": "user-1",
        "preferred_username": "alice",
        "azp": "client",
        "scope": "openid __KCDEV_SCOPE__",
        "realm_access": {"roles": ["user"]},
        "aud": RESOURCE,
        "exp": int(time.time()),
    }
    me = identity(claims)
    assert me.username == "alice"
    assert me.audience == [RESOURCE]
    assert "__KCDEV_SCOPE__" in me.scopes
    with pytest.raises(Exception, match="requires the realm role 'admin'"):
        admin_greeting(claims)
    claims["realm_access"]["roles"].append("admin")
    assert "alice" in admin_greeting(claims)


def test_configuration_defaults_and_mistakes():
    s = Settings.from_env({})
    assert s.realm_url == "__KCDEV_REALM_URL__"
    assert s.audiences == (s.resource_url,)
    assert s.host == "127.0.0.1"
    assert Settings.from_env({"MCP_AUDIENCE": "a, b"}).audiences == ("a", "b")
    with pytest.raises(ConfigError, match="MCP_BIND"):
        Settings.from_env({"MCP_BIND": "nowhere"})
    with pytest.raises(ConfigError, match="KEYCLOAK_REALM_URL"):
        Settings.from_env({"KEYCLOAK_REALM_URL": "keycloak"})
