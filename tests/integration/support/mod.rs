//! A test builder that reads like the user's story:
//! `pullover().stack("seed").run(["plan"])` copies `stacks/seed` into a fresh
//! temporary folder, runs the real binary there, and returns what a person
//! would see.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Compose stacks of `stacks/`. The Kubernetes ones (`k8s-*`, [`kube_stacks`]) are
/// tested in `kubernetes.rs`: not every phase runs on them yet (docs/kubernetes.md).
pub fn stacks() -> Vec<String> {
    all_stacks()
        .into_iter()
        .filter(|name| !name.starts_with("k8s-"))
        .collect()
}

/// The Kubernetes stacks of `stacks/` (`k8s-*`).
pub fn kube_stacks() -> Vec<String> {
    all_stacks()
        .into_iter()
        .filter(|name| name.starts_with("k8s-"))
        .collect()
}

/// The stacks of `stacks/`, bar `stacks/push-only/`: apps that only push, with no dashboards,
/// rules or docs, for the `expose` phase and its live tests (`tests/integration/expose.rs`).
fn all_stacks() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(repo_root().join("stacks"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir() && e.file_name() != "push-only")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub struct Pullover {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Killed by this signal (failpoint tests).
    pub signal: Option<i32>,
}

pub fn pullover() -> Pullover {
    Pullover {
        dir: tempfile::tempdir().expect("temp dir"),
        env: Vec::new(),
    }
}

impl Pullover {
    /// Copies `stacks/<name>` to the temp folder as the stack under test (a `tests/…` path:
    /// that fixture folder instead).
    pub fn stack(self, name: &str) -> Pullover {
        let from = if name.starts_with("tests/") {
            repo_root().join(name)
        } else {
            repo_root().join("stacks").join(name)
        };
        copy_dir(&from, &self.path());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Pullover {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The stack folder.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("stack")
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.file(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.file(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Runs `pullover --stack <stack> ARGS` with a clean environment and no stdin.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run_with(args, &self.env)
    }

    /// A copy of this stack as it is now, pullover's state included (to
    /// crash the same prepared stack many times).
    pub fn fork(&self) -> Pullover {
        let fork = pullover();
        copy_dir(&self.path(), &fork.path());
        fork
    }

    /// The command [`Pullover::run`] runs, to spawn it instead (concurrency tests).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command_with(args, &self.env)
    }

    fn command_with<I, S>(&self, args: I, env: &[(String, String)]) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pullover"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("USER", "tester")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .arg("--stack")
            .arg(self.path())
            .args(args)
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run_with<I, S>(&self, args: I, env: &[(String, String)]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.command_with(args, env);
        let output = cmd.output().expect("run pullover");
        use std::os::unix::process::ExitStatusExt;
        Run {
            code: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `pullover ARGS` with no `--stack`, from `rel` (a folder of the stack, or `..` for
    /// the temp folder holding it), as a person runs it from where they stand.
    pub fn run_in<I, S>(&self, rel: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = Command::new(env!("CARGO_BIN_EXE_pullover"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("USER", "tester")
            .env("NO_COLOR", "1")
            .current_dir(self.path().join(rel))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run pullover");
        use std::os::unix::process::ExitStatusExt;
        Run {
            code: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs without the environment added by [`Pullover::env`] (after a failpoint).
    pub fn run_clean<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run_with(args, &[])
    }

    /// sha256 of every file of the stack except pullover's own state.
    pub fn hashes(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        hash_dir(&self.path(), &self.path(), &mut out);
        out
    }

    /// Replaces the temp path in output, so snapshots are stable.
    pub fn clean(&self, text: &str) -> String {
        let stack = self.path().canonicalize().unwrap_or(self.path());
        let text = text
            .replace(&stack.display().to_string(), "[STACK]")
            .replace(&self.path().display().to_string(), "[STACK]");
        let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
        let text = time.replace_all(&text, "[TIME]");
        let sha = regex::Regex::new(r"\b[0-9a-f]{12}\b").unwrap();
        sha.replace_all(&text, "[SHA]").into_owned()
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Copies a folder tree, keeping symlinks as symlinks and file modes.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn hash_dir(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".pullover") {
            continue;
        }
        if path.is_dir() {
            hash_dir(root, &path, out);
        } else {
            let bytes = fs::read(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(rel, pullover::changeset::sha256_hex(&bytes));
        }
    }
}

/// A tool the tests need from the machine. In CI a missing tool fails the
/// test; elsewhere the test says it is skipped.
pub fn require_tool(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{name} is not installed; scripts/test installs it (apt-get install prometheus prometheus-pushgateway chromium)"
            );
        }
        eprintln!("SKIPPED: {name} is not installed (run scripts/test to install it)");
    }
    found
}

/// `git apply` of `patch` in `dir` (`--check` only when `check_only`); fails the test with git's
/// words when git refuses.
#[track_caller]
pub fn git_apply(dir: &Path, patch: &Path, check_only: bool, what: &str) {
    let mut git = Command::new("git");
    git.arg("apply");
    if check_only {
        git.args(["--check", "-v"]);
    }
    let out = git.arg(patch).current_dir(dir).output().expect("run git");
    assert!(
        out.status.success(),
        "{what}: git apply{} failed:\n{}",
        if check_only { " --check" } else { "" },
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `promtool check config` on a file (which checks its rule files too);
/// promtool's output either way.
pub fn promtool_check_config(path: &Path) -> Result<String, String> {
    let out = Command::new("promtool")
        .arg("check")
        .arg("config")
        .arg(path)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() { Ok(text) } else { Err(text) }
}

/// The Prometheus release of the machine's promtool (`promtool --version`), e.g. 2.42.
pub fn promtool_version() -> Option<pullover::promql::PrometheusVersion> {
    let out = Command::new("promtool").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // "promtool, version 2.42.0+ds (branch: …)"
    let version = text.split("version ").nth(1)?.split_whitespace().next()?;
    pullover::promql::PrometheusVersion::parse(version.split('+').next()?)
}

/// promtool's word on a stack's Prometheus files, when the machine's promtool is of the major
/// version the stack runs: `Some(Ok(which promtool checked))`, `Some(Err(its output))`, or `None`
/// (no promtool of that major version here; nothing was checked).
pub fn promtool_check_for(
    stack_version: pullover::promql::PrometheusVersion,
    config: &Path,
) -> Option<Result<String, String>> {
    let promtool = promtool_version()?;
    if promtool.major != stack_version.major {
        eprintln!(
            "NOT CHECKED: {} is for Prometheus {stack_version}; this machine's promtool is {promtool}",
            config.display()
        );
        return None;
    }
    Some(promtool_check_config(config).map(|_| format!("promtool {promtool}")))
}

pub mod browser;
pub mod kube;
pub mod live;
pub mod operator;
pub mod tree;
