//! Apply and undo file changes crash-safely.
//!
//! Order of a transaction: check every file is still as planned, snapshot
//! before and after bytes, append `begin` (durable), write each file
//! atomically, append `commit`. A crash anywhere leaves each file wholly old or
//! wholly new and an open `begin`; [`recover`] then undoes an interrupted apply
//! or finishes an interrupted rollback, before any other command runs.

use std::collections::BTreeMap;
use std::fs;

use super::journal::{self, Action, AppliedPhase, Blob, Event, FileRecord, Journal, Record};
use super::{Locked, StateDir, StateError, atomic, current_user, failpoint, io_err, now};
use crate::changeset::{FileChange, FileState};
use crate::stack::source::RelPath;

/// Per deleted file, the folders to remove once it is gone (if left empty).
pub type OwnedDirs = BTreeMap<RelPath, Vec<RelPath>>;

fn tool() -> String {
    format!("pullover {}", env!("CARGO_PKG_VERSION"))
}

fn blob_of(state: &Option<FileState>) -> Option<Blob> {
    state.as_ref().map(|s| Blob {
        sha256: s.sha256(),
        mode: s.mode,
    })
}

fn same_content(a: &Option<Blob>, b: &Option<Blob>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.sha256 == b.sha256,
        _ => false,
    }
}

fn append(locked: &Locked<'_>, journal: &Journal, event: Event) -> Result<u64, StateError> {
    let seq = journal.next_seq();
    let record = Record {
        v: journal::FORMAT_VERSION,
        seq,
        prev: Some(journal.chain_head()),
        time: now(),
        user: current_user(),
        tool: tool(),
        event,
    };
    journal::append(&locked.state.journal_path(), &record).map_err(io_err("cannot append to the journal"))?;
    Ok(seq)
}

/// Writes `changes` as one transaction. `owned_dirs` names, per deleted file,
/// folders to remove when they are left empty (folders an apply created).
pub fn execute(
    locked: &Locked<'_>,
    action: Action,
    phase: &str,
    changes: &[FileChange],
    owned_dirs: &OwnedDirs,
) -> Result<u64, StateError> {
    execute_recording(locked, action, phase, changes, owned_dirs, None)
}

