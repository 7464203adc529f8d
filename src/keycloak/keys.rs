//! The master realm's signing and encryption keys of an instance booted from a seeded image.
//! They were generated once, when the image's database was initialized, so every instance made
//! from that image would share them: each instance replaces them with keys of its own.

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

/// RSA keys kcdev generates itself, for the key providers it creates (a new realm's, the master
/// realm's replacements): generated while Keycloak boots, they cost nothing when the realm is
/// created, where a freshly started Keycloak would spend most of a second generating its own.
#[derive(Clone)]
pub struct PreparedKeys {
    signing: String,
    encryption: String,
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
    /// Two 2048-bit RSA keys (a tenth of a second or so each): CPU work, for a blocking thread.
    pub fn generate() -> Result<Self, KeyGenerationError> {
        let pem = || {
            RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|err| KeyGenerationError(err.to_string()))?
                .to_pkcs8_pem(LineEnding::LF)
                .map(|pem| pem.to_string())
                .map_err(|err| KeyGenerationError(err.to_string()))
        };
        Ok(Self {
            signing: pem()?,
            encryption: pem()?,
        })
    }

    /// The key providers Keycloak would generate for a realm (RS256 signing, RSA-OAEP
    /// encryption, HS512, AES), with the two RSA keys imported from these.
    pub fn realm_key_providers(&self) -> Vec<Value> {
        vec![
            self.imported("kcdev rsa", "rsa", "RS256", &self.signing),
            self.imported("kcdev rsa-enc", "rsa-enc", "RSA-OAEP", &self.encryption),
            json!({"name": "hmac-generated-hs512", "providerId": "hmac-generated",
                   "config": {"priority": ["100"], "algorithm": ["HS512"]}}),
            json!({"name": "aes-generated", "providerId": "aes-generated",
                   "config": {"priority": ["100"]}}),
        ]
    }

    fn imported(&self, name: &str, provider: &str, algorithm: &str, pem: &str) -> Value {
        json!({"name": name, "providerId": provider,
               "config": {"priority": ["100"], "algorithm": [algorithm], "privateKey": [pem]}})
    }

    /// An imported provider in place of a generated RSA one, or `None` for the others.
    fn replacement_for(&self, provider_id: &str) -> Option<(&'static str, &str)> {
        match provider_id {
            "rsa-generated" => Some(("rsa", &self.signing)),
            "rsa-enc-generated" => Some(("rsa-enc", &self.encryption)),
            _ => None,
        }
    }
}

/// Key providers that came with a seeded image, on their way out: their replacements exist.
#[derive(Debug)]
pub struct SeededKeys {
    providers: Vec<ComponentRepresentation>,
}

impl AdminSession {
    /// Gives the master realm new key providers beside the seeded ones (same settings, new keys,
    /// named `kcdev <name>`). The seeded ones go with [`AdminSession::retire_seeded_keys`], last:
    /// the session's own token was signed with one of them. `None` when there is nothing to
    /// replace, as on every run after the first.
    pub async fn replace_seeded_master_keys(
        &self,
        keys: Option<&PreparedKeys>,
    ) -> Result<Option<SeededKeys>, KeycloakApiError> {
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
            let mut settings: HashMap<String, Vec<String>> = old
                .config
                .iter()
                .flatten()
                .filter(|(key, _)| SETTINGS.contains(&key.as_str()))
                .map(|(key, values)| (key.clone(), values.to_vec()))
                .collect();
            let old_provider = old.provider_id.clone().unwrap_or_default();
            let mut provider_id = old_provider.clone();
            if let Some((imported, pem)) = keys.and_then(|keys| keys.replacement_for(&old_provider))
            {
                provider_id = imported.to_owned();
                settings.remove("keySize");
                settings.insert("privateKey".to_owned(), vec![pem.to_owned()]);
            }
            ComponentRepresentation {
                name: old.name.as_ref().map(|name| format!("kcdev {name}")),
                provider_id: Some(provider_id),
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
