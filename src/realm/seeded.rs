//! kcdev's default realm, carried in the seeded database image (see `docker::derive`): a new
//! instance booted from that image finds its realm there instead of creating it, which on a
//! Keycloak that has just started is most of a second or two (`POST /admin/realms`).
//!
//! The realm in the image is the one `reconcile` would create with kcdev's default settings, so
//! the plan right after finds nothing to do. What must not be the same in every instance made
//! from one image is either not in the image or replaced at the instance's first `up`. The
//! seeding removed the realms' keys: Keycloak makes an instance's own when it first needs them.
//! `up` renews the secrets of clients that log in with one and the password of a test user whose
//! password is not the default. Left as seeded: the secrets of bearer-only clients (the resource
//! clients, Keycloak's `broker`), which no token request accepts, and the default password's
//! credential, whose password is public anyway; hashing a new one costs a Keycloak that has just
//! started a second.
//! Settings that differ from the defaults are reconciled on top by the usual plan; for another
//! realm name, the seeded realm is renamed first (Keycloak renames the master realm's client for
//! it too), which costs far less than creating one.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::try_join_all;
use keycloak::types::{ComponentRepresentation, CredentialRepresentation};
use serde_json::{Value, json};

use super::observe::Passwords;
use super::{
    PasswordMarks, RealmError, RealmSpec, RealmVariables, ReconcileReport, api_error, export,
    field, password, reconcile,
};
use crate::keycloak::{AdminSession, PreparedKeys};

const KEY_PROVIDER_TYPE: &str = "org.keycloak.keys.KeyProvider";

/// The default realm as the seeded database imports it: `kc.sh start --import-realm` reads the
/// document, a realm representation the same as the one `reconcile` posts to create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRealm {
    pub name: String,
    /// The realm representation, JSON.
    pub document: Vec<u8>,
}

/// kcdev's realm rendered with the default settings, without key providers (Keycloak generates
/// the seed's own; every instance replaces them).
pub fn default_realm() -> Result<DefaultRealm, RealmError> {
    let spec = default_spec()?;
    let representation = export::representation(&spec)?;
    let document = serde_json::to_vec_pretty(&Value::Object(representation))
        .map_err(|err| RealmError::Spec(err.to_string()))?;
    Ok(DefaultRealm {
        name: spec.realm_name().to_owned(),
        document,
    })
}

fn default_spec() -> Result<RealmSpec, RealmError> {
    RealmSpec::render(&RealmVariables::default())
}

/// `reconcile` on the first `up` of a database from a seeded image, which holds the default
/// realm: gives that realm what must be this instance's own (and the instance's realm name), and
/// beside that reconciles it as usual (nothing to do for default settings).
pub async fn reconcile_seeded(
    session: &AdminSession,
    spec: &RealmSpec,
    keys: Option<&PreparedKeys>,
    marks: &PasswordMarks,
) -> Result<ReconcileReport, RealmError> {
    let seed = default_spec()?;
    let (seeded, taken) = tokio::try_join!(realm_id(session, seed.realm_name()), async {
        if spec.realm_name() == seed.realm_name() {
            Ok(None)
        } else {
            realm_id(session, spec.realm_name()).await
        }
    })?;
    let Some(realm_id) = seeded.filter(|_| taken.is_none()) else {
        // Not the image kcdev seeded after all (a database initialized some other way), or a
        // realm of that name exists already (`master`).
        return reconcile(session, spec, false, keys, marks).await;
    };
    if spec.realm_name() != seed.realm_name() {
        rename_realm(session, seed.realm_name(), spec.realm_name()).await?;
    }
    let clients = async {
        remove_undeclared_clients(session, &seed, spec).await?;
        renew_client_secrets(session, spec.realm_name()).await
    };
    let converge = async {
        if *spec == seed {
            // The seed imported the realm from this very spec: what `reconcile` would create,
            // whose plan is empty. Not looking saves a Keycloak that has just started most of
            // the work (tests/boot.rs holds `plan` clean after).
            Ok(ReconcileReport::new(
                spec.realm_name(),
                super::Plan::default(),
                PasswordMarks::new(),
            ))
        } else {
            // The plan touches none of what goes on beside it; it takes the test users'
            // passwords as set (they are being set to the spec's).
            super::reconcile_with(session, spec, false, keys, Passwords::JustSet).await
        }
    };
    let (_, _, own_marks, mut report) = tokio::try_join!(
        replace_keys(session, spec.realm_name(), &realm_id, keys),
        clients,
        reset_passwords(session, &seed, spec),
        converge,
    )?;
    report.password_marks.extend(own_marks);
    report.from_seed = true;
    Ok(report)
}

