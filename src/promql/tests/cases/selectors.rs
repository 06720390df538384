//! Job and instance matchers naming the gateway, a pushed app or its scrape target, in every
//! matcher shape.

use super::super::table;

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
