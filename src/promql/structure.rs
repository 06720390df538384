//! The parts of a query the rewrite cares about, found from promql-parser's token spans.
//!
//! The AST has no positions, so this walks the lexer's tokens of the masked text (which the
//! parser has already accepted) and picks out vector selectors with their matchers, grouping
//! label lists, and calls with their arguments. Every span is a byte range in the original text.

use std::ops::Range;

use lrpar::{Lexeme, Lexer};
use promql_parser::parser::lexer;
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_BY, T_COMMA, T_COUNT, T_COUNT_VALUES, T_END, T_EOF, T_EQL, T_EQL_REGEX, T_GROUP, T_GROUP_LEFT,
    T_GROUP_RIGHT, T_IDENTIFIER, T_IGNORING, T_LAND, T_LEFT_BRACE, T_LEFT_PAREN, T_LIMIT_RATIO, T_LIMITK, T_LOR,
    T_LUNLESS, T_MAX, T_METRIC_IDENTIFIER, T_MIN, T_NEQ, T_NEQ_REGEX, T_OFFSET, T_ON, T_QUANTILE, T_RIGHT_BRACE,
    T_RIGHT_PAREN, T_START, T_STDDEV, T_STDVAR, T_STRING, T_SUM, T_TOPK, T_WITHOUT, TokenId,
};

use super::strings::{self, Quote};
use super::template::{self, Variable};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) id: TokenId,
    pub(crate) span: Range<usize>,
}

/// The tokens of `masked`, or the lexer's message.
pub(crate) fn tokens(masked: &str) -> Result<Vec<Token>, String> {
    let lexer = lexer(masked)?;
    let mut tokens = Vec::new();
    for lexeme in lexer.iter() {
        let Ok(lexeme) = lexeme else {
            return Err("invalid token".to_string());
        };
        if lexeme.tok_id() == T_EOF {
            continue;
        }
        let span = lexeme.span();
        tokens.push(Token {
            id: lexeme.tok_id(),
            span: span.start()..span.end(),
        });
    }
    Ok(tokens)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    fn from_token(id: TokenId) -> Option<MatchOp> {
        match id {
            T_EQL => Some(MatchOp::Equal),
            T_NEQ => Some(MatchOp::NotEqual),
            T_EQL_REGEX => Some(MatchOp::Regex),
            T_NEQ_REGEX => Some(MatchOp::NotRegex),
            _ => None,
        }
    }

    pub(crate) fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex | MatchOp::NotRegex)
    }

    pub(crate) fn is_positive(self) -> bool {
        matches!(self, MatchOp::Equal | MatchOp::Regex)
    }
}

/// A name as written: a label name in a matcher or a grouping list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// `None` when a template variable is part of it.
    pub(crate) text: Option<String>,
    pub(crate) span: Range<usize>,
    /// Set when written as a string literal (`{"job"="x"}`, `by ("job")`).
    pub(crate) quote: Option<Quote>,
}

impl Name {
    pub(crate) fn is(&self, name: &str) -> bool {
        self.text.as_deref() == Some(name)
    }
}

/// A string literal: its span includes the quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringLiteral {
    pub(crate) span: Range<usize>,
    pub(crate) quote: Quote,
    pub(crate) raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matcher {
    pub(crate) label: Name,
    pub(crate) op: MatchOp,
    pub(crate) op_span: Range<usize>,
    pub(crate) value: StringLiteral,
    pub(crate) span: Range<usize>,
}

/// The metric name of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MetricName {
    Literal(String),
    /// Uses a template variable (`$metric`), or a `__name__` regex.
    Unknown,
    /// No name at all: `{job="x"}`.
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) name: MetricName,
    /// Span of the name token, when written before the braces.
    pub(crate) name_span: Option<Range<usize>>,
    /// Spans of `{` and `}`.
    pub(crate) braces: Option<(Range<usize>, Range<usize>)>,
    /// Items inside the braces, in order. A lone quoted metric name is not a matcher and not
    /// listed here; its span is in `other_items`.
    pub(crate) matchers: Vec<Matcher>,
    /// Spans of brace items that are not matchers (a quoted metric name).
    pub(crate) other_items: Vec<Range<usize>>,
    /// `{a="1" or b="2"}` (a promql-parser extension).
    pub(crate) has_or: bool,
    pub(crate) span: Range<usize>,
}

/// `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_left (...)`,
/// `group_right (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelList {
    /// `T_BY`, `T_WITHOUT`, `T_ON`, `T_IGNORING`, `T_GROUP_LEFT` or `T_GROUP_RIGHT`.
    pub(crate) keyword: TokenId,
    pub(crate) labels: Vec<Name>,
    pub(crate) span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) name_span: Range<usize>,
    /// Each argument's string literal, when the argument is exactly one.
    pub(crate) string_args: Vec<Option<StringLiteral>>,
    pub(crate) span: Range<usize>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Structure {
    pub(crate) selectors: Vec<Selector>,
    pub(crate) label_lists: Vec<LabelList>,
    pub(crate) calls: Vec<Call>,
}

