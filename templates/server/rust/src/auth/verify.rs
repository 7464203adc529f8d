//! Checking one access token: signature (realm keys, allowed algorithms only), issuer, audience,
//! expiry, token type and the required scopes.
//!
//! A client sends the same token with every request, so a token that passed is remembered until
//! it expires: checking it again costs one lookup instead of a signature verification. Only
//! tokens that passed every check are remembered, their expiry is checked on every use, and they
//! are checked again in full once the key set changed or got old (a removed key stops working).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// How many verified tokens are remembered; past that, expired ones are dropped first.
const MAX_REMEMBERED: usize = 10_000;

/// Verifies tokens for one resource.
pub struct TokenVerifier {
    jwks: JwksCache,
    validation: Validation,
    required_scopes: Vec<String>,
    verified: RwLock<HashMap<String, Verified>>,
}

/// A token that passed, with the key-set generation it passed with.
struct Verified {
    claims: Arc<Claims>,
    key_set: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
            verified: RwLock::new(HashMap::new()),
        }
    }

    /// The key cache (its fetch count shows that verification does not call Keycloak).
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The claims of `token` if it is a valid access token for this resource with every required
    /// scope; otherwise why not.
    /// Shared, not copied: the claims travel with the request to the tool.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        if let Some(claims) = self.remembered(token) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_fully(token).await?);
        self.remember(token, &claims);
        Ok(claims)
    }

    fn remembered(&self, token: &str) -> Option<Arc<Claims>> {
        let verified = self.verified.read().unwrap_or_else(PoisonError::into_inner);
        let entry = verified.get(token)?;
        (entry.key_set == self.jwks.generation()
            && now() <= entry.claims.exp.saturating_add(self.validation.leeway))
        .then(|| entry.claims.clone())
    }

    fn remember(&self, token: &str, claims: &Arc<Claims>) {
        let key_set = self.jwks.generation();
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_REMEMBERED {
            let now = now();
            verified.retain(|_, entry| now <= entry.claims.exp && entry.key_set == key_set);
            if verified.len() >= MAX_REMEMBERED {
                verified.clear();
            }
        }
        verified.insert(
            token.to_owned(),
            Verified {
                claims: claims.clone(),
                key_set,
            },
        );
    }

    async fn verify_fully(&self, token: &str) -> Result<Claims, AuthError> {
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
        let missing = claims.missing_scopes(&self.required_scopes);
        if !missing.is_empty() {
            return Err(AuthError::InsufficientScope {
                missing,
                needed: self.required_scopes.clone(),
            });
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
