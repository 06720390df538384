//! A second look at a rewritten query that disagrees with its original, before calling it
//! wrong. Push and scrape happen at different times: the pushed copy lags the scraped one by
//! up to a push interval plus a scrape interval, so raw counters (and short rates) read
//! differently at one instant although both sources are healthy. And a counter reset, or a
//! series younger than the query's range, makes the two disagree for a while without either
//! being wrong.
//!
//! So a disagreeing pair is looked at again:
//! 1. **Lag.** Both queries run at a few earlier times across the lag; when, series by
//!    series, the values the original took and those the rewrite took overlap (within the
//!    tolerance), the two agree up to the lag.
//! 2. **Reset.** A counter the queries read that reset within the query's range (plus the
//!    lag), on either side: "cannot tell yet: counter reset at …".
//! 3. **Young series.** The rewrite's series are younger than the query's range. Both queries
//!    run again with every range longer than the series' age shortened to it (less the lag),
//!    so that both read the same stretch of time: when they agree there, the pair passes and
//!    says over how long it was compared; otherwise "cannot tell yet" (docs/verify.md).
//!
//! Only then does it differ.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::check::{Status, format_prometheus_duration, rfc3339, unix_seconds};
use super::compare::Tolerance;
use super::outcome::{PairVerdict, ShortenedRange, keyed};
use crate::duration::parse_prometheus_duration;
use crate::live::error::LiveError;
use crate::live::model::{QueryData, RangeSeries};
use crate::live::prometheus::PrometheusClient;

/// How many earlier evaluation times the lag is sampled at (besides the first).
pub const LAG_STEPS: u32 = 4;

/// The lowest and highest value each series took over several evaluations.
pub type Ranges = BTreeMap<String, Vec<(f64, f64)>>;

/// Series by series (by position among a key's sorted values), the lowest and highest value
/// across `results`.
pub fn value_ranges(results: &[QueryData]) -> Ranges {
    let mut ranges: Ranges = BTreeMap::new();
    for data in results {
        let Ok(keys) = keyed(data) else { continue };
        for (key, values) in keys {
            let entry = ranges.entry(key).or_default();
            for (i, value) in values.into_iter().enumerate() {
                match entry.get_mut(i) {
                    Some((low, high)) => {
                        *low = low.min(value);
                        *high = high.max(value);
                    }
                    None => entry.push((value, value)),
                }
            }
        }
    }
    ranges
}

/// Whether every series of the original took a value the rewrite also took (within the
/// tolerance) somewhere across the lag.
pub fn ranges_agree(old: &Ranges, new: &Ranges, tolerance: Tolerance) -> bool {
    !old.is_empty()
        && old.iter().all(|(key, old_ranges)| {
            let Some(new_ranges) = new.get(key) else {
                return false;
            };
            old_ranges.len() == new_ranges.len()
                && old_ranges
                    .iter()
                    .zip(new_ranges)
                    .all(|(&(old_low, old_high), &(new_low, new_high))| {
                        if old_high < new_low {
                            tolerance.accepts(old_high, new_low)
                        } else if new_high < old_low {
                            tolerance.accepts(new_high, old_low)
                        } else {
                            true
                        }
                    })
        })
}

/// The latest counter reset (a sample lower than the one before it) in `series`: its time.
pub fn last_reset(series: &[RangeSeries]) -> Option<f64> {
    series
        .iter()
        .flat_map(|s| {
            s.samples
                .windows(2)
                .filter(|pair| matches!(pair, [a, b] if b.value < a.value))
                .filter_map(|pair| pair.get(1).map(|b| b.timestamp))
        })
        .max_by(f64::total_cmp)
}

/// The first sample time among `series` (when the youngest of them began, if all did
/// within the range fetched).
pub fn first_sample(series: &[RangeSeries]) -> Option<f64> {
    series
        .iter()
        .filter_map(|s| s.samples.first().map(|p| p.timestamp))
        .max_by(f64::total_cmp)
}

