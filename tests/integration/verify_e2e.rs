//! `pullover verify`, the apply gate and `--reload`, end to end: the real binary on a copy of
//! the seed stack whose prometheus.yml is the file a real Prometheus loads, next to a real
//! Pushgateway and a metrics app that pushes and serves the same counters.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use crate::support::live::app::MetricsApp;
use crate::support::live::eventually;
use crate::support::live::fake_http::{Canned, FakeHttp, SeenRequest};
use crate::support::live::stack::{LiveStack, StackOptions};
use crate::support::{Pullover, Run, pullover};
use pullover::live::PrometheusClient;
use pullover::verify::reload::LiveConfig;

/// A dashboard over the test app's series, as a stack would have it before the migration:
/// pushed series picked by `instance="app-1"`, a `$page` variable, `$__rate_interval`.
const E2E_DASHBOARD: &str = r#"{
  "title": "E2E",
  "uid": "e2e",
  "panels": [
    {"id": 1, "title": "Page views", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "sum by (page) (rate(page_views_total{job=\"metrics-api\", instance=\"app-1\", page=~\"$page\"}[$__rate_interval]))"}]},
    {"id": 2, "title": "Requests", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{job=\"metrics-api\", instance=\"app-1\"}[$__rate_interval]))"}]},
    {"id": 3, "title": "Queue", "type": "stat",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "queue_depth{job=\"metrics-api\", instance=\"app-1\"}"}]},
    {"id": 4, "title": "Latency p90", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket{job=\"metrics-api\", instance=\"app-1\"}[$__rate_interval])))"}]},
    {"id": 5, "title": "Last push", "type": "stat",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "time() - push_time_seconds{job=\"metrics-api\", instance=\"app-1\"}"}]}
  ],
  "templating": {"list": [
    {"name": "page", "type": "query", "datasource": {"type": "prometheus", "uid": "prom"},
     "definition": "label_values(page_views_total{job=\"metrics-api\", instance=\"app-1\"}, page)",
     "query": "label_values(page_views_total{job=\"metrics-api\", instance=\"app-1\"}, page)",
     "multi": true, "includeAll": false}
  ]}
}
"#;

const E2E_RULES: &str = r#"groups:
  - name: e2e
    rules:
      - record: e2e:page_views:rate4s
        expr: sum by (page) (rate(page_views_total{job="metrics-api", instance="app-1"}[4s]))
"#;

/// The seed stack pointed at a live Pushgateway, Prometheus and metrics app (the report
/// tests use it too).
pub(crate) struct E2e {
    pub(crate) live: LiveStack,
    pub(crate) stack: Pullover,
    runtime: tokio::runtime::Runtime,
    /// sha256 of every stack file before any phase.
    baseline: BTreeMap<String, String>,
}

impl E2e {
    pub(crate) fn start(test: &str) -> Option<E2e> {
        // Pushes 4× per scrape keep the pushed values within a quarter second of the served
        // ones, so short rate windows agree.
        E2e::start_pushing_every(test, Duration::from_millis(250))
    }

    pub(crate) fn start_pushing_every(test: &str, push_interval: Duration) -> Option<E2e> {
        // The app pushes under its own name here; tests/integration/pushed_identity_live.rs runs
        // the user's shape (pushed as job `pushgateway`).
        let stack = pullover().stack("seed-own-job");
        stack.write("grafana/dashboards/e2e.json", E2E_DASHBOARD);
        stack.write("prometheus/rules/e2e.yml", E2E_RULES);
        let config = stack.file("prometheus/prometheus.yml");
        let options = StackOptions {
            push_interval,
            ..StackOptions::default()
        };
        let live = LiveStack::start_with(test, options, |_, _, gateway, _| {
            let text = fs::read_to_string(&config)
                .unwrap()
                .replace("pushgateway:9091", &gateway.to_string())
                .replace("scrape_interval: 15s", "scrape_interval: 1s")
                .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
            fs::write(&config, text).unwrap();
            config.clone()
        })?;
        stack.write(
            "pullover.yaml",
            &format!(
                "gateway:\n  job: pushgateway\napps:\n  - service: \"127.0.0.1\"\n    port: {}\n    job: metrics-api\n    \
                 pushed_job: metrics-api\n    pushed_instances: [app-1]\nscrape:\n  interval: 1s\nlive:\n  prometheus_url: {}\n",
                live.app.addr.port(),
                live.prometheus.url()
            ),
        );
        let baseline = stack.hashes();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Some(E2e {
            live,
            stack,
            runtime,
            baseline,
        })
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let run = self.stack.run(args);
        eprintln!(
            "$ pullover {} -> {:?} in {:?}\n{}{}",
            args.join(" "),
            run.code,
            started.elapsed(),
            run.stdout,
            run.stderr
        );
        run
    }

    fn client(&self) -> PrometheusClient {
        self.live.prometheus_client()
    }

