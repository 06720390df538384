//! The permission cases as a user who is not root meets them (issue 13). CI runs the suite as
//! root, for whom every folder is writable, so the read-only cases of `bad_corpus` show only
//! what root sees. Here pullover runs as an unprivileged user (`setpriv` to `nobody`, who is
//! given the stack) whenever the suite runs as root, and as the suite's own user otherwise.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::{Pullover, Run, pullover};
use crate::trust::everything;

/// `nobody` on Debian.
const UNPRIVILEGED: u32 = 65534;

fn running_as_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The seed stack, owned by the user pullover will run as.
fn stack_of_a_user() -> Pullover {
    let p = pullover().stack("seed");
    if running_as_root() {
        // The temporary folder holding the stack is root's and private: let the user through.
        let holder = p.path().parent().unwrap().to_path_buf();
        fs::set_permissions(&holder, fs::Permissions::from_mode(0o755)).unwrap();
        give_to_user(&p.path());
        // The user may not be able to reach the build folder (a clone under /root): a link to
        // the binary beside the stack, else a copy.
        let binary = Path::new(env!("CARGO_BIN_EXE_pullover"));
        let reachable = holder.join("pullover");
        fs::hard_link(binary, &reachable)
            .or_else(|_| fs::copy(binary, &reachable).map(|_| ()))
            .unwrap();
    }
    p
}

/// The binary the user runs: beside the stack when the suite runs as root.
fn binary_for_user(p: &Pullover) -> std::path::PathBuf {
    p.path().parent().unwrap().join("pullover")
}

fn give_to_user(path: &Path) {
    std::os::unix::fs::lchown(path, Some(UNPRIVILEGED), Some(UNPRIVILEGED)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            give_to_user(&entry.unwrap().path());
        }
    }
}

/// `pullover --stack STACK ARGS` as that user.
fn run_as_user(p: &Pullover, args: &[&str]) -> Run {
    if !running_as_root() {
        return p.run(args);
    }
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={UNPRIVILEGED}"))
        .arg(format!("--regid={UNPRIVILEGED}"))
        .arg("--clear-groups")
        .arg(binary_for_user(p))
        .arg("--stack")
        .arg(p.path())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .current_dir("/")
        .stdin(std::process::Stdio::null());
    // setpriv is util-linux's, on every Debian: a missing one fails the test, never skips it.
    let output = cmd.output().expect("run pullover through setpriv (util-linux)");
    Run {
        code: output.status.code(),
        signal: None,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
fn succeeds(p: &Pullover, args: &[&str]) {
    let run = run_as_user(p, args);
    assert_eq!(
        run.code,
        Some(0),
        "`pullover {}`:\n{}{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
}

fn chmod(p: &Pullover, rel: &str, mode: u32) {
    fs::set_permissions(p.file(rel), fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_dashboards_folder_the_user_cannot_write_stops_apply_before_the_journal_or_a_snapshot() {
    let p = stack_of_a_user();
    for phase in ["expose", "scrape", "dual-run"] {
        succeeds(&p, &["apply", phase, "--yes"]);
    }
    chmod(&p, "grafana/dashboards", 0o555);
    let before = everything(&p.path());
    let run = run_as_user(&p, &["apply", "dashboards", "--yes"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "error: cannot write grafana/dashboards/metrics-api.json: its folder grafana/dashboards is not writable for user tester; nothing was written"
        ),
        "{}",
        run.stderr
    );
    // Not one byte: the rule file the phase also rewrites, the journal, the snapshots.
    assert_eq!(everything(&p.path()), before);
    chmod(&p, "grafana/dashboards", 0o755);
    succeeds(&p, &["apply", "dashboards", "--yes"]);
}

#[test]
fn a_stack_folder_the_user_cannot_write_gets_no_state_folder_and_a_clear_refusal() {
    let p = stack_of_a_user();
    chmod(&p, ".", 0o555);
    let before = everything(&p.path());
    // Reading is enough to review: analyze, plan and status work.
    for args in [&["analyze"][..], &["plan", "scrape"], &["status"]] {
        let run = run_as_user(&p, args);
        assert!(
            matches!(run.code, Some(0 | 2)),
            "`{}`: {}{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
    }
    let run = run_as_user(&p, &["apply", "scrape", "--yes"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error: cannot write .pullover: permission denied for user tester; nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(everything(&p.path()), before);
    // So that a suite run by a user can remove its temporary folder.
    chmod(&p, ".", 0o755);
}

/// A read-only file in a folder the user may write is replaced, as git checkout and editors
/// that write by rename do; it keeps its mode, and rollback gives back its bytes and mode.
#[test]
fn a_read_only_prometheus_yml_in_a_writable_folder_is_replaced_and_keeps_its_mode() {
    let p = stack_of_a_user();
    chmod(&p, "prometheus/prometheus.yml", 0o444);
    let before = everything(&p.path());
    succeeds(&p, &["apply", "scrape", "--yes"]);
    assert!(p.read("prometheus/prometheus.yml").contains("job_name: metrics-api"));
    let mode = fs::metadata(p.file("prometheus/prometheus.yml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
    succeeds(&p, &["rollback", "--yes"]);
    let after: std::collections::BTreeMap<_, _> = everything(&p.path())
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".pullover"))
        .collect();
    assert_eq!(after, before);
}
