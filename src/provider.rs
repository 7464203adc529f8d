//! kcdev's Keycloak provider, which every Keycloak container kcdev runs has in
//! `/opt/keycloak/providers/`: a client-registration policy that gives a dynamically registered
//! client the realm's optional client scopes. Keycloak gives a client that registers with a
//! `scope` member only the scopes it named, so without it an MCP client could never step up to a
//! scope it did not ask for at registration.
//!
//! The jar is built from `realm/provider/` by `scripts/build-provider.sh` and committed; CI checks
//! that it is what the source builds. Its own module, not `docker` or `keycloak`: the container
//! side installs it and the realm side names its provider id, and those two never import each
//! other.

/// The provider jar, embedded so kcdev needs no file beside its binary.
pub const PROVIDER_JAR: &[u8] = include_bytes!("../realm/provider/kcdev-keycloak-provider.jar");

/// The jar's file name in `/opt/keycloak/providers/`.
pub const PROVIDER_JAR_NAME: &str = "kcdev-keycloak-provider.jar";

/// Where Keycloak loads providers from, in the official image's layout.
pub const PROVIDERS_DIR: &str = "/opt/keycloak/providers";

/// The client-registration policy's provider id: a realm turns the policy on with a component of
/// provider type `org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy`,
/// subtype `anonymous` (or `authenticated`) and this provider id.
pub const PROVIDER_ID: &str = "kcdev-optional-scopes";

/// The first 12 hex digits of the jar's SHA-256 (computed by build.rs), for names and keys that
/// must change when the jar does, such as those of the images kcdev derives.
pub const PROVIDER_JAR_SHA256: &str = env!("KCDEV_PROVIDER_JAR_SHA256");

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn the_short_hash_is_the_embedded_jars() {
        let full: String = Sha256::digest(PROVIDER_JAR)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(PROVIDER_JAR_SHA256.len(), 12);
        assert!(full.starts_with(PROVIDER_JAR_SHA256), "{full}");
    }

    #[test]
    fn the_jar_registers_the_policy_factory() {
        // A jar is a zip; its central directory names every entry in plain bytes.
        let contains = |needle: &str| {
            PROVIDER_JAR
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        };
        assert!(contains(
            "META-INF/services/org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyFactory"
        ));
        assert!(contains(
            "dev/kcdev/keycloak/OptionalScopesPolicyFactory.class"
        ));
    }
}
