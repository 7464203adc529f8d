// The server's checks, against a signing key this test makes: no Keycloak needed.

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";

import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

import { createApp, createMcpServer, listTools } from "../src/app.js";
import { TokenRefused, verifier, type Log } from "../src/auth.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { META_KEY, requires, scopesSupported, ToolScopes, unofferedScopeWarnings } from "../src/scopes.js";
import { ADMIN_SCOPE, identity } from "../src/tools.js";

const REALM = "http://keycloak.test/realms/test";
const KID = "test-key";
// What this project was generated with; several scopes, or none optional, are as valid as one.
const REQUIRED = "__KCDEV_SCOPE__".split(" ").filter((scope) => scope.length > 0);
const OPTIONAL = "__KCDEV_OPTIONAL_SCOPES__".split(" ").filter((scope) => scope.length > 0);

let listener: Server;
let base: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
/** How often the test's own tool, declared like `admin_only`, ran. */
let spyCalls = 0;
/** What the server logged, as [level, line]. */
const logged: [string, string][] = [];
const log: Log = (level, line) => logged.push([level, line]);

/** The lines logged since the last call. */
function logs(): [string, string][] {
  return logged.splice(0);
}

function unique(scopes: string[]): string[] {
  return [...new Set(scopes)];
}

function config(env: Record<string, string> = {}) {
  return loadConfig({ KEYCLOAK_REALM_URL: REALM, MCP_SERVER_URL: base, ...env });
}

async function token(changes: Record<string, unknown> = {}, key: CryptoKey = signingKey, kid = KID): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: REALM,
    aud: [`${base}/mcp`, base],
    sub: "user-1",
    preferred_username: "alice",
    azp: "tests",
    scope: ["openid", ...REQUIRED].join(" "),
    realm_access: { roles: ["user"] },
    iat: now,
    exp: now + 300,
    ...changes,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(key);
}

/** A token with the scope `admin_only` declares, and the realm roles `roles`. */
async function adminScopeToken(roles: string[]): Promise<string> {
  return token({ scope: ["openid", ...REQUIRED, ADMIN_SCOPE].join(" "), realm_access: { roles } });
}

type Rpc = { result?: Record<string, unknown> & { isError?: boolean }; error?: { message: string } };

/** A 2025-era request, as clients after `initialize` send it: no session, since there is none. */
async function post(bearer: string | undefined, body: object, headers: Record<string, string> = {}) {
  const all: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
    ...headers,
  };
  if (bearer !== undefined) all.authorization = `Bearer ${bearer}`;
  return fetch(`${base}/mcp`, { method: "POST", headers: all, body: JSON.stringify(body) });
}

async function call(bearer: string | undefined, method = "tools/call", params: object = { name: "whoami" }) {
  return post(bearer, { jsonrpc: "2.0", id: 1, method, params });
}

/** A 2026-07-28 request: self-contained, the revision in the header and in `_meta`. */
async function modernCall(bearer: string, method: string, params: Record<string, unknown>) {
  const headers: Record<string, string> = { "mcp-protocol-version": "2026-07-28", "mcp-method": method };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  const _meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  return post(bearer, { jsonrpc: "2.0", id: 1, method, params: { ...params, _meta } }, headers);
}

