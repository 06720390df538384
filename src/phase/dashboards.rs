//! Phase 3, `dashboards`: the queries that select pushed series, in Grafana dashboards and
//! Prometheus rule files, are rewritten to select their directly scraped twins.
//!
//! - The label sets follow the stack's real `honor_labels` and are learnt (see `learn.rs`) from
//!   `pullover.yaml`, the queries themselves and what live servers report
//!   ([`Stack::observed_pushes`], filled by the command when a URL is given).
//! - Each query is rewritten by [`crate::promql::rewrite_query`] at token spans, wholly or not at
//!   all; each file by [`crate::dashboard::rewrite_scanned_strings`] (JSON) or
//!   [`crate::edit::yaml::YamlDoc::edit_scalar_text`] (rule files), which change only the edited
//!   bytes and verify the result. A file where anything fails stays as it is and is reported.
//! - What cannot move (`push_time_seconds`, the gateway's own metrics, queries that add up both
//!   sources during dual-run, library panels, link URLs, queries that do not parse) is reported
//!   with dashboard, row, panel or rule, never silently changed.
//! - The dual-run comparison artefacts compare old and new series on purpose and are skipped.

mod learn;
#[cfg(test)]
mod tests;

use std::ops::Range;

use serde::Serialize;
use yaml_serde::Value;

use crate::changeset::{ChangeSet, Finding, Location, Severity};
use crate::dashboard::{DashboardError, Model, Owner, SiteKind, SkipReason, StringEdit, rewrite_scanned_strings};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route, ScalarTextEdit, YamlDoc, YamlError};
use crate::promql::{
    Dialect, QueryFinding, QueryFindingKind, QueryRewrite, SeriesMapping, rewrite_query_in, selectors,
};
use crate::stack::source::{RelPath, SourceFile};
use crate::stack::{DashboardFile, Gateway, Stack};

// The comparison artefacts the `dual-run` phase writes read pushed and scraped series side by
// side on purpose.
use super::dual_run::{DASHBOARD_FILE_NAME as DUAL_RUN_DASHBOARD, RULE_FILE_NAME as DUAL_RUN_RULES};

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    if stack.settings.gateway.is_none() {
        return Err(super::no_gateway(super::PhaseId::Dashboards));
    }
    // The per-query record is for `analyze`; the plan needs the files and findings, moved.
    let Survey { findings, files, .. } = survey_with(stack, Keep::FilesAndFindings)?;
    let mut builder = ChangeSet::builder().findings(findings);
    for file in files {
        let Some(source) = stack.file(&file.path) else {
            return Err(Diagnostic::error(format!(
                "{} was planned but is not part of the stack",
                file.path
            )));
        };
        builder = builder.modify(source, file.text, file.because);
    }
    builder.build().map_err(|e| Diagnostic::error(e.to_string()))
}

/// What the phase does with one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryAction {
    /// Rewritten to select the scraped series.
    Rewrite,
    /// Left as written, with findings for a person.
    Report,
    /// Left as written: it reads no pushed series.
    Leave,
}

/// Where a query lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryPlace {
    PanelQuery,
    VariableQuery,
    VariableDefinition,
    AnnotationQuery,
    PanelLink,
    AlertRule,
    RecordingRule,
}

impl QueryPlace {
    pub fn label(self) -> &'static str {
        match self {
            QueryPlace::PanelQuery => "panel query",
            QueryPlace::VariableQuery => "variable query",
            QueryPlace::VariableDefinition => "variable definition",
            QueryPlace::AnnotationQuery => "annotation query",
            QueryPlace::PanelLink => "panel link",
            QueryPlace::AlertRule => "alert rule",
            QueryPlace::RecordingRule => "recording rule",
        }
    }
}

/// One query and what the phase does with it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedQuery {
    /// The string literal (dashboards) or scalar (rules) holding the query; its context names
    /// dashboard, row and panel, or group and rule.
    pub location: Location,
    /// Byte range of the string literal or scalar in the file.
    #[serde(skip)]
    pub span: Range<usize>,
    pub place: QueryPlace,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten: Option<String>,
    pub action: QueryAction,
    pub findings: Vec<Finding>,
    /// Whether it repeats the query of another site of its variable (definition and query):
    /// its findings are the other's, and the plan reports them once.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeats: bool,
}

