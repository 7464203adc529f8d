//! RFC 9728 Protected Resource Metadata: how clients find out which authorization server to
//! use and which scope to ask for.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AuthState;
use crate::config::Config;

/// The metadata document, served at `/.well-known/oauth-protected-resource/mcp` and at the root
/// well-known path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// The resource URL, exactly as clients use it.
    pub resource: String,
    /// The realm's issuer.
    pub authorization_servers: Vec<String>,
    /// The scopes clients may request, and should register with: the required ones first,
    /// then those tools need (step-up).
    pub scopes_supported: Vec<String>,
    /// Tokens go in the `Authorization` header only.
    pub bearer_methods_supported: Vec<String>,
    /// A name for people.
    pub resource_name: String,
}

impl ProtectedResourceMetadata {
    /// The document for `config` and the scopes `auth` knows.
    pub fn new(config: &Config, auth: &AuthState) -> Self {
        Self {
            resource: config.resource.clone(),
            authorization_servers: vec![config.issuer.clone()],
            scopes_supported: auth.scopes_supported(),
            bearer_methods_supported: vec!["header".to_owned()],
            resource_name: env!("CARGO_PKG_NAME").to_owned(),
        }
    }
}

/// Serves the document.
pub async fn serve(
    State(document): State<Arc<ProtectedResourceMetadata>>,
) -> Json<ProtectedResourceMetadata> {
    Json(document.as_ref().clone())
}
