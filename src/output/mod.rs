//! Everything kcdev shows: data on stdout (text or `--json`), status and progress on stderr,
//! errors with their causes and hints. The only place that writes to the terminal.

mod clients;
mod error;
mod events;
mod progress;
mod render;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

pub use clients::{client_list, render_client_config, render_client_list};
pub use error::report_error;
pub use events::{Timeline, render_events, render_events_header};
pub use progress::TerminalReporter;
pub use render::{
    NextStep, render_doctor, render_down, render_export_placeholders, render_new_server,
    render_plan, render_status, render_up, up_next_steps,
};

/// Output policy for one run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
    quiet: bool,
    verbose: bool,
    interactive: bool,
}

impl Printer {
    /// A printer for the flags given; progress is animated only when both streams are terminals.
    pub fn new(json: bool, quiet: bool, verbose: bool) -> Self {
        Self {
            json,
            quiet,
            verbose,
            interactive: io::stdout().is_terminal() && io::stderr().is_terminal(),
        }
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Whether `-q` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether `-v` was given.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Writes requested data to stdout. A closed pipe (`kcdev logs | head`) is not an error.
    pub fn data(&self, text: &str) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }

    /// Writes a command's summary to stdout, unless `-q` asked for errors and data only.
    pub fn summary(&self, text: &str) {
        if !self.quiet {
            self.data(text);
        }
    }

    /// Writes raw bytes to stdout (log streaming); returns false once the reader has gone.
    pub fn bytes(&self, bytes: &[u8]) -> bool {
        let mut out = io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush()).is_ok()
    }

    /// Writes a report as one JSON object on stdout.
    pub fn json_value(&self, value: &impl Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.data(&format!("{text}\n")),
            Err(err) => self.note(&format!("cannot render JSON: {err}")),
        }
    }

    /// Writes one JSON object on one line of stdout (JSON Lines, for streams); returns false
    /// once the reader has gone.
    pub fn json_line(&self, value: &impl Serialize) -> bool {
        match serde_json::to_string(value) {
            Ok(text) => self.bytes(format!("{text}\n").as_bytes()),
            Err(err) => {
                self.note(&format!("cannot render JSON: {err}"));
                true
            }
        }
    }

    /// A note on stderr that `--json` does not suppress.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr().lock(), "{message}");
        }
    }

    /// A progress reporter that follows this printer's policy.
    pub fn reporter(&self) -> TerminalReporter {
        TerminalReporter::new(!self.quiet, self.interactive)
    }
}
