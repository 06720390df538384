//! Apply and undo file changes crash-safely.
//!
//! Order of a transaction: check every file is still as planned, snapshot
//! before and after bytes, append `begin` (durable), write each file
//! atomically, append `commit`. A crash anywhere leaves each file wholly old or
//! wholly new and an open `begin`; [`recover`] then undoes an interrupted apply
//! or finishes an interrupted rollback, before any other command runs.

use std::collections::BTreeMap;
use std::fs;

use super::journal::{self, Action, AppliedPhase, Blob, Event, FileRecord, Journal, Record, WrittenBy};
use super::{Locked, StateDir, StateError, atomic, current_user, failpoint, io_err, now, revert};
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
    // A folder this user cannot write (a read-only mount, another owner) is found before the
    // journal or a snapshot is touched, so a refused apply leaves no trace; a write that still
    // fails later (a full disk) is put back below.
    for change in changes {
        check_writable(state, &change.path)?;
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

/// Whether this process may replace or create `path`: an atomic write creates a temporary
/// file in the folder that holds it (or in the nearest folder that exists, for a new file) and
/// renames it over the file, so that folder must be writable and searchable.
fn check_writable(state: &StateDir, path: &RelPath) -> Result<(), StateError> {
    let real = state.real_path(path)?;
    let Some(mut dir) = real.parent().map(std::path::Path::to_path_buf) else {
        return Ok(());
    };
    while !dir.exists() {
        match dir.parent() {
            Some(parent) => dir = parent.to_path_buf(),
            None => return Ok(()),
        }
    }
    let Ok(c_dir) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return Ok(()); // a NUL in a path: the write itself reports it
    };
    // SAFETY: c_dir is a valid NUL-terminated string for the duration of the call.
    // AT_EACCESS: judged with the effective user, as the write will be.
    let rc = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_dir.as_ptr(),
            libc::W_OK | libc::X_OK,
            libc::AT_EACCESS,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    let folder = dir
        .strip_prefix(state.root())
        .ok()
        .filter(|rel| !rel.as_os_str().is_empty())
        .map_or_else(
            || "the stack folder".to_string(),
            |rel| format!("its folder {}", rel.display()),
        );
    let problem = match error.raw_os_error() {
        Some(libc::EROFS) => format!("{folder} is on a read-only file system"),
        Some(libc::EACCES | libc::EPERM) => format!("{folder} is not writable"),
        _ => format!("{folder} cannot be written ({error})"),
    };
    Err(StateError::NotWritable {
        path: path.clone(),
        problem,
        user: super::current_user(),
    })
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
        // What a person's edit left is kept: it may be all that is left of it.
        if let Event::Edited { files, .. } = &record.event {
            for file in files {
                for blob in [&file.before, &file.after].into_iter().flatten() {
                    keep.insert(blob.sha256.clone());
                }
            }
            continue;
        }
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

/// A managed file that is not as pullover last wrote (or recorded) it: changed outside pullover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub path: RelPath,
    /// What wrote the content expected there.
    pub by: WrittenBy,
    pub expected: Option<Blob>,
    pub actual: Option<Blob>,
}

/// Drift of every file the applied phases manage.
pub fn drift(state: &StateDir, journal: &Journal) -> Result<Vec<Drift>, StateError> {
    let mut managed: Vec<RelPath> = journal
        .applied()
        .iter()
        .flat_map(|p| p.files.iter().map(|f| f.path.clone()))
        .collect();
    managed.sort();
    managed.dedup();
    let known = journal.last_known();
    let mut out = Vec::new();
    for path in managed {
        let Some((blob, by)) = known.get(&path) else { continue };
        let actual = state.disk_blob(&path)?;
        let same = same_content(&actual, blob) && actual.as_ref().map(|a| a.mode) == blob.as_ref().map(|b| b.mode);
        if !same {
            out.push(Drift {
                path,
                by: by.clone(),
                expected: blob.clone(),
                actual,
            });
        }
    }
    Ok(out)
}

/// Records `drift` in the journal as edits made outside pullover, the content found kept in
/// `objects/`. Run under the lock by the apply or rollback that found it, before it writes.
pub fn record_edits(locked: &Locked<'_>, drift: &[Drift], noticed: &str) -> Result<(), StateError> {
    if drift.is_empty() {
        return Ok(());
    }
    let state = locked.state;
    let objects = state.objects();
    let mut files = Vec::new();
    for d in drift {
        let after = match state.read_disk(&d.path)? {
            Some(bytes) => {
                let mode = state.disk_blob(&d.path)?.map_or(0o644, |b| b.mode);
                objects
                    .put(&bytes)
                    .map_err(io_err("cannot write a snapshot to .pullover/objects"))?;
                Some(Blob {
                    sha256: crate::changeset::sha256_hex(&bytes),
                    mode,
                })
            }
            None => None,
        };
        files.push(FileRecord {
            path: d.path.clone(),
            before: d.expected.clone(),
            after,
            created_dirs: Vec::new(),
        });
    }
    let journal = state.journal()?;
    append(
        locked,
        &journal,
        Event::Edited {
            files,
            noticed: noticed.to_string(),
        },
    )?;
    Ok(())
}

