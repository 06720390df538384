//! Grouping and matching lists (`by`, `without`, `on`, `ignoring`, `group_*`), label functions and
//! operators around rewritten selectors.

use super::super::table;

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
