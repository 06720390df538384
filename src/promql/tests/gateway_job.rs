//! The user's shape: `honor_labels: true` and the app pushes as job `pushgateway`, the gateway's
//! own job name. Its series and the gateway's own share `job="pushgateway"` and differ by metric
//! name and instance; each selector is decided per metric family.

use super::{AppMapping, mapping, metrics_api, render};

fn pushed_as_gateway() -> AppMapping {
    AppMapping {
        pushed_job: "pushgateway".to_string(),
        ..metrics_api()
    }
}

fn check(query: &str, expected: &str) {
    let got = render(query, &mapping(true, vec![pushed_as_gateway()]));
    assert_eq!(got, expected, "\nquery: {query}");
}

#[test]
fn app_metrics_move_to_the_scrape_job_in_every_query_shape() {
    for (query, expected) in [
        (
            r#"sum(rate(page_views_total{job="pushgateway"}[5m]))"#,
            r#"=> sum(rate(page_views_total{job="metrics-api"}[5m]))"#,
        ),
        // the pushed instance becomes the scrape target
        (
            r#"page_views_total{job="pushgateway", instance="app-1"}"#,
            r#"=> page_views_total{job="metrics-api", instance="metrics-api:8080"}"#,
        ),
        // regex alternation
        (
            r#"sum(rate(http_requests_total{job=~"pushgateway|website"}[5m]))"#,
            r#"=> sum(rate(http_requests_total{job=~"metrics-api|website"}[5m]))"#,
        ),
        // != on the gateway's instance stays as written
        (
            r#"http_requests_total{job="pushgateway", instance!="pushgateway:9091"}"#,
            r#"=> http_requests_total{job="metrics-api", instance!="pushgateway:9091"}"#,
        ),
        // subquery and offset in a binary operation
        (
            r#"max_over_time(rate(page_views_total{job="pushgateway"}[5m])[1h:1m]) / rate(page_views_total{job="pushgateway"}[5m] offset 1d)"#,
            r#"=> max_over_time(rate(page_views_total{job="metrics-api"}[5m])[1h:1m]) / rate(page_views_total{job="metrics-api"}[5m] offset 1d)"#,
        ),
        // a histogram's other series are one family with the listed name
        (
            r#"histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[5m])))"#,
            r#"=> histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="metrics-api"}[5m])))"#,
        ),
        // a Grafana variable query
        (
            r#"label_values(page_views_total{job="pushgateway"}, page)"#,
            r#"=> label_values(page_views_total{job="metrics-api"}, page)"#,
        ),
        // a metric nobody listed: on the gateway's job, the gateway exports no such family
        (
            r#"nodejs_heap_size_used_bytes{job="pushgateway"}"#,
            r#"=> nodejs_heap_size_used_bytes{job="metrics-api"}"#,
        ),
        // a family both export, told apart by the pushed instance or by excluding the gateway
        (
            r#"process_start_time_seconds{job="pushgateway", instance="app-1"}"#,
            r#"=> process_start_time_seconds{job="metrics-api", instance="metrics-api:8080"}"#,
        ),
        (
            r#"changes(process_start_time_seconds{job="pushgateway", instance!="pushgateway:9091"}[2m])"#,
            r#"=> changes(process_start_time_seconds{job="metrics-api", instance!="pushgateway:9091"}[2m])"#,
        ),
    ] {
        check(query, expected);
    }
}

#[test]
fn the_gateways_own_series_stay_and_are_reported() {
    let cases = [
        r#"up{job="pushgateway"}"#,
        r#"pushgateway_http_requests_total{job="pushgateway"}"#,
        r#"time() - push_time_seconds{job="pushgateway", instance="app-1"}"#,
        r#"process_resident_memory_bytes{job="pushgateway", instance="pushgateway:9091"}"#,
    ];
    for query in cases {
        let got = render(query, &mapping(true, vec![pushed_as_gateway()]));
        assert!(got.starts_with("unchanged"), "{query}: {got}");
        assert!(got.contains("no-scraped-equivalent"), "{query}: {got}");
    }
}

#[test]
fn a_family_both_export_with_nothing_to_tell_whose_is_reported_not_guessed() {
    let got = render(
        r#"process_resident_memory_bytes{job="pushgateway"}"#,
        &mapping(true, vec![pushed_as_gateway()]),
    );
    assert!(got.starts_with("unchanged"), "{got}");
    assert!(got.contains("ambiguous-app [keeps query]"), "{got}");
    assert!(got.contains(r#"add instance="app-1" for the app's"#), "{got}");
}

#[test]
fn several_apps_on_the_gateway_job_are_told_apart_by_instance() {
    let billing = AppMapping {
        pushed_job: "pushgateway".to_string(),
        pushed_instances: vec!["billing-1".to_string()],
        scrape_job: "billing".to_string(),
        scrape_instance: "billing:9200".to_string(),
        metrics: vec!["http_requests_total".to_string(), "invoices_total".to_string()],
    };
    let both = mapping(true, vec![pushed_as_gateway(), billing]);
    assert_eq!(
        render(r#"http_requests_total{job="pushgateway", instance="billing-1"}"#, &both),
        r#"=> http_requests_total{job="billing", instance="billing:9200"}"#
    );
    assert_eq!(
        render(r#"invoices_total{job="pushgateway"}"#, &both),
        r#"=> invoices_total{job="billing"}"#,
        "only billing lists it"
    );
    let shared = render(r#"sum(rate(http_requests_total{job="pushgateway"}[5m]))"#, &both);
    assert!(shared.starts_with("unchanged"), "{shared}");
    assert!(shared.contains("several apps push as job \"pushgateway\""), "{shared}");
}

#[test]
fn an_app_pushing_under_its_own_name_leaves_job_pushgateway_to_the_gateway() {
    // Today's other shape: an app metric under job="pushgateway" then matches nothing.
    let got = render(
        r#"page_views_total{job="pushgateway"}"#,
        &mapping(true, vec![metrics_api()]),
    );
    assert!(got.contains("matches-nothing-under-honor-labels"), "{got}");
}

#[test]
fn a_panel_and_a_variable_on_one_histogram_get_the_same_decision_without_honor_labels() {
    // The app is known to push `request_seconds_count` (a panel reads it); the variable reads
    // `request_seconds_bucket`: the same family, so the same decision.
    let app = AppMapping {
        pushed_job: "batch-etl".to_string(),
        pushed_instances: vec!["etl-1".to_string()],
        scrape_job: "batch-etl".to_string(),
        scrape_instance: "batch-etl:9102".to_string(),
        metrics: vec!["request_seconds_count".to_string()],
    };
    let honor_false = mapping(false, vec![app]);
    assert_eq!(
        render(
            r#"label_values(request_seconds_bucket{job="pushgateway"}, route)"#,
            &honor_false
        ),
        r#"=> label_values(request_seconds_bucket{job="batch-etl"}, route)"#
    );
    assert_eq!(
        render(
            r#"sum(rate(request_seconds_count{job="pushgateway"}[5m]))"#,
            &honor_false
        ),
        r#"=> sum(rate(request_seconds_count{job="batch-etl"}[5m]))"#
    );
}
