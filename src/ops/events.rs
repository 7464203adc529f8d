//! `kcdev events`: what MCP clients did in the realm, from Keycloak's events, with the realm's
//! clients and users resolved, the Keycloak container's log filling in what an event lacks, and
//! each failure explained in MCP terms (see [`crate::events`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;

use serde::Serialize;

use super::OpsError;
use super::settings::{InstanceContext, RegistrationPaths, ResolvedSettings};
use crate::docker::Engine;
use crate::events::{
    self, ClientFacts, ClientOrigin, Entry, Event, LOGIN_GRACE, LogClue, Outcome, RealmFacts,
};
use crate::keycloak::AdminSession;
use crate::realm::{RealmSpec, field, resource_url_of};

/// How often `--follow` asks Keycloak for new events.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// The most events one request reads: more than a day of a busy laptop realm.
const MAX_FETCH: i32 = 2_000;

/// How many clients or users are looked up at once.
const LOOKUPS_AT_ONCE: usize = 8;

/// How far before the first event that needs it the container's log is read.
const LOG_MARGIN: Duration = Duration::from_secs(5);

/// What `kcdev events` was asked to show.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// Only events this recent.
    pub since: Option<Duration>,
    /// Only this client's events: its client id, or (part of) its name.
    pub client: Option<String>,
    /// Only this user's events: user name or id.
    pub user: Option<String>,
    /// Only failures.
    pub errors_only: bool,
    /// At most this many entries, the most recent ones.
    pub limit: usize,
}

/// The timeline `kcdev events` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsReport {
    pub instance: String,
    pub realm: String,
    /// How long Keycloak keeps events, in seconds (0: for ever).
    pub kept_seconds: i64,
    /// Whether Keycloak's log was read to fill in what events lack (a container kcdev runs).
    pub log_read: bool,
    /// Older entries were left out (`--limit`, or more events than one read returns).
    pub truncated: bool,
    /// Oldest first.
    pub entries: Vec<Entry>,
}

/// The timeline of the instance's realm.
pub async fn events(options: EventsOptions) -> Result<EventsReport, OpsError> {
    EventFollower::connect(options).await?.start().await
}

/// `kcdev events --follow`: the timeline so far, then each new event as Keycloak records it.
pub struct EventFollower {
    options: EventsOptions,
    session: AdminSession,
    facts: RealmFacts,
    kept_seconds: i64,
    /// The container whose log fills in what events lack, when kcdev runs Keycloak.
    log: Option<(Engine, String)>,
    clients: HashMap<String, ClientFacts>,
    users: HashMap<String, Option<String>>,
    /// Recent events, oldest first: what later events settle.
    recent: Vec<Event>,
    seen: HashSet<String>,
    /// Events shown while what should follow them may still come.
    pending: BTreeSet<String>,
    high_water_ms: i64,
    log_read: bool,
}

impl EventFollower {
    /// Connects to the instance's realm and checks that it records events.
    pub async fn connect(options: EventsOptions) -> Result<Self, OpsError> {
        let context = &options.context;
        let state = context.require_up().await?;
        let settings = ResolvedSettings::from_state(&state);
        let spec = RealmSpec::render(&settings.realm_variables())?;
        let session = context.admin_session(&settings).await?;
        let realm = spec.realm_name().to_owned();
        let config = session
            .api()
            .realm_events_config_get(&realm)
            .await
            .map_err(|err| crate::realm::api_error("read the realm's event settings", err))?;
        if config.events_enabled != Some(true) {
            return Err(OpsError::EventsOff {
                realm,
                managed: settings.container().is_some(),
            });
        }
        let realm_scopes = session
            .api()
            .realm_client_scopes_get(&realm)
            .await
            .map_err(|err| crate::realm::api_error("list client scopes", err))?
            .into_iter()
            .filter_map(|scope| scope.name.map(|name| name.to_string()))
            .collect();
        let log = match settings.container() {
            Some(_) => {
                let engine = context.engine().await?;
                engine
                    .find_container(&context.instance)
                    .await?
                    .map(|container| (engine, container.id))
            }
            None => None,
        };
        let facts = realm_facts(context, &settings, &spec, realm_scopes);
        Ok(Self {
            kept_seconds: config.events_expiration.unwrap_or_default(),
            options,
            session,
            facts,
            log,
            clients: HashMap::new(),
            users: HashMap::new(),
            recent: Vec::new(),
            seen: HashSet::new(),
            pending: BTreeSet::new(),
            high_water_ms: 0,
            log_read: false,
        })
    }

