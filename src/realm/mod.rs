//! The realm kcdev provisions: a declarative spec (`realm/realm.toml`, embedded) and the
//! reconcile that makes a Keycloak realm match it — observe, plan (pure), apply — touching
//! nothing the spec does not name.

mod apply;
mod declared;
mod diff;
mod export;
mod observe;
mod password;
mod plan;
mod render;
mod seeded;
mod spec;

pub use declared::{
    CLAIM_MAPPER_PREFIX, ClaimSource, Declared, DeclaredClaim, DeclaredGroup, DeclaredRole,
    DeclaredScope, DeclaredServer, DeclaredUser, OWNER_ATTRIBUTE, OWNER_VALUE,
};
pub use export::{
    Placeholder, RealmExport, export, is_keycloak_scope, kubernetes_name, operator_resource,
};
pub use observe::{ObservedRealm, ObservedUser, observe};
pub use password::PasswordMarks;
pub use plan::{Change, ChangeKind, Plan, plan};
pub use seeded::{DefaultRealm, default_realm, reconcile_seeded};
use serde::Serialize;
pub use spec::{
    Assigned, CimdOptions, CimdSpec, ClientScopeSpec, GroupSpec, PolicySpec, RealmSpec,
    RealmVariables, RegisteredClientScopes, Representation, TokenClaimsSpec, UserSpec,
    check_http_url, field, resource_url_of,
};

#[cfg(test)]
pub(crate) use spec::tests::variables as test_variables;

use crate::keycloak::{AdminSession, KeycloakApiError, PreparedKeys};

/// Failures of provisioning.
#[derive(Debug, thiserror::Error)]
pub enum RealmError {
    /// A flag value the realm cannot use.
    #[error("invalid {setting} {value:?}: expected {expected}")]
    InvalidSetting {
        /// Which setting.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// The embedded spec is inconsistent (a kcdev bug) or Keycloak answered unexpectedly.
    #[error("realm spec: {0}")]
    Spec(String),
    /// An Admin API call failed.
    #[error(transparent)]
    Api(#[from] KeycloakApiError),
    /// A `keycloak` crate call failed; turned into [`RealmError::Api`] with context before it
    /// leaves this module.
    #[error(transparent)]
    Keycloak(#[from] keycloak::KeycloakError),
}

pub(crate) fn api_error(
    operation: impl Into<String>,
    error: keycloak::KeycloakError,
) -> RealmError {
    RealmError::Api(KeycloakApiError::from_crate(operation, error))
}

/// What a reconcile did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReconcileReport {
    /// Realm name.
    pub realm: String,
    /// Objects created.
    pub created: usize,
    /// Objects updated.
    pub updated: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Objects already as the spec says.
    pub unchanged: usize,
    /// Every change made, in order.
    pub changes: Vec<Change>,
    /// Objects left as they were.
    pub unchanged_objects: Vec<String>,
    /// Whether the realm came with the seeded database image (given keys, secrets and passwords
    /// of this instance's own) instead of being created.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_seed: bool,
    /// For the instance's state: the next run knows the passwords without logging in.
    #[serde(skip)]
    pub password_marks: PasswordMarks,
}

impl ReconcileReport {
    fn new(realm: &str, plan: Plan, password_marks: PasswordMarks) -> Self {
        let count = |kind| {
            plan.changes
                .iter()
                .filter(|change| change.kind == kind)
                .count()
        };
        Self {
            realm: realm.to_owned(),
            created: count(ChangeKind::Create),
            updated: count(ChangeKind::Update),
            deleted: count(ChangeKind::Delete),
            unchanged: plan.unchanged.len(),
            changes: plan.changes,
            unchanged_objects: plan.unchanged,
            from_seed: false,
            password_marks,
        }
    }

    /// Whether the realm already matched the spec.
    pub fn up_to_date(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Makes the realm match `spec`: creates it if missing (after deleting it first when `reset`),
/// then applies the planned changes. Running it again right after makes no write call.
///
/// `keys` are RSA keys for a new realm's key providers (see [`PreparedKeys`]); without them
/// Keycloak generates its own.
pub async fn reconcile(
    session: &AdminSession,
    spec: &RealmSpec,
    reset: bool,
    keys: Option<&PreparedKeys>,
    marks: &PasswordMarks,
) -> Result<ReconcileReport, RealmError> {
    reconcile_with(
        session,
        spec,
        reset,
        keys,
        observe::Passwords::Marked(marks),
    )
    .await
}

/// [`reconcile`], knowing what it knows of the test users' passwords.
async fn reconcile_with(
    session: &AdminSession,
    spec: &RealmSpec,
    reset: bool,
    keys: Option<&PreparedKeys>,
    passwords: observe::Passwords<'_>,
) -> Result<ReconcileReport, RealmError> {
    let realm = spec.realm_name();
    if reset {
        match session.api().realm_delete(realm).await {
            Ok(_) | Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => {}
            Err(err) => return Err(api_error("delete the realm", err)),
        }
    }
    let mut observed = observe::observe_with(session, spec, passwords).await?;
    let mut realm_created = None;
    if observed.realm.is_none() {
        let create = Change::create_realm(spec, keys)?;
        apply::apply(session, realm, &observed, std::slice::from_ref(&create)).await?;
        realm_created = Some(create);
        // The users came with the realm, their passwords the spec's: no login to find out.
        observed = observe::observe_with(session, spec, observe::Passwords::JustSet).await?;
    }
    let removed = plan::cimd_removal(spec, &observed);
    if !removed.is_empty() {
        apply::apply(session, realm, &observed, &removed).await?;
        observed = observe::observe_with(session, spec, passwords).await?;
    }
    let mut plan = plan(spec, &observed);
    apply::apply(session, realm, &observed, &plan.changes).await?;
    let password_marks = marks_after(session, spec, &observed).await?;
    plan.changes
        .splice(0..0, realm_created.into_iter().chain(removed));
    Ok(ReconcileReport::new(realm, plan, password_marks))
}

/// The marks of the test users' passwords once the plan ran: a password that logged in is the
/// credential observed; a created or reset one is read back.
async fn marks_after(
    session: &AdminSession,
    spec: &RealmSpec,
    observed: &ObservedRealm,
) -> Result<PasswordMarks, RealmError> {
    let realm = spec.realm_name();
    let marks = futures_util::future::try_join_all(spec.users.iter().map(|user| async move {
        let username = user.username();
        let accepted = observed.users.iter().find(|seen| {
            seen.password_accepted
                && seen.representation.get("username").and_then(|v| v.as_str()) == Some(username)
        });
        let credential = match accepted {
            Some(seen) => seen.password_credential.clone(),
            None => match session.find_user(realm, username).await? {
                Some(found) => {
                    let id = found.id.unwrap_or_default();
                    password::password_credential(session, realm, username, &id).await?
                }
                None => None,
            },
        };
        Ok::<_, RealmError>(credential.map(|credential| {
            (
                username.to_owned(),
                password::mark(&credential, &user.password),
            )
        }))
    }))
    .await?;
    Ok(marks.into_iter().flatten().collect())
}

/// The changes `reconcile` would make to the realm, without making them; `None` when the realm
/// does not exist at all.
pub async fn drift(
    session: &AdminSession,
    spec: &RealmSpec,
    marks: &PasswordMarks,
) -> Result<Option<Plan>, RealmError> {
    let observed = observe(session, spec, marks).await?;
    Ok(observed.realm.is_some().then(|| plan(spec, &observed)))
}
