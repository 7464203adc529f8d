//! Writing an entry into a client's real config file, in the file's own format (JSON, JSON with
//! comments, TOML, YAML): other entries and keys stay as they are (with their comments and order,
//! where the format has comments), the previous file is saved first, a file that does not parse is
//! left alone, writing the same entry twice changes nothing, and the new file replaces the old in
//! one rename, so an interrupted write never leaves half a file.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

/// The format of a client's config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFormat {
    /// Strict JSON; kcdev rewrites it pretty-printed, keys in their order.
    Json,
    /// JSON with comments and trailing commas (Zed, Gemini CLI): edited in place.
    JsonWithComments,
    /// TOML (Codex): edited in place.
    Toml,
    /// YAML (Goose): edited in place.
    Yaml,
}

impl ConfigFormat {
    /// The format's name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::JsonWithComments => "JSON (with comments)",
            Self::Toml => "TOML",
            Self::Yaml => "YAML",
        }
    }

    /// `snippet` (a nest of objects) written in this format, as a user would paste it.
    pub fn render(self, snippet: &Value) -> String {
        match self {
            Self::Json | Self::JsonWithComments => {
                serde_json::to_string_pretty(snippet).unwrap_or_default()
            }
            Self::Toml => {
                let mut document = toml_edit::DocumentMut::new();
                if let Value::Object(map) = snippet {
                    for (key, value) in map {
                        document.insert(key, toml_item(value, true));
                    }
                }
                document.to_string().trim_end().to_owned()
            }
            Self::Yaml => yaml::render(snippet).trim_end().to_owned(),
        }
    }
}

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
    /// The file does not parse in its format, so kcdev will not rewrite it.
    #[error("{}{} is not valid {} ({reason}); kcdev leaves it alone",
        path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), format.title())]
    Unparsable {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: ConfigFormat,
        /// The line the parser stopped at (1-based), when it says.
        line: Option<usize>,
        /// What the parser said.
        reason: String,
    },
    /// The file parses, but a key on the entry's path holds something other than a table.
    #[error("{} has `{key}` set to something other than a table of entries; kcdev leaves it alone", path.display())]
    NotATable {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// The edited text did not read back as the old file plus the entry (a bug in kcdev or in
    /// the format's editor); nothing was written.
    #[error("kcdev could not merge the entry into {} without changing other parts of this {} file; nothing was written", path.display(), format.title())]
    Unfaithful {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: ConfigFormat,
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

/// Puts `entry` at `entry_path` (e.g. `mcpServers` > `kcdev`) in the file at `path`, written in
/// `format`. An entry of the same name is replaced whole (none of its old keys linger).
pub fn merge_entry(
    path: &Path,
    format: ConfigFormat,
    entry_path: &[String],
    entry: &Value,
) -> Result<MergeOutcome, MergeError> {
    // A config file kept as a symlink (dotfile managers) is written through, not replaced.
    let path = &fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let existing = match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(io_error("read", path)(err)),
    };
    let old = existing.as_deref().unwrap_or("");
    let edit = Edit {
        path,
        format,
        entry_path,
        entry,
    };
    let text = match format {
        ConfigFormat::Json => edit.json(old)?,
        ConfigFormat::JsonWithComments => edit.jsonc(old)?,
        ConfigFormat::Toml => edit.toml(old)?,
        ConfigFormat::Yaml => edit.yaml(old)?,
    };
    let Some(text) = text else {
        return Ok(MergeOutcome::Unchanged);
    };
    // The new text, read back, must be the old document with exactly this entry changed: a
    // format-preserving editor that got something wrong is caught before anything is written.
    let mut expected = edit.read(old)?;
    json_patch::merge(&mut expected, &nested(entry_path, Value::Null));
    json_patch::merge(&mut expected, &nested(entry_path, entry.clone()));
    if edit.read(&text).ok() != Some(expected) {
        return Err(MergeError::Unfaithful {
            path: path.to_owned(),
            format,
        });
    }
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
    write_atomically(path, &text)?;
    Ok(outcome)
}

/// Writes a temporary file next to `path` (same permissions as the old file), then renames it
/// over `path`.
fn write_atomically(path: &Path, text: &str) -> Result<(), MergeError> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_owned(),
        None => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".kcdev-")
        .tempfile_in(&dir)
        .map_err(io_error("write", path))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(io_error("write", path))?;
    let permissions = match fs::metadata(path) {
        Ok(metadata) => Some(metadata.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(permissions) = permissions {
        fs::set_permissions(temp.path(), permissions).map_err(io_error("write", path))?;
    }
    temp.persist(path)
        .map_err(|err| io_error("write", path)(err.error))?;
    Ok(())
}

/// A new config file is readable by others as an editor would make it (the temporary file is
/// created private); the files hold client ids and URLs, no secrets.
#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt as _;
    Some(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

/// One merge: each format's function returns the new text, or `None` when the file already has
/// exactly this entry.
struct Edit<'a> {
    path: &'a Path,
    format: ConfigFormat,
    entry_path: &'a [String],
    entry: &'a Value,
}

impl Edit<'_> {
    fn unparsable(&self, line: Option<usize>, reason: impl Into<String>) -> MergeError {
        MergeError::Unparsable {
            path: self.path.to_owned(),
            format: self.format,
            line,
            reason: reason.into(),
        }
    }

    fn not_a_table(&self, key: &str) -> MergeError {
        MergeError::NotATable {
            path: self.path.to_owned(),
            key: key.to_owned(),
        }
    }

    /// The file's text as plain values (an empty file is an empty table).
    fn read(&self, text: &str) -> Result<Value, MergeError> {
        if text.trim().is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        let value = match self.format {
            ConfigFormat::Json => serde_json::from_str::<Value>(text)
                .map_err(|err| self.unparsable(Some(err.line()), err.to_string()))?,
            ConfigFormat::JsonWithComments => {
                jsonc_parser::cst::CstRootNode::parse(text, &Default::default())
                    .map_err(|err| self.unparsable(None, err.to_string()))?
                    .to_serde_value()
                    .unwrap_or(Value::Object(Map::new()))
            }
            ConfigFormat::Toml => toml::from_str::<Value>(text)
                .map_err(|err| self.unparsable(None, err.to_string()))?,
            ConfigFormat::Yaml => match serde_norway::from_str::<Value>(text) {
                Ok(Value::Null) => Value::Object(Map::new()),
                Ok(value) => value,
                Err(err) => {
                    return Err(self.unparsable(err.location().map(|l| l.line()), err.to_string()));
                }
            },
        };
        Ok(value)
    }

    fn has_entry(&self, document: &Value) -> bool {
        document.pointer(&pointer(self.entry_path)) == Some(self.entry)
    }

    fn json(&self, old: &str) -> Result<Option<String>, MergeError> {
        let mut document = if old.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            match serde_json::from_str::<Value>(old) {
                Ok(value @ Value::Object(_)) => value,
                Ok(_) => return Err(self.unparsable(None, "the top level is not an object")),
                Err(err) => return Err(self.unparsable(Some(err.line()), err.to_string())),
            }
        };
        if self.has_entry(&document) {
            return Ok(None);
        }
        self.check_tables(&document)?;
        // RFC 7396 merge patches: the first removes a previous entry of the same name (so none of
        // its old keys linger), the second adds the new one; everything else is untouched.
        json_patch::merge(&mut document, &nested(self.entry_path, Value::Null));
        json_patch::merge(&mut document, &nested(self.entry_path, self.entry.clone()));
        let mut text = serde_json::to_string_pretty(&document)
            .map_err(|err| self.unparsable(None, err.to_string()))?;
        text.push('\n');
        Ok(Some(text))
    }

    /// Every key on the way to the entry holds an object, or is absent.
    fn check_tables(&self, document: &Value) -> Result<(), MergeError> {
        let mut at = document;
        for key in &self.entry_path[..self.entry_path.len().saturating_sub(1)] {
            match at.get(key) {
                None => return Ok(()),
                Some(inner @ Value::Object(_)) => at = inner,
                Some(_) => return Err(self.not_a_table(key)),
            }
        }
        Ok(())
    }

    fn jsonc(&self, old: &str) -> Result<Option<String>, MergeError> {
        use jsonc_parser::ParseOptions;
        use jsonc_parser::cst::CstRootNode;

        let root = CstRootNode::parse(old, &ParseOptions::default()).map_err(|err| {
            let line = err.to_string();
            let line = line
                .rsplit_once(" on line ")
                .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok());
            self.unparsable(line, err.to_string())
        })?;
        let document = root.to_serde_value().unwrap_or(Value::Object(Map::new()));
        if !document.is_object() {
            return Err(self.unparsable(None, "the top level is not an object"));
        }
        if self.has_entry(&document) {
            return Ok(None);
        }
        self.check_tables(&document)?;
        let Some((name, parents)) = self.entry_path.split_last() else {
            return Ok(None);
        };
        let mut object = root.object_value_or_set();
        for key in parents {
            object = object
                .object_value_or_create(key)
                .ok_or_else(|| self.not_a_table(key))?;
        }
        let value = cst_value(self.entry);
        match object.get(name) {
            Some(property) => property.set_value(value),
            None => {
                object.append(name, value);
            }
        }
        let mut text = root.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(Some(text))
    }

    fn toml(&self, old: &str) -> Result<Option<String>, MergeError> {
        let mut document = old.parse::<toml_edit::DocumentMut>().map_err(|err| {
            let line = err
                .span()
                .map(|span| old[..span.start.min(old.len())].lines().count().max(1));
            self.unparsable(line, err.message())
        })?;
        let current = self.read(old)?;
        if self.has_entry(&current) {
            return Ok(None);
        }
        let Some((name, parents)) = self.entry_path.split_last() else {
            return Ok(None);
        };
        let mut table = document.as_table_mut();
        for key in parents {
            let item = table.entry(key).or_insert_with(|| {
                let mut parent = toml_edit::Table::new();
                // `[mcp_servers.kcdev]` alone, without an empty `[mcp_servers]` header.
                parent.set_implicit(true);
                toml_edit::Item::Table(parent)
            });
            table = item.as_table_mut().ok_or_else(|| self.not_a_table(key))?;
        }
        let new = toml_item(self.entry, false);
        match table.get_mut(name) {
            // In place, so the entry keeps its position and the comments above its header.
            Some(toml_edit::Item::Table(existing)) => {
                let position = existing.position();
                existing.clear();
                if let toml_edit::Item::Table(new) = new {
                    for (key, item) in new {
                        existing.insert(&key, item);
                    }
                }
                renumber_subtables(existing, position);
            }
            _ => {
                table.insert(name, new);
            }
        }
        Ok(Some(document.to_string()))
    }

    fn yaml(&self, old: &str) -> Result<Option<String>, MergeError> {
        let current = self.read(old)?;
        if !current.is_object() {
            return Err(self.unparsable(None, "the top level is not a mapping"));
        }
        if self.has_entry(&current) {
            return Ok(None);
        }
        self.check_tables(&current)?;
        yaml::merge(old, self.entry_path, self.entry)
            .map(Some)
            .map_err(|reason| self.unparsable(None, reason))
    }
}

