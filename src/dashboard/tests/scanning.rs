//! What `scan` finds in each dashboard model.

use super::super::{Model, scan};
use super::{
    CLASSIC_EXPORT, CRLF_NO_FINAL_NEWLINE, LEGACY_ROWS, V1_RESOURCE_GO, V2_RESOURCE, assert_sites_are_faithful, render,
};

#[test]
fn classic_export_lists_panels_rows_variables_annotations_and_skips_loki() {
    let scanned = assert_sites_are_faithful(CLASSIC_EXPORT);
    insta::assert_snapshot!(render(CLASSIC_EXPORT, &scanned), @r#"
        Classic "Metrics API" uid="metrics-api"
        panel query /__elements/lp-batch-duration/model/targets/0/expr @12:21 | panel "Batch duration" | ds $DS_PROMETHEUS (prometheus)
            batch_job_duration_seconds{job="metrics-api"}
        annotation query /annotations/list/1/expr @61:17 | annotation "Pushes" | ds $DS_PROMETHEUS (prometheus)
            changes(push_time_seconds{job="metrics-api"}[2m]) > 0
        annotation query /annotations/list/2/target/expr @76:19 | annotation "Deploys" | ds $DS_PROMETHEUS (prometheus)
            changes(app_build_info{job="metrics-api"}[5m]) > 0
        panel link /panels/1/links/0/url @105:18 | panel "Requests" in row "Pushed metrics"
            /explore?left=%7B%22queries%22:%5B%7B%22expr%22:%22http_requests_total%22%7D%5D%7D
        panel query /panels/1/targets/0/expr @118:19 | panel "Requests" in row "Pushed metrics" | ds $DS_PROMETHEUS (prometheus)
            sum by (route) (rate(http_requests_total{job="metrics-api", instance=""}[$__rate_interval]))
        panel query /panels/1/targets/1/expr @127:19 | panel "Requests" in row "Pushed metrics" | ds $DS_PROMETHEUS (prometheus)
            sum(rate(http_requests_total{job=~"metrics-api|pushgateway", code=~"5.."}[$__rate_interval]))
        panel query /panels/2/targets/0/expr @144:19 | panel "Seconds since last push" in row "Pushed metrics" | ds $DS_PROMETHEUS (prometheus)
            time() - push_time_seconds{job="metrics-api"}
        panel query /panels/3/targets/0/expr @164:19 | panel (untitled) in row "Pushed metrics" | ds $DS_PROMETHEUS (prometheus)
            up{job="pushgateway"}
        panel query /panels/4/panels/0/targets/0/expr @192:23 | panel "p99 latency" in row "Details" | ds $DS_PROMETHEUS (prometheus)
            histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[5m])))
        variable definition /templating/list/1/definition @252:23 | variable "route" | ds $DS_PROMETHEUS (prometheus)
            label_values(http_requests_total{job="metrics-api"}, route)
        variable query /templating/list/1/query/query @259:20 | variable "route" | ds $DS_PROMETHEUS (prometheus)
            label_values(http_requests_total{job="metrics-api"}, route)
        variable query /templating/list/2/query @271:18 | variable "instance" | ds $datasource (prometheus)
            label_values(up{job="pushgateway"}, instance)
        SKIPPED (data source is loki, not PromQL) panel query /panels/3/targets/1/expr @172:19 | panel (untitled) in row "Pushed metrics" | ds $DS_LOKI (loki)
            count_over_time({job="metrics-api"} |= "push failed" [5m])
        SKIPPED (data source is loki, not PromQL) panel query /panels/5/targets/0/expr @221:19 | panel "Errors in logs" in row "Details" | ds $DS_LOKI (loki)
            {job="metrics-api"} |= "error"
        library panel lp-batch-duration "Batch duration" at /panels/4/panels/1/libraryPanel (panel "Batch duration" in row "Details")
    "#);
}

