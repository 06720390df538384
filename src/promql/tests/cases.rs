//! Real-world query shapes under each honor_labels mode; one row per shape.

use super::table;

#[test]
fn rate_over_grafana_rate_interval_same_job() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="metrics-api"}[$__rate_interval]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn gateway_job_with_by_after_aggregation() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway"}[$__rate_interval])) by (page)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(page_views_total{job="metrics-api"}[$__rate_interval])) by (page)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(page_views_total{job="metrics-api"}[$__rate_interval])) by (page)
    "#);
}

#[test]
fn gateway_job_and_exported_job() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway", exported_job="metrics-api"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api"}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api"}[5m])
    "#);
}

#[test]
fn exported_job_alone() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{exported_job="metrics-api"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api"}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api"}[5m])
    "#);
}

#[test]
fn histogram_quantile_by_le_and_exported_job() {
    insta::assert_snapshot!(table(r#"histogram_quantile(0.95, sum by (le, exported_job) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[$__rate_interval])))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_request_duration_seconds_bucket{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
    "#);
}

#[test]
fn histogram_quantile_on_pushed_instance() {
    insta::assert_snapshot!(table(r#"histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{job="metrics-api", instance="app-1"}[5m])) by (le))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{job="metrics-api", instance="metrics-api:8080"}[5m])) by (le))
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn regex_alternation_with_a_pushed_job() {
    insta::assert_snapshot!(table(r#"sum(rate(http_requests_total{job=~"metrics-api|node"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `http_requests_total{job=~"metrics-api|node"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

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
fn renamed_batch_job() {
    insta::assert_snapshot!(table(r#"sum(rate(etl_rows_processed_total{job="etl-batch"}[1h]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => sum(rate(etl_rows_processed_total{job="etl"}[1h]))
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn batch_job_pushed_without_instance() {
    insta::assert_snapshot!(table(r#"etl_rows_processed_total{job="etl-batch", instance=""}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => etl_rows_processed_total{job="etl", instance="etl:9102"}
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn regex_that_is_not_an_alternation() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job=~"push.*"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! regex-needs-review: `job=~"push.*"` is a regex pullover cannot read; check whether it selects a pushed job. Left unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! regex-needs-review [keeps query]: `job=~"push.*"` is a regex pullover cannot read; it may select the Pushgateway's job "pushgateway". Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! regex-needs-review [keeps query]: `job=~"push.*"` is a regex pullover cannot read; it may select the Pushgateway's job "pushgateway". Left unchanged
    "#);
}

#[test]
fn app_metric_without_job_matcher() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
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
fn app_metric_on_gateway_job() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api"}
    "#);
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
fn by_exported_job_without_selector_labels() {
    insta::assert_snapshot!(table(r#"sum by (exported_job) (rate(page_views_total[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       => sum by (job) (rate(page_views_total[5m]))
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum by (job) (rate(page_views_total[5m]))
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    "#);
}

#[test]
fn by_after_aggregation_with_exported_job() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway"}[5m])) by (exported_job, page)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) by (job, page)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) by (job, page)
    "#);
}

#[test]
fn by_job_and_exported_job() {
    insta::assert_snapshot!(table(r#"sum by (job, exported_job) (rate(page_views_total{job="pushgateway"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum by (job, exported_job) (rate(page_views_total{job="metrics-api"}[5m]))
       ! duplicate-grouping-label: `by (job, exported_job)` lists both `exported_job` and `job`; `exported_job` is empty on scraped series. Left as is
         try: remove `exported_job` from the list
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum by (job, exported_job) (rate(page_views_total{job="metrics-api"}[5m]))
       ! duplicate-grouping-label: `by (job, exported_job)` lists both `exported_job` and `job`; `exported_job` is empty on scraped series. Left as is
         try: remove `exported_job` from the list
    "#);
}

#[test]
fn ignoring_group_left_without() {
    insta::assert_snapshot!(table(r#"rate(http_requests_total{job="pushgateway"}[5m]) / ignoring(code) group_left sum without(code) (rate(http_requests_total{job="pushgateway"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => rate(http_requests_total{job="metrics-api"}[5m]) / ignoring(code) group_left sum without(code) (rate(http_requests_total{job="metrics-api"}[5m]))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(http_requests_total{job="metrics-api"}[5m]) / ignoring(code) group_left sum without(code) (rate(http_requests_total{job="metrics-api"}[5m]))
    "#);
}

#[test]
fn on_group_left_with_exported_labels() {
    insta::assert_snapshot!(table(r#"sum(rate(http_requests_total{job="pushgateway",code=~"5.."}[5m])) by (exported_instance) / on(exported_instance) group_left(exported_job) sum(rate(http_requests_total{job="pushgateway"}[5m])) by (exported_instance, exported_job)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway",code=~"5.."}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(http_requests_total{job="metrics-api",code=~"5.."}[5m])) by (instance) / on(instance) group_left(job) sum(rate(http_requests_total{job="metrics-api"}[5m])) by (instance, job)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(http_requests_total{job="metrics-api",code=~"5.."}[5m])) by (instance) / on(instance) group_left(job) sum(rate(http_requests_total{job="metrics-api"}[5m])) by (instance, job)
    "#);
}

#[test]
fn subquery_with_interval_step() {
    insta::assert_snapshot!(table(r#"max_over_time(rate(page_views_total{job="pushgateway"}[5m])[1h:$__interval])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => max_over_time(rate(page_views_total{job="metrics-api"}[5m])[1h:$__interval])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => max_over_time(rate(page_views_total{job="metrics-api"}[5m])[1h:$__interval])
    "#);
}

#[test]
fn offset_inside_range() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="metrics-api"}[5m] offset 1w)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn offset_on_selector() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway"} offset 5m"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api"} offset 5m
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api"} offset 5m
    "#);
}

#[test]
fn at_start() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway"}[5m] @ start())"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api"}[5m] @ start())
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api"}[5m] @ start())
    "#);
}

#[test]
fn at_end() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway"} @ end()"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api"} @ end()
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api"} @ end()
    "#);
}

#[test]
fn label_replace_from_exported_job() {
    insta::assert_snapshot!(table(r#"label_replace(rate(page_views_total{job="pushgateway"}[5m]), "app", "$1", "exported_job", "(.*)")"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => label_replace(rate(page_views_total{job="metrics-api"}[5m]), "app", "$1", "job", "(.*)")
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => label_replace(rate(page_views_total{job="metrics-api"}[5m]), "app", "$1", "job", "(.*)")
    "#);
}

#[test]
fn label_join_of_exported_labels() {
    insta::assert_snapshot!(table(r#"label_join(page_views_total{job="pushgateway"}, "id", "/", "exported_job", "exported_instance")"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => label_join(page_views_total{job="metrics-api"}, "id", "/", "job", "instance")
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => label_join(page_views_total{job="metrics-api"}, "id", "/", "job", "instance")
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
fn or_vector_zero() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway"}[5m])) or vector(0)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) or vector(0)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) or vector(0)
    "#);
}

#[test]
fn and_between_app_series() {
    insta::assert_snapshot!(table(r#"rate(etl_rows_processed_total{job="etl-batch"}[1h]) > 0 and etl_last_success_timestamp_seconds{job="etl-batch"} > 0"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => rate(etl_rows_processed_total{job="etl"}[1h]) > 0 and etl_last_success_timestamp_seconds{job="etl"} > 0
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
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
fn absent_pushed_series() {
    insta::assert_snapshot!(table(r#"absent(page_views_total{job="pushgateway", exported_job="metrics-api"})"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => absent(page_views_total{job="metrics-api"})
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => absent(page_views_total{job="metrics-api"})
    "#);
}

#[test]
fn count_by_exported_job() {
    insta::assert_snapshot!(table(r#"count by (exported_job) (page_views_total)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       => count by (job) (page_views_total)
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => count by (job) (page_views_total)
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    "#);
}

#[test]
fn topk_with_variable_and_range() {
    insta::assert_snapshot!(table(r#"topk($topk, sum by (page) (rate(page_views_total{job="pushgateway"}[$__range])))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => topk($topk, sum by (page) (rate(page_views_total{job="metrics-api"}[$__range])))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => topk($topk, sum by (page) (rate(page_views_total{job="metrics-api"}[$__range])))
    "#);
}

#[test]
fn sum_by_after_with_exported_job() {
    insta::assert_snapshot!(table(r#"sum(page_views_total{job="pushgateway"}) by (exported_job)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(page_views_total{job="metrics-api"}) by (job)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(page_views_total{job="metrics-api"}) by (job)
    "#);
}

#[test]
fn nested_parentheses() {
    insta::assert_snapshot!(table(r#"((sum(rate(page_views_total{job="metrics-api",instance="app-1"}[5m]))))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => ((sum(rate(page_views_total{job="metrics-api",instance="metrics-api:8080"}[5m]))))
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn multi_line_rule_with_comments() {
    insta::assert_snapshot!(table(r#"# pushes stopped?
time() - push_time_seconds{job="metrics-api"}
  > 3600 # one hour"#), @r#"
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
fn multi_line_selector_with_trailing_comma() {
    insta::assert_snapshot!(table(r#"sum by (page) (
  rate(page_views_total{
    job="pushgateway",
    exported_job="metrics-api",
  }[5m])
)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{
        job="pushgateway",
        exported_job="metrics-api",
      }` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => sum by (page) (
         rate(page_views_total{
           job="metrics-api",
         }[5m])
       )
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum by (page) (
         rate(page_views_total{
           job="metrics-api",
         }[5m])
       )
    "#);
}

#[test]
fn unicode_in_strings() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway", page="/über/café"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", page="/über/café"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api", page="/über/café"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api", page="/über/café"}
    "#);
}

#[test]
fn already_rewritten_honor_true() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="metrics-api", instance="metrics-api:8080"}[5m]))"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn already_rewritten_honor_false() {
    insta::assert_snapshot!(table(r#"sum by (job) (rate(page_views_total{job="metrics-api"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn single_quotes() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job='pushgateway', exported_job='metrics-api'}[5m])"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job='pushgateway', exported_job='metrics-api'}` matches nothing: `exported_job='metrics-api'` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job='metrics-api'}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job='metrics-api'}[5m])
    ");
}

#[test]
fn backtick_quotes() {
    insta::assert_snapshot!(table(r#"rate(etl_rows_processed_total{job=`etl-batch`}[5m])"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => rate(etl_rows_processed_total{job=`etl`}[5m])
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn negative_regex_alternation() {
    insta::assert_snapshot!(table(r#"sum(rate(http_requests_total{job!~"pushgateway|etl-batch"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => sum(rate(http_requests_total{job!~"pushgateway|etl"}[5m]))
       ! double-count-during-dual-run: `http_requests_total{job!~"pushgateway|etl-batch"}` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn not_equal_pushed_job() {
    insta::assert_snapshot!(table(r#"etl_rows_processed_total{job!="etl-batch"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => etl_rows_processed_total{job!="etl"}
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `etl_rows_processed_total{job!="etl-batch"}` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="etl"
    "#);
}

#[test]
fn instance_variable() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="metrics-api", instance=~"$instance"}[$__rate_interval])"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn job_variable() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job=~"$job"}[5m])"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn exported_job_variable() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway", exported_job=~"$job"}[$__rate_interval])) by (exported_job)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! variable-needs-review: `exported_job=~"$job"`: this label only exists with honor_labels: false; check what the variable holds
    honor_labels: false (one app: metrics-api)
       => sum(rate(page_views_total{job=~"$job"}[$__rate_interval])) by (job)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(page_views_total{job=~"$job"}[$__rate_interval])) by (job)
       ! variable-needs-review: `exported_job=~"$job"` now filters `job`: the variable must offer the scrape job names (metrics-api, etl), not the pushed ones
    "#);
}

#[test]
fn exported_job_regex_format_variable() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{exported_job=~"${job:regex}"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! variable-needs-review: `exported_job=~"${job:regex}"`: this label only exists with honor_labels: false; check what the variable holds
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job=~"${job:regex}"}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job=~"${job:regex}"}[5m])
       ! variable-needs-review: `exported_job=~"${job:regex}"` now filters `job`: the variable must offer the scrape job names (metrics-api, etl), not the pushed ones
    "#);
}

#[test]
fn old_bracket_variables() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="[[job]]"}[[[interval]]])"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn variable_metric_name_on_gateway_job() {
    insta::assert_snapshot!(table(r#"$metric{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! variable-needs-review: `$metric{job="pushgateway"}`: with honor_labels: true, the Pushgateway target (job "pushgateway") only has the gateway's own metrics; check which metric the name stands for
    honor_labels: false (one app: metrics-api)
       => $metric{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! ambiguous-app [keeps query]: `$metric{job="pushgateway"}` selects pushed series of several apps (metrics-api, etl-batch) and nothing in it says which; the scrape jobs differ per app. Left unchanged
         try: add exported_job="<app>" to the selector, or rewrite it by hand with job=~"metrics-api|etl"
    "#);
}

#[test]
fn braced_variable_metric_name() {
    insta::assert_snapshot!(table(r#"sum(rate(${metric}{job="metrics-api", instance="app-1"}[$__interval]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => sum(rate(${metric}{job="metrics-api", instance="metrics-api:8080"}[$__interval]))
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn increase_over_dashboard_range() {
    insta::assert_snapshot!(table(r#"increase(etl_rows_processed_total{exported_job="etl-batch"}[$__range])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `etl_rows_processed_total{exported_job="etl-batch"}` matches nothing: `exported_job="etl-batch"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! pushed-job-not-migrated [keeps query]: `etl_rows_processed_total{exported_job="etl-batch"}`: pushed job "etl-batch" is not one of the apps being migrated. Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => increase(etl_rows_processed_total{job="etl"}[$__range])
    "#);
}

#[test]
fn braced_range_variable() {
    insta::assert_snapshot!(table(r#"increase(etl_rows_processed_total[${__range}])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `etl_rows_processed_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="etl", instance="etl:9102"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `etl_rows_processed_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="etl"
    "#);
}

#[test]
fn range_in_seconds_variable() {
    insta::assert_snapshot!(table(r#"sum(increase(etl_rows_processed_total{job="pushgateway"}[${__range_s}s]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `etl_rows_processed_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="etl"
    honor_labels: false (one app: metrics-api)
       unchanged
       ! pushed-job-not-migrated [keeps query]: `etl_rows_processed_total{job="pushgateway"}`: `etl_rows_processed_total` is not among the metrics the migrated apps push, so it comes from a pusher that is not being migrated. Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(increase(etl_rows_processed_total{job="etl"}[${__range_s}s]))
    "#);
}

#[test]
fn pushed_instance_without_job() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{instance="app-1"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => rate(page_views_total{instance="metrics-api:8080"}[5m])
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn gateway_instance() {
    insta::assert_snapshot!(table(r#"page_views_total{instance="pushgateway:9091"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{instance="pushgateway:9091"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{instance="metrics-api:8080"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{instance="metrics-api:8080"}
    "#);
}

#[test]
fn label_values_of_exported_job() {
    insta::assert_snapshot!(table(r#"label_values(page_views_total{job="pushgateway"}, exported_job)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => label_values(page_views_total{job="metrics-api"}, job)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => label_values(page_views_total{job="metrics-api"}, job)
    "#);
}

#[test]
fn label_values_label_only() {
    insta::assert_snapshot!(table(r#"label_values(exported_job)"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       => label_values(job)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => label_values(job)
    ");
}

#[test]
fn label_values_with_regex_alternation() {
    insta::assert_snapshot!(table(r#"label_values(up{job=~"pushgateway|node"}, instance)"#), @r#"
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
fn label_values_of_instance() {
    insta::assert_snapshot!(table(r#"label_values(page_views_total{job="metrics-api"}, instance)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn query_result_topk() {
    insta::assert_snapshot!(table(r#"query_result(topk(5, sum by (page) (increase(page_views_total{job="pushgateway"}[$__range]))))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => query_result(topk(5, sum by (page) (increase(page_views_total{job="metrics-api"}[$__range]))))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => query_result(topk(5, sum by (page) (increase(page_views_total{job="metrics-api"}[$__range]))))
    "#);
}

#[test]
fn metrics_function() {
    insta::assert_snapshot!(table(r#"metrics(page_views_.*)"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn name_matcher() {
    insta::assert_snapshot!(table(r#"{__name__="page_views_total", job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `{__name__="page_views_total", job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => {__name__="page_views_total", job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => {__name__="page_views_total", job="metrics-api"}
    "#);
}

#[test]
fn nameless_gateway_selector() {
    insta::assert_snapshot!(table(r#"{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `{job="pushgateway"}` selects every series of the Pushgateway target (job "pushgateway"), not one app's. Left unchanged
         try: {job=~"metrics-api|etl"}
    honor_labels: false (one app: metrics-api)
       unchanged
       ! no-scraped-equivalent [keeps query]: `{job="pushgateway"}` selects every series of the Pushgateway target (job "pushgateway"), not one app's. Left unchanged
         try: {job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! no-scraped-equivalent [keeps query]: `{job="pushgateway"}` selects every series of the Pushgateway target (job "pushgateway"), not one app's. Left unchanged
         try: {job=~"metrics-api|etl"}
    "#);
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
fn exported_job_alternation_of_two_apps() {
    insta::assert_snapshot!(table(r#"sum(rate(http_requests_total{job="pushgateway", exported_job=~"metrics-api|etl-batch"}[5m])) by (exported_job)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway", exported_job=~"metrics-api|etl-batch"}` matches nothing: `exported_job=~"metrics-api|etl-batch"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! pushed-job-not-migrated [keeps query]: `http_requests_total{job="pushgateway", exported_job=~"metrics-api|etl-batch"}`: pushed job "etl-batch" is not one of the apps being migrated. Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(http_requests_total{job=~"metrics-api|etl"}[5m])) by (job)
    "#);
}

#[test]
fn exported_job_not_equal() {
    insta::assert_snapshot!(table(r#"sum(rate(http_requests_total{job="pushgateway", exported_job!="etl-batch"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway", exported_job!="etl-batch"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(http_requests_total{job="metrics-api"}[5m]))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(http_requests_total{job="metrics-api"}[5m]))
    "#);
}

#[test]
fn exported_job_and_exported_instance() {
    insta::assert_snapshot!(table(r#"rate(http_requests_total{exported_job="metrics-api", exported_instance="app-1"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{exported_job="metrics-api", exported_instance="app-1"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m])
    "#);
}

#[test]
fn every_gateway_label() {
    insta::assert_snapshot!(table(r#"rate(http_requests_total{job="pushgateway", instance="pushgateway:9091", exported_job="metrics-api", exported_instance="app-1"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_requests_total{job="pushgateway", instance="pushgateway:9091", exported_job="metrics-api", exported_instance="app-1"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m])
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(http_requests_total{job="metrics-api", instance="metrics-api:8080"}[5m])
    "#);
}

#[test]
fn pushed_job_not_being_migrated() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway", exported_job="cron-cleanup"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="cron-cleanup"}` matches nothing: `exported_job="cron-cleanup"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! pushed-job-not-migrated [keeps query]: `page_views_total{job="pushgateway", exported_job="cron-cleanup"}`: pushed job "cron-cleanup" is not one of the apps being migrated. Left unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! pushed-job-not-migrated [keeps query]: `page_views_total{job="pushgateway", exported_job="cron-cleanup"}`: pushed job "cron-cleanup" is not one of the apps being migrated. Left unchanged
    "#);
}

#[test]
fn threshold_variable() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="pushgateway"}[5m])) > $threshold"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) > $threshold
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum(rate(page_views_total{job="metrics-api"}[5m])) > $threshold
    "#);
}

#[test]
fn quantile_variable() {
    insta::assert_snapshot!(table(r#"histogram_quantile($quantile, sum by (le) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[$__rate_interval])))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `http_request_duration_seconds_bucket{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => histogram_quantile($quantile, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => histogram_quantile($quantile, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[$__rate_interval])))
    "#);
}

#[test]
fn group_right_with_exported_job() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway"}[5m]) * on(exported_instance) group_right(exported_job) app_build_info"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api"}[5m]) * on(instance) group_right(job) app_build_info
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api"}[5m]) * on(instance) group_right(job) app_build_info
    "#);
}

#[test]
fn comparison_with_bool() {
    insta::assert_snapshot!(table(r#"etl_rows_processed_total{job="etl-batch"} > bool 0"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => etl_rows_processed_total{job="etl"} > bool 0
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn sort_desc_of_daily_increase() {
    insta::assert_snapshot!(table(r#"sort_desc(sum by (page) (increase(page_views_total{job="metrics-api"}[1d])))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn negative_offset() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway", exported_job="metrics-api"}[5m] offset -1h)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api"}[5m] offset -1h)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api"}[5m] offset -1h)
    "#);
}

#[test]
fn avg_over_time_of_batch_gauge() {
    insta::assert_snapshot!(table(r#"avg_over_time(etl_last_success_timestamp_seconds{job="etl-batch"}[1h])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => avg_over_time(etl_last_success_timestamp_seconds{job="etl"}[1h])
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn quoted_label_names() {
    insta::assert_snapshot!(table(r#"{"job"="pushgateway", "exported_job"="metrics-api", __name__="page_views_total"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `{"job"="pushgateway", "exported_job"="metrics-api", __name__="page_views_total"}` matches nothing: `"exported_job"="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => {"job"="metrics-api", __name__="page_views_total"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => {"job"="metrics-api", __name__="page_views_total"}
    "#);
}

#[test]
fn quoted_metric_name_keeps_no_dangling_comma() {
    insta::assert_snapshot!(table(r#"{"page.views", job="pushgateway", exported_job="metrics-api"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `{"page.views", job="pushgateway", exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => {"page.views", job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => {"page.views", job="metrics-api"}
    "#);
}

#[test]
fn quoted_grouping_label() {
    insta::assert_snapshot!(table(r#"sum by ("exported_job") (page_views_total)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       => sum by ("job") (page_views_total)
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => sum by ("job") (page_views_total)
       ! double-count-during-dual-run: `page_views_total` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api"
    "#);
}

#[test]
fn trailing_comment_with_quote() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway", exported_job="metrics-api"} # it's "old""#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="metrics-api"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api"} # it's "old"
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api"} # it's "old"
    "#);
}

#[test]
fn nothing_to_do() {
    insta::assert_snapshot!(table(r#"vector(1)"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn week_over_week_ratio() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job="metrics-api"}[5m])) / sum(rate(page_views_total{job="metrics-api"}[5m] offset 1d))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
       ! double-count-during-dual-run: `page_views_total{job="metrics-api"}` selects both the pushed and the scraped series while both run: they share job "metrics-api" and differ only by instance
         try: instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn escaped_quotes_in_other_values() {
    insta::assert_snapshot!(table(r#"page_views_total{job="pushgateway", page="say \"hi\""}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", page="say \"hi\""}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => page_views_total{job="metrics-api", page="say \"hi\""}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{job="metrics-api", page="say \"hi\""}
    "#);
}

#[test]
fn matcher_order_gateway_last() {
    insta::assert_snapshot!(table(r#"page_views_total{page="/", exported_job="metrics-api", job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{page="/", exported_job="metrics-api", job="pushgateway"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => page_views_total{page="/", job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => page_views_total{page="/", job="metrics-api"}
    "#);
}

#[test]
fn instance_regex_of_pushed_and_scraped() {
    insta::assert_snapshot!(table(r#"page_views_total{job="metrics-api", instance=~"app-1|metrics-api:8080"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => page_views_total{job="metrics-api", instance=~"metrics-api:8080"}
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}

#[test]
fn recording_rule_name_with_colons() {
    insta::assert_snapshot!(table(r#"job:page_views:rate5m{job="pushgateway"}"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! variable-needs-review: `job:page_views:rate5m{job="pushgateway"}`: with honor_labels: true, the Pushgateway target (job "pushgateway") only has the gateway's own metrics; check which metric the name stands for
    honor_labels: false (one app: metrics-api)
       => job:page_views:rate5m{job="metrics-api"}
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! ambiguous-app [keeps query]: `job:page_views:rate5m{job="pushgateway"}` selects pushed series of several apps (metrics-api, etl-batch) and nothing in it says which; the scrape jobs differ per app. Left unchanged
         try: add exported_job="<app>" to the selector, or rewrite it by hand with job=~"metrics-api|etl"
    "#);
}

#[test]
fn clamp_min_with_variable() {
    insta::assert_snapshot!(table(r#"clamp_min(sum(rate(page_views_total{job="pushgateway"}[$__rate_interval])), $min)"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway"}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job "pushgateway") only has the gateway's own metrics. Left unchanged
         try: job="metrics-api"
    honor_labels: false (one app: metrics-api)
       => clamp_min(sum(rate(page_views_total{job="metrics-api"}[$__rate_interval])), $min)
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => clamp_min(sum(rate(page_views_total{job="metrics-api"}[$__rate_interval])), $min)
    "#);
}

#[test]
fn empty_query() {
    insta::assert_snapshot!(table(r#""#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn comment_only() {
    insta::assert_snapshot!(table(r#"# TODO: add query"#), @"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    ");
}

#[test]
fn renamed_job_in_regex_alternation() {
    insta::assert_snapshot!(table(r#"sum(rate(etl_rows_processed_total{job=~"etl-batch|node"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       => sum(rate(etl_rows_processed_total{job=~"etl|node"}[5m]))
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
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

#[test]
fn exported_instance_variable() {
    insta::assert_snapshot!(table(r#"rate(page_views_total{job="pushgateway", exported_job="metrics-api", exported_instance=~"$instance"}[5m])"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! matches-nothing-under-honor-labels: `page_views_total{job="pushgateway", exported_job="metrics-api", exported_instance=~"$instance"}` matches nothing: `exported_job="metrics-api"` needs a label that only exists with honor_labels: false. Left unchanged
    honor_labels: false (one app: metrics-api)
       => rate(page_views_total{job="metrics-api", instance=~"$instance"}[5m])
       ! variable-needs-review: `exported_instance=~"$instance"` now filters `instance`: the variable must offer metrics-api:8080 rather than the pushed instance names
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       => rate(page_views_total{job="metrics-api", instance=~"$instance"}[5m])
       ! variable-needs-review: `exported_instance=~"$instance"` now filters `instance`: the variable must offer metrics-api:8080 rather than the pushed instance names
    "#);
}

#[test]
fn label_replace_writing_exported_job() {
    insta::assert_snapshot!(table(r#"label_replace(up{job="metrics-api"}, "exported_job", "$1", "job", "(.*)")"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
    honor_labels: false (one app: metrics-api)
       unchanged
       ! label-needs-review: `label_replace(up{job="metrics-api"}, "exported_job", "$1", "job", "(.*)")` writes `exported_job`, which only pushed series had; check what reads it
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
       ! label-needs-review: `label_replace(up{job="metrics-api"}, "exported_job", "$1", "job", "(.*)")` writes `exported_job`, which only pushed series had; check what reads it
    "#);
}

#[test]
fn excluding_the_gateway_job() {
    insta::assert_snapshot!(table(r#"sum(rate(page_views_total{job!="pushgateway"}[5m]))"#), @r#"
    honor_labels: true  (metrics-api same job, etl-batch -> etl)
       unchanged
       ! double-count-during-dual-run: `page_views_total{job!="pushgateway"}` has no job matcher that tells the pushed from the scraped series: it selects both while both run
         try: job="metrics-api", instance="metrics-api:8080"
    honor_labels: false (one app: metrics-api)
       unchanged
    honor_labels: false (two apps: metrics-api, etl-batch -> etl)
       unchanged
    "#);
}