/// Sub-tables of a replaced table go right after it: a new table has no position, and
/// toml_edit prints those at the end of the document.
fn renumber_subtables(table: &mut toml_edit::Table, position: Option<isize>) {
    let Some(position) = position else {
        return;
    };
    for (_, item) in table.iter_mut() {
        if let toml_edit::Item::Table(sub) = item {
            sub.set_position(Some(position));
            renumber_subtables(sub, Some(position));
        }
    }
}

/// A JSON value as TOML: objects become tables (`[a.b]` headers), or inline tables inside
/// arrays.
fn toml_item(value: &Value, implicit: bool) -> toml_edit::Item {
    match value {
        Value::Object(map) => {
            let mut table = toml_edit::Table::new();
            table.set_implicit(implicit);
            for (key, inner) in map {
                table.insert(key, toml_item(inner, implicit && inner.is_object()));
            }
            toml_edit::Item::Table(table)
        }
        other => toml_edit::Item::Value(toml_value(other)),
    }
}

fn toml_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::Null => toml_edit::Value::from(""),
        Value::Bool(b) => toml_edit::Value::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml_edit::Value::from(i),
            None => toml_edit::Value::from(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Array(items) => {
            toml_edit::Value::Array(items.iter().map(toml_value).collect::<toml_edit::Array>())
        }
        Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (key, inner) in map {
                table.insert(key, toml_value(inner));
            }
            toml_edit::Value::InlineTable(table)
        }
    }
}

