// What the TypeScript SDK clients (ts_sdk_client.mjs for SDK 1.x, ts_sdk2_client.mjs for 2.x)
// share: their command line, Keycloak's login form filled in headlessly, an OAuthClientProvider
// that logs in that way and records every authorization request's `scope`, the retry after a
// login, and the one-line JSON report. The provider interface is the same in both SDK lines (2.x
// passes an extra context argument the provider may ignore).
//
//   node <script> <mcp url> <username> <password> [--client-id ID] [--redirect-uri URI]
//                 [--forget-refresh-tokens] [--call TOOL]...

/** The command line: the server, the credentials, and the options above. */
export function parseArguments(argv) {
  const [url, username, password, ...rest] = argv;
  const options = {
    url,
    username,
    password,
    clientId: null,
    keepRefreshTokens: true,
    redirectUri: "http://localhost:41123/callback",
    calls: [],
  };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag === "--forget-refresh-tokens") {
      options.keepRefreshTokens = false;
      i -= 1;
    } else if (flag === "--client-id") options.clientId = value;
    else if (flag === "--redirect-uri") options.redirectUri = value;
    else if (flag === "--call") options.calls.push(value);
    else throw new Error(`unknown argument ${flag}`);
  }
  return options;
}

/**
 * Keycloak's pages: the login form, then (for some clients) the consent form; returns the query
 * of the redirect to `redirectUri` (URLSearchParams: `code`, `state`, `iss`). Cookies are carried
 * by hand: Keycloak marks them Secure even on http://localhost.
 */
export async function headlessLogin(authorizationUrl, { redirectUri, username, password }) {
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
        const params = location.searchParams;
        if (params.has("error")) {
          throw new Error(`authorization refused: ${params.get("error")} ${params.get("error_description") ?? ""}`);
        }
        return params;
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

/**
 * An OAuthClientProvider whose "browser" is headlessLogin: `redirectToAuthorization` logs in at
 * once and keeps the redirect's query for `takeCallback()`. Pre-registered with `clientId`, else
 * the SDK registers it dynamically. `authorizedScopes` lists each authorization request's
 * `scope`. It keeps what the SDK asks it to keep, discovery state included (both SDK lines reuse
 * it; 2.x also checks the callback's authorization server against it, and warns without it).
 */
export function headlessProvider({ clientId, redirectUri, username, password, keepRefreshTokens }) {
  let registered = clientId ? { client_id: clientId } : undefined;
  let savedTokens;
  let verifier;
  let discovery;
  let pendingCallback = null;
  return {
    authorizedScopes: [],
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
    saveDiscoveryState: (state) => {
      discovery = state;
    },
    discoveryState: () => discovery,
    async redirectToAuthorization(authorizationUrl) {
      this.authorizedScopes.push(authorizationUrl.searchParams.get("scope"));
      pendingCallback = await headlessLogin(authorizationUrl.href, { redirectUri, username, password });
    },
    /** The redirect's query of the last login, once. */
    takeCallback() {
      const callback = pendingCallback;
      pendingCallback = null;
      return callback;
    },
  };
}

/**
 * Connects `client` and calls each tool of `options.calls`, logging in whenever the SDK throws
 * its UnauthorizedError after sending the user to log in: the app finishes the login with what
 * its redirect received (`finishAuth(transport, callback)`, the SDK's `transport.finishAuth`)
 * and tries again. A failed connect leaves its transport started, so it gets a new one. Returns
 * the one-line report, in the shape mcp_sdk_client.py uses.
 */
export async function connectAndCall({
  client,
  newTransport,
  finishAuth,
  UnauthorizedError,
  provider,
  options,
}) {
  let transport = newTransport();
  const loggingIn = async (action, { reconnect }) => {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        const callback = provider.takeCallback();
        if (callback === null) throw error;
        await finishAuth(transport, callback);
        if (reconnect) transport = newTransport();
      }
    }
    throw new Error("still unauthorized after logging in");
  };
  await loggingIn(() => client.connect(transport), { reconnect: true });
  const calls = {};
  for (const tool of options.calls) {
    try {
      const result = await loggingIn(() => client.callTool({ name: tool, arguments: {} }), {
        reconnect: false,
      });
      calls[tool] = {
        is_error: result.isError === true,
        text: (result.content ?? []).map((c) => c.text ?? "").join("\n"),
        structured: result.structuredContent ?? null,
      };
    } catch (error) {
      calls[tool] = { failed: String(error.message ?? error) };
    }
  }
  const report = {
    protocol_version: transport.protocolVersion ?? null,
    session_id: transport.sessionId ?? null,
    client_id: provider.clientInformation()?.client_id ?? null,
    // The `scope` of each authorization request, as mcp_sdk_client.py reports it.
    authorized_scopes: provider.authorizedScopes,
    granted_scope: provider.tokens()?.scope ?? null,
    calls,
  };
  await client.close();
  return report;
}

/** KCDEV_TEST_NODE_MODULES (scripts/prepare-test-env.sh sets it), or exit. */
export function nodeModules() {
  const modules = process.env.KCDEV_TEST_NODE_MODULES;
  if (!modules) {
    console.error("KCDEV_TEST_NODE_MODULES is not set (scripts/prepare-test-env.sh sets it)");
    process.exit(2);
  }
  return modules;
}
