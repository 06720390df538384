//! `pullover analyze`: the inventory of every Pushgateway reference, for people and for programs.
//! It writes nothing and exits 0.

use crate::support::{pullover, stacks};

#[test]
fn seed_analyze_lists_every_reference_by_file_with_what_happens_to_it() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    let run = p.run(["analyze"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Pushgateway service `pushgateway` at pushgateway:9091, scraped by job `pushgateway` with honor_labels: true
      metrics-api pushes as job "pushgateway", instance "app-1"; scraped directly: job "metrics-api" at metrics-api:8080
      queries read as Prometheus 2.42 (image prom/prometheus:v2.42.0 of service prometheus)

    docker-compose.yml
      18:9     env              remove    metrics-api's environment points at the gateway (the app may still read it)
                                          - PUSHGATEWAY_URL=http://pushgateway:9091
      21:9     depends-on       remove    metrics-api depends on the gateway
                                          - pushgateway
      25:3     gateway-service  remove    the Pushgateway service `pushgateway` (image prom/pushgateway:v1.5.1)
                                          pushgateway:
      49:9     depends-on       remove    prometheus depends on the gateway
                                          - pushgateway
      69:3     volume           remove    the gateway's named volume `pushgateway_data`
                                          pushgateway_data:

    prometheus/prometheus.yml
      20:15    scrape-job       remove    the scrape job `pushgateway` that scrapes the Pushgateway
                                          - job_name: pushgateway
      21:5     honor-labels     leave     honor_labels: true — pushed series keep the job and instance they were pushed with
                                          honor_labels: true

    prometheus/rules/pushgateway.yml
      7:15     query            report    alert rule · rules group "metrics-api" › alert "MetricsApiPushStale"
                                          time() - push_time_seconds{job="pushgateway"} > 300
                                          hazard [no-scraped-equivalent] `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      16:15    query            report    alert rule · rules group "metrics-api" › alert "PushgatewayDown"
                                          up{job="pushgateway"} == 0
                                          hazard [no-scraped-equivalent] `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"}`
      24:15    query            rewrite   recording rule · rules group "metrics-api" › record "job:page_views:rate5m"
                                          sum by (page) (rate(page_views_total{job="pushgateway"}[5m]))
                                          → sum by (page) (rate(page_views_total{job="metrics-api"}[5m]))
      27:15    query            rewrite   recording rule · rules group "metrics-api" › record "job:http_requests:rate5m"
                                          sum by (code) (rate(http_requests_total{job="pushgateway", instance="app-1"}[5m]))
                                          → sum by (code) (rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m]))

    grafana/dashboards/metrics-api.json
      124:19   query            rewrite   panel query · dashboard "Metrics API" › row "Requests" › panel "Requests / s by status"
                                          sum by (code) (rate(http_requests_total{job="pushgateway", method=~"$method"}[$__rate_interval]))
                                          → sum by (code) (rate(http_requests_total{job="metrics-api", method=~"$method"}[$__rate_interval]))
      220:19   query            rewrite   panel query · dashboard "Metrics API" › row "Requests" › panel "Request latency"
                                          histogram_quantile(0.50, sum by (le) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[$__rate_interval])))
                                          → histogram_quantile(0.50, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
      232:19   query            rewrite   panel query · dashboard "Metrics API" › row "Requests" › panel "Request latency"
                                          histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="pushgateway", instance="app-1"}[$__rate_interval])))
                                          → histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api", instance="metrics-api:8080"}[$__rate_interval])))
      244:19   query            rewrite   panel query · dashboard "Metrics API" › row "Requests" › panel "Request latency"
                                          histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="pushgateway", instance="app-1"}[$__rate_interval])))
                                          → histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api", instance="metrics-api:8080"}[$__rate_interval])))
      340:19   query            rewrite   panel query · dashboard "Metrics API" › row "Requests" › panel "p95 latency by route"
                                          histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[$__rate_interval])))
                                          → histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
      424:19   query            rewrite   panel query · dashboard "Metrics API" › row "Pages" › panel "Views of $page, last hour"
                                          sum by (country) (increase(page_views_total{job="pushgateway", instance="app-1", page=~"$page"}[1h]))
                                          → sum by (country) (increase(page_views_total{job="metrics-api", instance="metrics-api:8080", page=~"$page"}[1h]))
      520:19   query            rewrite   panel query · dashboard "Metrics API" › row "Pages" › panel "Views of $page / s, change since yesterday"
                                          sum(rate(page_views_total{job="pushgateway", page="$page"}[$__rate_interval])) - sum(rate(page_views_total{job="pushgateway", page="$page"}[$__rate_interval] offset 1d))
                                          → sum(rate(page_views_total{job="metrics-api", page="$page"}[$__rate_interval])) - sum(rate(page_views_total{job="metrics-api", page="$page"}[$__rate_interval] offset 1d))
      629:19   query            rewrite   panel query · dashboard "Metrics API" › row "Runtime" › panel "Heap used"
                                          nodejs_heap_size_used_bytes{job="pushgateway", instance="app-1"}
                                          → nodejs_heap_size_used_bytes{job="metrics-api", instance="metrics-api:8080"}
      725:19   query            rewrite   panel query · dashboard "Metrics API" › row "Runtime" › panel "Event loop lag"
                                          max_over_time(nodejs_eventloop_lag_seconds{job="pushgateway"}[5m:30s])
                                          → max_over_time(nodejs_eventloop_lag_seconds{job="metrics-api"}[5m:30s])
      776:23   query            rewrite   variable definition · dashboard "Metrics API" › variable "method"
                                          label_values(http_requests_total{job="pushgateway"}, method)
                                          → label_values(http_requests_total{job="metrics-api"}, method)
      783:18   query            rewrite   variable query (same as its definition, reported there) · dashboard "Metrics API" › variable "method"
                                          label_values(http_requests_total{job="pushgateway"}, method)
                                          → label_values(http_requests_total{job="metrics-api"}, method)
      800:23   query            rewrite   variable definition · dashboard "Metrics API" › variable "page"
                                          label_values(page_views_total{job="pushgateway"}, page)
                                          → label_values(page_views_total{job="metrics-api"}, page)
      807:18   query            rewrite   variable query (same as its definition, reported there) · dashboard "Metrics API" › variable "page"
                                          label_values(page_views_total{job="pushgateway"}, page)
                                          → label_values(page_views_total{job="metrics-api"}, page)

    grafana/dashboards/pushgateway-health.json
      99:19    query            report    panel query · dashboard "Pushgateway Health" › panel "Pushgateway up"
                                          up{job="pushgateway"}
                                          todo [no-scraped-equivalent] `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"}`
      167:19   query            report    panel query · dashboard "Pushgateway Health" › panel "Stale push groups (> 5m)"
                                          count((time() - push_time_seconds) > 300) or vector(0)
                                          todo [no-scraped-equivalent] `push_time_seconds` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      249:19   query            report    panel query · dashboard "Pushgateway Health" › panel "Last push failed"
                                          push_failure_time_seconds{job="pushgateway", instance="app-1"} > bool push_time_seconds{job="pushgateway", instance="app-1"}
                                          todo [no-scraped-equivalent] `push_failure_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0`
                                          todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      314:19   query            report    panel query · dashboard "Pushgateway Health" › panel "Gateway memory"
                                          process_resident_memory_bytes{job="pushgateway"}
                                          todo [ambiguous-app] `process_resident_memory_bytes{job="pushgateway"}`: both the Pushgateway and metrics-api export `process_resident_memory_bytes` under job "pushgateway", and nothing in the selector says whose it reads; add instance="app-1" for the app's, or add instance="pushgateway:9091" for the gateway's. Left unchanged
      410:19   query            report    panel query · dashboard "Pushgateway Health" › panel "Seconds since last push (metrics-api)"
                                          time() - push_time_seconds{job="pushgateway", instance="app-1"}
                                          todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      506:19   query            report    panel query · dashboard "Pushgateway Health" › panel "Pushgateway requests / s"
                                          sum by (handler, code) (rate(pushgateway_http_requests_total{job="pushgateway"}[$__rate_interval]))
                                          todo [no-scraped-equivalent] `pushgateway_http_requests_total{job="pushgateway"}` is a metric of the Pushgateway itself (`pushgateway_http_requests_total`), which goes away with it. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"}`

    grafana/dashboards/website-overview.json
      22:17    query            rewrite   annotation query · dashboard "Website Overview" › annotation "metrics-api restarts"
                                          changes(process_start_time_seconds{job="pushgateway", instance!="pushgateway:9091"}[2m]) > 0
                                          → changes(process_start_time_seconds{job="metrics-api", instance!="pushgateway:9091"}[2m]) > 0
      110:19   query            rewrite   panel query · dashboard "Website Overview" › row "Traffic" › panel "Page views (total)"
                                          sum(page_views_total{job="pushgateway", instance="app-1"})
                                          → sum(page_views_total{job="metrics-api", instance="metrics-api:8080"})
      184:19   query            report    panel query · dashboard "Website Overview" › row "Traffic" › panel "Seconds since last push"
                                          time() - push_time_seconds{job="pushgateway", instance="app-1"}
                                          todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
                                            = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      249:19   query            rewrite   panel query · dashboard "Website Overview" › row "Traffic" › panel "Requests / s"
                                          sum(rate(http_requests_total{job=~"pushgateway|website"}[$__rate_interval]))
                                          → sum(rate(http_requests_total{job=~"metrics-api|website"}[$__rate_interval]))
      323:19   query            rewrite   panel query · dashboard "Website Overview" › row "Traffic" › panel "Error ratio"
                                          sum(rate(http_requests_total{job="pushgateway", instance="app-1", code=~"5.."}[$__rate_interval])) / sum(rate(http_requests_total{job="pushgateway", instance="app-1"}[$__rate_interval]))
                                          → sum(rate(http_requests_total{job="metrics-api", instance="metrics-api:8080", code=~"5.."}[$__rate_interval])) / sum(rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[$__rate_interval]))
      419:19   query            rewrite   panel query · dashboard "Website Overview" › row "Traffic" › panel "Page views / s by page"
                                          sum by (page) (rate(page_views_total{job="pushgateway", page=~"${page}"}[$__rate_interval]))
                                          → sum by (page) (rate(page_views_total{job="metrics-api", page=~"${page}"}[$__rate_interval]))
      515:19   query            rewrite   panel query · dashboard "Website Overview" › row "Traffic" › panel "Page views / s by country"
                                          sum by (country) (rate(page_views_total{job="pushgateway", instance=~"$instance", page=~"${page}"}[$__rate_interval]))
                                          → sum by (country) (rate(page_views_total{job="metrics-api", instance=~"$instance", page=~"${page}"}[$__rate_interval]))
      621:23   query            rewrite   panel query · dashboard "Website Overview" › row "Per page" › panel "Views by page and country (5m rate)"
                                          rate(page_views_total{job="pushgateway", instance="app-1", page=~"[[page]]"}[5m])
                                          → rate(page_views_total{job="metrics-api", instance="metrics-api:8080", page=~"[[page]]"}[5m])
      692:23   query            rewrite   panel query · dashboard "Website Overview" › row "Per page" › panel "Top pages, last 24h"
                                          topk(10, sum by (page) (increase(page_views_total{job="pushgateway"}[24h])))
                                          → topk(10, sum by (page) (increase(page_views_total{job="metrics-api"}[24h])))
      756:23   query            rewrite   variable definition · dashboard "Website Overview" › variable "instance"
                                          label_values(page_views_total{job="pushgateway"}, instance)
                                          → label_values(page_views_total{job="metrics-api"}, instance)
                                          todo [variable-options-change] variable "instance" lists `instance` values of pushed series ("app-1"); once they are scraped it lists "metrics-api:8080"
                                            = tip: update the variable's saved selection and default, and links that pass `var-instance=`
      765:20   query            rewrite   variable query (same as its definition, reported there) · dashboard "Website Overview" › variable "instance"
                                          label_values(page_views_total{job="pushgateway"}, instance)
                                          → label_values(page_views_total{job="metrics-api"}, instance)
      788:23   query            rewrite   variable definition · dashboard "Website Overview" › variable "page"
                                          label_values(page_views_total{job="pushgateway"}, page)
                                          → label_values(page_views_total{job="metrics-api"}, page)
      796:20   query            rewrite   variable query (same as its definition, reported there) · dashboard "Website Overview" › variable "page"
                                          label_values(page_views_total{job="pushgateway"}, page)
                                          → label_values(page_views_total{job="metrics-api"}, page)

    METRICS.md
      9:4      doc-mention      checklist the docs mention the Pushgateway
                                          Pushgateway at `http://pushgateway:9091` as job `pushgateway`, instance
      10:14    doc-mention      checklist the docs mention the Pushgateway
                                          `app-1` (`pushAdd`).
      11:27    doc-mention      checklist the docs mention the Pushgateway
                                          4. Prometheus scrapes the Pushgateway every 15 seconds. Because the
      12:5     doc-mention      checklist the docs mention the Pushgateway
                                          `pushgateway` job has `honor_labels: true`, the series keep the pushed labels
      13:10    doc-mention      checklist the docs mention the Pushgateway
                                          `job="pushgateway", instance="app-1"`. The Pushgateway's own metrics carry
      14:10    doc-mention      checklist the docs mention the Pushgateway
                                          `job="pushgateway"` too, with `instance="pushgateway:9091"`: the dashboards
      30:4     doc-mention      checklist the docs mention the Pushgateway
                                          ## Pushgateway metrics
      36:4     doc-mention      checklist the docs mention the Pushgateway
                                          | `pushgateway_http_requests_total` | `code`, `handler`, `method` | requests the Pushgateway served |
      37:12    doc-mention      checklist the docs mention the Pushgateway
                                          | `up{job="pushgateway"}` | | whether Prometheus can scrape the Pushgateway |
      41:30    doc-mention      checklist the docs mention the Pushgateway
                                          Defined in `prometheus/rules/pushgateway.yml`:
      44:4     doc-mention      checklist the docs mention the Pushgateway
                                          - `PushgatewayDown`: Prometheus cannot scrape the Pushgateway.

    README.md
      8:32     doc-mention      checklist the docs mention the Pushgateway
                                          Website → Metrics API (8080) → Pushgateway (9091) → Prometheus (9090) → Grafana
      13:26    doc-mention      checklist the docs mention the Pushgateway
                                          and pushes them to the Pushgateway every 15 seconds (`PUSH_INTERVAL_SECONDS`).
      14:5     doc-mention      checklist the docs mention the Pushgateway
                                          - **Pushgateway** (port 9091) holds the last pushed values; its data survives
      15:20    doc-mention      checklist the docs mention the Pushgateway
                                          restarts in the `pushgateway_data` volume.
      16:42    doc-mention      checklist the docs mention the Pushgateway
                                          - **Prometheus** (port 9090) scrapes the Pushgateway (`honor_labels: true`) and
      30:48    doc-mention      checklist the docs mention the Pushgateway
                                          Prometheus is on http://localhost:9090 and the Pushgateway on
      43:21    doc-mention      checklist the docs mention the Pushgateway
                                          | `prometheus/rules/pushgateway.yml` | alerts and recording rules |
      45:58    doc-mention      checklist the docs mention the Pushgateway
                                          | `grafana/dashboards/` | Website Overview, Metrics API, Pushgateway Health |

    metrics-api/server.js
      4:65     code-mention     review    pushes to or configures the Pushgateway
                                          // live in prom-client's default registry and are pushed to the Pushgateway
      12:7     code-mention     review    pushes to or configures the Pushgateway
                                          const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
      116:36   code-mention     review    pushes to or configures the Pushgateway
                                          // Push the whole registry as job "pushgateway" (the dashboards select it there), instance "app-1".
      117:28   code-mention     review    pushes to or configures the Pushgateway
                                          const gateway = new client.Pushgateway(PUSHGATEWAY_URL, { timeout: 5000 }, register);
      121:19   code-mention     review    pushes to or configures the Pushgateway
                                          await gateway.pushAdd({ jobName: 'pushgateway', groupings: { instance: 'app-1' } });
      123:30   code-mention     review    pushes to or configures the Pushgateway
                                          console.error(`push to ${PUSHGATEWAY_URL} failed: ${err.message}`);
      130:71   code-mention     review    pushes to or configures the Pushgateway
                                          console.log(`metrics-api listening on ${HOST}:${PORT}, pushing to ${PUSHGATEWAY_URL} every ${PUSH_INTERVAL_SECONDS}s`);

    About the stack:
      info [pushed-identity] metrics-api pushes as job "pushgateway", instance "app-1": its code: `pushAdd` at metrics-api/server.js:121 pushes as job "pushgateway"; the dashboards and rules select its metrics with job="pushgateway" (32 selectors, e.g. `http_requests_total{job="pushgateway", method=~"$method"}`)
             --> grafana/dashboards/metrics-api.json:124:19 (dashboard "Metrics API" › row "Requests" › panel "Requests / s by status")
             = tip: pin it in pullover.yaml: `apps: [{service: metrics-api, pushed_job: pushgateway, pushed_instances: [app-1]}]`

    69 references in 9 files: 27 queries to rewrite, 9 to report; 2 hazards, 9 to-dos. Nothing was written.
    "#);
    assert_eq!(p.hashes(), before, "analyze writes nothing");
    assert!(!p.path().join(".pullover").exists(), "not even pullover's state folder");
}