fn cst_value(value: &Value) -> jsonc_parser::cst::CstInputValue {
    use jsonc_parser::cst::CstInputValue;
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(cst_value).collect()),
        Value::Object(map) => CstInputValue::Object(
            map.iter()
                .map(|(key, inner)| (key.clone(), cst_value(inner)))
                .collect(),
        ),
    }
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

/// YAML through yaml-edit's lossless tree: comments, order and quoting elsewhere stay as written.
mod yaml {
    use std::str::FromStr as _;

    use serde_json::Value;
    use yaml_edit::{Document, Mapping, Sequence, YamlFile};

    pub(super) fn render(snippet: &Value) -> String {
        merge("", &[], snippet).unwrap_or_default()
    }

    /// `entry` at `path` in `old`; with an empty path, `entry`'s keys go at the top level.
    pub(super) fn merge(old: &str, path: &[String], entry: &Value) -> Result<String, String> {
        // The whole file, so comments outside the document (a file of comments only) stay.
        let file = YamlFile::from_str(old).map_err(|err| err.to_string())?;
        if file.documents().count() > 1 {
            return Err("it holds more than one YAML document".to_owned());
        }
        let document = file.ensure_document();
        let Some((name, parents)) = path.split_last() else {
            if let Value::Object(map) = entry {
                for (key, value) in map {
                    set(&top(&document)?, key, value);
                }
            }
            return Ok(file.to_string());
        };
        let mut mapping = top(&document)?;
        for key in parents {
            if mapping.get_mapping(key.as_str()).is_none() {
                mapping.set(key.as_str(), Mapping::new());
            }
            mapping = mapping
                .get_mapping(key.as_str())
                .ok_or_else(|| format!("`{key}` is not a mapping"))?;
        }
        set(&mapping, name, entry);
        Ok(file.to_string())
    }

