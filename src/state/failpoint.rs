//! Failpoints for crash tests: `PULLOVER_FAILPOINT=name` (or `name#k`, the
//! k-th time it is reached) kills the process with SIGKILL right there, the
//! way a power cut or OOM kill would. Unset in normal use; costs one env lookup.

use std::sync::Mutex;

static HITS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

/// Every failpoint name, in the order an apply or rollback reaches them.
pub const POINTS: &[&str] = &[
    "before-begin",
    "after-begin",
    "before-file-write",
    "after-file-write",
    "before-commit",
    "after-commit",
    "recovery-after-file-write",
];

pub fn hit(name: &str) {
    let Ok(spec) = std::env::var("PULLOVER_FAILPOINT") else {
        return;
    };
    let (want, nth) = match spec.split_once('#') {
        Some((n, k)) => (n, k.parse::<usize>().unwrap_or(1)),
        None => (spec.as_str(), 1),
    };
    if want != name {
        return;
    }
    let count = {
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
    if count == nth {
        eprintln!("pullover: failpoint {name}#{count} reached, killing myself");
        // SAFETY: kill(2) with our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
