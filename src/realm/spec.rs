use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::RealmError;
use super::declared::{
    ClaimSource, Declared, DeclaredGroup, DeclaredUser, OWNER_ATTRIBUTE, OWNER_VALUE,
};

/// The realm spec as shipped, with its placeholders.
const SPEC_SOURCE: &str = include_str!("../../realm/realm.toml");

/// A JSON object holding (part of) a Keycloak Admin API representation.
pub type Representation = Map<String, Value>;

/// The values that fill the spec's placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmVariables {
    /// Realm name.
    pub realm: String,
    /// The primary MCP server's base URL (no trailing slash).
    pub server_url: String,
    /// Further MCP servers' base URLs (a gateway and a tool server, say): each gets its own
    /// audiences and resource.
    pub additional_server_urls: Vec<String>,
    /// Test users' password.
    pub user_password: String,
    /// Whether the realm gets the test users.
    pub test_users: bool,
    /// Whether the realm's anonymous client-registration policies are kcdev's (open to loopback
    /// and the MCP clients' hosts); otherwise they are left as the server has them.
    pub anonymous_registration: bool,
    /// Trusted hosts beyond the built-in list (the server URL's host is added automatically).
    pub extra_trusted_hosts: Vec<String>,
    /// Client ID Metadata Documents, when the realm offers them.
    pub cimd: Option<CimdOptions>,
    /// What the project file declares for the project's own server.
    pub declared: Declared,
    pub registered_client_scopes: RegisteredClientScopes,
    /// Whether the realm records what clients do (`realm.toml`'s `[events]`, for `kcdev
    /// events`); otherwise kcdev leaves the server's event settings as they are.
    pub events: bool,
}

/// Which scopes a client that registers dynamically may ask for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegisteredClientScopes {
    /// The realm's default and optional scopes too, through kcdev's client-registration policy
    /// (its Keycloak provider): a registered client's tokens carry `mcp:tools` whatever it named,
    /// and it can step up.
    #[default]
    RealmOptional,
    /// Keycloak's own rule: only the scopes named at registration (the server lacks kcdev's
    /// provider).
    AsRegistered,
}

impl RegisteredClientScopes {
    /// The provider id of kcdev's policy (`realm.toml` names it too; a test holds the two).
    pub const PROVIDER_ID: &'static str = crate::provider::PROVIDER_ID;
}

impl Default for RealmVariables {
    /// kcdev's defaults: what `up` provisions when given no flags.
    fn default() -> Self {
        Self {
            realm: crate::defaults::REALM.to_owned(),
            server_url: crate::defaults::SERVER_URL.to_owned(),
            additional_server_urls: vec![],
            user_password: crate::defaults::USER_PASSWORD.to_owned(),
            test_users: true,
            anonymous_registration: true,
            extra_trusted_hosts: vec![],
            cimd: None,
            declared: Declared::default(),
            registered_client_scopes: RegisteredClientScopes::default(),
            events: true,
        }
    }
}

/// Client ID Metadata Documents (`kcdev up --cimd`): Keycloak's experimental `cimd` feature, and
/// a client policy that admits documents from the domains of the MCP clients that use them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CimdOptions {
    /// Domains beyond the built-in ones whose documents the realm accepts (`--cimd-domain`).
    #[serde(default)]
    pub extra_domains: Vec<String>,
}

impl CimdOptions {
    /// The Keycloak feature this needs (a build option of the image).
    pub const FEATURE: &'static str = "cimd";
}

/// The realm kcdev provisions, with its placeholders filled in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RealmSpec {
    /// The client scope MCP servers require.
    pub mcp_scope: String,
    /// Realm settings (a subset of `RealmRepresentation`).
    pub realm: Representation,
    /// Realm roles (key: `name`).
    pub roles: Vec<Representation>,
    /// Client scopes kcdev owns.
    pub client_scopes: Vec<ClientScopeSpec>,
    /// Protocol mappers attached to several scopes so every token carries them.
    pub token_claims: TokenClaimsSpec,
    /// The complete set of anonymous client-registration policies; `None` when kcdev leaves
    /// them as the server has them.
    pub anonymous_registration_policies: Option<Vec<PolicySpec>>,
    /// Clients kcdev owns (key: `clientId`).
    pub clients: Vec<Representation>,
    /// Test users, and the users the project declares.
    pub users: Vec<UserSpec>,
    /// Groups the project declares (key: `name`).
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// The client profile and policy for Client ID Metadata Documents; `None` when the realm does
    /// not offer them (and then kcdev removes its profile and policy if they are there).
    pub cimd: Option<CimdSpec>,
}

