//! Syntax around the edits: ranges, offsets, `@`, subqueries, quotes and escapes, comments, line
//! breaks, empty queries.

use super::super::table;

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
