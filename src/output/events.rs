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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kcdev::events::{ClientFacts, Event, Finding, Problem};

    use super::*;

    fn entry(event_type: &str, time_ms: i64, finding: Option<Finding>) -> Entry {
        let event = Event {
            id: "e".into(),
            time_ms,
            event_type: event_type.into(),
            client_id: Some("47f8ae2f-61a3-413c-896c-c5d2e69731c2".into()),
            error: finding.as_ref().map(|_| "invalid_redirect_uri".to_owned()),
            details: BTreeMap::from([("scope".to_owned(), "openid mcp:tools".to_owned())]),
            ..Event::default()
        };
        let client = ClientFacts {
            name: Some("Visual Studio Code".into()),
            origin: ClientOrigin::Dynamic,
            exists: true,
            ..ClientFacts::missing("47f8ae2f-61a3-413c-896c-c5d2e69731c2", &[])
        };
        Entry::new(
            &event,
            Some(&client),
            Some("testuser".into()),
            None,
            finding,
        )
    }

    #[test]
    fn a_timeline_names_the_day_once_and_puts_the_fix_under_a_failure() {
        let mut timeline = Timeline::default();
        let token = timeline.render(&entry("CODE_TO_TOKEN", 1_796_396_006_578, None));
        assert_eq!(
            token,
            "\n2026-12-04\n  14:53:26  got token   \"Visual Studio Code\" (DCR 47f8ae2f…) as testuser: openid mcp:tools\n"
        );
        let failed = timeline.render(&entry(
            "LOGIN_ERROR",
            1_796_396_007_000,
            Some(Finding {
                problem: Problem::RedirectUriMismatch,
                explanation: "what went wrong".into(),
                fix: "the fix".into(),
            }),
        ));
        assert!(!failed.contains("2026-12-04"), "{failed}");
        let lines: Vec<&str> = failed.lines().collect();
        assert!(lines[0].contains("FAILED"), "{failed}");
        assert!(
            lines[0].ends_with("[LOGIN_ERROR invalid_redirect_uri]"),
            "{failed}"
        );
        assert_eq!(lines[1].trim(), "what: what went wrong");
        assert_eq!(lines[2].trim(), "fix:  the fix");
        // The explanation starts under the client, past the time and the kind.
        assert_eq!(lines[1].find("what"), lines[0].find('"'));
    }
}