#[test]
fn legacy_rows_use_row_titles_and_legacy_datasource_names() {
    let scanned = assert_sites_are_faithful(LEGACY_ROWS);
    insta::assert_snapshot!(render(LEGACY_ROWS, &scanned), @r#"
        Classic "Batch jobs (legacy)" uid="-"
        annotation query /annotations/list/0/expr @7:17 | annotation "Alerts" | ds ?/"Prometheus"
            ALERTS{alertname="PushgatewayDown"}
        panel query /rows/0/panels/0/targets/0/expr @29:23 | panel "Records processed" in row "Batch jobs" | ds ?/"Prometheus"
            sum(batch_records_processed_total{job="pushgateway", exported_job="nightly-export"})
        panel query /rows/0/panels/1/targets/0/expr @45:23 | panel "Last success" in row "Batch jobs" | ds default
            batch_last_success_timestamp_seconds{exported_job=~"$job"}
        panel query /rows/1/panels/1/targets/0/expr @78:23 | panel "Gateway up" in row "Infrastructure" | ds ?/"Thanos"
            up{job="pushgateway"}
        variable query /templating/list/0/query @116:18 | variable "job" | ds ?/"Prometheus"
            label_values(batch_last_success_timestamp_seconds{job="pushgateway"}, exported_job)
        SKIPPED (data source "metrics-store" has no type) panel query /rows/1/panels/2/targets/0/expr @91:23 | panel "Errors" in row "Infrastructure" | ds ?/"metrics-store"
            rate(batch_errors_total[5m])
    "#);
}

#[test]
fn v1_resource_reads_the_classic_model_under_spec_with_go_escapes_decoded() {
    let scanned = assert_sites_are_faithful(V1_RESOURCE_GO);
    insta::assert_snapshot!(render(V1_RESOURCE_GO, &scanned), @r#"
        V1Resource "Pushgateway health" uid="pushgateway-health"
        panel query /spec/panels/0/targets/0/expr @53:21 | panel "Failing pushers > 0" | ds prometheus/P1809F7CD0C75ACF3
            sum by (exported_job) (rate(jobs_failed_total{job="pushgateway"}[5m])) > 0
        panel query /spec/panels/0/targets/1/expr @57:21 | panel "Failing pushers > 0" | ds prometheus/P1809F7CD0C75ACF3
            count(push_time_seconds{job="pushgateway"} < (time() - 3600))
        variable definition /spec/templating/list/0/definition @73:25 | variable "pushed_job" | ds prometheus/P1809F7CD0C75ACF3
            label_values(push_time_seconds{job="pushgateway"},exported_job)
        variable query /spec/templating/list/0/query/query @77:22 | variable "pushed_job" | ds prometheus/P1809F7CD0C75ACF3
            label_values(push_time_seconds{job="pushgateway"},exported_job)
    "#);
}

#[test]
fn v2_resource_reads_elements_variables_annotations_and_row_titles() {
    let scanned = assert_sites_are_faithful(V2_RESOURCE);
    insta::assert_snapshot!(render(V2_RESOURCE, &scanned), @r#"
        V2Resource "Metrics API (v2)" uid="metrics-api-v2"
        annotation query /spec/annotations/1/spec/query/spec/expr @38:23 | annotation "Pushes" | ds prometheus/prom-main
            changes(push_time_seconds{job="metrics-api"}[2m]) > 0
        annotation query /spec/annotations/2/spec/legacyOptions/expr @52:21 | annotation "Alerts (converted)" | ds prometheus
            ALERTS{job="pushgateway"}
        panel query /spec/elements/panel-1/spec/data/spec/queries/0/spec/query/spec/expr @84:33 | panel "Requests" in row "Traffic" | ds prometheus/prom-main
            sum(rate(http_requests_total{job="metrics-api"}[$__rate_interval]))
        panel query /spec/elements/panel-2/spec/data/spec/queries/0/spec/query/spec/expr @125:33 | panel "Push age" in row "Pushes" | ds $ds (prometheus)
            time() - push_time_seconds{job="metrics-api"}
        variable definition /spec/variables/1/spec/definition @259:25 | variable "route" | ds $ds (prometheus)
            label_values(http_requests_total{job="metrics-api"}, route)
        variable query /spec/variables/1/spec/query/spec/query @268:24 | variable "route" | ds $ds (prometheus)
            label_values(http_requests_total{job="metrics-api"}, route)
        variable query /spec/variables/2/spec/query/spec/__legacyStringValue @289:38 | variable "pushed_instance" | ds prometheus
            label_values(up{job="pushgateway"}, instance)
        SKIPPED (data source is loki, not PromQL) panel query /spec/elements/panel-2/spec/data/spec/queries/1/spec/query/spec/expr @141:33 | panel "Push age" in row "Pushes" | ds loki/loki-main
            {job="metrics-api"} |= "push"
        library panel lp-batch-duration "Batch duration" at /spec/elements/panel-3/spec/libraryPanel (panel "Batch duration" in row "Pushes")
    "#);
}

#[test]
fn v2alpha1_names_the_plugin_in_kind_and_the_uid_beside_the_query() {
    let source = r#"{
  "apiVersion": "dashboard.grafana.app/v2alpha1",
  "kind": "Dashboard",
  "metadata": { "name": "alpha" },
  "spec": {
    "elements": {
      "panel-7": {
        "kind": "Panel",
        "spec": {
          "data": { "kind": "QueryGroup", "spec": { "queries": [
            { "kind": "PanelQuery", "spec": {
              "datasource": { "type": "prometheus", "uid": "prom-main" },
              "query": { "kind": "prometheus", "spec": { "expr": "up{job=\"pushgateway\"}" } },
              "refId": "A", "hidden": false } },
            { "kind": "PanelQuery", "spec": {
              "datasource": { "type": "grafana-testdata-datasource", "uid": "td" },
              "query": { "kind": "grafana-testdata-datasource", "spec": { "expr": "random walk" } },
              "refId": "B", "hidden": false } }
          ] } },
          "title": "Gateway"
        }
      }
    },
    "layout": { "kind": "TabsLayout", "spec": { "tabs": [
      { "kind": "TabsLayoutTab", "spec": { "title": "Overview", "layout": { "kind": "GridLayout", "spec": { "items": [
        { "kind": "GridLayoutItem", "spec": { "element": { "kind": "ElementReference", "name": "panel-7" } } }
      ] } } } }
    ] } },
    "title": "Alpha"
  }
}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        V2Resource "Alpha" uid="alpha"
        panel query /spec/elements/panel-7/spec/data/spec/queries/0/spec/query/spec/expr @13:66 | panel "Gateway" in row "Overview" | ds prometheus/prom-main
            up{job="pushgateway"}
        SKIPPED (data source is grafana-testdata-datasource, not PromQL) panel query /spec/elements/panel-7/spec/data/spec/queries/1/spec/query/spec/expr @17:83 | panel "Gateway" in row "Overview" | ds grafana-testdata-datasource/td
            random walk
    "#);
}

#[test]
fn a_dashboard_wrapped_by_the_http_api_is_read_under_dashboard() {
    let source = r#"{"dashboard":{"panels":[{"targets":[{"expr":"up{job=\"pushgateway\"}"}]}],"title":"Wrapped"},"meta":{"slug":"wrapped"}}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        Classic "Wrapped" uid="-"
        panel query /dashboard/panels/0/targets/0/expr @1:45 | panel (untitled) | ds default
            up{job="pushgateway"}
    "#);
}

#[test]
fn other_json_files_are_not_dashboards() {
    for source in [
        r#"{"name": "metrics-api", "version": "1.0.0", "scripts": {"start": "node server.js"}}"#,
        r#"[{"targets": [{"expr": "up"}]}]"#,
        r#""panels""#,
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "data": {"dashboard.json": "{}"}}"#,
    ] {
        let scanned = scan(source).expect("valid JSON");
        assert_eq!(scanned.model, Model::NotADashboard, "{source}");
        assert!(scanned.sites.is_empty());
    }
}

#[test]
fn a_non_dashboard_with_duplicate_keys_is_skipped_not_an_error() {
    let scanned = scan(r#"{"a": 1, "a": 2}"#).expect("not a dashboard, so no complaint");
    assert_eq!(scanned.model, Model::NotADashboard);
}

#[test]
fn a_bom_is_allowed_and_ranges_count_it() {
    let source = "\u{feff}{\"panels\": [{\"title\": \"Up\", \"targets\": [{\"expr\": \"up\"}]}]}";
    let scanned = assert_sites_are_faithful(source);
    let site = &scanned.sites[0];
    assert_eq!(&source[site.literal.clone()], "\"up\"");
    assert_eq!(site.location(source).to_string(), "1:50");
}

#[test]
fn panels_without_titles_and_targets_without_expr_are_handled() {
    let source = r#"{"panels": [
  {"type": "text", "options": {"content": "hello"}},
  {"targets": [{"refId": "A"}, {"expr": ""}, {"expr": null}, {"expr": "up"}]},
  {"title": "t", "targets": "not a list"}
]}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        Classic "-" uid="-"
        panel query /panels/1/targets/3/expr @3:71 | panel (untitled) | ds default
            up
    "#);
}

