//! The realm's signing keys, cached. Verifying a token never calls Keycloak: keys are loaded at
//! start-up and fetched again only for a key id not seen yet (key rotation) or when the cache is
//! old, and at most once per `MIN_REFRESH_INTERVAL`, so a flood of tokens with made-up key ids
//! cannot turn into a flood of requests to Keycloak.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

const MAX_AGE: Duration = Duration::from_secs(600);
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

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

struct KeySet {
    keys: HashMap<String, SigningKey>,
    fetched_at: Instant,
}

/// The cached key set of one issuer.
pub struct JwksCache {
    uri: String,
    http: reqwest::Client,
    keys: RwLock<KeySet>,
    last_refresh_attempt: Mutex<Instant>,
    fetches: AtomicU64,
}

impl JwksCache {
    /// Loads the key set; fails when it cannot be read, so a misconfigured server stops at start.
    pub async fn load(uri: &str, http: reqwest::Client) -> Result<Self, JwksError> {
        let cache = Self {
            uri: uri.to_owned(),
            http,
            keys: RwLock::new(KeySet {
                keys: HashMap::new(),
                fetched_at: Instant::now(),
            }),
            last_refresh_attempt: Mutex::new(Instant::now()),
            fetches: AtomicU64::new(0),
        };
        let keys = cache.download().await?;
        if keys.is_empty() {
            return Err(JwksError::NoSigningKey {
                uri: uri.to_owned(),
            });
        }
        cache.keys.write().await.keys = keys;
        Ok(cache)
    }

    /// The key with id `kid`, refreshing the set (throttled) when the id is unknown or the set old.
    pub async fn key(&self, kid: &str) -> Option<SigningKey> {
        {
            let set = self.keys.read().await;
            if let Some(key) = set.keys.get(kid)
                && set.fetched_at.elapsed() < MAX_AGE
            {
                return Some(key.clone());
            }
        }
        self.refresh().await;
        self.keys.read().await.keys.get(kid).cloned()
    }

    /// How many times the key set was downloaded (start-up included).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    async fn refresh(&self) {
        let mut last_attempt = self.last_refresh_attempt.lock().await;
        if last_attempt.elapsed() < MIN_REFRESH_INTERVAL {
            return;
        }
        *last_attempt = Instant::now();
        match self.download().await {
            Ok(keys) if !keys.is_empty() => {
                *self.keys.write().await = KeySet {
                    keys,
                    fetched_at: Instant::now(),
                };
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
