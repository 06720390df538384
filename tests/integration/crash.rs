//! A crash at any write step (SIGKILL via a failpoint) leaves every file
//! wholly old or wholly new, and the next command recovers.

use crate::support::pullover;

/// Every failpoint an apply passes (recovery's own point is exercised elsewhere).
fn apply_points() -> impl Iterator<Item = &'static &'static str> {
    pullover::state::failpoint::POINTS
        .iter()
        .filter(|p| !p.starts_with("recovery"))
}

#[test]
fn a_crash_at_every_apply_step_is_recovered() {
    let pristine = pullover().stack("seed").hashes();
    let applied = {
        let p = pullover().stack("seed");
        p.run(["apply", "--yes"]).success();
        p.hashes()
    };
    for point in apply_points() {
        let p = pullover().stack("seed");
        let crashed = p.env("PULLOVER_FAILPOINT", point);
        let run = crashed.run(["apply", "--yes"]);
        assert_eq!(
            run.signal,
            Some(9),
            "{point}: the failpoint kills the process\n{}",
            run.stderr
        );
        let hashes = crashed.hashes();
        assert!(
            hashes == pristine || hashes == applied,
            "{point}: files are neither wholly old nor wholly new"
        );
        // `status` reports an open transaction without touching anything.
        let status = crashed.run_clean(["status"]);
        status.success();
        let interrupted = ["after-begin", "before-file-write", "after-file-write", "before-commit"].contains(point);
        assert_eq!(
            status.stdout.contains("Interrupted"),
            interrupted,
            "{point}:\n{}",
            status.stdout
        );
        // The next command recovers first: an interrupted apply is undone.
        let plan = crashed.run_clean(["plan", "scrape"]);
        plan.success();
        if interrupted {
            assert!(
                plan.stderr.contains("undid the interrupted apply"),
                "{point}: {}",
                plan.stderr
            );
            assert_eq!(crashed.hashes(), pristine, "{point}");
        }
        let expected_applied = *point == "after-commit";
        let status = crashed.run_clean(["--format", "json", "status"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["phases"][0]["state"] == "applied", expected_applied, "{point}");
        assert!(json["interrupted"].is_null(), "{point}");
    }
}

#[test]
fn a_crash_during_rollback_is_finished_by_the_next_command() {
    let pristine = pullover().stack("seed").hashes();
    for point in ["after-begin", "after-file-write", "before-commit"] {
        let p = pullover().stack("seed");
        p.run(["apply", "--yes"]).success();
        let crashed = p.env("PULLOVER_FAILPOINT", point);
        let run = crashed.run(["rollback", "--yes"]);
        assert_eq!(run.signal, Some(9), "{point}");
        let status = crashed.run_clean(["status"]);
        assert!(
            status.stdout.contains("the next apply, plan or rollback finishes it"),
            "{point}: {}",
            status.stdout
        );
        crashed.run_clean(["plan", "scrape"]).success();
        assert_eq!(crashed.hashes(), pristine, "{point}: the rollback was finished");
        let status = crashed.run_clean(["--format", "json", "status"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["phases"][0]["state"], "next", "{point}");
    }
}
