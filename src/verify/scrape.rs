//! Checks before and after `scrape`: the app serves valid exposition text; Prometheus runs the
//! new job; its target is up; scrapes take well under the timeout.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::check::{
    Check, CheckKind, LiveTargets, Stage, Status, VerifyError, VerifySettings, format_prometheus_duration, unix_seconds,
};
use super::reload::LiveConfig;
use super::selector::{Matcher, selector};
use crate::live::endpoint::Endpoint;
use crate::live::error::LiveError;
use crate::live::exposition::{ExpositionReport, check_exposition};
use crate::live::model::{Target, TargetHealth, Targets};
use crate::live::prometheus::PrometheusClient;
use crate::stack::{App, Stack};

/// Where an app's /metrics was looked for, and why there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUrl {
    /// The app (service) it belongs to; `--app-url` when it is not one app's.
    pub app: String,
    /// Base URL, ending in `/`.
    pub base: String,
    /// Path below the base, without a leading `/`.
    pub path: String,
    pub source: UrlSource,
}

impl AppUrl {
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlSource {
    /// `--app-url` or `live.app_url`.
    Given,
    /// `http://<service>:<port>` from the app's scrape target.
    Target,
}

/// The URLs to check: the given one, or each app's scrape target.
pub fn app_urls(apps: &[App], metrics_path: &str, explicit: Option<&str>) -> Vec<AppUrl> {
    let metrics_path = metrics_path.trim_start_matches('/').to_string();
    if let Some(given) = explicit {
        let given = given.trim();
        let suffix = format!("/{metrics_path}");
        let (base, path) = match given.strip_suffix(&suffix) {
            Some(base) if !metrics_path.is_empty() && base.contains("://") && !base.ends_with(':') => {
                (format!("{base}/"), metrics_path.clone())
            }
            _ => (
                if given.ends_with('/') {
                    given.to_string()
                } else {
                    format!("{given}/")
                },
                metrics_path.clone(),
            ),
        };
        let app = match apps {
            [one] => one.service.clone(),
            _ => "--app-url".to_string(),
        };
        return vec![AppUrl {
            app,
            base,
            path,
            source: UrlSource::Given,
        }];
    }
    apps.iter()
        .map(|app| AppUrl {
            app: app.service.clone(),
            base: format!("http://{}/", app.target()),
            path: metrics_path.clone(),
            source: UrlSource::Target,
        })
        .collect()
}

/// What the report keeps of one /metrics check (the full sample list stays out of JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpositionSummary {
    pub app: String,
    pub url: String,
    pub url_source: UrlSource,
    pub status: u16,
    pub content_type: Option<String>,
    pub response_seconds: f64,
    pub size_bytes: usize,
    pub families: usize,
    pub series: usize,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub duplicate_series: Vec<String>,
    pub counters_without_total: Vec<String>,
    pub notes: Vec<String>,
}

pub async fn exposition_checks(
    stack: &Stack,
    live: &LiveTargets,
) -> Result<(Vec<Check>, Vec<ExpositionSummary>), VerifyError> {
    let urls = app_urls(
        &stack.settings.apps,
        &stack.settings.scrape.metrics_path,
        live.app_url.as_deref(),
    );
    if urls.is_empty() {
        return Ok((
            vec![
                Check::new(
                    CheckKind::Exposition,
                    "apps",
                    Status::Warn,
                    "no app to check: the stack names no app that pushes",
                )
                .note("name it with --app SERVICE:PORT, or pass --app-url URL"),
            ],
            Vec::new(),
        ));
    }
    let mut checks = Vec::new();
    let mut summaries = Vec::new();
    for app_url in urls {
        let endpoint = app_endpoint(live, &app_url.base)?;
        let report = match check_exposition(&endpoint, &app_url.path).await {
            Ok(report) => report,
            // A URL or client that cannot be used: the check cannot run at all.
            Err(error) if is_setup_error(&error) => return Err(VerifyError::from(error)),
            // The app does not answer (or answers an error): that is what the check is for.
            Err(error) => {
                checks.push(unreachable_check(&app_url, &error));
                continue;
            }
        };
        let summary = summarize(&app_url, &report);
        checks.push(exposition_check(&summary));
        summaries.push(summary);
    }
    Ok((checks, summaries))
}

/// Errors that say the check itself cannot be run (a bad URL, header, secret or CA file),
/// as opposed to an app that does not answer.
fn is_setup_error(error: &LiveError) -> bool {
    matches!(
        error,
        LiveError::InvalidUrl { .. }
            | LiveError::InvalidHeader { .. }
            | LiveError::Secret { .. }
            | LiveError::CaFile { .. }
            | LiveError::Client { .. }
    )
}

