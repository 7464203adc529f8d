//! What a project declares for its own MCP server (`kcdev.toml`): scopes, roles, groups, users
//! and claims, checked and with passwords resolved. The realm spec carries them beside kcdev's
//! own objects; the instance's state remembers them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::spec::Assigned;

/// The attribute that marks an object kcdev made from a project file. Kept in Keycloak itself,
/// so every kcdev that provisions the realm (two laptops, a team server) knows which objects a
/// removal from the file takes away, and never touches one made by hand.
pub const OWNER_ATTRIBUTE: &str = "kcdev.managed-by";
/// Its value.
pub const OWNER_VALUE: &str = "kcdev.toml";

/// How the names of the token-claim mappers kcdev made from declared claims begin.
pub const CLAIM_MAPPER_PREFIX: &str = "kcdev claim: ";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Declared {
    /// Seconds an access token lives, when the project sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifespan: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<DeclaredServer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<DeclaredScope>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<DeclaredRole>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<DeclaredGroup>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<DeclaredUser>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<DeclaredClaim>,
}

/// A server's own part of the declaration; its URL is a setting like `--server-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredServer {
    pub url: String,
    /// `aud` values beside the base and resource URLs (the audience a verifier of its own
    /// checks, FastMCP's `JWTVerifier(audience=...)` say).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The scopes the server uses: its default ones are required on every request, its optional
    /// ones are asked for by tools that need them (step-up).
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredScope {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub assigned: Assigned,
    /// Realm roles mapped to the scope.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRole {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredGroup {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredUser {
    pub username: String,
    pub password: String,
    /// The environment variable the password came from, so an export names it instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A claim in every token of the declared scopes (and of kcdev's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredClaim {
    pub name: String,
    pub source: ClaimSource,
    /// A list even when the user has one value (a user attribute claim).
    #[serde(default)]
    pub multivalued: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSource {
    /// The user's attribute, or the attribute of a group the user is in.
    UserAttribute(String),
    /// The names of the user's groups.
    Groups,
    /// The same value in every token.
    Constant(String),
}

impl Declared {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Every audience a declared server adds, each once.
    pub fn extra_audiences(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for audience in self.servers.iter().flat_map(|server| &server.audiences) {
            if !out.contains(audience) {
                out.push(audience.clone());
            }
        }
        out
    }

    /// The declaration of the server at `url`, if the project has one.
    pub fn server(&self, url: &str) -> Option<&DeclaredServer> {
        let url = url.trim_end_matches('/');
        self.servers
            .iter()
            .find(|server| server.url.trim_end_matches('/') == url)
    }
}
