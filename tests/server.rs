//! `kcdev new server` and `kcdev run`, end to end against the real Keycloak: the generated
//! project builds and passes its own tests; run next to the realm it answers unauthenticated
//! requests with the MCP challenge, serves exact metadata, accepts what the realm issues to a
//! registered client and refuses every kind of bad token; and a client nobody here wrote (the
//! Python MCP SDK) gets through the whole chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::generated::{
    RunningServer, TEST_KEY_PEM, add_test_signing_key, generate, generated_target_dir,
};
use common::mcp::Mcp;
use common::mcp_remote::{
    Watched, list_tools_through_mcp_remote, log_in_where_mcp_remote_says, mcp_remote_client,
};
use common::{
    Kcdev, at_exit, free_port, oauth, run_interop_script, run_node_script, shared, step_up,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const REALM: &str = "fastmcp";
const PASSWORD: &str = "password123";
struct Server {
    kcdev: &'static Kcdev,
    dir: PathBuf,
    base: String,
    resource: String,
    test_kid: String,
}

async fn server() -> &'static Server {
    static SERVER: OnceCell<Server> = OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            let base = format!("http://localhost:{}", free_port());
            let kcdev = shared("server", &["--server-url", &base]);
            // Before the server starts, so its first key-set download has the test key.
            let test_kid = add_test_signing_key(kcdev, REALM).await;
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("e2e-server-{}", std::process::id()));
            generate(kcdev, &dir);
            let running = Mutex::new(Some(RunningServer::start(kcdev, &dir, None, &base).await));
            let dir_for_cleanup = dir.clone();
            at_exit(move || {
                drop(running.lock().unwrap().take());
                let _ = std::fs::remove_dir_all(&dir_for_cleanup);
            });
            Server {
                kcdev,
                dir,
                resource: format!("{base}/mcp"),
                base,
                test_kid,
            }
        })
        .await
}

