//! The append-only journal in `.pullover/journal.jsonl`: one JSON record per
//! line. An apply or rollback is a `begin` record listing every file with its
//! hashes and modes before and after, followed by `commit` when all writes
//! are durable, or `abort` when recovery undid it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::stack::source::RelPath;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub v: u32,
    pub seq: u64,
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
}

impl Journal {
    /// Reads the journal. A last line without its line break is a write that
    /// never completed (a crash mid-append) and is ignored.
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Journal::default()),
            Err(source) => {
                return Err(JournalError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        let mut records = Vec::new();
        for (i, line) in complete.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line).map_err(|e| JournalError::Corrupt {
                path: path.display().to_string(),
                line: i + 1,
                message: e.to_string(),
            })?;
            records.push(record);
        }
        Ok(Journal { records })
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
            Event::Begin { .. } => false,
        });
        (!closed).then_some(last_begin)
    }

    fn is_committed(&self, seq: u64) -> bool {
        self.records
            .iter()
            .any(|r| matches!(r.event, Event::Commit { of } if of == seq))
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

/// Appends one record and makes it durable before returning.
pub fn append(path: &Path, record: &Record) -> io::Result<()> {
    // A torn last line from a crash mid-append is cut off first, so the new
    // record starts on a line of its own.
    if let Ok(text) = fs::read(path)
        && !text.is_empty()
        && !text.ends_with(b"\n")
    {
        let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(keep as u64)?;
        file.sync_all()?;
    }
    let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
    line.push('\n');
    let created = !path.exists();
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    super::failpoint::hit_torn("journal-torn", || {
        let half = line.len() / 2;
        let _ = file.write_all(line.as_bytes().get(..half).unwrap_or_default());
        let _ = file.sync_all();
    });
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    // A new journal's name must be durable too, or a crash could lose the file.
    match path.parent() {
        Some(dir) if created => super::atomic::sync_dir(dir),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, event: Event) -> Record {
        Record {
            v: 1,
            seq,
            time: "t".into(),
            user: "u".into(),
            tool: "pullover".into(),
            event,
        }
    }

    fn begin(action: Action, phase: &str) -> Event {
        Event::Begin {
            action,
            phase: phase.into(),
            files: Vec::new(),
            found: None,
        }
    }

    #[test]
    fn replay_keeps_committed_applies_minus_rollbacks() {
        let journal = Journal {
            records: vec![
                record(1, begin(Action::Apply, "scrape")),
                record(2, Event::Commit { of: 1 }),
                record(3, begin(Action::Apply, "dual-run")),
                record(
                    4,
                    Event::Abort {
                        of: 3,
                        reason: "crash".into(),
                    },
                ),
                record(5, begin(Action::Apply, "dual-run")),
                record(6, Event::Commit { of: 5 }),
                record(7, begin(Action::Rollback, "dual-run")),
                record(8, Event::Commit { of: 7 }),
                record(9, begin(Action::Apply, "dual-run")),
            ],
        };
        let applied: Vec<String> = journal.applied().into_iter().map(|p| p.phase).collect();
        assert_eq!(applied, vec!["scrape"]);
        assert_eq!(journal.interrupted().map(|r| r.seq), Some(9));
        assert_eq!(journal.next_seq(), 10);
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_before_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        append(&path, &record(1, begin(Action::Apply, "scrape"))).unwrap();
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("{\"v\":1,\"seq\":2,\"ti");
        fs::write(&path, &text).unwrap();
        assert_eq!(Journal::read(&path).unwrap().records.len(), 1);
        append(&path, &record(2, Event::Commit { of: 1 })).unwrap();
        let journal = Journal::read(&path).unwrap();
        assert_eq!(journal.records.len(), 2);
        assert_eq!(journal.applied().len(), 1);
    }
}
