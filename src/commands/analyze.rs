//! `pullover analyze`: every Pushgateway reference in the stack — Compose, prometheus.yml, rule
//! files, dashboards, docs and app code — with what the phases will do about each and the hazards
//! a person must know. Reads only; writes nothing.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::{Context, Outcome};
use crate::changeset::redact::mask_text;
use crate::changeset::{Finding, Location, Severity};
use crate::edit::yaml::{ItemMatch, Node, NodeKind, Route, YamlDoc};
use crate::phase::dashboards::{self, QueryAction, Survey};
use crate::stack::source::{RelPath, SourceFile, line_span};
use crate::stack::{Gateway, Stack};

/// Files larger than this are not searched for mentions (no doc or source file is this big).
const MAX_GREP_BYTES: u64 = 1024 * 1024;

/// Folders never searched: pullover's state, VCS, dependencies, build output.
const SKIPPED_DIRS: [&str; 6] = [".pullover", ".git", "node_modules", "target", "vendor", "__pycache__"];

pub fn run(ctx: &Context) -> Result<Outcome> {
    let mut stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    super::live::observe_pushes(ctx, &mut stack)?;
    super::live::observe_prometheus_version(ctx, &mut stack)?;
    let report = analyze(&stack, &ctx.global.stack);
    if ctx.json() {
        ctx.print_json(&report)?;
    } else {
        ctx.print(&render(ctx, &report))?;
    }
    Ok(Outcome::Success)
}

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
    fn label(self) -> &'static str {
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
    pub version: u32,
    pub command: &'static str,
    pub gateway: Option<GatewayJson>,
    pub prometheus: PrometheusJson,
    pub apps: Vec<AppJson>,
    pub references: Vec<Reference>,
    /// Findings about the stack as a whole (what was learnt, shared volumes, naming).
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// The inventory of `stack`, read from `root` (docs and app code are searched there).
pub fn analyze(stack: &Stack, root: &Path) -> Report {
    let mut references = Vec::new();
    let mut findings = crate::stack::outside::findings(stack);
    let Some(gateway) = &stack.settings.gateway else {
        findings.push(Finding::new(
            "no-pushgateway",
            Severity::Info,
            "no Pushgateway found in this stack: nothing to migrate",
        ));
        return finish(None, PrometheusJson::of(stack), Vec::new(), references, findings);
    };
    let survey = match dashboards::survey(stack) {
        Ok(survey) => survey,
        Err(diagnostic) => {
            let mut finding = Finding::new(
                "unreadable-query-file",
                Severity::Hazard,
                format!("a dashboard or rule file cannot be read, so its queries are not listed: {diagnostic}"),
            );
            if let Some(help) = diagnostic.help.first() {
                finding = finding.tip(help.clone());
            }
            findings.push(finding);
            Survey::default()
        }
    };
    let apps: Vec<AppJson> = stack
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
        .collect();
    if gateway.honor_labels {
        for app in apps.iter().filter(|a| a.pushed_job == a.scrape_job) {
            findings.push(
                Finding::new(
                    "double-count-during-dual-run",
                    Severity::Hazard,
                    format!(
                        "pushed and scraped series of {} both carry job=\"{}\" (honor_labels: true) and differ only by instance",
                        app.service, app.scrape_job
                    ),
                )
                .tip("while both run, sums over job alone double-count; the queries doing so are listed with their files"),
            );
        }
    }
    if let Some(compose) = &stack.compose {
        compose_references(compose, gateway, &mut references, &mut findings);
    }
    match &stack.kube {
        // A Kubernetes stack's prometheus.yml is pullover's own model, not a file of the stack.
        Some(kube) => kube_references(kube, &mut references, &mut findings),
        None => prometheus_references(stack, gateway, &mut references),
    }
    query_references(&survey, &mut references, &mut findings);
    if let Some(kube) = &stack.kube {
        for reference in &mut references {
            let at = Location {
                path: reference.path.clone(),
                line: reference.line,
                column: reference.column,
                context: None,
            };
            if let Some(real) = crate::stack::kube::embedded::locate(kube, &at) {
                (reference.path, reference.line, reference.column) = (real.path, real.line, real.column);
            }
            for finding in &mut reference.findings {
                *finding = crate::phase::kube::in_kubernetes(finding, stack, kube);
            }
        }
        for finding in &mut findings {
            *finding = crate::phase::kube::in_kubernetes(finding, stack, kube);
        }
    }
    let covered: BTreeSet<&RelPath> = stack
        .compose
        .iter()
        .map(|c| &c.file.path)
        .chain([&stack.prometheus.file.path])
        .chain(stack.rule_files.iter().map(|f| &f.path))
        .chain(stack.dashboard_files().map(|f| &f.path))
        .chain(stack.kube.iter().flat_map(|k| k.manifests.iter().map(|m| &m.file.path)))
        .chain(stack.kube.iter().flat_map(|k| k.values.iter().map(|v| &v.file.path)))
        .collect();
    let dashboard_dirs: Vec<String> = stack
        .evidence
        .iter()
        .filter(|e| e.setting == "dashboards")
        .map(|e| e.value.clone())
        .collect();
    grep_references(root, stack, gateway, &covered, &dashboard_dirs, &mut references);
    let gateway_json = GatewayJson {
        service: gateway.service.clone(),
        address: gateway.address(),
        job: gateway.job.clone(),
        honor_labels: gateway.honor_labels,
    };
    finish(
        Some(gateway_json),
        PrometheusJson::of(stack),
        apps,
        references,
        findings,
    )
}

