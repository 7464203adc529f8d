//! Lines of Keycloak's log that say what an event leaves out. Keycloak logs them at WARN, in the
//! same request, a moment before it stores the event: the URI the Trusted Hosts policy refused,
//! the scope the Allowed Client Scopes policy refused, and the client id of a Client ID Metadata
//! Document it could not fetch or check (those events carry no client id at all).

use std::time::UNIX_EPOCH;

use super::{CLIENT_REGISTER_ERROR, Event, LOGIN_ERROR};

/// How far before an event its log line may be (Keycloak logs, then stores the event)...
const BEFORE_MS: i64 = 3_000;
/// ...and after it (the container's clock and the event's are the same machine's; some slack).
const AFTER_MS: i64 = 1_000;

/// What a log line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clue {
    /// `KC-SERVICES0108: URI '...' doesn't match any trustedHost or trustedDomain`.
    UntrustedUri { uri: String },
    /// `Requested scope '...' not trusted in the list: [...]`.
    DisallowedScope { scope: String },
    /// `fetching client metadata for the first time failed: clientId = ...`.
    CimdFetchFailed { client_id: String },
    /// `not trusted domain: host = ...` (a CIMD client id on a domain the policy does not take).
    CimdUntrustedDomain { host: String },
    /// `client_id property in client metadata does not exactly match ... property = A, parameter
    /// = B`: the document at B names A.
    CimdClientIdMismatch {
        client_id: String,
        document_client_id: String,
    },
    /// `redirect_uri parameter does not exactly match ...: redirectUri = ...`.
    CimdRedirectMismatch { redirect_uri: String },
}

/// A log line that says something an event leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogClue {
    /// When the container wrote it, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub clue: Clue,
    /// The line, without the engine's timestamp.
    pub line: String,
}

impl LogClue {
    /// The client id the line names, if any.
    pub fn client_id(&self) -> Option<&str> {
        match &self.clue {
            Clue::CimdFetchFailed { client_id } | Clue::CimdClientIdMismatch { client_id, .. } => {
                Some(client_id)
            }
            _ => None,
        }
    }
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = &text[from..];
    Some(rest.find(end).map_or(rest, |to| &rest[..to]))
}

/// The text after `start`, to the end of the line.
fn after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    text.find(start)
        .map(|from| text[from + start.len()..].trim())
        .filter(|rest| !rest.is_empty())
}

