//! `pullover plan [PHASE]`: the next (or named) phase as a diff. Writes
//! nothing but an optional `--patch` file.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use anyhow::{Context as _, Result};

use super::{Context, Outcome, applied_ids, next_phase, plan_json, print_plan, recover_if_needed};
use crate::changeset::{ChangeSet, render};
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
        write_patch(path, state.root(), &changeset)?;
        ctx.note(&format!(
            "wrote the patch to {} (apply it with `git apply`)",
            path.display()
        ));
    }
    if ctx.json() {
        ctx.print_json(&plan_json("plan", phase, &changeset))?;
    } else {
        print_plan(ctx, phase, &changeset)?;
        if !changeset.is_empty() && !done.contains(&phase) {
            ctx.print(&format!("Apply it with `pullover apply {phase}`.\n"))?;
        }
    }
    Ok(if args.detailed_exitcode && !changeset.is_empty() {
        Outcome::ChangesPending
    } else {
        Outcome::Success
    })
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
    let mut changeset = planner(&stack)?;
    changeset.findings.extend(crate::stack::outside::findings(&stack));
    Ok(changeset)
}

/// The patch holds the real bytes (secrets too), so only its owner may read
/// it: it is always a fresh file of mode 0600 (a temp file renamed into
/// place), never an existing file reopened, and never written through a
/// symlink (which could aim it at a file of the stack, or anywhere).
fn write_patch(path: &std::path::Path, stack_root: &std::path::Path, changeset: &ChangeSet) -> Result<()> {
    let refuse = |what: &str| -> anyhow::Error {
        Diagnostic::error(format!("--patch {}: {what}; nothing was written", path.display()))
            .help("pass --patch a new file name, outside the stack (e.g. --patch /tmp/phase.patch)")
            .into()
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(refuse("it is a symlink, and pullover does not write through one"));
        }
        Ok(meta) if !meta.is_file() => return Err(refuse("it exists and is not a regular file")),
        _ => {}
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    // Nor over a file the plan itself changes: `plan` writes no stack file.
    if let (Ok(real_dir), Some(name)) = (std::fs::canonicalize(dir), path.file_name()) {
        let real = real_dir.join(name);
        if let Some(change) = changeset
            .changes
            .iter()
            .find(|c| stack_root.join(c.path.as_str()) == real)
        {
            return Err(refuse(&format!("it is {}, a file this plan changes", change.path)));
        }
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".pullover-patch-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("cannot write the patch to {}", path.display()))?;
    tmp.write_all(render::patch(changeset).as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write the patch to {}", path.display()))?;
    Ok(())
}
