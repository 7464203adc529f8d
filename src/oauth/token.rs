use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AuthorizationResponse, OAuthError};

/// A token endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token (a JWT for Keycloak).
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// `Bearer`.
    pub token_type: String,
    /// Refresh token, if issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Refresh token lifetime (0 for offline tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    /// Granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// ID token, if `openid` was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

async fn request_token(
    http: &reqwest::Client,
    token_endpoint: &str,
    form: &[(&str, &str)],
) -> Result<TokenResponse, OAuthError> {
    let response = http
        .post(token_endpoint)
        .form(form)
        .send()
        .await
        .map_err(OAuthError::http(token_endpoint))?;
    let response = OAuthError::check("token request", response).await?;
    response.json().await.map_err(|err| OAuthError::Unexpected {
        step: "token request",
        detail: err.to_string(),
    })
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    token_endpoint: &str,
    client_id: &str,
    client_secret: Option<&str>,
    redirect_uri: &str,
    authorization: &AuthorizationResponse,
) -> Result<TokenResponse, OAuthError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", authorization.code.as_str()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", authorization.pkce.verifier.as_str()),
    ];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret));
    }
    request_token(http, token_endpoint, &form).await
}

/// Gets tokens with the resource-owner password grant (for clients with direct access grants).
pub async fn password_grant(
    http: &reqwest::Client,
    token_endpoint: &str,
    client_id: &str,
    username: &str,
    password: &str,
    scope: &str,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client_id),
        ("username", username),
        ("password", password),
        ("scope", scope),
    ];
    form.extend(resource.map(|resource| ("resource", resource)));
    match request_token(http, token_endpoint, &form).await {
        // Keycloak answers 400 (401 before 26.6) `invalid_grant` for a wrong password.
        Err(OAuthError::Status {
            status: 400 | 401,
            body,
            ..
        }) if body.contains("Invalid user credentials") => Err(OAuthError::BadCredentials {
            username: username.to_owned(),
        }),
        other => other,
    }
}

/// The claims of a JWT, without checking its signature: for showing and inspecting tokens,
/// never for trusting them.
pub fn decode_claims(token: &str) -> Result<Value, OAuthError> {
    let invalid = |detail: String| OAuthError::Unexpected {
        step: "token decoding",
        detail,
    };
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("not a JWT (no payload part)".to_owned()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|err| invalid(err.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|err| invalid(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_jwt_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"u1","aud":["a","b"]}"#);
        let claims = decode_claims(&format!("h.{payload}.s")).unwrap();
        assert_eq!(claims["sub"], "u1");
        assert!(decode_claims("garbage").is_err());
    }
}
