//! Reading one PromQL expression: Grafana variables masked so promql-parser checks it, its
//! tokens and [`Structure`], and what of it not every Prometheus release reads. Each distinct
//! text is parsed once per thread (see [`parse_expression`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

use super::dialect::{self, Use};
use super::error::{self, PromqlError, PromqlErrorKind};
use super::grafana::{self, GrafanaQuery};
use super::parser::parses;
use super::structure::{self, Structure};
use super::template;

/// Nesting deeper than this is refused: promql-parser's AST is dropped recursively.
const MAX_NESTING: usize = 128;

/// One expression as read: its structure, and what of it not every release reads (`dialect.rs`).
#[derive(Debug)]
pub(crate) struct Expression {
    pub(crate) structure: Structure,
    pub(crate) uses: Vec<Use>,
}

/// A query's text with Grafana variables replaced by same-length placeholders that parse.
pub(crate) struct Masked {
    pub(crate) text: String,
    pub(crate) variables: Vec<template::Variable>,
}

/// Distinct expressions remembered per thread before the memo starts afresh.
const PARSED_MEMO_LIMIT: usize = 4096;

type Parsed = Result<Option<Rc<Expression>>, PromqlError>;

/// One PromQL expression read (Grafana variables masked), `None` for an empty one,
/// or where it does not read (spans relative to `text`). Queries repeat across a stack (copied
/// panels, a rule and the dashboard that charts it) and a phase asks about each one several
/// times, so each distinct text is parsed once; the memo is bounded, so memory stays flat.
pub(crate) fn parse_expression(text: &str) -> Parsed {
    thread_local! {
        static PARSED: RefCell<HashMap<String, Parsed>> = RefCell::new(HashMap::new());
    }
    if let Some(hit) = PARSED.with(|memo| memo.borrow().get(text).cloned()) {
        return hit;
    }
    let parsed = parse_expression_afresh(text);
    PARSED.with(|memo| {
        let mut memo = memo.borrow_mut();
        if memo.len() >= PARSED_MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(text.to_string(), parsed.clone());
    });
    parsed
}

fn parse_expression_afresh(text: &str) -> Parsed {
    let Some(masked) = masked_for_parser(text)? else {
        return Ok(None);
    };
    let tokens = structure::tokens(&masked.text).map_err(|message| error::locate(text, &masked.text, &message))?;
    Ok(Some(Rc::new(Expression {
        structure: structure::structure(text, &masked.text, &tokens, &masked.variables),
        uses: dialect::uses(&masked.text, &tokens),
    })))
}

/// The query with Grafana variables masked so that it parses, `None` for an empty query (only
/// whitespace and comments), or the located syntax error.
pub(crate) fn masked_for_parser(text: &str) -> Result<Option<Masked>, PromqlError> {
    check_nesting(text)?;
    let variables = template::find_variables(text);
    let first = template::mask(text, &variables, |_| false);
    if structure::tokens(&first).is_ok_and(|tokens| tokens.is_empty()) {
        return Ok(None);
    }
    let first_error = match parses(&first) {
        Ok(()) => {
            return Ok(Some(Masked { text: first, variables }));
        }
        Err(message) => message,
    };
    // A free-standing variable may have to be a number (`topk($n, ...)`); try the other
    // placements, all as numbers first. Beyond a few variables only that one is tried.
    let free = template::free_count(&variables);
    let combinations: Vec<u64> = match free {
        0 => Vec::new(),
        1..=6 => {
            let all = (1u64 << free) - 1;
            std::iter::once(all).chain(1..all).collect()
        }
        _ => vec![u64::MAX],
    };
    for numbers in combinations {
        let candidate = template::mask(text, &variables, |i| i >= 64 || numbers & (1u64 << i) != 0);
        if parses(&candidate).is_ok() {
            return Ok(Some(Masked {
                text: candidate,
                variables,
            }));
        }
    }
    Err(error::locate(text, &first, &first_error))
}

fn check_nesting(text: &str) -> Result<(), PromqlError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'"' | b'\'' | b'`' => {
                index = template::skip_string(bytes, index);
                continue;
            }
            b'#' => {
                index = template::skip_comment(bytes, index);
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(PromqlError {
                        kind: PromqlErrorKind::TooDeep,
                        span: index..index + 1,
                        message: format!(
                            "nested more than {MAX_NESTING} levels deep; pullover does not read such queries"
                        ),
                    });
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        index += 1;
    }
    Ok(())
}

/// The PromQL expression a query holds (Grafana template syntax allowed): the whole query, the
/// expression of `query_result(…)` or the selector of `label_values(…)`; `None` when there is
/// none to read.
pub(crate) fn expression_range(query: &str) -> Result<Option<Range<usize>>, PromqlError> {
    Ok(match grafana::detect(query) {
        None => Some(0..query.len()),
        Some(Err((span, message))) => return Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => None,
        Some(Ok(GrafanaQuery::QueryResult { expression })) => Some(expression),
        Some(Ok(GrafanaQuery::LabelValues { selector, .. })) => selector,
    })
}
