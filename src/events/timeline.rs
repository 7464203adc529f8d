//! What did not follow an event. Keycloak records nothing when it refuses a code exchange for an
//! unknown `resource` (`invalid_target`, 26.7), nor while a login or consent page waits for an
//! answer: the trace of both is a login without a token, or a registration without a login.

use std::time::Duration;

use super::{
    CLIENT_REGISTER, CODE_TO_TOKEN, CODE_TO_TOKEN_ERROR, ClientFacts, ClientOrigin, Event, LOGIN,
};

/// How long a client gets from its login to its token request. Real clients exchange the code
/// the moment the browser comes back, well within a second.
pub const TOKEN_GRACE: Duration = Duration::from_secs(10);

/// How long a registered client gets to finish its first login: a person reads the login page,
/// types a password, reads a consent page.
pub const LOGIN_GRACE: Duration = Duration::from_secs(60);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// What did not happen after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// A login by code whose code never came to the token endpoint, or came and was refused
    /// without an event.
    TokenNotIssued,
    /// A registration (or the creation of a CIMD client) without a login after it.
    LoginNotCompleted,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more to wait for.
    Settled,
    /// What should follow may still come.
    Pending,
    /// What should have followed did not.
    Stalled(Stall),
}

/// What became of `events[index]` by `now_ms`, from the events after it (`events` in time order).
/// `client` is what the realm holds for its client.
pub fn outcome(
    events: &[Event],
    index: usize,
    client: Option<&ClientFacts>,
    now_ms: i64,
) -> Outcome {
    let Some(event) = events.get(index) else {
        return Outcome::Settled;
    };
    let later = &events[index + 1..];
    let age = now_ms - event.time_ms;
    let waiting = |grace: Duration, stall: Stall| {
        if age >= millis(grace) {
            Outcome::Stalled(stall)
        } else {
            Outcome::Pending
        }
    };
    match event.event_type.as_str() {
        LOGIN if !event.failed() && is_code_flow(event) => {
            let code = event.detail("code_id").or(event.session_id.as_deref());
            let exchanged = later.iter().any(|next| {
                let same_code = next.detail("code_id").or(next.session_id.as_deref()) == code;
                match next.event_type.as_str() {
                    CODE_TO_TOKEN => same_code,
                    // A refused exchange may carry no code: its client's is enough.
                    CODE_TO_TOKEN_ERROR => same_code || next.client_id == event.client_id,
                    _ => false,
                }
            });
            if exchanged {
                Outcome::Settled
            } else {
                waiting(TOKEN_GRACE, Stall::TokenNotIssued)
            }
        }
        CLIENT_REGISTER if !event.failed() => {
            // A client kcdev keeps, recreated: nobody is waiting to log in with it.
            if client.is_some_and(|client| client.origin == ClientOrigin::PreRegistered) {
                return Outcome::Settled;
            }
            let used = later
                .iter()
                .any(|next| next.client_id.is_some() && next.client_id == event.client_id);
            if used {
                Outcome::Settled
            } else {
                waiting(LOGIN_GRACE, Stall::LoginNotCompleted)
            }
        }
        _ => Outcome::Settled,
    }
}

/// A login whose answer is a code to exchange (not a password grant, which gets its tokens at
/// once).
fn is_code_flow(event: &Event) -> bool {
    event
        .detail("response_type")
        .is_some_and(|types| types.split_whitespace().any(|t| t == "code"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn event(event_type: &str, time_ms: i64, client: &str, details: &[(&str, &str)]) -> Event {
        Event {
            id: format!("{event_type}-{time_ms}"),
            time_ms,
            event_type: event_type.into(),
            client_id: Some(client.into()),
            details: details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            ..Event::default()
        }
    }

    const CODE: &[(&str, &str)] = &[("response_type", "code"), ("code_id", "s1")];

    #[test]
    fn a_login_waits_for_its_token_then_stalls() {
        let login = event(LOGIN, 1_000, "c", CODE);
        let token = event(CODE_TO_TOKEN, 1_200, "c", &[("code_id", "s1")]);
        assert_eq!(
            outcome(&[login.clone(), token], 0, None, 1_300),
            Outcome::Settled
        );
        assert_eq!(
            outcome(std::slice::from_ref(&login), 0, None, 5_000),
            Outcome::Pending
        );
        assert_eq!(
            outcome(std::slice::from_ref(&login), 0, None, 11_000),
            Outcome::Stalled(Stall::TokenNotIssued)
        );
        // Another login's token is not this one's.
        let other = event(CODE_TO_TOKEN, 1_200, "c", &[("code_id", "s2")]);
        assert_eq!(
            outcome(&[login.clone(), other], 0, None, 20_000),
            Outcome::Stalled(Stall::TokenNotIssued)
        );
        // A refused exchange settles it: that event says why.
        let refused = event(CODE_TO_TOKEN_ERROR, 1_200, "c", &[]);
        assert_eq!(
            outcome(&[login, refused], 0, None, 20_000),
            Outcome::Settled
        );
        // A password grant has its token already.
        let password = event(LOGIN, 1_000, "kcdev", &[("grant_type", "password")]);
        assert_eq!(outcome(&[password], 0, None, 99_000), Outcome::Settled);
    }

    #[test]
    fn a_registration_waits_for_a_login() {
        let registered = event(CLIENT_REGISTER, 1_000, "c", &[]);
        let login = event(LOGIN, 30_000, "c", CODE);
        assert_eq!(
            outcome(&[registered.clone(), login], 0, None, 90_000),
            Outcome::Settled
        );
        assert_eq!(
            outcome(std::slice::from_ref(&registered), 0, None, 30_000),
            Outcome::Pending
        );
        assert_eq!(
            outcome(std::slice::from_ref(&registered), 0, None, 61_000),
            Outcome::Stalled(Stall::LoginNotCompleted)
        );
        let kcdevs = ClientFacts {
            origin: ClientOrigin::PreRegistered,
            ..ClientFacts::missing("c", &[])
        };
        assert_eq!(
            outcome(&[registered], 0, Some(&kcdevs), 61_000),
            Outcome::Settled
        );
    }
}
