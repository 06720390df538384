//! Dual-run comparison: the pushed series (via Pushgateway) against their scraped twins, and
//! the "gone" check after the gateway is removed.
//!
//! Labels follow docs/label-facts.md (honor_labels): with `honor_labels: true` pushed series carry the
//! pushed `job`/`instance` (no `instance` at all when pushed without one); with
//! `honor_labels: false` they carry the gateway's `job`/`instance` plus `exported_job` /
//! `exported_instance`. When the pushed job equals the scrape job only `instance` separates
//! the two sources. A series is paired with its twin by every label except those.
//!
//! Counters are compared by `rate()` over a window (push and scrape happen at different
//! moments, so raw values differ by a few increments); gauges by value. Both with a relative
//! tolerance. `push_time_seconds` age is reported because pushed series look fresh even when
//! the pusher is dead (docs/label-facts.md, push_time_seconds).
//!
//! Everything here except [`compare_dual_run`] and [`check_gone`] is pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::LiveError;
use super::model::{InstantSeries, Labels, MetricKind, QueryResult, Target};
use super::prometheus::PrometheusClient;

/// Labels that say where a series came from rather than what it measures.
pub const SOURCE_LABELS: [&str; 4] = ["job", "instance", "exported_job", "exported_instance"];

/// Series Prometheus adds for every scrape target; nothing is pushed for them.
pub const SCRAPE_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Series Pushgateway adds for every group; the app never serves them.
pub const PUSH_SERIES: [&str; 2] = ["push_time_seconds", "push_failure_time_seconds"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

impl Matcher {
    pub fn equal(label: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            label: label.into(),
            op: MatchOp::Equal,
            value: value.into(),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{op}{}", self.label, promql_string(&self.value))
    }
}

/// A PromQL double-quoted string literal.
pub fn promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// `name{matchers}`, or `{__name__="name", matchers}` when the name is not a plain
/// identifier.
pub fn selector(metric: Option<&str>, matchers: &[Matcher]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut prefix = String::new();
    if let Some(name) = metric {
        if is_plain_metric_name(name) {
            prefix = name.to_string();
        } else {
            parts.push(Matcher::equal("__name__", name).to_string());
        }
    }
    parts.extend(matchers.iter().map(ToString::to_string));
    format!("{prefix}{{{}}}", parts.join(", "))
}

fn is_plain_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// How Prometheus scrapes the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSource {
    /// The `job_name` of the scrape job that scrapes Pushgateway.
    pub gateway_job: String,
    pub honor_labels: bool,
}

/// One pushed group, as in `/metrics/job/<job>[/instance/<instance>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedGroupRef {
    pub job: String,
    /// `None` for a group pushed without an instance.
    pub instance: Option<String>,
}

impl PushSource {
    /// Matchers that select exactly the series pushed in `group`.
    pub fn pushed_matchers(&self, group: &PushedGroupRef) -> Vec<Matcher> {
        // `label=""` also matches a missing label, which is how a push without an instance
        // arrives (docs/label-facts.md, honor_labels).
        let instance = group.instance.clone().unwrap_or_default();
        if self.honor_labels {
            vec![Matcher::equal("job", &group.job), Matcher::equal("instance", instance)]
        } else {
            vec![
                Matcher::equal("job", &self.gateway_job),
                Matcher::equal("exported_job", &group.job),
                Matcher::equal("exported_instance", instance),
            ]
        }
    }
}

/// The scrape target that replaces a pushed group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeTargetRef {
    pub job: String,
    /// The target's `instance` label, usually `host:port`.
    pub instance: String,
}

impl ScrapeTargetRef {
    pub fn matchers(&self) -> Vec<Matcher> {
        vec![
            Matcher::equal("job", &self.job),
            Matcher::equal("instance", &self.instance),
        ]
    }
}

/// One pushed group and the scrape target that should serve the same series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DualRunSpec {
    pub source: PushSource,
    pub pushed: PushedGroupRef,
    pub scraped: ScrapeTargetRef,
    /// More labels to leave out of pairing, e.g. extra grouping labels of the push URL.
    pub ignore_labels: Vec<String>,
}

impl DualRunSpec {
    pub fn pushed_matchers(&self) -> Vec<Matcher> {
        self.source.pushed_matchers(&self.pushed)
    }

    pub fn scraped_matchers(&self) -> Vec<Matcher> {
        self.scraped.matchers()
    }

    /// Refuses settings under which pushed and scraped series cannot be told apart.
    pub fn validate(&self) -> Result<(), LiveError> {
        let pushed_instance = self.pushed.instance.as_deref().unwrap_or("");
        let same_labels = if self.source.honor_labels {
            self.pushed.job == self.scraped.job && pushed_instance == self.scraped.instance
        } else {
            self.source.gateway_job == self.scraped.job
        };
        if same_labels {
            return Err(LiveError::Spec(format!(
                "pushed and scraped series both carry job={} instance={}, so they cannot be \
                 compared: push with another instance label or scrape the app under another \
                 job name",
                promql_string(&self.scraped.job),
                promql_string(&self.scraped.instance)
            )));
        }
        Ok(())
    }

    /// Seconds since the group's last successful push, per the gateway's own gauge.
    pub fn push_age_query(&self) -> String {
        format!(
            "time() - {}",
            selector(Some("push_time_seconds"), &self.pushed_matchers())
        )
    }

    fn is_pairing_label(&self, label: &str) -> bool {
        !SOURCE_LABELS.contains(&label) && !self.ignore_labels.iter().any(|l| l == label)
    }

    /// `name{labels that identify the measurement}`: equal for a pushed series and its
    /// scraped twin.
    pub fn pairing_key(&self, labels: &Labels) -> String {
        let name = labels.get("__name__").map_or("", String::as_str);
        let body: Vec<String> = labels
            .iter()
            .filter(|(label, _)| *label != "__name__" && self.is_pairing_label(label))
            .map(|(label, value)| format!("{label}={}", promql_string(value)))
            .collect();
        format!("{name}{{{}}}", body.join(","))
    }
}

/// Within tolerance when `|a-b| <= absolute` or `|a-b| / max(|a|,|b|) <= relative`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub relative: f64,
    pub absolute: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            relative: 0.05,
            absolute: 1e-9,
        }
    }
}

impl Tolerance {
    pub fn accepts(&self, a: f64, b: f64) -> bool {
        let difference = relative_difference(a, b);
        (a - b).abs() <= self.absolute || difference <= self.relative
    }
}

/// `|a-b| / max(|a|,|b|)`: 0 for equal values (both NaN included), infinite when only one is
/// NaN.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    if a.is_nan() && b.is_nan() {
        return 0.0;
    }
    if a.is_nan() || b.is_nan() {
        return f64::INFINITY;
    }
    if a == b {
        return 0.0;
    }
    let scale = a.abs().max(b.abs());
    if scale.is_infinite() {
        return f64::INFINITY;
    }
    (a - b).abs() / scale
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompareSettings {
    /// `rate()` window; at least four times the longer of scrape and push interval. Both
    /// sources need samples from before the window start: a series that begins inside the
    /// window is extrapolated differently (measured: 14% off with a 6 s window), so run the
    /// comparison only once the new scrape job is older than the window.
    pub window: Duration,
    pub tolerance: Tolerance,
    /// A group whose last push is older than this counts as dead.
    pub max_push_age: Duration,
    pub concurrency: usize,
    /// How far apart in time the two copies may be read: the push lag plus the app's scrape
    /// interval (see [`TimingNoise`]). `None` when unknown: then every rate is judged by the
    /// tolerance alone.
    pub sampling_offset: Option<Duration>,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            window: Duration::from_secs(300),
            tolerance: Tolerance::default(),
            max_push_age: Duration::from_secs(120),
            concurrency: 8,
            sampling_offset: None,
        }
    }
}

