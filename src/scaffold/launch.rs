//! How each language's project is prepared and started: a pure plan of commands, which the
//! command line runs in order (the last one is the server). Preparation is skipped when its
//! stamp says the project has not changed since it last succeeded, so a second `kcdev run`
//! starts the server at once.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Language, ScaffoldError};

/// One command of a launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchStep {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub dir: PathBuf,
    /// Said before the step runs ("creating the virtual environment .venv").
    pub purpose: String,
    /// What to install when `program` is not there.
    pub install_hint: &'static str,
    /// Written once the step succeeded; the step is left out while it is current.
    pub stamp: Option<Stamp>,
}

/// A file recording what a preparation step was last run for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub path: PathBuf,
    pub contents: String,
}

impl Stamp {
    /// For a step that depends on `manifest`'s contents.
    fn of(path: PathBuf, manifest: &Path) -> Result<Self, ScaffoldError> {
        let bytes = fs::read(manifest).map_err(super::io_error(manifest))?;
        Ok(Self {
            path,
            contents: format!("{:x}\n", Sha256::digest(&bytes)),
        })
    }

    fn is_current(&self) -> bool {
        fs::read_to_string(&self.path).is_ok_and(|text| text == self.contents)
    }

    pub fn write(&self) -> Result<(), ScaffoldError> {
        fs::write(&self.path, &self.contents).map_err(super::io_error(&self.path))
    }
}

const PYTHON_HINT: &str = "install Python 3.11 or later (https://www.python.org/downloads/)";
const NODE_HINT: &str = "install Node.js 20 or later, which comes with npm (https://nodejs.org)";
const RUST_HINT: &str = "install Rust (https://rustup.rs)";

/// The commands that prepare and start the `language` project in `dir`, the server last.
pub fn launch_plan(language: Language, dir: &Path) -> Result<Vec<LaunchStep>, ScaffoldError> {
    let step = |program: PathBuf, args: &[&str], purpose: &str, hint| LaunchStep {
        program,
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        dir: dir.to_owned(),
        purpose: purpose.to_owned(),
        install_hint: hint,
        stamp: None,
    };
    let mut steps = Vec::new();
    match language {
        Language::Rust => steps.push(step(
            "cargo".into(),
            &["run", "--manifest-path", language.manifest()],
            "building and running it with cargo",
            RUST_HINT,
        )),
        Language::Python => {
            let venv = dir.join(".venv");
            let python = venv_program(&venv, "python");
            if !python.is_file() {
                steps.push(step(
                    python3(),
                    &["-m", "venv", ".venv"],
                    "creating its virtual environment .venv (venv + pip)",
                    PYTHON_HINT,
                ));
            }
            let mut install = step(
                python.clone(),
                &["-m", "pip", "install", "--quiet", "--editable", ".[dev]"],
                "installing it and its dependencies into .venv",
                PYTHON_HINT,
            );
            install.stamp = Some(Stamp::of(
                venv.join(".kcdev-installed"),
                &dir.join(language.manifest()),
            )?);
            steps.push(install);
            let script = python_script(dir)?;
            steps.push(step(
                venv_program(&venv, &script),
                &[],
                &format!("starting {script}"),
                PYTHON_HINT,
            ));
        }
        Language::TypeScript => {
            let mut install = step(
                npm(),
                &["install", "--no-audit", "--no-fund"],
                "installing its dependencies (npm install)",
                NODE_HINT,
            );
            install.stamp = Some(Stamp::of(
                dir.join("node_modules").join(".kcdev-installed"),
                &dir.join(language.manifest()),
            )?);
            steps.push(install);
            steps.push(step(
                npm(),
                &["start"],
                "building and starting it (npm start)",
                NODE_HINT,
            ));
        }
    }
    steps.retain(|step| !step.stamp.as_ref().is_some_and(Stamp::is_current));
    Ok(steps)
}

fn python3() -> PathBuf {
    if cfg!(windows) { "python" } else { "python3" }.into()
}

fn npm() -> PathBuf {
    if cfg!(windows) { "npm.cmd" } else { "npm" }.into()
}

fn venv_program(venv: &Path, name: &str) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join(format!("{name}.exe"))
    } else {
        venv.join("bin").join(name)
    }
}

/// The server's command: the first of `[project.scripts]` in pyproject.toml (the generated
/// project declares one, named after the project).
fn python_script(dir: &Path) -> Result<String, ScaffoldError> {
    let path = dir.join(Language::Python.manifest());
    let text = fs::read_to_string(&path).map_err(super::io_error(&path))?;
    let manifest: toml::Table = toml::from_str(&text).map_err(|err| ScaffoldError::Manifest {
        path: path.clone(),
        problem: err.message().to_owned(),
    })?;
    manifest
        .get("project")
        .and_then(|project| project.get("scripts"))
        .and_then(toml::Value::as_table)
        .and_then(|scripts| scripts.keys().next().cloned())
        .ok_or_else(|| ScaffoldError::Manifest {
            path,
            problem: "it declares no [project.scripts] entry to start the server with".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(steps: &[LaunchStep]) -> Vec<String> {
        steps
            .iter()
            .map(|step| {
                let name = step.program.file_name().unwrap().to_string_lossy();
                format!("{name} {}", step.args.join(" ")).trim().to_owned()
            })
            .collect()
    }

    #[test]
    fn a_python_project_gets_a_virtual_environment_once_and_reinstalls_when_its_manifest_changes() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("pyproject.toml");
        fs::write(
            &manifest,
            "[project]\nname = \"demo\"\n[project.scripts]\ndemo = \"demo.server:main\"\n",
        )
        .unwrap();
        let steps = launch_plan(Language::Python, dir.path()).unwrap();
        assert_eq!(
            programs(&steps),
            [
                "python3 -m venv .venv",
                "python -m pip install --quiet --editable .[dev]",
                "demo"
            ]
        );
        assert_eq!(steps[2].program, dir.path().join(".venv/bin/demo"));

        fs::create_dir_all(dir.path().join(".venv/bin")).unwrap();
        fs::write(dir.path().join(".venv/bin/python"), "").unwrap();
        steps[1].stamp.as_ref().unwrap().write().unwrap();
        assert_eq!(
            programs(&launch_plan(Language::Python, dir.path()).unwrap()),
            ["demo"]
        );

        fs::write(&manifest, "[project]\nname = \"demo\"\ndependencies = [\"httpx\"]\n[project.scripts]\ndemo = \"demo.server:main\"\n").unwrap();
        assert_eq!(
            programs(&launch_plan(Language::Python, dir.path()).unwrap()),
            ["python -m pip install --quiet --editable .[dev]", "demo"]
        );
    }

    #[test]
    fn a_python_project_without_a_script_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"demo\"\n",
        )
        .unwrap();
        let err = launch_plan(Language::Python, dir.path()).unwrap_err();
        assert!(err.to_string().contains("[project.scripts]"), "{err}");
        fs::write(dir.path().join("pyproject.toml"), "[project").unwrap();
        assert!(matches!(
            launch_plan(Language::Python, dir.path()),
            Err(ScaffoldError::Manifest { .. })
        ));
    }

    #[test]
    fn typescript_installs_then_starts_and_rust_runs_cargo() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), "{}").unwrap();
        assert_eq!(
            programs(&launch_plan(Language::TypeScript, dir.path()).unwrap()),
            ["npm install --no-audit --no-fund", "npm start"]
        );
        assert_eq!(
            programs(&launch_plan(Language::Rust, dir.path()).unwrap()),
            ["cargo run --manifest-path Cargo.toml"]
        );
    }
}
