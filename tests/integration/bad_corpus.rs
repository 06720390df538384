//! The bad-input corpus (`tests/bad/`): every case is a broken, odd or hostile
//! stack, and for every one pullover must answer with a clear error or a
//! reported finding — never a panic, a hang or a half-written file.
//!
//! A case puts one file into a copy of `stacks/seed`: a hand-written file from
//! `tests/bad/<group>/`, a query from `tests/bad/promql/queries.txt`, a
//! mutation of one of the seed's own files (truncated, NUL bytes, not UTF-8,
//! UTF-16, 50 MB, nested 100,000 deep…), or a file-system shape (symlinks in
//! and out of the stack, read-only files and folders, a folder or a pipe where
//! a file belongs). Then it runs what an operator would — `analyze`, `plan` of
//! every phase, `apply` and, when that worked, `rollback` — and checks:
//! - every command ends within the timeout with 0 or 1 (the exit codes in README.md), no panic;
//! - an error starts `error:` and names a file of the stack, a flag or a key;
//! - `analyze` and `plan` change nothing; a failed `apply` changes nothing, not
//!   even the journal; a successful one writes only files that parse again, and
//!   its rollback gives back the tree exactly (bytes, modes, symlinks);
//! - writes never leave the stack root.
//!
//! What each case answered is one line of a snapshot per group, so a change in
//! any answer shows up in review.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::tree::{Entry, Tree, differing, temp_files, tree};
use crate::support::{Pullover, pullover, repo_root};

/// A generous bound for one command on the seed stack (they take ~50 ms); a
/// command still running after it is hanging.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Where each hand-written group's files go in the seed stack.
const GROUPS: &[(&str, &str, Base)] = &[
    ("prometheus-yml", "prometheus/prometheus.yml", Base::Fresh),
    ("compose", "docker-compose.yml", Base::Fresh),
    ("settings", "pullover.yaml", Base::Fresh),
    (
        "provisioning",
        "grafana/provisioning/dashboards/dashboards.yml",
        Base::Fresh,
    ),
    ("rules", "prometheus/rules/pushgateway.yml", Base::DualRun),
    ("dashboard", "grafana/dashboards/metrics-api.json", Base::DualRun),
];

/// The dashboard whose first panel query the PromQL cases replace.
const QUERY_DASHBOARD: &str = "grafana/dashboards/metrics-api.json";

/// Which state of the seed a case starts from, and so which commands it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Nothing applied: `analyze`, `plan` of every phase, `apply scrape`.
    Fresh,
    /// `scrape` and `dual-run` applied: `analyze`, `plan dashboards`,
    /// `apply dashboards` (the phase that reads dashboards and rule files).
    DualRun,
}

impl Base {
    fn commands(self) -> Vec<Vec<&'static str>> {
        let plans: &[&str] = match self {
            Base::Fresh => &["scrape", "dual-run", "dashboards", "remove", "docs"],
            Base::DualRun => &["dashboards"],
        };
        let mut commands = vec![vec!["analyze"]];
        commands.extend(plans.iter().map(|phase| vec!["plan", *phase]));
        commands
    }

    fn apply(self) -> Vec<&'static str> {
        match self {
            Base::Fresh => vec!["apply", "scrape", "--yes"],
            Base::DualRun => vec!["apply", "dashboards", "--yes"],
        }
    }

    /// The findings the unbroken seed reports for the same commands: a case shows only
    /// what it adds.
    fn usual_findings(self) -> &'static std::collections::BTreeSet<String> {
        static FRESH: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
        static DUAL_RUN: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
        let cell = match self {
            Base::Fresh => &FRESH,
            Base::DualRun => &DUAL_RUN,
        };
        cell.get_or_init(|| {
            let p = self.stack();
            let mut commands = self.commands();
            commands.push(self.apply());
            commands
                .iter()
                .flat_map(|args| {
                    let answer = run(&p, args);
                    let mut codes = finding_codes(&answer.stdout);
                    codes.extend(finding_codes(&answer.stderr));
                    codes
                })
                .collect()
        })
    }

    fn stack(self) -> Pullover {
        match self {
            Base::Fresh => pullover().stack("seed"),
            Base::DualRun => {
                static PREPARED: OnceLock<Pullover> = OnceLock::new();
                PREPARED
                    .get_or_init(|| {
                        let p = pullover().stack("seed");
                        p.run(["apply", "scrape", "--yes"]).success();
                        p.run(["apply", "dual-run", "--yes"]).success();
                        p
                    })
                    .fork()
            }
        }
    }
}

/// One case: a name for the snapshot, the base, and how it breaks the stack.
struct Case {
    name: String,
    base: Base,
    setup: Box<dyn Fn(&Path)>,
}

