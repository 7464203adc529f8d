"""The server's checks, against a signing key this test makes: no Keycloak needed."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx2
import jsonschema
import jwt
import pytest
from fastmcp.server.auth.providers.jwt import RSAKeyPair
from joserfc import jwk
from starlette.testclient import TestClient

from __KCDEV_IDENT__ import tools
from __KCDEV_IDENT__.auth import logger, timestamp, token_verifier
from __KCDEV_IDENT__.config import ConfigError, Settings
from __KCDEV_IDENT__.scopes import META_KEY
from __KCDEV_IDENT__.server import create_app, create_server
from __KCDEV_IDENT__.tools import ADMIN_SCOPE, admin_greeting, identity

REALM = "http://keycloak.test/realms/test"
SERVER = "http://mcp.test:8000"
RESOURCE = SERVER + "/mcp"
METADATA_URL = SERVER + "/.well-known/oauth-protected-resource/mcp"
# The rendered defaults: lists, whatever kcdev put in.
REQUIRED = "__KCDEV_SCOPE__".split()
OPTIONAL = "__KCDEV_OPTIONAL_SCOPES__".split()
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


def settings(**env: str) -> Settings:
    return Settings.from_env({"KEYCLOAK_REALM_URL": REALM, "MCP_SERVER_URL": SERVER, **env})


def in_order(*groups: list[str]) -> list[str]:
    return list(dict.fromkeys(scope for group in groups for scope in group))


def token(
    key: RSAKeyPair = KEY,
    roles: tuple[str, ...] = ("user",),
    extra: Mapping[str, Any] | None = None,
    **changes: object,
) -> str:
    claims = {
        "issuer": REALM,
        "audience": [RESOURCE, SERVER],
        "scopes": ["openid", *REQUIRED],
        "expires_in_seconds": 300,
    }
    claims.update(changes)
    return key.create_token(
        subject="user-1",
        additional_claims={
            "preferred_username": "alice",
            "realm_access": {"roles": list(roles)},
            **(extra or {}),
        },
        **claims,
    )


@contextmanager
def serving(**env: str) -> Iterator[TestClient]:
    app = create_app(settings(**env), token_verifier(settings(), KEY.public_key))
    with TestClient(app, base_url=SERVER) as client:
        yield client


@pytest.fixture
def client() -> Iterator[TestClient]:
    with serving() as client:
        yield client


@pytest.fixture
def refusals(caplog: pytest.LogCaptureFixture):
    """The refusal lines logged while a test runs, as (level, message)."""
    caplog.set_level(logging.INFO, logger=logger.name)
    return lambda: [(r.levelname, r.getMessage()) for r in caplog.records if r.name == logger.name]


def post(
    client: TestClient, bearer: str | None, message: Mapping[str, Any] = INITIALIZE, **headers: str
):
    headers["accept"] = "application/json, text/event-stream"
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    return client.post("/mcp", json=message, headers=headers)


def session(client: TestClient, bearer: str) -> dict[str, str]:
    """The headers of a new MCP session of `bearer`'s."""
    headers = {"mcp-session-id": post(client, bearer).headers["mcp-session-id"]}
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert post(client, bearer, initialized, **headers).status_code == 202
    return headers


def request(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 2, "method": method, "params": params}


def result(response) -> dict[str, Any]:
    """The JSON-RPC result of a 200 answer, sent as JSON or as a server-sent event."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        events = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        answer = json.loads(events[-1])
    else:
        answer = response.json()
    return answer["result"]


def call(client: TestClient, bearer: str, method: str, **params: Any):
    """`method` in a session of `bearer`'s own."""
    return post(client, bearer, request(method, **params), **session(client, bearer))


