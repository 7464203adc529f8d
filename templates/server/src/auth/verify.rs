//! Checking one access token: signature (realm keys, allowed algorithms only), issuer, audience,
//! expiry, token type and the required scopes.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};

use super::AuthError;
use super::claims::Claims;
use super::jwks::JwksCache;
use crate::config::Config;

/// Longer than any token Keycloak issues; anything bigger is refused before parsing.
const MAX_TOKEN_BYTES: usize = 8192;

/// The signature algorithms a realm can use. Never `none`, never HMAC: an HMAC "signed" with the
/// realm's public key must not pass.
const ALLOWED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Verifies tokens for one resource.
pub struct TokenVerifier {
    jwks: JwksCache,
    validation: Validation,
    required_scopes: Vec<String>,
}

impl TokenVerifier {
    /// A verifier for `config`'s issuer, audiences, leeway and scopes, using `jwks`.
    pub fn new(config: &Config, jwks: JwksCache) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&config.audiences);
        // `iss` and `aud` are only checked when present unless they are required.
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        Self {
            jwks,
            validation,
            required_scopes: config.required_scopes.clone(),
        }
    }

    /// The key cache (its fetch count shows that verification does not call Keycloak).
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The claims of `token` if it is a valid access token for this resource with every required
    /// scope; otherwise why not.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::InvalidToken("token too large".into()));
        }
        let header =
            decode_header(token).map_err(|_| AuthError::InvalidToken("malformed token".into()))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::InvalidToken("token names no signing key".into()))?;
        let signing_key = self
            .jwks
            .key(&kid)
            .await
            .ok_or_else(|| AuthError::InvalidToken("unknown signing key".into()))?;
        if signing_key.algorithm.is_some_and(|alg| alg != header.alg) {
            return Err(AuthError::InvalidToken(
                "algorithm does not match the signing key".into(),
            ));
        }
        // One algorithm per check: listing several families makes jsonwebtoken refuse them all.
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let claims = decode::<Claims>(token, &signing_key.key, &validation)
            .map_err(|err| AuthError::InvalidToken(describe(err.kind()).into()))?
            .claims;
        if claims
            .typ
            .as_deref()
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("Bearer"))
        {
            return Err(AuthError::InvalidToken("not an access token".into()));
        }
        let missing: Vec<&str> = self
            .required_scopes
            .iter()
            .map(String::as_str)
            .filter(|required| !claims.scopes().any(|granted| granted == *required))
            .collect();
        if !missing.is_empty() {
            return Err(AuthError::InsufficientScope(format!(
                "missing scope {}",
                missing.join(" ")
            )));
        }
        Ok(claims)
    }
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token not valid yet",
        ErrorKind::InvalidIssuer => "token from another issuer",
        ErrorKind::InvalidAudience => "token not issued for this server (audience)",
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
            "token not issued for this server (no audience)"
        }
        ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm => "algorithm does not match the signing key",
        _ => "invalid token",
    }
}
