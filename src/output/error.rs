//! Error rendering: what failed, why (the cause chain), the container's last log lines where
//! they explain it, and what to do next. Errors state what failed; hints state the fix.

use std::io::{self, Write};

use kcdev::clients::{MergeError, RegistrationUnsupported};
use kcdev::docker::{DockerError, PortPurpose};
use kcdev::keycloak::KeycloakApiError;
use kcdev::oauth::OAuthError;
use kcdev::ops::OpsError;
use kcdev::project::ProjectError;
use kcdev::realm::RealmError;
use kcdev::scaffold::ScaffoldError;
use kcdev::state::StateError;
use serde_json::json;

use super::Printer;

/// Prints `error` (text on stderr, or a JSON object on stdout with `--json`).
/// `instance_flag` is what commands in hints need to name the instance (`--instance x`, or empty).
pub fn report_error(printer: &Printer, error: &anyhow::Error, instance_flag: &str) {
    let causes: Vec<String> = error.chain().skip(1).map(ToString::to_string).collect();
    let hints = hints(error, instance_flag);
    let log_tail = log_tail(error);
    if printer.json() {
        printer.json_value(&json!({
            "error": {
                "message": error.to_string(),
                "causes": causes,
                "hints": hints,
                "log_tail": log_tail,
            }
        }));
        return;
    }
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    for cause in &causes {
        let _ = writeln!(err, "  caused by: {cause}");
    }
    if !log_tail.is_empty() {
        let _ = writeln!(err, "\nlast {} lines of the Keycloak log:", log_tail.len());
        for line in log_tail {
            let _ = writeln!(err, "  | {line}");
        }
        let _ = writeln!(err);
    }
    for hint in hints {
        let _ = writeln!(err, "hint: {hint}");
    }
}

fn log_tail(error: &anyhow::Error) -> &[String] {
    error
        .chain()
        .find_map(|cause| match cause.downcast_ref::<OpsError>() {
            // Transparent: the wrapped error is not in the chain by itself.
            Some(OpsError::Docker(docker)) => Some(docker),
            _ => cause.downcast_ref::<DockerError>(),
        })
        .map_or(&[], DockerError::log_tail)
}

fn hints(error: &anyhow::Error, instance: &str) -> Vec<String> {
    error
        .chain()
        .flat_map(|cause| {
            if let Some(err) = cause.downcast_ref::<OpsError>() {
                ops_hints(err, instance)
            } else if let Some(err) = cause.downcast_ref::<DockerError>() {
                docker_hints(err, instance)
            } else if let Some(err) = cause.downcast_ref::<KeycloakApiError>() {
                keycloak_hints(err, instance)
            } else if let Some(err) = cause.downcast_ref::<RealmError>() {
                realm_hints(err, instance)
            } else if let Some(err) = cause.downcast_ref::<StateError>() {
                state_hints(err, instance)
            } else if let Some(err) = cause.downcast_ref::<ProjectError>() {
                err.fix().into_iter().collect()
            } else {
                vec![]
            }
        })
        .collect()
}

