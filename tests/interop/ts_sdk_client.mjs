// The TypeScript MCP SDK's client (1.x: StreamableHTTPClientTransport with an OAuthClientProvider)
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
// 1.32.2; ts_sdk2_client.mjs is the same client on SDK 2.x, which steps up with one). Prints one
// JSON line: the protocol version, the session, each call's result or error, and every
// authorization request's `scope` (so a test sees the step-up), in the shape mcp_sdk_client.py
// uses.
//
// The SDK is imported from KCDEV_TEST_NODE_MODULES (scripts/prepare-test-env.sh installs it).

import path from "node:path";
import { pathToFileURL } from "node:url";

import { connectAndCall, headlessProvider, nodeModules, parseArguments } from "./headless_login.mjs";

const modules = nodeModules();
const sdk = (file) =>
  import(pathToFileURL(path.join(modules, "@modelcontextprotocol/sdk/dist/esm", file)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

const options = parseArguments(process.argv.slice(2));
const provider = headlessProvider(options);
const report = await connectAndCall({
  client: new Client({ name: "kcdev-ts-sdk-test", version: "0" }),
  newTransport: () =>
    new StreamableHTTPClientTransport(new URL(options.url), { authProvider: provider }),
  // SDK 1.x takes the code alone.
  finishAuth: (transport, callback) => transport.finishAuth(callback.get("code")),
  UnauthorizedError,
  provider,
  options,
});
console.log(JSON.stringify(report));