def test_unauthenticated_requests_get_the_challenge(client, refusals):
    response = post(client, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == f'Bearer scope="{" ".join(REQUIRED)}", resource_metadata="{METADATA_URL}"'
    assert refusals() == [("INFO", "token refused: no bearer token; POST /mcp")]


def test_metadata_names_the_realm_and_the_scopes(client):
    document = client.get("/.well-known/oauth-protected-resource/mcp").json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [REALM]
    assert document["scopes_supported"] == in_order(REQUIRED, OPTIONAL, [ADMIN_SCOPE])


def test_metadata_lists_required_then_optional_then_tool_scopes():
    env = {"MCP_REQUIRED_SCOPES": "notes:read", "MCP_OPTIONAL_SCOPES": "notes:write, notes:read"}
    with serving(**env) as client:
        document = client.get("/.well-known/oauth-protected-resource/mcp").json()
    assert document["scopes_supported"] == in_order(["notes:read", "notes:write"], [ADMIN_SCOPE])


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
    claims = {"iss": REALM, "aud": RESOURCE, "sub": "user-1", "scope": " ".join(REQUIRED)}
    return jwt.encode(claims, KEY.private_key.get_secret_value(), algorithm="RS256")


def unsigned() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{token().split('.')[1]}."


ALICE = '; user "alice"'
UNVERIFIED = f"{ALICE} (unverified)"


def claims_of(bearer: str) -> dict[str, Any]:
    try:
        return jwt.decode(bearer, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


@pytest.mark.parametrize(
    ("case", "bad", "status", "logged"),
    [
        (
            "expired",
            lambda: token(expires_in_seconds=-600),
            401,
            f"expired (exp {{exp}}, 600 s ago); POST /mcp{UNVERIFIED}",
        ),
        (
            "not yet valid",
            lambda: token(extra={"nbf": int(time.time()) + 600}),
            401,
            f"not valid yet (nbf {{nbf}}, in 600 s); POST /mcp{UNVERIFIED}",
        ),
        (
            "wrong audience",
            lambda: token(audience="account"),
            401,
            f'audience ["account"] where {RESOURCE} was expected; POST /mcp{UNVERIFIED}',
        ),
        (
            "no audience",
            lambda: token(audience=None),
            401,
            f"no audience where {RESOURCE} was expected; POST /mcp{UNVERIFIED}",
        ),
        (
            "wrong issuer",
            lambda: token(issuer="http://keycloak.test/realms/elsewhere"),
            401,
            'issuer "http://keycloak.test/realms/elsewhere" where '
            f"{REALM} was expected; POST /mcp{UNVERIFIED}",
        ),
        ("another key", lambda: token(key=OTHER_KEY), 401, f"bad signature; POST /mcp{UNVERIFIED}"),
        (
            "missing scope",
            lambda: token(scopes=["openid"]),
            403,
            f"missing scope {' '.join(REQUIRED)}; POST /mcp{ALICE}",
        ),
        ("tampered", tampered, 401, f"bad signature; POST /mcp{UNVERIFIED}"),
        (
            "alg none",
            unsigned,
            401,
            f'algorithm "none" not accepted (accepted: RS256); POST /mcp{UNVERIFIED}',
        ),
        ("garbage", lambda: "garbage", 401, "malformed token; POST /mcp"),
        ("no expiry", without_expiry, 401, "no exp claim; POST /mcp"),
    ],
)
def test_bad_tokens_are_refused_and_the_log_says_why(client, refusals, case, bad, status, logged):
    bearer = bad()
    response = post(client, bearer)
    assert response.status_code == status, case
    challenge = response.headers["www-authenticate"]
    error = "insufficient_scope" if status == 403 else "invalid_token"
    assert challenge.startswith(f'Bearer error="{error}"'), challenge
    assert "resource_metadata=" in challenge, case
    claims = claims_of(bearer)
    line = "token refused: " + logged.format(
        exp=timestamp(claims.get("exp", 0)), nbf=timestamp(claims.get("nbf", 0))
    )
    # A second may pass between signing and checking.
    late = line.replace("600 s ago", "601 s ago").replace("in 600 s", "in 599 s")
    assert refusals() in ([("WARNING", line)], [("WARNING", late)]), case
    signature = bearer.rsplit(".", 1)[-1]
    assert bearer not in refusals()[0][1]
    assert len(signature) < 8 or signature not in refusals()[0][1]


def test_an_unknown_key_id_is_named(monkeypatch, refusals):
    verifier = token_verifier(settings())
    public = jwk.import_key(KEY.public_key, "RSA").as_dict()
    realm_keys = {"keys": [{**public, "kid": "realm-key", "alg": "RS256", "use": "sig"}]}

    async def fetch_jwks() -> dict[str, Any]:
        return realm_keys

    monkeypatch.setattr(verifier, "_fetch_jwks", fetch_jwks)
    with TestClient(create_app(settings(), verifier), base_url=SERVER) as client:
        assert post(client, token(kid="realm-key")).status_code == 200
        assert post(client, token(kid="rotated-away")).status_code == 401
    assert refusals() == [
        ("WARNING", f'token refused: unknown signing key "rotated-away"; POST /mcp{UNVERIFIED}')
    ]


def test_keys_the_realm_did_not_serve_are_not_blamed_on_the_token(monkeypatch, refusals):
    verifier = token_verifier(settings())

    async def keycloak_down() -> dict[str, Any]:
        raise httpx2.ConnectError("connection refused")

    monkeypatch.setattr(verifier, "_fetch_jwks", keycloak_down)
    with TestClient(create_app(settings(), verifier), base_url=SERVER) as client:
        assert post(client, token(kid="realm-key")).status_code == 401
    jwks = f"{REALM}/protocol/openid-connect/certs"
    assert refusals() == [
        ("WARNING", f"token refused: signing keys unavailable from {jwks}; POST /mcp{UNVERIFIED}")
    ]


def test_whoami_and_admin_only_read_the_claims():
    claims = {
        "sub": "user-1",
        "preferred_username": "alice",
        "azp": "client",
        "scope": f"openid {' '.join(REQUIRED)}",
        "realm_access": {"roles": ["user"]},
        "aud": RESOURCE,
        "exp": int(time.time()),
    }
    me = identity(claims)
    assert me["username"] == "alice"
    assert me["audience"] == [RESOURCE]
    assert set(REQUIRED) <= set(me["scopes"])
    del claims["azp"]
    assert "client" not in identity(claims)
    with pytest.raises(Exception, match="requires the realm role 'admin'"):
        admin_greeting(claims)
    claims["realm_access"]["roles"].append("admin")
    assert "alice" in admin_greeting(claims)


def test_admin_only_without_its_scope_is_refused_before_it_runs(client, monkeypatch, refusals):
    ran = []
    monkeypatch.setattr(tools, "admin_greeting", ran.append)
    bearer = token(roles=("user", "admin"))
    response = call(client, bearer, "tools/call", name="admin_only", arguments={})
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="missing scope {ADMIN_SCOPE}", '
        f'scope="{" ".join(in_order(REQUIRED, [ADMIN_SCOPE]))}", '
        f'resource_metadata="{METADATA_URL}"'
    )
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": f"missing scope {ADMIN_SCOPE}",
    }
    assert ran == []
    assert refusals()[-1] == (
        "WARNING",
        f"token refused: missing scope {ADMIN_SCOPE} for tool admin_only; POST /mcp{ALICE}",
    )


