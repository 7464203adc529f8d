// Who may call: tokens of the Keycloak realm, for this server, with the required scopes.
//
// `requireBearer` below, the SDK's bearer check, answers requests without a valid token with the MCP
// challenge (401, or 403 for a missing scope), logs why, and hands the verified token to the tools.
// The SDK has no JWT verifier of its own: `verifier` below checks each token locally with `jose`
// against the realm's published keys (fetched once and cached, refetched on an unknown key id, rate
// limited; no call to Keycloak per request).

import {
  bearerAuthChallengeResponse,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
  type AuthInfo,
  type OAuthTokenVerifier,
  type VerifyBearerTokenOptions,
} from "@modelcontextprotocol/server";
import type { RequestHandler } from "express";
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";

import type { Config } from "./config.js";

/** The claims of a Keycloak access token the tools read. */
export interface Claims extends JWTPayload {
  preferred_username?: string;
  azp?: string;
  scope?: string;
  realm_access?: { roles?: string[] };
}

/** Only what Keycloak signs with by default: `alg: none` and HMAC-with-the-public-key fail. */
const ALGORITHMS = ["RS256"];

export function realmKeys(config: Config): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(config.jwksUri), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
}

/**
 * A refusal that says why, and what the token said about whose it was: `claims` are unverified
 * unless `verified`. Its message is the challenge's `error_description` and the log line's reason.
 */
export class TokenRefused extends OAuthError {
  constructor(
    code: OAuthErrorCode,
    reason: string,
    readonly claims: Claims = {},
    readonly verified = false,
  ) {
    super(code, reason);
  }
}

export function verifier(config: Config, keys: JWTVerifyGetKey = realmKeys(config)): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let claims: Claims;
      try {
        ({ payload: claims } = await jwtVerify<Claims>(token, keys, {
          issuer: config.realmUrl,
          // The audience check keeps a token the realm issued for another service from working here.
          audience: config.audiences,
          algorithms: ALGORITHMS,
          clockTolerance: config.leewaySeconds,
          requiredClaims: ["exp"],
        }));
      } catch (error) {
        throw new TokenRefused(OAuthErrorCode.InvalidToken, why(error, token, config), unverifiedClaims(token));
      }
      const exp = claims.exp ?? 0;
      // The SDK refuses a token past its `exp` whatever the leeway; this says why.
      if (exp < Date.now() / 1000) throw new TokenRefused(OAuthErrorCode.InvalidToken, expired(exp), claims);
      const scopes = (claims.scope ?? "").split(" ").filter((scope) => scope.length > 0);
      const missing = config.requiredScopes.filter((scope) => !scopes.includes(scope));
      if (missing.length > 0) {
        throw new TokenRefused(OAuthErrorCode.InsufficientScope, `missing scope ${missing.join(" ")}`, claims, true);
      }
      return {
        token,
        clientId: claims.azp ?? "",
        scopes,
        expiresAt: exp,
        // The required scopes travel with the caller, so a tool's step-up challenge names them too.
        extra: { claims, requiredScopes: config.requiredScopes },
      };
    },
  };
}

/**
 * Why jose refused `token`, with what the token held (quoted as JSON, so a made-up claim cannot
 * break the line or pass for the server's own words) and what this server expects.
 */
