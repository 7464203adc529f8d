//! The integration-test harness: runs the real `kcdev` binary against the real Docker engine and
//! the Keycloak test image, each test with its own instance name, ports and state directory, so
//! tests run beside each other and beside a developer's own instance. Everything a test creates
//! is removed by label when it ends (`KCDEV_TEST_KEEP=1` keeps it for debugging).
#![allow(dead_code, unsafe_code)] // each test binary uses part of the harness; atexit is FFI

pub mod fastmcp;
pub mod generated;
pub mod mcp;
pub mod mcp_remote;
pub mod netns;
pub mod oauth;
pub mod session;
pub mod step_up;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use kcdev::keycloak::{AdminLogin, AdminSession};
use serde_json::Value;

/// The Keycloak image the tests run (built by scripts/prepare-test-env.sh).
pub fn test_image() -> String {
    std::env::var("KCDEV_TEST_IMAGE").unwrap_or_else(|_| {
        panic!("KCDEV_TEST_IMAGE is not set: run `eval \"$(scripts/prepare-test-env.sh)\"` first (see README)")
    })
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    port_check::free_local_port().expect("no free local port")
}

/// The outcome of one `kcdev` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the run exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "kcdev failed:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run failed with `code`, cleanly (no panic, no raw dump).
    pub fn failed_with(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "kcdev panicked:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "raw dump:\n{}",
            self.stderr
        );
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }

    /// Panics unless stderr contains every fragment.
    pub fn stderr_has(&self, fragments: &[&str]) -> &Self {
        for fragment in fragments {
            assert!(
                self.stderr.contains(fragment),
                "stderr lacks {fragment:?}:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// One kcdev instance under test.
pub struct Kcdev {
    pub instance: String,
    pub port: u16,
    pub management_port: u16,
    home: PathBuf,
    cleanup_on_drop: bool,
    docker_host: Option<String>,
}

impl Kcdev {
    /// A fresh instance named after `label` (lowercase, unique within the test binary).
    pub fn new(label: &str) -> Self {
        let instance = format!("t-{label}-{}", std::process::id());
        let home = std::env::temp_dir().join(format!("kcdev-test-{instance}"));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).expect("create test home");
        let port = free_port();
        let management_port = loop {
            let candidate = free_port();
            if candidate != port {
                break candidate;
            }
        };
        Self {
            instance,
            port,
            management_port,
            home,
            cleanup_on_drop: true,
            docker_host: None,
        }
    }

    /// The same, talking to the engine at `host` (Podman's socket, say) in every run, teardown
    /// included.
    pub fn with_docker_host(mut self, host: &str) -> Self {
        self.docker_host = Some(host.to_owned());
        self
    }

    /// The XDG state directory this instance's kcdev runs use.
    pub fn state_home(&self) -> PathBuf {
        self.home.join("state")
    }

    /// The instance's state file.
    pub fn state_path(&self) -> PathBuf {
        self.state_home()
            .join("kcdev")
            .join(format!("{}.json", self.instance))
    }

    /// The state file's content.
    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.state_path()).expect("state file");
        serde_json::from_str(&text).expect("state JSON")
    }

    /// A `kcdev` command for this instance, isolated from the developer's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kcdev"));
        command
            .args(args)
            .env_remove("KCDEV_INSTANCE")
            .env_remove("KCDEV_CONFIG")
            .env("KCDEV_INSTANCE", &self.instance)
            .env("XDG_STATE_HOME", self.state_home())
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .env("NO_COLOR", "1");
        if let Some(host) = &self.docker_host {
            command.env("DOCKER_HOST", host);
        }
        command
    }

    /// Runs `kcdev` with `args` and collects its output.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command(args))
    }

    /// Runs a prepared command.
    pub fn run_command(&self, mut command: Command) -> Run {
        let output = command.output().expect("run kcdev");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts that the instance has no container, no volume and no state file.
    pub async fn assert_nothing_created(&self) {
        let docker = docker();
        let container = format!("kcdev-{}-keycloak", self.instance);
        let volume = format!("kcdev-{}-data", self.instance);
        assert!(
            docker.inspect_container(&container, None).await.is_err(),
            "container {container} was created"
        );
        assert!(
            docker.inspect_volume(&volume).await.is_err(),
            "volume {volume} was created"
        );
        assert!(!self.state_path().exists(), "state file was written");
    }

    /// The flags that point `up` at the test image and this instance's ports.
    pub fn up_flags(&self) -> Vec<String> {
        self.up_flags_with_image(&test_image())
    }

    /// The flags that point `up` at `image` and this instance's ports.
    pub fn up_flags_with_image(&self, image: &str) -> Vec<String> {
        vec![
            "up".into(),
            "--image".into(),
            image.to_owned(),
            "--port".into(),
            self.port.to_string(),
            "--management-port".into(),
            self.management_port.to_string(),
        ]
    }

    /// `up` with `image`, never pulling, on ports kcdev picks itself (`auto`), as JSON.
    pub fn auto_port_up_args(image: &str) -> Vec<String> {
        [
            "up",
            "--image",
            image,
            "--pull",
            "never",
            "--port",
            "auto",
            "--management-port",
            "auto",
            "--json",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// `kcdev up` with the test image and this instance's ports, plus `extra`; must succeed.
    pub fn up(&self, extra: &[&str]) -> Value {
        let mut args = self.up_flags();
        args.push("--json".to_owned());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args).ok().json()
    }

    /// `kcdev token --user USER --scope SCOPE`: an access token for `user` that also carries
    /// `scope` (`mcp:admin` for the generated servers' `admin_only`).
    pub fn token_with_scope(&self, user: &str, scope: &str) -> String {
        self.run(&["token", "--user", user, "--scope", scope])
            .ok()
            .stdout
            .trim()
            .to_owned()
    }

    /// Keycloak's public base URL.
    pub fn base_url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// An Admin API session with the instance's bootstrap admin.
    pub async fn admin(&self) -> AdminSession {
        let state = self.state();
        // The port `up` chose: the harness's own, or one it picked for `--port auto`.
        let port = state["container"]["http_port"].as_u64().unwrap();
        let login = AdminLogin::User {
            username: state["admin"]["username"].as_str().unwrap().to_owned(),
            password: state["admin"]["password"].as_str().unwrap().to_owned(),
        };
        AdminSession::connect(
            &format!("http://127.0.0.1:{port}"),
            &login,
            reqwest::Client::builder(),
        )
        .await
        .expect("admin session")
    }

    fn teardown(&self) {
        if std::env::var_os("KCDEV_TEST_KEEP").is_some() {
            eprintln!(
                "KCDEV_TEST_KEEP: leaving instance {} in place",
                self.instance
            );
            return;
        }
        let _ = self.command(&["down", "--volumes"]).output();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Drop for Kcdev {
    fn drop(&mut self) {
        if self.cleanup_on_drop {
            self.teardown();
        }
    }
}

static SHARED: OnceLock<Kcdev> = OnceLock::new();
type Cleanup = Box<dyn Fn() + Send + Sync>;
static AT_EXIT: Mutex<Vec<Cleanup>> = Mutex::new(Vec::new());

extern "C" fn run_at_exit() {
    if let Ok(cleanups) = AT_EXIT.lock() {
        // Last registered, first undone: a server goes before the Keycloak it talks to.
        for cleanup in cleanups.iter().rev() {
            cleanup();
        }
    }
}

/// Runs `cleanup` when the test binary exits (libtest exits the process after the last test,
/// so shared fixtures have no other place to be torn down).
pub fn at_exit(cleanup: impl Fn() + Send + Sync + 'static) {
    let mut cleanups = AT_EXIT.lock().expect("at-exit list");
    if cleanups.is_empty() {
        // SAFETY: registering a plain extern "C" function that does not unwind.
        unsafe {
            libc::atexit(run_at_exit);
        }
    }
    cleanups.push(Box::new(cleanup));
}

/// The test binary's one shared Keycloak instance, brought up on first use with `up_extra` and
/// taken down when the test binary exits. Tests that only read from it run in parallel.
pub fn shared(label: &str, up_extra: &[&str]) -> &'static Kcdev {
    SHARED.get_or_init(|| {
        let mut kcdev = Kcdev::new(label);
        kcdev.cleanup_on_drop = false;
        kcdev.up(up_extra);
        let (instance, home) = (kcdev.instance.clone(), kcdev.home.clone());
        at_exit(move || {
            Kcdev {
                instance: instance.clone(),
                port: 0,
                management_port: 0,
                home: home.clone(),
                cleanup_on_drop: false,
                docker_host: None,
            }
            .teardown()
        });
        kcdev
    })
}

/// An image a test made; removed when dropped, also when the test fails.
pub struct DerivedImage(pub String);

impl Drop for DerivedImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

/// Tags `repository:tag` as the test image plus `changes` (Dockerfile instructions such as
/// `LABEL`) and, if given, the files of a tar `archive` unpacked in `/tmp`.
pub async fn derive_test_image(
    repository: &str,
    tag: &str,
    changes: Option<&str>,
    archive: Option<Vec<u8>>,
) -> DerivedImage {
    use bollard::query_parameters::{
        CommitContainerOptionsBuilder, CreateContainerOptionsBuilder,
        RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
    };
    let docker = docker();
    let scratch = format!("kcdev-derive-{}-{tag}", std::process::id());
    let body = bollard::models::ContainerCreateBody {
        image: Some(test_image()),
        ..Default::default()
    };
    docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::default()
                    .name(&scratch)
                    .build(),
            ),
            body,
        )
        .await
        .expect("create a scratch container");
    if let Some(archive) = archive {
        let options = UploadToContainerOptionsBuilder::default()
            .path("/tmp")
            .build();
        docker
            .upload_to_container(&scratch, Some(options), bollard::body_full(archive.into()))
            .await
            .expect("upload into the scratch container");
    }
    let mut options = CommitContainerOptionsBuilder::default()
        .container(&scratch)
        .repo(repository)
        .tag(tag);
    if let Some(changes) = changes {
        options = options.changes(changes);
    }
    docker
        .commit_container(options.build(), bollard::models::ContainerConfig::default())
        .await
        .expect("commit the derived image");
    let _ = docker
        .remove_container(
            &scratch,
            Some(RemoveContainerOptionsBuilder::default().force(true).build()),
        )
        .await;
    DerivedImage(format!("{repository}:{tag}"))
}

