//! `pullover verify`: the live checks for where the stack stands (the last applied phase, or
//! `--after PHASE`). Text with one line per check on a terminal, versioned JSON with
//! `--format json`; exit 3 when a check fails or cannot tell yet. During dual-run,
//! `--report DIR` also writes the checks as one HTML page with charts.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};

use super::live_servers::{self, expected_from_live};
use super::{Context, Outcome, applied_ids, recover_if_needed};
use crate::cli::VerifyArgs;
use crate::diagnostic::Diagnostic;
use crate::duration::parse_prometheus_duration;
use crate::phase::PhaseId;
use crate::stack::Stack;
use crate::state::atomic::{create_dirs, write_atomic};
use crate::verify::check::Stage;
use crate::verify::html::{ReportContext, render_report, report_path};
use crate::verify::load::{self, LoadReport, LoadSettings};
use crate::verify::reload::ConfigView;
use crate::verify::render;
use crate::verify::run::VerifyReport;
use crate::verify::scrape::{AppUrl, app_urls};

pub fn run(ctx: &Context, args: &VerifyArgs) -> Result<Outcome> {
    let state = ctx.state()?;
    recover_if_needed(ctx, &state)?;
    let applied = state.journal()?.applied();
    let stage = match args.after.as_deref() {
        Some(name) => Stage::parse(name).ok_or_else(|| {
            let names: Vec<&str> = crate::phase::PhaseId::ALL.iter().map(|p| p.name()).collect();
            Diagnostic::error(format!("`{name}` is not a phase"))
                .help(format!("use one of: baseline, {}", names.join(", ")))
        })?,
        None => Stage::from_applied(&applied_ids(&applied)),
    };
    if let Some(dir) = &args.report {
        check_report_request(stage, dir)?;
    }
    let mut stack = live_servers::stack_for_checks(ctx, &applied)?;
    // Who pushes as what, with the live servers' word (crate::identity).
    live_servers::observe_pushes_within(ctx, &mut stack, args.live.timeout)?;
    let runtime = live_servers::runtime()?;
    if args.reload {
        let Some(url) = stack.settings.live.prometheus_url.as_deref() else {
            return Err(
                Diagnostic::error("--reload needs Prometheus, and no Prometheus URL is configured")
                    .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml")
                    .into(),
            );
        };
        let client = live_servers::prometheus(url, args.live.timeout)?;
        let before = live_servers::live_view(&client, &runtime)?;
        let expected = expected_from_live(&before, &ConfigView::of(&stack));
        live_servers::reload(
            ctx,
            &client,
            &expected,
            "the files are as they are",
            "`pullover rollback` undoes the last phase",
            &runtime,
        )?;
    }
    let history = live_servers::history(&state, &applied)?;
    // Refused before anything is sent when the burst would leave this machine.
    let load_target = if args.load {
        Some(load_target(&stack, args)?)
    } else {
        None
    };
    let mut report = live_servers::run_checks(&stack, stage, &args.live, &history, args.report.is_some(), &runtime)?;
    if let Some(app_url) = &load_target {
        run_load(&stack, args, app_url, &mut report, &runtime)?;
    }
    let written = match &args.report {
        Some(dir) => Some(write_report(ctx, &report, dir)?),
        None => None,
    };
    if ctx.json() {
        let mut json = render::render_json(&report);
        if let Some(path) = &written {
            json["report_path"] = path.display().to_string().into();
        }
        ctx.print_json(&json)?;
    } else {
        ctx.print(&render::render_text(&report, ctx.color))?;
    }
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}

/// The app `--load` bursts against: its /metrics and `--load-url`, on this machine only.
fn load_target(stack: &Stack, args: &VerifyArgs) -> Result<AppUrl> {
    let urls = app_urls(
        &stack.settings.apps,
        &stack.settings.scrape.metrics_path,
        stack.settings.live.app_url.as_deref(),
    );
    let Some(app_url) = urls.first() else {
        return Err(Diagnostic::error("--load needs the app, and the stack names none")
            .help("pass --app-url http://127.0.0.1:PORT (the app on this machine)")
            .into());
    };
    let metrics_url = app_url.url();
    for url in std::iter::once(metrics_url.as_str()).chain(args.load_url.as_deref()) {
        if !load::is_loopback(url) {
            return Err(Diagnostic::error(format!(
                "--load sends a burst of requests, and only to this machine: {url} is not on 127.0.0.1, ::1 or localhost"
            ))
            .help("run it where the app runs, with --app-url http://127.0.0.1:PORT (and --load-url on the same host)")
            .into());
        }
    }
    Ok(app_url.clone())
}

