//! The values kcdev uses when neither a flag nor the instance's state says otherwise.

use semver::Version;

/// The Keycloak version kcdev ships as default: the newest 26.x whose distribution zip is on
/// Maven Central, which is also the version the test image is built from.
pub fn keycloak_version() -> &'static str {
    include_str!("../scripts/keycloak-version").trim()
}

/// The oldest Keycloak kcdev accepts: dynamic client registration is broken with MCP clients
/// before 26.6.0 (keycloak PR #45309).
pub const MIN_KEYCLOAK_VERSION: Version = Version::new(26, 6, 0);

/// The official image, pinned to [`keycloak_version`].
pub fn image() -> String {
    format!("quay.io/keycloak/keycloak:{}", keycloak_version())
}

/// Host port of Keycloak's HTTP listener.
pub const HTTP_PORT: u16 = 8080;
/// Host port of Keycloak's management interface.
pub const MANAGEMENT_PORT: u16 = 9000;
/// Container memory limit: enough for Keycloak's dev mode, bounded so the heap does not take 70 %
/// of the host's memory.
pub const MEMORY_BYTES: u64 = 1 << 30;
/// Bootstrap admin user of the master realm.
pub const ADMIN_USERNAME: &str = "admin";
/// Realm name: the one FastMCP's own examples use.
pub const REALM: &str = "fastmcp";
/// Base URL of the MCP server the realm issues tokens for.
pub const SERVER_URL: &str = "http://localhost:8000";
/// Test users' password.
pub const USER_PASSWORD: &str = "password123";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_version_is_supported() {
        let shipped = crate::docker::parse_keycloak_version(keycloak_version()).unwrap();
        assert!(shipped >= MIN_KEYCLOAK_VERSION);
        assert_eq!(
            shipped.to_string(),
            keycloak_version(),
            "pin a full x.y.z version"
        );
    }
}
