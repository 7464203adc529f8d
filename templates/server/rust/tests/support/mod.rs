//! Test support: a fake issuer (discovery document and key set, signed with a test key) and a
//! minimal MCP-over-HTTP client, so the server's checks are tested without Keycloak.
#![allow(dead_code)]

use std::io;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rmcp::ServerHandler;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use __KCDEV_IDENT__::auth::AuthState;
use __KCDEV_IDENT__::tools::{ADMIN_SCOPE, McpServer};
use __KCDEV_IDENT__::{app, config::Config};

/// A private key for tests only; the server trusts it through the fake issuer.
pub const SIGNING_KEY_PEM: &[u8] = include_bytes!("test-signing-key.pem");
/// Its public half, which an attacker could use as an HMAC secret.
pub const PUBLIC_KEY_PEM: &[u8] = include_bytes!("test-signing-key.pub.pem");
pub const KID: &str = "test-signing-key";
pub const ENCRYPTION_KID: &str = "test-encryption-key";

/// The server under test, with its fake issuer.
pub struct Harness {
    pub resource: String,
    pub server_url: String,
    pub issuer: String,
    pub jwks_requests: Arc<AtomicUsize>,
    pub auth: Arc<AuthState>,
    shutdown: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwks() -> JwkSet {
    let key = EncodingKey::from_rsa_pem(SIGNING_KEY_PEM).unwrap();
    let mut signing = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    signing.common.key_id = Some(KID.to_owned());
    // Keycloak also publishes an encryption key; tokens naming it must fail.
    let mut encryption: Jwk =
        serde_json::from_value(serde_json::to_value(&signing).unwrap()).unwrap();
    encryption.common.key_id = Some(ENCRYPTION_KID.to_owned());
    encryption.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Encryption);
    encryption.common.key_algorithm = Some(jsonwebtoken::jwk::KeyAlgorithm::RSA_OAEP);
    JwkSet {
        keys: vec![signing, encryption],
    }
}

async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
}

/// Starts a fake issuer and the server configured against it.
pub async fn start() -> Harness {
    start_serving(McpServer::new).await
}

/// `start`, with the MCP handler `server` makes instead of `McpServer`.
pub async fn start_serving<S: ServerHandler>(
    server: impl Fn() -> S + Send + Sync + 'static,
) -> Harness {
    let shutdown = CancellationToken::new();
    let issuer_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "http://127.0.0.1:{}/realms/test",
        issuer_listener.local_addr().unwrap().port()
    );
    let jwks_requests = Arc::new(AtomicUsize::new(0));
    let discovery =
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/protocol/openid-connect/certs")});
    let counter = jwks_requests.clone();
    let issuer_app = Router::new()
        .route(
            "/realms/test/.well-known/openid-configuration",
            get(move || async move { axum::Json(discovery) }),
        )
        .route(
            "/realms/test/protocol/openid-connect/certs",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { axum::Json(jwks()) }
            }),
        );
    serve(issuer_listener, issuer_app, shutdown.clone()).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_url = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    // The scopes are set here rather than left to the defaults kcdev wrote, which follow the
    // realm the project was generated for.
    let vars = [
        ("KEYCLOAK_REALM_URL", issuer.clone()),
        ("MCP_SERVER_URL", server_url.clone()),
        ("MCP_REQUIRED_SCOPES", "mcp:tools".to_owned()),
        ("MCP_OPTIONAL_SCOPES", format!("{ADMIN_SCOPE} reports:read")),
    ];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let auth = Arc::new(
        AuthState::discover(&config, McpServer::tool_scopes())
            .await
            .unwrap(),
    );
    serve(
        listener,
        app::router_serving(&config, auth.clone(), shutdown.clone(), server),
        shutdown.clone(),
    )
    .await;
    Harness {
        resource: config.resource.clone(),
        server_url,
        issuer,
        jwks_requests,
        auth,
        shutdown,
    }
}

