//! The OAuth 2.1 resource-server side of the MCP authorization spec: every request to `/mcp`
//! must carry a valid Keycloak access token for this resource; otherwise the answer is a 401 (or
//! 403 for a missing scope) whose `WWW-Authenticate` header tells the client where to log in.

pub mod claims;
pub mod jwks;
pub mod metadata;
pub mod scopes;
pub mod session;
pub mod verify;

use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use claims::Claims;
use jwks::JwksCache;
use scopes::ToolScopes;
use session::SessionBindings;
use verify::{Rejection, TokenVerifier, quoted};

use crate::config::Config;

const SESSION_HEADER: &str = "mcp-session-id";

/// The largest request body the auth layer reads to find the called tool.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Why a request was refused. The text is the reason in the log line (see `refuse`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token: the client has not logged in yet.
    #[error("no bearer token")]
    MissingToken,
    /// The token is not acceptable (expired, wrong audience, bad signature, ...).
    #[error("{reason}")]
    InvalidToken {
        /// Why.
        reason: Rejection,
        /// Whose token it says it is: unverified.
        caller: Caller,
    },
    /// A valid token without a scope the request needs.
    #[error("missing scope {}{}", missing.join(" "), for_tool(tool.as_deref()))]
    InsufficientScope {
        /// The scopes the token lacks.
        missing: Vec<String>,
        /// The called tool, when the scopes are the ones it declared; otherwise they are the
        /// required ones.
        tool: Option<String>,
        /// Whose token it is.
        caller: Caller,
    },
}

fn for_tool(tool: Option<&str>) -> String {
    tool.map(|tool| format!(" for tool {tool}"))
        .unwrap_or_default()
}

/// Who a refused token was issued to, for the log line: the client (`azp`) and the user
/// (`preferred_username`), and whether the token was verified (otherwise it may lie).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    client: Option<String>,
    user: Option<String>,
    verified: bool,
}

impl Caller {
    /// The caller a verified token names.
    pub fn verified(claims: &Claims) -> Self {
        Self {
            client: claims.azp.clone(),
            user: claims.preferred_username.clone(),
            verified: true,
        }
    }

    /// The caller claims nobody checked name.
    pub fn unverified(claims: &Map<String, Value>) -> Self {
        let text = |claim: &str| claims.get(claim).and_then(Value::as_str).map(str::to_owned);
        Self {
            client: text("azp"),
            user: text("preferred_username"),
            verified: false,
        }
    }
}

/// `client "...", user "..."`, then `(unverified)` unless the token was verified; empty when
/// the token named neither.
impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = [("client", &self.client), ("user", &self.user)]
            .into_iter()
            .filter_map(|(what, name)| Some(format!("{what} {}", quoted(name.as_deref()?))))
            .collect();
        f.write_str(&names.join(", "))?;
        if !names.is_empty() && !self.verified {
            f.write_str(" (unverified)")?;
        }
        Ok(())
    }
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

/// What the auth layer needs: the verifier, the tools' scopes, session bindings and what the
/// challenges name.
pub struct AuthState {
    verifier: TokenVerifier,
    tool_scopes: ToolScopes,
    sessions: SessionBindings,
    required_scopes: Vec<String>,
    optional_scopes: Vec<String>,
    resource_metadata_url: String,
}

impl AuthState {
    /// Reads the issuer's discovery document (checking that it names the same issuer) and loads
    /// its signing keys. `KEYCLOAK_JWKS_URI` skips discovery, e.g. when Keycloak is reached
    /// through another host name than the one in its tokens.
    pub async fn discover(config: &Config, tool_scopes: ToolScopes) -> Result<Self, StartupError> {
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
        let jwks = JwksCache::load(&jwks_uri, http, config.jwks_refresh).await?;
        Ok(Self::new(config, jwks, tool_scopes))
    }

    /// An auth state over an already loaded key set, for tools that declared `tool_scopes`.
    pub fn new(config: &Config, jwks: JwksCache, tool_scopes: ToolScopes) -> Self {
        Self {
            verifier: TokenVerifier::new(config, jwks),
            tool_scopes,
            sessions: SessionBindings::default(),
            required_scopes: config.required_scopes.clone(),
            optional_scopes: config.optional_scopes.clone(),
            resource_metadata_url: config.resource_metadata_url(),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// Every scope a client may need here: the required ones, the optional ones, then those
    /// tools declare (Protected Resource Metadata's `scopes_supported`).
    pub fn scopes_supported(&self) -> Vec<String> {
        let offered = with_required(
            &self.required_scopes,
            self.optional_scopes.iter().map(String::as_str),
        );
        with_required(&offered, self.tool_scopes.all())
    }

    /// Tools' scopes the realm is not known to offer this server (neither in
    /// `MCP_REQUIRED_SCOPES` nor in `MCP_OPTIONAL_SCOPES`), as (tool, scope): a client may
    /// never get them.
    pub fn unoffered_tool_scopes(&self) -> Vec<(&str, &str)> {
        self.tool_scopes
            .declarations()
            .filter(|(_, scope)| {
                !self
                    .required_scopes
                    .iter()
                    .chain(&self.optional_scopes)
                    .any(|offered| offered == scope)
            })
            .collect()
    }

    /// A `tools/call` needs the scopes its tool declared. The body of a POST is read (and put
    /// back for rmcp) only when some tool declares any.
    async fn check_called_tool(
        &self,
        request: Request,
        claims: &Claims,
    ) -> Result<Request, Response> {
        if self.tool_scopes.is_empty() || request.method() != Method::POST {
            return Ok(request);
        }
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
            })?;
        if let Some(tool) = scopes::called_tool(&bytes) {
            self.check_tool_scopes(&tool, claims)
                .map_err(|error| self.refuse(&error, &parts.method, &parts.uri))?;
        }
        Ok(Request::from_parts(parts, Body::from(bytes)))
    }

