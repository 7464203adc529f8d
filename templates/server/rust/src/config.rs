//! Configuration from environment variables. The defaults are the values of the kcdev realm this
//! project was generated for, so `cargo run` works next to `kcdev up` without any setup.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

use crate::auth::jwks::RefreshPolicy;

/// Realm URL (the token issuer) of the kcdev realm this project was generated for.
pub const DEFAULT_REALM_URL: &str = "__KCDEV_REALM_URL__";
/// Public base URL of this server.
pub const DEFAULT_SERVER_URL: &str = "__KCDEV_SERVER_URL__";
/// Scopes every request needs: the realm default scopes this server lists.
pub const DEFAULT_REQUIRED_SCOPES: &str = "__KCDEV_SCOPE__";
/// Scopes tools may declare (step-up): the realm optional scopes this server lists.
pub const DEFAULT_OPTIONAL_SCOPES: &str = "__KCDEV_OPTIONAL_SCOPES__";
/// Path the MCP endpoint is served at; the resource URL is the server URL plus this path.
pub const MCP_PATH: &str = "/mcp";
/// Browser origins allowed by CORS by default: MCP Inspector's web page.
pub const DEFAULT_CORS_ORIGINS: &str = "http://localhost:6274,http://127.0.0.1:6274";

/// Everything the server needs to know, resolved and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Token issuer: the Keycloak realm URL (`KEYCLOAK_REALM_URL`), without trailing slash.
    pub issuer: String,
    /// JWKS URL override (`KEYCLOAK_JWKS_URI`); by default it comes from the issuer's discovery.
    pub jwks_uri: Option<String>,
    /// Public base URL of this server (`MCP_SERVER_URL`).
    pub server_url: String,
    /// The resource URL: what clients connect to, what PRM names, what tokens' `aud` must hold.
    pub resource: String,
    /// Address to listen on (`MCP_BIND`); by default loopback on the server URL's port.
    pub bind: SocketAddr,
    /// Accepted audiences (`MCP_AUDIENCE`, comma-separated); by default the resource URL.
    pub audiences: Vec<String>,
    /// Scopes every request's token must carry (`MCP_REQUIRED_SCOPES`, space or comma separated).
    pub required_scopes: Vec<String>,
    /// Scopes the realm offers on request, for tools that declare them (`MCP_OPTIONAL_SCOPES`):
    /// advertised in the metadata so that clients register for them.
    pub optional_scopes: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf` (`MCP_TOKEN_LEEWAY_SECONDS`).
    pub leeway: Duration,
    /// Browser origins allowed by CORS (`MCP_CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// When the realm's key set is downloaded again (`MCP_JWKS_MAX_AGE_SECONDS`,
    /// `MCP_JWKS_MIN_REFRESH_SECONDS`).
    pub jwks_refresh: RefreshPolicy,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {variable}={value:?}: {problem}")]
pub struct ConfigError {
    variable: &'static str,
    value: String,
    problem: String,
}

