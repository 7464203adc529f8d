//! Checking one access token: signature (realm keys, allowed algorithms only), issuer, audience,
//! expiry, token type and the required scopes.
//!
//! A client sends the same token with every request, so a token that passed is remembered until
//! it expires: checking it again costs one lookup instead of a signature verification. Only
//! tokens that passed every check are remembered, their expiry is checked on every use, and they
//! are checked again in full once the key set changed or got old (a removed key stops working).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::claims::Claims;
use super::jwks::JwksCache;
use super::{AuthError, Caller};
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
    issuer: String,
    audiences: Vec<String>,
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
            issuer: config.issuer.clone(),
            audiences: config.audiences.clone(),
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
            return Err(AuthError::InvalidToken {
                reason: Rejection::TooLarge(token.len()),
                caller: Caller::default(),
            });
        }
        let claims = self.check(token).await.map_err(|reason| {
            // Decoded only to say whose token it was and what it held: nothing here is trusted.
            let unverified: Map<String, Value> = insecure_decode_claims(token).unwrap_or_default();
            AuthError::InvalidToken {
                reason: reason.explained(&unverified, self),
                caller: Caller::unverified(&unverified),
            }
        })?;
        let missing = claims.missing_scopes(&self.required_scopes);
        if !missing.is_empty() {
            return Err(AuthError::InsufficientScope {
                missing,
                tool: None,
                caller: Caller::verified(&claims),
            });
        }
        Ok(claims)
    }

    /// The claims of `token` if its signature and claims hold, whatever its scopes.
    async fn check(&self, token: &str) -> Result<Claims, Rejection> {
        let header = decode_header(token).map_err(|_| Rejection::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(Rejection::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(Rejection::NoKeyId)?;
        let Some(signing_key) = self.jwks.key(&kid).await else {
            return Err(Rejection::UnknownKey(kid));
        };
        if signing_key.algorithm.is_some_and(|alg| alg != header.alg) {
            return Err(Rejection::KeyAlgorithm(header.alg));
        }
        // One algorithm per check: listing several families makes jsonwebtoken refuse them all.
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let claims = decode::<Claims>(token, &signing_key.key, &validation)
            .map_err(Rejection::Other)?
            .claims;
        match claims.typ.as_deref() {
            Some(typ) if !typ.eq_ignore_ascii_case("Bearer") => {
                Err(Rejection::NotAccessToken(typ.to_owned()))
            }
            _ => Ok(claims),
        }
    }
}

/// Why a token is not accepted. Its text is both the reason in the server's log line and the
/// challenge's `error_description`, so the two never disagree. What the token itself holds is
/// quoted as JSON (`"..."`, `[...]`): a made-up claim cannot break the line or pass for the
/// server's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Longer than any token Keycloak issues.
    TooLarge(usize),
    /// Not a JWT: not three base64url parts, or a header that does not parse.
    Malformed,
    /// An algorithm this server never accepts.
    Algorithm(Algorithm),
    /// No `kid`, so no key to check the signature with.
    NoKeyId,
    /// A `kid` the realm does not publish: another realm's key, a removed one, or made up.
    UnknownKey(String),
    /// The algorithm is not the one the named key is for.
    KeyAlgorithm(Algorithm),
    /// The signature does not verify.
    BadSignature,
    /// Expired at `exp`, leeway included; `now` is when it was checked.
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// When it was checked.
        now: u64,
    },
    /// Not valid before `nbf`, leeway included.
    NotYetValid {
        /// The token's `nbf`.
        nbf: u64,
        /// When it was checked.
        now: u64,
    },
    /// Issued by someone else (`found`: the token's `iss`, if any).
    Issuer {
        /// The token's `iss`.
        found: Option<String>,
        /// The realm URL.
        expected: String,
    },
    /// Issued for another resource (`found`: the token's `aud`, maybe empty).
    Audience {
        /// The token's `aud`.
        found: Vec<String>,
        /// What this server accepts (`MCP_AUDIENCE`).
        expected: Vec<String>,
    },
    /// A required claim is missing.
    MissingClaim(String),
    /// An ID or refresh token: its `typ`.
    NotAccessToken(String),
    /// Anything else jsonwebtoken reports (and, until `explained`, the claim checks above).
    Other(jsonwebtoken::errors::Error),
}

