//! How the Keycloak container boots.
//!
//! `start-dev` on the image as it is makes every new container pay twice for work that never
//! changes: a second JVM re-augments Quarkus for the build options, and an empty database is
//! migrated and given a master realm. An optimized boot does both once: kcdev derives from the
//! base image an image already built with its build options ("built"), and from that one an image
//! whose data directory holds a migrated database with the master realm but no admin user
//! ("seeded"), which Docker copies into a new, empty volume. The container then runs
//! `start --optimized`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::jvm;
use crate::provider::PROVIDER_JAR_SHA256;

/// Where an instance boots from, as asked for (`up --boot`) and kept in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BootMode {
    /// `start-dev` on the image as given. The default for states written before optimized
    /// boots existed, so that upgrading kcdev never asks to recreate a container.
    #[default]
    Dev,
    /// `start --optimized` on the images kcdev derives from the given one.
    Optimized,
}

/// The options `kc.sh build` bakes into a derived image. Changing any of them derives another
/// image; `--optimized` refuses to start an image built with different ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildOptions {
    /// Experimental features a realm mode needs (empty: Keycloak's defaults).
    pub features: Vec<String>,
}

impl BuildOptions {
    /// `kc.sh build` arguments. The database is the file-based H2 of dev mode (one container, no
    /// database server), health is on because readiness is read from it.
    pub fn build_args(&self) -> Vec<String> {
        let mut args = vec![
            "build".to_owned(),
            "--db=dev-file".to_owned(),
            "--health-enabled=true".to_owned(),
        ];
        if !self.features.is_empty() {
            args.push(format!("--features={}", self.features.join(",")));
        }
        args
    }
}

/// What the container is told to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    Dev,
    /// `start --optimized` on a derived image; `seeded` when its database is initialized.
    Optimized {
        image: String,
        seeded: bool,
    },
}

/// [`Boot::label`] of a container booted from a seeded image.
pub const SEEDED_LABEL: &str = "seeded";
/// [`Boot::label`] of a container booted from a built image whose database it initialized.
pub const BUILT_LABEL: &str = "built";

impl Boot {
    /// The label value recorded on the container.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Optimized { seeded: false, .. } => BUILT_LABEL,
            Self::Optimized { seeded: true, .. } => SEEDED_LABEL,
        }
    }

    /// The image a container booting this way runs, `base` being the one the user chose.
    pub fn image<'a>(&'a self, base: &'a str) -> &'a str {
        match self {
            Self::Dev => base,
            Self::Optimized { image, .. } => image,
        }
    }

    /// `JAVA_OPTS_APPEND`: an optimized boot's JVM options (see [`jvm`]); a dev boot keeps the
    /// image's.
    pub fn jvm_options(&self) -> Option<String> {
        match self {
            Self::Dev => None,
            Self::Optimized { seeded, .. } => Some(jvm::runtime_options(*seeded)),
        }
    }

    /// Keycloak's command line.
    pub fn command(&self) -> Vec<String> {
        match self {
            // Keycloak 26.6+ binds dev mode to localhost unless told otherwise; inside a
            // container that would make the published port dead.
            Self::Dev => vec!["start-dev".to_owned(), "--http-host=0.0.0.0".to_owned()],
            Self::Optimized { .. } => runtime_args(),
        }
    }
}