#[test]
fn analyze_json_is_versioned_and_every_reference_has_a_place_and_an_action() {
    for stack in stacks() {
        let p = pullover().stack(&stack);
        let run = p.run(["--format", "json", "analyze"]);
        run.success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["version"], 1, "{stack}");
        assert_eq!(json["command"], "analyze", "{stack}");
        assert!(json["gateway"]["address"].is_string(), "{stack}");
        let references = json["references"].as_array().unwrap();
        assert_eq!(json["summary"]["references"], references.len(), "{stack}");
        for reference in references {
            for key in ["path", "area", "kind", "action", "what", "text"] {
                assert!(reference[key].is_string(), "{stack}: {key} missing in {reference}");
            }
            assert!(
                reference["line"].as_u64().is_some_and(|l| l >= 1),
                "{stack}: {reference}"
            );
            assert!(
                reference["column"].as_u64().is_some_and(|c| c >= 1),
                "{stack}: {reference}"
            );
            assert!(reference["findings"].is_array(), "{stack}: {reference}");
        }
        let areas: std::collections::BTreeSet<&str> = references.iter().filter_map(|r| r["area"].as_str()).collect();
        // Two stacks have no rule file at all: their shape is a config without one.
        let has_rules = !["mount-config-only", "null-rule-files"].contains(&stack.as_str());
        for area in ["compose", "prometheus", "rules", "dashboards", "docs", "code"] {
            if area == "rules" && !has_rules {
                continue;
            }
            assert!(areas.contains(area), "{stack}: no {area} reference in {areas:?}");
        }
        let rewrites = references.iter().filter(|r| r["action"] == "rewrite").count();
        assert_eq!(json["summary"]["rewrite"], rewrites, "{stack}");
        assert!(
            references
                .iter()
                .filter(|r| r["action"] == "rewrite")
                .all(|r| r["rewritten"].is_string()),
            "{stack}: a rewrite without its new query"
        );
    }
}

#[test]
fn analyze_shape_for_the_seed_in_json() {
    let p = pullover().stack("seed");
    let run = p.run(["--format", "json", "analyze"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let first_query = json["references"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "rewrite" && r["area"] == "rules")
        .unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(first_query).unwrap(), @r#"
    {
      "path": "prometheus/rules/pushgateway.yml",
      "line": 24,
      "column": 15,
      "area": "rules",
      "kind": "query",
      "action": "rewrite",
      "what": "recording rule",
      "context": "rules group \"metrics-api\" › record \"job:page_views:rate5m\"",
      "text": "sum by (page) (rate(page_views_total{job=\"pushgateway\"}[5m]))",
      "rewritten": "sum by (page) (rate(page_views_total{job=\"metrics-api\"}[5m]))",
      "findings": []
    }
    "#);
    insta::assert_snapshot!(serde_json::to_string_pretty(&json["summary"]).unwrap(), @r#"
    {
      "references": 69,
      "files": 9,
      "rewrite": 27,
      "report": 9,
      "hazards": 2,
      "todos": 9
    }
    "#);
}
