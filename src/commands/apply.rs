//! `pullover apply [PHASE|PLANFILE]`: plan (or read the plan saved by `plan --out`), show,
//! confirm, write, journal — under the state lock, so two applies never interleave.

use std::collections::BTreeMap;

use anyhow::Result;

use super::live_servers::{self, Gate};
use super::{Context, Outcome, applied_ids, current_drift, next_phase, plan_json, print_plan, recover};
use crate::changeset::{ChangeSet, FileChange, saved};
use crate::cli::ApplyArgs;
use crate::diagnostic::Diagnostic;
use crate::live::PrometheusClient;
use crate::phase::PhaseId;
use crate::stack::Stack;
use crate::state::engine;
use crate::state::journal::Action;
use crate::verify::found::Found;
use crate::verify::reload::{ConfigView, ExpectedConfig};

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
    let saved = match args.target.as_deref() {
        Some(target) if PhaseId::from_name(target).is_none() => Some(saved_changeset(ctx, locked, target)?),
        _ => None,
    };
    let named = match &saved {
        Some((phase, _)) => Some(*phase),
        None => args.target.as_deref().and_then(PhaseId::from_name),
    };
    let Some(phase) = named.or_else(|| next_phase(&applied)) else {
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
    let changeset = match saved {
        Some((_, changeset)) => changeset,
        None => super::plan::plan_phase(ctx, phase)?,
    };
    // Before anything is written: --reload needs a Prometheus to reload.
    let reload = if args.reload {
        Some(reload_target(ctx, args)?)
    } else {
        None
    };
    if let Gate::Closed = live_servers::gate(ctx, phase, &args.live, args.force, locked.state)? {
        return Ok(Outcome::CheckFailed);
    }
    let (journal, drift) = current_drift(locked.state)?;
    // With --format json the plan is printed once, at the end, with what became of it (or the
    // error in it): one document on stdout.
    let document = if ctx.json() {
        Some(serde_json::to_value(plan_json(
            "apply",
            phase,
            &changeset,
            super::drift::to_json(locked.state, &journal, &drift)?,
        ))?)
    } else {
        ctx.print(&super::drift::report(
            ctx,
            locked.state,
            &journal,
            &drift,
            "Applying records these edits as made outside pullover; a rollback keeps them.",
        )?)?;
        print_plan(ctx, phase, &changeset)?;
        None
    };
    let applied_as = write_phase(ctx, args, locked, phase, &changeset, &applied, &drift, reload);
    match (document, applied_as) {
        (Some(mut document), Ok(entry)) => {
            if let Some(object) = document.as_object_mut() {
                let applied = entry.map_or(
                    serde_json::Value::Bool(false),
                    |entry| serde_json::json!({"history": entry}),
                );
                object.insert("applied".into(), applied);
            }
            ctx.print_json(&document)?;
            Ok(Outcome::Success)
        }
        (Some(document), Err(error)) => Err(super::ErrorWithJson { document, error }.into()),
        (None, applied_as) => applied_as.map(|_| Outcome::Success),
    }
}

/// After the plan is shown: confirms, writes and journals the phase, reloads Prometheus when
/// asked. The history number of the entry, or `None` when the person declined.
#[allow(clippy::too_many_arguments)]
fn write_phase(
    ctx: &Context,
    args: &ApplyArgs,
    locked: &crate::state::Locked<'_>,
    phase: PhaseId,
    changeset: &ChangeSet,
    applied: &[crate::state::journal::AppliedPhase],
    drift: &[engine::Drift],
    reload: Option<(PrometheusClient, ConfigView)>,
) -> Result<Option<usize>> {
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
        if !ctx.json() {
            ctx.print("Nothing was written.\n")?;
        }
        return Ok(None);
    }
    // What the phase found (the gateway's job and target, the apps and what they push) goes
    // into the journal with it: after `remove` discovery cannot find them any more.
    let found = Stack::load(&ctx.global.stack, &ctx.global.overrides())
        .ok()
        .and_then(|mut stack| {
            live_servers::fill_from_journal(&mut stack, applied);
            Found::of(&stack).to_json()
        });
    engine::record_edits(locked, drift, &format!("apply of `{phase}`"))?;
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
    if let Some(reload) = reload {
        reload_after(
            ctx,
            reload,
            &format!("phase `{phase}` is applied (history #{entry})"),
            "`pullover rollback --reload` undoes it and reloads",
        )?;
    }
    Ok(Some(entry))
}

