//! Which certificate authorities kcdev trusts over HTTPS: the system's, plus those of a file the
//! user names (`up --ca-cert`) for a Keycloak behind a private CA. Every HTTP client that reaches
//! Keycloak (admin calls, logins, readiness, doctor's checks) is built from a [`Trust`].

use std::path::{Path, PathBuf};

/// The certificate authorities to trust.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    extra_roots: Vec<reqwest::Certificate>,
}

/// A CA file kcdev cannot use.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the CA certificate file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NotPem { path: PathBuf },
}

impl Trust {
    /// The system's certificate store alone.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's store and every certificate in the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<Self, TrustError> {
        let pem = std::fs::read(path).map_err(|source| TrustError::Read {
            path: path.to_owned(),
            source,
        })?;
        let not_pem = || TrustError::NotPem {
            path: path.to_owned(),
        };
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| not_pem())?;
        if certificates.is_empty() {
            return Err(not_pem());
        }
        Ok(Self {
            extra_roots: certificates,
        })
    }

    /// `path`'s certificates when given, else the system's store alone.
    pub fn from_option(path: Option<&Path>) -> Result<Self, TrustError> {
        path.map_or_else(|| Ok(Self::system()), Self::with_ca_file)
    }

    /// A client builder that trusts these authorities.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        self.extra_roots
            .iter()
            .fold(reqwest::Client::builder(), |builder, certificate| {
                builder.add_root_certificate(certificate.clone())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_that_are_not_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        assert!(matches!(
            Trust::with_ca_file(&path),
            Err(TrustError::NotPem { .. })
        ));
        assert!(matches!(
            Trust::with_ca_file(&dir.path().join("missing.pem")),
            Err(TrustError::Read { .. })
        ));
        assert!(Trust::from_option(None).unwrap().extra_roots.is_empty());
    }
}
