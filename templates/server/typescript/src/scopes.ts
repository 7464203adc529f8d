// Scopes per tool. A tool that needs more than the scopes every request needs says so where it is
// registered: `server.registerTool(name, { description, ...requires("reports:write") }, handler)`
// (see `tools.ts`). That puts the declaration into the tool's `_meta`, where `tools/list` shows it,
// and hands the SDK a scope challenge: a `tools/call` whose token lacks one of the scopes is
// answered 403 `insufficient_scope` before the tool runs, naming every scope the call needs, and
// the client logs in again asking for them (step-up).

import type { AuthInfo, ScopeChallengeHandler, Tool } from "@modelcontextprotocol/server";

import { logRefusal } from "./auth.js";

/** The `_meta` member of a tool that lists the scopes it needs. */
export const META_KEY = "kcdev/requiredScopes";

/** What a tool that needs `scopes` (on top of the server's required scopes) adds to its config. */
export function requires(...scopes: [string, ...string[]]): {
  _meta: Record<string, unknown>;
  scopeChallenge: ScopeChallengeHandler;
} {
  const declared = [...scopes];
  return {
    _meta: { [META_KEY]: declared },
    scopeChallenge: ({ request, authInfo }) => {
      // Without a token the bearer check has already answered; nothing to add here.
      if (authInfo === undefined) return undefined;
      const missing = declared.filter((scope) => !authInfo.scopes.includes(scope));
      if (missing.length === 0) return undefined;
      logRefusal(authInfo, `missing scope ${missing.join(" ")} for tool ${String(request.params?.name)}`);
      // Never empty: `declared` is not.
      const needed = withRequired(requiredScopesOf(authInfo), declared) as [string, ...string[]];
      return { scopes: needed, errorDescription: `missing scope ${missing.join(" ")}` };
    },
  };
}

/**
 * The scopes every request needs, as the verifier recorded them next to the claims: a step-up
 * challenge names them too, so the token the client comes back with still passes the bearer check.
 */
export function requiredScopesOf(authInfo: AuthInfo): string[] {
  const recorded = authInfo.extra?.requiredScopes;
  return Array.isArray(recorded) ? recorded.filter((scope): scope is string => typeof scope === "string") : [];
}

/** The required scopes, then each of `more` not among them. */
export function withRequired(required: readonly string[], more: Iterable<string>): string[] {
  const scopes = [...required];
  for (const scope of more) {
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}

/** The scopes each tool declared, read from the tools as `tools/list` shows them. */
export class ToolScopes {
  private readonly byTool: ReadonlyMap<string, readonly string[]>;

  constructor(tools: readonly Pick<Tool, "name" | "_meta">[]) {
    const byTool = new Map<string, string[]>();
    for (const tool of tools) {
      const declared = tool._meta?.[META_KEY];
      if (!Array.isArray(declared)) continue;
      const scopes = declared.filter((scope): scope is string => typeof scope === "string");
      if (scopes.length > 0) byTool.set(tool.name, scopes);
    }
    this.byTool = byTool;
  }

  /** Each (tool, scope) declared, by tool name. */
  declarations(): [tool: string, scope: string][] {
    return [...this.byTool.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([tool, scopes]) => scopes.map((scope): [string, string] => [tool, scope]));
  }

  /** Every scope some tool needs, each once, sorted. */
  all(): string[] {
    return [...new Set([...this.byTool.values()].flat())].sort();
  }
}

/**
 * Protected Resource Metadata's `scopes_supported`: the required scopes, then the optional ones,
 * then any a tool declares that neither lists; each once.
 */
export function scopesSupported(
  config: { requiredScopes: readonly string[]; optionalScopes: readonly string[] },
  tools: ToolScopes,
): string[] {
  return withRequired(withRequired(config.requiredScopes, config.optionalScopes), tools.all());
}

/**
 * One line per tool scope the realm is not known to offer this server: a client could never get
 * it, so the tool could never be called.
 */
export function unofferedScopeWarnings(
  config: { requiredScopes: readonly string[]; optionalScopes: readonly string[] },
  tools: ToolScopes,
): string[] {
  const offered = new Set([...config.requiredScopes, ...config.optionalScopes]);
  return tools
    .declarations()
    .filter(([, scope]) => !offered.has(scope))
    .map(
      ([tool, scope]) =>
        `warning: tool ${tool} declares scope ${scope}, which is in neither MCP_REQUIRED_SCOPES ` +
        "nor MCP_OPTIONAL_SCOPES: the realm may never issue it; declare it in kcdev.toml under the " +
        "server's `scopes` with `assigned = \"optional\"`, then `kcdev up`",
    );
}