/// A real access token of `user` for a client registered like an MCP client.
async fn real_token(server: &Server, user: &str) -> String {
    oauth::mcp_client_login(server.kcdev, REALM, user)
        .await
        .access_token
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn challenge_suffix(server: &Server) -> String {
    format!(
        "scope=\"mcp:tools\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        server.base
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_project_passes_its_own_tests_and_lints() {
    let server = server().await;
    let checks: [&[&str]; 3] = [
        &["test"],
        &["fmt", "--check"],
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    ];
    for args in checks {
        let status = Command::new("cargo")
            .args(args)
            .current_dir(&server.dir)
            .env("CARGO_TARGET_DIR", generated_target_dir())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cargo {args:?} failed in the generated project"
        );
    }
    let manifest = std::fs::read_to_string(server.dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"e2e-server\""));
    let config = std::fs::read_to_string(server.dir.join("src/config.rs")).unwrap();
    assert!(
        config.contains(&format!("\"{}\"", server.base)),
        "wired to the instance's server URL"
    );
    assert!(config.contains(&format!("\"{}/realms/{REALM}\"", server.kcdev.base_url())));
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_requests_get_the_challenge_and_metadata_is_exact() {
    let server = server().await;
    let response = Mcp::new(&server.resource, None)
        .post(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        format!("Bearer {}", challenge_suffix(server))
    );
    let expected = json!({
        "resource": server.resource,
        "authorization_servers": [format!("{}/realms/{REALM}", server.kcdev.base_url())],
        // The scope every request needs, then the one `admin_only` declares.
        "scopes_supported": ["mcp:tools", "mcp:admin"],
        "bearer_methods_supported": ["header"],
        "resource_name": "e2e-server",
    });
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let document: Value = reqwest::get(format!("{}{path}", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document, expected, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_client_logs_in_and_calls_tools_by_role() {
    let server = server().await;
    let mut user = Mcp::new(&server.resource, Some(real_token(server, "testuser").await));
    let init = user.initialize().await;
    assert_eq!(init["result"]["serverInfo"]["name"], "e2e-server");
    let tools = user.request("tools/list", json!({})).await;
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["admin_only", "whoami"]);
    let whoami = user.call_tool("whoami").await;
    let identity = &whoami["result"]["structuredContent"];
    assert_eq!(identity["username"], "testuser");
    let admin = server.kcdev.admin().await;
    let testuser = admin.find_user(REALM, "testuser").await.unwrap().unwrap();
    assert_eq!(identity["subject"], testuser.id.as_deref().unwrap());
    assert!(
        identity["audience"]
            .as_array()
            .unwrap()
            .contains(&json!(server.resource))
    );
    // `admin_only` needs `mcp:admin`, which a token asked for with `mcp:tools` lacks: 403 before
    // the tool runs, naming every scope the call needs (step-up).
    let call_admin_only = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "admin_only", "arguments": {}}});
    let refused = user.post(&call_admin_only).await;
    assert_eq!(refused.status(), 403);
    let header = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        header.starts_with("Bearer error=\"insufficient_scope\"")
            && header.contains("scope=\"mcp:tools mcp:admin\"")
            && header.ends_with(&format!(
                "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
                server.base
            )),
        "{header}"
    );

    // With the scope (`kcdev token --scope mcp:admin`): the role decides, inside the tool.
    let stepped_up = |user: &str| server.kcdev.token_with_scope(user, "mcp:admin");
    let mut user = Mcp::new(&server.resource, Some(stepped_up("testuser")));
    user.initialize().await;
    let denied = user.call_tool("admin_only").await;
    assert_eq!(denied["result"]["isError"], true, "{denied}");

    let mut admin_user = Mcp::new(&server.resource, Some(stepped_up("testadmin")));
    admin_user.initialize().await;
    let allowed = admin_user.call_tool("admin_only").await;
    assert_ne!(allowed["result"]["isError"], true, "{allowed}");
    assert!(
        allowed["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("testadmin")
    );

    // A session belongs to whoever opened it.
    let mut intruder = Mcp::new(&server.resource, admin_user.token.clone());
    intruder.session = user.session.clone();
    let refused = intruder
        .post(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
        .await;
    assert_eq!(refused.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_bad_token_is_refused() {
    let server = server().await;
    let issuer = format!("{}/realms/{REALM}", server.kcdev.base_url());
    let claims = |changes: Value| {
        let mut claims = json!({
            "iss": issuer, "aud": [server.resource, server.base], "sub": "minted-user",
            "preferred_username": "minted", "azp": "minted-client", "typ": "Bearer",
            "iat": now(), "exp": now() + 300, "scope": "openid mcp:tools",
            "realm_access": {"roles": ["user"]},
        });
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        claims
    };
    let mint = |claims: &Value| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(server.test_kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(TEST_KEY_PEM).unwrap(),
        )
        .unwrap()
    };
    // The minted tokens' signatures are good: a well-formed one is accepted.
    let mut accepted = Mcp::new(&server.resource, Some(mint(&claims(json!({})))));
    accepted.initialize().await;

    let real = real_token(server, "testuser").await;
    let parts: Vec<&str> = real.split('.').collect();
    let real_header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let real_kid = real_header["kid"].as_str().unwrap().to_owned();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["realm_access"]["roles"] = json!(["user", "admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    let unknown_kid = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD
            .encode(json!({"alg": "RS256", "typ": "JWT", "kid": "no-such-key"}).to_string()),
        parts[1],
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": real_kid}).to_string()),
        parts[1]
    );
    // The classic confusion attack: HMAC keyed with the realm's public certificate.
    let jwks: Value = reqwest::get(oauth::urls(server.kcdev, REALM).jwks)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let certificate = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == real_kid.as_str())
        .unwrap()["x5c"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let public_pem =
        format!("-----BEGIN CERTIFICATE-----\n{certificate}\n-----END CERTIFICATE-----\n");
    assert!(STANDARD.decode(&certificate).is_ok());
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(real_kid.clone());
    let hmac = jsonwebtoken::encode(
        &hs_header,
        &payload,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    let other_realm = {
        let state = server.kcdev.state();
        reqwest::Client::new()
            .post(format!(
                "{}/realms/master/protocol/openid-connect/token",
                server.kcdev.base_url()
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", state["admin"]["username"].as_str().unwrap()),
                ("password", state["admin"]["password"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        ("no token", None, 401, ""),
        ("garbage", Some("garbage".into()), 401, "malformed"),
        (
            "expired",
            Some(mint(&claims(json!({"exp": now() - 600})))),
            401,
            "expired",
        ),
        (
            "not yet valid",
            Some(mint(&claims(json!({"nbf": now() + 600})))),
            401,
            "not valid yet",
        ),
        (
            "wrong issuer",
            Some(mint(&claims(
                json!({"iss": format!("{}/realms/elsewhere", server.kcdev.base_url())}),
            ))),
            401,
            "issuer",
        ),
        (
            "token from another realm",
            Some(other_realm),
            401,
            "unknown signing key",
        ),
        (
            "audience missing",
            Some(mint(&claims(json!({"aud": null})))),
            401,
            "audience",
        ),
        (
            "audience wrong",
            Some(mint(&claims(json!({"aud": "account"})))),
            401,
            "audience",
        ),
        (
            "scope missing",
            Some(mint(&claims(json!({"scope": "openid profile"})))),
            403,
            "missing scope mcp:tools",
        ),
        ("tampered payload", Some(tampered), 401, "bad signature"),
        ("unknown kid", Some(unknown_kid), 401, "unknown signing key"),
        ("alg none", Some(alg_none), 401, "malformed"),
        (
            "HS256 signed with the realm's public key",
            Some(hmac),
            401,
            "not accepted",
        ),
        (
            "a very large header",
            Some("x".repeat(40 * 1024)),
            401,
            "too large",
        ),
    ];
    let suffix = challenge_suffix(server);
    for (case, token, status, description) in cases {
        let response = Mcp::new(&server.resource, token)
            .post(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}))
            .await;
        assert_eq!(response.status().as_u16(), status, "{case}");
        let header = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(header.ends_with(&suffix), "{case}: {header}");
        match (status, case) {
            (_, "no token") => assert_eq!(header, format!("Bearer {suffix}")),
            (403, _) => assert!(
                header.starts_with("Bearer error=\"insufficient_scope\""),
                "{case}: {header}"
            ),
            _ => assert!(
                header.starts_with("Bearer error=\"invalid_token\""),
                "{case}: {header}"
            ),
        }
        assert!(header.contains(description), "{case}: {header}");
    }
}

/// What `whoami` answers for any client the realm admits, however it got its client id: the
/// test user, both audiences, the MCP scope and the user's realm role.
fn assert_full_identity(identity: &Value, server: &Server) {
    let has = |list: &str, item: &str| {
        identity[list]
            .as_array()
            .is_some_and(|items| items.contains(&json!(item)))
    };
    assert_eq!(identity["username"], "testuser", "{identity}");
    assert!(has("audience", &server.resource), "{identity}");
    assert!(has("audience", &server.base), "{identity}");
    assert!(has("scopes", "mcp:tools"), "{identity}");
    assert!(has("realm_roles", "user"), "{identity}");
}

/// The Python MCP SDK (`tests/interop/mcp_sdk_client.py`) logs `testuser` in and calls both
/// tools, with `extra` options; what it reports.
/// The SDKs register with the scope the 401 challenge names, `mcp:tools`; kcdev's registration
/// policy gives the client the realm's optional scopes too, so after the 403 the SDK logs in again
/// asking for `mcp:admin` and gets it (Keycloak 26.7 alone refuses that with `invalid_scope`).
/// `testuser` lacks the `admin` role, so the call then reaches the tool, which says so.
fn assert_dynamic_client_steps_up(result: &Value) {
    let call = &result["calls"]["admin_only"];
    assert!(call.get("failed").is_none(), "{result}");
    assert_eq!(call["is_error"], true, "{result}");
    let asked: Vec<&str> = result["authorized_scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(asked.last().unwrap().contains("mcp:admin"), "{result}");
}

fn python_sdk_calls_both_tools(server: &Server, extra: &[&str]) -> Value {
    let mut args = vec![server.resource.as_str(), "testuser", PASSWORD];
    args.extend(extra);
    args.extend(["--call", "whoami", "--call", "admin_only"]);
    run_interop_script("mcp_sdk_client.py", &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_mcp_sdk_connects_through_the_whole_chain() {
    let server = server().await;
    let result = python_sdk_calls_both_tools(server, &[]);
    assert_eq!(result["tools"], json!(["admin_only", "whoami"]));
    // The SDK sends RFC 8707 `resource`; without Keycloak's resource-indicators feature the
    // token still carries both audiences.
    assert_eq!(result["resource_requested"], server.resource.as_str());
    assert_full_identity(&result["calls"]["whoami"]["structured"], server);
    assert_dynamic_client_steps_up(&result);
    assert!(
        result["registered_scope"]
            .as_str()
            .unwrap()
            .contains("mcp:tools"),
        "the SDK registered with the PRM scope"
    );
    assert_eq!(
        result["iss_returned"],
        format!("{}/realms/{REALM}", server.kcdev.base_url()).as_str()
    );
    // The `initialize` handshake: a legacy session, bound to its user.
    assert_eq!(result["protocol_version"], "2025-11-25", "{result}");
    assert_eq!(
        result["session_ids"].as_array().unwrap().len(),
        1,
        "{result}"
    );
}

/// What the Python SDK's `Client` does by default (mcp 2.3.0): a `server/discover` probe at
/// 2026-07-28, then self-contained requests with no `initialize` and no session. The same
/// login, the same tools, the same step-up for `admin_only`.
#[tokio::test(flavor = "multi_thread")]
async fn the_python_mcp_sdk_speaks_2026_07_28_without_a_session() {
    let server = server().await;
    let result = python_sdk_calls_both_tools(server, &["--mode", "auto"]);
    assert_eq!(result["protocol_version"], "2026-07-28", "{result}");
    assert_eq!(result["session_ids"], json!([]), "no session: {result}");
    assert_full_identity(&result["calls"]["whoami"]["structured"], server);
    assert_dynamic_client_steps_up(&result);
}

/// A 2026-07-28 request on its own: the protocol version in the header and in `_meta`, the
/// method and tool named in headers, no `initialize` before it. It is answered, opens no
/// session, and without a token gets the same challenge as any other request.
#[tokio::test(flavor = "multi_thread")]
async fn a_self_contained_2026_07_28_request_is_answered_without_a_session() {
    let server = server().await;
    let token = oauth::mcp_client_login(server.kcdev, REALM, "testuser")
        .await
        .access_token;
    let request = |token: Option<String>| {
        let resource = server.resource.clone();
        async move {
            common::mcp::stateless_request(
                &resource,
                token.as_deref(),
                None,
                "tools/call",
                json!({"name": "whoami", "arguments": {}}),
            )
            .await
        }
    };
    let answered = request(Some(token.clone())).await;
    assert_eq!(answered.status(), 200);
    assert!(answered.headers().get("mcp-session-id").is_none());
    let body = common::mcp::parse_response(&answered.text().await.unwrap());
    assert_eq!(
        body["result"]["structuredContent"]["username"], "testuser",
        "{body}"
    );
    let refused = request(None).await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata=")
    );
}

/// A client library with a client id it was given: the Python SDK starts with the realm's
/// pre-registered Claude Code client and logs in without registering.
#[tokio::test(flavor = "multi_thread")]
async fn the_python_mcp_sdk_with_a_pre_registered_client_does_not_register() {
    let server = server().await;
    let result = python_sdk_calls_both_tools(
        server,
        &[
            "--client-id",
            "kcdev-claude-code",
            "--redirect-uri",
            "http://localhost:33420/callback",
        ],
    );
    assert_eq!(result["client_id"], "kcdev-claude-code", "{result}");
    let identity = &result["calls"]["whoami"]["structured"];
    assert_eq!(identity["client"], "kcdev-claude-code", "{result}");
    assert_full_identity(identity, server);
    // The pre-registered client has `mcp:admin` as an optional scope: the SDK steps up, and then
    // the tool refuses a user without the admin role.
    assert_eq!(result["calls"]["admin_only"]["is_error"], true, "{result}");
    assert_eq!(
        result["authorized_scopes"].as_array().unwrap().len(),
        2,
        "{result}"
    );
    assert_eq!(
        clients_named(
            server.kcdev,
            "kcdev interop (Python MCP SDK, pre-registered)"
        )
        .await,
        Vec::<String>::new(),
        "the SDK registered although it had a client id"
    );
}

/// Step-up with real clients, as `testadmin`, with the pre-registered Claude Code client and after
/// dynamic registration (`common::step_up`): the first login asks for `mcp:tools`, `admin_only` answers 403 `insufficient_scope` naming
/// `mcp:tools mcp:admin`, the client logs in again asking for both and the call succeeds. The
/// Python SDK (mcp 2.3.0) does it at 2026-07-28 without a session; the TypeScript SDK (1.32.2,
/// whose newest protocol is 2025-11-25) inside its session, but only when it holds no refresh
/// token: with one it refreshes, which cannot widen a token's scope, and gives up. Its 2.x client
/// (`@modelcontextprotocol/client` 2.4.0) authorizes again either way. Both SDKs step up after
/// dynamic registration too, through kcdev's registration policy.
#[tokio::test(flavor = "multi_thread")]
async fn real_clients_step_up_to_mcp_admin() {
    let server = server().await;
    let runs = step_up::real_clients_step_up(&server.resource, "testadmin", PASSWORD);
    for run in &runs {
        let (client, result) = (run.client, &run.result);
        assert_eq!(
            result["calls"]["admin_only"]["is_error"], false,
            "{client}: {result}"
        );
        if client.starts_with("Python") {
            assert_eq!(
                result["protocol_version"], "2026-07-28",
                "{client}: {result}"
            );
            assert_eq!(result["session_ids"], json!([]), "{client}: {result}");
        }
    }

    let typescript = |extra: &[&str]| {
        let mut args = vec![server.resource.as_str(), "testadmin", PASSWORD];
        args.extend(step_up::PRE_REGISTERED);
        args.extend(extra);
        args.extend(["--call", "admin_only"]);
        run_node_script("ts_sdk_client.mjs", &args)
    };
    let stepped_up = typescript(&["--forget-refresh-tokens"]);
    assert_eq!(stepped_up["protocol_version"], "2025-11-25", "{stepped_up}");
    assert!(stepped_up["session_id"].is_string(), "{stepped_up}");
    assert_eq!(
        stepped_up["calls"]["admin_only"]["is_error"], false,
        "{stepped_up}"
    );
    assert!(
        stepped_up["calls"]["admin_only"]["text"]
            .as_str()
            .unwrap()
            .contains("testadmin"),
        "{stepped_up}"
    );
    step_up::asked_first_then_both("TypeScript SDK 1.x", &stepped_up);
    let refreshed = typescript(&[]);
    assert!(
        refreshed["calls"]["admin_only"]["failed"]
            .as_str()
            .unwrap_or_default()
            .contains("after trying upscoping"),
        "{refreshed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_and_new_say_what_is_wrong() {
    let absent = Kcdev::new("srv-absent");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    absent
        .run(&["run", dir.path().to_str().unwrap()])
        .failed_with(1)
        .stderr_has(&[
            "is not running",
            &format!("kcdev up --instance {}", absent.instance),
        ]);
    absent
        .run(&["run", "/nonexistent"])
        .failed_with(1)
        .stderr_has(&["has no Cargo.toml", "kcdev new server"]);
    absent
        .run(&["new", "server", "x", "--dir", dir.path().to_str().unwrap()])
        .failed_with(1)
        .stderr_has(&["is not empty", "--force"]);
    absent
        .run(&["new", "server", "1bad"])
        .failed_with(1)
        .stderr_has(&["invalid project name"]);
    absent
        .run(&["new", "server", "MyServer", "--lang", "typescript"])
        .failed_with(1)
        .stderr_has(&["invalid project name", "npm package names are lower case"]);
    // Without an instance, the defaults are used and the user is told so.
    let fresh = tempfile::tempdir().unwrap();
    let created = absent
        .run(&[
            "new",
            "server",
            "fresh",
            "--dir",
            fresh.path().join("p").to_str().unwrap(),
        ])
        .ok();
    assert!(
        created.stdout.contains("kcdev's defaults"),
        "{}",
        created.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_the_running_server_too() {
    let server = server().await;
    let report = server.kcdev.run(&["doctor", "--json"]).ok().json();
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["status"] == "pass"), "{report}");
    let server_check = checks.iter().find(|c| c["name"] == "server").unwrap();
    assert!(
        server_check["detail"]
            .as_str()
            .unwrap()
            .contains("tools/list lists 2 tools"),
        "{server_check}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn claude_desktops_bridge_mcp_remote_connects_with_the_printed_config() {
    let server = server().await;
    let cache = tempfile::tempdir().unwrap();
    // It registers itself and prints where the user should log in.
    let log = list_tools_through_mcp_remote(&server.resource, cache.path()).await;
    assert!(log.contains("Connected successfully"), "{log}");
    assert!(
        log.contains("\"whoami\"") && log.contains("\"admin_only\""),
        "tools listed:\n{log}"
    );
    // Keycloak's discovery lists no `none` auth method, so mcp-remote registered confidential.
    let registration = std::fs::read_dir(cache.path().join("mcp-remote-v1"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .ends_with("client_info.json")
                })
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect::<String>()
        })
        .unwrap_or_default();
    assert!(
        registration.contains("client_secret_post"),
        "{registration}"
    );
}

/// The names of the realm's clients whose display name is `name` (a registration's
/// `client_name`): how a test tells that a client it ran did not register.
async fn clients_named(kcdev: &Kcdev, name: &str) -> Vec<String> {
    let admin = kcdev.admin().await;
    admin
        .api()
        .realm_clients_get(REALM, None, None, None, None, None, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|client| client.name.as_deref() == Some(name))
        .filter_map(|client| client.client_id)
        .collect()
}

/// Claude Desktop's bridge as `client-config claude-desktop` configures it by default: the realm's
/// pre-registered client, no registration, and a tool call through the bridge (the proxy itself,
/// spoken to over stdio the way Claude Desktop does).
#[tokio::test(flavor = "multi_thread")]
async fn mcp_remote_with_the_pre_registered_client_calls_a_tool_without_registering() {
    use std::io::{BufRead, BufReader, Write};
    let server = server().await;
    let home = tempfile::tempdir().unwrap();
    let printed = server
        .kcdev
        .run(&["client-config", "claude-desktop", "--json"])
        .ok()
        .json();
    let args: Vec<String> = printed["mcpServers"]["kcdev"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    // Everything after `npx -y mcp-remote@...`: the URL, the port and the options as printed.
    let (url, port) = (&args[2], args[3].parse::<u16>().unwrap());
    assert_eq!(url, &server.resource);
    let probe_name = "kcdev test: must not register";
    let mut command = Command::new(mcp_remote_client().with_file_name("mcp-remote"));
    command
        .args(&args[2..])
        .args([
            "--static-oauth-client-metadata",
            &json!({"client_name": probe_name}).to_string(),
        ])
        .env("MCP_REMOTE_CONFIG_DIR", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut bridge = Watched::spawn(command);
    let authorize_url = log_in_where_mcp_remote_says(&mut bridge, port).await;
    // It sends RFC 8707 `resource`; without the resource-indicators feature Keycloak accepts it
    // and the token still carries both audiences (checked below).
    let resource = url::Url::parse(&authorize_url)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "resource")
        .map(|(_, value)| value.into_owned());
    assert_eq!(resource.as_deref(), Some(server.resource.as_str()));
    bridge.until(|line| line.contains("Proxy established").then_some(()));

    let mut stdin = bridge.child.stdin.take().unwrap();
    let mut stdout = BufReader::new(bridge.child.stdout.take().unwrap());
    let mut rpc = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        if message.get("id").is_none() {
            return Value::Null;
        }
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap_or_else(|_| panic!("not JSON-RPC: {line}"))
    };
    let initialized = rpc(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "kcdev-test", "version": "0"}}}),
    );
    assert!(
        initialized["result"]["serverInfo"].is_object(),
        "{initialized}"
    );
    rpc(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let called = rpc(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}}));
    let identity = &called["result"]["structuredContent"];
    assert_eq!(identity["client"], "kcdev-mcp-remote", "{called}");
    // The same claims a registered client's token carries.
    assert_full_identity(identity, server);
    drop(stdin);
    assert_eq!(
        clients_named(server.kcdev, probe_name).await,
        Vec::<String>::new()
    );
}
