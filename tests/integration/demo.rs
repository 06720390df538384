//! `scripts/demo`, the README's first command, run as a person runs it: the live migration of
//! a copy of stacks/seed against Prometheus, Pushgateway and the seed's own metrics-api on
//! loopback passes every gate without `--force` and gives every byte back. Where a server
//! cannot start it says why and walks the phases offline.
//!
//! In CI a missing tool fails the live test; elsewhere it prints a skip line.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::repo_root;

/// The tools the live demo needs, as scripts/test installs them.
const LIVE_TOOLS: [&str; 5] = ["prometheus", "prometheus-pushgateway", "node", "npm", "curl"];

fn in_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether every tool in `tools` is installed; in CI a missing one fails the test.
fn tools_or_skip(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|tool| !in_path(tool)).collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not installed (scripts/test installs the Debian packages prometheus, prometheus-pushgateway, nodejs, npm, curl)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some_and(|value| !value.is_empty()) {
        panic!("{test}: {message}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {message}");
    false
}

fn demo(env: &[(&str, &str)]) -> (Output, String) {
    let mut command = Command::new(repo_root().join("scripts/demo"));
    command.env("PULLOVER_BIN", env!("CARGO_BIN_EXE_pullover"));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run scripts/demo: {err}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // What a person reads, without the terminal's colours.
    let plain = regex::Regex::new("\x1b\\[[0-9;]*m")
        .map(|ansi| ansi.replace_all(&text, "").into_owned())
        .unwrap_or(text);
    (output, plain)
}

#[test]
fn the_demo_migrates_the_seed_live_and_every_gate_passes_without_force() {
    if !tools_or_skip("demo live", &LIVE_TOOLS) {
        return;
    }
    let (output, text) = demo(&[]);
    assert!(
        output.status.success(),
        "scripts/demo failed ({}):\n{text}",
        output.status
    );
    assert!(
        !text.contains("The live demo cannot run"),
        "the demo fell back to the offline walk:\n{text}"
    );
    // Each gate, as verify passed it, in order, and none skipped with --force.
    let gates = [
        "✓ gate after `expose`: open",
        "✓ gate after `scrape`: open",
        "✓ gate after `dual-run`: open",
        "✓ gate after `dashboards`: open",
        "✓ gate after `remove`: open",
        "✓ gate after `rollback --to baseline`: open",
    ];
    let mut from = 0;
    for gate in gates {
        let at = text
            .get(from..)
            .and_then(|rest| rest.find(gate))
            .unwrap_or_else(|| panic!("no `{gate}` after byte {from}:\n{text}"));
        from += at + gate.len();
    }
    for applied in ["dual-run", "dashboards", "remove", "docs"] {
        assert!(
            text.contains(&format!("note: gate before `{applied}` is open")),
            "apply {applied} did not report its gate open:\n{text}"
        );
    }
    assert!(!text.contains("--force: NOT checking"), "a gate was skipped:\n{text}");
    // The demo re-runs `verify` until a gate passes (the data needs a few scrapes) and quotes
    // the check it waits for on a "not passed yet" line; every verify it shows as passed must
    // hold no failed check.
    let shown = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("not passed yet"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!shown.contains("✗ "), "a check failed on the way:\n{text}");
    assert!(
        text.contains("After rollback every file of the copy is byte-identical to the loopback copy of stacks/seed"),
        "{text}"
    );
    assert!(text.contains("Every gate passed without --force."), "{text}");
}

#[test]
fn without_prometheus_the_demo_says_why_and_walks_the_phases_offline() {
    let missing: PathBuf = std::env::temp_dir().join("pullover-no-such-dir/prometheus");
    let (output, text) = demo(&[("PULLOVER_DEMO_PROMETHEUS", missing.to_str().unwrap_or("/nonexistent"))]);
    assert!(output.status.success(), "({}):\n{text}", output.status);
    assert!(
        text.contains(&format!(
            "The live demo cannot run: {} is not installed",
            missing.display()
        )),
        "{text}"
    );
    assert!(text.contains("Running the offline walk instead"), "{text}");
    for phase in ["expose", "scrape", "dual-run", "dashboards", "remove", "docs"] {
        assert!(text.contains(&format!("Applied phase `{phase}`")), "{phase}:\n{text}");
    }
    assert!(
        text.contains("After rollback every file of the copy is byte-identical to stacks/seed."),
        "{text}"
    );
    assert!(!text.contains("✓ gate"), "no gate is checked offline:\n{text}");
}

#[test]
fn when_prometheus_exits_at_start_the_demo_says_so_and_walks_the_phases_offline() {
    // `false` stands in for a Prometheus that exits at once; the rest must be there to get
    // as far as starting it.
    if !tools_or_skip(
        "demo offline fallback",
        &["prometheus-pushgateway", "node", "npm", "curl"],
    ) {
        return;
    }
    let (output, text) = demo(&[("PULLOVER_DEMO_PROMETHEUS", "false")]);
    assert!(output.status.success(), "({}):\n{text}", output.status);
    assert!(
        text.contains("The live demo cannot run: Prometheus did not start: it exited without a word in prometheus.log"),
        "{text}"
    );
    assert!(
        text.contains("After rollback every file of the copy is byte-identical to stacks/seed."),
        "{text}"
    );
}
