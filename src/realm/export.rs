//! The realm as one file for Keycloak's own import (`kc.sh import`, `--import-realm`, the
//! Operator's `KeycloakRealmImport`), built from the spec, not read back from a server.
//!
//! What differs between environments becomes a `${NAME:default}` placeholder, which Keycloak's
//! import resolves from the environment and otherwise replaces by this instance's value.
//!
//! A realm import creates none of Keycloak's built-in client scopes once the file lists any, and
//! only the registration policies the file lists once it lists one. kcdev's scope and policies
//! must be in the file, so the file also carries the built-in ones, as Keycloak 26.7 creates them
//! in a new realm (`realm/keycloak-defaults.json`). The imported realm then has the same scopes,
//! default scopes and policies as one kcdev provisions over the Admin API.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::RealmError;
use super::observe::POLICY_TYPE;
use super::spec::{Assigned, PolicySpec, RealmSpec, RealmVariables, field, resource_url_of};

const KEYCLOAK_DEFAULTS: &str = include_str!("../../realm/keycloak-defaults.json");

/// Keycloak's built-in realm contents that an import leaves out when the file has its own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeycloakDefaults {
    default_default_client_scopes: Vec<String>,
    default_optional_client_scopes: Vec<String>,
    client_scopes: Vec<Map<String, Value>>,
    /// The realm roles its built-in scopes carry: `offline_access` has its role, without which
    /// a client without full scope (a CIMD client) gets no offline token.
    scope_mappings: Vec<Value>,
    registration_policies: Vec<Map<String, Value>>,
    /// Keycloak's default user profile, with unmanaged attributes kept for admins: what a realm
    /// whose users have attributes (the owner mark, a project's own) needs from the start, since
    /// the import drops attributes the profile does not keep.
    user_profile: Value,
}

/// `realm/keycloak-defaults.json`, read once.
fn keycloak_defaults() -> Result<&'static KeycloakDefaults, RealmError> {
    static DEFAULTS: LazyLock<Result<KeycloakDefaults, String>> =
        LazyLock::new(|| serde_json::from_str(KEYCLOAK_DEFAULTS).map_err(|err| err.to_string()));
    DEFAULTS
        .as_ref()
        .map_err(|err| RealmError::Spec(format!("realm/keycloak-defaults.json: {err}")))
}

/// Whether `name` is one of the client scopes Keycloak gives every new realm, or `openid` (a scope
/// value every OpenID Connect client may ask for, not a client scope): Keycloak's, never a
/// project's to declare, nor kcdev's to remove.
pub fn is_keycloak_scope(name: &str) -> bool {
    name == "openid"
        || keycloak_defaults().is_ok_and(|defaults| {
            defaults
                .client_scopes
                .iter()
                .any(|scope| scope.get("name").and_then(Value::as_str) == Some(name))
        })
}

/// Component type of a realm's user profile.
const USER_PROFILE_TYPE: &str = "org.keycloak.userprofile.UserProfileProvider";

/// An environment-specific value in the exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placeholder {
    /// Environment variable name (UPPER_SNAKE_CASE).
    pub name: String,
    /// This instance's value: the file's default.
    pub default: String,
    pub description: String,
}

impl Placeholder {
    /// How the file writes it: `${NAME:default}`, or `${NAME}` without a default.
    pub fn reference(&self) -> String {
        if self.default.is_empty() {
            format!("${{{}}}", self.name)
        } else {
            format!("${{{}:{}}}", self.name, self.default)
        }
    }
}

/// `alice.smith` -> `ALICE_SMITH`: a user name as part of an environment variable's name.
fn env_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A `RealmRepresentation` ready for import, and the placeholders in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealmExport {
    pub realm: Value,
    pub placeholders: Vec<Placeholder>,
}

