//! `pullover history`: every apply and rollback from the journal, and every edit made outside
//! pullover that an apply or rollback found, with who, when, and the hashes of each file
//! before and after.

use anyhow::Result;

use super::{Context, Outcome};
use crate::envelope::Envelope;
use crate::state::journal::{Event, Journal, Record};

pub fn run(ctx: &Context) -> Result<Outcome> {
    let journal = ctx.state()?.journal()?;
    if ctx.json() {
        ctx.print_json(&Envelope::new(
            "history",
            serde_json::json!({"records": journal.records}),
        ))?;
        return Ok(Outcome::Success);
    }
    ctx.print(&render(&journal))?;
    Ok(Outcome::Success)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The applies and rollbacks as a person reads them, numbered 1, 2, 3… in journal order: the
/// numbers `history` shows and `rollback --to N` takes. The journal's own sequence numbers
/// (which also count each commit and abort) are not shown, so old journals read the same way.
pub(super) fn entries(journal: &Journal) -> impl Iterator<Item = (usize, &Record)> {
    journal
        .records
        .iter()
        .filter(|r| matches!(r.event, Event::Begin { .. } | Event::Edited { .. }))
        .enumerate()
        .map(|(i, r)| (i + 1, r))
}

/// The number `history` shows for the apply or rollback that began at journal `seq` (or the
/// edits recorded there).
pub(super) fn entry_number(journal: &Journal, seq: u64) -> usize {
    entries(journal).take_while(|(_, r)| r.seq <= seq).count()
}

fn render(journal: &Journal) -> String {
    if journal.records.is_empty() {
        return "No history yet: nothing was applied to this stack.\n".to_string();
    }
    let mut out = String::new();
    for (number, record) in entries(journal) {
        if let Event::Edited { files, noticed } = &record.event {
            out.push_str(&format!(
                "#{:<3} {}  edited   outside pullover: found at the {noticed} by {} with {}\n",
                number, record.time, record.user, record.tool
            ));
            render_files(&mut out, files);
            continue;
        }
        let Event::Begin {
            action, phase, files, ..
        } = &record.event
        else {
            continue;
        };
        let end = journal.records.iter().find_map(|r| match &r.event {
            Event::Commit { of } if *of == record.seq => Some("done".to_string()),
            Event::Abort { of, reason } if *of == record.seq => Some(format!("undone ({reason})")),
            _ => None,
        });
        let end = end.unwrap_or_else(|| "interrupted".to_string());
        out.push_str(&format!(
            "#{:<3} {}  {:<8} {:<10} {}  by {} with {}\n",
            number,
            record.time,
            action.name(),
            phase,
            end,
            record.user,
            record.tool
        ));
        render_files(&mut out, files);
    }
    out
}

fn render_files(out: &mut String, files: &[crate::state::journal::FileRecord]) {
    for file in files {
        let (mark, detail) = match (&file.before, &file.after) {
            (None, Some(a)) => ("A", format!("created {} mode {:o}", short(&a.sha256), a.mode)),
            (Some(b), None) => ("D", format!("deleted {} mode {:o}", short(&b.sha256), b.mode)),
            (Some(b), Some(a)) => (
                "M",
                format!("{} → {} mode {:o}", short(&b.sha256), short(&a.sha256), a.mode),
            ),
            (None, None) => ("?", String::new()),
        };
        out.push_str(&format!("       {mark} {}  {detail}\n", file.path));
    }
}