/// A file's new text.
#[derive(Debug, Clone)]
pub struct RewrittenFile {
    pub path: RelPath,
    pub text: String,
    pub because: String,
}

/// Everything the phase found, per query, before it becomes a [`ChangeSet`].
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// `None` when the stack has no Pushgateway.
    pub mapping: Option<SeriesMapping>,
    pub queries: Vec<PlannedQuery>,
    /// Every finding of the phase, in report order (what was learnt, then file by file).
    pub findings: Vec<Finding>,
    pub files: Vec<RewrittenFile>,
}

/// Reads every dashboard and rule file of the stack and works out what the phase does with each
/// query. A dashboard or rule file that cannot be read is an error with its file:line:col.
pub fn survey(stack: &Stack) -> Result<Survey, Diagnostic> {
    survey_with(stack, Keep::Everything)
}

/// What a [`Survey`] keeps: a plan needs no per-query record, which on a big stack is the
/// larger part of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Everything,
    FilesAndFindings,
}

fn survey_with(stack: &Stack, keep: Keep) -> Result<Survey, Diagnostic> {
    let Some(gateway) = &stack.settings.gateway else {
        return Ok(Survey {
            findings: vec![Finding::new(
                "no-pushgateway",
                Severity::Info,
                "no Pushgateway found in this stack: no query to rewrite",
            )],
            ..Survey::default()
        });
    };
    let mut skipped = Vec::new();
    let mut dashboard_files = Vec::new();
    for dashboard in &stack.dashboards {
        if dashboard.file.path.file_name() == DUAL_RUN_DASHBOARD {
            skipped.push(dual_run_skipped(&dashboard.file));
        } else {
            dashboard_files.push(dashboard);
        }
    }
    let mut rules = Vec::new();
    for file in &stack.rule_files {
        if file.path.file_name() == DUAL_RUN_RULES {
            skipped.push(dual_run_skipped(file));
            continue;
        }
        rules.push(read_rules(file)?);
    }

    let learn::Learnt {
        mapping,
        findings: learnt,
        waiting,
    } = learn::series_mapping(stack, gateway);

    let mut survey = Survey {
        findings: learnt,
        ..Survey::default()
    };
    survey.findings.extend(skipped);
    let against = Against {
        mapping: &mapping,
        waiting: &waiting,
        dialect: &stack.prometheus_dialect,
        gateway,
    };
    // Each dashboard is read and planned on its own, on every core, and the parts joined in file
    // order (the first error, in file order, stops the plan). A dashboard's query sites live only
    // while it is planned: a big stack's would not fit the memory budget all at once.
    let parts = crate::parallel::parts_in_parallel(dashboard_files, |dashboards| {
        let mut part = Survey::default();
        let mut rewrites = Rewrites::default();
        for dashboard in dashboards {
            if let Some(source) = read_dashboard(dashboard)? {
                plan_source(&source, None, against, keep, &mut rewrites, &mut part);
            }
        }
        Ok::<_, Diagnostic>(part)
    });
    let parts = parts.into_iter().collect::<Result<Vec<Survey>, Diagnostic>>()?;
    // Sized once: tens of thousands of findings, grown by doubling, would briefly be held twice.
    survey.files.reserve(parts.iter().map(|p| p.files.len()).sum());
    survey.findings.reserve(parts.iter().map(|p| p.findings.len()).sum());
    survey.queries.reserve(parts.iter().map(|p| p.queries.len()).sum());
    for part in parts {
        survey.files.extend(part.files);
        survey.findings.extend(part.findings);
        survey.queries.extend(part.queries);
    }
    for (source, doc) in &rules {
        plan_source(source, Some(doc), against, keep, &mut Rewrites::default(), &mut survey);
    }
    survey.mapping = Some(mapping);
    Ok(survey)
}

fn dual_run_skipped(file: &SourceFile) -> Finding {
    Finding::new(
        "dual-run-artefact-skipped",
        Severity::Info,
        format!(
            "{} compares pushed and scraped series on purpose; its queries stay as they are (the `remove` phase deletes it)",
            file.path
        ),
    )
}

