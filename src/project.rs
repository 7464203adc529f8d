//! The project file, `kcdev.toml`: what a repository declares for its own MCP server (its realm,
//! servers, scopes, roles, groups, users and claims). Found like cargo finds `Cargo.toml`, read
//! and checked whole before anything is changed: a mistake is named with its line and column and
//! the fix.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::realm::{
    Assigned, ClaimSource, Declared, DeclaredClaim, DeclaredGroup, DeclaredRole, DeclaredScope,
    DeclaredServer, DeclaredUser, RealmVariables, check_http_url, is_keycloak_scope,
};

pub const FILE_NAME: &str = "kcdev.toml";

/// What `kcdev init` writes: today's defaults, declared, so adopting it changes nothing.
pub const STARTER: &str = include_str!("../realm/kcdev.starter.toml");

/// The scopes and roles kcdev's own realm has; a project may use them without declaring them.
const BUILTIN_SCOPES: [&str; 2] = ["mcp:tools", "mcp:admin"];
const BUILTIN_ROLES: [&str; 2] = ["user", "admin"];

/// Keycloak's own realm roles in every realm: not a project's to declare (and so never kcdev's to
/// remove). Its own client scopes: [`is_keycloak_scope`].
const KEYCLOAK_ROLES: [&str; 2] = ["offline_access", "uma_authorization"];

/// A project file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    pub path: PathBuf,
    pub realm_name: Option<String>,
    /// The `[[servers]]` URLs, the primary first: the `--server-url` of this project.
    pub server_urls: Vec<String>,
    /// `[realm] test_users`: kcdev's test users (`testuser`, `testadmin`), on by default.
    pub test_users: Option<bool>,
    pub declared: Declared,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// What to change, for the hint.
        fix: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} exists already", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProjectError {
    pub fn fix(&self) -> Option<String> {
        match self {
            Self::Invalid { fix, .. } => Some(fix.clone()),
            Self::Read { .. } => Some(format!(
                "check the path given by --config or KCDEV_CONFIG, or remove it to use the {FILE_NAME} of this directory or a parent"
            )),
            Self::Exists { .. } => Some("edit it, or remove it first".to_owned()),
            Self::Write { .. } => None,
        }
    }
}

/// The project file to use: the one named (`--config`, `KCDEV_CONFIG`), else `kcdev.toml` in
/// `start` or the nearest parent that has one.
pub fn locate(named: Option<&Path>, start: &Path) -> Option<PathBuf> {
    if let Some(path) = named {
        return Some(path.to_owned());
    }
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Reads and checks the project file at `path`; passwords given as `password_env` are read from
/// the environment through `env`.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProjectFile, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text, env)
}

