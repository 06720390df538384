//! Planning one dashboard or rule file: each query site planned on its own ([`plan_site`]), then
//! the file rewritten with all of them or none ([`rewrite_file`]), then every outcome recorded
//! in file order.

use std::ops::Range;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::dashboard::{StringEdit, rewrite_scanned_strings};
use crate::edit::yaml::{ScalarTextEdit, YamlDoc, YamlError};
use crate::promql::{Dialect, PromqlError, QueryRewrite, SeriesMapping, rewrite_query_in};
use crate::stack::Gateway;

use super::findings::{legend_finding, query_finding, variable_finding};
use super::learn;
use super::read::{Site, SiteTarget, Source, SourceKind};
use super::survey::{Keep, PlannedQuery, QueryAction, QueryPlace, RewrittenFile, Survey};

/// Edits to one query's text: byte ranges of the query, with their new text.
type QueryEdits = Vec<(Range<usize>, String)>;

/// What every query of the phase is planned against: who pushes as what, the apps whose
/// identity is undecided, the Prometheus release that reads the queries, the gateway.
#[derive(Clone, Copy)]
pub(super) struct Against<'a> {
    pub(super) mapping: &'a SeriesMapping,
    pub(super) waiting: &'a [(String, Vec<String>)],
    pub(super) dialect: &'a Dialect,
    pub(super) gateway: &'a Gateway,
}

/// Each query text rewritten so far, with its rewrite: a query copied into many dashboards is
/// rewritten once (the rewrite depends on the text alone, against one mapping and dialect).
pub(super) type Rewrites = std::collections::HashMap<String, Result<QueryRewrite, PromqlError>>;

/// Rewrites one file's queries (all or none of them) and records every outcome.
pub(super) fn plan_source(
    source: &Source<'_>,
    rules: Option<&YamlDoc>,
    against: Against<'_>,
    keep: Keep,
    rewrites: &mut Rewrites,
    survey: &mut Survey,
) {
    let in_rules = matches!(source.kind, SourceKind::Rules);
    // Variable queries already planned: a variable's definition repeats its query.
    let mut variables: Vec<(&str, &str)> = Vec::new();
    let planned: Vec<(PlannedQuery, QueryEdits)> = source
        .sites
        .iter()
        .map(|site| plan_site(site, against, in_rules, &mut variables, rewrites))
        .collect();
    let failure = record_file(source, rules, &planned, survey);
    record_queries(source, planned, failure.is_some(), keep, survey);
}

/// What the phase does with one query, and the edits to its text when it is rewritten.
fn plan_site<'s>(
    site: &'s Site,
    against: Against<'_>,
    in_rules: bool,
    variables: &mut Vec<(&'s str, &'s str)>,
    rewrites: &mut Rewrites,
) -> (PlannedQuery, QueryEdits) {
    let mut planned = PlannedQuery {
        location: site.location.clone(),
        span: site.span.clone(),
        place: site.place,
        query: site.query.clone(),
        rewritten: None,
        action: QueryAction::Leave,
        findings: Vec::new(),
        repeats: false,
    };
    if site.place == QueryPlace::PanelLink {
        planned.action = QueryAction::Report;
        planned.findings.push(
            Finding::new(
                FindingId::PanelLinkQuery,
                Severity::Todo,
                "this panel link carries a query in its URL; pullover does not rewrite URLs",
            )
            .tip("check whether the linked query selects pushed series (job, instance, exported_job) and edit the link by hand")
            .at(site.location.clone()),
        );
        return (planned, Vec::new());
    }
    if let Some(name) = &site.variable {
        // The plan reports a variable's query once.
        planned.repeats = variables.iter().any(|(n, q)| n == name && *q == site.query);
        variables.push((name, &site.query));
    }
    if let Some(service) = learn::waits_for(&site.query, against.gateway.honor_labels, against.waiting) {
        planned.action = QueryAction::Report;
        planned.findings.push(
            Finding::new(
                FindingId::WaitsForPushedIdentity,
                Severity::Hazard,
                format!("not rewritten yet: it selects a job {service} may push as, and which one it is is undecided (see `pushed-identity-undecided`)"),
            )
            .tip(format!("pin `pushed_job:` for {service} under `apps:` in pullover.yaml, then plan again"))
            .at(site.location.clone())
            .waiting(),
        );
        return (planned, Vec::new());
    }
    let rewrite = match rewrites.get(&site.query) {
        Some(rewrite) => rewrite.clone(),
        None => {
            let rewrite = rewrite_query_in(&site.query, against.mapping, against.dialect);
            rewrites.insert(site.query.clone(), rewrite.clone());
            rewrite
        }
    };
    let edits = take_rewrite(&mut planned, rewrite, site, in_rules);
    planned.findings.extend(variable_finding(site, against.mapping));
    if planned.action == QueryAction::Leave && !planned.findings.is_empty() {
        planned.action = QueryAction::Report;
    }
    // Only a query on pushed series (rewritten, or left with a suggested replacement) loses
    // the exported labels.
    if planned.action != QueryAction::Leave {
        planned.findings.extend(legend_finding(site, against.gateway));
    }
    (planned, edits)
}