/// A dashboard or rule file, with its query sites.
struct Source<'s> {
    file: &'s SourceFile,
    kind: SourceKind<'s>,
    sites: Vec<Site>,
    /// Findings about the file, reported before its queries' (library panels, skipped queries).
    findings: Vec<Finding>,
}

enum SourceKind<'s> {
    /// With its scan, which found the query sites.
    Dashboard(&'s crate::dashboard::DashboardScan),
    /// Its lossless tree stays with the caller ([`read_rules`]): it cannot cross threads.
    Rules,
}

struct Site {
    place: QueryPlace,
    span: Range<usize>,
    query: String,
    location: Location,
    target: SiteTarget,
    /// The target's `legendFormat`, for panel queries: its text and where it is.
    legend: Option<(String, Location)>,
    /// The variable a variable query belongs to.
    variable: Option<String>,
}

enum SiteTarget {
    /// Byte range of the JSON string literal, as the scan found it.
    Json(Range<usize>),
    /// The scalar in a rule file.
    Yaml(Route),
}

fn read_dashboard(dashboard: &DashboardFile) -> Result<Option<Source<'_>>, Diagnostic> {
    let file = &dashboard.file;
    let scanned = dashboard.scan.as_ref().map_err(|e| dashboard_error(file, e))?;
    if scanned.model == Model::NotADashboard && scanned.strays.is_empty() {
        return Ok(None);
    }
    let mut findings = Vec::new();
    for stray in &scanned.strays {
        let shape = match scanned.model {
            Model::NotADashboard => "a file pullover does not recognise as a Grafana dashboard",
            _ => "a place no Grafana dashboard model keeps queries (is a list written as an object?)",
        };
        findings.push(
            Finding::new(
                "query-not-read",
                Severity::Hazard,
                format!(
                    "the query at {} is in {shape}: it is not rewritten and may select pushed series",
                    stray.pointer
                ),
            )
            .tip(format!(
                "rewrite `{}` by hand, or fix the file's shape and plan again",
                stray.value
            ))
            .at(Location::at(file, stray.literal.start)),
        );
    }
    for library in &scanned.library_panels {
        let name = match (&library.name, &library.uid) {
            (Some(name), Some(uid)) => format!("\"{name}\" (uid {uid})"),
            (Some(name), None) => format!("\"{name}\""),
            (None, Some(uid)) => format!("uid {uid}"),
            (None, None) => "(unnamed)".to_string(),
        };
        findings.push(
            Finding::new(
                "library-panel",
                Severity::Todo,
                format!(
                    "this panel is library panel {name}: its queries live in Grafana's library, not in this file, and are not rewritten"
                ),
            )
            .tip("check the library panel's queries in Grafana (Dashboards › Library panels) and rewrite them there")
            .at(Location::at(file, library.span.start).with_context(scanned.context(&library.owner))),
        );
    }
    for skipped in &scanned.skipped {
        if let SkipReason::UnknownDatasource { .. } = skipped.reason {
            findings.push(
                Finding::new(
                    "query-skipped",
                    Severity::Info,
                    format!("not read as PromQL: {}; left as it is", skipped.reason),
                )
                .tip("if this data source is Prometheus, give it `\"type\": \"prometheus\"` and plan again")
                .at(Location::at(file, skipped.site.literal.start).with_context(scanned.context(&skipped.site.owner))),
            );
        }
    }
    let sites = scanned
        .sites
        .iter()
        .map(|site| Site {
            place: match site.kind {
                SiteKind::PanelTarget => QueryPlace::PanelQuery,
                SiteKind::TemplateQuery => QueryPlace::VariableQuery,
                SiteKind::TemplateDefinition => QueryPlace::VariableDefinition,
                SiteKind::Annotation => QueryPlace::AnnotationQuery,
                SiteKind::PanelLink => QueryPlace::PanelLink,
            },
            query: site.value.clone(),
            span: site.literal.clone(),
            location: Location::at(file, site.literal.start).with_context(scanned.context(&site.owner)),
            target: SiteTarget::Json(site.literal.clone()),
            legend: site.legend.as_ref().map(|legend| {
                let location = Location::at(file, legend.literal.start).with_context(scanned.context(&site.owner));
                (legend.value.clone(), location)
            }),
            variable: match &site.owner {
                Owner::Variable { name } => Some(name.clone().unwrap_or_default()),
                _ => None,
            },
        })
        .collect();
    Ok(Some(Source {
        file,
        kind: SourceKind::Dashboard(scanned),
        sites,
        findings,
    }))
}

