//! Queries both sides of one pushed group and compares them ([`compare_dual_run`]): the I/O
//! around the pure comparison of [`super::compare`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::check::unix_seconds;
use super::compare::{
    CompareSettings, ComparedBy, DualRunReport, DualRunSpec, MetricComparison, Side, SideValues, TimingNoise,
    compare_metric, compare_metric_counting, compared_by, group_by_metric, keyed_values, metric_queries,
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
    let rates = fetch_rates(client, spec, &rate_metrics, settings, at).await?;
    let judge = Judge::new(spec, settings, &kinds, &rates);
    let empty = SideValues::new();
    let metrics = metric_names
        .iter()
        .map(|name| {
            let old_values = old_by_metric.get(*name).unwrap_or(&empty);
            let new_values = new_by_metric.get(*name).unwrap_or(&empty);
            judge.metric(name, old_values, new_values)
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

/// Each counter-like metric's six answers at `at`: its rate, its resets and its changes over
/// the window, pushed side first.
type CounterSeries<'n> = BTreeMap<&'n String, [Vec<InstantSeries>; 6]>;

async fn fetch_rates<'n>(
    client: &PrometheusClient,
    spec: &DualRunSpec,
    rate_metrics: &[&'n String],
    settings: &CompareSettings,
    at: SystemTime,
) -> Result<CounterSeries<'n>, LiveError> {
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
    let mut results = client
        .query_many(queries, Some(at), settings.concurrency)
        .await
        .into_iter();
    let mut rates = CounterSeries::new();
    for name in rate_metrics {
        rates.insert(
            name,
            [
                next_vector(&mut results)?,
                next_vector(&mut results)?,
                next_vector(&mut results)?,
                next_vector(&mut results)?,
                next_vector(&mut results)?,
                next_vector(&mut results)?,
            ],
        );
    }
    Ok(rates)
}

/// What judging one metric needs besides its values: the counters' rates and changes keyed
/// for pairing, and how much the timing of push and scrape explains.
struct Judge<'a> {
    settings: &'a CompareSettings,
    kinds: &'a BTreeMap<String, MetricKind>,
    rates: &'a CounterSeries<'a>,
    rate_values: RateValues,
    change_counts: RateValues,
    noise: TimingNoise,
}

impl<'a> Judge<'a> {
    fn new(
        spec: &DualRunSpec,
        settings: &'a CompareSettings,
        kinds: &'a BTreeMap<String, MetricKind>,
        rates: &'a CounterSeries<'a>,
    ) -> Self {
        let keyed = |name: &String, old: &[InstantSeries], new: &[InstantSeries]| {
            (
                name.clone(),
                (keyed_values(spec, name, old), keyed_values(spec, name, new)),
            )
        };
        Judge {
            settings,
            kinds,
            rates,
            rate_values: rates
                .iter()
                .map(|(name, [rate_old, rate_new, ..])| keyed(name, rate_old, rate_new))
                .collect(),
            change_counts: rates
                .iter()
                .map(|(name, [.., changes_old, changes_new])| keyed(name, changes_old, changes_new))
                .collect(),
            // Without the offset nothing says how much timing explains: the tolerance alone judges.
            noise: TimingNoise {
                window: settings.window,
                offset: settings.sampling_offset.unwrap_or_default(),
            },
        }
    }

    /// Counter-like metrics by rate (weighed by the events they counted when the sampling
    /// offset is known), the others as [`compared_by`] says.
    fn metric(&self, name: &String, old_values: &SideValues, new_values: &SideValues) -> MetricComparison {
        let old_present: BTreeSet<String> = old_values.keys().cloned().collect();
        let new_present: BTreeSet<String> = new_values.keys().cloned().collect();
        let tolerance = self.settings.tolerance;
        match (self.rates.get(name), self.rate_values.get(name)) {
            (Some([_, _, resets_old, resets_new, ..]), Some((rate_old, rate_new))) => {
                let events = if self.settings.sampling_offset.is_some() {
                    event_counts(
                        name,
                        &self.rate_values,
                        self.change_counts.get(name),
                        (old_values, new_values),
                        self.settings.window,
                    )
                } else {
                    BTreeMap::new()
                };
                let old = Side {
                    present: old_present,
                    values: rate_old.clone(),
                    resets: sum_counts(resets_old),
                };
                let new = Side {
                    present: new_present,
                    values: rate_new.clone(),
                    resets: sum_counts(resets_new),
                };
                compare_metric_counting(name, ComparedBy::Rate, &old, &new, tolerance, &self.noise, &events)
            }
            _ => {
                let old = Side {
                    present: old_present,
                    values: old_values.clone(),
                    resets: 0,
                };
                let new = Side {
                    present: new_present,
                    values: new_values.clone(),
                    resets: 0,
                };
                compare_metric(name, compared_by(name, self.kinds), &old, &new, tolerance)
            }
        }
    }
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
