//! Binding MCP sessions to the user who opened them: a session id is not a credential, so a
//! request carrying another user's session id gets the same answer as an unknown session.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const PRUNE_ABOVE: usize = 10_000;
const IDLE_LIMIT: Duration = Duration::from_secs(3600);

struct Binding {
    principal: String,
    last_seen: Instant,
}

/// Which principal owns which session.
#[derive(Default)]
pub struct SessionBindings {
    bindings: Mutex<HashMap<String, Binding>>,
}

impl SessionBindings {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Binding>> {
        self.bindings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `principal` may use `session` (true for sessions not bound yet).
    pub fn permits(&self, session: &str, principal: &str) -> bool {
        match self.lock().get_mut(session) {
            Some(binding) if binding.principal == principal => {
                binding.last_seen = Instant::now();
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// Binds a new session to the principal that opened it.
    pub fn bind(&self, session: &str, principal: &str) {
        let mut bindings = self.lock();
        if bindings.len() > PRUNE_ABOVE {
            bindings.retain(|_, binding| binding.last_seen.elapsed() < IDLE_LIMIT);
        }
        bindings.insert(
            session.to_owned(),
            Binding {
                principal: principal.to_owned(),
                last_seen: Instant::now(),
            },
        );
    }

    /// Forgets a closed session.
    pub fn forget(&self, session: &str) {
        self.lock().remove(session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_belongs_to_its_opener() {
        let sessions = SessionBindings::default();
        assert!(sessions.permits("s1", "alice"));
        sessions.bind("s1", "alice");
        assert!(sessions.permits("s1", "alice"));
        assert!(!sessions.permits("s1", "bob"));
        sessions.forget("s1");
        assert!(sessions.permits("s1", "bob"));
    }
}
