//! Grafana template variables, and masking them so promql-parser can read the query.
//!
//! Grafana substitutes `$var`, `${var}`, `${var:fmt}`, `${var.field}` and `[[var]]` (and its own
//! `$__interval`, `$__rate_interval`, `$__range`, …) before a query reaches Prometheus. The PromQL
//! lexer rejects `$`, so each variable outside string literals is replaced by a placeholder of the
//! *same byte length* that has the right token type where it stands: a duration inside `[...]`
//! and after `offset`, a number after `@`, an identifier elsewhere. Equal lengths keep every token
//! span of the masked text valid for the original text, which is where edits are made.

use std::ops::Range;

/// Where a variable stands, which decides what its placeholder must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Inside `[...]` or after `offset`. `unit_follows` when the query writes the unit itself
    /// (`[${__range_s}s]`).
    Duration { unit_follows: bool },
    /// After `@`.
    Number,
    /// Glued to a name (`node_${suffix}`, `$prefix_total`): must stay part of that identifier.
    Identifier,
    /// Standing alone: a metric name, a label name, a scalar or a whole expression. Tried as an
    /// identifier first, then as a number (`topk($n, ...)`, `histogram_quantile($q, ...)`).
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    pub(crate) span: Range<usize>,
    pub(crate) slot: Slot,
}

/// Longest `[[...]]` / `${...}` body we accept as a variable, so a stray `${` cannot swallow the
/// rest of a long query.
const MAX_BRACED_LEN: usize = 256;

/// Every template variable outside string literals and comments.
pub(crate) fn find_variables(text: &str) -> Vec<Variable> {
    let bytes = text.as_bytes();
    let mut variables = Vec::new();
    let mut in_brackets = false;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'#' => index = skip_comment(bytes, index),
            b'"' | b'\'' | b'`' => index = skip_string(bytes, index),
            b'$' | b'[' => {
                if let Some(end) = variable_end(bytes, index) {
                    let slot = slot_for(bytes, index, end, in_brackets);
                    variables.push(Variable { span: index..end, slot });
                    index = end;
                } else {
                    if byte == b'[' {
                        in_brackets = true;
                    }
                    index += 1;
                }
            }
            b']' => {
                in_brackets = false;
                index += 1;
            }
            _ => index += 1,
        }
    }
    variables
}

/// The end of the variable starting at `start`, if one does.
pub(crate) fn variable_end(bytes: &[u8], start: usize) -> Option<usize> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match (bytes.get(start), bytes.get(start + 1)) {
        // ${name}, ${name:format}, ${name.field:format}
        (Some(b'$'), Some(b'{')) => {
            let body_start = start + 2;
            let name_end = word_end(bytes, body_start);
            if name_end == body_start {
                return None;
            }
            let limit = bytes.len().min(body_start + MAX_BRACED_LEN);
            let close = (name_end..limit).find(|&i| bytes.get(i) == Some(&b'}'))?;
            let rest = bytes.get(name_end..close)?;
            let allowed = match rest.first() {
                None => true,
                Some(b'.') | Some(b':') => !rest.iter().any(|&b| b == b'\n' || b == b'{'),
                Some(_) => false,
            };
            allowed.then_some(close + 1)
        }
        // $name
        (Some(b'$'), Some(&next)) if is_word(next) => Some(word_end(bytes, start + 1)),
        // [[name]], [[name:format]]
        (Some(b'['), Some(b'[')) => {
            let name_start = start + 2;
            let name_end = word_end(bytes, name_start);
            if name_end == name_start {
                return None;
            }
            let mut end = name_end;
            if bytes.get(end) == Some(&b':') {
                let format_end = word_end(bytes, end + 1);
                if format_end == end + 1 {
                    return None;
                }
                end = format_end;
            }
            (bytes.get(end) == Some(&b']') && bytes.get(end + 1) == Some(&b']')).then_some(end + 2)
        }
        _ => None,
    }
}

fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        end += 1;
    }
    end
}

fn slot_for(bytes: &[u8], start: usize, end: usize, in_brackets: bool) -> Slot {
    let name_char = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b':';
    let next = bytes.get(end);
    let unit_follows = next.is_some_and(|b| b"smhdwy".contains(b));
    if in_brackets {
        return Slot::Duration { unit_follows };
    }
    let before = bytes.get(..start).unwrap_or_default();
    let previous = before.iter().rev().find(|b| !b.is_ascii_whitespace());
    if previous == Some(&b'@') {
        return Slot::Number;
    }
    let trimmed_len = before
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    let trimmed = before.get(..trimmed_len).unwrap_or_default();
    let glued_before = start > 0 && before.last().is_some_and(name_char);
    if !glued_before && trimmed.len() >= 6 {
        let word_start = trimmed.iter().rposition(|b| !name_char(b)).map_or(0, |p| p + 1);
        let word = trimmed.get(word_start..).unwrap_or_default();
        if word.eq_ignore_ascii_case(b"offset") {
            return Slot::Duration { unit_follows };
        }
    }
    if glued_before || next.is_some_and(name_char) {
        return Slot::Identifier;
    }
    Slot::Free
}

