//! The pure core of provisioning: from the spec and what the server holds, the list of changes
//! that makes the server match. No I/O here.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::RealmError;
use super::declared::{CLAIM_MAPPER_PREFIX, OWNER_ATTRIBUTE};
use super::diff::field_differences;
use super::observe::{ObservedRealm, POLICY_TYPE};
use super::spec::{Assigned, PolicySpec, RealmSpec, Representation, field, owned};
use crate::keycloak::PreparedKeys;

/// The name of kcdev's CIMD client profile and policy (`realm.toml`'s `[cimd]`), which kcdev
/// looks for to remove them when the realm no longer offers CIMD.
const CIMD_ENTRY_NAME: &str = "kcdev-cimd";

/// How the names of kcdev's audience mappers begin (`realm.toml`'s `[perServer]`).
const AUDIENCE_MAPPER_PREFIX: &str = "kcdev audience";

/// Component type of the realm's key providers.
const KEY_PROVIDER_TYPE: &str = "org.keycloak.keys.KeyProvider";

/// What a change does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The object is created.
    Create,
    /// Fields of the object are changed.
    Update,
    /// The object is removed.
    Delete,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        })
    }
}

/// One change to one object of the realm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Create, update or delete.
    pub kind: ChangeKind,
    /// The object, as a person would name it ("client scope mcp:tools").
    pub object: String,
    /// The fields that differ, as `path: current -> wanted`.
    pub details: Vec<String>,
    #[serde(skip)]
    pub(crate) action: Action,
}

/// The Admin API call that carries out a change. Objects are named, not identified, where the
/// id is only known once an earlier change has run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    CreateRealm(Value),
    UpdateRealm(Value),
    CreateRole(Value),
    UpdateRole {
        name: String,
        body: Value,
    },
    CreateClientScope(Value),
    UpdateClientScope {
        id: String,
        body: Value,
    },
    AssignRealmScope {
        scope: String,
        assigned: Assigned,
    },
    /// Takes the scope out of the realm's other assignment, then assigns it as `assigned`.
    MoveRealmScope {
        scope: String,
        assigned: Assigned,
    },
    AddClientScope {
        client: String,
        scope: String,
        assigned: Assigned,
    },
    AddScopeRealmRoles {
        scope: String,
        roles: Vec<String>,
    },
    CreateMapper {
        scope: String,
        body: Value,
    },
    UpdateMapper {
        scope: String,
        id: String,
        body: Value,
    },
    DeleteMapper {
        scope: String,
        id: String,
    },
    CreatePolicy(Value),
    UpdatePolicy {
        id: String,
        body: Value,
    },
    DeletePolicy {
        id: String,
    },
    CreateClient(Value),
    UpdateClient {
        id: String,
        body: Value,
    },
    CreateUser {
        body: Value,
        roles: Vec<String>,
    },
    UpdateUser {
        id: String,
        body: Value,
    },
    AddUserRoles {
        id: String,
        roles: Vec<String>,
    },
    ResetPassword {
        id: String,
        password: String,
    },
    DeleteRole {
        name: String,
    },
    DeleteClientScope {
        id: String,
    },
    /// Lets admins (kcdev) keep attributes the user profile does not declare: the owner mark
    /// and the attributes a project gives its users.
    UpdateUserProfile(Value),
    CreateGroup {
        body: Value,
        roles: Vec<String>,
    },
    UpdateGroup {
        id: String,
        body: Value,
    },
    AddGroupRoles {
        group: String,
        roles: Vec<String>,
    },
    DeleteGroup {
        id: String,
    },
    JoinGroup {
        user: String,
        group: String,
    },
    LeaveGroup {
        user: String,
        group: String,
    },
    RemoveUserRoles {
        id: String,
        roles: Vec<String>,
    },
    DeleteUser {
        id: String,
    },
    /// Replaces the realm's client profiles (Keycloak takes them as one document).
    PutClientProfiles(Value),
    /// Replaces the realm's client policies (one document too).
    PutClientPolicies(Value),
}

/// The changes that make the realm match the spec, and the objects that already do.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Changes, in the order they must run.
    pub changes: Vec<Change>,
    /// Objects that already match.
    pub unchanged: Vec<String>,
}

impl Change {
    /// Creating the realm with everything in it, in one call (one transaction, instead of a
    /// call per object); with `keys`, its key providers come with kcdev's RSA keys instead of
    /// Keycloak generating them. The plan of the realm this creates is empty.
    pub(crate) fn create_realm(
        spec: &RealmSpec,
        keys: Option<&PreparedKeys>,
    ) -> Result<Self, RealmError> {
        let mut body = super::export::representation(spec)?;
        if let Some(keys) = keys
            && let Some(components) = body.get_mut("components").and_then(Value::as_object_mut)
        {
            components.insert(
                KEY_PROVIDER_TYPE.to_owned(),
                json!(keys.realm_key_providers()),
            );
        }
        Ok(Self {
            kind: ChangeKind::Create,
            object: format!("realm {}", spec.realm_name()),
            details: vec![],
            action: Action::CreateRealm(Value::Object(body)),
        })
    }
}

impl Plan {
    fn record(&mut self, object: String, kind: ChangeKind, details: Vec<String>, action: Action) {
        self.changes.push(Change {
            kind,
            object,
            details,
            action,
        });
    }

    /// Adds `action`, which creates `object`, unless the object is `present`.
    fn create_unless(&mut self, present: bool, object: String, action: Action) {
        if present {
            self.unchanged.push(object);
        } else {
            self.record(object, ChangeKind::Create, vec![], action);
        }
    }

    /// Adds a create, an update (when fields differ) or nothing.
    fn converge(
        &mut self,
        object: String,
        wanted: &Representation,
        actual: Option<&Value>,
        create: impl FnOnce() -> Action,
        update: impl FnOnce(&Value) -> Action,
    ) {
        match actual {
            None => self.record(object, ChangeKind::Create, vec![], create()),
            Some(actual) => {
                let details = field_differences(&Value::Object(wanted.clone()), actual);
                if details.is_empty() {
                    self.unchanged.push(object);
                } else {
                    let action = update(actual);
                    self.record(object, ChangeKind::Update, details, action);
                }
            }
        }
    }
}

