//! The append-only journal in `.pullover/journal.jsonl`: one JSON record per
//! line. An apply or rollback is a `begin` record listing every file with its
//! hashes and modes before and after, followed by `commit` when all writes
//! are durable, or `abort` when recovery undid it.
//!
//! ## The hash chain (format 2)
//!
//! Each record carries `prev`, the sha256 of the exact bytes of the line
//! before it ([`GENESIS`] for the first line), as Atlas's `atlas.sum` chains
//! migration files: a line changed, removed, reordered or inserted breaks the
//! chain at the next record, and [`Journal::read`] refuses the whole journal
//! naming that line. Removing lines from the *end* leaves a valid chain, so
//! every append also writes `journal.head` (`<seq> <sha256 of the last line>`)
//! after the line is durable; a journal that ends before its head is refused.
//! The head may lag the journal by one record (a crash between the two
//! writes), never lead it.
//!
//! Beyond the chain, the records must tell a possible story: `seq` counts up
//! by one from 1, a `commit`/`abort` closes the one open `begin`, no `begin`
//! opens while another is open, and a rollback undoes the phase applied last.
//!
//! Journals written before the chain (format 1, no `prev`) are read as they
//! are: format-1 records are accepted only as a prefix, before the first
//! chained record; the first record a new pullover appends to such a journal
//! chains to its last line. In that prefix only the story checks (and the
//! seq count) protect against edits.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::nofollow;
use crate::changeset::sha256_hex;
use crate::stack::source::RelPath;

/// The format this pullover writes: 2, hash-chained.
pub const FORMAT_VERSION: u32 = 2;
/// Format 1: the records before the chain (no `prev`).
pub const LEGACY_VERSION: u32 = 1;
/// `prev` of the first record of a journal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// A journal larger than this is refused rather than read (100,000 managed
/// files take about 30 MB).
pub const MAX_JOURNAL_BYTES: u64 = 256 * 1024 * 1024;
const MAX_HEAD_BYTES: u64 = 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub v: u32,
    pub seq: u64,
    /// sha256 of the previous line's bytes (format 2); absent in format 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    pub time: String,
    pub user: String,
    pub tool: String,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Begin {
        action: Action,
        phase: String,
        files: Vec<FileRecord>,
        /// What the command found in the stack when it applied the phase (for `verify`: the
        /// gateway's job and target, the apps and what they push). Opaque to the journal;
        /// absent in older records.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found: Option<serde_json::Value>,
    },
    Commit {
        of: u64,
    },
    Abort {
        of: u64,
        reason: String,
    },
    /// Managed files found changed outside pullover: `before` is what pullover last wrote
    /// (or last recorded), `after` what was there. Recorded, under the lock and before its
    /// own write, by the apply or rollback that found them (`noticed`), so the edit is the
    /// person's in the history and its content stays in `objects/`.
    Edited {
        files: Vec<FileRecord>,
        noticed: String,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Apply,
    Rollback,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Rollback => "rollback",
        }
    }
}

/// A file's content hash and mode; `None` in a [`FileRecord`] means absent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Blob {
    pub sha256: String,
    pub mode: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    pub path: RelPath,
    pub before: Option<Blob>,
    pub after: Option<Blob>,
    /// Folders the write created, so undoing a created file removes them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_dirs: Vec<RelPath>,
}

#[derive(Debug, Clone, Default)]
pub struct Journal {
    pub records: Vec<Record>,
    /// sha256 of the last complete line: the `prev` of the next record.
    last_hash: Option<String>,
}

/// What put a managed file's last known content there (see [`Journal::last_known`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenBy {
    Apply {
        phase: String,
    },
    Rollback {
        phase: String,
    },
    /// A person, outside pullover: the `edited` record at this seq.
    Edit {
        seq: u64,
    },
}

/// A phase as it stands applied, replayed from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPhase {
    pub phase: String,
    pub seq: u64,
    pub time: String,
    pub user: String,
    pub files: Vec<FileRecord>,
    /// What the phase found, as recorded with it (see [`Event::Begin`]).
    pub found: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the journal {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the journal {path} is damaged at line {line}: {message}")]
    Corrupt { path: String, line: usize, message: String },
    #[error("the journal {path} does not verify at line {line} (entry #{seq}): {message}; nothing was changed")]
    Broken {
        path: String,
        line: usize,
        seq: u64,
        message: String,
    },
    #[error("the journal {path} does not verify: {message}; nothing was changed")]
    Truncated { path: String, message: String },
    #[error(
        "{path} {problem}; pullover keeps its state only in real files inside the stack, so nothing was read or written there"
    )]
    Unsafe { path: String, problem: String },
}

