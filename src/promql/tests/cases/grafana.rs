//! Grafana template variables in names, matchers, ranges and arguments, and Grafana's
//! `label_values`/`query_result`/`metrics` variable queries.

use super::super::table;

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
