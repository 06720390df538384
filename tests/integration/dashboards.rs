//! Phase 3, `dashboards`, on every stack: the plan a reviewer reads, diffs that touch only the
//! lines holding rewritten queries, a second plan that finds nothing, rule files promtool
//! accepts, and bad input.

use std::collections::BTreeSet;
use std::path::Path;

use pullover::changeset::{FileChange, render};
use pullover::dashboard::scan;
use pullover::edit::yaml::{ItemMatch, Route, YamlDoc};
use pullover::phase::dashboards;
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;
use pullover::stack::source::line_col;

use crate::support::{Pullover, git_apply, pullover, repo_root, require_tool, stacks};

fn plan_text(stack: &str) -> String {
    let p = pullover().stack(stack);
    let run = p.run(["plan", "dashboards"]);
    run.success();
    p.clean(&run.stdout)
}

#[test]
fn seed_plan_rewrites_pinned_instances_and_reports_what_cannot_move() {
    insta::assert_snapshot!(plan_text("seed"), @r#"
    Phase 3/5 `dashboards`: rewrite dashboard and rule queries to the scraped series

    diff --git a/grafana/dashboards/metrics-api.json b/grafana/dashboards/metrics-api.json
    --- a/grafana/dashboards/metrics-api.json
    +++ b/grafana/dashboards/metrics-api.json
    @@ -121,7 +121,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum by (code) (rate(http_requests_total{job=\"pushgateway\", method=~\"$method\"}[$__rate_interval]))",
    +          "expr": "sum by (code) (rate(http_requests_total{job=\"metrics-api\", method=~\"$method\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{code}}",
               "range": true,
    @@ -217,7 +217,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "histogram_quantile(0.50, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"pushgateway\"}[$__rate_interval])))",
    +          "expr": "histogram_quantile(0.50, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"metrics-api\"}[$__rate_interval])))",
               "instant": false,
               "legendFormat": "p50",
               "range": true,
    @@ -229,7 +229,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"pushgateway\", instance=\"app-1\"}[$__rate_interval])))",
    +          "expr": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"metrics-api\", instance=\"metrics-api:8080\"}[$__rate_interval])))",
               "instant": false,
               "legendFormat": "p95",
               "range": true,
    @@ -241,7 +241,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"pushgateway\", instance=\"app-1\"}[$__rate_interval])))",
    +          "expr": "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"metrics-api\", instance=\"metrics-api:8080\"}[$__rate_interval])))",
               "instant": false,
               "legendFormat": "p99",
               "range": true,
    @@ -337,7 +337,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=\"pushgateway\"}[$__rate_interval])))",
    +          "expr": "histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=\"metrics-api\"}[$__rate_interval])))",
               "instant": false,
               "legendFormat": "{{route}}",
               "range": true,
    @@ -421,7 +421,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum by (country) (increase(page_views_total{job=\"pushgateway\", instance=\"app-1\", page=~\"$page\"}[1h]))",
    +          "expr": "sum by (country) (increase(page_views_total{job=\"metrics-api\", instance=\"metrics-api:8080\", page=~\"$page\"}[1h]))",
               "instant": true,
               "legendFormat": "{{country}}",
               "range": false,
    @@ -517,7 +517,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum(rate(page_views_total{job=\"pushgateway\", page=\"$page\"}[$__rate_interval])) - sum(rate(page_views_total{job=\"pushgateway\", page=\"$page\"}[$__rate_interval] offset 1d))",
    +          "expr": "sum(rate(page_views_total{job=\"metrics-api\", page=\"$page\"}[$__rate_interval])) - sum(rate(page_views_total{job=\"metrics-api\", page=\"$page\"}[$__rate_interval] offset 1d))",
               "instant": false,
               "legendFormat": "$page",
               "range": true,
    @@ -626,7 +626,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "nodejs_heap_size_used_bytes{job=\"pushgateway\", instance=\"app-1\"}",
    +          "expr": "nodejs_heap_size_used_bytes{job=\"metrics-api\", instance=\"metrics-api:8080\"}",
               "instant": false,
               "legendFormat": "{{instance}}",
               "range": true,
    @@ -722,7 +722,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "max_over_time(nodejs_eventloop_lag_seconds{job=\"pushgateway\"}[5m:30s])",
    +          "expr": "max_over_time(nodejs_eventloop_lag_seconds{job=\"metrics-api\"}[5m:30s])",
               "instant": false,
               "legendFormat": "{{instance}}",
               "range": true,
    @@ -773,14 +773,14 @@
               "type": "prometheus",
               "uid": "${datasource}"
             },
    -        "definition": "label_values(http_requests_total{job=\"pushgateway\"}, method)",
    +        "definition": "label_values(http_requests_total{job=\"metrics-api\"}, method)",
             "hide": 0,
             "includeAll": true,
             "label": "Method",
             "multi": true,
             "name": "method",
             "options": [],
    -        "query": "label_values(http_requests_total{job=\"pushgateway\"}, method)",
    +        "query": "label_values(http_requests_total{job=\"metrics-api\"}, method)",
             "refresh": 1,
             "regex": "",
             "skipUrlSync": false,
    @@ -797,14 +797,14 @@
               "type": "prometheus",
               "uid": "${datasource}"
             },
    -        "definition": "label_values(page_views_total{job=\"pushgateway\"}, page)",
    +        "definition": "label_values(page_views_total{job=\"metrics-api\"}, page)",
             "hide": 0,
             "includeAll": false,
             "label": "Page",
             "multi": false,
             "name": "page",
             "options": [],
    -        "query": "label_values(page_views_total{job=\"pushgateway\"}, page)",
    +        "query": "label_values(page_views_total{job=\"metrics-api\"}, page)",
             "refresh": 2,
             "regex": "",
             "skipUrlSync": false,

    diff --git a/grafana/dashboards/website-overview.json b/grafana/dashboards/website-overview.json
    --- a/grafana/dashboards/website-overview.json
    +++ b/grafana/dashboards/website-overview.json
    @@ -19,7 +19,7 @@
               "uid": "${datasource}"
             },
             "enable": true,
    -        "expr": "changes(process_start_time_seconds{job=\"pushgateway\", instance!=\"pushgateway:9091\"}[2m]) > 0",
    +        "expr": "changes(process_start_time_seconds{job=\"metrics-api\", instance!=\"pushgateway:9091\"}[2m]) > 0",
             "hide": false,
             "iconColor": "orange",
             "name": "metrics-api restarts",
    @@ -107,7 +107,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum(page_views_total{job=\"pushgateway\", instance=\"app-1\"})",
    +          "expr": "sum(page_views_total{job=\"metrics-api\", instance=\"metrics-api:8080\"})",
               "instant": false,
               "legendFormat": "__auto",
               "range": true,
    @@ -246,7 +246,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum(rate(http_requests_total{job=~\"pushgateway|website\"}[$__rate_interval]))",
    +          "expr": "sum(rate(http_requests_total{job=~\"metrics-api|website\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "__auto",
               "range": true,
    @@ -320,7 +320,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum(rate(http_requests_total{job=\"pushgateway\", instance=\"app-1\", code=~\"5..\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\"pushgateway\", instance=\"app-1\"}[$__rate_interval]))",
    +          "expr": "sum(rate(http_requests_total{job=\"metrics-api\", instance=\"metrics-api:8080\", code=~\"5..\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\"metrics-api\", instance=\"metrics-api:8080\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "__auto",
               "range": true,
    @@ -416,7 +416,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum by (page) (rate(page_views_total{job=\"pushgateway\", page=~\"${page}\"}[$__rate_interval]))",
    +          "expr": "sum by (page) (rate(page_views_total{job=\"metrics-api\", page=~\"${page}\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{page}}",
               "range": true,
    @@ -512,7 +512,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum by (country) (rate(page_views_total{job=\"pushgateway\", instance=~\"$instance\", page=~\"${page}\"}[$__rate_interval]))",
    +          "expr": "sum by (country) (rate(page_views_total{job=\"metrics-api\", instance=~\"$instance\", page=~\"${page}\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{country}}",
               "range": true,
    @@ -618,7 +618,7 @@
                     "uid": "${datasource}"
                   },
                   "editorMode": "code",
    -              "expr": "rate(page_views_total{job=\"pushgateway\", instance=\"app-1\", page=~\"[[page]]\"}[5m])",
    +              "expr": "rate(page_views_total{job=\"metrics-api\", instance=\"metrics-api:8080\", page=~\"[[page]]\"}[5m])",
                   "instant": false,
                   "legendFormat": "{{page}} {{country}}",
                   "range": true,
    @@ -689,7 +689,7 @@
                     "uid": "${datasource}"
                   },
                   "editorMode": "code",
    -              "expr": "topk(10, sum by (page) (increase(page_views_total{job=\"pushgateway\"}[24h])))",
    +              "expr": "topk(10, sum by (page) (increase(page_views_total{job=\"metrics-api\"}[24h])))",
                   "format": "table",
                   "instant": true,
                   "legendFormat": "{{page}}",
    @@ -753,7 +753,7 @@
               "type": "prometheus",
               "uid": "${datasource}"
             },
    -        "definition": "label_values(page_views_total{job=\"pushgateway\"}, instance)",
    +        "definition": "label_values(page_views_total{job=\"metrics-api\"}, instance)",
             "hide": 0,
             "includeAll": false,
             "label": "Instance",
    @@ -762,7 +762,7 @@
             "options": [],
             "query": {
               "qryType": 1,
    -          "query": "label_values(page_views_total{job=\"pushgateway\"}, instance)",
    +          "query": "label_values(page_views_total{job=\"metrics-api\"}, instance)",
               "refId": "PrometheusVariableQueryEditor-VariableQuery"
             },
             "refresh": 1,
    @@ -785,7 +785,7 @@
               "type": "prometheus",
               "uid": "${datasource}"
             },
    -        "definition": "label_values(page_views_total{job=\"pushgateway\"}, page)",
    +        "definition": "label_values(page_views_total{job=\"metrics-api\"}, page)",
             "hide": 0,
             "includeAll": true,
             "label": "Page",
    @@ -793,7 +793,7 @@
             "name": "page",
             "options": [],
             "query": {
    -          "query": "label_values(page_views_total{job=\"pushgateway\"}, page)",
    +          "query": "label_values(page_views_total{job=\"metrics-api\"}, page)",
               "refId": "StandardVariableQuery"
             },
             "refresh": 1,

    diff --git a/prometheus/rules/pushgateway.yml b/prometheus/rules/pushgateway.yml
    --- a/prometheus/rules/pushgateway.yml
    +++ b/prometheus/rules/pushgateway.yml
    @@ -21,7 +21,7 @@
               summary: "Pushgateway is down"
     
           - record: job:page_views:rate5m
    -        expr: sum by (page) (rate(page_views_total{job="pushgateway"}[5m]))
    +        expr: sum by (page) (rate(page_views_total{job="metrics-api"}[5m]))
     
           - record: job:http_requests:rate5m
    -        expr: sum by (code) (rate(http_requests_total{job="pushgateway", instance="app-1"}[5m]))
    +        expr: sum by (code) (rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m]))

    Findings:
      info [pushed-identity] metrics-api pushes as job "pushgateway", instance "app-1": its code: `pushAdd` at metrics-api/server.js:121 pushes as job "pushgateway"; the dashboards and rules select its metrics with job="pushgateway" (32 selectors, e.g. `http_requests_total{job="pushgateway", method=~"$method"}`)
             --> grafana/dashboards/metrics-api.json:124:19 (dashboard "Metrics API" › row "Requests" › panel "Requests / s by status")
             = tip: pin it in pullover.yaml: `apps: [{service: metrics-api, pushed_job: pushgateway, pushed_instances: [app-1]}]`
      todo [no-scraped-equivalent] `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:99:19 (dashboard "Pushgateway Health" › panel "Pushgateway up")
             = tip: suggested: `up{job="metrics-api"}`
      todo [no-scraped-equivalent] `push_time_seconds` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:167:19 (dashboard "Pushgateway Health" › panel "Stale push groups (> 5m)")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      todo [no-scraped-equivalent] `push_failure_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:249:19 (dashboard "Pushgateway Health" › panel "Last push failed")
             = tip: suggested: `up{job="metrics-api"} == 0`
      todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:249:19 (dashboard "Pushgateway Health" › panel "Last push failed")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      todo [ambiguous-app] `process_resident_memory_bytes{job="pushgateway"}`: both the Pushgateway and metrics-api export `process_resident_memory_bytes` under job "pushgateway", and nothing in the selector says whose it reads; add instance="app-1" for the app's, or add instance="pushgateway:9091" for the gateway's. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:314:19 (dashboard "Pushgateway Health" › panel "Gateway memory")
      todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:410:19 (dashboard "Pushgateway Health" › panel "Seconds since last push (metrics-api)")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      todo [no-scraped-equivalent] `pushgateway_http_requests_total{job="pushgateway"}` is a metric of the Pushgateway itself (`pushgateway_http_requests_total`), which goes away with it. Left unchanged
             --> grafana/dashboards/pushgateway-health.json:506:19 (dashboard "Pushgateway Health" › panel "Pushgateway requests / s")
             = tip: suggested: `up{job="metrics-api"}`
      todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/website-overview.json:184:19 (dashboard "Website Overview" › row "Traffic" › panel "Seconds since last push")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      todo [variable-options-change] variable "instance" lists `instance` values of pushed series ("app-1"); once they are scraped it lists "metrics-api:8080"
             --> grafana/dashboards/website-overview.json:756:23 (dashboard "Website Overview" › variable "instance")
             = tip: update the variable's saved selection and default, and links that pass `var-instance=`
    hazard [no-scraped-equivalent] `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/pushgateway.yml:7:15 (rules group "metrics-api" › alert "MetricsApiPushStale")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
    hazard [no-scraped-equivalent] `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> prometheus/rules/pushgateway.yml:16:15 (rules group "metrics-api" › alert "PushgatewayDown")
             = tip: suggested: `up{job="metrics-api"}`

    Plan: 3 files to change, 0 to create, 0 to delete (+27 −27 lines).
    Apply it with `pullover apply dashboards`.
    "#);
}

#[test]
fn honor_false_plan_moves_exported_labels_to_job_and_instance() {
    insta::assert_snapshot!(plan_text("honor-false"), @r#"
    Phase 3/5 `dashboards`: rewrite dashboard and rule queries to the scraped series

    diff --git a/grafana/dashboards/etl-overview.json b/grafana/dashboards/etl-overview.json
    --- a/grafana/dashboards/etl-overview.json
    +++ b/grafana/dashboards/etl-overview.json
    @@ -83,7 +83,7 @@
                 "uid": "PBFA97CFB590B2093"
               },
               "editorMode": "code",
    -          "expr": "time() - etl_last_success_timestamp_seconds{job=\"pushgateway\", exported_job=\"batch-etl\", exported_instance=\"etl-1\"}",
    +          "expr": "time() - etl_last_success_timestamp_seconds{job=\"batch-etl\", instance=\"batch-etl:9102\"}",
               "instant": false,
               "legendFormat": "__auto",
               "range": true,
    @@ -213,7 +213,7 @@
                 "uid": "PBFA97CFB590B2093"
               },
               "editorMode": "code",
    -          "expr": "etl_last_batch_duration_seconds{job=\"pushgateway\", instance=\"pushgateway:9091\", exported_job=\"batch-etl\"}",
    +          "expr": "etl_last_batch_duration_seconds{job=\"batch-etl\", instance=\"batch-etl:9102\"}",
               "instant": false,
               "legendFormat": "__auto",
               "range": true,
    @@ -377,7 +377,7 @@
                 "uid": "PBFA97CFB590B2093"
               },
               "editorMode": "code",
    -          "expr": "sum by (exported_job) (rate(etl_rows_processed_total{job=\"pushgateway\", exported_job=\"batch-etl\"}[$__rate_interval]))",
    +          "expr": "sum by (job) (rate(etl_rows_processed_total{job=\"batch-etl\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{exported_job}}",
               "range": true,
    @@ -471,7 +471,7 @@
                 "uid": "PBFA97CFB590B2093"
               },
               "editorMode": "code",
    -          "expr": "sum by (table) (rate(etl_rows_processed_total{job=\"pushgateway\", exported_job=~\"$exported_job\", table=~\"$table\"}[$__rate_interval]))",
    +          "expr": "sum by (table) (rate(etl_rows_processed_total{job=~\"$exported_job\", table=~\"$table\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{table}}",
               "range": true,
    @@ -565,7 +565,7 @@
                 "uid": "PBFA97CFB590B2093"
               },
               "editorMode": "code",
    -          "expr": "sum by (exported_instance) (rate(etl_rows_failed_total{job=\"pushgateway\", exported_job=\"batch-etl\"}[$__rate_interval])) / on(exported_instance) sum by (exported_instance) (rate(etl_rows_processed_total{job=\"pushgateway\", exported_job=\"batch-etl\"}[$__rate_interval]))",
    +          "expr": "sum by (instance) (rate(etl_rows_failed_total{job=\"batch-etl\"}[$__rate_interval])) / on(instance) sum by (instance) (rate(etl_rows_processed_total{job=\"batch-etl\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{exported_instance}}",
               "range": true,
    @@ -682,7 +682,7 @@
               "type": "prometheus",
               "uid": "PBFA97CFB590B2093"
             },
    -        "definition": "label_values(etl_rows_processed_total{job=\"pushgateway\"}, exported_job)",
    +        "definition": "label_values(etl_rows_processed_total{job=\"batch-etl\"}, job)",
             "hide": 0,
             "includeAll": false,
             "label": "ETL job",
    @@ -690,7 +690,7 @@
             "name": "exported_job",
             "options": [],
             "query": {
    -          "query": "label_values(etl_rows_processed_total{job=\"pushgateway\"}, exported_job)",
    +          "query": "label_values(etl_rows_processed_total{job=\"batch-etl\"}, job)",
               "refId": "PrometheusVariableQueryEditor-VariableQuery"
             },
             "refresh": 1,
    @@ -713,7 +713,7 @@
               "type": "prometheus",
               "uid": "PBFA97CFB590B2093"
             },
    -        "definition": "label_values(etl_rows_processed_total{job=\"pushgateway\", exported_job=\"$exported_job\"}, table)",
    +        "definition": "label_values(etl_rows_processed_total{job=\"$exported_job\"}, table)",
             "hide": 0,
             "includeAll": true,
             "label": "Table",
    @@ -721,7 +721,7 @@
             "name": "table",
             "options": [],
             "query": {
    -          "query": "label_values(etl_rows_processed_total{job=\"pushgateway\", exported_job=\"$exported_job\"}, table)",
    +          "query": "label_values(etl_rows_processed_total{job=\"$exported_job\"}, table)",
               "refId": "PrometheusVariableQueryEditor-VariableQuery"
             },
             "refresh": 2,

    diff --git a/grafana/dashboards/legacy-etl.json b/grafana/dashboards/legacy-etl.json
    --- a/grafana/dashboards/legacy-etl.json
    +++ b/grafana/dashboards/legacy-etl.json
    @@ -56,7 +56,7 @@
               "steppedLine": false,
               "targets": [
                 {
    -              "expr": "sum(rate(etl_rows_processed_total{job=\"pushgateway\",exported_job=~\"$job\"}[5m])) by (exported_job, table)",
    +              "expr": "sum(rate(etl_rows_processed_total{job=~\"$job\"}[5m])) by (job, table)",
                   "format": "time_series",
                   "intervalFactor": 2,
                   "legendFormat": "{{table}}",
    @@ -132,7 +132,7 @@
               "steppedLine": false,
               "targets": [
                 {
    -              "expr": "sum(increase(etl_rows_failed_total{job=\"pushgateway\",exported_job=~\"[[job]]\"}[1h])) by (reason)",
    +              "expr": "sum(increase(etl_rows_failed_total{job=~\"[[job]]\"}[1h])) by (reason)",
                   "format": "time_series",
                   "intervalFactor": 2,
                   "legendFormat": "{{reason}}",
    @@ -321,7 +321,7 @@
               "tableColumn": "",
               "targets": [
                 {
    -              "expr": "time() - max(etl_last_success_timestamp_seconds{job=\"pushgateway\",exported_job=~\"$job\"}) by (exported_job)",
    +              "expr": "time() - max(etl_last_success_timestamp_seconds{job=~\"$job\"}) by (job)",
                   "format": "time_series",
                   "intervalFactor": 2,
                   "legendFormat": "",
    @@ -448,7 +448,7 @@
             "multi": false,
             "name": "job",
             "options": [],
    -        "query": "label_values(etl_rows_processed_total{job=\"pushgateway\"}, exported_job)",
    +        "query": "label_values(etl_rows_processed_total{job=\"batch-etl\"}, job)",
             "refresh": 1,
             "regex": "",
             "sort": 1,

    diff --git a/prometheus/rules/etl.rules.yml b/prometheus/rules/etl.rules.yml
    --- a/prometheus/rules/etl.rules.yml
    +++ b/prometheus/rules/etl.rules.yml
    @@ -10,14 +10,14 @@
           summary: 'batch-etl {{ $labels.exported_instance }} stopped pushing'
     
       - alert: BatchEtlRowsFailing
    -    expr: sum by (exported_instance, table) (increase(etl_rows_failed_total{job="pushgateway", exported_job="batch-etl"}[15m])) > 100
    +    expr: sum by (instance, table) (increase(etl_rows_failed_total{job="batch-etl"}[15m])) > 100
         labels:
           severity: ticket
     
       - alert: BatchEtlNoSuccess
    -    expr: time() - etl_last_success_timestamp_seconds{job="pushgateway", exported_job="batch-etl", exported_instance="etl-1"} > 2 * 3600
    +    expr: time() - etl_last_success_timestamp_seconds{job="batch-etl", instance="batch-etl:9102"} > 2 * 3600
         labels:
           severity: ticket
     
       - record: exported_job:etl_rows_processed:rate5m
    -    expr: sum by (exported_job) (rate(etl_rows_processed_total{job="pushgateway"}[5m]))
    +    expr: sum by (job) (rate(etl_rows_processed_total{job="batch-etl"}[5m]))

    Findings:
      info [pushed-identity] batch-etl pushes as job "batch-etl", instance "etl-1": its code: `push_to_gateway` at batch-etl/etl.py:65 pushes as job "batch-etl"
             = tip: pin it in pullover.yaml: `apps: [{service: batch-etl, pushed_job: batch-etl, pushed_instances: [etl-1]}]`
      todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway", exported_job="batch-etl"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/etl-overview.json:153:19 (dashboard "Batch ETL" › panel "Since last push")
             = tip: suggested: `up{job="batch-etl"} == 0 or absent(up{job="batch-etl"})`
      todo [legend-uses-exported-label] the legend `{{exported_instance}}` shows `exported_instance`, which scraped series do not have: it goes blank after the migration
             --> grafana/dashboards/etl-overview.json:155:27 (dashboard "Batch ETL" › panel "Since last push")
             = tip: use `{{instance}}` in the legend once the query reads the scraped series
      todo [no-scraped-equivalent] `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/etl-overview.json:286:19 (dashboard "Batch ETL" › panel "Targets up")
             = tip: suggested: `up{job="batch-etl"}`
      todo [legend-uses-exported-label] the legend `{{exported_job}}` shows `exported_job`, which scraped series do not have: it goes blank after the migration
             --> grafana/dashboards/etl-overview.json:382:27 (dashboard "Batch ETL" › panel "Rows processed / s")
             = tip: use `{{job}}` in the legend once the query reads the scraped series
      todo [legend-uses-exported-label] the legend `{{exported_instance}}` shows `exported_instance`, which scraped series do not have: it goes blank after the migration
             --> grafana/dashboards/etl-overview.json:570:27 (dashboard "Batch ETL" › panel "Rejected row ratio")
             = tip: use `{{instance}}` in the legend once the query reads the scraped series
      todo [no-scraped-equivalent] `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/etl-overview.json:657:19 (dashboard "Batch ETL" › panel "Scrape targets")
             = tip: suggested: `up{job="batch-etl"}`
      todo [no-scraped-equivalent] `push_time_seconds{job="pushgateway",exported_job=~"$job"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/legacy-etl.json:247:23 (dashboard "ETL (legacy)" › row "Freshness" › panel "Seconds since last push")
             = tip: suggested: `up{job="batch-etl"} == 0 or absent(up{job="batch-etl"})`
      todo [no-scraped-equivalent] `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/legacy-etl.json:377:23 (dashboard "ETL (legacy)" › row "Freshness" › panel "Targets up")
             = tip: suggested: `up{job="batch-etl"}`
    hazard [no-scraped-equivalent] `push_time_seconds{job="pushgateway", exported_job="batch-etl"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/etl.rules.yml:5:11 (rules group "batch-etl" › alert "BatchEtlNotPushing")
             = tip: suggested: `up{job="batch-etl"} == 0 or absent(up{job="batch-etl"})`

    Plan: 3 files to change, 0 to create, 0 to delete (+16 −16 lines).
    Apply it with `pullover apply dashboards`.
    "#);
}

#[test]
fn anchors_plan_moves_queries_off_the_job_the_worker_code_pushes_as() {
    insta::assert_snapshot!(plan_text("anchors"), @r#"
    Phase 3/5 `dashboards`: rewrite dashboard and rule queries to the scraped series

    diff --git a/grafana/dashboards/queue-worker.json b/grafana/dashboards/queue-worker.json
    --- a/grafana/dashboards/queue-worker.json
    +++ b/grafana/dashboards/queue-worker.json
    @@ -121,7 +121,7 @@
                 "uid": "prom"
               },
               "editorMode": "code",
    -          "expr": "sum by (status) (rate(worker_jobs_processed_total{job=\"queue-worker\", queue=~\"$queue\"}[$__rate_interval]))",
    +          "expr": "sum by (status) (rate(worker_jobs_processed_total{job=\"worker\", queue=~\"$queue\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{status}}",
               "range": true,
    @@ -217,7 +217,7 @@
                 "uid": "prom"
               },
               "editorMode": "code",
    -          "expr": "histogram_quantile(0.9, sum by (le, queue) (rate(worker_job_duration_seconds_bucket{job=\"queue-worker\", instance=\"worker-1\"}[$__rate_interval])))",
    +          "expr": "histogram_quantile(0.9, sum by (le, queue) (rate(worker_job_duration_seconds_bucket{job=\"worker\", instance=\"worker:9100\"}[$__rate_interval])))",
               "instant": false,
               "legendFormat": "{{queue}}",
               "range": true,
    @@ -409,7 +409,7 @@
                 "uid": "prom"
               },
               "editorMode": "code",
    -          "expr": "worker_queue_depth{job=\"queue-worker\", queue=~\"$queue\"}",
    +          "expr": "worker_queue_depth{job=\"worker\", queue=~\"$queue\"}",
               "instant": false,
               "legendFormat": "{{queue}}",
               "range": true,
    @@ -656,7 +656,7 @@
               "type": "prometheus",
               "uid": "prom"
             },
    -        "definition": "label_values(worker_queue_depth{job=\"queue-worker\"}, queue)",
    +        "definition": "label_values(worker_queue_depth{job=\"worker\"}, queue)",
             "hide": 0,
             "includeAll": true,
             "label": "Queue",
    @@ -665,7 +665,7 @@
             "options": [],
             "query": {
               "qryType": 1,
    -          "query": "label_values(worker_queue_depth{job=\"queue-worker\"}, queue)",
    +          "query": "label_values(worker_queue_depth{job=\"worker\"}, queue)",
               "refId": "PrometheusVariableQueryEditor-VariableQuery"
             },
             "refresh": 1,

    diff --git a/prometheus/alerts.yml b/prometheus/alerts.yml
    --- a/prometheus/alerts.yml
    +++ b/prometheus/alerts.yml
    @@ -12,16 +12,16 @@
     
           - alert: QueueWorkerFailing
             expr: |
    -          sum(rate(worker_jobs_processed_total{job="queue-worker", status="failed"}[10m]))
    +          sum(rate(worker_jobs_processed_total{job="worker", status="failed"}[10m]))
                 /
    -          sum(rate(worker_jobs_processed_total{job="queue-worker"}[10m]))
    +          sum(rate(worker_jobs_processed_total{job="worker"}[10m]))
                 > 0.05
             for: 10m
             labels:
               severity: warning
     
           - record: queue:worker_queue_depth:max
    -        expr: max by (queue) (worker_queue_depth{job="queue-worker", instance="worker-1"})
    +        expr: max by (queue) (worker_queue_depth{job="worker", instance="worker:9100"})
     
       - name: scraping
         rules:

    Findings:
      info [pushed-identity] worker pushes as job "queue-worker", instance "worker-1": its code: `pushadd_to_gateway` at worker/worker.py:56 pushes as job "queue-worker"; the dashboards and rules select its metrics with job="queue-worker" (10 selectors, e.g. `worker_jobs_processed_total{job="queue-worker", queue=~"$queue"}`)
             --> grafana/dashboards/queue-worker.json:124:19 (dashboard "Queue worker" › row "Jobs" › panel "Jobs / s by status")
             = tip: pin it in pullover.yaml: `apps: [{service: worker, pushed_job: queue-worker, pushed_instances: [worker-1]}]`
    hazard [double-count-during-dual-run] `worker_jobs_processed_total{job!~"node|prometheus", status="failed"}` has no job matcher that tells the pushed from the scraped series: it selects both while both run
             --> grafana/dashboards/queue-worker.json:316:19 (dashboard "Queue worker" › row "Jobs" › panel "Failed jobs / s (all pushers)")
             = tip: suggested: `job="worker", instance="worker:9100"`
      todo [no-scraped-equivalent] `push_time_seconds{job="queue-worker", instance="worker-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/queue-worker.json:498:19 (dashboard "Queue worker" › row "Scraping" › panel "Seconds since last push")
             = tip: suggested: `up{job="worker"} == 0 or absent(up{job="worker"})`
      todo [no-scraped-equivalent] `push_time_seconds{job!="batch"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/queue-worker.json:562:19 (dashboard "Queue worker" › row "Scraping" › panel "Pushed groups")
             = tip: suggested: `up{job="worker"} == 0 or absent(up{job="worker"})`
      todo [no-scraped-equivalent] `up{job=~"batch|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/queue-worker.json:626:19 (dashboard "Queue worker" › row "Scraping" › panel "Gateway and nodes up")
             = tip: suggested: `up{job="worker"}`
    hazard [no-scraped-equivalent] `push_time_seconds{job="queue-worker"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/alerts.yml:6:15 (rules group "queue-worker" › alert "QueueWorkerSilent")
             = tip: suggested: `up{job="worker"} == 0 or absent(up{job="worker"})`
    hazard [no-scraped-equivalent] `up{job="batch"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> prometheus/alerts.yml:29:15 (rules group "scraping" › alert "BatchGatewayDown")
             = tip: suggested: `up{job="worker"}`

    Plan: 2 files to change, 0 to create, 0 to delete (+8 −8 lines).
    Apply it with `pullover apply dashboards`.
    "#);
}

#[test]
fn crlf_plan_keeps_crlf_and_escaped_quotes() {
    insta::assert_snapshot!(plan_text("crlf"), @r#"
    Phase 3/5 `dashboards`: rewrite dashboard and rule queries to the scraped series

    diff --git a/grafana/dashboards/api.json b/grafana/dashboards/api.json
    --- a/grafana/dashboards/api.json
    +++ b/grafana/dashboards/api.json
    @@ -204,7 +204,7 @@
                 "uid": "prometheus"
               },
               "editorMode": "code",
    -          "expr": "sum by (status) (rate(api_requests_total{job=\"api\", instance=\"\"}[$__rate_interval]))",
    +          "expr": "sum by (status) (rate(api_requests_total{job=\"api\", instance=\"api:3000\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{status}}",
               "range": true,

    diff --git a/prometheus/rules.yml b/prometheus/rules.yml
    --- a/prometheus/rules.yml
    +++ b/prometheus/rules.yml
    @@ -17,4 +17,4 @@
                 severity: "page"
     
         -   record: "route:api_requests:rate5m"
    -        expr: "sum by (route) (rate(api_requests_total{job=\"api\", instance=\"\"}[5m]))"
    +        expr: "sum by (route) (rate(api_requests_total{job=\"api\", instance=\"api:3000\"}[5m]))"

    Findings:
      info [pushed-identity] api pushes as job "api", with no instance: its code: `pushAdd` at api/server.js:65 pushes as job "api"
             = tip: pin it in pullover.yaml: `apps: [{service: api, pushed_job: api, pushed_instances: [""]}]`
    hazard [double-count-during-dual-run] `api_requests_total{job="api", route=~"$route"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> grafana/dashboards/api.json:111:19 (dashboard "API" › panel "Requests / s by route")
             = tip: suggested: `instance="api:3000"`
    hazard [double-count-during-dual-run] `api_request_duration_seconds_bucket{job="api"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> grafana/dashboards/api.json:303:19 (dashboard "API" › panel "Latency")
             = tip: suggested: `instance="api:3000"`
    hazard [double-count-during-dual-run] `api_request_duration_seconds_bucket{job="api"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> grafana/dashboards/api.json:315:19 (dashboard "API" › panel "Latency")
             = tip: suggested: `instance="api:3000"`
    hazard [double-count-during-dual-run] `api_inflight_requests{job="api"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> grafana/dashboards/api.json:383:19 (dashboard "API" › panel "In-flight requests")
             = tip: suggested: `instance="api:3000"`
      todo [no-scraped-equivalent] `push_time_seconds{job="api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/api.json:456:19 (dashboard "API" › panel "Seconds since last push")
             = tip: suggested: `up{job="api"} == 0 or absent(up{job="api"})`
    hazard [double-count-during-dual-run] `api_requests_total{job="api"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> grafana/dashboards/api.json:488:23 (dashboard "API" › variable "route")
             = tip: suggested: `instance="api:3000"`
    hazard [no-scraped-equivalent] `push_time_seconds{job="api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules.yml:6:15 (rules group "api" › alert "ApiPushStale")
             = tip: suggested: `up{job="api"} == 0 or absent(up{job="api"})`
    hazard [double-count-during-dual-run] `api_requests_total{job="api", status=~"5.."}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> prometheus/rules.yml:14:15 (rules group "api" › alert "ApiErrorRate")
             = tip: suggested: `instance="api:3000"`
    hazard [double-count-during-dual-run] `api_requests_total{job="api"}` selects both the pushed and the scraped series while both run: they share job "api" and differ only by instance
             --> prometheus/rules.yml:14:15 (rules group "api" › alert "ApiErrorRate")
             = tip: suggested: `instance="api:3000"`

    Plan: 2 files to change, 0 to create, 0 to delete (+2 −2 lines).
    Apply it with `pullover apply dashboards`.
    "#);
}

#[test]
fn grafana_resources_plan_covers_v1_and_v2_resources_and_library_panels() {
    insta::assert_snapshot!(plan_text("grafana-resources"), @r#"
    Phase 3/5 `dashboards`: rewrite dashboard and rule queries to the scraped series

    diff --git a/grafana/dashboards/billing.v1.json b/grafana/dashboards/billing.v1.json
    --- a/grafana/dashboards/billing.v1.json
    +++ b/grafana/dashboards/billing.v1.json
    @@ -85,7 +85,7 @@
                   "uid": "prometheus"
                 },
                 "editorMode": "code",
    -            "expr": "billing_outstanding_invoices{job=\"billing\", instance=\"billing-1\"}",
    +            "expr": "billing_outstanding_invoices{job=\"billing\", instance=\"billing:9200\"}",
                 "instant": false,
                 "legendFormat": "__auto",
                 "range": true,
    @@ -518,7 +518,7 @@
                       "uid": "prometheus"
                     },
                     "editorMode": "code",
    -                "expr": "sum by (currency) (rate(billing_revenue_cents_total{job=\"billing\", instance=\"billing-1\"}[$__rate_interval])) / 100",
    +                "expr": "sum by (currency) (rate(billing_revenue_cents_total{job=\"billing\", instance=\"billing:9200\"}[$__rate_interval])) / 100",
                     "instant": false,
                     "legendFormat": "{{currency}}",
                     "range": true,

    diff --git a/grafana/dashboards/metrics-api.v2.json b/grafana/dashboards/metrics-api.v2.json
    --- a/grafana/dashboards/metrics-api.v2.json
    +++ b/grafana/dashboards/metrics-api.v2.json
    @@ -39,7 +39,7 @@
                 "group": "prometheus",
                 "kind": "DataQuery",
                 "spec": {
    -              "expr": "changes(process_start_time_seconds{job=\"metrics-api\", instance=\"app-1\"}[2m]) > 0",
    +              "expr": "changes(process_start_time_seconds{job=\"metrics-api\", instance=\"metrics-api:8080\"}[2m]) > 0",
                   "refId": "Anno",
                   "step": "1m",
                   "titleFormat": "metrics-api restart"
    @@ -185,7 +185,7 @@
                           "kind": "DataQuery",
                           "spec": {
                             "editorMode": "code",
    -                        "expr": "sum by (code) (rate(http_requests_total{job=\"metrics-api\", instance=\"app-1\"}[$__rate_interval]))",
    +                        "expr": "sum by (code) (rate(http_requests_total{job=\"metrics-api\", instance=\"metrics-api:8080\"}[$__rate_interval]))",
                             "legendFormat": "{{code}}",
                             "range": true
                           },

    diff --git a/grafana/dashboards/overview.json b/grafana/dashboards/overview.json
    --- a/grafana/dashboards/overview.json
    +++ b/grafana/dashboards/overview.json
    @@ -396,7 +396,7 @@
                 "uid": "${datasource}"
               },
               "editorMode": "code",
    -          "expr": "sum by (status) (rate(billing_invoices_total{job=\"billing\", instance=\"billing-1\"}[$__rate_interval]))",
    +          "expr": "sum by (status) (rate(billing_invoices_total{job=\"billing\", instance=\"billing:9200\"}[$__rate_interval]))",
               "instant": false,
               "legendFormat": "{{status}}",
               "range": true,

    Findings:
      info [pushed-identity] metrics-api pushes as job "metrics-api", instance "app-1": its code: `pushAdd` at metrics-api/server.js:125 pushes as job "metrics-api"
             = tip: pin it in pullover.yaml: `apps: [{service: metrics-api, pushed_job: metrics-api, pushed_instances: [app-1]}]`
      info [pushed-identity] billing pushes as job "billing", instance "billing-1": its code: `push_to_gateway` at billing/billing.py:45 pushes as job "billing"
             = tip: pin it in pullover.yaml: `apps: [{service: billing, pushed_job: billing, pushed_instances: [billing-1]}]`
    hazard [double-count-during-dual-run] `billing_revenue_cents_total{job="billing"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> grafana/dashboards/billing.v1.json:154:21 (dashboard "Billing" › panel "Revenue, last 24h")
             = tip: suggested: `instance="billing:9200"`
      todo [no-scraped-equivalent] `push_time_seconds{job="billing", instance="billing-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/billing.v1.json:223:21 (dashboard "Billing" › panel "Seconds since last push")
             = tip: suggested: `up{job="billing"} == 0 or absent(up{job="billing"})`
    hazard [double-count-during-dual-run] `billing_invoices_total{job="billing", status=~"$status"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> grafana/dashboards/billing.v1.json:319:21 (dashboard "Billing" › panel "Invoices / s by status")
             = tip: suggested: `instance="billing:9200"`
    hazard [double-count-during-dual-run] `billing_payment_duration_seconds_bucket{job="billing"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> grafana/dashboards/billing.v1.json:415:21 (dashboard "Billing" › panel "Payment provider latency")
             = tip: suggested: `instance="billing:9200"`
    hazard [double-count-during-dual-run] `billing_invoices_total{job="billing"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> grafana/dashboards/billing.v1.json:557:25 (dashboard "Billing" › variable "status")
             = tip: suggested: `instance="billing:9200"`
    hazard [double-count-during-dual-run] `page_views_total{job="metrics-api", page=~"${page}"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/metrics-api.v2.json:75:33 (dashboard "Metrics API (v2)" › row "Traffic" › panel "Page views / s by page")
             = tip: suggested: `instance="metrics-api:8080"`
    hazard [double-count-during-dual-run] `http_request_duration_seconds_bucket{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/metrics-api.v2.json:301:33 (dashboard "Metrics API (v2)" › row "Traffic" › panel "Latency")
             = tip: suggested: `instance="metrics-api:8080"`
    hazard [double-count-during-dual-run] `http_request_duration_seconds_bucket{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/metrics-api.v2.json:322:33 (dashboard "Metrics API (v2)" › row "Traffic" › panel "Latency")
             = tip: suggested: `instance="metrics-api:8080"`
      todo [no-scraped-equivalent] `push_time_seconds{job="metrics-api", instance="app-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/metrics-api.v2.json:435:33 (dashboard "Metrics API (v2)" › row "Traffic" › panel "Seconds since last push")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
      todo [library-panel] this panel is library panel "Billing revenue" (uid billing-revenue): its queries live in Grafana's library, not in this file, and are not rewritten
             --> grafana/dashboards/metrics-api.v2.json:505:27 (dashboard "Metrics API (v2)" › row "Details" › panel "Billing revenue")
             = tip: check the library panel's queries in Grafana (Dashboards › Library panels) and rewrite them there
    hazard [double-count-during-dual-run] `page_views_total{job="metrics-api", page=~"$page"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/metrics-api.v2.json:531:33 (dashboard "Metrics API (v2)" › row "Details" › panel "Views of [[page]] by country")
             = tip: suggested: `instance="metrics-api:8080"`
    hazard [double-count-during-dual-run] `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/metrics-api.v2.json:799:25 (dashboard "Metrics API (v2)" › variable "page")
             = tip: suggested: `instance="metrics-api:8080"`
      todo [no-scraped-equivalent] `push_time_seconds{job=~"$job"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/overview.json:111:19 (dashboard "Apps overview" › panel "Seconds since last push, by job")
             = tip: suggested: `up{job=~"metrics-api|billing"} == 0 or absent(up{job=~"metrics-api|billing"})`
    hazard [double-count-during-dual-run] `{__name__=~"page_views_total|billing_invoices_total", job=~"metrics-api|billing"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/overview.json:207:19 (dashboard "Apps overview" › panel "Events / s per app")
             = tip: suggested: `instance="metrics-api:8080"`
    hazard [double-count-during-dual-run] `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
             --> grafana/dashboards/overview.json:303:19 (dashboard "Apps overview" › panel "Page views / s")
             = tip: suggested: `instance="metrics-api:8080"`
      todo [library-panel] this panel is library panel "Billing revenue" (uid billing-revenue): its queries live in Grafana's library, not in this file, and are not rewritten
             --> grafana/dashboards/overview.json:417:23 (dashboard "Apps overview" › panel "Billing revenue")
             = tip: check the library panel's queries in Grafana (Dashboards › Library panels) and rewrite them there
      todo [no-scraped-equivalent] `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> grafana/dashboards/overview.json:497:19 (dashboard "Apps overview" › panel "Pushgateway up")
             = tip: suggested: `up{job=~"metrics-api|billing"}`
      todo [no-scraped-equivalent] `push_time_seconds` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> grafana/dashboards/overview.json:547:23 (dashboard "Apps overview" › variable "job")
             = tip: suggested: `up{job=~"metrics-api|billing"} == 0 or absent(up{job=~"metrics-api|billing"})`
    hazard [no-scraped-equivalent] `push_time_seconds{job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/apps.yml:5:15 (rules group "pushed-apps" › alert "MetricsApiPushStale")
             = tip: suggested: `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`
    hazard [no-scraped-equivalent] `push_time_seconds{job="billing", instance="billing-1"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/apps.yml:11:15 (rules group "pushed-apps" › alert "BillingPushStale")
             = tip: suggested: `up{job="billing"} == 0 or absent(up{job="billing"})`
    hazard [double-count-during-dual-run] `billing_invoices_total{job="billing", status="failed"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> prometheus/rules/apps.yml:17:15 (rules group "pushed-apps" › alert "BillingPaymentsFailing")
             = tip: suggested: `instance="billing:9200"`
    hazard [double-count-during-dual-run] `billing_invoices_total{job="billing"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> prometheus/rules/apps.yml:17:15 (rules group "pushed-apps" › alert "BillingPaymentsFailing")
             = tip: suggested: `instance="billing:9200"`
    hazard [double-count-during-dual-run] `billing_invoices_total{job="billing"}` selects both the pushed and the scraped series while both run: they share job "billing" and differ only by instance
             --> prometheus/rules/apps.yml:23:15 (rules group "pushed-apps" › record "job:billing_invoices:rate5m")
             = tip: suggested: `instance="billing:9200"`

    Plan: 3 files to change, 0 to create, 0 to delete (+5 −5 lines).
    Apply it with `pullover apply dashboards`.
    "#);
}

/// Lines (1-based) of `text` that `range` covers.
fn lines_of(text: &str, range: std::ops::Range<usize>) -> BTreeSet<usize> {
    let first = line_col(text, range.start).0;
    let last = line_col(text, range.end.saturating_sub(1).max(range.start)).0;
    (first..=last).collect()
}

/// The lines, before and after, of the query strings whose value differs: found by reading both
/// files, independently of the planner.
fn edited_query_lines(path: &str, before: &str, after: &str) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut old = BTreeSet::new();
    let mut new = BTreeSet::new();
    if path.ends_with(".json") {
        let sites = |text: &str| {
            let scanned = scan(text).unwrap();
            let mut all: Vec<_> = scanned.sites;
            all.extend(scanned.skipped.into_iter().map(|s| s.site));
            all
        };
        let (before_sites, after_sites) = (sites(before), sites(after));
        for site in &before_sites {
            let twin = after_sites.iter().find(|s| s.pointer == site.pointer).unwrap();
            if twin.value != site.value {
                old.extend(lines_of(before, site.literal.clone()));
                new.extend(lines_of(after, twin.literal.clone()));
            }
        }
    } else {
        let (before_doc, after_doc) = (YamlDoc::parse(before).unwrap(), YamlDoc::parse(after).unwrap());
        let groups = before_doc.value()["groups"].as_sequence().unwrap().len();
        for group in 0..groups {
            let rules = before_doc.value()["groups"][group]["rules"]
                .as_sequence()
                .unwrap()
                .len();
            for rule in 0..rules {
                let route = Route::root()
                    .key("groups")
                    .item(ItemMatch::Index(group))
                    .key("rules")
                    .item(ItemMatch::Index(rule))
                    .key("expr");
                let (Some(a), Some(b)) = (before_doc.find(&route), after_doc.find(&route)) else {
                    continue;
                };
                if route.find_value(before_doc.value()) != route.find_value(after_doc.value()) {
                    old.extend(lines_of(before, a.range()));
                    new.extend(lines_of(after, b.range()));
                }
            }
        }
    }
    (old, new)
}

fn text_of(state: &Option<pullover::changeset::FileState>) -> String {
    String::from_utf8(state.as_ref().unwrap().bytes.to_vec()).unwrap()
}

/// Diff lines with their line number in the old or new file.
type NumberedLines = Vec<(usize, String)>;

/// Every `-` and `+` line of the change's diff, with its line number in the old or new file.
fn changed_lines(change: &FileChange) -> (NumberedLines, NumberedLines) {
    let diff = render::file_diff(change);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut old_line, mut new_line) = (0, 0);
    for line in diff.lines().skip_while(|l| !l.starts_with("@@")) {
        if let Some(header) = line.strip_prefix("@@ -") {
            let (old, rest) = header.split_once(" +").unwrap();
            let new = rest.split_once(" @@").unwrap().0;
            old_line = old.split(',').next().unwrap().parse().unwrap();
            new_line = new.split(',').next().unwrap().parse().unwrap();
        } else if let Some(text) = line.strip_prefix('-') {
            removed.push((old_line, text.to_string()));
            old_line += 1;
        } else if let Some(text) = line.strip_prefix('+') {
            added.push((new_line, text.to_string()));
            new_line += 1;
        } else if line.starts_with(' ') {
            old_line += 1;
            new_line += 1;
        }
    }
    (removed, added)
}

#[test]
fn on_every_stack_the_diff_changes_only_lines_holding_rewritten_queries() {
    let mut files = 0;
    for name in stacks() {
        let stack = Stack::load(&repo_root().join("stacks").join(&name), &Overrides::default()).unwrap();
        let plan = dashboards::plan(&stack).unwrap();
        assert!(!plan.is_empty(), "{name}: nothing to rewrite?");
        for change in &plan.changes {
            let path = change.path.as_str();
            let (before, after) = (text_of(&change.before), text_of(&change.after));
            let (old, new) = edited_query_lines(path, &before, &after);
            let (removed, added) = changed_lines(change);
            assert!(!removed.is_empty() && !added.is_empty(), "{name}/{path}");
            for (line, text) in &removed {
                assert!(
                    old.contains(line),
                    "{name}/{path}:{line} changed but holds no edited query:\n-{text}"
                );
            }
            for (line, text) in &added {
                assert!(
                    new.contains(line),
                    "{name}/{path}:{line} added but holds no edited query:\n+{text}"
                );
            }
            files += 1;
        }
    }
    assert!(files >= 10, "{files} files checked");
}

/// `plan dashboards --patch`, applied with `git apply`: the stack as the phase leaves it.
fn rewritten(stack: &str) -> (Pullover, Vec<String>) {
    let p = pullover().stack(stack);
    let patch = p.path().parent().unwrap().join("dashboards.patch");
    p.run(["plan", "dashboards", "--patch", patch.to_str().unwrap()])
        .success();
    let patch_text = std::fs::read_to_string(&patch).unwrap();
    let paths: Vec<String> = patch_text
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .map(str::to_string)
        .collect();
    git_apply(&p.path(), &patch, false, stack);
    (p, paths)
}

#[test]
fn planning_again_on_the_rewritten_files_changes_nothing() {
    for stack in stacks() {
        let (p, paths) = rewritten(&stack);
        assert!(!paths.is_empty(), "{stack}");
        let run = p.run(["plan", "dashboards", "--detailed-exitcode"]);
        run.code(0);
        // The to-dos a person must settle stay; no file changes again.
        assert!(
            run.stdout.contains("No changes") || run.stdout.contains("No file changes:"),
            "{stack}: a second plan changes more:\n{}",
            run.stdout
        );
    }
}

#[test]
fn promtool_accepts_every_rewritten_rule_file() {
    if !require_tool("promtool") {
        return;
    }
    let mut without_rule_rewrite = Vec::new();
    for stack in stacks() {
        let (p, paths) = rewritten(&stack);
        let mut checked = 0;
        for path in paths.iter().filter(|p| p.ends_with(".yml") || p.ends_with(".yaml")) {
            let out = std::process::Command::new("promtool")
                .args(["check", "rules"])
                .arg(Path::new(&p.file(path)))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{stack}: promtool rejects {path}:\n{}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                p.read(path)
            );
            checked += 1;
        }
        if checked == 0 {
            without_rule_rewrite.push(stack);
        }
    }
    // grafana-resources' rules only read push_time_seconds or add up both sources; shared-volume
    // pushes under the scrape job's own name with no instance matcher: reported, none moves.
    // mount-config-only and null-rule-files have no rule file.
    assert_eq!(
        without_rule_rewrite,
        [
            "grafana-resources",
            "mount-config-only",
            "null-rule-files",
            "shared-volume"
        ],
        "every other stack has a rule to rewrite"
    );
}

#[test]
fn a_malformed_dashboard_is_an_error_at_its_line_and_nothing_changes() {
    let p = pullover().stack("seed");
    let path = "grafana/dashboards/website-overview.json";
    let text = p
        .read(path)
        .replacen("\"title\": \"Traffic\",", "\"title\": \"Traffic\",,", 1);
    p.write(path, &text);
    let before = p.hashes();
    let run = p.run(["plan", "dashboards"]);
    run.code(1);
    insta::assert_snapshot!(p.clean(&run.stderr), @r#"
    note: `scrape` is not applied yet; `pullover apply dashboards` refuses until it is
    error: grafana/dashboards/website-overview.json: not valid JSON: Unexpected token in object
      --> grafana/dashboards/website-overview.json:52:26
       |
    52 |       "title": "Traffic",,
       |                          ^
       = help: fix the JSON (Grafana writes strict JSON: no comments, no trailing commas); nothing was written
    "#);
    assert_eq!(p.hashes(), before);
}

#[test]
fn an_unparseable_query_is_reported_with_its_panel_and_left_as_written() {
    let p = pullover().stack("seed");
    let path = "grafana/dashboards/website-overview.json";
    let broken = r#""expr": "sum(page_views_total{job=\"pushgateway\", instance=\"app-1\"}""#;
    let text = p.read(path).replacen(
        r#""expr": "sum(page_views_total{job=\"pushgateway\", instance=\"app-1\"})""#,
        broken,
        1,
    );
    assert!(text.contains(broken));
    p.write(path, &text);
    let run = p.run(["--format", "json", "plan", "dashboards"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "unparseable-query")
        .expect("the broken query is reported");
    insta::assert_snapshot!(serde_json::to_string_pretty(finding).unwrap(), @r#"
    {
      "id": "unparseable-query",
      "severity": "todo",
      "message": "the query does not parse (at 1:4 of the query: unclosed left parenthesis (at `(`)); left unchanged",
      "tip": "fix the query, or check by hand whether it selects pushed series",
      "location": {
        "path": "grafana/dashboards/website-overview.json",
        "line": 110,
        "column": 19,
        "context": "dashboard \"Website Overview\" › row \"Traffic\" › panel \"Page views (total)\""
      }
    }
    "#);
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == path)
        .unwrap();
    assert!(
        !change["diff"]
            .as_str()
            .unwrap()
            .contains("-          \"expr\": \"sum(page_views_total"),
        "the broken query is not touched"
    );
}

#[test]
fn a_query_the_promql_parser_panics_on_is_reported_quietly_like_any_unparseable_one() {
    // Found by fuzzing: promql-parser panics turning a huge bare number of seconds into a range.
    let p = pullover().stack("seed");
    let path = "grafana/dashboards/website-overview.json";
    let original = r#""expr": "sum(page_views_total{job=\"pushgateway\", instance=\"app-1\"})""#;
    let huge = format!(
        r#""expr": "sum(rate(page_views_total{{job=\"pushgateway\", instance=\"app-1\"}}[5{}][5m]))""#,
        "9".repeat(80)
    );
    p.write(path, &p.read(path).replacen(original, &huge, 1));
    let run = p.run(["plan", "dashboards"]);
    run.success();
    assert!(run.stdout.contains("[unparseable-query]"), "{}", run.stdout);
    assert!(run.stdout.contains("cannot read this query"), "{}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
