//! Real-world stack shapes (issue 14): what pullover writes is what the running stack loads.
//! Each test runs the real CLI on a stack of one shape in `stacks/`.

use crate::support::{Pullover, pullover};

/// Applies every phase in order, then rolls everything back: each phase must apply, and the
/// stack must come back byte for byte.
#[track_caller]
fn all_phases_and_back(p: &Pullover) {
    let original = p.hashes();
    for phase in ["scrape", "dual-run", "dashboards", "remove", "docs"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(
        p.hashes(),
        original,
        "rollback --to baseline did not give the stack back"
    );
}

/// The lines of `text` from the one starting with `from` up to (not including) the first
/// blank line after it.
fn block(text: &str, from: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with(from))
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rule_files_with_only_comments_becomes_a_list_keeping_them_and_remove_gives_them_back() {
    let p = pullover().stack("null-rule-files");
    let original = p.read("prometheus/prometheus.yml");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    insta::assert_snapshot!(block(&p.read("prometheus/prometheus.yml"), "rule_files:"), @r#"
    rule_files:
      # - "first_rules.yml"
      # - "second_rules.yml"
      - pullover-dual-run.yml
    "#);
    if crate::support::require_tool("promtool") {
        crate::support::promtool_check_config(&p.file("prometheus/prometheus.yml")).unwrap();
    }
    p.run(["apply", "dashboards", "--yes"]).success();
    p.run(["apply", "remove", "--yes"]).success();
    // The comments are back under a key with no value, as in the sample config.
    assert_eq!(
        block(&p.read("prometheus/prometheus.yml"), "rule_files:"),
        block(&original, "rule_files:")
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(p.read("prometheus/prometheus.yml"), original);
    all_phases_and_back(&p);
}
