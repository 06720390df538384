//! Benchmark (not a test): `pullover plan` of every phase on a big generated stack (1,000
//! dashboards × 30 panels, 1,000 scrape jobs, 300 Compose services; see `generate.rs`), against
//! a baseline measured in the same run: `jq` doing a bare string substitution of the job matcher
//! over the same dashboards. Prints wall time (median of RUNS), peak RSS and the ratio jq/pullover
//! per phase, then `pullover status` on `stacks/seed`. Each phase is planned on the stack with the
//! phases before it applied, as an operator meets it.
//!
//! Run: `scripts/bench plan` (release build; installs `jq`), or `cargo bench --bench plan`.
//! `RUNS=N` (default 3) and `DASHBOARDS=N` change the work; `WRITE_STACK=DIR` (with `GATEWAY_SHAPE=1`: the user's shape) only writes the
//! stack there (to profile `pullover plan` on it).

mod generate;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use generate::Size;

const PHASES: [&str; 5] = ["scrape", "dual-run", "dashboards", "remove", "docs"];

/// Issue 7's targets.
const MIN_SPEEDUP_OVER_JQ: f64 = 3.0;
const MAX_PEAK_RSS_MB: f64 = 100.0;
const MAX_STATUS_MS: f64 = 20.0;

/// One run of a child process: wall time, peak resident set, exit code.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: Duration,
    peak_rss_kb: i64,
    code: i32,
}

/// Runs `program args` with stdout and stderr to /dev/null and reads its peak RSS from `wait4`.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its rusage"
)]
fn measure(program: &Path, args: &[&OsStr], cwd: &Path) -> Run {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 only writes through the pointers we
    // own, for a child of ours that nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // ru_maxrss is in kilobytes on Linux.
    Run {
        wall,
        peak_rss_kb: usage.ru_maxrss,
        code,
    }
}

/// RUNS runs; the one with the median wall time, and the highest peak RSS seen.
fn median(runs: usize, mut once: impl FnMut() -> Run) -> Run {
    let mut all: Vec<Run> = (0..runs).map(|_| once()).collect();
    let peak = all.iter().map(|r| r.peak_rss_kb).max().unwrap_or(0);
    all.sort_by_key(|r| r.wall);
    Run {
        peak_rss_kb: peak,
        ..all[all.len() / 2]
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(kb: i64) -> f64 {
    kb as f64 / 1024.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let pullover = Path::new(env!("CARGO_BIN_EXE_pullover"));
    let runs = env_usize("RUNS", 3).max(1);
    let size = Size {
        dashboards: env_usize("DASHBOARDS", Size::BIG.dashboards),
        ..Size::BIG
    };
    // For profiling: write the stack where asked and stop.
    if let Some(dir) = std::env::var_os("WRITE_STACK") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).expect("the WRITE_STACK directory");
        // GATEWAY_SHAPE=1 writes the user's shape (apps pushing as job `pushgateway`).
        let size = Size {
            pushed_as_gateway: std::env::var_os("GATEWAY_SHAPE").is_some(),
            ..size
        };
        generate::write_stack(dir, size).expect("the generated stack");
        println!("wrote the benchmark stack to {}", dir.display());
        return;
    }
    let work = tempfile::tempdir().expect("a temporary directory");
    let mut all_met = true;
    // Two shapes: apps pushing under their own names, and the user's shape where every app
    // pushes as job `pushgateway` (told apart by instance), with the queries on that job.
    for (shape, pushed_as_gateway) in [
        ("apps push under their own names", false),
        ("apps push as job pushgateway", true),
    ] {
        let size = Size {
            pushed_as_gateway,
            ..size
        };
        println!("\nshape: {shape}");
        all_met &= bench_shape(pullover, runs, size, work.path(), pushed_as_gateway);
    }
    // status on the seed stack: the command an operator runs most.
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/seed");
    let status_args = [OsStr::new("--stack"), seed.as_os_str(), OsStr::new("status")];
    let status = median(runs.max(21), || measure(pullover, &status_args, work.path()));
    let version = median(runs.max(21), || {
        measure(pullover, &[OsStr::new("--version")], work.path())
    });
    let status_ms = secs(status.wall) * 1000.0;
    all_met &= status_ms < MAX_STATUS_MS;
    println!(
        "\n  {:<26} {:>8.1} ms  {:>7.1} MB  (pullover --version: {:.1} ms)  {}",
        "status on stacks/seed",
        status_ms,
        mb(status.peak_rss_kb),
        secs(version.wall) * 1000.0,
        verdict(status_ms < MAX_STATUS_MS)
    );
    println!(
        "\ntargets: plan ≥ {MIN_SPEEDUP_OVER_JQ}× faster than jq and peak RSS < {MAX_PEAK_RSS_MB} MB per phase, \
         status < {MAX_STATUS_MS} ms: {}",
        if all_met { "all met" } else { "not all met" }
    );
    if !all_met {
        std::process::exit(1);
    }
}

