//! Rebuild when the embedded templates change: `include_dir!` does not tell cargo on stable.
//! Every file is named, not only the directory, so an edit to any of them is seen.
//!
//! Also hashes the embedded Keycloak provider jar into `KCDEV_PROVIDER_JAR_SHA256`
//! (`kcdev::provider::PROVIDER_JAR_SHA256`), rerunning when the jar changes.

use std::path::Path;

use sha2::{Digest, Sha256};

const PROVIDER_JAR: &str = "realm/provider/kcdev-keycloak-provider.jar";

fn hash_provider_jar() {
    println!("cargo:rerun-if-changed={PROVIDER_JAR}");
    let jar = match std::fs::read(PROVIDER_JAR) {
        Ok(jar) => jar,
        Err(err) => panic!("cannot read {PROVIDER_JAR} ({err}): run scripts/build-provider.sh"),
    };
    let short: String = Sha256::digest(&jar)
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    println!("cargo:rustc-env=KCDEV_PROVIDER_JAR_SHA256={short}");
}

fn watch(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    watch(Path::new("templates"));
    hash_provider_jar();
}
