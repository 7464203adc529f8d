//! Step-up with real clients, the same for every generated server: the client logs in with the
//! first challenge's scope, `admin_only` answers 403 `insufficient_scope` naming the required
//! scope and `mcp:admin`, the client authorizes again asking for both, and the call reaches the
//! tool.

use serde_json::Value;

use super::{run_interop_script, run_node_script};

/// The pre-registered client the step-up tests log in with (Claude Code's, which has `mcp:admin`
/// as an optional scope).
pub const PRE_REGISTERED: [&str; 4] = [
    "--client-id",
    "kcdev-claude-code",
    "--redirect-uri",
    "http://localhost:33420/callback",
];

/// A real client's run, named for the assertion messages.
pub struct ClientRun {
    pub client: &'static str,
    pub result: Value,
}

/// The Python MCP SDK (mcp 2.3.0, its default `auto` mode) and the TypeScript SDK's 2.x client
/// (`@modelcontextprotocol/client` 2.4.0), each with the pre-registered client and after dynamic
/// registration, log `user` in and call `admin_only` at `resource`. Each must have asked for the
/// required scope first, then for it and `mcp:admin`, and reached the tool.
pub fn real_clients_step_up(resource: &str, user: &str, password: &str) -> Vec<ClientRun> {
    let runs = [
        ("Python SDK, pre-registered", true, &PRE_REGISTERED[..]),
        ("Python SDK, registered", true, &[][..]),
        (
            "TypeScript SDK 2.x, pre-registered",
            false,
            &PRE_REGISTERED[..],
        ),
        ("TypeScript SDK 2.x, registered", false, &[][..]),
    ];
    runs.into_iter()
        .map(|(client, python, registration)| {
            let mut args = vec![resource, user, password];
            if python {
                args.extend(["--mode", "auto"]);
            }
            args.extend(registration);
            args.extend(["--call", "admin_only"]);
            let result = if python {
                run_interop_script("mcp_sdk_client.py", &args)
            } else {
                run_node_script("ts_sdk2_client.mjs", &args)
            };
            let call = &result["calls"]["admin_only"];
            assert!(call.get("failed").is_none(), "{client}: {result}");
            asked_first_then_both(client, &result);
            ClientRun { client, result }
        })
        .collect()
}

/// The client authorized twice: without `mcp:admin`, then with it and `mcp:tools`.
pub fn asked_first_then_both(client: &str, result: &Value) {
    let asked: Vec<&str> = result["authorized_scopes"]
        .as_array()
        .unwrap_or_else(|| panic!("{client}: no authorized_scopes: {result}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(asked.len(), 2, "{client}: {result}");
    assert!(!asked[0].contains("mcp:admin"), "{client}: {result}");
    assert!(
        asked[1].contains("mcp:tools") && asked[1].contains("mcp:admin"),
        "{client}: {result}"
    );
}