/// The gateway's objects, how Prometheus scrapes it, and each pusher's mention of it.
fn kube_references(kube: &crate::stack::kube::KubeStack, references: &mut Vec<Reference>, findings: &mut Vec<Finding>) {
    use crate::stack::kube::ScrapePath;
    findings.extend(kube.findings.iter().cloned());
    let Some(gateway) = &kube.gateway else { return };
    let object_reference = |index: usize, kind: &'static str, action: Action, what: String| {
        let object = &kube.objects[index];
        let manifest = &kube.manifests[object.manifest];
        let part = &manifest.stream.docs()[object.doc];
        let offset = part
            .doc
            .root()
            .and_then(|root| root.get("kind"))
            .map_or(part.range.start, |entry| part.range.start + entry.range().start);
        reference(&manifest.file, offset, Area::Kubernetes, kind, action, what)
    };
    // `remove` is not done on Kubernetes yet: what it would remove is for a person to review.
    if let Some(workload) = gateway.workload {
        let what = format!("the Pushgateway {}", kube.objects[workload].display());
        references.push(object_reference(workload, "gateway-workload", Action::Review, what));
    }
    if let Some(service) = gateway.service {
        let what = format!("the gateway's Service {}", kube.objects[service].name);
        references.push(object_reference(service, "gateway-service", Action::Review, what));
    }
    let job_at = |file: &SourceFile, job: &str| {
        let offset = file.text().find(&format!("job_name: {job}")).unwrap_or(0);
        let what = format!(
            "the scrape job `{job}` scrapes the gateway (honor_labels: {}); `scrape` adds each app's job next to it",
            gateway.honor_labels
        );
        reference(file, offset, Area::Kubernetes, "scrape-job", Action::Review, what)
    };
    match &gateway.scrape {
        ScrapePath::ServiceMonitor(monitor) => {
            let what = format!(
                "ServiceMonitor {} scrapes the gateway as job `{}` (honorLabels: {}); its labels are copied onto the new ServiceMonitors",
                kube.objects[*monitor].name, gateway.job, gateway.honor_labels
            );
            references.push(object_reference(
                *monitor,
                "gateway-servicemonitor",
                Action::Review,
                what,
            ));
        }
        ScrapePath::PodMonitor(monitor) => {
            let what = format!(
                "PodMonitor {} scrapes the gateway as job `{}` (honorLabels: {}); its labels are copied onto the new PodMonitors",
                kube.objects[*monitor].name, gateway.job, gateway.honor_labels
            );
            references.push(object_reference(*monitor, "gateway-podmonitor", Action::Review, what));
        }
        ScrapePath::ChartServiceMonitor { values } => {
            let values = &kube.values[*values];
            let at = values.file.text().find("serviceMonitor:").unwrap_or(0);
            let what = format!(
                "the prometheus-pushgateway chart's ServiceMonitor scrapes the gateway as job `{}` (honorLabels: {}); its `additionalLabels` are copied onto the new ServiceMonitors",
                gateway.job, gateway.honor_labels
            );
            references.push(reference(
                &values.file,
                at,
                Area::Kubernetes,
                "gateway-servicemonitor",
                Action::Review,
                what,
            ));
        }
        ScrapePath::ValuesJob { values, job, .. } => {
            references.push(job_at(&kube.values[*values].file, job));
        }
        ScrapePath::ConfigMapJob { object, job } => {
            references.push(job_at(&kube.manifests[kube.objects[*object].manifest].file, job));
        }
        ScrapePath::Unknown => {}
    }
    for pusher in &kube.pushers {
        let object = &kube.objects[pusher.object];
        let (action, what) = if object.is_long_running() {
            (
                Action::Review,
                format!(
                    "{} names the gateway; `scrape` adds {} for it",
                    object.display(),
                    match gateway.scrape {
                        ScrapePath::PodMonitor(_) => "a PodMonitor",
                        ScrapePath::ValuesJob { .. } | ScrapePath::ConfigMapJob { .. } => "a scrape job",
                        ScrapePath::ServiceMonitor(_)
                        | ScrapePath::ChartServiceMonitor { .. }
                        | ScrapePath::Unknown => "a ServiceMonitor",
                    }
                ),
            )
        } else {
            (
                Action::Leave,
                format!(
                    "{} is a batch job: it keeps pushing, and the gateway stays for it",
                    object.display()
                ),
            )
        };
        for (location, text) in &pusher.mentions {
            references.push(Reference {
                path: location.path.clone(),
                line: location.line,
                column: location.column,
                area: Area::Kubernetes,
                kind: "pusher",
                action,
                what: mask_text(&what),
                context: None,
                text: mask_text(text),
                rewritten: None,
                findings: Vec::new(),
            });
        }
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
        version: 1,
        command: "analyze",
        gateway,
        prometheus,
        apps,
        references,
        findings,
        summary,
    }
}

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

