//! The explanation table: a Keycloak error (its code and details, the log line that fills in its
//! gaps, the client it concerns) becomes what went wrong in MCP terms and what fixes it: a kcdev
//! command, a `kcdev.toml` line, or a setting of the client.

use serde::Serialize;

use super::{
    CLIENT_REGISTER_ERROR, CODE_TO_TOKEN_ERROR, ClientFacts, ClientOrigin, Clue, Event, LOGIN,
    LOGIN_ERROR, LogClue, REFRESH_TOKEN_ERROR, RealmFacts, Stall,
};

/// What went wrong, as a stable name for scripts (`problem` in `kcdev events --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The Trusted Hosts registration policy refused a redirect URI's (or client URI's) host.
    UntrustedRedirectHost,
    /// The Allowed Client Scopes registration policy refused a scope the client registered with.
    ScopeNotAllowed,
    /// Another registration policy refused the registration, or Keycloak refused its content.
    RegistrationRefused,
    /// The login asked to return to a redirect URI the client does not have.
    RedirectUriMismatch,
    /// A dynamically registered client the realm no longer has (reset realm, deleted client).
    ClientGone,
    /// A client id the realm has never had.
    UnknownClient,
    /// A CIMD client id on a realm that does not offer CIMD.
    CimdOff,
    /// A CIMD client id on a domain the realm does not take documents from.
    CimdDomainNotAllowed,
    /// A CIMD client id that is not an https URL.
    CimdNotHttps,
    /// Keycloak could not fetch the client's metadata document.
    CimdFetchFailed,
    /// The document names another client id than its own URL.
    CimdDocumentMismatch,
    /// The login's redirect URI is not one of the document's.
    CimdRedirectMismatch,
    /// The client asked for a scope the realm does not have.
    ScopeNotInRealm,
    /// The client asked for a scope of the realm it does not have (a step-up).
    StepUpRefused,
    /// The `resource` is not a valid resource indicator.
    InvalidResource,
    /// A login whose code never became a token (no event: `invalid_target`, or a client that
    /// never came back).
    TokenNotIssued,
    /// A registration without a login after it: a login or consent page nobody answered.
    LoginNotCompleted,
    /// The user declined the consent page.
    ConsentDenied,
    /// Wrong user name or password.
    BadCredentials,
    /// A refresh token Keycloak no longer takes.
    RefreshRejected,
    /// The code exchange was refused.
    CodeExchangeFailed,
    /// Any other error Keycloak recorded.
    KeycloakError,
}

/// What went wrong, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub problem: Problem,
    /// In MCP terms, one sentence or two.
    pub explanation: String,
    /// A kcdev command, a `kcdev.toml` line or a client setting.
    pub fix: String,
}

fn finding(problem: Problem, explanation: String, fix: String) -> Option<Finding> {
    Some(Finding {
        problem,
        explanation,
        fix,
    })
}

/// What went wrong with `event`, if anything: Keycloak's error, or (`stall`) what did not follow
/// it. `client` is what the realm holds for its client (the log line's client when the event
/// names none); `clue` the log line that fills in its gaps.
pub fn explain(
    event: &Event,
    client: Option<&ClientFacts>,
    clue: Option<&LogClue>,
    stall: Option<Stall>,
    realm: &RealmFacts,
) -> Option<Finding> {
    if let Some(stall) = stall {
        return explain_stall(stall, event, client, realm);
    }
    let error = event.error.as_deref()?;
    let reason = event.detail("reason").unwrap_or_default();
    if event.event_type == CLIENT_REGISTER_ERROR {
        return explain_registration(event, error, clue, realm);
    }
    if let Some(detail) = event.detail("client_policy_error_detail") {
        return explain_client_policy(detail, clue, realm);
    }
    match error {
        "client_not_found" => explain_unknown_client(event, client, clue, realm),
        "invalid_redirect_uri" => explain_redirect(event, client, realm),
        "invalid_request" if reason.starts_with("Invalid scopes:") => {
            explain_scopes(reason, client, realm)
        }
        "invalid_request" if reason.starts_with("Invalid resource:") => {
            let resource = reason.trim_start_matches("Invalid resource:").trim();
            finding(
                Problem::InvalidResource,
                format!(
                    "the client asked for the resource {resource}, which is not a valid resource indicator (RFC 8707: an absolute URL without a fragment)"
                ),
                format!(
                    "connect the client to one of the instance's MCP servers: {}",
                    realm.resource_urls.join(", ")
                ),
            )
        }
        "rejected_by_user" => finding(
            Problem::ConsentDenied,
            format!(
                "{} declined the consent page of {}",
                user_of(event),
                client_name(client, event)
            ),
            "log in again and choose Yes on the consent page".to_owned(),
        ),
        "invalid_user_credentials" | "user_not_found" => {
            let user = user_of(event);
            let fix = if realm.test_users {
                format!(
                    "log in with the password `kcdev up` printed for the test users (password123 unless `kcdev up --user-password` changed it), or a user kcdev.toml declares; `{}` shows one working",
                    realm.command("token --user testuser")
                )
            } else {
                "log in as a user of that realm, with their password".to_owned()
            };
            let what = if error == "user_not_found" {
                format!("the realm {} has no user {user}", realm.realm)
            } else {
                format!("Keycloak rejected the password of {user}")
            };
            finding(Problem::BadCredentials, what, fix)
        }
        _ if event.event_type == REFRESH_TOKEN_ERROR => explain_refresh(event, client, error),
        _ if event.event_type == CODE_TO_TOKEN_ERROR => {
            explain_code_exchange(event, client, error, reason)
        }
        _ => explain_other(event, client, error, reason, realm),
    }
}

fn user_of(event: &Event) -> String {
    event
        .detail("username")
        .map_or_else(|| "the user".to_owned(), str::to_owned)
}

