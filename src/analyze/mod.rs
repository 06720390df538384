//! The inventory `pullover analyze` prints: every Pushgateway reference in the stack — Compose,
//! prometheus.yml, rule files, dashboards, Kubernetes manifests, docs and app code — with what
//! the phases will do about each and the hazards a person must know.
//!
//! [`analyze`] reads the stack's other text files through the stack reader
//! ([`crate::stack::searched`]); everything else here is pure: a [`Stack`] and those files in,
//! a [`Report`] out, which `commands/analyze.rs` renders as text or JSON.

mod config;
mod kube;
mod lines;
mod queries;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::changeset::finding_id::FindingId;
use crate::changeset::redact::mask_text;
use crate::changeset::{Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::phase::dashboards::{self, Survey};
use crate::stack::mentions::MentionScanner;
use crate::stack::source::{RelPath, SourceFile, line_span};
use crate::stack::{Gateway, Stack};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Compose,
    /// Kubernetes manifests, kustomizations and Helm values.
    Kubernetes,
    Prometheus,
    Rules,
    Dashboards,
    Docs,
    Code,
}

/// What happens to a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The `dashboards` phase rewrites it.
    Rewrite,
    /// The `dashboards` phase leaves it and reports it.
    Report,
    /// The `remove` phase removes it.
    Remove,
    /// The `docs` phase lists it on its checklist.
    Checklist,
    /// Nothing does: a person must look at it.
    Review,
    /// Stays as it is, and that is right.
    Leave,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Rewrite => "rewrite",
            Action::Report => "report",
            Action::Remove => "remove",
            Action::Checklist => "checklist",
            Action::Review => "review",
            Action::Leave => "leave",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub path: RelPath,
    pub line: usize,
    pub column: usize,
    pub area: Area,
    /// Stable kebab-case kind: `gateway-service`, `depends-on`, `query`, `mention`, …
    pub kind: &'static str,
    pub action: Action,
    /// What it is, in a few words.
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The line, or the whole query.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten: Option<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayJson {
    pub service: Option<String>,
    pub address: String,
    pub job: Option<String>,
    pub honor_labels: bool,
}

/// The Prometheus that reads the queries, and how pullover knows.
#[derive(Debug, Clone, Serialize)]
pub struct PrometheusJson {
    /// `2.45`, `3.1`.
    pub version: String,
    /// Where that came from, as a person reads it.
    pub source: String,
    /// Whether nothing said it and the newest release pullover knows is assumed.
    pub assumed: bool,
    /// The `--enable-feature=` values of its command.
    pub features: Vec<String>,
}

