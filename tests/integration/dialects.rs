//! Queries as the stack's own Prometheus reads them: a stack pinned to a 2.x image keeps its
//! `holt_winters` alert and panel and gets them rewritten (bytes outside the selector as
//! written, promtool of its major version content); the same stack on a 3.x image has them
//! reported as queries that fail there, and `prometheus_version:` in pullover.yaml settles it.

use crate::support::{Pullover, promtool_check_for, pullover, require_tool};

const STACK: &str = "prom2-holt-winters";
const RULES: &str = "prometheus/rules/stock.yml";
const DASHBOARD: &str = "grafana/dashboards/stock.json";

fn plan_json(p: &Pullover) -> serde_json::Value {
    let run = p.run(["plan", "dashboards", "--format", "json"]);
    run.success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn findings_with_id<'a>(plan: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    let mut found = Vec::new();
    collect(plan, id, &mut found);
    found
}

fn collect<'a>(value: &'a serde_json::Value, id: &str, found: &mut Vec<&'a serde_json::Value>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("id").and_then(|v| v.as_str()) == Some(id) {
                found.push(value);
            }
            map.values().for_each(|v| collect(v, id, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, id, found)),
        _ => {}
    }
}

#[test]
fn a_2x_stack_has_its_holt_winters_alert_and_panel_rewritten_with_every_other_byte_as_written() {
    let p = pullover().stack(STACK);
    let rules_before = p.read(RULES);
    let dashboard_before = p.read(DASHBOARD);
    assert!(rules_before.contains("holt_winters(") && dashboard_before.contains("holt_winters("));

    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let plan = plan_json(&p);
    assert!(
        findings_with_id(&plan, "rejected-by-prometheus-version").is_empty()
            && findings_with_id(&plan, "unparseable-query").is_empty(),
        "{plan:#}"
    );
    p.run(["apply", "dashboards", "--yes"]).success();

    // Only the pushed instance changed, in the alert and the panel as everywhere else.
    assert_eq!(
        p.read(RULES),
        rules_before.replace(r#"instance="sync-1""#, r#"instance="stock-sync:9105""#)
    );
    assert_eq!(
        p.read(DASHBOARD),
        dashboard_before.replace(r#"instance=\"sync-1\""#, r#"instance=\"stock-sync:9105\""#)
    );
    assert!(p.read(RULES).contains(
        r#"expr: holt_winters(stock_sync_items{job="stock-sync", instance="stock-sync:9105"}[1h], 0.3, 0.3) < 100"#
    ));

    // The stack runs Prometheus 2.45: a 2.x promtool reads what was written, holt_winters too.
    if require_tool("promtool") {
        let config = p.file("prometheus/prometheus.yml");
        match promtool_check_for(pullover::promql::PrometheusVersion::new(2, 45), &config) {
            Some(Ok(promtool)) => eprintln!("{STACK} after dashboards: checked by {promtool}"),
            Some(Err(out)) => panic!("promtool rejects the rewritten rules:\n{out}"),
            None => eprintln!("{STACK}: no 2.x promtool on this machine; the rule file was not checked"),
        }
    }
}

#[test]
fn on_a_3x_image_the_holt_winters_queries_are_reported_as_failing_there_and_left_as_written() {
    let p = pullover().stack(STACK);
    let compose = p.read("compose.yml");
    p.write(
        "compose.yml",
        &compose.replace("prom/prometheus:v2.45.0", "quay.io/prometheus/prometheus:v3.1.0"),
    );
    let rules_before = p.read(RULES);
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let plan = plan_json(&p);
    let rejected = findings_with_id(&plan, "rejected-by-prometheus-version");
    // The alert, and the panel; the other queries are rewritten.
    assert_eq!(rejected.len(), 2, "{plan:#}");
    for finding in &rejected {
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(
                "Prometheus 3.1 (image quay.io/prometheus/prometheus:v3.1.0 of service prometheus) rejects this query: \
                 the function `holt_winters` is gone since Prometheus 3.0"
            ),
            "{message}"
        );
        assert_eq!(finding["severity"], "hazard", "{finding:#}");
    }
    p.run(["apply", "dashboards", "--yes"]).success();
    let rules = p.read(RULES);
    assert!(rules.contains(r#"holt_winters(stock_sync_items{job="stock-sync", instance="sync-1"}[1h], 0.3, 0.3)"#));
    assert_ne!(rules, rules_before, "the other alert is rewritten");

    // The person knows better than the image tag: pinned, the queries read as 2.x again.
    let q = pullover().stack(STACK);
    q.write(
        "compose.yml",
        &compose.replace("prom/prometheus:v2.45.0", "quay.io/prometheus/prometheus:v3.1.0"),
    );
    q.write("pullover.yaml", "prometheus_version: \"2.53\"\n");
    q.run(["apply", "scrape", "--yes"]).success();
    q.run(["apply", "dual-run", "--yes"]).success();
    let plan = plan_json(&q);
    assert!(
        findings_with_id(&plan, "rejected-by-prometheus-version").is_empty(),
        "{plan:#}"
    );
}

#[test]
fn a_prometheus_version_that_is_none_stops_with_the_key_to_fix() {
    let p = pullover().stack(STACK);
    p.write("pullover.yaml", "prometheus_version: latest\n");
    let run = p.run(["plan", "dashboards"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`prometheus_version: latest` in pullover.yaml is not a Prometheus version"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pullover.yaml:1:1"), "{}", run.stderr);
}

/// The oldest release pullover expects to meet, with no feature flags.
fn oldest() -> pullover::promql::Dialect {
    pullover::promql::Dialect::new(
        pullover::promql::PrometheusVersion::new(2, 0),
        Vec::new(),
        pullover::promql::VersionSource::Settings,
    )
}

/// Every `expr` of a dual-run artefact: rules YAML (`expr: "…"`) or dashboard JSON.
fn exprs_of(text: &str, json: bool) -> Vec<String> {
    if json {
        let value: serde_json::Value = serde_json::from_str(text).expect("dashboard JSON");
        let mut out = Vec::new();
        collect_exprs(&value, &mut out);
        return out;
    }
    let value: serde_json::Value = yaml_serde::from_str(text).expect("rules YAML");
    let mut out = Vec::new();
    collect_exprs(&value, &mut out);
    out
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("expr", Some(expr)) => out.push(expr.to_string()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[test]
fn what_dual_run_writes_on_every_stack_is_read_by_the_oldest_2x_release_without_flags() {
    use pullover::phase::dual_run::{DASHBOARD_FILE_NAME, RULE_FILE_NAME};
    let mut checked = 0;
    for name in crate::support::stacks() {
        let p = pullover().stack(&name);
        let mut stack = pullover::stack::Stack::load(&p.path(), &pullover::stack::settings::Overrides::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        stack.prometheus_dialect = oldest();
        let changes = pullover::phase::dual_run::plan(&stack).unwrap_or_else(|e| panic!("{name}: {e}"));
        for change in &changes.changes {
            let path = change.path.as_str();
            let json = path.ends_with(DASHBOARD_FILE_NAME);
            if !json && !path.ends_with(RULE_FILE_NAME) {
                continue;
            }
            let after = change.after.as_ref().expect("written");
            let text = std::str::from_utf8(&after.bytes).expect("UTF-8");
            for expr in exprs_of(text, json) {
                pullover::promql::accepted_by(&expr, &oldest())
                    .unwrap_or_else(|reason| panic!("{name}: {path}: `{expr}`: {reason}"));
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} queries checked");
}

#[test]
fn dual_run_refuses_to_write_a_query_the_stacks_prometheus_cannot_read() {
    let p = pullover().stack(STACK);
    let mut stack = pullover::stack::Stack::load(&p.path(), &pullover::stack::settings::Overrides::default())
        .expect("the stack loads");
    // A UTF-8 metric name cannot stand before braces in any release.
    stack.settings.apps[0].metrics = vec!["stock.sync.items".to_string()];
    let error = pullover::phase::dual_run::plan(&stack).expect_err("refused");
    assert!(
        error.message.contains("would not run on the stack's Prometheus"),
        "{}",
        error.message
    );
}

/// A Prometheus 2.45 that answers buildinfo and flags; anything else is not found.
fn prometheus_2_45(request: &crate::support::live::fake_http::SeenRequest) -> crate::support::live::fake_http::Canned {
    use crate::support::live::fake_http::Canned;
    if request.path.starts_with("/api/v1/status/buildinfo") {
        Canned::new(
            200,
            "application/json",
            r#"{"status":"success","data":{"version":"2.45.0","revision":"x","branch":"HEAD","buildUser":"u","buildDate":"d","goVersion":"go1.20"}}"#,
        )
    } else if request.path.starts_with("/api/v1/status/flags") {
        Canned::new(
            200,
            "application/json",
            r#"{"status":"success","data":{"enable-feature":"promql-experimental-functions"}}"#,
        )
    } else {
        Canned::new(404, "text/plain", "not found")
    }
}

#[test]
fn without_a_prometheus_service_the_live_server_says_which_release_reads_the_queries() {
    let p = pullover().stack(STACK);
    // Prometheus runs elsewhere: the Compose file has no service for it.
    let compose = p.read("compose.yml");
    let start = compose.find("  prometheus:\n").expect("the service");
    let end = compose.find("  grafana:\n").expect("the next service");
    p.write("compose.yml", &format!("{}{}", &compose[..start], &compose[end..]));

    // Nothing says which: the newest release pullover knows is assumed, and said so.
    let plan = plan_json(&p);
    let rejected = findings_with_id(&plan, "rejected-by-prometheus-version");
    assert_eq!(rejected.len(), 2, "{plan:#}");
    let message = rejected[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "Prometheus {} (assumed: no Prometheus service in the Compose file; the newest release pullover knows ({}) is assumed) rejects this query",
            pullover::promql::PrometheusVersion::NEWEST_KNOWN,
            pullover::promql::PrometheusVersion::NEWEST_KNOWN
        )),
        "{message}"
    );

    // The live server says 2.45: holt_winters reads there, and the plan rewrites it.
    let server = crate::support::live::fake_http::FakeHttp::start(prometheus_2_45);
    let run = p.run([
        "--prometheus-url",
        &server.url(),
        "--format",
        "json",
        "plan",
        "dashboards",
    ]);
    run.success();
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(
        findings_with_id(&plan, "rejected-by-prometheus-version").is_empty(),
        "{plan:#}"
    );
    let analyze = p.run(["--prometheus-url", &server.url(), "analyze"]);
    analyze.success();
    assert!(
        analyze.stdout.contains(&format!(
            "queries read as Prometheus 2.45 (reported by {}), with --enable-feature=promql-experimental-functions",
            server.url()
        )),
        "{}",
        analyze.stdout
    );
}

#[test]
fn remove_still_sees_the_holt_winters_alert_on_pushed_series_of_a_2x_stack() {
    let p = pullover().stack(STACK);
    let run = p.run(["plan", "remove"]);
    run.success();
    assert!(
        run.stdout
            .contains("[rule-on-pushed-series] alert `StockForecastLow` still selects the pushed series"),
        "{}",
        run.stdout
    );
}
