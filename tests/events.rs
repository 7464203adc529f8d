//! `kcdev events` against the real Keycloak, with real clients driven into the failures people
//! report: the Python MCP SDK registering a redirect host the realm does not trust, using a
//! pre-registered client on another callback port, asking for a resource no server has
//! (`invalid_target`), registering a scope the realm lacks, logging in with a Client ID Metadata
//! Document Keycloak cannot fetch and leaving a consent page unanswered; the headless OAuth
//! client stepping up without the scope; mcp-remote refreshing after `--reset-realm` removed its
//! client. `kcdev events --json` must report each with the right client, user, kind and fix; a
//! good DCR login shows as a registration, a login and a token with its scopes; `--follow` shows
//! an event that happens while it runs. Last, `doctor` on a server kcdev does not run, without an
//! admin login, and its pointer to the `kcdev events` line of a failure.
//!
//! One Keycloak for the file (CIMD and resource indicators on); the FastMCP server of the seed
//! page (advanced: audience = its resource URL, as resource indicators make it) and a CIMD
//! document server are shared too. The realm reset holds the realm for itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::fastmcp::{FastMcpServer, python};
use common::mcp_remote::list_tools_through_mcp_remote_on;
use common::{DOC_SERVER, Kcdev, at_exit, free_port, oauth, shared, test_image};
use serde_json::{Value, json};
use tokio::sync::{Mutex, RwLock};

/// The host name of the CIMD document server on the test's Docker network.
const DOCS_HOST: &str = "cimd-docs";

/// Tests hold it shared; the realm reset holds it alone (it deletes every event and client).
static REALM: RwLock<()> = RwLock::const_new(());
static SERVER: Mutex<Option<FastMcpServer>> = Mutex::const_new(None);
static DOCS: Mutex<Option<DocumentServer>> = Mutex::const_new(None);

/// The port of the instance's MCP server (the FastMCP server's).
fn server_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(free_port)
}

fn server_url() -> String {
    format!("http://localhost:{}", server_port())
}

fn resource() -> String {
    format!("{}/mcp", server_url())
}

fn kcdev() -> &'static Kcdev {
    let server = server_url();
    shared(
        "events",
        &[
            "--server-url",
            &server,
            "--resource-indicators",
            "--cimd",
            "--cimd-domain",
            DOCS_HOST,
        ],
    )
}

fn issuer(kcdev: &Kcdev) -> String {
    format!("{}/realms/fastmcp", kcdev.base_url())
}

/// The seed page's FastMCP server at the instance's server URL, started once; its verifier's
/// audience is the resource URL, the one a token asked for with `resource` carries.
async fn ensure_server(kcdev: &Kcdev) {
    let mut server = SERVER.lock().await;
    if server.is_none() {
        *server = Some(start_fastmcp(kcdev, server_port(), &["mcp:tools"]).await);
        at_exit(|| {
            if let Ok(mut server) = SERVER.try_lock() {
                server.take();
            }
        });
    }
}

async fn start_fastmcp(kcdev: &Kcdev, port: u16, scopes: &[&str]) -> FastMcpServer {
    let base = format!("http://localhost:{port}");
    let audience = format!("{base}/mcp");
    FastMcpServer::start_advanced(&issuer(kcdev), &base, port, &audience, scopes).await
}

/// One run of the Python MCP SDK client (`tests/interop/mcp_sdk_client.py`): whether it
/// succeeded, its report (when it did) and its stderr.
struct SdkRun {
    ok: bool,
    report: Value,
    stderr: String,
}

fn python_sdk(url: &str, args: &[&str]) -> SdkRun {
    let output = Command::new(python())
        .arg("mcp_sdk_client.py")
        .args([url, "testuser", "password123"])
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    SdkRun {
        ok: output.status.success(),
        report: serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `kcdev events --json ARGS`, one object per line.
fn events(kcdev: &Kcdev, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["events", "--json", "--limit", "1000"];
    all.extend(args);
    let run = kcdev.run(&all).ok();
    run.stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}\n{}", run.stdout))
        })
        .collect()
}

