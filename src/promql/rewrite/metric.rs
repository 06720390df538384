//! What a metric name says about where its series come from: the gateway, every scrape target,
//! one app, or nobody pullover knows.

use super::super::model::{AppMapping, SeriesMapping, metric_family};
use super::super::structure::MetricName;

/// What a metric name says about where its series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MetricKind<'m> {
    /// `push_time_seconds`, `push_failure_time_seconds`, `pushgateway_*`: made by the gateway per
    /// pushed group or about itself; nothing scraped replaces them.
    GatewayOnly,
    /// Made by Prometheus per target (`up`, `scrape_*`) or by any Go/process exporter
    /// (`go_*`, `process_*`, `promhttp_*`): with the gateway's job they describe the gateway.
    PerTarget,
    /// Listed as pushed by this app.
    App(&'m AppMapping),
    Other,
    /// A template variable or a `__name__` regex.
    Unknown,
    /// `{job="x"}` with no name.
    Absent,
}

impl<'m> MetricKind<'m> {
    pub(super) fn of(name: &MetricName, mapping: &'m SeriesMapping) -> Self {
        match name {
            MetricName::Absent => MetricKind::Absent,
            MetricName::Unknown => MetricKind::Unknown,
            MetricName::Literal(name) if is_gateway_only(name) => MetricKind::GatewayOnly,
            // A recording rule's output: where its series come from depends on the rule.
            MetricName::Literal(name) if name.contains(':') => MetricKind::Unknown,
            MetricName::Literal(name) => match mapping.apps.iter().find(|app| lists_metric(app, name)) {
                Some(app) => MetricKind::App(app),
                None if is_per_target(name) => MetricKind::PerTarget,
                None => MetricKind::Other,
            },
        }
    }

    /// Whether the series describe a scrape target (its `up`, its process) or every series of
    /// it (no name): with the gateway's job or instance, the gateway itself.
    pub(super) fn describes_target(self) -> bool {
        matches!(self, MetricKind::PerTarget | MetricKind::Absent)
    }
}

fn is_gateway_only(name: &str) -> bool {
    matches!(name, "push_time_seconds" | "push_failure_time_seconds") || name.starts_with("pushgateway_")
}

/// Whether `app` lists `name`'s family: a histogram's `_bucket`, `_sum` and `_count` are one
/// family, so a panel on `x_count` and a variable on `x_bucket` get the same decision.
pub(super) fn lists_metric(app: &AppMapping, name: &str) -> bool {
    let family = metric_family(name);
    app.metrics.iter().any(|m| m == name || metric_family(m) == family)
}

fn is_per_target(name: &str) -> bool {
    name == "up"
        || ["scrape_", "go_", "process_", "promhttp_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}
