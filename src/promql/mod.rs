//! Rewriting PromQL queries from pushed series to their directly scraped twins.
//!
//! [`rewrite_query`] takes one query as written in a Grafana panel, a templating variable or a
//! rule file, and returns edits at token spans of the original text (everything else stays
//! byte-identical; the AST's `Display` reorders text and is never used) plus findings for what
//! cannot or should not be rewritten. Grafana template variables are masked with same-length
//! placeholders so promql-parser can check the query before and after.
//!
//! The rules follow the stack's `honor_labels` (docs/label-facts.md, honor_labels):
//! - `true`: `job`/`instance` matchers naming a pushed job or instance are renamed to the scrape
//!   job and target. When the pushed job equals the scrape job only `instance` tells the two
//!   sources apart, so a selector without an instance matcher is reported, not changed.
//! - `false`: `job="<gateway>"` becomes the app's scrape job (the app comes from `exported_job`,
//!   from the metric name via [`AppMapping::metrics`], or is the only app), `exported_job` /
//!   `exported_instance` become `job` / `instance`, also in `by`/`on`/… lists and
//!   `label_replace`/`label_join`.
//! - A query is rewritten wholly or not at all: a finding with `blocks_rewrite` keeps all of it.

mod dialect;
mod error;
pub mod fill;
mod grafana;
mod inspect;
mod rewrite;
mod strings;
mod structure;
mod template;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::rc::Rc;

pub use dialect::{Dialect, PrometheusVersion, VersionSource, accepted_by, enabled_features};
pub use error::{PromqlError, PromqlErrorKind};
pub use inspect::{MatcherView, SelectorView, range_spans, selectors};

use grafana::GrafanaQuery;
use rewrite::{Analysis, Rewriter};

/// How the stack labels pushed series today, and what the directly scraped twins will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesMapping {
    /// `honor_labels` of the pushgateway scrape job.
    pub honor_labels: bool,
    /// `job_name` of the pushgateway scrape job (e.g. "pushgateway", or "batch").
    pub gateway_job: String,
    /// Targets of the gateway job as written (e.g. "pushgateway:9091").
    pub gateway_instances: Vec<String>,
    pub apps: Vec<AppMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMapping {
    /// The job name the app pushes under (grouping key `job`).
    pub pushed_job: String,
    /// Instance grouping-key values it pushes with; "" means pushed without instance.
    pub pushed_instances: Vec<String>,
    /// The new scrape job (== compose service name) and its target `service:port`.
    pub scrape_job: String,
    pub scrape_instance: String,
    /// Metric names the app is known to push (may be empty = unknown). A histogram's base name
    /// also covers its `_bucket`, `_sum` and `_count` series.
    pub metrics: Vec<String>,
}

/// A metric's family: a histogram's or summary's `x_bucket`, `x_sum` and `x_count` are `x`.
pub fn metric_family(metric: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .filter(|base| !base.is_empty())
        .unwrap_or(metric)
}

/// The outcome for one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRewrite {
    /// The rewritten query; `None` when it stays as written.
    pub text: Option<String>,
    /// The edits that turn the original into `text`, sorted, not overlapping.
    pub edits: Vec<QueryEdit>,
    pub findings: Vec<QueryFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryEdit {
    /// Byte range in the original query.
    pub range: Range<usize>,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFinding {
    pub kind: QueryFindingKind,
    pub message: String,
    pub suggestion: Option<String>,
    /// Byte range in the original query.
    pub range: Option<Range<usize>>,
    /// Whether this finding kept the whole query from being rewritten (a query is rewritten
    /// wholly or not at all).
    pub blocks_rewrite: bool,
}

/// What a finding is about. [`QueryFindingKind::id`] is stable, for JSON output and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryFindingKind {
    /// `push_time_seconds`, `push_failure_time_seconds`, `pushgateway_*`, the gateway's own `up`
    /// and process metrics: nothing scraped replaces them.
    NoScrapedEquivalent,
    /// The query selects both the pushed and the scraped series while both run.
    DoubleCountDuringDualRun,
    /// `job="<gateway job>"` on an app metric under `honor_labels: true`.
    MatchesNothingUnderHonorLabels,
    /// Pushed series of several apps and nothing says which.
    AmbiguousApp,
    /// Pushed series of a job (or a metric) none of the migrated apps pushes: it stays on the
    /// Pushgateway.
    PushedJobNotMigrated,
    /// One query reads both the pushed series and their scraped twins (a dual-run comparison).
    ComparesPushedAndScraped,
    /// A regex matcher that is not a plain alternation of literals.
    RegexNeedsReview,
    /// A matcher or name made of a template variable whose values must change too.
    VariableNeedsReview,
    /// `by (job, exported_job)`: rewriting would repeat `job`.
    DuplicateGroupingLabel,
    /// `label_replace`/`label_join` writing an `exported_*` label.
    LabelNeedsReview,
    /// Syntax pullover does not edit (`or` inside braces, a value the quote style cannot hold).
    UnsupportedSyntax,
    /// The query does not parse; see [`PromqlError::to_finding`].
    UnparseableQuery,
    /// The stack's Prometheus (its version, or the feature flags it runs with) rejects a function,
    /// modifier or syntax of the query: it fails there as written.
    RejectedByPrometheusVersion,
}

