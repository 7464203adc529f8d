//! An MCP server protected by OAuth 2.1, with Keycloak as the authorization server.
//!
//! - `config`: settings from the environment
//! - `auth`: token verification, challenges, protected-resource metadata, session binding
//! - `tools`: the MCP tools
//! - `app`: the HTTP routes

pub mod app;
pub mod auth;
pub mod config;
pub mod tools;
