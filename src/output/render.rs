//! Human-readable renderings of the operations' reports.

use std::fmt::Write as _;

use kcdev::ops::{
    CheckStatus, ContainerAction, DoctorReport, DownReport, ExportFormat, ExportReport,
    McpSettings, NewServerReport, PlanReport, RegistrationPaths, StatusReport, UpKeycloak,
    UpReport, ValuesSource,
};
use kcdev::realm::ChangeKind;
use kcdev::scaffold::Language;

/// A command to run next, and what it does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NextStep {
    /// The command.
    pub command: String,
    /// What it does.
    pub what: &'static str,
}

/// What to run after `kcdev up`.
pub fn up_next_steps(instance: &str) -> Vec<NextStep> {
    [
        (
            format!("kcdev new server{instance}"),
            "scaffold an MCP server wired to this realm (--lang rust|python|typescript)",
        ),
        (
            format!("kcdev run{instance} mcp-server"),
            "build and run it",
        ),
        (
            format!("kcdev client-config{instance} inspector"),
            "connect a client (or claude-code, claude-desktop, vscode, cursor)",
        ),
        (
            format!("kcdev token{instance} --decode"),
            "a test user's access token, decoded",
        ),
        (format!("kcdev doctor{instance}"), "check the whole chain"),
        (
            format!("kcdev down{instance}"),
            "stop (data kept; --volumes deletes it)",
        ),
    ]
    .into_iter()
    .map(|(command, what)| NextStep { command, what })
    .collect()
}

/// The summary after `kcdev up`: where everything is and what to run next.
pub fn render_up(report: &UpReport, verbose: bool, instance: &str) -> String {
    let mut out = String::new();
    let version = &report.keycloak_version;
    let (action, admin_login) = match &report.keycloak {
        UpKeycloak::Container(container) => (
            match container.container_action {
                ContainerAction::Created => "container created",
                ContainerAction::Recreated => "container recreated, data kept",
                ContainerAction::Started => "stopped container started",
                ContainerAction::AlreadyRunning => "already running",
            },
            format!(
                "{} / {}",
                container.admin.username, container.admin.password
            ),
        ),
        UpKeycloak::Server { server } => (
            "provisioned, not run by kcdev",
            format!("{} (from the environment)", server.admin),
        ),
    };
    let _ = writeln!(
        out,
        "Keycloak {version} is up ({action}, {:.1} s)\n",
        report.timings.total_seconds
    );
    let p = &report.provisioning;
    let realm_line = if p.from_seed && p.up_to_date() {
        format!(
            "{} (came with the seeded image, with keys of its own)",
            p.realm
        )
    } else if p.up_to_date() {
        format!("{} (realm up to date)", p.realm)
    } else {
        format!(
            "{} (created {}, updated {}, deleted {}, unchanged {})",
            p.realm, p.created, p.updated, p.deleted, p.unchanged
        )
    };
    let rows = [
        ("Keycloak", report.keycloak_url.clone()),
        ("Admin console", report.admin_console_url.clone()),
        ("Admin login", admin_login),
        ("Realm", realm_line),
        ("Issuer", report.realm.issuer.clone()),
        ("JWKS", report.realm.jwks.clone()),
        (
            "MCP server",
            std::iter::once(&report.mcp.resource_url)
                .chain(&report.mcp.additional_resource_urls)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Tokens carry", tokens_carry(&report.mcp)),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<14} {value}");
    }
    if report.users.is_empty() {
        let _ = writeln!(
            out,
            "  {:<14} none on a server kcdev does not run (`--test-users` adds them)",
            "Test users"
        );
    }
    for (i, user) in report.users.iter().enumerate() {
        let label = if i == 0 { "Test users" } else { "" };
        let roles = if user.roles.is_empty() {
            "no roles of its own".to_owned()
        } else {
            format!("roles: {}", user.roles.join(", "))
        };
        let _ = writeln!(
            out,
            "  {label:<14} {} / {} ({roles})",
            user.username, user.password
        );
    }
    if verbose || !p.up_to_date() {
        out.push('\n');
        for change in &p.changes {
            let verb = match change.kind {
                ChangeKind::Create => "created",
                ChangeKind::Update => "updated",
                ChangeKind::Delete => "deleted",
            };
            let _ = writeln!(out, "  {verb:>9} {}", change.object);
            if verbose {
                for detail in &change.details {
                    let _ = writeln!(out, "            {detail}");
                }
            }
        }
        if verbose {
            for object in &p.unchanged_objects {
                let _ = writeln!(out, "  unchanged {object}");
            }
        }
    }
    if verbose {
        out.push('\n');
        if let Some(path) = &report.project_file {
            let _ = writeln!(out, "  {:<14} {}", "Project file", path.display());
        }
        out.push_str(&settings_origins(&report.settings));
    }
    let _ = writeln!(
        out,
        "  {:<14} {}",
        "Registration",
        registration_line(&report.registration)
    );
    if report.registration.dynamic {
        let _ = writeln!(
            out,
            "\nLaptop-only settings: anonymous client registration from redirect hosts {}; no consent screen.",
            report.trusted_hosts.join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "\nThe server's anonymous client-registration policies are left as they are (`--anonymous-registration` makes them kcdev's laptop ones)."
        );
    }
    // With resource indicators a token carries the resource URL alone, not the base URL.
    let fastmcp_audience = if report.mcp.resource_indicators {
        &report.mcp.resource_url
    } else {
        &report.mcp.server_url
    };
    let _ = writeln!(
        out,
        "FastMCP: KeycloakAuthProvider(realm_url=\"{}\", base_url=\"{}\", audience=\"{fastmcp_audience}\")",
        report.realm.issuer, report.mcp.server_url
    );
    out.push_str(&next_block(&up_next_steps(instance)));
    out
}

