//! `pullover verify`: the live checks for where the stack stands (the last applied phase, or
//! `--after PHASE`). Text with one line per check on a terminal, versioned JSON with
//! `--format json`; exit 3 when a check fails or cannot tell yet. During dual-run,
//! `--report DIR` also writes the checks as one HTML page with charts.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, Result};

use super::live::{self, expected_from_live};
use super::{Context, Outcome, applied_ids, recover_if_needed};
use crate::cli::VerifyArgs;
use crate::diagnostic::Diagnostic;
use crate::live::checks::html::{ReportContext, render_report, report_path};
use crate::live::checks::reload::ConfigView;
use crate::live::checks::{Stage, VerifyReport, render};
use crate::phase::PhaseId;
use crate::state::atomic::{create_dirs, write_atomic};

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
    let stack = live::stack_for_checks(ctx, &applied)?;
    let runtime = live::runtime()?;
    if args.reload {
        let Some(url) = stack.settings.live.prometheus_url.as_deref() else {
            return Err(
                Diagnostic::error("--reload needs Prometheus, and no Prometheus URL is configured")
                    .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml")
                    .into(),
            );
        };
        let client = live::prometheus(url, args.live.timeout)?;
        let before = live::live_view(&client, &runtime)?;
        let expected = expected_from_live(&before, &ConfigView::of(&stack));
        live::reload(
            ctx,
            &client,
            &expected,
            "the files are as they are",
            "`pullover rollback` undoes the last phase",
            &runtime,
        )?;
    }
    let history = live::history(&state, &applied)?;
    let report = live::run_checks(&stack, stage, &args.live, &history, args.report.is_some(), &runtime)?;
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