function why(error: unknown, token: string, config: Config): string {
  if (error instanceof errors.JWTExpired) return expired(Number(error.payload.exp));
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = error;
    if (claim === "nbf") return notValidYet(Number(payload.nbf));
    if (claim === "iss") {
      const found = payload.iss === undefined ? "no issuer" : `issuer ${JSON.stringify(payload.iss)}`;
      return `${found} where ${config.realmUrl} was expected`;
    }
    if (claim === "aud") {
      const found = payload.aud === undefined ? [] : [payload.aud].flat();
      const had = found.length > 0 ? `audience ${JSON.stringify(found)}` : "no audience";
      const [only, ...more] = config.audiences;
      return `${had} where ${more.length === 0 ? only : `one of ${config.audiences.join(", ")}`} was expected`;
    }
    return reason === "missing" ? `no ${claim} claim` : `malformed ${claim} claim`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  const header = (() => {
    try {
      return decodeProtectedHeader(token);
    } catch {
      return {};
    }
  })();
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    if (header.kid === undefined) return "token names no signing key (no kid)";
    return `unknown signing key ${JSON.stringify(header.kid)}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `algorithm ${JSON.stringify(header.alg)} not accepted (accepted: ${ALGORITHMS.join(", ")})`;
  }
  const malformed = [errors.JWSInvalid, errors.JWTInvalid, errors.JOSENotSupported];
  if (malformed.some((kind) => error instanceof kind)) return "malformed token";
  // The rest is about the key set, not the token: unreachable, not JSON, timed out.
  return `signing keys unavailable from ${config.jwksUri}`;
}

function timestamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function expired(exp: number): string {
  return `expired (exp ${timestamp(exp)}, ${Math.floor(Date.now() / 1000) - Math.floor(exp)} s ago)`;
}

function notValidYet(nbf: number): string {
  return `not valid yet (nbf ${timestamp(nbf)}, in ${Math.floor(nbf) - Math.floor(Date.now() / 1000)} s)`;
}

/** The claims of a token nobody checked: only to tell whose it says it is. */
function unverifiedClaims(token: string): Claims {
  try {
    return decodeJwt<Claims>(token);
  } catch {
    return {};
  }
}

/** Where refusal lines go: `console.error` unless a test listens. */
export type Log = (level: "info" | "warn", line: string) => void;

export const stderr: Log = (_level, line) => console.error(line);

/**
 * One line, `token refused: <reason>; <method> <path>[; client "...", user "..."[ (unverified)]]`.
 * Never the token: its claims are enough to tell whose it is.
 */
export function refusalLine(
  reason: string,
  request: { method: string; path: string },
  claims: Claims = {},
  verified = false,
): string {
  const names = (
    [
      ["client", claims.azp],
      ["user", claims.preferred_username],
    ] as const
  )
    .filter(([, name]) => typeof name === "string")
    .map(([what, name]) => `${what} ${JSON.stringify(name)}`);
  const caller = names.length === 0 ? "" : `; ${names.join(", ")}${verified ? "" : " (unverified)"}`;
  return `token refused: ${reason}; ${request.method} ${request.path}${caller}`;
}

/**
 * The bearer check in front of `/mcp`: the SDK's own (`verifyBearerToken`, then
 * `bearerAuthChallengeResponse` for the answer), logging why it refuses a request. The caller's
 * `AuthInfo` also carries `refused`, for the tools' scope challenges to log theirs the same way.
 */
export function requireBearer(options: VerifyBearerTokenOptions, log: Log): RequestHandler {
  return async (req, res, next) => {
    try {
      const info = await verifyBearerToken(req.headers.authorization, options);
      const refused = (reason: string) => log("warn", refusalLine(reason, req, claimsOf(info), true));
      req.auth = { ...info, extra: { ...info.extra, refused } };
      next();
    } catch (error) {
      const [type, token] = (req.headers.authorization ?? "").split(" ");
      if (type?.toLowerCase() !== "bearer" || !token) {
        // A client's first request carries none by design (the answer tells it where to log in):
        // worth a line, not a warning.
        log("info", refusalLine("no bearer token", req));
      } else if (error instanceof TokenRefused) {
        log("warn", refusalLine(error.message, req, error.claims, error.verified));
      } else {
        log("warn", refusalLine(error instanceof Error ? error.message : "invalid token", req));
      }
      const response = bearerAuthChallengeResponse(error, options);
      const challenge = response.headers.get("WWW-Authenticate");
      if (challenge !== null) res.set("WWW-Authenticate", challenge);
      res.status(response.status).json(await response.json());
    }
  };
}

/** Logs a refusal of the caller of `authInfo` the bearer check did not make: a tool's scopes. */
export function logRefusal(authInfo: AuthInfo | undefined, reason: string): void {
  const refused = authInfo?.extra?.refused;
  if (typeof refused === "function") refused(reason);
}

/** The verified claims of the caller, which the bearer middleware attached to the request. */
export function claimsOf(authInfo: AuthInfo | undefined): Claims {
  const claims = authInfo?.extra?.claims;
  if (claims === undefined) {
    throw new Error("no authenticated caller on this request; is requireBearer in front of /mcp?");
  }
  return claims as Claims;
}