/** The JSON-RPC response in a JSON body or in an SSE stream's `data:` lines. */
async function rpc(response: Response): Promise<Rpc> {
  const body = await response.text();
  try {
    return JSON.parse(body) as Rpc;
  } catch {
    for (const line of body.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const message = JSON.parse(line.slice(5)) as Rpc & { id?: unknown };
      if (message.id !== undefined) return message;
    }
    throw new Error(`no JSON-RPC response in ${JSON.stringify(body)}`);
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The generated server plus `spy`, a tool declared like `admin_only` that counts its calls. */
function serverWithSpy() {
  const server = createMcpServer();
  server.registerTool("spy", { description: "Counts its calls", ...requires(ADMIN_SCOPE) }, () => {
    spyCalls += 1;
    return { content: [{ type: "text", text: "ran" }] };
  });
  return server;
}

before(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256" }] });
  const port = await freePort();
  base = `http://localhost:${port}`;
  const tools = new ToolScopes(await listTools(serverWithSpy()));
  const app = createApp(config(), verifier(config(), keys), tools, serverWithSpy, log);
  listener = await new Promise<Server>((resolve) => {
    const server = app.listen(port, "127.0.0.1", () => resolve(server));
  });
});

after(() => {
  listener.close();
});

beforeEach(() => {
  logs();
});

describe("the bearer check", () => {
  test("a request without a token gets the challenge", async () => {
    const response = await call(undefined);
    assert.equal(response.status, 401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`), challenge);
    assert.ok(challenge.includes(`scope="${REQUIRED.join(" ")}"`), challenge);
    assert.deepEqual(logs(), [["info", "token refused: no bearer token; POST /mcp"]]);
  });

  test("a good token calls whoami", async () => {
    const response = await call(await token());
    assert.equal(response.status, 200);
    const body = (await rpc(response)) as { result: { structuredContent: { username: string; audience: string[] } } };
    assert.equal(body.result.structuredContent.username, "alice");
    assert.ok(body.result.structuredContent.audience.includes(`${base}/mcp`));
  });

  test("a token without a required scope gets 403 naming the required scopes", async () => {
    const response = await call(await token({ scope: "openid" }));
    assert.equal(response.status, 403);
    const challenge = response.headers.get("www-authenticate") ?? "";
    assert.ok(challenge.includes('error="insufficient_scope"'), challenge);
    assert.ok(challenge.includes(`scope="${REQUIRED.join(" ")}"`), challenge);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const alice = '; client "tests", user "alice"';
  const unverified = `${alice} (unverified)`;
  // Each makes a bad token and says why it is refused (the challenge's `error_description` and the
  // log line's reason), and whose the log line says it is.
  type Case = () => Promise<[token: string, reason: string, caller: string]>;
  const cases: [string, Case, number][] = [
    [
      "expired",
      async () => {
        const exp = now() - 600;
        return [await token({ exp }), `expired (exp ${iso(exp)}, 600 s ago)`, unverified];
      },
      401,
    ],
    [
      "not yet valid",
      async () => {
        const nbf = now() + 600;
        return [await token({ nbf }), `not valid yet (nbf ${iso(nbf)}, in 600 s)`, unverified];
      },
      401,
    ],
    [
      "wrong audience",
      async () => [await token({ aud: "account" }), `audience ["account"] where ${base}/mcp was expected`, unverified],
      401,
    ],
    [
      "no audience",
      async () => [await token({ aud: undefined }), `no audience where ${base}/mcp was expected`, unverified],
      401,
    ],
    [
      "wrong issuer",
      async () => [
        await token({ iss: "http://keycloak.test/realms/elsewhere" }),
        `issuer "http://keycloak.test/realms/elsewhere" where ${REALM} was expected`,
        unverified,
      ],
      401,
    ],
    ["another key", async () => [await token({}, otherKey), "bad signature", unverified], 401],
    [
      "unknown key id",
      async () => [await token({}, signingKey, "rotated-away"), 'unknown signing key "rotated-away"', unverified],
      401,
    ],
    [
      "missing scope",
      async () => [await token({ scope: "openid" }), `missing scope ${REQUIRED.join(" ")}`, alice],
      403,
    ],
    [
      "tampered",
      async () => {
        const [header, payload, signature] = (await token()).split(".");
        const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
        claims.realm_access.roles.push("admin");
        const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
        return [forged, "bad signature", unverified];
      },
      401,
    ],
    [
      "alg none",
      async () => {
        const payload = (await token()).split(".")[1];
        const unsigned = `${Buffer.from('{"alg":"none","kid":"test-key"}').toString("base64url")}.${payload}.`;
        return [unsigned, 'algorithm "none" not accepted (accepted: RS256)', unverified];
      },
      401,
    ],
    ["garbage", async () => ["garbage", "malformed token", ""], 401],
    ["no expiry", async () => [await token({ exp: undefined }), "no exp claim", unverified], 401],
  ];
  for (const [name, bad, status] of cases) {
    test(`refused: ${name}, and the log says why`, async () => {
      const [bearer, reason, caller] = await bad();
      const response = await call(bearer);
      assert.equal(response.status, status);
      const challenge = response.headers.get("www-authenticate") ?? "";
      const error = status === 403 ? "insufficient_scope" : "invalid_token";
      const description = reason.replaceAll('"', '\\"');
      assert.ok(challenge.startsWith(`Bearer error="${error}", error_description="${description}", `), challenge);
      assert.ok(challenge.includes("resource_metadata="), challenge);
      const line = `token refused: ${reason}; POST /mcp${caller}`;
      // A second may pass between signing and checking.
      const late = line.replace("600 s ago", "601 s ago").replace("in 600 s", "in 599 s");
      const lines = logs();
      assert.ok([line, late].includes(lines[0]?.[1] ?? ""), JSON.stringify(lines));
      assert.deepEqual(lines.length, 1);
      assert.equal(lines[0]?.[0], "warn");
      const signature = bearer.split(".")[2] ?? "";
      assert.ok(!lines[0]?.[1].includes(bearer), "the log shows the token");
      assert.ok(signature.length < 8 || !lines[0]?.[1].includes(signature), "the log shows the signature");
    });
  }

  test("keys the realm did not serve are not blamed on the token", async () => {
    const jwksUri = `http://127.0.0.1:${await freePort()}/certs`;
    const down = verifier(config({ KEYCLOAK_JWKS_URI: jwksUri }));
    await assert.rejects(
      down.verifyAccessToken(await token()),
      (error: unknown) =>
        error instanceof TokenRefused && error.message === `signing keys unavailable from ${jwksUri}`,
    );
  });
});

describe("scopes per tool", () => {
  const stepUp = () => {
    const needed = unique([...REQUIRED, ADMIN_SCOPE]).join(" ");
    return (
      `Bearer error="insufficient_scope", error_description="missing scope ${ADMIN_SCOPE}", ` +
      `scope="${needed}", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`
    );
  };

  const refusedTool = (name: string) => [
    "warn",
    `token refused: missing scope ${ADMIN_SCOPE} for tool ${name}; POST /mcp; client "tests", user "alice"`,
  ];

  test("admin_only without its scope is refused before it runs, naming every scope the call needs", async () => {
    for (const name of ["admin_only", "spy"]) {
      const before = spyCalls;
      const response = await call(await token({ realm_access: { roles: ["user", "admin"] } }), "tools/call", { name });
      assert.equal(response.status, 403, name);
      assert.equal(response.headers.get("www-authenticate"), stepUp());
      assert.deepEqual(await response.json(), {
        error: "insufficient_scope",
        error_description: `missing scope ${ADMIN_SCOPE}`,
      });
      assert.equal(spyCalls, before, `${name} ran`);
      assert.deepEqual(logs(), [refusedTool(name)]);
    }
  });

  test("a batch holding the call is refused as a whole", async () => {
    const before = spyCalls;
    const response = await post(await token(), [
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "spy", arguments: {} } },
    ]);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("www-authenticate"), stepUp());
    assert.equal(spyCalls, before);
    assert.deepEqual(logs(), [refusedTool("spy")]);
  });

  test("a 2026-07-28 request gets the same step-up", async () => {
    const before = spyCalls;
    const response = await modernCall(await token(), "tools/call", { name: "spy", arguments: {} });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("www-authenticate"), stepUp());
    assert.equal(spyCalls, before);
    assert.deepEqual(logs(), [refusedTool("spy")]);
  });

  test("with the scope and the admin role, admin_only answers", async () => {
    const response = await call(await adminScopeToken(["user", "admin"]), "tools/call", { name: "admin_only" });
    assert.equal(response.status, 200);
    const { result } = await rpc(response);
    assert.notEqual(result?.isError, true);
    assert.match(JSON.stringify(result?.content), /Hello alice: you are an admin/);
    const before = spyCalls;
    await call(await adminScopeToken(["user"]), "tools/call", { name: "spy" });
    assert.equal(spyCalls, before + 1);
  });

  test("with the scope but without the role, admin_only is a tool error", async () => {
    const response = await call(await adminScopeToken(["user"]), "tools/call", { name: "admin_only" });
    assert.equal(response.status, 200);
    const { result } = await rpc(response);
    assert.equal(result?.isError, true);
    assert.match(JSON.stringify(result?.content), /forbidden: this tool requires the realm role 'admin'/);
  });

  test("other methods and undeclared tools pass without the scope", async () => {
    assert.equal((await call(await token(), "tools/list", {})).status, 200);
    assert.equal((await call(await token(), "tools/call", { name: "whoami" })).status, 200);
  });

  test("tools/list shows the declaration under the tool's _meta", async () => {
    const { result } = await rpc(await call(await token(), "tools/list", {}));
    const tools = result?.tools as { name: string; _meta?: Record<string, unknown> }[];
    const adminOnly = tools.find((tool) => tool.name === "admin_only");
    assert.deepEqual(adminOnly?._meta, { [META_KEY]: [ADMIN_SCOPE] });
    assert.equal(tools.find((tool) => tool.name === "whoami")?._meta?.[META_KEY], undefined);
  });

  test("a scope no realm setting offers is warned about once per tool", () => {
    const tools = new ToolScopes([{ name: "admin_only", _meta: { [META_KEY]: [ADMIN_SCOPE] } }, { name: "whoami" }]);
    const warnings = unofferedScopeWarnings({ requiredScopes: ["notes:read"], optionalScopes: [] }, tools);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.ok(warnings[0]?.includes(`tool admin_only declares scope ${ADMIN_SCOPE}`), warnings[0]);
    assert.ok(warnings[0]?.includes('`assigned = "optional"`, then `kcdev up`'), warnings[0]);
    const offered = { requiredScopes: ["notes:read"], optionalScopes: ["notes:write", ADMIN_SCOPE] };
    assert.deepEqual(unofferedScopeWarnings(offered, tools), []);
  });
});