/// `verify --load`: the burst against the app, and its checks.
fn run_load(
    stack: &Stack,
    args: &VerifyArgs,
    app_url: &AppUrl,
    report: &mut VerifyReport,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    let metrics_url = app_url.url();
    let view = ConfigView::of(stack);
    let job = stack
        .settings
        .apps
        .iter()
        .find(|a| a.service == app_url.app)
        .map(|a| a.job.as_str());
    let interval = job
        .and_then(|job| view.jobs.iter().find(|j| j.name == job))
        .map(|j| j.interval)
        .or_else(|| parse_prometheus_duration(&stack.settings.scrape.interval))
        .unwrap_or(Duration::from_secs(60));
    // Prometheus's default scrape_timeout (10s), never longer than the interval.
    let timeout = interval.min(Duration::from_secs(10));
    let mut shortest: Option<(Duration, String)> = None;
    for file in stack.dashboard_files().chain(&stack.rule_files) {
        if let Some(range) = load::shortest_rate_range(file.text())
            && shortest.as_ref().is_none_or(|(s, _)| range < *s)
        {
            shortest = Some((range, file.path.to_string()));
        }
    }
    let settings = LoadSettings {
        requests: usize::from(args.load_requests),
        concurrency: usize::from(args.load_concurrency),
        timeout: args.live.timeout,
    };
    let (metrics, user_alone, user_with_metrics) = runtime
        .block_on(load::measure(&metrics_url, args.load_url.as_deref(), &settings))
        .map_err(|e| live_servers::live_error(e, &[]))?;
    let measured = LoadReport {
        concurrency: settings.concurrency,
        metrics,
        user_alone,
        user_with_metrics,
        scrape_interval_seconds: interval.as_secs_f64(),
        scrape_timeout_seconds: timeout.as_secs_f64(),
        shortest_rate_range_seconds: shortest.as_ref().map(|(r, _)| r.as_secs_f64()),
        shortest_rate_range_in: shortest.map(|(_, file)| file),
    };
    report.checks.extend(load::load_checks(&app_url.app, &measured));
    report.load = Some(measured);
    Ok(())
}

/// `--report` draws the dual-run comparison: refuse it, before any check runs, where there is
/// none to draw, and where DIR cannot be a folder.
fn check_report_request(stage: Stage, dir: &Path) -> Result<()> {
    if stage != Stage::After(PhaseId::DualRun) {
        let stands = match stage {
            Stage::Baseline => "no phase is applied yet".to_string(),
            Stage::After(phase) => format!("the last applied phase is `{phase}`"),
        };
        return Err(Diagnostic::error(format!(
            "--report charts the dual-run comparison, so it needs the stack in dual-run; {stands}"
        ))
        .help("run `pullover verify` without --report for the checks of this stage")
        .into());
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Diagnostic::error(format!("--report {}: not a folder", dir.display()))
            .help("give a folder to write pullover-dual-run-report.html into (it is created if missing)")
            .into());
    }
    Ok(())
}

/// Writes the HTML report into `dir` (created if missing) atomically, says where on stderr,
/// and returns the file's path.
fn write_report(ctx: &Context, report: &VerifyReport, dir: &Path) -> Result<PathBuf> {
    create_dirs(dir).with_context(|| format!("cannot create the report folder {}", dir.display()))?;
    // The page names the stack in commands to paste, so from wherever it is opened.
    let stack = std::fs::canonicalize(&ctx.global.stack).unwrap_or_else(|_| ctx.global.stack.clone());
    let context = ReportContext {
        stack: stack.display().to_string(),
        generated_at: SystemTime::now(),
    };
    let html = render_report(report, &context).map_err(anyhow::Error::msg)?;
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let path = report_path(&dir);
    write_atomic(&path, html.as_bytes(), 0o644)
        .with_context(|| format!("cannot write the report {}", path.display()))?;
    ctx.note(&format!("wrote the dual-run report to {}", path.display()));
    Ok(path)
}