/// [`execute`], also recording `found` (what the command found in the stack, opaque here)
/// on the journal's `begin` record.
pub fn execute_recording(
    locked: &Locked<'_>,
    action: Action,
    phase: &str,
    changes: &[FileChange],
    owned_dirs: &OwnedDirs,
    found: Option<serde_json::Value>,
) -> Result<u64, StateError> {
    let state = locked.state;
    // After the plan was shown and confirmed, before anything is checked or written.
    failpoint::hit("before-execute");
    // Exactly the plan that was shown: every file must still be as planned.
    for change in changes {
        if !same_content(&state.disk_blob(&change.path)?, &blob_of(&change.before)) {
            return Err(StateError::ChangedSincePlan {
                path: change.path.clone(),
            });
        }
    }
    let objects = state.objects();
    let mut files = Vec::new();
    for change in changes {
        for side in [&change.before, &change.after].into_iter().flatten() {
            objects
                .put(&side.bytes)
                .map_err(io_err("cannot write a snapshot to .pullover/objects"))?;
            failpoint::hit("after-snapshot");
        }
        let created_dirs = match (&change.before, &change.after) {
            (None, Some(_)) => missing_dirs(state, &change.path)?,
            (_, None) => owned_dirs.get(&change.path).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        files.push(FileRecord {
            path: change.path.clone(),
            before: blob_of(&change.before),
            after: blob_of(&change.after),
            created_dirs,
        });
    }
    failpoint::hit("before-begin");
    let mut journal = state.journal()?;
    let seq = append(
        locked,
        &journal,
        Event::Begin {
            action,
            phase: phase.to_string(),
            files: files.clone(),
            found,
        },
    )?;
    failpoint::hit("after-begin");
    let written = changes.iter().zip(&files).try_for_each(|(change, record)| {
        failpoint::hit_or_fail("before-file-write").map_err(io_err(format!("cannot write {}", change.path)))?;
        match &change.after {
            Some(after) => write_file(state, &change.path, after, &record.created_dirs)?,
            None => delete_file(state, &change.path, &record.created_dirs)?,
        }
        failpoint::hit("after-file-write");
        Ok::<(), StateError>(())
    });
    if let Err(error) = written {
        // A write failed (a full disk, a read-only folder): put back what was
        // written, now, rather than leave a half-applied phase behind.
        let undone = recover(locked).is_ok();
        return Err(StateError::WriteFailed {
            error: Box::new(error),
            undone,
        });
    }
    failpoint::hit("before-commit");
    journal = state.journal()?;
    append(locked, &journal, Event::Commit { of: seq })?;
    failpoint::hit("after-commit");
    Ok(seq)
}

fn missing_dirs(state: &StateDir, path: &RelPath) -> Result<Vec<RelPath>, StateError> {
    let mut missing = Vec::new();
    let mut dir = path.parent().to_string();
    while !dir.is_empty() {
        let rel = RelPath::new(dir.clone()).map_err(|e| StateError::Io {
            context: e,
            source: std::io::Error::other("bad path"),
        })?;
        if state.root().join(rel.as_str()).exists() {
            break;
        }
        missing.push(rel);
        dir = dir.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
    }
    missing.reverse();
    Ok(missing)
}

fn write_file(
    state: &StateDir,
    path: &RelPath,
    content: &FileState,
    create_dirs: &[RelPath],
) -> Result<(), StateError> {
    for dir in create_dirs {
        let full = state.root().join(dir.as_str());
        if !full.exists() {
            fs::create_dir(&full).map_err(io_err(format!("cannot create folder {dir}")))?;
            if let Some(parent) = full.parent() {
                atomic::sync_dir(parent).map_err(io_err(format!("cannot create folder {dir}")))?;
            }
            failpoint::hit("after-create-dir");
        }
    }
    let real = state.real_path(path)?;
    atomic::write_atomic(&real, &content.bytes, content.mode).map_err(io_err(format!("cannot write {path}")))
}

fn delete_file(state: &StateDir, path: &RelPath, owned_dirs: &[RelPath]) -> Result<(), StateError> {
    let real = state.real_path(path)?;
    atomic::remove_durable(&real).map_err(io_err(format!("cannot delete {path}")))?;
    remove_empty_dirs(state, owned_dirs);
    Ok(())
}

/// Removes `dirs` (outermost first in the slice) that are empty, innermost first.
fn remove_empty_dirs(state: &StateDir, dirs: &[RelPath]) {
    for dir in dirs.iter().rev() {
        // Only if empty: remove_dir refuses otherwise, which is what we want.
        let full = state.root().join(dir.as_str());
        if fs::remove_dir(&full).is_ok()
            && let Some(parent) = full.parent()
        {
            let _ = atomic::sync_dir(parent);
        }
    }
}

/// Removes temp files a crash left next to the files of `files`.
fn remove_stale_temps(state: &StateDir, files: &[FileRecord]) -> Result<(), StateError> {
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    for file in files {
        let Ok(real) = state.real_path(&file.path) else {
            continue;
        };
        if let Some(dir) = real.parent()
            && !dirs.iter().any(|d| d == dir)
        {
            dirs.push(dir.to_path_buf());
        }
    }
    for dir in dirs {
        atomic::remove_stale_temps(&dir)
            .map_err(io_err(format!("cannot remove temp files left in {}", dir.display())))?;
    }
    Ok(())
}

/// What recovery did about an interrupted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub action: Action,
    pub phase: String,
    pub seq: u64,
    /// Undone (an apply, back to before) or finished (a rollback).
    pub finished: bool,
    pub restored: Vec<RelPath>,
}

/// What [`recover`] would do, without doing it (for `status`).
pub fn pending_recovery(journal: &Journal) -> Option<(Action, String, u64)> {
    let record = journal.interrupted()?;
    match &record.event {
        Event::Begin { action, phase, .. } => Some((*action, phase.clone(), record.seq)),
        _ => None,
    }
}

/// Undoes an interrupted apply, or finishes an interrupted rollback.
pub fn recover(locked: &Locked<'_>) -> Result<Option<Recovery>, StateError> {
    let state = locked.state;
    let journal = state.journal()?;
    let Some(record) = journal.interrupted().cloned() else {
        return Ok(None);
    };
    let Event::Begin {
        action, phase, files, ..
    } = &record.event
    else {
        return Ok(None);
    };
    let finish = *action == Action::Rollback;
    let objects = state.objects();
    let mut restored = Vec::new();
    for file in files {
        let (target, other) = if finish {
            (&file.after, &file.before)
        } else {
            (&file.before, &file.after)
        };
        let current = state.disk_blob(&file.path)?;
        if same_content(&current, target) && current.as_ref().map(|c| c.mode) == target.as_ref().map(|t| t.mode) {
            if target.is_none() {
                // The file is gone already; a folder made for it may not be.
                remove_empty_dirs(state, &file.created_dirs);
            }
            continue;
        }
        if !same_content(&current, other) && !same_content(&current, target) {
            return Err(StateError::RecoveryConflict {
                action: action.name().to_string(),
                phase: phase.clone(),
                path: file.path.clone(),
            });
        }
        failpoint::hit("recovery-before-file-write");
        match target {
            Some(blob) => {
                let bytes = objects
                    .get(&blob.sha256)
                    .map_err(io_err(format!("cannot restore {}", file.path)))?;
                let dirs = if file.before.is_none() && finish {
                    file.created_dirs.clone()
                } else {
                    Vec::new()
                };
                write_file(
                    state,
                    &file.path,
                    &FileState {
                        bytes: bytes.into(),
                        mode: blob.mode,
                    },
                    &dirs,
                )?;
            }
            None => delete_file(state, &file.path, &file.created_dirs)?,
        }
        failpoint::hit("recovery-after-file-write");
        restored.push(file.path.clone());
    }
    remove_stale_temps(state, files)?;
    failpoint::hit("recovery-before-record");
    let event = if finish {
        Event::Commit { of: record.seq }
    } else {
        Event::Abort {
            of: record.seq,
            reason: "interrupted; undone by recovery".into(),
        }
    };
    append(locked, &journal, event)?;
    Ok(Some(Recovery {
        action: *action,
        phase: phase.clone(),
        seq: record.seq,
        finished: finish,
        restored,
    }))
}

