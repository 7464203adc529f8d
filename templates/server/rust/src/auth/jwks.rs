//! The realm's signing keys, cached. Verifying a token never calls Keycloak: keys are loaded at
//! start-up and fetched again only for a key id not seen yet (key rotation: the new key signs
//! before this server has seen it) or when the set is older than its maximum age (a key removed
//! from the realm stops verifying within that time), and at most once per minimum refresh
//! interval, so a flood of tokens with made-up key ids cannot turn into a flood of requests to
//! Keycloak.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// When the key set is downloaded again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// How long a downloaded set is trusted (`MCP_JWKS_MAX_AGE_SECONDS`): a key removed from the
    /// realm is accepted at most this long after.
    pub max_age: Duration,
    /// The shortest time between two downloads (`MCP_JWKS_MIN_REFRESH_SECONDS`).
    pub min_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(600),
            min_interval: Duration::from_secs(10),
        }
    }
}

/// A key that may verify token signatures.
#[derive(Clone)]
pub struct SigningKey {
    /// The key.
    pub key: DecodingKey,
    /// The algorithm the key is for, when the JWKS says.
    pub algorithm: Option<Algorithm>,
}

/// Why the key set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The request failed.
    #[error("cannot fetch the key set from {uri}")]
    Fetch {
        /// The JWKS URL.
        uri: String,
        /// The HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// The document holds no key usable for signatures.
    #[error("the key set at {uri} has no signing key")]
    NoSigningKey {
        /// The JWKS URL.
        uri: String,
    },
}

/// The cached key set of one issuer.
pub struct JwksCache {
    uri: String,
    http: reqwest::Client,
    policy: RefreshPolicy,
    keys: RwLock<HashMap<String, SigningKey>>,
    last_refresh_attempt: Mutex<Instant>,
    fetches: AtomicU64,
    /// Counts changes of the set's key ids, so what was verified with an older set is verified
    /// again.
    generation: AtomicU64,
    created: Instant,
    /// Milliseconds after `created` at which the set reaches its maximum age: the one record of
    /// when it was downloaded.
    expires_at_ms: AtomicU64,
}

impl JwksCache {
    /// Loads the key set; fails when it cannot be read, so a misconfigured server stops at start.
    pub async fn load(
        uri: &str,
        http: reqwest::Client,
        policy: RefreshPolicy,
    ) -> Result<Self, JwksError> {
        let created = Instant::now();
        let cache = Self {
            uri: uri.to_owned(),
            http,
            policy,
            keys: RwLock::new(HashMap::new()),
            last_refresh_attempt: Mutex::new(created),
            fetches: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            created,
            expires_at_ms: AtomicU64::new(0),
        };
        let keys = cache.download().await?;
        if keys.is_empty() {
            return Err(JwksError::NoSigningKey {
                uri: uri.to_owned(),
            });
        }
        *cache.keys.write().await = keys;
        cache.mark_fetched();
        Ok(cache)
    }

    /// Identifies the key set verifications were made with: it changes when the set's key ids
    /// change, and reads as no generation at all while the set is too old to be trusted without
    /// downloading it again. Two atomic loads and a clock read, for the verifier's memory of
    /// tokens it already checked.
    pub fn generation(&self) -> u64 {
        if self.is_fresh() {
            self.generation.load(Ordering::Acquire)
        } else {
            // No value a verification was stored with matches until the next download.
            u64::MAX
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_fresh(&self) -> bool {
        self.elapsed_ms() < self.expires_at_ms.load(Ordering::Acquire)
    }

    fn mark_fetched(&self) {
        let max_age_ms = u64::try_from(self.policy.max_age.as_millis()).unwrap_or(u64::MAX);
        self.expires_at_ms.store(
            self.elapsed_ms().saturating_add(max_age_ms),
            Ordering::Release,
        );
    }

    /// The key with id `kid`, refreshing the set (throttled) when the id is unknown or the set old.
    pub async fn key(&self, kid: &str) -> Option<SigningKey> {
        if self.is_fresh()
            && let Some(key) = self.keys.read().await.get(kid)
        {
            return Some(key.clone());
        }
        self.refresh().await;
        self.keys.read().await.get(kid).cloned()
    }

    /// How many times the key set was downloaded (start-up included).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    async fn refresh(&self) {
        let mut last_attempt = self.last_refresh_attempt.lock().await;
        if last_attempt.elapsed() < self.policy.min_interval {
            return;
        }
        *last_attempt = Instant::now();
        match self.download().await {
            Ok(keys) if !keys.is_empty() => {
                let mut set = self.keys.write().await;
                let same_ids =
                    set.len() == keys.len() && keys.keys().all(|kid| set.contains_key(kid));
                *set = keys;
                if !same_ids {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                self.mark_fetched();
            }
            // Keep serving with the keys we have: Keycloak may be restarting.
            Ok(_) => {
                tracing::warn!(uri = %self.uri, "key set has no signing key; keeping the cached keys")
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot refresh the key set; keeping the cached keys")
            }
        }
    }

    async fn download(&self) -> Result<HashMap<String, SigningKey>, JwksError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetch = |source| JwksError::Fetch {
            uri: self.uri.clone(),
            source,
        };
        let set: JwkSet = self
            .http
            .get(&self.uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fetch)?
            .json()
            .await
            .map_err(fetch)?;
        Ok(signing_keys(&set))
    }
}

/// The keys of a set that can verify signatures. Keycloak also publishes an encryption key
/// (`use: enc`, `alg: RSA-OAEP`): a token naming it must not verify.
fn signing_keys(set: &JwkSet) -> HashMap<String, SigningKey> {
    set.keys
        .iter()
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let algorithm = match jwk.common.key_algorithm {
                Some(declared) => Some(Algorithm::try_from(declared).ok()?),
                None => None,
            };
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, SigningKey { key, algorithm }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_encryption_keys() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kid": "sig", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"},
            {"kid": "enc", "kty": "RSA", "alg": "RSA-OAEP", "use": "enc", "n": "sXch", "e": "AQAB"}
        ]}))
        .unwrap();
        let keys = signing_keys(&set);
        assert!(keys.contains_key("sig"));
        assert!(!keys.contains_key("enc"));
        assert_eq!(keys["sig"].algorithm, Some(Algorithm::RS256));
    }
}