fn client_name(client: Option<&ClientFacts>, event: &Event) -> String {
    match client {
        Some(client) => client.describe(),
        None => event
            .client_id
            .clone()
            .unwrap_or_else(|| "the client".to_owned()),
    }
}

/// How the user makes an MCP client forget its stored registration, so it registers again.
fn forget_registration(name: Option<&str>) -> String {
    format!("{}; it registers again at its next login", forget(name))
}

/// How the user makes the MCP client named `name` forget its stored registration and tokens.
fn forget(name: Option<&str>) -> &'static str {
    let name = name.unwrap_or_default();
    if name.starts_with("MCP CLI") {
        "delete mcp-remote's stored registration and tokens: `rm -rf ~/.mcp-auth` (or its MCP_REMOTE_CONFIG_DIR)"
    } else if name.contains("Visual Studio Code") || name.contains("VS Code") {
        "in VS Code, run `Authentication: Remove Dynamic Authentication Providers` from the Command Palette"
    } else if name.starts_with("Claude Code") {
        "in Claude Code, `/mcp`, pick the server, `Clear authentication`"
    } else if name.starts_with("MCP Inspector") {
        "in MCP Inspector, `Clear OAuth State`"
    } else {
        "make the client forget its stored client registration and tokens (mcp-remote: `rm -rf ~/.mcp-auth`; VS Code: `Authentication: Remove Dynamic Authentication Providers`; Claude Code: `/mcp`, the server, `Clear authentication`)"
    }
}

/// `kcdev up` with `flag VALUE` for each of `values`: flags that replace what the last `up` gave.
fn repeated(flag: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|value| format!(" {flag} {value}"))
        .collect()
}

fn host_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()?
        .host_str()
        .map(|host| host.trim_matches(['[', ']']).to_owned())
}

fn explain_registration(
    event: &Event,
    error: &str,
    clue: Option<&LogClue>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let policy = event.detail("client_registration_policy");
    let kcdevs_policies = realm.trusted_hosts.is_some();
    let restore = if kcdevs_policies {
        format!(
            "`{}` restores kcdev's registration policies",
            realm.command("up")
        )
    } else {
        format!(
            "the server's admins decide its registration policies (`{}` makes them kcdev's laptop ones)",
            realm.command("up --anonymous-registration")
        )
    };
    match policy {
        Some("Trusted Hosts") => {
            let uri = match clue.map(|clue| &clue.clue) {
                Some(Clue::UntrustedUri { uri }) => Some(uri.as_str()),
                _ => None,
            };
            let host = uri.and_then(host_of);
            let trusted = match (&realm.trusted_hosts, realm.extra_trusted_hosts.as_slice()) {
                (None, _) => String::new(),
                (Some(_), []) => {
                    " (kcdev's policy trusts localhost, 127.0.0.1 and the MCP clients' own hosts)"
                        .to_owned()
                }
                (Some(_), extra) => format!(
                    " (kcdev's policy trusts localhost, 127.0.0.1, the MCP clients' own hosts and {})",
                    extra.join(", ")
                ),
            };
            let explanation = match (uri, &host) {
                (Some(uri), Some(host)) => format!(
                    "the client asked to register the redirect URI (or client URI) {uri}; its host {host} is not one the realm trusts for registration{trusted}, so the Trusted Hosts policy refused it"
                ),
                _ => format!(
                    "the Trusted Hosts policy refused the registration: one of the client's redirect URIs (or its client_uri) is on a host the realm does not trust{trusted}"
                ),
            };
            let fix = match (&host, kcdevs_policies) {
                (Some(host), true) => {
                    let mut hosts = realm.extra_trusted_hosts.clone();
                    if !hosts.contains(host) {
                        hosts.push(host.clone());
                    }
                    format!(
                        "`{}` trusts it (or make the client use a redirect URI on localhost)",
                        realm.command(&format!("up{}", repeated("--trusted-host", &hosts)))
                    )
                }
                (None, true) => format!(
                    "`{}` adds the host of that URI ({})",
                    realm.command("up --trusted-host HOST"),
                    if realm.managed {
                        format!("Keycloak's log names it: `{}`", realm.command("logs"))
                    } else {
                        "the Keycloak server's log names it".to_owned()
                    }
                ),
                (_, false) => format!(
                    "ask the server's admins to add {} to the realm's Trusted Hosts registration policy, or `{}` makes the policies kcdev's",
                    host.as_deref().unwrap_or("the host"),
                    realm.command("up --anonymous-registration")
                ),
            };
            finding(Problem::UntrustedRedirectHost, explanation, fix)
        }
        Some("Allowed Client Scopes") => {
            let scope = match clue.map(|clue| &clue.clue) {
                Some(Clue::DisallowedScope { scope }) => Some(scope.as_str()),
                _ => None,
            };
            let explanation = match scope {
                Some(scope) if !realm.realm_scopes.iter().any(|s| s == scope) => format!(
                    "the client asked to register with the scope {scope}, which the realm does not have (an MCP client registers with the scopes its server advertises in scopes_supported), so the Allowed Client Scopes policy refused it"
                ),
                Some(scope) => format!(
                    "the client asked to register with the scope {scope}, which the Allowed Client Scopes policy does not allow for registered clients"
                ),
                None => "the client asked to register with a scope the Allowed Client Scopes policy does not allow (Keycloak's log names it)".to_owned(),
            };
            let fix = format!(
                "declare the scope in kcdev.toml (`[scopes.\"{}\"]`, and in the server's `scopes`), then `{}`; or make the server advertise only the realm's scopes",
                scope.unwrap_or("NAME"),
                realm.command("up")
            );
            finding(Problem::ScopeNotAllowed, explanation, fix)
        }
        Some(policy) => {
            let (why, fix) = match policy {
                "Max Clients Limit" => (
                    "the realm holds as many dynamically registered clients as the Max Clients Limit policy allows".to_owned(),
                    format!(
                        "`{}` starts the realm over (its registered clients go), or delete old clients in the admin console",
                        realm.command("up --reset-realm")
                    ),
                ),
                "Allowed Registration Web Origins" => (
                    "a browser page registered from an origin the realm does not allow".to_owned(),
                    "register from MCP Inspector at http://localhost:6274 (the origin kcdev allows), or from outside a browser".to_owned(),
                ),
                "Allowed Protocol Mapper Types" => (
                    "the registration brought protocol mappers of a type the policy does not allow".to_owned(),
                    "register without protocol mappers".to_owned(),
                ),
                _ => (
                    "a registration policy of the realm refused it".to_owned(),
                    restore,
                ),
            };
            finding(
                Problem::RegistrationRefused,
                format!("the registration policy '{policy}' refused the registration: {why}"),
                fix,
            )
        }
        None => {
            let reason = event
                .detail("reason")
                .map(|reason| format!(" ({reason})"))
                .unwrap_or_default();
            finding(
                Problem::RegistrationRefused,
                format!("Keycloak refused the client's registration: {error}{reason}"),
                format!(
                    "the client's registration request is not one Keycloak takes; {}",
                    logs_hint(realm)
                ),
            )
        }
    }
}