/// The runtime options that give production mode what dev mode gives a laptop: plain HTTP, a
/// relaxed hostname check (the issuer stays fixed through `KC_HOSTNAME`), a local cache instead
/// of a cluster.
pub fn runtime_args() -> Vec<String> {
    [
        "start",
        "--optimized",
        "--http-enabled=true",
        "--hostname-strict=false",
        "--cache=local",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The names of the two images derived from one base image with one set of build options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedNames {
    /// The base image's id, which the names are derived from.
    pub key: String,
    pub built: String,
    pub seeded: String,
    /// The container that derives the built image (one per key: a second kcdev waits for it).
    pub build_container: String,
    /// The container that seeds the database in the background.
    pub seed_container: String,
}

/// The repository derived images live in.
pub const DERIVED_REPOSITORY: &str = "kcdev/keycloak-optimized";

impl DerivedNames {
    /// Names from the base image's id (a changed base, even under the same tag, derives anew),
    /// the build options, kcdev's Keycloak provider, which `kc.sh build` builds in (a kcdev
    /// with another provider jar derives anew), and the JVM options the seeding trains the
    /// class archive with (another way of making it derives anew).
    pub fn new(base_id: &str, version: Option<&str>, options: &BuildOptions) -> Self {
        Self::with_inputs(
            base_id,
            version,
            options,
            PROVIDER_JAR_SHA256,
            &jvm::derivation_fingerprint(),
        )
    }

    fn with_inputs(
        base_id: &str,
        version: Option<&str>,
        options: &BuildOptions,
        provider_sha256: &str,
        jvm_fingerprint: &str,
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(base_id.as_bytes());
        for arg in options.build_args() {
            hasher.update([0]);
            hasher.update(arg.as_bytes());
        }
        hasher.update([0]);
        hasher.update(provider_sha256.as_bytes());
        hasher.update([0]);
        hasher.update(jvm_fingerprint.as_bytes());
        let key: String = hasher
            .finalize()
            .iter()
            .take(6)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let version = version.unwrap_or("unknown");
        Self {
            built: format!("{DERIVED_REPOSITORY}:{version}-{key}-built"),
            seeded: format!("{DERIVED_REPOSITORY}:{version}-{key}-seeded"),
            build_container: format!("kcdev-derive-{key}"),
            seed_container: format!("kcdev-seed-{key}"),
            key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_base_and_the_options() {
        let plain = DerivedNames::new("sha256:aaa", Some("26.7.5"), &BuildOptions::default());
        assert_eq!(
            plain,
            DerivedNames::new("sha256:aaa", Some("26.7.5"), &BuildOptions::default()),
            "stable"
        );
        assert!(plain.built.starts_with("kcdev/keycloak-optimized:26.7.5-"));
        assert!(plain.built.ends_with("-built") && plain.seeded.ends_with("-seeded"));
        let other_base = DerivedNames::new("sha256:bbb", Some("26.7.5"), &BuildOptions::default());
        let features = BuildOptions {
            features: vec!["cimd".into()],
        };
        let other_options = DerivedNames::new("sha256:aaa", Some("26.7.5"), &features);
        let other_provider = DerivedNames::with_inputs(
            "sha256:aaa",
            Some("26.7.5"),
            &BuildOptions::default(),
            "000000000000",
            &jvm::derivation_fingerprint(),
        );
        let other_jvm = DerivedNames::with_inputs(
            "sha256:aaa",
            Some("26.7.5"),
            &BuildOptions::default(),
            PROVIDER_JAR_SHA256,
            "-XX:SomethingElse",
        );
        assert_ne!(plain.key, other_base.key);
        assert_ne!(plain.key, other_options.key);
        assert_ne!(
            plain.key, other_provider.key,
            "a new provider jar derives anew"
        );
        assert_ne!(
            plain.key, other_jvm.key,
            "another way of training the class archive derives anew"
        );
        assert!(
            features
                .build_args()
                .contains(&"--features=cimd".to_owned())
        );
    }

    #[test]
    fn optimized_boots_start_production_mode_made_pleasant() {
        let boot = Boot::Optimized {
            image: "x".into(),
            seeded: true,
        };
        assert_eq!(boot.label(), "seeded");
        assert_eq!(
            boot.command(),
            [
                "start",
                "--optimized",
                "--http-enabled=true",
                "--hostname-strict=false",
                "--cache=local"
            ]
        );
        assert_eq!(Boot::Dev.command()[0], "start-dev");
    }

    #[test]
    fn only_a_seeded_image_boots_from_the_class_archive() {
        let boot = |seeded| Boot::Optimized {
            image: "x".into(),
            seeded,
        };
        let archive = format!("-XX:SharedArchiveFile={}", jvm::CLASS_ARCHIVE);
        assert!(boot(true).jvm_options().unwrap().contains(&archive));
        assert!(!boot(false).jvm_options().unwrap().contains(&archive));
        assert_eq!(Boot::Dev.jvm_options(), None);
    }
}
