//! Typed shapes of Prometheus and Pushgateway answers. Sample values arrive as strings
//! (`"42"`, `"NaN"`, `"+Inf"`) and are parsed here, once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_prometheus_duration;

/// Label name → value, sorted so two label sets compare and print the same way.
pub type Labels = BTreeMap<String, String>;

/// One sample: unix seconds (Prometheus gives milliseconds as a fraction) and value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "(f64, String)", into = "(f64, String)")]
pub struct SamplePoint {
    pub timestamp: f64,
    pub value: f64,
}

impl TryFrom<(f64, String)> for SamplePoint {
    type Error = String;

    fn try_from((timestamp, value): (f64, String)) -> Result<Self, Self::Error> {
        Ok(SamplePoint {
            timestamp,
            value: parse_sample_value(&value).ok_or_else(|| format!("sample value {value:?} is not a number"))?,
        })
    }
}

impl From<SamplePoint> for (f64, String) {
    fn from(point: SamplePoint) -> Self {
        (point.timestamp, format_sample_value(point.value))
    }
}

/// Go's float syntax as Prometheus writes it: decimals, exponents, `NaN`, `+Inf`, `-Inf`.
pub fn parse_sample_value(text: &str) -> Option<f64> {
    // Rust accepts `inf`/`nan` in any case, like Go; it rejects Go's hex floats, which
    // Prometheus never writes.
    text.parse::<f64>().ok()
}

pub fn format_sample_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        value.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstantSeries {
    pub metric: Labels,
    #[serde(rename = "value")]
    pub sample: SamplePoint,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeSeries {
    pub metric: Labels,
    #[serde(rename = "values")]
    pub samples: Vec<SamplePoint>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryData {
    Vector(Vec<InstantSeries>),
    Matrix(Vec<RangeSeries>),
    Scalar(SamplePoint),
    String { timestamp: f64, value: String },
}

impl QueryData {
    pub fn result_type(&self) -> &'static str {
        match self {
            QueryData::Vector(_) => "vector",
            QueryData::Matrix(_) => "matrix",
            QueryData::Scalar(_) => "scalar",
            QueryData::String { .. } => "string",
        }
    }

    /// The vector, or an empty slice for any other result type.
    pub fn as_vector(&self) -> &[InstantSeries] {
        match self {
            QueryData::Vector(series) => series,
            _ => &[],
        }
    }

    pub fn as_matrix(&self) -> &[RangeSeries] {
        match self {
            QueryData::Matrix(series) => series,
            _ => &[],
        }
    }
}

/// What Prometheus reports about its own work with `stats=all`. Times are seconds.
///
/// They nest: `exec_total ≈ exec_queue + eval_total`, and `eval_total` covers
/// `query_preparation + inner_eval + result_sort`. Compare our wall time with
/// [`QueryTimings::exec_total`]; summing every field counts the inner ones twice.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryTimings {
    #[serde(default)]
    pub eval_total_time: f64,
    #[serde(default)]
    pub result_sort_time: f64,
    #[serde(default)]
    pub query_preparation_time: f64,
    #[serde(default)]
    pub inner_eval_time: f64,
    #[serde(default)]
    pub exec_queue_time: f64,
    #[serde(default)]
    pub exec_total_time: f64,
}