fn logs_hint(realm: &RealmFacts) -> String {
    if realm.managed {
        format!("`{}` shows Keycloak's side", realm.command("logs"))
    } else {
        "the Keycloak server's log shows its side".to_owned()
    }
}

/// The errors of the CIMD client policy: these events carry no client id; the log line names it.
fn explain_client_policy(
    detail: &str,
    clue: Option<&LogClue>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let url = clue
        .and_then(LogClue::client_id)
        .map_or_else(|| "its document URL".to_owned(), str::to_owned);
    if detail.contains("fetch failed") {
        return finding(
            Problem::CimdFetchFailed,
            format!(
                "the client logs in with a Client ID Metadata Document, and Keycloak could not fetch it from {url}: Keycloak fetches it itself{}, so the URL must answer from there",
                if realm.managed {
                    ", from inside its container"
                } else {
                    ""
                }
            ),
            format!(
                "check that {url} serves the document over https from where Keycloak runs (localhost on your machine is not the container's); or connect the client with a pre-registered client or DCR (`{}`)",
                realm.command("client-config <client> --registration dcr")
            ),
        );
    }
    if detail.contains("client_id property") {
        let named = match clue.map(|clue| &clue.clue) {
            Some(Clue::CimdClientIdMismatch {
                document_client_id, ..
            }) => format!(" ({document_client_id})"),
            _ => String::new(),
        };
        return finding(
            Problem::CimdDocumentMismatch,
            format!(
                "the metadata document at {url} names another client_id{named}: a Client ID Metadata Document must name its own URL"
            ),
            format!("set the document's client_id to {url}"),
        );
    }
    if detail.contains("redirect_uri parameter") {
        let redirect = match clue.map(|clue| &clue.clue) {
            Some(Clue::CimdRedirectMismatch { redirect_uri }) => format!(" {redirect_uri}"),
            _ => String::new(),
        };
        return finding(
            Problem::CimdRedirectMismatch,
            format!(
                "the login's redirect URI{redirect} is not one of the redirect_uris of the client's metadata document"
            ),
            "list the redirect URI in the document's redirect_uris (or make the client use one listed)".to_owned(),
        );
    }
    finding(
        Problem::KeycloakError,
        format!("the Client ID Metadata Document policy refused the client: {detail}"),
        logs_hint(realm),
    )
}

fn explain_unknown_client(
    event: &Event,
    client: Option<&ClientFacts>,
    clue: Option<&LogClue>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let client_id = event.client_id.clone().unwrap_or_default();
    let origin = client
        .map(|client| client.origin)
        .unwrap_or_else(|| ClientOrigin::classify(&client_id, &realm.kcdev_clients, None));
    let doing = match event.event_type.as_str() {
        REFRESH_TOKEN_ERROR => "tried to refresh its token",
        CODE_TO_TOKEN_ERROR => "asked for a token",
        _ => "tried to log in",
    };
    match origin {
        ClientOrigin::Cimd => {
            let host = host_of(&client_id).unwrap_or_default();
            let Some(domains) = &realm.cimd_domains else {
                return finding(
                    Problem::CimdOff,
                    format!(
                        "the client {doing} with a Client ID Metadata Document ({client_id}), but the realm does not offer CIMD"
                    ),
                    format!(
                        "`{}` offers it (or connect the client with a pre-registered client or DCR)",
                        realm.command("up --cimd")
                    ),
                );
            };
            let untrusted = matches!(
                clue.map(|clue| &clue.clue),
                Some(Clue::CimdUntrustedDomain { .. })
            ) || !domains.iter().any(|domain| domain_matches(domain, &host));
            if untrusted {
                let mut extra = realm.extra_cimd_domains.clone();
                if !extra.contains(&host) {
                    extra.push(host.clone());
                }
                return finding(
                    Problem::CimdDomainNotAllowed,
                    format!(
                        "the client {doing} with the Client ID Metadata Document {client_id}, but the realm takes documents only from {}; {host} is not one of them",
                        domains.join(", ")
                    ),
                    format!(
                        "`{}` takes documents from {host}",
                        realm.command(&format!("up --cimd{}", repeated("--cimd-domain", &extra)))
                    ),
                );
            }
            if client_id.starts_with("http://") {
                return finding(
                    Problem::CimdNotHttps,
                    format!(
                        "the client {doing} with the Client ID Metadata Document {client_id}, but the realm takes only https document URLs, as the MCP specification requires"
                    ),
                    "serve the document over https".to_owned(),
                );
            }
            finding(
                Problem::UnknownClient,
                format!(
                    "the client {doing} with the Client ID Metadata Document {client_id}, and Keycloak did not take it as one"
                ),
                logs_hint(realm),
            )
        }
        ClientOrigin::Dynamic => finding(
            Problem::ClientGone,
            format!(
                "a client that registered itself earlier (DCR) {doing} with its client id {client_id}, but the realm no longer has that client: the realm was reset (`kcdev up --reset-realm`, `kcdev down --volumes`) or the client deleted since"
            ),
            forget_registration(None),
        ),
        _ => finding(
            Problem::UnknownClient,
            format!(
                "the client {doing} with the client id {client_id}, which the realm {} does not have (a client id of another realm or Keycloak, or a typo)",
                realm.realm
            ),
            format!(
                "use one of the realm's clients; kcdev pre-registers {} (`{}` prints a working config)",
                pre_registered_ids(realm),
                realm.command("client-config <client>")
            ),
        ),
    }
}

