//! A headless OAuth client for Keycloak, doing what an MCP client does: anonymous dynamic client
//! registration, an authorization-code login with PKCE through Keycloak's own login form (no
//! browser), and the token exchange. Used by `kcdev token`, `kcdev doctor` and the tests.

mod error;
mod login;
mod pkce;
mod registration;
mod token;

pub use error::OAuthError;
pub use login::{AuthorizationRequest, AuthorizationResponse, authorize, login_at};
pub use pkce::Pkce;
pub use registration::{RegisteredClient, delete_registration, register};
pub use token::{TokenResponse, decode_claims, exchange_code, password_grant};

/// An HTTP client suited to driving OAuth by hand: redirects are read, never followed.
pub fn http_client(trust: &crate::trust::Trust) -> Result<reqwest::Client, OAuthError> {
    trust
        .client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|source| OAuthError::Http {
            url: String::new(),
            source,
        })
}
