//! Phase 1 on every stack: only added lines, promtool accepts the result,
//! planning again finds nothing.

use crate::support::{promtool_check_config, pullover, require_tool, stacks};

#[test]
fn seed_scrape_plan_adds_one_job_and_nothing_else() {
    let p = pullover().stack("seed");
    // The seed's app only pushes: `expose` comes first (tests/integration/expose.rs).
    p.run(["apply", "expose", "--yes"]).success();
    let run = p.run(["plan"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @"
    Phase 1/5 `scrape`: add a direct scrape job for each app

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -22,4 +22,11 @@
         static_configs:
           - targets: ['pushgateway:9091']
     
    +  # metrics-api: scraped directly instead of through the Pushgateway (pullover: scrape)
    +  - job_name: metrics-api
    +    scrape_interval: 15s
    +    metrics_path: /metrics
    +    static_configs:
    +      - targets: ['metrics-api:8080']
    +
     # See METRICS.md for what each metric means.

    Plan: 1 file to change, 0 to create, 0 to delete (+7 −0 lines).
    Apply it with `pullover apply scrape`.
    ");
}

#[test]
fn the_scrape_diff_only_adds_lines_on_every_stack() {
    for stack in stacks() {
        let p = pullover().stack(&stack);
        let run = p.run(["--format", "json", "plan", "scrape"]);
        run.success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let changes = json["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{stack}: one file changes");
        let diff = changes[0]["diff"].as_str().unwrap();
        for line in diff.lines().skip_while(|l| !l.starts_with("@@")) {
            assert!(
                !line.starts_with('-'),
                "{stack}: the scrape phase removed or changed a line:\n{diff}"
            );
        }
        assert_eq!(changes[0]["lines_removed"], 0, "{stack}");
    }
}

#[test]
fn promtool_accepts_every_prometheus_yml_after_scrape() {
    if !require_tool("promtool") {
        return;
    }
    for stack in stacks() {
        let p = pullover().stack(&stack);
        p.run(["apply", "--yes"]).success();
        let status = p.run(["--format", "json", "status"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["phases"][0]["state"], "applied", "{stack}");
        let config = find_prometheus_config(&p.path());
        if let Err(out) = promtool_check_config(&config) {
            panic!(
                "{stack}: promtool rejects the config pullover wrote:\n{out}\n{}",
                std::fs::read_to_string(&config).unwrap()
            );
        }
    }
}

#[test]
fn planning_scrape_again_after_apply_finds_nothing() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    let run = p.run(["plan", "scrape", "--detailed-exitcode"]);
    run.code(0);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    assert!(run.stdout.contains("already-scraped"), "{}", run.stdout);
}

#[test]
fn detailed_exitcode_is_2_when_changes_are_pending() {
    let p = pullover().stack("seed");
    p.run(["plan", "--detailed-exitcode"]).code(2);
}

#[test]
fn flags_override_discovery() {
    let p = pullover().stack("seed");
    let run = p.run(["--app", "website:80", "--format", "json", "plan", "scrape"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let diff = json["changes"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+  - job_name: website"), "{diff}");
    assert!(diff.contains("'website:80'"), "{diff}");
}

#[test]
fn two_apps_get_two_jobs() {
    let p = pullover().stack("grafana-resources");
    let run = p.run(["--format", "json", "plan", "scrape"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let diff = json["changes"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("job_name: metrics-api"), "{diff}");
    assert!(diff.contains("job_name: billing"), "{diff}");
}

fn find_prometheus_config(stack: &std::path::Path) -> std::path::PathBuf {
    for candidate in ["prometheus/prometheus.yml", "prometheus.yml"] {
        if stack.join(candidate).is_file() {
            return stack.join(candidate);
        }
    }
    panic!("no prometheus.yml in {}", stack.display());
}
