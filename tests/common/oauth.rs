//! What MCP clients do against the realm, driven through kcdev's own headless OAuth client:
//! their registration bodies, the PKCE login, and checking tokens the way a server does.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use kcdev::keycloak::RealmUrls;
use kcdev::oauth::{self, AuthorizationRequest, RegisteredClient, TokenResponse};
use kcdev::trust::Trust;
use serde_json::{Value, json};

use super::Kcdev;

/// The registration bodies real MCP clients send (clients.md §1), each with a redirect URI.
pub fn client_registrations() -> Vec<(&'static str, Value)> {
    let public = |body: Value| {
        let mut body = body;
        body["grant_types"] = json!(["authorization_code", "refresh_token"]);
        body["response_types"] = json!(["code"]);
        if body.get("token_endpoint_auth_method").is_none() {
            body["token_endpoint_auth_method"] = json!("none");
        }
        body
    };
    vec![
        (
            "Claude Code",
            public(json!({
                "client_name": "Claude Code (kcdev)",
                "redirect_uris": ["http://localhost:54213/callback"],
            })),
        ),
        (
            "MCP Inspector (web, no scope resolved)",
            public(json!({
                "client_name": "MCP Inspector",
                "redirect_uris": ["http://localhost:6274/oauth/callback"],
                "client_uri": "https://github.com/modelcontextprotocol/inspector",
                "scope": "",
                "application_type": "native",
            })),
        ),
        (
            "MCP Inspector (CLI)",
            public(json!({
                "client_name": "MCP Inspector",
                "redirect_uris": ["http://127.0.0.1:6276/oauth/callback"],
                "client_uri": "https://github.com/modelcontextprotocol/inspector",
                "scope": "mcp:tools",
                "application_type": "native",
            })),
        ),
        // Keycloak's discovery lists no `none` auth method, so mcp-remote picks client_secret_post.
        (
            "mcp-remote (Claude Desktop bridge)",
            public(json!({
                "client_name": "MCP CLI Proxy",
                "redirect_uris": ["http://localhost:16442/oauth/callback"],
                "client_uri": "https://github.com/modelcontextprotocol/mcp-cli",
                "token_endpoint_auth_method": "client_secret_post",
                "scope": "mcp:tools",
                "software_id": "2e6dc280-f3c3-4e01-99a7-8181dbd1d23d",
                "software_version": "0.15.1",
            })),
        ),
        ("VS Code", {
            let mut body = public(json!({
                "client_name": "Visual Studio Code",
                "redirect_uris": [
                    "https://insiders.vscode.dev/redirect",
                    "https://vscode.dev/redirect",
                    "http://127.0.0.1/",
                    "http://127.0.0.1:33418/"
                ],
                "client_uri": "https://code.visualstudio.com",
                "scope": "mcp:tools",
                "application_type": "native",
            }));
            body["grant_types"] = json!([
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code"
            ]);
            body
        }),
        (
            "Cursor",
            public(json!({
                "client_name": "Cursor",
                "redirect_uris": [
                    "cursor://anysphere.cursor-mcp/oauth/callback",
                    "https://www.cursor.com/agents/mcp/oauth/callback",
                    "http://localhost:8787/callback"
                ],
            })),
        ),
        (
            "FastMCP / Python SDK",
            public(json!({
                "client_name": "FastMCP Client",
                "redirect_uris": ["http://localhost:51234/callback"],
                "scope": "mcp:tools offline_access",
            })),
        ),
    ]
}

