//! Findings the phase adds to a query's own: its severity in the plan, a legend or a variable
//! that changes once the series are scraped.

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::promql::{QueryFinding, QueryFindingKind, SeriesMapping, selectors};
use crate::stack::Gateway;

use super::read::Site;
use super::survey::QueryPlace;

/// A query finding as the plan reports it.
pub(super) fn query_finding(finding: &QueryFinding, location: &Location, in_rules: bool) -> Finding {
    let severity = match finding.kind {
        QueryFindingKind::DoubleCountDuringDualRun
        | QueryFindingKind::MatchesNothingUnderHonorLabels
        // It fails on the stack's Prometheus today.
        | QueryFindingKind::RejectedByPrometheusVersion => Severity::Hazard,
        // An alert on a series that goes away never fires again, and says nothing.
        QueryFindingKind::NoScrapedEquivalent if in_rules => Severity::Hazard,
        _ => Severity::Todo,
    };
    let mut out = Finding::new(finding.kind.id(), severity, finding.message.clone()).at(location.clone());
    if let Some(suggestion) = &finding.suggestion {
        out = out.tip(format!("suggested: `{suggestion}`"));
    }
    if finding.kind == QueryFindingKind::RejectedByPrometheusVersion {
        out = out.tip(
            "fix the query for that release; if the stack runs another release, set `prometheus_version:` in pullover.yaml",
        );
    }
    out
}

/// `{{exported_job}}` / `{{exported_instance}}` in a legend go blank once the series are scraped.
pub(super) fn legend_finding(site: &Site, gateway: &Gateway) -> Option<Finding> {
    let (legend, location) = site.legend.as_ref()?;
    if gateway.honor_labels {
        return None;
    }
    let used: Vec<&str> = ["exported_job", "exported_instance"]
        .into_iter()
        .filter(|label| {
            legend
                .split("{{")
                .skip(1)
                .any(|part| part.split("}}").next().is_some_and(|inside| inside.trim() == *label))
        })
        .collect();
    let first = used.first()?;
    let replacement = if *first == "exported_job" { "job" } else { "instance" };
    Some(
        Finding::new(
            FindingId::LegendUsesExportedLabel,
            Severity::Todo,
            format!(
                "the legend `{legend}` shows {}, which scraped series do not have: it goes blank after the migration",
                used.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(" and ")
            ),
        )
        .tip(format!(
            "use `{{{{{replacement}}}}}` in the legend once the query reads the scraped series"
        ))
        .at(location.clone()),
    )
}

/// A `label_values(…, job|instance|exported_*)` variable over pushed series offers other values
/// once they are scraped: saved selections and links with `var-…=` must follow.
pub(super) fn variable_finding(site: &Site, mapping: &SeriesMapping) -> Option<Finding> {
    if !matches!(site.place, QueryPlace::VariableQuery | QueryPlace::VariableDefinition) {
        return None;
    }
    let (selector, label) = label_values_parts(&site.query)?;
    let pushed_jobs: Vec<&str> = mapping.apps.iter().map(|a| a.pushed_job.as_str()).collect();
    let reads_pushed = selector.is_some_and(|selector| {
        selectors(selector).is_ok_and(|selectors| {
            selectors.iter().any(|s| {
                let named = |label: &str| {
                    s.named(label)
                        .is_some_and(|values| values.iter().any(|v| pushed_jobs.contains(&v.as_str())))
                };
                let app_metric = s
                    .metric
                    .as_ref()
                    .is_some_and(|m| mapping.apps.iter().any(|a| a.metrics.contains(m)));
                named("job") || named("exported_job") || (app_metric && s.named("job").is_none())
            })
        })
    });
    if !reads_pushed {
        return None;
    }
    let join = |values: Vec<&str>| {
        values
            .iter()
            .map(|v| {
                if v.is_empty() {
                    "(none)".to_string()
                } else {
                    format!("\"{v}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (old, new) = match (label, mapping.honor_labels) {
        ("instance", true) | ("exported_instance", false) => (
            join(
                mapping
                    .apps
                    .iter()
                    .flat_map(|a| a.pushed_instances.iter().map(String::as_str))
                    .collect(),
            ),
            join(mapping.apps.iter().map(|a| a.scrape_instance.as_str()).collect()),
        ),
        ("instance", false) => (
            join(mapping.gateway_instances.iter().map(String::as_str).collect()),
            join(mapping.apps.iter().map(|a| a.scrape_instance.as_str()).collect()),
        ),
        ("job", true) | ("exported_job", false) => (
            join(pushed_jobs.clone()),
            join(mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect()),
        ),
        ("job", false) => (
            format!("\"{}\"", mapping.gateway_job),
            join(mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect()),
        ),
        _ => return None,
    };
    if old == new {
        return None;
    }
    let old = if old.is_empty() {
        "the pushed values".to_string()
    } else {
        old
    };
    let name = site.variable.clone().unwrap_or_default();
    Some(
        Finding::new(
            FindingId::VariableOptionsChange,
            Severity::Todo,
            format!(
                "variable {name:?} lists `{label}` values of pushed series ({old}); once they are scraped it lists {new}"
            ),
        )
        .tip(format!(
            "update the variable's saved selection and default, and links that pass `var-{name}=`"
        ))
        .at(site.location.clone()),
    )
}

/// `label_values(selector, label)` → (selector, label); `label_values(label)` → (None, label).
pub(super) fn label_values_parts(query: &str) -> Option<(Option<&str>, &str)> {
    let inner = query
        .trim()
        .strip_prefix("label_values")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (selector, label) = match inner.rsplit_once(',') {
        Some((selector, label)) => (Some(selector.trim()), label.trim()),
        None => (None, inner.trim()),
    };
    label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        .then_some((selector, label))
}
