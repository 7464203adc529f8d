//! Carrying out a plan through the Admin REST API. Each change is one idempotent step, so an
//! interrupted run leaves a realm the next run can finish. Changes that do not depend on each
//! other run concurrently: a new realm is some forty calls, and waiting for each in turn was
//! most of the provisioning time.

use std::collections::{BTreeMap, HashMap};

use futures_util::{StreamExt, stream};

use keycloak::types::{
    ClientRepresentation, ClientScopeRepresentation, ComponentRepresentation,
    CredentialRepresentation, GroupRepresentation, ProtocolMapperRepresentation,
    RealmRepresentation, RoleRepresentation, UserRepresentation,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::observe::ObservedRealm;
use super::plan::{Action, Change};
use super::spec::Assigned;
use super::{RealmError, api_error};
use crate::keycloak::AdminSession;

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, RealmError> {
    serde_json::from_value(value.clone()).map_err(|err| RealmError::Spec(err.to_string()))
}

/// How many Admin API calls are in flight at once: enough to keep Keycloak's worker threads
/// busy on a small machine, few enough not to queue behind its database.
const CONCURRENCY: usize = 6;

/// Which changes may run together. A change depends only on changes of earlier stages: a
/// mapper, a default-scope entry or a registration policy on the client scopes it names (Keycloak
/// refuses a policy allowing a scope that does not exist yet), a new client on the realm's
/// default and optional scopes (Keycloak attaches them when it creates the client), a group on
/// its roles, a user on its roles and groups, the client policies on their profile, everything
/// on the realm. Removals come last, once no policy or user refers to what they remove.
fn stage(action: &Action) -> u8 {
    match action {
        Action::CreateRealm(_) | Action::UpdateRealm(_) => 0,
        Action::CreateRole(_)
        | Action::UpdateRole { .. }
        | Action::CreateClientScope(_)
        | Action::UpdateClientScope { .. }
        | Action::UpdateUserProfile(_) => 1,
        Action::AssignRealmScope { .. }
        | Action::MoveRealmScope { .. }
        | Action::AddClientScope { .. }
        | Action::AddScopeRealmRoles { .. }
        | Action::CreateMapper { .. }
        | Action::UpdateMapper { .. }
        | Action::DeleteMapper { .. }
        | Action::CreatePolicy(_)
        | Action::UpdatePolicy { .. }
        | Action::DeletePolicy { .. }
        | Action::UpdateClient { .. }
        | Action::CreateGroup { .. }
        | Action::UpdateGroup { .. }
        | Action::AddGroupRoles { .. }
        | Action::UpdateUser { .. }
        | Action::AddUserRoles { .. }
        | Action::RemoveUserRoles { .. }
        | Action::LeaveGroup { .. }
        | Action::ResetPassword { .. }
        | Action::PutClientProfiles(_) => 2,
        Action::CreateClient(_)
        | Action::CreateUser { .. }
        | Action::JoinGroup { .. }
        | Action::PutClientPolicies(_) => 3,
        Action::DeleteRole { .. }
        | Action::DeleteClientScope { .. }
        | Action::DeleteGroup { .. }
        | Action::DeleteUser { .. } => 4,
    }
}

/// Runs the changes, stage by stage; within a stage, concurrently. The first failure is
/// returned once its stage has settled, and no later stage starts.
pub(crate) async fn apply(
    session: &AdminSession,
    realm: &str,
    observed: &ObservedRealm,
    changes: &[Change],
) -> Result<(), RealmError> {
    let mut scope_ids: HashMap<String, String> = observed
        .client_scopes
        .iter()
        .filter_map(|scope| {
            Some((
                scope.get("name")?.as_str()?.to_owned(),
                scope.get("id")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    let mut stages: BTreeMap<u8, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        stages
            .entry(stage(&change.action))
            .or_default()
            .push(change);
    }
    for changes in stages.values() {
        let ids = &scope_ids;
        let results: Vec<Result<Option<(String, String)>, RealmError>> =
            stream::iter(changes.iter().map(|change| async move {
                run(session, realm, &change.action, ids)
                    .await
                    .map_err(|err| match err {
                        RealmError::Api(_)
                        | RealmError::Spec(_)
                        | RealmError::InvalidSetting { .. } => err,
                        RealmError::Keycloak(err) => {
                            api_error(format!("{} {}", change.kind, change.object), err)
                        }
                    })
            }))
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for created_scope in results {
            if let Some((name, id)) = created_scope? {
                scope_ids.insert(name, id);
            }
        }
    }
    Ok(())
}

fn scope_id<'a>(ids: &'a HashMap<String, String>, name: &str) -> Result<&'a str, RealmError> {
    ids.get(name)
        .map(String::as_str)
        .ok_or_else(|| RealmError::Spec(format!("client scope {name} does not exist in the realm")))
}

async fn role_representations(
    session: &AdminSession,
    realm: &str,
    names: &[String],
) -> Result<Vec<RoleRepresentation>, RealmError> {
    Ok(futures_util::future::try_join_all(
        names
            .iter()
            .map(|name| session.api().realm_roles_with_role_name_get(realm, name)),
    )
    .await?)
}

/// A removal's result: what is already gone is removed.
fn gone<T>(result: Result<T, keycloak::KeycloakError>) -> Result<(), RealmError> {
    match result {
        Ok(_) | Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The id of a top-level group, which an earlier stage may have just created.
async fn group_id(session: &AdminSession, realm: &str, name: &str) -> Result<String, RealmError> {
    let group = session
        .api()
        .realm_group_by_path_with_path_get(realm, name)
        .await?;
    group
        .id
        .ok_or_else(|| RealmError::Spec(format!("group {name} does not exist in the realm")))
}

/// One change; returns the name and id of a client scope it created.
async fn run(
    session: &AdminSession,
    realm: &str,
    action: &Action,
    scope_ids: &HashMap<String, String>,
) -> Result<Option<(String, String)>, RealmError> {
    let api = session.api();
    match action {
        Action::CreateRealm(body) => {
            let realm: RealmRepresentation = typed(body)?;
            match api.post(realm).await {
                // Another run created it in the meantime: fine, the reconcile goes on.
                Ok(_) | Err(keycloak::KeycloakError::HttpFailure { status: 409, .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Action::UpdateRealm(body) => {
            api.realm_put(realm, typed(body)?).await?;
        }
        Action::CreateRole(body) => {
            api.realm_roles_post(realm, typed(body)?).await?;
        }
        Action::UpdateRole { name, body } => {
            api.realm_roles_with_role_name_put(realm, name, typed(body)?)
                .await?;
        }
        Action::CreateClientScope(body) => {
            let scope: ClientScopeRepresentation = typed(body)?;
            let name = scope.name.clone().unwrap_or_default();
            let response = api.realm_client_scopes_post(realm, scope).await?;
            return Ok(response.to_id().map(|id| (name, id.to_owned())));
        }
        Action::UpdateClientScope { id, body } => {
            api.realm_client_scopes_with_client_scope_id_put(realm, id, typed(body)?)
                .await?;
        }
        Action::AssignRealmScope { scope, assigned } => {
            let id = scope_id(scope_ids, scope)?;
            match assigned {
                Assigned::Default => {
                    api.realm_default_default_client_scopes_with_client_scope_id_put(realm, id)
                        .await?;
                }
                Assigned::Optional => {
                    api.realm_default_optional_client_scopes_with_client_scope_id_put(realm, id)
                        .await?;
                }
            }
        }
        Action::MoveRealmScope { scope, assigned } => {
            let id = scope_id(scope_ids, scope)?;
            match assigned {
                Assigned::Default => {
                    gone(
                        api.realm_default_optional_client_scopes_with_client_scope_id_delete(
                            realm, id,
                        )
                        .await,
                    )?;
                    api.realm_default_default_client_scopes_with_client_scope_id_put(realm, id)
                        .await?;
                }
                Assigned::Optional => {
                    gone(
                        api.realm_default_default_client_scopes_with_client_scope_id_delete(
                            realm, id,
                        )
                        .await,
                    )?;
                    api.realm_default_optional_client_scopes_with_client_scope_id_put(realm, id)
                        .await?;
                }
            }
        }
        Action::AddClientScope {
            client,
            scope,
            assigned,
        } => {
            let id = scope_id(scope_ids, scope)?;
            match assigned {
                Assigned::Default => {
                    api.realm_clients_with_client_uuid_default_client_scopes_with_client_scope_id_put(
                        realm, client, id,
                    )
                    .await?;
                }
                Assigned::Optional => {
                    api.realm_clients_with_client_uuid_optional_client_scopes_with_client_scope_id_put(
                        realm, client, id,
                    )
                    .await?;
                }
            }
        }
        Action::DeleteRole { name } => {
            gone(api.realm_roles_with_role_name_delete(realm, name).await)?;
        }
        Action::DeleteClientScope { id } => {
            gone(
                api.realm_client_scopes_with_client_scope_id_delete(realm, id)
                    .await,
            )?;
        }
        Action::UpdateUserProfile(body) => {
            api.realm_users_profile_put(realm, typed(body)?).await?;
        }
        Action::CreateGroup { body, roles } => {
            let group: GroupRepresentation = typed(body)?;
            let response = api.realm_groups_post(realm, group).await?;
            let id = response
                .to_id()
                .ok_or_else(|| {
                    RealmError::Spec("Keycloak did not say where it created the group".to_owned())
                })?
                .to_owned();
            if !roles.is_empty() {
                let roles = role_representations(session, realm, roles).await?;
                api.realm_groups_with_group_id_role_mappings_realm_post(realm, &id, roles)
                    .await?;
            }
        }
        Action::UpdateGroup { id, body } => {
            api.realm_groups_with_group_id_put(realm, id, typed(body)?)
                .await?;
        }
        Action::AddGroupRoles { group, roles } => {
            let id = group_id(session, realm, group).await?;
            let roles = role_representations(session, realm, roles).await?;
            api.realm_groups_with_group_id_role_mappings_realm_post(realm, &id, roles)
                .await?;
        }
        Action::DeleteGroup { id } => {
            gone(api.realm_groups_with_group_id_delete(realm, id).await)?;
        }
        Action::JoinGroup { user, group } => {
            let group = group_id(session, realm, group).await?;
            api.realm_users_with_user_id_groups_with_group_id_put(realm, user, &group)
                .await?;
        }
        Action::LeaveGroup { user, group } => {
            gone(
                api.realm_users_with_user_id_groups_with_group_id_delete(realm, user, group)
                    .await,
            )?;
        }
        Action::RemoveUserRoles { id, roles } => {
            let roles = role_representations(session, realm, roles).await?;
            api.realm_users_with_user_id_role_mappings_realm_delete(realm, id, roles)
                .await?;
        }
        Action::DeleteUser { id } => {
            gone(api.realm_users_with_user_id_delete(realm, id).await)?;
        }
        Action::CreateMapper { scope, body } => {
            let id = scope_id(scope_ids, scope)?;
            let mapper: ProtocolMapperRepresentation = typed(body)?;
            api.realm_client_scopes_with_client_scope_id_protocol_mappers_models_post(
                realm, id, mapper,
            )
            .await?;
        }
        Action::UpdateMapper { scope, id, body } => {
            let scope = scope_id(scope_ids, scope)?;
            let mapper: ProtocolMapperRepresentation = typed(body)?;
            api.realm_client_scopes_with_client_scope_id_protocol_mappers_models_with_id_put(
                realm, scope, id, mapper,
            )
            .await?;
        }
        Action::DeleteMapper { scope, id } => {
            let scope = scope_id(scope_ids, scope)?;
            api.realm_client_scopes_with_client_scope_id_protocol_mappers_models_with_id_delete(
                realm, scope, id,
            )
            .await?;
        }
        Action::CreatePolicy(body) => {
            let component: ComponentRepresentation = typed(body)?;
            api.realm_components_post(realm, component).await?;
        }
        Action::UpdatePolicy { id, body } => {
            api.realm_components_with_id_put(realm, id, typed(body)?)
                .await?;
        }
        Action::DeletePolicy { id } => {
            gone(api.realm_components_with_id_delete(realm, id).await)?;
        }
        Action::CreateClient(body) => {
            let client: ClientRepresentation = typed(body)?;
            api.realm_clients_post(realm, client).await?;
        }
        Action::UpdateClient { id, body } => {
            api.realm_clients_with_client_uuid_put(realm, id, typed(body)?)
                .await?;
        }
        Action::CreateUser { body, roles } => {
            let user: UserRepresentation = typed(body)?;
            let response = api.realm_users_post(realm, user).await?;
            let id = response
                .to_id()
                .ok_or_else(|| {
                    RealmError::Spec("Keycloak did not say where it created the user".to_owned())
                })?
                .to_owned();
            let roles = role_representations(session, realm, roles).await?;
            api.realm_users_with_user_id_role_mappings_realm_post(realm, &id, roles)
                .await?;
        }
        Action::UpdateUser { id, body } => {
            api.realm_users_with_user_id_put(realm, id, typed(body)?)
                .await?;
        }
        Action::AddScopeRealmRoles { scope, roles } => {
            let roles = role_representations(session, realm, roles).await?;
            let id = scope_id(scope_ids, scope)?;
            api.realm_client_scopes_with_client_scope_id_scope_mappings_realm_post(
                realm, id, roles,
            )
            .await?;
        }
        Action::AddUserRoles { id, roles } => {
            let roles = role_representations(session, realm, roles).await?;
            api.realm_users_with_user_id_role_mappings_realm_post(realm, id, roles)
                .await?;
        }
        Action::ResetPassword { id, password } => {
            let credential = CredentialRepresentation {
                type_: Some("password".to_owned()),
                value: Some(password.clone()),
                temporary: Some(false),
                ..Default::default()
            };
            api.realm_users_with_user_id_reset_password_put(realm, id, credential)
                .await?;
        }
        Action::PutClientProfiles(body) => {
            api.realm_client_policies_profiles_put(realm, typed(body)?)
                .await?;
        }
        Action::PutClientPolicies(body) => {
            api.realm_client_policies_policies_put(realm, typed(body)?)
                .await?;
        }
    }
    Ok(None)
}
