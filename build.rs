//! Rebuild when the embedded templates change: `include_dir!` does not tell cargo on stable.
//! Every file is named, not only the directory, so an edit to any of them is seen.
//!
//! Also hashes the embedded Keycloak provider jar into `KCDEV_PROVIDER_JAR_SHA256`
//! (`kcdev::provider::PROVIDER_JAR_SHA256`), rerunning when the jar changes, and names the
//! commit the binary is built from in `KCDEV_COMMIT` (`kcdev --version`).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const PROVIDER_JAR: &str = "realm/provider/kcdev-keycloak-provider.jar";

/// Written by `cargo package` into the packaged crate (and so into what crates.io serves).
const CARGO_VCS_INFO: &str = ".cargo_vcs_info.json";

/// Digits of the commit hash shown: enough to be unique in any repository this size.
const COMMIT_DIGITS: usize = 12;

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

/// Cargo reruns a build script on every build while a file it watches is missing.
fn watch_file(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(manifest_dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(manifest_dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// The commit of a git checkout whose top is this crate. A crate unpacked somewhere inside
/// another repository (`target/package/`, a vendored copy) is not that repository's commit.
fn git_commit(manifest_dir: &Path) -> Option<String> {
    let top = PathBuf::from(git(manifest_dir, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    // Rerun on a new commit or a branch switch, not on every edit: HEAD names the branch, the
    // branch's ref (loose, or packed once git packs it) names the commit.
    let branch = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]);
    for name in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        if let Some(file) = git(manifest_dir, &["rev-parse", "--git-path", name]) {
            watch_file(&manifest_dir.join(file));
        }
    }
    git(
        manifest_dir,
        &["rev-parse", &format!("--short={COMMIT_DIGITS}"), "HEAD"],
    )
}

/// The commit `cargo package` recorded: `{"git": {"sha1": "…"}, "path_in_vcs": ""}`.
fn packaged_commit(manifest_dir: &Path) -> Option<String> {
    let path = manifest_dir.join(CARGO_VCS_INFO);
    watch_file(&path);
    let text = std::fs::read_to_string(path).ok()?;
    // A string search keeps build.rs free of a JSON dependency; the file is cargo's, one shape.
    let after = text.split_once("\"sha1\"")?.1;
    let sha1 = after.split('"').nth(1)?;
    sha1.chars()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| sha1.chars().take(COMMIT_DIGITS).collect())
}

fn commit() {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let commit = git_commit(&manifest_dir)
        .or_else(|| packaged_commit(&manifest_dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KCDEV_COMMIT={commit}");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    watch(Path::new("templates"));
    hash_provider_jar();
    commit();
}
