// Who may call: tokens of the Keycloak realm, for this server, with the required scopes.
//
// The SDK's `requireBearerAuth` middleware (`@modelcontextprotocol/express`) answers requests
// without a valid token with the MCP challenge (401, or 403 for a missing scope) and hands the
// verified token to the tools. The SDK has no JWT verifier of its own: `verifier` below checks each
// token locally with `jose` against the realm's published keys (fetched once and cached, refetched
// on an unknown key id, rate limited; no call to Keycloak per request).

import { OAuthError, OAuthErrorCode, type AuthInfo, type OAuthTokenVerifier } from "@modelcontextprotocol/server";
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

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
        throw new OAuthError(OAuthErrorCode.InvalidToken, describe(error));
      }
      return {
        token,
        clientId: claims.azp ?? "",
        scopes: (claims.scope ?? "").split(" ").filter((scope) => scope.length > 0),
        expiresAt: claims.exp,
        // The required scopes travel with the caller, so a tool's step-up challenge names them too.
        extra: { claims, requiredScopes: config.requiredScopes },
      };
    },
  };
}

/** What the challenge says about a refused token: enough to debug, nothing secret. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.claim} check failed`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown signing key";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm not accepted";
  if (error instanceof errors.JWKSTimeout) return "signing keys unavailable";
  return "malformed token";
}

/** The verified claims of the caller, which the bearer middleware attached to the request. */
export function claimsOf(authInfo: AuthInfo | undefined): Claims {
  const claims = authInfo?.extra?.claims;
  if (claims === undefined) {
    throw new Error("no authenticated caller on this request; is requireBearerAuth in front of /mcp?");
  }
  return claims as Claims;
}