impl JournalError {
    pub fn help(&self) -> Vec<String> {
        match self {
            JournalError::Unsafe { path, .. } => vec![format!(
                "{path} did not come from pullover: remove it (`rm {path}`, which removes a symlink, not its target), then run the command again"
            )],
            JournalError::Broken { .. } | JournalError::Truncated { .. } => vec![
                "pullover does not act on a journal it cannot trust: restore .pullover/ (journal.jsonl and journal.head) from a backup".into(),
                "if every file is as you want it, move .pullover aside and start again; `pullover history` reads nothing until then".into(),
            ],
            _ => vec!["the journal is append-only JSON lines; restore .pullover/journal.jsonl from a backup or fix the named line".into()],
        }
    }
}

/// `journal.head`, next to the journal.
pub fn head_path(journal: &Path) -> PathBuf {
    journal.with_file_name("journal.head")
}

fn unsafe_error(path: &Path, refused: nofollow::Refused) -> JournalError {
    match refused {
        nofollow::Refused::Io(source) => JournalError::Io {
            path: path.display().to_string(),
            source,
        },
        refused => JournalError::Unsafe {
            path: path.display().to_string(),
            problem: refused.to_string(),
        },
    }
}

/// Checks, record by record, that the journal tells a possible story.
struct Verifier<'a> {
    path: &'a Path,
    expected_seq: u64,
    prev_hash: String,
    chained: usize,
    open_begin: Option<(u64, Action, String)>,
    applied: Vec<String>,
}

impl Verifier<'_> {
    fn check(&mut self, line_no: usize, line: &str, record: &Record) -> Result<(), JournalError> {
        let broken = |message: String| JournalError::Broken {
            path: self.path.display().to_string(),
            line: line_no,
            seq: record.seq,
            message,
        };
        match (record.v, &record.prev) {
            (LEGACY_VERSION, None) if self.chained == 0 => {}
            (LEGACY_VERSION, _) => {
                return Err(broken(
                    "an entry of the old format without a hash chain comes after chained entries: it was added by hand"
                        .into(),
                ));
            }
            (FORMAT_VERSION, Some(prev)) => {
                if *prev != self.prev_hash {
                    return Err(broken(if line_no == 1 || self.prev_hash == GENESIS {
                        "it is not the first entry its hash chain says it follows: the entries before it were removed"
                            .into()
                    } else {
                        format!(
                            "its hash of the entry before it does not match line {}: that entry was changed, removed or moved",
                            line_no - 1
                        )
                    }));
                }
                self.chained += 1;
            }
            (FORMAT_VERSION, None) => return Err(broken("it has no `prev` hash".into())),
            (v, _) => {
                return Err(broken(format!(
                    "it is of format {v}, written by a newer pullover; upgrade pullover to read it"
                )));
            }
        }
        if record.seq != self.expected_seq {
            return Err(broken(format!(
                "it is numbered #{} where #{} comes next: an entry was removed, added or moved",
                record.seq, self.expected_seq
            )));
        }
        match &record.event {
            Event::Begin { action, phase, .. } => {
                if let Some((open, _, _)) = &self.open_begin {
                    return Err(broken(format!(
                        "it begins a new {} while entry #{open} is still open",
                        action.name()
                    )));
                }
                self.open_begin = Some((record.seq, *action, phase.clone()));
            }
            Event::Edited { .. } => {
                if let Some((open, _, _)) = &self.open_begin {
                    return Err(broken(format!(
                        "it records a hand edit while entry #{open} is still open"
                    )));
                }
            }
            Event::Commit { of } | Event::Abort { of, .. } => {
                let committed = matches!(record.event, Event::Commit { .. });
                let Some((open, action, phase)) = self.open_begin.take().filter(|(open, _, _)| open == of) else {
                    return Err(broken(format!("it closes entry #{of}, which is not the open one")));
                };
                let _ = open;
                if committed {
                    match action {
                        Action::Apply if self.applied.contains(&phase) => {
                            return Err(broken(format!("it commits phase `{phase}`, which is applied already")));
                        }
                        Action::Apply => self.applied.push(phase),
                        Action::Rollback if self.applied.last() != Some(&phase) => {
                            return Err(broken(format!(
                                "it commits the rollback of phase `{phase}`, which is not the phase applied last"
                            )));
                        }
                        Action::Rollback => {
                            self.applied.pop();
                        }
                    }
                }
            }
        }
        self.prev_hash = sha256_hex(line.as_bytes());
        self.expected_seq += 1;
        Ok(())
    }
}

