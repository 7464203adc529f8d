//! Scaffolding: new projects written from the templates under `templates/server/<language>/`,
//! embedded in the binary, with the realm's values filled in (in file contents and paths).
//! Refuses to write into a non-empty directory unless asked to. `launch` knows how each
//! language's project is built and run.

mod launch;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};

pub use launch::{LaunchStep, Stamp, launch_plan};

static RUST_TEMPLATE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/server/rust");
static PYTHON_TEMPLATE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/server/python");
static TYPESCRIPT_TEMPLATE: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/templates/server/typescript");

/// Words Python reserves: a package named after one cannot be imported.
const PYTHON_KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The language of a generated server, and of a project `kcdev run` is pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    TypeScript,
}

impl Language {
    pub const ALL: [Self; 3] = [Self::Rust, Self::Python, Self::TypeScript];

    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::TypeScript => "typescript",
        }
    }

    /// What the generated project is built on, for the one line `new server` prints.
    pub fn stack(self) -> &'static str {
        match self {
            Self::Rust => "a Rust MCP server (rmcp, axum, jsonwebtoken)",
            Self::Python => "a Python MCP server (FastMCP, KeycloakAuthProvider)",
            Self::TypeScript => "a TypeScript MCP server (MCP TypeScript SDK, express, jose)",
        }
    }

    /// The file that marks a project of this language; `kcdev run` looks for it.
    pub fn manifest(self) -> &'static str {
        match self {
            Self::Rust => "Cargo.toml",
            Self::Python => "pyproject.toml",
            Self::TypeScript => "package.json",
        }
    }

    /// How a user runs the project's own tests, from its directory.
    pub fn test_command(self) -> &'static str {
        match self {
            Self::Rust => "cargo test",
            // The virtual environment is the one `kcdev run` creates.
            Self::Python => ".venv/bin/pytest",
            Self::TypeScript => "npm test",
        }
    }

    /// The language of the project in `dir`, by its manifest.
    pub fn detect(dir: &Path) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|language| dir.join(language.manifest()).is_file())
    }

    fn template(self) -> &'static Dir<'static> {
        match self {
            Self::Rust => &RUST_TEMPLATE,
            Self::Python => &PYTHON_TEMPLATE,
            Self::TypeScript => &TYPESCRIPT_TEMPLATE,
        }
    }

    /// Checks a project name: Cargo's rules for package names (which also make a valid Python
    /// distribution and module name once `-` becomes `_`), and npm's lower case for TypeScript.
    pub fn validate_name(self, name: &str) -> Result<(), ScaffoldError> {
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
        if self == Self::TypeScript && name.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(invalid("npm package names are lower case"));
        }
        if self == Self::Python && PYTHON_KEYWORDS.contains(&name.replace('-', "_").as_str()) {
            return Err(invalid(
                "it is a Python keyword, which cannot name the package",
            ));
        }
        Ok(())
    }
}

/// Files whose names end like this lose the suffix when written (a `Cargo.toml` inside kcdev's
/// own tree would confuse cargo and editors).
const TEMPLATE_SUFFIX: &str = ".tmpl";

/// The values a generated server is wired to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerValues {
    /// The package name (Cargo, Python distribution or npm).
    pub name: String,
    /// Realm URL (issuer).
    pub realm_url: String,
    /// Server base URL.
    pub server_url: String,
    /// Scopes every request needs: the realm default scopes the server lists.
    pub required_scopes: Vec<String>,
    /// Scopes tools may ask for (step-up): the realm optional scopes the server lists.
    pub optional_scopes: Vec<String>,
    /// The scope the example tool `admin_only` declares.
    pub admin_scope: String,
}