    /// The timeline so far (what [`events`] shows); [`EventFollower::poll`] goes on from there.
    pub async fn start(&mut self) -> Result<EventsReport, OpsError> {
        let since_ms = self
            .options
            .since
            .map(|since| now_ms() - i64::try_from(since.as_millis()).unwrap_or(i64::MAX));
        let fetched = self.fetch(since_ms, "desc").await?;
        let mut truncated = fetched.len() >= usize::try_from(MAX_FETCH).unwrap_or(usize::MAX);
        let mut events: Vec<Event> = fetched.into_iter().rev().collect();
        events.sort_by_key(|event| event.time_ms);
        self.remember(&events);
        let now = now_ms();
        // From here on, new events only; what was just recorded comes in the first poll (the
        // ids seen keep it from coming twice).
        self.high_water_ms = self.high_water_ms.max(now - 2_000);
        let entries = self.entries(&events, &events, now).await;
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .filter(|entry| self.wanted(entry))
            .collect();
        let limit = self.options.limit;
        if entries.len() > limit {
            entries.drain(..entries.len() - limit);
            truncated = true;
        }
        self.forget_old(now);
        Ok(self.report(entries, truncated))
    }

    /// The events recorded since the last call: each as it happened, and each earlier one found
    /// to have gone nowhere (a login without a token) again, with its explanation.
    pub async fn poll(&mut self) -> Result<Vec<Entry>, OpsError> {
        let fetched = self.fetch(Some(self.high_water_ms), "asc").await?;
        let fresh: Vec<Event> = fetched
            .into_iter()
            .filter(|event| !self.seen.contains(&event.id))
            .collect();
        let now = now_ms();
        let mut out = Vec::new();
        // Earlier events that were waiting for something: settled, or stalled now.
        self.remember(&fresh);
        let waiting: Vec<String> = self.pending.iter().cloned().collect();
        for id in waiting {
            let Some(index) = self.recent.iter().position(|event| event.id == id) else {
                self.pending.remove(&id);
                continue;
            };
            let event = &self.recent[index];
            let client = self.client_of(event, None);
            match events::outcome(&self.recent, index, client.as_ref(), now) {
                Outcome::Pending => {}
                Outcome::Settled => {
                    self.pending.remove(&id);
                }
                Outcome::Stalled(stall) => {
                    let event = event.clone();
                    self.pending.remove(&id);
                    let username = self.username_of(&event);
                    let finding =
                        events::explain(&event, client.as_ref(), None, Some(stall), &self.facts);
                    out.push(Entry::new(&event, client.as_ref(), username, None, finding));
                }
            }
        }
        let recent = self.recent.clone();
        out.extend(self.entries(&fresh, &recent, now).await);
        self.forget_old(now);
        Ok(out.into_iter().filter(|entry| self.wanted(entry)).collect())
    }

    /// Keycloak's events of the realm since `since_ms`, in `direction` (`asc`, `desc`).
    async fn fetch(
        &mut self,
        since_ms: Option<i64>,
        direction: &str,
    ) -> Result<Vec<Event>, OpsError> {
        let events = self
            .session
            .api()
            .realm_events_get(
                &self.facts.realm,
                None,
                since_ms.map(|ms| ms.to_string()),
                None,
                Some(direction.to_owned()),
                None,
                None,
                Some(MAX_FETCH),
                None,
                None,
            )
            .await
            .map_err(|err| crate::realm::api_error("read the realm's events", err))?;
        Ok(events.into_iter().map(Event::from).collect())
    }

    /// Adds `fresh` to the recent events, in time order.
    fn remember(&mut self, fresh: &[Event]) {
        for event in fresh {
            self.seen.insert(event.id.clone());
            self.high_water_ms = self.high_water_ms.max(event.time_ms);
        }
        self.recent.extend(fresh.iter().cloned());
        self.recent.sort_by_key(|event| event.time_ms);
    }

    /// Keeps what later events may still settle: the last minute or so, and what waits.
    fn forget_old(&mut self, now: i64) {
        let horizon = now - i64::try_from((LOGIN_GRACE * 2).as_millis()).unwrap_or(i64::MAX);
        let pending = &self.pending;
        self.recent
            .retain(|event| event.time_ms >= horizon || pending.contains(&event.id));
        // Older ids are below the high-water mark: no query returns them again.
        let kept: HashSet<&String> = self.recent.iter().map(|event| &event.id).collect();
        self.seen.retain(|id| kept.contains(id));
    }