/// The changes of a plan saved by `plan --out FILE`, exactly as saved, after checking that
/// nothing it was planned from changed since: the journal's last entry, every input file's
/// hash, and each changed file as it was. Any difference refuses, naming FILE.
fn saved_changeset(ctx: &Context, locked: &crate::state::Locked<'_>, target: &str) -> Result<(PhaseId, ChangeSet)> {
    let file = std::path::Path::new(target);
    let refuse = |what: String, help: &str| -> anyhow::Error {
        Diagnostic::error(format!("saved plan {target}: {what}; nothing was written"))
            .help(help.to_string())
            .id("saved-plan-refused")
            .into()
    };
    let plan_again = format!("review what changed, then plan again: pullover plan --out {target}");
    let meta = match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() => meta,
        _ => {
            let names: Vec<&str> = PhaseId::ALL.iter().map(|p| p.name()).collect();
            return Err(
                Diagnostic::error(format!("`{target}` is neither a phase nor a saved plan file"))
                    .help(format!(
                        "apply a phase ({}), or a plan saved with `pullover plan --out FILE`",
                        names.join(", ")
                    ))
                    .into(),
            );
        }
    };
    if meta.len() > MAX_SAVED_PLAN_BYTES {
        return Err(refuse(
            format!("it is larger than {MAX_SAVED_PLAN_BYTES} bytes"),
            &plan_again,
        ));
    }
    let text = std::fs::read_to_string(file).map_err(|e| refuse(format!("cannot read it ({e})"), &plan_again))?;
    let plan = saved::parse(&text).map_err(|e| refuse(e, &plan_again))?;
    let Some(phase) = PhaseId::from_name(&plan.phase) else {
        return Err(refuse(
            format!("it names no phase of this pullover (`{}`)", plan.phase),
            &plan_again,
        ));
    };
    let state = locked.state;
    if state.journal()?.chain_head() != plan.journal {
        return Err(refuse(
            "it is stale: the journal has entries made since it was planned (`pullover history` shows them)".into(),
            &plan_again,
        ));
    }
    let changed = saved::changed_inputs(&plan.inputs, &super::plan::plan_inputs(ctx, state)?);
    if !changed.is_empty() {
        return Err(refuse(
            format!("the files it was planned from changed since: {}", changed.join(", ")),
            &plan_again,
        ));
    }
    if plan.waiting > 0 {
        return Err(refuse(
            format!("{} of its queries wait for a decision", plan.waiting),
            "settle what the `pushed-identity-undecided` finding names, then plan again",
        ));
    }
    let mut changes = Vec::new();
    for change in &plan.changes {
        let before = engine::disk_state(state, &change.path)?;
        let as_planned = match (&before, &change.before) {
            (None, None) => true,
            (Some(now), Some(then)) => now.sha256() == then.sha256 && now.mode == then.mode,
            _ => false,
        };
        if !as_planned {
            return Err(refuse(
                format!("{} is not as it was planned from", change.path),
                &plan_again,
            ));
        }
        let after = change
            .after
            .as_ref()
            .map(|a| a.state())
            .transpose()
            .map_err(|e| refuse(format!("the change of {}: {e}", change.path), &plan_again))?;
        changes.push(FileChange {
            path: change.path.clone(),
            before,
            after,
            because: change.because.clone(),
        });
    }
    ctx.note(&format!(
        "applying the plan saved in {target} (phase `{phase}`, planned {} with {}); its findings are in the file",
        plan.time, plan.tool
    ));
    Ok((
        phase,
        ChangeSet {
            changes,
            findings: Vec::new(),
        },
    ))
}

/// A saved plan larger than this is refused unread (a plan of 1,000 dashboards is ~50 MB).
const MAX_SAVED_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// The Prometheus `--reload` talks to, and what its files say before the phase.
fn reload_target(ctx: &Context, args: &ApplyArgs) -> Result<(PrometheusClient, ConfigView)> {
    let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    let Some(url) = stack.settings.live.prometheus_url.as_deref() else {
        return Err(no_prometheus_to_reload());
    };
    Ok((
        live_servers::prometheus(url, args.live.timeout)?,
        ConfigView::of(&stack),
    ))
}

/// `--reload` (of apply or rollback) with no Prometheus URL configured.
pub(super) fn no_prometheus_to_reload() -> anyhow::Error {
    Diagnostic::error("--reload needs Prometheus, and no Prometheus URL is configured; nothing was written")
        .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml")
        .into()
}

/// Once the files are written (by apply or rollback): reloads Prometheus and checks that it
/// runs what they now say, against what they said `before`.
pub(super) fn reload_after(
    ctx: &Context,
    (client, before): (PrometheusClient, ConfigView),
    done: &str,
    then: &str,
) -> Result<()> {
    let after = ConfigView::of(&Stack::load(&ctx.global.stack, &ctx.global.overrides())?);
    live_servers::reload(
        ctx,
        &client,
        &ExpectedConfig::between(&before, &after),
        done,
        then,
        &live_servers::runtime()?,
    )?;
    Ok(())
}
