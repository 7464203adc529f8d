use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use scraper::{Html, Selector};
use url::Url;

use super::OAuthError;
use super::pkce::{Pkce, random_state};

/// Enough hops for login form, an optional consent page and the final redirect.
const MAX_STEPS: usize = 6;

/// An authorization-code request with PKCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// Client id.
    pub client_id: String,
    /// Redirect URI (nothing needs to listen on it: the redirect is read, not followed).
    pub redirect_uri: String,
    /// Requested scope.
    pub scope: Option<String>,
    /// RFC 8707 resource indicator.
    pub resource: Option<String>,
    /// The issuer the response's `iss` must name (RFC 9207), if it is to be checked.
    pub expected_issuer: Option<String>,
}

/// The authorization code, ready for the token exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The code.
    pub code: String,
    /// The `iss` Keycloak sent with it.
    pub iss: Option<String>,
    /// The PKCE pair whose verifier goes with the token request.
    pub pkce: Pkce,
}

/// Logs `username` in through Keycloak's login form and returns the authorization code, after
/// checking `state` and, when asked, `iss`.
pub async fn authorize(
    http: &reqwest::Client,
    request: &AuthorizationRequest,
    username: &str,
    password: &str,
) -> Result<AuthorizationResponse, OAuthError> {
    let pkce = Pkce::generate();
    let state = random_state();
    let mut url =
        Url::parse(&request.authorization_endpoint).map_err(|err| OAuthError::Unexpected {
            step: "authorization",
            detail: format!("invalid authorization endpoint: {err}"),
        })?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &request.client_id)
            .append_pair("redirect_uri", &request.redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(scope) = &request.scope {
            query.append_pair("scope", scope);
        }
        if let Some(resource) = &request.resource {
            query.append_pair("resource", resource);
        }
    }
    let callback = login_at(
        http,
        url.as_str(),
        &request.redirect_uri,
        username,
        password,
    )
    .await?;
    let params: BTreeMap<String, String> = callback.query_pairs().into_owned().collect();
    if let Some(error) = params.get("error") {
        return Err(OAuthError::Authorization {
            error: error.clone(),
            description: params.get("error_description").cloned().unwrap_or_default(),
        });
    }
    let returned_state = params.get("state").cloned().unwrap_or_default();
    if returned_state != state {
        return Err(OAuthError::Mismatch {
            parameter: "state",
            found: returned_state,
            expected: state,
        });
    }
    let iss = params.get("iss").cloned();
    if let Some(expected) = &request.expected_issuer
        && iss.as_ref() != Some(expected)
    {
        return Err(OAuthError::Mismatch {
            parameter: "iss",
            found: iss.unwrap_or_default(),
            expected: expected.clone(),
        });
    }
    let code = params
        .get("code")
        .cloned()
        .ok_or_else(|| OAuthError::Unexpected {
            step: "authorization",
            detail: format!("no code in the redirect to {callback}"),
        })?;
    Ok(AuthorizationResponse { code, iss, pkce })
}

/// Opens `authorize_url` and completes Keycloak's pages (login form, consent) as `username`
/// until Keycloak redirects to `redirect_uri`; returns that redirect URL.
///
/// Keycloak marks its session cookies `Secure` even on `http://localhost`, where browsers still
/// send them; a cookie store would not, so the cookies are carried by hand.
pub async fn login_at(
    http: &reqwest::Client,
    authorize_url: &str,
    redirect_uri: &str,
    username: &str,
    password: &str,
) -> Result<Url, OAuthError> {
    let mut cookies = BTreeMap::new();
    let mut next = Request::Get(authorize_url.to_owned());
    let mut submitted_credentials = false;
    for _ in 0..MAX_STEPS {
        let (page_url, response) = next.send(http, &cookies).await?;
        for value in response.headers().get_all(SET_COOKIE) {
            if let Some((name, value)) = value
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .and_then(|pair| pair.split_once('='))
            {
                cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| unexpected(format!("redirect without Location from {page_url}")))?;
            let target = page_url
                .join(location)
                .map_err(|err| unexpected(err.to_string()))?;
            if target.as_str().starts_with(redirect_uri) {
                return Ok(target);
            }
            next = Request::Get(target.to_string());
            continue;
        }
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(OAuthError::http(page_url.as_str()))?;
        if status >= 400 && !body.contains("<form") {
            return Err(OAuthError::Status {
                step: "authorization",
                status,
                body: page_title(&body).unwrap_or(body),
            });
        }
        let page = Page::parse(&body, &page_url);
        next = match page {
            Page::Login { action } if !submitted_credentials => {
                submitted_credentials = true;
                Request::Post(
                    action,
                    vec![
                        ("username".to_owned(), username.to_owned()),
                        ("password".to_owned(), password.to_owned()),
                        ("credentialId".to_owned(), String::new()),
                    ],
                )
            }
            Page::Login { .. } => {
                return Err(OAuthError::BadCredentials {
                    username: username.to_owned(),
                });
            }
            Page::Consent { action, fields } => Request::Post(action, fields),
            Page::Other { title } => {
                return Err(OAuthError::StoppedAtPage {
                    username: username.to_owned(),
                    page: title,
                });
            }
        };
    }
    Err(unexpected(format!(
        "no redirect to {redirect_uri} after {MAX_STEPS} steps"
    )))
}