impl QueryFindingKind {
    pub fn id(self) -> &'static str {
        match self {
            QueryFindingKind::NoScrapedEquivalent => "no-scraped-equivalent",
            QueryFindingKind::DoubleCountDuringDualRun => "double-count-during-dual-run",
            QueryFindingKind::MatchesNothingUnderHonorLabels => "matches-nothing-under-honor-labels",
            QueryFindingKind::AmbiguousApp => "ambiguous-app",
            QueryFindingKind::PushedJobNotMigrated => "pushed-job-not-migrated",
            QueryFindingKind::ComparesPushedAndScraped => "compares-pushed-and-scraped",
            QueryFindingKind::RegexNeedsReview => "regex-needs-review",
            QueryFindingKind::VariableNeedsReview => "variable-needs-review",
            QueryFindingKind::DuplicateGroupingLabel => "duplicate-grouping-label",
            QueryFindingKind::LabelNeedsReview => "label-needs-review",
            QueryFindingKind::UnsupportedSyntax => "unsupported-syntax",
            QueryFindingKind::UnparseableQuery => "unparseable-query",
            QueryFindingKind::RejectedByPrometheusVersion => "rejected-by-prometheus-version",
        }
    }

    /// Whether a finding of this kind keeps the query as written by default.
    fn blocks_rewrite(self) -> bool {
        matches!(
            self,
            QueryFindingKind::NoScrapedEquivalent
                | QueryFindingKind::AmbiguousApp
                | QueryFindingKind::PushedJobNotMigrated
                | QueryFindingKind::ComparesPushedAndScraped
                | QueryFindingKind::UnsupportedSyntax
                | QueryFindingKind::UnparseableQuery
                | QueryFindingKind::RejectedByPrometheusVersion
        )
    }
}

impl fmt::Display for QueryFindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Nesting deeper than this is refused: promql-parser's AST is dropped recursively.
const MAX_NESTING: usize = 128;

/// Rewrites `query` so it selects the scraped twins of the pushed series `mapping` describes,
/// read as the newest Prometheus pullover knows reads it; see [`rewrite_query_in`].
pub fn rewrite_query(query: &str, mapping: &SeriesMapping) -> Result<QueryRewrite, PromqlError> {
    rewrite_query_in(query, mapping, &Dialect::assumed("no version given"))
}

/// Rewrites `query` so it selects the scraped twins of the pushed series `mapping` describes,
/// as the stack's Prometheus (`dialect`) reads it: what that server rejects is a
/// [`QueryFindingKind::RejectedByPrometheusVersion`] finding and the query stays as written.
///
/// A query that does not parse is an `Err` with the span of the problem; it is never partly
/// rewritten. When the rewrite would not parse (a bug), that is an `Err` too.
pub fn rewrite_query_in(query: &str, mapping: &SeriesMapping, dialect: &Dialect) -> Result<QueryRewrite, PromqlError> {
    let analysis = analyze(query, mapping, dialect)?;
    let mut edits = if analysis.is_blocked() {
        Vec::new()
    } else {
        analysis.edits
    };
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup();
    let text = apply(query, &edits)?;
    if let Some(rewritten) = &text
        && let Err(error) = check(rewritten)
    {
        let span = edits.first().map_or(0..query.len(), |e| e.range.clone());
        return Err(PromqlError {
            kind: PromqlErrorKind::RewriteInvalid,
            span,
            message: format!(
                "the rewritten query would not parse ({}); nothing was rewritten",
                error.message
            ),
        });
    }
    Ok(QueryRewrite {
        text,
        edits,
        findings: analysis.findings,
    })
}

fn analyze(query: &str, mapping: &SeriesMapping, dialect: &Dialect) -> Result<Analysis, PromqlError> {
    match grafana::detect(query) {
        None => analyze_expression(query, 0..query.len(), mapping, dialect),
        Some(Err((span, message))) => Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => Ok(Analysis::default()),
        Some(Ok(GrafanaQuery::QueryResult { expression })) => analyze_expression(query, expression, mapping, dialect),
        Some(Ok(GrafanaQuery::LabelValues { selector, label })) => {
            let mut analysis = match selector {
                Some(selector) => analyze_expression(query, selector, mapping, dialect)?,
                None => Analysis::default(),
            };
            if !analysis.is_blocked() {
                let mut rewriter = Rewriter::new(mapping, query);
                rewriter.label_values_label(label);
                let label_analysis = rewriter.finish();
                analysis.edits.extend(label_analysis.edits);
                analysis.findings.extend(label_analysis.findings);
            }
            Ok(analysis)
        }
    }
}

