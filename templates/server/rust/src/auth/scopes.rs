//! Scopes per tool. A tool that needs more than the scopes every request needs says so where it
//! is declared, `#[tool(meta = requires(&["mcp:admin"]))]` (see `tools.rs`). A `tools/call` whose
//! token lacks one of them is answered 403 `insufficient_scope` naming every scope the call needs,
//! before the tool runs, and the client logs in again asking for them (step-up). The declaration
//! also shows in `tools/list`, under the tool's `_meta`.

use std::collections::{BTreeSet, HashMap};

use rmcp::model::{MetaObject, Tool};
use serde::Deserialize;

/// The `_meta` member of a tool that lists the scopes it needs.
pub const META_KEY: &str = "kcdev/requiredScopes";

/// The `meta` of a tool that needs `scopes` (on top of the server's required scopes).
pub fn requires(scopes: &[&str]) -> MetaObject {
    let mut meta = MetaObject::default();
    meta.0
        .insert(META_KEY.to_owned(), serde_json::json!(scopes));
    meta
}

/// The scopes each tool declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolScopes {
    by_tool: HashMap<String, Vec<String>>,
}

impl ToolScopes {
    /// Reads the declarations of `tools`.
    pub fn from_tools(tools: &[Tool]) -> Self {
        let by_tool = tools
            .iter()
            .filter_map(|tool| {
                let declared = tool.meta.as_ref()?.0.get(META_KEY)?.as_array()?;
                let scopes: Vec<String> = declared
                    .iter()
                    .filter_map(|scope| scope.as_str().map(str::to_owned))
                    .collect();
                (!scopes.is_empty()).then(|| (tool.name.to_string(), scopes))
            })
            .collect();
        Self { by_tool }
    }

    /// Whether no tool needs an extra scope: then the auth layer never reads a request body.
    pub fn is_empty(&self) -> bool {
        self.by_tool.is_empty()
    }

    /// The extra scopes `tool` needs.
    pub fn of(&self, tool: &str) -> &[String] {
        self.by_tool.get(tool).map_or(&[], Vec::as_slice)
    }

    /// Each (tool, scope) declared, sorted by tool.
    pub fn declarations(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut tools: Vec<_> = self.by_tool.iter().collect();
        tools.sort();
        tools.into_iter().flat_map(|(tool, scopes)| {
            scopes
                .iter()
                .map(move |scope| (tool.as_str(), scope.as_str()))
        })
    }

    /// Every scope some tool needs, each once, sorted.
    pub fn all(&self) -> BTreeSet<&str> {
        self.by_tool
            .values()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// The tool a JSON-RPC message calls, when it is a `tools/call`. Cheap for most else: the body is
/// parsed only when it mentions `tools/call` or holds an escape (`"tools\/call"` and
/// `"\u0074ools/call"` are the same method to rmcp, and must not slip past the check).
pub fn called_tool(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Call {
        method: String,
        params: Option<Params>,
    }
    #[derive(Deserialize)]
    struct Params {
        name: String,
    }
    const METHOD: &[u8] = b"tools/call";
    if !body.contains(&b'\\') && !body.windows(METHOD.len()).any(|window| window == METHOD) {
        return None;
    }
    let call: Call = serde_json::from_slice(body).ok()?;
    (call.method == "tools/call")
        .then_some(call.params)
        .flatten()
        .map(|params| params.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_called_tool_only_in_tools_call() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_only","arguments":{}}}"#;
        assert_eq!(called_tool(call).as_deref(), Some("admin_only"));
        let list =
            br#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"tools/call"}}"#;
        assert_eq!(called_tool(list), None);
        assert_eq!(called_tool(b"not json tools/call"), None);
        let escaped = br#"{"jsonrpc":"2.0","id":3,"method":"tools\/call","params":{"name":"admin\u005fonly"}}"#;
        assert_eq!(called_tool(escaped).as_deref(), Some("admin_only"));
    }

    #[test]
    fn reads_declarations_from_tool_meta() {
        let mut tool = Tool::new("admin_only", "", serde_json::Map::new());
        tool.meta = Some(requires(&["mcp:admin"]));
        let scopes =
            ToolScopes::from_tools(&[tool, Tool::new("whoami", "", serde_json::Map::new())]);
        assert_eq!(scopes.of("admin_only"), ["mcp:admin"]);
        assert!(scopes.of("whoami").is_empty());
        assert_eq!(scopes.all().into_iter().collect::<Vec<_>>(), ["mcp:admin"]);
        assert_eq!(
            scopes.declarations().collect::<Vec<_>>(),
            [("admin_only", "mcp:admin")]
        );
    }
}
