//! An instance is one independent kcdev setup: one Keycloak container, one data volume and one
//! state file. Every name and label kcdev gives to Docker objects is derived here, so that two
//! instances never collide and `down` finds exactly what `up` made.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Label carried by every Docker object kcdev creates.
pub const LABEL_MANAGED_BY: &str = "dev.kcdev.managed-by";
/// Label naming the instance a Docker object belongs to.
pub const LABEL_INSTANCE: &str = "dev.kcdev.instance";
/// Label recording the Keycloak version the container was created for.
pub const LABEL_KEYCLOAK_VERSION: &str = "dev.kcdev.keycloak-version";
/// Label recording the image the user chose, which an optimized boot's image derives from.
pub const LABEL_BASE_IMAGE: &str = "dev.kcdev.base-image";
/// Label recording how the container boots (`dev`, `built`, `seeded`).
pub const LABEL_BOOT: &str = "dev.kcdev.boot";
/// Label: the experimental Keycloak features the container runs with, comma-separated.
pub const LABEL_FEATURES: &str = "dev.kcdev.features";

const MAX_NAME_LEN: usize = 40;

/// A validated instance name (`default` unless `--instance` or `KCDEV_INSTANCE` says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Instance(String);

/// Why a string cannot name an instance.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid instance name {name:?}: use 1 to {MAX_NAME_LEN} characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
)]
pub struct InvalidInstanceName {
    name: String,
}

impl Instance {
    /// The instance used when none is named.
    pub fn default_instance() -> Self {
        Self("default".to_owned())
    }

    /// The instance name as given.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Name of the Keycloak container.
    pub fn container_name(&self) -> String {
        format!("kcdev-{}-keycloak", self.0)
    }

    /// Name of the volume holding Keycloak's data directory.
    pub fn volume_name(&self) -> String {
        format!("kcdev-{}-data", self.0)
    }

    /// File name of the instance's state file inside kcdev's state directory.
    pub fn state_file_name(&self) -> String {
        format!("{}.json", self.0)
    }

    /// Labels put on every Docker object of this instance.
    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_MANAGED_BY.to_owned(), "kcdev".to_owned()),
            (LABEL_INSTANCE.to_owned(), self.0.clone()),
        ])
    }

    /// Whether an object with these labels is this instance's. Podman's compatible API
    /// matches a list filter of several labels by any one of them, where Docker wants all, so
    /// what [`Instance::label_filter`] lists is checked again with this.
    pub fn owns(&self, labels: Option<&HashMap<String, String>>) -> bool {
        labels.is_some_and(|labels| {
            self.labels()
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
        })
    }

    /// Docker list filter selecting this instance's objects by label.
    pub fn label_filter(&self) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            vec![
                format!("{LABEL_MANAGED_BY}=kcdev"),
                format!("{LABEL_INSTANCE}={}", self.0),
            ],
        )])
    }
}

impl FromStr for Instance {
    type Err = InvalidInstanceName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let valid_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if starts_well && name.len() <= MAX_NAME_LEN && name.chars().all(valid_char) {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidInstanceName {
                name: name.to_owned(),
            })
        }
    }
}

impl TryFrom<String> for Instance {
    type Error = InvalidInstanceName;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<Instance> for String {
    fn from(instance: Instance) -> Self {
        instance.0
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_owns_only_objects_with_both_of_its_labels() {
        let instance: Instance = "dev".parse().unwrap();
        assert!(instance.owns(Some(&instance.labels())));
        let other: Instance = "other".parse().unwrap();
        assert!(!instance.owns(Some(&other.labels())));
        let unlabelled = HashMap::from([(LABEL_INSTANCE.to_owned(), "dev".to_owned())]);
        assert!(!instance.owns(Some(&unlabelled)));
        assert!(!instance.owns(None));
    }

    #[test]
    fn names_contain_the_instance() {
        let instance: Instance = "dev-2".parse().unwrap();
        assert_eq!(instance.container_name(), "kcdev-dev-2-keycloak");
        assert_eq!(instance.volume_name(), "kcdev-dev-2-data");
        assert_eq!(instance.state_file_name(), "dev-2.json");
        assert_eq!(instance.labels()[LABEL_INSTANCE], "dev-2");
    }

    #[test]
    fn rejects_names_docker_or_the_file_system_would_mangle() {
        for bad in ["", "-x", "Upper", "a/b", "a b", "x".repeat(41).as_str()] {
            assert!(bad.parse::<Instance>().is_err(), "{bad:?} accepted");
        }
        assert!("a".parse::<Instance>().is_ok());
    }
}