    /// Refuses a call of `tool` by a token without a scope the tool declared.
    fn check_tool_scopes(&self, tool: &str, claims: &Claims) -> Result<(), AuthError> {
        let declared = self.tool_scopes.of(tool);
        let missing = claims.missing_scopes(declared);
        if missing.is_empty() {
            return Ok(());
        }
        Err(AuthError::InsufficientScope {
            missing,
            tool: Some(tool.to_owned()),
            caller: Caller::verified(claims),
        })
    }

    /// The caller's claims, from the request's bearer token.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Claims>, AuthError> {
        let token = bearer_token(headers).ok_or(AuthError::MissingToken)?;
        self.verifier.verify(token).await
    }

    /// Refuses a `method` request to `uri` for `error`, and logs why: one line,
    /// `token refused: <reason>; <method> <path>[; client "...", user "..."[ (unverified)]]`.
    /// Never the token: its claims are enough to tell whose it is.
    pub fn refuse(&self, error: &AuthError, method: &Method, uri: &Uri) -> Response {
        let caller = match error {
            AuthError::MissingToken => String::new(),
            AuthError::InvalidToken { caller, .. }
            | AuthError::InsufficientScope { caller, .. } => caller.to_string(),
        };
        let separator = if caller.is_empty() { "" } else { "; " };
        let path = uri.path();
        // A client's first request carries no token by design (the answer tells it where to log
        // in): worth a line, not a warning.
        if *error == AuthError::MissingToken {
            tracing::info!("token refused: {error}; {method} {path}");
        } else {
            tracing::warn!("token refused: {error}; {method} {path}{separator}{caller}");
        }
        self.refusal(error)
    }

    /// The refusal for `error`: status, `WWW-Authenticate` challenge (RFC 6750 and RFC 9728) and
    /// a JSON body.
    pub fn refusal(&self, error: &AuthError) -> Response {
        let (status, code, description, scopes) = match error {
            AuthError::MissingToken => (
                StatusCode::UNAUTHORIZED,
                None,
                None,
                self.required_scopes.clone(),
            ),
            AuthError::InvalidToken { reason, .. } => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                Some(reason.to_string()),
                self.required_scopes.clone(),
            ),
            // The tool is the log's business: the challenge says what to ask for.
            AuthError::InsufficientScope { missing, tool, .. } => (
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                Some(format!("missing scope {}", missing.join(" "))),
                // Every scope the call needs: what the client should ask for.
                match tool {
                    Some(tool) => with_required(
                        &self.required_scopes,
                        self.tool_scopes.of(tool).iter().map(String::as_str),
                    ),
                    None => self.required_scopes.clone(),
                },
            ),
        };
        let mut challenge = String::from("Bearer ");
        if let (Some(code), Some(description)) = (code, &description) {
            // RFC 6750 allows printable ASCII but `"` and `\` there; what a token held may be
            // anything.
            let description: String = description
                .chars()
                .map(|c| match c {
                    '"' | '\\' => '\'',
                    ' '..='~' => c,
                    _ => '?',
                })
                .collect();
            challenge.push_str(&format!(
                "error=\"{code}\", error_description=\"{description}\", "
            ));
        }
        challenge.push_str(&format!(
            "scope=\"{}\", resource_metadata=\"{}\"",
            scopes.join(" "),
            self.resource_metadata_url
        ));
        let body = axum::Json(serde_json::json!({
            "error": code.unwrap_or("unauthorized"),
            "error_description": description.as_deref().unwrap_or("this MCP server needs an OAuth access token"),
        }));
        let mut response = (status, body).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The required scopes, then each of `more` not among them.
fn with_required<'a>(required: &[String], more: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut scopes = required.to_vec();
    for scope in more {
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
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
/// checks the scopes of the tool a request calls, keeps sessions with the user who opened them,
/// and hands the claims to the tools.
pub async fn require_bearer(
    State(auth): State<Arc<AuthState>>,
    request: Request,
    next: Next,
) -> Response {
    let claims = match auth.authenticate(request.headers()).await {
        Ok(claims) => claims,
        Err(error) => return auth.refuse(&error, request.method(), request.uri()),
    };
    let mut request = match auth.check_called_tool(request, &claims).await {
        Ok(request) => request,
        Err(refusal) => return refusal,
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