/// The client profile and client policy that admit CIMD clients. Keycloak keeps a realm's client
/// profiles in one document and its policies in another; kcdev owns the entries with these names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CimdSpec {
    /// A `ClientProfileRepresentation` (key: `name`).
    pub profile: Representation,
    /// A `ClientPolicyRepresentation` (key: `name`).
    pub policy: Representation,
}

impl CimdSpec {
    pub fn profile_name(&self) -> &str {
        field(&self.profile, "name")
    }

    pub fn policy_name(&self) -> &str {
        field(&self.policy, "name")
    }

    /// The domains whose `https` URLs the policy takes as CIMD client ids.
    pub fn client_id_domains(&self) -> Vec<String> {
        self.policy
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|condition| {
                condition
                    .pointer("/configuration/client-id-uri-allow-permitted-domains")?
                    .as_array()
            })
            .flatten()
            .filter_map(|domain| domain.as_str().map(str::to_owned))
            .collect()
    }
}

/// How the realm hands a scope to clients: Keycloak's "assigned type" of a realm client scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assigned {
    /// New clients get it as a default scope: in every token, asked for or not.
    Default,
    /// New clients, and kcdev's own clients, get it as an optional scope: in a token only when
    /// the client asks for it, which is how a client steps up.
    Optional,
}

impl Assigned {
    /// As `kcdev.toml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Optional => "optional",
        }
    }
}

/// A client scope kcdev owns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientScopeSpec {
    /// How clients get the scope; `None`: only clients that name it.
    #[serde(default)]
    pub assigned: Option<Assigned>,
    /// Realm roles mapped to the scope: they reach the tokens of clients without full scope
    /// (Keycloak creates CIMD clients so), which otherwise carry no realm roles at all.
    #[serde(default)]
    pub realm_roles: Vec<String>,
    /// The `ClientScopeRepresentation` fields kcdev sets (key: `name`).
    #[serde(flatten)]
    pub representation: Representation,
}

/// Protocol mappers kcdev keeps on the named scopes (its own or built-in ones).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenClaimsSpec {
    /// Names of the client scopes that carry the mappers.
    pub scopes: Vec<String>,
    /// The mappers (`ProtocolMapperRepresentation`s, key: `name`).
    pub protocol_mappers: Vec<Representation>,
}

/// One client-registration policy (a Keycloak component).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// Display name.
    pub name: String,
    /// Policy provider id (`trusted-hosts`, `max-clients`, ...).
    pub provider_id: String,
    /// Configuration: every key listed is set to exactly these values.
    pub config: BTreeMap<String, Vec<String>>,
}

/// A test user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    /// Password (never temporary).
    pub password: String,
    /// Realm roles mapped to the user.
    #[serde(default)]
    pub realm_roles: Vec<String>,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The `UserRepresentation` fields kcdev sets (key: `username`).
    #[serde(flatten)]
    pub representation: Representation,
}

/// A group the project declares.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupSpec {
    pub realm_roles: Vec<String>,
    /// The `GroupRepresentation` fields kcdev sets (key: `name`).
    pub representation: Representation,
}

impl GroupSpec {
    pub fn name(&self) -> &str {
        field(&self.representation, "name")
    }
}

/// Whether an object's attributes (Keycloak's `{"key": ["value"]}` or, on client scopes,
/// `{"key": "value"}`) say kcdev made it from a project file.
pub fn owned(representation: &Value) -> bool {
    match representation.pointer(&format!("/attributes/{OWNER_ATTRIBUTE}")) {
        Some(Value::String(value)) => value == OWNER_VALUE,
        Some(Value::Array(values)) => values.iter().any(|value| value == OWNER_VALUE),
        _ => false,
    }
}

/// The value of a representation's string field.
pub fn field<'a>(representation: &'a Representation, key: &str) -> &'a str {
    representation
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl ClientScopeSpec {
    /// The scope's name.
    pub fn name(&self) -> &str {
        field(&self.representation, "name")
    }
}