impl Journal {
    /// Reads the journal. A last line without its line break is a write that
    /// never completed (a crash mid-append) and is ignored.
    ///
    /// The journal must be a regular file (never a symlink, a pipe or a
    /// device) of at most [`MAX_JOURNAL_BYTES`], and must verify: see the
    /// module documentation.
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let head = nofollow::read(&head_path(path), MAX_HEAD_BYTES).map_err(|e| unsafe_error(&head_path(path), e))?;
        let bytes = match nofollow::read(path, MAX_JOURNAL_BYTES).map_err(|e| unsafe_error(path, e))? {
            Some(bytes) => bytes,
            None if head.is_none() => return Ok(Journal::default()),
            None => Vec::new(),
        };
        let text = String::from_utf8(bytes).map_err(|e| JournalError::Corrupt {
            path: path.display().to_string(),
            line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            message: "not UTF-8".into(),
        })?;
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        let mut verifier = Verifier {
            path,
            expected_seq: 1,
            prev_hash: GENESIS.to_string(),
            chained: 0,
            open_begin: None,
            applied: Vec::new(),
        };
        let mut records = Vec::new();
        // The last two (seq, line hash), to compare with the head.
        let mut tail: [Option<(u64, String)>; 2] = [None, None];
        for (i, line) in complete.split('\n').enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line).map_err(|e| JournalError::Corrupt {
                path: path.display().to_string(),
                line: i + 1,
                message: e.to_string(),
            })?;
            verifier.check(i + 1, line, &record)?;
            tail = [tail[1].take(), Some((record.seq, verifier.prev_hash.clone()))];
            records.push(record);
        }
        check_head(path, head.as_deref(), &tail, verifier.chained)?;
        let last_hash = tail[1].as_ref().map(|(_, hash)| hash.clone());
        Ok(Journal { records, last_hash })
    }

    /// The `prev` of the record appended next.
    pub fn chain_head(&self) -> String {
        self.last_hash.clone().unwrap_or_else(|| GENESIS.to_string())
    }

    pub fn next_seq(&self) -> u64 {
        self.records.last().map_or(1, |r| r.seq + 1)
    }

    /// A `begin` with neither `commit` nor `abort` after it.
    pub fn interrupted(&self) -> Option<&Record> {
        let last_begin = self
            .records
            .iter()
            .rev()
            .find(|r| matches!(r.event, Event::Begin { .. }))?;
        let closed = self.records.iter().any(|r| match r.event {
            Event::Commit { of } | Event::Abort { of, .. } => of == last_begin.seq,
            Event::Begin { .. } | Event::Edited { .. } => false,
        });
        (!closed).then_some(last_begin)
    }

    fn is_committed(&self, seq: u64) -> bool {
        self.records
            .iter()
            .any(|r| matches!(r.event, Event::Commit { of } if of == seq))
    }

    /// Each file's content as pullover last wrote it (a committed apply or rollback) or last
    /// recorded it (an `edited` record), and what did.
    pub fn last_known(&self) -> std::collections::BTreeMap<RelPath, (Option<Blob>, WrittenBy)> {
        let mut known = std::collections::BTreeMap::new();
        for record in &self.records {
            match &record.event {
                Event::Begin {
                    action, phase, files, ..
                } if self.is_committed(record.seq) => {
                    let by = match action {
                        Action::Apply => WrittenBy::Apply { phase: phase.clone() },
                        Action::Rollback => WrittenBy::Rollback { phase: phase.clone() },
                    };
                    for file in files {
                        known.insert(file.path.clone(), (file.after.clone(), by.clone()));
                    }
                }
                Event::Edited { files, .. } => {
                    for file in files {
                        known.insert(
                            file.path.clone(),
                            (file.after.clone(), WrittenBy::Edit { seq: record.seq }),
                        );
                    }
                }
                _ => {}
            }
        }
        known
    }

    /// The stack of applied phases, oldest first.
    pub fn applied(&self) -> Vec<AppliedPhase> {
        let mut applied: Vec<AppliedPhase> = Vec::new();
        for record in &self.records {
            let Event::Begin {
                action,
                phase,
                files,
                found,
            } = &record.event
            else {
                continue;
            };
            if !self.is_committed(record.seq) {
                continue;
            }
            match action {
                Action::Apply => applied.push(AppliedPhase {
                    phase: phase.clone(),
                    seq: record.seq,
                    time: record.time.clone(),
                    user: record.user.clone(),
                    files: files.clone(),
                    found: found.clone(),
                }),
                Action::Rollback => {
                    if applied.last().is_some_and(|p| &p.phase == phase) {
                        applied.pop();
                    }
                }
            }
        }
        applied
    }
}

