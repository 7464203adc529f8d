use serde::Serialize;

use super::OpsError;
use super::new_server::ValuesSource;
use super::settings::InstanceContext;
use crate::realm::{Assigned, DeclaredServer, RealmSpec, RealmVariables};
use crate::state::InstanceState;

/// The values a protected MCP server needs, under the names the generated server reads (and
/// `kcdev run` sets): what `kcdev env` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerEnv {
    /// Name and value, in the order they are printed.
    pub variables: Vec<(String, String)>,
    pub source: ValuesSource,
}

impl ServerEnv {
    /// The values of the instance's realm (or kcdev's defaults when `up` never ran) for one of
    /// its servers (the primary one when `server` is `None`).
    pub fn of(context: &InstanceContext, server: Option<&str>) -> Result<Self, OpsError> {
        let endpoints = context.endpoints()?;
        let state = context.load_state()?;
        let server_url = endpoints.server(server)?;
        let realm = ServerInRealm::of(context, state.as_ref(), &server_url)?;
        let jwks = format!("{}/protocol/openid-connect/certs", endpoints.issuer);
        let mut variables = vec![
            ("KEYCLOAK_REALM_URL", endpoints.issuer),
            ("KEYCLOAK_JWKS_URI", jwks),
            ("MCP_SERVER_URL", server_url),
            ("MCP_AUDIENCE", realm.audiences.join(",")),
            ("MCP_REQUIRED_SCOPES", realm.scopes.required.join(" ")),
        ];
        if !realm.scopes.optional.is_empty() {
            variables.push(("MCP_OPTIONAL_SCOPES", realm.scopes.optional.join(" ")));
        }
        // A Keycloak behind a private CA: the generated servers fetch its keys over HTTPS.
        // SSL_CERT_FILE is read by Python's httpx and by rustls' native roots (it replaces the
        // system store there); Node adds NODE_EXTRA_CA_CERTS to its own.
        if let Some(ca) = &endpoints.ca_cert {
            let ca = ca.display().to_string();
            variables.push(("SSL_CERT_FILE", ca.clone()));
            variables.push(("NODE_EXTRA_CA_CERTS", ca));
        }
        Ok(Self {
            variables: variables
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            source: if endpoints.from_instance {
                ValuesSource::Instance
            } else {
                ValuesSource::Defaults
            },
        })
    }

    /// `NAME=value` lines (with `export ` in front for a shell). A value with anything but URL
    /// characters is single-quoted, the one quoting that POSIX shells and dotenv readers agree on.
    pub fn lines(&self, export: bool) -> String {
        let prefix = if export { "export " } else { "" };
        self.variables
            .iter()
            .map(|(name, value)| format!("{prefix}{name}={}\n", quote(value)))
            .collect()
    }
}

/// What the realm `up` would apply now holds for one of its servers: the scopes and audiences
/// `kcdev env` prints and `kcdev new server` writes into a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInRealm {
    pub scopes: ServerScopes,
    pub resource_url: String,
    /// The resource URL, then the audiences the project file declares for the server.
    pub audiences: Vec<String>,
    /// The scope a generated project's example step-up tool declares: the server's first
    /// optional scope, else the realm's first (kcdev's own `mcp:admin`).
    pub step_up_scope: String,
}

impl ServerInRealm {
    pub fn of(
        context: &InstanceContext,
        state: Option<&InstanceState>,
        server_url: &str,
    ) -> Result<Self, OpsError> {
        let declared = context.settings_without_flags(state)?.realm.declared;
        let variables = RealmVariables {
            server_url: server_url.to_owned(),
            declared,
            ..RealmVariables::default()
        };
        // The scopes come from the realm spec, the one place that names them.
        let spec = RealmSpec::render(&variables)?;
        let server = variables.declared.server(server_url);
        let mut audiences = vec![variables.resource_url()];
        if let Some(server) = server {
            audiences.extend(server.audiences.iter().cloned());
        }
        let scopes = ServerScopes::of(&spec, server);
        let step_up_scope = scopes
            .optional
            .first()
            .map(String::as_str)
            .or_else(|| realm_optional_scopes(&spec).next())
            .unwrap_or(&spec.mcp_scope)
            .to_owned();
        Ok(Self {
            resource_url: variables.resource_url(),
            scopes,
            audiences,
            step_up_scope,
        })
    }
}

/// A server's scopes: the realm default ones it lists are required on every request; the
/// optional ones are there for tools to ask for (step-up). A server that lists none requires the
/// MCP scope and may ask for every realm optional scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerScopes {
    pub required: Vec<String>,
    pub optional: Vec<String>,
}

impl ServerScopes {
    pub fn of(spec: &RealmSpec, server: Option<&DeclaredServer>) -> Self {
        let Some(server) = server.filter(|server| !server.scopes.is_empty()) else {
            return Self {
                required: vec![spec.mcp_scope.clone()],
                optional: realm_optional_scopes(spec).map(str::to_owned).collect(),
            };
        };
        let (required, optional) = server.scopes.iter().cloned().partition(|name| {
            spec.client_scopes
                .iter()
                .find(|scope| scope.name() == name)
                .and_then(|scope| scope.assigned)
                != Some(Assigned::Optional)
        });
        Self { required, optional }
    }
}

fn realm_optional_scopes(spec: &RealmSpec) -> impl Iterator<Item = &str> {
    spec.client_scopes
        .iter()
        .filter(|scope| scope.assigned == Some(Assigned::Optional))
        .map(|scope| scope.name())
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        let env = ServerEnv {
            variables: vec![
                ("A".into(), "http://localhost:8080/realms/fastmcp".into()),
                ("B".into(), "it's $HOME".into()),
            ],
            source: ValuesSource::Defaults,
        };
        assert_eq!(
            env.lines(true),
            "export A=http://localhost:8080/realms/fastmcp\nexport B='it'\\''s $HOME'\n"
        );
        assert!(env.lines(false).starts_with("A=http"));
    }
}
