//! Errors with the byte span of the problem in the caller's text.
//!
//! promql-parser reports errors as bare strings, so the span is worked out here: lexer errors by
//! finding the shortest prefix that fails the same way, parse errors by narrowing to the
//! function named in the message, the innermost argument that fails on its own, or the token
//! after the longest prefix that parses.

use std::ops::Range;

use promql_parser::parser::token::{
    T_BY, T_GROUP_LEFT, T_GROUP_RIGHT, T_IDENTIFIER, T_IGNORING, T_LEFT_PAREN, T_ON, T_RIGHT_PAREN, T_WITHOUT,
};

use super::model::{QueryFinding, QueryFindingKind};
use super::structure::{self, Token};
use super::template;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromqlErrorKind {
    /// The query is not valid PromQL (after masking Grafana variables).
    Syntax,
    /// Nested deeper than pullover follows.
    TooDeep,
    /// The rewritten query would not parse. A bug in pullover: nothing is rewritten.
    RewriteInvalid,
}

/// A query pullover cannot read or could not rewrite safely. `span` is a byte range in the text
/// given to [`super::rewrite_query`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PromqlError {
    pub kind: PromqlErrorKind,
    pub span: Range<usize>,
    pub message: String,
}

impl PromqlError {
    pub(crate) fn syntax(span: Range<usize>, message: impl Into<String>) -> Self {
        PromqlError {
            kind: PromqlErrorKind::Syntax,
            span,
            message: message.into(),
        }
    }

    /// 1-based line and column (in characters) of the span's start in `query`.
    pub fn line_col(&self, query: &str) -> (usize, usize) {
        crate::stack::source::line_col(query, self.span.start)
    }

    /// The error as a finding, for callers that report unreadable queries and go on.
    pub fn to_finding(&self) -> QueryFinding {
        QueryFinding {
            kind: QueryFindingKind::UnparseableQuery,
            message: format!("cannot read this query: {}; left unchanged", self.message),
            suggestion: None,
            range: Some(self.span.clone()),
            blocks_rewrite: true,
        }
    }

    pub(crate) fn shifted(mut self, offset: usize) -> Self {
        self.span = self.span.start + offset..self.span.end + offset;
        self
    }
}

/// Parse attempts spent on narrowing one error down, at most.
const MAX_ATTEMPTS: usize = 128;

/// Locates the error `message` that parsing `masked` gave. `original` has the same length.
pub(crate) fn locate(original: &str, masked: &str, message: &str) -> PromqlError {
    let whole = trimmed_span(original);
    let span = match structure::tokens(masked) {
        Err(lexer_message) => locate_lexer_error(masked, &lexer_message),
        Ok(tokens) => locate_parse_error(masked, &tokens, message),
    }
    .unwrap_or(whole);
    let shown = original.get(span.clone()).unwrap_or_default();
    let shown: String = shown.chars().take(60).collect();
    PromqlError::syntax(span, format!("{message} (at `{shown}`)"))
}

fn trimmed_span(text: &str) -> Range<usize> {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    if start < end { start..end } else { 0..text.len() }
}

fn locate_lexer_error(masked: &str, message: &str) -> Option<Range<usize>> {
    let bytes = masked.as_bytes();
    if message.starts_with("unterminated quoted string") {
        return unterminated_string(bytes).map(|start| start..masked.len());
    }
    let opener = match message {
        "unclosed left parenthesis" => Some(b'('),
        "unexpected end of input inside braces" => Some(b'{'),
        "unexpected end of input inside brackets" => Some(b'['),
        _ => None,
    };
    if let Some(opener) = opener {
        return unclosed(bytes, opener).map(|start| start..start + 1);
    }
    // Any other lexer error happens at one character: find the shortest prefix that fails with
    // the same message; its last character is the culprit.
    let boundaries: Vec<usize> = masked.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let fails_here = |end: usize| {
        masked
            .get(..end)
            .is_some_and(|prefix| structure::tokens(prefix).err().as_deref() == Some(message))
    };
    let first = boundaries.partition_point(|&end| !fails_here(end));
    let end = *boundaries.get(first)?;
    let start = masked.get(..end)?.char_indices().last().map(|(i, _)| i)?;
    Some(start..end)
}

fn unterminated_string(bytes: &[u8]) -> Option<usize> {
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'#' => index = template::skip_comment(bytes, index),
            b'"' | b'\'' | b'`' => {
                let end = template::skip_string(bytes, index);
                let closed =
                    end >= index + 2 && bytes.get(end - 1) == Some(&b) && !escaped_at(bytes, index + 1, end - 1);
                if !closed {
                    return Some(index);
                }
                index = end;
            }
            _ => index += 1,
        }
    }
    None
}