impl Rejection {
    /// This rejection with the details jsonwebtoken does not report, read from the token's
    /// unverified claims and the verifier's expectations.
    fn explained(self, unverified: &Map<String, Value>, verifier: &TokenVerifier) -> Self {
        let Self::Other(error) = self else {
            return self;
        };
        let number = |claim: &str| unverified.get(claim).and_then(Value::as_u64);
        let audience = || Self::Audience {
            found: match unverified.get("aud") {
                Some(Value::Array(many)) => many.iter().map(json_text).collect(),
                Some(one) => vec![json_text(one)],
                None => Vec::new(),
            },
            expected: verifier.audiences.clone(),
        };
        let issuer = || Self::Issuer {
            found: unverified.get("iss").map(json_text),
            expected: verifier.issuer.clone(),
        };
        match error.kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::ExpiredSignature => Self::Expired {
                exp: number("exp").unwrap_or_default(),
                now: now(),
            },
            ErrorKind::ImmatureSignature => Self::NotYetValid {
                nbf: number("nbf").unwrap_or_default(),
                now: now(),
            },
            ErrorKind::InvalidIssuer => issuer(),
            ErrorKind::InvalidAudience => audience(),
            ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
                "iss" => issuer(),
                "aud" => audience(),
                _ => Self::MissingClaim(claim.clone()),
            },
            _ => Self::Other(error),
        }
    }
}

/// A claim's value as text: a string as it is, anything else as JSON.
fn json_text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// `value` as a JSON string: quoted, with control characters escaped.
pub(crate) fn quoted(value: &str) -> String {
    Value::from(value).to_string()
}

/// Seconds since the epoch as `2026-12-04T15:00:00Z`.
fn timestamp(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map_or_else(
            || seconds.to_string(),
            |time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(bytes) => write!(f, "token too large ({bytes} bytes)"),
            Self::Malformed => f.write_str("malformed token"),
            Self::Algorithm(alg) => {
                let accepted: Vec<String> = ALLOWED_ALGORITHMS
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect();
                write!(
                    f,
                    "algorithm {} not accepted (accepted: {})",
                    quoted(&format!("{alg:?}")),
                    accepted.join(", ")
                )
            }
            Self::NoKeyId => f.write_str("token names no signing key (no kid)"),
            Self::UnknownKey(kid) => write!(f, "unknown signing key {}", quoted(kid)),
            Self::KeyAlgorithm(alg) => write!(
                f,
                "algorithm {} does not match the signing key",
                quoted(&format!("{alg:?}"))
            ),
            Self::BadSignature => f.write_str("bad signature"),
            Self::Expired { exp, now } => write!(
                f,
                "expired (exp {}, {} s ago)",
                timestamp(*exp),
                now.saturating_sub(*exp)
            ),
            Self::NotYetValid { nbf, now } => write!(
                f,
                "not valid yet (nbf {}, in {} s)",
                timestamp(*nbf),
                nbf.saturating_sub(*now)
            ),
            Self::Issuer { found, expected } => match found {
                Some(found) => write!(f, "issuer {} where {expected} was expected", quoted(found)),
                None => write!(f, "no issuer where {expected} was expected"),
            },
            Self::Audience { found, expected } => {
                if found.is_empty() {
                    f.write_str("no audience")?;
                } else {
                    write!(f, "audience {}", Value::from(found.clone()))?;
                }
                match expected.as_slice() {
                    [one] => write!(f, " where {one} was expected"),
                    many => write!(f, " where one of {} was expected", many.join(", ")),
                }
            }
            Self::MissingClaim(claim) => write!(f, "no {claim} claim"),
            Self::NotAccessToken(typ) => write!(f, "not an access token (typ {})", quoted(typ)),
            Self::Other(error) => match error.kind() {
                ErrorKind::InvalidClaimFormat(claim) => write!(f, "malformed {claim} claim"),
                ErrorKind::InvalidAlgorithm => {
                    f.write_str("algorithm does not match the signing key")
                }
                _ => f.write_str("invalid token"),
            },
        }
    }
}
