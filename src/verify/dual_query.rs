//! Queries both sides of one pushed group and compares them ([`compare_dual_run`]): the I/O
//! around the pure comparison of [`super::compare`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::check::unix_seconds;
use super::compare::{
    CompareSettings, ComparedBy, DualRunReport, DualRunSpec, Side, SideValues, TimingNoise, compare_metric,
    compare_metric_counting, compared_by, group_by_metric, keyed_values, metric_queries,
};
use super::events::{RateValues, event_counts};
use super::selector::{PUSH_SERIES, SCRAPE_SERIES, selector};
use crate::live::error::LiveError;
use crate::live::model::{InstantSeries, MetricKind, QueryResult};
use crate::live::prometheus::PrometheusClient;

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