/// The first entry of `kcdev events --json ARGS` that `wanted` accepts, asking again until it
/// comes (some findings need their grace period to pass).
async fn wait_for_entry(
    kcdev: &Kcdev,
    args: &[&str],
    timeout: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let entries = events(kcdev, args);
        if let Some(found) = entries.iter().find(|entry| wanted(entry)) {
            return found.clone();
        }
        assert!(
            started.elapsed() < timeout,
            "no such entry within {} s; kcdev events {args:?}:\n{}",
            timeout.as_secs(),
            entries
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn text(entry: &Value, key: &str) -> String {
    entry[key].as_str().unwrap_or_default().to_owned()
}

// -- CIMD documents ------------------------------------------------------------------------------

/// The redirect URI of the consent document's client.
fn consent_redirect() -> String {
    static PORT: OnceLock<u16> = OnceLock::new();
    format!("http://localhost:{}/callback", PORT.get_or_init(free_port))
}

fn doc_url(name: &str) -> String {
    format!("http://{DOCS_HOST}:8080/{name}")
}

fn docker(args: &[&str]) {
    let output = Command::new("docker").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The documents' network and server, which the Keycloak container joins; gone at exit.
struct DocumentServer {
    network: String,
    container: String,
    keycloak: String,
}

impl DocumentServer {
    fn start(keycloak: &str) -> Self {
        let network = format!("kcdev-test-events-{}", std::process::id());
        let server = Self {
            container: format!("{network}-docs"),
            network,
            keycloak: keycloak.to_owned(),
        };
        docker(&["network", "create", &server.network]);
        let document = json!({
            "client_id": doc_url("consent.json"),
            "client_name": "kcdev events test (CIMD)",
            "redirect_uris": [consent_redirect()],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        docker(&[
            "run",
            "-d",
            "--name",
            &server.container,
            "--network",
            &server.network,
            "--network-alias",
            DOCS_HOST,
            "--entrypoint",
            "/usr/bin/perl",
            "-e",
            &format!("DOC_consent_json={document}"),
            &test_image(),
            "-e",
            DOC_SERVER,
        ]);
        docker(&["network", "connect", &server.network, keycloak]);
        server
    }
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.container])
            .output();
        let _ = Command::new("docker")
            .args(["network", "disconnect", "-f", &self.network, &self.keycloak])
            .output();
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .output();
    }
}

/// The document server, and a realm that takes its plain-HTTP documents (kcdev admits https
/// only; a realm reset takes the widening away, so every CIMD test applies it).
async fn ensure_documents(kcdev: &Kcdev) {
    {
        let mut docs = DOCS.lock().await;
        if docs.is_none() {
            *docs = Some(DocumentServer::start(&format!(
                "kcdev-{}-keycloak",
                kcdev.instance
            )));
            at_exit(|| {
                if let Ok(mut docs) = DOCS.try_lock() {
                    docs.take();
                }
            });
        }
    }
    let admin = kcdev.admin().await;
    let api = admin.api();
    let mut profiles = api
        .realm_client_policies_profiles_get("fastmcp", Some(false))
        .await
        .unwrap();
    for profile in profiles.profiles.iter_mut().flatten() {
        for executor in profile.executors.iter_mut().flatten() {
            if let Some(configuration) = executor.configuration.as_mut() {
                configuration.insert("cimd-allow-http-scheme".into(), json!(true));
            }
        }
    }
    api.realm_client_policies_profiles_put("fastmcp", profiles)
        .await
        .unwrap();
    let mut policies = api
        .realm_client_policies_policies_get("fastmcp", Some(false))
        .await
        .unwrap();
    for policy in policies.policies.iter_mut().flatten() {
        for condition in policy.conditions.iter_mut().flatten() {
            if let Some(configuration) = condition.configuration.as_mut() {
                configuration.insert("client-id-uri-scheme".into(), json!(["http", "https"]));
            }
        }
    }
    api.realm_client_policies_policies_put("fastmcp", policies)
        .await
        .unwrap();
}

// -- The tests, the slowest first ----------------------------------------------------------------

/// Keycloak records nothing while a consent page waits: the CIMD client it created at the
/// authorization request, and no login after it, say so once a minute has passed.
#[tokio::test(flavor = "multi_thread")]
async fn a_consent_page_nobody_answers_is_a_registration_without_a_login() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    ensure_server(kcdev).await;
    ensure_documents(kcdev).await;
    let client_id = doc_url("consent.json");
    let run = python_sdk(
        &resource(),
        &[
            "--client-metadata-url",
            &client_id,
            "--allow-http-metadata-url",
            "--redirect-uri",
            &consent_redirect(),
            "--leave-consent",
        ],
    );
    assert!(!run.ok, "the login went through: {}", run.report);
    assert!(run.stderr.contains("consent page"), "{}", run.stderr);
    let entry = wait_for_entry(
        kcdev,
        &["--client", &client_id],
        Duration::from_secs(150),
        |entry| entry["problem"] == "login_not_completed",
    )
    .await;
    assert_eq!(entry["type"], "CLIENT_REGISTER", "{entry}");
    assert_eq!(entry["kind"], "failed", "{entry}");
    assert_eq!(entry["registration"], "cimd", "{entry}");
    assert_eq!(entry["client_name"], "kcdev events test (CIMD)", "{entry}");
    assert!(
        entry.get("error").is_none(),
        "Keycloak recorded no error: {entry}"
    );
    assert!(
        text(&entry, "explanation").contains("consent page"),
        "{entry}"
    );
    assert!(
        text(&entry, "fix").contains("Yes on the consent page"),
        "{entry}"
    );
}

/// mcp-remote keeps its registration; after `up --reset-realm` its refresh names a client the
/// realm no longer has, and the fix is to make it forget the registration.
#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_after_the_realm_was_reset_names_the_forgotten_client() {
    let kcdev = kcdev();
    let _realm = REALM.write().await;
    ensure_server(kcdev).await;
    let config = tempfile::tempdir().unwrap();
    // The same callback port both times, so that mcp-remote keeps its registration.
    let port = free_port();
    let log = list_tools_through_mcp_remote_on(&resource(), config.path(), port).await;
    assert!(log.contains("Exiting OK"), "{log}");
    let client_id = stored_client_id(config.path());
    let before = events(kcdev, &["--client", &client_id]);
    let kinds: Vec<&str> = before.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["registered", "logged_in", "got_token"],
        "{before:?}"
    );
    assert_eq!(before[0]["client_name"], "MCP CLI Client", "{before:?}");

    kcdev.run(&["up", "--reset-realm", "--json"]).ok();
    // The FastMCP server knows the old realm's keys: a fresh one reads the new realm's.
    SERVER.lock().await.take();
    ensure_server(kcdev).await;
    let log = list_tools_through_mcp_remote_on(&resource(), config.path(), port).await;
    assert!(log.contains("Exiting OK"), "{log}");
    let entry = wait_for_entry(
        kcdev,
        &["--client", &client_id],
        Duration::from_secs(20),
        |entry| entry["type"] == "REFRESH_TOKEN_ERROR",
    )
    .await;
    assert_eq!(entry["error"], "client_not_found", "{entry}");
    assert_eq!(entry["problem"], "client_gone", "{entry}");
    assert_eq!(entry["registration"], "dcr", "{entry}");
    assert!(
        text(&entry, "explanation").contains("--reset-realm"),
        "{entry}"
    );
    assert!(
        text(&entry, "fix").contains("rm -rf ~/.mcp-auth"),
        "{entry}"
    );
    // It registered again and got in.
    let again = stored_client_id(config.path());
    assert_ne!(again, client_id);
    let after = events(kcdev, &["--client", &again]);
    assert!(after.iter().any(|e| e["kind"] == "got_token"), "{after:?}");
}

