//! Runs the checks of a stage ([`verify`]) into one [`VerifyReport`]: what `pullover verify`
//! prints and the gate before `apply` judges.

use serde::Serialize;

use super::check::{Check, CheckKind, LiveTargets, Progress, Stage, Status, VerifyError, VerifySettings};
use super::dual::{self, DualRunTable};
use super::history::History;
use super::queries::{self, PairResult};
use super::runner::RunStats;
use super::{gone, load, reload, scrape};
use crate::live::error::LiveError;
use crate::stack::Stack;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_url: Option<String>,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposition: Vec<scrape::ExpositionSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dual_run: Vec<DualRunTable>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<PairResult>,
    pub stats: RunStats,
    /// What `verify --load` measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<load::LoadReport>,
}

impl VerifyReport {
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|check| check.status.fails())
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|check| check.status == status).count()
    }
}

/// Runs the checks of `stage`. A server that cannot be reached (or answers nonsense) is an
/// `Err`; a check that runs and fails is a failed [`Check`] in the report.
pub async fn verify(
    stack: &Stack,
    stage: Stage,
    live: &LiveTargets,
    history: &History,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<VerifyReport, VerifyError> {
    let kinds = stage.checks(live.app_url.is_some(), live.prometheus.is_some());
    let mut report = VerifyReport {
        stage,
        prometheus_url: live.prometheus.as_ref().map(|c| c.endpoint().base_url().to_string()),
        checks: Vec::new(),
        exposition: Vec::new(),
        dual_run: Vec::new(),
        queries: Vec::new(),
        stats: RunStats::default(),
        load: None,
    };
    if kinds.contains(&CheckKind::Exposition) {
        let (checks, reports) = scrape::exposition_checks(stack, live).await?;
        report.checks.extend(checks);
        report.exposition = reports;
    }
    if kinds.iter().all(|kind| *kind == CheckKind::Exposition) {
        return Ok(report);
    }
    let Some(client) = &live.prometheus else {
        return Err(VerifyError::from(LiveError::Spec(format!(
            "the checks after `{stage}` need Prometheus, and no Prometheus URL is configured"
        )))
        .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml"));
    };
    let targets = if kinds
        .iter()
        .any(|k| matches!(k, CheckKind::Target | CheckKind::DualRun | CheckKind::Queries))
    {
        Some(client.targets().await?)
    } else {
        None
    };
    // The gateway's job while it should still run (after `remove` the gone checks judge it).
    let gateway_job = stack
        .settings
        .gateway
        .as_ref()
        .and_then(|g| g.job.as_deref())
        .filter(|_| stage.gateway_expected());
    let mut running_jobs: Option<Vec<String>> = None;
    if kinds.contains(&CheckKind::RunningConfig) {
        let yaml = client.status_config().await?;
        running_jobs = reload::LiveConfig::parse(&yaml).ok().map(|live| live.jobs);
        report.checks.extend(scrape::running_config_checks(
            &yaml,
            stack,
            stage,
            gateway_job,
            client.endpoint().base_url().as_str(),
        ));
    }
    if let Some(targets) = &targets
        && kinds.contains(&CheckKind::Target)
    {
        if stage.before_scrape() {
            if let Some(job) = gateway_job {
                let live_name = scrape::defined_job(stack, job).map_or_else(|| job.to_string(), |(name, _)| name);
                let runs = running_jobs.as_ref().is_none_or(|jobs| jobs.contains(&live_name));
                report
                    .checks
                    .push(scrape::gateway_target_check(stack, job, targets, runs));
            }
        } else {
            let with_duration = kinds.contains(&CheckKind::ScrapeDuration);
            report
                .checks
                .extend(scrape::target_checks(client, stack, targets, with_duration, settings).await?);
        }
    }
    if let Some(targets) = &targets
        && kinds.contains(&CheckKind::DualRun)
    {
        let (checks, tables) =
            dual::dual_run_checks(client, live.pushgateway.as_ref(), stack, targets, settings, progress).await?;
        report.checks.extend(checks);
        report.dual_run = tables;
    }
    if let Some(targets) = &targets
        && kinds.contains(&CheckKind::Queries)
    {
        let (checks, pairs, stats) = queries::query_checks(client, stack, history, targets, settings, progress).await?;
        report.checks.extend(checks);
        report.queries = pairs;
        report.stats = stats;
    }
    if kinds.contains(&CheckKind::Gone) {
        report
            .checks
            .extend(gone::gone_checks(client, stack, history, settings).await?);
    }
    Ok(report)
}