/// What the realm's tokens carry for MCP servers.
fn tokens_carry(mcp: &McpSettings) -> String {
    if mcp.resource_indicators {
        format!(
            "aud = the requested resource alone (RFC 8707; without `resource`, every server's resource and base URL), scope {}, realm roles",
            mcp.scope
        )
    } else {
        let servers = mcp.additional_resource_urls.len() + 1;
        let also = if servers > 1 {
            " (and the other servers' likewise)"
        } else {
            ""
        };
        format!(
            "aud {} and {}{also}, scope {}, realm roles",
            mcp.resource_url, mcp.server_url, mcp.scope
        )
    }
}

/// The registration paths a realm offers, in one line.
fn registration_line(paths: &RegistrationPaths) -> String {
    let mut offered = vec![format!(
        "pre-registered clients {}",
        paths.pre_registered.join(", ")
    )];
    if paths.dynamic && paths.registered_clients_step_up {
        offered.push(
            "dynamic client registration (with the realm's default scopes and step-up to optional ones)"
                .to_owned(),
        );
    } else if paths.dynamic {
        offered.push(
            "dynamic client registration (a client that names scopes gets only those: no `mcp:tools` unless it asks, no step-up; this Keycloak lacks kcdev's registration provider: `kcdev up --recreate` gives a container kcdev runs the provider, `kcdev export --provider-jar` writes it for a server's admins)"
                .to_owned(),
        );
    }
    match &paths.cimd_domains {
        Some(domains) => offered.push(format!(
            "Client ID Metadata Documents from {}",
            domains.join(", ")
        )),
        None => offered.push("no Client ID Metadata Documents (`up --cimd`)".to_owned()),
    }
    offered.join("; ")
}

