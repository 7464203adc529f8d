//! What the auth layer costs: authenticated `tools/call whoami` against this server, beside the
//! same server with token verification replaced by fixed claims, at a few concurrency levels.
//!
//!     MCP_BENCH_TOKEN=$(kcdev token) cargo bench --bench auth_overhead
//!
//! Each concurrency level is measured in `ROUNDS` alternating rounds (the load generator shares
//! the machine with both servers, so single runs are noisy) and the medians are reported. It also
//! counts key-set downloads during the runs: verifying a token must not call Keycloak.
//! `MCP_BENCH_SECONDS` sets the length of each run (default 5).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use __KCDEV_IDENT__::app;
use __KCDEV_IDENT__::auth::AuthState;
use __KCDEV_IDENT__::config::{Config, MCP_PATH};
use __KCDEV_IDENT__::tools::McpServer;

const CONCURRENCY: [usize; 3] = [1, 8, 32];
const ROUNDS: usize = 5;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let Ok(token) = std::env::var("MCP_BENCH_TOKEN") else {
        eprintln!(
            "skipped: set MCP_BENCH_TOKEN to an access token, e.g. MCP_BENCH_TOKEN=$(kcdev token) cargo bench"
        );
        return Ok(());
    };
    let seconds: u64 = std::env::var("MCP_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let config = Config::from_env()?;
    let auth = Arc::new(AuthState::discover(&config, McpServer::tool_scopes()).await?);
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let claims = auth
        .authenticate(&headers)
        .await
        .map_err(|err| anyhow::anyhow!("MCP_BENCH_TOKEN is not accepted: {err}"))?;

    let shutdown = CancellationToken::new();
    let with_auth = serve(
        app::router(&config, auth.clone(), shutdown.clone()),
        &shutdown,
    )
    .await?;
    let baseline = Router::new()
        .nest_service(
            MCP_PATH,
            app::mcp_service(&config, shutdown.clone(), McpServer::new),
        )
        .layer(axum::Extension(claims));
    let without_auth = serve(baseline, &shutdown).await?;

    println!("authenticated tools/call whoami, median of {ROUNDS} alternating runs of {seconds} s");
    println!(
        "{:>11}  {:<13} {:>9} {:>9} {:>9}",
        "concurrency", "server", "req/s", "p50 ms", "p99 ms"
    );
    let downloads_before = auth.verifier().jwks().fetch_count();
    for concurrency in CONCURRENCY {
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            // Alternate which server goes first, so drift in the machine's load evens out.
            let order = if round % 2 == 0 {
                [&with_auth, &without_auth]
            } else {
                [&without_auth, &with_auth]
            };
            for url in order {
                let run = measure(url, &token, concurrency, seconds).await?;
                if url == &with_auth {
                    with.push(run)
                } else {
                    without.push(run)
                }
            }
        }
        let (measured, baseline) = (Measurement::median(with), Measurement::median(without));
        println!("{concurrency:>11}  {:<13} {}", "auth layer", measured.row());
        println!(
            "{concurrency:>11}  {:<13} {}",
            "no auth layer",
            baseline.row()
        );
        println!(
            "{:>11}  {:<13} {:>8.1}%",
            "",
            "cost",
            100.0 * (1.0 - measured.rate / baseline.rate)
        );
    }
    println!(
        "key-set downloads during the runs: {}",
        auth.verifier().jwks().fetch_count() - downloads_before
    );
    // The auth check alone, without HTTP or MCP: what each request pays for it.
    const CHECKS: u32 = 100_000;
    let started = Instant::now();
    for _ in 0..CHECKS {
        auth.authenticate(&headers)
            .await
            .map_err(|err| anyhow::anyhow!("{err}"))?;
    }
    println!(
        "auth check of a token already verified once: {:.2} µs per request",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(CHECKS)
    );
    shutdown.cancel();
    Ok(())
}

async fn serve(router: Router, shutdown: &CancellationToken) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!(
        "http://127.0.0.1:{}{MCP_PATH}",
        listener.local_addr()?.port()
    );
    let shutdown = shutdown.clone();
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Ok(url)
}

struct Measurement {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

impl Measurement {
    /// Median of each figure over several runs.
    fn median(mut runs: Vec<Self>) -> Self {
        let middle = runs.len() / 2;
        runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let rate = runs[middle].rate;
        runs.sort_by_key(|run| run.p50);
        let p50 = runs[middle].p50;
        runs.sort_by_key(|run| run.p99);
        Self {
            rate,
            p50,
            p99: runs[middle].p99,
        }
    }

    fn row(&self) -> String {
        format!(
            "{:>9.0} {:>9.2} {:>9.2}",
            self.rate,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0
        )
    }
}

async fn measure(
    url: &str,
    token: &str,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<Measurement> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (url, token) = (url.to_owned(), token.to_owned());
        workers.push(tokio::spawn(
            async move { worker(&url, &token, deadline).await },
        ));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Measurement {
        rate: latencies.len() as f64 / seconds as f64,
        p50: percentile(0.50),
        p99: percentile(0.99),
    })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    session: Option<&str>,
    body: serde_json::Value,
) -> anyhow::Result<reqwest::Response> {
    let mut request = http
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body);
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    Ok(request.send().await?.error_for_status()?)
}

/// One client: opens a session, then calls `whoami` until the deadline; returns the latencies.
async fn worker(url: &str, token: &str, deadline: Instant) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}});
    let response = post(&http, url, token, None, init).await?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session id"))?;
    response.bytes().await?;
    post(
        &http,
        url,
        token,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await?
    .bytes()
    .await?;
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let body = post(&http, url, token, Some(&session), call.clone())
            .await?
            .text()
            .await?;
        latencies.push(started.elapsed());
        anyhow::ensure!(
            body.contains("structuredContent"),
            "unexpected answer: {body}"
        );
    }
    Ok(latencies)
}