/// What `generate_server` writes and where.
#[derive(Debug, Clone)]
pub struct NewServerOptions {
    pub language: Language,
    pub dir: PathBuf,
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
    /// The project name is not a valid package name for its language.
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
    /// A project manifest `kcdev run` needs to read is not what it expects.
    #[error("{}: {problem}", path.display())]
    Manifest { path: PathBuf, problem: String },
    /// Reading or writing failed.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
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
            ("__KCDEV_NAME__", self.name.clone()),
            ("__KCDEV_IDENT__", self.name.replace('-', "_")),
            ("__KCDEV_REALM_URL__", self.realm_url.clone()),
            ("__KCDEV_SERVER_URL__", self.server_url.clone()),
            ("__KCDEV_SCOPE__", self.required_scopes.join(" ")),
            ("__KCDEV_OPTIONAL_SCOPES__", self.optional_scopes.join(" ")),
            ("__KCDEV_ADMIN_SCOPE__", self.admin_scope.clone()),
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
    options.language.validate_name(&options.values.name)?;
    if !options.force && !is_empty_dir(&options.dir)? {
        return Err(ScaffoldError::NotEmpty {
            dir: options.dir.clone(),
        });
    }
    let mut files = Vec::new();
    template_files(options.language.template(), &mut files);
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        // Paths carry placeholders too: a Python package directory is named after the project.
        let relative = options.values.render(&file.path().to_string_lossy());
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
            name: "my-server".into(),
            realm_url: "http://localhost:8080/realms/fastmcp".into(),
            server_url: "http://localhost:8000".into(),
            required_scopes: vec!["mcp:tools".into()],
            optional_scopes: vec!["mcp:admin".into()],
            admin_scope: "mcp:admin".into(),
        }
    }

    fn generate(language: Language, dir: &Path) -> GeneratedProject {
        generate_server(&NewServerOptions {
            language,
            dir: dir.to_owned(),
            values: values(),
            force: false,
        })
        .unwrap()
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn every_language_gets_a_complete_project_with_every_placeholder_filled() {
        let expected: [(Language, &[&str]); 3] = [
            (
                Language::Rust,
                &[
                    "Cargo.toml",
                    "src/main.rs",
                    "src/auth/verify.rs",
                    "tests/auth.rs",
                ],
            ),
            (
                Language::Python,
                &[
                    "pyproject.toml",
                    "src/my_server/server.py",
                    "src/my_server/auth.py",
                    "tests/test_server.py",
                ],
            ),
            (
                Language::TypeScript,
                &[
                    "package.json",
                    "tsconfig.json",
                    "src/auth.ts",
                    "test/server.test.ts",
                ],
            ),
        ];
        for (language, files) in expected {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("my-server");
            let project = generate(language, &target);
            for file in files
                .iter()
                .chain(&[".env.example", "README.md", ".gitignore"])
            {
                assert!(
                    project.files.contains(&PathBuf::from(file)),
                    "{language:?}: {file} missing"
                );
            }
            for file in &project.files {
                assert!(!file.to_string_lossy().contains("__KCDEV_"), "{file:?}");
                let Ok(text) = fs::read_to_string(target.join(file)) else {
                    continue;
                };
                assert!(
                    !text.contains("__KCDEV_"),
                    "placeholder left in {}",
                    file.display()
                );
            }
            assert_eq!(Language::detect(&target), Some(language));
        }
    }

    #[test]
    fn the_project_is_named_and_wired_to_the_realm() {
        let dir = tempfile::tempdir().unwrap();
        let rust = generate(Language::Rust, &dir.path().join("rust")).dir;
        assert!(read(&rust, "Cargo.toml").contains("name = \"my-server\""));
        assert!(read(&rust, "src/main.rs").contains("use my_server::"));
        let python = generate(Language::Python, &dir.path().join("python")).dir;
        assert!(read(&python, "pyproject.toml").contains("my-server = \"my_server.server:main\""));
        let config = read(&python, "src/my_server/config.py");
        assert!(config.contains("\"http://localhost:8080/realms/fastmcp\""));
        assert!(config.contains("\"http://localhost:8000\""));
        let typescript = generate(Language::TypeScript, &dir.path().join("ts")).dir;
        assert!(read(&typescript, "package.json").contains("\"name\": \"my-server\""));
        assert!(read(&typescript, "src/config.ts").contains("\"mcp:tools\""));
    }

    #[test]
    fn refuses_a_non_empty_directory_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let mut options = NewServerOptions {
            language: Language::Rust,
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
    fn names_follow_cargo_rules_and_npm_wants_lower_case() {
        for language in Language::ALL {
            for bad in ["", "1up", "has space", "ünï"] {
                assert!(language.validate_name(bad).is_err(), "{bad:?}");
            }
            language.validate_name("mcp-server_2").unwrap();
        }
        Language::Rust.validate_name("MyServer").unwrap();
        assert!(Language::TypeScript.validate_name("MyServer").is_err());
        Language::Rust.validate_name("class").unwrap();
        assert!(Language::Python.validate_name("class").is_err());
    }
}
