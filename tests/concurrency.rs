//! Concurrent and careless use: two `up`s of one instance at once, two instances racing for one
//! host port, and `--port auto`. Each boots a real Keycloak.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::process::{Child, Command, Stdio};

use common::{Kcdev, Run, test_image};

fn spawn(kcdev: &Kcdev, args: &[&str]) -> Child {
    let mut command: Command = kcdev.command(args);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("start kcdev")
}

fn finish(child: Child) -> Run {
    let output = child.wait_with_output().expect("wait for kcdev");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn two_ups_of_one_instance_at_once_both_succeed_on_auto_ports() {
    let kcdev = Kcdev::new("twoups");
    let image = test_image();
    let owned = Kcdev::auto_port_up_args(&image);
    let args: Vec<&str> = owned.iter().map(String::as_str).collect();
    let first = spawn(&kcdev, &args);
    let second = spawn(&kcdev, &args);
    let (first, second) = (finish(first).ok(), finish(second).ok());
    let (a, b) = (first.json(), second.json());

    let waited: Vec<&Run> = [&first, &second]
        .into_iter()
        // "Waiting for kcdev up (pid N) to finish with instance ...", or "Waiting for another
        // kcdev to finish ..." when it looked before the holder had written who it is.
        .filter(|run| run.stderr.contains("to finish with instance"))
        .collect();
    assert_eq!(
        waited.len(),
        1,
        "exactly one waited, saying for what:\n{first:?}\n{second:?}"
    );
    assert!(waited[0].stderr.contains("at most"), "{}", waited[0].stderr);

    let actions = [&a, &b].map(|report| report["container_action"].as_str().unwrap().to_owned());
    assert!(actions.contains(&"created".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"already-running".to_owned()),
        "{actions:?}"
    );
    let later = if a["container_action"] == "already-running" {
        &a
    } else {
        &b
    };
    assert_eq!(
        later["provisioning"]["changes"],
        serde_json::json!([]),
        "found converged"
    );

    // `auto` chose real ports, once, and every later command uses them.
    assert_eq!(a["keycloak_url"], b["keycloak_url"]);
    let state = kcdev.state();
    let http = state["container"]["http_port"].as_u64().unwrap();
    let management = state["container"]["management_port"].as_u64().unwrap();
    assert!(http > 0 && management > 0 && http != management);
    assert_eq!(a["keycloak_url"], format!("http://localhost:{http}"));
    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["container"]["http"], format!("127.0.0.1:{http}"));
    assert_eq!(
        status["container"]["management"],
        format!("127.0.0.1:{management}")
    );
    let token = kcdev.run(&["token", "-q"]).ok();
    assert_eq!(
        token.stdout.split('.').count(),
        3,
        "a JWT: {}",
        token.stdout
    );

    // A later `up` without port flags, or with `auto` again, keeps the ports.
    let again = kcdev.run(&["up", "--port", "auto", "--json"]).ok().json();
    assert_eq!(again["container_action"], "already-running");
    assert_eq!(again["keycloak_url"], format!("http://localhost:{http}"));
}

#[tokio::test]
async fn two_instances_racing_for_one_port_one_wins_the_other_is_told() {
    let winner_or_loser = [Kcdev::new("racea"), Kcdev::new("raceb")];
    let port = winner_or_loser[0].port.to_string();
    let image = test_image();
    let children: Vec<Child> = winner_or_loser
        .iter()
        .map(|kcdev| {
            let management = kcdev.management_port.to_string();
            spawn(
                kcdev,
                &[
                    "up",
                    "--image",
                    &image,
                    "--pull",
                    "never",
                    "--port",
                    &port,
                    "--management-port",
                    &management,
                ],
            )
        })
        .collect();
    let runs: Vec<Run> = children.into_iter().map(finish).collect();
    let winners = runs.iter().filter(|run| run.code == 0).count();
    assert_eq!(winners, 1, "exactly one got the port:\n{runs:?}");
    let (loser, loser_kcdev) = runs
        .into_iter()
        .zip(&winner_or_loser)
        .find(|(run, _)| run.code != 0)
        .unwrap();
    loser.failed_with(1).stderr_has(&[
        &format!("port {port} on 127.0.0.1 is already in use"),
        "--port <PORT>",
    ]);
    // The loser left nothing behind.
    loser_kcdev.assert_nothing_created().await;
}
