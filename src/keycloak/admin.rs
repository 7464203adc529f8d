use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use keycloak::types::{ClientRepresentation, UserRepresentation};
use keycloak::{KeycloakAdmin, KeycloakError, KeycloakTokenSupplier};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::KeycloakApiError;

/// Renew the token this long before Keycloak says it expires (master tokens live 60 s).
const RENEW_MARGIN: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How kcdev logs in to the master realm as an administrator.
#[derive(Clone, PartialEq, Eq)]
pub enum AdminLogin {
    /// A master-realm user (the bootstrap admin of a container kcdev runs), through `admin-cli`.
    User { username: String, password: String },
    /// A confidential master-realm client whose service account holds the admin role: the
    /// credential a team server or a CI system hands out.
    ServiceAccount {
        client_id: String,
        client_secret: String,
    },
}

impl AdminLogin {
    /// The login the environment names: `KCDEV_ADMIN_CLIENT_ID` and `KCDEV_ADMIN_CLIENT_SECRET`,
    /// else `KCDEV_ADMIN_USERNAME` and `KCDEV_ADMIN_PASSWORD`; `None` when neither pair is
    /// complete. (`var` reads a variable: the process environment, or a test's.)
    pub fn from_environment(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let pair = |a: &str, b: &str| Some((var(a).filter(|v| !v.is_empty())?, var(b)?));
        if let Some((client_id, client_secret)) =
            pair("KCDEV_ADMIN_CLIENT_ID", "KCDEV_ADMIN_CLIENT_SECRET")
        {
            return Some(Self::ServiceAccount {
                client_id,
                client_secret,
            });
        }
        pair("KCDEV_ADMIN_USERNAME", "KCDEV_ADMIN_PASSWORD")
            .map(|(username, password)| Self::User { username, password })
    }

    /// Who logs in, for messages (never the secret).
    pub fn principal(&self) -> String {
        match self {
            Self::User { username, .. } => format!("user {username:?}"),
            Self::ServiceAccount { client_id, .. } => format!("client {client_id:?}"),
        }
    }

    fn form(&self) -> Vec<(&'static str, &str)> {
        match self {
            Self::User { username, password } => vec![
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", username),
                ("password", password),
            ],
            Self::ServiceAccount {
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
            ],
        }
    }
}

// Secrets stay out of logs and panics.
impl std::fmt::Debug for AdminLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.principal())
    }
}

/// An authenticated Admin REST API session as a master-realm administrator.
pub struct AdminSession {
    base_url: String,
    http: reqwest::Client,
    token: Arc<RefreshingToken>,
    api: KeycloakAdmin<SharedToken>,
}

impl AdminSession {
    /// Logs in to the master realm at `base_url` (fails early on bad credentials). `http` says
    /// which certificate authorities to trust.
    pub async fn connect(
        base_url: &str,
        login: &AdminLogin,
        http: reqwest::ClientBuilder,
    ) -> Result<Self, KeycloakApiError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let http = http.timeout(REQUEST_TIMEOUT).build().map_err(|source| {
            KeycloakApiError::Unreachable {
                url: base_url.clone(),
                source,
            }
        })?;
        let token = Arc::new(RefreshingToken {
            login: login.clone(),
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
            .users(realm, Some(username.to_owned()), None)
            .await
            .map_err(|err| KeycloakApiError::from_crate(format!("look up user {username}"), err))?;
        Ok(found
            .into_iter()
            .find(|user| user.username.as_deref() == Some(username)))
    }

    /// The users of `realm` whose attribute `key` is `value`.
    pub async fn users_with_attribute(
        &self,
        realm: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<UserRepresentation>, KeycloakApiError> {
        self.users(realm, None, Some(format!("{key}:{value}")))
            .await
            .map_err(|err| {
                KeycloakApiError::from_crate(format!("list the users whose {key} is {value}"), err)
            })
    }

    /// Full user representations, by exact user name or by attribute query (`q`).
    async fn users(
        &self,
        realm: &str,
        username: Option<String>,
        query: Option<String>,
    ) -> Result<Vec<UserRepresentation>, keycloak::KeycloakError> {
        self.api
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
                Some(10_000),
                query,
                None,
                username,
            )
            .await
            .map(|users| users.into_iter().collect())
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
    login: AdminLogin,
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
        let acquired = self.acquire(base_url).await?;
        let lifetime = Duration::from_secs(acquired.expires_in);
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_MARGIN);
        *cached = Some((acquired.access_token.clone(), renew_at));
        Ok(acquired.access_token)
    }

    async fn acquire(&self, base_url: &str) -> Result<AdminToken, KeycloakApiError> {
        let unreachable = |source| KeycloakApiError::Unreachable {
            url: base_url.to_owned(),
            source,
        };
        let response = self
            .http
            .post(format!(
                "{base_url}/realms/master/protocol/openid-connect/token"
            ))
            .form(&self.login.form())
            .send()
            .await
            .map_err(unreachable)?;
        match response.status().as_u16() {
            400 | 401 => Err(KeycloakApiError::AdminCredentialsRejected {
                url: base_url.to_owned(),
                principal: self.login.principal(),
            }),
            _ => response
                .error_for_status()
                .map_err(|source| KeycloakApiError::Unexpected {
                    operation: "log in as the admin".to_owned(),
                    source,
                })?
                .json()
                .await
                .map_err(|source| KeycloakApiError::Unexpected {
                    operation: "log in as the admin".to_owned(),
                    source,
                }),
        }
    }
}

#[derive(Deserialize)]
struct AdminToken {
    access_token: String,
    expires_in: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_the_login_and_debug_output_hides_the_secret() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(AdminLogin::from_environment(env(&[])), None);
        assert_eq!(
            AdminLogin::from_environment(env(&[("KCDEV_ADMIN_USERNAME", "ops")])),
            None,
            "half a pair is no login"
        );
        let user = AdminLogin::from_environment(env(&[
            ("KCDEV_ADMIN_USERNAME", "ops"),
            ("KCDEV_ADMIN_PASSWORD", "hunter2"),
        ]))
        .unwrap();
        assert_eq!(format!("{user:?}"), "user \"ops\"");
        let client = AdminLogin::from_environment(env(&[
            ("KCDEV_ADMIN_USERNAME", "ops"),
            ("KCDEV_ADMIN_PASSWORD", "hunter2"),
            ("KCDEV_ADMIN_CLIENT_ID", "ci"),
            ("KCDEV_ADMIN_CLIENT_SECRET", "s3"),
        ]))
        .unwrap();
        assert!(matches!(client, AdminLogin::ServiceAccount { .. }));
        assert!(!format!("{client:?}").contains("s3"));
    }
}
