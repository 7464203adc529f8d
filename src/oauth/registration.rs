use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OAuthError;

/// A client registered through RFC 7591 dynamic registration, read the way MCP SDK clients read
/// it: the fields they require must be present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClient {
    /// Server-minted client id.
    pub client_id: String,
    /// Secret, for confidential clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// How the client authenticates at the token endpoint (`none` for public clients).
    pub token_endpoint_auth_method: String,
    /// Response types the client may use.
    pub response_types: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes the client was registered with (Keycloak: its optional scopes).
    #[serde(default)]
    pub scope: Option<String>,
    /// Token for managing the registration (RFC 7592).
    #[serde(default)]
    pub registration_access_token: Option<String>,
    /// URL of the registration (RFC 7592).
    #[serde(default)]
    pub registration_client_uri: Option<String>,
}

/// Registers a client anonymously with `body` as the client metadata.
pub async fn register(
    http: &reqwest::Client,
    endpoint: &str,
    body: &Value,
) -> Result<RegisteredClient, OAuthError> {
    let response = http
        .post(endpoint)
        .json(body)
        .send()
        .await
        .map_err(OAuthError::http(endpoint))?;
    let response = OAuthError::check("client registration", response).await?;
    let text = response.text().await.map_err(OAuthError::http(endpoint))?;
    serde_json::from_str(&text).map_err(|err| OAuthError::Unexpected {
        step: "client registration",
        detail: format!("{err} in {text}"),
    })
}

/// Deletes a registration with its own registration access token (RFC 7592), as a client
/// cleaning up after itself would.
pub async fn delete_registration(
    http: &reqwest::Client,
    client: &RegisteredClient,
) -> Result<(), OAuthError> {
    let (Some(uri), Some(token)) = (
        &client.registration_client_uri,
        &client.registration_access_token,
    ) else {
        return Err(OAuthError::Unexpected {
            step: "registration deletion",
            detail: "the registration has no registration_client_uri or registration_access_token"
                .to_owned(),
        });
    };
    let response = http
        .delete(uri)
        .bearer_auth(token)
        .send()
        .await
        .map_err(OAuthError::http(uri))?;
    OAuthError::check("registration deletion", response).await?;
    Ok(())
}
