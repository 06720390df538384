//! `pullover status`: applied phases, the next one, interrupted work and drift.
//! Reads only the journal and the managed files, so it is fast and works even
//! when a config file is broken.

use anyhow::Result;
use serde::Serialize;

use super::{Context, Outcome, next_phase};
use crate::envelope::Envelope;
use crate::phase::PhaseId;
use crate::stack::source::RelPath;
use crate::state::LockState;
use crate::state::engine::{self, Drift};
use crate::state::journal::{AppliedPhase, Event, Journal};

#[derive(Serialize)]
struct PhaseStatus {
    phase: PhaseId,
    number: usize,
    state: &'static str,
    /// Always true now that every phase has a planner; kept so that `status --format json`
    /// reads as it did for scripts written when some phases were still to come.
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    journal_seq: Option<u64>,
}

#[derive(Serialize)]
struct DriftJson {
    path: String,
    message: String,
    expected_sha256: Option<String>,
    actual_sha256: Option<String>,
}

/// Edits made outside pullover that an apply or rollback recorded while the phases applied
/// now were in place: (path, history number).
fn recorded_edits(journal: &Journal, applied: &[AppliedPhase]) -> Vec<(String, usize)> {
    let Some(first) = applied.first() else {
        return Vec::new();
    };
    let managed: Vec<&RelPath> = applied.iter().flat_map(|p| p.files.iter().map(|f| &f.path)).collect();
    let mut out = Vec::new();
    for record in journal.records.iter().filter(|r| r.seq > first.seq) {
        if let Event::Edited { files, .. } = &record.event {
            for file in files.iter().filter(|f| managed.contains(&&f.path)) {
                out.push((file.path.to_string(), super::history::entry_number(journal, record.seq)));
            }
        }
    }
    out
}

/// Each phase: applied (when and by whom), next, or pending.
fn phase_statuses(applied: &[AppliedPhase], next: Option<PhaseId>) -> Vec<PhaseStatus> {
    PhaseId::ALL
        .into_iter()
        .map(|phase| {
            let record = applied.iter().find(|p| p.phase == phase.name());
            PhaseStatus {
                phase,
                number: phase.number(),
                state: if record.is_some() {
                    "applied"
                } else if Some(phase) == next {
                    "next"
                } else {
                    "pending"
                },
                available: true,
                applied_at: record.map(|r| r.time.clone()),
                applied_by: record.map(|r| r.user.clone()),
                journal_seq: record.map(|r| r.seq),
            }
        })
        .collect()
}

/// How many files the applied phases wrote, each counted once.
fn managed_files(applied: &[AppliedPhase]) -> usize {
    let mut paths: Vec<_> = applied.iter().flat_map(|p| p.files.iter().map(|f| &f.path)).collect();
    paths.sort();
    paths.dedup();
    paths.len()
}

/// `  [x] 1 scrape      applied … by … (history #N)`
fn phase_line(journal: &Journal, p: &PhaseStatus) -> String {
    let mark = match p.state {
        "applied" => "[x]",
        "next" => "[>]",
        _ => "[ ]",
    };
    let detail = match p.state {
        "applied" => format!(
            "applied {} by {} (history #{})",
            p.applied_at.as_deref().unwrap_or("?"),
            p.applied_by.as_deref().unwrap_or("?"),
            super::history::entry_number(journal, p.journal_seq.unwrap_or(0))
        ),
        "next" => "next: `pullover plan` shows it".to_string(),
        _ => String::new(),
    };
    format!("  {mark} {} {:<11} {detail}\n", p.number, p.phase.name())
}

pub fn run(ctx: &Context) -> Result<Outcome> {
    let state = ctx.state()?;
    let journal = state.journal()?;
    let applied = journal.applied();
    let next = next_phase(&applied);
    let lock = state.lock_state()?;
    // An open transaction of a pullover running now is not interrupted.
    let running = match &lock {
        LockState::Held { holder } => Some(holder.clone()),
        _ => None,
    };
    let interrupted = engine::pending_recovery(&journal);
    // While a transaction is open the files are mid-way; drift would mislead.
    let drift: Vec<Drift> = if interrupted.is_some() || running.is_some() {
        Vec::new()
    } else {
        engine::drift(&state, &journal)?
    };
    let phases = phase_statuses(&applied, next);
    let managed = managed_files(&applied);
    let edits = recorded_edits(&journal, &applied);
    if ctx.json() {
        ctx.print_json(&Envelope::new(
            "status",
            serde_json::json!({
            "stack": state.root().display().to_string(),
            "phases": phases,
            "next": next,
            "managed_files": managed,
            "running": running,
            "stale_lock": match &lock { LockState::Stale { explanation } => Some(explanation), _ => None },
            "interrupted": interrupted.as_ref().filter(|_| running.is_none()).map(|(a, p, s)| serde_json::json!({"action": a.name(), "phase": p, "journal_seq": s})),
            "recorded_edits": edits.iter().map(|(path, entry)| serde_json::json!({"path": path, "history": entry})).collect::<Vec<_>>(),
            "drift": drift.iter().map(|d| DriftJson {
                path: d.path.to_string(),
                message: super::drift::headline(&journal, d),
                expected_sha256: d.expected.as_ref().map(|b| b.sha256.clone()),
                actual_sha256: d.actual.as_ref().map(|b| b.sha256.clone()),
            }).collect::<Vec<_>>(),
        }),
        ))?;
        return Ok(Outcome::Success);
    }
    let mut out = format!("{}\n", ctx.bold(&format!("Stack {}", state.root().display())));
    for p in &phases {
        out.push_str(&phase_line(&journal, p));
    }
    if let LockState::Stale { explanation } = &lock
        && running.is_none()
    {
        out.push_str(&format!("\nNote: {explanation}.\n"));
    }
    if let Some(holder) = &running {
        out.push_str(&format!(
            "\nIn progress: another pullover is working on this stack now ({holder}); run `pullover status` again when it is done.\n"
        ));
    } else if let Some((action, phase, seq)) = &interrupted {
        let what = match action {
            crate::state::journal::Action::Apply => "undoes it",
            crate::state::journal::Action::Rollback => "finishes it",
        };
        out.push_str(&format!(
            "\nInterrupted: the {} of `{phase}` (history #{}) did not finish; the next apply, plan or rollback {what}.\n",
            action.name(),
            super::history::entry_number(&journal, *seq)
        ));
    } else if drift.is_empty() {
        out.push_str(&format!(
            "\nManaged files: {managed}, none changed outside pullover since it last wrote or recorded them.\n"
        ));
    } else {
        out.push_str(&format!("\nManaged files: {managed}; changed outside pullover:\n"));
        for d in &drift {
            out.push_str(&format!("  {}\n", super::drift::headline(&journal, d)));
        }
        out.push_str("The next apply or rollback records these edits as made outside pullover; a rollback keeps them, and refuses (unless --force) where one meets pullover's own change.\n");
    }
    if !edits.is_empty() && running.is_none() && interrupted.is_none() {
        out.push_str("Edits made outside pullover, recorded while these phases are applied (a rollback keeps them):\n");
        for (path, entry) in &edits {
            out.push_str(&format!("  {path} (history #{entry})\n"));
        }
    }
    ctx.print(&out)?;
    Ok(Outcome::Success)
}
