//! Checks after `dashboards`: every query the phase rewrote runs next to its original, with
//! Grafana's template variables filled in as Grafana would (each variable's first value from
//! Prometheus; `$__rate_interval` and friends from the scrape interval), and the results are
//! compared series by series. A rewritten query that comes back empty where the original had
//! data fails.
//!
//! The pairs come from the journal's snapshots of each file before and after the phase
//! ([`super::pairs`]); the variables are filled by [`super::variables`] and each pair judged
//! by [`super::outcome`].

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::check::{Check, CheckKind, Progress, Status, VerifySettings, format_prometheus_duration, unix_seconds};
use super::compare::{Tolerance, reads_only_runtime_gauges};
use super::history::History;
use super::outcome::{Outcome, PairVerdict, compare_outcomes};
use super::pairs::{PairKind, QueryPair, QuerySource};
use super::runner::{Job, JobOutput, RunOptions, RunStats, is_query_error, run_jobs};
use super::settle;
use super::variables::{FillContext, Resolved, fill_query, resolve_variables, variable_job};
use crate::live::error::LiveError;
use crate::live::model::Targets;
use crate::live::prometheus::PrometheusClient;
use crate::promql::fill::{self, TemplateFunction};
use crate::stack::Stack;

/// One compared pair, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    pub file: String,
    pub location: String,
    pub owner: String,
    pub kind: PairKind,
    /// The queries as run: variables filled.
    pub old_query: String,
    pub new_query: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved_variables: Vec<String>,
    #[serde(flatten)]
    pub verdict: PairVerdict,
}