fn dashboard_error(file: &SourceFile, error: &DashboardError) -> Diagnostic {
    let span = if error.span.is_empty() {
        error.span.start..error.span.start + 1
    } else {
        error.span.clone()
    };
    Diagnostic::error(format!("{}: {error}", file.path))
        .at(file, span, "")
        .help(error.help())
}

/// A rule file whose shape Prometheus refuses: its queries cannot be read reliably, and
/// skipping them would leave pushed-series queries behind unreported.
fn rule_shape_error(file: &SourceFile, doc: &YamlDoc, route: &Route, what: &str) -> Diagnostic {
    let offset = doc.find(route).map_or(0, |node| node.range().start);
    Diagnostic::error(format!("{}: {what}", file.path))
        .at(file, offset..offset + 1, "Prometheus refuses this rule file")
        .help("fix the rule file (`promtool check rules` shows the same), then plan again; nothing was written")
}

fn read_rules(file: &SourceFile) -> Result<(Source<'_>, YamlDoc), Diagnostic> {
    let doc = YamlDoc::parse(file.text()).map_err(|e| e.to_diagnostic(file))?;
    let mut sites = Vec::new();
    let root = doc.value();
    if !root.is_null() && !root.is_mapping() {
        return Err(rule_shape_error(
            file,
            &doc,
            &Route::root(),
            "a rule file is a mapping with `groups:`",
        ));
    }
    let groups = match root.get("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(groups)) => groups.clone(),
        Some(_) => {
            let route = Route::root().key("groups");
            return Err(rule_shape_error(
                file,
                &doc,
                &route,
                "`groups` must be a list of rule groups",
            ));
        }
    };
    for (group_index, group) in groups.iter().enumerate() {
        let group_name = group.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
        let group_route = Route::root().key("groups").item(ItemMatch::Index(group_index));
        let rules = match group.get("rules") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(rules)) => rules.clone(),
            Some(_) => {
                let what = format!("`rules` of group {group_name:?} must be a list");
                return Err(rule_shape_error(file, &doc, &group_route.key("rules"), &what));
            }
        };
        for (rule_index, rule) in rules.iter().enumerate() {
            let Some(query) = rule.get("expr").and_then(crate::edit::yaml::scalar_string) else {
                let rule_route = group_route.clone().key("rules").item(ItemMatch::Index(rule_index));
                let what = format!("rule {} of group {group_name:?} has no `expr` query", rule_index + 1);
                return Err(rule_shape_error(file, &doc, &rule_route, &what));
            };
            let query = query.as_str();
            let (place, rule_context) = match (rule.get("alert"), rule.get("record")) {
                (Some(alert), _) => (
                    QueryPlace::AlertRule,
                    format!(
                        "alert {:?}",
                        crate::edit::yaml::scalar_string(alert).unwrap_or_default()
                    ),
                ),
                (None, Some(record)) => (
                    QueryPlace::RecordingRule,
                    format!(
                        "record {:?}",
                        crate::edit::yaml::scalar_string(record).unwrap_or_default()
                    ),
                ),
                (None, None) => (QueryPlace::AlertRule, format!("rule {}", rule_index + 1)),
            };
            let route = Route::root()
                .key("groups")
                .item(ItemMatch::Index(group_index))
                .key("rules")
                .item(ItemMatch::Index(rule_index))
                .key("expr");
            let span = doc.find(&route).map_or(0..0, |node| node.range());
            sites.push(Site {
                place,
                span: span.clone(),
                query: query.to_string(),
                location: Location::at(file, span.start)
                    .with_context(format!("rules group {group_name:?} › {rule_context}")),
                target: SiteTarget::Yaml(route),
                legend: None,
                variable: None,
            });
        }
    }
    Ok((
        Source {
            file,
            kind: SourceKind::Rules,
            sites,
            findings: Vec::new(),
        },
        doc,
    ))
}

