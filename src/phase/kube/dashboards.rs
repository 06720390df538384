//! `dashboards` on Kubernetes: the Compose survey rewrites the queries of every dashboard and
//! rule group, read through their views ([`crate::stack::kube::embedded`]); the new text of
//! each view goes back into its manifest, in place. Bare JSON dashboards (the files a
//! `configMapGenerator` reads) are files already and change as on Compose.
//!
//! What differs on Kubernetes (`docs/kubernetes.md`, "The label model"):
//! - a scraped target's `instance` is its pod's IP and port, which no query can name: a rewrite
//!   that would pin the new target's `instance` is not made, and a suggestion to tell the two
//!   sources apart by `instance` names the app's `service` instead;
//! - under `honorLabels: true` pushed series carry the *gateway's* `namespace`, `service`,
//!   `pod`, `endpoint` and `container`; a query filtering on those values selects the app's
//!   series only while they go through the gateway: reported, for a person to decide.

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, Finding, Severity};
use crate::diagnostic::Diagnostic;
use crate::phase::dashboards::{PlannedQuery, QueryAction, survey};
use crate::stack::kube::{KubeGateway, KubeStack, ScrapePath, embedded};
use crate::stack::source::RelPath;
use crate::stack::{App, Stack};

pub fn plan(stack: &Stack, kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    let survey = survey(stack)?;
    let gateway = kube.gateway.as_ref();
    let mut findings: Vec<Finding> = survey.findings.iter().map(|f| in_kubernetes(f, stack, kube)).collect();
    if let Some(gateway) = gateway {
        for query in &survey.queries {
            findings.extend(gateway_target_labels(query, gateway, kube));
        }
    }
    let mut views: Vec<(RelPath, String)> = Vec::new();
    let mut builder = ChangeSet::builder();
    for file in survey.files {
        let Some(source) = stack.file(&file.path) else {
            return Err(Diagnostic::error(format!(
                "{} was planned but is not part of the stack",
                file.path
            )));
        };
        let (text, moved) = instance_as_service(kube, &stack.settings.apps, &file.text);
        if moved > 0 {
            findings.push(
                Finding::new(
                    FindingId::KubeInstanceAsService,
                    Severity::Todo,
                    format!(
                        "{}: {moved} quer{} pinned to a pushed instance now select the app's Service (every pod of it): on Kubernetes the new target's instance is a pod's IP",
                        file.path,
                        if moved == 1 { "y" } else { "ies" }
                    ),
                )
                .tip("check each: a sum over the pods is what the single pusher pushed only when it pushed the whole app's numbers"),
            );
        }
        let file = crate::phase::dashboards::RewrittenFile { text, ..file };
        if let Some(app) = pins_new_instance(&stack.settings.apps, source.text(), &file.text) {
            findings.push(
                Finding::new(
                    FindingId::KubeInstancePinned,
                    Severity::Hazard,
                    format!(
                        "{}: a rewrite would select {} by `instance`, which on Kubernetes is a pod's IP and port: the file is left as it is",
                        file.path, app.service
                    ),
                )
                .waiting()
                .tip(format!(
                    "select the app's series by `{}` (or `pod=~\"{}-.*\"`) by hand",
                    super::scraped_matcher(kube, app, "\""),
                    app.service
                )),
            );
            continue;
        }
        if kube.embedded.iter().any(|e| e.view.path == file.path) {
            views.push((file.path, file.text));
        } else {
            builder = builder.modify(source, file.text, file.because);
        }
    }
    for (manifest, text) in embedded::write_back(kube, &views)? {
        let file = &kube.manifests[manifest].file;
        builder = builder.modify(file, text, "rewrite the queries to select the scraped series");
    }
    let findings = findings.iter().map(|f| in_kubernetes(f, stack, kube));
    Ok(builder.findings(findings).build()?)
}

/// `text` with every `instance="app:port"` the rewrite wrote (Compose's name of the new target)
/// naming the app's Service instead, as written in a JSON string or a YAML double-quoted
/// scalar too; and how many.
fn instance_as_service(kube: &KubeStack, apps: &[App], text: &str) -> (String, usize) {
    let mut text = text.to_string();
    let mut moved = 0;
    for app in apps {
        for quote in ["\"", "\\\""] {
            let from = format!("instance={quote}{}{quote}", app.target());
            let to = super::scraped_matcher(kube, app, quote);
            moved += text.matches(&from).count();
            text = text.replace(&from, &to);
        }
    }
    (text, moved)
}

/// The app whose new target's `instance` (its Compose-style `service:port`) the rewrite would
/// write into `after`.
fn pins_new_instance<'a>(apps: &'a [App], before: &str, after: &str) -> Option<&'a App> {
    apps.iter().find(|app| {
        let target = app.target();
        after.matches(&target).count() > before.matches(&target).count()
    })
}

