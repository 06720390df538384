//! The dashboards phase learns pushed groups from a live Pushgateway and Prometheus when their
//! URLs are given: what the queries alone cannot tell (an instance hidden in a regex with a
//! variable) comes from `/api/v1/metrics` or `push_time_seconds`, and says where it came from.

use std::time::Duration;

use crate::support::live::eventually;
use crate::support::live::free_port;
use crate::support::live::http_request;
use crate::support::live::stack::{LiveStack, StackOptions};
use crate::support::pullover;

/// A panel whose instance matcher names the pushed instance only next to a variable: the files
/// alone say nothing for certain about `app-7`.
const BATCH_DASHBOARD: &str = r#"{
  "title": "Batch",
  "uid": "batch",
  "panels": [
    {"id": 1, "title": "Rows", "type": "timeseries",
     "targets": [{"refId": "A", "expr": "sum(rate(batch_rows_total{job=\"metrics-api\", instance=~\"app-7|$extra\"}[5m]))"}]}
  ]
}
"#;

const UNCHANGED: &str = r#"instance=~\"app-7|$extra\""#;
const REWRITTEN: &str = r#"instance=~\"metrics-api:8080|$extra\""#;

#[test]
fn pushed_groups_seen_live_teach_the_rewrite_what_the_files_cannot() {
    let Some(live) = LiveStack::start("dashboards-live-learning", StackOptions::default()) else {
        return;
    };
    // The app pushes under its own name here (the old seed's shape), so a group under that job
    // with another instance is its for certain only live.
    let stack = pullover().stack("seed-own-job");
    stack.write("grafana/dashboards/batch.json", BATCH_DASHBOARD);

    // From the files alone the regex keeps its alternative.
    let files_only = stack.run(["plan", "dashboards"]);
    files_only.success();
    assert!(
        files_only.stdout.contains("a/grafana/dashboards/metrics-api.json"),
        "{}",
        files_only.stdout
    );
    assert!(!files_only.stdout.contains("batch.json"), "{}", files_only.stdout);

    // A batch job pushes a group of its own, under the app's job.
    let (status, body) = http_request(
        live.pushgateway.addr,
        "PUT",
        "/metrics/job/metrics-api/instance/app-7",
        "# TYPE batch_rows_total counter\nbatch_rows_total 42\n",
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(status < 300, "push refused: {status} {body}");

    let gateway_url = live.pushgateway.url();
    let from_gateway = stack.run(["--pushgateway-url", gateway_url.as_str(), "plan", "dashboards"]);
    from_gateway.success();
    assert!(from_gateway.stdout.contains(REWRITTEN), "{}", from_gateway.stdout);
    assert!(
        from_gateway
            .stdout
            .lines()
            .any(|l| l.starts_with('-') && l.contains(UNCHANGED)),
        "{}",
        from_gateway.stdout
    );
    assert!(
        from_gateway
            .stdout
            .contains(&format!("the live Pushgateway at {gateway_url}")),
        "{}",
        from_gateway.stdout
    );

    // Prometheus knows the group from push_time_seconds once it has scraped the gateway.
    let prometheus_url = live.prometheus.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = live.prometheus_client();
    let scraped = runtime.block_on(eventually(Duration::from_secs(20), || {
        let client = client.clone();
        async move {
            let result = client
                .query(r#"push_time_seconds{instance="app-7"}"#, None)
                .await
                .ok()?;
            (!result.data.as_vector().is_empty()).then_some(())
        }
    }));
    assert!(scraped.is_some(), "Prometheus never scraped the app-7 group");
    let from_prometheus = stack.run(["--prometheus-url", prometheus_url.as_str(), "plan", "dashboards"]);
    from_prometheus.success();
    assert!(from_prometheus.stdout.contains(REWRITTEN), "{}", from_prometheus.stdout);
    assert!(
        from_prometheus
            .stdout
            .contains(&format!("the live Prometheus at {prometheus_url}")),
        "{}",
        from_prometheus.stdout
    );
    // analyze asks too, and shows the same plan for the query.
    let analyze = stack.run(["--pushgateway-url", gateway_url.as_str(), "--format", "json", "analyze"]);
    analyze.success();
    assert!(analyze.stdout.contains("metrics-api:8080|$extra"), "{}", analyze.stdout);
}

#[test]
fn a_pushgateway_that_does_not_answer_is_a_note_and_the_plan_reads_the_files() {
    // The app pushes under its own name here (the old seed's shape), so a group under that job
    // with another instance is its for certain only live.
    let stack = pullover().stack("seed-own-job");
    stack.write("grafana/dashboards/batch.json", BATCH_DASHBOARD);
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let run = stack.run(["--pushgateway-url", nowhere.as_str(), "plan", "dashboards"]);
    run.success();
    assert!(
        run.stderr.contains("cannot ask which groups are pushed") && run.stderr.contains("connection refused"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("learning them from the files alone"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("batch.json"), "{}", run.stdout);
    assert!(
        run.stdout.contains("a/grafana/dashboards/metrics-api.json"),
        "{}",
        run.stdout
    );
}
