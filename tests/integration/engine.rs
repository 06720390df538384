//! plan → apply → rollback on a copy of a stack: exact bytes back, journal
//! records both, patches apply with git. Hand edits (drift): hand_edits.rs.

use crate::support::{git_apply, pullover};

#[test]
fn apply_then_rollback_restores_every_file_byte_for_byte() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    p.run(["apply", "--yes"]).success();
    assert_ne!(p.hashes(), before, "apply changed nothing");
    p.run(["rollback", "--yes"]).success();
    assert_eq!(p.hashes(), before);
    let history = p.run(["--format", "json", "history"]);
    let json: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let events: Vec<String> = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["event"].as_str().unwrap(),
                r["action"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(events, ["begin apply", "commit ", "begin rollback", "commit "]);
    insta::assert_snapshot!(p.clean(&p.run(["history"]).stdout), @"
    #1   [TIME]  apply    expose     done  by tester with pullover 0.1.0
           M metrics-api/server.js  [SHA] → [SHA] mode 644
    #2   [TIME]  rollback expose     done  by tester with pullover 0.1.0
           M metrics-api/server.js  [SHA] → [SHA] mode 644
    ");
}

#[test]
fn apply_without_a_terminal_or_yes_refuses_and_writes_nothing() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    let run = p.run(["apply"]);
    run.code(1);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(p.hashes(), before);
    assert!(p.run(["history"]).stdout.contains("No history"));
}

#[test]
fn a_phase_whose_predecessor_is_not_applied_is_refused() {
    let p = pullover().stack("seed");
    let run = p.run(["apply", "dashboards", "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("apply `scrape` first"), "{}", run.stderr);
}

#[test]
fn rollback_with_nothing_applied_says_so() {
    let p = pullover().stack("seed");
    let run = p.run(["rollback", "--yes"]);
    run.success();
    assert!(run.stdout.contains("no phase is applied"), "{}", run.stdout);
}

#[test]
fn rollback_to_an_unknown_or_unapplied_phase_is_an_error() {
    let p = pullover().stack("seed");
    p.run(["apply", "--yes"]).success();
    assert!(
        p.run(["rollback", "--to", "nonsense"])
            .code(1)
            .stderr
            .contains("use one of: baseline")
    );
    assert!(
        p.run(["rollback", "--to", "remove"])
            .code(1)
            .stderr
            .contains("not applied")
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(p.hashes(), pullover().stack("seed").hashes());
}

#[test]
fn the_patch_applies_with_git_to_a_pristine_copy() {
    let p = pullover().stack("seed");
    let patch = p.path().parent().unwrap().join("scrape.patch");
    p.run(["plan", "--patch", patch.to_str().unwrap()]).success();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&patch).unwrap().permissions().mode() & 0o777, 0o600);
    let pristine = pullover().stack("seed");
    git_apply(&pristine.path(), &patch, true, "seed scrape");
    git_apply(&pristine.path(), &patch, false, "seed scrape");
    p.run(["apply", "--yes"]).success();
    assert_eq!(
        pristine.hashes(),
        p.hashes(),
        "git apply of the patch gives the same bytes as pullover apply"
    );
}

#[test]
fn status_works_on_a_fresh_stack_and_in_json() {
    let p = pullover().stack("seed");
    let run = p.run(["status"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @"
    Stack [STACK]
      [>] 0 expose      next: `pullover plan` shows it
      [ ] 1 scrape      
      [ ] 2 dual-run    
      [ ] 3 dashboards  
      [ ] 4 remove      
      [ ] 5 docs        

    Managed files: 0, none changed outside pullover since it last wrote or recorded them.
    ");
}

/// Colour follows one rule on both streams: `CLICOLOR_FORCE` colours the plan on stdout and an
/// error on stderr alike, and `NO_COLOR` turns both off (the error used to look only at
/// whether stderr was a terminal).
#[test]
fn colour_follows_one_rule_on_stdout_and_stderr() {
    let p = pullover().stack("seed");
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = p.command(args);
        cmd.env_remove("NO_COLOR");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let output = cmd.output().expect("run pullover");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    const ESC: &str = "\u{1b}[";
    let (plan, _) = run(&[("CLICOLOR_FORCE", "1")], &["plan"]);
    let (_, error) = run(&[("CLICOLOR_FORCE", "1")], &["rollback", "--to", "nonsense"]);
    assert!(plan.contains(ESC), "plan on stdout not coloured:\n{plan}");
    assert!(error.contains(ESC), "error on stderr not coloured:\n{error}");

    let off = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    let (plan, _) = run(&off, &["plan"]);
    let (_, error) = run(&off, &["rollback", "--to", "nonsense"]);
    assert!(!plan.contains(ESC) && !error.contains(ESC), "{plan}{error}");

    let (plan, _) = run(&[], &["plan"]);
    let (_, error) = run(&[], &["rollback", "--to", "nonsense"]);
    assert!(
        !plan.contains(ESC) && !error.contains(ESC),
        "not a terminal: {plan}{error}"
    );
}