fn ops_hints(error: &OpsError, instance: &str) -> Vec<String> {
    // Transparent variants hide the wrapped error from the cause chain: look inside them here.
    match error {
        OpsError::Docker(err) => docker_hints(err, instance),
        OpsError::Realm(err) => realm_hints(err, instance),
        OpsError::Keycloak(err) => keycloak_hints(err, instance),
        OpsError::State(err) => state_hints(err, instance),
        OpsError::KeycloakTooOld { .. } => vec![format!(
            "use Keycloak 26.6.0 or later, e.g. --image {}",
            kcdev::defaults::image()
        )],
        OpsError::SettingsChanged { .. } => vec![
            format!(
                "run `kcdev up{instance} --recreate` to replace the container; the data volume (realm, users, clients) stays"
            ),
            "or pass the options the container was created with".to_owned(),
        ],
        OpsError::AdminPasswordUnknown { .. } => vec![format!(
            "run `kcdev down{instance} --volumes` to delete that data and start fresh"
        )],
        OpsError::Scaffold(ScaffoldError::NotEmpty { .. }) => vec![
            "pick another name or --dir, or pass --force to write into it (files with the same names are replaced)".to_owned(),
        ],
        OpsError::Scaffold(_) => vec![],
        OpsError::OAuth(err) => oauth_hints(err, instance),
        OpsError::ClientConfigFile(MergeError::Unparsable { .. } | MergeError::NotATable { .. }) => vec![
            "fix the file, or paste the entry by hand (kcdev prints it without --write)".to_owned(),
        ],
        OpsError::ClientConfigFile(_) => vec![],
        OpsError::UnknownResource { known, .. } | OpsError::UnknownServer { known, .. } => vec![
            format!("use one of {}", known.join(", ")),
            "`kcdev up --server-url URL` (repeatable) adds servers".to_owned(),
        ],
        OpsError::RegistrationUnsupported(RegistrationUnsupported(client, _)) => vec![format!(
            "leave out --registration, or use --registration {}",
            client.registrations()[0].id()
        )],
        OpsError::NoProject { .. } => vec![
            "pass the directory `kcdev new server [--lang rust|python|typescript]` created, e.g. `kcdev run mcp-server`".to_owned(),
        ],
        OpsError::InvalidOption { flag, .. } => vec![format!("fix the value of {flag}")],
        OpsError::SamePorts { .. } => vec![format!(
            "give each its own port, e.g. `kcdev up{instance} --port auto --management-port auto`"
        )],
        OpsError::Trust(_) => vec!["--ca-cert takes a PEM file of the certificate authority that signed Keycloak's certificate".to_owned()],
        OpsError::NoAdminLogin { .. } => vec![
            "set KCDEV_ADMIN_USERNAME and KCDEV_ADMIN_PASSWORD (a master-realm admin user)".to_owned(),
            "or KCDEV_ADMIN_CLIENT_ID and KCDEV_ADMIN_CLIENT_SECRET (a master-realm client whose service account has the admin role)".to_owned(),
        ],
        OpsError::ServerTooOld { .. } => vec!["upgrade that Keycloak, or run one of kcdev's own: `kcdev up` without --keycloak-url".to_owned()],
        OpsError::ResetNeedsRealmName { realm, .. } => vec![format!(
            "to delete and recreate it, name it: `kcdev up{instance} --reset-realm {realm}`"
        )],
        OpsError::InstanceRunsContainer { .. } => vec![format!(
            "use another instance for that server: `kcdev up --instance team --keycloak-url ...`; or `kcdev down{instance} --volumes` first"
        )],
        OpsError::Export(_) => vec![],
        OpsError::NotManaged { .. } => vec!["its logs are where that server runs; `kcdev status` and `kcdev doctor` show what it answers".to_owned()],
        OpsError::NoFreePort => vec!["free a port on 127.0.0.1, or name one with --port and --management-port".to_owned()],
        OpsError::Lock(kcdev::lock::LockError::Busy { .. }) => vec![
            "wait until the other kcdev command has finished, then run this one again".to_owned(),
            "the lock is the operating system's: it goes away as soon as that process exits".to_owned(),
        ],
        OpsError::Lock(_) => vec![],
        OpsError::SeededAdminExists { .. } => vec![format!(
            "`kcdev down{instance} --volumes` and `kcdev prune` remove the instance and the image; the next `up` derives it again"
        )],
        OpsError::EventsOff { managed: true, .. } => vec![format!(
            "`kcdev up{instance}` makes it record them (a realm an older kcdev made does not yet)"
        )],
        OpsError::EventsOff { managed: false, .. } => vec![format!(
            "`kcdev up{instance} --events` makes it record them (kcdev leaves a server's event settings alone unless asked)"
        )],
        OpsError::NotCreated { .. } | OpsError::NotRunning { .. } => {
            vec![format!("start it with `kcdev up{instance}`")]
        }
        OpsError::InvalidImage(_) => vec![format!(
            "pass --image as registry/repository:tag, e.g. {}",
            kcdev::defaults::image()
        )],
    }
}

fn oauth_hints(error: &OAuthError, instance: &str) -> Vec<String> {
    match error {
        OAuthError::BadCredentials { .. } => vec![format!(
            "the test users' password is the one `kcdev up{instance}` printed; pass --password if you changed it"
        )],
        OAuthError::StoppedAtPage { .. } => vec![format!(
            "`kcdev up{instance}` repairs the test users (profile, required actions)"
        )],
        _ => vec![format!(
            "`kcdev doctor{instance}` checks the whole chain and names the fault"
        )],
    }
}

/// Where Podman's Docker-compatible API listens: a user socket on Linux, forwarded from the
/// machine's VM on macOS and Windows (its path varies by version, so Podman is asked).
#[cfg(not(any(target_os = "macos", windows)))]
const PODMAN_DOCKER_HOST: &str = "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock";
#[cfg(target_os = "macos")]
const PODMAN_DOCKER_HOST: &str =
    "DOCKER_HOST=unix://$(podman machine inspect --format '{{.ConnectionInfo.PodmanSocket.Path}}')";
#[cfg(windows)]
const PODMAN_DOCKER_HOST: &str = "DOCKER_HOST=npipe:////./pipe/podman-machine-default";

