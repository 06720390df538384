//! The trust boundary (issue 13). A stack folder is often a clone of someone
//! else's repository, and pullover often runs as root: whatever the clone
//! planted in `.pullover/` (symlinks, pipes, devices, an edited journal) or in
//! place of its Compose file must be refused with a clear error, quickly, in
//! little memory, and with not one byte changed inside the stack (its state
//! folder included) or outside it (a sentinel folder beside it).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{Pullover, pullover};

/// A command on the seed stack takes ~50 ms and ~20 MB; a refusal must not
/// take much more, whatever was planted.
const TIME_LIMIT: Duration = Duration::from_secs(10);
const MEMORY_LIMIT_KB: i64 = 256 * 1024;

/// Every entry under `root`, symlinks not followed, `.pullover` included:
/// a file's hash and mode, a link's target, a folder's mode, a special file's
/// kind (never opened: a pipe would block).
pub(crate) fn everything(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                pending.push(path.clone());
                format!("dir {mode:o}")
            } else if meta.is_file() {
                format!("file {} {mode:o}", hash_file(&path))
            } else {
                format!("special {:o} rdev {}", meta.mode(), meta.rdev())
            };
            out.insert(rel, what);
        }
    }
    out
}

/// A file's hash read 1 MiB at a time: this process stays small, so the peak
/// memory measured of a child (which a fork starts with the parent's pages)
/// is the child's own.
fn hash_file(path: &Path) -> String {
    use std::io::Read;
    let mut file = fs::File::open(path).unwrap();
    let mut chunk = vec![0u8; 1024 * 1024];
    let mut hashes = String::new();
    loop {
        let n = file.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        hashes.push_str(&pullover::changeset::sha256_hex(&chunk[..n]));
    }
    pullover::changeset::sha256_hex(hashes.as_bytes())
}

/// The seed stack and, beside it, a sentinel folder with a file a planted
/// symlink can aim at.
struct World {
    p: Pullover,
    outside: PathBuf,
}

const PRECIOUS: &str = "root:precious-contents-never-printed\n";

fn world() -> World {
    world_from(pullover().stack("seed"))
}

fn world_from(p: Pullover) -> World {
    let outside = p.path().parent().unwrap().join("outside");
    fs::create_dir_all(outside.join("folder")).unwrap();
    fs::write(outside.join("precious"), PRECIOUS).unwrap();
    World { p, outside }
}

impl World {
    fn state(&self, rel: &str) -> PathBuf {
        self.p.path().join(".pullover").join(rel)
    }

    fn mkdir_state(&self) {
        fs::create_dir_all(self.p.path().join(".pullover")).unwrap();
    }

    /// Runs each command; each must exit 1 within the limits, say `expected`
    /// and never print the sentinel's bytes; then nothing changed anywhere.
    #[track_caller]
    fn refuses(&self, commands: &[&[&str]], expected: &str) {
        let stack_before = everything(&self.p.path());
        let outside_before = everything(&self.outside);
        for args in commands {
            let answer = run_bounded(&self.p, args);
            let what = format!("`pullover {}`", args.join(" "));
            assert_eq!(
                answer.code,
                Some(1),
                "{what} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
                answer.code,
                answer.stdout,
                answer.stderr
            );
            assert!(answer.stderr.starts_with("error: "), "{what}:\n{}", answer.stderr);
            assert!(
                answer.stderr.contains(expected),
                "{what}: expected `{expected}` in\n{}",
                answer.stderr
            );
            assert!(
                !answer.stderr.contains("precious-contents") && !answer.stdout.contains("precious-contents"),
                "{what} printed the sentinel's bytes"
            );
            assert_eq!(everything(&self.p.path()), stack_before, "{what} changed the stack");
            assert_eq!(
                everything(&self.outside),
                outside_before,
                "{what} changed the sentinel folder"
            );
        }
    }
}

