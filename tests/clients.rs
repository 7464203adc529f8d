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
    assert!(
        args.windows(2).any(|w| w
            == [
                "--static-oauth-client-info",
                r#"{"client_id":"kcdev-mcp-remote"}"#
            ]),
        "pre-registered by default: {args:?}"
    );

    // Clients that accept a client id get the realm's pre-registered one by default, and the DCR
    // form on request.
    let dcr = |client: &str| {
        client_config(
            &kcdev,
            home.path(),
            &[
                client,
                "--server-url",
                SERVER,
                "--registration",
                "dcr",
                "--json",
            ],
        )
        .ok()
        .json()
    };
    assert_eq!(
        snippet("claude-code"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE,
            "oauth": {"clientId": "kcdev-claude-code", "callbackPort": 33420}}}})
    );
    assert_eq!(
        dcr("claude-code"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    assert_eq!(
        snippet("inspector"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE,
            "oauth": {"clientId": "kcdev-inspector"}}}})
    );
    assert_eq!(
        dcr("inspector"),
        json!({"mcpServers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    let desktop_dcr = dcr("claude-desktop").to_string();
    assert!(
        !desktop_dcr.contains("static-oauth-client-info"),
        "{desktop_dcr}"
    );
    client_config(
        &kcdev,
        home.path(),
        &["cursor", "--registration", "pre-registered"],
    )
    .failed_with(1)
    .stderr_has(&[
        "Cursor cannot use a pre-registered client",
        "--registration dcr",
    ]);
    assert_eq!(
        snippet("vscode"),
        json!({"servers": {"kcdev": {"type": "http", "url": RESOURCE}}})
    );
    assert_eq!(
        snippet("cursor"),
        json!({"mcpServers": {"kcdev": {"url": RESOURCE}}})
    );
    // Codex needs both callback settings, Gemini CLI its own callback path and named scopes.
    assert_eq!(
        snippet("codex"),
        json!({"mcp_servers": {"kcdev": {"url": RESOURCE, "oauth": {
            "client_id": "kcdev-codex",
            "callback_url": "http://localhost:33422/callback",
            "callback_port": 33422}}}})
    );
    assert_eq!(
        dcr("codex"),
        json!({"mcp_servers": {"kcdev": {"url": RESOURCE}}})
    );
    assert_eq!(
        snippet("gemini-cli"),
        json!({"mcpServers": {"kcdev": {"url": RESOURCE, "type": "http", "oauth": {
            "enabled": true,
            "clientId": "kcdev-gemini-cli",
            "redirectUri": "http://localhost:33423/oauth/callback",
            "scopes": ["openid", "mcp:tools"]}}}})
    );
    let goose = snippet("goose");
    assert_eq!(goose["extensions"]["kcdev"]["type"], "streamable_http");
    assert_eq!(goose["extensions"]["kcdev"]["uri"], RESOURCE);
    assert_eq!(goose["extensions"]["kcdev"]["client_id"], "kcdev-goose");
    assert_eq!(
        snippet("windsurf"),
        json!({"mcpServers": {"kcdev": {"serverUrl": RESOURCE}}})
    );
    assert_eq!(
        snippet("zed"),
        json!({"context_servers": {"kcdev": {"url": RESOURCE}}})
    );
    assert_eq!(
        dcr("gemini-cli"),
        json!({"mcpServers": {"kcdev": {"url": RESOURCE, "type": "http", "oauth": {
            "enabled": true, "scopes": ["openid", "mcp:tools"]}}}})
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
        "--client-id kcdev-inspector --callback-url http://127.0.0.1:6276/oauth/callback",
        "Streamable HTTP",
        "scope mcp:tools",
        "Registration: a pre-registered client kcdev-inspector, the default",
        "--registration dcr",
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
            "claude mcp add --transport http --scope project --client-id kcdev-claude-code --callback-port 33420 kcdev http://localhost:9123/mcp"
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
        "codex",
        "gemini-cli",
        "goose",
        "windsurf",
        "zed",
    ] {
        assert!(list.stdout.contains(client), "{}", list.stdout);
    }
    client_config(&kcdev, home.path(), &["emacs"])
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

/// Codex and Gemini CLI: `--write` finds the file where the client reads it (HOME, or the
/// client's own variable), merges in the file's format keeping the user's comments, and refuses a
/// file that does not parse, naming the line.
#[test]
fn write_uses_each_clients_own_file_and_format() {
    let kcdev = Kcdev::new("write-fmt");
    let home = tempfile::tempdir().unwrap();
    let codex = home.path().join(".codex/config.toml");
    std::fs::create_dir_all(codex.parent().unwrap()).unwrap();
    std::fs::write(
        &codex,
        "# mine\nmodel = \"o3\" # keep\n\n[mcp_servers.other]\ncommand = \"x\"\n",
    )
    .unwrap();
    client_config(
        &kcdev,
        home.path(),
        &["codex", "--server-url", SERVER, "--write"],
    )
    .ok();
    let text = std::fs::read_to_string(&codex).unwrap();
    assert!(
        text.starts_with("# mine\nmodel = \"o3\" # keep\n\n[mcp_servers.other]\n"),
        "{text}"
    );
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(
        parsed["mcp_servers"]["kcdev"]["url"].as_str(),
        Some(RESOURCE)
    );
    assert_eq!(
        parsed["mcp_servers"]["kcdev"]["oauth"]["callback_port"].as_integer(),
        Some(33422)
    );

    // CODEX_HOME moves Codex's directory.
    let codex_home = home.path().join("elsewhere");
    let mut command = kcdev.command(&["client-config", "codex", "--server-url", SERVER, "--write"]);
    command
        .env("HOME", home.path())
        .env("CODEX_HOME", &codex_home)
        .current_dir(home.path());
    kcdev.run_command(command).ok();
    assert!(codex_home.join("config.toml").exists());

    let gemini = home.path().join(".gemini/settings.json");
    std::fs::create_dir_all(gemini.parent().unwrap()).unwrap();
    std::fs::write(&gemini, "{\n  // theme\n  \"theme\": \"Dracula\"\n}\n").unwrap();
    client_config(
        &kcdev,
        home.path(),
        &["gemini-cli", "--server-url", SERVER, "--write"],
    )
    .ok();
    let text = std::fs::read_to_string(&gemini).unwrap();
    assert!(
        text.contains("// theme") && text.contains("kcdev-gemini-cli"),
        "{text}"
    );

    // Claude Code: the user's ~/.claude.json by default (no approval step); the project's
    // .mcp.json on request, with the approval step said.
    let user = client_config(
        &kcdev,
        home.path(),
        &["claude-code", "--server-url", SERVER, "--write"],
    )
    .ok();
    let claude: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".claude.json")).unwrap())
            .unwrap();
    assert_eq!(
        claude["mcpServers"]["kcdev"]["oauth"]["clientId"],
        "kcdev-claude-code"
    );
    assert!(!home.path().join(".mcp.json").exists());
    for fragment in [
        "claude mcp add --transport http --scope user --client-id kcdev-claude-code --callback-port 33420 kcdev http://localhost:9123/mcp",
        "awaiting approval",
        "claude mcp login kcdev",
    ] {
        assert!(
            user.stdout.contains(fragment),
            "{fragment:?}:\n{}",
            user.stdout
        );
    }
    client_config(
        &kcdev,
        home.path(),
        &[
            "claude-code",
            "--server-url",
            SERVER,
            "--scope",
            "project",
            "--write",
        ],
    )
    .ok();
    assert!(home.path().join(".mcp.json").exists());
    client_config(
        &kcdev,
        home.path(),
        &["codex", "--server-url", SERVER, "--scope", "project"],
    )
    .failed_with(1)
    .stderr_has(&["--scope"]);

    let broken = "[mcp_servers\nurl = 1\n";
    std::fs::write(&codex, broken).unwrap();
    client_config(
        &kcdev,
        home.path(),
        &["codex", "--server-url", SERVER, "--write"],
    )
    .failed_with(1)
    .stderr_has(&["config.toml:1 is not valid TOML", "paste the entry by hand"]);
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), broken);
}

