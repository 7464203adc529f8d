//! kcdev on Podman's Docker-compatible API: the test starts `podman system service` on a socket
//! of its own and runs the lifecycle through `DOCKER_HOST`. Skipped, saying why, where Podman is
//! not installed or cannot run a container on the machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly
#![allow(unsafe_code)] // getrlimit

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Kcdev, test_image};

/// Podman keeps images in its own store, under `localhost/` for names without a registry
/// (scripts/prepare-test-env.sh copies the test image there).
fn podman_image() -> String {
    format!("localhost/{}", test_image())
}

/// A `podman system service` on its own socket, stopped when dropped.
struct PodmanService {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl PodmanService {
    fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn podman(config: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut command = Command::new("podman");
    command.args(args);
    if let Some(config) = config {
        command.env("CONTAINERS_CONF", config);
    }
    command.output().expect("run podman")
}

/// Podman as root sets the containers' open-file and process limits to its own maximums; where
/// the machine's sandbox forbids raising them (as on kcdev's CI machines), it says "error setting
/// rlimit ... operation not permitted". Then the service gets a configuration with limits the
/// machine allows: what a user on such a machine would put in containers.conf.
fn limits_config(dir: &Path) -> PathBuf {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let nofile = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_max.min(65_536)
    } else {
        4096
    };
    let path = dir.join("containers.conf");
    std::fs::write(
        &path,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc=4096:4096\"]\n"
        ),
    )
    .unwrap();
    path
}

/// A copy of the podman binary for the service, removed once it runs. When a container's
/// process ends, Podman runs the binary that started it again to clean up (`podman container
/// cleanup`); until then the container is `stopped`, a state the Docker API does not know. Where
/// that cleanup cannot run (as on kcdev's CI machines) containers stay `stopped` for good, and
/// with the binary gone the test meets that on every machine.
fn podman_without_cleanup(dir: &Path) -> Result<PathBuf, String> {
    let found = Command::new("sh")
        .args(["-c", "command -v podman"])
        .output()
        .map_err(|err| format!("cannot look for podman: {err}"))?;
    let installed = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    let copy = dir.join("podman");
    std::fs::copy(&installed, &copy).map_err(|err| format!("cannot copy {installed}: {err}"))?;
    Ok(copy)
}