    fn top(document: &Document) -> Result<Mapping, String> {
        if let Some(mapping) = document.as_mapping() {
            return Ok(mapping);
        }
        // An empty document (or comments only): setting a key makes it a mapping.
        document.set("kcdev-placeholder", Mapping::new());
        let mapping = document
            .as_mapping()
            .ok_or_else(|| "the top level is not a mapping".to_owned())?;
        mapping.remove("kcdev-placeholder");
        Ok(mapping)
    }

    fn set(mapping: &Mapping, key: &str, value: &Value) {
        match value {
            Value::Null => mapping.set(key, Option::<String>::None),
            Value::Bool(b) => mapping.set(key, *b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => mapping.set(key, i),
                None => mapping.set(key, n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => mapping.set(key, s.as_str()),
            Value::Array(items) => mapping.set(key, sequence(items)),
            Value::Object(map) => mapping.set(key, nested(map)),
        }
    }

    fn nested(map: &serde_json::Map<String, Value>) -> Mapping {
        let mapping = Mapping::new();
        for (key, value) in map {
            set(&mapping, key, value);
        }
        mapping
    }

    fn sequence(items: &[Value]) -> Sequence {
        let sequence = Sequence::new();
        for item in items {
            match item {
                Value::Null => sequence.push(Option::<String>::None),
                Value::Bool(b) => sequence.push(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => sequence.push(i),
                    None => sequence.push(n.as_f64().unwrap_or_default()),
                },
                Value::String(s) => sequence.push(s.as_str()),
                Value::Array(inner) => sequence.push(self::sequence(inner)),
                Value::Object(map) => sequence.push(nested(map)),
            }
        }
        sequence
    }
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
        let outcome =
            merge_entry(&file, ConfigFormat::Json, &path(), &json!({"url": "new"})).unwrap();
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
            merge_entry(&file, ConfigFormat::Json, &path(), &json!({"url": "new"})).unwrap(),
            MergeOutcome::Unchanged
        );
    }

