//! Real MCP clients from npm (Claude Code, Codex CLI, Gemini CLI) against the real Keycloak and
//! the generated Rust server: each configured only by `kcdev client-config <client> --write`
//! into a HOME of its own, logged in headlessly on both registration paths (a fake browser fills
//! in Keycloak's form and requests the client's own loopback callback), then connected without a
//! model. They run inside a network namespace with only Keycloak's and the servers' ports bridged
//! in (they phone home), one at a time; what they sent Keycloak is read from the bridge.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::fastmcp::FastMcpServer;
use common::generated::{RunningServer, generate};
use common::netns::NetNs;
use common::session::{Session, on_terminal};
use common::{Kcdev, at_exit, free_port, shared};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const REALM: &str = "fastmcp";
const USER: &str = "testuser";
const PASSWORD: &str = "password123";
/// A bound on every client step: a login that cannot finish fails in this time, not in the
/// clients' own five minutes.
const STEP: Duration = Duration::from_secs(90);

struct Fixture {
    kcdev: &'static Kcdev,
    /// The generated Rust server.
    base: String,
    /// The seed page's FastMCP server.
    fastmcp_base: String,
    namespace: NetNs,
}

async fn fixture() -> &'static Fixture {
    static FIXTURE: OnceCell<Fixture> = OnceCell::const_new();
    FIXTURE
        .get_or_init(|| async {
            let port = free_port();
            let base = format!("http://localhost:{port}");
            let fastmcp_port = free_port();
            let fastmcp_base = format!("http://localhost:{fastmcp_port}");
            // Both servers on the realm: its tokens carry both audiences.
            let kcdev = shared(
                "clis",
                &["--server-url", &base, "--server-url", &fastmcp_base],
            );
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("clis-server-{}", std::process::id()));
            generate(kcdev, &dir);
            let server = RunningServer::start(kcdev, &dir, None, &base).await;
            let issuer = format!("{}/realms/{REALM}", kcdev.base_url());
            let fastmcp = FastMcpServer::start(&issuer, &fastmcp_base, fastmcp_port).await;
            let namespace = NetNs::create("clis");
            for bridged in [kcdev.port, port, fastmcp_port] {
                namespace.bridge(bridged);
            }
            let servers = Mutex::new(Some((server, fastmcp)));
            let namespace_name = namespace.name.clone();
            at_exit(move || {
                remove_namespace(&namespace_name);
                drop(servers.lock().unwrap().take());
                let _ = std::fs::remove_dir_all(&dir);
            });
            Fixture {
                kcdev,
                base,
                fastmcp_base,
                namespace,
            }
        })
        .await
}

fn remove_namespace(name: &str) {
    let pids = Command::new("ip").args(["netns", "pids", name]).output();
    if let Ok(pids) = pids {
        for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).output();
        }
    }
    let _ = Command::new("ip").args(["netns", "delete", name]).output();
}

