//! Keys kcdev prepares for the realms it provisions, and the master realm's keys of an instance
//! booted from an image seeded with keys: generated once, when that image's database was
//! initialized, every instance made from it would share them, so each replaces them.

use std::collections::HashMap;

use keycloak::types::ComponentRepresentation;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

use super::{AdminSession, KeycloakApiError};

/// The key providers Keycloak creates with a realm, by name.
const SEEDED_PROVIDERS: [&str; 4] = [
    "rsa-generated",
    "rsa-enc-generated",
    "hmac-generated-hs512",
    "aes-generated",
];
/// The provider of the RS256 key that signs admin tokens.
const SIGNING_PROVIDER: &str = "rsa-generated";
const KEY_PROVIDER_TYPE: &str = "org.keycloak.keys.KeyProvider";
/// Settings carried over to the replacement; the key material itself is never read back.
const SETTINGS: [&str; 7] = [
    "priority",
    "algorithm",
    "keySize",
    "secretSize",
    "active",
    "enabled",
    "keyUse",
];
const MASTER: &str = "master";

/// RSA keys kcdev generates itself, for the key providers it creates (a new realm's, a seeded
/// realm's signing key): generated while Keycloak boots, they cost nothing when the realm is
/// provisioned, where a freshly started Keycloak would spend most of a second generating its own.
#[derive(Clone)]
pub struct PreparedKeys {
    signing: String,
    /// None where the realm gets its encryption key from Keycloak when it first needs one.
    encryption: Option<String>,
}

impl std::fmt::Debug for PreparedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreparedKeys(..)")
    }
}

/// Why kcdev could not make a key.
#[derive(Debug, thiserror::Error)]
#[error("cannot generate an RSA key: {0}")]
pub struct KeyGenerationError(String);

impl PreparedKeys {
    /// Two 2048-bit RSA keys, signing and encryption (a tenth of a second or so each): CPU
    /// work, for a blocking thread.
    pub fn generate() -> Result<Self, KeyGenerationError> {
        Ok(Self {
            signing: rsa_pem()?,
            encryption: Some(rsa_pem()?),
        })
    }

    /// The signing key alone, for a realm that has every other key made by Keycloak.
    pub fn signing_only() -> Result<Self, KeyGenerationError> {
        Ok(Self {
            signing: rsa_pem()?,
            encryption: None,
        })
    }

    /// The key providers Keycloak would generate for a realm (RS256 signing, RSA-OAEP
    /// encryption, HS512, AES), with the RSA keys imported from these.
    pub fn realm_key_providers(&self) -> Vec<Value> {
        let encryption = self
            .encryption
            .as_deref()
            .map(|pem| imported("kcdev rsa-enc", "rsa-enc", "RSA-OAEP", pem));
        [self.signing_provider()]
            .into_iter()
            .chain(encryption)
            .chain([
                json!({"name": "hmac-generated-hs512", "providerId": "hmac-generated",
                       "config": {"priority": ["100"], "algorithm": ["HS512"]}}),
                json!({"name": "aes-generated", "providerId": "aes-generated",
                       "config": {"priority": ["100"]}}),
            ])
            .collect()
    }

    /// The RS256 provider that signs the realm's tokens, with the signing key imported.
    pub fn signing_provider(&self) -> Value {
        imported("kcdev rsa", "rsa", "RS256", &self.signing)
    }
}

fn rsa_pem() -> Result<String, KeyGenerationError> {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|err| KeyGenerationError(err.to_string()))?
        .to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|err| KeyGenerationError(err.to_string()))
}

fn imported(name: &str, provider: &str, algorithm: &str, pem: &str) -> Value {
    json!({"name": name, "providerId": provider,
           "config": {"priority": ["100"], "algorithm": [algorithm], "privateKey": [pem]}})
}

/// Key providers that came with a seeded image, on their way out: their replacements exist.
#[derive(Debug)]
pub struct SeededKeys {
    providers: Vec<ComponentRepresentation>,
}

impl AdminSession {
    /// Gives the master realm new key providers beside the seeded ones (same settings, new keys
    /// that Keycloak generates, named `kcdev <name>`), for a database seeded with keys: kcdev's
    /// seeding removes them, and Keycloak makes the instance's own at the first admin login. The
    /// seeded ones go with [`AdminSession::retire_seeded_keys`], last: the session's own token
    /// was signed with one of them. `None` when there is nothing to replace.
    pub async fn replace_seeded_master_keys(&self) -> Result<Option<SeededKeys>, KeycloakApiError> {
        let providers = self
            .api()
            .realm_components_get(MASTER, None, None, None, Some(KEY_PROVIDER_TYPE.to_owned()))
            .await
            .map_err(failed("list the master realm's keys"))?;
        let seeded: Vec<ComponentRepresentation> = providers
            .into_iter()
            .filter(|provider| {
                provider
                    .name
                    .as_deref()
                    .is_some_and(|name| SEEDED_PROVIDERS.contains(&name))
            })
            .collect();
        if seeded.is_empty() {
            return Ok(None);
        }
        let replacements = seeded.iter().map(|old| {
            let settings: HashMap<String, Vec<String>> = old
                .config
                .iter()
                .flatten()
                .filter(|(key, _)| SETTINGS.contains(&key.as_str()))
                .map(|(key, values)| (key.clone(), values.to_vec()))
                .collect();
            ComponentRepresentation {
                name: old.name.as_ref().map(|name| format!("kcdev {name}")),
                provider_id: old.provider_id.clone(),
                provider_type: Some(KEY_PROVIDER_TYPE.to_owned()),
                parent_id: old.parent_id.clone(),
                config: Some(settings.into_iter().collect()),
                ..Default::default()
            }
        });
        for created in futures_util::future::join_all(
            replacements.map(|replacement| self.api().realm_components_post(MASTER, replacement)),
        )
        .await
        {
            created.map_err(failed("create a master realm key"))?;
        }
        Ok(Some(SeededKeys { providers: seeded }))
    }

    /// Deletes the seeded key providers, the one that signed this session's token last; the
    /// session's token is no good afterwards, so this is its last call.
    pub async fn retire_seeded_keys(&self, keys: SeededKeys) -> Result<(), KeycloakApiError> {
        let mut doomed = keys.providers;
        doomed.sort_by_key(|provider| provider.name.as_deref() == Some(SIGNING_PROVIDER));
        for old in doomed {
            if let Some(id) = &old.id {
                self.api()
                    .realm_components_with_id_delete(MASTER, id)
                    .await
                    .map_err(failed("delete a seeded master realm key"))?;
            }
        }
        Ok(())
    }
}

fn failed(operation: &str) -> impl Fn(keycloak::KeycloakError) -> KeycloakApiError {
    let operation = operation.to_owned();
    move |err| KeycloakApiError::from_crate(operation.clone(), err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider_ids(providers: &[Value]) -> Vec<&str> {
        providers
            .iter()
            .map(|provider| provider["providerId"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn a_signing_key_alone_leaves_encryption_to_keycloak() {
        let keys = PreparedKeys::signing_only().unwrap();
        assert_eq!(
            provider_ids(&keys.realm_key_providers()),
            ["rsa", "hmac-generated", "aes-generated"]
        );
        let signing = keys.signing_provider();
        assert_eq!(signing["config"]["algorithm"][0], "RS256");
        assert!(
            signing["config"]["privateKey"][0]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
    }
}
