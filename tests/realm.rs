//! The realm against the real Keycloak: what MCP clients send is accepted, the tokens they get
//! carry what MCP servers check, and provisioning is a reconcile (idempotent, repairs drift,
//! leaves everything else alone, survives interruption).
//!
//! All tests share one Keycloak. Tests that change the realm take the lock exclusively; the
//! others read in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::time::Duration;

use common::oauth::{self, audiences, realm_roles};
use common::{Kcdev, shared};
use kcdev::oauth::{OAuthError, http_client};
use keycloak::types::{ClientRepresentation, CredentialRepresentation, UserRepresentation};
use serde_json::{Value, json};
use tokio::sync::RwLock;

const REALM: &str = "fastmcp";
const PASSWORD: &str = "password123";
const RESOURCE: &str = "http://localhost:8000/mcp";
const BASE: &str = "http://localhost:8000";

static REALM_LOCK: RwLock<()> = RwLock::const_new(());

fn kcdev() -> &'static Kcdev {
    shared("realm", &[])
}

async fn admin_events(kcdev: &Kcdev) -> usize {
    let admin = kcdev.admin().await;
    admin
        .api()
        .realm_admin_events_get(
            REALM,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some(100_000),
            None,
            None,
            None,
        )
        .await
        .unwrap()
        .len()
}

