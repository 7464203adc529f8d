//! Reading the parts of a realm the spec talks about. Only GET requests, plus one password-grant
//! login per test user to find out whether their password is still the one kcdev prints.

use serde::Serialize;
use serde_json::Value;

use super::declared::{OWNER_ATTRIBUTE, OWNER_VALUE};
use super::password::{self, PasswordMarks};
use super::spec::{RealmSpec, field};
use super::{RealmError, api_error};
use crate::keycloak::AdminSession;

/// Component type of client-registration policies.
pub(crate) const POLICY_TYPE: &str =
    "org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy";

/// What the server holds for the objects the spec names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedRealm {
    /// The realm representation; `None` when the realm does not exist.
    pub realm: Option<Value>,
    /// Realm roles.
    pub roles: Vec<Value>,
    /// Client scopes, with their protocol mappers.
    pub client_scopes: Vec<Value>,
    /// Names of the realm's default client scopes.
    pub default_scopes: Vec<String>,
    /// Names of the realm's optional client scopes.
    pub optional_scopes: Vec<String>,
    /// The realm roles mapped to each of the spec's client scopes that exists, by scope name.
    pub scope_realm_roles: std::collections::BTreeMap<String, Vec<String>>,
    /// Anonymous client-registration policies.
    pub anonymous_policies: Vec<Value>,
    /// The spec's clients that exist.
    pub clients: Vec<Value>,
    /// The spec's users that exist.
    pub users: Vec<ObservedUser>,
    /// The realm's client profiles (its own, not Keycloak's global ones).
    pub client_profiles: Vec<Value>,
    /// The realm's client policies (its own, not Keycloak's global ones).
    pub client_policies: Vec<Value>,
    /// The realm's top-level groups, with their attributes.
    pub groups: Vec<Value>,
    /// The realm roles mapped to each of the spec's groups that exists, by group name.
    pub group_realm_roles: std::collections::BTreeMap<String, Vec<String>>,
    /// Users kcdev made from a project file (the owner attribute), declared still or not.
    pub owned_users: Vec<Value>,
    /// The realm's user profile configuration (`UPConfig`).
    pub user_profile: Option<Value>,
}

/// A test user as the server has it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedUser {
    /// The user representation.
    pub representation: Value,
    /// Names of the realm roles mapped directly to the user.
    pub realm_roles: Vec<String>,
    /// Names of the groups the user is in.
    pub groups: Vec<String>,
    /// Whether the spec's password logs the user in.
    pub password_accepted: bool,
    /// The user's password credential as set at one moment (its id and creation time).
    pub password_credential: Option<String>,
}

fn to_values<T: Serialize>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

/// Reads the realm's current state for `spec`.
pub async fn observe(
    session: &AdminSession,
    spec: &RealmSpec,
    marks: &PasswordMarks,
) -> Result<ObservedRealm, RealmError> {
    observe_with(session, spec, Passwords::Marked(marks)).await
}

/// What kcdev knows of the test users' passwords before it looks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Passwords<'a> {
    /// The marks of the credentials it set earlier; without a matching one, a login tells.
    Marked(&'a PasswordMarks),
    /// Set to the spec's moments ago, with the realm that holds them: no login needed.
    JustSet,
}