/// Tokens that the grammar accepts as a metric name before `{`.
fn is_metric_name_token(id: TokenId) -> bool {
    matches!(
        id,
        T_IDENTIFIER
            | T_METRIC_IDENTIFIER
            | T_AVG
            | T_BOTTOMK
            | T_BY
            | T_COUNT
            | T_COUNT_VALUES
            | T_GROUP
            | T_LAND
            | T_LOR
            | T_LUNLESS
            | T_MAX
            | T_MIN
            | T_OFFSET
            | T_QUANTILE
            | T_STDDEV
            | T_STDVAR
            | T_SUM
            | T_TOPK
            | T_LIMITK
            | T_LIMIT_RATIO
            | T_WITHOUT
            | T_START
            | T_END
    )
}

fn is_label_list_keyword(id: TokenId) -> bool {
    matches!(id, T_BY | T_WITHOUT | T_ON | T_IGNORING | T_GROUP_LEFT | T_GROUP_RIGHT)
}

struct Walker<'a> {
    original: &'a str,
    masked: &'a str,
    tokens: &'a [Token],
    variables: &'a [Variable],
}

impl Walker<'_> {
    fn id(&self, index: usize) -> Option<TokenId> {
        self.tokens.get(index).map(|t| t.id)
    }

    fn span(&self, index: usize) -> Range<usize> {
        self.tokens.get(index).map_or(0..0, |t| t.span.clone())
    }

    fn name(&self, index: usize) -> Name {
        let span = self.span(index);
        if self.id(index) == Some(T_STRING) {
            let literal = self.string_literal(index);
            let text = literal
                .as_ref()
                .and_then(|l| strings::decode(&l.raw))
                .filter(|t| !template::contains_variable(t));
            return Name {
                text,
                quote: literal.map(|l| l.quote),
                span,
            };
        }
        let text = if template::overlaps(self.variables, &span) {
            None
        } else {
            self.masked.get(span.clone()).map(str::to_string)
        };
        Name {
            text,
            span,
            quote: None,
        }
    }

    fn string_literal(&self, index: usize) -> Option<StringLiteral> {
        if self.id(index) != Some(T_STRING) {
            return None;
        }
        let span = self.span(index);
        let raw = self.original.get(span.clone())?.to_string();
        let quote = Quote::from_literal(&raw)?;
        Some(StringLiteral { span, quote, raw })
    }

    /// Index of the token closing the group opened at `open` (same nesting level).
    fn closing(&self, open: usize, open_id: TokenId, close_id: TokenId) -> Option<usize> {
        let mut depth = 0usize;
        for (index, token) in self.tokens.iter().enumerate().skip(open) {
            if token.id == open_id {
                depth += 1;
            } else if token.id == close_id {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(index);
                }
            }
        }
        None
    }

    fn walk(&self) -> Structure {
        let mut structure = Structure::default();
        let mut index = 0;
        while let Some(id) = self.id(index) {
            let next = self.id(index + 1);
            if is_label_list_keyword(id)
                && next == Some(T_LEFT_PAREN)
                && let Some(close) = self.closing(index + 1, T_LEFT_PAREN, T_RIGHT_PAREN)
            {
                let labels = (index + 2..close)
                    .filter(|&i| self.id(i) != Some(T_COMMA))
                    .map(|i| self.name(i))
                    .collect();
                structure.label_lists.push(LabelList {
                    keyword: id,
                    labels,
                    span: self.span(index).start..self.span(close).end,
                });
                index = close + 1;
                continue;
            }
            if id == T_IDENTIFIER && next == Some(T_LEFT_PAREN) {
                if let Some(call) = self.call(index) {
                    structure.calls.push(call);
                }
                // The arguments are walked like the rest of the query.
                index += 1;
                continue;
            }
            let named = is_metric_name_token(id)
                && (next == Some(T_LEFT_BRACE) || matches!(id, T_IDENTIFIER | T_METRIC_IDENTIFIER));
            if named || id == T_LEFT_BRACE {
                let (selector, after) = self.selector(index, named);
                structure.selectors.push(selector);
                index = after;
                continue;
            }
            index += 1;
        }
        structure
    }

    fn call(&self, name_index: usize) -> Option<Call> {
        let open = name_index + 1;
        let close = self.closing(open, T_LEFT_PAREN, T_RIGHT_PAREN)?;
        let args = arguments(self.tokens, open, close);
        let string_args = args
            .iter()
            .map(|arg| {
                if arg.len() == 1 {
                    self.string_literal(arg.start)
                } else {
                    None
                }
            })
            .collect();
        let name_span = self.span(name_index);
        Some(Call {
            name: self.masked.get(name_span.clone())?.to_string(),
            span: name_span.start..self.span(close).end,
            name_span,
            string_args,
        })
    }

    /// The selector starting at `start`; returns it and the index after it.
    fn selector(&self, start: usize, named: bool) -> (Selector, usize) {
        let (name, name_span, brace_index) = if named {
            let span = self.span(start);
            let name = if template::overlaps(self.variables, &span) {
                MetricName::Unknown
            } else {
                self.masked
                    .get(span.clone())
                    .map_or(MetricName::Unknown, |n| MetricName::Literal(n.to_string()))
            };
            (name, Some(span), start + 1)
        } else {
            (MetricName::Absent, None, start)
        };
        let mut selector = Selector {
            name,
            name_span: name_span.clone(),
            braces: None,
            matchers: Vec::new(),
            other_items: Vec::new(),
            has_or: false,
            span: name_span.clone().unwrap_or_else(|| self.span(start)),
        };
        if self.id(brace_index) != Some(T_LEFT_BRACE) {
            return (selector, brace_index);
        }
        let Some(close) = self.closing(brace_index, T_LEFT_BRACE, T_RIGHT_BRACE) else {
            return (selector, brace_index + 1);
        };
        selector.braces = Some((self.span(brace_index), self.span(close)));
        selector.span = selector.span.start.min(self.span(brace_index).start)..self.span(close).end;

        let mut index = brace_index + 1;
        while index < close {
            match self.id(index) {
                Some(T_COMMA) => index += 1,
                Some(T_LOR) => {
                    selector.has_or = true;
                    index += 1;
                }
                _ => {
                    let op = self.id(index + 1).and_then(MatchOp::from_token);
                    let value = self.string_literal(index + 2);
                    match (op, value) {
                        (Some(op), Some(value)) if index + 2 < close => {
                            let label = self.name(index);
                            selector.matchers.push(Matcher {
                                span: label.span.start..value.span.end,
                                label,
                                op,
                                op_span: self.span(index + 1),
                                value,
                            });
                            index += 3;
                        }
                        _ => {
                            // `{"metric_name"}`: the parser accepted it, so it is a name.
                            if let Some(literal) = self.string_literal(index)
                                && let Some(name) = strings::decode(&literal.raw)
                            {
                                selector.name = if template::contains_variable(&name) {
                                    MetricName::Unknown
                                } else {
                                    MetricName::Literal(name)
                                };
                            }
                            selector.other_items.push(self.span(index));
                            index += 1;
                        }
                    }
                }
            }
        }
        if selector.name == MetricName::Absent {
            selector.name = name_from_matchers(&selector.matchers);
        }
        (selector, close + 1)
    }
}

