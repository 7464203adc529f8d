//! The realm as code: a project's `kcdev.toml` against the real Keycloak. Declared scopes,
//! roles, groups, users and claims reach real tokens; a second `up` writes nothing; drift is
//! repaired; taking something out of the file removes exactly what kcdev made from it; objects
//! made by hand survive; a bad file is refused before anything changes.
//!
//! All tests share one Keycloak; each takes the lock and brings the realm to its own file first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::{Path, PathBuf};

use common::fastmcp::FastMcpServer;
use common::oauth::{audiences, realm_roles};
use common::{Kcdev, free_port, run_interop_script, shared};
use keycloak::types::{ClientScopeRepresentation, GroupRepresentation, RoleRepresentation};
use serde_json::{Value, json};
use tokio::sync::Mutex;

static LOCK: Mutex<()> = Mutex::const_new(());

fn kcdev() -> &'static Kcdev {
    shared("project", &[])
}

const NOTES: &str = r#"
[realm]
name = "notes"
access_token_lifespan = "30m"

[[servers]]
url = "http://localhost:8000"
audiences = ["notes-api"]
scopes = ["notes:read", "notes:write"]

[scopes."notes:read"]
description = "Read notes"
assigned = "default"
[scopes."notes:write"]
assigned = "optional"
roles = ["editor"]

[roles.editor]
description = "May change notes"

[groups.acme]
roles = ["editor"]
attributes = { tenant = "acme" }

[[users]]
username = "alice"
password = "alice-pass"
email = "alice@example.com"
roles = ["editor"]
groups = ["acme"]
attributes = { tenant = "acme" }

[[users]]
username = "bob"
password_env = "KCDEV_TEST_BOB_PASSWORD"
groups = ["acme"]

[claims.tenant]
user_attribute = "tenant"

[claims.stage]
value = "dev"
"#;

/// `NOTES` without bob, the group, the `stage` claim, `notes:write` and its role.
const NOTES_SMALLER: &str = r#"
[realm]
name = "notes"
access_token_lifespan = "30m"

[[servers]]
url = "http://localhost:8000"
audiences = ["notes-api"]
scopes = ["notes:read"]

[scopes."notes:read"]
description = "Read notes"

[[users]]
username = "alice"
password = "alice-pass"
email = "alice@example.com"
attributes = { tenant = "acme" }

[claims.tenant]
user_attribute = "tenant"
"#;

struct Project {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

fn project(text: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kcdev.toml");
    std::fs::write(&file, text).unwrap();
    Project { _dir: dir, file }
}

/// `kcdev ARGS --config FILE` on the shared instance, with bob's password in the environment.
fn run_with(kcdev: &Kcdev, file: &Path, args: &[&str]) -> common::Run {
    let mut command = kcdev.command(args);
    command
        .arg("--config")
        .arg(file)
        .env("KCDEV_TEST_BOB_PASSWORD", "bob-pass");
    kcdev.run_command(command)
}

fn up(kcdev: &Kcdev, file: &Path) -> Value {
    run_with(kcdev, file, &["up", "--json"]).ok().json()
}

fn token(kcdev: &Kcdev, file: &Path, user: &str, scope: Option<&str>) -> Value {
    let mut args = vec!["token", "--user", user, "--decode"];
    if let Some(scope) = scope {
        args.extend(["--scope", scope]);
    }
    run_with(kcdev, file, &args).ok().json()
}

fn scopes_of(claims: &Value) -> Vec<String> {
    claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

async fn role_names(kcdev: &Kcdev, realm: &str) -> Vec<String> {
    kcdev
        .admin()
        .await
        .api()
        .realm_roles_get(realm, Some(true), None, Some(1000), None)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|role| role.name)
        .collect()
}

async fn scope_names(kcdev: &Kcdev, realm: &str) -> Vec<String> {
    kcdev
        .admin()
        .await
        .api()
        .realm_client_scopes_get(realm)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|scope| scope.name)
        .collect()
}

