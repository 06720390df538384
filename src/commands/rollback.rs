//! `pullover rollback [--to PHASE] [--force]`: undo applied phases, newest
//! first, each as its own journaled transaction. Each is a three-way revert of
//! the phase's own change (as `git revert`): with no edit since, the exact
//! bytes and modes come back; edits made outside pullover stay (and are
//! journaled as such), and where one meets pullover's change the rollback
//! shows the conflict and refuses without `--force`. docs/rollback.md.

use anyhow::Result;
use serde::Serialize;

use super::live_servers;
use super::{Context, Outcome, recover};
use crate::changeset::ChangeSet;
use crate::changeset::render::{self, file_diff};
use crate::cli::RollbackArgs;
use crate::diagnostic::Diagnostic;
use crate::envelope::Envelope;
use crate::live::PrometheusClient;
use crate::phase::PhaseId;
use crate::stack::Stack;
use crate::state::Locked;
use crate::state::engine::{self, Drift, RevertPlan};
use crate::state::journal::{Action, AppliedPhase, Event, Journal};
use crate::state::revert;
use crate::verify::reload::ConfigView;

pub fn run(ctx: &Context, args: &RollbackArgs) -> Result<Outcome> {
    let state = ctx.state()?;
    state.with_lock("rollback", |locked, stale| {
        recover(ctx, locked, stale)?;
        rollback_locked(ctx, args, locked)
    })
}

#[derive(Serialize)]
struct RolledBack {
    phase: String,
    seq: u64,
    files: Vec<String>,
}

/// `--to N`, N from `pullover history`: keep the phases up to the one entry N applied (0:
/// baseline). N must be an apply whose phase is still applied by that very entry.
fn keep_through_entry(journal: &Journal, applied: &[AppliedPhase], number: &str) -> Result<usize> {
    let n: usize = number.parse().unwrap_or(usize::MAX);
    if n == 0 {
        return Ok(0);
    }
    let help = "`pullover history` numbers the entries: pick an apply marked done whose phase is still applied (or --to baseline, --to PHASE)";
    let Some((_, record)) = super::history::entries(journal).find(|(i, _)| *i == n) else {
        return Err(Diagnostic::error(format!("history has no entry #{n}"))
            .help(help)
            .into());
    };
    let Event::Begin { action, phase, .. } = &record.event else {
        return Err(Diagnostic::error(format!(
            "entry #{n} records edits made outside pullover, not an apply to roll back to"
        ))
        .help(help)
        .into());
    };
    if *action != Action::Apply {
        return Err(Diagnostic::error(format!(
            "entry #{n} is a rollback of `{phase}`, not an apply to roll back to"
        ))
        .help(help)
        .into());
    }
    match applied.iter().position(|p| p.seq == record.seq) {
        Some(i) => Ok(i + 1),
        None => Err(Diagnostic::error(format!(
            "entry #{n} applied `{phase}`, and that apply is no longer in place (undone or rolled back since)"
        ))
        .help(help)
        .into()),
    }
}

