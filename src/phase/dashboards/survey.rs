//! What the phase found, per query and per file, before it becomes a [`ChangeSet`]: the record
//! `analyze` reads and `plan` turns into changes.
//!
//! [`ChangeSet`]: crate::changeset::ChangeSet

use std::ops::Range;

use serde::Serialize;

use crate::changeset::{Finding, Location};
use crate::promql::SeriesMapping;
use crate::stack::source::RelPath;

/// What the phase does with one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryAction {
    /// Rewritten to select the scraped series.
    Rewrite,
    /// Left as written, with findings for a person.
    Report,
    /// Left as written: it reads no pushed series.
    Leave,
}

/// Where a query lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryPlace {
    PanelQuery,
    VariableQuery,
    VariableDefinition,
    AnnotationQuery,
    PanelLink,
    AlertRule,
    RecordingRule,
}

impl QueryPlace {
    pub fn label(self) -> &'static str {
        match self {
            QueryPlace::PanelQuery => "panel query",
            QueryPlace::VariableQuery => "variable query",
            QueryPlace::VariableDefinition => "variable definition",
            QueryPlace::AnnotationQuery => "annotation query",
            QueryPlace::PanelLink => "panel link",
            QueryPlace::AlertRule => "alert rule",
            QueryPlace::RecordingRule => "recording rule",
        }
    }
}

/// One query and what the phase does with it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedQuery {
    /// The string literal (dashboards) or scalar (rules) holding the query; its context names
    /// dashboard, row and panel, or group and rule.
    pub location: Location,
    /// Byte range of the string literal or scalar in the file.
    #[serde(skip)]
    pub span: Range<usize>,
    pub place: QueryPlace,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten: Option<String>,
    pub action: QueryAction,
    pub findings: Vec<Finding>,
    /// Whether it repeats the query of another site of its variable (definition and query):
    /// its findings are the other's, and the plan reports them once.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeats: bool,
}

/// A file's new text.
#[derive(Debug, Clone)]
pub struct RewrittenFile {
    pub path: RelPath,
    pub text: String,
    pub because: String,
}

/// Everything the phase found, per query, before it becomes a [`ChangeSet`].
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// `None` when the stack has no Pushgateway.
    pub mapping: Option<SeriesMapping>,
    pub queries: Vec<PlannedQuery>,
    /// Every finding of the phase, in report order (what was learnt, then file by file).
    pub findings: Vec<Finding>,
    pub files: Vec<RewrittenFile>,
}

/// What a [`Survey`] keeps: a plan needs no per-query record, which on a big stack is the
/// larger part of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    Everything,
    FilesAndFindings,
}