/// The failed check for an app whose /metrics could not be fetched: down, refusing, timing
/// out or answering an HTTP error.
pub fn unreachable_check(app_url: &AppUrl, error: &LiveError) -> Check {
    let help = match app_url.source {
        UrlSource::Given => "check that the app runs and serves its metrics at that URL".to_string(),
        UrlSource::Target => format!(
            "this URL comes from the app's scrape target {}, which may only resolve inside \
             Compose; pass the URL this machine reaches the app at with --app-url URL",
            app_url.base.trim_start_matches("http://").trim_end_matches('/')
        ),
    };
    Check::new(
        CheckKind::Exposition,
        &app_url.app,
        Status::Fail,
        format!("cannot fetch /metrics: {error}"),
    )
    .note(help)
}

fn app_endpoint(live: &LiveTargets, base: &str) -> Result<Endpoint, LiveError> {
    let mut endpoint = Endpoint::new(base)?;
    if let Some(template) = &live.app_endpoint_template {
        endpoint = endpoint
            .with_auth(template.auth.clone())
            .with_tls(template.tls.clone())
            .with_retry(template.retry.clone())
            .with_timeout(template.timeout);
        endpoint.headers = template.headers.clone();
    }
    Ok(endpoint)
}

pub fn summarize(app_url: &AppUrl, report: &ExpositionReport) -> ExpositionSummary {
    let exposition = &report.analysis.exposition;
    let (errors, warnings): (Vec<_>, Vec<_>) = exposition
        .issues
        .iter()
        .partition(|issue| issue.severity == crate::live::exposition::Severity::Error);
    ExpositionSummary {
        app: app_url.app.clone(),
        url: report.url.clone(),
        url_source: app_url.source,
        status: report.status,
        content_type: report.content_type.clone(),
        response_seconds: report.response_time.as_secs_f64(),
        size_bytes: report.size_bytes,
        families: exposition.families.len(),
        series: exposition.families.iter().map(|f| f.series).sum(),
        errors: errors.iter().map(ToString::to_string).collect(),
        warnings: warnings.iter().map(ToString::to_string).collect(),
        duplicate_series: report
            .analysis
            .duplicate_series
            .iter()
            .map(|d| {
                let lines: Vec<String> = d.lines.iter().map(ToString::to_string).collect();
                format!("{} (lines {})", d.series, lines.join(", "))
            })
            .collect(),
        counters_without_total: report
            .analysis
            .counters_without_total
            .iter()
            .map(|c| format!("line {}: {}", c.line, c.message()))
            .collect(),
        notes: report.notes.clone(),
    }
}

/// At most this many issues are listed under a check; JSON has them all.
const LISTED: usize = 5;

pub fn exposition_check(summary: &ExpositionSummary) -> Check {
    let size = format_size(summary.size_bytes);
    let took = format_prometheus_duration(Duration::from_millis((summary.response_seconds * 1000.0).round() as u64));
    let from = match summary.url_source {
        UrlSource::Given => "",
        UrlSource::Target => " (URL from its scrape target)",
    };
    let shape = format!(
        "{} families, {} series, {size} in {took}",
        summary.families, summary.series
    );
    let (status, detail) = if !summary.errors.is_empty() {
        (
            Status::Fail,
            format!(
                "{}{from}: {} format error(s): Prometheus would fail the scrape",
                summary.url,
                summary.errors.len()
            ),
        )
    } else if !summary.duplicate_series.is_empty() {
        (
            Status::Fail,
            format!(
                "{}{from}: {} duplicate series (Prometheus keeps only the first of each)",
                summary.url,
                summary.duplicate_series.len()
            ),
        )
    } else if summary.series == 0 {
        (Status::Fail, format!("{}{from}: the page has no samples", summary.url))
    } else if !summary.counters_without_total.is_empty() || !summary.notes.is_empty() || !summary.warnings.is_empty() {
        (
            Status::Warn,
            format!("{}{from}: valid text format, {shape}", summary.url),
        )
    } else {
        (
            Status::Pass,
            format!("{}{from}: valid text format, {shape}", summary.url),
        )
    };
    let mut check = Check::new(CheckKind::Exposition, &summary.app, status, detail);
    let listed = summary
        .errors
        .iter()
        .chain(&summary.duplicate_series)
        .chain(&summary.counters_without_total)
        .chain(&summary.warnings)
        .chain(&summary.notes);
    let total = summary.errors.len()
        + summary.duplicate_series.len()
        + summary.counters_without_total.len()
        + summary.warnings.len()
        + summary.notes.len();
    for line in listed.take(LISTED) {
        check = check.note(line.clone());
    }
    if total > LISTED {
        check = check.note(format!("… and {} more (--format json lists them all)", total - LISTED));
    }
    check
}

