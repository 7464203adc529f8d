use std::time::{Duration, Instant};

use super::{ContainerStatus, DockerError, Engine};
use crate::progress::Reporter;

/// Keycloak becomes ready at an unknown moment and `up` waits for it: a probe is a cheap local
/// request, and every interval is up to that much more waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const LOG_TAIL_LINES: usize = 30;

/// The outcome of one readiness probe: `Ok` when Keycloak answered 200 on `/health/ready`,
/// otherwise what it answered instead.
pub type ReadinessProbe = Result<(), String>;

/// Asks Keycloak's management interface, from the host, whether it is ready. Only a 200 counts:
/// a 503 means "starting", anything else means not reachable yet.
pub async fn probe_ready(client: &reqwest::Client, management_port: u16) -> ReadinessProbe {
    let url = format!("http://127.0.0.1:{management_port}/health/ready");
    match client.get(&url).timeout(PROBE_TIMEOUT).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("HTTP {} from {url}", response.status().as_u16())),
        Err(err) if err.is_timeout() => Err(format!(
            "no answer from {url} within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
        Err(_) => Err(format!("nothing listening at {url} yet")),
    }
}

impl Engine {
    /// Polls readiness until Keycloak is ready, the container stops (reported at once, with its
    /// logs) or `timeout` passes (reported with the last answer and the log tail).
    pub async fn wait_ready(
        &self,
        id: &str,
        management_port: u16,
        timeout: Duration,
        reporter: &dyn Reporter,
    ) -> Result<Duration, DockerError> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let result = loop {
            let probe = probe_ready(&client, management_port).await;
            let elapsed = started.elapsed();
            let last_status = match probe {
                Ok(()) => break Ok(elapsed),
                Err(status) => status,
            };
            let container = self.inspect_container(id).await?;
            let exited = container
                .as_ref()
                .is_none_or(|container| container.status != ContainerStatus::Running);
            if exited {
                break Err(DockerError::ExitedDuringStart {
                    exit_code: container.as_ref().map_or(-1, |c| c.exit_code),
                    oom_killed: container.as_ref().is_some_and(|c| c.oom_killed),
                    log_tail: self.log_tail(id, LOG_TAIL_LINES).await,
                });
            }
            if elapsed >= timeout {
                break Err(DockerError::NotReady {
                    waited: elapsed,
                    last_status,
                    log_tail: self.log_tail(id, LOG_TAIL_LINES).await,
                });
            }
            reporter.waiting(elapsed, &last_status);
            tokio::time::sleep(POLL_INTERVAL).await;
        };
        reporter.wait_finished();
        result
    }
}
