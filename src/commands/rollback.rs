//! `pullover rollback [--to PHASE] [--force]`: undo applied phases, newest
//! first, each as its own journaled transaction, restoring exact bytes and
//! modes. Drift (a managed file edited since) is shown and refused without
//! `--force`.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::live;
use super::{Context, Outcome, recover};
use crate::changeset::render::{self, file_diff};
use crate::changeset::{ChangeSet, FileChange, FileState};
use crate::cli::RollbackArgs;
use crate::diagnostic::Diagnostic;
use crate::live::checks::reload::{ConfigView, ExpectedConfig};
use crate::phase::PhaseId;
use crate::stack::Stack;
use crate::stack::source::RelPath;
use crate::state::engine::{self, Drift};
use crate::state::journal::{Action, AppliedPhase, Blob, Event, Journal};
use crate::state::{Locked, StateDir};

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
        return Err(Diagnostic::error(format!("history has no entry #{n}"))
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
    let keep = match args.to.as_deref() {
        None => applied.len().saturating_sub(1),
        Some("baseline") => 0,
        Some(number) if number.parse::<usize>().is_ok() => keep_through_entry(&state.journal()?, &applied, number)?,
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
    };
    let undo: Vec<&AppliedPhase> = applied.iter().skip(keep).rev().collect();
    if undo.is_empty() {
        let message = match applied.last() {
            Some(last) => format!("Nothing to roll back: `{}` is the last applied phase.\n", last.phase),
            None => "Nothing to roll back: no phase is applied.\n".to_string(),
        };
        if ctx.json() {
            ctx.print_json(&serde_json::json!({"version": 1, "command": "rollback", "rolled_back": []}))?;
        } else {
            ctx.print(&message)?;
        }
        return Ok(Outcome::Success);
    }
    let touched: Vec<&RelPath> = undo.iter().flat_map(|p| p.files.iter().map(|f| &f.path)).collect();
    let drifted: Vec<Drift> = engine::drift(state, &applied)?
        .into_iter()
        .filter(|d| touched.contains(&&d.path))
        .collect();
    if !drifted.is_empty() {
        let mut text = ctx.bold("These managed files changed after pullover wrote them:\n");
        for d in &drifted {
            text.push_str(&render::display_diff(
                &file_diff(&drift_change(state, d)?),
                ctx.display(),
            ));
        }
        eprint!("{text}");
        if !args.force {
            let paths: Vec<String> = drifted.iter().map(|d| d.path.to_string()).collect();
            return Err(Diagnostic::error(format!(
                "refusing to roll back: {} changed since phase `{}` was applied",
                paths.join(", "),
                drifted[0].phase
            ))
            .help("keep the edits and roll back by hand, or pass --force: the rollback then replaces them, and their content stays in .pullover/objects")
            .into());
        }
        ctx.note("--force: rolling back over the changes shown above; their content is kept in .pullover/objects");
    }
    let preview = ChangeSet {
        changes: composite_undo(state, &undo)?,
        findings: Vec::new(),
    };
    let names: Vec<&str> = undo.iter().map(|p| p.phase.as_str()).collect();
    // Before anything is written: --reload needs a Prometheus to reload.
    let reload = if args.reload {
        let stack = Stack::load(&ctx.global.stack, &ctx.global.overrides());
        let url = match &stack {
            Ok(stack) => stack.settings.live.prometheus_url.clone(),
            Err(_) => ctx.global.prometheus_url.clone(),
        };
        let Some(url) = url else {
            return Err(Diagnostic::error(
                "--reload needs Prometheus, and no Prometheus URL is configured; nothing was written",
            )
            .help("pass --prometheus-url URL, or set `live: {prometheus_url: …}` in pullover.yaml")
            .into());
        };
        // A stack that does not load now (a broken file) gives no "before": the reload then
        // only checks that everything the restored files name runs.
        let before = stack.map(|s| ConfigView::of(&s)).unwrap_or_default();
        Some((live::prometheus(&url, args.timeout)?, before))
    } else {
        None
    };
    if !ctx.json() {
        let mut text = ctx.bold(&format!(
            "Roll back {}: restore these files as they were before\n\n",
            names.join(", then ")
        ));
        for change in &preview.changes {
            text.push_str(&render::display_diff(&file_diff(change), ctx.display()));
            text.push('\n');
        }
        text.push_str(&format!("Rollback: {}.\n", render::summary(&preview)));
        ctx.print(&text)?;
    }
    if !ctx.confirm(&format!("Roll back {}?", names.join(", ")), args.yes, "roll back")? {
        ctx.print("Nothing was written.\n")?;
        return Ok(Outcome::Success);
    }
    let mut done = Vec::new();
    for phase in undo {
        let (changes, owned_dirs) = engine::undo_changes(state, phase)?;
        let seq = engine::execute(locked, Action::Rollback, &phase.phase, &changes, &owned_dirs)?;
        if !ctx.json() {
            let entry = super::history::entry_number(&state.journal()?, seq);
            ctx.print(&format!("Rolled back phase `{}` (history #{entry}).\n", phase.phase))?;
        }
        done.push(RolledBack {
            phase: phase.phase.clone(),
            seq,
            files: changes.iter().map(|c| c.path.to_string()).collect(),
        });
    }
    if ctx.json() {
        ctx.print_json(&serde_json::json!({"version": 1, "command": "rollback", "rolled_back": done}))?;
    }
    if let Some((client, before)) = reload {
        let after = ConfigView::of(&Stack::load(&ctx.global.stack, &ctx.global.overrides())?);
        live::reload(
            ctx,
            &client,
            &ExpectedConfig::between(&before, &after),
            &format!("the rollback of {} is done", names.join(", ")),
            "fix the restored files (`pullover status` shows them)",
            &live::runtime()?,
        )?;
    }
    Ok(Outcome::Success)
}

fn read_blob(state: &StateDir, blob: &Option<Blob>) -> Result<Option<FileState>> {
    Ok(match blob {
        Some(b) => Some(FileState {
            bytes: state.objects().get(&b.sha256)?.into(),
            mode: b.mode,
        }),
        None => None,
    })
}

fn disk_state(state: &StateDir, path: &RelPath) -> Result<Option<FileState>> {
    let blob = state.disk_blob(path)?;
    Ok(match (state.read_disk(path)?, blob) {
        (Some(bytes), Some(blob)) => Some(FileState {
            bytes: bytes.into(),
            mode: blob.mode,
        }),
        _ => None,
    })
}

/// The drift of one file as a change from what pullover wrote to what is there.
fn drift_change(state: &StateDir, drift: &Drift) -> Result<FileChange> {
    Ok(FileChange {
        path: drift.path.clone(),
        before: read_blob(state, &drift.expected)?,
        after: disk_state(state, &drift.path)?,
        because: format!("edited after phase {} was applied", drift.phase),
    })
}

/// Every file back to how the oldest undone phase found it, from how it is now.
fn composite_undo(state: &StateDir, undo: &[&AppliedPhase]) -> Result<Vec<FileChange>> {
    let mut target: BTreeMap<RelPath, Option<Blob>> = BTreeMap::new();
    // `undo` is newest first, so the oldest phase's `before` is inserted last and wins.
    for phase in undo {
        for file in &phase.files {
            target.insert(file.path.clone(), file.before.clone());
        }
    }
    let mut changes = Vec::new();
    for (path, blob) in target {
        let current = disk_state(state, &path)?;
        let restore = read_blob(state, &blob)?;
        if current != restore {
            changes.push(FileChange {
                path,
                before: current,
                after: restore,
                because: "rollback".into(),
            });
        }
    }
    Ok(changes)
}