/// What kcdev wants of an object the project declares: without the owner mark when the object
/// exists unmarked (kcdev's own, Keycloak's, or one made by hand), so declaring its name never
/// adopts it, and taking the name out of the file never removes it.
fn unadopted(wanted: &Representation, actual: Option<&Value>) -> Representation {
    let mut wanted = wanted.clone();
    if actual.is_some_and(|actual| !owned(actual))
        && let Some(Value::Object(attributes)) = wanted.get_mut("attributes")
    {
        attributes.remove(OWNER_ATTRIBUTE);
    }
    wanted
}

/// The existing object overlaid with the spec's fields: a full representation for PUT requests
/// that replace an object, changing only what the spec declares.
fn merged(actual: &Value, wanted: &Representation) -> Value {
    let mut body = actual.clone();
    json_patch::merge(&mut body, &Value::Object(wanted.clone()));
    body
}

fn id_of(value: &Value) -> String {
    value
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn find_by<'a>(items: &'a [Value], key: &str, wanted: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|item| item.get(key).and_then(Value::as_str) == Some(wanted))
}

/// Plans the changes for an existing realm.
pub fn plan(spec: &RealmSpec, observed: &ObservedRealm) -> Plan {
    let mut plan = Plan::default();
    if let Some(realm) = &observed.realm {
        plan.converge(
            "realm settings".to_owned(),
            &spec.realm,
            Some(realm),
            || Action::UpdateRealm(Value::Object(spec.realm.clone())),
            |_| Action::UpdateRealm(Value::Object(spec.realm.clone())),
        );
    }
    plan_roles(spec, observed, &mut plan);
    let created_scopes = plan_client_scopes(spec, observed, &mut plan);
    plan_token_claims(spec, observed, &created_scopes, &mut plan);
    plan_policies(spec, observed, &mut plan);
    plan_clients(spec, observed, &mut plan);
    plan_user_profile(spec, observed, &mut plan);
    plan_groups(spec, observed, &mut plan);
    plan_users(spec, observed, &mut plan);
    plan_cimd(spec, observed, &mut plan);
    plan_removals(spec, observed, &mut plan);
    plan
}

/// The unmanaged-attribute policies under which Keycloak keeps the attributes kcdev sets.
const KEEPS_ATTRIBUTES: [&str; 2] = ["ENABLED", "ADMIN_EDIT"];

fn plan_user_profile(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    let needs_attributes = spec.users.iter().any(|user| {
        user.representation
            .get("attributes")
            .is_some_and(|attributes| attributes.as_object().is_some_and(|map| !map.is_empty()))
    });
    let Some(profile) = &observed.user_profile else {
        return;
    };
    if !needs_attributes {
        return;
    }
    let policy = field_of(profile, "unmanagedAttributePolicy");
    let object = "user profile: unmanaged attributes".to_owned();
    if KEEPS_ATTRIBUTES.contains(&policy) {
        plan.unchanged.push(object);
    } else {
        let mut body = profile.clone();
        body["unmanagedAttributePolicy"] = json!("ADMIN_EDIT");
        let current = if policy.is_empty() { "off" } else { policy };
        plan.record(
            object,
            ChangeKind::Update,
            vec![format!("unmanagedAttributePolicy: {current} -> ADMIN_EDIT")],
            Action::UpdateUserProfile(body),
        );
    }
}

fn plan_groups(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    for group in &spec.groups {
        let name = group.name();
        let actual = find_by(&observed.groups, "name", name);
        let representation = &unadopted(&group.representation, actual);
        plan.converge(
            format!("group {name}"),
            representation,
            actual,
            || Action::CreateGroup {
                body: Value::Object(representation.clone()),
                roles: group.realm_roles.clone(),
            },
            |actual| Action::UpdateGroup {
                id: id_of(actual),
                body: merged(actual, representation),
            },
        );
        if actual.is_none() {
            continue;
        }
        let missing = missing_roles(&group.realm_roles, observed.group_realm_roles.get(name));
        let object = format!("roles of group {name}");
        if missing.is_empty() {
            plan.unchanged.push(object);
        } else {
            plan.record(
                object,
                ChangeKind::Update,
                vec![format!("add {}", missing.join(", "))],
                Action::AddGroupRoles {
                    group: name.to_owned(),
                    roles: missing,
                },
            );
        }
    }
}

/// What kcdev made from a project file that the file no longer declares: roles, client scopes,
/// groups and users carrying the owner mark. Objects without it (kcdev's own, or made by hand)
/// are never removed. They go last, once nothing planned refers to them any more.
/// One kind of object a project file declares, as removal looks at it.
struct Removable<'a> {
    observed: &'a [Value],
    key: &'static str,
    declared: HashSet<&'a str>,
    kind: &'static str,
    delete: fn(&Value) -> Action,
}

fn plan_removals(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    let kinds = [
        Removable {
            observed: &observed.roles,
            key: "name",
            declared: spec.roles.iter().map(|role| field(role, "name")).collect(),
            kind: "realm role",
            delete: |role| Action::DeleteRole {
                name: field_of(role, "name").to_owned(),
            },
        },
        Removable {
            observed: &observed.client_scopes,
            key: "name",
            declared: spec
                .client_scopes
                .iter()
                .map(|scope| scope.name())
                .collect(),
            kind: "client scope",
            delete: |scope| Action::DeleteClientScope { id: id_of(scope) },
        },
        Removable {
            observed: &observed.groups,
            key: "name",
            declared: spec.groups.iter().map(|group| group.name()).collect(),
            kind: "group",
            delete: |group| Action::DeleteGroup { id: id_of(group) },
        },
        Removable {
            observed: &observed.owned_users,
            key: "username",
            declared: spec.users.iter().map(|user| user.username()).collect(),
            kind: "user",
            delete: |user| Action::DeleteUser { id: id_of(user) },
        },
    ];
    for removable in kinds {
        for item in removable.observed.iter().filter(|item| {
            owned(item) && !removable.declared.contains(field_of(item, removable.key))
        }) {
            plan.record(
                format!("{} {}", removable.kind, field_of(item, removable.key)),
                ChangeKind::Delete,
                vec![],
                (removable.delete)(item),
            );
        }
    }
}

