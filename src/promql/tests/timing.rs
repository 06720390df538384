//! How long rewriting a large estate takes: 1,000 dashboards × 30 panels.
//! Run with `cargo test --release -- --ignored --nocapture rewrites_30000`.

use std::time::Instant;

use super::{etl, mapping, metrics_api};
use crate::promql::rewrite_query;

const TYPICAL: &[&str] = &[
    r#"sum(rate(page_views_total{job="pushgateway"}[$__rate_interval])) by (page)"#,
    r#"histogram_quantile(0.95, sum by (le, exported_job) (rate(http_request_duration_seconds_bucket{job="pushgateway"}[$__rate_interval])))"#,
    r#"sum(rate(http_requests_total{job="pushgateway", exported_job="metrics-api", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="pushgateway", exported_job="metrics-api"}[5m]))"#,
    r#"time() - push_time_seconds{job="pushgateway", exported_job="metrics-api"}"#,
    r#"topk($topk, sum by (page) (increase(page_views_total{exported_job=~"$job"}[$__range])))"#,
    r#"label_values(page_views_total{job="pushgateway"}, exported_instance)"#,
    r#"up{job="node", instance=~"$node"}"#,
    r#"increase(etl_rows_processed_total{exported_job="etl-batch"}[1h])"#,
    r#"rate(node_cpu_seconds_total{mode!="idle", instance=~"$node"}[$__rate_interval])"#,
    r#"sum without (instance) (rate(http_requests_total{job="pushgateway"}[5m])) > $threshold"#,
];

#[test]
#[ignore = "measurement; run in release mode"]
fn rewrites_30000_typical_queries() {
    let mapping = mapping(false, vec![metrics_api(), etl()]);
    let queries: Vec<&str> = TYPICAL.iter().copied().cycle().take(30_000).collect();
    let started = Instant::now();
    let mut rewritten = 0;
    for query in &queries {
        if let Ok(result) = rewrite_query(query, &mapping) {
            rewritten += usize::from(result.text.is_some());
        }
    }
    let elapsed = started.elapsed();
    println!(
        "rewrote {} queries ({rewritten} changed) in {elapsed:.2?} ({:.1} µs per query)",
        queries.len(),
        elapsed.as_secs_f64() * 1e6 / queries.len() as f64
    );
    assert!(rewritten > 0);
}