/// Times every phase's plan on one generated stack against jq; whether every target was met.
fn bench_shape(pullover: &Path, runs: usize, size: Size, work: &Path, gateway_shape: bool) -> bool {
    let stack = work.join(if gateway_shape { "big-gateway-job" } else { "big" });
    std::fs::create_dir(&stack).expect("the stack directory");
    generate::write_stack(&stack, size).expect("the generated stack");
    let dashboards_dir = stack.join("grafana/dashboards");
    let mut dashboards: Vec<_> = std::fs::read_dir(&dashboards_dir)
        .expect("the dashboards")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dashboards.sort();
    let bytes: u64 = dashboards
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "plan benchmark: {} dashboards × {} panels ({:.1} MB), {} scrape jobs, {} services ({} push); \
         median of {runs} runs",
        size.dashboards,
        size.panels,
        bytes as f64 / 1e6,
        size.jobs,
        size.services,
        size.apps
    );

    // Baseline: jq parses each dashboard, substitutes the job matcher, prints it. Two ways a
    // person would write it; the faster one is the baseline, so the ratio is never flattered.
    let jq = which("jq").expect("jq on PATH (scripts/bench installs it)");
    let programs = [
        (
            "jq: every string",
            r#"walk(if type == "string" then gsub("job=\"pushgateway\""; "job=\"app\"") else . end)"#,
        ),
        (
            "jq: expr fields only",
            r#"(.. | objects | select(has("expr")) | .expr) |= gsub("job=\"pushgateway\""; "job=\"app\"")"#,
        ),
    ];
    let mut baseline: Option<Run> = None;
    for (label, program) in programs {
        let mut jq_args: Vec<&OsStr> = vec![OsStr::new(program)];
        jq_args.extend(dashboards.iter().map(|p| p.as_os_str()));
        let run = median(runs, || measure(&jq, &jq_args, work));
        assert_eq!(run.code, 0, "jq ({label}) failed on the generated dashboards");
        println!(
            "  baseline {label:<24} {:>9.3} s  {:>7.1} MB",
            secs(run.wall),
            mb(run.peak_rss_kb)
        );
        if baseline.is_none_or(|b| run.wall < b.wall) {
            baseline = Some(run);
        }
    }
    let baseline = baseline.expect("at least one jq program");

    println!(
        "\n  {:<26} {:>11}  {:>10}  {:>12}  {:>6}",
        "pullover plan", "wall", "peak RSS", "jq/pullover", ""
    );
    let stack_arg = stack.as_os_str();
    let mut all_met = true;
    for phase in PHASES {
        let args = [OsStr::new("--stack"), stack_arg, OsStr::new("plan"), OsStr::new(phase)];
        let run = median(runs, || measure(pullover, &args, work));
        // 0: nothing to do; 1 would be an error.
        assert!(run.code == 0, "pullover plan {phase} exited {}", run.code);
        let ratio = secs(baseline.wall) / secs(run.wall);
        let met = ratio >= MIN_SPEEDUP_OVER_JQ && mb(run.peak_rss_kb) < MAX_PEAK_RSS_MB;
        all_met &= met;
        println!(
            "  {phase:<26} {:>9.3} s  {:>7.1} MB  {:>11.1}×  {}",
            secs(run.wall),
            mb(run.peak_rss_kb),
            ratio,
            verdict(met)
        );
        let apply = [
            OsStr::new("--stack"),
            stack_arg,
            OsStr::new("apply"),
            OsStr::new(phase),
            OsStr::new("--yes"),
        ];
        let applied = measure(pullover, &apply, work);
        assert_eq!(applied.code, 0, "pullover apply {phase} failed");
    }

    all_met
}

/// The first `name` on PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