/// Every client id `client-config` hands out exists in the real realm, public with PKCE, with
/// exactly the redirect URIs that client sends at the callback port it is given.
#[tokio::test(flavor = "multi_thread")]
async fn pre_registered_clients_exist_in_the_realm_with_their_redirects() {
    let kcdev = kcdev();
    let _read = LOCK.read().await;
    let admin = kcdev.admin().await;
    let mut checked = vec![];
    for client in kcdev::clients::Client::ALL {
        let Some(pre) = client.pre_registered() else {
            continue;
        };
        let found = admin
            .find_client("fastmcp", pre.client_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{client}: {} is not in the realm", pre.client_id));
        assert_eq!(found.public_client, Some(true), "{client}");
        let attributes = found.attributes.clone().unwrap_or_default();
        assert_eq!(
            attributes
                .get("pkce.code.challenge.method")
                .map(String::as_str),
            Some("S256"),
            "{client}"
        );
        let mut redirects = found.redirect_uris.clone().unwrap_or_default();
        redirects.sort();
        let mut expected: Vec<String> = pre.redirect_uris.iter().map(|u| (*u).to_owned()).collect();
        expected.sort();
        assert_eq!(redirects, expected, "{client}");
        checked.push(pre.client_id);
    }
    for client_id in [
        "kcdev-claude-code",
        "kcdev-codex",
        "kcdev-gemini-cli",
        "kcdev-goose",
    ] {
        assert!(checked.contains(&client_id), "{checked:?}");
    }
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
    // Keycloak counts the lifetime from its own clock: a second may have passed.
    let expires_in = response["expires_in"].as_u64().unwrap();
    assert!((3590..=3600).contains(&expires_in), "{response}");
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

/// How many JSON values stdout holds (one object, and nothing else, is the promise of `--json`).
fn json_values(stdout: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_and_json_print_only_what_they_promise() {
    let kcdev = kcdev();
    let _read = LOCK.read().await;
    let home = tempfile::tempdir().unwrap();

    // -q: errors and the data the command exists for; nothing else, on either stream.
    let up = kcdev.run(&["up", "-q"]).ok();
    assert_eq!((up.stdout.as_str(), up.stderr.as_str()), ("", ""), "up -q");
    let status = kcdev.run(&["status", "-q"]).ok();
    assert_eq!((status.stdout.as_str(), status.stderr.as_str()), ("", ""));
    let token = kcdev.run(&["token", "-q"]).ok();
    assert_eq!(token.stderr, "");
    assert_eq!(token.stdout.lines().count(), 1);
    assert_eq!(token.stdout.trim().split('.').count(), 3);
    let snippet = client_config(kcdev, home.path(), &["claude-code", "-q"]).ok();
    assert_eq!(snippet.stderr, "");
    assert_eq!(json_values(&snippet.stdout).len(), 1, "{}", snippet.stdout);
    let env = kcdev.run(&["env", "-q"]).ok();
    assert!(
        env.stdout.lines().all(|line| line.contains('=')),
        "{}",
        env.stdout
    );
    let healthy = kcdev.run(&["doctor", "-q"]).ok();
    assert_eq!((healthy.stdout.as_str(), healthy.stderr.as_str()), ("", ""));
    let absent = Kcdev::new("quietdoctor");
    let faults = absent.run(&["doctor", "-q"]).failed_with(1);
    assert!(
        !faults.stdout.is_empty()
            && faults
                .stdout
                .lines()
                .all(|l| l.starts_with("FAIL ") || l.starts_with("  fix: ")),
        "doctor -q shows only the faults:\n{}",
        faults.stdout
    );

    // --json: one JSON value on stdout, for every command that reports.
    for args in [
        &["up", "--json"][..],
        &["status", "--json"],
        &["token", "--json"],
        &["env", "--json"],
        &["logs", "--tail", "5", "--json"],
        &["client-config", "--list", "--json"],
        &["doctor", "--json"],
    ] {
        let run = kcdev.run(args);
        assert!(
            run.code == 0 || args[0] == "doctor",
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            json_values(&run.stdout).len(),
            1,
            "{args:?}:\n{}",
            run.stdout
        );
    }
    let cfg = client_config(kcdev, home.path(), &["cursor", "--json"]).ok();
    assert_eq!(json_values(&cfg.stdout).len(), 1);
    let mut new = kcdev.command(&["new", "server", "demo", "--json"]);
    new.current_dir(home.path());
    let new = kcdev.run_command(new).ok();
    assert_eq!(json_values(&new.stdout).len(), 1, "{}", new.stdout);
    // An error under --json is one object too.
    let failed = kcdev
        .run(&["token", "--password", "wrong", "--json"])
        .failed_with(1);
    assert!(json_values(&failed.stdout)[0]["error"]["message"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn env_prints_what_the_server_reads_for_dotenv_and_the_shell() {
    let kcdev = kcdev();
    let _read = LOCK.read().await;
    let issuer = format!("{}/realms/fastmcp", kcdev.base_url());
    let dotenv = kcdev.run(&["env"]).ok().stdout;
    assert_eq!(
        dotenv,
        format!(
            "KEYCLOAK_REALM_URL={issuer}\nKEYCLOAK_JWKS_URI={issuer}/protocol/openid-connect/certs\n\
             MCP_SERVER_URL={SERVER}\nMCP_AUDIENCE={RESOURCE}\nMCP_REQUIRED_SCOPES=mcp:tools\nMCP_OPTIONAL_SCOPES=mcp:admin\n"
        )
    );
    let json = kcdev.run(&["env", "--json"]).ok().json();
    assert_eq!(json["KEYCLOAK_REALM_URL"], issuer);
    assert_eq!(json["MCP_AUDIENCE"], RESOURCE);
    // `eval "$(kcdev env --export)"` sets them in a shell.
    let script = format!(
        "eval \"$('{}' env --export)\" && printf '%s|%s' \"$KEYCLOAK_REALM_URL\" \"$MCP_SERVER_URL\"",
        env!("CARGO_BIN_EXE_kcdev")
    );
    let mut shell = std::process::Command::new("sh");
    shell
        .args(["-c", &script])
        .env("KCDEV_INSTANCE", &kcdev.instance)
        .env("XDG_STATE_HOME", kcdev.state_home());
    let out = kcdev.run_command(shell).ok();
    assert_eq!(out.stdout, format!("{issuer}|{SERVER}"));
}

#[test]
fn completions_for_every_shell() {
    let kcdev = Kcdev::new("complete");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kcdev"),
        ("fish", "complete -c kcdev"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[kcdev]"),
    ] {
        let run = kcdev.run(&["completions", shell]).ok();
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..200.min(run.stdout.len())]
        );
        assert!(
            run.stdout.contains("client-config"),
            "{shell} completes the commands"
        );
    }
}