/// Compares the end of the journal with `journal.head`.
fn check_head(
    path: &Path,
    head: Option<&[u8]>,
    tail: &[Option<(u64, String)>; 2],
    chained: usize,
) -> Result<(), JournalError> {
    let truncated = |message: String| JournalError::Truncated {
        path: path.display().to_string(),
        message,
    };
    let last_seq = tail[1].as_ref().map_or(0, |(seq, _)| *seq);
    let Some(head) = head else {
        // No head: a journal of the old format, or a crash before the first
        // head was written (then only one chained record can exist).
        return if chained <= 1 {
            Ok(())
        } else {
            Err(truncated(format!(
                "{} is missing, and the journal has {chained} chained entries",
                head_path(path).display()
            )))
        };
    };
    let parsed = std::str::from_utf8(head).ok().and_then(|text| {
        let (seq, hash) = text.trim().split_once(' ')?;
        Some((seq.parse::<u64>().ok()?, hash.to_string()))
    });
    let Some((head_seq, head_hash)) = parsed else {
        return Err(truncated(format!("{} is damaged", head_path(path).display())));
    };
    if tail
        .iter()
        .flatten()
        .any(|(seq, hash)| *seq == head_seq && *hash == head_hash)
        && head_seq + 1 >= last_seq
    {
        return Ok(());
    }
    if head_seq > last_seq {
        return Err(truncated(format!(
            "it ends at entry #{last_seq}, but {} records that it reached entry #{head_seq}: entries were removed from its end",
            head_path(path).display()
        )));
    }
    Err(truncated(format!(
        "its last entries differ from what {} records (entry #{head_seq}): they were changed or added by hand",
        head_path(path).display()
    )))
}

fn refused_io(path: &Path, refused: nofollow::Refused) -> io::Error {
    match refused {
        nofollow::Refused::Io(e) => e,
        refused => io::Error::other(format!("{} {refused}", path.display())),
    }
}

/// Appends one record and makes it durable before returning, then moves
/// `journal.head` to it.
pub fn append(path: &Path, record: &Record) -> io::Result<()> {
    // A torn last line from a crash mid-append is cut off first, so the new
    // record starts on a line of its own.
    let created = match nofollow::open(path, OpenOptions::new().read(true).write(true)) {
        Ok(Some(mut file)) => {
            let text = nofollow::read_capped(&mut file, MAX_JOURNAL_BYTES).map_err(|e| refused_io(path, e))?;
            if !text.is_empty() && !text.ends_with(b"\n") {
                let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                file.set_len(keep as u64)?;
                file.sync_all()?;
            }
            false
        }
        Ok(None) => true,
        Err(e) => return Err(refused_io(path, e)),
    };
    let head = head_path(path);
    nofollow::is_regular(&head).map_err(|e| refused_io(&head, e))?;
    let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
    let line_hash = sha256_hex(line.as_bytes());
    line.push('\n');
    let mut file = nofollow::open(path, OpenOptions::new().create(true).append(true))
        .map_err(|e| refused_io(path, e))?
        .ok_or_else(|| io::Error::other(format!("{} vanished", path.display())))?;
    super::failpoint::hit_torn("journal-torn", || {
        let half = line.len() / 2;
        let _ = file.write_all(line.as_bytes().get(..half).unwrap_or_default());
        let _ = file.sync_all();
    });
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    // A new journal's name must be durable too, or a crash could lose the file.
    if let Some(dir) = path.parent()
        && created
    {
        super::atomic::sync_dir(dir)?;
    }
    super::failpoint::hit("before-head");
    super::atomic::write_atomic_quiet(&head, format!("{} {line_hash}\n", record.seq).as_bytes(), 0o644)
}

#[cfg(test)]
mod tests;
