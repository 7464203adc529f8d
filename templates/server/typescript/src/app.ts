// The HTTP app: protected resource metadata, the bearer check, and MCP over Streamable HTTP.
//
// Stateless: every POST gets its own server (the SDK's `createMcpHandler` calls the factory per
// request), and no session is kept. Any replica can answer any request, so the server scales out
// behind a plain load balancer, and clients of every protocol revision work: 2026-07-28 requests
// carry everything with them, and older clients' `initialize` simply gets no `Mcp-Session-Id`.

import { createMcpExpressApp } from "@modelcontextprotocol/express";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  InMemoryTransport,
  McpServer,
  type JSONRPCMessage,
  type OAuthTokenVerifier,
  type Tool,
} from "@modelcontextprotocol/server";
import cors from "cors";
import express, { type Express, type Request, type Response } from "express";

import { requireBearer, stderr, type Log } from "./auth.js";
import { MCP_PATH, type Config } from "./config.js";
import { scopesSupported, ToolScopes } from "./scopes.js";
import { registerTools } from "./tools.js";

export const NAME = "__KCDEV_NAME__";
export const VERSION = "0.1.0";

export function createMcpServer(): McpServer {
  const server = new McpServer(
    { name: NAME, version: VERSION },
    { instructions: "Tools of an OAuth-protected MCP server. `whoami` shows who is calling." },
  );
  registerTools(server);
  return server;
}

/**
 * The tools as `tools/list` publishes them, asked of a server over an in-memory connection: the
 * scopes tools declare are read from there, the one place they are written.
 */
export async function listTools(server: McpServer = createMcpServer()): Promise<Tool[]> {
  const [client, transport] = InMemoryTransport.createLinkedPair();
  const waiting = new Map<number, (answer: JSONRPCMessage) => void>();
  client.onmessage = (message) => {
    if ("id" in message && typeof message.id === "number") waiting.get(message.id)?.(message);
  };
  let id = 0;
  const ask = (method: string, params: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      id += 1;
      waiting.set(id, (answer) =>
        "result" in answer
          ? resolve(answer.result)
          : reject(new Error(`${method} failed: ${JSON.stringify(answer)}`)),
      );
      client.send({ jsonrpc: "2.0", id, method, params }).catch(reject);
    });
  await server.connect(transport);
  try {
    await ask("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: NAME, version: VERSION },
    });
    await client.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = (await ask("tools/list", cursor === undefined ? {} : { cursor })) as {
        tools: Tool[];
        nextCursor?: string;
      };
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await server.close();
  }
}

/**
 * The app for `config`. `tools` are the scopes `listTools` found; `factory` makes the server each
 * request gets (the tests give it a tool of their own); `log` gets a line for each refused request.
 */
export function createApp(
  config: Config,
  verifier: OAuthTokenVerifier,
  tools: ToolScopes,
  factory: () => McpServer = createMcpServer,
  log: Log = stderr,
): Express {
  // Host allow-list against DNS rebinding: the server URL's host name, whatever it is (a public
  // name behind a proxy included). A browser's `Origin` must be one CORS allows; clients outside a
  // browser send none.
  const app = createMcpExpressApp({
    host: config.host,
    allowedHosts: [new URL(config.serverUrl).hostname],
    allowedOrigins: config.corsOrigins.map((origin) => new URL(origin).hostname),
  });
  app.use(
    cors({
      origin: config.corsOrigins,
      exposedHeaders: ["WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version"],
    }),
  );
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });

  // RFC 9728. The SDK's `mcpAuthMetadataRouter` would also publish a copy of the realm's own
  // metadata, needs it at start-up and refuses an http issuer outside localhost; a resource
  // server only needs its own document.
  const metadata = protectedResourceMetadata({
    resource: config.resourceUrl,
    authorization_servers: [config.realmUrl],
    scopes_supported: scopesSupported(config, tools),
    bearer_methods_supported: ["header"],
    resource_name: NAME,
  });
  app.use(`/.well-known/oauth-protected-resource${MCP_PATH}`, metadata);
  app.use("/.well-known/oauth-protected-resource", metadata);

  const bearer = requireBearer(
    {
      verifier,
      requiredScopes: config.requiredScopes,
      resourceMetadataUrl: `${config.serverUrl}/.well-known/oauth-protected-resource${MCP_PATH}`,
    },
    log,
  );
  const onerror = (error: Error) => console.error("MCP request failed:", error.message);
  // The tools' scope challenges run in here, before the tool: the SDK checks the verified token
  // the bearer check left on the request against what the called tool declared.
  const mcp = toNodeHandler(createMcpHandler(factory, { onerror }), { onerror });
  app.post(MCP_PATH, bearer, (req: Request, res: Response) => void mcp(req, res, req.body));
  // No sessions, so no server-to-client stream and nothing to delete.
  app.all(MCP_PATH, bearer, (_req, res) => {
    res.set("Allow", "POST").status(405).json({
      jsonrpc: "2.0",
      error: { code: -32000, message: "Method not allowed: this server is stateless" },
      id: null,
    });
  });
  return app;
}

/** Serves `document`, and says which methods it answers to anything else. */
function protectedResourceMetadata(document: Record<string, unknown>): express.Router {
  const router = express.Router();
  router.all("/", (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.set("Allow", "GET, HEAD").status(405).json({
        error: "method_not_allowed",
        error_description: `The method ${req.method} is not allowed for this endpoint`,
      });
      return;
    }
    res.json(document);
  });
  return router;
}