/// The client id in mcp-remote's stored registration.
fn stored_client_id(config: &std::path::Path) -> String {
    let file = walk(config)
        .into_iter()
        .find(|path| path.to_string_lossy().ends_with("_client_info.json"))
        .expect("mcp-remote stored its registration");
    let info: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    info["client_id"].as_str().unwrap().to_owned()
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// With resource indicators on, Keycloak refuses the code exchange for an unknown resource and
/// records nothing; the login without a token says it.
#[tokio::test(flavor = "multi_thread")]
async fn a_resource_no_server_has_is_a_login_without_a_token() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    // A server the instance does not know: its resource is none of the realm's.
    let port = free_port();
    let _stranger = start_fastmcp(kcdev, port, &["mcp:tools"]).await;
    let redirect = format!("http://localhost:{}/callback", free_port());
    let run = python_sdk(
        &format!("http://localhost:{port}/mcp"),
        &["--redirect-uri", &redirect],
    );
    assert!(!run.ok, "a token for an unknown resource: {}", run.report);
    assert!(run.stderr.contains("invalid_target"), "{}", run.stderr);
    let entry = wait_for_entry(
        kcdev,
        &["--errors", "--since", "5m"],
        Duration::from_secs(40),
        |entry| {
            entry["problem"] == "token_not_issued" && entry["redirect_uri"] == redirect.as_str()
        },
    )
    .await;
    assert_eq!(entry["type"], "LOGIN", "{entry}");
    assert_eq!(entry["username"], "testuser", "{entry}");
    assert_eq!(entry["registration"], "dcr", "{entry}");
    assert_eq!(
        entry["client_name"], "kcdev interop (Python MCP SDK)",
        "{entry}"
    );
    assert!(
        text(&entry, "explanation").contains("invalid_target"),
        "{entry}"
    );
    assert!(text(&entry, "explanation").contains(&resource()), "{entry}");
    assert!(
        text(&entry, "fix").contains(&format!("--server-url {}", server_url())),
        "{entry}"
    );
}