#[test]
fn a_datasource_variable_that_picks_loki_makes_its_queries_skipped() {
    let source = r#"{
  "panels": [
    {"datasource": "$logs", "title": "Logs", "targets": [{"expr": "{job=\"metrics-api\"}"}]},
    {"datasource": {"type": "prometheus", "uid": "$metrics"}, "title": "Rate", "targets": [{"expr": "rate(x[5m])"}]},
    {"datasource": {"uid": "abc123"}, "title": "By uid, typed elsewhere", "targets": [{"expr": "up"}]},
    {"datasource": {"type": "prometheus", "uid": "abc123"}, "title": "Typed", "targets": [{"expr": "up"}]},
    {"datasource": {"uid": "zzz"}, "title": "Untyped", "targets": [{"expr": "up"}]},
    {"datasource": {"type": "datasource", "uid": "-- Dashboard --"}, "title": "Reuse", "targets": [{"expr": "x"}]},
    {"datasource": {"type": "prometheus", "uid": "abc123"}, "title": "Math",
     "targets": [{"expr": "up"}, {"datasource": {"type": "__expr__", "uid": "__expr__"}, "expression": "$A * 2", "expr": "$A"}]}
  ],
  "templating": {"list": [
    {"name": "logs", "type": "datasource", "query": "loki"},
    {"name": "metrics", "type": "datasource", "query": "prometheus"}
  ]}
}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        Classic "-" uid="-"
        panel query /panels/1/targets/0/expr @4:101 | panel "Rate" | ds $metrics (prometheus)
            rate(x[5m])
        panel query /panels/2/targets/0/expr @5:96 | panel "By uid, typed elsewhere" | ds prometheus/abc123
            up
        panel query /panels/3/targets/0/expr @6:100 | panel "Typed" | ds prometheus/abc123
            up
        panel query /panels/6/targets/0/expr @10:27 | panel "Math" | ds prometheus/abc123
            up
        SKIPPED (data source is loki, not PromQL) panel query /panels/0/targets/0/expr @3:67 | panel "Logs" | ds $logs (loki)
            {job="metrics-api"}
        SKIPPED (data source "zzz" has no type) panel query /panels/4/targets/0/expr @7:77 | panel "Untyped" | ds ?/zzz
            up
        SKIPPED (data source is dashboard, not PromQL) panel query /panels/5/targets/0/expr @8:109 | panel "Reuse" | ds dashboard/-- Dashboard --
            x
        SKIPPED (data source is __expr__, not PromQL) panel query /panels/6/targets/1/expr @10:122 | panel "Math" | ds __expr__/__expr__
            $A
    "#);
}

