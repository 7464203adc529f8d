// The server's checks, against a signing key this test makes: no Keycloak needed.

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";

import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

import { createApp } from "../src/app.js";
import { verifier } from "../src/auth.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { identity } from "../src/tools.js";

const REALM = "http://keycloak.test/realms/test";
const KID = "test-key";

let listener: Server;
let base: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;

function config() {
  return loadConfig({ KEYCLOAK_REALM_URL: REALM, MCP_SERVER_URL: base });
}

async function token(changes: Record<string, unknown> = {}, key: CryptoKey = signingKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: REALM,
    aud: [`${base}/mcp`, base],
    sub: "user-1",
    preferred_username: "alice",
    azp: "tests",
    scope: "openid __KCDEV_SCOPE__",
    realm_access: { roles: ["user"] },
    iat: now,
    exp: now + 300,
    ...changes,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: KID }).sign(key);
}

async function call(bearer: string | undefined, method = "tools/call", params: object = { name: "whoami" }) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
  };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  return fetch(`${base}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256" }] });
  const port = await freePort();
  base = `http://localhost:${port}`;
  listener = await new Promise<Server>((resolve) => {
    const server = createApp(config(), verifier(config(), keys)).listen(port, "127.0.0.1", () => resolve(server));
  });
});

after(() => {
  listener.close();
});

describe("the bearer check", () => {
  test("a request without a token gets the challenge", async () => {
    const response = await call(undefined);
    assert.equal(response.status, 401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`), challenge);
    assert.ok(challenge.includes('scope="__KCDEV_SCOPE__"'), challenge);
  });

  test("a good token calls whoami", async () => {
    const response = await call(await token());
    assert.equal(response.status, 200);
    const body = (await response.json()) as { result: { structuredContent: { username: string; audience: string[] } } };
    assert.equal(body.result.structuredContent.username, "alice");
    assert.ok(body.result.structuredContent.audience.includes(`${base}/mcp`));
  });

  test("admin_only is a tool error without the admin role", async () => {
    const denied = (await (await call(await token(), "tools/call", { name: "admin_only" })).json()) as {
      result: { isError?: boolean };
    };
    assert.equal(denied.result.isError, true);
    const admin = await token({ realm_access: { roles: ["user", "admin"] } });
    const allowed = (await (await call(admin, "tools/call", { name: "admin_only" })).json()) as {
      result: { isError?: boolean; content: { text: string }[] };
    };
    assert.notEqual(allowed.result.isError, true);
    assert.match(allowed.result.content[0]?.text ?? "", /alice/);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<string>, number, string][] = [
    ["expired", () => token({ exp: now() - 600 }), 401, "token expired"],
    ["wrong audience", () => token({ aud: "account" }), 401, "aud check failed"],
    ["wrong issuer", () => token({ iss: "http://keycloak.test/realms/elsewhere" }), 401, "iss check failed"],
    ["another key", () => token({}, otherKey), 401, "bad signature"],
    ["missing scope", () => token({ scope: "openid" }), 403, "insufficient_scope"],
    [
      "tampered",
      async () => {
        const [header, payload, signature] = (await token()).split(".");
        const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
        claims.realm_access.roles.push("admin");
        return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
      },
      401,
      "bad signature",
    ],
    [
      "alg none",
      async () => {
        const payload = (await token()).split(".")[1];
        return `${Buffer.from('{"alg":"none","kid":"test-key"}').toString("base64url")}.${payload}.`;
      },
      401,
      "invalid_token",
    ],
    ["garbage", async () => "garbage", 401, "malformed token"],
  ];
  for (const [name, bad, status, described] of cases) {
    test(`refused: ${name}`, async () => {
      const response = await call(await bad());
      assert.equal(response.status, status);
      const challenge = response.headers.get("www-authenticate") ?? "";
      assert.ok(challenge.includes(described), challenge);
      assert.ok(challenge.includes("resource_metadata="), challenge);
    });
  }
});

test("the metadata names the realm and the scope", async () => {
  for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
    const document = await (await fetch(`${base}${path}`)).json();
    assert.deepEqual(document, {
      resource: `${base}/mcp`,
      authorization_servers: [REALM],
      scopes_supported: ["__KCDEV_SCOPE__"],
      bearer_methods_supported: ["header"],
      resource_name: "__KCDEV_NAME__",
    });
  }
});

test("whoami reads a single audience as a list", () => {
  assert.deepEqual(identity({ aud: "x" }).audience, ["x"]);
});

test("configuration defaults and mistakes", () => {
  const defaults = loadConfig({});
  assert.equal(defaults.realmUrl, "__KCDEV_REALM_URL__");
  assert.deepEqual(defaults.audiences, [defaults.resourceUrl]);
  assert.equal(defaults.host, "127.0.0.1");
  assert.deepEqual(loadConfig({ MCP_AUDIENCE: "a, b" }).audiences, ["a", "b"]);
  assert.throws(() => loadConfig({ MCP_BIND: "nowhere" }), (error: Error) => error instanceof ConfigError && /MCP_BIND/.test(error.message));
  assert.throws(() => loadConfig({ KEYCLOAK_REALM_URL: "keycloak" }), /KEYCLOAK_REALM_URL/);
});
