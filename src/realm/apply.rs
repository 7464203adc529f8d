//! Carrying out a plan through the Admin REST API. Each change is one idempotent step, so an
//! interrupted run leaves a realm the next run can finish.

use std::collections::HashMap;

use keycloak::types::{
    ClientRepresentation, ClientScopeRepresentation, ComponentRepresentation,
    CredentialRepresentation, ProtocolMapperRepresentation, RealmRepresentation,
    RoleRepresentation, UserRepresentation,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::observe::ObservedRealm;
use super::plan::{Action, Change};
use super::{RealmError, api_error};
use crate::keycloak::AdminSession;

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, RealmError> {
    serde_json::from_value(value.clone()).map_err(|err| RealmError::Spec(err.to_string()))
}

/// Runs the changes in order.
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
    for change in changes {
        let what = format!("{} {}", change.kind, change.object);
        run(session, realm, &change.action, &mut scope_ids)
            .await
            .map_err(|err| match err {
                RealmError::Api(_) | RealmError::Spec(_) | RealmError::InvalidSetting { .. } => err,
                RealmError::Keycloak(err) => api_error(what, err),
            })?;
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
    let mut roles = Vec::with_capacity(names.len());
    for name in names {
        roles.push(
            session
                .api()
                .realm_roles_with_role_name_get(realm, name)
                .await?,
        );
    }
    Ok(roles)
}

async fn run(
    session: &AdminSession,
    realm: &str,
    action: &Action,
    scope_ids: &mut HashMap<String, String>,
) -> Result<(), RealmError> {
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
            if let Some(id) = response.to_id() {
                scope_ids.insert(name, id.to_owned());
            }
        }
        Action::UpdateClientScope { id, body } => {
            api.realm_client_scopes_with_client_scope_id_put(realm, id, typed(body)?)
                .await?;
        }
        Action::AddDefaultScope { scope } => {
            let id = scope_id(scope_ids, scope)?;
            api.realm_default_default_client_scopes_with_client_scope_id_put(realm, id)
                .await?;
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
        Action::DeletePolicy { id } => match api.realm_components_with_id_delete(realm, id).await {
            Ok(_) | Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => {}
            Err(err) => return Err(err.into()),
        },
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
    Ok(())
}
