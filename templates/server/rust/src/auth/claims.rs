//! The access-token claims this server reads (Keycloak's shapes).

use serde::{Deserialize, Deserializer, Serialize};

/// Claims of a verified access token. Tools read them from the request (see `tools.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user's id (Keycloak's `basic` scope adds it).
    #[serde(default)]
    pub sub: Option<String>,
    /// Audiences: Keycloak sends a string for one and a list for several.
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// The client the token was issued to.
    #[serde(default)]
    pub azp: Option<String>,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: String,
    /// The user's login name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Realm roles.
    #[serde(default)]
    pub realm_access: RealmAccess,
    /// Keycloak's token type: `Bearer` for access tokens, `ID` or `Refresh` otherwise.
    #[serde(default)]
    pub typ: Option<String>,
}

/// Keycloak's `realm_access` claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmAccess {
    /// Realm role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

impl Claims {
    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// Those of `wanted` the token was not granted.
    pub fn missing_scopes(&self, wanted: &[String]) -> Vec<String> {
        wanted
            .iter()
            .filter(|scope| !self.scopes().any(|granted| granted == scope.as_str()))
            .cloned()
            .collect()
    }

    /// Whether the user has a realm role.
    pub fn has_role(&self, role: &str) -> bool {
        self.realm_access.roles.iter().any(|r| r == role)
    }

    /// Who is calling: the user (`sub`), or the client for tokens without a user.
    pub fn principal(&self) -> &str {
        self.sub
            .as_deref()
            .or(self.azp.as_deref())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keycloak_token_shapes() {
        let one: Claims = serde_json::from_str(r#"{"iss":"i","aud":"a","exp":1}"#).unwrap();
        assert_eq!(one.aud, ["a"]);
        assert!(one.realm_access.roles.is_empty());
        let many: Claims = serde_json::from_str(
            r#"{"iss":"i","aud":["a","b"],"exp":1,"sub":"u","scope":"openid mcp:tools","realm_access":{"roles":["admin"]}}"#,
        )
        .unwrap();
        assert_eq!(many.aud, ["a", "b"]);
        assert!(many.has_role("admin"));
        assert_eq!(many.scopes().collect::<Vec<_>>(), ["openid", "mcp:tools"]);
        assert_eq!(many.principal(), "u");
    }
}
