//! Bad input and failing surroundings: each gives a message naming the problem and the fix, a
//! non-zero exit, and leaves nothing half-created. None of these boots Keycloak.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::net::TcpListener;

use common::{Kcdev, Run, derive_test_image, test_image};

fn up(kcdev: &Kcdev, extra: &[&str]) -> Run {
    up_with_image(kcdev, &test_image(), extra)
}

fn up_with_image(kcdev: &Kcdev, image: &str, extra: &[&str]) -> Run {
    let mut args = kcdev.up_flags_with_image(image);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    kcdev.run(&args)
}

#[tokio::test]
async fn engine_unreachable_names_the_socket_and_the_fixes() {
    let kcdev = Kcdev::new("noengine");
    for args in [vec!["up"], vec!["status"], vec!["down"], vec!["logs"]] {
        let mut command = kcdev.command(&args);
        command.env("DOCKER_HOST", "unix:///tmp/kcdev-no-such-docker.sock");
        let run = kcdev.run_command(command).failed_with(1);
        run.stderr_has(&[
            "cannot reach the Docker engine at unix:///tmp/kcdev-no-such-docker.sock",
            "start Docker",
            "DOCKER_HOST",
        ]);
    }
    let mut command = kcdev.command(&["up", "--json"]);
    command.env("DOCKER_HOST", "unix:///tmp/kcdev-no-such-docker.sock");
    let json = kcdev.run_command(command).failed_with(1).json();
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot bring up")
    );
    assert!(!json["error"]["hints"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_taken_port_is_reported_with_the_flag_that_changes_it() {
    let kcdev = Kcdev::new("porttaken");
    let listener = TcpListener::bind(("127.0.0.1", kcdev.port)).unwrap();
    up(&kcdev, &[]).failed_with(1).stderr_has(&[
        &format!("port {} on 127.0.0.1 is already in use", kcdev.port),
        "--port <PORT>",
    ]);
    kcdev.assert_nothing_created().await;
    drop(listener);

    let listener = TcpListener::bind(("127.0.0.1", kcdev.management_port)).unwrap();
    up(&kcdev, &[]).failed_with(1).stderr_has(&[
        &format!("port {}", kcdev.management_port),
        "--management-port <PORT>",
    ]);
    kcdev.assert_nothing_created().await;
    drop(listener);
}

#[tokio::test]
async fn pull_never_with_a_missing_image() {
    let kcdev = Kcdev::new("nopull");
    let image = "kcdev-test/no-such-keycloak:26.7.5";
    up_with_image(&kcdev, image, &["--pull", "never"])
        .failed_with(1)
        .stderr_has(&[
            &format!("image {image} is not present locally and pulling is disabled"),
            &format!("docker pull {image}"),
        ]);
    kcdev.assert_nothing_created().await;
}

#[tokio::test]
async fn keycloak_older_than_26_6_is_refused_with_the_reason() {
    let kcdev = Kcdev::new("oldkc");
    // The test image relabelled as Keycloak 26.4.5, the version the old FastMCP kit used.
    let repo = format!("kcdev-test/old-keycloak-{}", std::process::id());
    let old_image = derive_test_image(
        &repo,
        "26.4.5",
        Some("LABEL org.opencontainers.image.version=26.4.5"),
        None,
    )
    .await;

    let run = up_with_image(&kcdev, &old_image.0, &["--pull", "never"]).failed_with(1);
    run.stderr_has(&[
        "runs Keycloak 26.4.5",
        "needs 26.6.0 or later",
        "dynamic client registration",
        "--image",
    ]);
    kcdev.assert_nothing_created().await;
}

#[tokio::test]
async fn invalid_flags_are_named() {
    let kcdev = Kcdev::new("badflags");
    up(&kcdev, &["--server-url", "localhost:8000"])
        .failed_with(1)
        .stderr_has(&["invalid server URL \"localhost:8000\"", "--server-url"]);
    up(&kcdev, &["--realm", "a/b"])
        .failed_with(1)
        .stderr_has(&["--realm"]);
    up(&kcdev, &["--trusted-host", "https://x.example/"])
        .failed_with(1)
        .stderr_has(&["--trusted-host"]);
    up_with_image(&kcdev, "bad image", &[])
        .failed_with(1)
        .stderr_has(&["invalid image reference"]);
    up(&kcdev, &["--memory", "lots"])
        .failed_with(2)
        .stderr_has(&["--memory", "1g"]);
    up(&kcdev, &["--pull", "sometimes"])
        .failed_with(2)
        .stderr_has(&["missing", "always", "never"]);
    kcdev
        .run(&["status", "--instance", "Bad/Name"])
        .failed_with(2)
        .stderr_has(&["invalid instance name"]);
    kcdev.assert_nothing_created().await;
}

#[tokio::test]
async fn a_damaged_state_file_is_named_with_the_way_out() {
    let kcdev = Kcdev::new("badstate");
    std::fs::create_dir_all(kcdev.state_path().parent().unwrap()).unwrap();
    std::fs::write(kcdev.state_path(), "{ not json").unwrap();
    up(&kcdev, &[]).failed_with(1).stderr_has(&[
        &kcdev.state_path().display().to_string(),
        "is not valid kcdev state",
        "move",
    ]);
    assert_eq!(
        std::fs::read_to_string(kcdev.state_path()).unwrap(),
        "{ not json",
        "nothing lost"
    );
}

#[tokio::test]
async fn commands_on_an_instance_that_is_not_up() {
    let kcdev = Kcdev::new("absent");
    kcdev.run(&["logs"]).failed_with(1).stderr_has(&[
        "has no Keycloak container",
        &format!("kcdev up --instance {}", kcdev.instance),
    ]);
    let status = kcdev.run(&["status", "--json"]).failed_with(3).json();
    assert_eq!(status["container"], serde_json::Value::Null);
    assert_eq!(status["ready"], false);
    kcdev.run(&["down", "--volumes"]).ok();
}

#[tokio::test]
async fn a_container_that_exits_during_start_is_reported_at_once_with_its_log() {
    let repo = format!("kcdev-test/crashing-keycloak-{}", std::process::id());
    let tag = kcdev::defaults::keycloak_version();
    let entrypoint = r#"ENTRYPOINT ["/bin/sh", "-c", "echo 'ERROR: boom, the database is corrupt' >&2; exit 3", "kc.sh"]"#;
    let image = derive_test_image(&repo, tag, Some(entrypoint), None).await;
    // Declared after the image, so its container goes before the image does.
    let kcdev = Kcdev::new("crash");
    // The optimized boot meets it first, when `kc.sh build` derives the image.
    up_with_image(&kcdev, &image.0, &["--pull", "never", "--timeout", "120"])
        .failed_with(1)
        .stderr_has(&[
            "cannot derive the optimized image",
            "`kc.sh build` exited with code 3",
            "ERROR: boom, the database is corrupt",
            "--boot dev",
        ]);
    kcdev.assert_nothing_created().await;
    let started = std::time::Instant::now();
    up_with_image(
        &kcdev,
        &image.0,
        &["--pull", "never", "--timeout", "120", "--boot", "dev"],
    )
    .failed_with(1)
    .stderr_has(&[
        "exited during start (exit code 3)",
        "ERROR: boom, the database is corrupt",
        "kcdev logs",
    ]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "reported at once, not after the timeout"
    );
}

#[tokio::test]
async fn a_timeout_shows_the_last_log_lines_and_how_to_wait_longer() {
    let kcdev = Kcdev::new("slow");
    // Long enough for Keycloak to have logged something, too short to finish starting.
    up(&kcdev, &["--timeout", "12", "--boot", "dev"])
        .failed_with(1)
        .stderr_has(&[
            "Keycloak was not ready after 12 s",
            "last answer:",
            "lines of the Keycloak log",
            "--timeout 300",
        ]);
}

/// Hostile values for every flag `up` takes: each is refused with the flag named, before anything
/// exists (no container, volume, state file, not even the lock file).
#[tokio::test]
async fn hostile_flag_values_are_refused_before_anything_is_made() {
    let kcdev = Kcdev::new("hostile");
    let same = kcdev.port.to_string();
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["--realm", "master"],
            1,
            &["kcdev never changes the master realm", "--realm"],
        ),
        (&["--realm", "MASTER"], 1, &["master realm"]),
        (&["--realm", ""], 1, &["invalid realm name", "--realm"]),
        (&["--realm", "réalm"], 1, &["--realm"]),
        (&["--realm", "${realm}"], 1, &["--realm"]),
        (&["--realm", "a\"b"], 1, &["--realm"]),
        (
            &["--user-password", ""],
            1,
            &["invalid user password", "--user-password"],
        ),
        (&["--user-password", "a\nb"], 1, &["--user-password"]),
        (&["--server-url", ""], 1, &["--server-url"]),
        (
            &["--server-url", "http://user:secret@localhost:8000"],
            1,
            &["no user name", "--server-url"],
        ),
        (
            &["--server-url", "http://localhost:8000/?next=x"],
            1,
            &["--server-url"],
        ),
        (
            &["--server-url", "http://localhost:8000/#top"],
            1,
            &["--server-url"],
        ),
        (
            &["--server-url", "javascript:alert(1)"],
            1,
            &["--server-url"],
        ),
        (
            &["--server-url", "http://localhost:8000/$(id)"],
            1,
            &["--server-url"],
        ),
        (
            &["--server-url", "http://bücher.example"],
            1,
            &["xn--", "--server-url"],
        ),
        (
            &["--server-url", "http://localhost:8000/\"x"],
            1,
            &["--server-url"],
        ),
        (&["--trusted-host", ""], 1, &["--trusted-host"]),
        (&["--trusted-host", "a b"], 1, &["--trusted-host"]),
        (
            &["--trusted-host", "evil.example/x"],
            1,
            &["--trusted-host"],
        ),
        (
            &["--trusted-host", "user@evil.example"],
            1,
            &["--trusted-host"],
        ),
        (&["--trusted-host", "${x}"], 1, &["--trusted-host"]),
        (&["--trusted-host", "ünï.example"], 1, &["--trusted-host"]),
        (
            &["--cimd", "--cimd-domain", "evil.example/x"],
            1,
            &["invalid CIMD domain", "--cimd-domain"],
        ),
        (&["--cimd-domain", "docs.example"], 2, &["--cimd"]),
        (
            &[
                "--server-url",
                "http://localhost:8000",
                "--server-url",
                "http://localhost:8000/",
            ],
            1,
            &["given twice", "--server-url"],
        ),
        (
            &[
                "--server-url",
                "http://localhost:8000",
                "--server-url",
                "ftp://x",
            ],
            1,
            &["invalid server URL", "--server-url"],
        ),
        (&["--port", "65536"], 2, &["--port", "auto"]),
        (&["--port", "-1"], 2, &["unexpected argument '-1'"]),
        (&["--port", ""], 2, &["--port"]),
        (&["--port", "http"], 2, &["--port"]),
        (&["--management-port", "99999"], 2, &["--management-port"]),
        (
            &["--port", &same, "--management-port", &same],
            1,
            &["two different ports", "--port auto"],
        ),
        (&["--timeout", "0"], 2, &["--timeout"]),
        (&["--timeout", "99999999999999999999"], 2, &["--timeout"]),
        (&["--memory", "10"], 2, &["512m"]),
        (&["--memory", "99999999999999999999g"], 2, &["--memory"]),
        (&["--image", ""], 1, &["invalid image reference"]),
        (
            &["--image", "team/UPPER:1"],
            1,
            &["invalid image reference"],
        ),
        (
            &["--image", "keycloak:${TAG}"],
            1,
            &["invalid image reference"],
        ),
    ];
    let image = test_image();
    for (extra, code, fragments) in cases {
        let run = if extra[0] == "--image" {
            up_with_image(&kcdev, extra[1], &[])
        } else if extra[0].ends_with("port") {
            // These replace the harness's own port flags.
            let mut args = vec!["up", "--image", &image];
            args.extend_from_slice(extra);
            kcdev.run(&args)
        } else {
            up(&kcdev, extra)
        };
        assert_eq!(run.code, *code, "{extra:?}:\n{}", run.stderr);
        run.failed_with(*code).stderr_has(fragments);
    }
    kcdev.assert_nothing_created().await;
    assert!(
        !kcdev.state_home().join("kcdev").exists(),
        "a refused up made kcdev's state directory"
    );
}

