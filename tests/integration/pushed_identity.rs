//! The user's own stack: `honor_labels: true`, the app pushes as job `pushgateway`, and the
//! dashboards and rules select its series with `job="pushgateway"`. With no pullover.yaml and
//! no live server, pullover learns that from the stack and moves every app-metric selector to
//! `job="metrics-api"`; the gateway's own metrics stay. Where the evidence disagrees nothing
//! moves on a guess, and the plan says what waits.

use crate::support::{Pullover, pullover, require_tool};

/// The grafana-resources stack's V1 and V2 Resource dashboards, moved onto the gateway's job
/// as the user's dashboards are.
fn with_resource_dashboards(stack: &Pullover) {
    let resources = pullover().stack("grafana-resources");
    let v2 = resources
        .read("grafana/dashboards/metrics-api.v2.json")
        .replace(r#"job=\"metrics-api\""#, r#"job=\"pushgateway\""#);
    let v1 = resources
        .read("grafana/dashboards/billing.v1.json")
        .replace(r#"job=\"billing\""#, r#"job=\"pushgateway\""#)
        .replace(r#"instance=\"billing-1\""#, r#"instance=\"app-1\""#);
    stack.write("grafana/dashboards/metrics-api.v2.json", &v2);
    stack.write("grafana/dashboards/billing.v1.json", &v1);
}

fn exprs(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("job=\\\"") || l.contains("job=\""))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn the_users_stack_moves_every_app_selector_off_job_pushgateway_in_every_model_and_rule() {
    let p = pullover().stack("seed");
    with_resource_dashboards(&p);
    for phase in ["scrape", "dual-run"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let plan = p.run(["plan", "dashboards"]);
    plan.success();
    assert!(!plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("[pushed-identity] metrics-api pushes as job \"pushgateway\", instance \"app-1\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("metrics-api/server.js:121"),
        "the push call is cited: {}",
        plan.stdout
    );
    p.run(["apply", "dashboards", "--yes"]).success();

    let overview = p.read("grafana/dashboards/website-overview.json");
    let api = p.read("grafana/dashboards/metrics-api.json");
    let health = p.read("grafana/dashboards/pushgateway-health.json");
    let rules = p.read("prometheus/rules/pushgateway.yml");
    for (what, text, expected) in [
        // a regex alternation
        (
            "alternation",
            &overview,
            r#"http_requests_total{job=~\"metrics-api|website\"}"#,
        ),
        // `!=` on the instance that tells the gateway's own series apart: kept as written
        (
            "instance != the gateway",
            &overview,
            r#"process_start_time_seconds{job=\"metrics-api\", instance!=\"pushgateway:9091\"}"#,
        ),
        // a subquery
        (
            "subquery",
            &api,
            r#"max_over_time(nodejs_eventloop_lag_seconds{job=\"metrics-api\"}[5m:30s])"#,
        ),
        // a binary operation with offset
        (
            "binary operation with offset",
            &api,
            r#"sum(rate(page_views_total{job=\"metrics-api\", page=\"$page\"}[$__rate_interval])) - sum(rate(page_views_total{job=\"metrics-api\", page=\"$page\"}[$__rate_interval] offset 1d))"#,
        ),
        // the pushed instance becomes the scrape target
        (
            "pushed instance",
            &api,
            r#"nodejs_heap_size_used_bytes{job=\"metrics-api\", instance=\"metrics-api:8080\"}"#,
        ),
        // label_values variables
        (
            "label_values",
            &api,
            r#"label_values(page_views_total{job=\"metrics-api\"}, page)"#,
        ),
        // rule files
        (
            "recording rule",
            &rules,
            r#"rate(page_views_total{job="metrics-api"}[5m])"#,
        ),
        (
            "recording rule with instance",
            &rules,
            r#"rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m])"#,
        ),
        // what stays: the gateway's own metrics and the push times
        ("gateway up", &health, r#"up{job=\"pushgateway\"}"#),
        (
            "gateway's own requests",
            &health,
            r#"pushgateway_http_requests_total{job=\"pushgateway\"}"#,
        ),
        (
            "push age",
            &overview,
            r#"push_time_seconds{job=\"pushgateway\", instance=\"app-1\"}"#,
        ),
        (
            "push age alert",
            &rules,
            r#"push_time_seconds{job="pushgateway"} > 300"#,
        ),
        // a family both export, with nothing saying whose: reported, kept
        (
            "shared family",
            &health,
            r#"process_resident_memory_bytes{job=\"pushgateway\"}"#,
        ),
    ] {
        assert!(
            text.contains(expected),
            "{what}: `{expected}` not in:\n{}",
            exprs(text).join("\n")
        );
    }
    for (model, path) in [
        ("V2 Resource", "grafana/dashboards/metrics-api.v2.json"),
        ("V1 Resource", "grafana/dashboards/billing.v1.json"),
    ] {
        let text = p.read(path);
        let left: Vec<String> = exprs(&text)
            .into_iter()
            .filter(|l| l.contains(r#"job=\"pushgateway\""#) && !l.contains("push_time_seconds"))
            .collect();
        assert!(
            left.is_empty(),
            "{model}: still on the gateway's job:\n{}",
            left.join("\n")
        );
        assert!(text.contains(r#"job=\"metrics-api\""#), "{model} was rewritten");
    }
    if require_tool("promtool") {
        let check = std::process::Command::new("promtool")
            .args(["check", "rules"])
            .arg(p.file("prometheus/rules/pushgateway.yml"))
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    }
}

#[test]
fn a_pin_wins_over_what_the_stack_says() {
    let p = pullover().stack("seed");
    p.write(
        "pullover.yaml",
        "apps:\n  - service: metrics-api\n    pushed_job: metrics-api\n    pushed_instances: [app-1]\n",
    );
    let run = p.run(["analyze"]);
    run.success();
    assert!(
        run.stdout
            .contains("[pushed-identity-pinned-over-evidence] pullover.yaml pins metrics-api to job \"metrics-api\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("its code: `pushAdd` at metrics-api/server.js:121"),
        "{}",
        run.stdout
    );
    // With the pin, job="pushgateway" holds only the gateway's own metrics: nothing moves there.
    assert!(
        run.stdout.contains("[matches-nothing-under-honor-labels]"),
        "{}",
        run.stdout
    );
}

#[test]
fn code_and_dashboards_that_disagree_wait_for_a_decision_and_the_plan_says_so() {
    let p = pullover().stack("seed");
    // The code now pushes under the app's own name, the dashboards still read job="pushgateway".
    let server = p
        .read("metrics-api/server.js")
        .replace("jobName: 'pushgateway'", "jobName: 'metrics-api'");
    p.write("metrics-api/server.js", &server);
    p.run(["apply", "scrape", "--yes"]).success();
    // dual-run writes a comparison of the pushed copy: not on a guess of which job it is.
    let before = p.hashes();
    let dual = p.run(["apply", "dual-run", "--yes"]);
    dual.code(1);
    assert!(dual.stderr.contains("undecided"), "{}", dual.stderr);
    assert!(
        dual.stderr.contains("pushed_job"),
        "the key that settles it: {}",
        dual.stderr
    );
    assert_eq!(p.hashes(), before, "nothing was written");
}

#[test]
fn undecided_queries_are_pending_work_not_no_changes() {
    let p = pullover().stack("seed");
    let server = p
        .read("metrics-api/server.js")
        .replace("jobName: 'pushgateway'", "jobName: 'metrics-api'");
    p.write("metrics-api/server.js", &server);
    let plan = p.run(["plan", "dashboards"]);
    plan.success();
    assert!(!plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(plan.stdout.contains("[pushed-identity-undecided]"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("its code: `pushAdd` at metrics-api/server.js:121 pushes as job \"metrics-api\""),
        "both sides are named: {}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("select its metrics with job=\"pushgateway\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("[waits-for-pushed-identity] (waits)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("wait for a decision"), "{}", plan.stdout);
    p.run(["plan", "dashboards", "--detailed-exitcode"]).code(2);
    let json = p.run(["--format", "json", "plan", "dashboards"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let waiting = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["waits"] == true)
        .count();
    assert!(waiting > 10, "{waiting}");

    // Pinning settles it: the queries move.
    p.write(
        "pullover.yaml",
        "apps:\n  - service: metrics-api\n    pushed_job: pushgateway\n",
    );
    let settled = p.run(["plan", "dashboards"]);
    assert!(!settled.stdout.contains("(waits)"), "{}", settled.stdout);
    assert!(
        settled
            .stdout
            .contains(r#"+          "expr": "sum(rate(http_requests_total{job=\"metrics-api\""#)
            || settled.stdout.contains(r#"job=\"metrics-api\""#),
        "{}",
        settled.stdout
    );
}

#[test]
fn init_never_writes_a_guess_as_a_fact() {
    let p = pullover().stack("seed");
    // Nothing says which job it pushes as: no push call, no query on its metrics.
    let server = p.read("metrics-api/server.js").replace(
        "await gateway.pushAdd({ jobName: 'pushgateway', groupings: { instance: 'app-1' } });",
        "",
    );
    p.write("metrics-api/server.js", &server);
    for dashboard in ["metrics-api.json", "website-overview.json", "pushgateway-health.json"] {
        p.write(
            &format!("grafana/dashboards/{dashboard}"),
            "{\"title\": \"x\", \"panels\": []}\n",
        );
    }
    p.write("prometheus/rules/pushgateway.yml", "groups: []\n");
    p.run(["init", "--yes"]).success();
    let written = p.read("pullover.yaml");
    assert!(
        !written.lines().any(|l| l.trim_start().starts_with("pushed_job:")),
        "{written}"
    );
    assert!(written.contains("# pushed_job: metrics-api"), "{written}");
    assert!(written.contains("assumed"), "{written}");

    // In the user's shape init writes what the evidence says, with the evidence.
    let q = pullover().stack("seed");
    q.run(["init", "--yes"]).success();
    let written = q.read("pullover.yaml");
    assert!(written.contains("    pushed_job: pushgateway\n"), "{written}");
    assert!(written.contains("metrics-api/server.js:121"), "{written}");
}