impl UserSpec {
    /// The user's name.
    pub fn username(&self) -> &str {
        field(&self.representation, "username")
    }

    /// The user's groups as Keycloak names them in a user representation: `/acme`.
    pub fn group_paths(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|group| format!("/{group}"))
            .collect()
    }
}

/// The MCP resource URL of a server: its base URL plus `/mcp`.
pub fn resource_url_of(server_url: &str) -> String {
    format!("{}/mcp", server_url.trim_end_matches('/'))
}

impl RealmVariables {
    /// The primary server's MCP resource URL.
    pub fn resource_url(&self) -> String {
        resource_url_of(&self.server_url)
    }

    /// Every server's base URL, the primary first.
    pub fn server_urls(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.server_url.as_str())
            .chain(self.additional_server_urls.iter().map(String::as_str))
    }

    /// Checks the values before they reach Keycloak, so a typo is reported with its flag.
    pub fn validate(&self) -> Result<(), RealmError> {
        let realm_ok = !self.realm.is_empty()
            && self.realm.len() <= 64
            && self
                .realm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !realm_ok {
            return Err(RealmError::InvalidSetting {
                setting: "realm name",
                value: self.realm.clone(),
                expected: "1 to 64 characters of letters, digits, '-' or '_'",
            });
        }
        // The master realm guards the admin console itself: kcdev never provisions it.
        if self.realm.eq_ignore_ascii_case("master") {
            return Err(RealmError::InvalidSetting {
                setting: "realm name",
                value: self.realm.clone(),
                expected: "a realm other than master (kcdev never changes the master realm)",
            });
        }
        for (i, url) in self.server_urls().enumerate() {
            check_http_url("server URL", url)?;
            if self.server_urls().take(i).any(|earlier| earlier == url) {
                return Err(RealmError::InvalidSetting {
                    setting: "server URL",
                    value: url.to_owned(),
                    expected: "each server once (this one is given twice)",
                });
            }
        }
        if self.user_password.is_empty()
            || self.user_password.len() > 128
            || self.user_password.chars().any(char::is_control)
        {
            return Err(RealmError::InvalidSetting {
                setting: "user password",
                value: self.user_password.clone(),
                expected: "1 to 128 characters, no control characters",
            });
        }
        let no_domains = Vec::new();
        let cimd_domains = self
            .cimd
            .as_ref()
            .map_or(&no_domains, |cimd| &cimd.extra_domains);
        for (setting, hosts) in [
            ("trusted host", &self.extra_trusted_hosts),
            ("CIMD domain", cimd_domains),
        ] {
            if let Some(bad) = hosts.iter().find(|host| !is_host_name(host)) {
                return Err(RealmError::InvalidSetting {
                    setting,
                    value: bad.clone(),
                    expected: "a host name or IP address such as example.com, *.example.com or 10.0.0.5",
                });
            }
        }
        Ok(())
    }

    fn server_hosts(&self) -> Vec<String> {
        self.server_urls()
            .filter_map(|url| {
                Url::parse(url)
                    .ok()?
                    .host_str()
                    .map(|host| host.trim_matches(['[', ']']).to_owned())
            })
            .collect()
    }
}

/// Checks a URL a client or server is configured with: http(s), a host, no user name or password
/// (they would end up in tokens and config files), no query or fragment. The URL lands in token
/// audiences, generated source code and shell commands kcdev prints, so it is held to characters
/// that mean the same in all of them: ASCII letters and digits and `-._~:/[]%+=` (IPv6 hosts in
/// brackets, percent-encoding for anything else).
pub fn check_http_url(setting: &'static str, text: &str) -> Result<(), RealmError> {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/[]%+=".contains(c));
    let ok = plain
        && Url::parse(text).ok().is_some_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|host| !host.is_empty())
                && url.username().is_empty()
                && url.password().is_none()
        });
    if ok {
        Ok(())
    } else {
        Err(RealmError::InvalidSetting {
            setting,
            value: text.to_owned(),
            expected: "an http(s) URL such as http://localhost:8000: no user name, query or fragment, ASCII only (international host names in their xn-- form)",
        })
    }
}

fn is_host_name(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
}

