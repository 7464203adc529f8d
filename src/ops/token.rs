use serde::Serialize;
use serde_json::Value;

use super::OpsError;
use super::settings::{InstanceContext, ResolvedSettings};
use crate::oauth::{self, TokenResponse};
use crate::realm::{RealmSpec, resource_url_of};

/// kcdev's own public client in the realm (see `realm/realm.toml`).
pub const KCDEV_CLIENT_ID: &str = "kcdev";

/// What `kcdev token` was asked to do.
#[derive(Debug, Clone)]
pub struct TokenOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// Test user.
    pub user: String,
    /// Password (default: the test users' password).
    pub password: Option<String>,
    /// RFC 8707 resource: one of the instance's servers' resource URLs.
    pub resource: Option<String>,
    /// Scopes asked for on top of `openid` and the MCP scope (a step-up scope, say).
    pub extra_scopes: Vec<String>,
}

/// A test user's tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenReport {
    /// The user.
    pub user: String,
    /// The client that got the token.
    pub client_id: String,
    /// The token response.
    pub token: TokenResponse,
    /// The access token's claims (decoded, not verified).
    pub claims: Value,
}

/// Gets an access token for a test user through kcdev's own client (password grant), with the
/// MCP scope, so it carries what an MCP server checks; for one server's resource when asked
/// (with resource indicators on, its `aud` is then that resource alone).
pub async fn token(options: TokenOptions) -> Result<TokenReport, OpsError> {
    let state = options.context.require_up().await?;
    let settings = ResolvedSettings::from_state(&state);
    let spec = RealmSpec::render(&settings.realm_variables())?;
    // A user the realm spec has (a test user, or one kcdev.toml declares) logs in with its own
    // password; another with the test users' one, unless given.
    let password = options
        .password
        .or_else(|| {
            spec.users
                .iter()
                .find(|user| user.username() == options.user)
                .map(|user| user.password.clone())
        })
        .unwrap_or(state.realm.user_password);
    let variables = settings.realm_variables();
    let resources: Vec<String> = variables.server_urls().map(resource_url_of).collect();
    if let Some(resource) = &options.resource
        && !resources.contains(resource)
    {
        return Err(OpsError::UnknownResource {
            resource: resource.clone(),
            known: resources,
        });
    }
    let http = oauth::http_client(&settings.trust()?)?;
    let mut scope = format!("openid {}", spec.mcp_scope);
    for extra in &options.extra_scopes {
        scope.push(' ');
        scope.push_str(extra);
    }
    // The token endpoint is reached on loopback; the issuer stays the public one.
    let token_endpoint = format!(
        "{}/realms/{}/protocol/openid-connect/token",
        settings.admin_url(),
        settings.realm.name
    );
    let token = oauth::password_grant(
        &http,
        &token_endpoint,
        KCDEV_CLIENT_ID,
        &options.user,
        &password,
        &scope,
        options.resource.as_deref(),
    )
    .await?;
    let claims = oauth::decode_claims(&token.access_token)?;
    Ok(TokenReport {
        user: options.user,
        client_id: KCDEV_CLIENT_ID.to_owned(),
        token,
        claims,
    })
}
