//! The OAuth 2.1 resource-server side of the MCP authorization spec: every request to `/mcp`
//! must carry a valid Keycloak access token for this resource; otherwise the answer is a 401 (or
//! 403 for a missing scope) whose `WWW-Authenticate` header tells the client where to log in.

pub mod claims;
pub mod jwks;
pub mod metadata;
pub mod session;
pub mod verify;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub use claims::Claims;
use jwks::JwksCache;
use session::SessionBindings;
use verify::TokenVerifier;

use crate::config::Config;

const SESSION_HEADER: &str = "mcp-session-id";

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token: the client has not logged in yet.
    #[error("no bearer token")]
    MissingToken,
    /// The token is not acceptable (expired, wrong audience, bad signature, ...).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A valid token without a scope this server requires.
    #[error("insufficient scope: {0}")]
    InsufficientScope(String),
}

/// Why the server cannot start checking tokens.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The issuer's discovery document could not be read.
    #[error("cannot read {url}")]
    Discovery {
        /// The discovery URL.
        url: String,
        /// The HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// The discovery document names another issuer: tokens would never validate.
    #[error("{url} says the issuer is {found:?}, but KEYCLOAK_REALM_URL is {expected:?}")]
    IssuerMismatch {
        /// The discovery URL.
        url: String,
        /// Issuer in the document.
        found: String,
        /// Issuer configured.
        expected: String,
    },
    /// The key set could not be loaded.
    #[error(transparent)]
    Jwks(#[from] jwks::JwksError),
}

/// What the auth layer needs: the verifier, session bindings and the challenge to send.
pub struct AuthState {
    verifier: TokenVerifier,
    sessions: SessionBindings,
    challenge_base: String,
}

impl AuthState {
    /// Reads the issuer's discovery document (checking that it names the same issuer) and loads
    /// its signing keys. `KEYCLOAK_JWKS_URI` skips discovery, e.g. when Keycloak is reached
    /// through another host name than the one in its tokens.
    pub async fn discover(config: &Config) -> Result<Self, StartupError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|source| StartupError::Discovery {
                url: config.issuer.clone(),
                source,
            })?;
        let jwks_uri = match &config.jwks_uri {
            Some(uri) => uri.clone(),
            None => discover_jwks_uri(&http, &config.issuer).await?,
        };
        let jwks = JwksCache::load(&jwks_uri, http).await?;
        Ok(Self::new(config, jwks))
    }

    /// An auth state over an already loaded key set.
    pub fn new(config: &Config, jwks: JwksCache) -> Self {
        Self {
            verifier: TokenVerifier::new(config, jwks),
            sessions: SessionBindings::default(),
            challenge_base: format!(
                "resource_metadata=\"{}\", scope=\"{}\"",
                config.resource_metadata_url(),
                config.required_scopes.join(" ")
            ),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// The caller's claims, from the request's bearer token.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let token = bearer_token(headers).ok_or(AuthError::MissingToken)?;
        self.verifier.verify(token).await
    }

    /// The refusal for `error`: status, `WWW-Authenticate` challenge (RFC 6750 and RFC 9728) and
    /// a JSON body.
    pub fn refusal(&self, error: &AuthError) -> Response {
        let (status, code, description) = match error {
            AuthError::MissingToken => (StatusCode::UNAUTHORIZED, None, None),
            AuthError::InvalidToken(why) => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                Some(why.as_str()),
            ),
            AuthError::InsufficientScope(why) => (
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                Some(why.as_str()),
            ),
        };
        let challenge = match (code, description) {
            (Some(code), Some(description)) => format!(
                "Bearer error=\"{code}\", error_description=\"{}\", {}",
                description.replace(['"', '\\'], "'"),
                self.challenge_base
            ),
            _ => format!("Bearer {}", self.challenge_base),
        };
        let body = axum::Json(serde_json::json!({
            "error": code.unwrap_or("unauthorized"),
            "error_description": description.unwrap_or("this MCP server needs an OAuth access token"),
        }));
        let mut response = (status, body).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

async fn discover_jwks_uri(http: &reqwest::Client, issuer: &str) -> Result<String, StartupError> {
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let url = format!("{issuer}/.well-known/openid-configuration");
    let failed = |source| StartupError::Discovery {
        url: url.clone(),
        source,
    };
    let discovery: Discovery = http
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    if discovery.issuer != issuer {
        return Err(StartupError::IssuerMismatch {
            url,
            found: discovery.issuer,
            expected: issuer.to_owned(),
        });
    }
    Ok(discovery.jwks_uri)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The axum middleware in front of `/mcp`: authenticates every request (also within a session),
/// keeps sessions with the user who opened them, and hands the claims to the tools.
pub async fn require_bearer(
    State(auth): State<Arc<AuthState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let claims = match auth.authenticate(request.headers()).await {
        Ok(claims) => claims,
        Err(error) => return auth.refusal(&error),
    };
    let principal = claims.principal().to_owned();
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(session) = &session
        && !auth.sessions.permits(session, &principal)
    {
        // The same answer as for an unknown session: no hint that it exists.
        return (StatusCode::NOT_FOUND, "Session not found").into_response();
    }
    let closing = request.method() == Method::DELETE;
    request.extensions_mut().insert(claims);
    let response = next.run(request).await;
    // A response names a session it opened; requests inside a session are already bound.
    if session.is_none()
        && let Some(opened) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
    {
        auth.sessions.bind(opened, &principal);
    }
    if let (true, Some(session)) = (closing && response.status().is_success(), session) {
        auth.sessions.forget(&session);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_tokens_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
    }
}
