//! `verify --load`: does scraping hurt the app, and does the scrape interval suit it?
//!
//! A bounded burst against the app on this machine only (a fixed number of requests at a fixed
//! concurrency; it stops by itself): `/metrics` latency p50/p99 and size, and — when the
//! operator names a user-facing URL of the app — that URL's p50/p99 alone and with
//! concurrent `/metrics` requests. The verdict compares them, and checks the scrape interval
//! against the scrape duration and against the shortest `rate()`/`increase()` range of the
//! dashboards and rules (at least 4 samples per range).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::check::{Check, CheckKind, Status, format_prometheus_duration};
use crate::live::error::LiveError;

/// How big the burst is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSettings {
    /// Requests per measurement.
    pub requests: usize,
    pub concurrency: usize,
    pub timeout: Duration,
}

impl Default for LoadSettings {
    fn default() -> Self {
        LoadSettings {
            requests: 100,
            concurrency: 4,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The most requests one `--load` run may send to one URL, whatever the flags say.
pub const MAX_REQUESTS: usize = 2000;
pub const MAX_CONCURRENCY: usize = 32;

/// Latencies of one measurement, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub url: String,
    pub requests: usize,
    pub errors: usize,
    pub p50_seconds: f64,
    pub p99_seconds: f64,
    pub max_seconds: f64,
    /// Size of a response body (the last one), bytes.
    pub size_bytes: usize,
}

/// What `--load` measured and judged against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    pub concurrency: usize,
    pub metrics: Latency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_alone: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_with_metrics: Option<Latency>,
    pub scrape_interval_seconds: f64,
    pub scrape_timeout_seconds: f64,
    /// The shortest `rate()`/`increase()` range of the dashboards and rules, and where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortest_rate_range_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortest_rate_range_in: Option<String>,
}

/// Whether `url` points at this machine (127.0.0.0/8, ::1 or `localhost`): the only place a
/// burst may go.
pub fn is_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(f64::NAN)
}

fn client(settings: &LoadSettings) -> Result<reqwest::Client, LiveError> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(settings.timeout)
        .build()
        .map_err(|e| LiveError::Client { detail: e.to_string() })
}

/// Sends `requests` GETs to `url`, `concurrency` at a time, and measures them.
pub async fn burst(client: &reqwest::Client, url: &str, settings: &LoadSettings) -> Latency {
    let requests = settings.requests.clamp(1, MAX_REQUESTS);
    let permits = Arc::new(tokio::sync::Semaphore::new(
        settings.concurrency.clamp(1, MAX_CONCURRENCY),
    ));
    let mut handles = Vec::with_capacity(requests);
    for _ in 0..requests {
        let (client, permits, url) = (client.clone(), Arc::clone(&permits), url.to_string());
        handles.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            let started = Instant::now();
            let response = client.get(&url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let body = response.bytes().await.ok()?;
            Some((started.elapsed().as_secs_f64(), body.len()))
        }));
    }
    let mut times = Vec::with_capacity(requests);
    let mut size = 0;
    let mut errors = 0;
    for handle in handles {
        match handle.await {
            Ok(Some((seconds, bytes))) => {
                times.push(seconds);
                size = bytes;
            }
            _ => errors += 1,
        }
    }
    times.sort_by(f64::total_cmp);
    Latency {
        url: url.to_string(),
        requests,
        errors,
        p50_seconds: quantile(&times, 0.5),
        p99_seconds: quantile(&times, 0.99),
        max_seconds: times.last().copied().unwrap_or(f64::NAN),
        size_bytes: size,
    }
}

/// The measurements: `/metrics` alone; the user URL alone; the user URL while `/metrics` is
/// fetched at the same time.
pub async fn measure(
    metrics_url: &str,
    user_url: Option<&str>,
    settings: &LoadSettings,
) -> Result<(Latency, Option<Latency>, Option<Latency>), LiveError> {
    let client = client(settings)?;
    let metrics = burst(&client, metrics_url, settings).await;
    let Some(user_url) = user_url else {
        return Ok((metrics, None, None));
    };
    let alone = burst(&client, user_url, settings).await;
    let (with_metrics, _) = tokio::join!(
        burst(&client, user_url, settings),
        burst(&client, metrics_url, settings)
    );
    Ok((metrics, Some(alone), Some(with_metrics)))
}