pub(crate) async fn observe_with(
    session: &AdminSession,
    spec: &RealmSpec,
    passwords: Passwords<'_>,
) -> Result<ObservedRealm, RealmError> {
    let api = session.api();
    let realm = spec.realm_name();
    let representation = match api.realm_get(realm).await {
        Ok(representation) => representation,
        Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => {
            return Ok(ObservedRealm::default());
        }
        Err(err) => return Err(api_error("read the realm", err)),
    };
    let realm_id = representation.id.clone().unwrap_or_default();
    // Everything below depends on the realm only: side by side, so a no-op `up` costs one round
    // trip more than the slowest read instead of the sum of them all.
    let roles = async {
        api.realm_roles_get(realm, Some(false), None, Some(1000), None)
            .await
            .map_err(|err| api_error("list realm roles", err))
    };
    let client_scopes = async {
        let scopes = api
            .realm_client_scopes_get(realm)
            .await
            .map_err(|err| api_error("list client scopes", err))?;
        let roles = scope_realm_roles(session, realm, spec, &scopes).await?;
        Ok::<_, RealmError>((scopes, roles))
    };
    let default_scopes = async {
        api.realm_default_default_client_scopes_get(realm)
            .await
            .map_err(|err| api_error("list default client scopes", err))
    };
    let optional_scopes = async {
        api.realm_default_optional_client_scopes_get(realm)
            .await
            .map_err(|err| api_error("list optional client scopes", err))
    };
    let anonymous_policies = async {
        api.realm_components_get(
            realm,
            None,
            Some(realm_id),
            None,
            Some(POLICY_TYPE.to_owned()),
        )
        .await
        .map_err(|err| api_error("list client-registration policies", err))
    };
    let clients =
        futures_util::future::try_join_all(spec.clients.iter().map(|client| async move {
            let found = session
                .find_client(realm, field(client, "clientId"))
                .await?;
            Ok::<_, RealmError>(found)
        }));
    let client_profiles = async {
        api.realm_client_policies_profiles_get(realm, Some(false))
            .await
            .map_err(|err| api_error("read the client profiles", err))
    };
    let client_policies = async {
        api.realm_client_policies_policies_get(realm, Some(false))
            .await
            .map_err(|err| api_error("read the client policies", err))
    };
    let users = futures_util::future::try_join_all(
        spec.users
            .iter()
            .map(|user| observe_user(session, realm, user.username(), &user.password, passwords)),
    );
    let groups = async {
        let groups = api
            .realm_groups_get(
                realm,
                Some(false),
                None,
                None,
                Some(10_000),
                None,
                None,
                None,
                None,
            )
            .await
            .map_err(|err| api_error("list groups", err))?;
        let roles = group_realm_roles(session, realm, spec, &groups).await?;
        Ok::<_, RealmError>((groups, roles))
    };
    let owned_users = async {
        Ok::<_, RealmError>(
            session
                .users_with_attribute(realm, OWNER_ATTRIBUTE, OWNER_VALUE)
                .await?,
        )
    };
    let user_profile = async {
        api.realm_users_profile_get(realm)
            .await
            .map_err(|err| api_error("read the user profile", err))
    };
    let (
        roles,
        (client_scopes, scope_realm_roles),
        default_scopes,
        optional_scopes,
        anonymous_policies,
        clients,
        client_profiles,
        client_policies,
        users,
        (groups, group_realm_roles),
        owned_users,
        user_profile,
    ) = tokio::try_join!(
        roles,
        client_scopes,
        default_scopes,
        optional_scopes,
        anonymous_policies,
        clients,
        client_profiles,
        client_policies,
        users,
        groups,
        owned_users,
        user_profile,
    )?;
    let names = |scopes: Vec<keycloak::types::ClientScopeRepresentation>| {
        scopes.into_iter().filter_map(|scope| scope.name).collect()
    };
    let default_scopes = names(default_scopes);
    let optional_scopes = names(optional_scopes);
    let anonymous_policies = anonymous_policies
        .into_iter()
        .filter(|component| component.sub_type.as_deref() == Some("anonymous"));
    let clients = to_values(clients.into_iter().flatten());
    let users = users.into_iter().flatten().collect();
    Ok(ObservedRealm {
        realm: serde_json::to_value(representation).ok(),
        roles: to_values(roles),
        client_scopes: to_values(client_scopes),
        default_scopes,
        optional_scopes,
        scope_realm_roles,
        anonymous_policies: to_values(anonymous_policies),
        clients,
        users,
        client_profiles: to_values(client_profiles.profiles.unwrap_or_default()),
        client_policies: to_values(client_policies.policies.unwrap_or_default()),
        groups: to_values(groups),
        group_realm_roles,
        owned_users: to_values(owned_users),
        user_profile: serde_json::to_value(user_profile).ok(),
    })
}