async fn rename_realm(session: &AdminSession, from: &str, to: &str) -> Result<(), RealmError> {
    session
        .api()
        .realm_put(
            from,
            keycloak::types::RealmRepresentation {
                realm: Some(to.to_owned()),
                ..Default::default()
            },
        )
        .await
        .map_err(|err| api_error(format!("rename the seeded realm {from} to {to}"), err))?;
    Ok(())
}

async fn realm_id(session: &AdminSession, realm: &str) -> Result<Option<String>, RealmError> {
    match session.api().realm_get(realm).await {
        Ok(representation) => Ok(representation.id),
        Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => Ok(None),
        Err(err) => Err(api_error("read the realm", err)),
    }
}

/// The seeding leaves the realm without keys, and Keycloak would make each one the first time
/// the realm needs it (its fallback keys). All but the signing key cost nothing then; the
/// signing key is imported now, so the realm's JWKS has it before any token (servers that load
/// the keys at start need one), and a just-started Keycloak does not spend a second generating
/// it at the first login. A database seeded with keys (by some other image) gets new key
/// providers in place of the seed's, which every instance from that image would share.
async fn replace_keys(
    session: &AdminSession,
    realm: &str,
    realm_id: &str,
    keys: Option<&PreparedKeys>,
) -> Result<(), RealmError> {
    let api = session.api();
    let seeded = api
        .realm_components_get(realm, None, None, None, Some(KEY_PROVIDER_TYPE.to_owned()))
        .await
        .map_err(|err| api_error("list the realm's keys", err))?;
    let providers = match keys {
        Some(keys) if seeded.is_empty() => vec![keys.signing_provider()],
        None if seeded.is_empty() => generated_key_providers()
            .into_iter()
            .filter(|provider| provider["providerId"] == "rsa-generated")
            .collect(),
        Some(keys) => keys.realm_key_providers(),
        None => generated_key_providers(),
    };
    let created = try_join_all(providers.into_iter().map(|provider| async move {
        let mut component: ComponentRepresentation = serde_json::from_value(provider)
            .map_err(|err| RealmError::Spec(format!("key provider: {err}")))?;
        component.provider_type = Some(KEY_PROVIDER_TYPE.to_owned());
        component.parent_id = Some(realm_id.to_owned());
        api.realm_components_post(realm, component)
            .await
            .map_err(|err| api_error("create a realm key", err))
    }));
    // Nothing uses the realm yet: the old keys can go while the new ones are made.
    let deleted = try_join_all(seeded.iter().filter_map(|old| old.id.as_deref()).map(
        |id| async move {
            api.realm_components_with_id_delete(realm, id)
                .await
                .map_err(|err| api_error("delete a seeded realm key", err))
        },
    ));
    tokio::try_join!(created, deleted)?;
    Ok(())
}

/// The providers Keycloak creates with a realm, to generate their keys.
fn generated_key_providers() -> Vec<Value> {
    [
        ("rsa-generated", "rsa-generated", "RS256"),
        ("rsa-enc-generated", "rsa-enc-generated", "RSA-OAEP"),
        ("hmac-generated-hs512", "hmac-generated", "HS512"),
    ]
    .into_iter()
    .map(|(name, provider, algorithm)| {
        json!({"name": name, "providerId": provider,
               "config": {"priority": ["100"], "algorithm": [algorithm]}})
    })
    .chain([
        json!({"name": "aes-generated", "providerId": "aes-generated",
                   "config": {"priority": ["100"]}}),
    ])
    .collect()
}