fn format_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Does Prometheus *run* what the files say? `/api/v1/status/config` is the configuration it
/// loaded; the files may be newer (or older, after a rollback without reload). Judged for
/// the jobs the phases add and remove: each app's job (from `scrape` on) and the gateway's
/// (`gateway_job`, while it should run). A job the files no longer have but Prometheus still
/// runs fails too.
pub fn running_config_checks(
    yaml: &str,
    stack: &Stack,
    stage: Stage,
    gateway_job: Option<&str>,
    prometheus_url: &str,
) -> Vec<Check> {
    let live = match LiveConfig::parse(yaml) {
        Ok(live) => live,
        Err(reason) => {
            return vec![Check::new(
                CheckKind::RunningConfig,
                "prometheus",
                Status::Fail,
                format!("cannot read the configuration Prometheus reports: {reason}"),
            )];
        }
    };
    let file = &stack.prometheus.file.path;
    let reload_note = format!(
        "reload it: `pullover verify --reload` (or `curl -X POST {prometheus_url}-/reload`); \
         `pullover apply --reload` and `pullover rollback --reload` do it when writing"
    );
    let jobs_note = (!live.jobs.is_empty()).then(|| format!("jobs Prometheus runs: {}", live.jobs.join(", ")));
    let mismatch = |subject: &str, detail: String| {
        let mut check = Check::new(CheckKind::RunningConfig, subject, Status::Fail, detail).note(reload_note.clone());
        if let Some(note) = &jobs_note {
            check = check.note(note.clone());
        }
        check
    };
    let mut checks = Vec::new();
    for app in &stack.settings.apps {
        let defined = defined_job(stack, &app.job);
        let runs = live.jobs.iter().any(|job| job == live_name(&defined, &app.job));
        let file_has_it = defined.is_some();
        let check = match (runs, file_has_it) {
            (true, true) => Check::new(
                CheckKind::RunningConfig,
                &app.service,
                Status::Pass,
                format!("Prometheus runs job {}", named(&defined, &app.job)),
            ),
            (false, true) if stack.kube.is_some() => mismatch_kube(&app.service, &defined, &app.job),
            (false, true) => mismatch(
                &app.service,
                format!(
                    "{file} has job `{}` but Prometheus runs a configuration without it: it was not reloaded",
                    app.job
                ),
            ),
            (true, false) => mismatch(
                &app.service,
                format!(
                    "Prometheus still runs job `{}`, which {file} no longer has: it was not reloaded",
                    app.job
                ),
            ),
            // Before `scrape` the job is not there yet, as it should be.
            (false, false) if stage.before_scrape() => continue,
            (false, false) => {
                let mut check = Check::new(
                    CheckKind::RunningConfig,
                    &app.service,
                    Status::Fail,
                    format!(
                        "neither {file} nor the configuration Prometheus runs has job `{}`",
                        app.job
                    ),
                )
                .note("`pullover apply scrape` adds it");
                if let Some(note) = &jobs_note {
                    check = check.note(note.clone());
                }
                check
            }
        };
        checks.push(check);
    }
    if let Some(job) = gateway_job {
        let subject = gateway_subject(stack, job);
        let defined = defined_job(stack, job);
        let runs = live.jobs.iter().any(|j| j == live_name(&defined, job));
        let file_has_it = defined.is_some();
        match (runs, file_has_it) {
            (true, true) => checks.push(Check::new(
                CheckKind::RunningConfig,
                &subject,
                Status::Pass,
                format!("Prometheus runs the Pushgateway's job {}", named(&defined, job)),
            )),
            (false, true) if stack.kube.is_some() => checks.push(mismatch_kube(&subject, &defined, job)),
            (false, true) => checks.push(mismatch(
                &subject,
                format!(
                    "{file} has the Pushgateway's job `{job}` but Prometheus runs a configuration without it: it was not reloaded"
                ),
            )),
            (true, false) => checks.push(mismatch(
                &subject,
                format!("Prometheus still runs job `{job}`, which {file} no longer has: it was not reloaded"),
            )),
            (false, false) => {}
        }
    }
    checks
}

