//! `kcdev up --cimd`: Client ID Metadata Documents against the real Keycloak. The documents are
//! served by a container this test starts on a Docker network it creates, which the Keycloak
//! container joins, so Keycloak fetches them without leaving the machine. A real client library
//! (the Python MCP SDK, which implements CIMD) logs in with a document URL as its client id and
//! calls a tool of the FastMCP server the seed page describes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly

mod common;

use std::process::Command;

use common::fastmcp::FastMcpServer;
use common::oauth::{self, audiences};
use common::{DOC_SERVER, Kcdev, free_port, run_interop_script, test_image};
use serde_json::{Value, json};

/// The host name the document server answers to on the test's network.
const DOCS_HOST: &str = "cimd-docs";
/// The redirect URI the test client's document lists (nothing listens there: the login stops at
/// the redirect).
const REDIRECT_URI: &str = "http://localhost:39125/callback";

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn doc_url(name: &str) -> String {
    format!("http://{DOCS_HOST}:8080/{name}")
}

fn document(client_id: &str, redirect_uri: &str) -> String {
    json!({
        "client_id": client_id,
        "client_name": "kcdev CIMD test client",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

/// The test's network and document server; both go when dropped, also when the test fails.
struct DocumentServer {
    network: String,
    container: String,
    keycloak: String,
}

impl DocumentServer {
    /// Serves `documents` (name, JSON) at `http://cimd-docs:8080/<name>` to the containers on a
    /// new network, which `keycloak` joins.
    fn start(label: &str, keycloak: &str, documents: &[(&str, String)]) -> Self {
        let network = format!("kcdev-test-{label}-{}", std::process::id());
        let server = Self {
            container: format!("{network}-docs"),
            network,
            keycloak: keycloak.to_owned(),
        };
        docker(&["network", "create", &server.network]);
        let mut args = vec![
            "run".to_owned(),
            "-d".to_owned(),
            "--name".to_owned(),
            server.container.clone(),
            "--network".to_owned(),
            server.network.clone(),
            "--network-alias".to_owned(),
            DOCS_HOST.to_owned(),
            "--entrypoint".to_owned(),
            "/usr/bin/perl".to_owned(),
        ];
        for (name, body) in documents {
            let variable: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            args.extend(["-e".to_owned(), format!("DOC_{variable}={body}")]);
        }
        args.extend([test_image(), "-e".to_owned(), DOC_SERVER.to_owned()]);
        docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
        docker(&["network", "connect", &server.network, keycloak]);
        server
    }
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.container])
            .output();
        // A network goes only once no container is attached to it.
        let _ = Command::new("docker")
            .args(["network", "disconnect", "-f", &self.network, &self.keycloak])
            .output();
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .output();
    }
}

/// The test's documents are on plain HTTP, on a host the test names: the realm's CIMD profile
/// and policy are widened to allow that, in this test only (kcdev itself admits https only).
async fn allow_http_documents(kcdev: &Kcdev, realm: &str) {
    let admin = kcdev.admin().await;
    let api = admin.api();
    let mut profiles = api
        .realm_client_policies_profiles_get(realm, Some(false))
        .await
        .unwrap();
    for profile in profiles.profiles.iter_mut().flatten() {
        for executor in profile.executors.iter_mut().flatten() {
            if let Some(configuration) = executor.configuration.as_mut() {
                configuration.insert("cimd-allow-http-scheme".into(), json!(true));
            }
        }
    }
    api.realm_client_policies_profiles_put(realm, profiles)
        .await
        .unwrap();
    let mut policies = api
        .realm_client_policies_policies_get(realm, Some(false))
        .await
        .unwrap();
    for policy in policies.policies.iter_mut().flatten() {
        for condition in policy.conditions.iter_mut().flatten() {
            if let Some(configuration) = condition.configuration.as_mut() {
                configuration.insert("client-id-uri-scheme".into(), json!(["http", "https"]));
            }
        }
    }
    api.realm_client_policies_policies_put(realm, policies)
        .await
        .unwrap();
}