/// Runs every pair of every source (variables resolved per dashboard and side) and compares
/// the results.
pub async fn compare_query_sources(
    client: &PrometheusClient,
    sources: &[QuerySource],
    context: &FillContext,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<(Vec<PairResult>, Vec<String>, RunStats), LiveError> {
    let options = RunOptions {
        at: context.at,
        range_start: context.range_start(),
        concurrency: settings.concurrency,
        server_timeout: settings.query_timeout,
    };
    let mut stats = RunStats::default();
    let mut notes = Vec::new();
    let mut prepared = Vec::new();
    for source in sources {
        let (old_vars, new_vars) = source_variables(client, source, context, &options, progress, &mut stats).await?;
        for note in old_vars.notes.iter().chain(&new_vars.notes) {
            let note = format!("{}: {note}", source.file);
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        for pair in &source.pairs {
            prepared.push(Prepared::new(&source.file, pair, &old_vars, &new_vars, context));
        }
    }
    let jobs: Vec<Job> = prepared
        .iter()
        .filter_map(|p| p.job.as_ref().ok().and_then(Option::as_ref))
        .flat_map(|(o, n)| [o.clone(), n.clone()])
        .collect();
    let (results, run) = run_jobs(client, jobs, &options, "running old and new queries", progress).await;
    stats.add(run);
    let mut results = results.into_iter();
    let mut pairs = Vec::new();
    for p in prepared {
        let (old_outcome, new_outcome) = match &p.job {
            Ok(Some(_)) => (outcome(results.next())?, outcome(results.next())?),
            Ok(None) => {
                let why = Outcome::Skipped("label_names() and metrics() list names, not series".into());
                (why.clone(), why)
            }
            Err(message) => {
                let failed = Outcome::Failed(message.clone());
                (failed.clone(), failed)
            }
        };
        pairs.push(p.judge(&old_outcome, &new_outcome, settings.tolerance));
    }
    Ok((pairs, notes, stats))
}

/// The variables of one source before and after the phase, resolved only when a query of
/// its pairs uses one.
async fn source_variables(
    client: &PrometheusClient,
    source: &QuerySource,
    context: &FillContext,
    options: &RunOptions,
    progress: &Progress,
    stats: &mut RunStats,
) -> Result<(Resolved, Resolved), LiveError> {
    let uses_variables = source
        .pairs
        .iter()
        .any(|p| !fill::variable_refs(&p.old).is_empty() || !fill::variable_refs(&p.new).is_empty());
    if !uses_variables {
        return Ok((Resolved::default(), Resolved::default()));
    }
    let (old_vars, old_stats) = resolve_variables(client, &source.old_variables, context, options, progress).await?;
    let (new_vars, new_stats) = resolve_variables(client, &source.new_variables, context, options, progress).await?;
    stats.add(old_stats);
    stats.add(new_stats);
    Ok((old_vars, new_vars))
}

/// One pair with its variables filled and the jobs that run both sides.
struct Prepared {
    file: String,
    pair: QueryPair,
    old: fill::Filled,
    new: fill::Filled,
    /// `None` when there is nothing to run (`label_names()`, `metrics()`); `Err` when a
    /// variable query cannot be read.
    job: Result<Option<(Job, Job)>, String>,
    /// The label a `label_values()` variable lists.
    label: Option<String>,
}

impl Prepared {
    fn new(file: &str, pair: &QueryPair, old_vars: &Resolved, new_vars: &Resolved, context: &FillContext) -> Prepared {
        let old = fill_query(&pair.old, old_vars, context);
        let new = fill_query(&pair.new, new_vars, context);
        let (job, label) = match pair.kind {
            PairKind::Variable => {
                let label = match fill::template_function(&new.text) {
                    Some(Ok(TemplateFunction::LabelValues { label, .. })) => Some(label),
                    _ => None,
                };
                let job = match (variable_job(&old.text), variable_job(&new.text)) {
                    (Ok(Some(o)), Ok(Some(n))) => Ok(Some((o, n))),
                    (Ok(None), _) | (_, Ok(None)) => Ok(None),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
                (job, label)
            }
            _ => (
                Ok(Some((Job::Instant(old.text.clone()), Job::Instant(new.text.clone())))),
                None,
            ),
        };
        Prepared {
            file: file.to_string(),
            pair: pair.clone(),
            old,
            new,
            job,
            label,
        }
    }

    /// The verdict on what both sides returned, for the report.
    fn judge(self, old_outcome: &Outcome, new_outcome: &Outcome, tolerance: Tolerance) -> PairResult {
        let mut verdict = compare_outcomes(old_outcome, new_outcome, tolerance, self.label.as_deref());
        if differs_only_in_value(&verdict) && reads_only_runtime_gauges(&self.new.text) {
            verdict = by_presence(verdict);
        }
        let mut unresolved: Vec<String> = self.old.unresolved.clone();
        for name in &self.new.unresolved {
            if !unresolved.contains(name) {
                unresolved.push(name.clone());
            }
        }
        if !unresolved.is_empty() && verdict.status == Status::Warn {
            verdict
                .detail
                .push_str(&format!(" (no value for ${})", unresolved.join(", $")));
        }
        PairResult {
            file: self.file,
            location: self.pair.location,
            owner: self.pair.owner,
            kind: self.pair.kind,
            old_query: self.old.text,
            new_query: self.new.text,
            unresolved_variables: unresolved,
            verdict,
        }
    }
}

/// What one side's job returned, as the verdict reads it.
fn outcome(output: Option<Result<JobOutput, LiveError>>) -> Result<Outcome, LiveError> {
    match output {
        Some(Ok(JobOutput::Query(result))) => Ok(Outcome::Data(result.data)),
        Some(Ok(JobOutput::Values(values))) => Ok(Outcome::Values(values)),
        Some(Err(error)) if is_query_error(&error) => Ok(Outcome::Failed(match &error {
            LiveError::Api { error, .. } => error.clone(),
            other => other.to_string(),
        })),
        Some(Err(error)) => Err(error),
        None => Ok(Outcome::Skipped("no result".into())),
    }
}

/// Both sides returned the same series, and only their values differ.
fn differs_only_in_value(verdict: &PairVerdict) -> bool {
    verdict.status == Status::Fail && verdict.series_new > 0 && verdict.detail.starts_with("differs by")
}

/// The verdict for a query over runtime gauges whose series are all there on both sides.
fn by_presence(verdict: PairVerdict) -> PairVerdict {
    PairVerdict {
        status: Status::Pass,
        detail: format!(
            "{} series on both sides; compared by presence, as a runtime gauge is (its values differ between two reads of the process: {})",
            verdict.series_new, verdict.detail
        ),
        ..verdict
    }
}

/// A verdict that may be the sampling's doing rather than the rewrite's: both returned series,
/// and their values (or counts) differ; or the rewrite returned nothing, which a query over a
/// range longer than the rewrite's series have existed does before its first point (a
/// `[5m:30s]` subquery); the second look fails it again unless those series exist.
fn worth_a_second_look(verdict: &PairVerdict) -> bool {
    verdict.status == Status::Fail
        && verdict.series_old > 0
        && ((verdict.series_new > 0
            && (verdict.detail.starts_with("differs by")
                || verdict.detail.starts_with("a different number of series")))
            || (verdict.series_new == 0 && verdict.detail.starts_with("empty where the original returned")))
}

/// One check line per file, from its compared pairs.
pub fn file_checks(file: &str, pairs: &[&PairResult]) -> Check {
    let failed: Vec<&&PairResult> = pairs.iter().filter(|p| p.verdict.status.fails()).collect();
    let warned = pairs.iter().filter(|p| p.verdict.status == Status::Warn).count();
    let queries = |n: usize| {
        if n == 1 {
            "1 rewritten query".to_string()
        } else {
            format!("{n} rewritten queries")
        }
    };
    let undecided = failed
        .iter()
        .filter(|p| p.verdict.status == Status::Inconclusive)
        .count();
    let (status, detail) = if pairs.is_empty() {
        (Status::Pass, "no rewritten query".to_string())
    } else if !failed.is_empty() && undecided == failed.len() {
        (
            Status::Inconclusive,
            format!(
                "cannot tell yet for {} of {} (see below); none differs",
                undecided,
                queries(pairs.len())
            ),
        )
    } else if !failed.is_empty() {
        (
            Status::Fail,
            format!(
                "{} of {} do not return what the originals did",
                failed.len(),
                queries(pairs.len())
            ),
        )
    } else if warned > 0 {
        (
            Status::Warn,
            format!(
                "{} return what the originals did; {warned} could not be compared",
                queries(pairs.len() - warned)
            ),
        )
    } else if pairs.len() == 1 {
        (
            Status::Pass,
            "1 rewritten query returns what the original did".to_string(),
        )
    } else {
        (
            Status::Pass,
            format!("{} return what the originals did", queries(pairs.len())),
        )
    };
    let mut check = Check::new(CheckKind::Queries, file, status, detail);
    for pair in failed {
        check = check.note(format!("{}: {}", pair.owner, pair.verdict.detail));
    }
    // Said on the check itself: these passed over less history than their range.
    let shortened: Vec<&&PairResult> = pairs
        .iter()
        .filter(|p| p.verdict.status == Status::Pass && p.verdict.shortened_range.is_some())
        .collect();
    if !shortened.is_empty() {
        check.detail.push_str(&format!(
            " ({} of them over a range shortened to the new series' age, below)",
            shortened.len()
        ));
        for pair in shortened {
            check = check.note(format!("{}: {}", pair.owner, pair.verdict.detail));
        }
    }
    check
}

/// The longest scrape interval among the gateway's and the apps' targets; 15 s (Grafana's
/// default) when Prometheus lists none.
pub fn scrape_interval_of(targets: &Targets, jobs: &[&str]) -> Duration {
    targets
        .active
        .iter()
        .filter(|t| jobs.contains(&t.scrape_pool.as_str()) || t.job().is_some_and(|job| jobs.contains(&job)))
        .filter_map(|t| t.scrape_interval_duration())
        .max()
        .unwrap_or(Duration::from_secs(15))
}

pub async fn query_checks(
    client: &PrometheusClient,
    stack: &Stack,
    history: &History,
    targets: &Targets,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<(Vec<Check>, Vec<PairResult>, RunStats), LiveError> {
    let mut checks = Vec::new();
    for (file, reason) in &history.unpaired {
        checks.push(Check::new(
            CheckKind::Queries,
            file,
            Status::Warn,
            format!("its queries could not be paired: {reason}"),
        ));
    }
    if history.query_sources.iter().all(|s| s.pairs.is_empty()) {
        checks.push(Check::new(
            CheckKind::Queries,
            "dashboards",
            Status::Pass,
            "the `dashboards` phase rewrote no query, so there is nothing to compare",
        ));
        return Ok((checks, Vec::new(), RunStats::default()));
    }
    let mut jobs: Vec<&str> = stack.settings.apps.iter().map(|a| a.job.as_str()).collect();
    if let Some(job) = stack.settings.gateway.as_ref().and_then(|g| g.job.as_deref()) {
        jobs.push(job);
    }
    let context = FillContext {
        at: SystemTime::now(),
        range: FillContext::DEFAULT_RANGE,
        scrape_interval: scrape_interval_of(targets, &jobs),
    };
    let (mut pairs, notes, mut stats) =
        compare_query_sources(client, &history.query_sources, &context, settings, progress).await?;
    // A pair that disagrees at one instant gets a second look: the pushed copy lags, counters
    // reset, new series are younger than a query's range (see [`settle`]).
    let differing: Vec<usize> = pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| worth_a_second_look(&p.verdict))
        .map(|(i, _)| i)
        .collect();
    if !differing.is_empty() {
        let started = std::time::Instant::now();
        let lag = settle::push_lag(client, context.scrape_interval, context.at).await;
        let now = unix_seconds(context.at);
        for i in differing {
            let Some(pair) = pairs.get_mut(i) else { continue };
            let settled = settle::second_look(
                client,
                &pair.old_query,
                &pair.new_query,
                context.at,
                lag,
                settings.tolerance,
                context.scrape_interval,
            )
            .await?;
            if let Some(verdict) = settled.verdict(&pair.verdict, now) {
                pair.verdict = verdict;
            }
            stats.queries += 2 * (settle::LAG_STEPS as usize + 1);
        }
        stats.wall_seconds += started.elapsed().as_secs_f64();
    }
    for source in &history.query_sources {
        let of_file: Vec<&PairResult> = pairs.iter().filter(|p| p.file == source.file).collect();
        if source.pairs.is_empty() {
            continue;
        }
        let mut check = file_checks(&source.file, &of_file);
        for note in notes.iter().filter(|n| n.starts_with(&format!("{}: ", source.file))) {
            check = check.note(note.clone());
        }
        if check.status != Status::Pass {
            check.notes.push(format!(
                "$__rate_interval = {}, $__interval = {}, variables at their first values",
                format_prometheus_duration(context.scrape_interval * 4),
                format_prometheus_duration(context.scrape_interval)
            ));
        }
        checks.push(check);
    }
    Ok((checks, pairs, stats))
}

#[cfg(test)]
mod tests;