/// A good DCR login by a real client: a registration, a login and a token with its scopes.
#[tokio::test(flavor = "multi_thread")]
async fn a_dcr_login_is_a_registration_a_login_and_a_token() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    ensure_server(kcdev).await;
    let redirect = format!("http://localhost:{}/callback", free_port());
    let run = python_sdk(&resource(), &["--redirect-uri", &redirect]);
    assert!(run.ok, "{}", run.stderr);
    let client_id = run.report["client_id"].as_str().unwrap().to_owned();
    let entries = events(kcdev, &["--client", &client_id]);
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["registered", "logged_in", "got_token"],
        "{entries:?}"
    );
    for entry in &entries {
        assert_eq!(entry["registration"], "dcr", "{entry}");
        assert_eq!(
            entry["client_name"], "kcdev interop (Python MCP SDK)",
            "{entry}"
        );
        for absent in ["error", "explanation", "fix"] {
            assert!(entry.get(absent).is_none(), "{absent}: {entry}");
        }
    }
    assert_eq!(entries[0]["type"], "CLIENT_REGISTER");
    assert_eq!(entries[1]["username"], "testuser");
    assert_eq!(entries[1]["redirect_uri"], redirect.as_str());
    let token = &entries[2];
    assert_eq!(token["type"], "CODE_TO_TOKEN");
    assert_eq!(token["username"], "testuser", "{token}");
    let scopes: Vec<&str> = token["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(scopes.contains(&"mcp:tools"), "{token}");
    // The same as a timeline for people.
    let timeline = kcdev.run(&["events", "--client", &client_id]).ok().stdout;
    for expected in [
        "registered",
        "logged in",
        "got token",
        "as testuser",
        "mcp:tools",
    ] {
        assert!(timeline.contains(expected), "{expected}: {timeline}");
    }
    assert!(
        timeline.contains("\"kcdev interop (Python MCP SDK)\" (DCR"),
        "{timeline}"
    );
}

/// The Python MCP SDK registering a redirect URI on a host the realm does not trust: the event
/// names only the policy; Keycloak's log names the URI, and the fix trusts its host.
#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_redirect_host_gets_the_flag_that_trusts_it() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    ensure_server(kcdev).await;
    let redirect = format!("http://my-laptop.lan:{}/callback", free_port());
    let run = python_sdk(&resource(), &["--redirect-uri", &redirect]);
    assert!(!run.ok, "registered: {}", run.report);
    let entry = wait_for_entry(
        kcdev,
        &["--errors", "--since", "5m"],
        Duration::from_secs(20),
        |entry| text(entry, "explanation").contains(&redirect),
    )
    .await;
    assert_eq!(entry["type"], "CLIENT_REGISTER_ERROR", "{entry}");
    assert_eq!(entry["error"], "not_allowed", "{entry}");
    assert_eq!(entry["problem"], "untrusted_redirect_host", "{entry}");
    assert_eq!(entry["registration"], "dcr", "{entry}");
    assert!(entry.get("client_id").is_none(), "{entry}");
    assert!(entry.get("username").is_none(), "{entry}");
    assert!(
        text(&entry, "log_line").contains("KC-SERVICES0108"),
        "{entry}"
    );
    assert!(
        text(&entry, "fix").contains("kcdev up --trusted-host my-laptop.lan"),
        "{entry}"
    );
}