/// How many events a counter series counted in the window on each side, and how much one
/// event adds to it: 1 for a count (`_total` with whole values, `_count`, `_bucket`), the mean
/// observation for a histogram's or summary's `_sum` (its events are its `_count`'s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventCounts {
    pub old: f64,
    pub new: f64,
    pub size: f64,
    /// What was counted: `events`, `observations` (a `_sum`'s) or `increments`.
    pub what: &'static str,
}

/// The difference in a counter's rate that the timing of push and scrape alone explains when it
/// counts few events (docs/verify.md, "Too few events to judge").
///
/// The pushed and the scraped copy read the same counter, but up to `offset` apart, so their
/// windows cover the same events except those in strips of at most `offset` at either end.
/// With events arriving at random (rate λ), the events in those strips are Poisson counts, and
/// the difference between the two sides' counts has a variance of at most λ·2·offset =
/// (a+b)·offset/window. A difference within three standard deviations of that, plus the one
/// event that can always fall between two samples, is timing, not divergence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingNoise {
    pub window: Duration,
    /// How far apart the two copies may be read; an offset longer than the window counts as
    /// the window (the bound is then `1 + 3·sqrt(a+b)`).
    pub offset: Duration,
}

impl TimingNoise {
    /// The largest difference between event counts `a` and `b` that timing explains.
    pub fn allowed_difference(&self, a: f64, b: f64) -> f64 {
        let window = self.window.as_secs_f64();
        let share = if window > 0.0 {
            (self.offset.as_secs_f64() / window).min(1.0)
        } else {
            1.0
        };
        1.0 + 3.0 * ((a.max(0.0) + b.max(0.0)) * share).sqrt()
    }

    /// Whether rates `rate_old` and `rate_new` (per second, over the window) differ by no more
    /// than timing explains for `events`.
    pub fn explains(&self, rate_old: f64, rate_new: f64, events: EventCounts) -> bool {
        if !(rate_old.is_finite() && rate_new.is_finite() && events.size.is_finite() && events.size > 0.0) {
            return false;
        }
        let difference = (rate_old - rate_new).abs() * self.window.as_secs_f64() / events.size;
        difference <= self.allowed_difference(events.old, events.new)
    }
}

/// How a metric is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComparedBy {
    /// `rate()` over the window: counters, histogram buckets/sums/counts, summary sums/counts.
    Rate,
    /// The value at the evaluation time: gauges, untyped, summary quantiles.
    Value,
    /// Only that the series is there on both sides: gauges a client library's runtime
    /// collector reads from the process at the moment it is asked (heap, open handles,
    /// event-loop lag, threads). A push and a scrape ask at different moments, and a scrape
    /// is itself an open handle, so their values differ without anything being wrong.
    Presence,
}

/// Prefixes of the runtime collectors' metrics in the common clients (prom-client's
/// `collectDefaultMetrics`, client_golang's Go and process collectors, prometheus_client's
/// platform, process and GC collectors, the Java clients' JVM metrics); see docs/verify.md.
const RUNTIME_PREFIXES: [&str; 6] = ["process_", "nodejs_", "go_", "python_", "jvm_", "dotnet_"];

/// Whether `metric` comes from a client library's runtime collector (by its name).
fn is_runtime_metric(metric: &str) -> bool {
    RUNTIME_PREFIXES.iter().any(|prefix| metric.starts_with(prefix))
}

/// Whether every series `query` selects is a runtime collector's gauge (by name: a runtime
/// prefix, no counter-like suffix), so that a rewritten query over them is judged, like
/// dual-run judges those gauges, by the series being there on both sides: its values differ
/// between two reads of the process by nature. A query that does not parse, or selects a
/// series without a literal name, is not.
pub fn reads_only_runtime_gauges(query: &str) -> bool {
    let Ok(selectors) = crate::promql::selectors(query) else {
        return false;
    };
    !selectors.is_empty()
        && selectors.iter().all(|selector| {
            selector
                .metric
                .as_deref()
                .is_some_and(|metric| compared_by(metric, &BTreeMap::new()) == ComparedBy::Presence)
        })
}

/// Counter-like series are compared by rate. `kinds` maps metric family names to their
/// metadata type (Prometheus `/api/v1/metadata`); without an entry, the name decides.
pub fn compared_by(metric: &str, kinds: &BTreeMap<String, MetricKind>) -> ComparedBy {
    match by_kind_or_name(metric, kinds) {
        ComparedBy::Value if is_runtime_metric(metric) => ComparedBy::Presence,
        by => by,
    }
}

fn by_kind_or_name(metric: &str, kinds: &BTreeMap<String, MetricKind>) -> ComparedBy {
    match kinds.get(metric) {
        Some(MetricKind::Counter) => return ComparedBy::Rate,
        Some(MetricKind::Gauge | MetricKind::Untyped) => return ComparedBy::Value,
        Some(MetricKind::Histogram | MetricKind::Summary) => {
            // The family name itself: summary quantiles are gauges.
            return ComparedBy::Value;
        }
        None => {}
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = metric.strip_suffix(suffix) {
            match kinds.get(base) {
                Some(MetricKind::Histogram) => return ComparedBy::Rate,
                Some(MetricKind::Summary) if suffix != "_bucket" => return ComparedBy::Rate,
                _ => {}
            }
        }
    }
    if ["_total", "_bucket", "_count", "_sum"]
        .iter()
        .any(|suffix| metric.ends_with(suffix))
    {
        ComparedBy::Rate
    } else {
        ComparedBy::Value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every pushed series has a scraped twin within tolerance.
    Match,
    /// Some pair differs beyond tolerance.
    Differs,
    /// Some pushed series has no scraped twin: dashboards would lose it.
    MissingOnNew,
    /// Served by the app but never pushed (e.g. default process metrics): fine.
    OnlyOnNew,
    /// A side has too few samples in the window to compute a rate.
    Inconclusive,
    /// Rates differ beyond the tolerance, but by no more than the timing of push and scrape
    /// explains for the few events counted ([`TimingNoise`]): neither agreement nor divergence.
    TooFewEvents,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::Differs => "differs",
            Verdict::MissingOnNew => "missing on new",
            Verdict::OnlyOnNew => "only on new",
            Verdict::Inconclusive => "inconclusive",
            Verdict::TooFewEvents => "too few events",
        }
    }

    /// Whether the gate may open on this verdict. Too few events to judge is not evidence of
    /// divergence; the check says so (docs/verify.md).
    pub fn passes(self) -> bool {
        matches!(self, Verdict::Match | Verdict::OnlyOnNew | Verdict::TooFewEvents)
    }
}

/// One pushed/scraped pair (or a series without twin).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesComparison {
    pub key: String,
    /// The rate or value on each side; `None` when the side has no such series (or too few
    /// samples for a rate).
    pub old: Option<f64>,
    pub new: Option<f64>,
    pub relative_difference: Option<f64>,
    pub within_tolerance: bool,
    /// Events counted in the window on each side, and the difference timing explains, when
    /// the difference was judged by them ([`Verdict::TooFewEvents`] or a difference beyond them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<EventJudgement>,
}

/// How a rate difference beyond the tolerance was weighed against the events counted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EventJudgement {
    /// `events`, `observations` or `increments` ([`EventCounts::what`]).
    pub what: &'static str,
    pub old: f64,
    pub new: f64,
    /// The difference in events the rates amount to.
    pub difference: f64,
    /// The most that timing explains.
    pub allowed: f64,
}

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricComparison {
    pub metric: String,
    pub compared_by: ComparedBy,
    /// Series of this metric on the pushed side (old) and the scraped side (new).
    pub series_old: usize,
    pub series_new: usize,
    pub missing_on_new: Vec<String>,
    pub only_on_new: Vec<String>,
    pub max_relative_difference: Option<f64>,
    pub worst_series: Option<String>,
    /// Counter resets within the window, summed over the series (rate comparisons only).
    pub resets_old: u64,
    pub resets_new: u64,
    pub verdict: Verdict,
    pub series: Vec<SeriesComparison>,
}

