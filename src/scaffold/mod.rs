//! Scaffolding: new projects written from the templates under `templates/`, embedded in the
//! binary, with the realm's values filled in. Refuses to write into a non-empty directory unless
//! asked to.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};

static SERVER_TEMPLATE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/server");

/// Files whose names end like this lose the suffix when written (a `Cargo.toml` inside kcdev's
/// own tree would confuse cargo and editors).
const TEMPLATE_SUFFIX: &str = ".tmpl";

/// The values a generated server is wired to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerValues {
    /// Cargo package name.
    pub crate_name: String,
    /// Realm URL (issuer).
    pub realm_url: String,
    /// Server base URL.
    pub server_url: String,
    /// Scope every request needs.
    pub scope: String,
}

/// What `generate_server` writes and where.
#[derive(Debug, Clone)]
pub struct NewServerOptions {
    /// Target directory.
    pub dir: PathBuf,
    /// Values to fill in.
    pub values: ServerValues,
    /// Write even if the directory is not empty (files are overwritten, others kept).
    pub force: bool,
}

/// A generated project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedProject {
    /// Its directory.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<PathBuf>,
}

/// Failures of scaffolding.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The project name is not a valid Cargo package name.
    #[error("invalid project name {name:?}: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The directory has files in it.
    #[error("directory {} is not empty", dir.display())]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// Writing failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Checks a name against Cargo's rules for package names.
pub fn validate_crate_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason| ScaffoldError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let first = name.chars().next().ok_or_else(|| invalid("it is empty"))?;
    if !first.is_ascii_alphabetic() {
        return Err(invalid("it must start with a letter"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("use only letters, digits, '-' and '_'"));
    }
    if name.len() > 64 {
        return Err(invalid("it must be at most 64 characters"));
    }
    Ok(())
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ScaffoldError + '_ {
    move |source| ScaffoldError::Io {
        path: path.to_owned(),
        source,
    }
}

fn is_empty_dir(dir: &Path) -> Result<bool, ScaffoldError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(io_error(dir)(err)),
    }
}

impl ServerValues {
    fn render(&self, text: &str) -> String {
        [
            ("__KCDEV_CRATE_NAME__", self.crate_name.clone()),
            ("__KCDEV_CRATE_IDENT__", self.crate_name.replace('-', "_")),
            ("__KCDEV_REALM_URL__", self.realm_url.clone()),
            ("__KCDEV_SERVER_URL__", self.server_url.clone()),
            ("__KCDEV_SCOPE__", self.scope.clone()),
        ]
        .iter()
        .fold(text.to_owned(), |text, (placeholder, value)| {
            text.replace(placeholder, value)
        })
    }
}

fn template_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => template_files(sub, out),
            DirEntry::File(file) => out.push(file),
        }
    }
}

/// Writes a new MCP server project.
pub fn generate_server(options: &NewServerOptions) -> Result<GeneratedProject, ScaffoldError> {
    validate_crate_name(&options.values.crate_name)?;
    if !options.force && !is_empty_dir(&options.dir)? {
        return Err(ScaffoldError::NotEmpty {
            dir: options.dir.clone(),
        });
    }
    let mut files = Vec::new();
    template_files(&SERVER_TEMPLATE, &mut files);
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let relative = file.path().to_string_lossy();
        let relative = PathBuf::from(relative.strip_suffix(TEMPLATE_SUFFIX).unwrap_or(&relative));
        let target = options.dir.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let contents = match file.contents_utf8() {
            Some(text) => options.values.render(text).into_bytes(),
            None => file.contents().to_vec(),
        };
        fs::write(&target, contents).map_err(io_error(&target))?;
        written.push(relative);
    }
    written.sort();
    Ok(GeneratedProject {
        dir: options.dir.clone(),
        files: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> ServerValues {
        ServerValues {
            crate_name: "my-server".into(),
            realm_url: "http://localhost:8080/realms/fastmcp".into(),
            server_url: "http://localhost:8000".into(),
            scope: "mcp:tools".into(),
        }
    }

    #[test]
    fn writes_a_complete_project_with_every_placeholder_filled() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("my-server");
        let project = generate_server(&NewServerOptions {
            dir: target.clone(),
            values: values(),
            force: false,
        })
        .unwrap();
        for expected in [
            "Cargo.toml",
            "src/main.rs",
            "src/auth/verify.rs",
            "tests/auth.rs",
            ".env.example",
            "README.md",
            ".gitignore",
        ] {
            assert!(
                project.files.contains(&PathBuf::from(expected)),
                "{expected} missing"
            );
        }
        for file in &project.files {
            let Ok(text) = fs::read_to_string(target.join(file)) else {
                continue;
            };
            assert!(
                !text.contains("__KCDEV_"),
                "placeholder left in {}",
                file.display()
            );
        }
        let manifest = fs::read_to_string(target.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-server\""));
        assert!(
            fs::read_to_string(target.join("src/main.rs"))
                .unwrap()
                .contains("use my_server::")
        );
    }

    #[test]
    fn refuses_a_non_empty_directory_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let mut options = NewServerOptions {
            dir: dir.path().to_owned(),
            values: values(),
            force: false,
        };
        assert!(matches!(
            generate_server(&options),
            Err(ScaffoldError::NotEmpty { .. })
        ));
        options.force = true;
        generate_server(&options).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "mine",
            "other files kept"
        );
    }

    #[test]
    fn names_follow_cargo_rules() {
        for bad in ["", "1up", "has space", "ünï"] {
            assert!(validate_crate_name(bad).is_err(), "{bad:?}");
        }
        validate_crate_name("mcp-server_2").unwrap();
    }
}
