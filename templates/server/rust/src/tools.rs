//! The MCP tools. Add yours here: a method with `#[tool]` in the `#[tool_router]` block. The
//! caller's verified token claims come with every request (see `caller`).
//!
//! Every request needs the server's required scopes (`MCP_REQUIRED_SCOPES`). A tool that needs
//! more declares it on the tool, `#[tool(meta = requires(&[...]))]`, naming one of the realm's
//! optional scopes (`MCP_OPTIONAL_SCOPES`, from `kcdev.toml`): the auth layer answers a call
//! without them with 403 `insufficient_scope`, so the client logs in again asking for them, and
//! Protected Resource Metadata lists them. Roles are checked in the tool: a missing
//! role is a tool error the model can read.

use std::sync::Arc;

use axum::http::request::Parts;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Json;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Serialize;

use crate::auth::Claims;
use crate::auth::scopes::{ToolScopes, requires};

/// The realm role `admin_only` requires.
pub const ADMIN_ROLE: &str = "admin";
/// The scope `admin_only` requires: one the realm offers this server as an optional scope.
pub const ADMIN_SCOPE: &str = "__KCDEV_ADMIN_SCOPE__";

/// The MCP server: one instance per session.
#[derive(Debug, Clone)]
pub struct McpServer {
    tool_router: ToolRouter<Self>,
}

/// What `whoami` returns. Its output schema stays within what every client's validator reads
/// alike: an absent claim is an absent member, not `null` (a `["string", "null"]` type draws
/// warnings from MCP Inspector's `--strict`), and the expiry is a plain non-negative integer
/// (schemars' `format: "uint64"` is unknown to the TypeScript SDK's validator).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WhoAmI {
    /// The user's id (`sub`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub subject: Option<String>,
    /// The user's login name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub username: Option<String>,
    /// The client the token was issued to (`azp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub client: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Realm roles.
    pub realm_roles: Vec<String>,
    /// Audiences.
    pub audience: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[schemars(schema_with = "non_negative_integer")]
    pub expires_at: u64,
}

fn non_negative_integer(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "integer", "minimum": 0})
}

impl From<&Claims> for WhoAmI {
    fn from(claims: &Claims) -> Self {
        Self {
            subject: claims.sub.clone(),
            username: claims.preferred_username.clone(),
            client: claims.azp.clone(),
            scopes: claims.scopes().map(str::to_owned).collect(),
            realm_roles: claims.realm_access.roles.clone(),
            audience: claims.aud.clone(),
            expires_at: claims.exp,
        }
    }
}

/// The verified claims of the request's caller. rmcp hands tools the HTTP request parts, and
/// the auth layer put the claims into their extensions, shared (`Arc`): rmcp copies the parts.
fn caller(parts: &Parts) -> Result<&Claims, ErrorData> {
    parts
        .extensions
        .get::<Arc<Claims>>()
        .map(Arc::as_ref)
        .ok_or_else(|| {
            ErrorData::internal_error(
                "no authenticated caller on this request; is the auth layer in front of /mcp?",
                None,
            )
        })
}

impl Default for McpServer {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router]
impl McpServer {
    /// A server with every tool.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// The tools, as `tools/list` shows them.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }

    /// The scopes the tools declared, for the auth layer.
    pub fn tool_scopes() -> ToolScopes {
        ToolScopes::from_tools(&Self::new().tools())
    }

    /// Who is calling.
    #[tool(
        description = "Who is calling: user id, user name, client, scopes, realm roles, audience and expiry of the access token"
    )]
    async fn whoami(&self, Extension(parts): Extension<Parts>) -> Result<Json<WhoAmI>, ErrorData> {
        Ok(Json(WhoAmI::from(caller(&parts)?)))
    }

    /// A tool only admins may use. Without the scope `ADMIN_SCOPE` the call never gets here (403,
    /// and the client steps up); without the role it is a tool error the model can read.
    #[tool(
        description = "An example of a tool only users with the realm role 'admin' may use; it needs the scope '__KCDEV_ADMIN_SCOPE__'",
        meta = requires(&[ADMIN_SCOPE])
    )]
    async fn admin_only(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let claims = caller(&parts)?;
        if !claims.has_role(ADMIN_ROLE) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "forbidden: this tool requires the realm role '{ADMIN_ROLE}'"
            ))]));
        }
        let name = claims
            .preferred_username
            .as_deref()
            .unwrap_or(claims.principal());
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "Hello {name}: you are an admin."
        ))]))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Tools of an OAuth-protected MCP server. `whoami` shows the caller's identity.",
            )
    }
}

#[cfg(test)]
mod tests {
    use rmcp::handler::server::common::schema_for_output;

    use super::*;

    /// No `null` in a type, no `format` a validator may not know, and only the members a
    /// `whoami` answer always has are required.
    #[test]
    fn the_whoami_schema_is_portable() {
        let schema = serde_json::Value::Object((*schema_for_output::<WhoAmI>()).clone());
        let text = schema.to_string();
        assert!(!text.contains("null"), "{text}");
        assert!(!text.contains("format"), "{text}");
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            ["audience", "expires_at", "realm_roles", "scopes"],
            "{text}"
        );
    }
}