fn pre_registered_ids(realm: &RealmFacts) -> String {
    realm
        .kcdev_clients
        .iter()
        .filter(|id| id.starts_with("kcdev-"))
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keycloak's domain match for CIMD: the host itself, or a subdomain of a `*.` entry.
fn domain_matches(domain: &str, host: &str) -> bool {
    match domain.strip_prefix("*.") {
        Some(parent) => host.ends_with(&format!(".{parent}")),
        None => domain == host,
    }
}

fn explain_redirect(
    event: &Event,
    client: Option<&ClientFacts>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let asked = event.detail("redirect_uri").unwrap_or("another URI");
    let Some(client) = client else {
        return finding(
            Problem::RedirectUriMismatch,
            format!(
                "the login asked to return to {asked}, which is not a redirect URI of the client"
            ),
            "register the client with that redirect URI".to_owned(),
        );
    };
    let allowed = if client.redirect_uris.is_empty() {
        "none".to_owned()
    } else {
        client.redirect_uris.join(", ")
    };
    match (client.origin, client.pre_registered_for()) {
        (ClientOrigin::PreRegistered, Some(mcp_client)) => {
            let port = mcp_client
                .pre_registered()
                .map(|pre| pre.callback_port)
                .unwrap_or_default();
            finding(
                Problem::RedirectUriMismatch,
                format!(
                    "{} accepts only the redirect URIs {allowed} (callback port {port}), and this login asked to return to {asked}: the client listens on another callback port",
                    client.describe()
                ),
                format!(
                    "give {} the callback port {port}, as `{}` configures it (or `--registration dcr` to let it register its own)",
                    mcp_client.title(),
                    realm.command(&format!("client-config {}", mcp_client.id()))
                ),
            )
        }
        (ClientOrigin::Dynamic, _) => finding(
            Problem::RedirectUriMismatch,
            format!(
                "{} registered the redirect URIs {allowed}, and this login asked to return to {asked}: the client uses a registration from an earlier run, with another callback port",
                client.describe()
            ),
            forget_registration(client.name.as_deref()),
        ),
        (ClientOrigin::Cimd, _) => finding(
            Problem::RedirectUriMismatch,
            format!(
                "this login of {} asked to return to {asked}, which its metadata document does not list ({allowed})",
                client.describe()
            ),
            "list the redirect URI in the document's redirect_uris".to_owned(),
        ),
        _ => finding(
            Problem::RedirectUriMismatch,
            format!(
                "{} accepts only the redirect URIs {allowed}, and this login asked to return to {asked}",
                client.describe()
            ),
            "add the redirect URI to the client (admin console, Valid redirect URIs), or use one of kcdev's pre-registered clients".to_owned(),
        ),
    }
}

fn explain_scopes(
    reason: &str,
    client: Option<&ClientFacts>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let requested: Vec<&str> = reason
        .trim_start_matches("Invalid scopes:")
        .split_whitespace()
        .collect();
    let has = |scope: &str| client.is_some_and(|client| client.scopes.iter().any(|s| s == scope));
    // `openid` is no client scope in Keycloak: it is always allowed.
    let missing: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|scope| *scope != "openid" && !has(scope))
        .collect();
    let unknown: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|scope| !realm.realm_scopes.iter().any(|s| s == scope))
        .collect();
    let who = client.map_or_else(|| "the client".to_owned(), ClientFacts::describe);
    if !unknown.is_empty() {
        let declare: Vec<String> = unknown
            .iter()
            .map(|scope| format!("[scopes.\"{scope}\"]"))
            .collect();
        return finding(
            Problem::ScopeNotInRealm,
            format!(
                "{who} asked for the scope {}, which the realm does not have (invalid_scope)",
                unknown.join(", ")
            ),
            format!(
                "declare it in kcdev.toml ({}, assigned = \"optional\" for a step-up scope), then `{}`",
                declare.join(", "),
                realm.command("up")
            ),
        );
    }
    let Some(client) = client else {
        return finding(
            Problem::StepUpRefused,
            format!(
                "the client asked for scopes it does not have: {}",
                requested.join(" ")
            ),
            "give the client those scopes".to_owned(),
        );
    };
    let lacking = missing.join(", ");
    let has_now = if client.scopes.is_empty() {
        "none".to_owned()
    } else {
        client.scopes.join(", ")
    };
    let (explanation, fix) = match client.origin {
        ClientOrigin::Dynamic => {
            let why = format!(
                "{who} asked for {lacking}, which it does not have (its scopes: {has_now}): Keycloak gives a dynamically registered client only the scopes it named at registration, so it cannot step up (invalid_scope)"
            );
            let fix = if realm.registered_clients_step_up {
                format!(
                    "the client registered before the realm offered {lacking} to registered clients: {}",
                    forget_registration(client.name.as_deref())
                )
            } else if realm.managed {
                format!(
                    "`{}` gives the container kcdev's registration provider (registered clients get the realm's optional scopes); then {}",
                    realm.command("up --recreate"),
                    forget_registration(client.name.as_deref())
                )
            } else {
                format!(
                    "this Keycloak lacks kcdev's registration provider: `{}` writes it for the server's admins (providers/ directory), then `{}`; or have the client register with every scope it needs (the server's scopes_supported)",
                    realm.command("export --provider-jar kcdev-provider.jar"),
                    realm.command("up")
                )
            };
            (why, fix)
        }
        ClientOrigin::PreRegistered => (
            format!("{who} asked for {lacking}, which the client does not have (its scopes: {has_now}) (invalid_scope)"),
            format!("`{}` gives kcdev's clients every scope of the realm", realm.command("up")),
        ),
        ClientOrigin::Cimd => (
            format!(
                "{who} asked for {lacking}, which it does not have (its scopes: {has_now}): a CIMD client gets the scopes its document names (invalid_scope)"
            ),
            format!("add {lacking} to the document's scope"),
        ),
        _ => (
            format!("{who} asked for {lacking}, which it does not have (its scopes: {has_now}) (invalid_scope)"),
            "assign the scope to the client as an optional scope (admin console, the client's Client scopes tab)".to_owned(),
        ),
    };
    finding(Problem::StepUpRefused, explanation, fix)
}