/// Writes the starter file into `dir` with the realm name and server URL the instance uses,
/// so adopting it changes nothing; refuses to replace a file that is there.
pub fn init(dir: &Path, realm: &str, server_url: &str) -> Result<PathBuf, ProjectError> {
    let path = dir.join(FILE_NAME);
    if path.exists() {
        return Err(ProjectError::Exists { path });
    }
    std::fs::write(&path, starter(realm, server_url)).map_err(|source| ProjectError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The starter with these values in place of kcdev's defaults.
pub fn starter(realm: &str, server_url: &str) -> String {
    STARTER
        .replacen(
            &format!("name = \"{}\"", crate::defaults::REALM),
            &format!("name = \"{realm}\""),
            1,
        )
        .replacen(
            &format!("url = \"{}\"", crate::defaults::SERVER_URL),
            &format!("url = \"{server_url}\""),
            1,
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDocument {
    #[serde(default)]
    realm: RealmTable,
    #[serde(default)]
    servers: Vec<ServerTable>,
    #[serde(default)]
    scopes: BTreeMap<String, Spanned<ScopeTable>>,
    #[serde(default)]
    roles: BTreeMap<String, Spanned<RoleTable>>,
    #[serde(default)]
    groups: BTreeMap<String, Spanned<GroupTable>>,
    #[serde(default)]
    users: Vec<Spanned<UserTable>>,
    #[serde(default)]
    claims: BTreeMap<String, Spanned<ClaimTable>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RealmTable {
    name: Option<Spanned<String>>,
    access_token_lifespan: Option<Spanned<String>>,
    test_users: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerTable {
    url: Spanned<String>,
    #[serde(default)]
    audiences: Vec<Spanned<String>>,
    #[serde(default)]
    scopes: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeTable {
    description: Option<String>,
    #[serde(default = "default_assigned")]
    assigned: Assigned,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
}

fn default_assigned() -> Assigned {
    Assigned::Default
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleTable {
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupTable {
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    attributes: BTreeMap<String, AttributeValue>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

impl AttributeValue {
    fn values(&self) -> Vec<String> {
        match self {
            Self::One(value) => vec![value.clone()],
            Self::Many(values) => values.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserTable {
    username: Spanned<String>,
    password: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    attributes: BTreeMap<String, AttributeValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimTable {
    user_attribute: Option<Spanned<String>>,
    groups: Option<bool>,
    value: Option<String>,
    #[serde(default)]
    multivalued: bool,
}

/// Turns byte offsets into the line and column a person reads, and names what is wrong.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, message: String, fix: impl Into<String>) -> ProjectError {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ProjectError::Invalid {
            path: self.path.to_owned(),
            line,
            column,
            message,
            fix: fix.into(),
        }
    }
}

/// Lists `known` for a hint: "one of: a, b, c", or that there are none.
fn one_of(known: &[String]) -> String {
    if known.is_empty() {
        "none is declared yet".to_owned()
    } else {
        format!("one of: {}", known.join(", "))
    }
}

/// Parses and checks a project file's text.
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProjectFile, ProjectError> {
    let source = Source { path, text };
    let document: FileDocument = toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_owned();
        let fix = if message.starts_with("unknown field") {
            "remove or rename the key (see `kcdev init` for the keys a kcdev.toml takes)"
        } else {
            "correct the TOML at that place (see `kcdev init` for a commented example)"
        };
        source.error(span, message, fix)
    })?;

    let realm_name = match &document.realm.name {
        Some(name) => {
            let variables = RealmVariables {
                realm: name.get_ref().clone(),
                ..RealmVariables::default()
            };
            variables.validate().map_err(|err| {
                source.error(
                    name.span(),
                    err.to_string(),
                    "name the realm with 1 to 64 letters, digits, '-' or '_' (not master)",
                )
            })?;
            Some(name.get_ref().clone())
        }
        None => None,
    };
    let access_token_lifespan = match &document.realm.access_token_lifespan {
        Some(text) => {
            let lifespan: Duration = humantime::parse_duration(text.get_ref()).map_err(|err| {
                source.error(
                    text.span(),
                    format!("access_token_lifespan {:?}: {err}", text.get_ref()),
                    "write a duration such as \"5m\", \"1h\" or \"1h 30m\"",
                )
            })?;
            if lifespan.as_secs() == 0 {
                return Err(source.error(
                    text.span(),
                    "access_token_lifespan must be at least one second".to_owned(),
                    "write a duration such as \"5m\" or \"1h\"",
                ));
            }
            Some(lifespan.as_secs())
        }
        None => None,
    };

    let role_names: Vec<String> = BUILTIN_ROLES
        .iter()
        .map(|role| (*role).to_owned())
        .chain(document.roles.keys().cloned())
        .collect();
    let scope_names: Vec<String> = BUILTIN_SCOPES
        .iter()
        .map(|scope| (*scope).to_owned())
        .chain(document.scopes.keys().cloned())
        .collect();
    let group_names: Vec<String> = document.groups.keys().cloned().collect();
    let check_roles = |roles: &[Spanned<String>], owner: &str| {
        for role in roles {
            if !role_names.contains(role.get_ref()) {
                return Err(source.error(
                    role.span(),
                    format!(
                        "{owner} has role {:?}, which is not declared",
                        role.get_ref()
                    ),
                    format!(
                        "declare it as [roles.{}], or use {}",
                        toml_key(role.get_ref()),
                        one_of(&role_names)
                    ),
                ));
            }
        }
        Ok(roles
            .iter()
            .map(|role| role.get_ref().clone())
            .collect::<Vec<_>>())
    };

    let mut servers = Vec::new();
    let mut server_urls: Vec<String> = Vec::new();
    for server in &document.servers {
        let url = server.url.get_ref().trim_end_matches('/').to_owned();
        check_http_url("server URL", &url).map_err(|err| {
            source.error(
                server.url.span(),
                err.to_string(),
                "write the server's base URL, such as \"http://localhost:8000\"",
            )
        })?;
        if server_urls.contains(&url) {
            return Err(source.error(
                server.url.span(),
                format!("server {url} is declared twice"),
                "declare each server once, with all its audiences and scopes",
            ));
        }
        for scope in &server.scopes {
            if !scope_names.contains(scope.get_ref()) {
                return Err(source.error(
                    scope.span(),
                    format!(
                        "server {url} lists scope {:?}, which is not declared",
                        scope.get_ref()
                    ),
                    format!(
                        "declare it as [scopes.{}], or use {}",
                        toml_key(scope.get_ref()),
                        one_of(&scope_names)
                    ),
                ));
            }
        }
        for audience in &server.audiences {
            if audience.get_ref().trim().is_empty()
                || audience.get_ref().chars().any(char::is_whitespace)
            {
                return Err(source.error(
                    audience.span(),
                    format!("audience {:?} is empty or has spaces", audience.get_ref()),
                    "write the value your server's verifier expects in `aud`, such as \"notes-api\"",
                ));
            }
        }
        server_urls.push(url.clone());
        servers.push(DeclaredServer {
            url,
            audiences: server
                .audiences
                .iter()
                .map(|a| a.get_ref().clone())
                .collect(),
            scopes: server.scopes.iter().map(|s| s.get_ref().clone()).collect(),
        });
    }

    let mut scopes = Vec::new();
    for (name, scope) in &document.scopes {
        if name.is_empty()
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
            || is_keycloak_scope(name)
        {
            return Err(source.error(
                scope.span(),
                format!("scope name {name:?} cannot be used"),
                "name scopes without spaces, such as \"notes:read\", and not as Keycloak's own (openid, profile, email, basic, ...)",
            ));
        }
        let scope_table = scope.get_ref();
        scopes.push(DeclaredScope {
            name: name.clone(),
            description: scope_table.description.clone(),
            assigned: scope_table.assigned,
            roles: check_roles(&scope_table.roles, &format!("scope {name}"))?,
        });
    }
    let mut roles = Vec::new();
    for (name, role) in &document.roles {
        if name.is_empty()
            || KEYCLOAK_ROLES.contains(&name.as_str())
            || name.starts_with("default-roles-")
        {
            return Err(source.error(
                role.span(),
                format!("role name {name:?} cannot be used"),
                "give the role a name of your own (offline_access, uma_authorization and default-roles-* are Keycloak's)",
            ));
        }
        roles.push(DeclaredRole {
            name: name.clone(),
            description: role.get_ref().description.clone(),
        });
    }
    let mut groups = Vec::new();
    for (name, group) in &document.groups {
        if name.is_empty() || name.contains('/') {
            return Err(source.error(
                group.span(),
                format!("group name {name:?} cannot be used"),
                "name groups without '/', such as \"acme\"",
            ));
        }
        groups.push(DeclaredGroup {
            name: name.clone(),
            roles: check_roles(&group.get_ref().roles, &format!("group {name}"))?,
            attributes: attributes(&group.get_ref().attributes),
        });
    }

    let mut users: Vec<DeclaredUser> = Vec::new();
    for user in &document.users {
        let table = user.get_ref();
        let username = table.username.get_ref();
        let span = table.username.span();
        if !(3..=255).contains(&username.chars().count())
            || username.chars().any(char::is_whitespace)
        {
            return Err(source.error(
                span,
                format!("user name {username:?} cannot be used"),
                "name users with 3 to 255 characters and no spaces, such as \"alice\"",
            ));
        }
        if username.chars().any(char::is_uppercase) {
            return Err(source.error(
                span,
                format!("user name {username:?} has capital letters"),
                format!(
                    "write it as {:?}: Keycloak keeps user names in lower case",
                    username.to_lowercase()
                ),
            ));
        }
        if let Some(email) = &table.email
            && users.iter().any(|known| {
                known
                    .email
                    .as_ref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
        {
            return Err(source.error(
                span,
                format!("user {username} has email {email}, which another user has"),
                "give each user an email of its own (Keycloak refuses duplicates)",
            ));
        }
        if users
            .iter()
            .any(|known| known.username.eq_ignore_ascii_case(username))
        {
            return Err(source.error(
                span,
                format!("user {username} is declared twice (Keycloak ignores case in user names)"),
                "declare each user once, or give this one another name",
            ));
        }
        let (password, password_env) = match (&table.password, &table.password_env) {
            (Some(password), None) => (password.get_ref().clone(), None),
            (None, Some(name)) => {
                let value = env(name.get_ref()).unwrap_or_default();
                if value.is_empty() {
                    return Err(source.error(
                        name.span(),
                        format!(
                            "user {username}'s password comes from ${}, which is not set or empty",
                            name.get_ref()
                        ),
                        format!(
                            "set {} in the environment, or give `password` here",
                            name.get_ref()
                        ),
                    ));
                }
                (value, Some(name.get_ref().clone()))
            }
            (Some(_), Some(name)) => {
                return Err(source.error(
                    name.span(),
                    format!("user {username} has both password and password_env"),
                    "keep one of them",
                ));
            }
            (None, None) => {
                return Err(source.error(
                    span,
                    format!("user {username} has no password"),
                    "add `password = \"...\"`, or `password_env = \"NAME\"` to read it from the environment",
                ));
            }
        };
        if let Some(given) = &table.password
            && given.get_ref().is_empty()
        {
            return Err(source.error(
                given.span(),
                format!("user {username} has an empty password"),
                "give a password of 1 to 128 characters",
            ));
        }
        if password.len() > 128 || password.chars().any(char::is_control) {
            return Err(source.error(
                table.password.as_ref().map_or(span.clone(), Spanned::span),
                format!("user {username}'s password is longer than 128 characters or has control characters"),
                "give a password of 1 to 128 characters, no control characters",
            ));
        }
        for group in &table.groups {
            if !group_names.contains(group.get_ref()) {
                return Err(source.error(
                    group.span(),
                    format!(
                        "user {username} is in group {:?}, which is not declared",
                        group.get_ref()
                    ),
                    format!(
                        "declare it as [groups.{}], or use {}",
                        toml_key(group.get_ref()),
                        one_of(&group_names)
                    ),
                ));
            }
        }
        users.push(DeclaredUser {
            username: username.clone(),
            password,
            password_env,
            email: table.email.clone(),
            first_name: table.first_name.clone(),
            last_name: table.last_name.clone(),
            roles: check_roles(&table.roles, &format!("user {username}"))?,
            groups: table.groups.iter().map(|g| g.get_ref().clone()).collect(),
            attributes: attributes(&table.attributes),
        });
    }

    let mut claims = Vec::new();
    for (name, claim) in &document.claims {
        let table = claim.get_ref();
        let claim_source = match (&table.user_attribute, table.groups, &table.value) {
            (Some(attribute), None | Some(false), None) => {
                let someone_has = users
                    .iter()
                    .map(|user| &user.attributes)
                    .chain(groups.iter().map(|group: &DeclaredGroup| &group.attributes))
                    .any(|attributes| attributes.contains_key(attribute.get_ref()));
                if !someone_has {
                    return Err(source.error(
                        attribute.span(),
                        format!(
                            "claim {name} reads attribute {:?}, which no declared user or group has",
                            attribute.get_ref()
                        ),
                        format!(
                            "give a user or group `attributes = {{ {} = \"...\" }}`, or correct the attribute's name",
                            toml_key(attribute.get_ref())
                        ),
                    ));
                }
                ClaimSource::UserAttribute(attribute.get_ref().clone())
            }
            (None, Some(true), None) => ClaimSource::Groups,
            (None, None | Some(false), Some(value)) => ClaimSource::Constant(value.clone()),
            _ => {
                return Err(source.error(
                    claim.span(),
                    format!("claim {name} needs exactly one source"),
                    "give one of `user_attribute = \"NAME\"`, `groups = true` or `value = \"...\"`",
                ));
            }
        };
        if matches!(
            name.as_str(),
            "sub" | "iss" | "aud" | "exp" | "iat" | "azp" | "scope"
        ) {
            return Err(source.error(
                claim.span(),
                format!("claim {name} is one Keycloak sets itself"),
                "give the claim another name",
            ));
        }
        claims.push(DeclaredClaim {
            name: name.clone(),
            source: claim_source,
            multivalued: table.multivalued,
        });
    }

    Ok(ProjectFile {
        path: path.to_owned(),
        realm_name,
        server_urls,
        test_users: document.realm.test_users,
        declared: Declared {
            access_token_lifespan,
            servers,
            scopes,
            roles,
            groups,
            users,
            claims,
        },
    })
}

fn attributes(table: &BTreeMap<String, AttributeValue>) -> BTreeMap<String, Vec<String>> {
    table
        .iter()
        .map(|(key, value)| (key.clone(), value.values()))
        .collect()
}

/// A name as a TOML key: bare when it can be, quoted otherwise (`notes:read` needs quotes).
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parsed(text: &str) -> Result<ProjectFile, ProjectError> {
        parse(Path::new("kcdev.toml"), text, &no_env)
    }

    const ISSUE_EXAMPLE: &str = r#"
[realm]
name = "notes"
access_token_lifespan = "1h"

[[servers]]
url = "http://localhost:8000"
audiences = ["notes-api"]
scopes = ["notes:read", "notes:write"]

[scopes."notes:read"]
description = "Read notes"
assigned = "default"
[scopes."notes:write"]
assigned = "optional"
roles = ["editor"]

[roles.editor]
description = "May change notes"

[groups.acme]
roles = ["editor"]
attributes = { tenant = "acme" }

[[users]]
username = "alice"
password = "alice-pass"
email = "alice@example.com"
roles = ["editor"]
groups = ["acme"]
attributes = { tenant = "acme" }

[claims.tenant]
user_attribute = "tenant"
"#;

    #[test]
    fn the_issue_example_is_read_whole() {
        let file = parsed(ISSUE_EXAMPLE).unwrap();
        assert_eq!(file.realm_name.as_deref(), Some("notes"));
        assert_eq!(file.server_urls, ["http://localhost:8000"]);
        let declared = &file.declared;
        assert_eq!(declared.access_token_lifespan, Some(3600));
        assert_eq!(declared.extra_audiences(), ["notes-api"]);
        assert_eq!(declared.scopes.len(), 2);
        assert_eq!(declared.scopes[1].assigned, Assigned::Optional);
        assert_eq!(declared.users[0].groups, ["acme"]);
        assert_eq!(declared.users[0].attributes["tenant"], ["acme"]);
        assert_eq!(
            declared.claims[0].source,
            ClaimSource::UserAttribute("tenant".into())
        );
    }

    /// Each bad file is refused with the line and column of the mistake and a fix.
    #[test]
    fn bad_files_name_the_place_and_the_fix() {
        let cases: &[(&str, &str, usize, usize)] = &[
            ("[realm]\nnme = \"x\"\n", "unknown field", 2, 1),
            (
                "[[users]]\nusername = \"ann\"\npassword = \"p\"\nroles = [\"editr\"]\n",
                "role \"editr\", which is not declared",
                4,
                10,
            ),
            (
                "[[users]]\nusername = \"ann\"\npassword = \"p\"\ngroups = [\"acme\"]\n",
                "group \"acme\", which is not declared",
                4,
                11,
            ),
            (
                "[[servers]]\nurl = \"http://localhost:8000\"\nscopes = [\"api:read\"]\n",
                "scope \"api:read\", which is not declared",
                3,
                11,
            ),
            (
                "[[users]]\nusername = \"ann\"\npassword = \"p\"\n[[users]]\nusername = \"ann\"\npassword = \"q\"\n",
                "declared twice",
                5,
                12,
            ),
            (
                "[[users]]\nusername = \"ann\"\npassword = \"\"\n",
                "empty password",
                3,
                12,
            ),
            (
                "[[users]]\nusername = \"ann\"\npassword_env = \"KCDEV_TEST_UNSET\"\n",
                "not set or empty",
                3,
                16,
            ),
            (
                "[claims.tenant]\nuser_attribute = \"tenant\"\n",
                "no declared user or group has",
                2,
                18,
            ),
            (
                "[realm]\naccess_token_lifespan = \"soon\"\n",
                "access_token_lifespan",
                2,
                25,
            ),
            ("[realm]\nname = \"master\"\n", "master", 2, 8),
            (
                "[[users]]\nusername = \"Alice\"\npassword = \"p\"\n",
                "capital letters",
                2,
                12,
            ),
            (
                "[scopes.profile]\n",
                "scope name \"profile\" cannot be used",
                1,
                1,
            ),
            (
                "[roles.offline_access]\n",
                "role name \"offline_access\" cannot be used",
                1,
                1,
            ),
        ];
        for (text, fragment, line, column) in cases {
            let err = parsed(text).unwrap_err();
            let ProjectError::Invalid {
                line: l,
                column: c,
                message,
                fix,
                ..
            } = &err
            else {
                panic!("{text}: {err}");
            };
            assert!(message.contains(fragment), "{text}: {message}");
            assert_eq!((*l, *c), (*line, *column), "{text}: {message}");
            assert!(!fix.is_empty());
            assert!(
                err.to_string()
                    .starts_with(&format!("kcdev.toml:{line}:{column}: "))
            );
        }
    }

    #[test]
    fn passwords_come_from_the_environment_when_asked() {
        let text = "[[users]]\nusername = \"ann\"\npassword_env = \"ALICE_PASSWORD\"\n";
        let env = |name: &str| (name == "ALICE_PASSWORD").then(|| "secret".to_owned());
        let file = parse(Path::new("kcdev.toml"), text, &env).unwrap();
        assert_eq!(file.declared.users[0].password, "secret");
        assert_eq!(
            file.declared.users[0].password_env.as_deref(),
            Some("ALICE_PASSWORD")
        );
    }

    #[test]
    fn the_nearest_file_is_found_upwards() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(locate(None, &nested), None);
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(locate(None, &nested), Some(dir.path().join(FILE_NAME)));
        let named = dir.path().join("other.toml");
        assert_eq!(locate(Some(&named), &nested), Some(named));
    }

    #[test]
    fn init_writes_the_instances_realm_and_server() {
        let text = starter("notes", "http://localhost:9000");
        let file = parsed(&text).unwrap();
        assert_eq!(file.realm_name.as_deref(), Some("notes"));
        assert_eq!(file.server_urls, ["http://localhost:9000"]);
        assert_eq!(
            starter(crate::defaults::REALM, crate::defaults::SERVER_URL),
            STARTER
        );
    }

    #[test]
    fn the_readme_shows_the_starter_as_init_writes_it() {
        assert!(include_str!("../README.md").contains(STARTER));
    }

    /// `kcdev init`'s starter declares today's defaults: adopting it renders the same realm.
    #[test]
    fn the_starter_changes_nothing() {
        let file = parsed(STARTER).unwrap();
        let with_starter = RealmVariables {
            realm: file.realm_name.clone().unwrap(),
            server_url: file.server_urls[0].clone(),
            declared: file.declared.clone(),
            ..RealmVariables::default()
        };
        let with = crate::realm::RealmSpec::render(&with_starter).unwrap();
        let without = crate::realm::RealmSpec::render(&RealmVariables::default()).unwrap();
        assert_eq!(with, without);
    }
}