    #[test]
    fn creates_missing_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        for format in [
            ConfigFormat::Json,
            ConfigFormat::JsonWithComments,
            ConfigFormat::Toml,
        ] {
            let file = dir.path().join(format!("{format:?}/sub/config"));
            assert_eq!(
                merge_entry(&file, format, &path(), &json!({"url": "u"})).unwrap(),
                MergeOutcome::Created,
                "{format:?}"
            );
            let text = fs::read_to_string(&file).unwrap();
            assert!(text.contains("kcdev"), "{format:?}: {text}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = fs::metadata(&file).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o644, "{format:?}");
            }
        }
    }

    #[test]
    fn leaves_a_file_that_is_not_json_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mcp.json");
        let jsonc = "{ // comment\n \"servers\": {} }";
        fs::write(&file, jsonc).unwrap();
        let err = merge_entry(&file, ConfigFormat::Json, &path(), &json!({})).unwrap_err();
        assert!(
            matches!(err, MergeError::Unparsable { line: Some(1), .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("mcp.json:1 is not valid JSON"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), jsonc);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no backup either"
        );
    }

    /// A broken file in each format: an error naming the line, the file untouched, nothing else
    /// written next to it.
    pub(crate) fn assert_refused(format: ConfigFormat, broken: &str, line: usize) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        fs::write(&file, broken).unwrap();
        let err = merge_entry(&file, format, &path(), &json!({"url": "u"})).unwrap_err();
        match &err {
            MergeError::Unparsable { line: at, .. } => {
                // 0: the file parses but is not a table at the top (no line to name).
                let expected = (line > 0).then_some(line);
                assert_eq!(*at, expected, "{format:?}: {err}")
            }
            other => panic!("{format:?}: {other:?}"),
        }
        assert_eq!(fs::read_to_string(&file).unwrap(), broken, "{format:?}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "{format:?}");
    }

    #[test]
    fn refuses_broken_files_untouched() {
        assert_refused(ConfigFormat::Json, "{\n  \"a\": 1,\n  oops\n}", 3);
        assert_refused(
            ConfigFormat::JsonWithComments,
            "{\n  // fine\n  \"a\": 1,\n  \"b\": [\n}",
            5,
        );
        assert_refused(ConfigFormat::Toml, "model = \"x\"\n\n[mcp_servers\n", 3);
    }

    #[test]
    fn a_key_on_the_way_that_is_not_a_table_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (format, text) in [
            (ConfigFormat::Json, "{\"mcpServers\": 3}"),
            (ConfigFormat::JsonWithComments, "{\"mcpServers\": 3}"),
            (ConfigFormat::Toml, "mcpServers = 3\n"),
        ] {
            let file = dir.path().join(format!("{format:?}"));
            fs::write(&file, text).unwrap();
            let err = merge_entry(&file, format, &path(), &json!({"url": "u"})).unwrap_err();
            assert!(
                matches!(err, MergeError::NotATable { .. }),
                "{format:?}: {err:?}"
            );
            assert_eq!(fs::read_to_string(&file).unwrap(), text);
        }
    }

    #[test]
    fn jsonc_keeps_comments_order_and_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.json");
        let original = r#"// Zed settings
{
  "theme": "One Dark", // the dark one
  /* servers */
  "context_servers": {
    "other": { "command": "x" },
    "kcdev": { "url": "old", "stale": true },
  },
  "vim_mode": true,
}
"#;
        fs::write(&file, original).unwrap();
        let entry = json!({"url": "new", "oauth": {"clientId": "c"}});
        let path = vec!["context_servers".to_owned(), "kcdev".to_owned()];
        let outcome = merge_entry(&file, ConfigFormat::JsonWithComments, &path, &entry).unwrap();
        assert!(matches!(outcome, MergeOutcome::Updated { .. }));
        let text = fs::read_to_string(&file).unwrap();
        for kept in [
            "// Zed settings",
            "// the dark one",
            "/* servers */",
            "\"other\": { \"command\": \"x\" }",
            "\"vim_mode\": true,",
        ] {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        assert!(!text.contains("stale"), "{text}");
        let theme = text.find("theme").unwrap();
        let servers = text.find("context_servers").unwrap();
        let vim = text.find("vim_mode").unwrap();
        assert!(theme < servers && servers < vim, "order kept:\n{text}");
        let root = jsonc_parser::cst::CstRootNode::parse(&text, &Default::default()).unwrap();
        assert_eq!(
            root.to_serde_value().unwrap()["context_servers"]["kcdev"],
            entry
        );
        assert_eq!(
            merge_entry(&file, ConfigFormat::JsonWithComments, &path, &entry).unwrap(),
            MergeOutcome::Unchanged
        );
    }

    #[test]
    fn jsonc_adds_to_a_file_without_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.json");
        fs::write(&file, "{\n  // mine\n  \"ui_font_size\": 16\n}\n").unwrap();
        let path = vec!["context_servers".to_owned(), "kcdev".to_owned()];
        merge_entry(
            &file,
            ConfigFormat::JsonWithComments,
            &path,
            &json!({"url": "u"}),
        )
        .unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert!(text.contains("// mine"), "{text}");
        let root = jsonc_parser::cst::CstRootNode::parse(&text, &Default::default()).unwrap();
        assert_eq!(
            root.to_serde_value().unwrap(),
            json!({"ui_font_size": 16, "context_servers": {"kcdev": {"url": "u"}}})
        );
    }

    #[test]
    fn toml_keeps_comments_order_and_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let original = r#"# my codex settings
