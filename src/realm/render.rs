//! Placeholder substitution in the realm spec: `${name}` inside a string takes a scalar value; a
//! list element that is exactly `${name}` of a list variable expands into that list's items.

use serde_json::Value;

use super::RealmError;

/// Fills every placeholder in `value`; an unknown placeholder is an error, so a typo in the spec
/// cannot reach Keycloak.
pub fn substitute(
    value: Value,
    scalars: &[(&str, String)],
    lists: &[(&str, Vec<String>)],
) -> Result<Value, RealmError> {
    match value {
        Value::String(text) => substitute_text(&text, scalars).map(Value::String),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let list = item.as_str().and_then(|text| {
                    lists
                        .iter()
                        .find(|(name, _)| text == format!("${{{name}}}"))
                        .map(|(_, values)| values)
                });
                match list {
                    Some(values) => out.extend(values.iter().cloned().map(Value::String)),
                    None => out.push(substitute(item, scalars, lists)?),
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| Ok((key, substitute(value, scalars, lists)?)))
            .collect::<Result<_, _>>()
            .map(Value::Object),
        other => Ok(other),
    }
}

fn substitute_text(text: &str, scalars: &[(&str, String)]) -> Result<String, RealmError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| RealmError::Spec(format!("unterminated placeholder in {text:?}")))?;
        let name = &after[..end];
        let value = scalars
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value)
            .ok_or_else(|| {
                RealmError::Spec(format!("unknown placeholder ${{{name}}} in {text:?}"))
            })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fills_scalars_and_expands_lists() {
        let scalars = [("realm", "fastmcp".to_owned())];
        let lists = [("hosts", vec!["a".to_owned(), "b".to_owned()])];
        let out = substitute(
            json!({"name": "kcdev: ${realm}", "hosts": ["x", "${hosts}"], "n": 3}),
            &scalars,
            &lists,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"name": "kcdev: fastmcp", "hosts": ["x", "a", "b"], "n": 3})
        );
    }

    proptest::proptest! {
        /// A value is inserted as text, never read again: `${...}`, quotes or braces inside it
        /// stay literal, and a list value adds exactly its items.
        #[test]
        fn values_never_change_the_structure(
            value in ".*",
            items in proptest::collection::vec(".*", 0..4),
        ) {
            let scalars = [("v", value.clone()), ("w", "W".to_owned())];
            let lists = [("l", items.clone())];
            let out = substitute(
                json!({"a": "x${v}y${w}", "l": ["first", "${l}"], "n": {"m": ["${v}"]}}),
                &scalars,
                &lists,
            )
            .unwrap();
            let mut list = vec![json!("first")];
            list.extend(items.into_iter().map(Value::String));
            proptest::prop_assert_eq!(
                out,
                json!({"a": format!("x{value}yW"), "l": list, "n": {"m": [value]}})
            );
        }
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        assert!(substitute(json!("${nope}"), &[], &[]).is_err());
        assert!(substitute(json!("${open"), &[], &[]).is_err());
    }
}
