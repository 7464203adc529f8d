// The MCP tools. Add yours in `registerTools`: `server.registerTool(name, config, handler)`. The
// caller's verified token claims come with every call (see `claimsOf`).

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

import { type Claims, claimsOf } from "./auth.js";

/** The realm role `admin_only` requires. */
export const ADMIN_ROLE = "admin";

const whoAmI = {
  subject: z.string().describe("The user's id (sub)"),
  username: z.string().describe("The user's login name"),
  client: z.string().describe("The client the token was issued to (azp)"),
  scopes: z.array(z.string()),
  realm_roles: z.array(z.string()),
  audience: z.array(z.string()),
  expires_at: z.number().int().describe("Expiry, seconds since the epoch"),
};

export type WhoAmI = { [K in keyof typeof whoAmI]: z.infer<(typeof whoAmI)[K]> };

export function realmRoles(claims: Claims): string[] {
  return claims.realm_access?.roles ?? [];
}

export function identity(claims: Claims): WhoAmI {
  const audience = claims.aud === undefined ? [] : [claims.aud].flat();
  return {
    subject: claims.sub ?? "",
    username: claims.preferred_username ?? "",
    client: claims.azp ?? "",
    scopes: (claims.scope ?? "").split(" ").filter((scope) => scope.length > 0),
    realm_roles: realmRoles(claims),
    audience,
    expires_at: claims.exp ?? 0,
  };
}

export function registerTools(server: McpServer): void {
  server.registerTool(
    "whoami",
    {
      description:
        "Who is calling: user id, user name, client, scopes, realm roles, audience and expiry of the access token",
      outputSchema: whoAmI,
    },
    (extra) => {
      const me = identity(claimsOf(extra.authInfo));
      return { content: [{ type: "text", text: JSON.stringify(me) }], structuredContent: me };
    },
  );

  server.registerTool(
    "admin_only",
    { description: "An example of a tool only users with the realm role 'admin' may use" },
    (extra) => {
      const claims = claimsOf(extra.authInfo);
      // A permission failure is a tool error the model can read, not a protocol error.
      if (!realmRoles(claims).includes(ADMIN_ROLE)) {
        return {
          isError: true,
          content: [{ type: "text", text: `forbidden: this tool requires the realm role '${ADMIN_ROLE}'` }],
        };
      }
      const name = claims.preferred_username ?? claims.sub;
      return { content: [{ type: "text", text: `Hello ${name}: you are an admin.` }] };
    },
  );
}
