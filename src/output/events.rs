//! `kcdev events` as a timeline for people, and as JSON lines for scripts.

use std::fmt::Write as _;

use kcdev::events::{ClientOrigin, Entry, Kind};
use kcdev::ops::EventsReport;

/// The line above the timeline: whose events, kept how long, in which time zone.
pub fn render_events_header(report: &EventsReport) -> String {
    let kept = match report.kept_seconds {
        seconds if seconds <= 0 => "kept until deleted".to_owned(),
        seconds if seconds % 86_400 == 0 => plural("Keycloak keeps them", seconds / 86_400, "day"),
        seconds if seconds % 3_600 == 0 => plural("Keycloak keeps them", seconds / 3_600, "hour"),
        seconds => plural("Keycloak keeps them", seconds, "second"),
    };
    let mut out = format!(
        "Events of realm {} (instance {}; {kept}; times UTC)\n",
        report.realm, report.instance
    );
    if report.truncated {
        let _ = writeln!(out, "(older events left out: --limit, --since)");
    }
    out
}

fn plural(prefix: &str, count: i64, unit: &str) -> String {
    if count == 1 {
        format!("{prefix} a {unit}")
    } else {
        format!("{prefix} {count} {unit}s")
    }
}

/// Writes entries one after another, with a date line whenever the day changes.
#[derive(Debug, Default)]
pub struct Timeline {
    day: Option<String>,
}

impl Timeline {
    /// `entry` as one line, and for a failure what went wrong and the fix under it.
    pub fn render(&mut self, entry: &Entry) -> String {
        let mut out = String::new();
        let (day, time) = entry
            .time
            .split_once('T')
            .unwrap_or((entry.time.as_str(), ""));
        if self.day.as_deref() != Some(day) {
            let _ = writeln!(out, "\n{day}");
            self.day = Some(day.to_owned());
        }
        let clock = time.get(..8).unwrap_or(time);
        let mut line = format!("  {clock}  {:<11} {}", entry.kind.label(), client(entry));
        if let Some(user) = &entry.username {
            let _ = write!(line, " as {user}");
        }
        if !entry.scopes.is_empty() && entry.kind != Kind::Failed {
            let _ = write!(line, ": {}", entry.scopes.join(" "));
        }
        if let Some(error) = &entry.error {
            let _ = write!(line, "  [{} {error}]", entry.event_type);
        } else if entry.kind == Kind::Failed {
            let _ = write!(line, "  [{}]", entry.event_type);
        }
        let _ = writeln!(out, "{line}");
        let indent = " ".repeat(24);
        if let Some(explanation) = &entry.explanation {
            let _ = writeln!(out, "{indent}what: {explanation}");
        }
        if let Some(fix) = &entry.fix {
            let _ = writeln!(out, "{indent}fix:  {fix}");
        }
        out
    }
}

/// The client as the timeline names it: its name and how it got its client id.
fn client(entry: &Entry) -> String {
    let id = entry.client_id.as_deref();
    match (entry.registration, id) {
        (Some(ClientOrigin::PreRegistered), Some(id)) => match entry.pre_registered_for {
            Some(client) => format!("{id} (pre-registered for {})", client.title()),
            None => format!("{id} (kcdev's)"),
        },
        (Some(ClientOrigin::Dynamic), Some(id)) => {
            let short = id.get(..8).unwrap_or(id);
            match &entry.client_name {
                Some(name) => format!("{name:?} (DCR {short}…)"),
                None => format!("{id} (DCR)"),
            }
        }
        (Some(ClientOrigin::Dynamic), None) => "a registration (DCR)".to_owned(),
        (Some(origin), Some(id)) => match &entry.client_name {
            Some(name) if origin != ClientOrigin::Cimd => format!("{name:?} ({id})"),
            _ => format!("{id} ({})", origin.label()),
        },
        (_, Some(id)) => id.to_owned(),
        (_, None) => "an unknown client".to_owned(),
    }
}

/// The whole report as text.
pub fn render_events(report: &EventsReport) -> String {
    let mut out = render_events_header(report);
    if report.entries.is_empty() {
        let _ = writeln!(
            out,
            "\nNo events: connect a client, or `kcdev events --follow` to watch one connect."
        );
    }
    let mut timeline = Timeline::default();
    for entry in &report.entries {
        out.push_str(&timeline.render(entry));
    }
    out
}
