use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use keycloak::types::{ClientRepresentation, UserRepresentation};
use keycloak::{KeycloakAdmin, KeycloakAdminToken, KeycloakError, KeycloakTokenSupplier};
use tokio::sync::Mutex;

use super::KeycloakApiError;

/// Renew the token this long before Keycloak says it expires (master tokens live 60 s).
const RENEW_MARGIN: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An authenticated Admin REST API session as the master realm's bootstrap admin.
pub struct AdminSession {
    base_url: String,
    http: reqwest::Client,
    token: Arc<RefreshingToken>,
    api: KeycloakAdmin<SharedToken>,
}

impl AdminSession {
    /// Logs in to the master realm at `base_url` (fails early on bad credentials).
    pub async fn connect(
        base_url: &str,
        username: &str,
        password: &str,
    ) -> Result<Self, KeycloakApiError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|source| KeycloakApiError::Unreachable {
                url: base_url.clone(),
                source,
            })?;
        let token = Arc::new(RefreshingToken {
            username: username.to_owned(),
            password: password.to_owned(),
            http: http.clone(),
            cached: Mutex::new(None),
        });
        token.current(&base_url).await?;
        let api = KeycloakAdmin::new(&base_url, SharedToken(token.clone()), http.clone());
        Ok(Self {
            base_url,
            http,
            token,
            api,
        })
    }

    /// The typed Admin API.
    pub fn api(&self) -> &KeycloakAdmin<SharedToken> {
        &self.api
    }

    /// The HTTP client the session uses (for calls the typed API lacks).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Keycloak's base URL as the session reaches it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A valid admin access token (renewed when about to expire).
    pub async fn bearer(&self) -> Result<String, KeycloakApiError> {
        self.token.current(&self.base_url).await
    }

    /// The user named exactly `username` in `realm`, if there is one.
    pub async fn find_user(
        &self,
        realm: &str,
        username: &str,
    ) -> Result<Option<UserRepresentation>, KeycloakApiError> {
        let found = self
            .api
            .realm_users_get(
                realm,
                Some(false),
                None,
                None,
                None,
                None,
                None,
                Some(true),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some(username.to_owned()),
            )
            .await
            .map_err(|err| KeycloakApiError::from_crate(format!("look up user {username}"), err))?;
        Ok(found
            .into_iter()
            .find(|user| user.username.as_deref() == Some(username)))
    }

    /// The client whose client id is exactly `client_id` in `realm`, if there is one (Keycloak's
    /// `clientId` filter also matches by substring).
    pub async fn find_client(
        &self,
        realm: &str,
        client_id: &str,
    ) -> Result<Option<ClientRepresentation>, KeycloakApiError> {
        let found = self
            .api
            .realm_clients_get(
                realm,
                Some(client_id.to_owned()),
                None,
                None,
                None,
                None,
                None,
            )
            .await
            .map_err(|err| {
                KeycloakApiError::from_crate(format!("look up client {client_id}"), err)
            })?;
        Ok(found
            .into_iter()
            .find(|client| client.client_id.as_deref() == Some(client_id)))
    }

    /// The Keycloak version the server reports about itself.
    pub async fn server_version(&self) -> Result<String, KeycloakApiError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct ServerInfo {
            system_info: SystemInfo,
        }
        #[derive(serde::Deserialize)]
        struct SystemInfo {
            version: String,
        }
        let operation = "read the server version";
        let unexpected = |source| KeycloakApiError::Unexpected {
            operation: operation.to_owned(),
            source,
        };
        let response = self
            .http
            .get(format!("{}/admin/serverinfo", self.base_url))
            .bearer_auth(self.bearer().await?)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unexpected)?;
        let info: ServerInfo = response.json().await.map_err(unexpected)?;
        Ok(info.system_info.version)
    }
}

/// Master-realm admin token, re-acquired shortly before it expires. The `keycloak` crate's own
/// token never refreshes, and a provisioning run can outlive a 60-second token.
struct RefreshingToken {
    username: String,
    password: String,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl RefreshingToken {
    async fn current(&self, base_url: &str) -> Result<String, KeycloakApiError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let acquired =
            KeycloakAdminToken::acquire(base_url, &self.username, &self.password, &self.http)
                .await
                .map_err(|err| match err {
                    KeycloakError::ReqwestFailure(source) => KeycloakApiError::Unreachable {
                        url: base_url.to_owned(),
                        source,
                    },
                    KeycloakError::HttpFailure {
                        status: 400 | 401, ..
                    } => KeycloakApiError::AdminCredentialsRejected {
                        url: base_url.to_owned(),
                        username: self.username.clone(),
                    },
                    other => KeycloakApiError::from_crate("log in as the admin", other),
                })?;
        let lifetime = Duration::from_secs(u64::try_from(acquired.expires_in()).unwrap_or(0));
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_MARGIN);
        let token = acquired.access_token().to_owned();
        *cached = Some((token.clone(), renew_at));
        Ok(token)
    }
}

/// The token supplier handed to the `keycloak` crate; shares the session's refreshing token.
pub struct SharedToken(Arc<RefreshingToken>);

#[async_trait]
impl KeycloakTokenSupplier for SharedToken {
    async fn get(&self, url: &str) -> Result<String, KeycloakError> {
        self.0
            .current(url)
            .await
            .map_err(|err| KeycloakError::HttpFailure {
                status: 401,
                body: None,
                text: err.to_string(),
            })
    }
}