/// Edits to one query's text: byte ranges of the query, with their new text.
type QueryEdits = Vec<(Range<usize>, String)>;

/// What every query of the phase is planned against: who pushes as what, the apps whose
/// identity is undecided, the Prometheus release that reads the queries, the gateway.
#[derive(Clone, Copy)]
struct Against<'a> {
    mapping: &'a SeriesMapping,
    waiting: &'a [(String, Vec<String>)],
    dialect: &'a Dialect,
    gateway: &'a Gateway,
}

/// Rewrites one file's queries (all or none of them) and records every outcome.
/// Each query text rewritten so far, with its rewrite: a query copied into many dashboards is
/// rewritten once (the rewrite depends on the text alone, against one mapping and dialect).
type Rewrites = std::collections::HashMap<String, Result<QueryRewrite, crate::promql::PromqlError>>;

fn plan_source(
    source: &Source<'_>,
    rules: Option<&YamlDoc>,
    against: Against<'_>,
    keep: Keep,
    rewrites: &mut Rewrites,
    survey: &mut Survey,
) {
    let Against {
        mapping,
        waiting,
        dialect,
        gateway,
    } = against;
    let is_rules = matches!(source.kind, SourceKind::Rules);
    let mut planned: Vec<(PlannedQuery, QueryEdits)> = Vec::new();
    // Sites whose findings the plan already reports for another site.
    let mut repeats: Vec<bool> = Vec::new();
    let mut reported_variables: Vec<(String, String)> = Vec::new();
    for site in &source.sites {
        let mut planned_query = PlannedQuery {
            location: site.location.clone(),
            span: site.span.clone(),
            place: site.place,
            query: site.query.clone(),
            rewritten: None,
            action: QueryAction::Leave,
            findings: Vec::new(),
            repeats: false,
        };
        let mut edits = Vec::new();
        if site.place == QueryPlace::PanelLink {
            planned_query.action = QueryAction::Report;
            planned_query.findings.push(
                Finding::new(
                    "panel-link-query",
                    Severity::Todo,
                    "this panel link carries a query in its URL; pullover does not rewrite URLs",
                )
                .tip("check whether the linked query selects pushed series (job, instance, exported_job) and edit the link by hand")
                .at(site.location.clone()),
            );
            planned.push((planned_query, edits));
            repeats.push(false);
            continue;
        }
        // A variable's definition repeats its query: the plan reports it once.
        let repeat = site
            .variable
            .as_ref()
            .is_some_and(|name| reported_variables.iter().any(|(n, q)| n == name && *q == site.query));
        if let Some(name) = &site.variable {
            reported_variables.push((name.clone(), site.query.clone()));
        }
        planned_query.repeats = repeat;
        if let Some(service) = learn::waits_for(&site.query, gateway.honor_labels, waiting) {
            planned_query.action = QueryAction::Report;
            planned_query.findings.push(
                Finding::new(
                    "waits-for-pushed-identity",
                    Severity::Hazard,
                    format!("not rewritten yet: it selects a job {service} may push as, and which one it is is undecided (see `pushed-identity-undecided`)"),
                )
                .tip(format!("pin `pushed_job:` for {service} under `apps:` in pullover.yaml, then plan again"))
                .at(site.location.clone())
                .waiting(),
            );
            planned.push((planned_query, edits));
            repeats.push(repeat);
            continue;
        }
        let rewrite = match rewrites.get(&site.query) {
            Some(rewrite) => rewrite.clone(),
            None => {
                let rewrite = rewrite_query_in(&site.query, mapping, dialect);
                rewrites.insert(site.query.clone(), rewrite.clone());
                rewrite
            }
        };
        match rewrite {
            Err(error) => {
                let (line, column) = error.line_col(&site.query);
                planned_query.action = QueryAction::Report;
                planned_query.findings.push(
                    Finding::new(
                        "unparseable-query",
                        Severity::Todo,
                        format!(
                            "the query does not parse (at {line}:{column} of the query: {}); left unchanged",
                            error.message
                        ),
                    )
                    .tip("fix the query, or check by hand whether it selects pushed series")
                    .at(site.location.clone()),
                );
            }
            Ok(QueryRewrite {
                text,
                edits: query_edits,
                findings,
            }) => {
                planned_query
                    .findings
                    .extend(findings.iter().map(|f| query_finding(f, &site.location, is_rules)));
                if let Some(text) = text {
                    planned_query.action = QueryAction::Rewrite;
                    planned_query.rewritten = Some(text);
                    edits = query_edits.into_iter().map(|e| (e.range, e.replacement)).collect();
                } else if !findings.is_empty() {
                    planned_query.action = QueryAction::Report;
                }
            }
        }
        planned_query.findings.extend(variable_finding(site, mapping));
        if planned_query.action == QueryAction::Leave && !planned_query.findings.is_empty() {
            planned_query.action = QueryAction::Report;
        }
        // Only a query on pushed series (rewritten, or left with a suggested replacement) loses
        // the exported labels.
        if planned_query.action != QueryAction::Leave {
            planned_query.findings.extend(legend_finding(site, gateway));
        }
        planned.push((planned_query, edits));
        repeats.push(repeat);
    }

    let rewritten = planned.iter().filter(|(q, _)| q.action == QueryAction::Rewrite).count();
    let outcome = if rewritten == 0 {
        Ok(None)
    } else {
        rewrite_file(source, rules, &planned)
    };
    let failure = match outcome {
        Ok(Some(text)) => {
            survey.files.push(RewrittenFile {
                path: source.file.path.clone(),
                text,
                because: format!(
                    "rewrite {rewritten} quer{} to select the scraped series",
                    if rewritten == 1 { "y" } else { "ies" }
                ),
            });
            None
        }
        Ok(None) => None,
        Err((reason, offset)) => Some(
            Finding::new(
                "file-not-rewritten",
                Severity::Hazard,
                format!(
                    "{} was left unchanged: pullover could not rewrite its {rewritten} quer{} exactly ({reason})",
                    source.file.path,
                    if rewritten == 1 { "y" } else { "ies" }
                ),
            )
            .tip("rewrite the queries listed below by hand, or report this with the file; nothing in it was written")
            .at(Location::at(source.file, offset)),
        ),
    };
    survey.findings.extend(failure.clone());
    // The file's own findings and its queries', top to bottom.
    let mut findings = source.findings.clone();
    for ((mut query, _), repeat) in planned.into_iter().zip(repeats) {
        if failure.is_some() && query.action == QueryAction::Rewrite {
            query.action = QueryAction::Report;
            query.findings.push(
                Finding::new(
                    "query-not-rewritten",
                    Severity::Hazard,
                    format!(
                        "would become `{}`, but its file is left unchanged",
                        query.rewritten.take().unwrap_or_default()
                    ),
                )
                .at(query.location.clone()),
            );
        }
        if !repeat {
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
) -> Result<Option<String>, (String, usize)> {
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
            Ok(Some(text))
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
                .map(Some)
                .map_err(|e: YamlError| (e.to_string(), e.offset().unwrap_or(0)))
        }
    }
}

