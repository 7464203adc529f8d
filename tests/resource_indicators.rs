//! `kcdev up --resource-indicators` with two MCP servers on one realm (`--server-url` twice),
//! against the real Keycloak and two running generated servers: a token asked for one server's
//! resource carries that resource alone as its audience, the other server refuses it, a real
//! client library (the Python MCP SDK, which sends `resource`) gets such a token, an unknown
//! resource is refused with `invalid_target`, and switching the mode off converges.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::path::PathBuf;

use common::generated::{RunningServer, generate};
use common::mcp::Mcp;
use common::{Kcdev, free_port, run_interop_script};
use serde_json::{Value, json};

fn token(kcdev: &Kcdev, resource: &str) -> (String, Value) {
    let raw = kcdev
        .run(&["token", "--resource", resource])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let claims = kcdev::oauth::decode_claims(&raw).unwrap();
    (raw, claims)
}

/// The HTTP status of `initialize` with `token` at `url`.
async fn status_with(url: &str, token: &str) -> u16 {
    Mcp::new(url, Some(token.to_owned()))
        .post(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "kcdev-tests", "version": "0"}}}),
        )
        .await
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_server_accepts_only_tokens_for_its_own_resource() {
    let (a, b) = (
        format!("http://localhost:{}", free_port()),
        format!("http://localhost:{}", free_port()),
    );
    let (a_resource, b_resource) = (format!("{a}/mcp"), format!("{b}/mcp"));
    let kcdev = Kcdev::new("ri");
    let report = kcdev.up(&[
        "--server-url",
        &a,
        "--server-url",
        &b,
        "--resource-indicators",
    ]);
    assert_eq!(report["mcp"]["resource_indicators"], true);
    assert_eq!(
        report["mcp"]["additional_resource_urls"],
        json!([b_resource])
    );

    // Keycloak narrows `aud` to the requested resource, and refuses one it does not know.
    let (token_a, claims_a) = token(&kcdev, &a_resource);
    let (token_b, claims_b) = token(&kcdev, &b_resource);
    assert_eq!(claims_a["aud"], a_resource.as_str(), "{claims_a}");
    assert_eq!(claims_b["aud"], b_resource.as_str(), "{claims_b}");
    // A refresh keeps the resource it was issued for, and refuses another.
    let response = kcdev
        .run(&["token", "--resource", &b_resource, "--json"])
        .ok()
        .json();
    let refresh = |resource: Option<String>| {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", "kcdev".to_owned()),
            (
                "refresh_token",
                response["refresh_token"].as_str().unwrap().to_owned(),
            ),
        ];
        form.extend(resource.map(|resource| ("resource", resource)));
        let endpoint = format!(
            "{}/realms/fastmcp/protocol/openid-connect/token",
            kcdev.base_url()
        );
        async move {
            let answer = reqwest::Client::new()
                .post(endpoint)
                .form(&form)
                .send()
                .await
                .unwrap();
            (
                answer.status().as_u16(),
                answer.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, refreshed) = refresh(None).await;
    assert_eq!(status, 200, "{refreshed}");
    let refreshed =
        kcdev::oauth::decode_claims(refreshed["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(refreshed["aud"], b_resource.as_str());
    let (status, refused) = refresh(Some(a_resource.clone())).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_target"))
    );
    kcdev
        .run(&["token", "--resource", &format!("{a}/other")])
        .failed_with(1)
        .stderr_has(&["is not the resource of any", &a_resource, &b_resource]);
    let env_b = kcdev
        .run(&["env", "--server-url", &b, "--json"])
        .ok()
        .json();
    assert_eq!(env_b["MCP_AUDIENCE"], b_resource.as_str());
    assert_eq!(env_b["MCP_SERVER_URL"], b.as_str());

    // Two servers from one generated project, each run as one of the instance's servers.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-ri-server-{}", std::process::id()));
    generate(&kcdev, &dir);
    let _server_a = RunningServer::start(&kcdev, &dir, None, &a).await;
    let _server_b = RunningServer::start(&kcdev, &dir, Some(&b), &b).await;
    assert_eq!(status_with(&a_resource, &token_a).await, 200);
    assert_eq!(status_with(&b_resource, &token_b).await, 200);
    assert_eq!(
        status_with(&b_resource, &token_a).await,
        401,
        "A's token at B"
    );
    assert_eq!(
        status_with(&a_resource, &token_b).await,
        401,
        "B's token at A"
    );

    // A real client sends `resource` itself and gets the narrowed token.
    let result = run_interop_script(
        "mcp_sdk_client.py",
        &[&b_resource, "testuser", "password123", "--call", "whoami"],
    );
    assert_eq!(result["resource_requested"], b_resource.as_str());
    assert_eq!(
        result["token_claims"]["aud"],
        b_resource.as_str(),
        "{result}"
    );
    assert_eq!(result["calls"]["whoami"]["is_error"], false, "{result}");

    let doctor = kcdev
        .run(&["doctor", "--server-url", &b, "--json"])
        .ok()
        .json();
    let checks = doctor["checks"].as_array().unwrap();
    assert!(
        checks.iter().all(|check| check["status"] == "pass"),
        "{doctor}"
    );
    assert!(checks.iter().any(|check| check["name"] == "resources"));

    // Off: the container is replaced without the feature, and a token for A carries every
    // server's audiences again (B accepts it too); no other change to the realm.
    let off = kcdev.up(&["--no-resource-indicators"]);
    assert_eq!(off["container_action"], "recreated");
    assert_eq!(off["provisioning"]["changes"], json!([]), "{off}");
    let (wide, claims) = token(&kcdev, &a_resource);
    let audiences = claims["aud"].as_array().unwrap();
    for audience in [&a_resource, &a, &b_resource, &b] {
        assert!(audiences.contains(&json!(audience)), "{claims}");
    }
    assert_eq!(status_with(&b_resource, &wide).await, 200);

    // One server fewer: its audiences leave the tokens.
    let single = kcdev.up(&["--server-url", &a]);
    let deleted = single["provisioning"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["kind"] == "delete")
        .count();
    // Two audience mappers on each of the three scopes that carry them.
    assert_eq!(deleted, 6, "{}", single["provisioning"]);
    let (_, claims) = token(&kcdev, &a_resource);
    assert!(
        !claims["aud"]
            .as_array()
            .unwrap()
            .contains(&json!(b_resource)),
        "{claims}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
