//! One error type for reading and editing dashboards. It holds a byte span into the source; line
//! and column are worked out only when someone prints them.

use std::ops::Range;

use super::position::{LineCol, line_col};

/// What went wrong, and where (a byte span of the source passed in).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct DashboardError {
    pub kind: ErrorKind,
    /// Byte span in the source text (the BOM, if any, counts).
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("not valid JSON: {message}")]
    Syntax { message: String },
    #[error("the file is empty")]
    Empty,
    #[error("JSON nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("key {key:?} appears twice in one object (first at {first})")]
    DuplicateKey { key: String, first: LineCol },
    #[error("unsupported dashboard apiVersion {api_version:?}")]
    UnsupportedApiVersion { api_version: String },
    #[error("bytes {}..{} are not a JSON string value in this file", literal.start, literal.end)]
    NotAStringValue { literal: Range<usize> },
    #[error("two edits name overlapping string literals ({}..{} and {}..{})", first.start, first.end, second.start, second.end)]
    OverlappingLiterals { first: Range<usize>, second: Range<usize> },
    #[error(
        "edits {}..{} and {}..{} overlap inside one string",
        first.start,
        first.end,
        second.start,
        second.end
    )]
    OverlappingEdits { first: Range<usize>, second: Range<usize> },
    #[error(
        "edit range {}..{} is outside the decoded string (length {len}) or splits a character",
        range.start,
        range.end
    )]
    EditOutOfRange { range: Range<usize>, len: usize },
    #[error("after editing, {what} (at {pointer:?})")]
    VerificationFailed { pointer: String, what: String },
}

impl DashboardError {
    pub(crate) fn new(kind: ErrorKind, span: Range<usize>) -> Self {
        Self { kind, span }
    }

    /// Byte offset where the problem starts.
    pub fn offset(&self) -> usize {
        self.span.start
    }

    /// 1-based line and column of [`Self::offset`] in `source` (the text that was passed in).
    pub fn location(&self, source: &str) -> LineCol {
        line_col(source, self.span.start)
    }

    /// What the person running pullover can do about it.
    pub fn help(&self) -> &'static str {
        match &self.kind {
            ErrorKind::Syntax { .. } | ErrorKind::Empty => {
                "fix the JSON (Grafana writes strict JSON: no comments, no trailing commas); nothing was written"
            }
            ErrorKind::TooDeep { .. } => {
                "this does not look like a Grafana dashboard; exclude it from the dashboard folders"
            }
            ErrorKind::DuplicateKey { .. } => {
                "Grafana silently keeps the last of duplicate keys; remove the one you do not want, then run pullover again"
            }
            ErrorKind::UnsupportedApiVersion { .. } => {
                "pullover reads dashboard.grafana.app v0/v1 (classic spec) and v2 resources; export the dashboard in one of those"
            }
            ErrorKind::NotAStringValue { .. }
            | ErrorKind::OverlappingLiterals { .. }
            | ErrorKind::OverlappingEdits { .. }
            | ErrorKind::EditOutOfRange { .. }
            | ErrorKind::VerificationFailed { .. } => {
                "this is a bug in pullover's planner; nothing was written, please report it with the file"
            }
        }
    }
}
