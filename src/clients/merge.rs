//! Writing an entry into a client's real config file: other entries and keys stay as they are,
//! the previous file is saved first, a file that is not JSON is left alone, and writing the same
//! entry twice changes nothing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

/// What `merge_entry` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum MergeOutcome {
    /// The file did not exist and was created.
    Created,
    /// The entry was added or replaced; the old file was saved as `backup`.
    Updated {
        /// The copy of the file before the change.
        backup: PathBuf,
    },
    /// The file already had exactly this entry.
    Unchanged,
}

/// Failures writing a config file.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The file is not JSON (or not a JSON object), so kcdev will not rewrite it.
    #[error("{} is not valid JSON ({reason}); kcdev leaves it alone", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> MergeError + 'a {
    move |source| MergeError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Puts `entry` at `entry_path` (e.g. `mcpServers` > `kcdev`) in the JSON file at `path`.
pub fn merge_entry(
    path: &Path,
    entry_path: &[String],
    entry: &Value,
) -> Result<MergeOutcome, MergeError> {
    let existing = match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(io_error("read", path)(err)),
    };
    let mut document = match &existing {
        None => Value::Object(Map::new()),
        Some(text) if text.trim().is_empty() => Value::Object(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => {
                return Err(MergeError::NotJson {
                    path: path.to_owned(),
                    reason: "the top level is not an object".to_owned(),
                });
            }
            Err(err) => {
                return Err(MergeError::NotJson {
                    path: path.to_owned(),
                    reason: err.to_string(),
                });
            }
        },
    };
    if document.pointer(&pointer(entry_path)) == Some(entry) {
        return Ok(MergeOutcome::Unchanged);
    }
    // RFC 7396 merge patches: the first removes a previous entry of the same name (so none of
    // its old keys linger), the second adds the new one; everything else is untouched.
    json_patch::merge(&mut document, &nested(entry_path, Value::Null));
    json_patch::merge(&mut document, &nested(entry_path, entry.clone()));
    let mut text = serde_json::to_string_pretty(&document).map_err(|err| MergeError::NotJson {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    text.push('\n');
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error("create the directory of", path))?;
    }
    let outcome = match existing {
        None => MergeOutcome::Created,
        Some(old) => {
            let backup = backup_path(path);
            fs::write(&backup, old).map_err(io_error("save a backup of", path))?;
            MergeOutcome::Updated { backup }
        }
    };
    fs::write(path, text).map_err(io_error("write", path))?;
    Ok(outcome)
}

fn nested(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, key| {
        let mut object = Map::new();
        object.insert(key.clone(), inner);
        Value::Object(object)
    })
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|key| format!("/{}", key.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// `<file>.kcdev-backup`, or `<file>.kcdev-backup-N` when earlier backups exist.
fn backup_path(path: &Path) -> PathBuf {
    let base = format!("{}.kcdev-backup", path.display());
    std::iter::once(PathBuf::from(&base))
        .chain((1..).map(|n| PathBuf::from(format!("{base}-{n}"))))
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| PathBuf::from(base))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path() -> Vec<String> {
        vec!["mcpServers".into(), "kcdev".into()]
    }

    #[test]
    fn keeps_other_entries_and_saves_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        let original = r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}, "kcdev": {"url": "old", "stale": true}}}"#;
        fs::write(&file, original).unwrap();
        let outcome = merge_entry(&file, &path(), &json!({"url": "new"})).unwrap();
        let MergeOutcome::Updated { backup } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(fs::read_to_string(backup).unwrap(), original);
        let written: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            written,
            json!({"theme": "dark", "mcpServers": {"other": {"command": "x"}, "kcdev": {"url": "new"}}})
        );
        let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["theme", "mcpServers"], "key order kept");
        assert_eq!(
            merge_entry(&file, &path(), &json!({"url": "new"})).unwrap(),
            MergeOutcome::Unchanged
        );
    }

    #[test]
    fn creates_missing_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".vscode/mcp.json");
        assert_eq!(
            merge_entry(&file, &path(), &json!({"url": "u"})).unwrap(),
            MergeOutcome::Created
        );
        assert!(fs::read_to_string(&file).unwrap().contains("\"kcdev\""));
    }

    #[test]
    fn leaves_a_file_that_is_not_json_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mcp.json");
        let jsonc = "{ // comment\n \"servers\": {} }";
        fs::write(&file, jsonc).unwrap();
        assert!(matches!(
            merge_entry(&file, &path(), &json!({})),
            Err(MergeError::NotJson { .. })
        ));
        assert_eq!(fs::read_to_string(&file).unwrap(), jsonc);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no backup either"
        );
    }
}