impl PrometheusJson {
    fn of(stack: &Stack) -> PrometheusJson {
        let dialect = &stack.prometheus_dialect;
        PrometheusJson {
            version: dialect.version.to_string(),
            source: dialect.source_text(),
            assumed: dialect.is_assumed(),
            features: dialect.features.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AppJson {
    pub service: String,
    pub scrape_job: String,
    pub scrape_target: String,
    pub pushed_job: String,
    pub pushed_instances: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub references: usize,
    pub files: usize,
    pub rewrite: usize,
    pub report: usize,
    pub hazards: usize,
    pub todos: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub gateway: Option<GatewayJson>,
    pub prometheus: PrometheusJson,
    pub apps: Vec<AppJson>,
    pub references: Vec<Reference>,
    /// Findings about the stack as a whole (what was learnt, shared volumes, naming).
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// The inventory of `stack`, whose other files (docs, app code, scripts) are read from `root`.
/// A stack without a gateway has nothing to search, so nothing more is read.
pub fn analyze(stack: &Stack, root: &Path) -> Result<Report, Diagnostic> {
    let searched = match stack.settings.gateway {
        Some(_) => crate::stack::searched::read(root, stack)?,
        None => Vec::new(),
    };
    Ok(inventory(stack, &searched))
}

/// The inventory of `stack`, with `searched`: its files no other part of the stack reads, to
/// search line by line.
pub fn inventory(stack: &Stack, searched: &[SourceFile]) -> Report {
    let mut findings = crate::stack::outside::findings(stack);
    let Some(gateway) = &stack.settings.gateway else {
        findings.push(Finding::new(
            FindingId::NoPushgateway,
            Severity::Info,
            "no Pushgateway found in this stack: nothing to migrate",
        ));
        return finish(None, PrometheusJson::of(stack), Vec::new(), Vec::new(), findings);
    };
    let survey = survey(stack, &mut findings);
    let apps = apps(stack, &survey);
    if gateway.honor_labels {
        findings.extend(apps.iter().filter(|a| a.pushed_job == a.scrape_job).map(double_count));
    }
    let scanner = MentionScanner::new(Some(gateway));
    let mut references = Vec::new();
    if let Some(compose) = &stack.compose {
        config::compose_references(compose, gateway, &scanner, &mut references, &mut findings);
    }
    match &stack.kube {
        // A Kubernetes stack's prometheus.yml is pullover's own model, not a file of the stack.
        Some(kube) => kube::references(kube, &mut references, &mut findings),
        None => config::prometheus_references(stack, gateway, &scanner, &mut references),
    }
    queries::references(&survey, &mut references, &mut findings);
    if let Some(kube) = &stack.kube {
        kube::in_manifests(stack, kube, &mut references, &mut findings);
    }
    lines::references(stack, searched, &scanner, &mut references);
    finish(
        Some(gateway_json(gateway)),
        PrometheusJson::of(stack),
        apps,
        references,
        findings,
    )
}

/// What the `dashboards` phase would do with each query; a file that does not read is a hazard
/// and its queries are not listed.
fn survey(stack: &Stack, findings: &mut Vec<Finding>) -> Survey {
    match dashboards::survey(stack) {
        Ok(survey) => survey,
        Err(diagnostic) => {
            let mut finding = Finding::new(
                FindingId::UnreadableQueryFile,
                Severity::Hazard,
                format!("a dashboard or rule file cannot be read, so its queries are not listed: {diagnostic}"),
            );
            if let Some(help) = diagnostic.help.first() {
                finding = finding.tip(help.clone());
            }
            findings.push(finding);
            Survey::default()
        }
    }
}

/// Each app with who it pushes as: the survey's mapping where it has one, else the stack's.
fn apps(stack: &Stack, survey: &Survey) -> Vec<AppJson> {
    stack
        .settings
        .apps
        .iter()
        .enumerate()
        .map(|(index, app)| {
            let mapped = survey.mapping.as_ref().and_then(|m| m.apps.get(index));
            AppJson {
                service: app.service.clone(),
                scrape_job: app.job.clone(),
                scrape_target: app.target(),
                pushed_job: mapped.map_or_else(|| app.pushed_job.clone(), |m| m.pushed_job.clone()),
                pushed_instances: mapped.map_or_else(|| app.pushed_instances.clone(), |m| m.pushed_instances.clone()),
            }
        })
        .collect()
}

fn double_count(app: &AppJson) -> Finding {
    Finding::new(
        FindingId::DoubleCountDuringDualRun,
        Severity::Hazard,
        format!(
            "pushed and scraped series of {} both carry job=\"{}\" (honor_labels: true) and differ only by instance",
            app.service, app.scrape_job
        ),
    )
    .tip("while both run, sums over job alone double-count; the queries doing so are listed with their files")
}

fn gateway_json(gateway: &Gateway) -> GatewayJson {
    GatewayJson {
        service: gateway.service.clone(),
        address: gateway.address(),
        job: gateway.job.clone(),
        honor_labels: gateway.honor_labels,
    }
}

fn finish(
    gateway: Option<GatewayJson>,
    prometheus: PrometheusJson,
    apps: Vec<AppJson>,
    mut references: Vec<Reference>,
    findings: Vec<Finding>,
) -> Report {
    references.sort_by(|a, b| (a.area, &a.path, a.line, a.column).cmp(&(b.area, &b.path, b.line, b.column)));
    references.dedup_by(|a, b| a.path == b.path && a.line == b.line && a.kind == b.kind && a.kind == "mention");
    let all_findings = || references.iter().flat_map(|r| &r.findings).chain(&findings);
    let summary = Summary {
        references: references.len(),
        files: references.iter().map(|r| &r.path).collect::<BTreeSet<_>>().len(),
        rewrite: references.iter().filter(|r| r.action == Action::Rewrite).count(),
        report: references.iter().filter(|r| r.action == Action::Report).count(),
        hazards: all_findings().filter(|f| f.severity == Severity::Hazard).count(),
        todos: all_findings().filter(|f| f.severity == Severity::Todo).count(),
    };
    Report {
        gateway,
        prometheus,
        apps,
        references,
        findings,
        summary,
    }
}

/// The reference at `offset` of `file`: its line, trimmed, is the text shown.
fn reference(
    file: &SourceFile,
    offset: usize,
    area: Area,
    kind: &'static str,
    action: Action,
    what: String,
) -> Reference {
    let location = Location::at(file, offset);
    let text = file
        .text()
        .get(line_span(file.text(), offset))
        .unwrap_or_default()
        .trim();
    // Everything analyze prints is masked; it writes no file that would need the real bytes.
    let text = mask_text(text);
    let what = mask_text(&what);
    Reference {
        path: location.path,
        line: location.line,
        column: location.column,
        area,
        kind,
        action,
        what,
        context: None,
        text,
        rewritten: None,
        findings: Vec::new(),
    }
}