/// A scalar key or value of a YAML file, with the key path to it.
struct Scalar {
    path: Vec<String>,
    offset: usize,
    text: String,
    is_key: bool,
}

fn scalars(node: &Node, path: &mut Vec<String>, out: &mut Vec<Scalar>) {
    match node.kind() {
        NodeKind::Mapping => {
            for entry in node.entries() {
                path.push(entry.key.clone());
                out.push(Scalar {
                    path: path.clone(),
                    offset: entry.key_range.start,
                    text: entry.key.clone(),
                    is_key: true,
                });
                if let Some(value) = &entry.value {
                    scalars(value, path, out);
                }
                path.pop();
            }
        }
        NodeKind::Sequence => {
            for (index, item) in node.items().iter().enumerate() {
                path.push(format!("[{index}]"));
                if let Some(value) = &item.value {
                    scalars(value, path, out);
                }
                path.pop();
            }
        }
        NodeKind::Scalar => {
            if let Some(text) = node.scalar() {
                out.push(Scalar {
                    path: path.clone(),
                    offset: node.range().start,
                    text,
                    is_key: false,
                });
            }
        }
        _ => {}
    }
}

fn all_scalars(doc: &YamlDoc) -> Vec<Scalar> {
    let mut out = Vec::new();
    if let Some(root) = doc.root() {
        scalars(root, &mut Vec::new(), &mut out);
    }
    out
}