/// Rewrites the PromQL expression at `range` of `query`; spans in the result are in `query`.
fn analyze_expression(
    query: &str,
    range: Range<usize>,
    mapping: &SeriesMapping,
    dialect: &Dialect,
) -> Result<Analysis, PromqlError> {
    let offset = range.start;
    let text = query
        .get(range.clone())
        .ok_or_else(|| PromqlError::syntax(range, "not a valid range of the query"))?;
    let Some(structure) = parse_expression(text).map_err(|e| e.shifted(offset))? else {
        return Ok(Analysis::default());
    };
    let mut rewriter = Rewriter::new(mapping, text);
    rewriter.query(&structure);
    let mut analysis = rewriter.finish();
    analysis.findings.extend(dialect::findings(&structure.uses, dialect));
    for edit in &mut analysis.edits {
        edit.range = edit.range.start + offset..edit.range.end + offset;
    }
    for finding in &mut analysis.findings {
        if let Some(range) = &mut finding.range {
            *range = range.start + offset..range.end + offset;
        }
    }
    Ok(analysis)
}

struct Masked {
    text: String,
    variables: Vec<template::Variable>,
}

/// Distinct expressions remembered per thread before the memo starts afresh.
const PARSED_MEMO_LIMIT: usize = 4096;

type Parsed = Result<Option<Rc<structure::Structure>>, PromqlError>;

/// The structure of one PromQL expression (Grafana variables masked), `None` for an empty one,
/// or where it does not read (spans relative to `text`). Queries repeat across a stack (copied
/// panels, a rule and the dashboard that charts it) and a phase asks about each one several
/// times, so each distinct text is parsed once; the memo is bounded, so memory stays flat.
fn parse_expression(text: &str) -> Parsed {
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
    let mut structure = structure::structure(text, &masked.text, &tokens, &masked.variables);
    structure.uses = dialect::uses(&masked.text, &tokens);
    Ok(Some(Rc::new(structure)))
}

/// The query with Grafana variables masked so that it parses, `None` for an empty query (only
/// whitespace and comments), or the located syntax error.
fn masked_for_parser(text: &str) -> Result<Option<Masked>, PromqlError> {
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

/// Whether promql-parser reads `masked`, or its message. It panics on some input (a bare number
/// of seconds too large for a duration, `x[1e70]`): that is a query it cannot read, too.
pub(crate) fn parses(masked: &str) -> Result<(), String> {
    dialect::register_parser_extensions();
    crate::contained::contain(|| promql_parser::parser::parse(masked).map(drop))
        .unwrap_or_else(|| Err("the PromQL parser cannot read this query (it gave up on it)".to_string()))
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
                while bytes.get(index).is_some_and(|&b| b != b'\n' && b != b'\r') {
                    index += 1;
                }
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

/// Whether a query reads (Grafana template syntax allowed): the checks every original passed
/// and every rewrite must pass too. Public for the fuzz targets.
pub fn check(query: &str) -> Result<(), PromqlError> {
    let expression = match grafana::detect(query) {
        None => Some(0..query.len()),
        Some(Err((span, message))) => return Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => None,
        Some(Ok(GrafanaQuery::QueryResult { expression })) => Some(expression),
        Some(Ok(GrafanaQuery::LabelValues { selector, .. })) => selector,
    };
    if let Some(range) = expression {
        let text = query.get(range.clone()).unwrap_or_default();
        parse_expression(text).map_err(|e| e.shifted(range.start))?;
    }
    Ok(())
}

/// What of `query` (Grafana template syntax allowed) not every Prometheus release reads, with
/// spans in `query`.
fn dialect_uses(query: &str) -> Result<Vec<dialect::Use>, PromqlError> {
    let expression = match grafana::detect(query) {
        None => Some(0..query.len()),
        Some(Err((span, message))) => return Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => None,
        Some(Ok(GrafanaQuery::QueryResult { expression })) => Some(expression),
        Some(Ok(GrafanaQuery::LabelValues { selector, .. })) => selector,
    };
    let Some(range) = expression else {
        return Ok(Vec::new());
    };
    let text = query.get(range.clone()).unwrap_or_default();
    let Some(structure) = parse_expression(text).map_err(|e| e.shifted(range.start))? else {
        return Ok(Vec::new());
    };
    Ok(structure
        .uses
        .iter()
        .map(|u| dialect::Use {
            what: u.what.clone(),
            span: u.span.start + range.start..u.span.end + range.start,
        })
        .collect())
}

/// `query` with `edits` applied, `None` when there are none. Edits must be sorted and disjoint.
fn apply(query: &str, edits: &[QueryEdit]) -> Result<Option<String>, PromqlError> {
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(query.len() + 16);
    let mut copied = 0;
    for edit in edits {
        let before = query
            .get(copied..edit.range.start)
            .filter(|_| edit.range.end >= edit.range.start);
        let Some(before) = before else {
            return Err(PromqlError {
                kind: PromqlErrorKind::RewriteInvalid,
                span: edit.range.clone(),
                message: "overlapping edits; nothing was rewritten".to_string(),
            });
        };
        out.push_str(before);
        out.push_str(&edit.replacement);
        copied = edit.range.end;
    }
    out.push_str(query.get(copied..).unwrap_or_default());
    Ok(Some(out))
}
