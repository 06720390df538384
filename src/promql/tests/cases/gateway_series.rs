//! The Pushgateway's own series and per-target metrics (`push_time_seconds`, `pushgateway_*`, `up`,
//! `process_*`), and dual-run comparisons of pushed against scraped series.

use super::super::table;

#[test]
fn regex_alternation_with_the_gateway_job_on_up() {
    insta::assert_snapshot!(table(r#"up{job=~"pushgateway|node"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job=~"metrics-api|etl"}
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job=~"pushgateway|node"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job=~"metrics-api|etl"}
    "#);
}

#[test]
fn push_time_staleness() {
    insta::assert_snapshot!(table(r#"time() - push_time_seconds{job="metrics-api"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job=~"metrics-api|etl"} == 0 or absent(up{job=~"metrics-api|etl"})
    "#);
}

#[test]
fn push_time_staleness_alert_through_gateway() {
    insta::assert_snapshot!(table(r#"time() - push_time_seconds{job="pushgateway", exported_job="metrics-api"} > 300"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway", exported_job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job=~"metrics-api|etl"} == 0 or absent(up{job=~"metrics-api|etl"})
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway", exported_job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway", exported_job="metrics-api"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})
    "#);
}

#[test]
fn push_failure_time() {
    insta::assert_snapshot!(table(r#"push_failure_time_seconds{job="etl-batch"} > 0"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_failure_time_seconds{job="etl-batch"}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged
         try: up{job="etl"} == 0
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_failure_time_seconds{job="etl-batch"}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged
         try: up{job="metrics-api"} == 0
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_failure_time_seconds{job="etl-batch"}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged
         try: up{job=~"metrics-api|etl"} == 0
    "#);
}

#[test]
fn pushgateway_own_metric() {
    insta::assert_snapshot!(table(r#"sum(rate(pushgateway_http_requests_total{job="pushgateway"}[5m])) by (code)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `pushgateway_http_requests_total{job="pushgateway"}` is a metric of the Pushgateway itself (`pushgateway_http_requests_total`), which goes away with it. Left unchanged
         try: up{job=~"metrics-api|etl"}
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `pushgateway_http_requests_total{job="pushgateway"}` is a metric of the Pushgateway itself (`pushgateway_http_requests_total`), which goes away with it. Left unchanged
         try: up{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `pushgateway_http_requests_total{job="pushgateway"}` is a metric of the Pushgateway itself (`pushgateway_http_requests_total`), which goes away with it. Left unchanged
         try: up{job=~"metrics-api|etl"}
    "#);
}

#[test]
fn up_of_the_gateway() {
    insta::assert_snapshot!(table(r#"up{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job=~"metrics-api|etl"}
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job=~"metrics-api|etl"}
    "#);
}

#[test]
fn up_of_the_app() {
    insta::assert_snapshot!(table(r#"up{job="metrics-api"}"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn dual_run_comparison_on_page() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="metrics-api", instance="app-1"}[5m]) - on(page) rate(page_views_total{job="metrics-api", instance="metrics-api:8080"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! compares-pushed-and-scraped [keeps query]: the query compares pushed series (`page_views_total{job="metrics-api", instance="app-1"}`) with their scraped twins (`page_views_total{job="metrics-api", instance="metrics-api:8080"}`) of metrics-api: a dual-run comparison, meaningless once the Pushgateway is gone. Left unchanged
         try: remove the panel or rule together with the other dual-run artefacts
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn unless_on_push_time() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway"}[5m]) unless on(exported_job) (time() - push_time_seconds{job="pushgateway"} > 600)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job=~"metrics-api|etl"} == 0 or absent(up{job=~"metrics-api|etl"})
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
         try: up{job=~"metrics-api|etl"} == 0 or absent(up{job=~"metrics-api|etl"})
    "#);
}

#[test]
fn absent_up() {
    insta::assert_snapshot!(table(r#"absent(up{job="metrics-api"})"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn gateway_process_metric() {
    insta::assert_snapshot!(table(r#"go_goroutines{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `go_goroutines{job="pushgateway"}` selects the Pushgateway's own `go_goroutines` (job "pushgateway"), which goes away with it. Left unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `go_goroutines{job="pushgateway"}` selects the Pushgateway's own `go_goroutines` (job "pushgateway"), which goes away with it. Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `go_goroutines{job="pushgateway"}` selects the Pushgateway's own `go_goroutines` (job "pushgateway"), which goes away with it. Left unchanged
    "#);
}

#[test]
fn scrape_metric_of_app() {
    insta::assert_snapshot!(table(r#"scrape_duration_seconds{job="metrics-api"}"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn count_up() {
    insta::assert_snapshot!(table(r#"count(up{job="metrics-api"} == 1)"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn dual_run_panel_gateway_against_scrape_job() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway"}[5m])) - sum(rate(page_views_total{job="metrics-api"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
       ! compares-pushed-and-scraped [keeps query]: the query compares pushed series (`page_views_total{job="pushgateway"}`) with their scraped twins (`page_views_total{job="metrics-api"}`) of metrics-api: a dual-run comparison, meaningless once the Pushgateway is gone. Left unchanged
         try: remove the panel or rule together with the other dual-run artefacts
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! compares-pushed-and-scraped [keeps query]: the query compares pushed series (`page_views_total{job="pushgateway"}`) with their scraped twins (`page_views_total{job="metrics-api"}`) of metrics-api: a dual-run comparison, meaningless once the Pushgateway is gone. Left unchanged
         try: remove the panel or rule together with the other dual-run artefacts
    "#);
}

#[test]
fn dual_run_panel_renamed_job() {
    insta::assert_snapshot!(table(r#"sum(rate(etl_rows_processed_total{job="etl-batch"}[1h])) / sum(rate(etl_rows_processed_total{job="etl"}[1h]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! compares-pushed-and-scraped [keeps query]: the query compares pushed series (`etl_rows_processed_total{job="etl-batch"}`) with their scraped twins (`etl_rows_processed_total{job="etl"}`) of etl: a dual-run comparison, meaningless once the Pushgateway is gone. Left unchanged
         try: remove the panel or rule together with the other dual-run artefacts
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}
