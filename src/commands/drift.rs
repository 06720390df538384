//! Managed files changed outside pullover (drift), as `plan`, `apply`, `rollback` and `status`
//! show them: what wrote the content pullover expects there, and the diff to what is there.

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::changeset::FileChange;
use crate::changeset::render::{self, file_diff};
use crate::state::StateDir;
use crate::state::engine::{self, Drift};
use crate::state::journal::{Journal, WrittenBy};

/// "`scrape` wrote it", as the end of "… changed outside pullover since `scrape` wrote it".
pub fn written_by(journal: &Journal, by: &WrittenBy) -> String {
    match by {
        WrittenBy::Apply { phase } => format!("`{phase}` wrote it"),
        WrittenBy::Rollback { phase } => format!("the rollback of `{phase}` wrote it"),
        WrittenBy::Edit { seq } => format!(
            "its last edit was recorded (history #{})",
            super::history::entry_number(journal, *seq)
        ),
    }
}

pub fn headline(journal: &Journal, drift: &Drift) -> String {
    let what = match (&drift.expected, &drift.actual) {
        (_, None) => "was deleted",
        (None, Some(_)) => "was created again",
        (Some(e), Some(a)) if e.sha256 == a.sha256 => "changed mode",
        _ => "changed",
    };
    format!(
        "{} {what} outside pullover since {}",
        drift.path,
        written_by(journal, &drift.by)
    )
}

/// The drift as a change from what pullover wrote to what is there.
fn change(state: &StateDir, drift: &Drift) -> Result<FileChange> {
    Ok(FileChange {
        path: drift.path.clone(),
        before: engine::blob_state(state, &drift.path, &drift.expected)?,
        after: engine::disk_state(state, &drift.path)?,
        because: "changed outside pullover".into(),
    })
}

/// Each drifted file: its headline and its diff, for a person.
pub fn report(ctx: &Context, state: &StateDir, journal: &Journal, drift: &[Drift], then: &str) -> Result<String> {
    let mut out = String::new();
    for d in drift {
        out.push_str(&ctx.bold(&format!("{}:\n", headline(journal, d))));
        out.push_str(&render::display_diff(&file_diff(&change(state, d)?), ctx.display()));
        out.push('\n');
    }
    if !drift.is_empty() {
        out.push_str(then);
        out.push_str("\n\n");
    }
    Ok(out)
}

#[derive(Serialize)]
pub struct DriftJson {
    pub path: String,
    pub message: String,
    pub expected_sha256: Option<String>,
    pub actual_sha256: Option<String>,
    pub diff: String,
}

pub fn to_json(state: &StateDir, journal: &Journal, drift: &[Drift]) -> Result<Vec<DriftJson>> {
    drift
        .iter()
        .map(|d| {
            Ok(DriftJson {
                path: d.path.to_string(),
                message: headline(journal, d),
                expected_sha256: d.expected.as_ref().map(|b| b.sha256.clone()),
                actual_sha256: d.actual.as_ref().map(|b| b.sha256.clone()),
                diff: crate::changeset::redact::mask_text(&file_diff(&change(state, d)?)),
            })
        })
        .collect()
}
