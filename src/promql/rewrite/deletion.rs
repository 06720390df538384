//! Deleting matchers from a selector so that what stays is well-formed (an `exported_job`
//! matcher that the gateway's rewritten `job` matcher makes redundant, say).

use std::ops::Range;

use super::super::model::QueryEdit;
use super::super::structure::{Matcher, Selector};
use super::super::template;

/// Edits deleting `doomed` matchers from `selector` so that what stays is well-formed: each run
/// of deleted matchers goes together with the separator before it (or after it, at the start).
/// When no matcher would stay, the braces go too if the selector has a metric name; without one
/// `{}` would not parse, so `None`.
pub(crate) fn deletion_edits(text: &str, selector: &Selector, doomed: &[&Matcher]) -> Option<Vec<QueryEdit>> {
    let matchers = &selector.matchers;
    let is_doomed = |m: &Matcher| doomed.iter().any(|d| d.span == m.span);
    let kept = matchers.iter().filter(|m| !is_doomed(m)).count();
    let delete = |range: Range<usize>| QueryEdit {
        range,
        replacement: String::new(),
    };
    if kept == 0 && selector.other_items.is_empty() {
        let (open, close) = selector.braces.clone()?;
        selector.name_span.as_ref()?;
        return Some(vec![delete(open.start..close.end)]);
    }
    // A comment between matchers must not be swallowed: then only the matcher and the comma
    // right after it go (a trailing comma is valid PromQL).
    let (open, close) = selector.braces.clone()?;
    let inside = text.get(open.end..close.start).unwrap_or_default();
    if has_comment(inside) {
        let mut edits = Vec::new();
        for matcher in matchers.iter().filter(|m| is_doomed(m)) {
            let rest = text.get(matcher.span.end..close.start).unwrap_or_default();
            let whitespace = rest.len() - rest.trim_start().len();
            let end = if rest.trim_start().starts_with(',') {
                matcher.span.end + whitespace + 1
            } else {
                matcher.span.end
            };
            edits.push(delete(matcher.span.start..end));
        }
        return Some(edits);
    }
    // The items in order, each with whether it goes: a quoted metric name (`{"a.b", job="x"}`)
    // stays, and separates like a matcher.
    let mut items: Vec<(Range<usize>, bool)> = matchers
        .iter()
        .map(|m| (m.span.clone(), is_doomed(m)))
        .chain(selector.other_items.iter().map(|span| (span.clone(), false)))
        .collect();
    items.sort_by_key(|(span, _)| span.start);
    let goes = |i: usize| items.get(i).is_some_and(|(_, doomed)| *doomed);
    let mut edits = Vec::new();
    let mut index = 0;
    while index < items.len() {
        if !goes(index) {
            index += 1;
            continue;
        }
        let mut last_index = index;
        while goes(last_index + 1) {
            last_index += 1;
        }
        let (first, last) = (&items.get(index)?.0, &items.get(last_index)?.0);
        let range = match (
            index.checked_sub(1).and_then(|i| items.get(i)),
            items.get(last_index + 1),
        ) {
            (Some((previous, _)), _) => previous.end..last.end,
            (None, Some((next, _))) => first.start..next.start,
            (None, None) => first.start..last.end,
        };
        edits.push(delete(range));
        index = last_index + 1;
    }
    Some(edits)
}

fn has_comment(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'#' => return true,
            b'"' | b'\'' | b'`' => index = template::skip_string(bytes, index),
            _ => index += 1,
        }
    }
    false
}