async fn refresh(kcdev: &Kcdev, client_id: &str, refresh_token: &str) -> Value {
    let urls = oauth::urls(kcdev, REALM);
    let response = reqwest::Client::new()
        .post(&urls.token)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "refresh refused");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_advertises_what_mcp_clients_check() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let urls = oauth::urls(kcdev, REALM);
    let discovery: Value = reqwest::get(&urls.discovery)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], urls.issuer.as_str());
    assert_eq!(
        discovery["registration_endpoint"],
        urls.registration.as_str()
    );
    assert!(
        discovery["code_challenge_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("S256"))
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert!(
        discovery["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("mcp:tools"))
    );
    // RFC 8414 path-inserted metadata, which the 2025-11-25 MCP clients try first.
    let rfc8414 = format!(
        "{}/.well-known/oauth-authorization-server/realms/{REALM}",
        kcdev.base_url()
    );
    let metadata: Value = reqwest::get(&rfc8414).await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], urls.issuer.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registrations_real_mcp_clients_send_are_accepted() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    for (client, body) in oauth::client_registrations() {
        let registered = oauth::register(kcdev, REALM, &body).await;
        assert_eq!(
            registered.token_endpoint_auth_method, body["token_endpoint_auth_method"],
            "{client}: the requested auth method is echoed (keycloak PR #45309)"
        );
        assert!(
            registered.response_types.contains(&"code".to_owned()),
            "{client}"
        );
        assert!(
            registered
                .grant_types
                .contains(&"authorization_code".to_owned()),
            "{client}"
        );
        assert_eq!(
            registered.client_secret.is_some(),
            body["token_endpoint_auth_method"] != "none",
            "{client}: only confidential clients get a secret"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_carry_audiences_roles_and_scope_with_and_without_a_scope_member() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let issuer = oauth::urls(kcdev, REALM).issuer;
    for scope_member in [Some("mcp:tools"), None] {
        let client = oauth::register(
            kcdev,
            REALM,
            &oauth::public_client("http://localhost:40001/callback", scope_member),
        )
        .await;
        for (user, expect_admin) in [("testuser", false), ("testadmin", true)] {
            let tokens = oauth::login(
                kcdev,
                REALM,
                &client,
                user,
                PASSWORD,
                Some("openid mcp:tools"),
            )
            .await;
            let claims = oauth::validate(kcdev, REALM, &tokens.access_token, RESOURCE).await;
            oauth::validate(kcdev, REALM, &tokens.access_token, BASE).await;
            let case = format!("{user}, scope member {scope_member:?}");
            assert_eq!(claims["iss"], issuer.as_str(), "{case}");
            let aud = audiences(&claims);
            assert!(
                aud.contains(&RESOURCE.to_owned()) && aud.contains(&BASE.to_owned()),
                "{case}: aud {aud:?}"
            );
            assert!(
                claims["sub"].as_str().is_some_and(|sub| !sub.is_empty()),
                "{case}"
            );
            let roles = realm_roles(&claims);
            assert!(
                roles.contains(&"user".to_owned()),
                "{case}: roles {roles:?}"
            );
            assert_eq!(
                roles.contains(&"admin".to_owned()),
                expect_admin,
                "{case}: roles {roles:?}"
            );
            let scope = claims["scope"].as_str().unwrap_or_default();
            assert!(
                scope.split(' ').any(|s| s == "mcp:tools"),
                "{case}: scope {scope:?}"
            );
            assert_eq!(claims["typ"], "Bearer");
            // An hour, counted from the second the token was issued in.
            assert!(
                (3590..=3600).contains(&tokens.expires_in),
                "access tokens live an hour: {}",
                tokens.expires_in
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_client_kind_gets_audience_roles_and_subject() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    // Whatever scope a client registered with (Inspector's empty one, mcp-remote's confidential
    // registration, Claude Code's none), its tokens carry what a server checks. Each asks for the
    // scopes it registered with: on Keycloak 26.7, asking for a scope the registration did not
    // name is refused with `invalid_scope` once the registration named any.
    for (client, body) in oauth::client_registrations() {
        let redirect = body["redirect_uris"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|uri| uri.starts_with("http"))
            .map(str::to_owned);
        let Some(redirect) = redirect else { continue };
        let mut body = body.clone();
        body["redirect_uris"] = json!([redirect]);
        let registered = oauth::register(kcdev, REALM, &body).await;
        let scope = match body["scope"].as_str() {
            Some(registered_scope) => format!("openid {registered_scope}"),
            None => "openid mcp:tools".to_owned(),
        };
        let tokens = oauth::login(
            kcdev,
            REALM,
            &registered,
            "testuser",
            PASSWORD,
            Some(scope.trim()),
        )
        .await;
        let claims = oauth::validate(kcdev, REALM, &tokens.access_token, RESOURCE).await;
        assert!(audiences(&claims).contains(&BASE.to_owned()), "{client}");
        assert!(
            realm_roles(&claims).contains(&"user".to_owned()),
            "{client}"
        );
        assert!(claims["sub"].is_string(), "{client}");
    }
}

/// What real clients ask for beyond the server's scopes: Gemini CLI registers naming every scope
/// discovery advertises (and asks for them all), Claude Code and Codex name `openid
/// offline_access` when a server advertises only `openid`. Each registers, logs in, and gets a
/// token with the audiences, the roles and `mcp:tools` (the realm's default scope, which kcdev's
/// registration policy gives a client that named others).
#[tokio::test(flavor = "multi_thread")]
async fn registrations_naming_every_advertised_scope_or_only_openid_get_what_servers_need() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let discovery: Value = reqwest::get(&oauth::urls(kcdev, REALM).discovery)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let advertised: Vec<&str> = discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(advertised.len() > 10, "scopes_supported: {advertised:?}");
    let every_scope = advertised.join(" ");
    for (client, scope, redirect) in [
        (
            "Gemini CLI",
            every_scope.as_str(),
            "http://localhost:40002/oauth/callback",
        ),
        (
            "Claude Code / Codex",
            "openid offline_access",
            "http://127.0.0.1:40003/callback",
        ),
    ] {
        let mut body = oauth::public_client(redirect, Some(scope));
        body["application_type"] = json!("native");
        let registered = oauth::register(kcdev, REALM, &body).await;
        let tokens =
            oauth::login(kcdev, REALM, &registered, "testuser", PASSWORD, Some(scope)).await;
        let claims = oauth::validate(kcdev, REALM, &tokens.access_token, RESOURCE).await;
        let aud = audiences(&claims);
        assert!(aud.contains(&BASE.to_owned()), "{client}: aud {aud:?}");
        assert!(
            realm_roles(&claims).contains(&"user".to_owned()),
            "{client}: {claims}"
        );
        let granted = claims["scope"].as_str().unwrap_or_default();
        assert!(
            granted.split(' ').any(|s| s == "mcp:tools"),
            "{client}: scope {granted:?}"
        );
        assert_eq!(claims["azp"], registered.client_id.as_str(), "{client}");
    }
}

/// Step-up: a token asked for with `mcp:tools` lacks `mcp:admin`; asking again with both gets a
/// token with both, the same audiences and the admin role. Pre-registered clients and clients
/// registered without `scope` have `mcp:admin` as an optional scope (the realm's optional scope),
/// and so does one that registered both scopes. One that registered `mcp:tools` alone (what the
/// SDKs send) gets it from kcdev's registration policy: Keycloak 26.7 alone gives a client that
/// names scopes exactly those, and refuses others with `invalid_scope`.
#[tokio::test(flavor = "multi_thread")]
async fn step_up_to_mcp_admin_per_registration_path() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let clients = [
        (
            "pre-registered",
            oauth::pre_registered("kcdev-claude-code", "http://localhost:33420/callback"),
        ),
        (
            "DCR without scope",
            oauth::register(
                kcdev,
                REALM,
                &oauth::public_client("http://localhost:40011/callback", None),
            )
            .await,
        ),
        (
            "DCR with mcp:tools alone",
            oauth::register(
                kcdev,
                REALM,
                &oauth::public_client("http://localhost:40013/callback", Some("mcp:tools")),
            )
            .await,
        ),
        (
            "DCR with both scopes",
            oauth::register(
                kcdev,
                REALM,
                &oauth::public_client(
                    "http://localhost:40012/callback",
                    Some("mcp:tools mcp:admin"),
                ),
            )
            .await,
        ),
    ];
    let scope_of = |claims: &Value| -> Vec<String> {
        claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect()
    };
    for (path, client) in &clients {
        let first = oauth::login(
            kcdev,
            REALM,
            client,
            "testadmin",
            PASSWORD,
            Some("openid mcp:tools"),
        )
        .await;
        let claims = oauth::validate(kcdev, REALM, &first.access_token, RESOURCE).await;
        let granted = scope_of(&claims);
        assert!(
            granted.contains(&"mcp:tools".to_owned()),
            "{path}: {granted:?}"
        );
        assert!(
            !granted.contains(&"mcp:admin".to_owned()),
            "{path}: {granted:?}"
        );
        let stepped_up = oauth::login(
            kcdev,
            REALM,
            client,
            "testadmin",
            PASSWORD,
            Some("openid mcp:tools mcp:admin"),
        )
        .await;
        let claims = oauth::validate(kcdev, REALM, &stepped_up.access_token, RESOURCE).await;
        let granted = scope_of(&claims);
        assert!(
            granted.contains(&"mcp:admin".to_owned()),
            "{path}: {granted:?}"
        );
        assert!(
            granted.contains(&"mcp:tools".to_owned()),
            "{path}: {granted:?}"
        );
        assert!(audiences(&claims).contains(&BASE.to_owned()), "{path}");
        assert!(realm_roles(&claims).contains(&"admin".to_owned()), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_access_and_refresh_tokens_work() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let client = oauth::register(
        kcdev,
        REALM,
        &oauth::public_client(
            "http://localhost:40002/callback",
            Some("mcp:tools offline_access"),
        ),
    )
    .await;
    let tokens = oauth::login(
        kcdev,
        REALM,
        &client,
        "testuser",
        PASSWORD,
        Some("openid mcp:tools offline_access"),
    )
    .await;
    assert_eq!(
        tokens.refresh_expires_in,
        Some(0),
        "an offline token does not expire with the session"
    );
    let refreshed = refresh(
        kcdev,
        &client.client_id,
        tokens.refresh_token.as_deref().unwrap(),
    )
    .await;
    let claims = oauth::validate(
        kcdev,
        REALM,
        refreshed["access_token"].as_str().unwrap(),
        RESOURCE,
    )
    .await;
    assert!(claims["scope"].as_str().unwrap().contains("offline_access"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_from_an_untrusted_host_is_refused() {
    let kcdev = kcdev();
    let _read = REALM_LOCK.read().await;
    let http = http_client(&kcdev::trust::Trust::system()).unwrap();
    let endpoint = oauth::urls(kcdev, REALM).registration;
    let untrusted = [
        oauth::public_client("https://evil.example.com/callback", None),
        {
            let mut body = oauth::public_client("http://localhost:40003/callback", None);
            body["client_uri"] = json!("https://evil.example.com");
            body
        },
    ];
    for body in untrusted {
        match kcdev::oauth::register(&http, &endpoint, &body).await {
            Err(OAuthError::Status {
                status: 403,
                body: answer,
                ..
            }) => {
                assert!(answer.contains("Trusted Hosts"), "{answer}");
            }
            other => panic!("registration of {body} was not refused: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_up_makes_no_write() {
    let kcdev = kcdev();
    let _write = REALM_LOCK.write().await;
    kcdev.up(&[]);
    let before = admin_events(kcdev).await;
    let report = kcdev.up(&[]);
    assert_eq!(report["provisioning"]["changes"], json!([]));
    assert!(report["provisioning"]["unchanged"].as_u64().unwrap() > 20);
    assert_eq!(
        admin_events(kcdev).await,
        before,
        "Keycloak recorded an admin write"
    );
    let text = kcdev.run(&["up", "--port", &kcdev.port.to_string()]).ok();
    assert!(text.stdout.contains("realm up to date"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_repaired_by_the_next_up() {
    let kcdev = kcdev();
    let _write = REALM_LOCK.write().await;
    let admin = kcdev.admin().await;
    let api = admin.api();
    // Delete the trusted-hosts policy, retarget a mapper, remove a user, change a setting.
    let policies = api
        .realm_components_get(REALM, None, None, Some("trusted-hosts".into()), None)
        .await
        .unwrap();
    for policy in policies
        .iter()
        .filter(|p| p.sub_type.as_deref() == Some("anonymous"))
    {
        api.realm_components_with_id_delete(REALM, policy.id.as_deref().unwrap())
            .await
            .unwrap();
    }
    let basic = api
        .realm_client_scopes_get(REALM)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name.as_deref() == Some("basic"))
        .unwrap();
    let basic_id = basic.id.clone().unwrap();
    let mut mapper = basic
        .protocol_mappers
        .unwrap()
        .into_iter()
        .find(|m| m.name.as_deref() == Some("kcdev audience: MCP resource URL"))
        .unwrap();
    mapper.config.as_mut().unwrap().insert(
        "included.custom.audience".into(),
        "http://wrong.example".into(),
    );
    api.realm_client_scopes_with_client_scope_id_protocol_mappers_models_with_id_put(
        REALM,
        &basic_id,
        mapper.id.clone().unwrap().as_str(),
        mapper,
    )
    .await
    .unwrap();
    let user = admin.find_user(REALM, "testuser").await.unwrap();
    api.realm_users_with_user_id_delete(REALM, user.unwrap().id.as_deref().unwrap())
        .await
        .unwrap();
    let mut realm = api.realm_get(REALM).await.unwrap();
    realm.access_token_lifespan = Some(300);
    api.realm_put(REALM, realm).await.unwrap();
    // A password changed behind kcdev's back is a new credential: the mark kcdev kept of the
    // one it set no longer matches, and the login that decides instead fails.
    let testadmin = admin.find_user(REALM, "testadmin").await.unwrap().unwrap();
    api.realm_users_with_user_id_reset_password_put(
        REALM,
        testadmin.id.as_deref().unwrap(),
        keycloak::types::CredentialRepresentation {
            type_: Some("password".into()),
            value: Some("changed-behind-kcdevs-back".into()),
            temporary: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(
        status["realm"]["drift"].as_array().unwrap().len(),
        5,
        "{status}"
    );
    // `plan` says the same, field by field, and exits with its drift code.
    let plan = kcdev.run(&["plan"]).failed_with(4);
    for expected in [
        "~ update realm settings",
        "accessTokenLifespan: 300 -> 3600",
        "included.custom.audience",
        "+ create user testuser",
        "~ update password of user testadmin",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}: {}",
            plan.stdout
        );
    }
    let plan = kcdev.run(&["plan", "--json"]).failed_with(4).json();
    assert_eq!(plan["changes"].as_array().unwrap().len(), 5, "{plan}");

    let report = kcdev.up(&[]);
    let changes: Vec<(String, String)> = report["provisioning"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("update", "realm settings"),
        (
            "update",
            "mapper 'kcdev audience: MCP resource URL' on scope basic",
        ),
        ("create", "registration policy Trusted Hosts"),
        ("create", "user testuser"),
        ("update", "password of user testadmin"),
    ];
    assert_eq!(changes.len(), expected.len(), "{changes:?}");
    for (kind, object) in expected {
        assert!(
            changes.contains(&(kind.to_owned(), object.to_owned())),
            "{kind} {object} missing from {changes:?}"
        );
    }

    // Repaired: registration is policed again and testuser's tokens are right.
    let tokens = oauth::mcp_client_login(kcdev, REALM, "testuser").await;
    let claims = oauth::validate(kcdev, REALM, &tokens.access_token, RESOURCE).await;
    let aud = audiences(&claims);
    assert!(
        aud.contains(&RESOURCE.to_owned()) && aud.contains(&BASE.to_owned()),
        "{claims}"
    );
    // Keycloak counts from the second it issued the token: 3599 when that second had begun.
    assert!(
        (3590..=3600).contains(&tokens.expires_in),
        "{}",
        tokens.expires_in
    );
    oauth::mcp_client_login(kcdev, REALM, "testadmin").await;
    assert_eq!(kcdev.up(&[])["provisioning"]["changes"], json!([]));
    let plan = kcdev.run(&["plan"]).ok();
    assert!(
        plan.stdout.contains("would change nothing"),
        "{}",
        plan.stdout
    );
}

async fn exists(kcdev: &Kcdev, client_ids: &[&str], username: &str) -> (Vec<bool>, bool) {
    let admin = kcdev.admin().await;
    let mut clients = Vec::new();
    for client_id in client_ids {
        clients.push(admin.find_client(REALM, client_id).await.unwrap().is_some());
    }
    let users = admin.find_user(REALM, username).await.unwrap();
    (clients, users.is_some())
}

#[tokio::test(flavor = "multi_thread")]
async fn your_own_clients_and_users_survive_up_restart_and_down() {
    let kcdev = kcdev();
    let _write = REALM_LOCK.write().await;
    let admin = kcdev.admin().await;
    let own_client = ClientRepresentation {
        client_id: Some("my-own-app".into()),
        public_client: Some(true),
        redirect_uris: Some(vec!["http://localhost:3000/*".into()]),
        ..Default::default()
    };
    let _ = admin.api().realm_clients_post(REALM, own_client).await;
    let alice = UserRepresentation {
        username: Some("alice".into()),
        enabled: Some(true),
        credentials: Some(vec![CredentialRepresentation {
            type_: Some("password".into()),
            value: Some("alice-secret".into()),
            temporary: Some(false),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let _ = admin.api().realm_users_post(REALM, alice).await;
    let registered = oauth::register(
        kcdev,
        REALM,
        &oauth::public_client("http://localhost:40005/callback", Some("mcp:tools")),
    )
    .await;
    let ids = ["my-own-app", registered.client_id.as_str()];

    assert_eq!(
        kcdev.up(&[])["provisioning"]["changes"],
        json!([]),
        "kcdev does not touch them"
    );
    assert_eq!(exists(kcdev, &ids, "alice").await, (vec![true, true], true));

    let container = format!("kcdev-{}-keycloak", kcdev.instance);
    common::docker()
        .restart_container(&container, None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    kcdev.up(&[]);
    assert_eq!(
        exists(kcdev, &ids, "alice").await,
        (vec![true, true], true),
        "after a container restart"
    );

    kcdev.run(&["down"]).ok();
    let back = kcdev.up(&[]);
    assert_eq!(back["container_action"], "created");
    assert_eq!(
        exists(kcdev, &ids, "alice").await,
        (vec![true, true], true),
        "after down + up"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_provisioning_converges_and_reset_starts_over() {
    let kcdev = kcdev();
    let _write = REALM_LOCK.write().await;
    let registered = oauth::register(
        kcdev,
        REALM,
        &oauth::public_client("http://localhost:40006/callback", None),
    )
    .await;

    // Kill `up --reset-realm` as soon as the old realm is gone. The new one is created whole,
    // in one call: an interrupted `up` leaves the realm missing or complete, never half-made.
    let mut missing_seen = false;
    for _attempt in 0..5 {
        let mut args = kcdev.up_flags();
        args.push("--reset-realm".into());
        let mut child = kcdev
            .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let admin = kcdev.admin().await;
        while admin.api().realm_get(REALM).await.is_ok() && child.try_wait().unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        let status = kcdev.run(&["status", "--json"]).ok().json();
        if status["realm"]["exists"] == false {
            missing_seen = true;
            break;
        }
        assert_eq!(
            status["realm"]["drift"],
            json!([]),
            "a realm is never half-made"
        );
    }
    assert!(
        missing_seen,
        "could not interrupt `up --reset-realm` between deleting and creating the realm in 5 attempts"
    );

    let report = kcdev.up(&[]);
    assert!(
        !report["provisioning"]["changes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["realm"]["drift"], json!([]), "converged");
    let tokens = oauth::mcp_client_login(kcdev, REALM, "testadmin").await;
    assert!(
        realm_roles(&oauth::validate(kcdev, REALM, &tokens.access_token, RESOURCE).await)
            .contains(&"admin".to_owned())
    );

    // The reset dropped what was registered before it.
    let (clients, _) = exists(kcdev, &[registered.client_id.as_str()], "testuser").await;
    assert_eq!(clients, vec![false]);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_flags_change_nothing_in_keycloak_or_the_state() {
    let kcdev = kcdev();
    let _write = REALM_LOCK.write().await;
    let admin = kcdev.admin().await;
    let master_before = admin.api().realm_get("master").await.unwrap();
    let events_before = admin_events(kcdev).await;
    let state_before = kcdev.state();
    for (flag, value) in [
        ("--realm", "master"),
        ("--user-password", ""),
        ("--server-url", "http://user:pw@localhost:8000"),
        ("--trusted-host", "evil.example/x"),
    ] {
        let mut args = kcdev.up_flags();
        args.extend([flag.to_owned(), value.to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kcdev.run(&args).failed_with(1).stderr_has(&[flag]);
    }
    let master_after = admin.api().realm_get("master").await.unwrap();
    assert_eq!(
        serde_json::to_value(&master_after).unwrap(),
        serde_json::to_value(&master_before).unwrap(),
        "the master realm changed"
    );
    assert_eq!(
        admin_events(kcdev).await,
        events_before,
        "the realm was written"
    );
    assert_eq!(kcdev.state(), state_before, "the state file changed");
}
