//! Every compared metric's series over the `--window`, both sides, for the charts of
//! `verify --report`. The comparison itself ([`super::compare`]) looks at one instant;
//! this shows how the two sources moved up to it.
//!
//! Counters are drawn as `rate()` and gauges by value, as the comparison judges them. The
//! comparison's `rate()` spans the whole window at its end; a chart needs a rate at every
//! point, so it uses a shorter range, Grafana's `$__rate_interval` rule
//! (`max(step + interval, 4 × interval)`): what the dashboards will show once they read the
//! scraped series. Everything but [`fetch_window_series`] is pure.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::compare::{ComparedBy, DualRunSpec, MetricComparison, metric_queries};
use super::selector::selector;
use crate::live::LiveError;
use crate::live::model::{QueryResult, RangeSeries};
use crate::live::prometheus::PrometheusClient;

/// Points a chart aims for across the window: enough for a smooth line, few enough for a
/// small file.
const POINTS_PER_CHART: u32 = 120;

/// Series pairs one chart draws; beyond that lines only hide each other. The rest are named.
pub const MAX_PAIRS_PER_CHART: usize = 6;

/// `(unix seconds, value)`, finite values only.
pub type Points = Vec<(f64, f64)>;

/// One pushed series and its scraped twin over the window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesPair {
    /// The pairing key: the metric name and the labels both sides share.
    pub key: String,
    pub old: Points,
    pub new: Points,
}

/// One compared metric over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricWindow {
    pub metric: String,
    pub compared_by: ComparedBy,
    /// What each side's line plots.
    pub old_query: String,
    pub new_query: String,
    /// The pairs drawn: those that fail first, then the largest differences.
    pub pairs: Vec<SeriesPair>,
    /// Keys of the pairs not drawn.
    pub left_out: Vec<String>,
    /// Why nothing can be drawn (a query failed).
    pub error: Option<String>,
}

/// Every compared metric of one dual-run table ([`super::dual::DualRunTable`]), over its window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSeries {
    /// Unix seconds; `end` is the comparison's evaluation time.
    pub start: f64,
    pub end: f64,
    pub step: Duration,
    /// The `rate()` range of counter charts.
    pub rate_interval: Duration,
    pub metrics: Vec<MetricWindow>,
}

/// The step that puts about [`POINTS_PER_CHART`] points across `window` (whole
/// milliseconds: Prometheus keeps no finer time).
pub fn chart_step(window: Duration) -> Duration {
    let millis = window.as_millis() / u128::from(POINTS_PER_CHART);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX).max(1))
}

/// Grafana's `$__rate_interval`: `max(step + interval, 4 × interval)`, where `interval` is
/// the longer of the two scrape intervals. No longer than the window; the whole window when
/// neither interval is known.
pub fn rate_interval(step: Duration, scrape_interval: Option<Duration>, window: Duration) -> Duration {
    match scrape_interval {
        Some(interval) if !interval.is_zero() => (step + interval).max(interval * 4).min(window),
        _ => window,
    }
}