/// The longest `[range]` (or subquery range) in a query, variables already filled.
pub fn longest_range(query: &str) -> Option<Duration> {
    let mut longest: Option<Duration> = None;
    let mut rest = query;
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find(']') else { break };
        let inside = after.get(..close).unwrap_or_default();
        let range = inside.split(':').next().unwrap_or_default().trim();
        if let Some(duration) = parse_prometheus_duration(range) {
            longest = longest.max(Some(duration));
        }
        rest = after.get(close..).unwrap_or_default();
    }
    longest
}

/// Selectors of counters a query reads (by the usual names: `_total`, `_count`, `_sum`,
/// `_bucket`), as written, without any range.
pub fn counter_selectors(query: &str) -> Vec<String> {
    let Ok(selectors) = crate::promql::selectors(query) else {
        return Vec::new();
    };
    selectors
        .iter()
        .filter(|s| {
            s.metric.as_deref().is_some_and(|name| {
                ["_total", "_count", "_sum", "_bucket"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
            })
        })
        .filter_map(|s| query.get(s.span.clone()).map(str::to_string))
        .collect()
}

/// How far the pushed copy may lag the scraped one: the longest a pushed value waited for
/// its scrape over the last five minutes (`timestamp(push_time_seconds) -
/// push_time_seconds`), plus one scrape interval of the app. Twice the scrape interval when
/// Prometheus cannot say.
pub async fn push_lag(client: &PrometheusClient, scrape_interval: Duration, at: SystemTime) -> Duration {
    let step = format_prometheus_duration(scrape_interval.max(Duration::from_secs(1)));
    let query = format!("max(max_over_time((timestamp(push_time_seconds) - push_time_seconds)[5m:{step}]))");
    let measured = client
        .query(&query, Some(at))
        .await
        .ok()
        .and_then(|result| result.data.as_vector().first().map(|s| s.sample.value))
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v.min(600.0)));
    match measured {
        Some(lag) => lag + scrape_interval,
        None => scrape_interval * 2,
    }
}

/// What the second look found.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// The two agree once the lag is allowed for.
    WithinLag { lag: Duration, series: usize },
    /// A counter the queries read reset at this time (Unix seconds), `until` when the
    /// comparison means something again.
    Reset { at: f64, until: f64 },
    /// The rewrite's series began at `since`, less than `range` ago.
    Young { since: f64, range: Duration },
    /// The rewrite's series are younger than `range`, and the two agree with every range
    /// shortened to `compared` (the time both have data).
    AgreeOverAge {
        since: f64,
        range: Duration,
        compared: Duration,
        series: usize,
    },
    /// Still differs.
    Differs,
}

impl Settled {
    /// The verdict that replaces a failed one, or `None` to keep it.
    pub fn verdict(&self, failed: &PairVerdict, now: f64) -> Option<PairVerdict> {
        let (status, detail) = match self {
            Settled::WithinLag { lag, series } => (
                Status::Pass,
                format!(
                    "{series} series agree allowing for the push lag ({}); at one instant: {}",
                    format_prometheus_duration(round_ms(*lag)),
                    failed.detail
                ),
            ),
            Settled::Reset { at, until } => (
                Status::Inconclusive,
                format!(
                    "cannot tell yet: counter reset at {}; compare again after {} (at one instant: {})",
                    rfc3339(*at),
                    rfc3339(*until),
                    failed.detail
                ),
            ),
            Settled::Young { since, range } => (
                Status::Inconclusive,
                format!(
                    "cannot tell yet: the rewrite's series are {} old, younger than the query's {} range; compare again after {} (at one instant: {})",
                    format_prometheus_duration(Duration::from_secs((now - since).max(0.0) as u64)),
                    format_prometheus_duration(*range),
                    rfc3339(since + range.as_secs_f64()),
                    failed.detail
                ),
            ),
            Settled::AgreeOverAge {
                since,
                range,
                compared,
                series,
            } => {
                return Some(PairVerdict {
                    status: Status::Pass,
                    detail: format!(
                        "{series} series agree over the last {}, as long as the rewrite's series have existed: its {} range shortened to that; over the full range from {} (at one instant: {})",
                        format_prometheus_duration(*compared),
                        format_prometheus_duration(*range),
                        rfc3339(since + range.as_secs_f64()),
                        failed.detail
                    ),
                    shortened_range: Some(ShortenedRange {
                        range_seconds: range.as_secs_f64(),
                        compared_seconds: compared.as_secs_f64(),
                    }),
                    ..failed.clone()
                });
            }
            Settled::Differs => return None,
        };
        Some(PairVerdict {
            status,
            detail,
            ..failed.clone()
        })
    }
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64 / 100 * 100)
}

