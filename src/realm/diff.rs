//! Comparing what the spec declares with what Keycloak holds: only the fields the spec writes
//! count, and lists are compared as sets (Keycloak does not keep their order).

use serde_json::Value;

/// One line per field where `actual` differs from `wanted` ("accessTokenLifespan: 300 -> 3600").
pub fn field_differences(wanted: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(wanted, actual, "", &mut out);
    out
}

fn collect(wanted: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (wanted, actual) {
        (Value::Object(wanted), Value::Object(actual)) => {
            for (key, wanted_value) in wanted {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                collect(
                    wanted_value,
                    actual.get(key).unwrap_or(&Value::Null),
                    &child,
                    out,
                );
            }
        }
        (Value::Array(wanted_items), Value::Array(actual_items)) => {
            if !same_set(wanted_items, actual_items) {
                out.push(format!(
                    "{path}: {actual} -> {}",
                    Value::Array(wanted_items.clone())
                ));
            }
        }
        (wanted, actual) if wanted == actual => {}
        (Value::Array(items), Value::Null) if items.is_empty() => {}
        (wanted, actual) => out.push(format!("{path}: {actual} -> {wanted}")),
    }
}

/// `value` as text with object keys sorted at every level, so that two objects with the same
/// members compare equal whatever order they were written or returned in.
fn canonical_text(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by_key(|(key, _)| *key);
            let inner: Vec<String> = members
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::from(key.as_str()), canonical_text(value))
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical_text).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

fn same_set(wanted: &[Value], actual: &[Value]) -> bool {
    let canonical = |items: &[Value]| {
        let mut keys: Vec<String> = items.iter().map(canonical_text).collect();
        keys.sort();
        keys.dedup();
        keys
    };
    canonical(wanted) == canonical(actual)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_in_lists_compare_by_their_members_not_their_order() {
        let wanted =
            json!({"executors": [{"executor": "x", "configuration": {"a": [1], "b": true}}]});
        let actual =
            json!({"executors": [{"configuration": {"b": true, "a": [1]}, "executor": "x"}]});
        assert!(field_differences(&wanted, &actual).is_empty());
        let changed =
            json!({"executors": [{"configuration": {"b": false, "a": [1]}, "executor": "x"}]});
        assert_eq!(field_differences(&wanted, &changed).len(), 1);
    }

    #[test]
    fn only_declared_fields_count() {
        let wanted = json!({"a": 1, "nested": {"b": "x"}});
        let actual = json!({"a": 1, "nested": {"b": "x", "c": 2}, "extra": true});
        assert!(field_differences(&wanted, &actual).is_empty());
    }

    #[test]
    fn lists_are_sets() {
        assert!(field_differences(&json!({"l": ["a", "b"]}), &json!({"l": ["b", "a"]})).is_empty());
        assert_eq!(
            field_differences(&json!({"l": ["a", "b"]}), &json!({"l": ["a"]})),
            [r#"l: ["a"] -> ["a","b"]"#]
        );
    }

    #[test]
    fn reports_missing_and_changed_fields_by_path() {
        let wanted = json!({"n": 3600, "config": {"k": "v"}, "empty": []});
        let actual = json!({"n": 300, "config": {}});
        assert_eq!(
            field_differences(&wanted, &actual),
            ["n: 300 -> 3600", r#"config.k: null -> "v""#]
        );
    }
}
