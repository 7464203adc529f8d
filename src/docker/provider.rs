//! Copying kcdev's Keycloak provider ([`crate::provider`]) into a container before Keycloak
//! starts or builds in it. Keycloak loads providers only from its providers directory, and the
//! base image is the user's (or the official one), so the jar goes in through the engine's copy
//! API rather than through an image kcdev would have to build first.

use bollard::query_parameters::UploadToContainerOptionsBuilder;

use super::{DockerError, Engine};
use crate::provider::{PROVIDER_JAR, PROVIDER_JAR_NAME, PROVIDERS_DIR};

/// Owner of the jar in the container: the official image's `keycloak` user and the root group,
/// as every file under /opt/keycloak (OpenShift runs it as a random uid in group 0).
pub(super) const KEYCLOAK_UID: u64 = 1000;
const ROOT_GID: u64 = 0;
/// A fixed modification time (the jar's own build timestamp, 2026-01-01), so that images derived
/// from a container with the jar do not differ by when kcdev copied it.
const FIXED_MTIME: u64 = 1_767_225_600;

/// A tar archive holding the provider jar, as the copy API takes it.
fn provider_archive() -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_gnu();
    header.set_size(PROVIDER_JAR.len() as u64);
    header.set_mode(0o644);
    header.set_uid(KEYCLOAK_UID);
    header.set_gid(ROOT_GID);
    header.set_mtime(FIXED_MTIME);
    header.set_entry_type(tar::EntryType::Regular);
    let mut archive = tar::Builder::new(Vec::new());
    archive.append_data(&mut header, PROVIDER_JAR_NAME, PROVIDER_JAR)?;
    archive.into_inner()
}

impl Engine {
    /// Copies the provider jar into a created (not yet started) container's providers directory.
    pub(super) async fn install_provider(&self, container: &str) -> Result<(), DockerError> {
        let archive = provider_archive().map_err(|source| DockerError::ProviderArchive {
            what: "kcdev's Keycloak provider",
            source,
        })?;
        let options = UploadToContainerOptionsBuilder::default()
            .path(PROVIDERS_DIR)
            .build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(DockerError::operation(
                "copy kcdev's Keycloak provider into",
                container,
            ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_archive_holds_exactly_the_jar_readable_by_keycloak() {
        let bytes = provider_archive().unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut entries = archive.entries().unwrap();
        let mut entry = entries.next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some(PROVIDER_JAR_NAME));
        assert_eq!(entry.header().mode().unwrap(), 0o644);
        assert_eq!(entry.header().uid().unwrap(), KEYCLOAK_UID);
        let mut jar = Vec::new();
        entry.read_to_end(&mut jar).unwrap();
        assert_eq!(jar, PROVIDER_JAR);
        drop(entry);
        assert!(entries.next().is_none());
        assert_eq!(provider_archive().unwrap(), bytes, "reproducible");
    }
}
