//! `up` / `status` / `logs` / `down` against the real engine and Keycloak: the whole life of one
//! instance, asserting on what Docker and Keycloak report, not only on exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use bollard::query_parameters::{InspectContainerOptions, StopContainerOptionsBuilder};
use common::{Kcdev, docker, oauth};
use serde_json::Value;

async fn inspect(name: &str) -> Option<bollard::models::ContainerInspectResponse> {
    docker()
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
        .ok()
}

async fn volume_exists(name: &str) -> bool {
    docker().inspect_volume(name).await.is_ok()
}

async fn discovery(kcdev: &Kcdev) -> Value {
    let url = format!(
        "{}/realms/fastmcp/.well-known/openid-configuration",
        kcdev.base_url()
    );
    let response = reqwest::get(&url).await.expect("realm endpoint answers");
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn client_exists(kcdev: &Kcdev, client_id: String) -> bool {
    let admin = kcdev.admin().await;
    let found = admin
        .api()
        .realm_clients_get("fastmcp", Some(client_id), None, None, None, None, None)
        .await
        .unwrap();
    !found.is_empty()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_from_nothing_to_nothing() {
    let kcdev = Kcdev::new("life");
    let container_name = format!("kcdev-{}-keycloak", kcdev.instance);
    let volume_name = format!("kcdev-{}-data", kcdev.instance);

    // up from nothing
    let report = kcdev.up(&[]);
    assert_eq!(report["container_action"], "created");
    assert_eq!(
        report["keycloak_version"],
        kcdev::defaults::keycloak_version()
    );
    let container = inspect(&container_name).await.expect("container exists");
    let first_id = container.id.clone().unwrap();
    let state = container.state.clone().unwrap();
    assert_eq!(state.running, Some(true));
    let host = container.host_config.clone().unwrap();
    assert_eq!(host.memory, Some(1 << 30));
    for (port, binding) in host.port_bindings.unwrap() {
        let binding = &binding.unwrap()[0];
        assert_eq!(
            binding.host_ip.as_deref(),
            Some("127.0.0.1"),
            "{port} must be published on loopback only"
        );
    }
    let labels = container.config.clone().unwrap().labels.unwrap();
    assert_eq!(labels["dev.kcdev.instance"], kcdev.instance);
    assert_eq!(labels["dev.kcdev.managed-by"], "kcdev");
    assert!(volume_exists(&volume_name).await);
    let issuer = format!("{}/realms/fastmcp", kcdev.base_url());
    assert_eq!(discovery(&kcdev).await["issuer"], issuer.as_str());
    assert_eq!(report["realm"]["issuer"], issuer.as_str());

    // the state file is private and holds the generated admin password, which Keycloak accepts
    let state_path = kcdev.state_path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let password = kcdev.state()["admin"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(password.len() >= 20 && password != "admin");
    assert_eq!(report["admin"]["password"], password.as_str());
    kcdev.admin().await;

    // up again: no container work, same container, realm untouched
    let again = kcdev.up(&[]);
    assert_eq!(again["container_action"], "already-running");
    assert_eq!(again["provisioning"]["changes"], serde_json::json!([]));
    let container = inspect(&container_name).await.unwrap();
    assert_eq!(container.id.as_deref(), Some(first_id.as_str()));
    assert_eq!(
        container.state.unwrap().started_at,
        state.started_at,
        "not restarted"
    );
    assert_eq!(
        kcdev.state()["admin"]["password"],
        password.as_str(),
        "password reused"
    );

    // status
    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["ready"], true);
    assert_eq!(status["container"]["status"], "running");
    assert_eq!(
        status["container"]["http"],
        format!("127.0.0.1:{}", kcdev.port).as_str()
    );
    assert_eq!(
        status["container"]["keycloak_version"],
        kcdev::defaults::keycloak_version()
    );
    assert_eq!(status["realm"]["exists"], true);
    assert_eq!(status["realm"]["drift"], serde_json::json!([]));
    let text = kcdev.run(&["status"]).ok();
    assert!(text.stdout.contains("matches the spec"), "{}", text.stdout);

    // logs
    let logs = kcdev.run(&["logs"]).ok();
    assert!(logs.stdout.contains("Listening on"), "{}", logs.stdout);
    let tail = kcdev.run(&["logs", "--tail", "3"]).ok();
    assert_eq!(tail.stdout.lines().count(), 3, "{}", tail.stdout);

    // a registered client, to check that data survives what follows
    let client = oauth::register(
        &kcdev,
        "fastmcp",
        &oauth::public_client("http://localhost:1234/callback", Some("mcp:tools")),
    )
    .await;

    // stopped behind kcdev's back: status says not up, up starts the same container
    let stop = StopContainerOptionsBuilder::default().t(10).build();
    docker()
        .stop_container(&container_name, Some(stop))
        .await
        .unwrap();
    let status = kcdev.run(&["status", "--json"]).failed_with(3).json();
    assert_eq!(status["container"]["status"], "exited");
    assert_eq!(status["ready"], false);
    let restarted = kcdev.up(&[]);
    assert_eq!(restarted["container_action"], "started");
    assert_eq!(
        inspect(&container_name).await.unwrap().id.as_deref(),
        Some(first_id.as_str())
    );
    assert!(client_exists(&kcdev, client.client_id.clone()).await);

    // changed settings: refused without --recreate, and nothing touched
    let mut args = kcdev.up_flags();
    args.extend(["--memory".to_owned(), "1536m".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = kcdev.run(&args).failed_with(1);
    refused.stderr_has(&["memory limit is 1g, wanted 1536m", "--recreate"]);
    assert_eq!(
        inspect(&container_name).await.unwrap().id.as_deref(),
        Some(first_id.as_str())
    );
    let recreated = kcdev.up(&["--memory", "1536m", "--recreate"]);
    assert_eq!(recreated["container_action"], "recreated");
    let container = inspect(&container_name).await.unwrap();
    assert_ne!(container.id.as_deref(), Some(first_id.as_str()));
    assert_eq!(container.host_config.unwrap().memory, Some(1536 << 20));
    assert!(
        client_exists(&kcdev, client.client_id.clone()).await,
        "data volume kept"
    );
    assert_eq!(
        kcdev.up(&[])["container_action"],
        "already-running",
        "the new memory limit is remembered"
    );

    // down keeps data; twice is fine; up brings everything back
    let down = kcdev.run(&["down", "--json"]).ok().json();
    assert_eq!(down["container_removed"], container_name.as_str());
    assert!(inspect(&container_name).await.is_none());
    assert!(volume_exists(&volume_name).await);
    assert!(state_path.exists());
    let twice = kcdev.run(&["down"]).ok();
    assert!(twice.stdout.contains("nothing to stop"), "{}", twice.stdout);
    let back = kcdev.up(&[]);
    assert_eq!(back["container_action"], "created");
    assert_eq!(
        back["provisioning"]["changes"],
        serde_json::json!([]),
        "realm came back from the volume"
    );
    assert!(
        client_exists(&kcdev, client.client_id.clone()).await,
        "registered client survived down + up"
    );

    // down --volumes removes data and state; twice is fine
    let gone = kcdev.run(&["down", "--volumes", "--json"]).ok().json();
    assert_eq!(gone["volumes_removed"], serde_json::json!([volume_name]));
    assert_eq!(gone["state_removed"], true);
    assert!(inspect(&container_name).await.is_none());
    assert!(!volume_exists(&volume_name).await);
    assert!(!state_path.exists());
    kcdev.run(&["down", "--volumes"]).ok();
}