/// The Python MCP SDK with kcdev's pre-registered Claude Code client, on another callback port.
#[tokio::test(flavor = "multi_thread")]
async fn a_pre_registered_client_on_another_port_is_told_its_port() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    ensure_server(kcdev).await;
    let redirect = format!("http://localhost:{}/callback", free_port());
    let run = python_sdk(
        &resource(),
        &[
            "--client-id",
            "kcdev-claude-code",
            "--redirect-uri",
            &redirect,
        ],
    );
    assert!(!run.ok, "logged in: {}", run.report);
    let entry = wait_for_entry(
        kcdev,
        &["--client", "kcdev-claude-code", "--errors", "--since", "5m"],
        Duration::from_secs(20),
        |entry| entry["redirect_uri"] == redirect.as_str(),
    )
    .await;
    assert_eq!(entry["type"], "LOGIN_ERROR", "{entry}");
    assert_eq!(entry["error"], "invalid_redirect_uri", "{entry}");
    assert_eq!(entry["problem"], "redirect_uri_mismatch", "{entry}");
    assert_eq!(entry["registration"], "pre-registered", "{entry}");
    assert_eq!(entry["pre_registered_for"], "claude-code", "{entry}");
    assert!(
        text(&entry, "explanation").contains("http://localhost:33420/callback"),
        "{entry}"
    );
    assert!(
        text(&entry, "fix").contains("kcdev client-config claude-code"),
        "{entry}"
    );
}

/// A server that advertises a scope the realm lacks: the SDK registers with it and the Allowed
/// Client Scopes policy refuses; the log names the scope, the fix declares it in kcdev.toml.
#[tokio::test(flavor = "multi_thread")]
async fn a_scope_the_realm_lacks_is_declared_in_kcdev_toml() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    let port = free_port();
    let _notes = start_fastmcp(kcdev, port, &["notes:read"]).await;
    let run = python_sdk(&format!("http://localhost:{port}/mcp"), &[]);
    assert!(!run.ok, "registered: {}", run.report);
    let entry = wait_for_entry(
        kcdev,
        &["--errors", "--since", "5m"],
        Duration::from_secs(20),
        |entry| entry["problem"] == "scope_not_allowed",
    )
    .await;
    assert_eq!(entry["type"], "CLIENT_REGISTER_ERROR", "{entry}");
    assert!(
        text(&entry, "explanation").contains("notes:read"),
        "{entry}"
    );
    assert!(
        text(&entry, "fix").contains("[scopes.\"notes:read\"]"),
        "{entry}"
    );
}

/// A registered client stepping up to a scope it did not register (as on a Keycloak without
/// kcdev's registration provider): `invalid_scope`, told apart from a scope nobody declared.
#[tokio::test(flavor = "multi_thread")]
async fn a_registered_client_stepping_up_without_the_scope_is_told_why() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    let redirect = format!("http://localhost:{}/callback", free_port());
    let client = oauth::register(
        kcdev,
        "fastmcp",
        &oauth::public_client(&redirect, Some("mcp:tools")),
    )
    .await;
    // What Keycloak's own rule gives such a client: the scopes it named, no optional ones.
    let admin = kcdev.admin().await;
    let found = admin
        .find_client("fastmcp", &client.client_id)
        .await
        .unwrap()
        .unwrap();
    let id = found.id.unwrap().to_string();
    let scopes = admin
        .api()
        .realm_client_scopes_get("fastmcp")
        .await
        .unwrap();
    let admin_scope = scopes
        .iter()
        .find(|scope| scope.name.as_deref() == Some("mcp:admin"))
        .and_then(|scope| scope.id.clone())
        .unwrap()
        .to_string();
    admin
        .api()
        .realm_clients_with_client_uuid_optional_client_scopes_with_client_scope_id_delete(
            "fastmcp",
            &id,
            &admin_scope,
        )
        .await
        .unwrap();
    let error = oauth::refused_login(
        kcdev,
        "fastmcp",
        &client,
        "testadmin",
        "openid mcp:tools mcp:admin",
    )
    .await;
    assert_eq!(error, "invalid_scope");
    let entry = wait_for_entry(
        kcdev,
        &["--client", &client.client_id, "--errors"],
        Duration::from_secs(20),
        |entry| entry["type"] == "LOGIN_ERROR",
    )
    .await;
    assert_eq!(entry["problem"], "step_up_refused", "{entry}");
    assert_eq!(entry["registration"], "dcr", "{entry}");
    assert!(text(&entry, "explanation").contains("mcp:admin"), "{entry}");
    assert!(text(&entry, "fix").contains("registers again"), "{entry}");
}

