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
//! Everything here is pure: [`super::dual_query`] fetches both sides, [`super::gone`] checks
//! the removal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use super::selector::{Matcher, SOURCE_LABELS, promql_string, selector};
use crate::live::error::LiveError;
use crate::live::model::{InstantSeries, Labels, MetricKind};

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

impl ComparedBy {
    /// `rate`, `value` or `presence`: how the report names it (and the JSON spells it).
    pub fn as_str(self) -> &'static str {
        match self {
            ComparedBy::Rate => "rate",
            ComparedBy::Value => "value",
            ComparedBy::Presence => "presence",
        }
    }
}

/// Prefixes of the runtime collectors' metrics in the common clients (prom-client's
/// `collectDefaultMetrics`, client_golang's Go and process collectors, prometheus_client's
/// platform, process and GC collectors, the Java clients' JVM metrics); see docs/verify.md.
const RUNTIME_PREFIXES: [&str; 6] = ["process_", "nodejs_", "go_", "python_", "jvm_", "dotnet_"];

/// Whether `metric` comes from a client library's runtime collector (by its name).
pub(crate) fn is_runtime_metric(metric: &str) -> bool {
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

/// How wide the metric column of a table of `metrics` is: the longest name, at least the
/// heading's.
pub fn metric_column_width(metrics: &[MetricComparison]) -> usize {
    metrics
        .iter()
        .map(|m| m.metric.len())
        .max()
        .unwrap_or(0)
        .max("metric".len())
}

impl fmt::Display for DualRunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "old: {}", self.pushed_selector)?;
        writeln!(f, "new: {}", self.scraped_selector)?;
        let width = metric_column_width(&self.metrics);
        writeln!(
            f,
            "{:<width$}  {:>3}  {:>3}  {:>9}  by     verdict",
            "metric", "old", "new", "max diff"
        )?;
        for metric in &self.metrics {
            let difference = metric
                .max_relative_difference
                .map_or("-".to_string(), |d| format!("{:.1}%", d * 100.0));
            writeln!(
                f,
                "{:<width$}  {:>3}  {:>3}  {:>9}  {:<5}  {}",
                metric.metric,
                metric.series_old,
                metric.series_new,
                difference,
                metric.compared_by.as_str(),
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

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod report_tests;