fn rollback_locked(ctx: &Context, args: &RollbackArgs, locked: &Locked<'_>) -> Result<Outcome> {
    let state = locked.state;
    let applied = state.journal()?.applied();
    let keep = phases_to_keep(&state.journal()?, &applied, args.to.as_deref())?;
    let undo: Vec<&AppliedPhase> = applied.iter().skip(keep).rev().collect();
    if undo.is_empty() {
        return nothing_to_roll_back(ctx, &applied);
    }
    let journal = state.journal()?;
    let drifted: Vec<Drift> = engine::drift(state, &journal)?;
    let plan = engine::plan_revert(state, &undo)?;
    if !drifted.is_empty() && !ctx.json() {
        eprint!(
            "{}",
            super::drift::report(
                ctx,
                state,
                &journal,
                &drifted,
                "A rollback undoes only pullover's own changes: edits that do not meet them stay, recorded in the journal as made outside pullover.",
            )?
        );
    }
    refuse_conflicts_unless_forced(ctx, args, &plan)?;
    let names: Vec<&str> = undo.iter().map(|p| p.phase.as_str()).collect();
    // Before anything is written: --reload needs a Prometheus to reload.
    let reload = if args.reload {
        Some(reload_target(ctx, args)?)
    } else {
        None
    };
    if !ctx.json() {
        ctx.print(&preview(ctx, &plan, &names))?;
    }
    if !ctx.confirm(&format!("Roll back {}?", names.join(", ")), args.yes, "roll back")? {
        ctx.print("Nothing was written.\n")?;
        return Ok(Outcome::Success);
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    engine::record_edits(locked, &drifted, &format!("rollback of {}", quoted.join(", then ")))?;
    let done = roll_back_each_phase(ctx, locked, &plan)?;
    let kept: Vec<String> = plan
        .kept
        .iter()
        .filter(|path| !plan.conflicts.iter().any(|c| &c.path == *path))
        .map(|path| path.to_string())
        .collect();
    if !kept.is_empty() && !ctx.json() {
        ctx.print(&format!(
            "Kept the edits made outside pullover in {} (recorded in `pullover history`).\n",
            kept.join(", ")
        ))?;
    }
    if ctx.json() {
        ctx.print_json(&Envelope::new(
            "rollback",
            serde_json::json!({
                "rolled_back": done,
                "drift": super::drift::to_json(state, &journal, &drifted)?,
                "forced_conflicts": plan.conflicts.iter().map(|c| c.path.to_string()).collect::<Vec<_>>(),
            }),
        ))?;
    }
    if let Some(reload) = reload {
        super::apply::reload_after(
            ctx,
            reload,
            &format!("the rollback of {} is done", names.join(", ")),
            "fix the restored files (`pullover status` shows them)",
        )?;
    }
    Ok(Outcome::Success)
}

/// How many of the applied phases stay: `--to` names a phase, a history entry or `baseline`;
/// without it, all but the last.
fn phases_to_keep(journal: &Journal, applied: &[AppliedPhase], to: Option<&str>) -> Result<usize> {
    Ok(match to {
        None => applied.len().saturating_sub(1),
        Some("baseline") => 0,
        Some(number) if number.parse::<usize>().is_ok() => keep_through_entry(journal, applied, number)?,
        Some(name) => {
            if PhaseId::from_name(name).is_none() {
                let names: Vec<&str> = PhaseId::ALL.iter().map(|p| p.name()).collect();
                return Err(Diagnostic::error(format!("`{name}` is not a phase"))
                    .help(format!("use one of: baseline, {}", names.join(", ")))
                    .into());
            }
            match applied.iter().position(|p| p.phase == name) {
                Some(i) => i + 1,
                None => {
                    return Err(Diagnostic::error(format!(
                        "phase `{name}` is not applied, so there is nothing after it to undo"
                    ))
                    .help("`pullover status` shows the applied phases; `--to baseline` undoes them all")
                    .into());
                }
            }
        }
    })
}

fn nothing_to_roll_back(ctx: &Context, applied: &[AppliedPhase]) -> Result<Outcome> {
    let message = match applied.last() {
        Some(last) => format!("Nothing to roll back: `{}` is the last applied phase.\n", last.phase),
        None => "Nothing to roll back: no phase is applied.\n".to_string(),
    };
    if ctx.json() {
        ctx.print_json(&Envelope::new("rollback", serde_json::json!({"rolled_back": []})))?;
    } else {
        ctx.print(&message)?;
    }
    Ok(Outcome::Success)
}

/// Shows where edits made outside pullover meet the phases' own changes; refuses unless
/// `--force`, which restores pullover's side of those lines.
fn refuse_conflicts_unless_forced(ctx: &Context, args: &RollbackArgs, plan: &RevertPlan) -> Result<()> {
    if plan.conflicts.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for conflict in &plan.conflicts {
        text.push_str(&revert::render_conflicts(
            conflict.path.as_str(),
            &format!("`{}`", conflict.phase),
            &conflict.conflicts,
        ));
    }
    eprint!("{}", crate::changeset::redact::mask_text(&text));
    let paths: Vec<String> = plan.conflicts.iter().map(|c| c.path.to_string()).collect();
    if !args.force {
        return Err(Diagnostic::error(format!(
            "refusing to roll back: {} changed outside pullover where phase `{}` changed {}; nothing was written",
            paths.join(", "),
            plan.conflicts[0].phase,
            if paths.len() == 1 { "it" } else { "them" },
        ))
        .id("rollback-conflict")
        .help("settle the lines shown above by hand and roll back again, or pass --force: the rollback then restores pullover's side of those lines (your version is recorded in the journal and kept in .pullover/objects); edits elsewhere stay either way")
        .into());
    }
    ctx.note("--force: restoring pullover's side of the conflicting lines shown above; your version is recorded in the journal and kept in .pullover/objects");
    Ok(())
}

/// The Prometheus `--reload` talks to, and what its files say before the rollback. A stack
/// that does not load now (a broken file) gives no "before": the reload then only checks that
/// everything the restored files name runs.
fn reload_target(ctx: &Context, args: &RollbackArgs) -> Result<(PrometheusClient, ConfigView)> {
    let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides());
    let url = match &stack {
        Ok(stack) => stack.settings.live.prometheus_url.clone(),
        Err(_) => ctx.global.prometheus_url.clone(),
    };
    let Some(url) = url else {
        return Err(super::apply::no_prometheus_to_reload());
    };
    let before = stack.map(|s| ConfigView::of(&s)).unwrap_or_default();
    Ok((live_servers::prometheus(&url, args.timeout)?, before))
}

/// What the rollback will do, file by file, as the user confirms it.
fn preview(ctx: &Context, plan: &RevertPlan, names: &[&str]) -> String {
    let preview = ChangeSet {
        changes: plan.overall.clone(),
        findings: Vec::new(),
    };
    let what = if plan.kept.is_empty() {
        "restore these files as they were before"
    } else {
        "undo pullover's own changes to these files (the edits made outside pullover stay)"
    };
    let mut text = ctx.bold(&format!("Roll back {}: {what}\n\n", names.join(", then ")));
    for change in &preview.changes {
        text.push_str(&render::display_diff(&file_diff(change), ctx.display()));
        text.push('\n');
    }
    text.push_str(&format!("Rollback: {}.\n", render::summary(&preview)));
    text
}

/// Each phase rolled back as its own journaled transaction, newest first.
fn roll_back_each_phase(ctx: &Context, locked: &Locked<'_>, plan: &RevertPlan) -> Result<Vec<RolledBack>> {
    let mut done = Vec::new();
    for step in &plan.steps {
        let seq = engine::execute(locked, Action::Rollback, &step.phase, &step.changes, &step.owned_dirs)?;
        if !ctx.json() {
            let entry = super::history::entry_number(&locked.state.journal()?, seq);
            ctx.print(&format!("Rolled back phase `{}` (history #{entry}).\n", step.phase))?;
        }
        done.push(RolledBack {
            phase: step.phase.clone(),
            seq,
            files: step.changes.iter().map(|c| c.path.to_string()).collect(),
        });
    }
    Ok(done)
}
