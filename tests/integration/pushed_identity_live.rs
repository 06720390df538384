//! The whole migration against a real Prometheus and Pushgateway, for each way an app's pushed
//! series can be labelled, with nothing pinned about who pushes as what: pullover learns it
//! from the stack's queries and the live servers.
//!
//! - the user's own stack: `honor_labels: true`, the app pushes as job `pushgateway` (the
//!   gateway's own job name), dashboards select `job="pushgateway"`;
//! - the app pushes under its own name (`job="metrics-api"`);
//! - `honor_labels: false`: `job="pushgateway", exported_job="metrics-api"`.
//!
//! Each: scrape → verify 0; dual-run → verify 0 (the comparison finds the pushed copy);
//! dashboards → its gate opens and the queries move; remove → its gate opens;
//! `rollback --to baseline --reload` gives every byte back.

use std::fs;
use std::time::Duration;

use crate::support::live::eventually;
use crate::support::live::stack::{LiveStack, StackOptions};
use crate::support::{Pullover, Run, pullover};

struct Shape {
    test: &'static str,
    stack: &'static str,
    honor_labels: bool,
    pushed_job: &'static str,
    /// The matchers that pick the app's pushed series, as the dashboards write them (JSON).
    pushed: &'static str,
}

fn dashboard(pushed: &str) -> String {
    r#"{
  "title": "E2E",
  "uid": "e2e",
  "panels": [
    {"id": 1, "title": "Page views", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "sum by (page) (rate(page_views_total{PUSHED, page=~\"$page\"}[$__rate_interval]))"}]},
    {"id": 2, "title": "Requests", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{PUSHED}[$__rate_interval]))"}]},
    {"id": 3, "title": "Latency p90", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket{PUSHED}[$__rate_interval])))"}]},
    {"id": 4, "title": "Last push", "type": "stat",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "time() - push_time_seconds{PUSHED}"}]}
  ],
  "templating": {"list": [
    {"name": "page", "type": "query", "datasource": {"type": "prometheus", "uid": "prom"},
     "definition": "label_values(page_views_total{PUSHED}, page)",
     "query": "label_values(page_views_total{PUSHED}, page)",
     "multi": true, "includeAll": false}
  ]}
}
"#
    .replace("PUSHED", pushed)
}

fn run(stack: &Pullover, args: &[&str]) -> Run {
    let run = stack.run(args);
    eprintln!(
        "$ pullover {} -> {:?}\n{}{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    run
}

fn migrate(shape: Shape) {
    let stack = pullover().stack(shape.stack);
    stack.write("grafana/dashboards/e2e.json", &dashboard(shape.pushed));
    let config = stack.file("prometheus/prometheus.yml");
    let options = StackOptions {
        // Pushes 4× per scrape keep the pushed values within a quarter second of the served ones.
        push_interval: Duration::from_millis(250),
        honor_labels: shape.honor_labels,
        pushed_job: shape.pushed_job,
        ..StackOptions::default()
    };
    let honor_labels = shape.honor_labels;
    let Some(live) = LiveStack::start_with(shape.test, options, |_, _, gateway, _| {
        let mut text = fs::read_to_string(&config)
            .unwrap()
            .replace("pushgateway:9091", &gateway.to_string())
            .replace("scrape_interval: 15s", "scrape_interval: 1s")
            .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
        if !honor_labels {
            text = text.replace("    honor_labels: true\n", "");
        }
        fs::write(&config, text).unwrap();
        config.clone()
    }) else {
        return;
    };
    // Only where the app is and where Prometheus is: who pushes as what is not pinned.
    stack.write(
        "pullover.yaml",
        &format!(
            "gateway:\n  job: pushgateway\napps:\n  - service: \"127.0.0.1\"\n    port: {}\n    job: metrics-api\n\
             scrape:\n  interval: 1s\nlive:\n  prometheus_url: {}\n  pushgateway_url: {}\n",
            live.app.addr.port(),
            live.prometheus.url(),
            live.pushgateway.url()
        ),
    );
    let baseline = stack.hashes();
    let scraped = live.app_instance();

    let analyze = run(&stack, &["analyze"]);
    analyze.success();
    assert!(
        analyze
            .stdout
            .contains(&format!("pushes as job \"{}\"", shape.pushed_job)),
        "{}",
        analyze.stdout
    );

    run(&stack, &["apply", "scrape", "--yes", "--reload"]).success();
    run(&stack, &["verify"]).success();

    run(&stack, &["apply", "dual-run", "--yes", "--reload"]).success();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = live.prometheus_client();
    let history = format!("count_over_time(up{{job=\"metrics-api\", instance=\"{scraped}\"}}[6s])");
    let ready = runtime.block_on(eventually(Duration::from_secs(30), || {
        let client = client.clone();
        let history = history.clone();
        async move {
            let result = client.query(&history, None).await.ok()?;
            (result.data.as_vector().first()?.sample.value >= 6.0).then_some(())
        }
    }));
    assert!(ready.is_some(), "no 6 s of scrape history");
    let dual = run(&stack, &["verify", "--window", "5s", "--tolerance", "20%"]);
    dual.success();
    assert!(
        dual.stdout.contains(&format!("app-1 → {scraped}: ")) && dual.stdout.contains("agree with the scraped ones"),
        "the comparison finds the pushed copy: {}",
        dual.stdout
    );

    let dashboards = run(
        &stack,
        &["apply", "dashboards", "--yes", "--window", "5s", "--tolerance", "20%"],
    );
    dashboards.success();
    let rewritten = stack.read("grafana/dashboards/e2e.json");
    assert!(
        rewritten.contains(&format!(
            r#"page_views_total{{job=\"metrics-api\", instance=\"{scraped}\", page=~\"$page\"}}"#
        )),
        "{rewritten}"
    );
    assert!(
        rewritten.contains(&format!(
            r#"label_values(page_views_total{{job=\"metrics-api\", instance=\"{scraped}\"}}, page)"#
        )),
        "{rewritten}"
    );
    assert!(
        rewritten.contains(&format!("push_time_seconds{{{}}}", shape.pushed)),
        "{rewritten}"
    );

    let remove = run(&stack, &["apply", "remove", "--yes", "--tolerance", "20%"]);
    remove.success();
    assert!(
        remove.stderr.contains("gate before `remove` is open"),
        "{}",
        remove.stderr
    );

    run(&stack, &["rollback", "--to", "baseline", "--yes", "--reload"]).success();
    assert_eq!(stack.hashes(), baseline, "every byte back");
}

#[test]
fn the_users_stack_app_pushing_as_job_pushgateway_under_honor_labels() {
    migrate(Shape {
        test: "identity-live-gateway-job",
        stack: "seed",
        honor_labels: true,
        pushed_job: "pushgateway",
        pushed: r#"job=\"pushgateway\", instance=\"app-1\""#,
    });
}

#[test]
fn an_app_pushing_under_its_own_name_under_honor_labels() {
    migrate(Shape {
        test: "identity-live-own-job",
        stack: "seed-own-job",
        honor_labels: true,
        pushed_job: "metrics-api",
        pushed: r#"job=\"metrics-api\", instance=\"app-1\""#,
    });
}

#[test]
fn an_app_pushing_without_honor_labels() {
    migrate(Shape {
        test: "identity-live-exported",
        stack: "seed-own-job",
        honor_labels: false,
        pushed_job: "metrics-api",
        pushed: r#"job=\"pushgateway\", exported_job=\"metrics-api\", exported_instance=\"app-1\""#,
    });
}