impl RealmSpec {
    /// The shipped spec with `variables` filled in.
    pub fn render(variables: &RealmVariables) -> Result<Self, RealmError> {
        variables.validate()?;
        let mut source: Value =
            toml::from_str(SPEC_SOURCE).map_err(|err| RealmError::Spec(err.to_string()))?;
        let mut section = |name: &str| {
            source
                .as_object_mut()
                .and_then(|spec| spec.remove(name))
                .ok_or_else(|| RealmError::Spec(format!("no [{name}] section")))
        };
        let per_server = section("perServer")?;
        let declared_shapes = section("declared")?;
        let events = section("events")?;
        if variables.events {
            merge_into(&mut source, "realm", events)?;
        }
        let mut hosts = variables.server_hosts();
        hosts.extend(variables.extra_trusted_hosts.iter().cloned());
        let scalars = [
            ("realm", variables.realm.clone()),
            (
                "server_url",
                variables.server_url.trim_end_matches('/').to_owned(),
            ),
            ("resource_url", variables.resource_url()),
            ("user_password", variables.user_password.clone()),
        ];
        let cimd_domains = variables
            .cimd
            .as_ref()
            .map(|cimd| cimd.extra_domains.clone())
            .unwrap_or_default();
        let lists = [
            ("extra_trusted_hosts", hosts),
            ("cimd_domains", cimd_domains),
        ];
        let mut rendered = super::render::substitute(source, &scalars, &lists)?;
        for (index, server_url) in variables.server_urls().enumerate() {
            let server = [
                ("server_url", server_url.trim_end_matches('/').to_owned()),
                ("resource_url", resource_url_of(server_url)),
                (
                    "server_suffix",
                    if index == 0 {
                        String::new()
                    } else {
                        format!(" (server {})", index + 1)
                    },
                ),
            ];
            let objects = super::render::substitute(per_server.clone(), &server, &[])?;
            append(
                &mut rendered["tokenClaims"]["protocolMappers"],
                &objects["protocolMappers"],
            )?;
            append(
                &mut rendered["clients"],
                &Value::Array(vec![objects["resourceClient"].clone()]),
            )?;
        }
        let mut spec: Self =
            serde_json::from_value(rendered).map_err(|err| RealmError::Spec(err.to_string()))?;
        if variables.cimd.is_none() {
            spec.cimd = None;
        }
        if !variables.test_users {
            spec.users.clear();
        }
        if !variables.anonymous_registration {
            spec.anonymous_registration_policies = None;
        }
        if variables.registered_client_scopes == RegisteredClientScopes::AsRegistered {
            for policies in spec.anonymous_registration_policies.iter_mut() {
                policies.retain(|policy| policy.provider_id != RegisteredClientScopes::PROVIDER_ID);
            }
        }
        spec.add_declared(&variables.declared, &declared_shapes)?;
        for policy in spec.anonymous_registration_policies.iter_mut().flatten() {
            for values in policy.config.values_mut() {
                dedup_keep_order(values);
            }
        }
        Ok(spec)
    }

    /// The trusted hosts the spec gives anonymous client registration.
    pub fn trusted_hosts(&self) -> &[String] {
        self.anonymous_registration_policies
            .iter()
            .flatten()
            .find(|policy| policy.provider_id == "trusted-hosts")
            .and_then(|policy| policy.config.get("trusted-hosts"))
            .map_or(&[], Vec::as_slice)
    }

    /// The realm name.
    pub fn realm_name(&self) -> &str {
        field(&self.realm, "realm")
    }
}

/// The owner attribute as Keycloak keeps it on roles, groups and users.
fn owner_attributes(attributes: &BTreeMap<String, Vec<String>>) -> Value {
    let mut all = attributes.clone();
    all.insert(OWNER_ATTRIBUTE.to_owned(), vec![OWNER_VALUE.to_owned()]);
    serde_json::json!(all)
}

fn shape(
    shapes: &Value,
    path: &str,
    scalars: &[(&str, String)],
) -> Result<Representation, RealmError> {
    let template = shapes.pointer(path).cloned().ok_or_else(|| {
        RealmError::Spec(format!("no [declared{}] shape", path.replace('/', ".")))
    })?;
    match super::render::substitute(template, scalars, &[])? {
        Value::Object(map) => Ok(map),
        _ => Err(RealmError::Spec(format!("[declared{path}] is not a table"))),
    }
}

