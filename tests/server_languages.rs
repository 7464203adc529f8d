//! `kcdev new server --lang python|typescript` and `kcdev run`, end to end against the real
//! Keycloak, as `tests/server.rs` does for Rust: each generated project passes its own tests and
//! lint; run next to the realm (one instance, one server URL per language) it answers
//! unauthenticated requests with the MCP challenge, serves exact metadata, lets a registered
//! client's users call tools by role and scope, and refuses bad tokens; and real clients (the
//! Python MCP SDK, the TypeScript SDK 2.x, mcp-remote) get through the whole chain and step up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::generated::{RunningServer, TEST_KEY_PEM, add_test_signing_key, generate_in};
use common::mcp::Mcp;
use common::mcp_remote::list_tools_through_mcp_remote;
use common::{Kcdev, at_exit, free_port, oauth, run_interop_script, shared, step_up};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const REALM: &str = "fastmcp";
const PASSWORD: &str = "password123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Python,
    TypeScript,
}

impl Lang {
    const ALL: [Self; 2] = [Self::Python, Self::TypeScript];

    fn flag(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::TypeScript => "typescript",
        }
    }

    fn project(self) -> &'static str {
        match self {
            Self::Python => "e2e-python",
            Self::TypeScript => "e2e-typescript",
        }
    }
}

struct Server {
    lang: Lang,
    dir: PathBuf,
    /// What `kcdev run` showed on stderr.
    log: PathBuf,
    base: String,
    resource: String,
}

struct Servers {
    kcdev: &'static Kcdev,
    test_kid: String,
    servers: Vec<Server>,
}

impl Servers {
    fn each(&self) -> impl Iterator<Item = &Server> {
        self.servers.iter()
    }
}

async fn servers() -> &'static Servers {
    static SERVERS: OnceCell<Servers> = OnceCell::const_new();
    SERVERS
        .get_or_init(|| async {
            let bases: Vec<String> = Lang::ALL
                .iter()
                .map(|_| format!("http://localhost:{}", free_port()))
                .collect();
            let mut up = Vec::new();
            for base in &bases {
                up.extend(["--server-url", base.as_str()]);
            }
            let kcdev = shared("languages", &up);
            let test_kid = add_test_signing_key(kcdev, REALM).await;
            let mut servers = Vec::new();
            let mut running = Vec::new();
            for (lang, base) in Lang::ALL.into_iter().zip(bases) {
                let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
                    "{}-{}",
                    lang.project(),
                    std::process::id()
                ));
                generate_in(kcdev, &dir, lang.project(), lang.flag());
                let log = dir.with_extension("log");
                running
                    .push(RunningServer::start_logged(kcdev, &dir, Some(&base), &base, &log).await);
                servers.push(Server {
                    lang,
                    dir,
                    log,
                    resource: format!("{base}/mcp"),
                    base,
                });
            }
            let running = Mutex::new(running);
            let dirs: Vec<PathBuf> = servers.iter().map(|s| s.dir.clone()).collect();
            at_exit(move || {
                running.lock().unwrap().clear();
                for dir in &dirs {
                    let _ = std::fs::remove_dir_all(dir);
                    let _ = std::fs::remove_file(dir.with_extension("log"));
                }
            });
            Servers {
                kcdev,
                test_kid,
                servers,
            }
        })
        .await
}

fn metadata_url(server: &Server) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp", server.base)
}