/// "Next:" and the commands in a column as wide as the longest, whatever the instance name.
fn next_block(steps: &[NextStep]) -> String {
    let width = steps
        .iter()
        .map(|step| step.command.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::from("\nNext:\n");
    for step in steps {
        let _ = writeln!(out, "  {:<width$}   {}", step.command, step.what);
    }
    out
}

/// `kcdev status` as text.
pub fn render_status(report: &StatusReport) -> String {
    let mut out = String::new();
    let headline = if report.is_up() { "up" } else { "not up" };
    let _ = writeln!(out, "Instance {}: {headline}\n", report.instance);
    if let Some(engine) = &report.engine {
        let _ = writeln!(out, "  {:<14} {engine}", "Engine");
    }
    match &report.container {
        None if !report.managed => {
            let _ = writeln!(
                out,
                "  {:<14} none: kcdev provisions this Keycloak, it does not run it",
                "Container"
            );
        }
        None => {
            let _ = writeln!(out, "  {:<14} none (run `kcdev up`)", "Container");
        }
        Some(c) => {
            let health = c
                .health
                .as_deref()
                .map(|h| format!(", health {h}"))
                .unwrap_or_default();
            let rows = [
                (
                    "Container",
                    format!(
                        "{} ({}{health})",
                        c.name,
                        serde_json::to_value(c.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                ),
                (
                    "Image",
                    format!(
                        "{} (Keycloak {})",
                        c.image,
                        c.keycloak_version.as_deref().unwrap_or("unknown")
                    ),
                ),
                (
                    "Boot",
                    match c.boot.as_str() {
                        "dev" => "start-dev on the image".to_owned(),
                        "built" => "start --optimized on kcdev's derived image".to_owned(),
                        _ => "start --optimized on kcdev's derived image, database pre-initialized"
                            .to_owned(),
                    },
                ),
                (
                    "HTTP",
                    c.http.clone().unwrap_or_else(|| "not published".to_owned()),
                ),
                (
                    "Management",
                    c.management
                        .clone()
                        .unwrap_or_else(|| "not published".to_owned()),
                ),
                ("Memory limit", c.memory.clone()),
                (
                    "Volume",
                    c.volume.clone().unwrap_or_else(|| "none".to_owned()),
                ),
            ];
            for (label, value) in rows {
                let _ = writeln!(out, "  {label:<14} {value}");
            }
        }
    }
    let _ = writeln!(
        out,
        "  {:<14} {}",
        "Ready",
        if report.ready { "yes" } else { "no" }
    );
    if let Some(url) = &report.keycloak_url {
        let _ = writeln!(out, "  {:<14} {url}", "Keycloak");
    }
    if let Some(paths) = &report.registration {
        let _ = writeln!(out, "  {:<14} {}", "Registration", registration_line(paths));
    }
    if let Some(realm) = &report.realm {
        let state = if !realm.exists {
            "missing (run `kcdev up`)".to_owned()
        } else if realm.drift.is_empty() {
            "matches the spec".to_owned()
        } else {
            format!(
                "{} objects differ from the spec (`kcdev up` repairs them): {}",
                realm.drift.len(),
                realm.drift.join(", ")
            )
        };
        let _ = writeln!(out, "  {:<14} {} ({})", "Realm", realm.name, realm.issuer);
        let _ = writeln!(out, "  {:<14} {state}", "");
    }
    if let Some(path) = &report.project_file {
        let _ = writeln!(out, "  {:<14} {}", "Project file", path.display());
    }
    out.push_str(&settings_origins(&report.settings));
    out
}

/// Where each setting of the last `up` came from, one line each.
fn settings_origins(origins: &kcdev::ops::SettingOrigins) -> String {
    let mut out = String::new();
    for (i, (setting, source)) in origins.iter().enumerate() {
        let label = if i == 0 { "Settings from" } else { "" };
        let _ = writeln!(out, "  {label:<14} {setting}: {source}");
    }
    out
}

/// `kcdev down` as text.
pub fn render_down(report: &DownReport) -> String {
    let mut out = String::new();
    if let Some(url) = &report.server {
        let _ = writeln!(
            out,
            "Instance {} is the Keycloak at {url}, which kcdev does not run: there is no container to stop, and its realm stays as it is.",
            report.instance
        );
        if report.state_removed {
            let _ = writeln!(
                out,
                "kcdev forgot the instance (its state file is removed)."
            );
        } else {
            let _ = writeln!(
                out,
                "`kcdev down --volumes` makes kcdev forget the instance (its local state file only)."
            );
        }
        return out;
    }
    match &report.container_removed {
        Some(name) => {
            let _ = writeln!(out, "Stopped and removed {name}.");
        }
        None => {
            let _ = writeln!(
                out,
                "No container for instance {}; nothing to stop.",
                report.instance
            );
        }
    }
    for volume in &report.volumes_removed {
        let _ = writeln!(out, "Removed volume {volume}.");
    }
    if report.state_removed {
        let _ = writeln!(out, "Removed the state file.");
    }
    if report.data_kept {
        let _ = writeln!(
            out,
            "Data kept: the next `kcdev up` brings back the realm, users and registered clients."
        );
    }
    out
}

/// `kcdev new server` as text.
pub fn render_new_server(report: &NewServerReport, instance: &str) -> String {
    let mut out = String::new();
    let dir = report.project.dir.display();
    let _ = writeln!(
        out,
        "Created {} in {dir} ({} files): {}\n",
        report.name,
        report.project.files.len(),
        report.language.stack()
    );
    let _ = writeln!(out, "  {:<14} {}", "Trusts realm", report.realm_url);
    let _ = writeln!(out, "  {:<14} {}", "Serves", report.resource_url);
    let _ = writeln!(
        out,
        "  {:<14} aud {}, scope {}",
        "Tokens need",
        report.resource_url,
        report.required_scopes.join(" ")
    );
    if !report.optional_scopes.is_empty() {
        let _ = writeln!(
            out,
            "  {:<14} {} (optional scopes: a client asks for them on step-up)",
            "Tools may need",
            report.optional_scopes.join(" ")
        );
    }
    if report.source == ValuesSource::Defaults {
        let _ = writeln!(
            out,
            "\nNo kcdev instance has been brought up, so these are kcdev's defaults; `kcdev up{instance}` provisions the realm they point to."
        );
    }
    let next = [
        (
            format!("kcdev run{instance} {dir}"),
            "build and run it against the realm",
        ),
        (
            format!("cd {dir} && {}", report.language.test_command()),
            match report.language {
                Language::Python => {
                    "its own tests (no Keycloak needed), once `kcdev run` made .venv"
                }
                _ => "its own tests (no Keycloak needed)",
            },
        ),
        (
            format!("kcdev client-config{instance} inspector"),
            "connect MCP Inspector (or claude-code, claude-desktop, vscode, cursor)",
        ),
    ]
    .map(|(command, what)| NextStep { command, what });
    out.push_str(&next_block(&next));
    out
}

/// `kcdev plan` as text: one line per change, its fields under it.
/// What `kcdev export` says on stderr: where the file went, its placeholders and how to set them.
pub fn render_export_placeholders(report: &ExportReport, path: Option<&std::path::Path>) -> String {
    let mut out = String::new();
    if let Some(path) = path {
        let _ = writeln!(out, "Wrote realm {} to {}.", report.realm, path.display());
    }
    let how = match (&report.format, &report.secret) {
        (ExportFormat::Operator, Some(secret)) => format!(
            "keys of the Secret {secret} (kubectl create secret generic {secret} --from-literal=NAME=value ...)"
        ),
        _ => "environment variables of the Keycloak that imports it".to_owned(),
    };
    let _ = writeln!(
        out,
        "Placeholders, set through {how}; without one, this instance's value is used:"
    );
    let width = report
        .placeholders
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for placeholder in &report.placeholders {
        let _ = writeln!(
            out,
            "  {:<width$}  {} (default {})",
            placeholder.name, placeholder.description, placeholder.default
        );
    }
    out
}

pub fn render_plan(report: &PlanReport, instance: &str) -> String {
    let mut out = String::new();
    if !report.realm_exists {
        let _ = writeln!(
            out,
            "Realm {} does not exist: `kcdev up{instance}` creates it, with everything in it.",
            report.realm
        );
        return out;
    }
    if report.changes.is_empty() {
        let _ = writeln!(
            out,
            "Realm {} matches its spec ({} objects): `kcdev up{instance}` would change nothing.",
            report.realm,
            report.unchanged.len()
        );
        return out;
    }
    let _ = writeln!(
        out,
        "`kcdev up{instance}` would make {} change(s) to realm {} ({} objects match):\n",
        report.changes.len(),
        report.realm,
        report.unchanged.len()
    );
    for change in &report.changes {
        let mark = match change.kind {
            ChangeKind::Create => "+ create",
            ChangeKind::Update => "~ update",
            ChangeKind::Delete => "- delete",
        };
        let _ = writeln!(out, "  {mark} {}", change.object);
        for detail in &change.details {
            let _ = writeln!(out, "      {detail}");
        }
    }
    out
}

/// `kcdev doctor` as text: one line per check, the fix under each failure; with `faults_only`
/// (`-q`), only the failed checks and their fixes.
pub fn render_doctor(report: &DoctorReport, faults_only: bool) -> String {
    let mut out = String::new();
    let shown = report
        .checks
        .iter()
        .filter(|check| !faults_only || check.status == CheckStatus::Fail);
    if faults_only {
        for check in shown {
            let _ = writeln!(out, "FAIL {}: {}", check.name, check.detail);
            if let Some(hint) = &check.hint {
                let _ = writeln!(out, "  fix: {hint}");
            }
            if let Some(events) = &check.events {
                let _ = writeln!(out, "  why: {events}");
            }
        }
        return out;
    }
    let _ = writeln!(out, "kcdev doctor (instance {})\n", report.instance);
    for check in shown {
        let mark = match check.status {
            CheckStatus::Pass => "ok  ",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skip => "skip",
        };
        let _ = writeln!(out, "  {mark} {:<13} {}", check.name, check.detail);
        if let Some(hint) = &check.hint {
            let _ = writeln!(out, "       {:<13} fix: {hint}", "");
        }
        if let Some(events) = &check.events {
            let _ = writeln!(out, "       {:<13} why: {events}", "");
        }
    }
    let verdict = if report.healthy() {
        "No fault found."
    } else {
        "Fault found: see FAIL above."
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_stay_aligned_whatever_the_instance_name() {
        for instance in ["", " --instance ci-job-4711-with-a-long-branch-name"] {
            let block = next_block(&up_next_steps(instance));
            let columns: Vec<usize> = block
                .lines()
                .skip(2)
                .map(|line| {
                    let command_end = line.find("   ").unwrap();
                    command_end + line[command_end..].find(|c: char| c != ' ').unwrap()
                })
                .collect();
            assert!(
                columns.windows(2).all(|pair| pair[0] == pair[1]),
                "{instance:?}:\n{block}"
            );
        }
    }
}