/// A new secret for every client that logs in with one: Keycloak generated them once, when the
/// seed imported the realm. (kcdev's default realm has none: its resource clients and Keycloak's
/// `broker` are bearer-only.)
async fn renew_client_secrets(session: &AdminSession, realm: &str) -> Result<(), RealmError> {
    let api = session.api();
    let clients = api
        .realm_clients_get(realm, None, None, None, None, None, None)
        .await
        .map_err(|err| api_error("list the realm's clients", err))?;
    try_join_all(
        clients
            .iter()
            // Keycloak lists the secrets there are (`realm-management` has none, and refuses one).
            .filter(|client| {
                client.public_client != Some(true)
                    && client.bearer_only != Some(true)
                    && client.secret.is_some()
            })
            .filter_map(|client| Some((client.id.as_deref()?, client.client_id.as_deref()?)))
            .map(|(id, client_id)| async move {
                api.realm_clients_with_client_uuid_client_secret_post(realm, id)
                    .await
                    .map_err(|err| {
                        api_error(format!("renew the secret of client {client_id}"), err)
                    })
            }),
    )
    .await?;
    Ok(())
}

/// The clients the default realm has and this instance's does not (the resource of the default
/// server URL, when the instance's is another): a realm created with this spec would not have
/// them, and the plan leaves clients it does not name alone.
async fn remove_undeclared_clients(
    session: &AdminSession,
    seed: &RealmSpec,
    spec: &RealmSpec,
) -> Result<(), RealmError> {
    let wanted: BTreeSet<&str> = spec
        .clients
        .iter()
        .map(|client| field(client, "clientId"))
        .collect();
    let api = session.api();
    let realm = spec.realm_name();
    try_join_all(
        seed.clients
            .iter()
            .map(|client| field(client, "clientId"))
            .filter(|client_id| !wanted.contains(client_id))
            .map(|client_id| async move {
                if let Some(id) = session
                    .find_client(realm, client_id)
                    .await?
                    .and_then(|client| client.id)
                {
                    api.realm_clients_with_client_uuid_delete(realm, &id)
                        .await
                        .map_err(|err| api_error(format!("delete client {client_id}"), err))?;
                }
                Ok::<_, RealmError>(())
            }),
    )
    .await?;
    Ok(())
}

/// Sets the password of each test user the seeded realm has whose password is not the seed's (a
/// credential of its own, salted anew). Returns the marks of every seeded user's credential, so
/// the plan knows the passwords without logging in. (The users the project declares beyond those,
/// the plan creates.)
async fn reset_passwords(
    session: &AdminSession,
    seed: &RealmSpec,
    spec: &RealmSpec,
) -> Result<PasswordMarks, RealmError> {
    let realm = spec.realm_name();
    let seeded: BTreeMap<&str, &str> = seed
        .users
        .iter()
        .map(|user| (user.username(), user.password.as_str()))
        .collect();
    let users = spec.users.iter().filter_map(|user| {
        let seed_password = seeded.get(user.username())?;
        Some((user, *seed_password == user.password))
    });
    let marks = try_join_all(users.map(|(user, as_seeded)| async move {
        let username = user.username();
        let Some(found) = session.find_user(realm, username).await? else {
            return Ok::<_, RealmError>(None);
        };
        let id = found.id.unwrap_or_default();
        if !as_seeded {
            session
                .api()
                .realm_users_with_user_id_reset_password_put(
                    realm,
                    &id,
                    CredentialRepresentation {
                        type_: Some("password".to_owned()),
                        value: Some(user.password.clone()),
                        temporary: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|err| api_error(format!("set the password of user {username}"), err))?;
        }
        let credential = password::password_credential(session, realm, username, &id).await?;
        Ok(credential.map(|credential| {
            (
                username.to_owned(),
                password::mark(&credential, &user.password),
            )
        }))
    }))
    .await?;
    Ok(marks.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_realm_is_what_reconcile_creates_without_keys() {
        let seed = default_realm().unwrap();
        assert_eq!(seed.name, crate::defaults::REALM);
        let document: Value = serde_json::from_slice(&seed.document).unwrap();
        let spec = RealmSpec::render(&RealmVariables::default()).unwrap();
        assert_eq!(
            document,
            Value::Object(export::representation(&spec).unwrap())
        );
        assert!(document["components"].get(KEY_PROVIDER_TYPE).is_none());
        assert_eq!(default_realm().unwrap(), seed, "stable");
    }

    #[test]
    fn generated_providers_match_the_ones_keycloak_makes() {
        let names: Vec<String> = generated_key_providers()
            .iter()
            .map(|provider| provider["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "rsa-generated",
                "rsa-enc-generated",
                "hmac-generated-hs512",
                "aes-generated"
            ]
        );
    }
}