/// The pairs worth drawing first: failing ones (a missing twin counts as failing), then by
/// difference, largest first; ties by key. Series only the scraped side has were not
/// compared and are not drawn. Returns the keys to draw and those left out.
pub fn pairs_to_draw(metric: &MetricComparison) -> (Vec<String>, Vec<String>) {
    let mut ranked: Vec<(bool, f64, &str)> = metric
        .series
        .iter()
        .filter(|series| !metric.only_on_new.contains(&series.key))
        .map(|series| {
            let missing = metric.missing_on_new.contains(&series.key);
            let differs = series.relative_difference.is_some() && !series.within_tolerance;
            let difference = series.relative_difference.unwrap_or(f64::INFINITY);
            (missing || differs, difference, series.key.as_str())
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
    let mut keys: Vec<String> = ranked.iter().map(|(_, _, key)| key.to_string()).collect();
    let left_out = keys.split_off(keys.len().min(MAX_PAIRS_PER_CHART));
    (keys, left_out)
}

/// A range result keyed for pairing. `rate()` drops `__name__`; key as if it were there.
pub fn keyed_points(spec: &DualRunSpec, metric: &str, series: &[RangeSeries]) -> BTreeMap<String, Points> {
    series
        .iter()
        .map(|item| {
            let mut labels = item.metric.clone();
            labels.insert("__name__".into(), metric.to_string());
            let points = item
                .samples
                .iter()
                .filter(|point| point.value.is_finite())
                .map(|point| (point.timestamp, point.value))
                .collect();
            (spec.pairing_key(&labels), points)
        })
        .collect()
}

/// The two queries one metric's chart plots: `rate()` over `rate_interval` for what the
/// comparison rates, the plain selector for what it compares by value.
pub fn chart_queries(spec: &DualRunSpec, metric: &MetricComparison, rate_interval: Duration) -> (String, String) {
    match metric.compared_by {
        ComparedBy::Rate => {
            let queries = metric_queries(spec, &metric.metric, rate_interval);
            (queries.rate_old, queries.rate_new)
        }
        ComparedBy::Value | ComparedBy::Presence => (
            selector(Some(&metric.metric), &spec.pushed_matchers()),
            selector(Some(&metric.metric), &spec.scraped_matchers()),
        ),
    }
}

fn matrix(result: Option<Result<QueryResult, LiveError>>) -> Result<Vec<RangeSeries>, String> {
    match result {
        Some(Ok(result)) => Ok(result.data.as_matrix().to_vec()),
        Some(Err(error)) => Err(error.to_string()),
        None => Err("fewer results than queries".into()),
    }
}

fn unix(seconds: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(seconds.max(0.0))
}

/// Fetches both sides of every compared metric (those with pushed series) over `window`,
/// ending at `evaluated_at` (Unix seconds), as the comparison of one dual-run table saw them.
/// A failed query leaves that chart with the error rather than failing the checks, which have
/// already been judged.
pub async fn fetch_window_series(
    client: &PrometheusClient,
    spec: &DualRunSpec,
    metrics: &[MetricComparison],
    window: Duration,
    evaluated_at: f64,
    scrape_interval: Option<Duration>,
    concurrency: usize,
) -> WindowSeries {
    let step = chart_step(window);
    let rate_interval = rate_interval(step, scrape_interval, window);
    let (end, start) = (evaluated_at, evaluated_at - window.as_secs_f64());
    let compared: Vec<&MetricComparison> = metrics.iter().filter(|m| m.series_old > 0).collect();
    let queries: Vec<(String, String)> = compared
        .iter()
        .map(|metric| chart_queries(spec, metric, rate_interval))
        .collect();
    let exprs = queries.iter().flat_map(|(old, new)| [old.clone(), new.clone()]);
    let mut results = client
        .query_range_many(exprs, unix(start), unix(end), step, concurrency)
        .await
        .into_iter();
    let mut metrics = Vec::with_capacity(compared.len());
    for (metric, (old_query, new_query)) in compared.into_iter().zip(queries) {
        let (old, new) = (matrix(results.next()), matrix(results.next()));
        let (keys, left_out) = pairs_to_draw(metric);
        let (pairs, error) = match (old, new) {
            (Ok(old), Ok(new)) => {
                let (mut old, mut new) = (
                    keyed_points(spec, &metric.metric, &old),
                    keyed_points(spec, &metric.metric, &new),
                );
                let pairs = keys
                    .into_iter()
                    .map(|key| SeriesPair {
                        old: old.remove(&key).unwrap_or_default(),
                        new: new.remove(&key).unwrap_or_default(),
                        key,
                    })
                    .collect();
                (pairs, None)
            }
            (Err(error), _) | (_, Err(error)) => (Vec::new(), Some(error)),
        };
        metrics.push(MetricWindow {
            metric: metric.metric.clone(),
            compared_by: metric.compared_by,
            old_query,
            new_query,
            pairs,
            left_out,
            error,
        });
    }
    WindowSeries {
        start,
        end,
        step,
        rate_interval,
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::model::SamplePoint;
    use crate::verify::compare::tests::metric;
    use crate::verify::compare::{PushSource, PushedGroupRef, ScrapeTargetRef, SeriesComparison, Verdict};

    #[test]
    fn about_120_points_cross_the_window_at_whole_milliseconds() {
        assert_eq!(chart_step(Duration::from_secs(300)), Duration::from_millis(2500));
        assert_eq!(chart_step(Duration::from_secs(5)), Duration::from_millis(41));
        assert_eq!(chart_step(Duration::from_millis(10)), Duration::from_millis(1));
    }

    #[test]
    fn counters_are_charted_over_grafanas_rate_interval_within_the_window() {
        let (step, window) = (Duration::from_millis(2500), Duration::from_secs(300));
        assert_eq!(
            rate_interval(step, Some(Duration::from_secs(15)), window),
            Duration::from_secs(60)
        );
        assert_eq!(
            rate_interval(Duration::from_secs(30), Some(Duration::from_secs(5)), window),
            Duration::from_secs(35)
        );
        assert_eq!(rate_interval(step, Some(Duration::from_secs(120)), window), window);
        assert_eq!(rate_interval(step, None, window), window);
    }

    fn series(key: &str, within: bool, difference: Option<f64>) -> SeriesComparison {
        SeriesComparison {
            key: key.into(),
            old: Some(1.0),
            new: difference.map(|_| 1.0),
            relative_difference: difference,
            within_tolerance: within,
            events: None,
        }
    }

    #[test]
    fn failing_and_most_different_pairs_are_drawn_first_and_the_rest_named() {
        let mut all: Vec<SeriesComparison> = (0..8)
            .map(|i| series(&format!("m{{le=\"{i}\"}}"), true, Some(f64::from(i) / 100.0)))
            .collect();
        all.push(series("m{le=\"missing\"}", false, None));
        all.push(series("m{le=\"off\"}", false, Some(0.5)));
        let mut metric = metric("m", ComparedBy::Rate, Some(0.5), Verdict::MissingOnNew);
        metric.missing_on_new = vec!["m{le=\"missing\"}".into()];
        metric.series = all;
        let (drawn, left_out) = pairs_to_draw(&metric);
        assert_eq!(
            drawn,
            [
                "m{le=\"missing\"}",
                "m{le=\"off\"}",
                "m{le=\"7\"}",
                "m{le=\"6\"}",
                "m{le=\"5\"}",
                "m{le=\"4\"}"
            ]
        );
        assert_eq!(left_out.len(), 4);
    }

    #[test]
    fn rate_results_pair_by_the_labels_both_sides_share() {
        let spec = DualRunSpec {
            source: PushSource {
                gateway_job: "pushgateway".into(),
                honor_labels: true,
            },
            pushed: PushedGroupRef {
                job: "api".into(),
                instance: Some("app-1".into()),
            },
            scraped: ScrapeTargetRef {
                job: "api".into(),
                instance: "api:8080".into(),
            },
            ignore_labels: vec![],
        };
        let labels = [("job", "api"), ("instance", "app-1"), ("code", "200")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let samples = vec![
            SamplePoint {
                timestamp: 10.0,
                value: 2.0,
            },
            SamplePoint {
                timestamp: 11.0,
                value: f64::NAN,
            },
        ];
        let keyed = keyed_points(
            &spec,
            "requests_total",
            &[RangeSeries {
                metric: labels,
                samples,
            }],
        );
        assert_eq!(keyed.get("requests_total{code=\"200\"}"), Some(&vec![(10.0, 2.0)]));
        let metric = metric("requests_total", ComparedBy::Rate, None, Verdict::Match);
        assert_eq!(
            chart_queries(&spec, &metric, Duration::from_secs(4)),
            (
                r#"rate(requests_total{job="api", instance="app-1"}[4000ms])"#.to_string(),
                r#"rate(requests_total{job="api", instance="api:8080"}[4000ms])"#.to_string()
            )
        );
    }
}