fn explain_refresh(event: &Event, client: Option<&ClientFacts>, error: &str) -> Option<Finding> {
    let reason = event
        .detail("reason")
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default();
    finding(
        Problem::RefreshRejected,
        format!(
            "Keycloak refused the refresh token of {}: {error}{reason}. A refresh token stops working when the realm is reset or recreated (new keys), its session ends (logout, 12 hours unused) or it was used already",
            client_name(client, event)
        ),
        format!(
            "log in again; if the client keeps retrying the old token, {}",
            forget(client.and_then(|client| client.name.as_deref()))
        ),
    )
}

fn explain_code_exchange(
    event: &Event,
    client: Option<&ClientFacts>,
    error: &str,
    reason: &str,
) -> Option<Finding> {
    let who = client_name(client, event);
    let (why, fix) = match error {
        "invalid_code" => (
            format!("{who} sent an authorization code Keycloak no longer takes: used once already, or expired (a minute) before the client exchanged it"),
            "log in again; a client must exchange the code once, at once".to_owned(),
        ),
        "invalid_client_credentials" | "invalid_client" => (
            format!("{who} authenticated at the token endpoint in a way the client does not allow (a secret for a public client, or the wrong one)"),
            "register the client as public (token_endpoint_auth_method none), or give it its secret".to_owned(),
        ),
        _ if reason.to_ascii_lowercase().contains("pkce") || reason.contains("code_verifier") => (
            format!("{who}'s code_verifier does not match the login's code_challenge (PKCE): the client lost its PKCE state between the login and the token request"),
            "log in again in one go (a client restarted mid-login starts over)".to_owned(),
        ),
        _ if reason.contains("redirect_uri") => (
            format!("{who}'s token request names another redirect_uri than its login ({reason})"),
            "send the login's redirect URI with the token request".to_owned(),
        ),
        _ => (
            format!("Keycloak refused {who}'s token request: {error}{}", if reason.is_empty() { String::new() } else { format!(" ({reason})") }),
            "log in again".to_owned(),
        ),
    };
    finding(Problem::CodeExchangeFailed, why, fix)
}

fn explain_other(
    event: &Event,
    client: Option<&ClientFacts>,
    error: &str,
    reason: &str,
    realm: &RealmFacts,
) -> Option<Finding> {
    let what = match event.event_type.as_str() {
        LOGIN_ERROR => "the login",
        _ => "the request",
    };
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    };
    finding(
        Problem::KeycloakError,
        format!(
            "Keycloak refused {what} of {}: {error}{reason}",
            client_name(client, event)
        ),
        logs_hint(realm),
    )
}

