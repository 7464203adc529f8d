//! `kcdev client-config`, `kcdev token` and `kcdev doctor`: each client's output parses and
//! points at the server; `--write` merges safely; tokens come from the real realm; doctor names
//! the actual fault in broken setups.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::Path;

use bollard::query_parameters::StopContainerOptionsBuilder;
use common::{Kcdev, docker, shared};
use serde_json::{Value, json};
use tokio::sync::RwLock;

const SERVER: &str = "http://localhost:9123";
const RESOURCE: &str = "http://localhost:9123/mcp";

static LOCK: RwLock<()> = RwLock::const_new(());

fn kcdev() -> &'static Kcdev {
    shared("clients", &["--server-url", SERVER])
}

/// `kcdev client-config` with a private HOME and working directory.
fn client_config(kcdev: &Kcdev, home: &Path, args: &[&str]) -> common::Run {
    let mut full = vec!["client-config"];
    full.extend_from_slice(args);
    let mut command = kcdev.command(&full);
    command.env("HOME", home).current_dir(home);
    kcdev.run_command(command)
}

#[test]
fn every_client_gets_a_config_that_parses_and_points_at_the_server() {
    let kcdev = Kcdev::new("cfg");
    let home = tempfile::tempdir().unwrap();
    let snippet = |client: &str| {
        client_config(
            &kcdev,
            home.path(),
            &[client, "--server-url", SERVER, "--json"],
        )
        .ok()
        .json()
    };

    let desktop = snippet("claude-desktop");
    let args: Vec<&str> = desktop["mcpServers"]["kcdev"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(desktop["mcpServers"]["kcdev"]["command"], "npx");
    assert_eq!(
        &args[..4],
        ["-y", "mcp-remote@0.15.1", RESOURCE, "3334"],
        "pinned bridge, callback port right after the URL"
    );
    assert!(args.windows(2).any(|w| w == ["--transport", "http-only"]));

    assert_eq!(
        snippet("claude-code"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    assert_eq!(
        snippet("inspector"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    assert_eq!(
        snippet("vscode"),
        json!({"servers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    assert_eq!(
        snippet("cursor"),
        json!({"mcpServers": {"kcdev": {"url": RESOURCE}}})
    );

    let named = client_config(
        &kcdev,
        home.path(),
        &[
            "vscode",
            "--server-url",
            SERVER,
            "--name",
            "notes",
            "--json",
        ],
    )
    .ok()
    .json();
    assert!(named["servers"]["notes"].is_object());

    let inspector = client_config(&kcdev, home.path(), &["inspector", "--server-url", SERVER]).ok();
    for fragment in [
        "npx -y @modelcontextprotocol/inspector@2.12.0",
        "--cli --transport http --server-url http://localhost:9123/mcp",
        "Streamable HTTP",
        "scope mcp:tools",
        "testuser / password123",
        "----------8<----------",
    ] {
        assert!(
            inspector.stdout.contains(fragment),
            "inspector output lacks {fragment:?}:\n{}",
            inspector.stdout
        );
    }
    let code = client_config(
        &kcdev,
        home.path(),
        &["claude-code", "--server-url", SERVER],
    )
    .ok();
    assert!(
        code.stdout.contains(
            "claude mcp add --transport http --scope project kcdev http://localhost:9123/mcp"
        ),
        "{}",
        code.stdout
    );
    assert!(code.stdout.contains("/mcp"), "{}", code.stdout);
    let desktop_text = client_config(
        &kcdev,
        home.path(),
        &["claude-desktop", "--server-url", SERVER],
    )
    .ok();
    for fragment in [
        "Library/Application Support/Claude/claude_desktop_config.json",
        "Claude/claude_desktop_config.json",
        "Quit Claude Desktop",
    ] {
        assert!(
            desktop_text.stdout.contains(fragment),
            "{fragment:?}:\n{}",
            desktop_text.stdout
        );
    }

    let list = client_config(&kcdev, home.path(), &["--list"]).ok();
    for client in [
        "claude-desktop",
        "claude-code",
        "inspector",
        "vscode",
        "cursor",
    ] {
        assert!(list.stdout.contains(client), "{}", list.stdout);
    }
    client_config(&kcdev, home.path(), &["zed"])
        .failed_with(2)
        .stderr_has(&["claude-desktop"]);
    client_config(
        &kcdev,
        home.path(),
        &["vscode", "--server-url", "localhost:9"],
    )
    .failed_with(1)
    .stderr_has(&["--server-url"]);
}

#[test]
fn write_merges_into_the_real_file_safely() {
    let kcdev = Kcdev::new("write");
    let home = tempfile::tempdir().unwrap();

    // The client's usual file, created in the working directory.
    let created = client_config(
        &kcdev,
        home.path(),
        &["vscode", "--server-url", SERVER, "--write"],
    )
    .ok();
    assert!(
        created.stdout.contains("Wrote .vscode/mcp.json"),
        "{}",
        created.stdout
    );
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".vscode/mcp.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        written,
        json!({"servers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );

    // An existing file: other entries stay, a backup is saved, re-running changes nothing.
    let file = home.path().join("claude_desktop_config.json");
    let original = r#"{"globalShortcut": "Ctrl+Space", "mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}}"#;
    std::fs::write(&file, original).unwrap();
    let path = file.to_str().unwrap();
    let merged = client_config(
        &kcdev,
        home.path(),
        &["claude-desktop", "--server-url", SERVER, "--write", path],
    )
    .ok();
    assert!(
        merged.stdout.contains("previous file saved as"),
        "{}",
        merged.stdout
    );
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(after["globalShortcut"], "Ctrl+Space");
    assert_eq!(after["mcpServers"]["filesystem"]["command"], "npx");
    assert_eq!(after["mcpServers"]["kcdev"]["args"][2], RESOURCE);
    let backup = home.path().join("claude_desktop_config.json.kcdev-backup");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
    let again = client_config(
        &kcdev,
        home.path(),
        &["claude-desktop", "--server-url", SERVER, "--write", path],
    )
    .ok();
    assert!(
        again.stdout.contains("already has this entry"),
        "{}",
        again.stdout
    );
    assert!(
        !home
            .path()
            .join("claude_desktop_config.json.kcdev-backup-1")
            .exists(),
        "no second backup"
    );

    // Not JSON: refused, untouched.
    let broken = home.path().join("broken.json");
    std::fs::write(&broken, "{ \"mcpServers\": { // a comment\n } }").unwrap();
    client_config(
        &kcdev,
        home.path(),
        &[
            "cursor",
            "--server-url",
            SERVER,
            "--write",
            broken.to_str().unwrap(),
        ],
    )
    .failed_with(1)
    .stderr_has(&["is not valid JSON", "paste the entry by hand"]);
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "{ \"mcpServers\": { // a comment\n } }"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_prints_a_test_users_token() {
    let kcdev = kcdev();
    let _read = LOCK.read().await;
    let token = kcdev.run(&["token"]).ok().stdout;
    assert_eq!(token.trim().split('.').count(), 3, "{token}");
    let claims = kcdev.run(&["token", "--decode"]).ok().json();
    let aud: Vec<&str> = claims["aud"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(aud.contains(&RESOURCE) && aud.contains(&SERVER), "{aud:?}");
    assert_eq!(claims["preferred_username"], "testuser");
    assert_eq!(claims["azp"], "kcdev");
    assert!(claims["scope"].as_str().unwrap().contains("mcp:tools"));
    let admin = kcdev
        .run(&["token", "--user", "testadmin", "--decode"])
        .ok()
        .json();
    assert!(
        admin["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"))
    );
    let response = kcdev.run(&["token", "--json"]).ok().json();
    assert_eq!(response["expires_in"], 3600);
    assert_eq!(response["token_type"], "Bearer");
    kcdev
        .run(&["token", "--password", "wrong"])
        .failed_with(1)
        .stderr_has(&["cannot get a token for testuser", "--password"]);
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_a_healthy_setup_and_says_when_no_server_answers() {
    let kcdev = kcdev();
    let _read = LOCK.read().await;
    let report = kcdev.run(&["doctor", "--json"]).ok().json();
    for name in [
        "docker",
        "container",
        "keycloak",
        "realm",
        "registration",
        "login",
    ] {
        assert_eq!(check(&report, name)["status"], "pass", "{name}: {report}");
    }
    let server = check(&report, "server");
    assert_eq!(server["status"], "skip");
    assert!(
        server["detail"]
            .as_str()
            .unwrap()
            .contains("nothing answers at http://localhost:9123/mcp"),
        "{server}"
    );
    // The probe client registered by doctor is gone again.
    let admin = kcdev.admin().await;
    let clients = admin
        .api()
        .realm_clients_get("fastmcp", None, None, Some(1000), None, None, None)
        .await
        .unwrap();
    assert!(
        !clients
            .iter()
            .any(|c| c.name.as_deref() == Some("kcdev doctor"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_names_a_stopped_container() {
    let kcdev = kcdev();
    let _write = LOCK.write().await;
    let container = format!("kcdev-{}-keycloak", kcdev.instance);
    docker()
        .stop_container(
            &container,
            Some(StopContainerOptionsBuilder::default().t(10).build()),
        )
        .await
        .unwrap();
    let run = kcdev.run(&["doctor"]).failed_with(1);
    assert!(
        run.stdout
            .contains(&format!("FAIL container     {container} is exited")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("`kcdev up --instance"),
        "{}",
        run.stdout
    );
    let report = kcdev.run(&["doctor", "--json"]).failed_with(1).json();
    assert_eq!(check(&report, "login")["status"], "skip");
    kcdev.up(&[]);
    kcdev.run(&["doctor"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_names_a_trusted_host_policy_deleted_behind_kcdevs_back() {
    let kcdev = kcdev();
    let _write = LOCK.write().await;
    let admin = kcdev.admin().await;
    let policies = admin
        .api()
        .realm_components_get("fastmcp", None, None, Some("trusted-hosts".into()), None)
        .await
        .unwrap();
    for policy in policies {
        admin
            .api()
            .realm_components_with_id_delete("fastmcp", policy.id.as_deref().unwrap())
            .await
            .unwrap();
    }
    let report = kcdev.run(&["doctor", "--json"]).failed_with(1).json();
    let realm = check(&report, "realm");
    assert_eq!(realm["status"], "fail");
    assert!(
        realm["detail"]
            .as_str()
            .unwrap()
            .contains("create registration policy Trusted Hosts"),
        "{realm}"
    );
    assert!(
        realm["hint"].as_str().unwrap().contains("kcdev up"),
        "{realm}"
    );
    kcdev.up(&[]);
    assert_eq!(
        check(&kcdev.run(&["doctor", "--json"]).ok().json(), "realm")["status"],
        "pass"
    );
}