/// A finding of the shared planners as it holds on a Kubernetes stack: located in its manifest,
/// the sources told apart by `service`, a batch job's queries left to it.
pub fn in_kubernetes(finding: &Finding, stack: &Stack, kube: &KubeStack) -> Finding {
    let batch_jobs: Vec<String> = kube
        .pushers
        .iter()
        .filter(|p| !kube.objects[p.object].is_long_running())
        .filter_map(|p| p.url_job.as_ref().map(|(job, _)| job.clone()))
        .collect();
    let mut finding = batch_job_stays(in_kubernetes_terms(finding, stack, kube), &batch_jobs);
    // A view's path is no file: name the manifest and the object.
    let named: Vec<_> = kube
        .embedded
        .iter()
        .filter(|v| finding.message.contains(v.view.path.as_str()))
        .collect();
    for view in named {
        let object = &kube.objects[view.object];
        let real = format!("{} ({})", kube.manifests[object.manifest].file.path, object.display());
        finding.message = finding.message.replace(view.view.path.as_str(), &real);
    }
    if let Some(location) = finding.location.as_ref().and_then(|l| embedded::locate(kube, l)) {
        finding.location = Some(location);
    }
    finding
}

/// A finding of the shared survey, in Kubernetes terms: the two sources are told apart by the
/// app's `service`, never by an `instance` like `app:port` that no Kubernetes target has.
fn in_kubernetes_terms(finding: &Finding, stack: &Stack, kube: &KubeStack) -> Finding {
    let mut finding = finding.clone();
    for app in &stack.settings.apps {
        let compose_style = format!("instance=\"{}\"", app.target());
        let kubernetes = super::scraped_matcher(kube, app, "\"");
        finding.message = finding.message.replace(&compose_style, &kubernetes);
        finding.tip = finding.tip.map(|tip| tip.replace(&compose_style, &kubernetes));
        if finding.id == FindingId::DoubleCountDuringDualRun {
            finding.message = finding.message.replace(
                "differ only by instance",
                match kube.gateway.as_ref().map(|g| &g.scrape) {
                    Some(ScrapePath::ServiceMonitor(_) | ScrapePath::ChartServiceMonitor { .. }) | None => {
                        "differ by `service` (and `namespace`, `pod`)"
                    }
                    Some(ScrapePath::PodMonitor(_)) => "differ by `pod` (and `namespace`)",
                    Some(_) => "differ by `pod`, which only the scraped series carry",
                },
            );
        }
    }
    finding
}

/// A query on what a batch job pushes (its `push_time_seconds` above all) stays as it is: the
/// job keeps pushing to the gateway, which stays for it.
fn batch_job_stays(finding: Finding, batch_jobs: &[String]) -> Finding {
    let Some(job) = batch_jobs
        .iter()
        .find(|job| finding.message.contains(&format!("job=\"{job}\"")))
    else {
        return finding;
    };
    if finding.id != "no-scraped-equivalent" {
        return finding;
    }
    let mut kept = Finding::new(
        FindingId::KubeBatchQueryStays,
        Severity::Info,
        format!(
            "a query on job \"{job}\", which a batch job pushes as, stays as it is: the job keeps pushing to the gateway"
        ),
    );
    kept.location = finding.location;
    kept
}

/// Matchers of a query that reads pushed series on the labels the operator gives a target,
/// holding the gateway's own values.
fn gateway_target_labels(query: &PlannedQuery, gateway: &KubeGateway, kube: &KubeStack) -> Vec<Finding> {
    if query.action == QueryAction::Leave || !gateway.honor_labels {
        return Vec::new();
    }
    let Ok(selectors) = crate::promql::selectors(&query.query) else {
        return Vec::new();
    };
    let port_name = gateway
        .service
        .and_then(|s| {
            kube.objects[s]
                .value
                .get("spec")?
                .get("ports")?
                .as_sequence()?
                .first()
                .cloned()
        })
        .and_then(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string));
    let workload = gateway.workload.map(|w| kube.objects[w].name.clone());
    let mut out = Vec::new();
    for selector in &selectors {
        for matcher in &selector.matchers {
            let gateways = match matcher.label.as_str() {
                "namespace" => matcher.values.contains(&gateway.namespace),
                "service" => matcher.values.contains(&gateway.service_name),
                "endpoint" => port_name.as_ref().is_some_and(|p| matcher.values.contains(p)),
                "container" => matcher.values.iter().any(|v| v.contains("pushgateway")),
                "pod" => workload
                    .as_ref()
                    .is_some_and(|w| matcher.value.as_deref().is_some_and(|v| v.starts_with(w.as_str()))),
                _ => false,
            };
            if gateways {
                out.push(
                    Finding::new(
                        FindingId::KubeGatewayTargetLabel,
                        Severity::Hazard,
                        format!(
                            "`{}` filters on the gateway's own `{}`: pushed series carry it only while they go through the gateway, scraped ones carry the app's",
                            &query.query[selector.span.clone()],
                            matcher.label
                        ),
                    )
                    .at(query.location.clone())
                    .tip("filter on the app's own value (or drop the matcher) by hand; docs/kubernetes.md explains the labels"),
                );
            }
        }
    }
    out
}
