//! `pullover apply [PHASE]`: plan, show, confirm, write, journal — under the
//! state lock, so two applies never interleave.

use std::collections::BTreeMap;

use anyhow::Result;

use super::live::{self, Gate};
use super::{Context, Outcome, applied_ids, next_phase, plan_json, print_plan, recover};
use crate::cli::ApplyArgs;
use crate::diagnostic::Diagnostic;
use crate::live::PrometheusClient;
use crate::live::checks::found::Found;
use crate::live::checks::reload::{ConfigView, ExpectedConfig};
use crate::stack::Stack;
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
    if let Some(missing) = phase.required_before().find(|p| !done.contains(p)) {
        return Err(
            Diagnostic::error(format!("phase `{phase}` comes after `{missing}`, which is not applied"))
                .help(format!("apply `{missing}` first: pullover apply {missing}"))
                .into(),
        );
    }
    let changeset = super::plan::plan_phase(ctx, phase)?;
    // Before anything is written: --reload needs a Prometheus to reload.
    let reload = if args.reload {
        Some(reload_target(ctx, args)?)
    } else {
        None
    };
    if let Gate::Closed = live::gate(ctx, phase, &args.live, args.force, locked.state)? {
        return Ok(Outcome::CheckFailed);
    }
    if ctx.json() {
        ctx.print_json(&plan_json("apply", phase, &changeset))?;
    } else {
        print_plan(ctx, phase, &changeset)?;
    }
    let waiting = changeset.waiting();
    if waiting > 0 {
        // Applying now would record the phase as done with its work left undone.
        return Err(Diagnostic::error(format!(
            "{waiting} quer{} of phase `{phase}` wait for a decision; nothing was written",
            if waiting == 1 { "y" } else { "ies" }
        ))
        .help("settle what the `pushed-identity-undecided` finding names (a `pushed_job:` pin in pullover.yaml), then apply again")
        .into());
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
    // What the phase found (the gateway's job and target, the apps and what they push) goes
    // into the journal with it: after `remove` discovery cannot find them any more.
    let found = Stack::load(&ctx.global.stack, &ctx.global.overrides())
        .ok()
        .and_then(|mut stack| {
            live::fill_from_journal(&mut stack, &applied);
            Found::of(&stack).to_json()
        });
    let seq = engine::execute_recording(
        locked,
        Action::Apply,
        phase.name(),
        &changeset.changes,
        &BTreeMap::new(),
        found,
    )?;
    let entry = super::history::entry_number(&locked.state.journal()?, seq);
    if !ctx.json() {
        ctx.print(&format!(
            "Applied phase `{phase}` (history #{entry}). Gate before the next phase: {}; `pullover verify` checks it.\nUndo it with `pullover rollback`.\n",
            phase.gate()
        ))?;
    }
    if let Some((client, before)) = reload {
        let after = ConfigView::of(&Stack::load(&ctx.global.stack, &ctx.global.overrides())?);
        live::reload(
            ctx,
            &client,
            &ExpectedConfig::between(&before, &after),
            &format!("phase `{phase}` is applied (history #{entry})"),
            "`pullover rollback --reload` undoes it and reloads",
            &live::runtime()?,
        )?;
    }
    Ok(Outcome::Success)
}

/// The Prometheus `--reload` talks to, and what its files say before the phase.
fn reload_target(ctx: &Context, args: &ApplyArgs) -> Result<(PrometheusClient, ConfigView)> {
    let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    let Some(url) = stack.settings.live.prometheus_url.as_deref() else {
        return Err(Diagnostic::error(
            "--reload needs Prometheus, and no Prometheus URL is configured; nothing was written",
        )
        .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml")
        .into());
    };
    Ok((live::prometheus(url, args.live.timeout)?, ConfigView::of(&stack)))
}