/// A public client's registration body with or without a `scope` member.
pub fn public_client(redirect_uri: &str, scope: Option<&str>) -> Value {
    let mut body = json!({
        "client_name": "kcdev test client",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    body
}

/// The realm's URLs for the instance's realm.
pub fn urls(kcdev: &Kcdev, realm: &str) -> RealmUrls {
    RealmUrls::new(&kcdev.base_url(), realm)
}

/// Anonymous registration against the realm; panics with Keycloak's answer if refused.
pub async fn register(kcdev: &Kcdev, realm: &str, body: &Value) -> RegisteredClient {
    register_at(&urls(kcdev, realm), body).await
}

/// The same against the realm at `urls`, on any Keycloak.
pub async fn register_at(urls: &RealmUrls, body: &Value) -> RegisteredClient {
    let http = oauth::http_client(&Trust::system()).unwrap();
    oauth::register(&http, &urls.registration, body)
        .await
        .unwrap_or_else(|err| panic!("registration refused: {err}\nbody: {body}"))
}

/// PKCE login as `username` with `client`, then the code exchange; returns the tokens.
pub async fn login(
    kcdev: &Kcdev,
    realm: &str,
    client: &RegisteredClient,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> TokenResponse {
    login_at(&urls(kcdev, realm), client, username, password, scope).await
}

/// The same against the realm at `urls`, on any Keycloak.
pub async fn login_at(
    urls: &RealmUrls,
    client: &RegisteredClient,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> TokenResponse {
    let http = oauth::http_client(&Trust::system()).unwrap();
    let request = authorization_request(urls, client, scope);
    let redirect_uri = request.redirect_uri.clone();
    let authorization = oauth::authorize(&http, &request, username, password)
        .await
        .unwrap_or_else(|err| panic!("login of {username} failed: {err}"));
    oauth::exchange_code(
        &http,
        &urls.token,
        &client.client_id,
        client.client_secret.as_deref(),
        &redirect_uri,
        &authorization,
    )
    .await
    .unwrap_or_else(|err| panic!("code exchange failed: {err}"))
}

/// The authorization request `client` makes at its first redirect URI.
fn authorization_request(
    urls: &RealmUrls,
    client: &RegisteredClient,
    scope: Option<&str>,
) -> AuthorizationRequest {
    AuthorizationRequest {
        authorization_endpoint: urls.authorization.clone(),
        client_id: client.client_id.clone(),
        redirect_uri: client.redirect_uris[0].clone(),
        scope: scope.map(str::to_owned),
        resource: None,
        expected_issuer: Some(urls.issuer.clone()),
    }
}

/// What an MCP client that found `mcp:tools` in the server's metadata does: registers with that
/// scope, logs `username` in asking for it, and gets tokens.
pub async fn mcp_client_login(kcdev: &Kcdev, realm: &str, username: &str) -> TokenResponse {
    mcp_client_login_at(&urls(kcdev, realm), username).await
}

/// The same against the realm at `urls`, on any Keycloak.
pub async fn mcp_client_login_at(urls: &RealmUrls, username: &str) -> TokenResponse {
    let client = register_at(
        urls,
        &public_client("http://localhost:41001/callback", Some("mcp:tools")),
    )
    .await;
    login_at(
        urls,
        &client,
        username,
        "password123",
        Some("openid mcp:tools"),
    )
    .await
}

/// Validates an access token the way an MCP server does: signature against the realm's JWKS,
/// issuer, audience, expiry. Returns its claims.
pub async fn validate(kcdev: &Kcdev, realm: &str, token: &str, audience: &str) -> Value {
    let urls = urls(kcdev, realm);
    let jwks: JwkSet = reqwest::get(&urls.jwks)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(token).unwrap();
    let kid = header.kid.clone().expect("token has a kid");
    let jwk = jwks.find(&kid).expect("kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[urls.issuer.as_str()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|err| panic!("token does not validate: {err}"))
        .claims
}

/// The realm roles in a token's claims.
pub fn realm_roles(claims: &Value) -> Vec<String> {
    claims["realm_access"]["roles"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The audiences in a token's claims (string or list).
pub fn audiences(claims: &Value) -> Vec<String> {
    match &claims["aud"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// One of the public clients kcdev pre-registers, as a client configured with its id sees it.
pub fn pre_registered(client_id: &str, redirect_uri: &str) -> RegisteredClient {
    serde_json::from_value(json!({
        "client_id": client_id,
        "token_endpoint_auth_method": "none",
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [redirect_uri],
    }))
    .unwrap()
}

/// A login that Keycloak refuses at the authorization endpoint: its error code.
pub async fn refused_login(
    kcdev: &Kcdev,
    realm: &str,
    client: &RegisteredClient,
    username: &str,
    scope: &str,
) -> String {
    let http = oauth::http_client(&Trust::system()).unwrap();
    let request = authorization_request(&urls(kcdev, realm), client, Some(scope));
    match oauth::authorize(&http, &request, username, "password123").await {
        Ok(_) => panic!("Keycloak let {username} log in with {scope:?}"),
        Err(oauth::OAuthError::Authorization { error, .. }) => error,
        Err(other) => panic!("not an authorization error: {other}"),
    }
}