fn explain_stall(
    stall: Stall,
    event: &Event,
    client: Option<&ClientFacts>,
    realm: &RealmFacts,
) -> Option<Finding> {
    let who = client_name(client, event);
    match stall {
        Stall::TokenNotIssued if event.event_type == LOGIN => {
            let user = user_of(event);
            if realm.resource_indicators {
                finding(
                    Problem::TokenNotIssued,
                    format!(
                        "{user} logged in to {who}, but the client never got a token: Keycloak refused the code exchange without recording it. With resource indicators on, that is invalid_target: the client asked for a resource (its MCP server's URL) that is none of the instance's servers ({})",
                        realm.resource_urls.join(", ")
                    ),
                    format!(
                        "connect the client to one of those servers, or add its server: `{}` (each server's base URL, without /mcp)",
                        realm.command(&format!(
                            "up{} --server-url <server URL>",
                            realm
                                .resource_urls
                                .iter()
                                .map(|url| format!(
                                    " --server-url {}",
                                    url.trim_end_matches("/mcp")
                                ))
                                .collect::<String>()
                        ))
                    ),
                )
            } else {
                finding(
                    Problem::TokenNotIssued,
                    format!(
                        "{user} logged in to {who}, but the client never exchanged the code for a token: it stopped listening on its redirect URI before the browser came back, or gave up"
                    ),
                    "start the client's login again and keep it running until the browser says the login is complete".to_owned(),
                )
            }
        }
        Stall::LoginNotCompleted => {
            let consent = client.is_some_and(|client| client.consent_required);
            let (why, fix) = if consent {
                (
                    format!(
                        "{who} was registered, but no login followed within {} s: Keycloak shows this client a consent page{} and nobody answered it (or the browser window was closed)",
                        super::LOGIN_GRACE.as_secs(),
                        if client.is_some_and(|client| client.origin == ClientOrigin::Cimd) {
                            " (it does for every CIMD client)"
                        } else {
                            ""
                        }
                    ),
                    "finish the login in the browser window the client opened and choose Yes on the consent page; a client that logs in without a browser must submit the consent form too".to_owned(),
                )
            } else {
                (
                    format!(
                        "{who} was registered, but no login followed within {} s: the login page the client opened was not finished (closed, or the client gave up)",
                        super::LOGIN_GRACE.as_secs()
                    ),
                    "log in in the browser window the client opens; if none opens, the client's own log shows the URL".to_owned(),
                )
            };
            finding(Problem::LoginNotCompleted, why, fix)
        }
        Stall::TokenNotIssued => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::events::{CLIENT_REGISTER, REFRESH_TOKEN_ERROR, parse_log_line};

    fn realm() -> RealmFacts {
        RealmFacts {
            realm: "fastmcp".into(),
            managed: true,
            instance_flag: String::new(),
            kcdev_clients: vec![
                "kcdev".into(),
                "kcdev-claude-code".into(),
                "kcdev-inspector".into(),
                "kcdev-mcp-remote".into(),
                "http://localhost:8000/mcp".into(),
            ],
            trusted_hosts: Some(vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "example.org".into(),
            ]),
            extra_trusted_hosts: vec!["example.org".into()],
            cimd_domains: Some(vec![
                "claude.ai".into(),
                "vscode.dev".into(),
                "cimd-docs".into(),
            ]),
            extra_cimd_domains: vec!["cimd-docs".into()],
            resource_indicators: false,
            resource_urls: vec!["http://localhost:8000/mcp".into()],
            registered_clients_step_up: true,
            realm_scopes: vec![
                "mcp:tools".into(),
                "mcp:admin".into(),
                "profile".into(),
                "offline_access".into(),
            ],
            test_users: true,
        }
    }

    fn event(
        event_type: &str,
        client: Option<&str>,
        error: &str,
        details: &[(&str, &str)],
    ) -> Event {
        Event {
            id: "e".into(),
            time_ms: 1_796_395_990_084,
            event_type: event_type.into(),
            client_id: client.map(str::to_owned),
            error: (!error.is_empty()).then(|| error.to_owned()),
            details: details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            ..Event::default()
        }
    }

    fn clue(line: &str) -> LogClue {
        parse_log_line(&format!("2026-12-04T14:53:10.067Z {line}")).unwrap()
    }

    fn dcr(scopes: &[&str]) -> ClientFacts {
        ClientFacts {
            client_id: "47f8ae2f-61a3-413c-896c-c5d2e69731c2".into(),
            name: Some("Visual Studio Code".into()),
            origin: ClientOrigin::Dynamic,
            exists: true,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            consent_required: false,
            redirect_uris: vec!["http://127.0.0.1:33418/".into()],
        }
    }

    fn pre(client_id: &str) -> ClientFacts {
        ClientFacts {
            origin: ClientOrigin::PreRegistered,
            exists: true,
            redirect_uris: vec!["http://localhost:33420/callback".into()],
            scopes: vec!["mcp:tools".into(), "mcp:admin".into()],
            ..ClientFacts::missing(client_id, &[])
        }
    }

    fn explained(
        event: &Event,
        client: Option<&ClientFacts>,
        clue: Option<&LogClue>,
        realm: &RealmFacts,
    ) -> Finding {
        explain(event, client, clue, None, realm).expect("a finding")
    }

    #[test]
    fn successes_need_no_explanation() {
        let login = event(LOGIN, Some("kcdev-claude-code"), "", &[]);
        assert_eq!(explain(&login, None, None, None, &realm()), None);
    }

    #[test]
    fn an_untrusted_redirect_host_is_named_and_trusted_with_the_hosts_already_added() {
        let refused = event(
            CLIENT_REGISTER_ERROR,
            None,
            "not_allowed",
            &[("client_registration_policy", "Trusted Hosts")],
        );
        let line = clue(
            "WARN [org.keycloak.services] (x) KC-SERVICES0108: URI 'http://my-laptop.lan:39123/callback' doesn't match any trustedHost or trustedDomain",
        );
        let found = explained(&refused, None, Some(&line), &realm());
        assert_eq!(found.problem, Problem::UntrustedRedirectHost);
        assert!(
            found
                .explanation
                .contains("http://my-laptop.lan:39123/callback"),
            "{}",
            found.explanation
        );
        assert!(
            found.explanation.contains("my-laptop.lan is not one"),
            "{}",
            found.explanation
        );
        // `--trusted-host` replaces the last `up`'s list: the fix repeats it.
        assert!(
            found
                .fix
                .contains("kcdev up --trusted-host example.org --trusted-host my-laptop.lan"),
            "{}",
            found.fix
        );
        // Without the log line (a server kcdev does not run): the policy, and where to look.
        let found = explained(&refused, None, None, &realm());
        assert_eq!(found.problem, Problem::UntrustedRedirectHost);
        assert!(found.fix.contains("--trusted-host HOST"), "{}", found.fix);
        let server = RealmFacts {
            trusted_hosts: None,
            managed: false,
            instance_flag: " --instance team".into(),
            ..realm()
        };
        let found = explained(&refused, None, Some(&line), &server);
        assert!(found.fix.contains("server's admins"), "{}", found.fix);
        assert!(
            found
                .fix
                .contains("kcdev up --anonymous-registration --instance team"),
            "{}",
            found.fix
        );
    }

    #[test]
    fn a_scope_the_realm_lacks_is_refused_at_registration_and_declared_in_kcdev_toml() {
        let refused = event(
            CLIENT_REGISTER_ERROR,
            None,
            "not_allowed",
            &[("client_registration_policy", "Allowed Client Scopes")],
        );
        let line =
            clue("WARN [x] (y) Requested scope 'notes:write' not trusted in the list: [openid]");
        let found = explained(&refused, None, Some(&line), &realm());
        assert_eq!(found.problem, Problem::ScopeNotAllowed);
        assert!(
            found
                .explanation
                .contains("notes:write, which the realm does not have")
        );
        assert!(
            found.fix.contains("[scopes.\"notes:write\"]"),
            "{}",
            found.fix
        );
        let limit = event(
            CLIENT_REGISTER_ERROR,
            None,
            "not_allowed",
            &[("client_registration_policy", "Max Clients Limit")],
        );
        let found = explained(&limit, None, None, &realm());
        assert_eq!(found.problem, Problem::RegistrationRefused);
        assert!(found.fix.contains("--reset-realm"));
    }

    #[test]
    fn a_pre_registered_client_on_another_callback_port_is_told_its_port() {
        let login = event(
            LOGIN_ERROR,
            Some("kcdev-claude-code"),
            "invalid_redirect_uri",
            &[("redirect_uri", "http://localhost:40001/callback")],
        );
        let found = explained(&login, Some(&pre("kcdev-claude-code")), None, &realm());
        assert_eq!(found.problem, Problem::RedirectUriMismatch);
        assert!(
            found
                .explanation
                .contains("http://localhost:40001/callback")
        );
        assert!(
            found.explanation.contains("callback port 33420"),
            "{}",
            found.explanation
        );
        assert!(
            found.fix.contains("kcdev client-config claude-code"),
            "{}",
            found.fix
        );
        // A registered client with a stale registration forgets it.
        let stale = event(
            LOGIN_ERROR,
            Some("47f8ae2f-61a3-413c-896c-c5d2e69731c2"),
            "invalid_redirect_uri",
            &[("redirect_uri", "http://127.0.0.1:50000/")],
        );
        let found = explained(&stale, Some(&dcr(&["mcp:tools"])), None, &realm());
        assert!(
            found
                .fix
                .contains("Remove Dynamic Authentication Providers"),
            "{}",
            found.fix
        );
    }

    #[test]
    fn step_up_is_told_apart_from_a_scope_nobody_declared() {
        let step_up = event(
            LOGIN_ERROR,
            Some("47f8ae2f-61a3-413c-896c-c5d2e69731c2"),
            "invalid_request",
            &[("reason", "Invalid scopes: openid mcp:tools mcp:admin")],
        );
        let client = dcr(&["basic", "mcp:tools"]);
        let found = explained(&step_up, Some(&client), None, &realm());
        assert_eq!(found.problem, Problem::StepUpRefused);
        assert!(
            found.explanation.contains("asked for mcp:admin"),
            "{}",
            found.explanation
        );
        assert!(
            found
                .explanation
                .contains("only the scopes it named at registration")
        );
        assert!(found.fix.contains("registers again"), "{}", found.fix);
        // Without kcdev's provider: the container gets it, a server's admins get the jar.
        let without = RealmFacts {
            registered_clients_step_up: false,
            ..realm()
        };
        assert!(
            explained(&step_up, Some(&client), None, &without)
                .fix
                .contains("kcdev up --recreate")
        );
        let server = RealmFacts {
            managed: false,
            ..without
        };
        assert!(
            explained(&step_up, Some(&client), None, &server)
                .fix
                .contains("--provider-jar")
        );
        let undeclared = event(
            LOGIN_ERROR,
            Some("kcdev-claude-code"),
            "invalid_request",
            &[("reason", "Invalid scopes: openid mcp:tools notes:write")],
        );
        let found = explained(&undeclared, Some(&pre("kcdev-claude-code")), None, &realm());
        assert_eq!(found.problem, Problem::ScopeNotInRealm);
        assert!(found.explanation.contains("notes:write"));
        assert!(found.fix.contains("[scopes.\"notes:write\"]"));
        // kcdev's own client lacking a realm scope: `up` attaches it.
        let lacking = ClientFacts {
            scopes: vec!["mcp:tools".into()],
            ..pre("kcdev-claude-code")
        };
        let found = explained(&step_up, Some(&lacking), None, &realm());
        assert_eq!(found.problem, Problem::StepUpRefused);
        assert!(found.fix.starts_with("`kcdev up`"), "{}", found.fix);
    }

    #[test]
    fn a_client_the_reset_realm_forgot_must_register_again() {
        let refresh = event(
            REFRESH_TOKEN_ERROR,
            Some("7ea9076a-2410-499e-9d40-6d2096fde42e"),
            "client_not_found",
            &[("grant_type", "refresh_token")],
        );
        let found = explained(
            &refresh,
            Some(&ClientFacts::missing(
                "7ea9076a-2410-499e-9d40-6d2096fde42e",
                &[],
            )),
            None,
            &realm(),
        );
        assert_eq!(found.problem, Problem::ClientGone);
        assert!(found.explanation.contains("tried to refresh its token"));
        assert!(found.explanation.contains("--reset-realm"));
        assert!(found.fix.contains("~/.mcp-auth"), "{}", found.fix);
        // A pre-registered client survives the reset; its refresh token does not.
        let stale = event(
            REFRESH_TOKEN_ERROR,
            Some("kcdev-claude-code"),
            "invalid_token",
            &[("reason", "Invalid refresh token")],
        );
        let found = explained(&stale, Some(&pre("kcdev-claude-code")), None, &realm());
        assert_eq!(found.problem, Problem::RefreshRejected);
        assert!(found.explanation.contains("Invalid refresh token"));
        assert!(found.explanation.contains("reset"));
        let typo = event(LOGIN_ERROR, Some("claude-code"), "client_not_found", &[]);
        let found = explained(&typo, None, None, &realm());
        assert_eq!(found.problem, Problem::UnknownClient);
        assert!(
            found
                .fix
                .contains("kcdev-claude-code, kcdev-inspector, kcdev-mcp-remote"),
            "{}",
            found.fix
        );
    }

    #[test]
    fn cimd_failures_name_the_document_from_the_log() {
        let fetch = event(
            LOGIN_ERROR,
            None,
            "invalid_request",
            &[
                ("reason", "client_policy_error"),
                ("client_policy_error", "invalid_request"),
                ("client_policy_error_detail", "Client Metadata fetch failed"),
            ],
        );
        let line = clue(
            "WARN [x] (y) fetching client metadata for the first time failed: clientId = https://docs.example/client.json",
        );
        let found = explained(&fetch, None, Some(&line), &realm());
        assert_eq!(found.problem, Problem::CimdFetchFailed);
        assert!(
            found
                .explanation
                .contains("https://docs.example/client.json")
        );
        assert!(found.explanation.contains("inside its container"));
        let mismatch = event(
            LOGIN_ERROR,
            None,
            "invalid_request",
            &[(
                "client_policy_error_detail",
                "Invalid Client Metadata: client_id property does not exactly match client_id parameter.",
            )],
        );
        let line = clue(
            "WARN [x] (y) client_id property in client metadata does not exactly match client_id parameter in authorization request. property = https://a/x.json, parameter = https://a/y.json",
        );
        let found = explained(&mismatch, None, Some(&line), &realm());
        assert_eq!(found.problem, Problem::CimdDocumentMismatch);
        assert!(
            found
                .explanation
                .contains("names another client_id (https://a/x.json)")
        );
        assert!(found.fix.contains("https://a/y.json"));
        let elsewhere = event(
            LOGIN_ERROR,
            Some("https://docs.example/client.json"),
            "client_not_found",
            &[],
        );
        let found = explained(&elsewhere, None, None, &realm());
        assert_eq!(found.problem, Problem::CimdDomainNotAllowed);
        assert!(
            found
                .fix
                .contains("kcdev up --cimd --cimd-domain cimd-docs --cimd-domain docs.example"),
            "{}",
            found.fix
        );
        let off = RealmFacts {
            cimd_domains: None,
            ..realm()
        };
        assert_eq!(
            explained(&elsewhere, None, None, &off).problem,
            Problem::CimdOff
        );
        let plain = event(
            LOGIN_ERROR,
            Some("http://cimd-docs:8080/client.json"),
            "client_not_found",
            &[],
        );
        assert_eq!(
            explained(&plain, None, None, &realm()).problem,
            Problem::CimdNotHttps
        );
    }

    #[test]
    fn what_did_not_follow_is_explained_by_the_realms_modes() {
        let login = event(
            LOGIN,
            Some("kcdev-claude-code"),
            "",
            &[("username", "testuser"), ("response_type", "code")],
        );
        let resources = RealmFacts {
            resource_indicators: true,
            ..realm()
        };
        let found = explain(
            &login,
            Some(&pre("kcdev-claude-code")),
            None,
            Some(Stall::TokenNotIssued),
            &resources,
        )
        .unwrap();
        assert_eq!(found.problem, Problem::TokenNotIssued);
        assert!(
            found.explanation.contains("invalid_target"),
            "{}",
            found.explanation
        );
        assert!(found.explanation.contains("http://localhost:8000/mcp"));
        assert!(
            found
                .fix
                .contains("--server-url http://localhost:8000 --server-url <server URL>"),
            "{}",
            found.fix
        );
        let found = explain(&login, None, None, Some(Stall::TokenNotIssued), &realm()).unwrap();
        assert!(!found.explanation.contains("invalid_target"));
        let registered = event(CLIENT_REGISTER, Some("https://claude.ai/x"), "", &[]);
        let cimd = ClientFacts {
            origin: ClientOrigin::Cimd,
            consent_required: true,
            exists: true,
            ..ClientFacts::missing("https://claude.ai/x", &[])
        };
        let found = explain(
            &registered,
            Some(&cimd),
            None,
            Some(Stall::LoginNotCompleted),
            &realm(),
        )
        .unwrap();
        assert_eq!(found.problem, Problem::LoginNotCompleted);
        assert!(
            found.explanation.contains("consent page"),
            "{}",
            found.explanation
        );
        assert!(found.fix.contains("Yes on the consent page"));
    }

    #[test]
    fn users_and_their_choices() {
        let denied = event(
            LOGIN_ERROR,
            Some("c"),
            "rejected_by_user",
            &[("username", "testuser")],
        );
        let found = explained(&denied, None, None, &realm());
        assert_eq!(found.problem, Problem::ConsentDenied);
        assert!(found.explanation.starts_with("testuser declined"));
        let wrong = event(
            LOGIN_ERROR,
            Some("c"),
            "invalid_user_credentials",
            &[("username", "testuser")],
        );
        let found = explained(&wrong, None, None, &realm());
        assert_eq!(found.problem, Problem::BadCredentials);
        assert!(found.fix.contains("password123"));
        let reused = event(CODE_TO_TOKEN_ERROR, Some("c"), "invalid_code", &[]);
        assert_eq!(
            explained(&reused, None, None, &realm()).problem,
            Problem::CodeExchangeFailed
        );
        let other = event(LOGIN_ERROR, Some("c"), "client_disabled", &[]);
        let found = explained(&other, None, None, &realm());
        assert_eq!(found.problem, Problem::KeycloakError);
        assert!(found.fix.contains("kcdev logs"));
        let resource = event(
            LOGIN_ERROR,
            Some("c"),
            "invalid_request",
            &[("reason", "Invalid resource: not a url")],
        );
        assert_eq!(
            explained(&resource, None, None, &realm()).problem,
            Problem::InvalidResource
        );
    }
}