/// The clients run one at a time: they share the namespace and the machine's two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn node_bin(name: &str) -> String {
    let modules = std::env::var("KCDEV_TEST_NODE_MODULES")
        .expect("KCDEV_TEST_NODE_MODULES is set by scripts/prepare-test-env.sh");
    let path = Path::new(&modules).join(".bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/prepare-test-env.sh",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// The HOME a client runs with: a temporary directory, a fake browser as `xdg-open` and
/// `$BROWSER` on its PATH, and a log of what that browser was asked to open.
struct ClientHome {
    dir: tempfile::TempDir,
    /// Where the client runs (its project directory).
    work: PathBuf,
    browser_log: PathBuf,
}

impl ClientHome {
    fn new(client: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("kcdev-clis-{client}-"))
            .tempdir()
            .unwrap();
        let bin = dir.path().join("bin");
        let work = dir.path().join("project");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        let browser_log = dir.path().join("browser.log");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/fake_browser.mjs"
        );
        let node = which("node");
        // It returns at once, as a browser launcher does; the login goes on in the background
        // (inside the namespace, so the namespace's sweep ends it if it hangs).
        let launcher = format!(
            "#!/bin/sh\n'{node}' '{script}' '{log}' '{USER}' '{PASSWORD}' \"$1\" >>'{log}.out' 2>&1 </dev/null &\nexit 0\n",
            log = browser_log.display(),
        );
        for name in ["xdg-open", "x-www-browser"] {
            let path = bin.join(name);
            std::fs::write(&path, &launcher).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        Self {
            dir,
            work,
            browser_log,
        }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    /// `program args` inside the namespace, in this HOME, from the project directory.
    fn command(&self, namespace: &NetNs, program: &str, args: &[&str]) -> Command {
        let mut command = namespace.command(program);
        command.args(args);
        self.environment(&mut command);
        command
    }

    /// The same on a pseudo-terminal.
    fn terminal(&self, namespace: &NetNs, args: &[&str]) -> Command {
        let mut command = namespace.command("script");
        command.args(on_terminal(args));
        self.environment(&mut command);
        command
    }

    fn environment(&self, command: &mut Command) {
        let bin = self.dir.path().join("bin");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        command
            .current_dir(&self.work)
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", path)
            .env("BROWSER", bin.join("xdg-open"))
            // Clients that only open a browser on a desktop (Gemini CLI) see one.
            .env("DISPLAY", ":0")
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("XDG_STATE_HOME", self.home().join(".local/state"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("TMPDIR", self.home());
    }

    /// What the fake browser logged, one JSON object a step.
    fn browser_steps(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.browser_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The authorization URLs the client opened.
    fn authorization_requests(&self) -> Vec<url::Url> {
        self.browser_steps()
            .iter()
            .filter_map(|step| step["opened"].as_str())
            .filter_map(|opened| url::Url::parse(opened).ok())
            .collect()
    }

    /// The fake browser's log and its own output, for failure messages.
    fn browser_story(&self) -> String {
        let out = std::fs::read_to_string(format!("{}.out", self.browser_log.display()))
            .unwrap_or_default();
        format!(
            "--- fake browser\n{}{out}",
            std::fs::read_to_string(&self.browser_log).unwrap_or_default()
        )
    }

    /// The claims of every access token the client stored anywhere under HOME (Keycloak's
    /// access tokens are JWTs with `typ` Bearer).
    fn stored_access_tokens(&self) -> Vec<Value> {
        let mut claims = Vec::new();
        for file in files_under(self.home()) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for token in jwts_in(&text) {
                if let Some(payload) = jwt_claims(&token)
                    && payload["typ"] == "Bearer"
                    && !claims.contains(&payload)
                {
                    claims.push(payload);
                }
            }
        }
        claims
    }
}

fn which(program: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(!path.is_empty(), "{program} is not on PATH");
    path
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() && !path.ends_with("node_modules") => pending.push(path),
                Ok(kind) if kind.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files
}

/// Every `header.payload.signature` in `text` whose header is base64url JSON (`eyJ`).
fn jwts_in(text: &str) -> Vec<String> {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        let candidate: String = rest[start..]
            .chars()
            .take_while(|&c| is_part(c) || c == '.')
            .collect();
        rest = &rest[start + candidate.len().max(3)..];
        if candidate.split('.').count() == 3 {
            found.push(candidate);
        }
    }
    found
}

fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// `kcdev client-config <client> --registration <registration> --server-url <base> --write
/// [path]` with HOME pointed at the client's; returns what it printed.
fn client_config(
    fixture: &Fixture,
    home: &ClientHome,
    client: &str,
    registration: &str,
    base: &str,
    path: Option<&Path>,
) -> String {
    let mut args = vec![
        "client-config",
        client,
        "--registration",
        registration,
        "--server-url",
        base,
        "--write",
    ];
    let path = path.map(|p| p.to_string_lossy().into_owned());
    if let Some(path) = &path {
        args.push(path);
    }
    let mut command = fixture.kcdev.command(&args);
    command.env("HOME", home.home()).current_dir(&home.work);
    let run = fixture.kcdev.run_command(command).ok();
    format!("{}{}", run.stdout, run.stderr)
}

/// The dynamic registration requests among `connections` (what clients POSTed to the realm's
/// registration endpoint), as JSON.
fn registrations(connections: &[String]) -> Vec<Value> {
    let endpoint = format!("POST /realms/{REALM}/clients-registrations/openid-connect ");
    connections
        .iter()
        .flat_map(|connection| http_requests(connection))
        .filter(|(head, _)| head.starts_with(&endpoint))
        .filter_map(|(_, body)| serde_json::from_str(&body).ok())
        .collect()
}

/// The HTTP/1.1 requests one connection carried (keep-alive puts several on one), as head and
/// body (`Content-Length` or chunked).
fn http_requests(mut stream: &str) -> Vec<(String, String)> {
    let mut requests = Vec::new();
    while let Some((head, rest)) = stream.split_once("\r\n\r\n") {
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let (body, after) = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut body = String::new();
            let mut rest = rest;
            loop {
                let Some((size, data)) = rest.split_once("\r\n") else {
                    break (body, "");
                };
                let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                if size == 0 || data.len() < size {
                    break (body, data.get(2..).unwrap_or(""));
                }
                body.push_str(&data[..size]);
                rest = data[size..].strip_prefix("\r\n").unwrap_or(&data[size..]);
            }
        } else {
            let length = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0usize)
                .min(rest.len());
            (rest[..length].to_owned(), &rest[length..])
        };
        requests.push((head.to_owned(), body));
        stream = after;
    }
    requests
}