/// Starts the service, or says why Podman cannot be tested here.
fn start_podman() -> Result<PodmanService, String> {
    if Command::new("podman").arg("--version").output().is_err() {
        return Err("podman is not installed".to_owned());
    }
    let image = podman_image();
    if !podman(None, &["image", "exists", &image]).status.success() {
        return Err(format!(
            "{image} is not in Podman's store (scripts/prepare-test-env.sh copies it there)"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let probe = ["run", "--rm", "--network", "none", &image, "--version"];
    let mut config = None;
    let first = podman(None, &probe);
    if !first.status.success() {
        let stderr = String::from_utf8_lossy(&first.stderr);
        if !stderr.contains("rlimit") {
            return Err(format!("podman cannot run a container here: {stderr}"));
        }
        let path = limits_config(dir.path());
        let second = podman(Some(&path), &probe);
        if !second.status.success() {
            return Err(format!(
                "podman cannot run a container here, even with lower limits: {}",
                String::from_utf8_lossy(&second.stderr)
            ));
        }
        eprintln!("podman: container limits lowered to what this machine allows ({stderr})");
        config = Some(path);
    }
    let socket = dir.path().join("podman.sock");
    let service_binary = podman_without_cleanup(dir.path())?;
    let mut command = Command::new(&service_binary);
    command
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(config) = &config {
        command.env("CONTAINERS_CONF", config);
    }
    let child = command
        .spawn()
        .map_err(|err| format!("podman system service: {err}"))?;
    let service = PodmanService {
        child,
        socket,
        _dir: dir,
    };
    let started = Instant::now();
    while !service.socket.exists() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("podman system service did not open its socket within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_file(&service_binary).unwrap();
    Ok(service)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lifecycle_works_on_podman() {
    let service = match start_podman() {
        Ok(service) => service,
        Err(reason) => {
            eprintln!("SKIPPED the_lifecycle_works_on_podman: {reason}");
            return;
        }
    };
    let host = service.docker_host();
    let kcdev = Kcdev::new("podman").with_docker_host(&host);
    let image = podman_image();
    let owned = Kcdev::auto_port_up_args(&image);
    let up_args: Vec<&str> = owned.iter().map(String::as_str).collect();

    let first = kcdev.run(&up_args).ok().json();
    assert_eq!(first["container_action"], "created");
    assert_eq!(
        first["keycloak_version"],
        kcdev::defaults::keycloak_version()
    );
    let again = kcdev.run(&up_args).ok().json();
    assert_eq!(again["container_action"], "already-running");
    assert_eq!(
        again["provisioning"]["changes"],
        serde_json::json!([]),
        "no-op up"
    );

    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["engine"], host.as_str());
    assert_eq!(status["ready"], true);
    assert_eq!(status["container"]["status"], "running");
    assert_eq!(status["realm"]["drift"], serde_json::json!([]));
    assert_eq!(
        status["container"]["volume"],
        format!("kcdev-{}-data", kcdev.instance)
    );
    // Labels, published ports and the data volume are what kcdev finds things by.
    let token = kcdev.run(&["token", "-q"]).ok();
    assert_eq!(token.stdout.trim().split('.').count(), 3);

    // Keycloak ended behind kcdev's back. Podman keeps the container `stopped` here (see
    // `podman_without_cleanup`); kcdev reads that as exited, and `up` starts it again.
    let container = format!("kcdev-{}-keycloak", kcdev.instance);
    assert!(podman(None, &["kill", &container]).status.success());
    let started = Instant::now();
    let stopped = loop {
        let status = kcdev.run(&["status", "--json"]);
        if status.code != 0 {
            break status.failed_with(3).json();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still running");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(stopped["container"]["status"], "exited");
    let restarted = kcdev.run(&up_args).ok().json();
    assert_eq!(restarted["container_action"], "started");

    let down = kcdev.run(&["down", "--json"]).ok().json();
    assert_eq!(
        down["container_removed"],
        format!("kcdev-{}-keycloak", kcdev.instance)
    );
    kcdev.run(&["status"]).failed_with(3);
    // The data survives: the next `up` brings the same realm back with nothing to do.
    let back = kcdev.run(&up_args).ok().json();
    assert_eq!(back["container_action"], "created");
    assert_eq!(back["provisioning"]["changes"], serde_json::json!([]));

    // Another instance's data, which Podman's volume list matches too when asked for this
    // instance's labels (it takes any one of several label filters).
    let other = format!("{}-other", kcdev.instance);
    let other_volume = format!("kcdev-{other}-data");
    let created = podman(
        None,
        &[
            "volume",
            "create",
            "--label",
            "dev.kcdev.managed-by=kcdev",
            "--label",
            &format!("dev.kcdev.instance={other}"),
            &other_volume,
        ],
    );
    assert!(created.status.success());
    let gone = kcdev.run(&["down", "--volumes", "--json"]).ok().json();
    assert_eq!(
        gone["volumes_removed"],
        serde_json::json!([format!("kcdev-{}-data", kcdev.instance)])
    );
    let volumes = podman(None, &["volume", "ls", "-q"]);
    let volumes = String::from_utf8_lossy(&volumes.stdout);
    assert!(
        !volumes.contains(&format!("kcdev-{}-data", kcdev.instance)),
        "the volume is gone from Podman"
    );
    assert!(
        volumes.contains(&other_volume),
        "the other instance's is kept"
    );
    podman(None, &["volume", "rm", &other_volume]);
    drop(kcdev);
    drop(service);
}