/// The name Prometheus runs the scrape job under whose targets get `job="<job>"`, and the file
/// (or object) defining it; `None` when the stack defines none. On Kubernetes that is the
/// Prometheus Operator's name for the endpoint of a ServiceMonitor or PodMonitor
/// (`stack::kube::target_labels`); elsewhere the job itself.
pub fn defined_job(stack: &Stack, job: &str) -> Option<(String, String)> {
    let from_monitor = stack.kube.as_ref().and_then(|kube| {
        crate::stack::kube::target_labels::monitor_jobs(kube, job)
            .into_iter()
            .next()
    });
    from_monitor.or_else(|| {
        stack
            .prometheus
            .job(job)
            .map(|_| (job.to_string(), stack.prometheus.file.path.to_string()))
    })
}

fn live_name<'a>(defined: &'a Option<(String, String)>, job: &'a str) -> &'a str {
    defined.as_ref().map_or(job, |(name, _)| name.as_str())
}

/// `` `job` ``, or `` `serviceMonitor/…` (its targets' job="…") `` where the two differ.
fn named(defined: &Option<(String, String)>, job: &str) -> String {
    match live_name(defined, job) {
        name if name == job => format!("`{job}`"),
        name => format!("`{name}` (its targets' job=\"{job}\")"),
    }
}

/// On Kubernetes nothing reloads from the files: the operator generates the job once the
/// monitor is deployed and its Prometheus selects it.
fn mismatch_kube(subject: &str, defined: &Option<(String, String)>, job: &str) -> Check {
    let defined_in = defined.as_ref().map_or("", |(_, file)| file.as_str());
    Check::new(
        CheckKind::RunningConfig,
        subject,
        Status::Fail,
        format!(
            "{defined_in} gives job {} but Prometheus runs no such job",
            named(defined, job)
        ),
    )
    .note(
        "deploy it (kubectl apply, or let Argo CD / Flux sync), and check that the Prometheus resource \
         selects it (its serviceMonitorSelector / podMonitorSelector and namespace selectors)",
    )
}

/// How the gateway is named in a check line: its service, else its job.
fn gateway_subject(stack: &Stack, job: &str) -> String {
    stack
        .settings
        .gateway
        .as_ref()
        .and_then(|g| g.service.clone())
        .unwrap_or_else(|| job.to_string())
}

/// Before `scrape`: the Pushgateway's target is up (the pushed series come through it).
/// `runs`: whether Prometheus's running configuration has the job (a job it runs may not
/// list its target yet: discovery takes about 5 s after a (re)load).
pub fn gateway_target_check(stack: &Stack, job: &str, targets: &Targets, runs: bool) -> Check {
    let subject = gateway_subject(stack, job);
    let listed: Vec<&Target> = targets.of_job(job).collect();
    if listed.is_empty() {
        return if runs {
            Check::new(
                CheckKind::Target,
                subject,
                Status::Inconclusive,
                format!(
                    "Prometheus runs job `{job}` but lists no target in it yet; targets show up about 5 s after a (re)load, run again"
                ),
            )
        } else {
            Check::new(
                CheckKind::Target,
                subject,
                Status::Fail,
                format!("Prometheus has no active target in the Pushgateway's job `{job}`"),
            )
        };
    }
    let down: Vec<&&Target> = listed.iter().filter(|t| t.health == TargetHealth::Down).collect();
    let names = |list: &[&Target]| -> String {
        list.iter()
            .map(|t| t.instance().unwrap_or(&t.scrape_url).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match down.first() {
        Some(target) => Check::new(
            CheckKind::Target,
            subject,
            Status::Fail,
            format!(
                "job `{job}` target {} is down: {}",
                target.instance().unwrap_or(&target.scrape_url),
                target.last_error
            ),
        ),
        None if listed.iter().all(|t| t.health == TargetHealth::Up) => Check::new(
            CheckKind::Target,
            subject,
            Status::Pass,
            format!("job `{job}` target {} is up", names(&listed)),
        ),
        None => Check::new(
            CheckKind::Target,
            subject,
            Status::Inconclusive,
            format!(
                "job `{job}` target {} has not been scraped yet; run again after one interval",
                names(&listed)
            ),
        ),
    }
}

/// The active target of `app`'s scrape job at its `service:port` (or the job's only target).
pub fn find_app_target<'a>(targets: &'a Targets, app: &App) -> Option<&'a Target> {
    let address = app.target();
    let job = app.job.as_str();
    let in_job: Vec<&Target> = targets
        .active
        .iter()
        .filter(|t| t.scrape_pool == job || t.job() == Some(job))
        .collect();
    in_job
        .iter()
        .find(|t| t.discovered_labels.get("__address__") == Some(&address) || t.instance() == Some(address.as_str()))
        .or(match in_job.as_slice() {
            [one] => Some(one),
            _ => None,
        })
        .copied()
}