describe("protocol", () => {
  test("initialize and later requests need no session", async () => {
    const response = await post(await token(), {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "tests", version: "0" } },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("mcp-session-id"), null);
    const { result } = await rpc(response);
    assert.equal((result?.serverInfo as { name: string }).name, "__KCDEV_NAME__");
    const notified = await post(await token(), { jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(notified.status, 202);
    assert.equal((await call(await token(), "tools/list", {})).status, 200);
  });

  test("a 2026-07-28 request needs no initialize", async () => {
    const response = await modernCall(await token(), "tools/call", { name: "whoami", arguments: {} });
    assert.equal(response.status, 200);
    const { result } = await rpc(response);
    assert.equal((result?.structuredContent as { username: string }).username, "alice");
  });

  test("GET and DELETE are not served: no sessions", async () => {
    for (const method of ["GET", "DELETE"]) {
      const response = await fetch(`${base}/mcp`, { method, headers: { authorization: `Bearer ${await token()}` } });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get("allow"), "POST");
    }
  });

  test("a browser page from another origin is refused; the Inspector's is let in", async () => {
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const refused = await post(await token(), list, { origin: "http://evil.test" });
    assert.equal(refused.status, 403);
    const inspector = await post(await token(), list, { origin: "http://localhost:6274" });
    assert.equal(inspector.status, 200);
    assert.equal(inspector.headers.get("access-control-allow-origin"), "http://localhost:6274");
    assert.ok(inspector.headers.get("access-control-expose-headers")?.includes("WWW-Authenticate"));
  });
});

