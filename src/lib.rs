//! kcdev: a complete local Keycloak identity setup for OAuth-protected MCP servers.
//!
//! The library holds everything the `kcdev` binary does, without the command line: the container
//! lifecycle ([`docker`]), the Keycloak Admin API and realm reconcile ([`keycloak`], [`realm`]),
//! the headless OAuth client ([`oauth`]), and the operations that combine them ([`ops`]).

pub mod clients;
pub mod defaults;
pub mod docker;
pub mod events;
pub mod instance;
pub mod keycloak;
pub mod lock;
pub mod oauth;
pub mod ops;
pub mod progress;
pub mod project;
pub mod provider;
pub mod realm;
pub mod scaffold;
pub mod state;
pub mod trust;
