//! Reading the query sites of a dashboard (from its scan) and of a rule file (from its YAML
//! tree), each with where it is and how to write it back.

use std::ops::Range;

use yaml_serde::Value;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::dashboard::{DashboardError, Model, Owner, SiteKind, SkipReason};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route, YamlDoc};
use crate::stack::DashboardFile;
use crate::stack::source::SourceFile;

use super::survey::QueryPlace;

/// A dashboard or rule file, with its query sites.
pub(super) struct Source<'s> {
    pub(super) file: &'s SourceFile,
    pub(super) kind: SourceKind<'s>,
    pub(super) sites: Vec<Site>,
    /// Findings about the file, reported before its queries' (library panels, skipped queries).
    pub(super) findings: Vec<Finding>,
}

pub(super) enum SourceKind<'s> {
    /// With its scan, which found the query sites.
    Dashboard(&'s crate::dashboard::DashboardScan),
    /// Its lossless tree stays with the caller ([`read_rules`]): it cannot cross threads.
    Rules,
}

pub(super) struct Site {
    pub(super) place: QueryPlace,
    pub(super) span: Range<usize>,
    pub(super) query: String,
    pub(super) location: Location,
    pub(super) target: SiteTarget,
    /// The target's `legendFormat`, for panel queries: its text and where it is.
    pub(super) legend: Option<(String, Location)>,
    /// The variable a variable query belongs to.
    pub(super) variable: Option<String>,
}

pub(super) enum SiteTarget {
    /// Byte range of the JSON string literal, as the scan found it.
    Json(Range<usize>),
    /// The scalar in a rule file.
    Yaml(Route),
}

pub(super) fn read_dashboard(dashboard: &DashboardFile) -> Result<Option<Source<'_>>, Diagnostic> {
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
                FindingId::QueryNotRead,
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
                FindingId::LibraryPanel,
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
                    FindingId::QuerySkipped,
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

pub(super) fn read_rules(file: &SourceFile) -> Result<(Source<'_>, YamlDoc), Diagnostic> {
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