/// The values one side holds for one metric, keyed for pairing.
pub type SideValues = BTreeMap<String, f64>;

/// One side of one metric: which series exist at all, and the rates or values that could be
/// computed for them (a rate needs two samples in the window).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Side {
    pub present: BTreeSet<String>,
    pub values: SideValues,
    /// Counter resets in the window, summed over the series.
    pub resets: u64,
}

/// Compares one metric, old (pushed) against new (scraped), by the tolerance alone.
pub fn compare_metric(
    metric: &str,
    compared_by: ComparedBy,
    old_side: &Side,
    new_side: &Side,
    tolerance: Tolerance,
) -> MetricComparison {
    let noise = TimingNoise {
        window: Duration::ZERO,
        offset: Duration::ZERO,
    };
    compare_metric_counting(
        metric,
        compared_by,
        old_side,
        new_side,
        tolerance,
        &noise,
        &BTreeMap::new(),
    )
}

/// Compares one metric, old (pushed) against new (scraped). A rate pair beyond the tolerance
/// whose `events` (keyed like the sides) are few enough that `noise` explains the difference
/// is [`Verdict::TooFewEvents`], not [`Verdict::Differs`].
pub fn compare_metric_counting(
    metric: &str,
    compared_by: ComparedBy,
    old_side: &Side,
    new_side: &Side,
    tolerance: Tolerance,
    noise: &TimingNoise,
    events: &BTreeMap<String, EventCounts>,
) -> MetricComparison {
    let (old_present, new_present) = (&old_side.present, &new_side.present);
    let (old, new) = (&old_side.values, &new_side.values);
    let mut series = Vec::new();
    let mut missing_on_new = Vec::new();
    let mut only_on_new = Vec::new();
    let mut inconclusive = false;
    let mut differs = false;
    let mut too_few_events = false;
    let mut worst: Option<(f64, String)> = None;
    for key in old_present.union(new_present) {
        let (in_old, in_new) = (old_present.contains(key), new_present.contains(key));
        if in_old && !in_new {
            missing_on_new.push(key.clone());
        }
        if in_new && !in_old {
            only_on_new.push(key.clone());
        }
        let (old_value, new_value) = (old.get(key).copied(), new.get(key).copied());
        let mut judgement = None;
        let (difference, within) = match (old_value, new_value) {
            (Some(a), Some(b)) if compared_by == ComparedBy::Presence => (Some(relative_difference(a, b)), true),
            (Some(a), Some(b)) => {
                let difference = relative_difference(a, b);
                let within = tolerance.accepts(a, b);
                if !within {
                    let counted = events.get(key).filter(|_| compared_by == ComparedBy::Rate);
                    judgement = counted.map(|counts| EventJudgement {
                        what: counts.what,
                        old: counts.old,
                        new: counts.new,
                        difference: (a - b).abs() * noise.window.as_secs_f64() / counts.size,
                        allowed: noise.allowed_difference(counts.old, counts.new),
                    });
                    if counted.is_some_and(|counts| noise.explains(a, b, *counts)) {
                        too_few_events = true;
                    } else {
                        differs = true;
                    }
                }
                if worst.as_ref().is_none_or(|(d, _)| difference > *d) {
                    worst = Some((difference, key.clone()));
                }
                (Some(difference), within)
            }
            _ => {
                if in_old && in_new {
                    inconclusive = true;
                }
                (None, false)
            }
        };
        series.push(SeriesComparison {
            key: key.clone(),
            old: old_value,
            new: new_value,
            relative_difference: difference,
            within_tolerance: within,
            events: judgement,
        });
    }
    let verdict = if !missing_on_new.is_empty() {
        Verdict::MissingOnNew
    } else if differs {
        Verdict::Differs
    } else if inconclusive {
        Verdict::Inconclusive
    } else if too_few_events {
        Verdict::TooFewEvents
    } else if old_present.is_empty() && !new_present.is_empty() {
        Verdict::OnlyOnNew
    } else {
        Verdict::Match
    };
    MetricComparison {
        metric: metric.to_string(),
        compared_by,
        series_old: old_present.len(),
        series_new: new_present.len(),
        missing_on_new,
        only_on_new,
        max_relative_difference: worst.as_ref().map(|(d, _)| *d),
        worst_series: worst.map(|(_, key)| key),
        resets_old: old_side.resets,
        resets_new: new_side.resets,
        verdict,
        series,
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DualRunReport {
    pub pushed_selector: String,
    pub scraped_selector: String,
    pub window: Duration,
    pub relative_tolerance: f64,
    /// Evaluation time of every query, unix seconds.
    pub evaluated_at: f64,
    pub metrics: Vec<MetricComparison>,
    /// Seconds since the group's last push; `None` when Prometheus has no
    /// `push_time_seconds` for it.
    pub push_age_seconds: Option<f64>,
    pub max_push_age: Duration,
}

impl DualRunReport {
    pub fn push_is_stale(&self) -> bool {
        self.push_age_seconds
            .is_none_or(|age| age > self.max_push_age.as_secs_f64())
    }

    pub fn passed(&self) -> bool {
        !self.push_is_stale() && !self.metrics.is_empty() && self.metrics.iter().all(|metric| metric.verdict.passes())
    }

    pub fn failing_metrics(&self) -> impl Iterator<Item = &MetricComparison> {
        self.metrics.iter().filter(|metric| !metric.verdict.passes())
    }
}

impl fmt::Display for DualRunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "old: {}", self.pushed_selector)?;
        writeln!(f, "new: {}", self.scraped_selector)?;
        let width = self
            .metrics
            .iter()
            .map(|m| m.metric.len())
            .max()
            .unwrap_or(0)
            .max("metric".len());
        writeln!(
            f,
            "{:<width$}  {:>3}  {:>3}  {:>9}  by     verdict",
            "metric", "old", "new", "max diff"
        )?;
        for metric in &self.metrics {
            let difference = metric
                .max_relative_difference
                .map_or("-".to_string(), |d| format!("{:.1}%", d * 100.0));
            let by = match metric.compared_by {
                ComparedBy::Rate => "rate ",
                ComparedBy::Value => "value",
                ComparedBy::Presence => "presence",
            };
            writeln!(
                f,
                "{:<width$}  {:>3}  {:>3}  {:>9}  {by}  {}",
                metric.metric,
                metric.series_old,
                metric.series_new,
                difference,
                metric.verdict.as_str()
            )?;
        }
        match self.push_age_seconds {
            Some(age) => write!(f, "last push {age:.1}s ago")?,
            None => write!(f, "no push_time_seconds for this group")?,
        }
        if self.push_is_stale() {
            write!(
                f,
                " (older than {}s: the pusher looks dead)",
                self.max_push_age.as_secs()
            )?;
        }
        Ok(())
    }
}

/// The PromQL the comparison of one metric needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQueries {
    pub rate_old: String,
    pub rate_new: String,
    pub resets_old: String,
    pub resets_new: String,
    /// How often each side's value changed in the window: its number of increments.
    pub changes_old: String,
    pub changes_new: String,
}

pub fn metric_queries(spec: &DualRunSpec, metric: &str, window: Duration) -> MetricQueries {
    let range = format!("[{}ms]", window.as_millis().max(1));
    let old = selector(Some(metric), &spec.pushed_matchers());
    let new = selector(Some(metric), &spec.scraped_matchers());
    MetricQueries {
        rate_old: format!("rate({old}{range})"),
        rate_new: format!("rate({new}{range})"),
        resets_old: format!("resets({old}{range})"),
        resets_new: format!("resets({new}{range})"),
        changes_old: format!("changes({old}{range})"),
        changes_new: format!("changes({new}{range})"),
    }
}

