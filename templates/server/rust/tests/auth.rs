//! The server's own checks, against a fake issuer: the challenge, the metadata, the tools per
//! role, every kind of bad token, and session binding.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{ENCRYPTION_KID, Harness, Logs, PUBLIC_KEY_PEM, sign, start};

use __KCDEV_IDENT__::tools::ADMIN_SCOPE;

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn expected_challenge(harness: &Harness) -> String {
    format!(
        "scope=\"mcp:tools\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        harness.server_url
    )
}

/// `2026-12-04T15:00:00Z`, as the log lines write times.
fn timestamp(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn without_a_token_the_answer_says_where_to_log_in() {
    let (logs, _guard) = Logs::capture();
    let harness = start().await;
    logs.take();
    let response = harness
        .client(None)
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        challenge(&response),
        format!("Bearer {}", expected_challenge(&harness))
    );
    assert_eq!(
        logs.take(),
        ["INFO token refused: no bearer token; POST /mcp"]
    );
}

#[tokio::test]
async fn metadata_names_the_resource_the_realm_and_the_scope() {
    let harness = start().await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let document: Value = reqwest::get(format!("{}{path}", harness.server_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document["resource"], harness.resource.as_str(), "{path}");
        assert_eq!(document["authorization_servers"], json!([harness.issuer]));
        assert_eq!(
            document["scopes_supported"],
            json!(["mcp:tools", ADMIN_SCOPE, "reports:read"]),
            "the required scope, then the optional ones (admin_only's among them)"
        );
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
    }
}

#[tokio::test]
async fn tools_see_the_caller_and_respect_roles() {
    let harness = start().await;
    let mut user = harness.client(Some(harness.token("alice", &["user"], json!({}))));
    user.initialize().await;
    let tools = user.request("tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"whoami") && names.contains(&"admin_only"));

    let whoami = user.call_tool("whoami").await;
    let identity = &whoami["result"]["structuredContent"];
    assert_eq!(identity["subject"], "id-alice");
    assert_eq!(identity["username"], "alice");
    assert_eq!(identity["realm_roles"], json!(["user"]));
    assert!(
        identity["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("mcp:tools"))
    );

    let admin_only = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "admin_only")
        .unwrap();
    assert_eq!(
        admin_only["_meta"]["kcdev/requiredScopes"],
        json!([ADMIN_SCOPE])
    );
    assert!(
        harness.auth.unoffered_tool_scopes().is_empty(),
        "admin_only's scope is among MCP_OPTIONAL_SCOPES"
    );
}

/// `admin_only` needs its scope (checked before the tool runs: 403 naming every
/// scope the call needs, so the client can step up) and the role `admin` (checked by the tool).
#[tokio::test]
async fn admin_only_steps_up_the_scope_and_checks_the_role() {
    let (logs, _guard) = Logs::capture();
    let harness = start().await;
    let with_scope = json!({"scope": format!("openid mcp:tools {ADMIN_SCOPE}")});

    let mut admin = harness.client(Some(harness.token("root", &["user", "admin"], json!({}))));
    admin.initialize().await;
    let response = admin
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "admin_only", "arguments": {}}}))
        .await;
    assert_eq!(response.status().as_u16(), 403);
    let header = challenge(&response);
    assert_eq!(
        header,
        format!(
            "Bearer error=\"insufficient_scope\", error_description=\"missing scope {ADMIN_SCOPE}\", scope=\"mcp:tools {ADMIN_SCOPE}\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            harness.server_url
        )
    );
    assert_eq!(
        logs.take().last().unwrap(),
        &format!(
            "WARN token refused: missing scope {ADMIN_SCOPE} for tool admin_only; POST /mcp; client \"test-client\", user \"root\""
        )
    );
    // Other tools need no more than before.
    let whoami = admin.call_tool("whoami").await;
    assert_eq!(whoami["result"]["structuredContent"]["username"], "root");

    admin.token = Some(harness.token("root", &["user", "admin"], with_scope.clone()));
    let allowed = admin.call_tool("admin_only").await;
    assert_ne!(allowed["result"]["isError"], true, "{allowed}");

    let mut user = harness.client(Some(harness.token("alice", &["user"], with_scope)));
    user.initialize().await;
    let denied = user.call_tool("admin_only").await;
    assert_eq!(denied["result"]["isError"], true);
    assert!(
        denied["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("requires the realm role 'admin'")
    );
}

