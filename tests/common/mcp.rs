//! A minimal MCP client over Streamable HTTP (JSON-RPC over POST; answers as JSON or SSE), to
//! talk to generated servers the way MCP clients do.

use serde_json::{Value, json};

/// One client, with its bearer token and session.
pub struct Mcp {
    http: reqwest::Client,
    url: String,
    pub token: Option<String>,
    pub session: Option<String>,
}

impl Mcp {
    /// A client for the endpoint `url`.
    pub fn new(url: &str, token: Option<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            token,
            session: None,
        }
    }

    /// POSTs one JSON-RPC message.
    pub async fn post(&self, message: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(message);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.expect("MCP server answers")
    }

    /// `initialize` then `notifications/initialized`; keeps the session id.
    pub async fn initialize(&mut self) -> Value {
        let response = self
            .post(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "kcdev-tests", "version": "0"}
                }}),
            )
            .await;
        assert_eq!(response.status(), 200, "initialize");
        self.session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let result = parse_response(&response.text().await.unwrap());
        let notified = self
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert!(notified.status().is_success());
        result
    }

    /// A request; returns its JSON-RPC response.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let response = self
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .await;
        assert_eq!(response.status(), 200, "{method}");
        parse_response(&response.text().await.unwrap())
    }

    /// `tools/call` without arguments.
    pub async fn call_tool(&self, name: &str) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": {}}))
            .await
    }
}

/// The JSON-RPC response in a JSON body or in an SSE stream's `data:` lines.
pub fn parse_response(body: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return value;
    }
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message.get("id").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC response in {body:?}"))
}

/// A self-contained 2026-07-28 request (no `initialize`, no session): the protocol version in
/// the header and in `params._meta`, the method and tool named in headers. `host` overrides the
/// `Host` header, as a request through a balancer carries the public name.
pub async fn stateless_request(
    url: &str,
    token: Option<&str>,
    host: Option<&str>,
    method: &str,
    mut params: Value,
) -> reqwest::Response {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = params["name"].as_str() {
        request = request.header("mcp-name", name);
    }
    if let Some(host) = host {
        request = request.header("host", host);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .expect("MCP server answers")
}
