use serde::Serialize;

use super::OpsError;
use super::settings::InstanceContext;
use crate::realm::{self, Change, RealmSpec};

/// What `kcdev up` would change in the realm: the settings it last applied, with the project
/// file's and the environment's over them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanReport {
    pub instance: String,
    pub realm: String,
    /// When false, `up` would create the realm, and everything in it.
    pub realm_exists: bool,
    /// In the order `up` would make them, each with its fields as `path: current -> wanted`.
    pub changes: Vec<Change>,
    /// Objects that already match the spec.
    pub unchanged: Vec<String>,
}

impl PlanReport {
    pub fn up_to_date(&self) -> bool {
        self.realm_exists && self.changes.is_empty()
    }
}

/// Observes the realm and plans, writing nothing.
pub async fn plan(context: &InstanceContext) -> Result<PlanReport, OpsError> {
    let state = context.require_up().await?;
    let settings = context.settings_without_flags(Some(&state))?;
    let spec = RealmSpec::render(&settings.realm_variables())?;
    let session = context.admin_session(&settings).await?;
    let drift = realm::drift(&session, &spec, &state.password_marks).await?;
    let (realm_exists, changes, unchanged) = match drift {
        Some(plan) => (true, plan.changes, plan.unchanged),
        None => (false, vec![], vec![]),
    };
    Ok(PlanReport {
        instance: context.instance.to_string(),
        realm: spec.realm_name().to_owned(),
        realm_exists,
        changes,
        unchanged,
    })
}