impl RealmSpec {
    /// Adds what a project declares, in the shapes `realm.toml`'s `[declared]` gives. A declared
    /// role, scope or user with the name of one of kcdev's own takes its place (the file says
    /// otherwise), without the owner mark: kcdev's own objects are never removed.
    fn add_declared(&mut self, declared: &Declared, shapes: &Value) -> Result<(), RealmError> {
        if let Some(seconds) = declared.access_token_lifespan {
            self.realm
                .insert("accessTokenLifespan".to_owned(), serde_json::json!(seconds));
        }
        for role in &declared.roles {
            let description = role.description.clone().unwrap_or_default();
            match self
                .roles
                .iter_mut()
                .find(|known| field(known, "name") == role.name)
            {
                Some(known) => {
                    if role.description.is_some() {
                        known.insert("description".to_owned(), Value::String(description));
                    }
                }
                None => {
                    let mut body = Representation::new();
                    body.insert("name".to_owned(), Value::String(role.name.clone()));
                    body.insert("description".to_owned(), Value::String(description));
                    body.insert("attributes".to_owned(), owner_attributes(&BTreeMap::new()));
                    self.roles.push(body);
                }
            }
        }
        for scope in &declared.scopes {
            let description = scope
                .description
                .clone()
                .unwrap_or_else(|| scope.name.clone());
            match self
                .client_scopes
                .iter_mut()
                .find(|known| known.name() == scope.name)
            {
                Some(known) => {
                    known.assigned = Some(scope.assigned);
                    known.realm_roles = scope.roles.clone();
                    if scope.description.is_some() {
                        known
                            .representation
                            .insert("description".to_owned(), Value::String(description));
                    }
                }
                None => {
                    let representation = shape(
                        shapes,
                        "/scope",
                        &[("name", scope.name.clone()), ("description", description)],
                    )?;
                    self.client_scopes.push(ClientScopeSpec {
                        assigned: Some(scope.assigned),
                        realm_roles: scope.roles.clone(),
                        representation,
                    });
                }
            }
            if !self.token_claims.scopes.contains(&scope.name) {
                self.token_claims.scopes.push(scope.name.clone());
            }
            for policy in self.anonymous_registration_policies.iter_mut().flatten() {
                if let Some(allowed) = policy.config.get_mut("allowed-client-scopes")
                    && !allowed.contains(&scope.name)
                {
                    allowed.push(scope.name.clone());
                }
            }
        }
        for audience in declared.extra_audiences() {
            let mapper = shape(shapes, "/audienceMapper", &[("audience", audience)])?;
            self.token_claims.protocol_mappers.push(mapper);
        }
        for claim in &declared.claims {
            let (kind, value) = match &claim.source {
                ClaimSource::UserAttribute(attribute) => ("user_attribute", attribute.clone()),
                ClaimSource::Groups => ("groups", String::new()),
                ClaimSource::Constant(value) => ("constant", value.clone()),
            };
            let mut scalars = vec![("claim", claim.name.clone()), ("value", value)];
            scalars.push(("multivalued", claim.multivalued.to_string()));
            let mapper = shape(shapes, &format!("/claimMappers/{kind}"), &scalars)?;
            self.token_claims.protocol_mappers.push(mapper);
        }
        self.groups = declared.groups.iter().map(group_spec).collect();
        for user in &declared.users {
            let spec = user_spec(user);
            match self
                .users
                .iter_mut()
                .find(|known| known.username() == user.username)
            {
                Some(known) => *known = spec,
                None => self.users.push(spec),
            }
        }
        Ok(())
    }
}

fn group_spec(group: &DeclaredGroup) -> GroupSpec {
    let mut representation = Representation::new();
    representation.insert("name".to_owned(), Value::String(group.name.clone()));
    representation.insert("attributes".to_owned(), owner_attributes(&group.attributes));
    GroupSpec {
        realm_roles: group.roles.clone(),
        representation,
    }
}

