//! `pullover verify`: the live checks for where the stack stands (the last applied phase, or
//! `--after PHASE`). Text with one line per check on a terminal, versioned JSON with
//! `--format json`; exit 3 when a check fails or cannot tell yet.

use anyhow::Result;

use super::live::{self, expected_from_live};
use super::{Context, Outcome, applied_ids, recover_if_needed};
use crate::cli::VerifyArgs;
use crate::diagnostic::Diagnostic;
use crate::live::checks::reload::ConfigView;
use crate::live::checks::{Stage, render};
use crate::stack::Stack;

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
    let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
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
    let report = live::run_checks(&stack, stage, &args.live, &history, &runtime)?;
    if ctx.json() {
        ctx.print_json(&render::render_json(&report))?;
    } else {
        ctx.print(&render::render_text(&report, ctx.color))?;
    }
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}