/// `query` with every range (of a range selector or subquery) longer than `cap`, and every
/// subquery step longer than the range it is left with, written as `cap`: so that a shortened
/// subquery still has a step inside its range. `None` when no range is longer or the query
/// does not parse.
pub fn with_ranges_capped(query: &str, cap: Duration) -> Option<String> {
    let spans = crate::promql::range_spans(query).ok()?;
    let duration = |span: &std::ops::Range<usize>| query.get(span.clone()).and_then(parse_prometheus_duration);
    let mut edits: Vec<std::ops::Range<usize>> = Vec::new();
    for (range, step) in spans {
        if duration(&range).is_none_or(|d| d <= cap) {
            continue;
        }
        edits.push(range);
        if let Some(step) = step.filter(|s| duration(s).is_some_and(|d| d > cap)) {
            edits.push(step);
        }
    }
    if edits.is_empty() {
        return None;
    }
    let written = format_prometheus_duration(cap);
    let mut out = String::with_capacity(query.len());
    let mut copied = 0;
    for span in edits {
        out.push_str(query.get(copied..span.start)?);
        out.push_str(&written);
        copied = span.end;
    }
    out.push_str(query.get(copied..)?);
    Some(out)
}

/// Whether the two queries agree at some evaluation across the lag: the number of the
/// original's series when they do.
async fn agree_across_lag(
    client: &PrometheusClient,
    old_query: &str,
    new_query: &str,
    at: SystemTime,
    lag: Duration,
    tolerance: Tolerance,
) -> Result<Option<usize>, LiveError> {
    let mut old_results = Vec::new();
    let mut new_results = Vec::new();
    for step in 0..=LAG_STEPS {
        let when = at
            .checked_sub(lag.mul_f64(f64::from(step) / f64::from(LAG_STEPS)))
            .unwrap_or(at);
        old_results.push(client.query(old_query, Some(when)).await?.data);
        new_results.push(client.query(new_query, Some(when)).await?.data);
    }
    let (old, new) = (value_ranges(&old_results), value_ranges(&new_results));
    Ok(ranges_agree(&old, &new, tolerance).then_some(old.len()))
}

/// Runs the pair again across the lag, then looks for resets and young series. A range
/// shortened to a young series' age is at least four `scrape_interval`s (what a `rate()` needs).
pub async fn second_look(
    client: &PrometheusClient,
    old_query: &str,
    new_query: &str,
    at: SystemTime,
    lag: Duration,
    tolerance: Tolerance,
    scrape_interval: Duration,
) -> Result<Settled, LiveError> {
    if let Some(series) = agree_across_lag(client, old_query, new_query, at, lag, tolerance).await? {
        return Ok(Settled::WithinLag { lag, series });
    }
    let range = longest_range(old_query)
        .max(longest_range(new_query))
        .unwrap_or(Duration::ZERO);
    let look_back = range + lag * 2;
    let fetched = format!("[{}ms]", look_back.as_millis().max(1));
    let mut reset: Option<f64> = None;
    for selector in counter_selectors(old_query)
        .into_iter()
        .chain(counter_selectors(new_query))
    {
        let series = matrix(client, &format!("{selector}{fetched}"), at).await?;
        reset = max_time(reset, last_reset(&series));
    }
    if let Some(reset_at) = reset {
        return Ok(Settled::Reset {
            at: reset_at,
            until: reset_at + look_back.as_secs_f64(),
        });
    }
    if !range.is_zero() {
        let now = unix_seconds(at);
        let window = format!("[{}ms]", (range + lag).as_millis().max(1));
        let mut youngest: Option<f64> = None;
        for selector in crate::promql::selectors(new_query).unwrap_or_default() {
            if selector.metric.is_none() {
                continue;
            }
            let Some(text) = new_query.get(selector.span.clone()) else {
                continue;
            };
            let series = matrix(client, &format!("{text}{window}"), at).await?;
            youngest = max_time(youngest, first_sample(&series));
        }
        if let Some(since) = youngest
            && now - since + lag.as_secs_f64() < range.as_secs_f64()
        {
            // Every evaluation across the lag must find both sides' data in the whole range.
            let compared = Duration::from_secs((now - since - lag.as_secs_f64()).max(0.0) as u64);
            if compared >= scrape_interval * 4
                && let (Some(old_capped), Some(new_capped)) = (
                    with_ranges_capped(old_query, compared),
                    with_ranges_capped(new_query, compared),
                )
                && let Some(series) = agree_across_lag(client, &old_capped, &new_capped, at, lag, tolerance).await?
            {
                return Ok(Settled::AgreeOverAge {
                    since,
                    range,
                    compared,
                    series,
                });
            }
            return Ok(Settled::Young { since, range });
        }
    }
    Ok(Settled::Differs)
}

