//! Crash consistency. For every stack and every phase this pullover has, a
//! traced run lists every write step an `apply`, a `rollback` and a recovery
//! take (`PULLOVER_FAILPOINT_TRACE`); then a real child process is killed with
//! SIGKILL at each of them in turn. After each kill:
//! - every file is wholly as before or wholly as after (bytes and mode), and
//!   nothing else in the stack changed;
//! - the journal parses and is consistent (every end names an open begin, at
//!   most one begin is open, and it is the last);
//! - `status` works and says whether a transaction is open;
//! - the next command undoes the interrupted apply or finishes the
//!   interrupted rollback, leaves no temp file, and the stack works on.
//!
//! A kill point is (stack, phase, apply | rollback | recovery, step#k).

use std::sync::atomic::{AtomicUsize, Ordering};

use pullover::phase::PhaseId;
use pullover::state::journal::{Event, Journal};

use crate::support::tree::{Tree, differing, temp_files, tree};
use crate::support::{Pullover, pullover, stacks};

/// A copy of `stack` with every phase before `phase` applied.
fn prepared(stack: &str, phase: PhaseId) -> Pullover {
    let p = pullover().stack(stack);
    for earlier in phase.required_before() {
        p.run(["apply", earlier.name(), "--yes"]).success();
    }
    p
}

/// Runs `args` on a copy of `p` with tracing on; returns the copy and every
/// failpoint it passed, in order (`after-begin#1`, …).
fn trace(p: &Pullover, args: &[&str]) -> (Pullover, Vec<String>) {
    let copy = p.fork().env("PULLOVER_FAILPOINT_TRACE", "1");
    let run = copy.run(args);
    run.success();
    let points = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("pullover-failpoint: "))
        .map(str::to_string)
        .collect();
    (copy, points)
}

/// What must hold right after a kill, before anything else runs.
#[track_caller]
fn assert_crash_consistent(crashed: &Pullover, old: &Tree, new: &Tree, what: &str) {
    let now = tree(&crashed.path());
    for (path, entry) in &now {
        if temp_files(&now).contains(&path) {
            continue; // a temp file is allowed until the next command
        }
        assert!(
            old.get(path) == Some(entry) || new.get(path) == Some(entry),
            "{what}: {path} is neither wholly old nor wholly new: {entry:?}"
        );
    }
    for path in old.keys().filter(|k| new.contains_key(*k)) {
        assert!(now.contains_key(path), "{what}: {path} vanished");
    }
    assert_journal_consistent(crashed, what);
    let status = crashed.run_clean(["status"]);
    assert_eq!(
        status.code,
        Some(0),
        "{what}: status fails after the crash\n{}",
        status.stderr
    );
    let open = journal(crashed).and_then(|j| j.interrupted().map(|r| r.seq)).is_some();
    assert_eq!(
        status.stdout.contains("Interrupted:"),
        open,
        "{what}: status and the journal disagree about an open transaction\n{}",
        status.stdout
    );
}

fn journal(p: &Pullover) -> Option<Journal> {
    let path = p.path().join(".pullover/journal.jsonl");
    path.exists()
        .then(|| Journal::read(&path).unwrap_or_else(|e| panic!("the journal does not parse: {e}")))
}

#[track_caller]
fn assert_journal_consistent(p: &Pullover, what: &str) {
    let Some(journal) = journal(p) else { return };
    let mut open: Vec<u64> = Vec::new();
    let mut last_seq = 0;
    for record in &journal.records {
        assert!(record.seq > last_seq, "{what}: journal seq {} out of order", record.seq);
        last_seq = record.seq;
        match &record.event {
            Event::Begin { .. } => {
                assert!(open.is_empty(), "{what}: begin #{} while #{open:?} is open", record.seq);
                open.push(record.seq);
            }
            Event::Commit { of } | Event::Abort { of, .. } => {
                assert_eq!(
                    open.pop(),
                    Some(*of),
                    "{what}: end #{} of a begin that is not open",
                    record.seq
                );
            }
            Event::Edited { .. } => {
                assert!(
                    open.is_empty(),
                    "{what}: edits recorded #{} while #{open:?} is open",
                    record.seq
                );
            }
        }
    }
}

/// After the next command: exactly one of the two sides, no temp file, no open transaction.
#[track_caller]
fn assert_recovered(p: &Pullover, old: &Tree, new: &Tree, what: &str) {
    let now = tree(&p.path());
    assert!(
        temp_files(&now).is_empty(),
        "{what}: temp files left: {:?}",
        temp_files(&now)
    );
    assert_journal_consistent(p, what);
    assert!(
        journal(p).is_none_or(|j| j.interrupted().is_none()),
        "{what}: a transaction is still open"
    );
    assert!(
        &now == old || &now == new,
        "{what}: after recovery the stack is neither before nor after; differs from before in {:?}, from after in {:?}",
        differing(&now, old),
        differing(&now, new)
    );
}

fn applied_phases(p: &Pullover) -> Vec<String> {
    journal(p)
        .map(|j| j.applied().into_iter().map(|a| a.phase).collect())
        .unwrap_or_default()
}

