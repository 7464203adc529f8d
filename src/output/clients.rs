//! `kcdev client-config` as text.

use std::fmt::Write as _;

use kcdev::clients::{Client, ConnectionValues, MergeOutcome, Registration};
use kcdev::ops::ClientConfigReport;

const CUT: &str = "----------8<----------";

/// One client's configuration: commands, the snippet between cut marks, the steps.
pub fn render_client_config(report: &ClientConfigReport) -> String {
    let config = &report.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} -> {} (realm {})\n",
        config.client.title(),
        report.values.server_url,
        report.values.issuer
    );
    for (command, what) in &config.commands {
        let _ = writeln!(out, "  {command}\n      {what}");
    }
    if !config.commands.is_empty() {
        out.push('\n');
    }
    let location = &config.locations[0];
    let _ = writeln!(
        out,
        "Config entry for {} ({}):",
        location.path.display(),
        location.scope
    );
    let snippet = config.format.render(&config.snippet);
    let _ = writeln!(out, "{CUT}\n{snippet}\n{CUT}");
    for other in &config.locations[1..] {
        let _ = writeln!(
            out,
            "  (also: {} for {})",
            other.path.display(),
            other.scope
        );
    }
    match &report.written {
        Some((path, MergeOutcome::Created)) => {
            let _ = writeln!(out, "\nWrote {}.", path.display());
        }
        Some((path, MergeOutcome::Updated { backup })) => {
            let _ = writeln!(
                out,
                "\nMerged the entry into {} (previous file saved as {}).",
                path.display(),
                backup.display()
            );
        }
        Some((path, MergeOutcome::Unchanged)) => {
            let _ = writeln!(
                out,
                "\n{} already has this entry; nothing written.",
                path.display()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\n`--write` merges it into that file for you (other entries kept, backup saved)."
            );
        }
    }
    let _ = writeln!(out, "\nThen:");
    for (i, step) in config.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {step}", i + 1);
    }
    render_registration(&mut out, config.client, config.registration);
    out
}

/// Which registration path this is, whether it is the default and why, and how to get the other.
fn render_registration(out: &mut String, client: Client, shown: Registration) {
    let paths = client.registrations();
    let default = paths[0];
    let named = |registration: Registration| match (registration, client.pre_registered()) {
        (Registration::PreRegistered, Some(pre)) => {
            format!("{} {}", registration.title(), pre.client_id)
        }
        _ => registration.title().to_owned(),
    };
    let why = match default {
        Registration::PreRegistered => {
            "it is the first path MCP clients try (spec 2025-11-25 and later, and the one the \
             2026-07-28 revision keeps while it deprecates DCR), nothing piles up in the realm at \
             each restart, and the entry survives `kcdev down --volumes`"
        }
        Registration::Dynamic => "this client does not accept a client id",
    };
    if shown == default {
        let _ = writeln!(out, "\nRegistration: {}, the default: {why}.", named(shown));
    } else {
        let _ = writeln!(
            out,
            "\nRegistration: {}. The default is {}: {why}.",
            named(shown),
            named(default)
        );
    }
    for other in paths.iter().filter(|path| **path != shown) {
        let _ = writeln!(
            out,
            "  Instead, {}: kcdev client-config {} --registration {}",
            other.title(),
            client.id(),
            other.id()
        );
    }
}

/// The clients and their config files, as `--list --json` gives them.
pub fn client_list() -> serde_json::Value {
    let values = list_values();
    Client::ALL
        .iter()
        .map(|client| {
            serde_json::json!({
                "id": client.id(),
                "title": client.title(),
                "config_file": client.default_config(&values).locations[0].path,
                "registrations": client.registrations(),
            })
        })
        .collect()
}

fn list_values() -> ConnectionValues {
    ConnectionValues {
        name: "kcdev".to_owned(),
        server_url: String::new(),
        issuer: String::new(),
        scope: String::new(),
        user: (String::new(), String::new()),
        home: "~".into(),
        dirs: Default::default(),
    }
}

/// The clients and their config files.
pub fn render_client_list() -> String {
    let values = list_values();
    let mut out = String::new();
    for client in Client::ALL {
        let config = client.default_config(&values);
        let registrations: Vec<&str> = client.registrations().iter().map(|r| r.id()).collect();
        let _ = writeln!(
            out,
            "{:<16} {:<16} {:<20} {}",
            client.id(),
            client.title(),
            registrations.join(", "),
            config.locations[0].path.display()
        );
    }
    out
}
