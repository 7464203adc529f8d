//! What MCP clients did in the realm, in MCP terms: Keycloak's events (registration, login,
//! code-to-token, refresh and their errors) become a timeline whose failures say what went wrong
//! and what fixes it. Keycloak's details are read first; where an event lacks them (the Trusted
//! Hosts refusal names no URI, a failed Client ID Metadata Document fetch names no client), the
//! matching line of Keycloak's own log fills them in ([`clues`]). Where Keycloak records nothing at
//! all (a token request refused for an unknown `resource`, a consent page left open), what did not
//! follow an event says it ([`timeline`]). Pure: the operation gathers the events, the clients and
//! the log; nothing here talks to Keycloak or knows the terminal.

mod clues;
mod explain;
mod timeline;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub use clues::{Clue, LogClue, clue_for, parse_log_line};
pub use explain::{Finding, Problem, explain};
pub use timeline::{LOGIN_GRACE, Outcome, Stall, TOKEN_GRACE, outcome};

use crate::clients::Client;

/// The event types kcdev asks Keycloak to record (`realm.toml`'s `[events]`) and reads back.
pub const CLIENT_REGISTER: &str = "CLIENT_REGISTER";
pub const CLIENT_REGISTER_ERROR: &str = "CLIENT_REGISTER_ERROR";
pub const LOGIN: &str = "LOGIN";
pub const LOGIN_ERROR: &str = "LOGIN_ERROR";
pub const CODE_TO_TOKEN: &str = "CODE_TO_TOKEN";
pub const CODE_TO_TOKEN_ERROR: &str = "CODE_TO_TOKEN_ERROR";
pub const REFRESH_TOKEN: &str = "REFRESH_TOKEN";
pub const REFRESH_TOKEN_ERROR: &str = "REFRESH_TOKEN_ERROR";

/// Clients Keycloak puts in every realm (kcdev's own password check logs in through `admin-cli`).
const KEYCLOAK_CLIENTS: [&str; 6] = [
    "admin-cli",
    "account",
    "account-console",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// One event as Keycloak recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// Keycloak's id of the event.
    pub id: String,
    /// When, in milliseconds since the Unix epoch (Keycloak's clock).
    pub time_ms: i64,
    /// Keycloak's event type (`LOGIN`, `CLIENT_REGISTER_ERROR`, ...).
    pub event_type: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    /// Keycloak's error code; `None` on success.
    pub error: Option<String>,
    /// Keycloak's details (`redirect_uri`, `scope`, `reason`, `username`, ...).
    pub details: BTreeMap<String, String>,
}

impl From<keycloak::types::EventRepresentation> for Event {
    fn from(event: keycloak::types::EventRepresentation) -> Self {
        let text = |value: Option<keycloak::types::TypeString>| {
            value
                .map(|value| value.to_string())
                .filter(|value| !value.is_empty() && value != "null")
        };
        Self {
            id: text(event.id).unwrap_or_default(),
            time_ms: event.time.unwrap_or_default(),
            event_type: text(event.type_).unwrap_or_default(),
            client_id: text(event.client_id),
            user_id: text(event.user_id),
            session_id: text(event.session_id),
            error: text(event.error),
            details: event
                .details
                .iter()
                .flat_map(|details| details.iter())
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        }
    }
}

impl Event {
    /// A detail Keycloak recorded, if any.
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details.get(key).map(String::as_str)
    }

    /// Keycloak recorded an error.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.event_type.ends_with("_ERROR")
    }

    /// The event's time.
    pub fn time(&self) -> SystemTime {
        let millis = u64::try_from(self.time_ms).unwrap_or_default();
        UNIX_EPOCH + Duration::from_millis(millis)
    }

    /// The scopes Keycloak granted (`scope` of a token event), in order.
    pub fn scopes(&self) -> Vec<String> {
        self.detail("scope")
            .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// How a client got its client id: the registration path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientOrigin {
    /// One of kcdev's own clients (`kcdev-claude-code`, `kcdev`, ...), declared in its realm spec.
    PreRegistered,
    /// Anonymous dynamic client registration (RFC 7591): Keycloak made up the client id.
    #[serde(rename = "dcr")]
    Dynamic,
    /// A Client ID Metadata Document: the client id is the document's URL.
    Cimd,
    /// A client Keycloak puts in every realm (`admin-cli`, `account`, ...).
    Keycloak,
    /// A client made some other way (the admin console, a script).
    Other,
}