/// A Client ID Metadata Document Keycloak cannot fetch: the event has no client id at all; the
/// log line names the document.
#[tokio::test(flavor = "multi_thread")]
async fn a_cimd_document_keycloak_cannot_fetch_is_named_from_the_log() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    ensure_server(kcdev).await;
    ensure_documents(kcdev).await;
    let missing = doc_url("missing.json");
    let run = python_sdk(
        &resource(),
        &[
            "--client-metadata-url",
            &missing,
            "--allow-http-metadata-url",
            "--redirect-uri",
            &consent_redirect(),
        ],
    );
    assert!(!run.ok, "logged in: {}", run.report);
    let entry = wait_for_entry(
        kcdev,
        &["--client", &missing],
        Duration::from_secs(20),
        |entry| entry["type"] == "LOGIN_ERROR",
    )
    .await;
    assert_eq!(entry["problem"], "cimd_fetch_failed", "{entry}");
    assert_eq!(entry["registration"], "cimd", "{entry}");
    assert_eq!(entry["error"], "invalid_request", "{entry}");
    assert!(text(&entry, "log_line").contains(&missing), "{entry}");
    assert!(
        text(&entry, "explanation").contains("could not fetch"),
        "{entry}"
    );
    assert!(text(&entry, "fix").contains(&missing), "{entry}");
}

