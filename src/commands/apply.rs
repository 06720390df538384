//! `pullover apply [PHASE]`: plan, show, confirm, write, journal — under the
//! state lock, so two applies never interleave.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Context, Outcome, applied_ids, next_phase, plan_json, recover, render_plan};
use crate::cli::ApplyArgs;
use crate::diagnostic::Diagnostic;
use crate::phase::PhaseId;
use crate::state::engine;
use crate::state::journal::Action;

pub fn run(ctx: &Context, args: &ApplyArgs) -> Result<Outcome> {
    let state = ctx.state()?;
    state.with_lock("apply", |locked, stale| {
        recover(ctx, locked, stale)?;
        apply_locked(ctx, args, locked)
    })
}

fn apply_locked(ctx: &Context, args: &ApplyArgs, locked: &crate::state::Locked<'_>) -> Result<Outcome> {
    let applied = locked.state.journal()?.applied();
    let done = applied_ids(&applied);
    let Some(phase) = args.phase.or_else(|| next_phase(&applied)) else {
        ctx.print("Every phase is applied; nothing to do.\n")?;
        return Ok(Outcome::Success);
    };
    if done.contains(&phase) {
        ctx.print(&format!("Phase `{phase}` is applied already; nothing to do.\n"))?;
        return Ok(Outcome::Success);
    }
    if let Some(missing) = PhaseId::ALL.iter().take(phase.number() - 1).find(|p| !done.contains(p)) {
        return Err(
            Diagnostic::error(format!("phase `{phase}` comes after `{missing}`, which is not applied"))
                .help(format!("apply `{missing}` first: pullover apply {missing}"))
                .into(),
        );
    }
    let changeset = super::plan::plan_phase(ctx, phase)?;
    if ctx.json() {
        ctx.print_json(&plan_json("apply", phase, &changeset))?;
    } else {
        ctx.print(&render_plan(ctx, phase, &changeset))?;
    }
    let question = if changeset.is_empty() {
        format!("No file changes; record phase `{phase}` as applied?")
    } else {
        format!("Apply phase `{phase}`?")
    };
    if !ctx.confirm(&question, args.yes, "apply")? {
        ctx.print("Nothing was written.\n")?;
        return Ok(Outcome::Success);
    }
    let seq = engine::execute(
        locked,
        Action::Apply,
        phase.name(),
        &changeset.changes,
        &BTreeMap::new(),
    )?;
    if !ctx.json() {
        ctx.print(&format!(
            "Applied phase `{phase}` (journal #{seq}). Gate before the next phase: {}.\nUndo it with `pullover rollback`.\n",
            phase.gate()
        ))?;
    }
    Ok(Outcome::Success)
}