fn list(value: &str) -> Vec<String> {
    value
        .split([',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str, default: &str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let invalid = |variable: &'static str, value: &str, problem: String| ConfigError {
            variable,
            value: value.to_owned(),
            problem,
        };

        let issuer = get("KEYCLOAK_REALM_URL", DEFAULT_REALM_URL)
            .trim_end_matches('/')
            .to_owned();
        Url::parse(&issuer)
            .map_err(|err| invalid("KEYCLOAK_REALM_URL", &issuer, err.to_string()))?;

        let server_url = get("MCP_SERVER_URL", DEFAULT_SERVER_URL)
            .trim_end_matches('/')
            .to_owned();
        let parsed = Url::parse(&server_url)
            .map_err(|err| invalid("MCP_SERVER_URL", &server_url, err.to_string()))?;
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| invalid("MCP_SERVER_URL", &server_url, "no port".to_owned()))?;
        let resource = format!("{server_url}{MCP_PATH}");

        let bind_text = get("MCP_BIND", &format!("127.0.0.1:{port}"));
        let bind = bind_text.parse().map_err(|_| {
            invalid(
                "MCP_BIND",
                &bind_text,
                "expected host:port, e.g. 127.0.0.1:8000".to_owned(),
            )
        })?;

        let audiences = lookup("MCP_AUDIENCE")
            .map(|v| list(&v))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec![resource.clone()]);
        let required_scopes = list(&get("MCP_REQUIRED_SCOPES", DEFAULT_REQUIRED_SCOPES));
        let optional_scopes = list(&get("MCP_OPTIONAL_SCOPES", DEFAULT_OPTIONAL_SCOPES));

        let seconds = |variable: &'static str, default: Duration| {
            let text = get(variable, &default.as_secs().to_string());
            text.parse::<u64>().map(Duration::from_secs).map_err(|_| {
                invalid(
                    variable,
                    &text,
                    "expected a whole number of seconds".to_owned(),
                )
            })
        };
        let leeway = seconds("MCP_TOKEN_LEEWAY_SECONDS", Duration::from_secs(30))?;
        let defaults = RefreshPolicy::default();
        let jwks_refresh = RefreshPolicy {
            max_age: seconds("MCP_JWKS_MAX_AGE_SECONDS", defaults.max_age)?,
            min_interval: seconds("MCP_JWKS_MIN_REFRESH_SECONDS", defaults.min_interval)?,
        };

        Ok(Self {
            issuer,
            jwks_uri: lookup("KEYCLOAK_JWKS_URI").filter(|v| !v.is_empty()),
            server_url,
            resource,
            bind,
            audiences,
            required_scopes,
            optional_scopes,
            leeway,
            cors_origins: list(&get("MCP_CORS_ORIGINS", DEFAULT_CORS_ORIGINS)),
            jwks_refresh,
        })
    }

    /// URL of the Protected Resource Metadata document for the resource (RFC 9728: the
    /// well-known suffix goes between host and path).
    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource{MCP_PATH}",
            self.server_url
        )
    }

    /// Host names the MCP endpoint answers to (DNS-rebinding protection): loopback and the
    /// server URL's host.
    pub fn allowed_hosts(&self) -> Vec<String> {
        let mut hosts = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        if let Some(host) = Url::parse(&self.server_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn derives_resource_bind_and_audience_from_the_server_url() {
        let config = config(&[
            ("MCP_SERVER_URL", "http://localhost:9100/"),
            ("KEYCLOAK_REALM_URL", "http://localhost:8080/realms/r/"),
        ])
        .unwrap();
        assert_eq!(config.resource, "http://localhost:9100/mcp");
        assert_eq!(config.issuer, "http://localhost:8080/realms/r");
        assert_eq!(config.bind.to_string(), "127.0.0.1:9100");
        assert_eq!(config.audiences, ["http://localhost:9100/mcp"]);
        assert_eq!(
            config.resource_metadata_url(),
            "http://localhost:9100/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn lists_accept_commas_and_spaces() {
        let config = config(&[("MCP_REQUIRED_SCOPES", "a b,c"), ("MCP_AUDIENCE", "x, y")]).unwrap();
        assert_eq!(config.required_scopes, ["a", "b", "c"]);
        assert_eq!(config.audiences, ["x", "y"]);
    }

    /// Behind a balancer the public name reaches the server: the DNS-rebinding protection
    /// allows the host of `MCP_SERVER_URL` besides loopback.
    #[test]
    fn the_public_host_name_is_allowed() {
        let config = config(&[("MCP_SERVER_URL", "https://mcp.example.com")]).unwrap();
        assert!(
            config
                .allowed_hosts()
                .contains(&"mcp.example.com".to_owned())
        );
        assert_eq!(config.resource, "https://mcp.example.com/mcp");
    }

    #[test]
    fn names_the_bad_variable() {
        let err = config(&[("MCP_BIND", "nowhere")]).unwrap_err();
        assert!(err.to_string().contains("MCP_BIND"), "{err}");
        assert!(config(&[("MCP_TOKEN_LEEWAY_SECONDS", "soon")]).is_err());
        let err = config(&[("MCP_JWKS_MAX_AGE_SECONDS", "-1")]).unwrap_err();
        assert!(
            err.to_string().contains("MCP_JWKS_MAX_AGE_SECONDS"),
            "{err}"
        );
    }
}