    /// The entries of `batch` (in time order), judged against the events of `context` (which
    /// holds `batch`); what may still change is remembered as pending.
    async fn entries(&mut self, batch: &[Event], context: &[Event], now: i64) -> Vec<Entry> {
        let clues = self.clues(batch).await;
        self.resolve(batch, &clues).await;
        let positions: HashMap<&str, usize> = context
            .iter()
            .enumerate()
            .map(|(index, event)| (event.id.as_str(), index))
            .collect();
        let mut entries = Vec::with_capacity(batch.len());
        for event in batch {
            let clue = events::clue_for(event, &clues);
            let client = self.client_of(event, clue);
            let index = positions
                .get(event.id.as_str())
                .copied()
                .unwrap_or_default();
            let stall = match events::outcome(context, index, client.as_ref(), now) {
                Outcome::Stalled(stall) => Some(stall),
                Outcome::Pending => {
                    self.pending.insert(event.id.clone());
                    None
                }
                Outcome::Settled => None,
            };
            let finding = events::explain(event, client.as_ref(), clue, stall, &self.facts);
            let username = self.username_of(event);
            entries.push(Entry::new(event, client.as_ref(), username, clue, finding));
        }
        entries
    }

    /// Looks up, a few at a time, the clients and users of `batch` kcdev does not know yet. A
    /// client the realm did not have is looked up again: Keycloak creates a CIMD client at its
    /// first login.
    async fn resolve(&mut self, batch: &[Event], clues: &[LogClue]) {
        let client_ids: BTreeSet<String> = batch
            .iter()
            .filter_map(|event| client_id_of(event, events::clue_for(event, clues)))
            .filter(|id| !self.clients.get(id).is_some_and(|known| known.exists))
            .collect();
        let user_ids: BTreeSet<String> = batch
            .iter()
            .filter(|event| event.detail("username").is_none())
            .filter_map(|event| event.user_id.clone())
            .filter(|id| !self.users.contains_key(id))
            .collect();
        let (session, facts) = (&self.session, &self.facts);
        let clients: Vec<ClientFacts> = futures_util::stream::iter(client_ids)
            .map(|client_id| lookup_client(session, facts, client_id))
            .buffer_unordered(LOOKUPS_AT_ONCE)
            .collect()
            .await;
        let users: Vec<(String, Option<String>)> = futures_util::stream::iter(user_ids)
            .map(|user_id| async move {
                let name = session
                    .api()
                    .realm_users_with_user_id_get(&facts.realm, &user_id, None)
                    .await
                    .ok()
                    .and_then(|user| user.username.map(|name| name.to_string()));
                (user_id, name)
            })
            .buffer_unordered(LOOKUPS_AT_ONCE)
            .collect()
            .await;
        for client in clients {
            self.clients.insert(client.client_id.clone(), client);
        }
        self.users.extend(users);
    }

    /// Keycloak's log lines that fill in what the events of `batch` lack; none when kcdev does
    /// not run this Keycloak, or no event lacks anything.
    async fn clues(&mut self, batch: &[Event]) -> Vec<LogClue> {
        let Some((engine, container)) = &self.log else {
            return Vec::new();
        };
        let Some(first) = batch
            .iter()
            .filter(|event| wants_log(event))
            .map(Event::time)
            .min()
        else {
            return Vec::new();
        };
        let since = first.checked_sub(LOG_MARGIN).unwrap_or(UNIX_EPOCH);
        match engine.log_lines_since(container, since).await {
            Ok(lines) => {
                self.log_read = true;
                lines
                    .iter()
                    .filter_map(|line| events::parse_log_line(line))
                    .collect()
            }
            // The events still say what happened; the log only adds detail.
            Err(_) => Vec::new(),
        }
    }

    /// What the realm holds for the client of `event` (or of its log line: a failed CIMD login
    /// names its client only there), as [`EventFollower::resolve`] found it.
    fn client_of(&self, event: &Event, clue: Option<&LogClue>) -> Option<ClientFacts> {
        let client_id = client_id_of(event, clue)?;
        Some(
            self.clients
                .get(&client_id)
                .cloned()
                .unwrap_or_else(|| ClientFacts::missing(&client_id, &self.facts.kcdev_clients)),
        )
    }

