//! Phase 5 `docs`: only the architecture hop and the metrics-flow section
//! change, every remaining mention is listed with file:line:col, and the
//! change rolls back byte for byte.
//!
//! `apply docs` refuses until phases 1–4 are applied, and `dashboards` and
//! `remove` are not in this version yet; so the round trip writes the docs
//! plan through the same engine `apply` uses, then runs the real `rollback`.

use std::collections::BTreeMap;

use pullover::phase::docs;
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;
use pullover::state::StateDir;
use pullover::state::engine;
use pullover::state::journal::Action;
use regex::Regex;

use crate::support::{Pullover, pullover, stacks};

#[test]
fn seed_docs_plan_rewrites_the_architecture_line_and_the_metrics_flow_and_lists_the_rest() {
    let p = pullover().stack("seed");
    let run = p.run(["plan", "docs"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 5/5 `docs`: update the docs and list what is left for a person

    diff --git a/METRICS.md b/METRICS.md
    --- a/METRICS.md
    +++ b/METRICS.md
    @@ -2,21 +2,16 @@
     
     ## Metrics flow
     
    -1. A visitor opens a page on the website; the page sends
    -   `POST /events {"page": "/", "country": "de"}` to the metrics API.
    -2. The metrics API counts the event in its `prom-client` registry.
    -3. Every 15 seconds the metrics API pushes its whole registry to the
    -   Pushgateway at `http://pushgateway:9091` as job `pushgateway`, instance
    -   `app-1` (`pushAdd`).
    -4. Prometheus scrapes the Pushgateway every 15 seconds. Because the
    -   `pushgateway` job has `honor_labels: true`, the series keep the pushed labels
    -   `job="pushgateway", instance="app-1"`. The Pushgateway's own metrics carry
    -   `job="pushgateway"` too, with `instance="pushgateway:9091"`: the dashboards
    -   tell the two apart by metric name and instance.
    -5. Grafana queries Prometheus.
    +1. `metrics-api` keeps its metrics in its own registry and serves them in the
    +   Prometheus text format at `GET /metrics` on port 8080.
    +2. Prometheus scrapes `metrics-api:8080` as job `metrics-api` every 15s.
    +   The series carry the labels of the target they were scraped from
    +   (`job="metrics-api", instance="metrics-api:8080"`).
    +3. Grafana queries Prometheus.
     
    -The metrics API serves no `GET /metrics`: nothing can scrape it directly, so
    -pushing is the only way its counters reach Prometheus.
    +Nothing is pushed any more: when an app stops, its target goes down
    +(`up == 0`) and its series go stale, so no "last push" timestamp is needed
    +to notice it.
     
     ## Application metrics
     

    diff --git a/README.md b/README.md
    --- a/README.md
    +++ b/README.md
    @@ -5,7 +5,7 @@
     
     ## Architecture
     
    -Website → Metrics API (8080) → Pushgateway (9091) → Prometheus (9090) → Grafana
    +Website → Metrics API (8080) /metrics ←scrape─ Prometheus (9090) → Grafana
     
     - **Website** (nginx, port 8000) serves `website/index.html`, which reports
       each page view to the metrics API.

    Findings:
      todo [pushgateway-mention] the docs mention the Pushgateway: and pushes them to the Pushgateway every 15 seconds (`PUSH_INTERVAL_SECONDS`).
             --> README.md:13:26
      todo [pushgateway-mention] the docs mention the Pushgateway: - **Pushgateway** (port 9091) holds the last pushed values; its data survives
             --> README.md:14:5
      todo [pushgateway-mention] the docs mention the Pushgateway: restarts in the `pushgateway_data` volume.
             --> README.md:15:20
      todo [pushgateway-mention] the docs mention the Pushgateway: - **Prometheus** (port 9090) scrapes the Pushgateway (`honor_labels: true`) and
             --> README.md:16:42
      todo [pushgateway-mention] the docs mention the Pushgateway: Prometheus is on http://localhost:9090 and the Pushgateway on
             --> README.md:30:48
      todo [pushgateway-mention] the docs mention the Pushgateway: | `prometheus/rules/pushgateway.yml` | alerts and recording rules |
             --> README.md:43:21
      todo [pushgateway-mention] the docs mention the Pushgateway: | `grafana/dashboards/` | Website Overview, Metrics API, Pushgateway Health |
             --> README.md:45:58
      todo [pushgateway-mention] the docs mention the Pushgateway: ## Pushgateway metrics
             --> METRICS.md:25:4
      todo [pushgateway-mention] the docs mention the Pushgateway: | `pushgateway_http_requests_total` | `code`, `handler`, `method` | requests the Pushgateway served |
             --> METRICS.md:31:4
      todo [pushgateway-mention] the docs mention the Pushgateway: | `up{job="pushgateway"}` | | whether Prometheus can scrape the Pushgateway |
             --> METRICS.md:32:12
      todo [pushgateway-mention] the docs mention the Pushgateway: Defined in `prometheus/rules/pushgateway.yml`:
             --> METRICS.md:36:30
      todo [pushgateway-mention] the docs mention the Pushgateway: - `PushgatewayDown`: Prometheus cannot scrape the Pushgateway.
             --> METRICS.md:39:4
      todo [pushgateway-mention] mentions the Pushgateway: // live in prom-client's default registry and are pushed to the Pushgateway
             --> metrics-api/server.js:4:65
      todo [pushgateway-mention] holds the Pushgateway's address: const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
             --> metrics-api/server.js:12:7
      todo [pushgateway-mention] mentions the Pushgateway: // Push the whole registry as job "pushgateway" (the dashboards select it there), instance "app-1".
             --> metrics-api/server.js:116:36
      todo [pushgateway-mention] pushes to the Pushgateway: const gateway = new client.Pushgateway(PUSHGATEWAY_URL, { timeout: 5000 }, register);
             --> metrics-api/server.js:117:17
      todo [pushgateway-mention] pushes to the Pushgateway: await gateway.pushAdd({ jobName: 'pushgateway', groupings: { instance: 'app-1' } });
             --> metrics-api/server.js:121:19
      todo [pushgateway-mention] mentions the Pushgateway: console.error(`push to ${PUSHGATEWAY_URL} failed: ${err.message}`);
             --> metrics-api/server.js:123:30
      todo [pushgateway-mention] mentions the Pushgateway: console.log(`metrics-api listening on ${HOST}:${PORT}, pushing to ${PUSHGATEWAY_URL} every ${PUSH_INTERVAL_SECONDS}s`);
             --> metrics-api/server.js:130:71
      info [pushgateway-mentions-left] 19 line(s) in docs and app code still mention the Pushgateway (listed above)
             = tip: remove the push calls and the gateway address from the apps once Prometheus scrapes them; reword or delete the prose
      todo [rule-on-gateway-series] alert `MetricsApiPushStale` reads what goes away with the Pushgateway: `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/pushgateway.yml:7:15 (alert `MetricsApiPushStale`)
             = tip: rewrite it (e.g. on `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`) or delete it; pullover does not edit rules in this phase
      todo [rule-on-gateway-series] alert `PushgatewayDown` reads what goes away with the Pushgateway: `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> prometheus/rules/pushgateway.yml:16:15 (alert `PushgatewayDown`)
             = tip: rewrite it (e.g. on `up{job="metrics-api"}`) or delete it; pullover does not edit rules in this phase
    hazard [rule-on-pushed-series] rule `job:page_views:rate5m` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/pushgateway.yml:24:15 (rule `job:page_views:rate5m`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [rule-on-pushed-series] rule `job:http_requests:rate5m` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/pushgateway.yml:27:15 (rule `job:http_requests:rate5m`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [panel-on-pushed-series] 13 queries of dashboard "Metrics API" still select the pushed series, which stop with the Pushgateway: panel "Requests / s by status" in row "Requests", panel "Request latency" in row "Requests", panel "p95 latency by route" in row "Requests", panel "Views of $page, last hour" in row "Pages", panel "Views of $page / s, change since yesterday" in row "Pages", panel "Heap used" in row "Runtime", panel "Event loop lag" in row "Runtime", variable "method", variable "page"
             --> grafana/dashboards/metrics-api.json:124:19 (panel "Requests / s by status" in row "Requests")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series
      todo [panel-on-gateway-series] 6 queries of dashboard "Pushgateway Health" read what goes away with the Pushgateway (its own metrics, push times): panel "Pushgateway up", panel "Stale push groups (> 5m)", panel "Last push failed", panel "Gateway memory", panel "Seconds since last push (metrics-api)", panel "Pushgateway requests / s"
             --> grafana/dashboards/pushgateway-health.json:99:19 (panel "Pushgateway up")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
      todo [panel-on-gateway-series] 1 query of dashboard "Website Overview" read what goes away with the Pushgateway (its own metrics, push times): panel "Seconds since last push" in row "Traffic"
             --> grafana/dashboards/website-overview.json:184:19 (panel "Seconds since last push" in row "Traffic")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
    hazard [panel-on-pushed-series] 12 queries of dashboard "Website Overview" still select the pushed series, which stop with the Pushgateway: annotation "metrics-api restarts", panel "Page views (total)" in row "Traffic", panel "Requests / s" in row "Traffic", panel "Error ratio" in row "Traffic", panel "Page views / s by page" in row "Traffic", panel "Page views / s by country" in row "Traffic", panel "Views by page and country (5m rate)" in row "Per page", panel "Top pages, last 24h" in row "Per page", variable "instance", variable "page"
             --> grafana/dashboards/website-overview.json:22:17 (annotation "metrics-api restarts")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series

    Plan: 2 files to change, 0 to create, 0 to delete (+10 −15 lines).
    Apply it with `pullover apply docs`.
    "#);
}

#[test]
fn honor_false_docs_plan_changes_one_line_and_lists_the_python_push() {
    let p = pullover().stack("honor-false");
    let run = p.run(["plan", "docs"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 5/5 `docs`: update the docs and list what is left for a person

    diff --git a/README.md b/README.md
    --- a/README.md
    +++ b/README.md
    @@ -3,7 +3,7 @@
     A Python batch job copies rows into the warehouse every minute and pushes its
     progress to a Pushgateway.
     
    -Batch ETL (9102) → Pushgateway (9091) → Prometheus (9090) → Grafana (3000)
    +Batch ETL (9102) /metrics ←scrape─ Prometheus (9090) → Grafana (3000)
     
     The `pushgateway` scrape job does **not** set `honor_labels`, so Prometheus
     renames the pushed `job` and `instance` labels: every pushed series looks like

    Findings:
      todo [pushgateway-mention] the docs mention the Pushgateway: progress to a Pushgateway.
             --> README.md:4:15
      todo [pushgateway-mention] the docs mention the Pushgateway: The `pushgateway` scrape job does **not** set `honor_labels`, so Prometheus
             --> README.md:8:6
      todo [pushgateway-mention] holds the Pushgateway's address: etl_rows_processed_total{job="pushgateway", instance="pushgateway:9091",
             --> README.md:12:31
      todo [pushgateway-mention] the docs mention the Pushgateway: and the dashboards and alerts select on `job="pushgateway"` plus
             --> README.md:16:47
      todo [pushgateway-mention] the docs mention the Pushgateway: - Prometheus: http://localhost:9090, Pushgateway: http://localhost:9091.
             --> README.md:27:38
      todo [pushgateway-mention] mentions the Pushgateway: Metrics are pushed to the Pushgateway after every batch (job "batch-etl",
             --> batch-etl/etl.py:4:27
      todo [pushgateway-mention] pushes to the Pushgateway: from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server
             --> batch-etl/etl.py:12:66
      todo [pushgateway-mention] holds the Pushgateway's address: PUSHGATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")
             --> batch-etl/etl.py:14:1
      todo [pushgateway-mention] pushes to the Pushgateway: push_to_gateway(PUSHGATEWAY, job="batch-etl", registry=registry,
             --> batch-etl/etl.py:65:9
      todo [pushgateway-mention] mentions the Pushgateway: log.warning("push to %s failed: %s", PUSHGATEWAY, err)
             --> batch-etl/etl.py:68:46
      todo [pushgateway-mention] mentions the Pushgateway: log.info("serving /metrics on %s:%d, pushing to %s", HOST, METRICS_PORT, PUSHGATEWAY)
             --> batch-etl/etl.py:74:78
      info [pushgateway-mentions-left] 11 line(s) in docs and app code still mention the Pushgateway (listed above)
             = tip: remove the push calls and the gateway address from the apps once Prometheus scrapes them; reword or delete the prose
      todo [rule-on-gateway-series] alert `BatchEtlNotPushing` reads what goes away with the Pushgateway: `push_time_seconds{job="pushgateway", exported_job="batch-etl"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/etl.rules.yml:5:11 (alert `BatchEtlNotPushing`)
             = tip: rewrite it (e.g. on `up{job="batch-etl"} == 0 or absent(up{job="batch-etl"})`) or delete it; pullover does not edit rules in this phase
    hazard [rule-on-pushed-series] alert `BatchEtlRowsFailing` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/etl.rules.yml:13:11 (alert `BatchEtlRowsFailing`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [rule-on-pushed-series] alert `BatchEtlNoSuccess` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/etl.rules.yml:18:11 (alert `BatchEtlNoSuccess`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [rule-on-pushed-series] rule `exported_job:etl_rows_processed:rate5m` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/etl.rules.yml:23:11 (rule `exported_job:etl_rows_processed:rate5m`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
      todo [panel-on-gateway-series] 3 queries of dashboard "Batch ETL" read what goes away with the Pushgateway (its own metrics, push times): panel "Since last push", panel "Targets up", panel "Scrape targets"
             --> grafana/dashboards/etl-overview.json:153:19 (panel "Since last push")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
    hazard [panel-on-pushed-series] 9 queries of dashboard "Batch ETL" still select the pushed series, which stop with the Pushgateway: panel "Since last successful batch", panel "Last batch duration", panel "Rows processed / s", panel "Rows / s by table", panel "Rejected row ratio", variable "exported_job", variable "table"
             --> grafana/dashboards/etl-overview.json:86:19 (panel "Since last successful batch")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series
      todo [panel-on-gateway-series] 2 queries of dashboard "ETL (legacy)" read what goes away with the Pushgateway (its own metrics, push times): panel "Seconds since last push" in row "Freshness", panel "Targets up" in row "Freshness"
             --> grafana/dashboards/legacy-etl.json:247:23 (panel "Seconds since last push" in row "Freshness")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
    hazard [panel-on-pushed-series] 4 queries of dashboard "ETL (legacy)" still select the pushed series, which stop with the Pushgateway: panel "Rows processed / s ([[job]])" in row "Throughput", panel "Rows rejected" in row "Throughput", panel "Seconds since last success" in row "Freshness", variable "job"
             --> grafana/dashboards/legacy-etl.json:59:23 (panel "Rows processed / s ([[job]])" in row "Throughput")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series

    Plan: 1 file to change, 0 to create, 0 to delete (+1 −1 lines).
    Apply it with `pullover apply docs`.
    "#);
}

/// Writes the docs plan through the apply engine, as `apply docs` would.
fn apply_docs_through_the_engine(p: &Pullover) -> usize {
    let stack = Stack::load(&p.path(), &Overrides::default()).unwrap();
    let changeset = docs::plan(&stack).unwrap();
    let state = StateDir::new(&p.path()).unwrap();
    state
        .with_lock("test", |locked, _| {
            engine::execute(locked, Action::Apply, "docs", &changeset.changes, &BTreeMap::new())
        })
        .unwrap();
    changeset.changes.len()
}

/// A doc's text with the recognised spots blanked out: the hop (before or
/// after) and the body of a `Metrics flow` section.
fn outside_the_spots(text: &str) -> String {
    let hop =
        Regex::new(r"(→|->)[ \t]*(?i:push[ _-]?gateway)(?:[ \t]*\(\d+\))?[ \t]*(→|->)|/metrics (←scrape─|<-scrape-)")
            .unwrap();
    let text = hop.replace_all(text, "<HOP>");
    let mut out = String::new();
    let mut in_flow: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let level = line.chars().take_while(|c| *c == '#').count();
        let is_heading = level > 0 && line.chars().nth(level) == Some(' ');
        if is_heading && in_flow.is_some_and(|l| level <= l) {
            in_flow = None;
        }
        if in_flow.is_none() {
            out.push_str(line);
        }
        if is_heading && line.trim_start_matches('#').trim().eq_ignore_ascii_case("metrics flow") {
            in_flow = Some(level);
        }
    }
    out
}

#[test]
fn on_every_stack_only_the_spots_change_and_rollback_restores_every_byte() {
    let mut variants: Vec<(String, Pullover)> = stacks()
        .into_iter()
        .map(|s| (s.clone(), pullover().stack(&s)))
        .collect();
    // CRLF docs without a final newline, with a marked section.
    let crlf = pullover().stack("crlf");
    let readme = crlf.read("README.md").replace('\n', "\r\n");
    let readme = format!(
        "{}\r\n## How metrics flow\r\n<!-- pullover:metrics-flow -->\r\nThe API pushes every 10s.\r\n<!-- /pullover:metrics-flow -->\r\nEnd, no newline",
        readme.trim_end()
    );
    crlf.write("README.md", &readme);
    variants.push(("crlf (CRLF README)".into(), crlf));

    for (name, p) in &variants {
        let before = p.hashes();
        let docs_before: Vec<(String, String)> = ["README.md", "METRICS.md"]
            .iter()
            .filter(|d| p.file(d).is_file())
            .map(|d| (d.to_string(), p.read(d)))
            .collect();
        assert!(apply_docs_through_the_engine(p) > 0, "{name}: the docs change");
        for (doc, old) in &docs_before {
            let new = p.read(doc);
            if name.starts_with("crlf (") {
                assert!(
                    new.ends_with("\r\n<!-- /pullover:metrics-flow -->\r\nEnd, no newline"),
                    "{new:?}"
                );
                assert!(!new.replace("\r\n", "").contains('\n'), "{name}: only CRLF: {new:?}");
                assert!(
                    !new.contains("pushes every 10s"),
                    "{name}: the marked section is rewritten"
                );
            } else {
                assert_eq!(
                    outside_the_spots(&new),
                    outside_the_spots(old),
                    "{name}: {doc} changed outside the spots"
                );
            }
        }
        let replan = docs::plan(&Stack::load(&p.path(), &Overrides::default()).unwrap()).unwrap();
        assert!(replan.is_empty(), "{name}: planning docs again changes nothing");

        p.run(["rollback", "--yes"]).success();
        assert_eq!(p.hashes(), before, "{name}: rollback restores every byte");
    }
}

#[test]
fn every_mention_left_is_a_todo_with_file_line_and_column() {
    let p = pullover().stack("grafana-resources");
    let run = p.run(["--format", "json", "plan", "docs"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let todos: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "pushgateway-mention")
        .map(|f| {
            assert_eq!(f["severity"], "todo");
            let at = &f["location"];
            format!("{}:{}:{}", at["path"].as_str().unwrap(), at["line"], at["column"])
        })
        .collect();
    // Both apps' push calls are on the list, where they are.
    let billing = p.read("billing/billing.py");
    let line = billing
        .lines()
        .position(|l| l.contains("push_to_gateway(GATEWAY"))
        .unwrap()
        + 1;
    let column = billing.lines().nth(line - 1).unwrap().find("push_to_gateway").unwrap() + 1;
    assert!(
        todos.contains(&format!("billing/billing.py:{line}:{column}")),
        "{todos:#?}"
    );
    assert!(
        todos.iter().any(|t| t.starts_with("metrics-api/server.js:")),
        "{todos:#?}"
    );
    assert!(todos.iter().any(|t| t.starts_with("README.md:")), "{todos:#?}");
}