/// Removes snapshots no journal entry needs: those of aborted transactions and
/// those a crash left before its `begin` was written (an apply snapshots every
/// file first). Kept: every blob of a committed transaction and of the open
/// one. Runs under the lock, so no other pullover is writing snapshots.
pub fn collect_garbage(locked: &Locked<'_>) -> Result<usize, StateError> {
    let state = locked.state;
    let journal = state.journal()?;
    let open = journal.interrupted().map(|r| r.seq);
    let mut keep = std::collections::HashSet::new();
    for record in &journal.records {
        let Event::Begin { files, .. } = &record.event else {
            continue;
        };
        let committed = journal
            .records
            .iter()
            .any(|r| matches!(r.event, Event::Commit { of } if of == record.seq));
        if committed || open == Some(record.seq) {
            for file in files {
                for blob in [&file.before, &file.after].into_iter().flatten() {
                    keep.insert(blob.sha256.clone());
                }
            }
        }
    }
    state
        .objects()
        .collect(&keep)
        .map_err(io_err("cannot remove unused snapshots from .pullover/objects"))
}

/// A managed file that is not as the last phase that touched it left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub path: RelPath,
    pub phase: String,
    pub expected: Option<Blob>,
    pub actual: Option<Blob>,
}

/// Drift of every file the applied phases manage.
pub fn drift(state: &StateDir, applied: &[AppliedPhase]) -> Result<Vec<Drift>, StateError> {
    let mut expected: BTreeMap<RelPath, (String, Option<Blob>)> = BTreeMap::new();
    for phase in applied {
        for file in &phase.files {
            expected.insert(file.path.clone(), (phase.phase.clone(), file.after.clone()));
        }
    }
    let mut out = Vec::new();
    for (path, (phase, blob)) in expected {
        let actual = state.disk_blob(&path)?;
        let same = same_content(&actual, &blob) && actual.as_ref().map(|a| a.mode) == blob.as_ref().map(|b| b.mode);
        if !same {
            out.push(Drift {
                path,
                phase,
                expected: blob,
                actual,
            });
        }
    }
    Ok(out)
}

/// The changes that undo `phase`: from what it wrote back to what was there.
/// With drift, `before` is what is on disk now, so the shown diff and the
/// check before writing describe the real file.
pub fn undo_changes(state: &StateDir, phase: &AppliedPhase) -> Result<(Vec<FileChange>, OwnedDirs), StateError> {
    let objects = state.objects();
    let mut changes = Vec::new();
    let mut owned_dirs = BTreeMap::new();
    for file in &phase.files {
        let current = match state.read_disk(&file.path)? {
            Some(bytes) => {
                let mode = state.disk_blob(&file.path)?.map_or(0o644, |b| b.mode);
                Some(FileState {
                    bytes: bytes.into(),
                    mode,
                })
            }
            None => None,
        };
        let restore = match &file.before {
            Some(blob) => Some(FileState {
                bytes: objects
                    .get(&blob.sha256)
                    .map_err(io_err(format!("cannot read the snapshot of {}", file.path)))?
                    .into(),
                mode: blob.mode,
            }),
            None => None,
        };
        if file.before.is_none() {
            owned_dirs.insert(file.path.clone(), file.created_dirs.clone());
        }
        if current == restore {
            continue;
        }
        changes.push(FileChange {
            path: file.path.clone(),
            before: current,
            after: restore,
            because: format!("undo phase {}", phase.phase),
        });
    }
    Ok((changes, owned_dirs))
}
