/// Failures of the headless OAuth flow, each naming the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The request did not get an answer.
    #[error("no answer from {url}")]
    Http {
        /// The URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// An endpoint answered with an error status.
    #[error("{step} failed: HTTP {status}: {body}")]
    Status {
        /// The step ("client registration", "token exchange", ...).
        step: &'static str,
        /// HTTP status.
        status: u16,
        /// The answer's body (Keycloak's error description).
        body: String,
    },
    /// An answer could not be read.
    #[error("{step}: unexpected answer: {detail}")]
    Unexpected {
        /// The step.
        step: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// Keycloak showed the login form again: the user name or password is wrong.
    #[error("Keycloak rejected the credentials of user {username:?}")]
    BadCredentials {
        /// The user.
        username: String,
    },
    /// The login stopped at a page other than the login form (a required action, an error page).
    #[error(
        "the login of {username:?} stopped at Keycloak's page {page:?} instead of redirecting back"
    )]
    StoppedAtPage {
        /// The user.
        username: String,
        /// The page's title.
        page: String,
    },
    /// Keycloak redirected back with an OAuth error.
    #[error("authorization failed: {error}: {description}")]
    Authorization {
        /// OAuth error code.
        error: String,
        /// Keycloak's description.
        description: String,
    },
    /// The redirect's `state` or `iss` does not match the request.
    #[error("the authorization response's {parameter} is {found:?}, expected {expected:?}")]
    Mismatch {
        /// `state` or `iss`.
        parameter: &'static str,
        /// What came back.
        found: String,
        /// What was expected.
        expected: String,
    },
}

impl OAuthError {
    pub(crate) fn http(url: &str) -> impl FnOnce(reqwest::Error) -> Self + '_ {
        move |source| Self::Http {
            url: url.to_owned(),
            source,
        }
    }

    /// Turns a non-success answer into [`OAuthError::Status`].
    pub(crate) async fn check(
        step: &'static str,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, Self> {
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Err(Self::Status { step, status, body })
    }
}
