//! The labels pushed and scraped series differ by, reading one matcher's value, and the edits
//! and findings for one selector before it is known to be fully handled.

use std::ops::Range;

use super::super::model::{QueryEdit, QueryFinding, QueryFindingKind};
use super::super::strings::{self, ValueShape};
use super::super::structure::{Matcher, Selector};

pub(super) const JOB: &str = "job";
pub(super) const INSTANCE: &str = "instance";
pub(super) const EXPORTED_JOB: &str = "exported_job";
pub(super) const EXPORTED_INSTANCE: &str = "exported_instance";

/// The label a scraped series carries instead of a pushed-series label (docs/label-facts.md,
/// exported_job and exported_instance).
pub(crate) fn scraped_label_name(label: &str) -> Option<&'static str> {
    match label {
        EXPORTED_JOB => Some(JOB),
        EXPORTED_INSTANCE => Some(INSTANCE),
        _ => None,
    }
}

pub(super) fn matchers<'s>(selector: &'s Selector, label: &'s str) -> impl Iterator<Item = &'s Matcher> {
    selector.matchers.iter().filter(move |m| m.label.is(label))
}

pub(super) fn value_shape(matcher: &Matcher) -> ValueShape {
    strings::value_shape(&matcher.value.raw, matcher.op.is_regex())
}

/// The values a literal or a plain `a|b` alternation names; none for other shapes.
pub(super) fn named_values(shape: &ValueShape) -> Vec<String> {
    match shape {
        ValueShape::Literal(value) => vec![value.clone()],
        ValueShape::Alternation(alternation) => alternation.literals().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Whether a matcher narrows its label: positive, and not a match-all or unreadable value.
pub(super) fn narrows(matcher: &Matcher, shape: &ValueShape) -> bool {
    matcher.op.is_positive() && !matches!(shape, ValueShape::MatchAll | ValueShape::Undecodable)
}

/// Edits and findings for one selector, kept apart until the selector is known to be fully
/// handled.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) edits: Vec<QueryEdit>,
    pub(super) findings: Vec<QueryFinding>,
}

impl Pending {
    pub(super) fn edit(&mut self, range: Range<usize>, replacement: impl Into<String>) {
        self.edits.push(QueryEdit {
            range,
            replacement: replacement.into(),
        });
    }
}

pub(super) fn finding(
    kind: QueryFindingKind,
    range: Range<usize>,
    message: String,
    suggestion: Option<String>,
) -> QueryFinding {
    QueryFinding {
        blocks_rewrite: kind.blocks_rewrite(),
        kind,
        message,
        suggestion,
        range: Some(range),
    }
}

/// A finding that keeps the whole query as written whatever its kind: the selector stays on the
/// gateway, so the query's grouping labels must too.
pub(super) fn blocking(kind: QueryFindingKind, range: Range<usize>, message: String) -> QueryFinding {
    QueryFinding {
        blocks_rewrite: true,
        ..finding(kind, range, message, None)
    }
}

pub(super) fn unwritable_finding(matcher: &Matcher, value: &str) -> QueryFinding {
    finding(
        QueryFindingKind::UnsupportedSyntax,
        matcher.value.span.clone(),
        format!("\"{value}\" cannot be written in this string's quote style; left unchanged"),
        None,
    )
}