impl Harness {
    /// Claims of a good token for `user`, with `changes` applied (`null` removes a claim).
    pub fn claims(&self, user: &str, roles: &[&str], changes: Value) -> Value {
        let mut claims = json!({
            "iss": self.issuer,
            "aud": [self.resource, self.server_url],
            "sub": format!("id-{user}"),
            "preferred_username": user,
            "azp": "test-client",
            "typ": "Bearer",
            "iat": now(),
            "exp": now() + 300,
            "scope": "openid mcp:tools",
            "realm_access": {"roles": roles},
        });
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        claims
    }

    /// A signed token for `user` with `changes`.
    pub fn token(&self, user: &str, roles: &[&str], changes: Value) -> String {
        sign(&self.claims(user, roles, changes), KID)
    }

    /// An MCP client for this server.
    pub fn client(&self, token: Option<String>) -> Mcp {
        Mcp {
            http: reqwest::Client::new(),
            url: self.resource.clone(),
            token,
            session: None,
            protocol_version: "2025-06-18",
            next_id: AtomicI64::new(1),
        }
    }
}

/// What the server logs while a test runs. `#[tokio::test]` runs the test and the server's tasks on
/// one thread, so a subscriber set for that thread sees the server's events and no other test's.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Captures this thread's events (at `info` and above) until the guard is dropped.
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// The lines logged so far, as `LEVEL message`, emptying the capture.
    pub fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| line.trim().to_owned())
            .collect()
    }
}

impl io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Claims signed RS256 with the test key, naming key `kid`.
pub fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(SIGNING_KEY_PEM).unwrap(),
    )
    .unwrap()
}

/// A minimal Streamable HTTP client: JSON-RPC over POST, answers as JSON or SSE.
pub struct Mcp {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
    pub session: Option<String>,
    /// Sent in `initialize` and in every request's `MCP-Protocol-Version`.
    pub protocol_version: &'static str,
    /// JSON-RPC ids, distinct within a session: requests may be in flight together.
    next_id: AtomicI64,
}

impl Mcp {
    /// POSTs a JSON-RPC message.
    pub async fn post(&self, message: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", self.protocol_version)
            .json(message);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.unwrap()
    }

    /// Sends a request and returns its JSON-RPC response.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let response = self
            .post(&json!({
                "jsonrpc": "2.0",
                "id": self.next_id.fetch_add(1, Ordering::Relaxed),
                "method": method,
                "params": params,
            }))
            .await;
        assert!(
            response.status().is_success(),
            "{method}: HTTP {}",
            response.status()
        );
        parse_response(&response.text().await.unwrap())
    }

    /// `initialize` + `notifications/initialized`; keeps the session id.
    pub async fn initialize(&mut self) -> Value {
        let response = self
            .post(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": self.protocol_version,
                    "capabilities": {},
                    "clientInfo": {"name": "test", "version": "0"}
                }}),
            )
            .await;
        assert!(
            response.status().is_success(),
            "initialize: HTTP {}",
            response.status()
        );
        self.session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let result = parse_response(&response.text().await.unwrap());
        let notified = self
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert!(notified.status().is_success());
        result
    }

    /// `tools/call` without arguments.
    pub async fn call_tool(&self, name: &str) -> Value {
        self.call_tool_with(name, json!({})).await
    }

    /// `tools/call` with `arguments`.
    pub async fn call_tool_with(&self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// A self-contained 2026-07-28 `tools/call`, outside any session: the protocol version in
    /// the header and in `_meta`, the method and the tool named in headers.
    pub async fn stateless_call(&self, name: &str, arguments: Value) -> Value {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", name)
            .json(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                    "name": name,
                    "arguments": arguments,
                    "_meta": {
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientCapabilities": {},
                    },
                }}),
            );
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{name}: HTTP {}",
            response.status()
        );
        assert!(response.headers().get("mcp-session-id").is_none());
        parse_response(&response.text().await.unwrap())
    }
}

/// The JSON-RPC response in a JSON body or in an SSE stream's `data:` lines.
pub fn parse_response(body: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return value;
    }
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message.get("id").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC response in {body:?}"))
}