describe("the metadata", () => {
  test("names the realm, and the required, optional and tool scopes in that order", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const response = await fetch(`${base}${path}`, { headers: { origin: "http://localhost:6274" } });
      assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:6274");
      assert.deepEqual(await response.json(), {
        resource: `${base}/mcp`,
        authorization_servers: [REALM],
        scopes_supported: unique([...REQUIRED, ...OPTIONAL, ADMIN_SCOPE]),
        bearer_methods_supported: ["header"],
        resource_name: "__KCDEV_NAME__",
      });
    }
  });

  test("scopes_supported follows MCP_OPTIONAL_SCOPES", async () => {
    const tools = new ToolScopes(await listTools());
    const optional = "zeta:write, alpha:read";
    assert.deepEqual(
      scopesSupported(config({ MCP_REQUIRED_SCOPES: "notes:read notes:list", MCP_OPTIONAL_SCOPES: optional }), tools),
      unique(["notes:read", "notes:list", "zeta:write", "alpha:read", ADMIN_SCOPE]),
    );
    assert.deepEqual(
      scopesSupported(config({ MCP_OPTIONAL_SCOPES: `${ADMIN_SCOPE} zeta:write` }), tools),
      unique([...REQUIRED, ADMIN_SCOPE, "zeta:write"]),
    );
  });
});

