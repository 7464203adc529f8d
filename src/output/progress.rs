//! Progress on stderr: indicatif bars (bytes per image layer, a spinner with elapsed time while
//! Keycloak starts) on a terminal, plain lines otherwise.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kcdev::progress::{LayerProgress, Reporter};

const PLAIN_WAIT_LINE_EVERY: Duration = Duration::from_secs(10);

/// Shows library progress events on stderr.
pub struct TerminalReporter {
    enabled: bool,
    interactive: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pull: Option<MultiProgress>,
    layer_bars: HashMap<String, ProgressBar>,
    /// Plain mode: last status and quarter of the download printed per layer.
    layer_lines: HashMap<String, (String, u64)>,
    spinner: Option<ProgressBar>,
    next_plain_wait_line: Duration,
}

fn plain_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

fn short_layer(layer: &str) -> &str {
    layer.get(..12).unwrap_or(layer)
}

impl TerminalReporter {
    pub(super) fn new(enabled: bool, interactive: bool) -> Self {
        Self {
            enabled,
            interactive,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn layer_bar(multi: &MultiProgress, layer: &str) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "  {prefix} {msg:<16} {bar:30} {bytes:>10}/{total_bytes:<10}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = multi.add(ProgressBar::new(0).with_style(style));
        bar.set_prefix(short_layer(layer).to_owned());
        bar
    }
}

impl TerminalReporter {
    /// A spinner with elapsed time on a terminal; otherwise a plain line every few seconds.
    fn spin(&self, what: &str, plain_what: &str, elapsed: Duration, message: &str) {
        if !self.enabled {
            return;
        }
        let mut state = self.state();
        if self.interactive {
            let spinner = state.spinner.get_or_insert_with(|| {
                let style = ProgressStyle::with_template("{spinner} {prefix} ({elapsed}): {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                let spinner = ProgressBar::new_spinner().with_style(style);
                spinner.set_prefix(what.to_owned());
                spinner.enable_steady_tick(Duration::from_millis(120));
                spinner
            });
            spinner.set_message(message.chars().take(100).collect::<String>());
        } else if elapsed >= state.next_plain_wait_line {
            plain_line(&format!(
                "    {plain_what} after {} s: {message}",
                elapsed.as_secs()
            ));
            state.next_plain_wait_line = elapsed + PLAIN_WAIT_LINE_EVERY;
        }
    }
}

impl Reporter for TerminalReporter {
    fn step(&self, message: &str) {
        if !self.enabled {
            return;
        }
        let state = self.state();
        match &state.spinner {
            Some(spinner) => spinner.println(format!("==> {message}")),
            None => plain_line(&format!("==> {message}")),
        }
    }

    fn pull_started(&self, image: &str) {
        if !self.enabled {
            return;
        }
        plain_line(&format!("==> Pulling {image}"));
        if self.interactive {
            self.state().pull = Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        }
    }

    fn pull_progress(&self, progress: &LayerProgress<'_>) {
        if !self.enabled {
            return;
        }
        let mut state = self.state();
        if let Some(multi) = state.pull.clone() {
            let bar = state
                .layer_bars
                .entry(progress.layer.to_owned())
                .or_insert_with(|| Self::layer_bar(&multi, progress.layer));
            bar.set_message(progress.status.to_owned());
            if let Some((current, total)) = progress.bytes {
                bar.set_length(total);
                bar.set_position(current);
            }
            return;
        }
        // Plain lines: one when a layer's status changes, and one per quarter of a download.
        let quarter = progress.bytes.map_or(0, |(current, total)| {
            current.saturating_mul(4) / total.max(1)
        });
        let last = state.layer_lines.get(progress.layer);
        let changed = last.is_none_or(|(status, last_quarter)| {
            status != progress.status || *last_quarter != quarter
        });
        if changed {
            let bytes = progress
                .bytes
                .map(|(current, total)| format!(" {} / {}", HumanBytes(current), HumanBytes(total)))
                .unwrap_or_default();
            plain_line(&format!(
                "    layer {}: {}{bytes}",
                short_layer(progress.layer),
                progress.status
            ));
            state.layer_lines.insert(
                progress.layer.to_owned(),
                (progress.status.to_owned(), quarter),
            );
        }
    }

    fn pull_finished(&self, image: &str) {
        if !self.enabled {
            return;
        }
        let mut state = self.state();
        for bar in state.layer_bars.values() {
            bar.finish();
        }
        state.layer_bars.clear();
        state.layer_lines.clear();
        if let Some(multi) = state.pull.take() {
            let _ = multi.clear();
        }
        plain_line(&format!("==> Pulled {image}"));
    }

    fn waiting(&self, elapsed: Duration, last_status: &str) {
        self.spin(
            "Keycloak is starting",
            "still starting",
            elapsed,
            last_status,
        );
    }

    fn derive_started(&self, base: &str, derived: &str) {
        if self.enabled {
            plain_line(&format!(
                "==> Building an optimized image of {base} (once per image): {derived}"
            ));
        }
    }

    fn deriving(&self, elapsed: Duration, last_line: &str) {
        self.spin("kc.sh build", "still building", elapsed, last_line);
    }

    fn derive_finished(&self, derived: &str) {
        self.wait_finished();
        if self.enabled {
            plain_line(&format!("==> Built {derived}"));
        }
    }

    fn wait_finished(&self) {
        let mut state = self.state();
        if let Some(spinner) = state.spinner.take() {
            spinner.finish_and_clear();
        }
        state.next_plain_wait_line = Duration::ZERO;
    }
}
