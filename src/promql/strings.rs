//! PromQL string literals and the small regex subset we are willing to edit.
//!
//! A matcher value is only ever edited when we can read it exactly: a literal, or a regex that is
//! a plain `|`-alternation of literals. Anything else is left to a person.

use super::template;

/// The quote a PromQL string literal was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    Double,
    Single,
    Backtick,
}

impl Quote {
    pub(crate) fn from_literal(raw: &str) -> Option<Quote> {
        match raw.as_bytes().first() {
            Some(b'"') => Some(Quote::Double),
            Some(b'\'') => Some(Quote::Single),
            Some(b'`') => Some(Quote::Backtick),
            _ => None,
        }
    }

    fn char(self) -> char {
        match self {
            Quote::Double => '"',
            Quote::Single => '\'',
            Quote::Backtick => '`',
        }
    }
}

/// The decoded value of a string literal as the PromQL parser reads it, or `None` when it cannot
/// be read (then nothing about it is edited).
pub(crate) fn decode(raw: &str) -> Option<String> {
    promql_parser::util::unquote_string(raw).ok()
}

/// `value` written as a string literal in the given quote style, or `None` when that style cannot
/// hold it (a backtick string cannot contain a backtick; promql-parser also rejects backslashes in
/// backtick strings, although Prometheus reads them raw).
pub(crate) fn encode(value: &str, quote: Quote) -> Option<String> {
    let q = quote.char();
    let mut out = String::with_capacity(value.len() + 2);
    out.push(q);
    if quote == Quote::Backtick {
        if value.contains('`') || value.contains('\\') {
            return None;
        }
        out.push_str(value);
    } else {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == q => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out.push(q);
    Some(out)
}

/// Characters with a meaning in RE2 syntax.
const REGEX_META: &str = r"\.+*?()|[]{}^$";

/// `literal` as a regex matching exactly it. In backtick strings a backslash is not usable (see
/// [`encode`]), so metacharacters go into a one-character class there: `[.]` instead of `\.`.
pub(crate) fn regex_escape(literal: &str, quote: Quote) -> Option<String> {
    let mut out = String::with_capacity(literal.len() + 4);
    for c in literal.chars() {
        if REGEX_META.contains(c) {
            if quote == Quote::Backtick {
                // `]`, `\` and `^` cannot be written in a class without a backslash.
                if matches!(c, ']' | '\\' | '^') {
                    return None;
                }
                out.push('[');
                out.push(c);
                out.push(']');
            } else {
                out.push('\\');
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The shape of a matcher's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueShape {
    /// A literal value (`=`/`!=` matchers), decoded.
    Literal(String),
    /// A regex that is a plain `|`-alternation (possibly of one literal).
    Alternation(Alternation),
    /// The whole value is a Grafana variable, or built from one: unknown until the dashboard runs.
    Template,
    /// `.*` or `.+`: no constraint worth naming.
    MatchAll,
    /// A regex we do not read (`push.*`, classes, groups…).
    Opaque,
    /// The literal could not be decoded.
    Undecodable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alternation {
    /// Text before the alternatives (`^`, `(`, `^(`).
    prefix: String,
    /// Text after them (`$`, `)`, `)$`).
    suffix: String,
    pub(crate) alternatives: Vec<Alternative>,
}

/// The outcome of [`Alternation::rewritten`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rewritten {
    Unchanged,
    Changed(String),
    /// This new literal cannot be written in the string's quote style.
    Unwritable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alternative {
    /// The regex source of this alternative, kept verbatim when it is not rewritten.
    source: String,
    /// What it matches, or `None` when it is a Grafana variable.
    pub(crate) literal: Option<String>,
}

impl Alternation {
    /// The regex with the alternatives for which `replace` returns a new literal swapped out, and
    /// duplicates dropped (two pushed instances may map to one scrape target).
    pub(crate) fn rewritten(&self, quote: Quote, mut replace: impl FnMut(&str) -> Option<String>) -> Rewritten {
        let mut changed = false;
        let mut sources: Vec<String> = Vec::with_capacity(self.alternatives.len());
        for alternative in &self.alternatives {
            let source = match alternative.literal.as_deref().and_then(&mut replace) {
                Some(new_literal) => {
                    changed = true;
                    match regex_escape(&new_literal, quote) {
                        Some(escaped) => escaped,
                        None => return Rewritten::Unwritable(new_literal),
                    }
                }
                None => alternative.source.clone(),
            };
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        if !changed {
            return Rewritten::Unchanged;
        }
        Rewritten::Changed(format!("{}{}{}", self.prefix, sources.join("|"), self.suffix))
    }

    pub(crate) fn literals(&self) -> impl Iterator<Item = &str> {
        self.alternatives
            .iter()
            .filter_map(|alternative| alternative.literal.as_deref())
    }

    pub(crate) fn has_template(&self) -> bool {
        self.alternatives.iter().any(|a| a.literal.is_none())
    }
}

/// Reads a matcher value. `regex` is true for `=~`/`!~`.
pub(crate) fn value_shape(raw: &str, regex: bool) -> ValueShape {
    let Some(value) = decode(raw) else {
        return ValueShape::Undecodable;
    };
    if !regex {
        if template::contains_variable(&value) {
            return ValueShape::Template;
        }
        return ValueShape::Literal(value);
    }
    if template::is_whole_variable(&value) {
        return ValueShape::Template;
    }
    if matches!(value.as_str(), ".*" | ".+" | "^.*$" | "^.+$") {
        return ValueShape::MatchAll;
    }
    match parse_alternation(&value) {
        Some(alternation) => ValueShape::Alternation(alternation),
        None if template::contains_variable(&value) => ValueShape::Template,
        None => ValueShape::Opaque,
    }
}

fn parse_alternation(regex: &str) -> Option<Alternation> {
    let (prefix_anchor, rest) = match regex.strip_prefix('^') {
        Some(rest) => ("^", rest),
        None => ("", regex),
    };
    let (rest, suffix_anchor) = match rest.strip_suffix('$') {
        // `\$` is an escaped dollar, not an anchor.
        Some(inner) if !inner.ends_with('\\') => (inner, "$"),
        _ => (rest, ""),
    };
    let (open, body, close) = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => ("(", inner, ")"),
        None => ("", rest, ""),
    };
    let mut alternatives = Vec::new();
    for source in split_alternatives(body)? {
        let literal = if template::is_whole_variable(source) {
            None
        } else {
            Some(read_literal(source)?)
        };
        alternatives.push(Alternative {
            source: source.to_string(),
            literal,
        });
    }
    Some(Alternation {
        prefix: format!("{prefix_anchor}{open}"),
        suffix: format!("{close}{suffix_anchor}"),
        alternatives,
    })
}

/// Splits at unescaped `|`. Grafana variables are kept whole (`${a|b}` is not a thing, but
/// `${var:regex}` contains a colon, which is fine).
fn split_alternatives(body: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '|' => {
                parts.push(body.get(start..index)?);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(body.get(start..)?);
    Some(parts)
}

/// What a regex alternative matches, if it is a literal. An unescaped `.` is read as itself: that
/// is how people write host names in regexes, and it does match itself.
fn read_literal(source: &str) -> Option<String> {
    let mut literal = String::with_capacity(source.len());
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next()?;
                if escaped.is_ascii_alphanumeric() {
                    // `\d`, `\w`, `\b`…: a class or assertion, not a literal.
                    return None;
                }
                literal.push(escaped);
            }
            '.' => literal.push('.'),
            c if REGEX_META.contains(c) => return None,
            c => literal.push(c),
        }
    }
    Some(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_the_original_quote_style() {
        assert_eq!(encode("a\"b", Quote::Double).as_deref(), Some(r#""a\"b""#));
        assert_eq!(encode("a'b\\", Quote::Single).as_deref(), Some(r"'a\'b\\'"));
        assert_eq!(encode("a\"b", Quote::Backtick).as_deref(), Some("`a\"b`"));
        assert_eq!(encode("a`b", Quote::Backtick), None);
        assert_eq!(encode("é ü", Quote::Double).as_deref(), Some("\"é ü\""));
    }

    #[test]
    fn regex_escaping_avoids_backslashes_in_backtick_strings() {
        assert_eq!(
            regex_escape("10.0.0.1:8080", Quote::Double).as_deref(),
            Some(r"10\.0\.0\.1:8080")
        );
        assert_eq!(
            regex_escape("10.0.0.1:8080", Quote::Backtick).as_deref(),
            Some("10[.]0[.]0[.]1:8080")
        );
        assert_eq!(regex_escape("a^b", Quote::Backtick), None);
    }

    #[test]
    fn reads_plain_alternations_and_refuses_real_regexes() {
        let shape = value_shape(r#""pushgateway|node""#, true);
        let ValueShape::Alternation(alternation) = shape else {
            panic!("expected an alternation, got {shape:?}");
        };
        assert_eq!(alternation.literals().collect::<Vec<_>>(), ["pushgateway", "node"]);
        assert_eq!(value_shape(r#""push.*""#, true), ValueShape::Opaque);
        assert_eq!(value_shape(r#""(a|b)+""#, true), ValueShape::Opaque);
        assert_eq!(value_shape(r#""\\d+""#, true), ValueShape::Opaque);
        assert_eq!(value_shape(r#"".+""#, true), ValueShape::MatchAll);
        assert_eq!(value_shape(r#""$job""#, true), ValueShape::Template);
        assert_eq!(value_shape(r#""${job:regex}""#, true), ValueShape::Template);
        assert_eq!(value_shape(r#""x""#, false), ValueShape::Literal("x".to_string()));
    }

    #[test]
    fn rewrites_only_the_named_alternative_and_keeps_escapes_of_the_others() {
        let ValueShape::Alternation(alternation) = value_shape(r#""^(pushgateway|10\\.0\\.0\\.1:9100|$extra)$""#, true)
        else {
            panic!("expected an alternation");
        };
        let rewritten = alternation.rewritten(Quote::Double, |alternative| {
            (alternative == "pushgateway").then(|| "metrics-api".to_string())
        });
        assert_eq!(
            rewritten,
            Rewritten::Changed(r"^(metrics-api|10\.0\.0\.1:9100|$extra)$".to_string())
        );
    }

    #[test]
    fn drops_duplicates_that_a_rewrite_creates() {
        let ValueShape::Alternation(alternation) = value_shape(r#""app-1|app-2""#, true) else {
            panic!("expected an alternation");
        };
        let rewritten = alternation.rewritten(Quote::Double, |_| Some("metrics-api:8080".to_string()));
        assert_eq!(rewritten, Rewritten::Changed("metrics-api:8080".to_string()));
    }
}