model = "gpt-5" # the default

[mcp_servers.other]
command = "x"

# kcdev's entry
[mcp_servers.kcdev]
url = "old"
stale = true

[mcp_servers.kcdev.oauth]
client_id = "old"

[profiles.fast]
model = "mini"
"#;
        fs::write(&file, original).unwrap();
        let entry = json!({"url": "new", "oauth": {"client_id": "c", "callback_port": 33422}});
        let path = vec!["mcp_servers".to_owned(), "kcdev".to_owned()];
        let outcome = merge_entry(&file, ConfigFormat::Toml, &path, &entry).unwrap();
        assert!(matches!(outcome, MergeOutcome::Updated { .. }));
        let text = fs::read_to_string(&file).unwrap();
        assert_eq!(
            text,
            r#"# my codex settings
model = "gpt-5" # the default

[mcp_servers.other]
command = "x"

# kcdev's entry
[mcp_servers.kcdev]
url = "new"

[mcp_servers.kcdev.oauth]
client_id = "c"
callback_port = 33422

[profiles.fast]
model = "mini"
"#
        );
        assert_eq!(
            merge_entry(&file, ConfigFormat::Toml, &path, &entry).unwrap(),
            MergeOutcome::Unchanged
        );
    }

    #[test]
    fn toml_adds_an_entry_after_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        fs::write(&file, "# top\nmodel = \"gpt-5\"\n").unwrap();
        let entry = json!({"url": "u", "oauth": {"client_id": "c"}});
        let path = vec!["mcp_servers".to_owned(), "kcdev".to_owned()];
        merge_entry(&file, ConfigFormat::Toml, &path, &entry).unwrap();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "# top\nmodel = \"gpt-5\"\n\n[mcp_servers.kcdev]\nurl = \"u\"\n\n[mcp_servers.kcdev.oauth]\nclient_id = \"c\"\n"
        );
    }

    #[test]
    fn yaml_keeps_comments_order_and_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        let original = "# my goose\nGOOSE_PROVIDER: openai # provider\nextensions:\n  developer:\n    enabled: true\n    type: builtin # built in\n  kcdev:\n    type: sse\n    uri: old\n    stale: true\n# models\nGOOSE_MODEL: gpt-4o\n";
        fs::write(&file, original).unwrap();
        let entry = json!({"enabled": true, "type": "streamable_http", "uri": "http://localhost:8000/mcp",
            "timeout": 300, "client_id": "kcdev-goose", "scopes": ["openid", "mcp:tools"]});
        let path = vec!["extensions".to_owned(), "kcdev".to_owned()];
        let outcome = merge_entry(&file, ConfigFormat::Yaml, &path, &entry).unwrap();
        assert!(matches!(outcome, MergeOutcome::Updated { .. }));
        let text = fs::read_to_string(&file).unwrap();
        for kept in [
            "# my goose\nGOOSE_PROVIDER: openai # provider\nextensions:\n  developer:\n    enabled: true\n    type: builtin # built in\n",
            "# models\nGOOSE_MODEL: gpt-4o\n",
        ] {
            assert!(text.contains(kept), "{kept:?} lost:\n{text}");
        }
        assert!(!text.contains("stale"), "{text}");
        let read: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(read["extensions"]["kcdev"], entry);
        assert_eq!(read["GOOSE_MODEL"], "gpt-4o");
        assert_eq!(
            merge_entry(&file, ConfigFormat::Yaml, &path, &entry).unwrap(),
            MergeOutcome::Unchanged
        );
    }

    #[test]
    fn yaml_adds_to_files_without_the_table() {
        let path = vec!["extensions".to_owned(), "kcdev".to_owned()];
        let entry = json!({"type": "streamable_http", "uri": "u"});
        for original in [
            "",
            "# only a comment\n",
            "GOOSE_MODEL: x\n",
            "extensions: {}\n",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("config.yaml");
            fs::write(&file, original).unwrap();
            merge_entry(&file, ConfigFormat::Yaml, &path, &entry)
                .unwrap_or_else(|err| panic!("{original:?}: {err}"));
            let text = fs::read_to_string(&file).unwrap();
            let read: Value = serde_norway::from_str(&text).unwrap();
            assert_eq!(read["extensions"]["kcdev"], entry, "{original:?}:\n{text}");
            if original.starts_with('#') {
                assert!(text.contains("# only a comment"), "{text}");
            }
        }
    }

    #[test]
    fn yaml_refuses_broken_files_untouched() {
        assert_refused(
            ConfigFormat::Yaml,
            "GOOSE_MODEL: x\nextensions:\n  a: [1, 2\n",
            4,
        );
        assert_refused(ConfigFormat::Yaml, "- a list\n- not a mapping\n", 0);
    }

    #[test]
    fn renders_each_format() {
        let snippet = json!({"mcp_servers": {"kcdev": {"url": "u", "oauth": {"client_id": "c"}}}});
        assert_eq!(
            ConfigFormat::Toml.render(&snippet),
            "[mcp_servers.kcdev]\nurl = \"u\"\n\n[mcp_servers.kcdev.oauth]\nclient_id = \"c\""
        );
        assert!(ConfigFormat::Json.render(&snippet).starts_with("{\n"));
    }
}
