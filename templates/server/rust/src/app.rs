//! The HTTP application: public metadata and health routes, the protected MCP endpoint, CORS.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::auth::metadata::{self, ProtectedResourceMetadata};
use crate::auth::{AuthState, require_bearer};
use crate::config::{Config, MCP_PATH};
use crate::tools::McpServer;

/// The whole application.
pub fn router(config: &Config, auth: Arc<AuthState>, shutdown: CancellationToken) -> Router {
    router_serving(config, auth, shutdown, McpServer::new)
}

/// The whole application with another MCP handler than `McpServer` (a test's, or one composed
/// of several), made by `server` for each session or self-contained request.
pub fn router_serving<S: ServerHandler>(
    config: &Config,
    auth: Arc<AuthState>,
    shutdown: CancellationToken,
    server: impl Fn() -> S + Send + Sync + 'static,
) -> Router {
    let document = Arc::new(ProtectedResourceMetadata::new(config, &auth));
    let protected = Router::new()
        .nest_service(MCP_PATH, mcp_service(config, shutdown, server))
        .layer(from_fn_with_state(auth, require_bearer));
    let public = Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::serve),
        )
        .route(
            &format!("/.well-known/oauth-protected-resource{MCP_PATH}"),
            get(metadata::serve),
        )
        .with_state(document)
        .route("/healthz", get(|| async { "ok" }));
    public.merge(protected).layer(cors(config))
}

/// The MCP endpoint (Streamable HTTP), serving the handler `server` makes, without the auth
/// layer. Mount it only behind `require_bearer`: tools expect an authenticated caller.
///
/// rmcp runs each request in a task of its own, also within one session (whose worker only
/// relays messages), so a slow tool holds up no other call: tests/parallel_calls.rs.
pub fn mcp_service<S: ServerHandler>(
    config: &Config,
    shutdown: CancellationToken,
    server: impl Fn() -> S + Send + Sync + 'static,
) -> StreamableHttpService<S, LocalSessionManager> {
    // A stateless (2026-07-28) request whose tool sends nothing before its result is answered
    // with plain JSON instead of a one-event SSE stream (rmcp falls back to SSE when the tool
    // sends notifications). Sessions of older clients keep their streams.
    let transport = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_allowed_hosts(config.allowed_hosts())
        .with_cancellation_token(shutdown);
    StreamableHttpService::new(
        move || Ok(server()),
        LocalSessionManager::default().into(),
        transport,
    )
}

/// Browser clients (MCP Inspector's page) may call the server and read the headers they need.
fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        // `Authorization` is not covered by a `*` wildcard: echo what the browser asks for.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
        ])
}
