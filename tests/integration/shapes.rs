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

#[test]
fn the_new_job_scrapes_as_often_as_the_gateway_job_keeps_its_target_labels_and_short_ranges_are_reported() {
    let p = pullover().stack("fast-gateway");
    let run = p.run(["plan", "scrape"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 1/5 `scrape`: add a direct scrape job for each app

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -18,3 +18,12 @@
           - targets: ["pushgateway:9091"]
             labels:
               cluster: prod
    +
    +  # worker: scraped directly instead of through the Pushgateway (pullover: scrape)
    +  - job_name: worker
    +    scrape_interval: 5s
    +    metrics_path: /metrics
    +    static_configs:
    +      - targets: ["worker:9500"]
    +        labels:
    +          cluster: prod

    Findings:
    hazard [double-count-during-dual-run] pushed and scraped series of worker will both carry job="worker" and differ only by instance
             = tip: sums over job alone double-count until the `remove` phase; the `dashboards` phase lists those queries
      info [target-labels-copied] the gateway's target in job `pushgateway` adds cluster: prod, and queries select worker's series on it: the new target gets it too
    hazard [range-under-four-intervals] `[15s]` over worker_jobs_total is shorter than 4× the interval worker will be scraped at (5s): at most 3 sample(s) per window
             --> grafana/dashboards/worker.json:91:19 (panel "Jobs / s, instant" panel query)
             = tip: widen the range to at least 20s or use $__rate_interval, or scrape more often with `scrape: {interval: …}` in pullover.yaml

    Plan: 1 file to change, 0 to create, 0 to delete (+9 −0 lines).
    Apply it with `pullover apply scrape`.
    "#);
    all_phases_and_back(&p);
}

#[test]
fn a_pinned_interval_wins_over_the_gateway_jobs() {
    let p = pullover().stack("fast-gateway");
    p.write("pullover.yaml", "scrape:\n  interval: 1m\n");
    let run = p.run(["plan", "scrape"]);
    run.success();
    assert!(run.stdout.contains("scrape_interval: 1m"), "{}", run.stdout);
    // Three [1m] (two rules, a panel) and the [15s] panel are now under 4 × 1m: each is reported.
    assert_eq!(
        run.stdout.matches("[range-under-four-intervals]").count(),
        4,
        "{}",
        run.stdout
    );
}

#[test]
fn panels_naming_their_data_source_by_name_or_uid_are_read_with_grafanas_provisioning() {
    let p = pullover().stack("datasource-by-name");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let run = p.run(["plan", "dashboards"]);
    run.success();
    assert!(!run.stdout.contains("has no type"), "{}", run.stdout);
    // The panel that names "metrics" is rewritten; the Loki panel is not touched.
    assert!(
        run.stdout.contains(r#"+          "expr": "sum by (kind) (rate(billing_invoices_total{job=\"billing\", instance=\"billing:9600\"}[5m]))","#),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("count_over_time"), "{}", run.stdout);
    // The uid-only and default panels are read as PromQL: their double count is reported.
    assert_eq!(
        run.stdout.matches("[double-count-during-dual-run]").count(),
        2,
        "{}",
        run.stdout
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}

#[test]
fn section_comments_stay_with_the_blocks_they_head_and_a_banner_naming_the_gateway_goes_with_it() {
    let p = pullover().stack("section-comments");
    for phase in ["scrape", "dual-run", "dashboards", "remove"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    insta::assert_snapshot!(block(&p.read("prometheus/prometheus.yml"), "  # -- batch and exporters"), @r#"
    # -- batch and exporters --------------------------------------------
      # exporters
    - job_name: node
      static_configs:
        - targets: ["node-exporter:9100"]
    # batch: scraped directly instead of through the Pushgateway (pullover: scrape)
    - job_name: batch
      scrape_interval: 15s
      metrics_path: /metrics
      static_configs:
        - targets: ["batch:9700"]
    "#);
    insta::assert_snapshot!(p.read("docker-compose.yml").lines().take(16).collect::<Vec<_>>().join("\n"), @r#"
    services:
      # -- apps -----------------------------------------------------------
      batch:
        build: ./batch
        expose:
          - "9700"

      # -- monitoring -----------------------------------------------------
      prometheus:
        image: prom/prometheus:v2.53.0
        volumes:
          - ./prometheus:/etc/prometheus:ro
        ports:
          - "9090:9090"

      node-exporter:
    "#);
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}