/// Whether `text` names the gateway: its service or host, its address, or Pushgateway at all.
fn mentions_gateway(text: &str, gateway: &Gateway) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("pushgateway")
        || text.contains(&gateway.address())
        || gateway.service.as_deref().is_some_and(|s| names_host(text, s))
        || names_host(text, &gateway.host)
}

/// `host` as a whole word of `text` (`pushgateway`, `http://pgw:9091`), not inside another name.
fn names_host(text: &str, host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    text.match_indices(host).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + host.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

fn compose_references(
    compose: &crate::stack::compose::Compose,
    gateway: &Gateway,
    out: &mut Vec<Reference>,
    findings: &mut Vec<Finding>,
) {
    let file = &compose.file;
    let service = gateway.service.as_deref();
    // The gateway's named volumes, and who else mounts them.
    let volumes: Vec<String> = service
        .and_then(|s| compose.service(s))
        .map(|s| {
            s.volumes
                .iter()
                .filter(|m| !m.bind)
                .filter_map(|m| m.source.clone())
                .collect()
        })
        .unwrap_or_default();
    for volume in &volumes {
        let users: Vec<&str> = compose
            .services
            .iter()
            .filter(|s| Some(s.name.as_str()) != service)
            .filter(|s| s.volumes.iter().any(|m| !m.bind && m.source.as_deref() == Some(volume)))
            .map(|s| s.name.as_str())
            .collect();
        if !users.is_empty() {
            findings.push(
                Finding::new(
                    "shared-volume",
                    Severity::Hazard,
                    format!(
                        "the Pushgateway's volume `{volume}` is also mounted by {}; removing the gateway must keep it",
                        users.join(", ")
                    ),
                )
                .tip("check what that service does with it (a backup of the gateway's data can go once the gateway does)"),
            );
        }
    }
    let names_volume = |text: &str| volumes.iter().any(|v| text == v || text.starts_with(&format!("{v}:")));
    for scalar in all_scalars(&compose.doc) {
        let path: Vec<&str> = scalar.path.iter().map(String::as_str).collect();
        let in_gateway = matches!(path.as_slice(), ["services", s, ..] if Some(*s) == service);
        if in_gateway {
            if let (["services", name], true) = (path.as_slice(), scalar.is_key) {
                let image = compose
                    .service(name)
                    .and_then(|s| s.image.clone())
                    .map(|i| format!(" (image {i})"))
                    .unwrap_or_default();
                out.push(reference(
                    file,
                    scalar.offset,
                    Area::Compose,
                    "gateway-service",
                    Action::Remove,
                    format!("the Pushgateway service `{name}`{image}"),
                ));
            }
            continue;
        }
        let volume_hit = names_volume(&scalar.text);
        if !(mentions_gateway(&scalar.text, gateway) || volume_hit) {
            continue;
        }
        let (kind, action, what) = match path.as_slice() {
            ["services", name, "depends_on", ..] => {
                ("depends-on", Action::Remove, format!("{name} depends on the gateway"))
            }
            ["services", name, "links", ..] => ("link", Action::Remove, format!("{name} links to the gateway")),
            ["services", name, "environment", ..] => (
                "env",
                Action::Remove,
                format!("{name}'s environment points at the gateway (the app may still read it)"),
            ),
            ["services", name, "volumes", ..] if volume_hit => {
                ("volume", Action::Review, format!("{name} mounts the gateway's volume"))
            }
            ["services", name, "command" | "entrypoint", ..] => {
                ("command", Action::Review, format!("{name}'s command names the gateway"))
            }
            ["volumes", name] if volume_hit => {
                ("volume", Action::Remove, format!("the gateway's named volume `{name}`"))
            }
            _ => (
                "mention",
                Action::Review,
                format!("`{}` names the gateway", scalar.path.join(".")),
            ),
        };
        out.push(reference(file, scalar.offset, Area::Compose, kind, action, what));
    }
}

fn prometheus_references(stack: &Stack, gateway: &Gateway, out: &mut Vec<Reference>) {
    let prom = &stack.prometheus;
    let file = &prom.file;
    if let Some(job) = gateway.job.as_deref().and_then(|j| prom.job(j)) {
        out.push(reference(
            file,
            job.offset,
            Area::Prometheus,
            "scrape-job",
            Action::Remove,
            format!("the scrape job `{}` that scrapes the Pushgateway", job.name),
        ));
        let route = Route::root().key("scrape_configs").item(ItemMatch::Field {
            key: "job_name".into(),
            value: job.name.clone(),
        });
        let honor = prom
            .doc
            .find(&route)
            .and_then(|node| node.get("honor_labels"))
            .map(|entry| entry.key_range.start);
        let what = if gateway.honor_labels {
            "honor_labels: true — pushed series keep the job and instance they were pushed with".to_string()
        } else {
            "honor_labels: false — pushed series carry job and instance of the gateway, their own in exported_job and exported_instance".to_string()
        };
        match honor {
            Some(offset) => out.push(reference(
                file,
                offset,
                Area::Prometheus,
                "honor-labels",
                Action::Leave,
                what,
            )),
            None => out.push(reference(
                file,
                job.offset,
                Area::Prometheus,
                "honor-labels",
                Action::Leave,
                what,
            )),
        }
    }
    for scalar in all_scalars(&prom.doc) {
        // The gateway job itself is listed above.
        let in_job = scalar.path.first().is_some_and(|p| p == "scrape_configs")
            && gateway.job.as_deref().is_some_and(|job| {
                prom.doc
                    .value()
                    .get("scrape_configs")
                    .and_then(|jobs| jobs.as_sequence())
                    .and_then(|jobs| {
                        let index: usize = scalar.path.get(1)?.trim_matches(['[', ']']).parse().ok()?;
                        jobs.get(index)
                    })
                    .and_then(|j| j.get("job_name"))
                    .and_then(|n| n.as_str())
                    == Some(job)
            });
        if in_job || !mentions_gateway(&scalar.text, gateway) {
            continue;
        }
        out.push(reference(
            file,
            scalar.offset,
            Area::Prometheus,
            "mention",
            Action::Review,
            format!("`{}` names the gateway", scalar.path.join(".")),
        ));
    }
}

fn query_references(survey: &Survey, out: &mut Vec<Reference>, findings: &mut Vec<Finding>) {
    for query in survey.queries.iter().filter(|q| q.action != QueryAction::Leave) {
        let location = &query.location;
        let area = match query.place {
            dashboards::QueryPlace::AlertRule | dashboards::QueryPlace::RecordingRule => Area::Rules,
            _ => Area::Dashboards,
        };
        out.push(Reference {
            path: location.path.clone(),
            line: location.line,
            column: location.column,
            area,
            kind: "query",
            action: match query.action {
                QueryAction::Rewrite => Action::Rewrite,
                _ => Action::Report,
            },
            what: if query.repeats {
                let other = match query.place {
                    dashboards::QueryPlace::VariableDefinition => "query",
                    _ => "definition",
                };
                format!("{} (same as its {other}, reported there)", query.place.label())
            } else {
                query.place.label().to_string()
            },
            context: location.context.clone(),
            text: mask_text(&query.query),
            rewritten: query.rewritten.as_deref().map(mask_text),
            findings: if query.repeats {
                Vec::new()
            } else {
                query.findings.clone()
            },
        });
    }
    let query_findings: Vec<&Finding> = survey.queries.iter().flat_map(|q| &q.findings).collect();
    for finding in survey.findings.iter().filter(|f| !query_findings.contains(f)) {
        match (finding.id, &finding.location) {
            ("library-panel" | "query-skipped" | "file-not-rewritten", Some(location)) => out.push(Reference {
                path: location.path.clone(),
                line: location.line,
                column: location.column,
                area: Area::Dashboards,
                kind: finding.id,
                action: Action::Review,
                what: match finding.id {
                    "library-panel" => "library panel".to_string(),
                    "query-skipped" => "query not read as PromQL".to_string(),
                    _ => "file left unchanged".to_string(),
                },
                context: location.context.clone(),
                text: finding.message.clone(),
                rewritten: None,
                findings: vec![finding.clone()],
            }),
            _ => findings.push(finding.clone()),
        }
    }
}

/// Docs, app code and other files: lines that mention the gateway or push to it.
fn grep_references(
    root: &Path,
    stack: &Stack,
    gateway: &Gateway,
    covered: &BTreeSet<&RelPath>,
    dashboard_dirs: &[String],
    out: &mut Vec<Reference>,
) {
    let docs: BTreeSet<&RelPath> = stack.docs.iter().map(|f| &f.path).collect();
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    for path in files {
        let Ok(rel) = RelPath::new(path.clone()) else { continue };
        if covered.contains(&rel) || rel.as_str() == crate::stack::settings::SETTINGS_FILE {
            continue;
        }
        let Ok(text) = fs::read_to_string(root.join(&path)) else {
            continue;
        };
        let file = SourceFile::from_text(rel.clone(), text, 0o644);
        let name = rel.file_name().to_ascii_lowercase();
        let in_dashboards = dashboard_dirs
            .iter()
            .any(|dir| rel.as_str().starts_with(&format!("{dir}/")));
        if in_dashboards && (name.ends_with(".yaml") || name.ends_with(".yml")) && looks_like_dashboard(file.text()) {
            out.push(reference(
                &file,
                0,
                Area::Dashboards,
                "yaml-dashboard",
                Action::Review,
                "a dashboard in YAML: pullover rewrites JSON dashboards only; check its queries by hand".to_string(),
            ));
            continue;
        }
        let is_doc = docs.contains(&rel) || [".md", ".rst", ".txt", ".adoc"].iter().any(|ext| name.ends_with(ext));
        let mut offset = 0;
        for line in file.text().split_inclusive('\n') {
            if let Some(at) = push_mention(line, gateway) {
                let (kind, action, what) = if is_doc {
                    (
                        "doc-mention",
                        Action::Checklist,
                        "the docs mention the Pushgateway".to_string(),
                    )
                } else {
                    (
                        "code-mention",
                        Action::Review,
                        "pushes to or configures the Pushgateway".to_string(),
                    )
                };
                out.push(reference(
                    &file,
                    offset + at,
                    if is_doc { Area::Docs } else { Area::Code },
                    kind,
                    action,
                    what,
                ));
            }
            offset += line.len();
        }
    }
}

fn looks_like_dashboard(text: &str) -> bool {
    text.contains("kind: Dashboard") || text.lines().any(|l| l.trim_start().starts_with("panels:"))
}

/// The byte offset in `line` of its first mention of the gateway or of pushing to one.
fn push_mention(line: &str, gateway: &Gateway) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    let mut hits: Vec<usize> = ["pushgateway", "pushadd", "push_to_gateway", "delete_from_gateway"]
        .iter()
        .filter_map(|needle| lower.find(needle))
        .collect();
    hits.extend(line.find(&gateway.address()));
    hits.into_iter().min()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        let path = entry.path();
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, out);
            }
        } else if kind.is_file()
            && entry.metadata().is_ok_and(|m| m.len() <= MAX_GREP_BYTES)
            && let Ok(rel) = path.strip_prefix(root)
            && let Some(rel) = rel.to_str()
        {
            out.push(rel.to_string());
        }
    }
}