/// Series of one side grouped by metric name: name → pairing key → value.
pub fn group_by_metric(spec: &DualRunSpec, series: &[InstantSeries], skip: &[&str]) -> BTreeMap<String, SideValues> {
    let mut grouped: BTreeMap<String, SideValues> = BTreeMap::new();
    for item in series {
        let Some(name) = item.metric.get("__name__") else {
            continue;
        };
        if skip.contains(&name.as_str()) {
            continue;
        }
        grouped
            .entry(name.clone())
            .or_default()
            .insert(spec.pairing_key(&item.metric), item.sample.value);
    }
    grouped
}

/// Results of a function over one metric (`rate`, `resets`) drop `__name__`; key them as if
/// it were still there.
pub fn keyed_values(spec: &DualRunSpec, metric: &str, series: &[InstantSeries]) -> SideValues {
    series
        .iter()
        .map(|item| {
            let mut labels = item.metric.clone();
            labels.insert("__name__".into(), metric.to_string());
            (spec.pairing_key(&labels), item.sample.value)
        })
        .collect()
}

/// The rates of each counter-like metric: name → (pushed, scraped), keyed for pairing.
pub type RateValues = BTreeMap<String, (SideValues, SideValues)>;

/// The events each series of the counter `metric` counted in the window, where its values say
/// what an event is: a `_bucket` or `_count` counts observations, a `_total` with whole values
/// on both sides counts events (an integer counter that adds more than 1 at a time only looks
/// like more events, so the bound stays strict), and a `_sum` has its `_count`'s events, each
/// adding the mean observation. A runtime collector's other counters (`process_cpu_seconds_total`:
/// read from the process at the moment it is asked, like its gauges) count their increments,
/// `changes` over the window on each side, each the mean increment of the side that changes
/// less often. An app's own counter that does not count whole events is judged by the
/// tolerance alone: a steady counter's increments are no random events, and a doubled one
/// would hide among few of them. `raw` are the counter values at the evaluation time, `rates`
/// every rate compared.
pub fn event_counts(
    metric: &str,
    rates: &RateValues,
    changes: Option<&(SideValues, SideValues)>,
    raw: (&SideValues, &SideValues),
    window: Duration,
) -> BTreeMap<String, EventCounts> {
    let seconds = window.as_secs_f64();
    let Some((rate_old, rate_new)) = rates.get(metric) else {
        return BTreeMap::new();
    };
    let whole = |value: Option<&f64>| value.is_some_and(|v| v.is_finite() && v.fract() == 0.0);
    let counts_observations = metric.ends_with("_bucket") || metric.ends_with("_count");
    let mut counts = BTreeMap::new();
    for (key, old) in rate_old {
        let Some(new) = rate_new.get(key) else { continue };
        let counted = if let Some(base) = metric.strip_suffix("_sum") {
            let count_metric = format!("{base}_count");
            let count_key = key.strip_prefix(metric).map(|labels| format!("{count_metric}{labels}"));
            let count_rates = rates
                .get(&count_metric)
                .zip(count_key)
                .and_then(|((o, n), k)| Some((*o.get(&k)?, *n.get(&k)?)));
            let buckets = rates.get(&format!("{base}_bucket"));
            count_rates.and_then(|(count_old, count_new)| {
                let events = (count_old + count_new) * seconds;
                // A histogram's buckets bound each observation; a summary has only the mean.
                let size = match buckets {
                    Some(buckets) => largest_observation(key.strip_prefix(metric)?, buckets, (count_old, count_new))?,
                    None => (old + new) * seconds / events,
                };
                (events > 0.0).then_some(EventCounts {
                    old: count_old * seconds,
                    new: count_new * seconds,
                    size,
                    what: "observations",
                })
            })
        } else if counts_observations || (whole(raw.0.get(key)) && whole(raw.1.get(key))) {
            Some(EventCounts {
                old: old * seconds,
                new: new * seconds,
                size: 1.0,
                what: "events",
            })
        } else if is_runtime_metric(metric) {
            changes
                .and_then(|(o, n)| Some((*o.get(key)?, *n.get(key)?)))
                .filter(|(changes_old, changes_new)| *changes_old > 0.0 && *changes_new > 0.0)
                .map(|(changes_old, changes_new)| {
                    let size = (old * seconds / changes_old).max(new * seconds / changes_new);
                    EventCounts {
                        old: old * seconds / size,
                        new: new * seconds / size,
                        size,
                        what: "increments",
                    }
                })
        } else {
            None
        };
        if let Some(counted) = counted.filter(|c| c.size.is_finite() && c.size > 0.0) {
            counts.insert(key.clone(), counted);
        }
    }
    counts
}

/// How large an observation of a histogram series (`labels`, as in its `_sum`'s key) in the
/// window was, at most, in the root-mean-square sense that the noise of a sum goes by: each
/// observation counted as its bucket's upper bound `le`, on the side where that is larger.
/// `None` when some fell above the highest finite bound: then nothing bounds them.
fn largest_observation(labels: &str, buckets: &(SideValues, SideValues), count_rates: (f64, f64)) -> Option<f64> {
    let mut largest: f64 = 0.0;
    for (side, count) in [(&buckets.0, count_rates.0), (&buckets.1, count_rates.1)] {
        let mut cumulative: Vec<(f64, f64)> = side
            .iter()
            .filter_map(|(key, rate)| {
                let (le, rest) = without_label(key.split_once('{')?.1.strip_suffix('}')?, "le")?;
                (format!("{{{rest}}}") == labels).then_some((le.parse::<f64>().ok()?, *rate))
            })
            .collect();
        cumulative.sort_by(|a, b| a.0.total_cmp(&b.0));
        if count <= 0.0 || cumulative.is_empty() {
            continue;
        }
        let (mut below, mut squares) = (0.0, 0.0);
        for (le, rate) in cumulative {
            let in_bucket = (rate - below).max(0.0);
            if in_bucket > count * 1e-6 {
                if !le.is_finite() {
                    return None;
                }
                squares += in_bucket * le * le;
            }
            below = below.max(rate);
        }
        if below < count * (1.0 - 1e-6) {
            return None;
        }
        largest = largest.max((squares / count).sqrt());
    }
    (largest.is_finite() && largest > 0.0).then_some(largest)
}

