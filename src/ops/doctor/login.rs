//! The authorization-server end of the chain: anonymous registration as an MCP client does it,
//! then a headless login and the claims of the token it yields.

use serde_json::{Value, json};

use super::Checks;
use crate::oauth::{self, AuthorizationRequest, RegisteredClient};
use crate::ops::settings::{RegistrationPaths, ResolvedSettings};
use crate::ops::token::KCDEV_CLIENT_ID;
use crate::realm::{ClaimSource, Declared, DeclaredUser, RealmSpec, resource_url_of};

/// How the registration check registers, and what its client then asks for at login.
pub(super) struct Probe {
    pub client: RegisteredClient,
    pub login_scope: String,
}

/// What Claude Code and Codex send to a server that advertises only `openid` (the seed page's
/// FastMCP defaults): kcdev's registration policy must still give the client `mcp:tools`.
const OPENID_ONLY: &str = "openid offline_access";

fn probe_registration(scope: &str) -> Value {
    json!({
        "client_name": "kcdev doctor",
        "redirect_uris": ["http://localhost:6274/oauth/callback"],
        "client_uri": "https://github.com/modelcontextprotocol/inspector",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "scope": scope,
    })
}

pub(super) async fn check_registration(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
) -> Option<Probe> {
    let endpoint = format!(
        "{}/realms/{}/clients-registrations/openid-connect",
        settings.admin_url(),
        settings.realm.name
    );
    // With kcdev's policy, the hardest case real clients send; without it, a client that names
    // `openid` alone never gets `mcp:tools`, so the check registers as MCP Inspector does.
    let realm_scopes = RegistrationPaths::of(spec).registered_clients_step_up;
    let (scope, login_scope, request) = if realm_scopes {
        (
            OPENID_ONLY.to_owned(),
            OPENID_ONLY.to_owned(),
            "Claude Code's and Codex's request naming only `openid offline_access`",
        )
    } else {
        (
            spec.mcp_scope.clone(),
            format!("openid {}", spec.mcp_scope),
            "MCP Inspector's request",
        )
    };
    match oauth::register(http, &endpoint, &probe_registration(&scope)).await {
        Ok(client) => {
            let detail = if realm_scopes {
                format!("anonymous dynamic client registration accepts an MCP client ({request})")
            } else {
                format!(
                    "anonymous dynamic client registration accepts an MCP client ({request}); but this Keycloak lacks kcdev's registration provider, so a client that names scopes (Claude Code and Codex name `{OPENID_ONLY}` for a server advertising only `openid`) gets no `{}` and cannot step up (`kcdev export --provider-jar` writes the provider for the server's admins)",
                    spec.mcp_scope
                )
            };
            checks.pass("registration", detail);
            Some(Probe {
                client,
                login_scope,
            })
        }
        Err(err) => {
            checks.fail_recorded(
                "registration",
                format!("refused: {err}"),
                format!(
                    "`{}` restores the registration policies",
                    checks.command("up")
                ),
                "",
                "CLIENT_REGISTER_ERROR",
            );
            None
        }
    }
}

/// kcdev's pre-registered client for Claude Code, for the login check on a realm that takes no
/// anonymous registration (a headless login never opens its redirect URI).
pub(super) fn pre_registered_client() -> RegisteredClient {
    let claude_code = crate::clients::Client::ClaudeCode.pre_registered();
    RegisteredClient {
        client_id: claude_code
            .as_ref()
            .map(|pre| pre.client_id)
            .unwrap_or_default()
            .to_owned(),
        client_secret: None,
        token_endpoint_auth_method: "none".to_owned(),
        response_types: vec!["code".to_owned()],
        grant_types: vec!["authorization_code".to_owned()],
        redirect_uris: claude_code
            .iter()
            .flat_map(|pre| pre.redirect_uris.iter().map(|uri| (*uri).to_owned()))
            .collect(),
        scope: None,
        registration_access_token: None,
        registration_client_uri: None,
    }
}