fn render(ctx: &Context, report: &Report) -> String {
    let mut out = String::new();
    let Some(gateway) = &report.gateway else {
        out.push_str("No Pushgateway found in this stack: nothing to migrate.\n");
        return out;
    };
    out.push_str(&ctx.bold(&format!(
        "Pushgateway {}{}, scraped by job `{}` with honor_labels: {}\n",
        gateway
            .service
            .as_deref()
            .map(|s| format!("service `{s}` at "))
            .unwrap_or_default(),
        gateway.address,
        gateway.job.as_deref().unwrap_or("(none)"),
        gateway.honor_labels
    )));
    for app in &report.apps {
        let instances = if app.pushed_instances.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = app
                .pushed_instances
                .iter()
                .map(|i| {
                    if i.is_empty() {
                        "(none)".to_string()
                    } else {
                        format!("\"{i}\"")
                    }
                })
                .collect();
            format!(", instance {}", names.join(", "))
        };
        out.push_str(&format!(
            "  {} pushes as job \"{}\"{instances}; scraped directly: job \"{}\" at {}\n",
            app.service, app.pushed_job, app.scrape_job, app.scrape_target
        ));
    }
    let prometheus = &report.prometheus;
    let features = if prometheus.features.is_empty() {
        String::new()
    } else {
        format!(", with --enable-feature={}", prometheus.features.join(","))
    };
    out.push_str(&format!(
        "  queries read as Prometheus {} ({}){features}\n",
        prometheus.version, prometheus.source
    ));
    let mut current: Option<&RelPath> = None;
    for reference in &report.references {
        if current != Some(&reference.path) {
            out.push('\n');
            out.push_str(&ctx.bold(&format!("{}\n", reference.path)));
            current = Some(&reference.path);
        }
        let place = format!("{}:{}", reference.line, reference.column);
        let what = match &reference.context {
            Some(context) => format!("{} · {context}", reference.what),
            None => reference.what.clone(),
        };
        out.push_str(&format!(
            "  {place:<8} {:<16} {:<9} {}\n",
            reference.kind,
            reference.action.label(),
            mask_text(&what)
        ));
        let pad = " ".repeat(38);
        if reference.kind == "query" {
            out.push_str(&indented(&pad, "", &mask_text(&reference.text)));
            if let Some(rewritten) = &reference.rewritten {
                out.push_str(&indented(&pad, "→ ", &mask_text(rewritten)));
            }
        } else if !reference.text.is_empty() && reference.findings.is_empty() {
            out.push_str(&indented(&pad, "", &mask_text(&reference.text)));
        }
        for finding in &reference.findings {
            out.push_str(&format!(
                "{pad}{} [{}] {}\n",
                finding.severity.label(),
                finding.id,
                mask_text(&finding.message)
            ));
            if let Some(tip) = &finding.tip {
                out.push_str(&format!("{pad}  = tip: {}\n", mask_text(tip)));
            }
        }
    }
    if !report.findings.is_empty() {
        out.push('\n');
        out.push_str(&ctx.bold("About the stack:\n"));
        out.push_str(&crate::changeset::render::render_findings(
            &report.findings,
            ctx.display(),
        ));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} reference{} in {} file{}: {} quer{} to rewrite, {} to report; {} hazard{}, {} to-do{}. Nothing was written.\n",
        s.references,
        plural(s.references),
        s.files,
        plural(s.files),
        s.rewrite,
        if s.rewrite == 1 { "y" } else { "ies" },
        s.report,
        s.hazards,
        plural(s.hazards),
        s.todos,
        plural(s.todos),
    ));
    out
}

/// `text` under `pad`, its first line after `marker` and the others lined up with it (a query
/// in a literal block keeps its shape).
fn indented(pad: &str, marker: &str, text: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = text.trim_end().lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let lead = if index == 0 {
            marker.to_string()
        } else {
            " ".repeat(marker.chars().count())
        };
        out.push_str(&format!("{pad}{lead}{line}\n"));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