/// The other commands' hostile values: a message naming the flag, and nothing written.
#[tokio::test]
async fn other_commands_refuse_hostile_values() {
    let kcdev = Kcdev::new("hostile2");
    let work = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut command = kcdev.command(args);
        command.env("HOME", work.path()).current_dir(work.path());
        kcdev.run_command(command)
    };
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["client-config", "claude-code", "--name", ""],
            1,
            &["--name"],
        ),
        (
            &["client-config", "claude-code", "--name", "a b"],
            1,
            &["--name"],
        ),
        (
            &["client-config", "claude-code", "--name", "$(rm -rf ~)"],
            1,
            &["--name"],
        ),
        (
            &["client-config", "cursor", "--name", "x\"}"],
            1,
            &["--name"],
        ),
        (
            &[
                "client-config",
                "vscode",
                "--server-url",
                "http://u:p@localhost:1",
            ],
            1,
            &["--server-url"],
        ),
        (
            &[
                "client-config",
                "vscode",
                "--write",
                "--server-url",
                "ftp://x",
            ],
            1,
            &["--server-url"],
        ),
        (&["client-config", "nope"], 2, &["claude-code"]),
        (&["new", "server", ""], 1, &["invalid project name"]),
        (&["new", "server", "a/b"], 1, &["invalid project name"]),
        (
            &[
                "new",
                "server",
                "--realm-url",
                "http://localhost:8080/realms/x\";panic!()",
            ],
            1,
            &["--realm-url"],
        ),
        (
            &["new", "server", "--server-url", "http://[::1:8000"],
            1,
            &["--server-url"],
        ),
        (
            &["doctor", "--server-url", "x"],
            1,
            &["invalid server URL", "--server-url"],
        ),
        (
            &["doctor", "--server-url", "http://u:p@localhost:1"],
            1,
            &["--server-url"],
        ),
        (&["logs", "--tail", "lots"], 2, &["--tail"]),
        (
            &["logs", "--tail", "99999999999999999999999"],
            2,
            &["--tail"],
        ),
        (&["run", "no/such/dir"], 1, &["has no Cargo.toml"]),
        (
            &["plan"],
            1,
            &["cannot plan the realm", "is not running", "kcdev up"],
        ),
        (&["completions", "tcsh"], 2, &["bash", "zsh", "fish"]),
        (
            &["--json", "completions", "bash"],
            2,
            &["--json does not apply"],
        ),
        (
            &["--json", "logs", "--follow"],
            2,
            &["--json does not apply"],
        ),
        (&["--instance", "", "status"], 2, &["invalid instance name"]),
        (
            &["--instance", "../etc", "status"],
            2,
            &["invalid instance name"],
        ),
    ];
    for (args, code, fragments) in cases {
        let result = run(args);
        assert_eq!(result.code, *code, "{args:?}:\n{}", result.stderr);
        result.failed_with(*code).stderr_has(fragments);
    }
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(left.is_empty(), "refused commands wrote {left:?}");
    kcdev.assert_nothing_created().await;
}