    /// The user name of the user of `event`: from its details, else the realm's user.
    fn username_of(&self, event: &Event) -> Option<String> {
        event
            .detail("username")
            .map(str::to_owned)
            .or_else(|| self.users.get(event.user_id.as_deref()?).cloned().flatten())
    }

    /// Whether `entry` passes `--client`, `--user` and `--errors`.
    fn wanted(&self, entry: &Entry) -> bool {
        let options = &self.options;
        let client_ok = options.client.as_deref().is_none_or(|wanted| {
            entry.client_id.as_deref() == Some(wanted)
                || entry
                    .client_name
                    .as_deref()
                    .is_some_and(|name| name.to_lowercase().contains(&wanted.to_lowercase()))
        });
        let user_ok = options.user.as_deref().is_none_or(|wanted| {
            entry.username.as_deref() == Some(wanted) || entry.user_id.as_deref() == Some(wanted)
        });
        client_ok && user_ok && (!options.errors_only || entry.is_failure())
    }

    fn report(&self, entries: Vec<Entry>, truncated: bool) -> EventsReport {
        EventsReport {
            instance: self.options.context.instance.to_string(),
            realm: self.facts.realm.clone(),
            kept_seconds: self.kept_seconds,
            log_read: self.log_read,
            truncated,
            entries,
        }
    }
}

/// The client id of `event`, or of its log line.
fn client_id_of(event: &Event, clue: Option<&LogClue>) -> Option<String> {
    event
        .client_id
        .clone()
        .or_else(|| clue.and_then(LogClue::client_id).map(str::to_owned))
}

/// What the realm holds for the client `client_id`.
async fn lookup_client(
    session: &AdminSession,
    facts: &RealmFacts,
    client_id: String,
) -> ClientFacts {
    let found = session
        .find_client(&facts.realm, &client_id)
        .await
        .ok()
        .flatten();
    let Some(client) = found else {
        return ClientFacts::missing(&client_id, &facts.kcdev_clients);
    };
    ClientFacts {
        origin: ClientOrigin::classify(&client_id, &facts.kcdev_clients, client.id.as_deref()),
        name: client
            .name
            .map(|name| name.to_string())
            .filter(|name| !name.is_empty()),
        exists: true,
        scopes: client
            .default_client_scopes
            .iter()
            .chain(client.optional_client_scopes.iter())
            .flatten()
            .map(|scope| scope.to_string())
            .collect(),
        consent_required: client.consent_required.unwrap_or_default(),
        redirect_uris: client
            .redirect_uris
            .into_iter()
            .flatten()
            .map(|uri| uri.to_string())
            .collect(),
        client_id,
    }
}

/// Whether Keycloak's log may say what `event` leaves out.
fn wants_log(event: &Event) -> bool {
    match event.event_type.as_str() {
        events::CLIENT_REGISTER_ERROR => true,
        events::LOGIN_ERROR => {
            event.detail("client_policy_error_detail").is_some()
                || (event.error.as_deref() == Some("client_not_found")
                    && event
                        .client_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with("http")))
        }
        _ => false,
    }
}

fn realm_facts(
    context: &InstanceContext,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
    realm_scopes: Vec<String>,
) -> RealmFacts {
    let variables = settings.realm_variables();
    let paths = RegistrationPaths::of(spec);
    RealmFacts {
        realm: spec.realm_name().to_owned(),
        managed: settings.container().is_some(),
        instance_flag: if context.instance == crate::instance::Instance::default_instance() {
            String::new()
        } else {
            format!(" --instance {}", context.instance)
        },
        kcdev_clients: spec
            .clients
            .iter()
            .map(|client| field(client, "clientId").to_owned())
            .collect(),
        trusted_hosts: spec
            .anonymous_registration_policies
            .is_some()
            .then(|| spec.trusted_hosts().to_vec()),
        extra_trusted_hosts: settings.realm.extra_trusted_hosts.clone(),
        cimd_domains: paths.cimd_domains,
        extra_cimd_domains: settings
            .realm
            .cimd
            .as_ref()
            .map(|cimd| cimd.extra_domains.clone())
            .unwrap_or_default(),
        resource_indicators: settings.realm.resource_indicators,
        resource_urls: variables.server_urls().map(resource_url_of).collect(),
        registered_clients_step_up: paths.registered_clients_step_up,
        realm_scopes,
        test_users: !spec.users.is_empty(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