/// `label`'s value and the other labels, from the body of a pairing key (`a="1",le="0.5"`).
fn without_label<'a>(body: &'a str, label: &str) -> Option<(String, String)> {
    let mut value = None;
    let mut rest: Vec<&'a str> = Vec::new();
    let mut start = 0;
    let mut in_string = false;
    let mut escaped = false;
    let bytes = body.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b',' if !in_string => {
                rest.push(body.get(start..i)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        rest.push(body.get(start..)?);
    }
    rest.retain(
        |pair| match pair.strip_prefix(label).and_then(|p| p.strip_prefix('=')) {
            Some(quoted) => {
                value = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .map(str::to_string);
                false
            }
            None => true,
        },
    );
    Some((value?, rest.join(",")))
}

/// Runs the comparison for one pushed group against its scrape target.
pub async fn compare_dual_run(
    client: &PrometheusClient,
    spec: &DualRunSpec,
    settings: &CompareSettings,
) -> Result<DualRunReport, LiveError> {
    spec.validate()?;
    let at = SystemTime::now();
    let pushed_selector = selector(None, &spec.pushed_matchers());
    let scraped_selector = selector(None, &spec.scraped_matchers());

    let mut inventory = client
        .query_many(
            [pushed_selector.clone(), scraped_selector.clone(), spec.push_age_query()],
            Some(at),
            settings.concurrency,
        )
        .await
        .into_iter();
    let old_series = next_vector(&mut inventory)?;
    let new_series = next_vector(&mut inventory)?;
    let push_age = next_vector(&mut inventory)?.first().map(|series| series.sample.value);

    let old_by_metric = group_by_metric(spec, &old_series, &PUSH_SERIES);
    let new_by_metric = group_by_metric(spec, &new_series, &SCRAPE_SERIES);
    let metric_names: BTreeSet<&String> = old_by_metric.keys().chain(new_by_metric.keys()).collect();

    let kinds = metric_kinds(client).await?;
    let rate_metrics: Vec<&String> = metric_names
        .iter()
        .copied()
        .filter(|name| compared_by(name, &kinds) == ComparedBy::Rate)
        .collect();
    let queries: Vec<String> = rate_metrics
        .iter()
        .flat_map(|name| {
            let q = metric_queries(spec, name, settings.window);
            [
                q.rate_old,
                q.rate_new,
                q.resets_old,
                q.resets_new,
                q.changes_old,
                q.changes_new,
            ]
        })
        .collect();
    let mut rate_results = client
        .query_many(queries, Some(at), settings.concurrency)
        .await
        .into_iter();
    let mut rates: BTreeMap<&String, [Vec<InstantSeries>; 6]> = BTreeMap::new();
    for name in &rate_metrics {
        rates.insert(
            name,
            [
                next_vector(&mut rate_results)?,
                next_vector(&mut rate_results)?,
                next_vector(&mut rate_results)?,
                next_vector(&mut rate_results)?,
                next_vector(&mut rate_results)?,
                next_vector(&mut rate_results)?,
            ],
        );
    }

    let empty = SideValues::new();
    let rate_values: RateValues = rates
        .iter()
        .map(|(name, [rate_old, rate_new, ..])| {
            (
                (*name).clone(),
                (keyed_values(spec, name, rate_old), keyed_values(spec, name, rate_new)),
            )
        })
        .collect();
    let change_counts: RateValues = rates
        .iter()
        .map(|(name, [.., changes_old, changes_new])| {
            (
                (*name).clone(),
                (
                    keyed_values(spec, name, changes_old),
                    keyed_values(spec, name, changes_new),
                ),
            )
        })
        .collect();
    // Without the offset nothing says how much timing explains: the tolerance alone judges.
    let noise = TimingNoise {
        window: settings.window,
        offset: settings.sampling_offset.unwrap_or_default(),
    };
    let counts_events = settings.sampling_offset.is_some();
    let metrics = metric_names
        .iter()
        .map(|name| {
            let old_values = old_by_metric.get(*name).unwrap_or(&empty);
            let new_values = new_by_metric.get(*name).unwrap_or(&empty);
            let old_present: BTreeSet<String> = old_values.keys().cloned().collect();
            let new_present: BTreeSet<String> = new_values.keys().cloned().collect();
            match (rates.get(name), rate_values.get(*name)) {
                (Some([_, _, resets_old, resets_new, ..]), Some((rate_old, rate_new))) => compare_metric_counting(
                    name,
                    ComparedBy::Rate,
                    &Side {
                        present: old_present,
                        values: rate_old.clone(),
                        resets: sum_counts(resets_old),
                    },
                    &Side {
                        present: new_present,
                        values: rate_new.clone(),
                        resets: sum_counts(resets_new),
                    },
                    settings.tolerance,
                    &noise,
                    &if counts_events {
                        event_counts(
                            name,
                            &rate_values,
                            change_counts.get(*name),
                            (old_values, new_values),
                            settings.window,
                        )
                    } else {
                        BTreeMap::new()
                    },
                ),
                _ => compare_metric(
                    name,
                    compared_by(name, &kinds),
                    &Side {
                        present: old_present,
                        values: old_values.clone(),
                        resets: 0,
                    },
                    &Side {
                        present: new_present,
                        values: new_values.clone(),
                        resets: 0,
                    },
                    settings.tolerance,
                ),
            }
        })
        .collect();

    Ok(DualRunReport {
        pushed_selector,
        scraped_selector,
        window: settings.window,
        relative_tolerance: settings.tolerance.relative,
        evaluated_at: unix_seconds(at),
        metrics,
        push_age_seconds: push_age,
        max_push_age: settings.max_push_age,
    })
}

async fn metric_kinds(client: &PrometheusClient) -> Result<BTreeMap<String, MetricKind>, LiveError> {
    Ok(client
        .metadata(None)
        .await?
        .into_iter()
        .filter_map(|(name, entries)| {
            // Targets can disagree; the first entry is as good as any, a counter anywhere
            // wins because comparing a counter by value is the worse mistake.
            let kinds: Vec<MetricKind> = entries
                .iter()
                .filter_map(|entry| MetricKind::parse(&entry.kind))
                .collect();
            let kind = if kinds.contains(&MetricKind::Counter) {
                MetricKind::Counter
            } else {
                *kinds.first()?
            };
            Some((name, kind))
        })
        .collect())
}

fn next_vector(
    results: &mut impl Iterator<Item = Result<QueryResult, LiveError>>,
) -> Result<Vec<InstantSeries>, LiveError> {
    match results.next() {
        Some(Ok(result)) => Ok(result.data.as_vector().to_vec()),
        Some(Err(err)) => Err(err),
        None => Err(LiveError::Task {
            expr: "(missing)".into(),
            detail: "fewer results than queries".into(),
        }),
    }
}

fn sum_counts(series: &[InstantSeries]) -> u64 {
    series
        .iter()
        .map(|item| item.sample.value)
        .filter(|value| value.is_finite() && *value > 0.0)
        .map(|value| value.round() as u64)
        .fold(0u64, u64::saturating_add)
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map_or(0.0, |since| since.as_secs_f64())
}

/// What must be true after the gateway is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoneSpec {
    pub source: PushSource,
    pub groups: Vec<PushedGroupRef>,
    /// When the removal went live (the reload). A removed job's series stay queryable for
    /// the 5-minute lookback, so "gone" means no sample newer than this.
    pub since: SystemTime,
}

