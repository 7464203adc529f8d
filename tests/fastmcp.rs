//! Python FastMCP authors: a FastMCP server configured as FastMCP's Keycloak page shows (with
//! the audience check the page recommends) works against a kcdev realm, with FastMCP's own
//! OAuth client doing discovery, registration and login.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use common::fastmcp::FastMcpServer;
use common::{Kcdev, free_port, run_interop_script};
use serde_json::Value;

fn client(url: &str, user: &str) -> Value {
    run_interop_script("fastmcp_client.py", &[url, user, "password123"])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fastmcp_server_as_the_fastmcp_page_shows_works_against_the_realm() {
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let kcdev = Kcdev::new("fastmcp");
    let report = kcdev.up(&["--server-url", &base]);
    // What `up` prints for FastMCP is what this server is configured with.
    let issuer = report["realm"]["issuer"].as_str().unwrap().to_owned();
    assert_eq!(
        issuer,
        format!("{}/realms/fastmcp", kcdev.base_url()),
        "the realm FastMCP's examples use"
    );

    let _server = FastMcpServer::start(&issuer, &base, port).await;

    let url = format!("{base}/mcp");
    let user = client(&url, "testuser");
    assert!(
        user["claims"]["sub"]
            .as_str()
            .is_some_and(|sub| !sub.is_empty()),
        "{user}"
    );
    assert!(
        user["claims"]["scope"].as_str().unwrap().contains("openid"),
        "FastMCP's default required scope"
    );
    assert_eq!(user["admin"]["is_error"], true, "{user}");
    assert!(
        user["admin"]["text"]
            .as_str()
            .unwrap()
            .contains("requires admin access")
    );

    let admin = client(&url, "testadmin");
    assert_eq!(admin["admin"]["is_error"], false, "{admin}");
    assert_eq!(admin["admin"]["text"], "Admin access granted!");
}
