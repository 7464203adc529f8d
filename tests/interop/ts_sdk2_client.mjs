// ts_sdk_client.mjs on the TypeScript MCP SDK's 2.x line: the `@modelcontextprotocol/client`
// package's Client and StreamableHTTPClientTransport with an OAuthClientProvider, against an
// OAuth-protected MCP server, logging in through Keycloak's login form headlessly.
//
//   node ts_sdk2_client.mjs <mcp url> <username> <password> [--client-id ID] [--redirect-uri URI]
//                           [--forget-refresh-tokens] [--call TOOL]...
//
// With --client-id the client is pre-registered; without it the SDK registers dynamically. On a
// 403 `insufficient_scope` the transport authorizes again with the union of the scope it asked
// for, the token's and the challenge's, and does so with a new authorization request even while
// it holds a refresh token (a refresh cannot widen a token's scope), so step-up needs no
// --forget-refresh-tokens here (the option is kept for parity with ts_sdk_client.mjs). Unlike
// 1.x it adds `offline_access` to every authorization request's scope (Keycloak's metadata lists
// it and the client asks for refresh tokens), with prompt=consent, so `authorized_scopes` reads
// e.g. ["mcp:tools offline_access", "offline_access mcp:tools profile email mcp:admin"]. Prints
// the same JSON line as ts_sdk_client.mjs: the protocol version, the session, each call's result
// or error, and every authorization request's `scope`.
//
// The package is imported from KCDEV_TEST_NODE_MODULES (scripts/prepare-test-env.sh installs it).

import path from "node:path";
import { pathToFileURL } from "node:url";

import { connectAndCall, headlessProvider, nodeModules, parseArguments } from "./headless_login.mjs";

const modules = nodeModules();
const { Client, StreamableHTTPClientTransport, UnauthorizedError } = await import(
  pathToFileURL(path.join(modules, "@modelcontextprotocol/client/dist/index.mjs")).href
);

const options = parseArguments(process.argv.slice(2));
const provider = headlessProvider(options);
const report = await connectAndCall({
  client: new Client({ name: "kcdev-ts-sdk2-test", version: "0" }),
  newTransport: () =>
    new StreamableHTTPClientTransport(new URL(options.url), { authProvider: provider }),
  // SDK 2.x takes the whole query: it checks its `iss` (RFC 9207), which Keycloak sends.
  finishAuth: (transport, callback) => transport.finishAuth(callback),
  UnauthorizedError,
  provider,
  options,
});
console.log(JSON.stringify(report));
