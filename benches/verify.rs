//! Benchmark (not a test): `verify`'s query comparison over 500+ queries against a real
//! Prometheus, as it runs after the `dashboards` phase. Prints our wall time, the sum of
//! Prometheus's own `execTotalTime` (`stats=all`) over the same queries, and their ratio, for
//! a few concurrency bounds.
//!
//! Run: `scripts/bench verify` or `cargo bench --bench verify` (needs Debian's `prometheus` and
//! `prometheus-pushgateway`; `scripts/test` installs them). `PAIRS=N` changes the size.

#[allow(dead_code)]
#[path = "../tests/integration/support/live/mod.rs"]
mod live;

use std::time::{Duration, Instant};

use live::stack::{LiveStack, StackOptions};
use pullover::verify::check::{Status, VerifySettings, no_progress};
use pullover::verify::compare::Tolerance;
use pullover::verify::pairs::pair_file;
use pullover::verify::queries::compare_query_sources;
use pullover::verify::variables::FillContext;

const QUERIES: [&str; 5] = [
    "sum by (page) (rate(page_views_total{job=\"metrics-api\", instance=\"INSTANCE\", page=~\"$page\"}[$__rate_interval]))",
    "sum(rate(http_requests_total{job=\"metrics-api\", instance=\"INSTANCE\"}[$__rate_interval])) * N",
    "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket{job=\"metrics-api\", instance=\"INSTANCE\"}[$__rate_interval])))",
    "queue_depth{job=\"metrics-api\", instance=\"INSTANCE\"} + N",
    "sum by (country) (increase(page_views_total{job=\"metrics-api\", instance=\"INSTANCE\"}[$__rate_interval]))",
];

/// A classic dashboard with `pairs` panels selecting the series of `instance`.
fn dashboard(pairs: usize, instance: &str) -> String {
    let panels: Vec<serde_json::Value> = (0..pairs)
        .map(|i| {
            let expr = QUERIES[i % QUERIES.len()]
                .replace("INSTANCE", instance)
                .replace('N', &(i + 1).to_string());
            serde_json::json!({
                "id": i + 1,
                "title": format!("panel {i}"),
                "type": "timeseries",
                "datasource": {"type": "prometheus", "uid": "prom"},
                "targets": [{"refId": "A", "expr": expr}],
            })
        })
        .collect();
    let variable = format!("label_values(page_views_total{{job=\"metrics-api\", instance=\"{instance}\"}}, page)");
    let model = serde_json::json!({
        "title": "bench",
        "panels": panels,
        "templating": {"list": [{
            "name": "page", "type": "query", "multi": true,
            "datasource": {"type": "prometheus", "uid": "prom"},
            "query": variable, "definition": variable,
        }]},
    });
    serde_json::to_string_pretty(&model).unwrap_or_default()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing else we need.
    let pairs: usize = std::env::var("PAIRS").ok().and_then(|n| n.parse().ok()).unwrap_or(260);
    let Some(stack) = LiveStack::start("verify benchmark", StackOptions::default()) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("no tokio runtime: {err}"));
    let client = stack.prometheus_client();
    let scraped = stack.app_instance();

    // Enough history on both sides that every rate window is full.
    let ready = runtime.block_on(live::eventually(Duration::from_secs(30), || {
        let client = client.clone();
        let query = format!("count_over_time(up{{job=\"metrics-api\", instance=\"{scraped}\"}}[8s])");
        async move {
            let result = client.query(&query, None).await.ok()?;
            (result.data.as_vector().first()?.sample.value >= 8.0).then_some(())
        }
    }));
    if ready.is_none() {
        panic!("the scrape job did not collect 8 s of samples within 30 s");
    }
    let version = runtime
        .block_on(client.buildinfo())
        .map(|b| b.version)
        .unwrap_or_else(|_| "?".into());

    let source = pair_file("bench.json", &dashboard(pairs, "app-1"), &dashboard(pairs, &scraped))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the generated dashboards do not pair"));
    println!(
        "verify benchmark: {} query pairs ({} instant queries + 2 label-values lookups) against Prometheus {version} on 127.0.0.1",
        source.pairs.len(),
        source.pairs.len() * 2
    );
    println!(
        "{:>11}  {:>9}  {:>22}  {:>14}  {:>12}",
        "concurrency", "wall", "sum of execTotalTime", "wall / sum", "pairs passed"
    );
    let sources = vec![source];
    for (round, concurrency) in [8, 1, 4, 8, 16, 32].into_iter().enumerate() {
        let settings = VerifySettings {
            tolerance: Tolerance {
                relative: 0.2,
                absolute: 1e-9,
            },
            concurrency,
            ..VerifySettings::default()
        };
        let context = FillContext {
            at: std::time::SystemTime::now(),
            range: FillContext::DEFAULT_RANGE,
            scrape_interval: Duration::from_secs(1),
        };
        let started = Instant::now();
        let (results, _notes, stats) = runtime
            .block_on(compare_query_sources(
                &client,
                &sources,
                &context,
                &settings,
                &no_progress(),
            ))
            .unwrap_or_else(|err| panic!("comparison failed: {err}"));
        let wall = started.elapsed().as_secs_f64();
        let passed = results.iter().filter(|r| r.verdict.status == Status::Pass).count();
        if round == 0 {
            // Warm-up: the first run pays for connections and Prometheus's caches.
            continue;
        }
        println!(
            "{concurrency:>11}  {:>8.3}s  {:>21.3}s  {:>14.2}  {:>8}/{}",
            wall,
            stats.server_seconds,
            wall / stats.server_seconds.max(1e-9),
            passed,
            results.len()
        );
    }
    drop(stack);
}
