use std::sync::Arc;

use anyhow::Context as _;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use __KCDEV_IDENT__::auth::AuthState;
use __KCDEV_IDENT__::tools::McpServer;
use __KCDEV_IDENT__::{app, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env()?;
    let auth = AuthState::discover(&config, McpServer::tool_scopes())
        .await
        .with_context(|| {
            format!(
                "cannot load the signing keys of {} (is Keycloak up? try `kcdev up`)",
                config.issuer
            )
        })?;
    for (tool, scope) in auth.unoffered_tool_scopes() {
        tracing::warn!(
            "tool {tool} declares scope {scope}, which is in neither MCP_REQUIRED_SCOPES nor MCP_OPTIONAL_SCOPES: the realm may never issue it; declare it in kcdev.toml under the server's `scopes` with `assigned = \"optional\"`, then `kcdev up`"
        );
    }
    let shutdown = CancellationToken::new();
    let app = app::router(&config, Arc::new(auth), shutdown.clone());
    let listener = TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "cannot listen on {} (set MCP_BIND or MCP_SERVER_URL)",
            config.bind
        )
    })?;
    tracing::info!(resource = %config.resource, issuer = %config.issuer, "MCP server listening on {}", config.bind);
    // Without TCP_NODELAY every Streamable HTTP response waits on a delayed ACK (~40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop_signal().await;
            tracing::info!("shutting down");
            shutdown.cancel();
        })
        .await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