    pub(crate) fn app_instance(&self) -> String {
        self.live.app_instance()
    }

    /// Waits until `query` returns a first value for which `ok` holds.
    fn wait_for(&self, what: &str, query: &str, deadline: Duration, ok: impl Fn(f64) -> bool) {
        let client = self.client();
        let ok = &ok;
        let found = self.runtime.block_on(eventually(deadline, || {
            let client = client.clone();
            async move {
                let result = client.query(query, None).await.ok()?;
                let value = result.data.as_vector().first()?.sample.value;
                ok(value).then_some(())
            }
        }));
        assert!(found.is_some(), "{what}: `{query}` not there within {deadline:?}");
    }

    /// Waits until the new scrape job has samples across `window`, so rates over it compare.
    pub(crate) fn wait_for_history(&self, window: Duration) {
        let query = format!(
            "count_over_time(up{{job=\"metrics-api\", instance=\"{}\"}}[{}ms])",
            self.app_instance(),
            window.as_millis()
        );
        let needed = window.as_secs_f64();
        self.wait_for("scrape history", &query, window * 3, |count| count >= needed);
    }

    /// A running stack, as an operator's is: the gateway's target scraped once (the baseline
    /// checks look at it).
    pub(crate) fn wait_for_gateway(&self) {
        self.wait_for(
            "the gateway's target up",
            "up{job=\"pushgateway\"}",
            Duration::from_secs(20),
            |up| up == 1.0,
        );
    }

    fn running_config(&self) -> LiveConfig {
        let yaml = self.runtime.block_on(self.client().status_config()).unwrap();
        LiveConfig::parse(&yaml).unwrap()
    }
}

#[test]
fn scrape_then_dual_run_pass_and_a_disagreeing_app_fails_naming_the_metric() {
    let Some(e2e) = E2e::start("verify-e2e-dual-run") else {
        return;
    };
    let instance = e2e.app_instance();

    // Before `scrape`: the app's /metrics, found from its scrape target 127.0.0.1:<port>, and
    // Prometheus runs the gateway's job as the files say.
    e2e.wait_for_gateway();
    let baseline = e2e.run(&["verify"]);
    baseline.success();
    assert!(
        baseline.stdout.contains("Checks before `scrape`"),
        "{}",
        baseline.stdout
    );
    assert!(
        baseline.stdout.contains(&format!(
            "✓ app /metrics     127.0.0.1: http://{instance}/metrics (URL from its scrape target): valid text format, 5 families"
        )),
        "{}",
        baseline.stdout
    );

    // `apply scrape --reload`: written, reloaded, and the new target scraped before it returns.
    let scrape = e2e.run(&["apply", "scrape", "--yes", "--reload"]);
    scrape.success();
    assert!(
        scrape
            .stderr
            .contains("Prometheus reloaded and runs the new configuration (settled after"),
        "{}",
        scrape.stderr
    );
    assert!(e2e.running_config().jobs.contains(&"metrics-api".to_string()));
    let after_scrape = e2e.run(&["verify"]);
    after_scrape.success();
    let lines: Vec<&str> = after_scrape.stdout.lines().collect();
    assert!(
        lines[1].starts_with("✓ running config   127.0.0.1: Prometheus runs job `metrics-api`"),
        "{}",
        after_scrape.stdout
    );
    assert!(
        lines[2].starts_with("✓ running config   pushgateway: Prometheus runs the Pushgateway's job `pushgateway`"),
        "{}",
        after_scrape.stdout
    );
    assert!(
        lines[3].starts_with(&format!(
            "✓ target           127.0.0.1: job `metrics-api` target {instance} is up"
        )),
        "{}",
        after_scrape.stdout
    );
    assert!(
        lines[4].starts_with("✓ scrape duration  127.0.0.1: longest in the last 5m:"),
        "{}",
        after_scrape.stdout
    );

    // `apply dual-run --reload`: the scrape gate passes, the rule file is written and loaded.
    let dual_run = e2e.run(&["apply", "dual-run", "--yes", "--reload"]);
    dual_run.success();
    assert!(
        dual_run
            .stderr
            .contains("gate before `dual-run` is open: 4 checks after `scrape` passed"),
        "{}",
        dual_run.stderr
    );

    // A window longer than the new job's life cannot be judged yet: inconclusive, exit 3.
    let early = e2e.run(&["verify", "--window", "2m"]);
    early.code(3);
    assert!(early.stdout.contains("? dual-run"), "{}", early.stdout);
    // Both sources are younger than 2m; the check names whichever needs the longer wait
    // (on a loaded machine the gateway's first scrapes can lag the new job's).
    assert!(
        ["the scrape job `metrics-api`", "the pushed group"]
            .iter()
            .any(|side| early
                .stdout
                .contains(&format!("inconclusive: {side} has less history than the 2m window"))),
        "{}",
        early.stdout
    );
    assert!(early.stdout.contains("Not enough data yet to tell"), "{}", early.stdout);

    let window = Duration::from_secs(5);
    e2e.wait_for_history(window + Duration::from_secs(1));
    let agree = e2e.run(&["verify", "--window", "5s", "--tolerance", "20%"]);
    agree.success();
    assert!(
        agree.stdout.contains(&format!(
            "✓ dual-run         127.0.0.1 app-1 → {instance}: 6 pushed metrics agree with the scraped ones within 20% over 5s"
        )),
        "{}",
        agree.stdout
    );
    assert!(
        agree.stdout.contains("  http_requests_total                1    1"),
        "{}",
        agree.stdout
    );
    let json = e2e.run(&["--format", "json", "verify", "--window", "5s", "--tolerance", "0.2"]);
    json.success();
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["passed"], true);
    assert_eq!(report["stage"], "dual-run");
    assert_eq!(report["dual_run"][0]["pushed_instance"], "app-1");

    // The app's pushed counter starts growing twice as fast as the one it serves.
    e2e.live.app.diverge_pushed_values_from_now();
    e2e.wait_for(
        "diverged pushed rate",
        "rate(http_requests_total{instance=\"app-1\"}[5s])",
        Duration::from_secs(15),
        |rate| rate > 7.0,
    );
    let differs = e2e.run(&["verify", "--window", "5s", "--tolerance", "20%"]);
    differs.code(3);
    assert!(
        differs.stdout.contains(&format!(
            "✗ dual-run         127.0.0.1 app-1 → {instance}: http_requests_total differs by"
        )),
        "{}",
        differs.stdout
    );
    assert!(differs.stdout.contains("The gate is closed"), "{}", differs.stdout);
    let requests_row = differs
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("http_requests_total"))
        .unwrap();
    assert!(requests_row.ends_with("differs"), "{requests_row}");
}