/// What a test learned about one client's login, printed for the report and checked.
struct Login {
    client_id: String,
    authorization: url::Url,
    registration: Option<Value>,
    token: Value,
}

/// Checks what a client did on one path: it registered (DCR) or did not (pre-registered), it
/// logged in through the fake browser with `client_id`, and the access token it stored is for
/// `resource` and that client. `registers_anyway`: the client registers dynamically even when
/// it logs in with a client id (Gemini CLI's start-up login does).
fn check_login(
    fixture: &Fixture,
    home: &ClientHome,
    mark: usize,
    expected_client_id: Option<&str>,
    registers_anyway: bool,
    resource: &str,
    context: &str,
) -> Login {
    let story = || format!("{context}\n{}", home.browser_story());
    let authorization = home
        .authorization_requests()
        .pop()
        .unwrap_or_else(|| panic!("the client never opened the browser:\n{}", story()));
    let client_id = authorization
        .query_pairs()
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no client_id in {authorization}"));
    let registered = registrations(&fixture.namespace.requests_since(mark));
    match expected_client_id {
        Some(expected) => {
            assert_eq!(client_id, expected, "pre-registered client id\n{}", story());
            assert!(
                registered.is_empty() || registers_anyway,
                "a pre-registered client registered anyway: {registered:?}\n{}",
                story()
            );
        }
        None => assert!(
            !registered.is_empty(),
            "no dynamic registration seen\n{}",
            story()
        ),
    }
    // The registration this login used: the one with its redirect URI (Gemini CLI registers
    // once more for `/mcp auth` before it asks).
    let redirect_uri = authorization
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| Value::String(value.into_owned()))
        .unwrap_or_default();
    let registration = registered
        .iter()
        .rev()
        .find(|body| {
            body["redirect_uris"]
                .as_array()
                .is_some_and(|uris| uris.contains(&redirect_uri))
        })
        .or(registered.last())
        .cloned();
    let tokens = home.stored_access_tokens();
    let token = tokens
        .iter()
        .rev()
        .find(|claims| claims["azp"] == client_id.as_str())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no stored access token of {client_id} under {} (found {tokens:?})\n{}",
                home.home().display(),
                story()
            )
        });
    let audience = match &token["aud"] {
        Value::Array(values) => values.clone(),
        one => vec![one.clone()],
    };
    assert!(
        audience.contains(&json!(resource)),
        "the stored token's aud {audience:?} lacks {resource}"
    );
    Login {
        client_id,
        authorization,
        registration,
        token,
    }
}