/// The roles of `wanted` not among `mapped`.
fn missing_roles(wanted: &[String], mapped: Option<&Vec<String>>) -> Vec<String> {
    wanted
        .iter()
        .filter(|role| !mapped.is_some_and(|mapped| mapped.contains(role)))
        .cloned()
        .collect()
}

/// The changes that take kcdev's CIMD policy and profile away when the realm no longer offers
/// CIMD. Keycloak then no longer has the executor the policy uses (the container was replaced
/// without the feature), and until the policy goes every token request of the realm fails, the
/// users' password checks included: these run, and the realm is read again, before the rest is
/// planned.
pub(crate) fn cimd_removal(spec: &RealmSpec, observed: &ObservedRealm) -> Vec<Change> {
    if spec.cimd.is_some() {
        return vec![];
    }
    let mut plan = Plan::default();
    plan_cimd(spec, observed, &mut plan);
    plan.changes
}

/// `items` with the one named `name` replaced by `wanted`, or without it when `wanted` is `None`;
/// the others stay as they are.
fn with_entry(items: &[Value], name: &str, wanted: Option<&Representation>) -> Vec<Value> {
    let mut out: Vec<Value> = items
        .iter()
        .filter(|item| item.get("name").and_then(Value::as_str) != Some(name))
        .cloned()
        .collect();
    out.extend(wanted.map(|wanted| Value::Object(wanted.clone())));
    out
}

/// The CIMD client profile and policy: present as the spec says when the realm offers CIMD,
/// absent otherwise. A policy may only name profiles that exist, so profiles change first when
/// they come and last when they go.
fn plan_cimd(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    // The names are the spec's, whether or not the mode is on.
    let (profile_name, policy_name) = match &spec.cimd {
        Some(cimd) => (cimd.profile_name(), cimd.policy_name()),
        None => (CIMD_ENTRY_NAME, CIMD_ENTRY_NAME),
    };
    let profiles = |wanted| {
        Action::PutClientProfiles(
            json!({"profiles": with_entry(&observed.client_profiles, profile_name, wanted)}),
        )
    };
    let policies = |wanted| {
        Action::PutClientPolicies(
            json!({"policies": with_entry(&observed.client_policies, policy_name, wanted)}),
        )
    };
    let profile = find_by(&observed.client_profiles, "name", profile_name);
    let policy = find_by(&observed.client_policies, "name", policy_name);
    match &spec.cimd {
        Some(cimd) => {
            plan.converge(
                format!("client profile {profile_name}"),
                &cimd.profile,
                profile,
                || profiles(Some(&cimd.profile)),
                |_| profiles(Some(&cimd.profile)),
            );
            plan.converge(
                format!("client policy {policy_name}"),
                &cimd.policy,
                policy,
                || policies(Some(&cimd.policy)),
                |_| policies(Some(&cimd.policy)),
            );
        }
        None => {
            if policy.is_some() {
                plan.record(
                    format!("client policy {policy_name}"),
                    ChangeKind::Delete,
                    vec![],
                    policies(None),
                );
            }
            if profile.is_some() {
                plan.record(
                    format!("client profile {profile_name}"),
                    ChangeKind::Delete,
                    vec![],
                    profiles(None),
                );
            }
        }
    }
}

fn plan_roles(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    for role in &spec.roles {
        let name = field(role, "name").to_owned();
        let actual = find_by(&observed.roles, "name", &name);
        let role = &unadopted(role, actual);
        plan.converge(
            format!("realm role {name}"),
            role,
            actual,
            || Action::CreateRole(Value::Object(role.clone())),
            |actual| Action::UpdateRole {
                name: name.clone(),
                body: merged(actual, role),
            },
        );
    }
}

/// Returns the names of the scopes this plan creates (their mappers come with them).
fn plan_client_scopes(
    spec: &RealmSpec,
    observed: &ObservedRealm,
    plan: &mut Plan,
) -> HashSet<String> {
    let mut created = HashSet::new();
    for scope in &spec.client_scopes {
        let name = scope.name().to_owned();
        let actual = find_by(&observed.client_scopes, "name", &name);
        if actual.is_none() {
            created.insert(name.clone());
        }
        let representation = &unadopted(&scope.representation, actual);
        plan.converge(
            format!("client scope {name}"),
            representation,
            actual,
            || {
                let mut body = scope.representation.clone();
                if spec.token_claims.scopes.contains(&name) {
                    body.insert(
                        "protocolMappers".to_owned(),
                        json!(spec.token_claims.protocol_mappers),
                    );
                }
                Action::CreateClientScope(Value::Object(body))
            },
            |actual| Action::UpdateClientScope {
                id: id_of(actual),
                body: merged(actual, representation),
            },
        );
        let missing = missing_roles(&scope.realm_roles, observed.scope_realm_roles.get(&name));
        let object = format!("realm roles of client scope {name}");
        if missing.is_empty() {
            if !scope.realm_roles.is_empty() {
                plan.unchanged.push(object);
            }
        } else {
            plan.record(
                object,
                ChangeKind::Create,
                vec![format!("add {}", missing.join(", "))],
                Action::AddScopeRealmRoles {
                    scope: name.clone(),
                    roles: missing,
                },
            );
        }
        if let Some(assigned) = scope.assigned {
            let (object, present, other) = match assigned {
                Assigned::Default => (
                    "realm default scope",
                    &observed.default_scopes,
                    &observed.optional_scopes,
                ),
                Assigned::Optional => (
                    "realm optional scope",
                    &observed.optional_scopes,
                    &observed.default_scopes,
                ),
            };
            let object = format!("{object} {name}");
            // Keycloak keeps one assignment per scope: one that changes kind leaves the other.
            if other.contains(&name) && !present.contains(&name) {
                plan.record(
                    object,
                    ChangeKind::Update,
                    vec![format!(
                        "assigned: {} -> {}",
                        other_kind(assigned).as_str(),
                        assigned.as_str()
                    )],
                    Action::MoveRealmScope {
                        scope: name,
                        assigned,
                    },
                );
            } else {
                plan.create_unless(
                    present.contains(&name),
                    object,
                    Action::AssignRealmScope {
                        scope: name,
                        assigned,
                    },
                );
            }
        }
    }
    created
}