/// One phase's undo, as one transaction.
#[derive(Debug, Clone)]
pub struct RevertStep {
    pub phase: String,
    pub changes: Vec<FileChange>,
    pub owned_dirs: OwnedDirs,
}

/// Where a phase's undo meets a person's edit of the same lines.
#[derive(Debug, Clone)]
pub struct FileConflict {
    pub path: RelPath,
    pub phase: String,
    pub conflicts: Vec<revert::Conflict>,
}

/// Undoing phases, newest first, each a three-way revert of what it changed ([`revert`]):
/// edits made since stay. Conflicting regions hold the restored text (what `--force` writes).
#[derive(Debug, Clone, Default)]
pub struct RevertPlan {
    pub steps: Vec<RevertStep>,
    pub conflicts: Vec<FileConflict>,
    /// From the files as they are to the files as the last step leaves them.
    pub overall: Vec<FileChange>,
    /// Files left other than as the oldest undone phase found them: edits made outside
    /// pullover kept (or conflicts, with their restored side).
    pub kept: Vec<RelPath>,
}

/// The revert of `undo` (newest first) from the files as they are now. Reads only.
pub fn plan_revert(state: &StateDir, undo: &[&AppliedPhase]) -> Result<RevertPlan, StateError> {
    let mut now: BTreeMap<RelPath, Option<FileState>> = BTreeMap::new();
    let mut initial: BTreeMap<RelPath, Option<FileState>> = BTreeMap::new();
    let mut plan = RevertPlan::default();
    // What a byte-identical restore would leave: the oldest undone phase's `before` wins.
    let mut exact: BTreeMap<RelPath, Option<Blob>> = BTreeMap::new();
    for phase in undo {
        let mut changes = Vec::new();
        let mut owned_dirs = BTreeMap::new();
        for file in &phase.files {
            exact.insert(file.path.clone(), file.before.clone());
            if !now.contains_key(&file.path) {
                let disk = disk_state(state, &file.path)?;
                initial.insert(file.path.clone(), disk.clone());
                now.insert(file.path.clone(), disk);
            }
            let ours = now.get(&file.path).cloned().flatten();
            let base = blob_state(state, &file.path, &file.after)?;
            let target = blob_state(state, &file.path, &file.before)?;
            let reverted = revert::revert(base.as_ref(), ours.as_ref(), target.as_ref());
            if !reverted.conflicts.is_empty() {
                plan.conflicts.push(FileConflict {
                    path: file.path.clone(),
                    phase: phase.phase.clone(),
                    conflicts: reverted.conflicts,
                });
            }
            if file.before.is_none() {
                owned_dirs.insert(file.path.clone(), file.created_dirs.clone());
            }
            if reverted.result == ours {
                continue;
            }
            changes.push(FileChange {
                path: file.path.clone(),
                before: ours,
                after: reverted.result.clone(),
                because: format!("undo phase {}", phase.phase),
            });
            now.insert(file.path.clone(), reverted.result);
        }
        plan.steps.push(RevertStep {
            phase: phase.phase.clone(),
            changes,
            owned_dirs,
        });
    }
    for (path, first) in initial {
        let last = now.remove(&path).flatten();
        let restored = exact.get(&path).cloned().flatten();
        if blob_of(&last) != restored {
            plan.kept.push(path.clone());
        }
        if first != last {
            plan.overall.push(FileChange {
                path,
                before: first,
                after: last,
                because: "rollback".into(),
            });
        }
    }
    Ok(plan)
}

/// The file as it is on disk, `None` when absent.
pub fn disk_state(state: &StateDir, path: &RelPath) -> Result<Option<FileState>, StateError> {
    let Some(bytes) = state.read_disk(path)? else {
        return Ok(None);
    };
    let mode = state.disk_blob(path)?.map_or(0o644, |b| b.mode);
    Ok(Some(FileState {
        bytes: bytes.into(),
        mode,
    }))
}

/// A snapshot's content, `None` for an absent file.
pub fn blob_state(state: &StateDir, path: &RelPath, blob: &Option<Blob>) -> Result<Option<FileState>, StateError> {
    let Some(blob) = blob else { return Ok(None) };
    let bytes = state
        .objects()
        .get(&blob.sha256)
        .map_err(io_err(format!("cannot read the snapshot of {path}")))?;
    Ok(Some(FileState {
        bytes: bytes.into(),
        mode: blob.mode,
    }))
}
