//! The MCP server end of the chain: its challenge, its metadata, and a real authenticated call.

use std::time::Duration;

use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};

use super::Checks;
use crate::ops::settings::ResolvedSettings;
use crate::realm::RealmSpec;

const NAME: &str = "server";

/// Checks the server at `server_url` (a base URL) with `token`. Nothing answering is not a
/// fault: there may be no server yet.
pub(super) async fn check_server(
    checks: &mut Checks,
    settings: &ResolvedSettings,
    spec: &RealmSpec,
    server_url: &str,
    token: &str,
) {
    let resource = format!("{server_url}/mcp");
    match probe(settings, spec, &resource, token).await {
        Probe::Absent => checks.skip(&[NAME], &format!("nothing answers at {resource}; start your server (`kcdev run`) and run doctor again to check it too")),
        Probe::Fault { detail, hint } => checks.fail(NAME, detail, hint),
        Probe::Healthy { tools } => checks.pass(
            NAME,
            format!("{resource}: its 401 challenge and metadata point at this realm; with a token, tools/list lists {tools} tools"),
        ),
    }
}

enum Probe {
    Absent,
    Fault { detail: String, hint: String },
    Healthy { tools: usize },
}

fn fault(detail: String, hint: &str) -> Probe {
    Probe::Fault {
        detail,
        hint: hint.to_owned(),
    }
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "kcdev doctor", "version": env!("CARGO_PKG_VERSION")}
    }})
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    let mut request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await
}

/// The `resource_metadata` parameter of a `WWW-Authenticate: Bearer ...` challenge.
fn resource_metadata(challenge: &str) -> Option<String> {
    let start = challenge.find("resource_metadata=\"")? + "resource_metadata=\"".len();
    let end = challenge[start..].find('"')?;
    Some(challenge[start..start + end].to_owned())
}

/// The JSON-RPC response in a JSON body or in an SSE stream's `data:` lines.
fn rpc_response(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok().or_else(|| {
        body.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
            .find(|message| message.get("id").is_some())
    })
}

async fn probe(
    settings: &ResolvedSettings,
    spec: &RealmSpec,
    resource: &str,
    token: &str,
) -> Probe {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    else {
        return fault("cannot build an HTTP client".to_owned(), "");
    };
    let unauthenticated = match post(&http, resource, None, None, &initialize()).await {
        Ok(response) => response,
        Err(err) if err.is_connect() => return Probe::Absent,
        Err(err) => {
            return fault(
                format!("{resource} does not answer properly: {err}"),
                "check the server's log",
            );
        }
    };
    if unauthenticated.status() != 401 {
        return fault(
            format!(
                "{resource} answered HTTP {} without a token: it does not require OAuth",
                unauthenticated.status()
            ),
            "put the bearer-token check in front of /mcp (the kcdev template's `require_bearer`)",
        );
    }
    let challenge = unauthenticated
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Some(metadata_url) = resource_metadata(&challenge) else {
        return fault(
            format!(
                "the 401 has no resource_metadata in WWW-Authenticate ({challenge:?}): clients cannot find the realm"
            ),
            "answer 401 with `WWW-Authenticate: Bearer resource_metadata=\"<metadata URL>\", scope=\"...\"`",
        );
    };
    let metadata: Value = match http.get(&metadata_url).send().await {
        Ok(response) if response.status().is_success() => response.json().await.unwrap_or_default(),
        Ok(response) => {
            return fault(
                format!("{metadata_url} answered HTTP {}", response.status()),
                "serve RFC 9728 metadata there",
            );
        }
        Err(err) => {
            return fault(
                format!("cannot read {metadata_url}: {err}"),
                "serve RFC 9728 metadata there",
            );
        }
    };
    let issuer = settings.realm_urls().issuer;
    if metadata["resource"] != resource {
        return fault(
            format!(
                "the metadata names resource {}, but clients connect to {resource}",
                metadata["resource"]
            ),
            "set MCP_SERVER_URL to the URL clients use",
        );
    }
    let servers = metadata["authorization_servers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !servers.iter().any(|s| s == issuer.as_str()) {
        return fault(
            format!(
                "the metadata's authorization_servers {} do not include this realm ({issuer})",
                Value::Array(servers)
            ),
            &format!("start the server with KEYCLOAK_REALM_URL={issuer}"),
        );
    }
    let scopes = metadata["scopes_supported"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == spec.mcp_scope.as_str()) {
        return fault(
            format!(
                "the metadata's scopes_supported {} lack {}: clients will not ask for it",
                Value::Array(scopes),
                spec.mcp_scope
            ),
            &format!("require and advertise {}", spec.mcp_scope),
        );
    }
    authenticated_call(&http, resource, token).await
}

async fn authenticated_call(http: &reqwest::Client, resource: &str, token: &str) -> Probe {
    let refused = |response: &reqwest::Response| {
        let why = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        fault(
            format!(
                "with a valid token of this realm the server answered HTTP {} ({why})",
                response.status()
            ),
            "the server must accept the realm's tokens: check its issuer and audience (MCP_SERVER_URL, MCP_AUDIENCE)",
        )
    };
    let init = match post(http, resource, Some(token), None, &initialize()).await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => return refused(&response),
        Err(err) => {
            return fault(
                format!("initialize failed: {err}"),
                "check the server's log",
            );
        }
    };
    let session = init
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = init.bytes().await;
    let notify = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    if let Ok(response) = post(http, resource, Some(token), session.as_deref(), &notify).await {
        let _ = response.bytes().await;
    }
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let response = match post(http, resource, Some(token), session.as_deref(), &list).await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => return refused(&response),
        Err(err) => {
            return fault(
                format!("tools/list failed: {err}"),
                "check the server's log",
            );
        }
    };
    let body = response.text().await.unwrap_or_default();
    match rpc_response(&body).and_then(|r| r["result"]["tools"].as_array().map(Vec::len)) {
        Some(tools) => Probe::Healthy { tools },
        None => fault(
            format!("tools/list did not return tools: {body}"),
            "check the server's log",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_metadata_url_from_a_challenge() {
        let challenge = r#"Bearer error="invalid_token", resource_metadata="http://localhost:8000/.well-known/oauth-protected-resource/mcp", scope="mcp:tools""#;
        assert_eq!(
            resource_metadata(challenge).as_deref(),
            Some("http://localhost:8000/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(resource_metadata("Bearer realm=\"x\""), None);
    }

    #[test]
    fn finds_the_response_in_sse() {
        let body =
            "data: \nid: 0\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n";
        assert_eq!(rpc_response(body).unwrap()["id"], 1);
    }
}
