//! Phase 2 on every stack: the rule file and dashboard are valid (promtool,
//! JSON), wired so Prometheus loads them, and rollback removes every trace.

use crate::support::{promtool_check_config, pullover, require_tool, stacks};

fn prometheus_config(stack: &std::path::Path) -> std::path::PathBuf {
    ["prometheus/prometheus.yml", "prometheus.yml"]
        .iter()
        .map(|c| stack.join(c))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no prometheus.yml in {}", stack.display()))
}

#[test]
fn seed_dual_run_rules_compare_each_learnt_metric() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    let run = p.run(["--format", "json", "plan"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let paths: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "grafana/dashboards/pullover-dual-run.json",
            "prometheus/rules/pullover-dual-run.yml"
        ]
    );
    p.run(["apply", "--yes"]).success();
    let rules = p.read("prometheus/rules/pullover-dual-run.yml");
    let metrics: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("metric: "))
        .collect();
    insta::assert_snapshot!(metrics.join("\n"), @r#"
    "http_request_duration_seconds_bucket"
    "http_requests_total"
    "nodejs_eventloop_lag_seconds"
    "nodejs_heap_size_used_bytes"
    "page_views_total"
    "process_resident_memory_bytes"
    "process_start_time_seconds"
    "#);
    assert!(
        rules.contains(r#"instance=\"app-1\""#),
        "the pushed side is the instance server.js pushes as:\n{rules}"
    );
}

#[test]
fn every_stack_dual_run_passes_promtool_and_rollback_removes_it() {
    let has_promtool = require_tool("promtool");
    for stack in stacks() {
        let p = pullover().stack(&stack);
        p.run(["apply", "scrape", "--yes"]).success();
        let after_scrape = p.hashes();
        p.run(["apply", "dual-run", "--yes"]).success();
        let created: Vec<String> = p
            .hashes()
            .keys()
            .filter(|k| !after_scrape.contains_key(*k))
            .cloned()
            .collect();
        assert!(
            created.iter().any(|c| c.ends_with("pullover-dual-run.yml")),
            "{stack}: no rule file in {created:?}"
        );
        for file in created.iter().filter(|c| c.ends_with(".json")) {
            let scan = pullover::dashboard::scan(&p.read(file)).unwrap_or_else(|e| panic!("{stack}: {file}: {e:?}"));
            assert!(!scan.sites.is_empty(), "{stack}: the comparison dashboard has queries");
        }
        if has_promtool {
            let config = prometheus_config(&p.path());
            let checked = promtool_check_config(&config)
                .unwrap_or_else(|out| panic!("{stack}: promtool rejects the config:\n{out}"));
            // Container paths in rule_files (honor-false) only resolve inside the container.
            let container_paths = std::fs::read_to_string(&config)
                .unwrap()
                .contains("/etc/prometheus/rules");
            assert!(
                container_paths || checked.contains("pullover-dual-run.yml"),
                "{stack}: Prometheus does not load the rule file:\n{checked}"
            );
        }
        p.run(["rollback", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            after_scrape,
            "{stack}: rollback of dual-run is byte-identical"
        );
        p.run(["rollback", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            pullover().stack(&stack).hashes(),
            "{stack}: back to the baseline"
        );
    }
}

#[test]
fn a_crash_between_the_files_of_dual_run_is_undone() {
    // dual-run writes two or three files: kill after the first and after the second.
    for point in ["after-file-write#1", "after-file-write#2", "before-file-write#2"] {
        let p = pullover().stack("honor-false");
        p.run(["apply", "scrape", "--yes"]).success();
        let before = p.hashes();
        let crashed = p.env("PULLOVER_FAILPOINT", point);
        let run = crashed.run(["apply", "--yes"]);
        assert_eq!(run.signal, Some(9), "{point}: {}", run.stderr);
        assert_ne!(
            crashed.hashes(),
            before,
            "{point}: some file was written before the crash"
        );
        let status = crashed.run_clean(["status"]);
        assert!(
            status.stdout.contains("Interrupted: the apply of `dual-run`"),
            "{point}: {}",
            status.stdout
        );
        crashed.run_clean(["plan"]).success();
        assert_eq!(crashed.hashes(), before, "{point}: recovery restored every file");
    }
}

#[test]
fn a_query_or_file_it_cannot_read_is_reported_not_silently_skipped() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    let dashboard =
        p.read("grafana/dashboards/metrics-api.json")
            .replacen("sum by (code) (rate(", "sum by (code) (rate((", 1);
    p.write("grafana/dashboards/metrics-api.json", &dashboard);
    p.write("grafana/dashboards/website-overview.json", "{\"panels\": [");
    let run = p.run(["plan", "dual-run"]);
    run.success();
    let stdout = p.clean(&run.stdout);
    assert!(
        stdout.contains("unparseable-query") && stdout.contains("grafana/dashboards/metrics-api.json:124:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unreadable-dashboard") && stdout.contains("website-overview.json is not a dashboard"),
        "{stdout}"
    );
}