impl QueryTimings {
    /// The server's whole time for the query, queueing included.
    pub fn exec_total(&self) -> Duration {
        Duration::try_from_secs_f64(self.exec_total_time).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleStats {
    #[serde(default)]
    pub total_queryable_samples: u64,
    #[serde(default)]
    pub peak_samples: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueryStats {
    #[serde(default)]
    pub timings: QueryTimings,
    pub samples: Option<SampleStats>,
}

/// One answered query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub data: QueryData,
    pub warnings: Vec<String>,
    /// Present when the query asked for `stats=all`.
    pub stats: Option<QueryStats>,
    /// Our wall time for the successful attempt: sending, waiting, reading the body
    /// (decoding excluded).
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetHealth {
    Up,
    Down,
    Unknown,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub scrape_pool: String,
    #[serde(default)]
    pub scrape_url: String,
    #[serde(default)]
    pub global_url: String,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub discovered_labels: Labels,
    pub health: TargetHealth,
    #[serde(default)]
    pub last_error: String,
    /// RFC 3339 as Prometheus writes it; `0001-01-01T00:00:00Z` before the first scrape.
    #[serde(default)]
    pub last_scrape: String,
    /// Seconds.
    #[serde(default)]
    pub last_scrape_duration: f64,
    /// Prometheus duration text, e.g. `30s`, `1m30s`.
    #[serde(default)]
    pub scrape_interval: String,
    #[serde(default)]
    pub scrape_timeout: String,
}

impl Target {
    pub fn job(&self) -> Option<&str> {
        self.labels.get("job").map(String::as_str)
    }

    pub fn instance(&self) -> Option<&str> {
        self.labels.get("instance").map(String::as_str)
    }

    /// Unix seconds of the last scrape; `None` before the first one or when unreadable.
    pub fn last_scrape_unix(&self) -> Option<f64> {
        parse_rfc3339(&self.last_scrape).filter(|seconds| *seconds > 0.0)
    }

    pub fn scrape_interval_duration(&self) -> Option<Duration> {
        parse_prometheus_duration(&self.scrape_interval)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    #[serde(default)]
    pub discovered_labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    #[serde(default, rename = "activeTargets")]
    pub active: Vec<Target>,
    #[serde(default, rename = "droppedTargets")]
    pub dropped: Vec<DroppedTarget>,
}

impl Targets {
    /// Active targets of a scrape job (its `scrapePool`, which is the `job_name`).
    /// The active targets of `job`: its scrape pool, or targets labelled `job="<job>"` (the
    /// Prometheus Operator names its pools `serviceMonitor/<namespace>/<name>/<index>` and sets
    /// `job` by relabelling; docs/kubernetes.md).
    pub fn of_job<'a>(&'a self, job: &'a str) -> impl Iterator<Item = &'a Target> + 'a {
        self.active
            .iter()
            .filter(move |target| target.scrape_pool == job || target.job() == Some(job))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub revision: String,
    #[serde(default)]
    pub branch: String,
    #[serde(default)]
    pub build_user: String,
    #[serde(default)]
    pub build_date: String,
    #[serde(default)]
    pub go_version: String,
}

/// `/api/v1/status/flags`: flag name (without dashes) → value as text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flags(pub BTreeMap<String, String>);

impl Flags {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether `POST /-/reload` will be accepted.
    pub fn lifecycle_enabled(&self) -> bool {
        self.get("web.enable-lifecycle") == Some("true")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    /// `untyped` in the text format, `unknown` in Prometheus metadata.
    Untyped,
}

impl MetricKind {
    /// Text format, Prometheus metadata and Pushgateway spellings alike.
    pub fn parse(text: &str) -> Option<MetricKind> {
        match text.to_ascii_lowercase().as_str() {
            "counter" => Some(MetricKind::Counter),
            "gauge" => Some(MetricKind::Gauge),
            "histogram" | "gaugehistogram" => Some(MetricKind::Histogram),
            "summary" => Some(MetricKind::Summary),
            "untyped" | "unknown" => Some(MetricKind::Untyped),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::Summary => "summary",
            MetricKind::Untyped => "untyped",
        }
    }
}

/// One entry of `/api/v1/metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub unit: String,
}

/// RFC 3339 (`2026-11-25T07:31:34.977607386Z`, `…+01:00`) to unix seconds, without a date
/// library. Returns `None` for anything it does not understand.
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if bytes.len() < 20
        || bytes.get(4) != Some(&b'-')
        || bytes.get(7) != Some(&b'-')
        || !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut index = 19;
    let mut fraction = 0.0;
    if bytes.get(index) == Some(&b'.') {
        let digits = bytes
            .get(index + 1..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        fraction = text.get(index..index + 1 + digits)?.parse::<f64>().ok()?;
        index += 1 + digits;
    }
    let offset_seconds = match bytes.get(index)? {
        b'Z' | b'z' if index + 1 == bytes.len() => 0,
        sign @ (b'+' | b'-') if index + 6 == bytes.len() => {
            let hours = number(index + 1..index + 3)?;
            let minutes = number(index + 4..index + 6)?;
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds as f64 + fraction)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_arrive_as_strings() {
        let point: SamplePoint = serde_json::from_str(r#"[1795591903.702,"39"]"#).unwrap();
        assert_eq!(point.value, 39.0);
        assert_eq!(point.timestamp, 1795591903.702);
        let inf: SamplePoint = serde_json::from_str(r#"[1,"+Inf"]"#).unwrap();
        assert_eq!(inf.value, f64::INFINITY);
        let nan: SamplePoint = serde_json::from_str(r#"[1,"NaN"]"#).unwrap();
        assert!(nan.value.is_nan());
        assert!(serde_json::from_str::<SamplePoint>(r#"[1,"forty"]"#).is_err());
    }

    #[test]
    fn rfc3339_times_as_prometheus_writes_them() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        let t = parse_rfc3339("2026-11-25T07:31:34.5Z").unwrap();
        assert_eq!(t, 1795591894.5);
        assert_eq!(parse_rfc3339("2026-11-25T08:31:34.5+01:00"), Some(t));
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z").map(|s| s < 0.0), Some(true));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