fn ms(seconds: f64) -> String {
    if seconds.is_finite() {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        "—".into()
    }
}

/// How much slower the user URL may get under `/metrics` load before it is a hazard.
pub const USER_P99_GROWTH: f64 = 0.20;
/// Growth below this many seconds is noise, whatever the ratio.
const NOISE_SECONDS: f64 = 0.002;
/// At least this many samples in every `rate()` range.
pub const SAMPLES_PER_RANGE: f64 = 4.0;

/// The check lines for a [`LoadReport`].
pub fn load_checks(app: &str, report: &LoadReport) -> Vec<Check> {
    let mut checks = Vec::new();
    let m = &report.metrics;
    let shape = format!(
        "{} requests, {} at a time: p50 {}, p99 {}, {} bytes",
        m.requests,
        report.concurrency,
        ms(m.p50_seconds),
        ms(m.p99_seconds),
        m.size_bytes
    );
    let timeout = report.scrape_timeout_seconds;
    let interval = format_prometheus_duration(Duration::from_secs_f64(report.scrape_interval_seconds.max(0.0)));
    let timeout_text = format_prometheus_duration(Duration::from_secs_f64(timeout.max(0.0)));
    let (status, detail) = if m.errors == m.requests {
        (Status::Fail, format!("{}: every request failed", m.url))
    } else if m.errors > 0 {
        (
            Status::Fail,
            format!("{}: {} of {} requests failed; {shape}", m.url, m.errors, m.requests),
        )
    } else if m.p99_seconds >= timeout {
        (
            Status::Fail,
            format!(
                "{}: {shape}: p99 is past the {timeout_text} scrape timeout, scrapes would fail",
                m.url
            ),
        )
    } else if m.p99_seconds >= timeout / 2.0 || m.p99_seconds >= 1.0 {
        (
            Status::Warn,
            format!(
                "{}: {shape}: slow — p99 is {:.0}% of the {timeout_text} scrape timeout; every scrape costs the app that much work",
                m.url,
                m.p99_seconds / timeout * 100.0
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "{}: {shape}; {:.1}% of the {timeout_text} scrape timeout (interval {interval})",
                m.url,
                m.p99_seconds / timeout * 100.0
            ),
        )
    };
    let mut check = Check::new(CheckKind::Load, app, status, detail);
    if status != Status::Pass {
        check = check.note(
            "make /metrics cheaper (fewer series, no work per scrape), or raise scrape_interval and scrape_timeout",
        );
    }
    checks.push(check);
    if let (Some(alone), Some(loaded)) = (&report.user_alone, &report.user_with_metrics) {
        let growth = (loaded.p99_seconds - alone.p99_seconds) / alone.p99_seconds.max(1e-9);
        let detail = format!(
            "{}: p50 {} → {}, p99 {} → {} with /metrics fetched {} at a time",
            alone.url,
            ms(alone.p50_seconds),
            ms(loaded.p50_seconds),
            ms(alone.p99_seconds),
            ms(loaded.p99_seconds),
            report.concurrency
        );
        let status = if alone.errors + loaded.errors > 0 {
            Status::Fail
        } else if growth > USER_P99_GROWTH && loaded.p99_seconds - alone.p99_seconds > NOISE_SECONDS {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut check = Check::new(CheckKind::Load, app, status, detail);
        if status == Status::Warn {
            check = check.note(format!(
                "scraping slows the app's users: p99 grows by {:.0}% (more than {:.0}%)",
                growth * 100.0,
                USER_P99_GROWTH * 100.0
            ));
        } else if status == Status::Fail {
            check = check.note(format!(
                "{} of {} requests to the app failed",
                alone.errors + loaded.errors,
                alone.requests + loaded.requests
            ));
        }
        checks.push(check);
    }
    if let Some(range) = report.shortest_rate_range_seconds {
        let samples = range / report.scrape_interval_seconds.max(1e-9);
        let range_text = format_prometheus_duration(Duration::from_secs_f64(range.max(0.0)));
        let place = report.shortest_rate_range_in.as_deref().unwrap_or("a query");
        let detail = format!(
            "the shortest rate()/increase() range is [{range_text}] ({place}): {samples:.1} samples at a {interval} interval"
        );
        let status = if samples < SAMPLES_PER_RANGE {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut check = Check::new(CheckKind::Load, app, status, detail);
        if status == Status::Warn {
            check = check.note(format!(
                "rate() needs at least 4 samples per range to be steady: use a range of {} or more (or $__rate_interval), or scrape more often",
                format_prometheus_duration(Duration::from_secs_f64(report.scrape_interval_seconds * SAMPLES_PER_RANGE))
            ));
        }
        checks.push(check);
    }
    checks
}

/// The shortest literal range inside `rate(`, `irate(` or `increase(` of `query`.
pub fn shortest_rate_range(query: &str) -> Option<Duration> {
    let mut shortest: Option<Duration> = None;
    for function in ["rate(", "increase("] {
        let mut rest = query;
        while let Some(at) = rest.find(function) {
            let after = rest.get(at + function.len()..).unwrap_or_default();
            if let Some(open) = after.find('[')
                && let Some(close) = after.get(open..).and_then(|t| t.find(']'))
            {
                let inside = after.get(open + 1..open + close).unwrap_or_default();
                if let Some(range) = crate::duration::parse_prometheus_duration(inside.trim()) {
                    shortest = Some(shortest.map_or(range, |s: Duration| s.min(range)));
                }
            }
            rest = after;
        }
    }
    shortest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency(p50: f64, p99: f64) -> Latency {
        Latency {
            url: "http://127.0.0.1:8080/metrics".into(),
            requests: 100,
            errors: 0,
            p50_seconds: p50,
            p99_seconds: p99,
            max_seconds: p99,
            size_bytes: 2048,
        }
    }

    fn report(metrics: Latency) -> LoadReport {
        LoadReport {
            concurrency: 4,
            metrics,
            user_alone: None,
            user_with_metrics: None,
            scrape_interval_seconds: 30.0,
            scrape_timeout_seconds: 10.0,
            shortest_rate_range_seconds: Some(60.0),
            shortest_rate_range_in: Some("grafana/dashboards/a.json".into()),
        }
    }

    #[test]
    fn only_this_machine_takes_a_burst() {
        assert!(is_loopback("http://127.0.0.1:8080/metrics"));
        assert!(is_loopback("http://localhost:8080/"));
        assert!(is_loopback("http://[::1]:8080/"));
        assert!(!is_loopback("http://metrics-api:8080/metrics"));
        assert!(!is_loopback("http://10.0.0.5:8080/"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn a_slow_metrics_page_is_flagged_and_a_fast_one_passes() {
        let fast = load_checks("app", &report(latency(0.002, 0.004)));
        assert_eq!(fast[0].status, Status::Pass);
        let slow = load_checks("app", &report(latency(1.4, 1.5)));
        assert_eq!(slow[0].status, Status::Warn);
        assert!(slow[0].detail.contains("slow"), "{}", slow[0].detail);
        let too_slow = load_checks("app", &report(latency(9.0, 11.0)));
        assert_eq!(too_slow[0].status, Status::Fail);
        // 60 s / 30 s = 2 samples per range: too few.
        assert_eq!(fast[1].status, Status::Warn);
        assert!(
            fast[1].detail.contains("2.0 samples at a 30s interval"),
            "{}",
            fast[1].detail
        );
    }

    #[test]
    fn users_slowed_by_scrapes_are_a_hazard() {
        let mut r = report(latency(0.002, 0.004));
        r.user_alone = Some(latency(0.010, 0.020));
        r.user_with_metrics = Some(latency(0.012, 0.030));
        let checks = load_checks("app", &r);
        assert_eq!(checks[1].status, Status::Warn);
        r.user_with_metrics = Some(latency(0.010, 0.021));
        assert_eq!(load_checks("app", &r)[1].status, Status::Pass);
    }

    #[test]
    fn quantiles_and_ranges() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&sorted, 0.5), 50.0);
        assert_eq!(quantile(&sorted, 0.99), 99.0);
        assert_eq!(
            shortest_rate_range("sum(rate(a_total[5m])) / sum(increase(b_total[1m]))"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(shortest_rate_range("rate(a_total[$__rate_interval])"), None);
    }
}
