// Configuration from the environment. Every value has a default: the kcdev realm this project was
// generated for, so `npm start` works next to `kcdev up` with nothing set.

export const DEFAULT_REALM_URL = "__KCDEV_REALM_URL__";
export const DEFAULT_SERVER_URL = "__KCDEV_SERVER_URL__";
/** Scopes every request needs: the realm default scopes this server lists. */
export const DEFAULT_REQUIRED_SCOPES = "__KCDEV_SCOPE__";
/** Scopes tools may declare (step-up): the realm optional scopes this server lists. */
export const DEFAULT_OPTIONAL_SCOPES = "__KCDEV_OPTIONAL_SCOPES__";
export const DEFAULT_CORS_ORIGINS = "http://localhost:6274,http://127.0.0.1:6274";
export const MCP_PATH = "/mcp";

/** A variable holds a value the server cannot use; the message names it. */
export class ConfigError extends Error {}

export interface Config {
  /** The token issuer: the Keycloak realm URL, without trailing slash. */
  realmUrl: string;
  /** This server's public base URL; the MCP endpoint is this plus /mcp. */
  serverUrl: string;
  /** Server URL + /mcp: what clients connect to, and the audience tokens must carry. */
  resourceUrl: string;
  /** A token must name at least one of these in `aud`. */
  audiences: string[];
  /** Every token must carry all of these. */
  requiredScopes: string[];
  /** Scopes the realm issues when a client asks: what tools may declare, and the metadata lists. */
  optionalScopes: string[];
  host: string;
  port: number;
  /** Where signing keys are fetched; another host than the issuer's in a container network. */
  jwksUri: string;
  leewaySeconds: number;
  /** Browser origins allowed by CORS; their host names also pass the Origin check. */
  corsOrigins: string[];
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const get = (name: string, fallback: string) => env[name] || fallback;
  const realmUrl = httpUrl("KEYCLOAK_REALM_URL", get("KEYCLOAK_REALM_URL", DEFAULT_REALM_URL));
  const serverUrl = httpUrl("MCP_SERVER_URL", get("MCP_SERVER_URL", DEFAULT_SERVER_URL));
  const resourceUrl = serverUrl + MCP_PATH;
  const parsed = new URL(serverUrl);
  const defaultPort = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const [host, port] = bindAddress(get("MCP_BIND", `127.0.0.1:${defaultPort}`));
  const audiences = list(get("MCP_AUDIENCE", resourceUrl));
  if (audiences.length === 0) {
    throw new ConfigError("MCP_AUDIENCE is empty: name at least the resource URL");
  }
  const leewayText = get("MCP_TOKEN_LEEWAY_SECONDS", "30");
  const leewaySeconds = Number(leewayText);
  if (!Number.isInteger(leewaySeconds) || leewaySeconds < 0) {
    throw new ConfigError(`MCP_TOKEN_LEEWAY_SECONDS=${JSON.stringify(leewayText)} is not a number of seconds`);
  }
  const jwksUri = env.KEYCLOAK_JWKS_URI
    ? httpUrl("KEYCLOAK_JWKS_URI", env.KEYCLOAK_JWKS_URI)
    : `${realmUrl}/protocol/openid-connect/certs`;
  return {
    realmUrl,
    serverUrl,
    resourceUrl,
    audiences,
    requiredScopes: list(get("MCP_REQUIRED_SCOPES", DEFAULT_REQUIRED_SCOPES)),
    optionalScopes: list(get("MCP_OPTIONAL_SCOPES", DEFAULT_OPTIONAL_SCOPES)),
    host,
    port,
    jwksUri,
    leewaySeconds,
    corsOrigins: list(get("MCP_CORS_ORIGINS", DEFAULT_CORS_ORIGINS)).map((origin) => browserOrigin(origin)),
  };
}

function httpUrl(name: string, value: string): string {
  const trimmed = value.replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(value)} is not an http(s) URL`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    throw new ConfigError(`${name}=${JSON.stringify(value)} is not an http(s) URL`);
  }
  return trimmed;
}

/** A browser origin, such as `http://localhost:6274`: its host name is what the Origin check compares. */
function browserOrigin(value: string): string {
  const origin = value.replace(/\/+$/, "");
  if (!URL.canParse(origin) || !new URL(origin).hostname) {
    throw new ConfigError(
      `MCP_CORS_ORIGINS: ${JSON.stringify(value)} is not an origin (for example http://localhost:6274)`,
    );
  }
  return origin;
}

function bindAddress(value: string): [string, number] {
  const colon = value.lastIndexOf(":");
  const host = value.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port >= 65536) {
    throw new ConfigError(`MCP_BIND=${JSON.stringify(value)} is not HOST:PORT (for example 127.0.0.1:8000)`);
  }
  return [host, port];
}

function list(value: string): string[] {
  return value.split(/[,\s]+/).filter((item) => item.length > 0);
}