#[test]
fn crlf_files_report_lines_and_columns_as_an_editor_shows_them() {
    let scanned = assert_sites_are_faithful(CRLF_NO_FINAL_NEWLINE);
    insta::assert_snapshot!(render(CRLF_NO_FINAL_NEWLINE, &scanned), @r#"
        Classic "CRLF" uid="-"
        panel query /panels/0/targets/0/expr @5:19 | panel "Up" | ds default
            up{job="pushgateway"}
        variable query /templating/list/0/query @10:72 | variable "job" | ds default
            label_values(up, job)
    "#);
}

#[test]
fn a_library_panel_that_carries_a_copy_of_its_queries_is_listed_not_edited() {
    let source = r#"{"panels": [
  {"id": 9, "title": "Shared", "libraryPanel": {"uid": "lp-1", "name": "Shared errors"},
   "datasource": {"type": "prometheus", "uid": "prom"},
   "targets": [{"expr": "sum(rate(errors_total{job=\"pushgateway\"}[5m]))"}],
   "links": [{"url": "/explore?expr=up"}]}
]}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        Classic "-" uid="-"
        SKIPPED (copy of library panel lp-1) panel query /panels/0/targets/0/expr @4:25 | panel "Shared" | ds prometheus/prom
            sum(rate(errors_total{job="pushgateway"}[5m]))
        library panel lp-1 "Shared errors" at /panels/0/libraryPanel (panel "Shared")
    "#);
}