pub(super) async fn check_login(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
    client: &RegisteredClient,
    scope: &str,
    server_url: &str,
) -> Option<String> {
    let urls = settings.realm_urls();
    // With resource indicators on, real clients ask for the server's resource and get it alone as
    // the audience; without, the token carries the resource and the base URL.
    let resource = resource_url_of(server_url);
    let (requested, audiences) = if settings.realm.resource_indicators {
        (Some(resource.clone()), vec![resource])
    } else {
        (None, vec![resource, server_url.to_owned()])
    };
    let redirect_uri = client.redirect_uris.first().cloned().unwrap_or_default();
    let request = AuthorizationRequest {
        authorization_endpoint: urls.authorization.clone(),
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope: Some(scope.to_owned()),
        resource: requested,
        expected_issuer: Some(urls.issuer.clone()),
    };
    let user = spec
        .users
        .first()
        .map(|u| (u.username().to_owned(), u.password.clone()))
        .unwrap_or_default();
    let tokens = match oauth::authorize(http, &request, &user.0, &user.1).await {
        Ok(authorization) => {
            oauth::exchange_code(
                http,
                &urls.token,
                &client.client_id,
                None,
                &redirect_uri,
                &authorization,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let tokens = match tokens {
        Ok(tokens) => tokens,
        Err(err) => {
            checks.fail_recorded(
                "login",
                format!("{} cannot log in: {err}", user.0),
                format!("`{}` repairs the test users", checks.command("up")),
                &format!(" --client {}", client.client_id),
                "LOGIN_ERROR (or CODE_TO_TOKEN_ERROR)",
            );
            return None;
        }
    };
    let claims = oauth::decode_claims(&tokens.access_token).unwrap_or_default();
    let missing = missing_claims(&claims, &audiences, &spec.mcp_scope);
    if missing.is_empty() {
        checks.pass(
            "login",
            format!(
                "{} logs in asking for `{scope}`; the token has sub, aud {}, realm roles and scope {}",
                user.0,
                audiences.join(" and "),
                spec.mcp_scope
            ),
        );
        Some(tokens.access_token)
    } else {
        checks.fail(
            "login",
            format!("{}'s token lacks {}", user.0, missing.join(", ")),
            format!("`{}` restores the claim mappers", checks.command("up")),
        );
        None
    }
}

/// Each user kcdev.toml declares logs in (through kcdev's own client, with every scope the file
/// declares) and gets the declared roles, audiences and claims.
pub(super) async fn check_declared_users(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
) {
    let declared = &settings.realm.declared;
    if declared.users.is_empty() {
        return;
    }
    let token_endpoint = format!(
        "{}/realms/{}/protocol/openid-connect/token",
        settings.admin_url(),
        settings.realm.name
    );
    let mut scope = format!("openid {}", spec.mcp_scope);
    for declared_scope in &declared.scopes {
        scope.push(' ');
        scope.push_str(&declared_scope.name);
    }
    let mut failures = Vec::new();
    for user in &declared.users {
        let token = oauth::password_grant(
            http,
            &token_endpoint,
            KCDEV_CLIENT_ID,
            &user.username,
            &user.password,
            &scope,
            None,
        )
        .await;
        let claims = match token.and_then(|token| oauth::decode_claims(&token.access_token)) {
            Ok(claims) => claims,
            Err(err) => {
                failures.push(format!("{} cannot log in: {err}", user.username));
                continue;
            }
        };
        let missing = missing_declared_claims(&claims, declared, user);
        if !missing.is_empty() {
            failures.push(format!(
                "{}'s token lacks {}",
                user.username,
                missing.join(", ")
            ));
        }
    }
    let names: Vec<&str> = declared.users.iter().map(|u| u.username.as_str()).collect();
    if failures.is_empty() {
        checks.pass(
            "declared users",
            format!(
                "{} log in; their tokens carry the declared roles, audiences and claims",
                names.join(", ")
            ),
        );
    } else {
        checks.fail_recorded(
            "declared users",
            failures.join("; "),
            format!(
                "`{}` repairs what kcdev.toml declares (`{}` shows what differs)",
                checks.command("up"),
                checks.command("plan")
            ),
            &format!(" --client {KCDEV_CLIENT_ID}"),
            "LOGIN_ERROR",
        );
    }
}

/// What a declared user's token should carry and does not: its roles, the servers' extra
/// audiences, and each declared claim the user has a value for.
fn missing_declared_claims(
    claims: &Value,
    declared: &Declared,
    user: &DeclaredUser,
) -> Vec<String> {
    let mut missing = Vec::new();
    let roles = claims
        .pointer("/realm_access/roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for role in &user.roles {
        if !roles.iter().any(|r| r == role) {
            missing.push(format!("role {role}"));
        }
    }
    let audiences = audience_of(claims);
    for audience in declared.extra_audiences() {
        if !audiences.contains(&audience.as_str()) {
            missing.push(format!("aud {audience}"));
        }
    }
    for claim in &declared.claims {
        let expected = match &claim.source {
            ClaimSource::UserAttribute(attribute) => {
                user.attributes.contains_key(attribute)
                    || declared.groups.iter().any(|group| {
                        user.groups.contains(&group.name)
                            && group.attributes.contains_key(attribute)
                    })
            }
            ClaimSource::Groups => !user.groups.is_empty(),
            ClaimSource::Constant(_) => true,
        };
        if expected && claims.get(&claim.name).is_none() {
            missing.push(format!("claim {}", claim.name));
        }
    }
    missing
}

/// With CIMD on: the realm's metadata advertises Client ID Metadata Documents and public
/// clients, which is what makes Claude Code and VS Code use them. (A CIMD login itself needs a
/// document on the internet; the test suite does one against a document server of its own.)
pub(super) async fn check_cimd(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
) {
    let url = format!(
        "{}/realms/{}/.well-known/oauth-authorization-server",
        settings.admin_url(),
        settings.realm.name
    );
    let metadata: Option<Value> = match http.get(&url).send().await {
        Ok(response) => response.json().await.ok(),
        Err(_) => None,
    };
    let metadata = metadata.unwrap_or_default();
    let advertised = metadata["client_id_metadata_document_supported"] == true;
    let public = metadata["token_endpoint_auth_methods_supported"]
        .as_array()
        .is_some_and(|methods| methods.iter().any(|m| m == "none"));
    if advertised && public {
        checks.pass(
            "cimd",
            "the realm advertises Client ID Metadata Documents and public clients; the kcdev-cimd policy admits them".to_owned(),
        );
    } else {
        checks.fail(
            "cimd",
            format!("{url} does not advertise client_id_metadata_document_supported and `none`: the container runs without Keycloak's cimd feature"),
            format!("`{}` replaces the container with the feature on", checks.command("up --cimd")),
        );
    }
}

fn audience_of(claims: &Value) -> Vec<&str> {
    match &claims["aud"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// With resource indicators on: a token for each server's resource carries that resource alone,
/// and one for a resource the realm does not know is refused with `invalid_target`.
pub(super) async fn check_resources(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
) {
    let token_endpoint = format!(
        "{}/realms/{}/protocol/openid-connect/token",
        settings.admin_url(),
        settings.realm.name
    );
    let Some(user) = spec.users.first() else {
        return;
    };
    let scope = format!("openid {}", spec.mcp_scope);
    let grant = |resource: String| {
        let (endpoint, scope) = (&token_endpoint, &scope);
        async move {
            let token = oauth::password_grant(
                http,
                endpoint,
                KCDEV_CLIENT_ID,
                user.username(),
                &user.password,
                scope,
                Some(&resource),
            )
            .await;
            (resource, token)
        }
    };
    let variables = settings.realm_variables();
    let mut faults = Vec::new();
    for url in variables.server_urls() {
        let (resource, token) = grant(resource_url_of(url)).await;
        match token.map(|token| oauth::decode_claims(&token.access_token)) {
            Ok(Ok(claims)) if audience_of(&claims) == [resource.as_str()] => {}
            Ok(Ok(claims)) => faults.push(format!(
                "a token for {resource} has aud {}",
                audience_of(&claims).join(", ")
            )),
            Ok(Err(err)) | Err(err) => faults.push(format!("no token for {resource}: {err}")),
        }
    }
    let unknown = format!("{}/kcdev-doctor-unknown", variables.server_url);
    match grant(unknown).await {
        (_, Err(err)) if err.to_string().contains("invalid_target") => {}
        (resource, _) => faults.push(format!("{resource}, which no server has, was not refused")),
    }
    if faults.is_empty() {
        checks.pass(
            "resources",
            "a token for each server's resource carries it alone as aud; an unknown resource gets invalid_target".to_owned(),
        );
    } else {
        checks.fail_recorded(
            "resources",
            faults.join("; "),
            format!(
                "`{}` restores the resource clients and the resource-indicators feature",
                checks.command("up")
            ),
            &format!(" --client {KCDEV_CLIENT_ID}"),
            "LOGIN_ERROR",
        );
    }
}

fn missing_claims(claims: &Value, audiences: &[String], scope: &str) -> Vec<String> {
    let audience = audience_of(claims);
    let mut missing: Vec<String> = audiences
        .iter()
        .filter(|wanted| !audience.contains(&wanted.as_str()))
        .map(|wanted| format!("aud {wanted}"))
        .collect();
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        missing.push("sub".to_owned());
    }
    if claims["realm_access"]["roles"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        missing.push("realm_access.roles".to_owned());
    }
    if !claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == scope)
    {
        missing.push(format!("scope {scope}"));
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_missing_claim() {
        let audiences = ["http://s/mcp".to_owned(), "http://s".to_owned()];
        let good = json!({"sub": "u", "aud": ["http://s/mcp", "http://s"], "scope": "openid mcp:tools", "realm_access": {"roles": ["user"]}});
        assert!(missing_claims(&good, &audiences, "mcp:tools").is_empty());
        let bad = json!({"aud": "account", "scope": "openid"});
        assert_eq!(
            missing_claims(&bad, &audiences, "mcp:tools"),
            [
                "aud http://s/mcp",
                "aud http://s",
                "sub",
                "realm_access.roles",
                "scope mcp:tools"
            ]
        );
    }
}