pub fn target_check(app: &App, targets: &Targets, now: f64) -> Check {
    let subject = &app.service;
    let Some(target) = find_app_target(targets, app) else {
        let others: Vec<&str> = targets.of_job(&app.job).filter_map(Target::instance).collect();
        let mut check = Check::new(
            CheckKind::Target,
            subject,
            Status::Fail,
            format!("Prometheus has no active target {} in job `{}`", app.target(), app.job),
        );
        if others.is_empty() {
            check = check.note("new jobs show up in /api/v1/targets about 5 s after a reload");
        } else {
            check = check.note(format!("the job's targets: {}", others.join(", ")));
        }
        return check;
    };
    let instance = target.instance().unwrap_or("?");
    let interval = if target.scrape_interval.is_empty() {
        String::new()
    } else {
        format!(", every {}", target.scrape_interval)
    };
    match target.health {
        TargetHealth::Up => {
            let ago = target
                .last_scrape_unix()
                .map(|at| format!(", last scrape {:.1}s ago", (now - at).max(0.0)))
                .unwrap_or_default();
            Check::new(
                CheckKind::Target,
                subject,
                Status::Pass,
                format!("job `{}` target {instance} is up{ago}{interval}", app.job),
            )
        }
        TargetHealth::Down => Check::new(
            CheckKind::Target,
            subject,
            Status::Fail,
            format!("job `{}` target {instance} is down: {}", app.job, target.last_error),
        ),
        TargetHealth::Unknown | TargetHealth::Other => Check::new(
            CheckKind::Target,
            subject,
            Status::Inconclusive,
            format!(
                "job `{}` target {instance} has not been scraped yet{interval}; run again after one interval",
                app.job
            ),
        ),
    }
}

/// `max` is the longest scrape in the window (from `scrape_duration_seconds`), else the
/// target's last one.
pub fn scrape_duration_check(app: &App, target: &Target, max: Option<f64>, window: Duration) -> Check {
    let timeout = crate::duration::parse_prometheus_duration(&target.scrape_timeout)
        .or_else(|| target.scrape_interval_duration())
        .map(|d| d.as_secs_f64());
    let (longest, over) = match max {
        Some(max) => (
            max,
            format!("longest in the last {}", format_prometheus_duration(window)),
        ),
        None => (target.last_scrape_duration, "last scrape".to_string()),
    };
    let took = format!("{:.0} ms", longest * 1000.0);
    let Some(timeout) = timeout.filter(|t| *t > 0.0) else {
        return Check::new(
            CheckKind::ScrapeDuration,
            &app.service,
            Status::Pass,
            format!("{over}: {took}"),
        );
    };
    let share = longest / timeout;
    let detail = format!(
        "{over}: {took}, {:.0}% of the {} timeout (interval {})",
        share * 100.0,
        target.scrape_timeout,
        target.scrape_interval
    );
    let status = if share >= 1.0 {
        Status::Fail
    } else if share >= 0.5 {
        Status::Warn
    } else {
        Status::Pass
    };
    let check = Check::new(CheckKind::ScrapeDuration, &app.service, status, detail);
    if status == Status::Pass {
        check
    } else {
        check.note("a scrape that runs into the timeout fails and the target goes down: raise scrape_timeout or make /metrics cheaper")
    }
}

pub fn scrape_duration_query(app: &App, target: &Target, window: Duration) -> String {
    let matchers = vec![
        Matcher::equal("job", &app.job),
        Matcher::equal("instance", target.instance().unwrap_or_default()),
    ];
    format!(
        "max_over_time({}[{}ms])",
        selector(Some("scrape_duration_seconds"), &matchers),
        window.as_millis().max(1)
    )
}

pub async fn target_checks(
    client: &PrometheusClient,
    stack: &Stack,
    targets: &Targets,
    with_duration: bool,
    settings: &VerifySettings,
) -> Result<Vec<Check>, LiveError> {
    let now = unix_seconds(SystemTime::now());
    let mut checks = Vec::new();
    for app in &stack.settings.apps {
        let check = target_check(app, targets, now);
        let up = check.status == Status::Pass;
        checks.push(check);
        if !(with_duration && up) {
            continue;
        }
        let Some(target) = find_app_target(targets, app) else {
            continue;
        };
        let query = scrape_duration_query(app, target, settings.window);
        let max = client
            .query(&query, None)
            .await?
            .data
            .as_vector()
            .first()
            .map(|series| series.sample.value)
            .filter(|value| value.is_finite());
        checks.push(scrape_duration_check(app, target, max, settings.window));
    }
    if stack.settings.apps.is_empty() {
        checks.push(Check::new(
            CheckKind::Target,
            "apps",
            Status::Warn,
            "the stack names no app, so no target to check",
        ));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests;