impl Case {
    fn new(name: impl Into<String>, base: Base, setup: impl Fn(&Path) + 'static) -> Case {
        Case {
            name: name.into(),
            base,
            setup: Box::new(setup),
        }
    }

    /// Replaces (or creates) `rel` with `bytes`.
    fn file(name: impl Into<String>, base: Base, rel: &'static str, bytes: Vec<u8>) -> Case {
        Case::new(name, base, move |stack| write(&stack.join(rel), &bytes))
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    // Replace, not truncate: the seed's file may be a symlink in a case.
    let _ = fs::remove_file(path);
    fs::write(path, bytes).unwrap();
}

fn bad_dir() -> PathBuf {
    repo_root().join("tests/bad")
}

/// The hand-written files of a group, sorted.
fn group_cases(group: &str, target: &'static str, base: Base) -> Vec<Case> {
    let mut files: Vec<PathBuf> = fs::read_dir(bad_dir().join(group))
        .unwrap_or_else(|e| panic!("tests/bad/{group}: {e}"))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = format!("{group}/{}", path.file_name().unwrap().to_string_lossy());
            Case::file(name, base, target, fs::read(&path).unwrap())
        })
        .collect()
}

/// Each line of `queries.txt` put in place of the first panel query.
fn query_cases() -> Vec<Case> {
    let text = fs::read_to_string(bad_dir().join("promql/queries.txt")).unwrap();
    let dashboard = fs::read_to_string(repo_root().join("stacks/seed").join(QUERY_DASHBOARD)).unwrap();
    let first_expr = regex::Regex::new(r#""expr": "(?:[^"\\]|\\.)*""#).unwrap();
    assert!(first_expr.is_match(&dashboard), "{QUERY_DASHBOARD} has a panel query");
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.is_empty())
        .map(|(index, query)| {
            let encoded = serde_json::to_string(query).unwrap();
            let replaced = first_expr.replace(&dashboard, format!(r#""expr": {encoded}"#).replace('$', "$$"));
            Case::file(
                format!("promql/queries.txt:{}", index + 1),
                Base::DualRun,
                QUERY_DASHBOARD,
                replaced.into_owned().into_bytes(),
            )
        })
        .collect()
}

/// The seed's own files, broken in every way a file gets broken in the wild.
fn mutation_cases() -> Vec<Case> {
    let targets: &[(&str, Base)] = &[
        ("prometheus/prometheus.yml", Base::Fresh),
        ("docker-compose.yml", Base::Fresh),
        ("grafana/provisioning/dashboards/dashboards.yml", Base::Fresh),
        ("prometheus/rules/pushgateway.yml", Base::DualRun),
        ("grafana/dashboards/metrics-api.json", Base::DualRun),
    ];
    let mut cases = Vec::new();
    for &(rel, base) in targets {
        let original = fs::read(repo_root().join("stacks/seed").join(rel)).unwrap();
        for (mutation, bytes) in mutations(rel, &original) {
            cases.push(Case::file(format!("mutated/{rel}: {mutation}"), base, rel, bytes));
        }
    }
    cases
}

fn mutations(rel: &str, original: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let json = rel.ends_with(".json");
    let text = String::from_utf8_lossy(original).into_owned();
    let cut = |numerator: usize| original[..original.len() * numerator / 4].to_vec();
    let middle_line = text
        .match_indices('\n')
        .nth(text.lines().count() / 2)
        .map_or(0, |(i, _)| i + 1);
    let insert_at = |at: usize, bytes: &[u8]| [&original[..at], bytes, &original[at..]].concat();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let mut padded = original.to_vec();
    let filler: &[u8] = if json {
        b"                               \n"
    } else {
        b"# padding padding padding\n"
    };
    while padded.len() < 50 * 1024 * 1024 {
        padded.extend_from_slice(filler);
    }
    let deep = if json {
        format!("{{\"deep\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000))
    } else {
        format!("deep: {}1{}\n", "[".repeat(10_000), "]".repeat(10_000))
    };
    // An `e` after the middle written as Latin-1 `é` (0xE9): an editor's wrong encoding.
    let mut latin1 = original.to_vec();
    if let Some(at) = latin1[middle_line..].iter().position(|b| *b == b'e') {
        latin1[middle_line + at] = 0xE9;
    }
    let mut tabbed = text.clone();
    if let Some(at) = tabbed.find("\n  ") {
        tabbed.replace_range(at + 1..at + 3, "\t");
    }
    vec![
        ("truncated to a quarter", cut(1)),
        ("truncated to half", cut(2)),
        ("truncated to three quarters", cut(3)),
        ("without its last byte", original[..original.len() - 1].to_vec()),
        ("empty", Vec::new()),
        ("only white space", b"  \n\n\t\n".to_vec()),
        ("a NUL byte mid-file", insert_at(middle_line, b"\0")),
        ("invalid UTF-8 mid-file", insert_at(middle_line, b"\xff\xfe")),
        ("Latin-1 text", latin1),
        ("a BOM", [b"\xEF\xBB\xBF".as_slice(), original].concat()),
        ("CRLF line endings", text.replace('\n', "\r\n").into_bytes()),
        ("CR-only line endings", text.replace('\n', "\r").into_bytes()),
        ("UTF-16 with a BOM", utf16),
        ("50 MB", padded),
        ("nested very deep", deep.into_bytes()),
        ("a tab in the indentation", tabbed.into_bytes()),
    ]
}

/// Shapes of the file system rather than of a file.
fn filesystem_cases() -> Vec<Case> {
    use std::os::unix::fs::symlink;
    const PROM: &str = "prometheus/prometheus.yml";
    let fresh = Base::Fresh;
    vec![
        Case::new("fs: prometheus.yml is a symlink inside the stack", fresh, |s| {
            fs::rename(s.join(PROM), s.join("prometheus/prometheus.real.yml")).unwrap();
            symlink("prometheus.real.yml", s.join(PROM)).unwrap();
        }),
        Case::new("fs: prometheus.yml is a symlink out of the stack", fresh, |s| {
            let outside = s.parent().unwrap().join("outside.yml");
            fs::rename(s.join(PROM), &outside).unwrap();
            symlink(&outside, s.join(PROM)).unwrap();
        }),
        Case::new("fs: prometheus.yml is a dangling symlink", fresh, |s| {
            fs::remove_file(s.join(PROM)).unwrap();
            symlink("gone.yml", s.join(PROM)).unwrap();
        }),
        Case::new("fs: prometheus.yml is a folder", fresh, |s| {
            fs::remove_file(s.join(PROM)).unwrap();
            fs::create_dir(s.join(PROM)).unwrap();
        }),
        Case::new("fs: prometheus.yml is missing", fresh, |s| {
            fs::remove_file(s.join(PROM)).unwrap()
        }),
        Case::new("fs: prometheus.yml is read-only", fresh, |s| {
            fs::set_permissions(s.join(PROM), fs::Permissions::from_mode(0o444)).unwrap();
        }),
        Case::new("fs: prometheus.yml is group-writable with setgid", fresh, |s| {
            fs::set_permissions(s.join(PROM), fs::Permissions::from_mode(0o2664)).unwrap();
        }),
        Case::new("fs: the prometheus folder is read-only", fresh, |s| {
            fs::set_permissions(s.join("prometheus"), fs::Permissions::from_mode(0o555)).unwrap();
        }),
        Case::new("fs: the prometheus folder is a symlink out of the stack", fresh, |s| {
            let outside = s.parent().unwrap().join("outside-prometheus");
            fs::rename(s.join("prometheus"), &outside).unwrap();
            symlink(&outside, s.join("prometheus")).unwrap();
        }),
        Case::new("fs: the compose file mounts ../ outside the stack", fresh, |s| {
            let compose = fs::read_to_string(s.join("docker-compose.yml")).unwrap();
            let outside = s.parent().unwrap().join("prometheus");
            copy_tree(&s.join("prometheus"), &outside);
            fs::write(
                s.join("docker-compose.yml"),
                compose.replace("./prometheus:/etc/prometheus:ro", "../prometheus:/etc/prometheus:ro"),
            )
            .unwrap();
        }),
        Case::new("fs: a dashboard is a symlink out of the stack", Base::DualRun, |s| {
            let outside = s.parent().unwrap().join("outside.json");
            fs::rename(s.join(QUERY_DASHBOARD), &outside).unwrap();
            symlink(&outside, s.join(QUERY_DASHBOARD)).unwrap();
        }),
        Case::new("fs: a dashboard is a symlink inside the stack", Base::DualRun, |s| {
            fs::rename(s.join(QUERY_DASHBOARD), s.join("grafana/metrics-api.json")).unwrap();
            symlink("../metrics-api.json", s.join(QUERY_DASHBOARD)).unwrap();
        }),
        Case::new("fs: a dashboard is a named pipe", Base::DualRun, |s| {
            let pipe = s.join("grafana/dashboards/pipe.json");
            let made = std::process::Command::new("mkfifo").arg(&pipe).status().unwrap();
            assert!(made.success(), "mkfifo");
        }),
        Case::new("fs: the dashboards folder is read-only", Base::DualRun, |s| {
            fs::set_permissions(s.join("grafana/dashboards"), fs::Permissions::from_mode(0o555)).unwrap();
        }),
        Case::new("fs: a dashboard is read-only", Base::DualRun, |s| {
            fs::set_permissions(s.join(QUERY_DASHBOARD), fs::Permissions::from_mode(0o400)).unwrap();
        }),
    ]
}

fn copy_tree(from: &Path, to: &Path) {
    crate::support::copy_dir(from, to);
}

/// What one command answered.
struct Answer {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command with the timeout; output goes through files so a full pipe
/// can never block the child.
fn run(p: &Pullover, args: &[&str]) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = p
        .command(args)
        .stdout(Stdio::from(fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(fs::File::create(&err).unwrap()))
        .spawn()
        .expect("run pullover");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`pullover {}` hung for {COMMAND_TIMEOUT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Answer {
        code: status.code(),
        stdout: String::from_utf8_lossy(&fs::read(&out).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&fs::read(&err).unwrap()).into_owned(),
    }
}

fn journal_bytes(p: &Pullover) -> Vec<u8> {
    fs::read(p.path().join(".pullover/journal.jsonl")).unwrap_or_default()
}

/// The tree outside the stack folder (its siblings in the temp folder), where
/// pullover must never write.
fn outside(p: &Pullover) -> Tree {
    let parent = p.path().parent().unwrap().to_path_buf();
    tree(&parent)
        .into_iter()
        .filter(|(path, _)| !path.starts_with("stack"))
        .collect()
}

/// Checks the rules every answer must keep; returns the snapshot line.
#[track_caller]
fn check_case(case: &Case) -> String {
    let p = case.base.stack();
    (case.setup)(&p.path());
    let before = tree(&p.path());
    let journal_before = journal_bytes(&p);
    let outside_before = outside(&p);
    let mut codes = Vec::new();
    let mut first_error: Option<String> = None;
    let mut findings = std::collections::BTreeSet::new();

    let mut judge = |args: &[&str], answer: &Answer| {
        let what = format!("{}: `pullover {}`", case.name, args.join(" "));
        assert!(
            !answer.stderr.contains("panicked at"),
            "{what} panicked\n{}",
            answer.stderr
        );
        assert!(
            matches!(answer.code, Some(0 | 1)),
            "{what} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            answer.code,
            answer.stdout,
            answer.stderr
        );
        if answer.code == Some(1) {
            let error_line = answer.stderr.lines().find(|line| line.starts_with("error: "));
            assert!(error_line.is_some(), "{what}: no error line\n{}", answer.stderr);
            assert!(
                names_where_to_look(&answer.stderr),
                "{what}: the error names no file, flag or key\n{}",
                answer.stderr
            );
            if first_error.is_none() {
                let location = answer
                    .stderr
                    .lines()
                    .find_map(|line| line.trim_start().strip_prefix("--> "));
                first_error = error_line.map(|line| match location {
                    Some(location) => format!("{line} (at {location})"),
                    None => line.to_string(),
                });
            }
        }
        codes.push(answer.code.unwrap_or(-1).to_string());
        findings.extend(finding_codes(&answer.stdout));
        findings.extend(finding_codes(&answer.stderr));
    };

    for args in case.base.commands() {
        let answer = run(&p, &args);
        judge(&args, &answer);
        let changed = differing(&before, &tree(&p.path()));
        assert!(
            changed.is_empty(),
            "{}: `{}` changed {changed:?}",
            case.name,
            args.join(" ")
        );
    }

    let apply = case.base.apply();
    let applied = run(&p, &apply);
    judge(&apply, &applied);
    let after = tree(&p.path());
    assert!(
        temp_files(&after).is_empty(),
        "{}: apply left temp files {:?}",
        case.name,
        temp_files(&after)
    );
    for (path, entry) in &before {
        if let Entry::Link(_) = entry {
            assert_eq!(
                after.get(path),
                Some(entry),
                "{}: apply replaced the symlink {path}",
                case.name
            );
        }
    }
    for path in differing(&before, &after) {
        if let (Some(Entry::File { mode: old, .. }), Some(Entry::File { mode: new, .. })) =
            (before.get(&path), after.get(&path))
        {
            assert_eq!(old, new, "{}: apply changed the mode of {path}", case.name);
        }
    }
    if applied.code == Some(1) {
        let changed = differing(&before, &after);
        assert!(changed.is_empty(), "{}: a failed apply changed {changed:?}", case.name);
        assert_eq!(
            journal_bytes(&p),
            journal_before,
            "{}: a failed apply wrote the journal",
            case.name
        );
    } else {
        for path in differing(&before, &after) {
            assert_parses(&p.path().join(&path), &format!("{}: {path} after apply", case.name));
        }
        let rollback = run(&p, &["rollback", "--yes"]);
        judge(&["rollback", "--yes"], &rollback);
        assert_eq!(
            rollback.code,
            Some(0),
            "{}: rollback failed\n{}",
            case.name,
            rollback.stderr
        );
        let changed = differing(&before, &tree(&p.path()));
        assert!(
            changed.is_empty(),
            "{}: rollback did not restore {changed:?}",
            case.name
        );
    }
    assert_eq!(
        outside(&p),
        outside_before,
        "{}: something outside the stack changed",
        case.name
    );

    let temp = p
        .path()
        .parent()
        .and_then(|dir| dir.canonicalize().ok())
        .unwrap_or_default();
    let answer = first_error.map_or_else(
        || "-".to_string(),
        |line| p.clean(&line).replace(&temp.display().to_string(), "[TEMP]"),
    );
    let new_findings: Vec<String> = findings.difference(case.base.usual_findings()).cloned().collect();
    let reported = if new_findings.is_empty() {
        String::new()
    } else {
        format!("  reported: {}", new_findings.join(", "))
    };
    format!("{}  [{}]  {answer}{reported}", case.name, codes.join(" "))
}

/// `hazard [no-scraped-equivalent]` → `hazard no-scraped-equivalent`, for every finding printed.
fn finding_codes(text: &str) -> Vec<String> {
    static FINDING: OnceLock<regex::Regex> = OnceLock::new();
    let finding = FINDING.get_or_init(|| regex::Regex::new(r"\b(info|todo|hazard|warning) \[([a-z0-9-]+)\]").unwrap());
    finding
        .captures_iter(text)
        .map(|c| format!("{} {}", &c[1], &c[2]))
        .collect()
}

/// An error must say where to look: a file of the stack (`docker-compose.yml`,
/// `prometheus/…`), a flag, or a pullover.yaml key.
fn names_where_to_look(stderr: &str) -> bool {
    let file = regex::Regex::new(r"[\w./-]+\.(ya?ml|json|md|js|env)\b").unwrap();
    file.is_match(stderr) || stderr.contains(" --") || stderr.contains("pullover.yaml")
}

/// A file pullover wrote must parse as what its name says.
#[track_caller]
fn assert_parses(path: &Path, what: &str) {
    let Ok(bytes) = fs::read(path) else { return };
    let name = path.to_string_lossy();
    if name.ends_with(".json") {
        let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{what}: not UTF-8"));
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    } else if name.ends_with(".yml") || name.ends_with(".yaml") {
        let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{what}: not UTF-8"));
        yaml_serde::from_str::<yaml_serde::Value>(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}

/// Runs every case, and fails listing every case that broke a rule (not only the first).
fn run_cases(cases: Vec<Case>) -> String {
    let mut out = String::new();
    let mut broken = Vec::new();
    for case in &cases {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_case(case))) {
            Ok(line) => writeln!(out, "{line}").unwrap(),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                broken.push(message);
            }
        }
    }
    assert!(
        broken.is_empty(),
        "{} of {} cases broke a rule:\n\n{}",
        broken.len(),
        cases.len(),
        broken.join("\n\n")
    );
    out
}

#[test]
fn the_corpus_has_at_least_200_cases() {
    let hand_written: usize = GROUPS
        .iter()
        .map(|(group, target, base)| group_cases(group, target, *base).len())
        .sum();
    let total = hand_written + query_cases().len() + mutation_cases().len() + filesystem_cases().len();
    assert!(total >= 200, "{total} cases");
}

#[test]
fn bad_prometheus_yml() {
    let (group, target, base) = GROUPS[0];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn bad_compose_files() {
    let (group, target, base) = GROUPS[1];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn bad_settings() {
    let (group, target, base) = GROUPS[2];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn bad_grafana_provisioning() {
    let (group, target, base) = GROUPS[3];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn bad_rule_files() {
    let (group, target, base) = GROUPS[4];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn bad_dashboards() {
    let (group, target, base) = GROUPS[5];
    insta::assert_snapshot!(run_cases(group_cases(group, target, base)));
}

#[test]
fn unparseable_and_odd_queries() {
    insta::assert_snapshot!(run_cases(query_cases()));
}

#[test]
fn mutated_seed_files() {
    insta::assert_snapshot!(run_cases(mutation_cases()));
}

#[test]
fn file_system_shapes() {
    insta::assert_snapshot!(run_cases(filesystem_cases()));
}
