//! Two pullovers on one stack: the second refuses at once naming the first
//! (or, with `--lock-timeout`, waits for it), writes never interleave, and a
//! lock left by a dead process is explained.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pullover::state::journal::{Event, Journal};

use crate::support::tree::tree;
use crate::support::{Pullover, pullover};

/// A pullover paused at a failpoint, in a child process.
struct Paused {
    child: Child,
    signal: PathBuf,
}

impl Paused {
    fn start(p: &Pullover, point: &str, args: &[&str]) -> Paused {
        let signal = p
            .path()
            .parent()
            .unwrap()
            .join(format!("pause-{}", point.replace('#', "-")));
        let mut cmd = p.command(args);
        cmd.env("PULLOVER_FAILPOINT", format!("{point}:pause={}", signal.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let paused = Paused { child, signal };
        wait_for(&paused.with(".reached"));
        paused
    }

    fn with(&self, suffix: &str) -> PathBuf {
        PathBuf::from(format!("{}{suffix}", self.signal.display()))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn release(self) -> std::process::Output {
        std::fs::write(self.with(".release"), "").unwrap();
        self.child.wait_with_output().unwrap()
    }
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn journal(p: &Pullover) -> Journal {
    Journal::read(&p.path().join(".pullover/journal.jsonl")).unwrap()
}

/// Begins and their ends strictly alternate: no transaction ran inside another.
#[track_caller]
fn assert_not_interleaved(p: &Pullover) -> Vec<String> {
    let mut open: Option<u64> = None;
    let mut shape = Vec::new();
    for record in journal(p).records {
        match record.event {
            Event::Begin { action, phase, .. } => {
                assert_eq!(open, None, "begin #{} inside an open transaction", record.seq);
                open = Some(record.seq);
                shape.push(format!("{} {phase}", action.name()));
            }
            Event::Commit { of } | Event::Abort { of, .. } => {
                assert_eq!(open.take(), Some(of), "end #{} out of place", record.seq);
            }
            Event::Edited { .. } => {
                assert_eq!(open, None, "edits recorded #{} inside an open transaction", record.seq);
            }
        }
    }
    assert_eq!(open, None, "a transaction was left open");
    shape
}

#[test]
fn a_second_apply_refuses_at_once_naming_the_first_and_writes_nothing() {
    let p = pullover().stack("seed");
    let before = tree(&p.path());
    let first = Paused::start(&p, "after-begin", &["apply", "--yes"]);

    let second = p.run(["apply", "--yes"]);
    second.code(1);
    let holder = format!("pid {} running `pullover apply` since", first.pid());
    assert!(
        second.stderr.contains("another pullover is working on this stack") && second.stderr.contains(&holder),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("--lock-timeout"), "{}", second.stderr);
    // A rollback and a plan (which would have to recover the open transaction) refuse too.
    p.run(["rollback", "--yes"]).code(1);
    p.run(["plan"]).code(1);
    // status reads without the lock, and knows the open transaction is not a crash.
    let status = p.run(["status"]);
    status.success();
    assert!(
        status
            .stdout
            .contains("In progress: another pullover is working on this stack now"),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("Interrupted"), "{}", status.stdout);
    assert_eq!(
        tree(&p.path()),
        before,
        "nothing written while the first apply stands before its writes"
    );

    let out = first.release();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(assert_not_interleaved(&p), ["apply expose"]);
}

#[test]
fn with_a_lock_timeout_the_second_apply_waits_and_then_applies_the_next_phase() {
    let p = pullover().stack("seed");
    let first = Paused::start(&p, "after-file-write", &["apply", "--yes"]);

    let mut second = p
        .command(["--lock-timeout", "30s", "apply", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Release the first only once the second says it is waiting for it.
    let mut stderr = BufReader::new(second.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.contains("waiting up to 30s for the other pullover (pid"),
        "the second apply does not say it waits: {line}"
    );
    let out = first.release();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = second.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert_eq!(assert_not_interleaved(&p), ["apply expose", "apply scrape"]);
}

#[test]
fn a_lock_timeout_that_runs_out_names_the_holder() {
    let p = pullover().stack("seed");
    let first = Paused::start(&p, "lock-acquired", &["rollback", "--yes"]);
    let started = Instant::now();
    let second = p.run(["--lock-timeout", "1s", "apply", "--yes"]);
    second.code(1);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        second
            .stderr
            .contains(&format!("pid {} running `pullover rollback`", first.pid()))
            && second.stderr.contains("still working after 1s"),
        "{}",
        second.stderr
    );
    first.release();
}

#[test]
fn racing_applies_never_interleave() {
    for _ in 0..3 {
        let p = pullover().stack("seed");
        let children: Vec<Child> = (0..4)
            .map(|_| {
                p.command(["apply", "--yes"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => applied += usize::from(stdout.contains("Applied phase")),
                // Busy, or every phase this version has is applied already.
                Some(1) => assert!(
                    stderr.contains("another pullover is working on this stack")
                        || stderr.contains("is not available in this version"),
                    "{stderr}"
                ),
                other => panic!("exit {other:?}: {stderr}"),
            }
        }
        assert!(applied >= 1);
        let shape = assert_not_interleaved(&p);
        assert_eq!(shape.len(), applied, "{shape:?}");
        // The files are exactly what applying that many phases one by one gives.
        let sequential = pullover().stack("seed");
        for _ in 0..applied {
            sequential.run(["apply", "--yes"]).success();
        }
        assert_eq!(tree(&p.path()), tree(&sequential.path()));
    }
}

#[test]
fn a_lock_left_by_a_killed_pullover_is_explained_and_taken_over() {
    let p = pullover().stack("seed");
    let killed = p.fork().env("PULLOVER_FAILPOINT", "lock-acquired");
    let run = killed.run(["apply", "--yes"]);
    assert_eq!(run.signal, Some(9));
    let lock = std::fs::read_to_string(killed.path().join(".pullover/lock")).unwrap();
    let pid = lock.split_whitespace().nth(1).unwrap().to_string();

    let status = killed.run_clean(["status"]);
    status.success();
    assert!(
        status.stdout.contains(&format!(
            "Note: the previous pullover (pid {pid} running `pullover apply` since"
        )) && status
            .stdout
            .contains("it is no longer running: it crashed or was killed"),
        "{}",
        status.stdout
    );
    let apply = killed.run_clean(["apply", "--yes"]);
    apply.success();
    assert!(
        apply.stderr.contains("ended without releasing its lock"),
        "{}",
        apply.stderr
    );
    // Taken over: the holder line is cleared, and status no longer mentions it.
    assert!(!killed.run_clean(["status"]).stdout.contains("Note:"));
}

#[test]
fn a_file_edited_between_the_plan_shown_and_the_write_stops_apply_and_keeps_the_edit() {
    let p = pullover().stack("seed");
    let config = "prometheus/prometheus.yml";
    // `apply` has planned, shown and been told yes; it stands just before writing.
    let paused = Paused::start(&p, "before-execute", &["apply", "scrape", "--yes"]);
    let edited = format!("{}# edited by a person meanwhile\n", p.read(config));
    p.write(config, &edited);
    let out = paused.release();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prometheus/prometheus.yml changed since the plan was shown; nothing was written"),
        "{stderr}"
    );
    assert!(stderr.contains("run the command again to see the plan"), "{stderr}");
    assert_eq!(p.read(config), edited, "the person's edit was overwritten");
    let status = p.run(["status"]);
    assert!(status.stdout.contains("[>] 0 expose      next"), "{}", status.stdout);
}