#[test]
fn only_links_that_carry_a_query_are_reported() {
    let source = r#"{"panels": [{"title": "Links", "links": [
  {"url": "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22pushgateway%22%7D&g0.tab=0"},
  {"url": "/d/express-app/express-app-overview"},
  {"url": "https://runbooks.example.com/pushgateway"}
], "fieldConfig": {"defaults": {"links": [{"title": "Explore", "url": "/explore?left={\"queries\":[{\"expr\":\"up\"}]}"}]}}}]}"#;
    let scanned = assert_sites_are_faithful(source);
    insta::assert_snapshot!(render(source, &scanned), @r#"
        Classic "-" uid="-"
        panel link /panels/0/links/0/url @2:11 | panel "Links"
            http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22pushgateway%22%7D&g0.tab=0
        panel link /panels/0/fieldConfig/defaults/links/0/url @5:71 | panel "Links"
            /explore?left={"queries":[{"expr":"up"}]}
    "#);
}

#[test]
fn queries_the_models_do_not_reach_are_strays_and_reached_ones_are_not() {
    // `panels` written as an object: no model walks into it, but its query is still a query.
    let odd =
        r#"{"title": "T", "templating": {"list": []}, "panels": {"targets": [{"expr": "up{job=\"pushgateway\"}"}]}}"#;
    let scanned = scan(odd).unwrap();
    assert_eq!(scanned.model, Model::Classic);
    assert!(scanned.sites.is_empty());
    let pointers: Vec<&str> = scanned.strays.iter().map(|s| s.pointer.as_str()).collect();
    assert_eq!(pointers, ["/panels/targets/0/expr"]);
    assert_eq!(&odd[scanned.strays[0].literal.clone()], r#""up{job=\"pushgateway\"}""#);
    // Not a dashboard at all, yet it holds a query: a stray too.
    let list = r#"[{"panels": [{"targets": [{"expr": "up"}]}]}]"#;
    assert_eq!(scan(list).unwrap().strays.len(), 1);
    // Every query the walk reached (kept or skipped) is not a stray.
    for source in [CLASSIC_EXPORT, LEGACY_ROWS, V1_RESOURCE_GO, V2_RESOURCE] {
        assert_eq!(scan(source).unwrap().strays, Vec::new());
    }
}

#[test]
fn data_sources_named_without_a_type_are_read_with_the_provisioned_ones() {
    use super::super::{KnownDatasources, SkipReason, scan_with};
    let dashboard = r#"{"title": "t", "panels": [
        {"title": "by name", "datasource": "metrics", "targets": [{"expr": "a"}]},
        {"title": "by uid", "datasource": {"uid": "P41"}, "targets": [{"expr": "b"}]},
        {"title": "default", "targets": [{"expr": "c"}]},
        {"title": "logs", "datasource": "logs", "targets": [{"expr": "{job=\"x\"}"}]}
    ]}"#;
    // Without the provisioning, the names say nothing.
    let alone = scan(dashboard).unwrap();
    assert_eq!(alone.sites.len(), 1, "only the default-data-source query is kept");
    let prometheus_default = KnownDatasources::new([
        ("metrics", Some("P41"), "prometheus", true),
        ("logs", Some("L1"), "loki", false),
    ]);
    let scanned = scan_with(dashboard, &prometheus_default).unwrap();
    let kept: Vec<&str> = scanned.sites.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(kept, ["a", "b", "c"]);
    assert_eq!(
        scanned.skipped.iter().map(|s| &s.reason).collect::<Vec<_>>(),
        [&SkipReason::NotPromql { plugin: "loki".into() }]
    );
    // A Loki default: queries without a data source are LogQL.
    let loki_default = KnownDatasources::new([("metrics", None, "prometheus", false), ("logs", None, "loki", true)]);
    let scanned = scan_with(dashboard, &loki_default).unwrap();
    let kept: Vec<&str> = scanned.sites.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(kept, ["a"]);
}
