use serde::Serialize;

use super::OpsError;
use super::settings::InstanceContext;
use crate::realm::{self, Placeholder};

/// Which file `kcdev export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// A realm file (JSON) for `kc.sh import`, `--import-realm` or keycloak-config-cli.
    Keycloak,
    /// A Keycloak Operator `KeycloakRealmImport` (YAML).
    Operator,
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub context: InstanceContext,
    pub format: ExportFormat,
    pub include_test_users: bool,
    /// The `Keycloak` custom resource the import is for (operator format).
    pub keycloak_cr: String,
}

/// The exported file and the placeholders in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportReport {
    pub format: ExportFormat,
    pub realm: String,
    /// The file's text.
    pub document: String,
    pub placeholders: Vec<Placeholder>,
    /// For the operator format: the Secret the placeholders are read from.
    pub secret: Option<String>,
}

/// The instance's realm (or kcdev's default one, before any `up`) as an import file, from the
/// spec and the settings `up` last applied; nothing is read from Keycloak.
pub fn export(options: &ExportOptions) -> Result<ExportReport, OpsError> {
    let state = options.context.load_state()?;
    let variables = options
        .context
        .settings_without_flags(state.as_ref())?
        .realm_variables();
    let export = realm::export(&variables, options.include_test_users)?;
    let (document, secret) = match options.format {
        ExportFormat::Keycloak => (
            serde_json::to_string_pretty(&export.realm)
                .map_err(|err| OpsError::Export(err.to_string()))?
                + "\n",
            None,
        ),
        ExportFormat::Operator => {
            let secret = format!("kcdev-{}", realm::kubernetes_name(&variables.realm));
            let resource = realm::operator_resource(&export, &options.keycloak_cr, &secret);
            (
                serde_norway::to_string(&resource)
                    .map_err(|err| OpsError::Export(err.to_string()))?,
                Some(secret),
            )
        }
    };
    Ok(ExportReport {
        format: options.format,
        realm: variables.realm,
        document,
        placeholders: export.placeholders,
        secret,
    })
}