/// `--follow` prints an event that happens while it runs, and stops cleanly on Ctrl-C.
#[tokio::test(flavor = "multi_thread")]
async fn follow_shows_an_event_as_it_happens() {
    let kcdev = kcdev();
    let _realm = REALM.read().await;
    let mut command = kcdev.command(&["events", "--follow", "--json", "--since", "1s"]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let lines = |stream: Box<dyn std::io::Read + Send>| -> Receiver<String> {
        let (sender, receiver) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        receiver
    };
    let stdout = lines(Box::new(child.stdout.take().unwrap()));
    let stderr = lines(Box::new(child.stderr.take().unwrap()));
    let note = stderr.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(note.contains("Following new events"), "{note}");

    kcdev.run(&["token", "--user", "testadmin"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    let login = loop {
        let line = stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the login did not show up");
        let entry: Value = serde_json::from_str(&line).unwrap();
        if entry["type"] == "LOGIN" && entry["username"] == "testadmin" {
            break entry;
        }
    };
    assert_eq!(login["kind"], "logged_in", "{login}");
    assert_eq!(login["client_id"], "kcdev", "{login}");
    assert_eq!(login["registration"], "pre-registered", "{login}");

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "--follow did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}

/// On a server kcdev does not run: events only after `up --events`; `doctor` without an admin
/// login runs what needs none and says what it skipped; a failing check names its
/// `kcdev events` line, and that line has the fix.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_without_an_admin_login_and_its_pointer_to_the_events() {
    let keycloak = kcdev();
    let _realm = REALM.read().await;
    let state = keycloak.state();
    let admin = [
        (
            "KCDEV_ADMIN_USERNAME",
            state["admin"]["username"].as_str().unwrap(),
        ),
        (
            "KCDEV_ADMIN_PASSWORD",
            state["admin"]["password"].as_str().unwrap(),
        ),
    ];
    let team = Kcdev::new("events-srv");
    let with_admin = |args: &[&str]| {
        let mut command = team.command(args);
        command.envs(admin);
        team.run_command(command)
    };
    // The URL clients use (a container kcdev runs has it as its hostname: its issuers say so).
    let url = keycloak.base_url();
    let server = format!("http://localhost:{}", free_port());
    let up = [
        "up",
        "--keycloak-url",
        &url,
        "--realm",
        "srv",
        "--server-url",
        &server,
        "--test-users",
        "--anonymous-registration",
        "--json",
    ];
    with_admin(&up).ok();
    // Not asked for: the server's event settings are left alone, and say so.
    let off = with_admin(&["events"]).failed_with(1);
    off.stderr_has(&["records no events", "--events"]);
    let mut opted_in = up.to_vec();
    opted_in.push("--events");
    with_admin(&opted_in).ok();
    assert_eq!(team.state()["realm"]["events"], true);

    // No admin login: discovery, registration, login; the admin checks are skipped, saying why.
    let doctor = team.run(&["doctor", "--json"]).ok().json();
    let status = |name: &str| {
        doctor["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|check| check["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {name}: {doctor}"))
    };
    for name in ["discovery", "registration", "login"] {
        assert_eq!(status(name)["status"], "pass", "{name}: {doctor}");
    }
    for name in ["keycloak", "realm"] {
        assert_eq!(status(name)["status"], "skip", "{name}: {doctor}");
        assert!(
            text(&status(name), "detail").contains("KCDEV_ADMIN_USERNAME"),
            "{doctor}"
        );
    }
    assert_eq!(status("server")["status"], "skip", "{doctor}");
    team.run(&["events"])
        .failed_with(1)
        .stderr_has(&["no admin login", "KCDEV_ADMIN_USERNAME"]);
    // The doctor's own registration and login are in the timeline (its client, deleted since,
    // keeps only its id).
    let timeline = with_admin(&["events", "--json"]).ok();
    let kinds: Vec<Value> = timeline
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["kind"].clone())
        .collect();
    for kind in ["registered", "logged_in", "got_token", "unregistered"] {
        assert!(kinds.contains(&json!(kind)), "{kind}: {}", timeline.stdout);
    }

    // The realm trusts no loopback host any more: registration fails, and doctor points at the
    // events line, which has the fix.
    let api = keycloak.admin().await;
    let components = api
        .api()
        .realm_components_get("srv", Some("Trusted Hosts".into()), None, None, None)
        .await
        .unwrap();
    let mut trusted = components
        .into_iter()
        .find(|component| component.sub_type.as_deref() == Some("anonymous"))
        .unwrap();
    if let Some(config) = trusted.config.as_mut() {
        config.insert("trusted-hosts".into(), vec!["example.org".into()]);
    }
    let id = trusted.id.clone().unwrap().to_string();
    api.api()
        .realm_components_with_id_put("srv", &id, trusted)
        .await
        .unwrap();
    let doctor = team.run(&["doctor", "--json"]).failed_with(1).json();
    let registration = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "registration")
        .unwrap()
        .clone();
    assert_eq!(registration["status"], "fail", "{doctor}");
    let pointer = text(&registration, "events");
    assert!(
        pointer.contains("kcdev events --errors --since 10m"),
        "{doctor}"
    );
    assert!(pointer.contains("CLIENT_REGISTER_ERROR"), "{doctor}");
    let human = team.run(&["doctor"]).failed_with(1).stdout;
    assert!(human.contains("why: `kcdev events"), "{human}");
    let entries = with_admin(&["events", "--json", "--errors", "--since", "5m"]).ok();
    let refused: Value = entries
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|entry| entry["type"] == "CLIENT_REGISTER_ERROR")
        .unwrap_or_else(|| panic!("{}", entries.stdout));
    assert_eq!(refused["problem"], "untrusted_redirect_host", "{refused}");
    // No container log to read: the host is not named, the server's own log is.
    assert!(refused.get("log_line").is_none(), "{refused}");
    let fix = text(&refused, "fix");
    assert!(fix.contains("--trusted-host HOST"), "{refused}");
    assert!(fix.contains("the Keycloak server's log"), "{refused}");
}