fn user_spec(user: &DeclaredUser) -> UserSpec {
    let mut representation = Representation::new();
    let mut set = |key: &str, value: Value| {
        representation.insert(key.to_owned(), value);
    };
    set("username", Value::String(user.username.clone()));
    // A login never stops at a form: Keycloak's user profile asks a user without an email or a
    // name for them, so these get defaults; the profile is verified, no action is required.
    let or = |value: &Option<String>, default: String| value.clone().unwrap_or(default);
    // Keycloak keeps email addresses in lower case; so must the spec, or every `up` would
    // see a difference.
    let email = match &user.email {
        Some(email) => email.to_lowercase(),
        None if user.username.contains('@') => user.username.clone(),
        None => format!("{}@example.com", user.username),
    };
    set("email", Value::String(email));
    set(
        "firstName",
        Value::String(or(&user.first_name, user.username.clone())),
    );
    set(
        "lastName",
        Value::String(or(&user.last_name, "Kcdev".to_owned())),
    );
    set("enabled", Value::Bool(true));
    set("emailVerified", Value::Bool(true));
    set("requiredActions", serde_json::json!([]));
    set("attributes", owner_attributes(&user.attributes));
    UserSpec {
        password: user.password.clone(),
        realm_roles: user.roles.clone(),
        groups: user.groups.clone(),
        representation,
    }
}

/// Adds the members of the table `more` to the spec's table `name`.
fn merge_into(source: &mut Value, name: &str, more: Value) -> Result<(), RealmError> {
    match (source.get_mut(name), more) {
        (Some(Value::Object(table)), Value::Object(more)) => {
            table.extend(more);
            Ok(())
        }
        _ => Err(RealmError::Spec(format!(
            "[{name}] cannot take the members of another section"
        ))),
    }
}

/// Appends the items of the list `more` to the list `list`.
fn append(list: &mut Value, more: &Value) -> Result<(), RealmError> {
    match (list, more) {
        (Value::Array(list), Value::Array(more)) => {
            list.extend(more.iter().cloned());
            Ok(())
        }
        _ => Err(RealmError::Spec(
            "[perServer] lists do not match the spec's".to_owned(),
        )),
    }
}