/// The placeholders of a realm for `variables`' servers: each server's base and resource URL
/// (`_2`, `_3`, ... after the first), the host MCP clients may register redirect URIs on, and the
/// test users' password when they are included.
fn placeholders(variables: &RealmVariables) -> Vec<Placeholder> {
    let mut out = Vec::new();
    for (index, server_url) in variables.server_urls().enumerate() {
        let suffix = if index == 0 {
            String::new()
        } else {
            format!("_{}", index + 1)
        };
        out.push(Placeholder {
            name: format!("MCP_RESOURCE_URL{suffix}"),
            default: resource_url_of(server_url),
            description: "the MCP server's resource URL: token audience, resource client id"
                .to_owned(),
        });
        out.push(Placeholder {
            name: format!("MCP_SERVER_URL{suffix}"),
            default: server_url.trim_end_matches('/').to_owned(),
            description: "the MCP server's base URL: the second token audience".to_owned(),
        });
    }
    out
}

/// Replaces, in every string of `value`, each occurrence of a placeholder's default by its
/// reference. One pass, longest match first, so a resource URL (which starts with its server
/// URL) is never taken for the server URL, and a placeholder's own default is never rewritten.
fn insert_placeholders(value: &mut Value, placeholders: &[Placeholder]) {
    match value {
        Value::String(text) => *text = replace_all(text, placeholders),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| insert_placeholders(item, placeholders)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| insert_placeholders(item, placeholders)),
        _ => {}
    }
}