fn unexpected(detail: String) -> OAuthError {
    OAuthError::Unexpected {
        step: "authorization",
        detail,
    }
}

enum Request {
    Get(String),
    Post(String, Vec<(String, String)>),
}

impl Request {
    async fn send(
        &self,
        http: &reqwest::Client,
        cookies: &BTreeMap<String, String>,
    ) -> Result<(Url, reqwest::Response), OAuthError> {
        let url = match self {
            Self::Get(url) | Self::Post(url, _) => url,
        };
        let parsed =
            Url::parse(url).map_err(|err| unexpected(format!("invalid URL {url}: {err}")))?;
        let cookie_header = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let builder = match self {
            Self::Get(_) => http.get(url),
            Self::Post(_, form) => http.post(url).form(form),
        };
        let response = builder
            .header(COOKIE, cookie_header)
            .send()
            .await
            .map_err(OAuthError::http(url))?;
        Ok((parsed, response))
    }
}

/// The Keycloak pages the login can land on.
enum Page {
    Login {
        action: String,
    },
    Consent {
        action: String,
        fields: Vec<(String, String)>,
    },
    Other {
        title: String,
    },
}

impl Page {
    fn parse(body: &str, page_url: &Url) -> Self {
        let html = Html::parse_document(body);
        let selector = |css: &str| Selector::parse(css).ok();
        let resolve = |action: &str| {
            page_url
                .join(action)
                .map(String::from)
                .unwrap_or_else(|_| action.to_owned())
        };
        if let Some(form) = selector("form#kc-form-login").and_then(|s| html.select(&s).next())
            && let Some(action) = form.value().attr("action")
        {
            return Self::Login {
                action: resolve(action),
            };
        }
        // The consent page: a form with an "accept" button and a hidden `code`.
        let consent = selector("form").and_then(|forms| {
            html.select(&forms).find(|form| {
                selector("[name=accept]")
                    .is_some_and(|accept| form.select(&accept).next().is_some())
            })
        });
        if let Some(form) = consent
            && let Some(action) = form.value().attr("action")
        {
            let mut fields: Vec<(String, String)> = selector("input[type=hidden]")
                .map(|hidden| {
                    form.select(&hidden)
                        .filter_map(|input| {
                            let name = input.value().attr("name")?;
                            Some((
                                name.to_owned(),
                                input.value().attr("value").unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            fields.push(("accept".to_owned(), "Yes".to_owned()));
            return Self::Consent {
                action: resolve(action),
                fields,
            };
        }
        Self::Other {
            title: page_title(body).unwrap_or_else(|| "(untitled page)".to_owned()),
        }
    }
}

/// The page's heading (Keycloak's `#kc-page-title`), else its `<title>`.
fn page_title(body: &str) -> Option<String> {
    let html = Html::parse_document(body);
    ["#kc-page-title", "title"].iter().find_map(|css| {
        let selector = Selector::parse(css).ok()?;
        let text: String = html.select(&selector).next()?.text().collect();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("http://localhost:8080/realms/r/protocol/openid-connect/auth?x=1").unwrap()
    }

    #[test]
    fn finds_the_login_form_with_its_escaped_action() {
        let body = r#"<html><body><form id="kc-form-login" action="http://localhost:8080/realms/r/login-actions/authenticate?session_code=a&amp;execution=b" method="post"><input name="username"></form></body></html>"#;
        match Page::parse(body, &url()) {
            Page::Login { action } => assert_eq!(
                action,
                "http://localhost:8080/realms/r/login-actions/authenticate?session_code=a&execution=b"
            ),
            _ => panic!("login form not found"),
        }
    }

    #[test]
    fn accepts_a_consent_page() {
        let body = r#"<div id="kc-oauth"><form action="/realms/r/login-actions/consent?x=1" method="POST"><input type="hidden" name="code" value="c1"><input name="accept" type="submit" value="Yes"></form></div>"#;
        match Page::parse(body, &url()) {
            Page::Consent { action, fields } => {
                assert_eq!(
                    action,
                    "http://localhost:8080/realms/r/login-actions/consent?x=1"
                );
                assert!(fields.contains(&("code".to_owned(), "c1".to_owned())));
                assert!(fields.iter().any(|(name, _)| name == "accept"));
            }
            _ => panic!("consent form not found"),
        }
    }

    #[test]
    fn names_any_other_page_by_its_title() {
        let body = r#"<html><head><title>Sign in</title></head><body><h1 id="kc-page-title">  Update Account
            Information </h1><form id="kc-update-profile-form"></form></body></html>"#;
        match Page::parse(body, &url()) {
            Page::Other { title } => assert_eq!(title, "Update Account Information"),
            _ => panic!("unexpected page kind"),
        }
    }
}