impl ClientOrigin {
    /// The path of the client `client_id`. `kcdev_clients` are the ids kcdev's spec declares;
    /// `internal_id` is Keycloak's own id of the client when the realm still has it (a
    /// dynamically registered client's client id is that id).
    pub fn classify(client_id: &str, kcdev_clients: &[String], internal_id: Option<&str>) -> Self {
        if kcdev_clients.iter().any(|known| known == client_id) {
            Self::PreRegistered
        } else if KEYCLOAK_CLIENTS.contains(&client_id) {
            Self::Keycloak
        } else if client_id.starts_with("https://") || client_id.starts_with("http://") {
            Self::Cimd
        } else if internal_id.map_or_else(|| is_uuid(client_id), |id| id == client_id) {
            Self::Dynamic
        } else {
            Self::Other
        }
    }

    /// As the timeline writes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PreRegistered => "pre-registered",
            Self::Dynamic => "DCR",
            Self::Cimd => "CIMD",
            Self::Keycloak => "Keycloak's own",
            Self::Other => "made by hand",
        }
    }
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// What the realm holds for one client of the events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    pub client_id: String,
    /// Its display name (a registration's `client_name`).
    pub name: Option<String>,
    pub origin: ClientOrigin,
    /// Whether the realm still has it.
    pub exists: bool,
    /// The client scopes it may ask for (its default and optional ones).
    pub scopes: Vec<String>,
    /// Whether Keycloak asks the user for consent (it does for every CIMD client it creates).
    pub consent_required: bool,
    pub redirect_uris: Vec<String>,
}

impl ClientFacts {
    /// A client the realm does not (or no longer) have.
    pub fn missing(client_id: &str, kcdev_clients: &[String]) -> Self {
        Self {
            client_id: client_id.to_owned(),
            name: None,
            origin: ClientOrigin::classify(client_id, kcdev_clients, None),
            exists: false,
            scopes: Vec::new(),
            consent_required: false,
            redirect_uris: Vec::new(),
        }
    }

    /// The MCP client kcdev pre-registered this client for (Claude Code for `kcdev-claude-code`).
    pub fn pre_registered_for(&self) -> Option<Client> {
        Client::ALL.into_iter().find(|client| {
            client
                .pre_registered()
                .is_some_and(|pre| pre.client_id == self.client_id)
        })
    }

    /// How explanations name it: `the DCR client "Visual Studio Code"`.
    pub fn describe(&self) -> String {
        match (self.origin, &self.name) {
            (ClientOrigin::PreRegistered, _) => match self.pre_registered_for() {
                Some(client) => format!(
                    "{} (kcdev's pre-registered client for {})",
                    self.client_id,
                    client.title()
                ),
                None => format!("{} (kcdev's own client)", self.client_id),
            },
            (ClientOrigin::Cimd, _) => format!("the CIMD client {}", self.client_id),
            (origin, Some(name)) => format!("the {} client {name:?}", origin.label()),
            (origin, None) => format!("the {} client {}", origin.label(), self.client_id),
        }
    }
}

