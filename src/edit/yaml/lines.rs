//! Lines of the text around a node: where they start and end, comments, blank lines.

use std::ops::Range;

use super::tree::{self, SyntaxNode};

/// The line starting at `offset` (with its line break), if any.
pub(super) fn line_at(text: &str, offset: usize) -> Option<Range<usize>> {
    (offset < text.len()).then(|| {
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i + 1);
        offset..end
    })
}

pub(super) fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches([' ', '\t', '\u{feff}']).starts_with('#')
}

pub(super) fn indent_of_line(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Offset just after the last token of `node` that is not whitespace or a comment.
pub(super) fn content_end(node: &SyntaxNode) -> usize {
    node.descendants_with_tokens()
        .filter_map(|c| c.into_token())
        .filter(|t| !tree::is_trivia(t.kind()))
        .last()
        .map_or(tree::range_of(node).end, |t| usize::from(t.text_range().end()))
}

/// Offset just after the line break that ends the last line holding content
/// (not only comments) of `node`.
pub(super) fn end_of_content_line(text: &str, node: &SyntaxNode) -> usize {
    let last_content = content_end(node);
    text[last_content..]
        .find('\n')
        .map_or(text.len(), |i| last_content + i + 1)
}

/// Whether a whitespace-only line lies wholly between offsets `from` (mid-line,
/// after content) and `to`.
pub(super) fn blank_between(text: &str, from: usize, to: usize) -> bool {
    let Some(between) = text.get(from..to) else {
        return false;
    };
    let lines: Vec<&str> = between.split('\n').collect();
    lines.len() >= 3 && lines[1..lines.len() - 1].iter().any(|l| l.trim().is_empty())
}

/// The lines `lines` of `text` to delete: at the end of a file without a final newline, the
/// line break before them goes instead of the (missing) one after them, so the file keeps not
/// having one.
pub(super) fn removed_lines(text: &str, lines: Range<usize>) -> Range<usize> {
    let Range { mut start, end } = lines;
    if end == text.len() && !text.ends_with('\n') && start > 0 {
        start -= 1;
        if start > 0 && text.as_bytes().get(start - 1) == Some(&b'\r') {
            start -= 1;
        }
    }
    start..end
}

/// What goes before lines inserted at `at`: a line break when `at` is the end of a file without
/// a final newline (the last line's break is missing), else nothing.
pub(super) fn line_break_before_last(text: &str, at: usize, eol: &'static str) -> &'static str {
    if at == text.len() && !text.ends_with('\n') {
        eol
    } else {
        ""
    }
}
