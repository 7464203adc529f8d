// The TypeScript MCP SDK's client (StreamableHTTPClientTransport with an OAuthClientProvider)
// against an OAuth-protected MCP server, logging in through Keycloak's login form headlessly.
//
//   node ts_sdk_client.mjs <mcp url> <username> <password> [--client-id ID] [--redirect-uri URI]
//                          [--forget-refresh-tokens] [--call TOOL]...
//
// With --client-id the client is pre-registered; without it the SDK registers dynamically. The
// SDK steps up on its own: a 403 `insufficient_scope` makes it authorize again with the scope
// the challenge names. But when it holds a refresh token it refreshes instead, which cannot
// widen a token's scope, and then gives up ("Server returned 403 after trying upscoping");
// --forget-refresh-tokens makes the provider keep none, as an app that wants step-up must (SDK
// 1.32.2). Prints one JSON line: the protocol version, the session, each call's result or error,
// and every authorization request's `scope` (so a test sees the step-up), in the shape
// mcp_sdk_client.py uses.
//
// The SDK is imported from KCDEV_TEST_NODE_MODULES (scripts/prepare-test-env.sh installs it).

import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.KCDEV_TEST_NODE_MODULES;
if (!modules) {
  console.error("KCDEV_TEST_NODE_MODULES is not set (scripts/prepare-test-env.sh sets it)");
  process.exit(2);
}
const sdk = (file) =>
  import(pathToFileURL(path.join(modules, "@modelcontextprotocol/sdk/dist/esm", file)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

const [url, username, password, ...rest] = process.argv.slice(2);
let clientId = null;
let keepRefreshTokens = true;
let redirectUri = "http://localhost:41123/callback";
const calls = [];
for (let i = 0; i < rest.length; i += 2) {
  const [flag, value] = [rest[i], rest[i + 1]];
  if (flag === "--forget-refresh-tokens") {
    keepRefreshTokens = false;
    i -= 1;
  } else if (flag === "--client-id") clientId = value;
  else if (flag === "--redirect-uri") redirectUri = value;
  else if (flag === "--call") calls.push(value);
  else throw new Error(`unknown argument ${flag}`);
}

// Keycloak's pages: the login form, then (for some clients) the consent form. Cookies are
// carried by hand: Keycloak marks them Secure even on http://localhost.
async function headlessLogin(authorizationUrl) {
  const cookies = new Map();
  const remember = (response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(";");
      const at = pair.indexOf("=");
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  };
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const unescape = (text) => text.replaceAll("&amp;", "&");
  let response = await fetch(authorizationUrl, { redirect: "manual" });
  remember(response);
  let submitted = false;
  for (let hop = 0; hop < 8; hop++) {
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get("location"), response.url || authorizationUrl);
      if (location.href.startsWith(redirectUri)) {
        const params = Object.fromEntries(location.searchParams);
        if (params.error) throw new Error(`authorization refused: ${params.error} ${params.error_description ?? ""}`);
        return params.code;
      }
      response = await fetch(location, { redirect: "manual", headers: { cookie: cookieHeader() } });
      remember(response);
      continue;
    }
    const page = await response.text();
    const consent = page.match(/<form[^>]*action="([^"]*\/login-actions\/consent[^"]*)"/);
    const consentCode = page.match(/name="code"\s+value="([^"]*)"/);
    if (consent && consentCode) {
      response = await fetch(unescape(consent[1]), {
        method: "POST",
        redirect: "manual",
        headers: { cookie: cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ code: consentCode[1], accept: "Yes" }),
      });
      remember(response);
      continue;
    }
    const login = page.match(/<form[^>]*id="kc-form-login"[^>]*action="([^"]*)"/)
      ?? page.match(/<form[^>]*action="([^"]*)"[^>]*id="kc-form-login"/);
    if (!login || submitted) {
      throw new Error(`unexpected page (HTTP ${response.status}): ${page.slice(0, 300)}`);
    }
    submitted = true;
    response = await fetch(unescape(login[1]), {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password, credentialId: "" }),
    });
    remember(response);
  }
  throw new Error("too many redirects");
}

const authorizedScopes = [];
let pendingCode = null;
let registered = clientId ? { client_id: clientId } : undefined;
let savedTokens;
let verifier;
const provider = {
  get redirectUrl() {
    return redirectUri;
  },
  get clientMetadata() {
    return {
      client_name: "kcdev TypeScript SDK test client",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => registered,
  saveClientInformation: (info) => {
    registered = info;
  },
  tokens: () => savedTokens,
  saveTokens: (tokens) => {
    savedTokens = keepRefreshTokens ? tokens : { ...tokens, refresh_token: undefined };
  },
  saveCodeVerifier: (v) => {
    verifier = v;
  },
  codeVerifier: () => verifier,
  redirectToAuthorization: async (authorizationUrl) => {
    authorizedScopes.push(authorizationUrl.searchParams.get("scope"));
    pendingCode = await headlessLogin(authorizationUrl.href);
  },
};

let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
const client = new Client({ name: "kcdev-ts-sdk-test", version: "0" });

// The SDK throws UnauthorizedError after sending the user to log in; the app finishes the login
// with the code its redirect received and tries again.
async function loggingIn(action, { reconnect }) {
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || pendingCode === null) throw error;
      const code = pendingCode;
      pendingCode = null;
      await transport.finishAuth(code);
      if (reconnect) {
        transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
      }
    }
  }
  throw new Error("still unauthorized after logging in");
}

await loggingIn(() => client.connect(transport), { reconnect: true });
const results = {};
for (const tool of calls) {
  try {
    const result = await loggingIn(() => client.callTool({ name: tool, arguments: {} }), {
      reconnect: false,
    });
    results[tool] = {
      is_error: result.isError === true,
      text: (result.content ?? []).map((c) => c.text ?? "").join("\n"),
      structured: result.structuredContent ?? null,
    };
  } catch (error) {
    results[tool] = { failed: String(error.message ?? error) };
  }
}
const report = {
  protocol_version: transport.protocolVersion ?? null,
  session_id: transport.sessionId ?? null,
  client_id: registered?.client_id ?? null,
  // The `scope` of each authorization request, as mcp_sdk_client.py reports it.
  authorized_scopes: authorizedScopes,
  granted_scope: savedTokens?.scope ?? null,
  calls: results,
};
await client.close();
console.log(JSON.stringify(report));
