//! Parallel tool calls: a slow tool holds up no other call, neither within one session
//! (2025-11-25, `Mcp-Session-Id`) nor across self-contained 2026-07-28 requests. Agents call
//! tools in parallel; if the calls queued, every answer would wait for the slowest tool.
//!
//! The server under test has a slow tool and a fast one of its own (the project's tools answer
//! at once), behind the project's auth layer and transport.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use support::{Harness, start_serving};

const SLOW: Duration = Duration::from_secs(1);
/// "Well under" the slow tool's time, with room for a debug build on a loaded machine.
const FAST_ENOUGH: Duration = Duration::from_millis(250);

/// A slow tool and a fast one; the slow one tells the test when it has started.
#[derive(Clone)]
struct SlowAndFast {
    tool_router: ToolRouter<Self>,
    slow_started: Arc<Notify>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct WaitFor {
    seconds: f64,
}

#[tool_router]
impl SlowAndFast {
    fn new(slow_started: Arc<Notify>) -> Self {
        Self {
            tool_router: Self::tool_router(),
            slow_started,
        }
    }

    #[tool(description = "Answers after `seconds`")]
    async fn wait(&self, Parameters(WaitFor { seconds }): Parameters<WaitFor>) -> String {
        self.slow_started.notify_one();
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        format!("waited {seconds} s")
    }

    #[tool(description = "Answers at once")]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SlowAndFast {}

async fn start_slow_and_fast() -> (Harness, Arc<Notify>) {
    let slow_started = Arc::new(Notify::new());
    let started = slow_started.clone();
    let harness = start_serving(move || SlowAndFast::new(started.clone())).await;
    (harness, slow_started)
}

/// The answer, and when it arrived.
async fn timed(call: impl Future<Output = Value>) -> (Value, Instant) {
    let answer = call.await;
    (answer, Instant::now())
}

fn text(answer: &Value) -> &str {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {answer}"))
}

/// Sends `slow` (a call of `wait` for `SLOW`), and once the tool runs, `fast` (a `ping`):
/// `fast` must answer in well under `SLOW`, while `slow` still runs.
async fn fast_is_not_held_up_by_slow(
    slow: impl Future<Output = Value>,
    fast: impl Future<Output = Value>,
    slow_started: &Notify,
) {
    let sent = Instant::now();
    let slow = timed(slow);
    // `fast` is lazy: its request leaves only once the slow tool is running.
    let fast = async {
        slow_started.notified().await;
        let fast_sent = Instant::now();
        let (answer, answered) = timed(fast).await;
        (answer, fast_sent, answered)
    };
    let ((slow_answer, slow_answered), (fast_answer, fast_sent, fast_answered)) =
        tokio::join!(slow, fast);
    assert_eq!(text(&fast_answer), "pong");
    assert_eq!(text(&slow_answer), "waited 1 s");
    let fast_time = fast_answered - fast_sent;
    assert!(
        fast_time < FAST_ENOUGH && fast_answered < slow_answered,
        "the fast call took {fast_time:?}, the slow one {:?}: the fast one waited for the slow one",
        slow_answered - sent
    );
    assert!(slow_answered - sent >= SLOW);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_one_session_a_fast_call_answers_while_a_slow_one_runs() {
    let (harness, slow_started) = start_slow_and_fast().await;
    let mut client = harness.client(Some(harness.token("alice", &["user"], json!({}))));
    client.protocol_version = "2025-11-25";
    let initialized = client.initialize().await;
    assert_eq!(initialized["result"]["protocolVersion"], "2025-11-25");
    assert!(client.session.is_some(), "a session");
    fast_is_not_held_up_by_slow(
        client.call_tool_with("wait", json!({"seconds": SLOW.as_secs_f64()})),
        client.call_tool("ping"),
        &slow_started,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_contained_2026_07_28_requests_do_not_wait_for_each_other() {
    let (harness, slow_started) = start_slow_and_fast().await;
    let client = harness.client(Some(harness.token("alice", &["user"], json!({}))));
    fast_is_not_held_up_by_slow(
        client.stateless_call("wait", json!({"seconds": SLOW.as_secs_f64()})),
        client.stateless_call("ping", json!({})),
        &slow_started,
    )
    .await;
}