/// The realm roles mapped to each of the spec's client scopes that has some and exists.
async fn scope_realm_roles(
    session: &AdminSession,
    realm: &str,
    spec: &RealmSpec,
    observed: &[keycloak::types::ClientScopeRepresentation],
) -> Result<std::collections::BTreeMap<String, Vec<String>>, RealmError> {
    let api = session.api();
    let reads = spec
        .client_scopes
        .iter()
        .filter(|scope| !scope.realm_roles.is_empty())
        .filter_map(|scope| {
            let id = observed
                .iter()
                .find(|observed| observed.name.as_deref() == Some(scope.name()))?
                .id
                .clone()?;
            Some(async move {
                let roles = api
                    .realm_client_scopes_with_client_scope_id_scope_mappings_realm_get(realm, &id)
                    .await
                    .map_err(|err| {
                        api_error(
                            format!("read the roles of client scope {}", scope.name()),
                            err,
                        )
                    })?;
                Ok::<_, RealmError>((
                    scope.name().to_owned(),
                    roles.into_iter().filter_map(|role| role.name).collect(),
                ))
            })
        });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

/// The realm roles mapped to each of the spec's groups that exists.
async fn group_realm_roles(
    session: &AdminSession,
    realm: &str,
    spec: &RealmSpec,
    observed: &[keycloak::types::GroupRepresentation],
) -> Result<std::collections::BTreeMap<String, Vec<String>>, RealmError> {
    let api = session.api();
    let reads = spec.groups.iter().filter_map(|group| {
        let id = observed
            .iter()
            .find(|observed| observed.name.as_deref() == Some(group.name()))?
            .id
            .clone()?;
        Some(async move {
            let roles = api
                .realm_groups_with_group_id_role_mappings_realm_get(realm, &id)
                .await
                .map_err(|err| {
                    api_error(format!("read the roles of group {}", group.name()), err)
                })?;
            Ok::<_, RealmError>((
                group.name().to_owned(),
                roles.into_iter().filter_map(|role| role.name).collect(),
            ))
        })
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

async fn observe_user(
    session: &AdminSession,
    realm: &str,
    username: &str,
    password: &str,
    passwords: Passwords<'_>,
) -> Result<Option<ObservedUser>, RealmError> {
    let Some(user) = session.find_user(realm, username).await? else {
        return Ok(None);
    };
    let api = session.api();
    let id = user.id.clone().unwrap_or_default();
    let roles = async {
        api.realm_users_with_user_id_role_mappings_realm_get(realm, &id)
            .await
            .map_err(|err| api_error(format!("read the roles of user {username}"), err))
    };
    let groups = async {
        api.realm_users_with_user_id_groups_get(realm, &id, Some(true), None, None, None)
            .await
            .map_err(|err| api_error(format!("read the groups of user {username}"), err))
    };
    let (roles, groups, password_credential) = tokio::try_join!(
        roles,
        groups,
        password::password_credential(session, realm, username, &id)
    )?;
    let marked = match passwords {
        Passwords::JustSet => true,
        Passwords::Marked(marks) => password_credential
            .as_deref()
            .zip(marks.get(username))
            .is_some_and(|(credential, known)| *known == password::mark(credential, password)),
    };
    // Without a matching mark, only a login tells (a password hash).
    let password_accepted = marked || password_logs_in(session, realm, username, password).await;
    Ok(Some(ObservedUser {
        representation: serde_json::to_value(user).unwrap_or_default(),
        realm_roles: roles.into_iter().filter_map(|role| role.name).collect(),
        groups: groups.into_iter().filter_map(|group| group.name).collect(),
        password_accepted,
        password_credential,
    }))
}

/// Keycloak never returns passwords, so the only way to know whether a user's password is still
/// the printed one is to try it, through the realm's built-in `admin-cli` client.
async fn password_logs_in(
    session: &AdminSession,
    realm: &str,
    username: &str,
    password: &str,
) -> bool {
    let url = format!(
        "{}/realms/{realm}/protocol/openid-connect/token",
        session.base_url()
    );
    let form = [
        ("grant_type", "password"),
        ("client_id", "admin-cli"),
        ("username", username),
        ("password", password),
    ];
    session
        .http()
        .post(url)
        .form(&form)
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}