/// A query finding as the plan reports it.
fn query_finding(finding: &QueryFinding, location: &Location, in_rules: bool) -> Finding {
    let severity = match finding.kind {
        QueryFindingKind::DoubleCountDuringDualRun
        | QueryFindingKind::MatchesNothingUnderHonorLabels
        // It fails on the stack's Prometheus today.
        | QueryFindingKind::RejectedByPrometheusVersion => Severity::Hazard,
        // An alert on a series that goes away never fires again, and says nothing.
        QueryFindingKind::NoScrapedEquivalent if in_rules => Severity::Hazard,
        _ => Severity::Todo,
    };
    let mut out = Finding::new(finding.kind.id(), severity, finding.message.clone()).at(location.clone());
    if let Some(suggestion) = &finding.suggestion {
        out = out.tip(format!("suggested: `{suggestion}`"));
    }
    if finding.kind == QueryFindingKind::RejectedByPrometheusVersion {
        out = out.tip(
            "fix the query for that release; if the stack runs another release, set `prometheus_version:` in pullover.yaml",
        );
    }
    out
}

/// `{{exported_job}}` / `{{exported_instance}}` in a legend go blank once the series are scraped.
fn legend_finding(site: &Site, gateway: &Gateway) -> Option<Finding> {
    let (legend, location) = site.legend.as_ref()?;
    if gateway.honor_labels {
        return None;
    }
    let used: Vec<&str> = ["exported_job", "exported_instance"]
        .into_iter()
        .filter(|label| {
            legend
                .split("{{")
                .skip(1)
                .any(|part| part.split("}}").next().is_some_and(|inside| inside.trim() == *label))
        })
        .collect();
    let first = used.first()?;
    let replacement = if *first == "exported_job" { "job" } else { "instance" };
    Some(
        Finding::new(
            "legend-uses-exported-label",
            Severity::Todo,
            format!(
                "the legend `{legend}` shows {}, which scraped series do not have: it goes blank after the migration",
                used.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(" and ")
            ),
        )
        .tip(format!(
            "use `{{{{{replacement}}}}}` in the legend once the query reads the scraped series"
        ))
        .at(location.clone()),
    )
}