fn other_kind(assigned: Assigned) -> Assigned {
    match assigned {
        Assigned::Default => Assigned::Optional,
        Assigned::Optional => Assigned::Default,
    }
}

fn plan_token_claims(
    spec: &RealmSpec,
    observed: &ObservedRealm,
    created: &HashSet<String>,
    plan: &mut Plan,
) {
    for scope_name in spec
        .token_claims
        .scopes
        .iter()
        .filter(|name| !created.contains(*name))
    {
        let existing_mappers = find_by(&observed.client_scopes, "name", scope_name)
            .and_then(|scope| scope.get("protocolMappers"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for mapper in &spec.token_claims.protocol_mappers {
            let mapper_name = field(mapper, "name");
            plan.converge(
                format!("mapper '{mapper_name}' on scope {scope_name}"),
                mapper,
                find_by(&existing_mappers, "name", mapper_name),
                || Action::CreateMapper {
                    scope: scope_name.clone(),
                    body: Value::Object(mapper.clone()),
                },
                |actual| Action::UpdateMapper {
                    scope: scope_name.clone(),
                    id: id_of(actual),
                    body: merged(actual, mapper),
                },
            );
        }
        // A server that left the instance (`up` with fewer --server-url), or an audience or a
        // claim that left the project file, leaves its mappers behind: kcdev named them, so it
        // takes them away.
        let wanted: HashSet<&str> = spec
            .token_claims
            .protocol_mappers
            .iter()
            .map(|mapper| field(mapper, "name"))
            .collect();
        for stale in existing_mappers.iter().filter(|mapper| {
            let name = field_of(mapper, "name");
            (name.starts_with(AUDIENCE_MAPPER_PREFIX) || name.starts_with(CLAIM_MAPPER_PREFIX))
                && !wanted.contains(name)
        }) {
            plan.record(
                format!("mapper '{}' on scope {scope_name}", field_of(stale, "name")),
                ChangeKind::Delete,
                vec![],
                Action::DeleteMapper {
                    scope: scope_name.clone(),
                    id: id_of(stale),
                },
            );
        }
    }
}

fn field_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn policy_fields(policy: &PolicySpec) -> Representation {
    let mut fields = Map::new();
    fields.insert("name".to_owned(), json!(policy.name));
    fields.insert("config".to_owned(), json!(policy.config));
    fields
}

fn plan_policies(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    // Not kcdev's to declare on this realm: whatever the server has stays.
    let Some(policies) = &spec.anonymous_registration_policies else {
        return;
    };
    let realm_id = observed.realm.as_ref().map(id_of).unwrap_or_default();
    let mut kept = HashSet::new();
    for policy in policies {
        let actual = find_by(
            &observed.anonymous_policies,
            "providerId",
            &policy.provider_id,
        );
        if let Some(actual) = actual {
            kept.insert(id_of(actual));
        }
        let wanted = policy_fields(policy);
        plan.converge(
            format!("registration policy {}", policy.name),
            &wanted,
            actual,
            || {
                let mut body = wanted.clone();
                body.insert("providerId".to_owned(), json!(policy.provider_id));
                body.insert("providerType".to_owned(), json!(POLICY_TYPE));
                body.insert("subType".to_owned(), json!("anonymous"));
                body.insert("parentId".to_owned(), json!(realm_id));
                Action::CreatePolicy(Value::Object(body))
            },
            |actual| Action::UpdatePolicy {
                id: id_of(actual),
                body: merged(actual, &wanted),
            },
        );
    }
    // The anonymous policy set is declared whole: anything else (Keycloak's defaults, a second
    // copy of a declared policy) goes.
    for extra in observed
        .anonymous_policies
        .iter()
        .filter(|p| !kept.contains(&id_of(p)))
    {
        let name = extra
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        plan.record(
            format!("registration policy {name}"),
            ChangeKind::Delete,
            vec![],
            Action::DeletePolicy { id: id_of(extra) },
        );
    }
}

fn plan_clients(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    for client in &spec.clients {
        let client_id = field(client, "clientId");
        plan.converge(
            format!("client {client_id}"),
            client,
            find_by(&observed.clients, "clientId", client_id),
            || Action::CreateClient(Value::Object(client.clone())),
            |actual| Action::UpdateClient {
                id: id_of(actual),
                body: merged(actual, client),
            },
        );
        // A bearer-only client (a server as a resource) never asks for tokens.
        let logs_in = client.get("bearerOnly") != Some(&Value::Bool(true));
        if let Some(actual) = find_by(&observed.clients, "clientId", client_id)
            && logs_in
        {
            plan_client_realm_scopes(spec, client_id, actual, plan);
        }
    }
}

/// kcdev's clients get the realm scopes of the spec, as the realm assigns them. Keycloak
/// attaches a realm's default and optional scopes to a client when it is created; a client
/// created before a scope was added (a realm from an older kcdev, a scope new in kcdev.toml)
/// gets it here.
fn plan_client_realm_scopes(spec: &RealmSpec, client_id: &str, actual: &Value, plan: &mut Plan) {
    let attached = |key: &str, scope: &str| {
        actual
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|names| names.iter().any(|name| name.as_str() == Some(scope)))
    };
    for scope in &spec.client_scopes {
        let Some(assigned) = scope.assigned else {
            continue;
        };
        let name = scope.name();
        let kind = match assigned {
            Assigned::Default => "default",
            Assigned::Optional => "optional",
        };
        plan.create_unless(
            attached("optionalClientScopes", name) || attached("defaultClientScopes", name),
            format!("{kind} scope {name} of client {client_id}"),
            Action::AddClientScope {
                client: id_of(actual),
                scope: name.to_owned(),
                assigned,
            },
        );
    }
}

fn plan_users(spec: &RealmSpec, observed: &ObservedRealm, plan: &mut Plan) {
    for user in &spec.users {
        let username = user.username();
        let actual = observed.users.iter().find(|observed| {
            observed
                .representation
                .get("username")
                .and_then(Value::as_str)
                == Some(username)
        });
        let representation = &unadopted(
            &user.representation,
            actual.map(|observed| &observed.representation),
        );
        plan.converge(
            format!("user {username}"),
            representation,
            actual.map(|observed| &observed.representation),
            || {
                let mut body = representation.clone();
                body.insert(
                    "credentials".to_owned(),
                    json!([{"type": "password", "value": user.password, "temporary": false}]),
                );
                if !user.groups.is_empty() {
                    body.insert("groups".to_owned(), json!(user.group_paths()));
                }
                Action::CreateUser {
                    body: Value::Object(body),
                    roles: user.realm_roles.clone(),
                }
            },
            |actual| Action::UpdateUser {
                id: id_of(actual),
                body: merged(actual, representation),
            },
        );
        let Some(actual) = actual else { continue };
        let id = id_of(&actual.representation);
        let missing: Vec<String> = user
            .realm_roles
            .iter()
            .filter(|role| !actual.realm_roles.contains(role))
            .cloned()
            .collect();
        let roles_object = format!("roles of user {username}");
        // A user kcdev made from the project file has exactly the declared roles (beside the
        // realm's default ones); any other user keeps roles it was given by hand.
        let extra: Vec<String> = if owned(&actual.representation) {
            actual
                .realm_roles
                .iter()
                .filter(|role| {
                    !user.realm_roles.contains(role) && !role.starts_with("default-roles-")
                })
                .cloned()
                .collect()
        } else {
            vec![]
        };
        if missing.is_empty() && extra.is_empty() {
            plan.unchanged.push(roles_object.clone());
        }
        if !missing.is_empty() {
            let details = vec![format!("add {}", missing.join(", "))];
            plan.record(
                roles_object.clone(),
                ChangeKind::Update,
                details,
                Action::AddUserRoles {
                    id: id.clone(),
                    roles: missing,
                },
            );
        }
        if !extra.is_empty() {
            plan.record(
                roles_object,
                ChangeKind::Update,
                vec![format!("remove {}", extra.join(", "))],
                Action::RemoveUserRoles {
                    id: id.clone(),
                    roles: extra,
                },
            );
        }
        plan_user_groups(user, actual, &id, observed, plan);
        let password_object = format!("password of user {username}");
        if actual.password_accepted {
            plan.unchanged.push(password_object);
        } else {
            plan.record(
                password_object,
                ChangeKind::Update,
                vec!["reset to the password kcdev prints".to_owned()],
                Action::ResetPassword {
                    id,
                    password: user.password.clone(),
                },
            );
        }
    }
}

/// A declared user joins its declared groups; one kcdev made leaves the groups the file no
/// longer lists.
fn plan_user_groups(
    user: &super::spec::UserSpec,
    actual: &super::observe::ObservedUser,
    id: &str,
    observed: &ObservedRealm,
    plan: &mut Plan,
) {
    let username = user.username();
    for group in user
        .groups
        .iter()
        .filter(|group| !actual.groups.contains(group))
    {
        plan.record(
            format!("group {group} of user {username}"),
            ChangeKind::Create,
            vec![],
            Action::JoinGroup {
                user: id.to_owned(),
                group: group.clone(),
            },
        );
    }
    if !owned(&actual.representation) {
        return;
    }
    for group in actual
        .groups
        .iter()
        .filter(|group| !user.groups.contains(group))
    {
        let Some(found) = find_by(&observed.groups, "name", group) else {
            continue;
        };
        plan.record(
            format!("group {group} of user {username}"),
            ChangeKind::Delete,
            vec![],
            Action::LeaveGroup {
                user: id.to_owned(),
                group: id_of(found),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::observe::ObservedUser;
    use crate::realm::spec::{CimdOptions, RealmVariables};

    fn variables() -> RealmVariables {
        RealmVariables {
            extra_trusted_hosts: vec![],
            ..crate::realm::test_variables()
        }
    }

    fn spec() -> RealmSpec {
        RealmSpec::render(&variables()).unwrap()
    }

    /// What a realm that already matches the spec looks like to `observe`.
    fn converged(spec: &RealmSpec) -> ObservedRealm {
        let mut realm = Value::Object(spec.realm.clone());
        realm["id"] = json!("realm-id");
        let mut client_scopes: Vec<Value> = spec
            .client_scopes
            .iter()
            .map(|scope| {
                let mut value = Value::Object(scope.representation.clone());
                value["id"] = json!(format!("id-{}", scope.name()));
                value["protocolMappers"] = json!(spec.token_claims.protocol_mappers);
                value
            })
            .collect();
        client_scopes.push(json!({"id": "id-basic", "name": "basic", "protocolMappers": spec.token_claims.protocol_mappers}));
        ObservedRealm {
            realm: Some(realm),
            roles: spec.roles.iter().cloned().map(Value::Object).collect(),
            client_scopes,
            default_scopes: assigned(spec, Assigned::Default)
                .into_iter()
                .chain(["basic".to_owned()])
                .collect(),
            optional_scopes: assigned(spec, Assigned::Optional),
            scope_realm_roles: spec
                .client_scopes
                .iter()
                .map(|scope| (scope.name().to_owned(), scope.realm_roles.clone()))
                .collect(),
            anonymous_policies: spec
                .anonymous_registration_policies
                .iter()
                .flatten()
                .map(|p| {
                    let mut value = Value::Object(policy_fields(p));
                    value["id"] = json!(format!("id-{}", p.provider_id));
                    value["providerId"] = json!(p.provider_id);
                    value
                })
                .collect(),
            clients: spec
                .clients
                .iter()
                .map(|client| {
                    let mut value = Value::Object(client.clone());
                    let mut optional = assigned(spec, Assigned::Optional);
                    optional.push("offline_access".to_owned());
                    value["optionalClientScopes"] = json!(optional);
                    value["defaultClientScopes"] = json!(assigned(spec, Assigned::Default));
                    value
                })
                .collect(),
            users: spec
                .users
                .iter()
                .map(|user| ObservedUser {
                    representation: Value::Object(user.representation.clone()),
                    realm_roles: user.realm_roles.clone(),
                    groups: user.groups.clone(),
                    password_accepted: true,
                    password_credential: Some(format!("credential of {}", user.username())),
                })
                .collect(),
            client_profiles: spec
                .cimd
                .iter()
                .map(|cimd| Value::Object(cimd.profile.clone()))
                .collect(),
            client_policies: spec
                .cimd
                .iter()
                .map(|cimd| Value::Object(cimd.policy.clone()))
                .collect(),
            groups: spec
                .groups
                .iter()
                .map(|group| {
                    let mut value = Value::Object(group.representation.clone());
                    value["id"] = json!(format!("id-{}", group.name()));
                    value
                })
                .collect(),
            group_realm_roles: spec
                .groups
                .iter()
                .map(|group| (group.name().to_owned(), group.realm_roles.clone()))
                .collect(),
            owned_users: spec
                .users
                .iter()
                .map(|user| Value::Object(user.representation.clone()))
                .filter(owned)
                .collect(),
            user_profile: Some(json!({"unmanagedAttributePolicy": "ADMIN_EDIT"})),
        }
    }

    fn assigned(spec: &RealmSpec, assigned: Assigned) -> Vec<String> {
        spec.client_scopes
            .iter()
            .filter(|scope| scope.assigned == Some(assigned))
            .map(|scope| scope.name().to_owned())
            .collect()
    }

    fn with_project() -> RealmSpec {
        let file = crate::project::parse(
            std::path::Path::new("kcdev.toml"),
            r#"
[[servers]]
url = "http://localhost:8000"
audiences = ["notes-api"]
scopes = ["notes:read", "notes:write"]
[scopes."notes:read"]
[scopes."notes:write"]
assigned = "optional"
roles = ["editor"]
[roles.editor]
[groups.acme]
roles = ["editor"]
attributes = { tenant = "acme" }
[[users]]
username = "alice"
password = "alice-pass"
roles = ["editor"]
groups = ["acme"]
[claims.tenant]
user_attribute = "tenant"
"#,
            &|_| None,
        )
        .unwrap();
        RealmSpec::render(&RealmVariables {
            declared: file.declared,
            ..variables()
        })
        .unwrap()
    }

    #[test]
    fn a_converged_project_realm_plans_nothing() {
        let spec = with_project();
        let plan = plan(&spec, &converged(&spec));
        assert!(plan.changes.is_empty(), "{:#?}", plan.changes);
    }

    #[test]
    fn declared_objects_are_created_with_the_owner_mark() {
        let spec = with_project();
        let plan = plan(&spec, &converged(&super::tests::spec()));
        let objects: Vec<&str> = plan.changes.iter().map(|c| c.object.as_str()).collect();
        for expected in [
            "realm role editor",
            "client scope notes:read",
            "realm optional scope notes:write",
            "group acme",
            "user alice",
            "mapper 'kcdev claim: tenant' on scope basic",
            "mapper 'kcdev audience: notes-api' on scope mcp:tools",
            "registration policy Allowed Client Scopes",
        ] {
            assert!(
                objects.contains(&expected),
                "{expected} not in {objects:#?}"
            );
        }
        let user = plan
            .changes
            .iter()
            .find(|c| c.object == "user alice")
            .unwrap();
        let Action::CreateUser { body, .. } = &user.action else {
            panic!("{user:?}")
        };
        assert_eq!(
            body["attributes"]["kcdev.managed-by"],
            json!(["kcdev.toml"])
        );
        assert_eq!(body["groups"], json!(["/acme"]));
    }

    /// Taking objects out of the file removes what kcdev made from them, and nothing made by
    /// hand.
    #[test]
    fn removal_from_the_file_removes_only_what_kcdev_made() {
        let mut observed = converged(&with_project());
        observed
            .roles
            .push(json!({"name": "by-hand", "attributes": {}}));
        observed
            .groups
            .push(json!({"id": "id-hand", "name": "hand-group"}));
        let plan = plan(&super::tests::spec(), &observed);
        let deleted: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Delete)
            .map(|c| c.object.as_str())
            .collect();
        assert_eq!(
            deleted,
            [
                "mapper 'kcdev audience: notes-api' on scope mcp:tools",
                "mapper 'kcdev claim: tenant' on scope mcp:tools",
                "mapper 'kcdev audience: notes-api' on scope mcp:admin",
                "mapper 'kcdev claim: tenant' on scope mcp:admin",
                "mapper 'kcdev audience: notes-api' on scope basic",
                "mapper 'kcdev claim: tenant' on scope basic",
                "realm role editor",
                "client scope notes:read",
                "client scope notes:write",
                "group acme",
                "user alice",
            ]
        );
    }

    #[test]
    fn the_owner_mark_in_the_shapes_is_the_one_kcdev_looks_for() {
        let spec = with_project();
        let scope = spec
            .client_scopes
            .iter()
            .find(|scope| scope.name() == "notes:read")
            .unwrap();
        assert!(owned(&Value::Object(scope.representation.clone())));
        assert!(
            spec.token_claims
                .protocol_mappers
                .iter()
                .any(|mapper| field(mapper, "name").starts_with(CLAIM_MAPPER_PREFIX))
        );
        assert!(spec.token_claims.protocol_mappers.iter().any(|mapper| {
            field(mapper, "name").starts_with(AUDIENCE_MAPPER_PREFIX)
                && mapper["config"]["included.custom.audience"] == "notes-api"
        }));
    }

    fn with_cimd() -> RealmSpec {
        RealmSpec::render(&RealmVariables {
            cimd: Some(CimdOptions {
                extra_domains: vec!["docs.example.org".into()],
            }),
            ..variables()
        })
        .unwrap()
    }

    fn with_servers(additional: &[&str]) -> RealmSpec {
        RealmSpec::render(&RealmVariables {
            additional_server_urls: additional.iter().map(|url| (*url).to_owned()).collect(),
            ..variables()
        })
        .unwrap()
    }

    #[test]
    fn each_server_brings_its_audiences_and_its_resource() {
        let two = with_servers(&["http://localhost:8001"]);
        let audiences: Vec<&str> = two
            .token_claims
            .protocol_mappers
            .iter()
            .filter_map(|m| m["config"]["included.custom.audience"].as_str())
            .collect();
        assert_eq!(
            audiences,
            [
                "http://localhost:8000/mcp",
                "http://localhost:8000",
                "http://localhost:8001/mcp",
                "http://localhost:8001"
            ]
        );
        let resources: Vec<&str> = two
            .clients
            .iter()
            .filter_map(|c| c["attributes"]["resource_url"].as_str())
            .collect();
        assert_eq!(
            resources,
            ["http://localhost:8000/mcp", "http://localhost:8001/mcp"]
        );
        let resource_client = two
            .clients
            .iter()
            .find(|c| c["clientId"] == "http://localhost:8001/mcp")
            .unwrap();
        assert_eq!(resource_client["standardFlowEnabled"], false);
        assert_eq!(resource_client["bearerOnly"], true);
    }

    #[test]
    fn a_server_that_leaves_takes_its_audience_mappers_along() {
        let observed = converged(&with_servers(&["http://localhost:8001"]));
        let plan = plan(&with_servers(&[]), &observed);
        let deleted: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Delete)
            .map(|c| c.object.as_str())
            .collect();
        assert_eq!(deleted.len(), 6, "two mappers on three scopes: {deleted:?}");
        assert!(
            deleted.iter().all(|object| object.contains("(server 2)")),
            "{deleted:?}"
        );
        assert_eq!(plan.changes.len(), 6, "nothing else changes");
    }

    #[test]
    fn cimd_brings_its_profile_before_the_policy_that_names_it() {
        let off = spec();
        let on = with_cimd();
        let cimd = on.cimd.as_ref().unwrap();
        assert_eq!(cimd.profile_name(), CIMD_ENTRY_NAME, "realm.toml's name");
        assert_eq!(cimd.policy_name(), CIMD_ENTRY_NAME, "realm.toml's name");
        assert!(
            serde_json::to_string(&cimd.policy)
                .unwrap()
                .contains("docs.example.org")
        );
        let mut observed = converged(&off);
        // Someone's own profile, which kcdev must keep.
        observed.client_profiles = vec![json!({"name": "mine", "executors": []})];
        let plan = plan(&on, &observed);
        assert_eq!(
            objects(&plan),
            vec![
                (ChangeKind::Create, "client profile kcdev-cimd"),
                (ChangeKind::Create, "client policy kcdev-cimd")
            ]
        );
        let Action::PutClientProfiles(body) = &plan.changes[0].action else {
            panic!("{:?}", plan.changes[0].action);
        };
        let names: Vec<&str> = body["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["mine", "kcdev-cimd"]);
        assert!(super::plan(&on, &converged(&on)).changes.is_empty());
    }

    #[test]
    fn without_cimd_its_policy_goes_before_its_profile_and_nothing_else_goes() {
        let off = spec();
        let mut observed = converged(&with_cimd());
        observed
            .client_policies
            .push(json!({"name": "mine", "profiles": []}));
        let plan = plan(&off, &observed);
        assert_eq!(
            objects(&plan),
            vec![
                (ChangeKind::Delete, "client policy kcdev-cimd"),
                (ChangeKind::Delete, "client profile kcdev-cimd")
            ]
        );
        let Action::PutClientPolicies(body) = &plan.changes[0].action else {
            panic!("{:?}", plan.changes[0].action);
        };
        assert_eq!(
            body,
            &json!({"policies": [{"name": "mine", "profiles": []}]})
        );
    }

    fn objects(plan: &Plan) -> Vec<(ChangeKind, &str)> {
        plan.changes
            .iter()
            .map(|c| (c.kind, c.object.as_str()))
            .collect()
    }

    #[test]
    fn a_converged_realm_needs_no_change() {
        let spec = spec();
        let plan = plan(&spec, &converged(&spec));
        assert_eq!(objects(&plan), vec![]);
        assert!(
            plan.unchanged
                .contains(&"client scope mcp:tools".to_owned())
        );
        assert!(
            plan.unchanged
                .contains(&"password of user testadmin".to_owned())
        );
    }

    #[test]
    fn an_empty_realm_gets_everything() {
        let spec = spec();
        let observed = ObservedRealm {
            realm: Some(json!({"id": "r", "realm": "fastmcp"})),
            client_scopes: vec![json!({"id": "b", "name": "basic", "protocolMappers": []})],
            anonymous_policies: vec![
                json!({"id": "c1", "name": "Consent Required", "providerId": "consent-required"}),
                json!({"id": "t1", "name": "Trusted Hosts", "providerId": "trusted-hosts", "config": {}}),
            ],
            ..Default::default()
        };
        let plan = plan(&spec, &observed);
        let changes = objects(&plan);
        assert!(changes.contains(&(ChangeKind::Create, "client scope mcp:tools")));
        assert!(changes.contains(&(
            ChangeKind::Create,
            "mapper 'kcdev realm roles' on scope basic"
        )));
        assert!(
            !changes
                .iter()
                .any(|(_, o)| o.contains("on scope mcp:tools")),
            "created with the scope"
        );
        assert!(changes.contains(&(ChangeKind::Update, "registration policy Trusted Hosts")));
        assert!(changes.contains(&(ChangeKind::Delete, "registration policy Consent Required")));
        assert!(changes.contains(&(ChangeKind::Create, "user testadmin")));
        assert!(changes.contains(&(ChangeKind::Create, "realm default scope mcp:tools")));
    }

    #[test]
    fn a_shared_server_keeps_its_registration_policies_and_gets_no_test_users() {
        let spec = RealmSpec::render(&RealmVariables {
            test_users: false,
            anonymous_registration: false,
            ..variables()
        })
        .unwrap();
        let observed = ObservedRealm {
            realm: Some(json!({"id": "r", "realm": "fastmcp"})),
            anonymous_policies: vec![
                json!({"id": "c1", "name": "Consent Required", "providerId": "consent-required"}),
            ],
            ..Default::default()
        };
        let plan = plan(&spec, &observed);
        assert!(
            !plan
                .changes
                .iter()
                .any(|c| c.object.starts_with("registration policy")
                    || c.object.starts_with("user ")
                    || c.object.contains("of user")),
            "{:?}",
            objects(&plan)
        );
        assert!(objects(&plan).contains(&(ChangeKind::Create, "client kcdev")));
    }

    #[test]
    fn drift_is_named_field_by_field() {
        let spec = spec();
        let mut observed = converged(&spec);
        observed.realm.as_mut().unwrap()["accessTokenLifespan"] = json!(300);
        let basic = observed
            .client_scopes
            .iter_mut()
            .find(|scope| scope["name"] == "basic")
            .unwrap();
        let mappers = basic["protocolMappers"].as_array_mut().unwrap();
        let audience = mappers
            .iter_mut()
            .find(|m| m["name"] == "kcdev audience: MCP resource URL")
            .unwrap();
        audience["config"]["included.custom.audience"] = json!("http://wrong");
        observed.users[0].realm_roles.clear();
        observed.users[1].password_accepted = false;
        observed.anonymous_policies.remove(0);
        let plan = plan(&spec, &observed);
        let realm = plan
            .changes
            .iter()
            .find(|c| c.object == "realm settings")
            .unwrap();
        assert_eq!(realm.details, ["accessTokenLifespan: 300 -> 3600"]);
        let changes = objects(&plan);
        assert!(changes.contains(&(
            ChangeKind::Update,
            "mapper 'kcdev audience: MCP resource URL' on scope basic"
        )));
        assert!(changes.contains(&(ChangeKind::Update, "roles of user testuser")));
        assert!(changes.contains(&(ChangeKind::Update, "password of user testadmin")));
        assert!(changes.contains(&(ChangeKind::Create, "registration policy Trusted Hosts")));
        assert_eq!(changes.len(), 5);
    }

    /// A realm made by an older kcdev has neither the step-up scope as a realm optional scope
    /// nor on kcdev's clients; clients and scopes of others are not touched.
    #[test]
    fn the_step_up_scope_reaches_kcdevs_clients() {
        let spec = spec();
        let mut observed = converged(&spec);
        observed.optional_scopes.clear();
        for client in &mut observed.clients {
            client["optionalClientScopes"] = json!(["offline_access"]);
        }
        let plan = plan(&spec, &observed);
        let changes = objects(&plan);
        assert!(changes.contains(&(ChangeKind::Create, "realm optional scope mcp:admin")));
        assert!(changes.contains(&(
            ChangeKind::Create,
            "optional scope mcp:admin of client kcdev-claude-code"
        )));
        let logging_in = spec
            .clients
            .iter()
            .filter(|client| client.get("bearerOnly") != Some(&json!(true)))
            .count();
        assert_eq!(changes.len(), 1 + logging_in, "{changes:?}");
    }

    #[test]
    fn updates_keep_fields_the_spec_does_not_own() {
        let actual =
            json!({"id": "x", "name": "n", "description": "old", "attributes": {"mine": "1"}});
        let wanted = json!({"description": "new", "attributes": {"kcdev": "2"}});
        let body = merged(&actual, wanted.as_object().unwrap());
        assert_eq!(
            body,
            json!({"id": "x", "name": "n", "description": "new", "attributes": {"mine": "1", "kcdev": "2"}})
        );
    }

    #[test]
    fn a_new_realm_brings_kcdevs_keys_when_there_are_any() {
        let spec = spec();
        let Action::CreateRealm(plain) = Change::create_realm(&spec, None).unwrap().action else {
            panic!("not a realm creation");
        };
        assert!(
            plain["components"].get(KEY_PROVIDER_TYPE).is_none(),
            "Keycloak's own keys"
        );
        let keys = PreparedKeys::generate().unwrap();
        let Action::CreateRealm(body) = Change::create_realm(&spec, Some(&keys)).unwrap().action
        else {
            panic!("not a realm creation");
        };
        let providers = body["components"][KEY_PROVIDER_TYPE].as_array().unwrap();
        let ids: Vec<&str> = providers
            .iter()
            .map(|p| p["providerId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["rsa", "rsa-enc", "hmac-generated", "aes-generated"]);
        assert!(
            providers[0]["config"]["privateKey"][0]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(body["realm"], "fastmcp");
    }

    /// One call creates the realm: everything the plan would create in an empty realm is in its
    /// body, under the same name.
    #[test]
    fn the_realm_in_one_call_carries_every_object_of_the_plan() {
        let spec = RealmSpec::render(&RealmVariables {
            cimd: Some(CimdOptions::default()),
            ..variables()
        })
        .unwrap();
        let Action::CreateRealm(body) = Change::create_realm(&spec, None).unwrap().action else {
            panic!("not a realm creation");
        };
        let names = |list: &Value, key: &str| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|item| item[key].as_str().unwrap().to_owned())
                .collect()
        };
        for role in &spec.roles {
            assert!(
                names(&body["roles"]["realm"], "name").contains(&field(role, "name").to_owned())
            );
        }
        let scopes = body["clientScopes"].as_array().unwrap();
        for scope_name in &spec.token_claims.scopes {
            let scope = scopes.iter().find(|s| s["name"] == *scope_name).unwrap();
            let mappers = names(&scope["protocolMappers"], "name");
            for mapper in &spec.token_claims.protocol_mappers {
                assert!(
                    mappers.contains(&field(mapper, "name").to_owned()),
                    "{scope_name}"
                );
            }
        }
        let clients = names(&body["clients"], "clientId");
        for client in &spec.clients {
            assert!(clients.contains(&field(client, "clientId").to_owned()));
        }
        let users = names(&body["users"], "username");
        assert_eq!(users, ["testuser", "testadmin"]);
        assert_eq!(body["users"][0]["credentials"][0]["value"], "password123");
        let policies: Vec<Value> = body["components"][POLICY_TYPE]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["subType"] == "anonymous")
            .cloned()
            .collect();
        let declared = spec.anonymous_registration_policies.as_ref().unwrap();
        assert_eq!(policies.len(), declared.len());
        for (sent, declared) in policies.iter().zip(declared) {
            assert_eq!(sent["config"], json!(declared.config));
        }
        assert_eq!(body["clientPolicies"]["policies"][0]["name"], "kcdev-cimd");
        assert_eq!(body["clientProfiles"]["profiles"][0]["name"], "kcdev-cimd");
        assert!(
            body["defaultDefaultClientScopes"]
                .as_array()
                .unwrap()
                .contains(&json!("mcp:tools"))
        );
    }
}
