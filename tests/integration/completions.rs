//! `completions SHELL` and the help texts: generated from the one clap
//! definition, so they cannot drift from what the binary parses.

use std::process::Command;

use crate::support::pullover;

#[test]
fn the_bash_completion_script_parses_and_knows_every_command() {
    let p = pullover();
    let run = p.run(["completions", "bash"]);
    run.success();
    for command in ["init", "status", "plan", "apply", "rollback", "history", "completions"] {
        assert!(run.stdout.contains(command), "bash completion lacks {command}");
    }
    let script = p.path().parent().unwrap().join("pullover.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let check = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n rejects the script:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn every_shell_gets_a_script() {
    let p = pullover();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = p.run(["completions", shell]);
        run.success();
        assert!(run.stdout.contains("pullover"), "{shell}: {}", run.stdout);
    }
    assert_eq!(
        p.run(["completions", "tcsh"]).code,
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn every_command_help_has_an_example() {
    let p = pullover();
    for command in ["init", "status", "plan", "apply", "rollback", "history", "completions"] {
        let run = p.run([command, "--help"]);
        run.success();
        assert!(
            run.stdout.contains("Example") && run.stdout.contains(&format!("pullover {command}"))
                || run.stdout.contains(&format!("pullover --stack stacks/seed {command}")),
            "`pullover {command} --help` shows no example:\n{}",
            run.stdout
        );
    }
    let top = p.run(["--help"]);
    assert!(
        top.stdout.contains("pullover --stack stacks/seed init"),
        "{}",
        top.stdout
    );
}