struct Answer {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command, killing it past [`TIME_LIMIT`], and checks its peak memory
/// (`wait4`'s max RSS) stays under [`MEMORY_LIMIT_KB`].
// The child is reaped by wait4, not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_bounded(p: &Pullover, args: &[&str]) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let child = p
        .command(args)
        .stdout(Stdio::from(fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(fs::File::create(&err).unwrap()))
        .spawn()
        .expect("run pullover");
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let (status, rusage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child, with valid pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
        if rc == pid {
            break (status, rusage);
        }
        if started.elapsed() > TIME_LIMIT {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("`pullover {}` ran past {TIME_LIMIT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        rusage.ru_maxrss < MEMORY_LIMIT_KB,
        "`pullover {}` peaked at {} MB",
        args.join(" "),
        rusage.ru_maxrss / 1024
    );
    Answer {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: String::from_utf8_lossy(&fs::read(&out).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&fs::read(&err).unwrap()).into_owned(),
    }
}

/// Every command that reads or writes `.pullover/`.
const STATE_COMMANDS: &[&[&str]] = &[
    &["status"],
    &["plan"],
    &["apply", "--yes"],
    &["rollback", "--yes"],
    &["history"],
];

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

// 1. The lock.

#[test]
fn a_lock_symlinked_to_a_file_outside_is_refused_never_printed_or_emptied() {
    let w = world();
    w.mkdir_state();
    symlink(w.outside.join("precious"), w.state("lock")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/lock is a symlink");
    assert_eq!(fs::read_to_string(w.outside.join("precious")).unwrap(), PRECIOUS);
}

#[test]
fn a_dangling_lock_symlink_creates_nothing_where_it_points() {
    let w = world();
    w.mkdir_state();
    symlink(w.outside.join("created-by-pullover"), w.state("lock")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/lock is a symlink");
    assert!(!w.outside.join("created-by-pullover").exists());
}

#[test]
fn a_lock_that_is_a_named_pipe_is_refused_at_once() {
    let w = world();
    w.mkdir_state();
    mkfifo(&w.state("lock"));
    w.refuses(STATE_COMMANDS, ".pullover/lock is a named pipe");
}

#[test]
fn a_lock_aimed_at_dev_zero_is_refused_without_reading_it() {
    let w = world();
    w.mkdir_state();
    symlink("/dev/zero", w.state("lock")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/lock is a symlink");
}

#[test]
fn a_lock_that_is_a_character_device_is_refused() {
    let w = world();
    w.mkdir_state();
    let made = std::process::Command::new("mknod")
        .arg(w.state("lock"))
        .args(["c", "1", "5"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    if !made.success() {
        eprintln!("SKIPPED: mknod needs root (CAP_MKNOD)");
        return;
    }
    w.refuses(STATE_COMMANDS, ".pullover/lock is a character device");
}

// 2. Everything else under .pullover/.

#[test]
fn a_state_folder_symlinked_outside_receives_nothing() {
    let w = world();
    symlink(w.outside.join("folder"), w.p.path().join(".pullover")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover is a symlink");
}

#[test]
fn a_state_folder_that_is_a_file_is_refused() {
    let w = world();
    fs::write(w.p.path().join(".pullover"), "not a folder\n").unwrap();
    w.refuses(STATE_COMMANDS, ".pullover is a regular file");
}

#[test]
fn a_journal_symlinked_outside_is_neither_read_nor_appended_to() {
    let w = world();
    w.mkdir_state();
    symlink(w.outside.join("precious"), w.state("journal.jsonl")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/journal.jsonl is a symlink");
}

#[test]
fn an_objects_folder_symlinked_outside_receives_no_snapshot() {
    let w = world();
    w.mkdir_state();
    symlink(w.outside.join("folder"), w.state("objects")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/objects is a symlink");
}

#[test]
fn a_journal_head_symlinked_outside_is_refused() {
    let w = world();
    w.mkdir_state();
    symlink(w.outside.join("precious"), w.state("journal.head")).unwrap();
    w.refuses(STATE_COMMANDS, ".pullover/journal.head is a symlink");
}

#[test]
fn a_snapshot_folder_swapped_for_a_symlink_stops_the_rollback() {
    let p = pullover().stack("seed");
    p.run(["apply", "--yes"]).success();
    let w = world_from(p);
    let objects = w.state("objects");
    let prefix = fs::read_dir(&objects).unwrap().flatten().next().unwrap().path();
    let moved = w.outside.join("folder").join("moved");
    fs::rename(&prefix, &moved).unwrap();
    symlink(&moved, &prefix).unwrap();
    w.refuses(&[&["rollback", "--yes"]], "is a symlink");
}

// 3. Not a regular file; reads capped.

#[test]
fn a_journal_that_is_a_pipe_a_device_or_a_folder_is_refused() {
    for (what, expected) in [
        ("pipe", ".pullover/journal.jsonl is a named pipe"),
        ("dev-zero", ".pullover/journal.jsonl is a symlink"),
        ("folder", ".pullover/journal.jsonl is a folder"),
    ] {
        let w = world();
        w.mkdir_state();
        match what {
            "pipe" => mkfifo(&w.state("journal.jsonl")),
            "dev-zero" => symlink("/dev/zero", w.state("journal.jsonl")).unwrap(),
            _ => fs::create_dir(w.state("journal.jsonl")).unwrap(),
        }
        w.refuses(STATE_COMMANDS, expected);
    }
}

#[test]
fn a_huge_lock_file_is_not_read_whole_nor_printed() {
    let w = world();
    w.mkdir_state();
    // 64 MB of one line: the lock's holder line is read up to 4 KiB.
    let file = fs::File::create(w.state("lock")).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap();
    drop(file);
    let answer = run_bounded(&w.p, &["status"]);
    assert_eq!(answer.code, Some(0), "{}", answer.stderr);
    assert!(!answer.stdout.contains('\0') && !answer.stderr.contains('\0'));
}

#[test]
fn a_lock_file_with_foreign_text_is_never_echoed() {
    let w = world();
    w.mkdir_state();
    fs::write(w.state("lock"), "\x1b]0;owned\x07 secret text from the clone\n").unwrap();
    let answer = run_bounded(&w.p, &["plan"]);
    assert_eq!(answer.code, Some(0), "{}", answer.stderr);
    assert!(!answer.stderr.contains("secret text"), "{}", answer.stderr);
    assert!(!answer.stderr.contains('\x1b'), "{}", answer.stderr);
    assert!(answer.stderr.contains("holder unknown"), "{}", answer.stderr);
}

#[test]
fn a_failed_apply_leaves_no_state_folder_or_lock_behind() {
    let w = world();
    let before = everything(&w.p.path());
    // No terminal and no --yes: apply refuses after planning.
    let answer = run_bounded(&w.p, &["apply"]);
    assert_eq!(answer.code, Some(1), "{}", answer.stderr);
    assert_eq!(everything(&w.p.path()), before);
    assert!(!w.p.path().join(".pullover").exists());
}

// 4. The journal chain.

/// The seed with `scrape` and `dual-run` applied: 4 entries.
fn applied_twice() -> World {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    world_from(p)
}

fn journal_lines(w: &World) -> Vec<String> {
    fs::read_to_string(w.state("journal.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_journal(w: &World, lines: &[String]) {
    fs::write(
        w.state("journal.jsonl"),
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn a_journal_missing_a_line_is_refused_naming_the_entry_after_it() {
    let w = applied_twice();
    let mut lines = journal_lines(&w);
    assert_eq!(lines.len(), 4);
    // The commit of `scrape` goes: dual-run's begin no longer follows its hash.
    lines.remove(1);
    write_journal(&w, &lines);
    w.refuses(STATE_COMMANDS, "does not verify at line 2 (entry #3)");
}

#[test]
fn a_journal_cut_short_is_refused_not_read_as_less() {
    let w = applied_twice();
    let lines = journal_lines(&w);
    // The last commit removed: it would read as an interrupted dual-run apply and undo it.
    write_journal(&w, &lines[..3]);
    w.refuses(STATE_COMMANDS, "entries were removed from its end");
    // Truncated mid-line, and emptied: never "nothing applied".
    fs::write(w.state("journal.jsonl"), &lines[0][..lines[0].len() / 2]).unwrap();
    w.refuses(STATE_COMMANDS, "ends at entry #0");
    fs::write(w.state("journal.jsonl"), "").unwrap();
    w.refuses(STATE_COMMANDS, "ends at entry #0");
}

#[test]
fn an_edited_journal_entry_is_refused() {
    let w = applied_twice();
    let mut lines = journal_lines(&w);
    lines[2] = lines[2].replace("\"tester\"", "\"someone-else\"");
    write_journal(&w, &lines);
    w.refuses(STATE_COMMANDS, "does not verify at line 4 (entry #4)");
}

/// A journal as the previous pullover wrote it: format 1, no `prev`, no head.
fn as_legacy(line: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
    let record = value.as_object_mut().unwrap();
    record.insert("v".into(), 1.into());
    record.remove("prev");
    serde_json::to_string(&value).unwrap()
}

#[test]
fn a_journal_of_the_previous_format_is_read_and_then_chained() {
    let w = applied_twice();
    let legacy: Vec<String> = journal_lines(&w).iter().map(|l| as_legacy(l)).collect();
    write_journal(&w, &legacy);
    fs::remove_file(w.state("journal.head")).unwrap();
    let status = w.p.run(["status"]);
    status.success();
    assert!(status.stdout.contains("dual-run"), "{}", status.stdout);
    w.p.run(["rollback", "--yes"]).success();
    let lines = journal_lines(&w);
    assert_eq!(lines.len(), 6);
    assert!(lines[..4].iter().all(|l| !l.contains("\"prev\"")));
    assert!(
        lines[4..]
            .iter()
            .all(|l| l.contains("\"prev\"") && l.contains("\"v\":2"))
    );
    assert!(w.state("journal.head").is_file());
    w.p.run(["status"]).success();

    // A legacy line removed from the prefix still tells an impossible story.
    let w = applied_twice();
    let mut legacy: Vec<String> = journal_lines(&w).iter().map(|l| as_legacy(l)).collect();
    fs::remove_file(w.state("journal.head")).unwrap();
    legacy.remove(1);
    write_journal(&w, &legacy);
    w.refuses(STATE_COMMANDS, "(entry #3)");
}

// 5. A broken Compose path is an error, not "nothing to migrate".

#[test]
fn a_compose_file_that_is_no_file_in_the_stack_is_an_error() {
    const COMPOSE: &str = "docker-compose.yml";
    type Setup = Box<dyn Fn(&World)>;
    let cases: Vec<(&str, Setup, &str)> = vec![
        (
            "a folder",
            Box::new(|w: &World| fs::create_dir(w.p.path().join(COMPOSE)).unwrap()),
            "the Compose file docker-compose.yml is a folder",
        ),
        (
            "a named pipe",
            Box::new(|w: &World| mkfifo(&w.p.path().join(COMPOSE))),
            "the Compose file docker-compose.yml is a named pipe",
        ),
        (
            "a dangling symlink",
            Box::new(|w: &World| symlink("gone.yml", w.p.path().join(COMPOSE)).unwrap()),
            "which does not exist",
        ),
        (
            "a symlink out of the stack",
            Box::new(|w: &World| symlink(w.outside.join("precious"), w.p.path().join(COMPOSE)).unwrap()),
            "outside the stack folder",
        ),
    ];
    for (what, setup, expected) in cases {
        let w = world();
        fs::remove_file(w.p.path().join(COMPOSE)).unwrap();
        setup(&w);
        eprintln!("case: docker-compose.yml is {what}");
        w.refuses(
            &[
                &["analyze"],
                &["plan"],
                &["apply", "--yes"],
                &["apply", "--yes"],
                &["init", "--yes"],
            ],
            expected,
        );
        assert!(!w.p.path().join(".pullover").exists(), "{what}: an apply was journaled");
    }
}

// 9. Smaller holes.

#[test]
fn a_patch_file_is_always_fresh_and_0600_and_never_written_through_a_symlink() {
    let w = world();
    let patch = w.outside.join("phase.patch");
    fs::write(&patch, "old\n").unwrap();
    fs::set_permissions(&patch, fs::Permissions::from_mode(0o644)).unwrap();
    w.p.run(["plan", "--patch", patch.to_str().unwrap()]).success();
    assert_eq!(fs::metadata(&patch).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(fs::read_to_string(&patch).unwrap().starts_with("diff --git"));

    // Through a symlink (at a managed file, or anywhere): refused.
    let link = w.outside.join("link.patch");
    symlink(w.p.path().join("prometheus/prometheus.yml"), &link).unwrap();
    w.refuses(&[&["plan", "--patch", link.to_str().unwrap()]], "it is a symlink");
    // Straight at a file the plan changes: refused too.
    let managed = w.p.path().join("metrics-api/server.js");
    w.refuses(
        &[&["plan", "--patch", managed.to_str().unwrap()]],
        "it is metrics-api/server.js, a file this plan changes",
    );
}

#[test]
fn control_characters_in_file_names_are_quoted_as_git_quotes_them() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let name = "evil\n+++ forged \"q\"\t.json";
    fs::copy(
        p.file("grafana/dashboards/metrics-api.json"),
        p.path().join("grafana/dashboards").join(name),
    )
    .unwrap();
    let patch = p.path().parent().unwrap().join("dashboards.patch");
    let plan = p.run(["plan", "dashboards", "--patch", patch.to_str().unwrap()]);
    plan.success();
    let quoted = r#""a/grafana/dashboards/evil\n+++ forged \"q\"\t.json""#;
    assert!(plan.stdout.contains(&format!("--- {quoted}\n")), "{}", plan.stdout);
    assert!(!plan.stdout.contains("evil\n"), "a raw newline reached the terminal");
    assert!(!plan.stdout.lines().any(|l| l.starts_with("+++ forged")));
    let text = fs::read_to_string(&patch).unwrap();
    assert!(text.contains(&format!("diff --git {quoted} ")), "{text}");
    // git reads the quoted name back: the patch applies to the stack.
    crate::support::git_apply(&p.path(), &patch, true, "the patch with a quoted name");
}

#[test]
fn init_force_over_a_symlinked_pullover_yaml_is_refused() {
    let w = world();
    fs::write(w.outside.join("shared.yaml"), "apps: []\n").unwrap();
    symlink(w.outside.join("shared.yaml"), w.p.path().join("pullover.yaml")).unwrap();
    w.refuses(&[&["init", "--force", "--yes"]], "pullover.yaml in");
    let answer = run_bounded(&w.p, &["init", "--force", "--yes"]);
    assert!(answer.stderr.contains("is a symlink"), "{}", answer.stderr);
}

#[test]
fn a_folder_symlink_loop_is_visited_once() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let files = |p: &Pullover| {
        let run = p.run(["plan", "dashboards"]);
        run.success();
        run.stdout.lines().filter(|l| l.starts_with("diff --git")).count()
    };
    let without = files(&p);
    symlink(".", p.path().join("grafana/dashboards/loop")).unwrap();
    symlink("..", p.path().join("grafana/dashboards/up")).unwrap();
    let started = Instant::now();
    assert_eq!(files(&p), without);
    assert!(started.elapsed() < TIME_LIMIT);
}

#[test]
fn an_app_host_that_is_not_a_host_name_is_refused() {
    let w = world();
    for bad in ["../../etc:80", "a b:80", "x\"y:80", "host/path:80"] {
        w.refuses(&[&["--app", bad, "plan"]], "is not a host name");
    }
    fs::write(
        w.p.path().join("pullover.yaml"),
        "apps:\n  - service: \"../../etc\"\n    port: 80\n",
    )
    .unwrap();
    w.refuses(&[&["plan"], &["apply", "--yes"]], "pullover.yaml: apps: service");
    fs::remove_file(w.p.path().join("pullover.yaml")).unwrap();
    w.p.run(["--app", "metrics-api:8080", "plan"]).success();
}

fn object_count(p: &Pullover) -> usize {
    let objects = p.path().join(".pullover/objects");
    let Ok(prefixes) = fs::read_dir(objects) else { return 0 };
    prefixes
        .flatten()
        .map(|d| fs::read_dir(d.path()).map_or(0, |files| files.count()))
        .sum()
}

#[test]
fn snapshots_no_journal_entry_uses_are_collected() {
    // Killed after snapshotting, before the journal's begin: orphans.
    let p = pullover().stack("seed").env("PULLOVER_FAILPOINT", "before-begin");
    let killed = p.run(["apply", "scrape", "--yes"]);
    assert!(killed.signal.is_some(), "{}", killed.stderr);
    assert!(object_count(&p) >= 2, "the killed apply left its snapshots");
    assert!(!p.path().join(".pullover/journal.jsonl").exists());
    let again = p.run_clean(["apply", "scrape", "--yes"]);
    again.success();
    assert!(
        again
            .stderr
            .contains("snapshots from .pullover/objects that no journal entry uses"),
        "{}",
        again.stderr
    );
    // What is left is exactly what the journal names: scrape's before and after.
    assert_eq!(object_count(&p), 2);
    // An apply undone by recovery leaves its snapshots to be collected too,
    // and what is kept still rolls every phase back.
    let crashed = p.fork().env("PULLOVER_FAILPOINT", "after-begin");
    assert!(crashed.run(["apply", "dual-run", "--yes"]).signal.is_some());
    assert!(object_count(&crashed) > 2);
    let recovered = crashed.run_clean(["rollback", "--yes"]);
    recovered.success();
    assert!(
        recovered.stderr.contains("undid the interrupted apply"),
        "{}",
        recovered.stderr
    );
    assert!(
        recovered.stderr.contains("no journal entry uses"),
        "{}",
        recovered.stderr
    );
    assert_eq!(crashed.hashes(), pullover().stack("seed").hashes());
}

#[test]
fn an_anchor_in_prometheus_yml_gets_advice_promtool_accepts() {
    let p = pullover().stack("seed");
    let config = p.read("prometheus/prometheus.yml").replace(
        "    honor_labels: true\n    static_configs:\n      - targets: ['pushgateway:9091']\n",
        "    honor_labels: true\n    scrape_timeout: &timeout 10s\n    static_configs:\n      - targets: ['pushgateway:9091']\n\n  - job_name: node\n    scrape_timeout: *timeout\n    static_configs:\n      - targets: ['node:9100']\n",
    );
    assert!(config.contains("*timeout"));
    p.write("prometheus/prometheus.yml", &config);
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let run = p.run(["plan", "remove"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("write the value of `&timeout` out where `*timeout` is"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("move `&timeout` to an `x-` block"),
        "{}",
        run.stderr
    );
}

// 6. Files mounted from outside the stack are reported, not skipped silently.

#[test]
fn mounts_from_outside_the_stack_are_reported_naming_the_mount() {
    let w = world();
    let compose =
        w.p.read("docker-compose.yml")
            .replace(
                "      - ./prometheus:/etc/prometheus:ro\n",
                "      - ./prometheus:/etc/prometheus:ro\n      - /srv/shared-rules:/etc/prometheus/shared:ro\n",
            )
            .replace(
                "      - ./grafana/dashboards:/var/lib/grafana/dashboards:ro\n",
                "      - /etc:/var/lib/grafana/dashboards:ro\n",
            );
    w.p.write("docker-compose.yml", &compose);
    let config = w.p.read("prometheus/prometheus.yml").replace(
        "  - \"rules/*.yml\"\n",
        "  - \"rules/*.yml\"\n  - /etc/prometheus/shared/*.yml\n  - ../../outside/*.yml\n",
    );
    w.p.write("prometheus/prometheus.yml", &config);
    w.p.write(
        "pullover.yaml",
        "apps:\n  - service: metrics-api\n    port: 8080\n    code: [/opt/metrics-api]\n",
    );
    let stack_before = everything(&w.p.path());
    for args in [&["analyze"][..], &["plan", "scrape"], &["--format", "json", "analyze"]] {
        let run = run_bounded(&w.p, args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        for expected in [
            "service prometheus mounts `/srv/shared-rules` at /etc/prometheus/shared (`rule_files: /etc/prometheus/shared/*.yml`)",
            "service grafana mounts `/etc` at /var/lib/grafana/dashboards",
            "`rule_files: ../../outside/*.yml` in prometheus/prometheus.yml points outside the stack folder",
            "`code: /opt/metrics-api` of app metrics-api in pullover.yaml is outside the stack folder",
        ] {
            assert!(
                run.stdout.contains(expected),
                "`{}` does not say {expected}:\n{}",
                args.join(" "),
                run.stdout
            );
        }
    }
    let analyze = w.p.run(["analyze"]);
    assert!(
        analyze.stdout.contains("--> docker-compose.yml:40:9"),
        "{}",
        analyze.stdout
    );
    assert_eq!(everything(&w.p.path()), stack_before);
}

// 8. Inputs that cost too much are refused at once, per kind of file.

#[test]
fn oversized_and_deeply_nested_files_are_refused_quickly_in_little_memory() {
    let long_list = |n: usize| (0..n).map(|i| format!("      - \"{i}:{i}\"\n")).collect::<String>();
    let deep_yaml = format!("x-deep: {}1{}\n", "[".repeat(200_000), "]".repeat(200_000));
    let deep_json = format!("{{\"deep\": {}1{}}}", "[".repeat(200_000), "]".repeat(200_000));
    type Break = Box<dyn Fn(&Pullover)>;
    let cases: Vec<(&str, Break, &str)> = vec![
        (
            "a Compose file of 2 MB with one long list",
            Box::new(move |p: &Pullover| {
                let compose = p.read("docker-compose.yml");
                p.write(
                    "docker-compose.yml",
                    &compose.replacen("      - \"9091:9091\"\n", &long_list(100_000), 1),
                )
            }),
            "larger than the 1.0 MiB pullover reads as a Compose file",
        ),
        (
            "a Compose file nested 200,000 deep",
            Box::new({
                let deep = deep_yaml.clone();
                move |p: &Pullover| p.write("docker-compose.yml", &(p.read("docker-compose.yml") + &deep))
            }),
            "docker-compose.yml nests deeper than 100 levels",
        ),
        (
            "a prometheus.yml nested 200,000 deep",
            Box::new({
                let deep = deep_yaml.clone();
                move |p: &Pullover| {
                    let config = p
                        .read("prometheus/prometheus.yml")
                        .replace("global:", &format!("{}global:", deep.replace("x-deep", "deep")));
                    p.write("prometheus/prometheus.yml", &config)
                }
            }),
            "prometheus/prometheus.yml nests deeper than 100 levels",
        ),
        (
            "a dashboard nested 200,000 deep",
            Box::new(move |p: &Pullover| p.write("grafana/dashboards/deep.json", &deep_json)),
            "grafana/dashboards/deep.json nests deeper than 100 levels",
        ),
        (
            "a pullover.yaml of 2 MB",
            Box::new(|p: &Pullover| p.write("pullover.yaml", &format!("# {}\n", "x".repeat(2 * 1024 * 1024)))),
            "larger than the 1.0 MiB pullover reads as pullover.yaml",
        ),
    ];
    for (what, setup, expected) in cases {
        let w = world();
        setup(&w.p);
        eprintln!("case: {what}");
        let started = Instant::now();
        w.refuses(&[&["analyze"], &["plan"], &["apply", "--yes"]], expected);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_journal_larger_than_its_cap_is_refused_without_reading_it() {
    let w = world();
    w.mkdir_state();
    // Sparse: 300 MB that cost no disk; the cap is 256 MiB.
    let file = fs::File::create(w.state("journal.jsonl")).unwrap();
    file.set_len(300 * 1024 * 1024).unwrap();
    drop(file);
    w.refuses(STATE_COMMANDS, "is larger than the 256 MiB pullover reads from it");
}