/// A `label_values(…, job|instance|exported_*)` variable over pushed series offers other values
/// once they are scraped: saved selections and links with `var-…=` must follow.
fn variable_finding(site: &Site, mapping: &SeriesMapping) -> Option<Finding> {
    if !matches!(site.place, QueryPlace::VariableQuery | QueryPlace::VariableDefinition) {
        return None;
    }
    let (selector, label) = label_values_parts(&site.query)?;
    let pushed_jobs: Vec<&str> = mapping.apps.iter().map(|a| a.pushed_job.as_str()).collect();
    let reads_pushed = selector.is_some_and(|selector| {
        selectors(selector).is_ok_and(|selectors| {
            selectors.iter().any(|s| {
                let named = |label: &str| {
                    s.named(label)
                        .is_some_and(|values| values.iter().any(|v| pushed_jobs.contains(&v.as_str())))
                };
                let app_metric = s
                    .metric
                    .as_ref()
                    .is_some_and(|m| mapping.apps.iter().any(|a| a.metrics.contains(m)));
                named("job") || named("exported_job") || (app_metric && s.named("job").is_none())
            })
        })
    });
    if !reads_pushed {
        return None;
    }
    let join = |values: Vec<&str>| {
        values
            .iter()
            .map(|v| {
                if v.is_empty() {
                    "(none)".to_string()
                } else {
                    format!("\"{v}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (old, new) = match (label, mapping.honor_labels) {
        ("instance", true) | ("exported_instance", false) => (
            join(
                mapping
                    .apps
                    .iter()
                    .flat_map(|a| a.pushed_instances.iter().map(String::as_str))
                    .collect(),
            ),
            join(mapping.apps.iter().map(|a| a.scrape_instance.as_str()).collect()),
        ),
        ("instance", false) => (
            join(mapping.gateway_instances.iter().map(String::as_str).collect()),
            join(mapping.apps.iter().map(|a| a.scrape_instance.as_str()).collect()),
        ),
        ("job", true) | ("exported_job", false) => (
            join(pushed_jobs.clone()),
            join(mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect()),
        ),
        ("job", false) => (
            format!("\"{}\"", mapping.gateway_job),
            join(mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect()),
        ),
        _ => return None,
    };
    if old == new {
        return None;
    }
    let old = if old.is_empty() {
        "the pushed values".to_string()
    } else {
        old
    };
    let name = site.variable.clone().unwrap_or_default();
    Some(
        Finding::new(
            "variable-options-change",
            Severity::Todo,
            format!(
                "variable {name:?} lists `{label}` values of pushed series ({old}); once they are scraped it lists {new}"
            ),
        )
        .tip(format!(
            "update the variable's saved selection and default, and links that pass `var-{name}=`"
        ))
        .at(site.location.clone()),
    )
}

/// `label_values(selector, label)` → (selector, label); `label_values(label)` → (None, label).
fn label_values_parts(query: &str) -> Option<(Option<&str>, &str)> {
    let inner = query
        .trim()
        .strip_prefix("label_values")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (selector, label) = match inner.rsplit_once(',') {
        Some((selector, label)) => (Some(selector.trim()), label.trim()),
        None => (None, inner.trim()),
    };
    label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        .then_some((selector, label))
}