fn run_in(dir: &Path, program: &Path, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
    assert!(
        status.success(),
        "{} {args:?} failed in {}",
        program.display(),
        dir.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_generated_project_passes_its_own_tests_and_lint() {
    let servers = servers().await;
    for server in servers.each() {
        match server.lang {
            // `kcdev run` made the virtual environment, with the dev tools.
            Lang::Python => {
                let bin = server.dir.join(".venv/bin");
                run_in(&server.dir, &bin.join("pytest"), &["-q"]);
                run_in(&server.dir, &bin.join("ruff"), &["check", "."]);
                run_in(&server.dir, &bin.join("ruff"), &["format", "--check", "."]);
            }
            Lang::TypeScript => {
                run_in(&server.dir, Path::new("npm"), &["test"]);
                run_in(&server.dir, Path::new("npm"), &["run", "lint"]);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_requests_get_the_challenge_and_metadata_is_exact() {
    let servers = servers().await;
    let issuer = format!("{}/realms/{REALM}", servers.kcdev.base_url());
    for server in servers.each() {
        let response = Mcp::new(&server.resource, None)
            .post(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}))
            .await;
        assert_eq!(response.status(), 401, "{:?}", server.lang);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        let expected = match server.lang {
            Lang::Python => format!(
                "Bearer scope=\"mcp:tools\", resource_metadata=\"{}\"",
                metadata_url(server)
            ),
            // The SDK's middleware names an error even when no token was sent.
            Lang::TypeScript => format!(
                "Bearer error=\"invalid_token\", error_description=\"Missing Authorization header\", scope=\"mcp:tools\", resource_metadata=\"{}\"",
                metadata_url(server)
            ),
        };
        assert_eq!(challenge, expected);

        let mut document = json!({
            "resource": server.resource,
            "authorization_servers": [issuer],
            "scopes_supported": ["mcp:tools", "mcp:admin"],
            "bearer_methods_supported": ["header"],
        });
        if server.lang == Lang::TypeScript {
            document["resource_name"] = json!(server.lang.project());
        }
        let served: Value = reqwest::get(metadata_url(server))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(served, document, "{:?}", server.lang);
    }
}

async fn real_token(servers: &Servers, user: &str) -> String {
    oauth::mcp_client_login(servers.kcdev, REALM, user)
        .await
        .access_token
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_client_logs_in_and_calls_tools_by_role() {
    let servers = servers().await;
    let plain_token = real_token(servers, "testuser").await;
    let stepped_up = |user: &str| servers.kcdev.token_with_scope(user, "mcp:admin");
    let user_token = stepped_up("testuser");
    let admin_token = stepped_up("testadmin");
    let admin = servers.kcdev.admin().await;
    let testuser = admin.find_user(REALM, "testuser").await.unwrap().unwrap();
    for server in servers.each() {
        let lang = server.lang;
        let mut user = Mcp::new(&server.resource, Some(plain_token.clone()));
        let init = user.initialize().await;
        assert_eq!(init["result"]["serverInfo"]["name"], lang.project());
        let tools = user.request("tools/list", json!({})).await;
        let mut names: Vec<&str> = tools["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["admin_only", "whoami"], "{lang:?}");
        let whoami = user.call_tool("whoami").await;
        let identity = &whoami["result"]["structuredContent"];
        assert_eq!(identity["username"], "testuser", "{lang:?}: {whoami}");
        assert_eq!(identity["subject"], testuser.id.as_deref().unwrap());
        assert!(
            identity["audience"]
                .as_array()
                .unwrap()
                .contains(&json!(server.resource)),
            "{lang:?}: {identity}"
        );
        assert!(
            identity["realm_roles"]
                .as_array()
                .unwrap()
                .contains(&json!("user"))
        );
        // `admin_only` needs `mcp:admin`, which a token asked for with `mcp:tools` lacks: 403
        // before the tool runs, naming every scope the call needs (step-up).
        let call_admin_only = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "admin_only", "arguments": {}}});
        let refused = user.post(&call_admin_only).await;
        assert_eq!(refused.status(), 403, "{lang:?}");
        let header = refused.headers()["www-authenticate"].to_str().unwrap();
        assert_eq!(
            header,
            format!(
                "Bearer error=\"insufficient_scope\", error_description=\"missing scope mcp:admin\", scope=\"mcp:tools mcp:admin\", resource_metadata=\"{}\"",
                metadata_url(server)
            ),
            "{lang:?}"
        );
        // `tools/list` shows the declaration as the Rust server does.
        let admin_only = tools["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|tool| tool["name"] == "admin_only")
            .unwrap();
        assert_eq!(
            admin_only["_meta"]["kcdev/requiredScopes"],
            json!(["mcp:admin"]),
            "{lang:?}: {admin_only}"
        );

        // With the scope (`kcdev token --scope mcp:admin`): the role decides, inside the tool.
        let mut user = Mcp::new(&server.resource, Some(user_token.clone()));
        user.initialize().await;
        let denied = user.call_tool("admin_only").await;
        assert_eq!(denied["result"]["isError"], true, "{lang:?}: {denied}");

        let mut admin_user = Mcp::new(&server.resource, Some(admin_token.clone()));
        admin_user.initialize().await;
        let allowed = admin_user.call_tool("admin_only").await;
        assert_ne!(allowed["result"]["isError"], true, "{lang:?}: {allowed}");
        assert!(
            allowed["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("testadmin")
        );
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_are_refused() {
    let servers = servers().await;
    let issuer = format!("{}/realms/{REALM}", servers.kcdev.base_url());
    let resources: Vec<&str> = servers.each().map(|s| s.resource.as_str()).collect();
    let claims = |changes: Value| {
        let mut claims = json!({
            "iss": issuer, "aud": resources, "sub": "minted-user",
            "preferred_username": "minted", "azp": "minted-client", "typ": "Bearer",
            "iat": now(), "exp": now() + 300, "scope": "openid mcp:tools",
            "realm_access": {"roles": ["user"]},
        });
        for (key, value) in changes.as_object().unwrap() {
            claims[key] = value.clone();
        }
        claims
    };
    let mint = |claims: &Value| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(servers.test_kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(TEST_KEY_PEM).unwrap(),
        )
        .unwrap()
    };
    let real = real_token(servers, "testuser").await;
    let parts: Vec<&str> = real.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["realm_access"]["roles"] = json!(["user", "admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        parts[1]
    );
    // Each refusal is one line of the server's log that `kcdev run` shows, saying why.
    let cases = [
        (
            "well-formed (the minted key is good)",
            mint(&claims(json!({}))),
            200,
            "",
        ),
        (
            "expired",
            mint(&claims(json!({"exp": now() - 600}))),
            401,
            "token refused: expired",
        ),
        (
            "wrong audience",
            mint(&claims(json!({"aud": "account"}))),
            401,
            "token refused: audience",
        ),
        (
            "wrong issuer",
            mint(&claims(
                json!({"iss": format!("{}/realms/elsewhere", servers.kcdev.base_url())}),
            )),
            401,
            "token refused: issuer",
        ),
        ("alg none", alg_none, 401, "token refused: "),
        (
            "tampered payload",
            tampered,
            401,
            "token refused: bad signature",
        ),
        (
            "scope missing",
            mint(&claims(json!({"scope": "openid profile"}))),
            403,
            "token refused: missing scope mcp:tools",
        ),
    ];
    for server in servers.each() {
        for (case, token, status, logged) in &cases {
            let logged_before = std::fs::read_to_string(&server.log)
                .unwrap_or_default()
                .len();
            let response = Mcp::new(&server.resource, Some(token.clone()))
                .post(
                    &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                        "protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "kcdev-tests", "version": "0"}
                    }}),
                )
                .await;
            let lang = server.lang;
            assert_eq!(response.status().as_u16(), *status, "{lang:?}: {case}");
            if *status == 200 {
                continue;
            }
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            let error = if *status == 403 {
                "insufficient_scope"
            } else {
                "invalid_token"
            };
            assert!(
                challenge.starts_with(&format!("Bearer error=\"{error}\"")),
                "{lang:?}: {case}: {challenge}"
            );
            assert!(
                challenge.contains(&format!("resource_metadata=\"{}\"", metadata_url(server))),
                "{lang:?}: {case}: {challenge}"
            );
            let line = logged_line(server, logged_before, logged).await;
            let signature = token.rsplit('.').next().filter(|part| !part.is_empty());
            assert!(
                !line.contains(token.as_str()) && signature.is_none_or(|part| !line.contains(part)),
                "{lang:?}: {case}: the log shows the token: {line}"
            );
        }
    }
}

/// The first line `kcdev run` showed after `offset` bytes of the server's log that contains
/// `fragment`, waiting a little for it (a server may log after it answered).
async fn logged_line(server: &Server, offset: usize, fragment: &str) -> String {
    for _ in 0..50 {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        if let Some(line) = log
            .get(offset..)
            .and_then(|new| new.lines().find(|line| line.contains(fragment)))
        {
            return line.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    panic!(
        "{:?}: no line with {fragment:?} in the server's log:\n{}",
        server.lang,
        log.get(offset..).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_mcp_sdk_connects_to_each_through_the_whole_chain() {
    let servers = servers().await;
    for server in servers.each() {
        let result = run_interop_script(
            "mcp_sdk_client.py",
            &[
                &server.resource,
                "testuser",
                PASSWORD,
                "--call",
                "whoami",
                "--call",
                "admin_only",
            ],
        );
        let lang = server.lang;
        assert_eq!(result["tools"], json!(["admin_only", "whoami"]), "{lang:?}");
        assert_eq!(result["resource_requested"], server.resource.as_str());
        let identity = &result["calls"]["whoami"]["structured"];
        assert_eq!(identity["username"], "testuser", "{lang:?}: {result}");
        assert!(
            identity["scopes"]
                .as_array()
                .unwrap()
                .contains(&json!("mcp:tools"))
        );
        assert_eq!(result["calls"]["admin_only"]["is_error"], true, "{lang:?}");
    }
}

/// Step-up with real clients against each language's server, as `tests/server.rs` shows for Rust:
/// the Python MCP SDK and the TypeScript SDK 2.x client, with the pre-registered client and after
/// dynamic registration, log `testadmin` in with `mcp:tools`, meet the 403 of `admin_only`,
/// authorize again with `mcp:tools mcp:admin`, and the tool answers.
#[tokio::test(flavor = "multi_thread")]
async fn real_clients_step_up_against_each() {
    let servers = servers().await;
    for server in servers.each() {
        let lang = server.lang;
        for run in step_up::real_clients_step_up(&server.resource, "testadmin", PASSWORD) {
            let (client, result) = (run.client, &run.result);
            let call = &result["calls"]["admin_only"];
            assert_eq!(call["is_error"], false, "{lang:?}, {client}: {result}");
            assert!(
                call["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("testadmin"),
                "{lang:?}, {client}: {result}"
            );
        }
    }
}

/// A project whose toolchain is not installed: `kcdev run` names what to install and stops,
/// with nothing left running.
#[tokio::test(flavor = "multi_thread")]
async fn run_names_the_missing_toolchain() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("no-node");
    generate_in(servers.kcdev, &project, "no-node", "typescript");
    let empty_path = tempfile::tempdir().unwrap();
    let mut command = servers.kcdev.command(&["run", project.to_str().unwrap()]);
    command.env("PATH", empty_path.path());
    servers
        .kcdev
        .run_command(command)
        .failed_with(1)
        .stderr_has(&["cannot start npm", "install Node.js 20 or later"]);
}

/// The TypeScript SDK's own client, in mcp-remote (Claude Desktop's bridge): it registers, logs
/// in and lists the tools of the server written on the same SDK, and of the Python one.
#[tokio::test(flavor = "multi_thread")]
async fn mcp_remote_connects_to_each() {
    let servers = servers().await;
    for server in servers.each() {
        let cache = tempfile::tempdir().unwrap();
        let log = list_tools_through_mcp_remote(&server.resource, cache.path()).await;
        assert!(
            log.contains("Connected successfully"),
            "{:?}: {log}",
            server.lang
        );
        assert!(
            log.contains("\"whoami\"") && log.contains("\"admin_only\""),
            "{:?}: tools listed:\n{log}",
            server.lang
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_each_running_server() {
    let servers = servers().await;
    for server in servers.each() {
        let report = servers
            .kcdev
            .run(&["doctor", "--json", "--server-url", &server.base])
            .ok()
            .json();
        let checks = report["checks"].as_array().unwrap();
        let server_check = checks.iter().find(|c| c["name"] == "server").unwrap();
        assert_eq!(
            server_check["status"], "pass",
            "{:?}: {report}",
            server.lang
        );
        assert!(
            server_check["detail"]
                .as_str()
                .unwrap()
                .contains("tools/list lists 2 tools"),
            "{:?}: {server_check}",
            server.lang
        );
    }
}