impl GoneSpec {
    /// Selectors for everything that came through the gateway: its own series and each
    /// pushed group's.
    pub fn selectors(&self) -> Vec<Vec<Matcher>> {
        let mut selectors = vec![vec![Matcher::equal("job", &self.source.gateway_job)]];
        for group in &self.groups {
            let matchers = self.source.pushed_matchers(group);
            if !selectors.contains(&matchers) {
                selectors.push(matchers);
            }
        }
        selectors
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FreshSeries {
    pub metric: String,
    pub labels: Labels,
    /// Unix seconds of its newest sample.
    pub timestamp: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoneReport {
    pub since: f64,
    /// Active targets of the gateway's scrape job.
    pub gateway_targets: Vec<Target>,
    /// Series with a sample newer than `since`.
    pub fresh_series: Vec<FreshSeries>,
    /// Series still returned by queries (older samples inside the lookback window).
    pub lingering_series: u64,
}

impl GoneReport {
    pub fn gone(&self) -> bool {
        self.gateway_targets.is_empty() && self.fresh_series.is_empty()
    }
}

/// `count by (__name__) (selector)`: which metrics still answer, and how many series each.
pub fn gone_inventory_query(matchers: &[Matcher]) -> String {
    format!("count by (__name__) ({})", selector(None, matchers))
}

/// Series of `metric` whose newest sample is newer than `since` (timestamp() reads the
/// sample's own time only for a plain selector).
pub fn gone_fresh_query(metric: &str, matchers: &[Matcher], since: SystemTime) -> String {
    format!(
        "timestamp({}) > {:.3}",
        selector(Some(metric), matchers),
        unix_seconds(since)
    )
}

pub async fn check_gone(
    client: &PrometheusClient,
    spec: &GoneSpec,
    concurrency: usize,
) -> Result<GoneReport, LiveError> {
    let targets = client.targets().await?;
    let gateway_targets: Vec<Target> = targets
        .active
        .into_iter()
        .filter(|target| {
            target.scrape_pool == spec.source.gateway_job || target.job() == Some(spec.source.gateway_job.as_str())
        })
        .collect();

    let at = SystemTime::now();
    let selectors = spec.selectors();
    let inventories = client
        .query_many(selectors.iter().map(|m| gone_inventory_query(m)), Some(at), concurrency)
        .await;
    let mut lingering_series = 0u64;
    let mut fresh_queries: Vec<(String, String)> = Vec::new();
    for (matchers, result) in selectors.iter().zip(inventories) {
        for series in result?.data.as_vector() {
            let Some(name) = series.metric.get("__name__") else {
                continue;
            };
            lingering_series = lingering_series.saturating_add(series.sample.value.max(0.0) as u64);
            fresh_queries.push((name.clone(), gone_fresh_query(name, matchers, spec.since)));
        }
    }
    let fresh_results = client
        .query_many(
            fresh_queries.iter().map(|(_, query)| query.clone()),
            Some(at),
            concurrency,
        )
        .await;
    let mut fresh_series = Vec::new();
    for ((metric, _), result) in fresh_queries.iter().zip(fresh_results) {
        for series in result?.data.as_vector() {
            fresh_series.push(FreshSeries {
                metric: metric.clone(),
                labels: series.metric.clone(),
                timestamp: series.sample.value,
            });
        }
    }
    Ok(GoneReport {
        since: unix_seconds(spec.since),
        gateway_targets,
        fresh_series,
        lingering_series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(honor_labels: bool, pushed_job: &str, scrape_job: &str) -> DualRunSpec {
        DualRunSpec {
            source: PushSource {
                gateway_job: "pushgateway".into(),
                honor_labels,
            },
            pushed: PushedGroupRef {
                job: pushed_job.into(),
                instance: Some("app-1".into()),
            },
            scraped: ScrapeTargetRef {
                job: scrape_job.into(),
                instance: "metrics-api:8080".into(),
            },
            ignore_labels: vec![],
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_follow_honor_labels() {
        let honored = spec(true, "metrics-api", "metrics-api");
        assert_eq!(
            selector(Some("page_views_total"), &honored.pushed_matchers()),
            r#"page_views_total{job="metrics-api", instance="app-1"}"#
        );
        assert_eq!(
            selector(None, &honored.scraped_matchers()),
            r#"{job="metrics-api", instance="metrics-api:8080"}"#
        );
        let exported = spec(false, "metrics-api", "metrics-api");
        assert_eq!(
            selector(None, &exported.pushed_matchers()),
            r#"{job="pushgateway", exported_job="metrics-api", exported_instance="app-1"}"#
        );
        let mut no_instance = spec(true, "batch-x", "batch-x");
        no_instance.pushed.instance = None;
        assert_eq!(
            selector(None, &no_instance.pushed_matchers()),
            r#"{job="batch-x", instance=""}"#
        );
        assert_eq!(
            selector(Some("odd.name"), &[Matcher::equal("a", "q\"uote")]),
            r#"{__name__="odd.name", a="q\"uote"}"#
        );
    }

    #[test]
    fn twins_pair_by_every_label_except_the_source_labels() {
        let s = spec(false, "metrics-api", "metrics-api");
        let pushed = labels(&[
            ("__name__", "page_views_total"),
            ("job", "pushgateway"),
            ("instance", "pushgateway:9091"),
            ("exported_job", "metrics-api"),
            ("exported_instance", "app-1"),
            ("page", "/"),
        ]);
        let scraped = labels(&[
            ("__name__", "page_views_total"),
            ("job", "metrics-api"),
            ("instance", "metrics-api:8080"),
            ("page", "/"),
        ]);
        assert_eq!(s.pairing_key(&pushed), s.pairing_key(&scraped));
        assert_eq!(s.pairing_key(&scraped), r#"page_views_total{page="/"}"#);
    }

    #[test]
    fn indistinguishable_sources_are_refused() {
        let mut same = spec(true, "metrics-api", "metrics-api");
        same.pushed.instance = Some("metrics-api:8080".into());
        let err = same.validate().unwrap_err();
        assert!(err.to_string().contains("cannot be compared"), "{err}");
        assert!(spec(true, "metrics-api", "metrics-api").validate().is_ok());
        assert!(spec(false, "metrics-api", "pushgateway").validate().is_err());
    }

    #[test]
    fn counters_go_by_rate_gauges_by_value() {
        let kinds: BTreeMap<String, MetricKind> = [
            ("lat".to_string(), MetricKind::Histogram),
            ("rq".to_string(), MetricKind::Summary),
            ("temp".to_string(), MetricKind::Gauge),
            ("jobs".to_string(), MetricKind::Counter),
        ]
        .into();
        let by = |name: &str| compared_by(name, &kinds);
        assert_eq!(by("lat_bucket"), ComparedBy::Rate);
        assert_eq!(by("rq_count"), ComparedBy::Rate);
        assert_eq!(by("rq"), ComparedBy::Value);
        assert_eq!(by("temp"), ComparedBy::Value);
        assert_eq!(by("jobs"), ComparedBy::Rate);
        assert_eq!(by("page_views_total"), ComparedBy::Rate);
        assert_eq!(by("queue_depth"), ComparedBy::Value);
    }

    #[test]
    fn runtime_gauges_go_by_presence_and_their_counters_by_rate() {
        let kinds: BTreeMap<String, MetricKind> = [
            ("nodejs_active_handles".to_string(), MetricKind::Gauge),
            ("process_cpu_seconds_total".to_string(), MetricKind::Counter),
        ]
        .into();
        let by = |name: &str| compared_by(name, &kinds);
        assert_eq!(by("nodejs_active_handles"), ComparedBy::Presence);
        assert_eq!(by("nodejs_eventloop_lag_seconds"), ComparedBy::Presence);
        assert_eq!(by("process_resident_memory_bytes"), ComparedBy::Presence);
        assert_eq!(by("go_goroutines"), ComparedBy::Presence);
        assert_eq!(by("process_cpu_seconds_total"), ComparedBy::Rate);
        assert_eq!(by("go_gc_duration_seconds_count"), ComparedBy::Rate);
        assert_eq!(by("processed_items"), ComparedBy::Value, "a prefix, not a substring");
    }

    #[test]
    fn a_runtime_gauge_passes_on_presence_whatever_its_values_and_fails_when_missing() {
        let old = side(&["a", "b"], &[("a", 3.0), ("b", 40.0)], 0);
        let new = side(&["a", "b"], &[("a", 5.0), ("b", 90.0)], 0);
        let seen = compare_metric(
            "nodejs_active_handles",
            ComparedBy::Presence,
            &old,
            &new,
            Tolerance::default(),
        );
        assert_eq!(seen.verdict, Verdict::Match);
        let by_value = compare_metric("queue_depth", ComparedBy::Value, &old, &new, Tolerance::default());
        assert_eq!(by_value.verdict, Verdict::Differs);
        let gone = side(&["a"], &[("a", 5.0)], 0);
        let missing = compare_metric(
            "nodejs_active_handles",
            ComparedBy::Presence,
            &old,
            &gone,
            Tolerance::default(),
        );
        assert_eq!(missing.verdict, Verdict::MissingOnNew);
    }

    fn side(present: &[&str], values: &[(&str, f64)], resets: u64) -> Side {
        Side {
            present: present.iter().map(|s| s.to_string()).collect(),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            resets,
        }
    }

    #[test]
    fn rates_within_tolerance_match_and_beyond_differ() {
        let present = ["a{p=\"/\"}", "a{p=\"/x\"}"];
        let matched = compare_metric(
            "a",
            ComparedBy::Rate,
            &side(&present, &[(present[0], 3.0), (present[1], 1.0)], 0),
            &side(&present, &[(present[0], 3.1), (present[1], 1.0)], 0),
            Tolerance::default(),
        );
        assert_eq!(matched.verdict, Verdict::Match);
        assert_eq!(matched.worst_series.as_deref(), Some(present[0]));
        let differs = compare_metric(
            "a",
            ComparedBy::Rate,
            &side(&present, &[(present[0], 6.0), (present[1], 1.0)], 1),
            &side(&present, &[(present[0], 3.0), (present[1], 1.0)], 0),
            Tolerance::default(),
        );
        assert_eq!(differs.verdict, Verdict::Differs);
        assert_eq!(differs.max_relative_difference, Some(0.5));
        assert_eq!((differs.resets_old, differs.resets_new), (1, 0));
    }

    #[test]
    fn a_pushed_series_without_twin_fails_and_app_only_series_pass() {
        let missing = compare_metric(
            "a",
            ComparedBy::Value,
            &side(
                &["a{p=\"/\"}", "a{p=\"/x\"}"],
                &[("a{p=\"/\"}", 1.0), ("a{p=\"/x\"}", 1.0)],
                0,
            ),
            &side(&["a{p=\"/\"}"], &[("a{p=\"/\"}", 1.0)], 0),
            Tolerance::default(),
        );
        assert_eq!(missing.verdict, Verdict::MissingOnNew);
        assert_eq!(missing.missing_on_new, ["a{p=\"/x\"}"]);
        let only_new = compare_metric(
            "process_cpu_seconds_total",
            ComparedBy::Rate,
            &side(&[], &[], 0),
            &side(&["k"], &[("k", 0.1)], 0),
            Tolerance::default(),
        );
        assert_eq!(only_new.verdict, Verdict::OnlyOnNew);
        assert!(only_new.verdict.passes());
    }

    /// Rates over `window` of a counter that counted `old` and `new` events.
    fn counted(old: f64, new: f64, window: f64) -> (Side, Side, BTreeMap<String, EventCounts>) {
        let key = "gc_count{kind=\"minor\"}";
        (
            side(&[key], &[(key, old / window)], 0),
            side(&[key], &[(key, new / window)], 0),
            [(
                key.to_string(),
                EventCounts {
                    old,
                    new,
                    size: 1.0,
                    what: "events",
                },
            )]
            .into(),
        )
    }

    #[test]
    fn a_difference_of_a_few_events_is_too_few_to_judge_and_thousands_still_differ() {
        let tolerance = Tolerance {
            relative: 0.2,
            absolute: 1e-9,
        };
        // The demo: 3 garbage collections pushed, 2 scraped in a 5 s window, the copies read up
        // to 3 s apart. 33% apart, and one collection is all it is.
        let noise = TimingNoise {
            window: Duration::from_secs(5),
            offset: Duration::from_secs(3),
        };
        let (old, new, events) = counted(3.0, 2.0, 5.0);
        let few = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
        assert_eq!(few.verdict, Verdict::TooFewEvents);
        assert_eq!(few.verdict.as_str(), "too few events");
        assert!(few.verdict.passes());
        let judged = few.series[0].events.expect("the events it was judged by");
        assert_eq!((judged.old, judged.new), (3.0, 2.0));
        assert!((judged.difference - 1.0).abs() < 1e-9, "{judged:?}");
        // 1 + 3·sqrt((3+2)·3s/5s)
        assert!((judged.allowed - (1.0 + 3.0 * 3f64.sqrt())).abs() < 1e-9, "{judged:?}");
        // The same 33% over thousands of events in the default 5-minute window, copies read
        // 30 s apart: far beyond what timing explains.
        let noise = TimingNoise {
            window: Duration::from_secs(300),
            offset: Duration::from_secs(30),
        };
        let (old, new, events) = counted(3000.0, 2000.0, 300.0);
        let many = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
        assert_eq!(many.verdict, Verdict::Differs);
        assert!(!many.verdict.passes());
        // Even with the copies read a whole window apart (1 + 3·sqrt(a+b) ≈ 213).
        let unknown = TimingNoise {
            window: Duration::from_secs(300),
            offset: Duration::from_secs(300),
        };
        let many = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &unknown, &events);
        assert_eq!(many.verdict, Verdict::Differs);
        // A pair within the tolerance stays a match, and without event counts a difference
        // beyond it is judged by the tolerance alone.
        let (old, new, events) = counted(100.0, 99.0, 300.0);
        let close = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
        assert_eq!(close.verdict, Verdict::Match);
        assert_eq!(close.series[0].events, None);
        let (old, new, _) = counted(3.0, 2.0, 5.0);
        let uncounted = compare_metric("gc_count", ComparedBy::Rate, &old, &new, tolerance);
        assert_eq!(uncounted.verdict, Verdict::Differs);
    }

    #[test]
    fn timing_explains_a_few_events_more_the_further_apart_the_copies_are_read() {
        let noise = |window: u64, offset: u64| TimingNoise {
            window: Duration::from_secs(window),
            offset: Duration::from_secs(offset),
        };
        // One event can always fall between two samples.
        assert_eq!(noise(300, 0).allowed_difference(5.0, 5.0), 1.0);
        // 1 + 3·sqrt((a+b)·offset/window).
        assert!((noise(300, 30).allowed_difference(3000.0, 2000.0) - (1.0 + 3.0 * 500f64.sqrt())).abs() < 1e-9);
        assert!((noise(300, 300).allowed_difference(3000.0, 2000.0) - (1.0 + 3.0 * 5000f64.sqrt())).abs() < 1e-9);
        // An offset longer than the window counts as the window.
        assert_eq!(
            noise(5, 60).allowed_difference(3.0, 2.0),
            noise(5, 5).allowed_difference(3.0, 2.0)
        );
        // 10 events against none is not timing when the copies are read 3 s apart in 5 minutes.
        let events = EventCounts {
            old: 10.0,
            new: 0.0,
            size: 1.0,
            what: "events",
        };
        assert!(!noise(300, 3).explains(10.0 / 300.0, 0.0, events));
        assert!(!noise(300, 3).explains(f64::NAN, 0.0, events));
        // Pushed at 8/s, served at 4/s over 6 s, read 2 s apart: 48 against 24 is no timing.
        let doubled = EventCounts {
            old: 48.0,
            new: 24.0,
            size: 1.0,
            what: "events",
        };
        assert!(!noise(6, 2).explains(8.0, 4.0, doubled));
    }

    #[test]
    fn events_are_counted_where_the_values_say_what_an_event_is() {
        let window = Duration::from_secs(10);
        let key = |name: &str| format!("{name}{{kind=\"minor\"}}");
        let rates: RateValues = [
            ("lat_bucket", 0.3, 0.2),
            ("gc_count", 0.3, 0.2),
            ("gc_sum", 0.06, 0.04),
            ("requests_total", 2.0, 2.5),
            ("process_cpu_seconds_total", 0.01, 0.02),
            ("work_seconds_total", 0.01, 0.02),
        ]
        .iter()
        .map(|(name, old, new)| {
            (
                name.to_string(),
                (
                    [(key(name), *old)].into_iter().collect(),
                    [(key(name), *new)].into_iter().collect(),
                ),
            )
        })
        .collect();
        let raw = |value: f64, name: &str| -> SideValues { [(key(name), value)].into_iter().collect() };
        let changes: (SideValues, SideValues) = (
            [
                (key("process_cpu_seconds_total"), 5.0),
                (key("work_seconds_total"), 5.0),
            ]
            .into_iter()
            .collect(),
            [
                (key("process_cpu_seconds_total"), 20.0),
                (key("work_seconds_total"), 20.0),
            ]
            .into_iter()
            .collect(),
        );
        let counts = |name: &str, old: f64, new: f64| {
            event_counts(name, &rates, Some(&changes), (&raw(old, name), &raw(new, name)), window)
                .get(&key(name))
                .copied()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let bucket = counts("lat_bucket", 0.5, 0.5).expect("a bucket counts observations");
        assert!(close(bucket.old, 3.0) && close(bucket.new, 2.0) && bucket.size == 1.0);
        // A summary's sum has its count's events, each the mean observation (1.0 s over 5).
        let sum = counts("gc_sum", 0.37, 0.35).expect("a sum counts its _count's events");
        assert!(
            close(sum.old, 3.0) && close(sum.new, 2.0) && close(sum.size, 0.2),
            "{sum:?}"
        );
        assert!(
            counts("requests_total", 120.0, 121.0).is_some(),
            "whole values count events"
        );
        assert_eq!(
            counts("requests_total", 120.5, 121.0),
            None,
            "no changes counted for it"
        );
        // Seconds are not events: 0.1 s in 5 pushes, 0.2 s in 20 scrapes; the pushed copy's
        // increments (0.02 s) are the coarser, so 5 against 10 of them.
        let cpu = counts("process_cpu_seconds_total", 1.25, 1.5).expect("increments");
        assert!(
            close(cpu.size, 0.02) && close(cpu.old, 5.0) && close(cpu.new, 10.0),
            "{cpu:?}"
        );
        // An app's own seconds counter: the tolerance alone (its increments are no events).
        assert_eq!(counts("work_seconds_total", 1.25, 1.5), None);
    }

    #[test]
    fn a_histograms_sum_is_weighed_by_its_largest_possible_observation() {
        let window = Duration::from_secs(10);
        let side = |pairs: &[(&str, f64)]| -> SideValues { pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect() };
        let buckets = |slow: f64| {
            side(&[
                (r#"lat_bucket{code="200",le="0.01"}"#, 0.2),
                (r#"lat_bucket{code="200",le="0.1"}"#, slow),
                (r#"lat_bucket{code="200",le="+Inf"}"#, 0.3),
            ])
        };
        let mut rates: RateValues = BTreeMap::new();
        rates.insert("lat_bucket".into(), (buckets(0.3), buckets(0.3)));
        rates.insert(
            "lat_count".into(),
            (
                side(&[(r#"lat_count{code="200"}"#, 0.3)]),
                side(&[(r#"lat_count{code="200"}"#, 0.3)]),
            ),
        );
        // Three requests each side, one of them slow: the sums 70% apart.
        rates.insert(
            "lat_sum".into(),
            (
                side(&[(r#"lat_sum{code="200"}"#, 0.0085)]),
                side(&[(r#"lat_sum{code="200"}"#, 0.0025)]),
            ),
        );
        let sum = |rates: &RateValues| {
            event_counts("lat_sum", rates, None, (&SideValues::new(), &SideValues::new()), window)
                .get(r#"lat_sum{code="200"}"#)
                .copied()
        };
        // Two in the 0.01 s bucket, one in the 0.1 s one: sqrt((2·0.01² + 0.1²)/3).
        let counted = sum(&rates).expect("bounded by the buckets");
        assert_eq!(counted.what, "observations");
        assert!((counted.size - (0.0102f64 / 3.0).sqrt()).abs() < 1e-9, "{counted:?}");
        let noise = TimingNoise {
            window,
            offset: Duration::from_secs(2),
        };
        // 0.06 s apart is one slow observation more on one side: timing.
        assert!(noise.explains(0.0085, 0.0025, counted));
        // A thousandfold sum (milliseconds written as seconds) is no timing.
        assert!(!noise.explains(8.5, 0.0025, counted));
        // An observation above every finite bound: nothing bounds it, the tolerance judges.
        rates.insert("lat_bucket".into(), (buckets(0.2), buckets(0.3)));
        assert_eq!(sum(&rates), None);
        assert_eq!(
            without_label(r#"code="2,0",le="0.5""#, "le"),
            Some(("0.5".to_string(), r#"code="2,0""#.to_string()))
        );
    }

    #[test]
    fn too_few_samples_for_a_rate_is_inconclusive() {
        let result = compare_metric(
            "a",
            ComparedBy::Rate,
            &side(&["k"], &[("k", 1.0)], 0),
            &side(&["k"], &[], 0),
            Tolerance::default(),
        );
        assert_eq!(result.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn relative_difference_handles_zero_and_nan() {
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert_eq!(relative_difference(f64::NAN, f64::NAN), 0.0);
        assert_eq!(relative_difference(1.0, f64::NAN), f64::INFINITY);
        assert_eq!(relative_difference(0.0, 2.0), 1.0);
        assert!(Tolerance::default().accepts(0.0, 1e-12));
    }

    #[test]
    fn gone_queries_judge_by_sample_time() {
        let spec = GoneSpec {
            source: PushSource {
                gateway_job: "pushgateway".into(),
                honor_labels: true,
            },
            groups: vec![PushedGroupRef {
                job: "metrics-api".into(),
                instance: Some("app-1".into()),
            }],
            since: UNIX_EPOCH + Duration::from_millis(1_795_591_903_702),
        };
        let selectors = spec.selectors();
        assert_eq!(
            gone_inventory_query(&selectors[0]),
            r#"count by (__name__) ({job="pushgateway"})"#
        );
        assert_eq!(
            gone_fresh_query("page_views_total", &selectors[1], spec.since),
            r#"timestamp(page_views_total{job="metrics-api", instance="app-1"}) > 1795591903.702"#
        );
    }

    #[test]
    fn rate_queries_use_the_window_in_milliseconds() {
        let q = metric_queries(
            &spec(true, "metrics-api", "metrics-api"),
            "page_views_total",
            Duration::from_secs(30),
        );
        assert_eq!(
            q.rate_new,
            r#"rate(page_views_total{job="metrics-api", instance="metrics-api:8080"}[30000ms])"#
        );
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;

    fn row(
        metric: &str,
        by: ComparedBy,
        old: usize,
        new: usize,
        diff: Option<f64>,
        verdict: Verdict,
    ) -> MetricComparison {
        MetricComparison {
            metric: metric.into(),
            compared_by: by,
            series_old: old,
            series_new: new,
            missing_on_new: vec![],
            only_on_new: vec![],
            max_relative_difference: diff,
            worst_series: None,
            resets_old: 0,
            resets_new: 0,
            verdict,
            series: vec![],
        }
    }

    #[test]
    fn the_report_reads_as_a_table_and_names_the_failing_metric() {
        let report = DualRunReport {
            pushed_selector: r#"{job="metrics-api", instance="app-1"}"#.into(),
            scraped_selector: r#"{job="metrics-api", instance="metrics-api:8080"}"#.into(),
            window: Duration::from_secs(300),
            relative_tolerance: 0.05,
            evaluated_at: 1795591903.702,
            metrics: vec![
                row("app_build_info", ComparedBy::Value, 0, 1, None, Verdict::OnlyOnNew),
                row(
                    "http_requests_total",
                    ComparedBy::Rate,
                    1,
                    1,
                    Some(0.5),
                    Verdict::Differs,
                ),
                row("queue_depth", ComparedBy::Value, 1, 1, Some(0.0), Verdict::Match),
            ],
            push_age_seconds: Some(400.0),
            max_push_age: Duration::from_secs(120),
        };
        assert!(!report.passed());
        let failing: Vec<&str> = report.failing_metrics().map(|m| m.metric.as_str()).collect();
        assert_eq!(failing, ["http_requests_total"]);
        insta::assert_snapshot!(report.to_string(), @r#"
        old: {job="metrics-api", instance="app-1"}
        new: {job="metrics-api", instance="metrics-api:8080"}
        metric               old  new   max diff  by     verdict
        app_build_info         0    1          -  value  only on new
        http_requests_total    1    1      50.0%  rate   differs
        queue_depth            1    1       0.0%  value  match
        last push 400.0s ago (older than 120s: the pusher looks dead)
        "#);
    }
}