describe("whoami", () => {
  test("reads a single audience as a list", () => {
    assert.deepEqual(identity({ aud: "x" }).audience, ["x"]);
  });

  // No `null` in a type, no `format` a validator may not know, and only what a `whoami` answer
  // always has is required: what MCP Inspector's `--strict` and the SDKs' validators read alike.
  test("publishes a portable output schema", async () => {
    const whoami = (await listTools()).find((tool) => tool.name === "whoami");
    const schema = whoami?.outputSchema as { required?: string[] } | undefined;
    const text = JSON.stringify(schema);
    assert.ok(schema !== undefined);
    assert.ok(!text.includes("null"), text);
    assert.ok(!text.includes("format"), text);
    assert.deepEqual(
      [...(schema.required ?? [])].sort(),
      ["audience", "client", "expires_at", "realm_roles", "scopes", "subject", "username"],
    );
  });
});

test("configuration defaults and mistakes", () => {
  const defaults = loadConfig({});
  assert.equal(defaults.realmUrl, "__KCDEV_REALM_URL__");
  assert.deepEqual(defaults.audiences, [defaults.resourceUrl]);
  assert.equal(defaults.host, "127.0.0.1");
  assert.deepEqual(defaults.requiredScopes, REQUIRED);
  assert.deepEqual(defaults.optionalScopes, OPTIONAL);
  assert.deepEqual(loadConfig({ MCP_REQUIRED_SCOPES: "" }).requiredScopes, REQUIRED);
  assert.deepEqual(loadConfig({ MCP_OPTIONAL_SCOPES: "" }).optionalScopes, OPTIONAL);
  assert.deepEqual(loadConfig({ MCP_OPTIONAL_SCOPES: "a, b  c" }).optionalScopes, ["a", "b", "c"]);
  assert.deepEqual(loadConfig({ MCP_REQUIRED_SCOPES: "x,y" }).requiredScopes, ["x", "y"]);
  assert.deepEqual(loadConfig({ MCP_AUDIENCE: "a, b" }).audiences, ["a", "b"]);
  assert.deepEqual(loadConfig({ MCP_CORS_ORIGINS: "https://app.example/" }).corsOrigins, ["https://app.example"]);
  assert.throws(() => loadConfig({ MCP_BIND: "nowhere" }), (error: Error) => error instanceof ConfigError && /MCP_BIND/.test(error.message));
  assert.throws(() => loadConfig({ KEYCLOAK_REALM_URL: "keycloak" }), /KEYCLOAK_REALM_URL/);
  assert.throws(() => loadConfig({ MCP_CORS_ORIGINS: "*" }), /MCP_CORS_ORIGINS/);
});