/// The query's rewrite (or why it cannot be read) into its plan; the edits when it changes.
fn take_rewrite(
    planned: &mut PlannedQuery,
    rewrite: Result<QueryRewrite, PromqlError>,
    site: &Site,
    in_rules: bool,
) -> QueryEdits {
    match rewrite {
        Err(error) => {
            let (line, column) = error.line_col(&site.query);
            planned.action = QueryAction::Report;
            planned.findings.push(
                Finding::new(
                    FindingId::UnparseableQuery,
                    Severity::Todo,
                    format!(
                        "the query does not parse (at {line}:{column} of the query: {}); left unchanged",
                        error.message
                    ),
                )
                .tip("fix the query, or check by hand whether it selects pushed series")
                .at(site.location.clone()),
            );
            Vec::new()
        }
        Ok(QueryRewrite { text, edits, findings }) => {
            planned
                .findings
                .extend(findings.iter().map(|f| query_finding(f, &site.location, in_rules)));
            match text {
                Some(text) => {
                    planned.action = QueryAction::Rewrite;
                    planned.rewritten = Some(text);
                    edits.into_iter().map(|e| (e.range, e.replacement)).collect()
                }
                None => {
                    if !findings.is_empty() {
                        planned.action = QueryAction::Report;
                    }
                    Vec::new()
                }
            }
        }
    }
}

/// Writes the file's new text into the survey, or returns (and records) why it stays as it is.
fn record_file(
    source: &Source<'_>,
    rules: Option<&YamlDoc>,
    planned: &[(PlannedQuery, QueryEdits)],
    survey: &mut Survey,
) -> Option<Finding> {
    let rewritten = planned.iter().filter(|(q, _)| q.action == QueryAction::Rewrite).count();
    if rewritten == 0 {
        return None;
    }
    let queries = if rewritten == 1 { "query" } else { "queries" };
    match rewrite_file(source, rules, planned) {
        Ok(text) => {
            survey.files.push(RewrittenFile {
                path: source.file.path.clone(),
                text,
                because: format!("rewrite {rewritten} {queries} to select the scraped series"),
            });
            None
        }
        Err((reason, offset)) => {
            let failure = Finding::new(
                FindingId::FileNotRewritten,
                Severity::Hazard,
                format!(
                    "{} was left unchanged: pullover could not rewrite its {rewritten} {queries} exactly ({reason})",
                    source.file.path
                ),
            )
            .tip("rewrite the queries listed below by hand, or report this with the file; nothing in it was written")
            .at(Location::at(source.file, offset));
            survey.findings.push(failure.clone());
            Some(failure)
        }
    }
}

/// The file's own findings and its queries', top to bottom; when the file stays as it is
/// (`file_failed`), what would have been rewritten is reported instead.
fn record_queries(
    source: &Source<'_>,
    planned: Vec<(PlannedQuery, QueryEdits)>,
    file_failed: bool,
    keep: Keep,
    survey: &mut Survey,
) {
    let mut findings = source.findings.clone();
    for (mut query, _) in planned {
        if file_failed && query.action == QueryAction::Rewrite {
            query.action = QueryAction::Report;
            query.findings.push(
                Finding::new(
                    FindingId::QueryNotRewritten,
                    Severity::Hazard,
                    format!(
                        "would become `{}`, but its file is left unchanged",
                        query.rewritten.take().unwrap_or_default()
                    ),
                )
                .at(query.location.clone()),
            );
        }
        if !query.repeats {
            findings.extend(query.findings.iter().cloned());
        }
        if keep == Keep::Everything {
            survey.queries.push(query);
        }
    }
    findings.sort_by_key(|f| f.location.as_ref().map(|l| (l.line, l.column)));
    survey.findings.extend(findings);
}

/// The file with every rewritten query in place, or why not (and where).
fn rewrite_file(
    source: &Source<'_>,
    rules: Option<&YamlDoc>,
    planned: &[(PlannedQuery, QueryEdits)],
) -> Result<String, (String, usize)> {
    let changes = source
        .sites
        .iter()
        .zip(planned)
        .filter(|(_, (query, edits))| query.action == QueryAction::Rewrite && !edits.is_empty());
    match &source.kind {
        SourceKind::Dashboard(scanned) => {
            let mut string_edits = Vec::new();
            let mut expected = Vec::new();
            for (site, (query, edits)) in changes {
                if let SiteTarget::Json(literal) = &site.target {
                    string_edits.push(StringEdit {
                        literal: literal.clone(),
                        edits: edits.clone(),
                    });
                    expected.push((literal.start, query.rewritten.clone().unwrap_or_default()));
                }
            }
            // The scan of this very text found these literals: no second parse of the tree.
            let (text, values) = rewrite_scanned_strings(source.file.text(), scanned, &string_edits)
                .map_err(|e| (e.to_string(), e.span.start))?;
            // The new file must hold exactly the rewritten queries where the old ones were
            // (the edit checks the file still parses and each literal reads as its value).
            for (offset, query) in &expected {
                if !values.iter().any(|(at, value)| at == offset && value == query) {
                    return Err(("a rewritten query does not read back".to_string(), *offset));
                }
            }
            Ok(text)
        }
        SourceKind::Rules => {
            let doc = rules.ok_or_else(|| ("its YAML tree was not kept".to_string(), 0))?;
            let mut scalar_edits = Vec::new();
            for (site, (_, edits)) in changes {
                if let SiteTarget::Yaml(route) = &site.target {
                    scalar_edits.push(ScalarTextEdit {
                        route: route.clone(),
                        edits: edits.clone(),
                    });
                }
            }
            doc.edit_scalar_text(&scalar_edits)
                .map_err(|e: YamlError| (e.to_string(), e.offset().unwrap_or(0)))
        }
    }
}