async fn discovery(kcdev: &Kcdev) -> Value {
    reqwest::get(format!(
        "{}/realms/fastmcp/.well-known/oauth-authorization-server",
        kcdev.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// The status of an authorization request by `client_id` to `redirect_uri`: 200 is Keycloak's
/// login page (the client was admitted), 400 its error page.
async fn authorization_status(kcdev: &Kcdev, client_id: &str, redirect_uri: &str) -> u16 {
    let url = reqwest::Url::parse_with_params(
        &format!(
            "{}/realms/fastmcp/protocol/openid-connect/auth",
            kcdev.base_url()
        ),
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn cimd_clients_log_in_with_a_document_url_and_get_the_full_claims() {
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let kcdev = Kcdev::new("cimd");
    let report = kcdev.up(&["--server-url", &base, "--cimd", "--cimd-domain", DOCS_HOST]);
    assert!(
        report["registration"]["cimd_domains"]
            .as_array()
            .unwrap()
            .contains(&json!(DOCS_HOST)),
        "{}",
        report["registration"]
    );
    let metadata = discovery(&kcdev).await;
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    assert!(
        metadata["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none")),
        "{metadata}"
    );
    let doctor = kcdev.run(&["doctor", "--json"]).ok().json();
    let checks = doctor["checks"].as_array().unwrap();
    let status = |name: &str| {
        checks
            .iter()
            .find(|check| check["name"] == name)
            .map(|check| check["status"].clone())
    };
    assert_eq!(status("cimd"), Some(json!("pass")), "{doctor}");
    assert_eq!(status("realm"), Some(json!("pass")), "{doctor}");
    // kcdev's own policy admits https documents only: an http one is not taken for CIMD.
    let client_url = doc_url("client.json");
    let keycloak = format!("kcdev-{}-keycloak", kcdev.instance);
    let _docs = DocumentServer::start(
        "cimd",
        &keycloak,
        &[
            ("client.json", document(&client_url, REDIRECT_URI)),
            (
                "mismatch.json",
                document(&doc_url("someone-else.json"), REDIRECT_URI),
            ),
        ],
    );
    assert_eq!(
        authorization_status(&kcdev, &client_url, REDIRECT_URI).await,
        400
    );
    allow_http_documents(&kcdev, "fastmcp").await;

    // Refused: a document whose client_id is not its URL, a redirect URI it does not list, and
    // a document that is not there.
    assert_eq!(
        authorization_status(&kcdev, &doc_url("mismatch.json"), REDIRECT_URI).await,
        400
    );
    assert_eq!(
        authorization_status(&kcdev, &client_url, "http://localhost:39126/callback").await,
        400
    );
    assert_eq!(
        authorization_status(&kcdev, &doc_url("absent.json"), REDIRECT_URI).await,
        400
    );

    // The Python MCP SDK, told its client id is the document URL, uses it because discovery
    // advertises CIMD; against the seed page's FastMCP server (audience = base URL).
    let issuer = report["realm"]["issuer"].as_str().unwrap().to_owned();
    let _server = FastMcpServer::start(&issuer, &base, port).await;
    let result = run_interop_script(
        "mcp_sdk_client.py",
        &[
            &format!("{base}/mcp"),
            "testuser",
            "password123",
            "--client-metadata-url",
            &client_url,
            "--redirect-uri",
            REDIRECT_URI,
            "--allow-http-metadata-url",
            "--call",
            "get_access_token_claims",
        ],
    );
    assert_eq!(result["client_id"], client_url.as_str(), "{result}");
    let claims = &result["token_claims"];
    assert_eq!(claims["azp"], client_url.as_str(), "{claims}");
    let aud = audiences(claims);
    for audience in [format!("{base}/mcp"), base.clone()] {
        assert!(aud.contains(&audience), "{claims}");
    }
    let scope = claims["scope"].as_str().unwrap();
    assert!(scope.contains("mcp:tools"), "{claims}");
    assert!(
        claims["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("user")),
        "{claims}"
    );
    assert_eq!(claims["preferred_username"], "testuser", "{claims}");
    // What Keycloak 26.7.5 made of the document: a client named by its URL, consent required
    // (the login above accepted the consent page), no full scope (hence the realm roles mapped
    // to `mcp:tools`), the realm's default scopes.
    let admin = kcdev.admin().await;
    let created = admin
        .find_client("fastmcp", &client_url)
        .await
        .unwrap()
        .expect("Keycloak made a client of the document");
    assert_eq!(created.consent_required, Some(true));
    assert_eq!(created.full_scope_allowed, Some(false));
    assert_eq!(created.public_client, Some(true));
    let default_scopes = created.default_client_scopes.clone().unwrap_or_default();
    for scope in ["mcp:tools", "basic", "roles"] {
        assert!(
            default_scopes.iter().any(|s| s == scope),
            "{default_scopes:?}"
        );
    }
    // Step-up works for a document without `scope`: Keycloak gives it the realm's optional
    // scopes, `mcp:admin` among them, and a login asking for it gets it.
    let optional_scopes = created.optional_client_scopes.clone().unwrap_or_default();
    assert!(
        optional_scopes.iter().any(|s| s == "mcp:admin"),
        "{optional_scopes:?}"
    );
    let stepped_up = oauth::login(
        &kcdev,
        "fastmcp",
        &oauth::pre_registered(&client_url, REDIRECT_URI),
        "testadmin",
        "password123",
        Some("openid mcp:tools mcp:admin"),
    )
    .await;
    let claims = oauth::validate(
        &kcdev,
        "fastmcp",
        &stepped_up.access_token,
        &format!("{base}/mcp"),
    )
    .await;
    let scope = claims["scope"].as_str().unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "mcp:admin"), "{claims}");
    assert!(audiences(&claims).contains(&base), "{claims}");
    let called = &result["calls"]["get_access_token_claims"];
    assert_eq!(called["is_error"], false, "{result}");
    assert_eq!(called["structured"]["azp"], client_url.as_str(), "{result}");

    // Off again: the container is replaced without the feature, the volume and the realm stay,
    // the profile and policy go, and the next `up` changes nothing.
    let off = kcdev.up(&["--no-cimd"]);
    assert_eq!(off["container_action"], "recreated", "{off}");
    let changed: Vec<&str> = off["provisioning"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["object"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        ["client policy kcdev-cimd", "client profile kcdev-cimd"],
        "{off}"
    );
    assert!(off["registration"]["cimd_domains"].is_null());
    let metadata = discovery(&kcdev).await;
    assert_ne!(metadata["client_id_metadata_document_supported"], true);
    let again = kcdev.up(&[]);
    assert_eq!(again["provisioning"]["changes"], json!([]), "{again}");
    assert_eq!(again["container_action"], "already-running");
}
