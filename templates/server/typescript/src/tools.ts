// The MCP tools. Add yours in `registerTools`: `server.registerTool(name, config, handler)`. The
// caller's verified token claims come with every call (see `claimsOf`).
//
// Every request needs the server's required scopes (`MCP_REQUIRED_SCOPES`, `__KCDEV_SCOPE__`). A
// tool that needs more declares it in its config, `...requires("reports:write")`: a call without
// it is answered 403 `insufficient_scope` before the tool runs, so the client logs in again asking
// for it, and the Protected Resource Metadata lists it. Roles are checked in the tool: a missing
// role is a tool error the model can read.

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

import { type Claims, claimsOf } from "./auth.js";
import { requires } from "./scopes.js";

/** The realm role `admin_only` requires. */
export const ADMIN_ROLE = "admin";
/** The scope `admin_only` requires: kcdev's realm offers it as an optional scope. */
export const ADMIN_SCOPE = "__KCDEV_ADMIN_SCOPE__";

// The published output schema stays within what every client's validator reads alike: no `null`
// in a type (MCP Inspector's `--strict` warns about it) and no `format` a validator may not know.
const whoAmI = z.object({
  subject: z.string().describe("The user's id (sub)"),
  username: z.string().describe("The user's login name"),
  client: z.string().describe("The client the token was issued to (azp)"),
  scopes: z.array(z.string()),
  realm_roles: z.array(z.string()),
  audience: z.array(z.string()),
  expires_at: z.number().int().nonnegative().describe("Expiry, seconds since the epoch"),
});

export type WhoAmI = z.infer<typeof whoAmI>;

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
    (ctx) => {
      const me = identity(claimsOf(ctx.http?.authInfo));
      return { content: [{ type: "text", text: JSON.stringify(me) }], structuredContent: me };
    },
  );

  // Without the scope the call never gets here (403, and the client steps up); without the role it
  // is a tool error the model can read.
  server.registerTool(
    "admin_only",
    {
      description: `An example of a tool only users with the realm role '${ADMIN_ROLE}' may use; it needs the scope '${ADMIN_SCOPE}'`,
      ...requires(ADMIN_SCOPE),
    },
    (ctx) => {
      const claims = claimsOf(ctx.http?.authInfo);
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