/// Whether the byte at `at` is escaped by a backslash run starting at or after `from`.
fn escaped_at(bytes: &[u8], from: usize, at: usize) -> bool {
    let mut backslashes = 0;
    let mut index = at;
    while index > from && bytes.get(index - 1) == Some(&b'\\') {
        backslashes += 1;
        index -= 1;
    }
    backslashes % 2 == 1
}

/// The position of an `opener` that is never closed (outside strings and comments).
fn unclosed(bytes: &[u8], opener: u8) -> Option<usize> {
    let closer = match opener {
        b'(' => b')',
        b'{' => b'}',
        _ => b']',
    };
    let mut open = Vec::new();
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'#' => {
                index = template::skip_comment(bytes, index);
                continue;
            }
            b'"' | b'\'' | b'`' => {
                index = template::skip_string(bytes, index);
                continue;
            }
            b if b == opener => open.push(index),
            b if b == closer => {
                open.pop();
            }
            _ => {}
        }
        index += 1;
    }
    open.first().copied()
}

fn parses(text: &str) -> bool {
    super::parser::parses(text).is_ok()
}

fn locate_parse_error(masked: &str, tokens: &[Token], message: &str) -> Option<Range<usize>> {
    if let Some(span) = named_function(masked, tokens, message) {
        return Some(span);
    }
    let narrowed = failing_argument(masked, tokens);
    let scope = narrowed.clone().unwrap_or(0..tokens.len());
    let generic = message == "invalid promql query";
    if generic && let Some(span) = after_longest_parsing_prefix(masked, tokens, scope.clone()) {
        return Some(span);
    }
    let first = tokens.get(scope.start)?;
    let last = tokens.get(scope.end.checked_sub(1)?)?;
    narrowed.map(|_| first.span.start..last.span.end)
}

/// `... function 'rate' ...` / `unknown function with name 'label_values'`: the call it names.
fn named_function(masked: &str, tokens: &[Token], message: &str) -> Option<Range<usize>> {
    let (_, after) = message.split_once("function")?;
    let name = after.split('\'').nth(1)?;
    let index = tokens.iter().enumerate().position(|(i, t)| {
        t.id == T_IDENTIFIER
            && masked.get(t.span.clone()) == Some(name)
            && tokens.get(i + 1).is_some_and(|n| n.id == T_LEFT_PAREN)
    })?;
    let name_span = tokens.get(index)?.span.clone();
    if message.starts_with("unknown function") {
        return Some(name_span);
    }
    let close = closing_paren(tokens, index + 1)?;
    Some(name_span.start..tokens.get(close)?.span.end)
}

fn closing_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.id {
            T_LEFT_PAREN => depth += 1,
            T_RIGHT_PAREN => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The shortest argument of a call or parenthesis that fails to parse on its own, as a token
/// index range.
fn failing_argument(masked: &str, tokens: &[Token]) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut attempts = 0;
    for (open, token) in tokens.iter().enumerate() {
        if token.id != T_LEFT_PAREN {
            continue;
        }
        let label_list = open.checked_sub(1).and_then(|i| tokens.get(i)).is_some_and(|t| {
            matches!(
                t.id,
                T_BY | T_WITHOUT | T_ON | T_IGNORING | T_GROUP_LEFT | T_GROUP_RIGHT
            )
        });
        if label_list {
            continue;
        }
        let Some(close) = closing_paren(tokens, open) else {
            continue;
        };
        for argument in structure::arguments(tokens, open, close) {
            attempts += 1;
            if attempts > MAX_ATTEMPTS {
                return best;
            }
            let (Some(first), Some(last)) = (
                tokens.get(argument.start),
                argument.end.checked_sub(1).and_then(|i| tokens.get(i)),
            ) else {
                continue;
            };
            let text = masked.get(first.span.start..last.span.end).unwrap_or_default();
            if !parses(text) && best.as_ref().is_none_or(|b| argument.len() < b.len()) {
                best = Some(argument);
            }
        }
    }
    best
}

/// The token after the longest prefix of `scope` that parses: where a syntax error starts.
fn after_longest_parsing_prefix(masked: &str, tokens: &[Token], scope: Range<usize>) -> Option<Range<usize>> {
    let start = tokens.get(scope.start)?.span.start;
    for (attempt, end) in scope.clone().rev().enumerate() {
        if attempt > MAX_ATTEMPTS {
            return None;
        }
        let prefix_end = tokens.get(end)?.span.end;
        if parses(masked.get(start..prefix_end).unwrap_or_default()) {
            let culprit = tokens.get(end + 1).filter(|_| end + 1 < scope.end)?;
            return Some(culprit.span.clone());
        }
    }
    tokens.get(scope.start).map(|t| t.span.clone())
}
