// The HTTP app: protected resource metadata, the bearer check, and MCP over Streamable HTTP.
//
// Stateless: every POST gets its own server and transport, and no session is kept. Any replica
// can answer any request, so the server scales out behind a plain load balancer, and clients of
// every protocol revision work (older ones simply get no `Mcp-Session-Id`).

import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import cors from "cors";
import type { Express, Request, Response } from "express";

import { MCP_PATH, type Config } from "./config.js";
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

export function createApp(config: Config, verifier: OAuthTokenVerifier): Express {
  // Host allow-list against DNS rebinding: the server URL's host name, whatever it is (a public
  // name behind a proxy included).
  const app = createMcpExpressApp({
    host: config.host,
    allowedHosts: [new URL(config.serverUrl).hostname],
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
  // metadata here and needs it at start-up; a resource server only needs its own document.
  const metadata = metadataHandler({
    resource: config.resourceUrl,
    authorization_servers: [config.realmUrl],
    scopes_supported: config.requiredScopes,
    bearer_methods_supported: ["header"],
    resource_name: NAME,
  });
  app.use(`/.well-known/oauth-protected-resource${MCP_PATH}`, metadata);
  app.use("/.well-known/oauth-protected-resource", metadata);

  const bearer = requireBearerAuth({
    verifier,
    requiredScopes: config.requiredScopes,
    resourceMetadataUrl: `${config.serverUrl}/.well-known/oauth-protected-resource${MCP_PATH}`,
  });
  app.post(MCP_PATH, bearer, async (req: Request, res: Response) => {
    const server = createMcpServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      console.error("MCP request failed:", error);
      if (!res.headersSent) {
        res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: null });
      }
    }
  });
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
