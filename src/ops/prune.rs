use serde::Serialize;

use super::OpsError;
use super::settings::InstanceContext;

/// What `kcdev prune` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Derived images and finished derivation containers, by name.
    pub removed: Vec<String>,
}

/// Removes the optimized images kcdev derived (from `base`, or from any image) that no container
/// uses (the next `up` derives again what it needs), and derivations that are over.
pub async fn prune(context: &InstanceContext, base: Option<&str>) -> Result<PruneReport, OpsError> {
    let engine = context.engine().await?;
    Ok(PruneReport {
        removed: engine.prune_derived(base).await?,
    })
}
