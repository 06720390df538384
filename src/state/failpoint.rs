//! Failpoints for crash and concurrency tests, driven by the environment. Only in
//! builds with the `failpoints` feature, which the tests turn on (Cargo.toml); in a
//! build for use every hit is a no-op and no environment variable is read. Armed
//! (in a test build, where an unset variable costs one cached lookup per hit):
//!
//! - `PULLOVER_FAILPOINT=name` (or `name#k`, the k-th time it is reached) kills
//!   the process with SIGKILL right there, the way a power cut or OOM kill would;
//! - `PULLOVER_FAILPOINT=name#k:pause=PATH` instead creates `PATH.reached` and
//!   waits (up to a minute) until `PATH.release` exists, so a test can run a
//!   second pullover while this one stands at a known step;
//! - `PULLOVER_FAILPOINT=name#k:error` makes a write step that can fail
//!   ([`hit_or_fail`]) fail there with an I/O error, as a full disk would;
//! - `PULLOVER_FAILPOINT_TRACE=1` prints `pullover-failpoint: name#k` to stderr
//!   at every hit, so a test can list every step a command takes and then kill
//!   it at each one in turn.
//!
//! A torn point ([`hit_torn`]) writes part of a record before dying, as a crash
//! in the middle of a `write(2)` would.

// Without the feature nothing arms a failpoint, so the machinery below is never reached.
#![cfg_attr(not(feature = "failpoints"), allow(dead_code, unused_imports))]

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Every failpoint name, in the order an apply or rollback reaches them.
pub const POINTS: &[&str] = &[
    "lock-acquired",
    "before-execute",
    "after-snapshot",
    "before-begin",
    "journal-torn",
    "before-head",
    "after-begin",
    "before-file-write",
    "after-create-dir",
    "temp-written",
    "after-rename",
    "after-file-write",
    "before-commit",
    "after-commit",
    "recovery-before-file-write",
    "recovery-after-file-write",
    "recovery-before-record",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Then {
    Kill,
    Pause(PathBuf),
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    name: String,
    nth: usize,
    then: Then,
}

struct Config {
    spec: Option<Spec>,
    trace: bool,
}

fn parse(spec: &str) -> Option<Spec> {
    let (point, then) = match spec.split_once(':') {
        Some((point, "error")) => (point, Then::Fail),
        Some((point, action)) => {
            let path = action.strip_prefix("pause=")?;
            (point, Then::Pause(PathBuf::from(path)))
        }
        None => (spec, Then::Kill),
    };
    let (name, nth) = match point.split_once('#') {
        Some((name, k)) => (name, k.parse::<usize>().ok()?),
        None => (point, 1),
    };
    (!name.is_empty()).then(|| Spec {
        name: name.to_string(),
        nth,
        then,
    })
}

#[cfg(not(feature = "failpoints"))]
fn config() -> &'static Config {
    static OFF: Config = Config {
        spec: None,
        trace: false,
    };
    &OFF
}

#[cfg(feature = "failpoints")]
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config {
        spec: std::env::var("PULLOVER_FAILPOINT").ok().and_then(|s| parse(&s)),
        trace: std::env::var_os("PULLOVER_FAILPOINT_TRACE").is_some(),
    })
}

static HITS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

/// Counts a hit of `name`; returns what to do when it is the armed one.
fn count(name: &str) -> Option<Then> {
    let config = config();
    if config.spec.is_none() && !config.trace {
        return None;
    }
    let n = {
        let mut hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
        match hits.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                hits.push((name.to_string(), 1));
                1
            }
        }
    };
    if config.trace {
        eprintln!("pullover-failpoint: {name}#{n}");
    }
    match &config.spec {
        Some(spec) if spec.name == name && spec.nth == n => Some(spec.then.clone()),
        _ => None,
    }
}

fn kill(name: &str) {
    eprintln!("pullover: failpoint {name} reached, killing myself");
    // SAFETY: kill(2) with our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

fn pause(name: &str, path: &std::path::Path) {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let _ = std::fs::write(with(".reached"), std::process::id().to_string());
    eprintln!("pullover: failpoint {name} reached, pausing");
    let release = with(".release");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !release.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A step of a write: dies (or pauses) here when armed.
pub fn hit(name: &str) {
    match count(name) {
        Some(Then::Kill) => kill(name),
        Some(Then::Pause(path)) => pause(name, &path),
        Some(Then::Fail) | None => {}
    }
}

/// A step of a write that can fail: like [`hit`], and armed with `:error` it
/// returns an I/O error instead.
pub fn hit_or_fail(name: &str) -> std::io::Result<()> {
    match count(name) {
        Some(Then::Kill) => kill(name),
        Some(Then::Pause(path)) => pause(name, &path),
        Some(Then::Fail) => {
            return Err(std::io::Error::other(format!("failpoint {name}: injected write error")));
        }
        None => {}
    }
    Ok(())
}

/// A step that writes a record: when armed to kill, `partial` writes part of
/// it first, so the crash leaves a torn write behind.
pub fn hit_torn(name: &str, partial: impl FnOnce()) {
    match count(name) {
        Some(Then::Kill) => {
            partial();
            kill(name);
        }
        Some(Then::Pause(path)) => pause(name, &path),
        Some(Then::Fail) | None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_point_its_occurrence_and_what_to_do() {
        assert_eq!(
            parse("after-begin"),
            Some(Spec {
                name: "after-begin".into(),
                nth: 1,
                then: Then::Kill
            })
        );
        assert_eq!(
            parse("temp-written#3:pause=/tmp/x"),
            Some(Spec {
                name: "temp-written".into(),
                nth: 3,
                then: Then::Pause(PathBuf::from("/tmp/x"))
            })
        );
        assert_eq!(
            parse("before-file-write#2:error"),
            Some(Spec {
                name: "before-file-write".into(),
                nth: 2,
                then: Then::Fail
            })
        );
        assert_eq!(parse("after-begin#x"), None);
        assert_eq!(parse("after-begin:explode"), None);
        assert_eq!(parse(""), None);
    }
}
