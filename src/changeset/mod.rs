//! What a phase wants to change, independent of Prometheus: file changes with
//! their exact bytes before and after, and findings for a person.
//!
//! Rendering ([`render`]), applying and rolling back (`state/`) work on this
//! model only, so adding a phase never touches them.

pub mod finding_id;
pub mod markdown;
pub mod redact;
pub mod render;
pub mod saved;

pub use finding_id::FindingId;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::stack::source::{RelPath, SourceFile};

/// Content and permission bits of a file at one moment.
/// A file's bytes: shared with the [`SourceFile`] they were read as, or owned once planned. A
/// plan over a big stack holds neither twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bytes {
    Shared(Arc<str>),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Shared(text) => text.as_bytes(),
            Bytes::Owned(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Bytes {
        Bytes::Owned(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Bytes {
        Bytes::Owned(bytes.to_vec())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    pub bytes: Bytes,
    pub mode: u32,
}

impl FileState {
    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// One file: `before` is `None` for a file the phase creates, `after` is
/// `None` for one it deletes.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: RelPath,
    pub before: Option<FileState>,
    pub after: Option<FileState>,
    /// Why, in a few words, for the reviewer.
    pub because: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Create,
    Modify,
    Delete,
}

impl FileChange {
    pub fn kind(&self) -> ChangeKind {
        match (&self.before, &self.after) {
            (None, _) => ChangeKind::Create,
            (_, None) => ChangeKind::Delete,
            _ => ChangeKind::Modify,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Info,
    /// A person must do this by hand (pullover will not guess edits to it).
    Todo,
    /// Something that will be wrong or misleading unless handled.
    Hazard,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Todo => "todo",
            Severity::Hazard => "hazard",
        }
    }
}

/// Where a finding points: a file position, and where it is in the file's own
/// terms (`dashboard "Website" › panel "Page views"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: RelPath,
    pub line: usize,
    pub column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

impl Location {
    pub fn at(file: &SourceFile, offset: usize) -> Location {
        let (line, column) = file.line_col(offset);
        Location {
            path: file.path.clone(),
            line,
            column,
            context: None,
        }
    }

    pub fn with_context(mut self, context: impl Into<String>) -> Location {
        self.context = Some(context.into());
        self
    }
}

/// Something a person should know about a plan, with a stable kebab-case id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Work this phase should do but cannot until a person decides something (the finding
    /// says what): the plan is not "no changes" while any waits.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub waits: bool,
}

impl Finding {
    pub fn new(id: FindingId, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            id,
            severity,
            message: message.into(),
            tip: None,
            location: None,
            waits: false,
        }
    }

    /// Marks it as work left waiting for a person's decision.
    pub fn waiting(mut self) -> Finding {
        self.waits = true;
        self
    }

    pub fn tip(mut self, tip: impl Into<String>) -> Finding {
        self.tip = Some(tip.into());
        self
    }

    pub fn at(mut self, location: Location) -> Finding {
        self.location = Some(location);
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    pub changes: Vec<FileChange>,
    pub findings: Vec<Finding>,
}

impl ChangeSet {
    pub fn builder() -> ChangeSetBuilder {
        ChangeSetBuilder::default()
    }

    /// Findings for work the phase could not do yet (see [`Finding::waits`]).
    pub fn waiting(&self) -> usize {
        self.findings.iter().filter(|f| f.waits).count()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn paths(&self) -> impl Iterator<Item = &RelPath> {
        self.changes.iter().map(|c| &c.path)
    }
}

/// Builds a [`ChangeSet`] and keeps its invariants: one change per path, no
/// change that changes nothing.
#[derive(Debug, Default)]
pub struct ChangeSetBuilder {
    changes: Vec<FileChange>,
    findings: Vec<Finding>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ChangeSetError {
    #[error("{0} is changed twice in one plan; a planner must merge its edits to one file")]
    DuplicatePath(RelPath),
}

/// A plan that cannot be built is the planner's error, reported like any other.
impl From<ChangeSetError> for Diagnostic {
    fn from(error: ChangeSetError) -> Diagnostic {
        Diagnostic::error(error.to_string())
    }
}

impl ChangeSetBuilder {
    /// The file's new text, keeping its mode. An unchanged text adds nothing.
    pub fn modify(mut self, file: &SourceFile, after: String, because: impl Into<String>) -> ChangeSetBuilder {
        if after.as_bytes() != file.bytes() {
            self.changes.push(FileChange {
                path: file.path.clone(),
                before: Some(FileState {
                    bytes: Bytes::Shared(file.shared_text()),
                    mode: file.mode,
                }),
                after: Some(FileState {
                    bytes: after.into_bytes().into(),
                    mode: file.mode,
                }),
                because: because.into(),
            });
        }
        self
    }

    pub fn create(mut self, path: RelPath, text: String, mode: u32, because: impl Into<String>) -> ChangeSetBuilder {
        self.changes.push(FileChange {
            path,
            before: None,
            after: Some(FileState {
                bytes: text.into_bytes().into(),
                mode,
            }),
            because: because.into(),
        });
        self
    }

    pub fn delete(mut self, file: &SourceFile, because: impl Into<String>) -> ChangeSetBuilder {
        self.changes.push(FileChange {
            path: file.path.clone(),
            before: Some(FileState {
                bytes: Bytes::Shared(file.shared_text()),
                mode: file.mode,
            }),
            after: None,
            because: because.into(),
        });
        self
    }

    pub fn finding(mut self, finding: Finding) -> ChangeSetBuilder {
        self.findings.push(finding);
        self
    }

    pub fn findings(mut self, findings: impl IntoIterator<Item = Finding>) -> ChangeSetBuilder {
        if self.findings.is_empty() {
            // A phase's first findings are often a whole Vec: collecting it reuses its buffer.
            self.findings = findings.into_iter().collect();
        } else {
            self.findings.extend(findings);
        }
        self
    }

    pub fn build(self) -> Result<ChangeSet, ChangeSetError> {
        let mut seen = BTreeSet::new();
        for change in &self.changes {
            if !seen.insert(&change.path) {
                return Err(ChangeSetError::DuplicatePath(change.path.clone()));
            }
        }
        let mut changes = self.changes;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        let mut findings = self.findings;
        findings.dedup();
        Ok(ChangeSet { changes, findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile::from_text(RelPath::new(path).unwrap(), text, 0o644)
    }

    #[test]
    fn unchanged_text_is_not_a_change_and_a_path_changes_once() {
        let f = file("a.yml", "a: 1\n");
        let cs = ChangeSet::builder()
            .modify(&f, "a: 1\n".into(), "nothing")
            .build()
            .unwrap();
        assert!(cs.is_empty());
        let err = ChangeSet::builder()
            .modify(&f, "a: 2\n".into(), "x")
            .delete(&f, "y")
            .build()
            .unwrap_err();
        assert_eq!(err, ChangeSetError::DuplicatePath(f.path.clone()));
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