#[test]
fn the_gate_refuses_until_prometheus_runs_the_job_then_dashboards_and_remove_verify_and_rollback_reloads() {
    let Some(e2e) = E2e::start("verify-e2e-dashboards") else {
        return;
    };
    // `scrape` written but Prometheus not reloaded: the gate before `dual-run` is closed.
    e2e.run(&["apply", "scrape", "--yes"]).success();
    let refused = e2e.run(&["apply", "dual-run", "--yes"]);
    refused.code(3);
    assert!(
        refused
            .stdout
            .contains("✗ running config   127.0.0.1: prometheus/prometheus.yml has job `metrics-api` but Prometheus runs a configuration without it"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("pullover verify --reload"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stderr.contains("refusing to apply `dual-run`"),
        "{}",
        refused.stderr
    );
    assert!(!e2e.stack.file("prometheus/rules/pullover-dual-run.yml").exists());

    // `verify --reload` reloads, waits for the new target, and the checks pass.
    let reloaded = e2e.run(&["verify", "--reload"]);
    reloaded.success();
    assert!(reloaded.stderr.contains("Prometheus reloaded"), "{}", reloaded.stderr);
    e2e.run(&["apply", "dual-run", "--yes", "--reload"]).success();

    // The real `dashboards` phase: its gate (pushed and scraped series agree) opens, then it
    // rewrites the e2e dashboard and rule file, and the seed's own, to the scraped target.
    let window = Duration::from_secs(5);
    e2e.wait_for_history(window + Duration::from_secs(1));
    let dashboards = e2e.run(&["apply", "dashboards", "--yes", "--window", "5s", "--tolerance", "20%"]);
    dashboards.success();
    assert!(
        dashboards.stderr.contains("gate before `dashboards` is open"),
        "{}",
        dashboards.stderr
    );
    let scraped = e2e.app_instance();
    let rewritten = e2e.stack.read("grafana/dashboards/e2e.json");
    assert!(
        rewritten.contains(&format!(
            r#"page_views_total{{job=\"metrics-api\", instance=\"{scraped}\", page=~\"$page\"}}"#
        )),
        "{rewritten}"
    );
    // push_time_seconds has no scraped twin: it stays, and is reported.
    assert!(
        rewritten.contains(r#"push_time_seconds{job=\"metrics-api\", instance=\"app-1\"}"#),
        "{rewritten}"
    );
    let status = e2e.run(&["status"]);
    assert!(status.stdout.contains("[x] 3 dashboards"), "{}", status.stdout);

    let queries = e2e.run(&["verify", "--tolerance", "20%"]);
    queries.success();
    let e2e_line = queries
        .stdout
        .lines()
        .find(|l| l.contains("grafana/dashboards/e2e.json"))
        .unwrap_or_else(|| panic!("{}", queries.stdout));
    assert!(
        e2e_line.starts_with("✓ queries") && e2e_line.ends_with("rewritten queries return what the originals did"),
        "{}",
        queries.stdout
    );
    assert!(
        queries
            .stdout
            .contains("✓ queries          prometheus/rules/e2e.yml: 1 rewritten query returns what the original did"),
        "{}",
        queries.stdout
    );
    let json = e2e.run(&["--format", "json", "verify", "--tolerance", "20%"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let pairs = report["queries"].as_array().unwrap();
    let page_views = pairs
        .iter()
        .find(|p| p["owner"] == "panel \"Page views\"")
        .unwrap_or_else(|| panic!("{:#}", report["queries"]));
    // Filled as Grafana would: the first value of $page, 4 × the 1 s scrape interval.
    assert_eq!(
        page_views["old_query"],
        "sum by (page) (rate(page_views_total{job=\"metrics-api\", instance=\"app-1\", page=~\"/\"}[4s]))"
    );
    assert_eq!(
        page_views["new_query"],
        format!(
            "sum by (page) (rate(page_views_total{{job=\"metrics-api\", instance=\"{scraped}\", page=~\"/\"}}[4s]))"
        )
    );
    assert!(
        report["stats"]["queries"].as_u64().unwrap() >= 12,
        "{:#}",
        report["stats"]
    );

    // The real `remove` phase: its gate (every rewritten query returns what the original did)
    // opens; after a reload no target and no fresh sample comes from the gateway, though its
    // series still answer queries for a few minutes.
    let remove = e2e.run(&["apply", "remove", "--yes", "--tolerance", "20%"]);
    remove.success();
    assert!(
        remove.stderr.contains("gate before `remove` is open"),
        "{}",
        remove.stderr
    );
    assert!(
        !e2e.stack
            .read("prometheus/prometheus.yml")
            .contains("job_name: pushgateway"),
        "{}",
        e2e.stack.read("prometheus/prometheus.yml")
    );
    let gone = e2e.run(&["verify", "--reload"]);
    gone.success();
    assert!(gone.stdout.contains("Checks after `remove`"), "{}", gone.stdout);
    assert!(
        gone.stdout
            .contains("✓ pushgateway gone targets: Prometheus scrapes no target of job `pushgateway`"),
        "{}",
        gone.stdout
    );
    assert!(
        gone.stdout
            .contains("✓ pushgateway gone samples: no sample from the Pushgateway newer than the removal"),
        "{}",
        gone.stdout
    );
    assert!(
        gone.stdout.contains("series from before still answer queries"),
        "{}",
        gone.stdout
    );

    // Roll everything back without reloading: the files are the seed's again, but Prometheus
    // still runs the post-`remove` configuration. The baseline checks look and say so.
    let rollback = e2e.run(&["rollback", "--to", "baseline", "--yes"]);
    rollback.success();
    assert_eq!(e2e.running_config().jobs, ["prometheus", "metrics-api"]);
    let stale = e2e.run(&["verify"]);
    stale.code(3);
    assert!(stale.stdout.contains("Checks before `scrape`"), "{}", stale.stdout);
    assert!(
        stale.stdout.contains(
            "✗ running config   pushgateway: prometheus/prometheus.yml has the Pushgateway's job `pushgateway` but Prometheus runs a configuration without it: it was not reloaded"
        ),
        "{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains(
            "✗ running config   127.0.0.1: Prometheus still runs job `metrics-api`, which prometheus/prometheus.yml no longer has"
        ),
        "{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains(
            "✗ target           pushgateway: Prometheus has no active target in the Pushgateway's job `pushgateway`"
        ),
        "{}",
        stale.stdout
    );
    assert!(stale.stdout.contains("pullover verify --reload"), "{}", stale.stdout);

    // `verify --reload`: Prometheus runs the seed's configuration again and the checks pass.
    let reloaded = e2e.run(&["verify", "--reload"]);
    reloaded.success();
    assert!(reloaded.stderr.contains("Prometheus reloaded"), "{}", reloaded.stderr);
    assert!(
        reloaded
            .stdout
            .contains("✓ running config   pushgateway: Prometheus runs the Pushgateway's job `pushgateway`"),
        "{}",
        reloaded.stdout
    );
    let gateway = e2e.live.pushgateway.addr;
    assert!(
        reloaded.stdout.contains(&format!(
            "✓ target           pushgateway: job `pushgateway` target {gateway} is up"
        )),
        "{}",
        reloaded.stdout
    );
    let running = e2e.running_config();
    assert_eq!(running.jobs, ["prometheus", "pushgateway"]);
    let groups: Vec<String> = e2e
        .runtime
        .block_on(e2e.client().rule_groups())
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!(!groups.contains(&"pullover-dual-run".to_string()), "{groups:?}");
    assert_eq!(e2e.stack.hashes(), e2e.baseline);
}

/// Every phase applied (gates forced: this test is about the checks after them), reloaded.
/// Returns what `apply dashboards` printed.
fn apply_every_phase(e2e: &E2e) -> String {
    e2e.run(&["apply", "scrape", "--yes", "--reload"]).success();
    let mut dashboards = String::new();
    for phase in ["dual-run", "dashboards", "remove"] {
        let run = e2e.run(&["apply", phase, "--yes", "--force", "--reload"]);
        run.success();
        if phase == "dashboards" {
            dashboards = format!("{}{}", run.stdout, run.stderr);
        }
    }
    dashboards
}

/// Whether `expr` returns anything now (an alert on it would fire).
fn fires(e2e: &E2e, expr: &str) -> bool {
    let result = e2e.runtime.block_on(e2e.client().query(expr, None)).unwrap();
    !result.data.as_vector().is_empty()
}

#[test]
fn after_remove_the_apps_target_is_still_checked_and_an_app_down_is_a_failed_check() {
    let Some(mut e2e) = E2e::start("verify-e2e-after-remove") else {
        return;
    };
    let before_scrape = std::time::SystemTime::now();
    let dashboards = apply_every_phase(&e2e);
    // `docs` reloads Prometheus again, a while after `remove`.
    std::thread::sleep(Duration::from_millis(1500));
    e2e.run(&["apply", "docs", "--yes", "--force", "--reload"]).success();
    // What `dashboards` suggests in place of the "Last push" staleness panel
    // (`time() - push_time_seconds{…}`), to be proved below.
    let suggestion = regex::Regex::new(r"suggested: `([^`]*absent[^`]*)`")
        .unwrap()
        .captures(&dashboards)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no suggestion for push_time_seconds: {dashboards}"));
    assert_eq!(
        suggestion,
        r#"up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})"#
    );
    assert!(!fires(&e2e, &suggestion), "fires while the app is up");
    let instance = e2e.app_instance();
    let app_url = format!("http://{instance}");

    // The gateway is stopped and the stack has no pullover.yaml (as `scripts/demo` runs): the
    // apps and the gateway's job come from what the phases journalled.
    e2e.live.pushgateway.stop();
    let settings = e2e.stack.read("pullover.yaml");
    fs::remove_file(e2e.stack.file("pullover.yaml")).unwrap();
    let prometheus = e2e.live.prometheus.url();
    let journalled = e2e.run(&["--prometheus-url", &prometheus, "verify"]);
    journalled.success();
    assert!(
        journalled
            .stderr
            .contains("using what the journal recorded when the phases were applied"),
        "{}",
        journalled.stderr
    );
    assert!(
        journalled.stdout.contains(&format!(
            "✓ target           127.0.0.1: job `metrics-api` target {instance} is up"
        )),
        "{}",
        journalled.stdout
    );
    assert!(
        journalled
            .stdout
            .contains("✓ pushgateway gone targets: Prometheus scrapes no target of job `pushgateway`"),
        "{}",
        journalled.stdout
    );
    // "Newer than the removal" is when `remove` was applied, not when `docs` was.
    let journal = e2e.stack.read(".pullover/journal.jsonl");
    let removed: serde_json::Value = journal
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|r| r["event"] == "begin" && r["phase"] == "remove")
        .unwrap();
    let removed_at = &removed["time"].as_str().unwrap()[..19];
    assert!(
        journalled.stdout.contains(&format!(
            "no sample from the Pushgateway newer than the removal (`remove` applied at {removed_at}Z; counted from Prometheus's last reload at"
        )),
        "{}\n{journal}",
        journalled.stdout
    );
    e2e.stack.write("pullover.yaml", &settings);

    // All well with the app up, its URL given.
    e2e.run(&["--app-url", &app_url, "verify"]).success();

    // The app goes down. After `docs` the target is still checked: exit 3 naming it.
    e2e.live.app.stop_serving();
    e2e.wait_for(
        "the app's target down",
        &format!("up{{job=\"metrics-api\", instance=\"{instance}\"}}"),
        Duration::from_secs(15),
        |up| up == 0.0,
    );
    let down = e2e.run(&["verify"]);
    down.code(3);
    assert!(down.stdout.contains("Checks after `docs`"), "{}", down.stdout);
    assert!(
        down.stdout.contains(&format!(
            "✗ target           127.0.0.1: job `metrics-api` target {instance} is down:"
        )),
        "{}",
        down.stdout
    );

    // With the app's URL: a failed /metrics check next to the target's, as valid JSON.
    let json = e2e.run(&["--app-url", &app_url, "--format", "json", "verify"]);
    json.code(3);
    let report: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(report["passed"], false);
    let checks = report["checks"].as_array().unwrap();
    let check = |kind: &str| {
        checks
            .iter()
            .find(|c| c["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} check: {:#}", report["checks"]))
    };
    assert_eq!(check("exposition")["status"], "fail");
    let detail = check("exposition")["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("cannot fetch /metrics: {app_url}/metrics: connection refused")),
        "{detail}"
    );
    assert_eq!(check("target")["status"], "fail");
    assert!(
        json.stderr.is_empty() || !json.stderr.contains("error:"),
        "{}",
        json.stderr
    );
    let text = e2e.run(&["--app-url", &app_url, "verify"]);
    text.code(3);
    assert!(
        text.stdout.contains(&format!(
            "✗ app /metrics     127.0.0.1: cannot fetch /metrics: {app_url}/metrics: connection refused"
        )),
        "{}",
        text.stdout
    );

    // The suggested replacement fires with the app down (its target down)…
    assert!(
        fires(&e2e, &suggestion),
        "`{suggestion}` does not fire with the app down"
    );
    // …and where the app has no target at all (here: before `scrape` added it; the same as a
    // target dropped from the configuration once its series go stale), where `up == 0` alone
    // has nothing to compare.
    let without_target = |expr: &str| {
        let result = e2e
            .runtime
            .block_on(e2e.client().query(expr, Some(before_scrape)))
            .unwrap();
        !result.data.as_vector().is_empty()
    };
    assert!(!without_target(r#"up{job="metrics-api"} == 0"#));
    assert!(
        without_target(&suggestion),
        "`{suggestion}` does not fire without a target"
    );
}

/// Raw counters and a short rate, as panels on the pushed series: what push lag and counter
/// resets throw off at one instant.
const LAG_DASHBOARD: &str = r#"{
  "title": "Lag",
  "uid": "lag",
  "panels": [
    {"id": 1, "title": "Views so far", "type": "stat",
     "targets": [{"refId": "A", "expr": "sum(page_views_total{job=\"metrics-api\", instance=\"app-1\"})"}]},
    {"id": 2, "title": "Requests so far", "type": "stat",
     "targets": [{"refId": "A", "expr": "http_requests_total{job=\"metrics-api\", instance=\"app-1\"}"}]},
    {"id": 3, "title": "Views per second", "type": "timeseries",
     "targets": [{"refId": "A", "expr": "sum(rate(page_views_total{job=\"metrics-api\", instance=\"app-1\"}[$__rate_interval]))"}]}
  ]
}
"#;

#[test]
fn twenty_dashboards_gate_runs_with_push_lag_and_a_counter_reset_never_say_differs() {
    // The app pushes every 2 s and is scraped every 1 s: the pushed copy lags by up to 3 s.
    let Some(e2e) = E2e::start_pushing_every("verify-e2e-lag", Duration::from_secs(2)) else {
        return;
    };
    // Only short ranges here: the seed's own dashboards (5m, 1h ranges) would be "cannot
    // tell yet" for their first hour.
    for file in [
        "grafana/dashboards/metrics-api.json",
        "grafana/dashboards/website-overview.json",
        "prometheus/rules/pushgateway.yml",
    ] {
        fs::remove_file(e2e.stack.file(file)).unwrap();
    }
    e2e.stack.write("grafana/dashboards/lag.json", LAG_DASHBOARD);
    e2e.run(&["apply", "scrape", "--yes", "--reload"]).success();
    e2e.run(&["apply", "dual-run", "--yes", "--force", "--reload"])
        .success();
    e2e.run(&["apply", "dashboards", "--yes", "--force"]).success();
    e2e.wait_for_history(Duration::from_secs(10));

    let (mut passed, mut cannot_tell, mut within_lag, mut dual_reset) = (0, 0, 0, 0);
    for run in 0..20 {
        if run == 8 {
            // The app restarts: both copies reset, the pushed one up to 3 s later.
            e2e.live.app.restart_counters();
        }
        let json = e2e.run(&["--format", "json", "verify"]);
        let report: serde_json::Value =
            serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("run {run}: {e}: {}", json.stdout));
        for pair in report["queries"].as_array().unwrap() {
            let (status, detail) = (pair["status"].as_str().unwrap(), pair["detail"].as_str().unwrap());
            assert_ne!(status, "fail", "run {run}: a false failure: {pair:#}");
            if status == "inconclusive" {
                assert!(detail.starts_with("cannot tell yet: "), "run {run}: {pair:#}");
            }
            if detail.contains("allowing for the push lag") {
                within_lag += 1;
            }
        }
        for check in report["checks"].as_array().unwrap() {
            assert_ne!(check["status"], "fail", "run {run}: {check:#}");
        }
        match json.code {
            Some(0) => passed += 1,
            Some(3) => cannot_tell += 1,
            other => panic!("run {run}: exit {other:?}: {}", json.stderr),
        }
        // The dual-run comparison over a window with the reset in it: never "differs" for
        // a counter that reset, "cannot tell yet" instead.
        let dual = e2e.run(&["--format", "json", "verify", "--after", "dual-run", "--window", "5s"]);
        let dual: serde_json::Value = serde_json::from_str(&dual.stdout).unwrap();
        for table in dual["dual_run"].as_array().unwrap() {
            let reset_and_differs = table["metrics"].as_array().unwrap().iter().any(|m| {
                m["verdict"] == "differs" && m["resets_old"].as_u64().unwrap() + m["resets_new"].as_u64().unwrap() > 0
            });
            if reset_and_differs {
                let check = dual["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["kind"] == "dual-run")
                    .unwrap();
                let detail = check["detail"].as_str().unwrap();
                if check["status"] == "inconclusive" && detail.contains("counter reset at") {
                    dual_reset += 1;
                } else {
                    // Another metric may differ for its own reasons; a reset one is never blamed.
                    assert!(!detail.contains("total differs"), "run {run}: {check:#}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "20 runs: {passed} passed, {cannot_tell} cannot tell yet; {within_lag} pairs agreed only allowing for the push lag; \
         dual-run: {dual_reset} runs said cannot tell yet for a counter reset"
    );
    assert!(passed >= 10, "{passed} of 20 runs passed");
    // Without allowing for the lag these pairs would have failed ("differs by …").
    assert!(within_lag > 0, "the pushed copy never lagged: the test proves nothing");
}

// ---- no Prometheus needed ----

#[test]
fn an_app_named_apart_from_its_address_gets_a_job_of_its_name() {
    let stack = pullover().stack("seed");
    let plan = stack.run(["--app", "metrics-api=127.0.0.1:38080", "plan", "scrape"]);
    plan.success();
    assert!(plan.stdout.contains("+  - job_name: metrics-api"), "{}", plan.stdout);
    assert!(plan.stdout.contains("127.0.0.1:38080"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("job_name: 127.0.0.1"), "{}", plan.stdout);
    let bad = stack.run(["--app", "=127.0.0.1:38080", "plan", "scrape"]);
    bad.code(1);
    assert!(bad.stderr.contains("expected NAME=HOST:PORT"), "{}", bad.stderr);
}

fn seed_after_scrape() -> Pullover {
    let stack = pullover().stack("seed");
    stack.run(["apply", "scrape", "--yes"]).success();
    stack
}

fn misbehave(request: &SeenRequest) -> Canned {
    let path = request.path.as_str();
    if path.starts_with("/broken/") {
        Canned::new(500, "text/plain", "internal oops")
    } else if path.starts_with("/garbage/") {
        Canned::new(200, "application/json", "{\"status\":\"succ")
    } else if path.starts_with("/slow/") {
        Canned::new(200, "application/json", "{}").after(Duration::from_secs(5))
    } else if path == "/bad-page/metrics" {
        Canned::new(
            200,
            "text/plain; version=0.0.4",
            "# TYPE jobs counter\njobs 1\njobs 2\nlatency{le=0.1} 3\n",
        )
    } else {
        Canned::new(404, "text/plain", "no such page")
    }
}

#[test]
fn an_unreachable_or_misbehaving_prometheus_is_a_clear_error_within_the_timeout() {
    let stack = seed_after_scrape();
    let server = FakeHttp::start(misbehave);
    let port = crate::support::live::free_port();
    let cases = [
        (format!("http://127.0.0.1:{port}"), "connection refused"),
        (format!("{}broken", server.url()), "HTTP 500: internal oops"),
        (format!("{}missing", server.url()), "HTTP 404: no such page"),
        (format!("{}garbage", server.url()), "unexpected response"),
        (format!("{}slow", server.url()), "timed out after 1s"),
    ];
    for (url, expected) in cases {
        let started = Instant::now();
        let run = stack.run(["--prometheus-url", &url, "verify", "--timeout", "1s"]);
        let took = started.elapsed();
        run.code(1);
        assert!(run.stderr.contains(expected), "{url}: {}", run.stderr);
        assert!(run.stderr.contains(url.trim_end_matches('/')), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(took < Duration::from_secs(4), "{url}: took {took:?}");
    }
}

#[test]
fn without_a_prometheus_url_the_checks_after_scrape_say_how_to_give_one() {
    let run = seed_after_scrape().run(["verify"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("the live checks after `scrape` need Prometheus, and no Prometheus URL is configured"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--prometheus-url URL"), "{}", run.stderr);
}

#[test]
fn an_unreachable_prometheus_keeps_the_gate_shut_unless_forced() {
    let stack = seed_after_scrape();
    let url = format!("http://127.0.0.1:{}", crate::support::live::free_port());
    let refused = stack.run([
        "--prometheus-url",
        &url,
        "apply",
        "dual-run",
        "--yes",
        "--timeout",
        "1s",
    ]);
    refused.code(1);
    assert!(
        refused.stderr.contains("cannot check the gate before `dual-run`"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    let reload_without_url = stack.run(["apply", "dual-run", "--yes", "--reload"]);
    reload_without_url.code(1);
    assert!(
        reload_without_url.stderr.contains("--reload needs Prometheus"),
        "{}",
        reload_without_url.stderr
    );
    let forced = stack.run(["--prometheus-url", &url, "apply", "dual-run", "--yes", "--force"]);
    forced.success();
    assert!(
        forced
            .stderr
            .contains("--force: NOT checking the gate before `dual-run`"),
        "{}",
        forced.stderr
    );
}

fn write_settings(stack: &Pullover, app_port: u16) {
    stack.write(
        "pullover.yaml",
        &format!(
            "apps:\n  - service: \"127.0.0.1\"\n    port: {app_port}\n    job: metrics-api\n    pushed_job: metrics-api\n"
        ),
    );
}

#[test]
fn before_scrape_the_apps_metrics_page_is_checked_for_format_size_and_time() {
    let app = MetricsApp::start(None);
    let stack = pullover().stack("seed");
    write_settings(&stack, app.addr.port());
    let run = stack.run(["verify"]);
    run.success();
    let line = run.stdout.lines().nth(1).unwrap();
    let shape = regex::Regex::new(
        r"^✓ app /metrics     127\.0\.0\.1: http://127\.0\.0\.1:\d+/metrics \(URL from its scrape target\): valid text format, 5 families, 9 series, \d+(\.\d KiB| B) in \d+ms$",
    )
    .unwrap();
    assert!(shape.is_match(line), "{line}");

    let server = FakeHttp::start(misbehave);
    let broken = stack.run([
        "--app-url",
        &format!("{}bad-page", server.url()),
        "--format",
        "json",
        "verify",
    ]);
    broken.code(3);
    let report: serde_json::Value = serde_json::from_str(&broken.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["checks"][0]["status"], "fail");
    assert_eq!(
        report["exposition"][0]["errors"][0],
        "4:12: error: the value of label le must be in double quotes"
    );
    assert_eq!(report["exposition"][0]["duplicate_series"][0], "jobs (lines 2, 3)");

    let unreachable = stack.run([
        "--app-url",
        &format!("http://127.0.0.1:{}", crate::support::live::free_port()),
        "verify",
    ]);
    // An app that does not answer is a failed check (exit 3), not an error.
    unreachable.code(3);
    assert!(
        unreachable.stdout.contains("✗ app /metrics") && unreachable.stdout.contains("connection refused"),
        "{}",
        unreachable.stdout
    );
    assert!(
        unreachable
            .stdout
            .contains("check that the app runs and serves its metrics at that URL"),
        "{}",
        unreachable.stdout
    );
}

#[test]
fn verify_load_flags_a_slow_metrics_page_passes_a_fast_one_and_sends_a_bounded_burst_to_this_machine_only() {
    let app = MetricsApp::start(None);
    let stack = pullover().stack("seed");
    write_settings(&stack, app.addr.port());
    let url = app.url();

    // A fast /metrics: 40 requests per measurement, 4 at a time; the app's page timed alone
    // and next to /metrics requests.
    let before = app.served_requests();
    let fast = stack.run([
        "--app-url",
        url.as_str(),
        "--format",
        "json",
        "verify",
        "--load",
        "--load-requests",
        "40",
        "--load-url",
        url.as_str(),
    ]);
    fast.success();
    let report: serde_json::Value = serde_json::from_str(&fast.stdout).unwrap();
    let load = &report["load"];
    eprintln!("fast: {load:#}");
    assert_eq!(load["metrics"]["requests"], 40);
    assert_eq!(load["metrics"]["errors"], 0);
    assert!(load["metrics"]["p99_seconds"].as_f64().unwrap() < 0.5, "{load:#}");
    assert!(load["user_alone"]["p50_seconds"].as_f64().is_some(), "{load:#}");
    assert!(load["user_with_metrics"]["p99_seconds"].as_f64().is_some(), "{load:#}");
    // The new job scrapes as often as the gateway job did (15s in the seed).
    assert_eq!(load["scrape_interval_seconds"], 15.0);
    let checks = report["checks"].as_array().unwrap();
    let metrics_check = checks.iter().find(|c| c["kind"] == "load").unwrap();
    assert_eq!(metrics_check["status"], "pass", "{metrics_check:#}");
    // Bounded: the /metrics check, 40 to /metrics, 40 + 40 to the page, 40 more to /metrics.
    assert_eq!(app.served_requests() - before, 1 + 40 * 4);

    // A slow /metrics (300 ms a page, served one at a time): flagged, with the numbers.
    app.set_metrics_delay(Duration::from_millis(300));
    let slow = stack.run(["--app-url", url.as_str(), "verify", "--load", "--load-requests", "12"]);
    slow.success();
    let line = slow
        .stdout
        .lines()
        .find(|l| l.contains("load") && l.contains("/metrics"))
        .unwrap_or_else(|| panic!("{}", slow.stdout));
    assert!(line.starts_with("! load"), "{}", slow.stdout);
    assert!(line.contains("slow — p99 is"), "{}", slow.stdout);
    assert!(line.contains("12 requests, 4 at a time: p50"), "{}", slow.stdout);

    // Anywhere but this machine: refused before a single request.
    let remote = stack.run(["--app-url", "http://192.0.2.10:8080", "verify", "--load"]);
    remote.code(1);
    assert!(
        remote
            .stderr
            .contains("--load sends a burst of requests, and only to this machine"),
        "{}",
        remote.stderr
    );
}