/// Waits until `url` answers at all (any HTTP status), or panics after `timeout`; `alive` says
/// whether the process that should answer is still running.
pub async fn wait_until_answers(
    url: &str,
    timeout: std::time::Duration,
    mut alive: impl FnMut() -> bool,
) {
    let started = std::time::Instant::now();
    while reqwest::get(url).await.is_err() {
        assert!(alive(), "the process that should answer {url} exited");
        assert!(
            started.elapsed() < timeout,
            "nothing answered {url} within {} s",
            timeout.as_secs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// Runs a Python script of `tests/interop` (the SDK clients, FastMCP) with the test
/// environment's Python and returns the JSON it prints last.
pub fn run_interop_script(script: &str, args: &[&str]) -> Value {
    let python = std::env::var("KCDEV_TEST_PYTHON")
        .expect("KCDEV_TEST_PYTHON is set by scripts/prepare-test-env.sh");
    run_script(Command::new(python), script, args)
}

/// Runs a Node script of `tests/interop` (the TypeScript SDK client) and returns the JSON it
/// prints last.
pub fn run_node_script(script: &str, args: &[&str]) -> Value {
    let modules = std::env::var("KCDEV_TEST_NODE_MODULES")
        .expect("KCDEV_TEST_NODE_MODULES is set by scripts/prepare-test-env.sh");
    let mut node = Command::new("node");
    node.env("KCDEV_TEST_NODE_MODULES", modules);
    run_script(node, script, args)
}

fn run_script(mut interpreter: Command, script: &str, args: &[&str]) -> Value {
    let output = interpreter
        .arg(script)
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
        .output()
        .unwrap_or_else(|err| panic!("cannot run {script}: {err}"));
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .expect("the script prints JSON last")
}

/// A tiny HTTP server (Perl is in the test image's base system): answers `GET /<name>` with the
/// environment variable `DOC_<name>` (non-alphanumerics as `_`), 404 otherwise.
pub const DOC_SERVER: &str = r#"
use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 10, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) {
  my $request = <$c>; my ($path) = $request =~ m{^GET /(\S*)};
  while (my $line = <$c>) { last if $line =~ /^\r?\n$/ }
  (my $name = $path // '') =~ s{[^A-Za-z0-9]}{_}g;
  my $body = $ENV{"DOC_$name"};
  if (defined $body) {
    print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
  } else {
    print $c "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  }
  close $c;
}
"#;

/// A Docker client for checking what kcdev did.
pub fn docker() -> bollard::Docker {
    let host = std::env::var("DOCKER_HOST")
        .unwrap_or_else(|_| kcdev::docker::DEFAULT_DOCKER_HOST.to_owned());
    bollard::Docker::connect_with_host(&host).expect("docker client")
}