/// What kcdev knows of the realm the events come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmFacts {
    pub realm: String,
    /// A container kcdev runs (else a server it was pointed at).
    pub managed: bool,
    /// `--instance NAME` for commands in fixes, or empty.
    pub instance_flag: String,
    /// The client ids kcdev's spec declares.
    pub kcdev_clients: Vec<String>,
    /// The trusted hosts of kcdev's registration policy; `None` when kcdev leaves the server's
    /// policies as they are.
    pub trusted_hosts: Option<Vec<String>>,
    /// The hosts `up --trusted-host` added (repeated in a fix, since the flag replaces them).
    pub extra_trusted_hosts: Vec<String>,
    /// The domains CIMD documents are taken from; `None` when CIMD is off.
    pub cimd_domains: Option<Vec<String>>,
    /// The domains `up --cimd-domain` added.
    pub extra_cimd_domains: Vec<String>,
    /// RFC 8707 resource indicators are on.
    pub resource_indicators: bool,
    /// The MCP resource URLs of the instance's servers.
    pub resource_urls: Vec<String>,
    /// Dynamically registered clients get the realm's optional scopes (kcdev's provider).
    pub registered_clients_step_up: bool,
    /// The realm's client scopes.
    pub realm_scopes: Vec<String>,
    /// The realm has kcdev's test users.
    pub test_users: bool,
}

impl RealmFacts {
    /// `kcdev <rest>` for this instance.
    pub fn command(&self, rest: &str) -> String {
        format!("kcdev {rest}{}", self.instance_flag)
    }
}

/// What an event was, in MCP terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Registered,
    RegistrationUpdated,
    Unregistered,
    LoggedIn,
    GotToken,
    Refreshed,
    Consented,
    /// Keycloak refused something, or what should have followed did not.
    Failed,
    Other,
}

impl Kind {
    /// The kind of a successful event of `event_type`.
    fn of(event_type: &str) -> Self {
        match event_type {
            CLIENT_REGISTER => Self::Registered,
            "CLIENT_UPDATE" => Self::RegistrationUpdated,
            "CLIENT_DELETE" => Self::Unregistered,
            LOGIN => Self::LoggedIn,
            CODE_TO_TOKEN => Self::GotToken,
            REFRESH_TOKEN => Self::Refreshed,
            "GRANT_CONSENT" | "UPDATE_CONSENT" => Self::Consented,
            _ => Self::Other,
        }
    }

    /// As the timeline writes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::RegistrationUpdated => "updated",
            Self::Unregistered => "unregistered",
            Self::LoggedIn => "logged in",
            Self::GotToken => "got token",
            Self::Refreshed => "refreshed",
            Self::Consented => "consented",
            Self::Failed => "FAILED",
            Self::Other => "other",
        }
    }
}

/// One line of the timeline: the event, the client and user it concerns, and for a failure what
/// went wrong in MCP terms and what fixes it. Its JSON form is an interface (`kcdev events
/// --json`, one object per line): fields are added, never renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Keycloak's id of the event. With `--follow`, an event found later to have gone nowhere (a
    /// login without a token) comes again with the same id and its explanation.
    pub id: String,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// Keycloak's event type.
    #[serde(rename = "type")]
    pub event_type: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The client's registration path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<ClientOrigin>,
    /// The MCP client kcdev pre-registered the client for (`claude-code`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_registered_for: Option<Client>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The scopes granted (token events).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The RFC 8707 resource asked for, where Keycloak names it (it records it only in errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Keycloak's error code; absent on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What went wrong, as a stable name (`untrusted_redirect_host`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// What went wrong, in MCP terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The kcdev command, `kcdev.toml` line or client setting that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The line of Keycloak's log that filled in what the event lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_line: Option<String>,
    /// Keycloak's details, as recorded.
    pub details: BTreeMap<String, String>,
}

