//! The stacks' own apps, run for real: `node` with the npm dependencies of the app's
//! package.json, `python3` in a venv with prometheus_client. Dependencies are installed once
//! into `target/` (keyed by what is installed) and reused. In CI a missing runtime or a
//! failed install fails the test; elsewhere the test prints a skip line and passes.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http_request;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const READY_DEADLINE: Duration = Duration::from_secs(30);

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|value| !value.is_empty())
}

/// `None` (with a skip line) outside CI, a panic in CI.
fn skip<T>(test: &str, message: &str) -> Option<T> {
    if in_ci() {
        panic!("{test}: {message}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {message}");
    None
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A folder whose `node_modules` holds the dependencies of `package_json`, installed with
/// npm from the registry (once per package.json content).
pub fn node_modules(test: &str, package_json: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(package_json).unwrap_or_else(|e| panic!("{}: {e}", package_json.display()));
    let key = pullover::changeset::sha256_hex(text.as_bytes());
    let dir = repo_root().join("target/app-deps/npm").join(&key[..16]);
    if dir.join("node_modules/.installed").is_file() {
        return Some(dir.join("node_modules"));
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join("package.json"), &text).unwrap_or_else(|e| panic!("{e}"));
    let installed = run(Command::new("npm")
        .args([
            "install",
            "--omit=dev",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--silent",
        ])
        .current_dir(&dir));
    match installed {
        Ok(()) => {
            let _ = std::fs::write(dir.join("node_modules/.installed"), "");
            Some(dir.join("node_modules"))
        }
        Err(err) => skip(
            test,
            &format!("cannot install the app's npm dependencies (the test script installs nodejs and npm): {err}"),
        ),
    }
}

/// A `python3` with `packages` from PyPI, in a venv under `target/` (one per package list).
pub fn python_with(test: &str, packages: &[&str]) -> Option<PathBuf> {
    let name = if packages == ["prometheus_client"] {
        "venv".to_string()
    } else {
        format!("venv-{}", packages.join("-"))
    };
    let dir = repo_root().join("target/app-deps").join(name);
    let python = dir.join("bin/python3");
    if dir.join(".installed").is_file() {
        return Some(python);
    }
    let made = run(Command::new("python3").args(["-m", "venv"]).arg(&dir)).and_then(|()| {
        run(Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages))
    });
    match made {
        Ok(()) => {
            let _ = std::fs::write(dir.join(".installed"), "");
            Some(python)
        }
        Err(err) => skip(
            test,
            &format!(
                "cannot make a venv with {} (the test script installs python3-venv): {err}",
                packages.join(", ")
            ),
        ),
    }
}

/// The Go package in `dir` built (after `go vet`) into `dir/app.bin`: in GOPATH mode against
/// Debian's client_golang (`golang-github-prometheus-client-golang-dev`), since no Go module
/// proxy is reached here; the build cache is kept under `target/`.
pub fn go_build(test: &str, dir: &Path) -> Option<PathBuf> {
    let binary = dir.join("app.bin");
    let go = |args: &[&str]| {
        let mut command = Command::new("go");
        command
            .args(args)
            .current_dir(dir)
            .env("GO111MODULE", "off")
            .env("GOPATH", "/usr/share/gocode")
            .env("GOCACHE", repo_root().join("target/app-deps/go-cache"))
            .env("GOFLAGS", "");
        command
    };
    let built = run(&mut go(&["vet", "."])).and_then(|()| run(go(&["build", "-o"]).arg(&binary).arg(".")));
    match built {
        Ok(()) => Some(binary),
        Err(err) => skip(
            test,
            &format!(
                "cannot vet and build the Go app (the test script installs golang-go and golang-github-prometheus-client-golang-dev): {err}"
            ),
        ),
    }
}

/// `GET path` as HTTP/1.0, so the answer comes whole (never chunked): status and body.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs(5);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response.as_str(), ""));
    // Werkzeug's development server answers chunked even to HTTP/1.0.
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Ok((status, body))
}

/// The body of a chunked HTTP answer.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// An app process we started, stopped by its pid on Drop.
pub struct RealApp {
    pub addr: SocketAddr,
    pub log: PathBuf,
    child: Child,
}

impl RealApp {
    /// Starts `program args` in `dir` with `env`, and waits until `addr` answers HTTP.
    pub fn start(program: &Path, args: &[&str], dir: &Path, env: &[(&str, String)], addr: SocketAddr) -> RealApp {
        let log = dir.join("app.log");
        let out = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (key, value) in env {
            command.env(key, value);
        }
        // The app dies with the test's thread even if Drop never runs.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut app = RealApp { addr, log, child };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!(
                    "the app exited with {status} before it answered; log:\n{}",
                    app.log_text()
                );
            }
            if http_request(addr, "GET", "/", "", Duration::from_millis(500)).is_ok() {
                return app;
            }
            if started.elapsed() > READY_DEADLINE {
                panic!(
                    "the app did not answer on {addr} within {READY_DEADLINE:?}; log:\n{}",
                    app.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        get(self.addr, path).unwrap_or_else(|e| panic!("GET {path} on the app: {e}; log:\n{}", self.log_text()))
    }
}

impl Drop for RealApp {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of our own, not yet reaped child.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