fn docker_hints(error: &DockerError, instance: &str) -> Vec<String> {
    match error {
        DockerError::EngineUnreachable { .. } => vec![
            "start Docker: `sudo systemctl start docker` (Linux), Docker Desktop (macOS, Windows), or `colima start`".to_owned(),
            format!("to use another engine, set DOCKER_HOST, e.g. {PODMAN_DOCKER_HOST} for Podman"),
        ],
        DockerError::PortTaken { port, purpose } => {
            let flag = match purpose {
                PortPurpose::Http => "--port",
                PortPurpose::Management => "--management-port",
            };
            vec![
                format!("choose another port with `kcdev up{instance} {flag} <PORT>`"),
                format!("or see what holds it: `lsof -i :{port}` (macOS, Linux) or `netstat -ano | findstr :{port}` (Windows)"),
            ]
        }
        DockerError::ImageMissing { image } => vec![
            format!("pull it first (`docker pull {image}`), or drop `--pull never`"),
        ],
        DockerError::Pull { .. } => vec![
            "check the image name and that its registry is reachable".to_owned(),
            "for an image you built or loaded locally, pass it with --image and --pull never".to_owned(),
        ],
        DockerError::ExitedDuringStart { oom_killed: true, .. } => vec![
            format!("give Keycloak more memory: `kcdev up{instance} --memory 1536m --recreate`"),
        ],
        DockerError::ExitedDuringStart { .. } => vec![format!(
            "`kcdev logs{instance}` shows the whole log; `kcdev down{instance} --volumes` starts over if the data is damaged"
        )],
        DockerError::DeriveFailed { .. } => vec![
            format!("`kcdev up{instance} --boot dev` runs the image as it is, with `start-dev`"),
        ],
        DockerError::NotReady { .. } => vec![
            format!("on a slow machine, wait longer: `kcdev up{instance} --timeout 300`"),
            format!("`kcdev logs{instance} -f` shows what Keycloak is doing"),
        ],
        DockerError::Operation { .. } => vec!["`docker info` shows whether the engine is healthy".to_owned()],
        DockerError::ProviderArchive { .. } => {
            vec!["the archive is written in memory, so this is a bug in kcdev: please report it with the error above".to_owned()]
        }
    }
}

fn keycloak_hints(error: &KeycloakApiError, instance: &str) -> Vec<String> {
    match error {
        KeycloakApiError::AdminCredentialsRejected { principal, .. }
            if !principal.starts_with("user \"admin\"") =>
        {
            vec!["check KCDEV_ADMIN_USERNAME and KCDEV_ADMIN_PASSWORD, or KCDEV_ADMIN_CLIENT_ID and KCDEV_ADMIN_CLIENT_SECRET (the client's service account needs the master realm's admin role)".to_owned()]
        }
        KeycloakApiError::AdminCredentialsRejected { .. } => vec![
            "the admin password in kcdev's state no longer matches Keycloak's (was it changed in the console?)".to_owned(),
            format!("`kcdev down{instance} --volumes` then `kcdev up{instance}` starts over with a new password"),
        ],
        KeycloakApiError::Unreachable { .. } => vec![
            format!("check that Keycloak is running: `kcdev status{instance}`"),
            "for a server over HTTPS whose certificate a private CA signed, pass that CA with --ca-cert".to_owned(),
        ],
        KeycloakApiError::Http { .. } | KeycloakApiError::Unexpected { .. } => vec![format!(
            "`kcdev logs{instance}` may say why Keycloak refused"
        )],
    }
}

fn realm_hints(error: &RealmError, instance: &str) -> Vec<String> {
    match error {
        RealmError::Api(err) => keycloak_hints(err, instance),
        RealmError::InvalidSetting { setting, .. } => {
            let flag = match *setting {
                "realm name" => "--realm",
                "server URL" => "--server-url",
                "trusted host" => "--trusted-host",
                "CIMD domain" => "--cimd-domain",
                "user password" => "--user-password",
                "realm URL" => "--realm-url",
                _ => return vec![],
            };
            vec![format!("fix the value of {flag}")]
        }
        _ => vec![],
    }
}

fn state_hints(error: &StateError, instance: &str) -> Vec<String> {
    match error {
        StateError::Corrupt { path, .. } | StateError::UnknownSchema { path, .. } => vec![format!(
            "move {} away and run `kcdev up{instance}` (if Keycloak data exists, `kcdev down{instance} --volumes` first)",
            path.display()
        )],
        StateError::NoStateDir(_) => vec!["set HOME or XDG_STATE_HOME".to_owned()],
        StateError::Io { .. } => vec![],
    }
}
