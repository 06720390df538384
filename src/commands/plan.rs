//! `pullover plan [PHASE]`: the next (or named) phase as a diff. Writes
//! nothing but an optional `--patch` file and an optional saved plan (`--out`).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use anyhow::{Context as _, Result};

use super::{Context, Outcome, applied_ids, current_drift, next_phase, plan_json, print_plan, recover_if_needed};
use crate::changeset::{ChangeSet, markdown, render, saved};
use crate::cli::Format;
use crate::cli::PlanArgs;
use crate::diagnostic::Diagnostic;
use crate::envelope::Envelope;
use crate::phase::PhaseId;
use crate::stack::Stack;

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<Outcome> {
    let state = ctx.state()?;
    recover_if_needed(ctx, &state)?;
    let applied = state.journal()?.applied();
    let Some(phase) = args.phase.or_else(|| next_phase(&applied)) else {
        if ctx.json() {
            ctx.print_json(&Envelope::new(
                "plan",
                serde_json::json!({"phase": null, "changes": [], "findings": []}),
            ))?;
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
    } else if let Some(missing) = phase.required_before().find(|p| !done.contains(p)) {
        ctx.note(&format!(
            "`{missing}` is not applied yet; `pullover apply {phase}` refuses until it is"
        ));
    }
    let changeset = plan_phase(ctx, phase)?;
    let (journal, drift) = current_drift(&state)?;
    if let Some(path) = &args.out {
        let saved = saved_plan(ctx, &state, &journal, phase, &changeset)?;
        let mut text = serde_json::to_string_pretty(&saved)?;
        text.push('\n');
        write_private(path, "--out", state.root(), &changeset, text.as_bytes())?;
        ctx.note(&format!(
            "saved the plan to {} (apply exactly it with `pullover apply {}`)",
            path.display(),
            path.display()
        ));
    }
    if let Some(path) = &args.patch {
        write_private(
            path,
            "--patch",
            state.root(),
            &changeset,
            render::patch(&changeset).as_bytes(),
        )?;
        ctx.note(&format!(
            "wrote the patch to {} (apply it with `git apply`)",
            path.display()
        ));
    }
    if ctx.json() {
        ctx.print_json(&plan_json(
            "plan",
            phase,
            &changeset,
            super::drift::to_json(&state, &journal, &drift)?,
        ))?;
    } else if ctx.global.format == Format::Markdown {
        let next = PhaseId::ALL.get(phase.number() + 1).copied();
        let text = markdown::PhaseText {
            name: phase.name(),
            number: phase.number(),
            of: PhaseId::LAST,
            summary: phase.summary(),
            gate: (phase != PhaseId::Docs).then(|| phase.gate()),
            next: next.map(PhaseId::name),
        };
        ctx.print(&markdown::render(&text, &changeset))?;
        if !drift.is_empty() {
            ctx.print(&markdown_drift(&journal, &drift, &state)?)?;
        }
    } else {
        ctx.print(&super::drift::report(
            ctx,
            &state,
            &journal,
            &drift,
            "`pullover apply` records these edits as made outside pullover; a rollback keeps them.",
        )?)?;
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

/// Drift as a section of the pull-request description: each file's headline and diff.
fn markdown_drift(
    journal: &crate::state::journal::Journal,
    drift: &[crate::state::engine::Drift],
    state: &crate::state::StateDir,
) -> Result<String> {
    let mut out = String::from("\n### Changed outside pullover\n\n");
    for d in super::drift::to_json(state, journal, drift)? {
        out.push_str(&format!("{}:\n\n```diff\n{}```\n\n", d.message, d.diff));
    }
    out.push_str("`pullover apply` records these edits as made outside pullover; a rollback keeps them.\n");
    Ok(out)
}

/// Reads the stack and runs the phase's planner.
pub(super) fn plan_phase(ctx: &Context, phase: PhaseId) -> Result<ChangeSet> {
    let planner = phase.planner();
    // Read before the stack itself, so that the two never hold their dashboards at once.
    let remembered = remembered_gateway(ctx)?;
    let mut stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    if stack.settings.gateway.is_none()
        && let Some(remembered) = remembered
    {
        remembered.fill_in(&mut stack);
    }
    if phase.learns_from_live() {
        super::live_servers::observe_pushes(ctx, &mut stack)?;
        super::live_servers::observe_prometheus_version(ctx, &mut stack)?;
    }
    let mut changeset = match stack.kube.clone() {
        Some(kube) => crate::phase::kube::plan(phase, &stack, &kube)?,
        None => planner(&stack)?,
    };
    changeset.findings.extend(crate::stack::outside::findings(&stack));
    Ok(changeset)
}

/// The gateway and apps the stack had before `remove`, and where that was read.
struct RememberedGateway {
    gateway: crate::stack::Gateway,
    apps: Vec<crate::stack::App>,
    remove_seq: u64,
}

impl RememberedGateway {
    fn fill_in(self, stack: &mut Stack) {
        let gateway = self.gateway;
        stack.evidence.push(crate::stack::discover::Evidence {
            setting: "gateway.service".into(),
            value: gateway.service.clone().unwrap_or_else(|| gateway.address()),
            because: format!("the stack before the `remove` phase (journal #{})", self.remove_seq),
        });
        stack.settings.gateway = Some(gateway);
        stack.settings.apps = self.apps;
    }
}

/// After `remove` the stack has no gateway left to find: the `docs` phase learns which gateway
/// and apps were migrated from the stack as it was before `remove`, rebuilt from the journal's
/// snapshots in a temporary folder.
fn remembered_gateway(ctx: &Context) -> Result<Option<RememberedGateway>> {
    let state = ctx.state()?;
    if !state.exists()? {
        return Ok(None);
    }
    let applied = state.journal()?.applied();
    let Some(remove) = applied.iter().rev().find(|p| p.phase == PhaseId::Remove.name()) else {
        return Ok(None);
    };
    // `apply remove` recorded what it found; a record from before it recorded all of that is
    // read again from the stack as it was, rebuilt below.
    let recorded = crate::verify::found::Found::from_json(remove.found.as_ref()).filter(|f| f.complete);
    if let Some(found) = recorded
        && let Some(gateway) = &found.gateway
    {
        return Ok(Some(RememberedGateway {
            gateway: gateway.to_gateway(),
            apps: found.recorded_apps(),
            remove_seq: remove.seq,
        }));
    }
    let copy = tempfile::tempdir().context("cannot create a temporary folder")?;
    let root = copy.path().join("stack");
    copy_tree(state.root(), &root)?;
    let objects = state.objects();
    for file in &remove.files {
        let path = root.join(file.path.as_str());
        match &file.before {
            Some(blob) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, objects.get(&blob.sha256)?)?;
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let Ok(before) = Stack::load(&root, &ctx.global.overrides()) else {
        return Ok(None);
    };
    Ok(before.settings.gateway.map(|gateway| RememberedGateway {
        gateway,
        apps: before.settings.apps,
        remove_seq: remove.seq,
    }))
}

/// Copies the stack folder, pullover's own state left out.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)?.flatten() {
        if entry.file_name() == ".pullover" {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The patch holds the real bytes (secrets too), so only its owner may read
/// it: it is always a fresh file of mode 0600 (a temp file renamed into
/// place), never an existing file reopened, and never written through a
/// symlink (which could aim it at a file of the stack, or anywhere).
fn write_private(
    path: &std::path::Path,
    flag: &str,
    stack_root: &std::path::Path,
    changeset: &ChangeSet,
    bytes: &[u8],
) -> Result<()> {
    let refuse = |what: &str| -> anyhow::Error {
        Diagnostic::error(format!("{flag} {}: {what}; nothing was written", path.display()))
            .help(format!(
                "pass {flag} a new file name, outside the stack (e.g. {flag} /tmp/phase.{})",
                if flag == "--out" { "plan" } else { "patch" }
            ))
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
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The plan as `plan --out` saves it: the changes, the inputs it was planned from (every file
/// of the stack it read, `pullover.yaml` and `.env` included) and the journal's last entry.
fn saved_plan(
    ctx: &Context,
    state: &crate::state::StateDir,
    journal: &crate::state::journal::Journal,
    phase: PhaseId,
    changeset: &ChangeSet,
) -> Result<saved::SavedPlan> {
    let findings = serde_json::to_value(&changeset.findings)?;
    Ok(saved::save(
        saved::Context {
            tool: format!("pullover {}", env!("CARGO_PKG_VERSION")),
            phase: phase.name(),
            time: crate::state::now(),
            journal: journal.chain_head(),
            inputs: plan_inputs(ctx, state)?,
            findings,
        },
        changeset,
    ))
}

/// Every file a plan is made from, with its sha256, as the stack reads now.
pub(super) fn plan_inputs(
    ctx: &Context,
    state: &crate::state::StateDir,
) -> Result<std::collections::BTreeMap<crate::stack::source::RelPath, String>> {
    let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    let mut inputs = stack.input_hashes();
    for name in [crate::stack::settings::SETTINGS_FILE, ".env"] {
        let rel = crate::stack::source::RelPath::new(name).map_err(anyhow::Error::msg)?;
        if let Some(blob) = state.disk_blob(&rel)? {
            inputs.insert(rel, blob.sha256);
        }
    }
    Ok(inputs)
}
