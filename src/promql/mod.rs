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
mod model;
mod parse;
mod parser;
mod rewrite;
mod strings;
mod structure;
mod template;

#[cfg(test)]
mod tests;

use std::ops::Range;

pub use dialect::{Dialect, PrometheusVersion, VersionSource, enabled_features};
pub use error::{PromqlError, PromqlErrorKind};
pub use inspect::{MatcherView, SelectorView, range_spans, selectors};
pub use model::{AppMapping, QueryEdit, QueryFinding, QueryFindingKind, QueryRewrite, SeriesMapping, metric_family};

use grafana::GrafanaQuery;
use parse::{expression_range, parse_expression};
use rewrite::{Analysis, Rewriter};

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
    let Some(expression) = parse_expression(text).map_err(|e| e.shifted(offset))? else {
        return Ok(Analysis::default());
    };
    let mut rewriter = Rewriter::new(mapping, text);
    rewriter.query(&expression.structure);
    let mut analysis = rewriter.finish();
    analysis.findings.extend(dialect::findings(&expression.uses, dialect));
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

/// Whether a query reads (Grafana template syntax allowed): the checks every original passed
/// and every rewrite must pass too. Public for the fuzz targets.
pub fn check(query: &str) -> Result<(), PromqlError> {
    if let Some(range) = expression_range(query)? {
        let text = query.get(range.clone()).unwrap_or_default();
        parse_expression(text).map_err(|e| e.shifted(range.start))?;
    }
    Ok(())
}

/// Whether `dialect` reads `query` (Grafana variables allowed), or why not: what pullover writes
/// itself is checked with this.
pub fn accepted_by(query: &str, dialect: &Dialect) -> Result<(), String> {
    let uses = dialect_uses(query).map_err(|e| e.message)?;
    match dialect::findings(&uses, dialect).into_iter().next() {
        Some(finding) => Err(finding.message),
        None => Ok(()),
    }
}

/// What of `query` (Grafana template syntax allowed) not every Prometheus release reads, with
/// spans in `query`.
fn dialect_uses(query: &str) -> Result<Vec<dialect::Use>, PromqlError> {
    let Some(range) = expression_range(query)? else {
        return Ok(Vec::new());
    };
    let text = query.get(range.clone()).unwrap_or_default();
    let Some(expression) = parse_expression(text).map_err(|e| e.shifted(range.start))? else {
        return Ok(Vec::new());
    };
    Ok(expression
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