fn name_from_matchers(matchers: &[Matcher]) -> MetricName {
    let Some(matcher) = matchers.iter().find(|m| m.label.is("__name__")) else {
        return MetricName::Absent;
    };
    match (matcher.op, strings::decode(&matcher.value.raw)) {
        (MatchOp::Equal, Some(name)) if !template::contains_variable(&name) => MetricName::Literal(name),
        _ => MetricName::Unknown,
    }
}

/// Selectors, label lists and calls of a query that parsed. `masked` and `original` have equal
/// lengths (see [`template::mask`]).
pub(crate) fn structure(original: &str, masked: &str, tokens: &[Token], variables: &[Variable]) -> Structure {
    Walker {
        original,
        masked,
        tokens,
        variables,
    }
    .walk()
}

/// The arguments of the call or parenthesis whose `(` is token `open` and `)` token `close`, as
/// token index ranges: split at the commas outside nested parentheses and braces.
pub(crate) fn arguments(tokens: &[Token], open: usize, close: usize) -> Vec<Range<usize>> {
    let mut arguments = Vec::new();
    let mut depth = 0usize;
    let mut in_braces = false;
    let mut start = open + 1;
    for index in open + 1..close {
        match tokens.get(index).map(|t| t.id) {
            Some(T_LEFT_PAREN) => depth += 1,
            Some(T_RIGHT_PAREN) => depth = depth.saturating_sub(1),
            Some(T_LEFT_BRACE) => in_braces = true,
            Some(T_RIGHT_BRACE) => in_braces = false,
            Some(T_COMMA) if depth == 0 && !in_braces => {
                arguments.push(start..index);
                start = index + 1;
            }
            _ => {}
        }
    }
    if start < close {
        arguments.push(start..close);
    }
    arguments
}