impl Entry {
    /// The timeline entry of `event`, with what the realm says of its client and user, the log
    /// line that fills in its gaps, and what became of it.
    pub fn new(
        event: &Event,
        client: Option<&ClientFacts>,
        username: Option<String>,
        clue: Option<&LogClue>,
        finding: Option<Finding>,
    ) -> Self {
        let kind = if finding.is_some() || event.failed() {
            Kind::Failed
        } else {
            Kind::of(&event.event_type)
        };
        let registration = client.map(|client| client.origin).or_else(|| {
            // A refused registration has no client yet: it was a dynamic one.
            (event.event_type == CLIENT_REGISTER_ERROR).then_some(ClientOrigin::Dynamic)
        });
        let (problem, explanation, fix) = match finding {
            Some(finding) => (
                Some(finding.problem),
                Some(finding.explanation),
                Some(finding.fix),
            ),
            None => (None, None, None),
        };
        Self {
            id: event.id.clone(),
            time: humantime::format_rfc3339_millis(event.time()).to_string(),
            event_type: event.event_type.clone(),
            kind,
            client_id: client
                .map(|client| client.client_id.clone())
                .or_else(|| event.client_id.clone()),
            client_name: client.and_then(|client| client.name.clone()),
            registration,
            pre_registered_for: client.and_then(ClientFacts::pre_registered_for),
            username: username.or_else(|| event.detail("username").map(str::to_owned)),
            user_id: event.user_id.clone(),
            scopes: event.scopes(),
            resource: event
                .detail("reason")
                .and_then(|reason| reason.strip_prefix("Invalid resource: "))
                .map(str::to_owned),
            redirect_uri: event.detail("redirect_uri").map(str::to_owned),
            error: event.error.clone(),
            problem,
            explanation,
            fix,
            log_line: clue.map(|clue| clue.line.clone()),
            details: event.details.clone(),
        }
    }

    /// A failure, or something that went nowhere.
    pub fn is_failure(&self) -> bool {
        self.kind == Kind::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_paths_are_told_by_the_client_id() {
        let kcdev = vec![
            "kcdev-claude-code".to_owned(),
            "http://localhost:8000/mcp".to_owned(),
        ];
        let uuid = "47f8ae2f-61a3-413c-896c-c5d2e69731c2";
        let classify =
            |id: &str, internal: Option<&str>| ClientOrigin::classify(id, &kcdev, internal);
        assert_eq!(
            classify("kcdev-claude-code", None),
            ClientOrigin::PreRegistered
        );
        // kcdev's resource clients have URLs for ids, and are not CIMD clients.
        assert_eq!(
            classify("http://localhost:8000/mcp", None),
            ClientOrigin::PreRegistered
        );
        assert_eq!(
            classify("https://claude.ai/oauth/claude-code-client-metadata", None),
            ClientOrigin::Cimd
        );
        assert_eq!(classify(uuid, Some(uuid)), ClientOrigin::Dynamic);
        // Gone from the realm: Keycloak's made-up ids are UUIDs.
        assert_eq!(classify(uuid, None), ClientOrigin::Dynamic);
        assert_eq!(classify(uuid, Some("another-id")), ClientOrigin::Other);
        assert_eq!(classify("my-app", Some("5d2e")), ClientOrigin::Other);
        assert_eq!(classify("admin-cli", Some("x")), ClientOrigin::Keycloak);
        assert!(!is_uuid("47f8ae2f-61a3-413c-896c-c5d2e69731cz"));
    }

    #[test]
    fn an_entry_says_what_happened_and_keeps_keycloaks_words() {
        let event = Event {
            id: "e1".into(),
            time_ms: 1_796_396_006_578,
            event_type: CODE_TO_TOKEN.into(),
            client_id: Some("kcdev-claude-code".into()),
            user_id: Some("u1".into()),
            details: BTreeMap::from([("scope".into(), "openid mcp:tools".into())]),
            ..Event::default()
        };
        let client = ClientFacts {
            name: Some("Claude Code".into()),
            origin: ClientOrigin::PreRegistered,
            exists: true,
            ..ClientFacts::missing("kcdev-claude-code", &[])
        };
        let entry = Entry::new(&event, Some(&client), Some("testuser".into()), None, None);
        assert_eq!(entry.kind, Kind::GotToken);
        assert_eq!(entry.scopes, ["openid", "mcp:tools"]);
        assert_eq!(entry.pre_registered_for, Some(Client::ClaudeCode));
        assert_eq!(entry.time, "2026-12-04T14:53:26.578Z");
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["type"], "CODE_TO_TOKEN");
        assert_eq!(json["registration"], "pre-registered");
        assert_eq!(json["username"], "testuser");
        for absent in ["error", "explanation", "fix", "problem"] {
            assert!(json.get(absent).is_none(), "{absent} on a success");
        }
    }
}
