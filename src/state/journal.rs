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
mod tests {
    use super::*;
    use std::fs;

    fn record(seq: u64, event: Event) -> Record {
        Record {
            v: 1,
            seq,
            prev: None,
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
            last_hash: None,
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

    /// Appends chained records as the engine does: each chains to the journal as read.
    fn append_chained(path: &Path, event: Event) {
        let journal = Journal::read(path).unwrap();
        let mut next = record(journal.next_seq(), event);
        next.v = FORMAT_VERSION;
        next.prev = Some(journal.chain_head());
        append(path, &next).unwrap();
    }

    fn lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path).unwrap().lines().map(String::from).collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }

    /// scrape applied and committed, dual-run applied and committed: 4 chained records.
    fn chained_journal() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        append_chained(&path, begin(Action::Apply, "scrape"));
        append_chained(&path, Event::Commit { of: 1 });
        append_chained(&path, begin(Action::Apply, "dual-run"));
        append_chained(&path, Event::Commit { of: 3 });
        (dir, path)
    }

    #[test]
    fn a_chained_journal_verifies_and_names_the_entry_after_a_removed_line() {
        let (_dir, path) = chained_journal();
        let journal = Journal::read(&path).unwrap();
        assert_eq!(journal.applied().len(), 2);
        assert!(
            journal
                .records
                .iter()
                .all(|r| r.v == FORMAT_VERSION && r.prev.is_some())
        );
        let mut text = lines(&path);
        text.remove(1);
        write_lines(&path, &text);
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(err.contains("does not verify at line 2 (entry #3)"), "{err}");
        assert!(err.contains("does not match line 1"), "{err}");
    }

    #[test]
    fn an_edited_entry_breaks_the_chain_at_the_next_one() {
        let (_dir, path) = chained_journal();
        let mut text = lines(&path);
        text[2] = text[2].replace("dual-run", "dashboards");
        write_lines(&path, &text);
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(err.contains("at line 4 (entry #4)"), "{err}");
    }

    #[test]
    fn removing_the_last_lines_or_truncating_is_refused() {
        let (_dir, path) = chained_journal();
        let text = lines(&path);
        write_lines(&path, &text[..2]);
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(err.contains("ends at entry #2"), "{err}");
        assert!(err.contains("reached entry #4"), "{err}");
        fs::write(&path, &text[0][..10]).unwrap();
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(err.contains("ends at entry #0"), "{err}");
        fs::write(&path, "").unwrap();
        assert!(Journal::read(&path).is_err());
        fs::remove_file(&path).unwrap();
        assert!(Journal::read(&path).is_err(), "a head without its journal");
    }

    #[test]
    fn the_head_may_lag_one_entry_after_a_crash_never_more() {
        let (dir, path) = chained_journal();
        let head = head_path(&path);
        let after_three = {
            let copy = dir.path().join("copy.jsonl");
            write_lines(&copy, &lines(&path)[..3]);
            format!("3 {}\n", sha256_hex(lines(&path)[2].as_bytes()))
        };
        fs::write(&head, &after_three).unwrap();
        assert_eq!(Journal::read(&path).unwrap().records.len(), 4);
        fs::write(&head, format!("2 {}\n", sha256_hex(lines(&path)[1].as_bytes()))).unwrap();
        assert!(Journal::read(&path).is_err());
        fs::write(&head, "garbage").unwrap();
        assert!(Journal::read(&path).unwrap_err().to_string().contains("is damaged"));
    }

    #[test]
    fn a_legacy_prefix_is_read_and_continued_by_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let legacy = [
            record(1, begin(Action::Apply, "scrape")),
            record(2, Event::Commit { of: 1 }),
        ];
        write_lines(
            &path,
            &legacy
                .iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect::<Vec<_>>(),
        );
        let journal = Journal::read(&path).unwrap();
        assert_eq!(journal.applied().len(), 1);
        append_chained(&path, begin(Action::Apply, "dual-run"));
        append_chained(&path, Event::Commit { of: 3 });
        let journal = Journal::read(&path).unwrap();
        assert_eq!(journal.applied().len(), 2);
        assert_eq!(
            journal.records[2].prev.as_deref(),
            Some(sha256_hex(lines(&path)[1].as_bytes()).as_str())
        );

        // An old-format line after the chain was added by hand.
        let mut text = lines(&path);
        text.push(serde_json::to_string(&record(5, begin(Action::Rollback, "dual-run"))).unwrap());
        write_lines(&path, &text);
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("at line 5 (entry #5)") && err.contains("old format"),
            "{err}"
        );
    }

    #[test]
    fn a_legacy_journal_missing_a_line_tells_an_impossible_story() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        // The commit of the scrape apply removed: dual-run's begin opens while #1 is open.
        let records = [
            record(1, begin(Action::Apply, "scrape")),
            record(2, begin(Action::Apply, "dual-run")),
        ];
        write_lines(
            &path,
            &records
                .iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect::<Vec<_>>(),
        );
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("entry #2") && err.contains("while entry #1 is still open"),
            "{err}"
        );
        // A rollback of a phase that is not the last applied.
        let records = [
            record(1, begin(Action::Apply, "scrape")),
            record(2, Event::Commit { of: 1 }),
            record(3, begin(Action::Rollback, "dual-run")),
            record(4, Event::Commit { of: 3 }),
        ];
        write_lines(
            &path,
            &records
                .iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect::<Vec<_>>(),
        );
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("entry #4") && err.contains("not the phase applied last"),
            "{err}"
        );
    }

    #[test]
    fn a_journal_that_is_not_a_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = Journal::read(&path).unwrap_err().to_string();
        assert!(err.contains("is a symlink"), "{err}");
        assert!(append(&path, &record(1, begin(Action::Apply, "scrape"))).is_err());
    }
}