/// Index of the line end that closes the `#` comment starting at `start` (or the end of input).
pub(crate) fn skip_comment(bytes: &[u8], start: usize) -> usize {
    let mut index = start;
    while let Some(&b) = bytes.get(index) {
        if b == b'\n' || b == b'\r' {
            break;
        }
        index += 1;
    }
    index
}

/// Index just past the string literal starting at `start`, or the end of input when it is not
/// terminated. Backslash escapes are honoured in all three quote styles, as promql-parser does.
pub(crate) fn skip_string(bytes: &[u8], start: usize) -> usize {
    let Some(&quote) = bytes.get(start) else {
        return start;
    };
    let mut index = start + 1;
    while let Some(&b) = bytes.get(index) {
        if b == b'\\' {
            index += 2;
            continue;
        }
        index += 1;
        if b == quote {
            return index;
        }
    }
    bytes.len()
}

/// `text` with every variable replaced by a placeholder of the same byte length. `free_as_number`
/// tells, for the n-th [`Slot::Free`] variable, whether to try it as a number.
pub(crate) fn mask(text: &str, variables: &[Variable], free_as_number: impl Fn(usize) -> bool) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut copied = 0;
    let mut free_index = 0;
    for variable in variables {
        let Range { start, end } = variable.span.clone();
        if let Some(before) = text.get(copied..start) {
            masked.push_str(before);
        }
        let len = end - start;
        let slot = match variable.slot {
            Slot::Free => {
                let as_number = free_as_number(free_index);
                free_index += 1;
                if as_number { Slot::Number } else { Slot::Identifier }
            }
            slot => slot,
        };
        match slot {
            // A non-zero duration: `[0s]` is rejected, and all-nines overflows the parser.
            Slot::Duration { unit_follows: true } => {
                masked.extend(std::iter::repeat_n('0', len.saturating_sub(1)));
                masked.push('1');
            }
            Slot::Duration { unit_follows: false } => {
                masked.extend(std::iter::repeat_n('0', len.saturating_sub(2)));
                masked.push_str("1s");
            }
            Slot::Number => {
                masked.extend(std::iter::repeat_n('0', len.saturating_sub(1)));
                masked.push('1');
            }
            Slot::Identifier | Slot::Free => masked.extend(std::iter::repeat_n('_', len)),
        }
        copied = end;
    }
    if let Some(rest) = text.get(copied..) {
        masked.push_str(rest);
    }
    masked
}

pub(crate) fn free_count(variables: &[Variable]) -> usize {
    variables.iter().filter(|v| v.slot == Slot::Free).count()
}

/// Whether a (decoded) string value uses a template variable anywhere.
pub(crate) fn contains_variable(value: &str) -> bool {
    let bytes = value.as_bytes();
    (0..bytes.len()).any(|i| variable_end(bytes, i).is_some())
}

/// Whether a (decoded) string value is exactly one template variable.
pub(crate) fn is_whole_variable(value: &str) -> bool {
    variable_end(value.as_bytes(), 0) == Some(value.len())
}

/// Whether a span overlaps a variable.
pub(crate) fn overlaps(variables: &[Variable], span: &Range<usize>) -> bool {
    variables
        .iter()
        .any(|v| v.span.start < span.end && span.start < v.span.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        let variables = find_variables(text);
        mask(text, &variables, |_| false)
    }

    #[test]
    fn masks_every_grafana_variable_form_with_the_same_length() {
        let cases = [
            (
                r#"rate(x{instance=~"$instance"}[$__rate_interval])"#,
                r#"rate(x{instance=~"$instance"}[000000000000001s])"#,
            ),
            ("x[${__range_s}s]", "x[000000000001s]"),
            ("x[1h:$__interval]", "x[1h:0000000001s]"),
            ("x offset $off", "x offset 001s"),
            ("x @ ${__to:date:seconds}", "x @ 00000000000000000001"),
            ("$metric{job=\"a\"}", "_______{job=\"a\"}"),
            ("node_${suffix}_bytes", "node___________bytes"),
            ("sum by ($label) (x)", "sum by (______) (x)"),
            ("[[metric]] / x[[[interval]]]", "__________ / x[00000000001s]"),
            ("x # $not_a_var in a comment", "x # $not_a_var in a comment"),
            ("x{a=\"$b\"} + $c", "x{a=\"$b\"} + __"),
        ];
        for (input, expected) in cases {
            let output = masked(input);
            assert_eq!(output, expected, "input: {input}");
            assert_eq!(output.len(), input.len());
        }
    }

    #[test]
    fn recognises_variables_inside_string_values() {
        assert!(contains_variable("$instance"));
        assert!(contains_variable("${instance:regex}"));
        assert!(contains_variable("host-[[n]]"));
        assert!(!contains_variable("price in $"));
        assert!(is_whole_variable("${job}"));
        assert!(!is_whole_variable("${job}-x"));
    }
}