/// Reads one line of the engine's log output with timestamps (`2026-12-04T14:53:10.067123456Z
/// <Keycloak's line>`); `None` for a line that says nothing events lack.
pub fn parse_log_line(line: &str) -> Option<LogClue> {
    let (stamp, text) = line.split_once(' ')?;
    let time = humantime::parse_rfc3339_weak(stamp).ok()?;
    let time_ms = i64::try_from(time.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    let owned = |text: &str| text.trim().to_owned();
    let clue = if text.contains("KC-SERVICES0108") {
        Clue::UntrustedUri {
            uri: owned(between(text, "URI '", "'")?),
        }
    } else if text.contains("Requested scope '") {
        Clue::DisallowedScope {
            scope: owned(between(text, "Requested scope '", "'")?),
        }
    } else if text.contains("fetching client metadata") {
        Clue::CimdFetchFailed {
            client_id: owned(after(text, "clientId = ")?),
        }
    } else if text.contains("not trusted domain: host = ") {
        Clue::CimdUntrustedDomain {
            host: owned(after(text, "not trusted domain: host = ")?),
        }
    } else if text.contains("client_id property in client metadata") {
        Clue::CimdClientIdMismatch {
            document_client_id: owned(between(text, "property = ", ",")?),
            client_id: owned(after(text, "parameter = ")?),
        }
    } else if text.contains("redirect_uri parameter does not exactly match") {
        Clue::CimdRedirectMismatch {
            redirect_uri: owned(after(text, "redirectUri = ")?),
        }
    } else {
        return None;
    };
    Some(LogClue {
        time_ms,
        clue,
        line: text.trim_end().to_owned(),
    })
}

/// Whether `clue` can fill in what `event` lacks.
fn fits(event: &Event, clue: &Clue) -> bool {
    let policy = event
        .detail("client_registration_policy")
        .unwrap_or_default();
    let cimd_detail = event
        .detail("client_policy_error_detail")
        .unwrap_or_default();
    match (event.event_type.as_str(), clue) {
        (CLIENT_REGISTER_ERROR, Clue::UntrustedUri { .. }) => policy == "Trusted Hosts",
        (CLIENT_REGISTER_ERROR, Clue::DisallowedScope { .. }) => policy == "Allowed Client Scopes",
        (LOGIN_ERROR, Clue::CimdFetchFailed { .. }) => cimd_detail.contains("fetch failed"),
        (LOGIN_ERROR, Clue::CimdClientIdMismatch { .. }) => {
            cimd_detail.contains("client_id property")
        }
        (LOGIN_ERROR, Clue::CimdRedirectMismatch { .. }) => {
            cimd_detail.contains("redirect_uri parameter")
        }
        (LOGIN_ERROR, Clue::CimdUntrustedDomain { host }) => {
            event.error.as_deref() == Some("client_not_found")
                && event
                    .client_id
                    .as_deref()
                    .and_then(|id| url::Url::parse(id).ok())
                    .is_some_and(|url| url.host_str() == Some(host.as_str()))
        }
        _ => false,
    }
}

/// The log line that fills in what `event` lacks: the nearest in time of those that fit it.
pub fn clue_for<'a>(event: &Event, clues: &'a [LogClue]) -> Option<&'a LogClue> {
    clues
        .iter()
        .filter(|clue| {
            (event.time_ms - BEFORE_MS..=event.time_ms + AFTER_MS).contains(&clue.time_ms)
        })
        .filter(|clue| fits(event, &clue.clue))
        .min_by_key(|clue| (clue.time_ms - event.time_ms).abs())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Lines as the engine returns them for Keycloak 26.7.5 (`kcdev logs` without the stamp).
    const LOG: &[&str] = &[
        "2026-12-04T14:53:10.067412000Z 2026-12-04 14:53:10,067 WARN  [org.keycloak.services] (executor-thread-7) KC-SERVICES0108: URI 'http://evil.example:1234/callback' doesn't match any trustedHost or trustedDomain",
        "2026-12-04T14:53:10.068Z 2026-12-04 14:53:10,068 WARN  [org.keycloak.services] (executor-thread-7) KC-SERVICES0099: Operation 'before register client' rejected. Policy 'Trusted Hosts' rejected request to client-registration service. Details: URI doesn't match any trusted host or trusted domain",
        "2026-12-04T14:53:10.128Z 2026-12-04 14:53:10,128 WARN  [org.keycloak.services.clientregistration.policy.impl.ClientScopesClientRegistrationPolicy] (executor-thread-7) Requested scope 'notes:write' not trusted in the list: [openid, email, profile, mcp:admin]",
        "2026-12-04T14:56:02.549Z 2026-12-04 14:56:02,549 WARN  [org.keycloak.protocol.oauth2.cimd.clientpolicy.executor.ClientIdMetadataDocumentExecutor] (executor-thread-5) fetching client metadata for the first time failed: clientId = http://cimd-docs:8080/missing.json",
        "2026-12-04T14:56:03.445Z 2026-12-04 14:56:03,445 WARN  [org.keycloak.protocol.oauth2.cimd.clientpolicy.condition.ClientIdUriSchemeCondition] (executor-thread-5) not trusted domain: host = nowhere.invalid",
        "2026-12-04T15:01:01.672Z 2026-12-04 15:01:01,672 WARN  [org.keycloak.protocol.oauth2.cimd.clientpolicy.executor.ClientIdMetadataDocumentExecutor] (executor-thread-20) client_id property in client metadata does not exactly match client_id parameter in authorization request. property = http://cimd-docs:8080/other.json, parameter = http://cimd-docs:8080/mismatch.json",
        "2026-12-04T15:01:02.091Z 2026-12-04 15:01:02,091 WARN  [org.keycloak.protocol.oauth2.cimd.clientpolicy.executor.ClientIdMetadataDocumentExecutor] (executor-thread-20) redirect_uri parameter does not exactly match the one of redirect_uris property in client metadata: redirectUri = http://localhost:39999/callback",
        "2026-12-04T15:01:02.093Z 2026-12-04 15:01:02,093 INFO  [io.quarkus] (main) something else entirely",
        "not a log line",
    ];

    fn clues() -> Vec<LogClue> {
        LOG.iter().filter_map(|line| parse_log_line(line)).collect()
    }

    fn event(event_type: &str, time_ms: i64, details: &[(&str, &str)]) -> Event {
        Event {
            id: "e".into(),
            time_ms,
            event_type: event_type.into(),
            error: Some("not_allowed".into()),
            details: details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            ..Event::default()
        }
    }

    #[test]
    fn reads_what_keycloak_logs_and_nothing_else() {
        let clues = clues();
        let kinds: Vec<&Clue> = clues.iter().map(|c| &c.clue).collect();
        assert_eq!(
            kinds,
            [
                &Clue::UntrustedUri {
                    uri: "http://evil.example:1234/callback".into()
                },
                &Clue::DisallowedScope {
                    scope: "notes:write".into()
                },
                &Clue::CimdFetchFailed {
                    client_id: "http://cimd-docs:8080/missing.json".into()
                },
                &Clue::CimdUntrustedDomain {
                    host: "nowhere.invalid".into()
                },
                &Clue::CimdClientIdMismatch {
                    client_id: "http://cimd-docs:8080/mismatch.json".into(),
                    document_client_id: "http://cimd-docs:8080/other.json".into()
                },
                &Clue::CimdRedirectMismatch {
                    redirect_uri: "http://localhost:39999/callback".into()
                },
            ]
        );
        assert_eq!(clues[0].time_ms, 1_796_395_990_067);
        assert!(clues[0].line.starts_with("2026-12-04 14:53:10,067 WARN"));
    }

    #[test]
    fn an_event_takes_the_nearest_line_of_its_own_kind() {
        let clues = clues();
        let trusted = event(
            CLIENT_REGISTER_ERROR,
            1_796_395_990_084,
            &[("client_registration_policy", "Trusted Hosts")],
        );
        assert_eq!(
            clue_for(&trusted, &clues).map(|c| &c.clue),
            Some(&Clue::UntrustedUri {
                uri: "http://evil.example:1234/callback".into()
            })
        );
        let scopes = event(
            CLIENT_REGISTER_ERROR,
            1_796_395_990_132,
            &[("client_registration_policy", "Allowed Client Scopes")],
        );
        assert!(matches!(
            clue_for(&scopes, &clues).map(|c| &c.clue),
            Some(Clue::DisallowedScope { .. })
        ));
        // The same refusal a minute later has no line of its own: none is borrowed.
        let later = event(
            CLIENT_REGISTER_ERROR,
            1_796_396_050_084,
            &[("client_registration_policy", "Trusted Hosts")],
        );
        assert_eq!(clue_for(&later, &clues), None);
        let fetch = event(
            LOGIN_ERROR,
            1_796_396_162_557,
            &[("client_policy_error_detail", "Client Metadata fetch failed")],
        );
        assert_eq!(
            clue_for(&fetch, &clues).and_then(LogClue::client_id),
            Some("http://cimd-docs:8080/missing.json")
        );
        let domain = Event {
            client_id: Some("http://nowhere.invalid:8080/x.json".into()),
            error: Some("client_not_found".into()),
            ..event(LOGIN_ERROR, 1_796_396_163_453, &[])
        };
        assert!(matches!(
            clue_for(&domain, &clues).map(|c| &c.clue),
            Some(Clue::CimdUntrustedDomain { .. })
        ));
        let elsewhere = Event {
            client_id: Some("http://other.invalid/x.json".into()),
            ..domain
        };
        assert_eq!(clue_for(&elsewhere, &clues), None);
    }
}