fn dedup_keep_order(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|value| seen.insert(value.clone()));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn variables() -> RealmVariables {
        RealmVariables {
            extra_trusted_hosts: vec!["example.org".into()],
            ..RealmVariables::default()
        }
    }

    #[test]
    fn the_shipped_spec_renders_completely() {
        let spec = RealmSpec::render(&variables()).unwrap();
        let text = serde_json::to_string(&serde_json::json!({
            "realm": spec.realm,
            "roles": spec.roles,
            "mappers": spec.token_claims.protocol_mappers,
            "users": spec.users.iter().map(|u| &u.representation).collect::<Vec<_>>(),
        }))
        .unwrap();
        assert!(!text.contains("${"), "unfilled placeholder in {text}");
        assert_eq!(spec.realm_name(), "fastmcp");
        assert!(
            spec.client_scopes
                .iter()
                .any(|scope| scope.name() == spec.mcp_scope)
        );
        assert!(spec.token_claims.scopes.contains(&spec.mcp_scope));
        assert!(spec.users.iter().all(|user| user.password == "password123"));
    }

    #[test]
    fn events_are_recorded_only_where_asked_for() {
        let spec = RealmSpec::render(&variables()).unwrap();
        assert_eq!(spec.realm["eventsEnabled"], true);
        assert!(spec.realm["eventsExpiration"].as_u64().unwrap() > 0);
        let types = spec.realm["enabledEventTypes"].as_array().unwrap();
        for wanted in [
            "CLIENT_REGISTER_ERROR",
            "LOGIN_ERROR",
            "CODE_TO_TOKEN",
            "REFRESH_TOKEN_ERROR",
        ] {
            assert!(types.iter().any(|t| t == wanted), "{wanted}");
        }
        // A server kcdev does not run keeps its own event settings.
        let without = RealmVariables {
            events: false,
            ..variables()
        };
        let spec = RealmSpec::render(&without).unwrap();
        for key in ["eventsEnabled", "eventsExpiration", "enabledEventTypes"] {
            assert!(!spec.realm.contains_key(key), "{key}");
        }
    }

    #[test]
    fn registered_clients_get_optional_scopes_only_where_the_provider_is() {
        let has_policy = |spec: &RealmSpec| {
            spec.anonymous_registration_policies
                .iter()
                .flatten()
                .any(|policy| policy.provider_id == RegisteredClientScopes::PROVIDER_ID)
        };
        assert!(has_policy(&RealmSpec::render(&variables()).unwrap()));
        let without = RealmVariables {
            registered_client_scopes: RegisteredClientScopes::AsRegistered,
            ..variables()
        };
        assert!(!has_policy(&RealmSpec::render(&without).unwrap()));
    }

    #[test]
    fn audiences_are_the_resource_and_the_base_url() {
        let spec = RealmSpec::render(&variables()).unwrap();
        let audiences: Vec<_> = spec
            .token_claims
            .protocol_mappers
            .iter()
            .filter_map(|mapper| mapper["config"].get("included.custom.audience"))
            .collect();
        assert_eq!(
            audiences,
            ["http://localhost:8000/mcp", "http://localhost:8000"]
        );
    }

    #[test]
    fn trusted_hosts_add_the_server_host_and_extras_once() {
        let spec = RealmSpec::render(&variables()).unwrap();
        let hosts = spec.trusted_hosts();
        assert_eq!(hosts.iter().filter(|h| *h == "localhost").count(), 1);
        assert!(hosts.contains(&"example.org".to_owned()));
        assert!(hosts.contains(&"github.com".to_owned()));
        let elsewhere = RealmVariables {
            server_url: "https://mcp.internal.test:9443".into(),
            ..variables()
        };
        assert!(
            RealmSpec::render(&elsewhere)
                .unwrap()
                .trusted_hosts()
                .contains(&"mcp.internal.test".to_owned())
        );
    }

    /// Every string in `value` replaced by "", so two renderings compare by structure alone.
    fn shape(value: &Value) -> Value {
        match value {
            Value::String(_) => Value::String(String::new()),
            Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), shape(value)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn rendered_shape(spec: &RealmSpec) -> Value {
        shape(&serde_json::json!({
            "realm": spec.realm,
            "roles": spec.roles,
            "scopes": spec.client_scopes.iter().map(|s| &s.representation).collect::<Vec<_>>(),
            "mappers": spec.token_claims.protocol_mappers,
            "users": spec.users.iter().map(|u| (&u.representation, &u.password)).collect::<Vec<_>>(),
            "policies": spec.anonymous_registration_policies.iter().flatten().map(|p| &p.config).collect::<Vec<_>>(),
        }))
    }

    proptest::proptest! {
        /// Whatever the flags hold (quotes, `${...}`, unicode, JSON), a spec that renders has the
        /// same structure as the default one, and the value arrives verbatim.
        #[test]
        fn flag_values_never_change_what_is_sent(
            password in "\\PC{1,40}",
            realm in "[A-Za-z0-9_-]{1,20}",
            path in "(/[a-z0-9${}'\"%-]{0,8}){0,2}",
        ) {
            let hostile = RealmVariables {
                realm: realm.clone(),
                server_url: format!("http://localhost:8000{path}"),
                user_password: password.clone(),
                ..variables()
            };
            if let Ok(spec) = RealmSpec::render(&hostile) {
                let benign = RealmSpec::render(&variables()).unwrap();
                proptest::prop_assert_eq!(rendered_shape(&spec), rendered_shape(&benign));
                proptest::prop_assert!(spec.users.iter().all(|user| user.password == password));
                proptest::prop_assert_eq!(spec.realm_name(), realm.as_str());
            }
        }
    }

    #[test]
    fn rejects_bad_settings_with_their_name() {
        let cases = [
            RealmVariables {
                realm: "a/b".into(),
                ..variables()
            },
            RealmVariables {
                server_url: "localhost:8000".into(),
                ..variables()
            },
            RealmVariables {
                server_url: "ftp://x".into(),
                ..variables()
            },
            RealmVariables {
                extra_trusted_hosts: vec!["http://x/".into()],
                ..variables()
            },
            RealmVariables {
                realm: "master".into(),
                ..variables()
            },
            RealmVariables {
                realm: "Master".into(),
                ..variables()
            },
            RealmVariables {
                user_password: String::new(),
                ..variables()
            },
            RealmVariables {
                server_url: "http://user:pw@localhost:8000".into(),
                ..variables()
            },
            RealmVariables {
                server_url: "http://localhost:8000/?x=1".into(),
                ..variables()
            },
            RealmVariables {
                server_url: "http://localhost:8000/#top".into(),
                ..variables()
            },
        ];
        for case in cases {
            assert!(
                matches!(
                    RealmSpec::render(&case),
                    Err(RealmError::InvalidSetting { .. })
                ),
                "{case:?}"
            );
        }
    }
}
