use serde::Serialize;

/// The URLs of one realm, derived from Keycloak's public base URL (the fixed hostname, so they
/// match the `iss` of the realm's tokens exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmUrls {
    /// Realm name.
    pub realm: String,
    /// Issuer: `<base>/realms/<realm>`.
    pub issuer: String,
    /// OpenID Connect discovery document.
    pub discovery: String,
    /// JSON Web Key Set.
    pub jwks: String,
    /// Token endpoint.
    pub token: String,
    /// Authorization endpoint.
    pub authorization: String,
    /// Anonymous dynamic client registration endpoint.
    pub registration: String,
    /// The realm's page in the admin console.
    pub admin_console: String,
}

impl RealmUrls {
    /// URLs of `realm` on the Keycloak reachable at `base_url` (no trailing slash).
    pub fn new(base_url: &str, realm: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        let issuer = format!("{base}/realms/{realm}");
        let oidc = format!("{issuer}/protocol/openid-connect");
        Self {
            realm: realm.to_owned(),
            discovery: format!("{issuer}/.well-known/openid-configuration"),
            jwks: format!("{oidc}/certs"),
            token: format!("{oidc}/token"),
            authorization: format!("{oidc}/auth"),
            registration: format!("{issuer}/clients-registrations/openid-connect"),
            admin_console: format!("{base}/admin/master/console/#/{realm}"),
            issuer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_has_no_trailing_slash() {
        let urls = RealmUrls::new("http://localhost:8080/", "fastmcp");
        assert_eq!(urls.issuer, "http://localhost:8080/realms/fastmcp");
        assert_eq!(
            urls.jwks,
            "http://localhost:8080/realms/fastmcp/protocol/openid-connect/certs"
        );
        assert_eq!(
            urls.registration,
            "http://localhost:8080/realms/fastmcp/clients-registrations/openid-connect"
        );
    }
}