impl Login {
    /// One paragraph for the log (`cargo test -- --nocapture` shows it).
    fn describe(&self, client: &str, path: &str) {
        let param = |name: &str| {
            self.authorization
                .query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        eprintln!(
            "{client} ({path}): client_id {}; registration {}; redirect_uri {}; scope {:?}; resource {:?}; prompt {:?}; token aud {}, azp {}, scope {:?}",
            self.client_id,
            self.registration
                .as_ref()
                .map_or("none".to_owned(), Value::to_string),
            param("redirect_uri"),
            param("scope"),
            param("resource"),
            param("prompt"),
            self.token["aud"],
            self.token["azp"],
            self.token["scope"],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Claude Code

async fn claude_code(registration: &str, expected_client_id: Option<&str>) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let fixture = fixture().await;
    let namespace = &fixture.namespace;
    let home = ClientHome::new("claude-code");
    let resource = format!("{}/mcp", fixture.base);
    // User scope (~/.claude.json): a project .mcp.json waits for an approval only an interactive
    // session gives.
    let configured = client_config(
        fixture,
        &home,
        "claude-code",
        registration,
        &fixture.base,
        Some(&home.home().join(".claude.json")),
    );
    let claude = node_bin("claude");
    let mark = namespace.mark();
    let (status, login_output) = Session::spawn(
        home.terminal(namespace, &[&claude, "mcp", "login", "kcdev"]),
        "claude mcp login kcdev",
    )
    .finish(STEP);
    let context = format!(
        "--- kcdev client-config\n{configured}\n--- claude mcp login kcdev ({status:?})\n{login_output}"
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "claude mcp login failed\n{context}\n{}",
        home.browser_story()
    );
    let login = check_login(
        fixture,
        &home,
        mark,
        expected_client_id,
        false,
        &resource,
        &context,
    );
    login.describe("Claude Code", registration);

    let list = Session::spawn(
        home.command(namespace, &claude, &["mcp", "list"]),
        "claude mcp list",
    )
    .success(STEP);
    assert!(
        list.lines()
            .any(|line| line.contains("kcdev") && line.contains("Connected")),
        "claude mcp list does not show kcdev Connected:\n{list}"
    );

    let tools = claude_mcp_status(&home, namespace, &claude);
    let kcdev = tools
        .iter()
        .find(|server| server["name"] == "kcdev")
        .unwrap_or_else(|| panic!("mcp_status lacks kcdev: {tools:?}"));
    assert_eq!(kcdev["status"], "connected", "{kcdev}");
    let names: Vec<&str> = kcdev["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"whoami"), "the server's tools: {kcdev}");
    namespace.kill_everything();
}

/// `claude -p` in stream-json mode fed only control requests (`initialize`, then `mcp_status`):
/// no model is asked anything; returns the `mcpServers` of the `mcp_status` answer.
fn claude_mcp_status(home: &ClientHome, namespace: &NetNs, claude: &str) -> Vec<Value> {
    let mut session = Session::spawn(
        home.command(
            namespace,
            claude,
            &[
                "-p",
                "--input-format",
                "stream-json",
                "--output-format",
                "stream-json",
                "--verbose",
            ],
        ),
        "claude -p --input-format stream-json",
    );
    let request = |id: &str, subtype: &str| {
        format!(
            "{}\n",
            json!({"type": "control_request", "request_id": id, "request": {"subtype": subtype}})
        )
    };
    session.send(&request("init-1", "initialize"));
    session.wait_for_line(
        |line| answer_to(line, "init-1"),
        "the initialize answer",
        STEP,
    );
    // Servers connect in the background: ask until kcdev is no longer pending.
    let started = std::time::Instant::now();
    for attempt in 1.. {
        let id = format!("status-{attempt}");
        session.send(&request(&id, "mcp_status"));
        let answer =
            session.wait_for_line(|line| answer_to(line, &id), "the mcp_status answer", STEP);
        let servers = answer["response"]["response"]["mcpServers"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("mcp_status answer without mcpServers: {answer}"));
        let pending = servers
            .iter()
            .any(|server| server["name"] == "kcdev" && server["status"] == "pending");
        if !pending || started.elapsed() > STEP {
            return servers;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    unreachable!()
}

/// A stream-json line answering the control request `id`.
fn answer_to(line: &str, id: &str) -> Option<Value> {
    let message: Value = serde_json::from_str(line).ok()?;
    (message["type"] == "control_response" && message["response"]["request_id"] == id)
        .then_some(message)
}

#[tokio::test(flavor = "multi_thread")]
async fn claude_code_logs_in_with_the_pre_registered_client() {
    claude_code("pre-registered", Some("kcdev-claude-code")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn claude_code_logs_in_after_dynamic_registration() {
    claude_code("dcr", None).await;
}

// ---------------------------------------------------------------------------------------------
// Codex CLI

async fn codex(registration: &str, expected_client_id: Option<&str>) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let fixture = fixture().await;
    let namespace = &fixture.namespace;
    let home = ClientHome::new("codex");
    let resource = format!("{}/mcp", fixture.base);
    let configured = client_config(fixture, &home, "codex", registration, &fixture.base, None);
    let codex = node_bin("codex");
    let mark = namespace.mark();
    let (status, login_output) = Session::spawn(
        home.command(namespace, &codex, &["mcp", "login", "kcdev"]),
        "codex mcp login kcdev",
    )
    .finish(STEP);
    let config =
        std::fs::read_to_string(home.home().join(".codex/config.toml")).unwrap_or_default();
    let context = format!(
        "--- kcdev client-config\n{configured}\n--- ~/.codex/config.toml\n{config}\n--- codex mcp login kcdev ({status:?})\n{login_output}"
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "codex mcp login failed\n{context}\n{}",
        home.browser_story()
    );
    let login = check_login(
        fixture,
        &home,
        mark,
        expected_client_id,
        false,
        &resource,
        &context,
    );
    login.describe("Codex", registration);

    let mut server = JsonRpc::start(
        home.command(namespace, &codex, &["app-server"]),
        "codex app-server",
    );
    server.call(
        "initialize",
        json!({"clientInfo": {"name": "kcdev-tests", "version": "0"}}),
    );
    server.notify("initialized");
    let status = server.call("mcpServerStatus/list", json!({}));
    let kcdev = status["data"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["name"] == "kcdev"))
        .cloned()
        .unwrap_or_else(|| panic!("mcpServerStatus/list lacks kcdev: {status}"));
    assert!(
        kcdev.to_string().contains("whoami"),
        "kcdev's tools as Codex lists them: {kcdev}"
    );
    let thread = server.call("thread/start", json!({}));
    let thread_id = thread["thread"]["id"].as_str().unwrap().to_owned();
    let called = server.call(
        "mcpServer/tool/call",
        json!({"threadId": thread_id, "server": "kcdev", "tool": "whoami", "arguments": {}}),
    );
    assert!(
        called.to_string().contains(USER),
        "whoami through Codex does not name {USER}: {called}"
    );
    drop(server);
    namespace.kill_everything();
}

/// A JSON-RPC peer on a child's stdio, one JSON object a line (Codex's app server).
struct JsonRpc {
    session: Session,
    next_id: u64,
}

impl JsonRpc {
    fn start(command: Command, what: &str) -> Self {
        Self {
            session: Session::spawn(command, what),
            next_id: 1,
        }
    }

    fn notify(&mut self, method: &str) {
        self.session.send(&format!(
            "{}\n",
            json!({"jsonrpc": "2.0", "method": method})
        ));
    }

    /// Sends a request and returns its result; panics with everything printed on an error.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.session.send(&format!(
            "{}\n",
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        ));
        let answer = self.session.wait_for_line(
            |line| {
                let message: Value = serde_json::from_str(line).ok()?;
                (message["id"] == id && message.get("method").is_none()).then_some(message)
            },
            &format!("the answer to {method}"),
            STEP,
        );
        if let Some(result) = answer.get("result") {
            return result.clone();
        }
        panic!(
            "{method} failed: {answer}\n--- everything printed\n{}",
            self.session.output()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn codex_logs_in_with_the_pre_registered_client() {
    codex("pre-registered", Some("kcdev-codex")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn codex_logs_in_after_dynamic_registration() {
    codex("dcr", None).await;
}

// ---------------------------------------------------------------------------------------------
// Gemini CLI

/// How Gemini CLI logs in.
#[derive(Clone, Copy, PartialEq)]
enum GeminiLogin {
    /// `/mcp auth kcdev`, with the configured client id and scopes; the automatic login at
    /// start-up, which ignores both, is declined.
    McpAuth,
    /// The automatic login at start-up, as a user who never ran `/mcp auth` meets it: it
    /// registers dynamically asking for every scope the realm advertises, whatever the settings
    /// say.
    AtStartUp,
}

const GEMINI_QUESTION: &str = "Do you want to continue? [Y/n]";

/// Configures Gemini CLI for `base` and logs in on a terminal (it wants an auth type, so a
/// placeholder API key it never uses, and a trusted folder).
async fn gemini(
    registration: &str,
    expected_client_id: Option<&str>,
    base: &str,
    how: GeminiLogin,
) -> Login {
    let _turn = ONE_AT_A_TIME.lock().await;
    let fixture = fixture().await;
    let namespace = &fixture.namespace;
    let home = ClientHome::new("gemini");
    let resource = format!("{base}/mcp");
    let configured = client_config(fixture, &home, "gemini-cli", registration, base, None);
    // Not the server's configuration: the folder a user trusts when Gemini CLI asks.
    std::fs::write(
        home.home().join(".gemini/trustedFolders.json"),
        json!({ home.work.to_string_lossy(): "TRUST_FOLDER" }).to_string(),
    )
    .unwrap();
    let gemini = node_bin("gemini");
    let mark = namespace.mark();
    // `/mcp auth` is the one command that needs no model; in the start-up case it only keeps
    // Gemini CLI busy until the automatic login has finished, and is then declined.
    let prompt = "/mcp auth kcdev";
    let mut command = home.terminal(namespace, &[&gemini, "-p", prompt]);
    command.env("GEMINI_API_KEY", "placeholder-never-used");
    let mut login = Session::spawn(command, &format!("gemini -p '{prompt}'"));
    // First the automatic login at start-up asks, then `/mcp auth`.
    let (at_start_up, mcp_auth) = match how {
        GeminiLogin::McpAuth => ("n\r", "y\r"),
        GeminiLogin::AtStartUp => ("y\r", "n\r"),
    };
    login.wait_for(GEMINI_QUESTION, STEP);
    login.send(at_start_up);
    login.wait_for("Starting OAuth authentication for MCP server 'kcdev'", STEP);
    login.wait_for_nth(GEMINI_QUESTION, 2, STEP);
    login.send(mcp_auth);
    let (status, login_output) = login.finish(STEP);
    let settings =
        std::fs::read_to_string(home.home().join(".gemini/settings.json")).unwrap_or_default();
    let context = format!(
        "--- kcdev client-config\n{configured}\n--- ~/.gemini/settings.json\n{settings}\n--- gemini -p '{prompt}' ({status:?})\n{login_output}"
    );
    // `/mcp auth` exits 42 ("not supported in non-interactive mode") once the token is saved.
    assert!(
        status.is_some(),
        "gemini -p '{prompt}' did not finish\n{context}\n{}",
        home.browser_story()
    );
    // Its start-up login registers before it asks, even when declined.
    let login = check_login(
        fixture,
        &home,
        mark,
        expected_client_id,
        true,
        &resource,
        &context,
    );
    let asked_for = login
        .authorization
        .query_pairs()
        .find(|(name, _)| name == "resource")
        .map(|(_, value)| value.into_owned());
    assert_eq!(
        asked_for.as_deref(),
        Some(resource.as_str()),
        "Gemini CLI's resource indicator"
    );
    login.describe(
        "Gemini CLI",
        &format!(
            "{registration}, {}",
            if how == GeminiLogin::McpAuth {
                "/mcp auth"
            } else {
                "login at start-up"
            }
        ),
    );

    let mut command = home.command(namespace, &gemini, &["mcp", "list"]);
    command.env("GEMINI_API_KEY", "placeholder-never-used");
    let list = Session::spawn(command, "gemini mcp list").success(STEP);
    assert!(
        list.lines()
            .any(|line| line.contains("kcdev") && line.contains("Connected")),
        "gemini mcp list does not show kcdev Connected:\n{list}\n{context}"
    );
    namespace.kill_everything();
    login
}

#[tokio::test(flavor = "multi_thread")]
async fn gemini_cli_logs_in_with_the_pre_registered_client() {
    let base = fixture().await.base.clone();
    gemini(
        "pre-registered",
        Some("kcdev-gemini-cli"),
        &base,
        GeminiLogin::McpAuth,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gemini_cli_logs_in_after_dynamic_registration() {
    let base = fixture().await.base.clone();
    gemini("dcr", None, &base, GeminiLogin::McpAuth).await;
}

/// Gemini CLI as it comes: its automatic login asks dynamic registration for every scope the
/// realm advertises, against the seed page's FastMCP server.
#[tokio::test(flavor = "multi_thread")]
async fn gemini_cli_registers_with_every_advertised_scope_against_the_fastmcp_server() {
    let base = fixture().await.fastmcp_base.clone();
    let login = gemini("dcr", None, &base, GeminiLogin::AtStartUp).await;
    let registration = login.registration.unwrap();
    let asked: Vec<&str> = registration["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .collect();
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            asked.contains(&scope),
            "Gemini CLI's default registration asks for every advertised scope, {scope} too: {registration}"
        );
    }
}

/// Sets everything up and waits, for trying clients by hand: `KCDEV_CLIS_PLAYGROUND=<seconds>
/// cargo test --test clis -- --ignored --nocapture playground`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "by hand only"]
async fn playground() {
    let fixture = fixture().await;
    let home = ClientHome::new("playground");
    eprintln!(
        "namespace {}; server {}; fastmcp {}; keycloak {}; HOME {}; kcdev instance {} (XDG_STATE_HOME {})",
        fixture.namespace.name,
        fixture.base,
        fixture.fastmcp_base,
        fixture.kcdev.base_url(),
        home.home().display(),
        fixture.kcdev.instance,
        fixture.kcdev.state_home().display(),
    );
    let seconds = std::env::var("KCDEV_CLIS_PLAYGROUND")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    std::thread::sleep(Duration::from_secs(seconds));
    let _ = home;
}