/// Kills `base`'s `args` at each point, checks, recovers with `plan`, checks,
/// then runs `args` again: the stack must end as `done`. Returns the kill count.
fn kill_at_each(
    base: &Pullover,
    args: &[&str],
    points: &[String],
    sides: (&Tree, &Tree),
    done: &Tree,
    label: &str,
) -> usize {
    let (old, new) = sides;
    // `plan` of a phase that is applied already works too (with a note).
    let phase = args.iter().find(|a| PhaseId::from_name(a).is_some()).copied();
    let plan: Vec<&str> = std::iter::once("plan").chain(phase).collect();
    for point in points {
        let what = format!("{label} killed at {point}");
        let crashed = base.fork().env("PULLOVER_FAILPOINT", point);
        let run = crashed.run(args);
        assert_eq!(
            run.signal,
            Some(9),
            "{what}: the failpoint did not kill\n{}",
            run.stderr
        );
        assert_crash_consistent(&crashed, old, new, &what);
        // The next command recovers before anything else.
        let plan = crashed.run_clean(&plan);
        assert!(
            plan.code == Some(0),
            "{what}: plan after the crash fails\n{}",
            plan.stderr
        );
        if point.starts_with("lock-acquired") {
            assert!(
                plan.stderr.contains("ended without releasing its lock") && plan.stderr.contains("no longer running"),
                "{what}: the stale lock is not explained\n{}",
                plan.stderr
            );
        }
        assert_recovered(&crashed, old, new, &what);
        // And the stack works on: the interrupted command, run again, completes.
        crashed.run_clean(args).success();
        let now = tree(&crashed.path());
        assert!(
            &now == done,
            "{what}: running the command again does not complete it; differs in {:?}",
            differing(&now, done)
        );
    }
    points.len()
}

static KILLS: AtomicUsize = AtomicUsize::new(0);

fn crash_every_step_of_every_phase(stack: &str) -> usize {
    let mut kills = 0;
    for phase in PhaseId::ALL {
        let label = format!("{stack}/{phase}");
        let base = prepared(stack, phase);
        let old = tree(&base.path());
        let apply = ["apply", phase.name(), "--yes"];
        let (applied, apply_points) = trace(&base, &apply);
        let new = tree(&applied.path());
        assert!(
            applied_phases(&applied).last().map(String::as_str) == Some(phase.name()),
            "{label}: the traced apply did not apply"
        );
        kills += kill_at_each(
            &base,
            &apply,
            &apply_points,
            (&old, &new),
            &new,
            &format!("{label} apply"),
        );

        // `--to` the phase before, so running it again after a finished
        // rollback does not undo one phase more.
        let before = phase.previous().map_or("baseline", PhaseId::name);
        let rollback = ["rollback", "--to", before, "--yes"];
        let (_, rollback_points) = trace(&applied, &rollback);
        kills += kill_at_each(
            &applied,
            &rollback,
            &rollback_points,
            (&new, &old),
            &old,
            &format!("{label} rollback"),
        );

        // A crash during recovery itself: recovery must be restartable. Two
        // interrupted states that leave recovery the most to do: an apply
        // killed before its commit (every file new) and a rollback killed
        // right after its begin (no file restored yet). Either way recovery
        // ends where the stack was before the apply.
        for (from, args, point) in [
            (&base, &apply[..], "before-commit"),
            (&applied, &rollback[..], "after-begin"),
        ] {
            let interrupted = from.fork().env("PULLOVER_FAILPOINT", point);
            assert_eq!(interrupted.run(args).signal, Some(9), "{label}: {point}");
            let interrupted = interrupted.fork();
            let plan = ["plan", phase.name()];
            let (_, recovery_points) = trace(&interrupted, &plan);
            assert!(
                recovery_points.iter().any(|p| p.starts_with("recovery-")),
                "{label}: no recovery step after {point}: {recovery_points:?}"
            );
            kills += kill_at_each(
                &interrupted,
                &plan,
                &recovery_points,
                (&old, &new),
                &old,
                &format!("{label} recovery of a {} killed at {point}", args[0]),
            );
        }
    }
    kills
}

#[test]
fn a_kill_at_every_write_step_of_every_phase_leaves_files_whole_and_recovers() {
    let names = stacks();
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|stack| scope.spawn(move || crash_every_step_of_every_phase(stack)))
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(n) => {
                    KILLS.fetch_add(n, Ordering::Relaxed);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    let kills = KILLS.load(Ordering::Relaxed);
    eprintln!(
        "crash consistency: {kills} kill points covered ({} stacks × phases {:?} × apply/rollback/recovery steps)",
        names.len(),
        PhaseId::ALL.iter().map(|p| p.name()).collect::<Vec<_>>()
    );
    assert!(kills > 0);
}

#[test]
fn a_write_that_fails_mid_phase_is_undone_at_once() {
    // dual-run writes two files on seed: the second write fails (a full disk).
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    let before = tree(&p.path());
    let failed = p.fork().env("PULLOVER_FAILPOINT", "before-file-write#2:error");
    let run = failed.run(["apply", "dual-run", "--yes"]);
    run.code(1);
    assert!(
        run.stderr.contains("injected write error")
            && run
                .stderr
                .contains("the files written before it were put back, so every file is as it was"),
        "{}",
        run.stderr
    );
    assert_eq!(
        tree(&failed.path()),
        before,
        "the first file is put back, its folder removed"
    );
    let journal = journal(&failed).unwrap();
    assert!(journal.interrupted().is_none());
    assert!(matches!(
        journal.records.last().map(|r| &r.event),
        Some(Event::Abort { .. })
    ));
    failed.run_clean(["apply", "dual-run", "--yes"]).success();
}

#[test]
fn failpoints_are_in_test_builds_only() {
    // The binary these tests run honours PULLOVER_FAILPOINT: a traced apply lists its steps.
    let p = pullover().stack("seed");
    let (_, points) = trace(&p, &["apply", "scrape", "--yes"]);
    assert!(points.iter().any(|point| point == "before-commit#1"), "{points:?}");
    // A build for use (`cargo build`, `cargo install`: no dev-dependencies) resolves pullover
    // without the `failpoints` feature, so src/state/failpoint.rs reads no environment there.
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal,build,features",
            "--depth",
            "0",
            "-f",
            "{p} [{f}]",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tree.starts_with("pullover v"), "{tree}");
    assert!(!tree.contains("failpoints"), "{tree}");
}