fn replace_all(text: &str, placeholders: &[Placeholder]) -> String {
    let mut by_length: Vec<&Placeholder> = placeholders.iter().collect();
    by_length.sort_by_key(|p| std::cmp::Reverse(p.default.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for placeholder in &by_length {
            if let Some(after) = rest.strip_prefix(placeholder.default.as_str()) {
                out.push_str(&placeholder.reference());
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The realm kcdev provisions for `variables`, as an import file. Test users come along only
/// with `include_test_users`.
pub fn export(
    variables: &RealmVariables,
    include_test_users: bool,
) -> Result<RealmExport, RealmError> {
    let spec = RealmSpec::render(&RealmVariables {
        test_users: include_test_users,
        ..variables.clone()
    })?;
    let mut realm = Value::Object(representation(&spec)?);
    let mut placeholders = placeholders(variables);
    // Before the placeholders below join: their defaults are no server's URL.
    insert_placeholders(&mut realm, &placeholders);
    if spec.anonymous_registration_policies.is_some() {
        let host = Placeholder {
            name: "MCP_TRUSTED_HOST".to_owned(),
            default: url::Url::parse(&variables.server_url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".to_owned()),
            description:
                "one more host MCP clients may register redirect URIs on (the MCP server's)"
                    .to_owned(),
        };
        let trusted_hosts = realm["components"][POLICY_TYPE]
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter(|policy| policy["subType"] == "anonymous")
            .filter_map(|policy| policy.pointer_mut("/config/trusted-hosts"))
            .filter_map(Value::as_array_mut);
        for hosts in trusted_hosts {
            hosts.push(json!(host.reference()));
        }
        placeholders.push(host);
    }
    let mut test_password = None;
    let users = realm.get_mut("users").and_then(Value::as_array_mut);
    for user in users.into_iter().flatten() {
        let username = user["username"].as_str().unwrap_or_default().to_owned();
        let Some(value) = user.pointer_mut("/credentials/0/value") else {
            continue;
        };
        let password = value.as_str().unwrap_or_default().to_owned();
        let placeholder = match variables
            .declared
            .users
            .iter()
            .find(|u| u.username == username)
        {
            // A password the file takes from the environment is a secret: no default.
            Some(declared) => match &declared.password_env {
                Some(name) => Placeholder {
                    name: name.clone(),
                    default: String::new(),
                    description: format!("the password of user {username} (kcdev.toml)"),
                },
                None => Placeholder {
                    name: format!("KCDEV_PASSWORD_{}", env_name(&username)),
                    default: password,
                    description: format!("the password of user {username} (kcdev.toml)"),
                },
            },
            None => test_password
                .get_or_insert_with(|| Placeholder {
                    name: "KCDEV_TEST_USER_PASSWORD".to_owned(),
                    default: password,
                    description: "the test users' password".to_owned(),
                })
                .clone(),
        };
        *value = json!(placeholder.reference());
        if !placeholders
            .iter()
            .any(|known| known.name == placeholder.name)
        {
            placeholders.push(placeholder);
        }
    }
    Ok(RealmExport {
        realm,
        placeholders,
    })
}

/// The whole realm `spec` describes, as one `RealmRepresentation`: what `up` sends to create a
/// realm in one call, and what `export` writes (with placeholders).
pub fn representation(spec: &RealmSpec) -> Result<Map<String, Value>, RealmError> {
    let defaults = keycloak_defaults()?;
    let mut realm = spec.realm.clone();
    realm.insert("roles".to_owned(), json!({ "realm": spec.roles }));
    realm.insert("clientScopes".to_owned(), client_scopes(spec, defaults));
    let assigned = |builtin: &[String], assigned: Assigned| {
        let mut names = builtin.to_vec();
        names.extend(
            spec.client_scopes
                .iter()
                .filter(|scope| scope.assigned == Some(assigned))
                .map(|scope| scope.name().to_owned()),
        );
        names
    };
    realm.insert(
        "defaultDefaultClientScopes".to_owned(),
        json!(assigned(
            &defaults.default_default_client_scopes,
            Assigned::Default
        )),
    );
    realm.insert(
        "defaultOptionalClientScopes".to_owned(),
        json!(assigned(
            &defaults.default_optional_client_scopes,
            Assigned::Optional
        )),
    );
    let mut scope_mappings = defaults.scope_mappings.clone();
    scope_mappings.extend(
        spec.client_scopes
            .iter()
            .filter(|scope| !scope.realm_roles.is_empty())
            .map(|scope| json!({"clientScope": scope.name(), "roles": scope.realm_roles})),
    );
    realm.insert("scopeMappings".to_owned(), json!(scope_mappings));
    realm.insert("clients".to_owned(), json!(spec.clients));
    let mut components = json!({ POLICY_TYPE: registration_policies(spec, defaults) });
    if spec
        .users
        .iter()
        .any(|user| user.representation.contains_key("attributes"))
    {
        let config = serde_json::to_string(&defaults.user_profile)
            .map_err(|err| RealmError::Spec(err.to_string()))?;
        components[USER_PROFILE_TYPE] = json!([{
            "providerId": "declarative-user-profile",
            "subComponents": {},
            "config": {"kc.user.profile.config": [config]},
        }]);
    }
    realm.insert("components".to_owned(), components);
    if let Some(cimd) = &spec.cimd {
        realm.insert(
            "clientProfiles".to_owned(),
            json!({"profiles": [cimd.profile]}),
        );
        realm.insert(
            "clientPolicies".to_owned(),
            json!({"policies": [cimd.policy]}),
        );
    }
    if !spec.groups.is_empty() {
        let groups: Vec<Value> = spec
            .groups
            .iter()
            .map(|group| {
                let mut body = group.representation.clone();
                body.insert("realmRoles".to_owned(), json!(group.realm_roles));
                Value::Object(body)
            })
            .collect();
        realm.insert("groups".to_owned(), json!(groups));
    }
    if !spec.users.is_empty() {
        let users: Vec<Value> = spec
            .users
            .iter()
            .map(|user| {
                let mut body = user.representation.clone();
                body.insert(
                    "credentials".to_owned(),
                    json!([{"type": "password", "value": user.password, "temporary": false}]),
                );
                // A user in a realm representation gets exactly the roles listed; one created
                // on its own also gets the realm's default roles (offline_access,
                // uma_authorization, the account client's), and the same claims need them.
                let mut roles = vec![format!("default-roles-{}", spec.realm_name())];
                roles.extend(user.realm_roles.iter().cloned());
                body.insert("realmRoles".to_owned(), json!(roles));
                if !user.groups.is_empty() {
                    body.insert("groups".to_owned(), json!(user.group_paths()));
                }
                Value::Object(body)
            })
            .collect();
        realm.insert("users".to_owned(), json!(users));
    }
    Ok(realm)
}

/// Keycloak's built-in scopes (those that carry kcdev's token claims with kcdev's mappers
/// added) and kcdev's own, each with its mappers.
fn client_scopes(spec: &RealmSpec, defaults: &KeycloakDefaults) -> Value {
    let with_claims = |mut scope: Map<String, Value>| {
        let name = field(&scope, "name").to_owned();
        if spec.token_claims.scopes.contains(&name) {
            let mut mappers = scope
                .remove("protocolMappers")
                .and_then(|m| m.as_array().cloned())
                .unwrap_or_default();
            mappers.extend(
                spec.token_claims
                    .protocol_mappers
                    .iter()
                    .cloned()
                    .map(Value::Object),
            );
            scope.insert("protocolMappers".to_owned(), Value::Array(mappers));
        }
        Value::Object(scope)
    };
    let own: Vec<&str> = spec
        .client_scopes
        .iter()
        .map(|scope| scope.name())
        .collect();
    let built_in = defaults
        .client_scopes
        .iter()
        .filter(|scope| !own.contains(&field(scope, "name")))
        .cloned();
    let kcdev = spec
        .client_scopes
        .iter()
        .map(|scope| scope.representation.clone());
    Value::Array(built_in.chain(kcdev).map(with_claims).collect())
}

/// Keycloak's authenticated registration policies, and the anonymous ones: kcdev's, or
/// Keycloak's own when kcdev leaves them alone.
fn registration_policies(spec: &RealmSpec, defaults: &KeycloakDefaults) -> Vec<Value> {
    let keycloak = |sub_type: &'static str| {
        defaults
            .registration_policies
            .iter()
            .filter(move |policy| field(policy, "subType") == sub_type)
            .cloned()
            .map(Value::Object)
    };
    let mut policies: Vec<Value> = keycloak("authenticated").collect();
    match &spec.anonymous_registration_policies {
        None => policies.extend(keycloak("anonymous")),
        Some(ours) => policies.extend(ours.iter().map(anonymous_policy)),
    }
    policies
}

fn anonymous_policy(policy: &PolicySpec) -> Value {
    json!({
        "name": policy.name,
        "providerId": policy.provider_id,
        "subType": "anonymous",
        "config": policy.config,
    })
}

/// A `KeycloakRealmImport` (Keycloak Operator, `k8s.keycloak.org/v2alpha1`) of `export`, its
/// placeholders read from keys of the Secret `secret`.
pub fn operator_resource(export: &RealmExport, keycloak_cr: &str, secret: &str) -> Value {
    let realm = export
        .realm
        .get("realm")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let placeholders: Map<String, Value> = export
        .placeholders
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                json!({"secret": {"name": secret, "key": p.name}}),
            )
        })
        .collect();
    json!({
        "apiVersion": "k8s.keycloak.org/v2alpha1",
        "kind": "KeycloakRealmImport",
        "metadata": {"name": kubernetes_name(realm)},
        "spec": {
            "keycloakCRName": keycloak_cr,
            "realm": export.realm,
            "placeholders": placeholders,
        },
    })
}

/// A Kubernetes object name (RFC 1123: lower case, digits, '-') for a realm name.
pub fn kubernetes_name(realm: &str) -> String {
    let name: String = realm
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "realm".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> RealmVariables {
        RealmVariables {
            additional_server_urls: vec!["http://localhost:8001".into()],
            ..crate::realm::test_variables()
        }
    }

    #[test]
    fn keycloak_scopes_come_from_its_defaults() {
        for scope in [
            "openid",
            "profile",
            "basic",
            "offline_access",
            "role_list",
            "organization",
        ] {
            assert!(is_keycloak_scope(scope), "{scope}");
        }
        for scope in ["mcp:tools", "notes:read", ""] {
            assert!(!is_keycloak_scope(scope), "{scope}");
        }
    }

    #[test]
    fn environment_values_are_placeholders_with_this_instances_defaults() {
        let export = export(&variables(), true).unwrap();
        let text = export.realm.to_string();
        assert!(text.contains("${MCP_RESOURCE_URL:http://localhost:8000/mcp}"));
        assert!(text.contains("${MCP_SERVER_URL:http://localhost:8000}"));
        assert!(text.contains("${MCP_RESOURCE_URL_2:http://localhost:8001/mcp}"));
        assert!(text.contains("${KCDEV_TEST_USER_PASSWORD:password123}"));
        assert!(text.contains("${MCP_TRUSTED_HOST:localhost}"));
        // Only inside placeholders: nothing environment-specific is left bare.
        let bare = text
            .replace("${MCP_RESOURCE_URL:http://localhost:8000/mcp}", "")
            .replace("${MCP_SERVER_URL:http://localhost:8000}", "")
            .replace("${MCP_RESOURCE_URL_2:http://localhost:8001/mcp}", "")
            .replace("${MCP_SERVER_URL_2:http://localhost:8001}", "");
        assert!(!bare.contains("localhost:800"), "{bare}");
        let names: Vec<&str> = export
            .placeholders
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "MCP_RESOURCE_URL",
                "MCP_SERVER_URL",
                "MCP_RESOURCE_URL_2",
                "MCP_SERVER_URL_2",
                "MCP_TRUSTED_HOST",
                "KCDEV_TEST_USER_PASSWORD"
            ]
        );
        assert!(names.iter().all(|name| {
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        }));
    }

    #[test]
    fn no_ids_no_secrets_and_test_users_only_when_asked() {
        let without = export(&variables(), false).unwrap();
        let text = without.realm.to_string();
        assert!(!text.contains("\"id\""), "ids are the server's to make");
        assert!(!text.contains("password123"));
        assert!(!text.contains("secret"));
        assert!(without.realm.get("users").is_none());
        let with = export(&variables(), true).unwrap();
        assert_eq!(with.realm["users"].as_array().unwrap().len(), 2);
        assert_eq!(
            with.realm["users"][1]["realmRoles"],
            json!(["default-roles-fastmcp", "user", "admin"])
        );
    }

    #[test]
    fn the_file_carries_keycloaks_scopes_with_kcdevs_claims_and_kcdevs_scope() {
        let realm = export(&variables(), false).unwrap().realm;
        let scopes = realm["clientScopes"].as_array().unwrap();
        let named = |name: &str| {
            scopes
                .iter()
                .find(|scope| scope["name"] == name)
                .unwrap_or_else(|| panic!("no scope {name}"))
        };
        for built_in in [
            "profile",
            "email",
            "roles",
            "web-origins",
            "acr",
            "offline_access",
        ] {
            named(built_in);
        }
        let mapper_names = |scope: &Value| -> Vec<String> {
            scope["protocolMappers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let basic = mapper_names(named("basic"));
        assert!(basic.contains(&"sub".to_owned()), "{basic:?}");
        assert!(basic.contains(&"kcdev realm roles".to_owned()));
        assert!(
            mapper_names(named("mcp:tools"))
                .contains(&"kcdev audience: MCP resource URL (server 2)".to_owned())
        );
        let defaults = realm["defaultDefaultClientScopes"].as_array().unwrap();
        assert!(defaults.contains(&json!("mcp:tools")) && defaults.contains(&json!("basic")));
        assert_eq!(
            realm["scopeMappings"],
            json!([
                {"clientScope": "offline_access", "roles": ["offline_access"]},
                {"clientScope": "mcp:tools", "roles": ["user", "admin"]}
            ])
        );
        let policies = realm["components"][POLICY_TYPE].as_array().unwrap();
        assert!(policies.iter().any(|p| p["subType"] == "authenticated"));
        assert!(
            !policies
                .iter()
                .any(|p| p["providerId"] == "consent-required")
        );
    }

    #[test]
    fn a_shared_servers_realm_keeps_keycloaks_anonymous_policies() {
        let realm = export(
            &RealmVariables {
                anonymous_registration: false,
                ..variables()
            },
            false,
        )
        .unwrap()
        .realm;
        let policies = realm["components"][POLICY_TYPE].as_array().unwrap();
        assert!(
            policies
                .iter()
                .any(|p| p["providerId"] == "consent-required")
        );
    }

    #[test]
    fn the_operator_resource_wraps_the_same_realm() {
        let export = export(&variables(), true).unwrap();
        let resource = operator_resource(&export, "keycloak", "kcdev-fastmcp");
        assert_eq!(resource["spec"]["realm"], export.realm);
        assert_eq!(
            resource["spec"]["placeholders"]["MCP_SERVER_URL"],
            json!({"secret": {"name": "kcdev-fastmcp", "key": "MCP_SERVER_URL"}})
        );
        assert_eq!(kubernetes_name("My_Realm"), "my-realm");
    }
}
