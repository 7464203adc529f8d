//! Talking to a running Keycloak: an Admin REST API session (through the `keycloak` crate) whose
//! master-realm token is refreshed before it expires, and the realm URLs every other part of kcdev
//! prints or checks. Takes a base URL, never a container.

mod admin;
mod error;
mod keys;
mod urls;

pub use admin::{AdminLogin, AdminSession};
pub use error::KeycloakApiError;
pub use keys::{KeyGenerationError, PreparedKeys, SeededKeys};
pub use urls::RealmUrls;
