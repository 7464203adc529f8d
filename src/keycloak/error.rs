use keycloak::KeycloakError;

/// Failures talking to Keycloak's Admin REST API.
#[derive(Debug, thiserror::Error)]
pub enum KeycloakApiError {
    /// Nothing answered at the base URL.
    #[error("cannot reach Keycloak at {url}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The master realm refused the admin credentials.
    #[error("Keycloak at {url} refused the admin credentials of {principal}")]
    AdminCredentialsRejected {
        /// Keycloak's base URL.
        url: String,
        /// Who tried to log in (`user "admin"`, `client "ci"`).
        principal: String,
    },
    /// An Admin API call answered with an error status.
    #[error("Keycloak refused to {operation}: HTTP {status}: {message}")]
    Http {
        /// What was being done.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Keycloak's error message.
        message: String,
    },
    /// An Admin API call answered with a body kcdev cannot read.
    #[error("unexpected answer from Keycloak while trying to {operation}")]
    Unexpected {
        /// What was being done.
        operation: String,
        /// The transport or decoding error.
        #[source]
        source: reqwest::Error,
    },
}

impl KeycloakApiError {
    /// Wraps a `keycloak` crate error with what was being attempted.
    pub(crate) fn from_crate(operation: impl Into<String>, error: KeycloakError) -> Self {
        let operation = operation.into();
        match error {
            KeycloakError::HttpFailure { status, body, text } => {
                let message = body
                    .as_ref()
                    .and_then(|body| body.message().map(|m| m.into_owned()))
                    .unwrap_or(text);
                Self::Http {
                    operation,
                    status,
                    message,
                }
            }
            KeycloakError::ReqwestFailure(source) => Self::Unexpected { operation, source },
        }
    }

    /// The HTTP status of a refused call.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}