/// Each refusal answers with a challenge saying why, and logs one line saying the same, with the
/// request and whose token it was, but never the token.
#[tokio::test]
async fn every_kind_of_bad_token_is_refused() {
    let (logs, _guard) = Logs::capture();
    let harness = start().await;
    let good = harness.claims("alice", &["user"], json!({}));
    let past = good["iat"].as_u64().unwrap() - 600;
    let future = good["iat"].as_u64().unwrap() + 600;
    let tampered = {
        let token = harness.token("alice", &["user"], json!({}));
        let parts: Vec<&str> = token.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&harness.claims("alice", &["user", "admin"], json!({}))).unwrap(),
        );
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"test-signing-key"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap())
    );
    let hmac_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(support::KID.to_owned());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(PUBLIC_KEY_PEM)).unwrap()
    };
    let alice = "; client \"test-client\", user \"alice\"";
    let unverified = format!("{alice} (unverified)");
    let resource = &harness.resource;
    // (case, token, status, in the challenge, the log line after `token refused: `)
    let cases: Vec<(&str, String, u16, &str, String)> = vec![
        (
            "garbage",
            "not-a-token".into(),
            401,
            "malformed",
            "malformed token; POST /mcp".into(),
        ),
        (
            "expired",
            harness.token("alice", &["user"], json!({"exp": past})),
            401,
            "expired",
            format!(
                "expired (exp {}, 600 s ago); POST /mcp{unverified}",
                timestamp(past)
            ),
        ),
        (
            "not yet valid",
            harness.token("alice", &["user"], json!({"nbf": future})),
            401,
            "not valid yet",
            format!(
                "not valid yet (nbf {}, in 600 s); POST /mcp{unverified}",
                timestamp(future)
            ),
        ),
        (
            "wrong issuer",
            harness.token(
                "alice",
                &["user"],
                json!({"iss": "http://localhost:8080/realms/other"}),
            ),
            401,
            "issuer",
            format!(
                "issuer \"http://localhost:8080/realms/other\" where {} was expected; POST /mcp{unverified}",
                harness.issuer
            ),
        ),
        (
            "wrong audience",
            harness.token("alice", &["user"], json!({"aud": "account"})),
            401,
            "audience",
            format!("audience [\"account\"] where {resource} was expected; POST /mcp{unverified}"),
        ),
        (
            "no audience",
            harness.token("alice", &["user"], json!({"aud": null})),
            401,
            "audience",
            format!("no audience where {resource} was expected; POST /mcp{unverified}"),
        ),
        (
            "missing scope",
            harness.token("alice", &["user"], json!({"scope": "openid"})),
            403,
            "missing scope mcp:tools",
            format!("missing scope mcp:tools; POST /mcp{alice}"),
        ),
        (
            "tampered payload",
            tampered,
            401,
            "signature",
            format!("bad signature; POST /mcp{unverified}"),
        ),
        (
            "unknown key id",
            sign(&good, "no-such-key"),
            401,
            "unknown signing key",
            format!("unknown signing key \"no-such-key\"; POST /mcp{unverified}"),
        ),
        (
            "encryption key",
            sign(&good, ENCRYPTION_KID),
            401,
            "unknown signing key",
            format!("unknown signing key \"{ENCRYPTION_KID}\"; POST /mcp{unverified}"),
        ),
        (
            "alg none",
            unsigned,
            401,
            "malformed",
            format!("malformed token; POST /mcp{unverified}"),
        ),
        (
            "HS256 with the public key",
            hmac_with_public_key,
            401,
            "not accepted",
            format!(
                "algorithm \"HS256\" not accepted (accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384); POST /mcp{unverified}"
            ),
        ),
        (
            "ID token",
            harness.token("alice", &["user"], json!({"typ": "ID"})),
            401,
            "not an access token",
            format!("not an access token (typ \"ID\"); POST /mcp{unverified}"),
        ),
        (
            "huge header",
            "a".repeat(32 * 1024),
            401,
            "too large",
            "token too large (32768 bytes); POST /mcp".into(),
        ),
    ];
    logs.take();
    for (case, token, status, description, logged) in cases {
        let response = harness
            .client(Some(token.clone()))
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
            .await;
        assert_eq!(response.status().as_u16(), status, "{case}");
        let header = challenge(&response);
        let error = if status == 403 {
            "insufficient_scope"
        } else {
            "invalid_token"
        };
        assert!(
            header.starts_with(&format!("Bearer error=\"{error}\"")),
            "{case}: {header}"
        );
        assert!(header.contains(description), "{case}: {header}");
        assert!(
            header.ends_with(&expected_challenge(&harness)),
            "{case}: {header}"
        );
        let lines = logs.take();
        // A second may pass between signing and checking.
        let late = logged
            .replace("600 s", "601 s")
            .replace("in 601 s", "in 599 s");
        assert!(
            lines == [format!("WARN token refused: {logged}")]
                || lines == [format!("WARN token refused: {late}")],
            "{case}: {lines:?}"
        );
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(
            !lines[0].contains(&token) && (signature.len() < 8 || !lines[0].contains(signature)),
            "{case}: the log shows the token"
        );
    }
}

#[tokio::test]
async fn unknown_key_ids_cannot_make_the_server_hammer_keycloak() {
    let harness = start().await;
    let fetches_at_start = harness
        .jwks_requests
        .load(std::sync::atomic::Ordering::SeqCst);
    let good = harness.claims("alice", &["user"], json!({}));
    for i in 0..50 {
        let response = harness
            .client(Some(sign(&good, &format!("made-up-{i}"))))
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .await;
        assert_eq!(response.status(), 401);
    }
    let extra = harness
        .jwks_requests
        .load(std::sync::atomic::Ordering::SeqCst)
        - fetches_at_start;
    assert!(
        extra <= 1,
        "{extra} key-set downloads for 50 unknown key ids"
    );
}

#[tokio::test]
async fn a_session_belongs_to_the_user_who_opened_it() {
    let harness = start().await;
    let mut alice = harness.client(Some(harness.token("alice", &["user"], json!({}))));
    alice.initialize().await;
    let session = alice.session.clone().expect("a session id");
    let mut bob = harness.client(Some(harness.token("bob", &["user"], json!({}))));
    bob.session = Some(session);
    let response = bob
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        alice.call_tool("whoami").await["result"]["structuredContent"]["username"],
        "alice"
    );
}

#[tokio::test]
async fn a_remembered_token_still_expires() {
    let (logs, _guard) = Logs::capture();
    let harness = start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Valid now (within the 30 s leeway), so it is verified and remembered ...
    let token = harness.token("alice", &["user"], json!({"exp": now - 28}));
    let mut client = harness.client(Some(token));
    client.initialize().await;
    // ... and refused once the leeway has passed, without a new signature check.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let response = client
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(response.status(), 401);
    assert!(
        challenge(&response).contains("expired"),
        "{}",
        challenge(&response)
    );
    let lines = logs.take();
    assert!(
        lines.last().unwrap().starts_with(&format!(
            "WARN token refused: expired (exp {}, ",
            timestamp(now - 28)
        )),
        "{lines:?}"
    );
}