def test_a_missing_required_scope_is_named_before_a_tool_scope(client):
    bearer = token(scopes=["openid", ADMIN_SCOPE])
    response = post(client, bearer, request("tools/call", name="admin_only", arguments={}))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope", '), challenge
    assert f'scope="{" ".join(REQUIRED)}", resource_metadata="{METADATA_URL}"' in challenge


def test_admin_only_with_its_scope_checks_the_role(client):
    scopes = ["openid", *REQUIRED, ADMIN_SCOPE]
    admin = token(roles=("user", "admin"), scopes=scopes)
    answer = result(call(client, admin, "tools/call", name="admin_only", arguments={}))
    assert not answer["isError"]
    assert answer["content"][0]["text"] == "Hello alice: you are an admin."
    user = token(scopes=scopes)
    answer = result(call(client, user, "tools/call", name="admin_only", arguments={}))
    assert answer["isError"]
    assert "requires the realm role 'admin'" in answer["content"][0]["text"]


def test_tools_list_shows_the_declared_scopes(client):
    listed = {tool["name"]: tool for tool in result(call(client, token(), "tools/list"))["tools"]}
    assert listed["admin_only"]["_meta"][META_KEY] == [ADMIN_SCOPE]
    assert META_KEY not in listed["whoami"].get("_meta", {})
    assert ADMIN_SCOPE in listed["admin_only"]["description"]


def schema_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from schema_objects(item)


def test_the_whoami_schema_is_portable_and_its_answers_fit(client):
    bearer = token()
    listed = result(call(client, bearer, "tools/list"))["tools"]
    schema = next(tool["outputSchema"] for tool in listed if tool["name"] == "whoami")
    for node in schema_objects(schema):
        assert "format" not in node, schema
        types = node.get("type", [])
        assert "null" not in ([types] if isinstance(types, str) else types), schema
    assert sorted(schema["required"]) == ["audience", "expires_at", "realm_roles", "scopes"]
    answer = result(call(client, bearer, "tools/call", name="whoami", arguments={}))
    me = answer["structuredContent"]
    jsonschema.validate(me, schema)
    assert me["username"] == "alice"
    assert "client" not in me  # the token has no `azp`


def test_an_undeclared_tool_scope_is_warned_about(capsys):
    create_server(settings(MCP_REQUIRED_SCOPES="test:read", MCP_OPTIONAL_SCOPES="test:write"))
    warning = capsys.readouterr().err
    assert f"tool admin_only declares scope {ADMIN_SCOPE}," in warning
    assert "kcdev up" in warning
    create_server(settings(MCP_OPTIONAL_SCOPES=ADMIN_SCOPE))
    assert capsys.readouterr().err == ""


def test_configuration_defaults_and_mistakes():
    s = Settings.from_env({})
    assert s.realm_url == "__KCDEV_REALM_URL__"
    assert s.audiences == (s.resource_url,)
    assert s.host == "127.0.0.1"
    assert Settings.from_env({"MCP_AUDIENCE": "a, b"}).audiences == ("a", "b")
    assert s.required_scopes == tuple(REQUIRED)
    assert s.optional_scopes == tuple(OPTIONAL)
    assert Settings.from_env({"MCP_OPTIONAL_SCOPES": ""}).optional_scopes == tuple(OPTIONAL)
    assert Settings.from_env({"MCP_OPTIONAL_SCOPES": "a b,c"}).optional_scopes == ("a", "b", "c")
    with pytest.raises(ConfigError, match="MCP_BIND"):
        Settings.from_env({"MCP_BIND": "nowhere"})
    with pytest.raises(ConfigError, match="KEYCLOAK_REALM_URL"):
        Settings.from_env({"KEYCLOAK_REALM_URL": "keycloak"})
