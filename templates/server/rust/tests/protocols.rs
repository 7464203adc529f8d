//! The server with rmcp's own client, in both protocol generations, against the fake issuer:
//! rmcp's default `serve` (the `initialize` handshake, a 2025-11-25 session) and its
//! `server/discover` lifecycle (2026-07-28, self-contained requests, no session). The same
//! token, the same checks, the same tools, and the same step-up refusal on both.

mod support;

use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ServiceError, ServiceExt};
use serde_json::json;
use support::{Harness, start};

fn transport(harness: &Harness, token: String) -> StreamableHttpClientTransport<reqwest::Client> {
    StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(harness.resource.clone()).auth_header(token),
    )
}

/// `whoami` answers with the token's user; `admin_only` without `mcp:admin` is refused before
/// the tool runs (403, which rmcp's client reports as a transport error).
async fn calls_whoami_and_is_refused_admin_only(client: &RunningService<RoleClient, ()>) {
    let whoami = client
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .unwrap();
    let identity = whoami.structured_content.unwrap();
    assert_eq!(identity["username"], "alice");
    let refused = client
        .call_tool(CallToolRequestParams::new("admin_only"))
        .await;
    assert!(
        matches!(refused, Err(ServiceError::TransportSend(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn rmcp_client_with_the_initialize_handshake() {
    let harness = start().await;
    let token = harness.token("alice", &["user"], json!({}));
    let client = ().serve(transport(&harness, token)).await.unwrap();
    let version = client.peer_info().unwrap().protocol_version.clone();
    assert_eq!(version, ProtocolVersion::V_2025_11_25);
    calls_whoami_and_is_refused_admin_only(&client).await;
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn rmcp_client_with_server_discover_speaks_2026_07_28() {
    let harness = start().await;
    let token = harness.token("alice", &["user"], json!({}));
    let lifecycle = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = ().serve_with_lifecycle(transport(&harness, token), lifecycle).await.unwrap();
    let version = client.peer_info().unwrap().protocol_version.clone();
    assert_eq!(version, ProtocolVersion::V_2026_07_28);
    calls_whoami_and_is_refused_admin_only(&client).await;
    client.cancel().await.unwrap();
}