async fn group_names(kcdev: &Kcdev, realm: &str) -> Vec<String> {
    kcdev
        .admin()
        .await
        .api()
        .realm_groups_get(realm, None, None, None, None, None, None, None, None)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|group| group.name)
        .collect()
}

async fn user_exists(kcdev: &Kcdev, realm: &str, username: &str) -> bool {
    kcdev
        .admin()
        .await
        .find_user(realm, username)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_objects_reach_real_tokens_and_a_second_up_writes_nothing() {
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let notes = project(NOTES);
    let first = up(kcdev, &notes.file);
    assert_eq!(first["provisioning"]["realm"], "notes");
    assert_eq!(first["settings"]["realm"], "project-file", "{first}");
    assert_eq!(first["settings"]["declarations"], "project-file");

    let alice = token(kcdev, &notes.file, "alice", Some("notes:write"));
    let aud = audiences(&alice);
    for expected in [
        "notes-api",
        "http://localhost:8000/mcp",
        "http://localhost:8000",
    ] {
        assert!(aud.contains(&expected.to_owned()), "{alice}");
    }
    assert!(
        scopes_of(&alice).contains(&"notes:read".to_owned()),
        "{alice}"
    );
    assert!(
        scopes_of(&alice).contains(&"notes:write".to_owned()),
        "{alice}"
    );
    assert!(
        realm_roles(&alice).contains(&"editor".to_owned()),
        "{alice}"
    );
    assert_eq!(alice["tenant"], "acme", "{alice}");
    assert_eq!(alice["stage"], "dev", "{alice}");
    let lifetime = alice["exp"].as_i64().unwrap() - alice["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 30 * 60, "access_token_lifespan = 30m");

    // bob is in acme (its attribute reaches him through the group) and has no editor role of
    // his own but the group's; his password came from the environment.
    let bob = token(kcdev, &notes.file, "bob", Some("notes:write"));
    assert_eq!(bob["tenant"], "acme", "{bob}");
    assert!(realm_roles(&bob).contains(&"editor".to_owned()), "{bob}");
    // testuser has no editor role: a scope mapped to roles is Keycloak's to refuse him.
    let testuser = token(kcdev, &notes.file, "testuser", Some("notes:write"));
    assert!(
        !scopes_of(&testuser).contains(&"notes:write".to_owned()),
        "{testuser}"
    );
    assert!(
        scopes_of(&testuser).contains(&"mcp:tools".to_owned()),
        "{testuser}"
    );

    let second = up(kcdev, &notes.file);
    assert_eq!(second["provisioning"]["changes"], json!([]), "{second}");
    run_with(kcdev, &notes.file, &["plan"]).ok();

    let doctor = run_with(kcdev, &notes.file, &["doctor", "--json"]).json();
    let declared = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "declared users")
        .cloned()
        .unwrap_or_else(|| panic!("no declared-users check: {doctor}"));
    assert_eq!(declared["status"], "pass", "{declared}");

    let env = run_with(kcdev, &notes.file, &["env"]).ok().stdout;
    assert!(env.contains("MCP_REQUIRED_SCOPES=notes:read\n"), "{env}");
    assert!(env.contains("MCP_OPTIONAL_SCOPES=notes:write\n"), "{env}");
    assert!(
        env.contains("MCP_AUDIENCE=http://localhost:8000/mcp,notes-api\n"),
        "{env}"
    );

    // A server generated next to the file requires its default scopes, offers its optional
    // ones, and its example step-up tool declares the first of them.
    let generated = tempfile::tempdir().unwrap();
    let dir = generated.path().join("notes-server");
    let dir_arg = dir.to_str().unwrap();
    run_with(
        kcdev,
        &notes.file,
        &["new", "server", "notes-server", "--dir", dir_arg],
    )
    .ok();
    let dotenv = std::fs::read_to_string(dir.join(".env.example")).unwrap();
    assert!(
        dotenv.contains("MCP_REQUIRED_SCOPES=notes:read\n"),
        "{dotenv}"
    );
    assert!(
        dotenv.contains("MCP_OPTIONAL_SCOPES=notes:write\n"),
        "{dotenv}"
    );
    let tools = std::fs::read_to_string(dir.join("src/tools.rs")).unwrap();
    assert!(
        tools.contains("pub const ADMIN_SCOPE: &str = \"notes:write\";"),
        "{tools}"
    );

    let status = run_with(kcdev, &notes.file, &["status"]).ok().stdout;
    assert!(status.contains("realm: kcdev.toml"), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_repaired_and_plan_tells() {
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let notes = project(NOTES);
    up(kcdev, &notes.file);
    let admin = kcdev.admin().await;
    let api = admin.api();
    let alice = admin.find_user("notes", "alice").await.unwrap().unwrap();
    let id = alice.id.clone().unwrap();
    let mut changed = alice.clone();
    changed.attributes = Some(
        [
            ("tenant".to_owned(), vec!["globex".to_owned()]),
            ("kcdev.managed-by".to_owned(), vec!["kcdev.toml".to_owned()]),
        ]
        .into_iter()
        .collect(),
    );
    api.realm_users_with_user_id_put("notes", &id, changed)
        .await
        .unwrap();
    let editor = api
        .realm_roles_with_role_name_get("notes", "editor")
        .await
        .unwrap();
    api.realm_roles_with_role_name_put(
        "notes",
        "editor",
        RoleRepresentation {
            description: Some("changed by hand".to_owned()),
            ..editor
        },
    )
    .await
    .unwrap();
    let plan = run_with(kcdev, &notes.file, &["plan", "--json"]).failed_with(4);
    let plan = plan.json();
    let objects: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|change| change["object"].as_str())
        .collect();
    assert!(objects.contains(&"user alice"), "{plan}");
    assert!(objects.contains(&"realm role editor"), "{plan}");
    up(kcdev, &notes.file);
    assert_eq!(token(kcdev, &notes.file, "alice", None)["tenant"], "acme");
    run_with(kcdev, &notes.file, &["plan"]).ok();
}

/// What leaves the file leaves the realm, if kcdev made it; hand-made objects of the same kinds,
/// and kcdev's own, stay.
#[tokio::test(flavor = "multi_thread")]
async fn removal_from_the_file_removes_exactly_what_kcdev_made() {
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let notes = project(NOTES);
    up(kcdev, &notes.file);
    let admin = kcdev.admin().await;
    let api = admin.api();
    api.realm_roles_post(
        "notes",
        RoleRepresentation {
            name: Some("by-hand".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    api.realm_client_scopes_post(
        "notes",
        ClientScopeRepresentation {
            name: Some("hand:scope".to_owned()),
            protocol: Some("openid-connect".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    api.realm_groups_post(
        "notes",
        GroupRepresentation {
            name: Some("by-hand-group".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    api.realm_users_post(
        "notes",
        keycloak::types::UserRepresentation {
            username: Some("carol".to_owned()),
            enabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let smaller = project(NOTES_SMALLER);
    let report = up(kcdev, &smaller.file);
    let deleted: Vec<&str> = report["provisioning"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["kind"] == "delete")
        .filter_map(|change| change["object"].as_str())
        .collect();
    for gone in [
        "realm role editor",
        "client scope notes:write",
        "group acme",
        "user bob",
    ] {
        assert!(deleted.contains(&gone), "{gone} not in {deleted:?}");
    }
    let roles = role_names(kcdev, "notes").await;
    assert!(!roles.contains(&"editor".to_owned()), "{roles:?}");
    for kept in ["by-hand", "user", "admin"] {
        assert!(roles.contains(&kept.to_owned()), "{kept}: {roles:?}");
    }
    let scopes = scope_names(kcdev, "notes").await;
    assert!(!scopes.contains(&"notes:write".to_owned()), "{scopes:?}");
    for kept in ["hand:scope", "notes:read", "mcp:tools", "mcp:admin"] {
        assert!(scopes.contains(&kept.to_owned()), "{kept}: {scopes:?}");
    }
    let groups = group_names(kcdev, "notes").await;
    assert_eq!(groups, ["by-hand-group"]);
    assert!(!user_exists(kcdev, "notes", "bob").await);
    assert!(user_exists(kcdev, "notes", "carol").await);
    assert!(user_exists(kcdev, "notes", "alice").await);
    assert!(user_exists(kcdev, "notes", "testuser").await);
    let alice = token(kcdev, &smaller.file, "alice", None);
    assert!(
        alice.get("stage").is_none(),
        "the stage claim left the file: {alice}"
    );
    assert!(
        !realm_roles(&alice).contains(&"editor".to_owned()),
        "{alice}"
    );
    run_with(kcdev, &smaller.file, &["plan"]).ok();

    // Put back for the other tests; the hand-made ones go by hand.
    up(kcdev, &notes.file);
    let carol = admin.find_user("notes", "carol").await.unwrap().unwrap();
    api.realm_users_with_user_id_delete("notes", &carol.id.unwrap())
        .await
        .unwrap();
    api.realm_roles_with_role_name_delete("notes", "by-hand")
        .await
        .unwrap();
}

/// Every bad file is refused with its line, column and fix, before Docker or Keycloak is
/// touched: no container, no volume, no state; and an instance that is up keeps its state.
#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_refused_with_nothing_changed() {
    let cases: &[(&str, &str)] = &[
        (
            "[realm]\nnmae = \"x\"\n",
            "kcdev.toml:2:1: unknown field `nmae`",
        ),
        (
            "[[users]]\nusername = \"ann\"\npassword = \"p\"\nroles = [\"editr\"]\n",
            "kcdev.toml:4:10: user ann has role \"editr\", which is not declared",
        ),
        (
            "[[users]]\nusername = \"ann\"\npassword = \"p\"\ngroups = [\"acme\"]\n",
            "kcdev.toml:4:11: user ann is in group \"acme\"",
        ),
        (
            "[[servers]]\nurl = \"http://localhost:8000\"\nscopes = [\"api:read\"]\n",
            "kcdev.toml:3:11: server http://localhost:8000 lists scope \"api:read\"",
        ),
        (
            "[[users]]\nusername = \"ann\"\npassword = \"p\"\n[[users]]\nusername = \"ann\"\npassword = \"q\"\n",
            "kcdev.toml:5:12: user ann is declared twice",
        ),
        (
            "[[users]]\nusername = \"ann\"\npassword = \"\"\n",
            "kcdev.toml:3:12: user ann has an empty password",
        ),
        (
            "[claims.tenant]\nuser_attribute = \"tenant\"\n",
            "kcdev.toml:2:18: claim tenant reads attribute \"tenant\", which no declared user or group has",
        ),
    ];
    for (text, message) in cases {
        let fresh = Kcdev::new("bad-file");
        let file = project(text);
        let mut args: Vec<String> = fresh.up_flags();
        args.push("--config".to_owned());
        args.push(file.file.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = fresh.run(&args).failed_with(1);
        run.stderr_has(&[message, "hint: "]);
        fresh.assert_nothing_created().await;
    }
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let notes = project(NOTES);
    up(kcdev, &notes.file);
    let state = std::fs::read(kcdev.state_path()).unwrap();
    let bad = project("[[users]]\nusername = \"ann\"\npassword = \"\"\n");
    run_with(kcdev, &bad.file, &["up"]).failed_with(1);
    assert_eq!(std::fs::read(kcdev.state_path()).unwrap(), state);
    run_with(kcdev, &notes.file, &["plan"]).ok();
}

/// `export` writes what the file declares, passwords as placeholders (one from the environment
/// without its value).
#[tokio::test(flavor = "multi_thread")]
async fn export_carries_the_declarations() {
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let notes = project(NOTES);
    up(kcdev, &notes.file);
    let export = run_with(kcdev, &notes.file, &["export"]).ok();
    let realm: Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(realm["realm"], "notes");
    assert_eq!(realm["accessTokenLifespan"], 1800);
    assert_eq!(realm["groups"][0]["name"], "acme");
    let user = |name: &str| {
        realm["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|user| user["username"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        user("alice")["credentials"][0]["value"],
        "${KCDEV_PASSWORD_ALICE:alice-pass}"
    );
    assert_eq!(
        user("bob")["credentials"][0]["value"],
        "${KCDEV_TEST_BOB_PASSWORD}"
    );
    assert_eq!(user("alice")["groups"], json!(["/acme"]));
    assert!(
        realm["clientScopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|scope| scope["name"] == "notes:write")
    );
    assert!(!export.stdout.contains("bob-pass"), "a secret in the file");
}

/// `kcdev init`'s starter declares kcdev's defaults: a realm provisioned without a file plans
/// nothing with it, and `up` with it changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_starter_from_init_changes_nothing() {
    let fresh = Kcdev::new("starter");
    let dir = tempfile::tempdir().unwrap();
    let in_dir = |args: &[&str]| {
        let mut command = fresh.command(args);
        command.current_dir(dir.path());
        command
    };
    // The realm as `up` makes it without a file...
    fresh.up(&[]);
    fresh.run_command(in_dir(&["init"])).ok();
    let starter = std::fs::read_to_string(dir.path().join("kcdev.toml")).unwrap();
    assert!(starter.contains("[scopes.\"mcp:tools\"]"), "{starter}");
    fresh
        .run_command(in_dir(&["init"]))
        .failed_with(1)
        .stderr_has(&["exists already"]);
    // ...is what the starter declares.
    fresh.run_command(in_dir(&["plan"])).ok();
    let report = fresh.run_command(in_dir(&["up", "--json"])).ok().json();
    assert_eq!(report["provisioning"]["changes"], json!([]), "{report}");
    assert_eq!(
        report["settings"]["declarations"], "project-file",
        "{report}"
    );
}

/// The seed page's "Advanced Configuration": FastMCP's `JWTVerifier` with an audience and required
/// scopes of its own inside `KeycloakAuthProvider`, reached by FastMCP's own OAuth client through
/// dynamic registration, against a realm whose kcdev.toml declares them.
#[tokio::test(flavor = "multi_thread")]
async fn the_fastmcp_pages_advanced_configuration_works() {
    let kcdev = kcdev();
    let _lock = LOCK.lock().await;
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let advanced = project(&format!(
        r#"
[realm]
name = "myrealm"

[[servers]]
url = "{base}"
audiences = ["my-resource-server"]
scopes = ["api:read", "api:write"]

[scopes."api:read"]
[scopes."api:write"]
"#
    ));
    let report = up(kcdev, &advanced.file);
    let issuer = report["realm"]["issuer"].as_str().unwrap().to_owned();
    let _server = FastMcpServer::start_advanced(
        &issuer,
        &base,
        port,
        "my-resource-server",
        &["api:read", "api:write"],
    )
    .await;
    let user = run_interop_script(
        "fastmcp_client.py",
        &[&format!("{base}/mcp"), "testuser", "password123"],
    );
    let scope = user["claims"]["scope"].as_str().unwrap_or_default();
    assert!(
        scope.contains("api:read") && scope.contains("api:write"),
        "{user}"
    );
    // The verifier checks `aud` = my-resource-server and both scopes: the tools answered, one
    // with its own refusal of a user without the admin role.
    assert!(
        audiences(&user["claims"]).contains(&"my-resource-server".to_owned()),
        "{user}"
    );
    assert!(
        user["admin"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("requires admin access"),
        "{user}"
    );
}
