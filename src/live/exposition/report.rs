//! What a check of a `/metrics` page finds: every issue with its line and column, the samples
//! and families parsed, and the report of one fetch.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use crate::live::model::MetricKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks the format: Prometheus or the client parsers reject it.
    Error,
    /// Accepted, but probably not what the author meant.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExpositionIssue {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte span in the whole text.
    pub span: Range<usize>,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for ExpositionIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {severity}: {}", self.line, self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpositionSample {
    pub name: String,
    /// In the order written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// The family this sample belongs to (`x` for `x_bucket` of histogram `x`).
    pub family: String,
    pub line: usize,
}

impl ExpositionSample {
    /// `name{a="1",b="2"}` with labels sorted: the identity of the series.
    pub fn series_key(&self) -> String {
        let mut labels: Vec<&(String, String)> = self.labels.iter().collect();
        labels.sort();
        let body: Vec<String> = labels
            .iter()
            .map(|(name, value)| format!("{name}=\"{}\"", escape_label_value(value)))
            .collect();
        if body.is_empty() {
            self.name.clone()
        } else {
            format!("{}{{{}}}", self.name, body.join(","))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Family {
    pub name: String,
    pub kind: MetricKind,
    /// Whether a `# TYPE` line declared the kind (untyped otherwise).
    pub declared: bool,
    pub help: Option<String>,
    /// Line of its first TYPE, HELP or sample line.
    pub first_line: usize,
    pub samples: usize,
    /// Distinct series (name + label set), `_bucket`/`_sum`/`_count` included.
    pub series: usize,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Exposition {
    pub families: Vec<Family>,
    pub samples: Vec<ExpositionSample>,
    pub issues: Vec<ExpositionIssue>,
}

impl Exposition {
    pub fn errors(&self) -> impl Iterator<Item = &ExpositionIssue> {
        self.issues.iter().filter(|issue| issue.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum CounterNamingProblem {
    /// A counter family whose name does not end in `_total`.
    MissingTotalSuffix,
    /// `# TYPE x counter` with samples named `x_total`: OpenMetrics naming served as text
    /// format, so Prometheus stores `x_total` without a type.
    OpenMetricsTypeLine { sample_name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CounterNaming {
    pub family: String,
    pub line: usize,
    pub problem: CounterNamingProblem,
}

impl CounterNaming {
    pub fn message(&self) -> String {
        match &self.problem {
            CounterNamingProblem::MissingTotalSuffix => format!(
                "counter {} is not named ..._total: client_golang, the Python client and \
                 OpenMetrics name counter samples ..._total; prom-client (Node.js) does not \
                 enforce it. rate() works either way, but rules and dashboards written for \
                 the convention will not find it",
                self.family
            ),
            CounterNamingProblem::OpenMetricsTypeLine { sample_name } => format!(
                "# TYPE names counter {} but its samples are {sample_name} (OpenMetrics \
                 naming in the text format): Prometheus stores {sample_name} without a type; \
                 name the TYPE line {sample_name} or serve OpenMetrics with its content type",
                self.family
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateSeries {
    /// `name{labels}` as in [`ExpositionSample::series_key`].
    pub series: String,
    pub lines: Vec<usize>,
}

/// Everything a text says about itself, without any I/O.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ExpositionAnalysis {
    pub exposition: Exposition,
    pub counters_without_total: Vec<CounterNaming>,
    /// Prometheus keeps the first and counts the rest as
    /// `prometheus_target_scrapes_sample_duplicate_timestamp_total`.
    pub duplicate_series: Vec<DuplicateSeries>,
}

impl ExpositionAnalysis {
    pub fn is_valid(&self) -> bool {
        self.exposition.errors().next().is_none()
    }
}

/// The result of fetching and checking one `/metrics` endpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpositionReport {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub response_time: Duration,
    pub size_bytes: usize,
    pub analysis: ExpositionAnalysis,
    /// Things about the response itself (content type, encoding).
    pub notes: Vec<String>,
}

/// A label value as the text format writes it between quotes.
pub(crate) fn escape_label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
