//! Knowing that a test user's password is still the one kcdev set, without logging in.
//!
//! Keycloak never returns passwords, and a login costs a deliberately slow password hash (about
//! a fifth of a second on a small machine: most of a no-op `up`). But every password set gives
//! the user's password credential a new creation time (a reset keeps the credential's id, so the
//! id alone would not tell). kcdev keeps, per user, a mark of the credential it set (id and
//! creation time) and the password it set it to; finding the same credential under the same mark
//! on the next run means the password is unchanged. Anything else (no mark, a credential set
//! since, another password in the spec) falls back to the login.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{RealmError, api_error};
use crate::keycloak::AdminSession;

/// User name to mark, as the instance's state keeps them.
pub type PasswordMarks = BTreeMap<String, String>;

/// The mark of `password` set as credential `credential_id`. Not the password: the state file
/// names the password anyway, but a mark is no use to anyone who reads it.
pub(crate) fn mark(credential_id: &str, password: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(credential_id.as_bytes());
    hash.update([0]);
    hash.update(password.as_bytes());
    format!("{:x}", hash.finalize())
}

/// What identifies the user's password credential as set at one moment: its id and creation
/// time, if it has one.
pub(crate) async fn password_credential(
    session: &AdminSession,
    realm: &str,
    username: &str,
    user_id: &str,
) -> Result<Option<String>, RealmError> {
    let credentials = session
        .api()
        .realm_users_with_user_id_credentials_get(realm, user_id)
        .await
        .map_err(|err| api_error(format!("read the credentials of user {username}"), err))?;
    Ok(credentials
        .into_iter()
        .find(|credential| credential.type_.as_deref() == Some("password"))
        .and_then(|credential| {
            Some(format!(
                "{}@{}",
                credential.id?,
                credential.created_date.unwrap_or_default()
            ))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_changes_with_the_credential_and_with_the_password() {
        let original = mark("credential-1@1700000000000", "password123");
        assert_eq!(original, mark("credential-1@1700000000000", "password123"));
        assert_ne!(original, mark("credential-1@1700000000001", "password123"));
        assert_ne!(original, mark("credential-1@1700000000000", "password124"));
        assert!(!original.contains("password123"));
    }
}
