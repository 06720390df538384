//! `pullover plan [PHASE]`: the next (or named) phase as a diff. Writes
//! nothing but an optional `--patch` file.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{Context as _, Result};

use super::{Context, Outcome, applied_ids, next_phase, plan_json, print_plan, recover_if_needed};
use crate::changeset::{ChangeSet, markdown, render};
use crate::cli::Format;
use crate::cli::PlanArgs;
use crate::diagnostic::Diagnostic;
use crate::phase::PhaseId;
use crate::stack::Stack;

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<Outcome> {
    let state = ctx.state()?;
    recover_if_needed(ctx, &state)?;
    let applied = state.journal()?.applied();
    let Some(phase) = args.phase.or_else(|| next_phase(&applied)) else {
        if ctx.json() {
            ctx.print_json(
                &serde_json::json!({"version": 1, "command": "plan", "phase": null, "changes": [], "findings": []}),
            )?;
        } else {
            ctx.print(
                "Every phase is applied; nothing to plan. `pullover status` shows drift, `pullover rollback` undoes.\n",
            )?;
        }
        return Ok(Outcome::Success);
    };
    let done = applied_ids(&applied);
    if done.contains(&phase) {
        ctx.note(&format!(
            "phase `{phase}` is applied already; this shows what planning it again finds"
        ));
    } else if let Some(missing) = PhaseId::ALL.iter().take(phase.number() - 1).find(|p| !done.contains(p)) {
        ctx.note(&format!(
            "`{missing}` is not applied yet; `pullover apply {phase}` refuses until it is"
        ));
    }
    let changeset = plan_phase(ctx, phase)?;
    if let Some(path) = &args.patch {
        write_patch(path, &changeset)?;
        ctx.note(&format!(
            "wrote the patch to {} (apply it with `git apply`)",
            path.display()
        ));
    }
    if ctx.json() {
        ctx.print_json(&plan_json("plan", phase, &changeset))?;
    } else if ctx.global.format == Format::Markdown {
        let next = PhaseId::ALL.get(phase.number()).copied();
        let text = markdown::PhaseText {
            name: phase.name(),
            number: phase.number(),
            of: PhaseId::ALL.len(),
            summary: phase.summary(),
            gate: (phase != PhaseId::Docs).then(|| phase.gate()),
            next: next.map(PhaseId::name),
        };
        ctx.print(&markdown::render(&text, &changeset))?;
    } else {
        print_plan(ctx, phase, &changeset)?;
        if !changeset.is_empty() && !done.contains(&phase) {
            ctx.print(&format!("Apply it with `pullover apply {phase}`.\n"))?;
        }
    }
    if let Some(level) = args.fail_on {
        let at_level = changeset
            .findings
            .iter()
            .filter(|f| f.severity >= level.severity())
            .count();
        if at_level > 0 {
            ctx.note(&format!(
                "{at_level} finding{} at or above `{}` remain{} (--fail-on {}): exit 4",
                if at_level == 1 { "" } else { "s" },
                level.severity().label(),
                if at_level == 1 { "s" } else { "" },
                level.severity().label(),
            ));
            return Ok(Outcome::FindingsAtLevel);
        }
    }
    // Queries waiting for a decision are pending work too, as Terraform's exit 2 means.
    Ok(
        if args.detailed_exitcode && (!changeset.is_empty() || changeset.waiting() > 0) {
            Outcome::ChangesPending
        } else {
            Outcome::Success
        },
    )
}

/// Reads the stack and runs the phase's planner.
pub(super) fn plan_phase(ctx: &Context, phase: PhaseId) -> Result<ChangeSet> {
    let Some(planner) = phase.planner() else {
        return Err(
            Diagnostic::error(format!("phase `{phase}` is not available in this version of pullover"))
                .help("`pullover status` lists which phases this version has")
                .into(),
        );
    };
    let mut stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    if phase.learns_from_live() {
        super::live::observe_pushes(ctx, &mut stack)?;
    }
    Ok(planner(&stack)?)
}

/// The patch holds the real bytes (secrets too), so only its owner may read it.
fn write_patch(path: &std::path::Path, changeset: &ChangeSet) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the patch to {}", path.display()))?;
    file.write_all(render::patch(changeset).as_bytes())?;
    file.sync_all()?;
    Ok(())
}