fn max_time(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

async fn matrix(client: &PrometheusClient, query: &str, at: SystemTime) -> Result<Vec<RangeSeries>, LiveError> {
    Ok(match client.query(query, Some(at)).await?.data {
        QueryData::Matrix(series) => series,
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::model::{InstantSeries, Labels, SamplePoint};

    fn vector(points: &[(&str, f64)]) -> QueryData {
        QueryData::Vector(
            points
                .iter()
                .map(|(page, value)| InstantSeries {
                    metric: Labels::from([("page".to_string(), page.to_string())]),
                    sample: SamplePoint {
                        timestamp: 0.0,
                        value: *value,
                    },
                })
                .collect(),
        )
    }

    #[test]
    fn a_lagging_copy_agrees_once_the_lag_is_allowed_for() {
        // The scraped counter is 1000 at the last evaluation and 991 one lag earlier; the
        // pushed one reads 993 now: 0.7% apart at one instant with a 0.5% tolerance.
        let tolerance = Tolerance {
            relative: 0.005,
            absolute: 1e-9,
        };
        let old = value_ranges(&[vector(&[("/", 993.0)]), vector(&[("/", 985.0)])]);
        let new = value_ranges(&[vector(&[("/", 1000.0)]), vector(&[("/", 991.0)])]);
        assert!(ranges_agree(&old, &new, tolerance));
        // A copy growing twice as fast never meets the other.
        let double = value_ranges(&[vector(&[("/", 2000.0)]), vector(&[("/", 1982.0)])]);
        assert!(!ranges_agree(&double, &new, tolerance));
        // A series missing on the rewrite's side does not agree.
        let other = value_ranges(&[vector(&[("/about", 1000.0)])]);
        assert!(!ranges_agree(&old, &other, tolerance));
    }

    fn series(points: &[(f64, f64)]) -> RangeSeries {
        RangeSeries {
            metric: Labels::new(),
            samples: points
                .iter()
                .map(|(timestamp, value)| SamplePoint {
                    timestamp: *timestamp,
                    value: *value,
                })
                .collect(),
        }
    }

    #[test]
    fn a_reset_is_the_latest_drop_and_says_cannot_tell_yet() {
        let pushed = series(&[(10.0, 50.0), (11.0, 54.0), (12.0, 2.0), (13.0, 6.0)]);
        let scraped = series(&[(10.5, 52.0), (11.5, 1.0), (12.5, 4.0)]);
        assert_eq!(last_reset(&[pushed.clone(), scraped]), Some(12.0));
        assert_eq!(last_reset(&[series(&[(1.0, 1.0), (2.0, 2.0)])]), None);
        let failed = PairVerdict {
            status: Status::Fail,
            detail: "differs by 7.3% at {} (tolerance 5.0%)".into(),
            series_old: 1,
            series_new: 1,
            max_relative_difference: Some(0.073),
            shortened_range: None,
        };
        let verdict = Settled::Reset {
            at: 1795591903.0,
            until: 1795592203.0,
        }
        .verdict(&failed, 1795591910.0)
        .unwrap();
        assert_eq!(verdict.status, Status::Inconclusive);
        assert!(verdict.status.fails());
        assert!(
            verdict.detail.starts_with(
                "cannot tell yet: counter reset at 2026-11-25T07:31:43Z; compare again after 2026-11-25T07:36:43Z"
            ),
            "{}",
            verdict.detail
        );
        assert_eq!(Settled::Differs.verdict(&failed, 0.0), None);
    }

    #[test]
    fn ranges_longer_than_the_new_series_age_are_shortened_to_it_and_nothing_else() {
        let cap = Duration::from_secs(40);
        assert_eq!(
            with_ranges_capped(r#"max_over_time(lag{job="a"}[5m:30s])"#, cap).as_deref(),
            Some(r#"max_over_time(lag{job="a"}[40s:30s])"#)
        );
        // A step longer than the shortened range would leave the subquery without a point.
        assert_eq!(
            with_ranges_capped(r#"max_over_time(lag{job="a"}[5m:1m])"#, cap).as_deref(),
            Some(r#"max_over_time(lag{job="a"}[40s:40s])"#)
        );
        assert_eq!(
            with_ranges_capped(r#"max_over_time(lag{job="a"}[5m:])"#, cap).as_deref(),
            Some(r#"max_over_time(lag{job="a"}[40s:])"#)
        );
        // Only ranges longer than the cap; offsets, steps and brackets in strings stay.
        assert_eq!(
            with_ranges_capped(
                r#"sum(rate(a_total{code=~"[45]..", p="[5m]"}[4s])) / sum(rate(a_total[1h] offset 1d))"#,
                cap
            )
            .as_deref(),
            Some(r#"sum(rate(a_total{code=~"[45]..", p="[5m]"}[4s])) / sum(rate(a_total[40s] offset 1d))"#)
        );
        assert_eq!(with_ranges_capped("rate(a_total[30s])", cap), None);
        assert_eq!(with_ranges_capped("rate(a_total[", cap), None);
        assert_eq!(with_ranges_capped("sum(a_total)", cap), None);
        assert_eq!(
            with_ranges_capped("rate(a_total[$__rate_interval]) + rate(b_total[10m])", cap).as_deref(),
            Some("rate(a_total[$__rate_interval]) + rate(b_total[40s])")
        );
    }

    #[test]
    fn agreeing_over_the_new_series_age_passes_and_says_over_how_long() {
        let failed = PairVerdict {
            status: Status::Fail,
            detail: "differs by 12.0% at {} (tolerance 5.0%)".into(),
            series_old: 1,
            series_new: 1,
            max_relative_difference: Some(0.12),
            shortened_range: None,
        };
        let verdict = Settled::AgreeOverAge {
            since: 1795591903.0,
            range: Duration::from_secs(300),
            compared: Duration::from_secs(40),
            series: 1,
        }
        .verdict(&failed, 1795591950.0)
        .unwrap();
        assert_eq!(verdict.status, Status::Pass);
        assert_eq!(
            verdict.detail,
            "1 series agree over the last 40s, as long as the rewrite's series have existed: its 5m range shortened to that; over the full range from 2026-11-25T07:36:43Z (at one instant: differs by 12.0% at {} (tolerance 5.0%))"
        );
        assert_eq!(
            verdict.shortened_range,
            Some(ShortenedRange {
                range_seconds: 300.0,
                compared_seconds: 40.0
            })
        );
    }

    #[test]
    fn ranges_and_counters_are_read_from_the_query() {
        assert_eq!(
            longest_range("sum(rate(a_total[4s])) / sum(rate(b_total[5m:30s]))"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(longest_range("sum(a_total)"), None);
        assert_eq!(
            counter_selectors(r#"sum(rate(page_views_total{job="x"}[4s])) / queue_depth{job="x"}"#),
            [r#"page_views_total{job="x"}"#]
        );
        assert_eq!(first_sample(&[series(&[(3.0, 1.0)]), series(&[(7.0, 1.0)])]), Some(7.0));
    }
}
