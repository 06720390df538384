//! `scrape` on Kubernetes: each long-running pusher gets a ServiceMonitor, in a new file next to
//! its manifest, that the cluster's Prometheus picks up the way it picks up the gateway's.
//!
//! - The Service: the one selecting the pusher's pods, with the port serving /metrics named
//!   (a ServiceMonitor names ports; an unnamed one scrapes nothing); the port is added to it
//!   when the Service lacks it; a Service named after the workload is created when there is none.
//! - The ServiceMonitor carries the labels of the gateway's ServiceMonitor, the one that already
//!   works (`release: …`, `team: …`), without the labels naming the gateway itself.
//! - `job` stays the Service's name: the new target's job is the app's own.
//! - A new file is added to the `resources` of the kustomization in its folder.

use yaml_serde::Value;

use super::config_jobs::{JobList, app_job, append_job};
use super::in_place::Edits;
use super::{AppWorkload, app_workloads, pod_selector};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, ChangeSetBuilder, Finding, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlEdit, render_plain_or_quoted};
use crate::phase::PhaseId;
use crate::stack::kube::objects::Object;
use crate::stack::kube::releases::chart_service_monitor;
use crate::stack::kube::{KubeGateway, KubeStack, ScrapePath, service_of};
use crate::stack::source::RelPath;
use crate::stack::{App, Stack};

/// Labels that name an object rather than select it for a Prometheus: never copied.
fn names_the_object(key: &str) -> bool {
    key == "app" || key == "k8s-app" || key == "name" || key.starts_with("app.kubernetes.io/")
}

pub fn plan(stack: &Stack, kube: &KubeStack, gateway: &KubeGateway) -> Result<ChangeSet, Diagnostic> {
    match &gateway.scrape {
        ScrapePath::ServiceMonitor(index) => {
            let monitor = &kube.objects[*index];
            plan_service_monitors(stack, kube, gateway, &monitor.name, monitor.labels())
        }
        // The chart's ServiceMonitor: named after the gateway's Service, labelled with the
        // chart's `additionalLabels`.
        ScrapePath::ChartServiceMonitor { values } => {
            let labels = chart_service_monitor(&kube.values[*values])
                .map(|m| m.labels)
                .unwrap_or_default();
            plan_service_monitors(stack, kube, gateway, &gateway.service_name, labels)
        }
        ScrapePath::PodMonitor(index) => plan_pod_monitors(stack, kube, gateway, &kube.objects[*index]),
        ScrapePath::ValuesJob { .. } | ScrapePath::ConfigMapJob { .. } => plan_jobs(stack, kube, gateway),
        ScrapePath::Unknown => Err(super::not_yet(
            PhaseId::Scrape,
            "nothing in the stack is seen scraping the gateway, so pullover does not know how this Prometheus finds its targets",
        )),
    }
}

/// The labels of the gateway's monitor a new monitor carries: those the Prometheus selects
/// monitors by, not those naming the gateway.
fn selecting_labels(labels: Vec<(String, String)>) -> Vec<(String, String)> {
    labels.into_iter().filter(|(k, _)| !names_the_object(k)).collect()
}

/// `file_name` next to the manifest of `beside`, or `None` when the stack has a file there
/// already: it is left as it is, and a finding (`taken`, its id) says so.
fn new_file_beside(
    kube: &KubeStack,
    beside: &Object,
    file_name: &str,
    taken: FindingId,
    builder: &mut ChangeSetBuilder,
) -> Result<Option<RelPath>, Diagnostic> {
    let folder = kube.manifests[beside.manifest].file.path.parent();
    let path = RelPath::join_relative(folder, file_name).map_err(Diagnostic::error)?;
    if kube.manifests.iter().any(|m| m.file.path == path) {
        *builder = std::mem::take(builder).finding(Finding::new(
            taken,
            Severity::Info,
            format!("{path} exists already: left as it is"),
        ));
        return Ok(None);
    }
    Ok(Some(path))
}

/// The pods' selector, which a new Service or PodMonitor selects them by: an error without one.
fn required_pod_selector(workload: &Object) -> Result<Vec<(String, String)>, Diagnostic> {
    let selector = pod_selector(workload);
    if selector.is_empty() {
        return Err(Diagnostic::error(format!(
            "{} has no `spec.selector.matchLabels` to select its pods by; nothing was written",
            workload.display()
        )));
    }
    Ok(selector)
}

/// The Service a new ServiceMonitor selects, and the name of its port serving /metrics.
enum MonitoredService<'k> {
    /// A Service of the stack selects the pods, and a port of it named so reaches /metrics.
    Named { service: &'k Object, port_name: String },
    /// A Service of the stack selects the pods but no port of it reaches /metrics: `edit` adds one.
    PortAdded {
        service: &'k Object,
        port_name: String,
        edit: YamlEdit,
    },
    /// No Service selects the pods: one named after the workload is written beside the monitor.
    Created {
        selector: Vec<(String, String)>,
        port_name: String,
    },
}

fn monitored_service<'k>(
    kube: &'k KubeStack,
    workload: &Object,
    port: &(u16, Option<String>),
) -> Result<MonitoredService<'k>, Diagnostic> {
    let Some(index) = service_of(kube, workload) else {
        let selector = required_pod_selector(workload)?;
        let port_name = port.1.clone().unwrap_or_else(|| "metrics".to_string());
        return Ok(MonitoredService::Created { selector, port_name });
    };
    let service = &kube.objects[index];
    if service.labels().is_empty() {
        return Err(Diagnostic::error(format!(
            "Service {} has no labels, so no ServiceMonitor can select it; nothing was written",
            service.name
        ))
        .help(format!("label it (e.g. `app: {}`), then plan again", service.name)));
    }
    match existing_port(service, port) {
        Some(Some(port_name)) => Ok(MonitoredService::Named { service, port_name }),
        Some(None) => Err(Diagnostic::error(format!(
            "Service {}: the port to port {} has no name, and a ServiceMonitor names the port it scrapes; nothing was written",
            service.name, port.0
        ))
        .help("name the port (`name: metrics`), then plan again")),
        None => {
            let port_name = port.1.clone().unwrap_or_else(|| "metrics".to_string());
            let edit = YamlEdit::Append {
                route: Route::root().key("spec").key("ports"),
                value: service_port(&port_name, port),
                comment: Some("scraped by Prometheus (pullover scrape)".into()),
            };
            Ok(MonitoredService::PortAdded {
                service,
                port_name,
                edit,
            })
        }
    }
}

/// A Service port named `name` reaching the container's `port`.
fn service_port(name: &str, port: &(u16, Option<String>)) -> Value {
    let mut mapping = yaml_serde::Mapping::new();
    mapping.insert("name".into(), Value::String(name.to_string()));
    mapping.insert("port".into(), Value::Number(port.0.into()));
    mapping.insert(
        "targetPort".into(),
        match &port.1 {
            Some(named) => Value::String(named.clone()),
            None => Value::Number(port.0.into()),
        },
    );
    Value::Mapping(mapping)
}

/// Where the cluster scrapes by ServiceMonitor: each long-running pusher gets one, next to its
/// manifest, selecting the Service of its pods (the port named or added, or the Service written
/// beside it).
fn plan_service_monitors(
    stack: &Stack,
    kube: &KubeStack,
    gateway: &KubeGateway,
    monitor_name: &str,
    monitor_labels: Vec<(String, String)>,
) -> Result<ChangeSet, Diagnostic> {
    let copied = selecting_labels(monitor_labels);
    let mut builder = ChangeSet::builder();
    if copied.is_empty() {
        builder = builder.finding(Finding::new(
            FindingId::KubeNoSelectorLabels,
            Severity::Info,
            format!(
                "ServiceMonitor {monitor_name} carries no label but its own names: the new ServiceMonitors carry none either"
            ),
        ));
    }
    // Files a kustomization must list, by kustomization.
    let mut listed: Vec<(usize, Vec<String>)> = Vec::new();
    let mut service_edits: Vec<(usize, Vec<(usize, YamlEdit)>)> = Vec::new();
    for AppWorkload {
        app, workload, port, ..
    } in app_workloads(stack, kube)
    {
        let file_name = format!("{}-servicemonitor.yaml", app.service);
        let Some(path) = new_file_beside(
            kube,
            workload,
            &file_name,
            FindingId::KubeServicemonitorExists,
            &mut builder,
        )?
        else {
            continue;
        };
        let mut text = String::new();
        let (service_name, service_labels, port_name) = match monitored_service(kube, workload, &port)? {
            MonitoredService::Named { service, port_name } => (service.name.clone(), service.labels(), port_name),
            MonitoredService::PortAdded {
                service,
                port_name,
                edit,
            } => {
                match service_edits.iter_mut().find(|(m, _)| *m == service.manifest) {
                    Some((_, edits)) => edits.push((service.doc, edit)),
                    None => service_edits.push((service.manifest, vec![(service.doc, edit)])),
                }
                (service.name.clone(), service.labels(), port_name)
            }
            MonitoredService::Created { selector, port_name } => {
                text.push_str(&render_service(workload, &workload.name, &selector, &port_name, &port));
                text.push_str("---\n");
                (workload.name.clone(), selector, port_name)
            }
        };
        text.push_str(&render_monitor(
            workload,
            app,
            &service_labels,
            &copied,
            &port_name,
            stack,
            gateway,
        ));
        let because = format!(
            "scrape {} directly: job `{}`, Service {service_name} port `{port_name}`",
            workload.display(),
            app.job
        );
        let mode = kube.manifests[workload.manifest].file.mode;
        builder = builder.create(path, text, mode, because);
        list_beside(kube, workload, file_name, &mut listed);
    }
    builder = name_service_ports(kube, service_edits, builder)?;
    builder = add_to_kustomizations(kube, listed, builder)?;
    Ok(builder.build()?)
}

/// The Services that get a port serving /metrics, each manifest written once.
fn name_service_ports(
    kube: &KubeStack,
    service_edits: Vec<(usize, Vec<(usize, YamlEdit)>)>,
    mut builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
    for (manifest_index, edits) in service_edits {
        let manifest = &kube.manifests[manifest_index];
        let mut replaced = Vec::new();
        for (doc, edit) in edits {
            let part = &manifest.stream.docs()[doc];
            let text = part.doc.edit(&[edit]).map_err(|e| e.to_diagnostic(&manifest.file))?;
            replaced.push((doc, text));
        }
        let after = manifest
            .stream
            .replace_docs(&replaced)
            .map_err(|e| e.to_diagnostic(&manifest.file))?;
        builder = builder.modify(&manifest.file, after, "name the port serving /metrics");
    }
    Ok(builder)
}

/// Notes that `file_name`, next to the workload's manifest, goes into the `resources` of the
/// kustomization in that folder that lists the manifest.
fn list_beside(kube: &KubeStack, workload: &Object, file_name: String, listed: &mut Vec<(usize, Vec<String>)>) {
    let manifest = &kube.manifests[workload.manifest];
    let folder = manifest.file.path.parent();
    if let Some(k) = kube.kustomizations.iter().position(|k| {
        k.folder() == folder
            && k.resources()
                .iter()
                .any(|r| RelPath::join_relative(folder, r).is_ok_and(|p| p == manifest.file.path))
    }) {
        match listed.iter_mut().find(|(i, _)| *i == k) {
            Some((_, files)) => files.push(file_name),
            None => listed.push((k, vec![file_name])),
        }
    }
}

fn add_to_kustomizations(
    kube: &KubeStack,
    listed: Vec<(usize, Vec<String>)>,
    mut builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
    for (k, files) in listed {
        let kustomization = &kube.kustomizations[k];
        let edits: Vec<YamlEdit> = files
            .into_iter()
            .map(|name| YamlEdit::Append {
                route: Route::root().key("resources"),
                value: Value::String(name),
                comment: None,
            })
            .collect();
        let after = kustomization
            .doc
            .edit(&edits)
            .map_err(|e| e.to_diagnostic(&kustomization.file))?;
        builder = builder.modify(&kustomization.file, after, "deploy the new monitor with the rest");
    }
    Ok(builder)
}

/// Where the cluster scrapes by PodMonitor: each long-running pusher gets a PodMonitor named
/// after it, next to its manifest, selecting its pods by the workload's own selector and
/// scraping the container port serving /metrics by name; labels (and `jobLabel`) as on the
/// gateway's PodMonitor. Its targets' `job` is `<namespace>/<name>`, or the pod label
/// `jobLabel` names.
fn plan_pod_monitors(
    stack: &Stack,
    kube: &KubeStack,
    gateway: &KubeGateway,
    monitor: &Object,
) -> Result<ChangeSet, Diagnostic> {
    let copied = selecting_labels(monitor.labels());
    let mut builder = ChangeSet::builder();
    let mut listed: Vec<(usize, Vec<String>)> = Vec::new();
    for AppWorkload {
        app, workload, port, ..
    } in app_workloads(stack, kube)
    {
        // Where the cluster keeps the gateway's PodMonitor apart from the gateway's pods (a
        // namespace the Prometheus watches for monitors), the app's goes there too, selecting
        // the app's namespace; else next to the app.
        let elsewhere = monitor.namespace_or_default() != gateway.namespace;
        let beside = if elsewhere { monitor } else { workload };
        let file_name = format!("{}-podmonitor.yaml", app.service);
        let Some(path) = new_file_beside(kube, beside, &file_name, FindingId::KubePodmonitorExists, &mut builder)?
        else {
            continue;
        };
        let (number, port_name) = port.clone();
        if port_name.is_none() {
            builder = builder.finding(unnamed_port(workload, number));
        }
        let selector = required_pod_selector(workload)?;
        let mut text = format!(
            "# Prometheus scrapes {} directly (pullover scrape), pod by pod; its targets get job=\"{}\".\n# Labels as on the gateway's PodMonitor, which the Prometheus already selects.\napiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\n",
            workload.display(),
            app.job
        );
        metadata(&mut text, beside, &app.service, &copied);
        text.push_str(&pod_monitor_spec(stack, gateway, workload, elsewhere, &selector, &port));
        let port_name = port_name.unwrap_or_else(|| number.to_string());
        builder = builder.create(
            path,
            text,
            kube.manifests[beside.manifest].file.mode,
            format!(
                "scrape {} directly: job `{}`, container port `{port_name}` ({number})",
                workload.display(),
                app.job
            ),
        );
        list_beside(kube, beside, file_name, &mut listed);
    }
    builder = add_to_kustomizations(kube, listed, builder)?;
    Ok(builder.build()?)
}

/// The `spec` of an app's PodMonitor: `jobLabel` as on the gateway's, the app's namespace when
/// the monitor is kept `elsewhere`, its pods by `selector`, the port serving /metrics.
fn pod_monitor_spec(
    stack: &Stack,
    gateway: &KubeGateway,
    workload: &Object,
    elsewhere: bool,
    selector: &[(String, String)],
    port: &(u16, Option<String>),
) -> String {
    let mut text = String::from("spec:\n");
    if let Some(label) = &gateway.job_label {
        text.push_str(&format!("  jobLabel: {}\n", yaml_string(label)));
    }
    if elsewhere {
        text.push_str(&format!(
            "  namespaceSelector:\n    matchNames:\n      - {}\n",
            yaml_string(workload.namespace_or_default())
        ));
    }
    text.push_str("  selector:\n    matchLabels:\n");
    for (k, v) in selector {
        text.push_str(&format!("      {}: {}\n", yaml_string(k), yaml_string(v)));
    }
    let endpoint = match &port.1 {
        Some(name) => format!("port: {}", yaml_string(name)),
        None => format!("portNumber: {}", port.0),
    };
    text.push_str(&format!(
        "  podMetricsEndpoints:\n    - {endpoint}\n      path: {}\n",
        yaml_string(&stack.settings.scrape.metrics_path)
    ));
    if let Some(interval) = gateway.interval.as_deref() {
        text.push_str(&format!("      interval: {}\n", yaml_string(interval)));
    }
    text
}

/// A PodMonitor selects a container port by name (`port`); an unnamed one only by `portNumber`,
/// which the Prometheus Operator knows since v0.79. An older one prunes the unknown field (its
/// CRD schema is structural) and the PodMonitor then scrapes every port the pods declare.
fn unnamed_port(workload: &Object, number: u16) -> Finding {
    Finding::new(
        FindingId::KubePodmonitorPortNumber,
        Severity::Hazard,
        format!(
            "{}: the container port {number} serving /metrics has no name, so its PodMonitor selects it by `portNumber`, which Prometheus Operator v0.79 and later know; an older operator drops the field and scrapes every port the pods declare",
            workload.display()
        ),
    )
    .tip(format!(
        "name the port in the pod template (`- {{name: metrics, containerPort: {number}}}`; the pods restart) and plan again, or check the operator's version"
    ))
}

/// Where Prometheus is configured by its own config (`additionalScrapeConfigs`, a ConfigMap's
/// `prometheus.yml`): each long-running pusher gets a scrape job of its own next to the
/// gateway's ([`app_job`]), named as its new `job` will be.
fn plan_jobs(stack: &Stack, kube: &KubeStack, gateway: &KubeGateway) -> Result<ChangeSet, Diagnostic> {
    let Some(list) = JobList::of(kube, &gateway.scrape) else {
        return Err(super::not_yet(PhaseId::Scrape, &gateway.scrape.describe(kube)));
    };
    let existing: Vec<String> = list
        .jobs(kube)
        .iter()
        .filter_map(|j| j.get("job_name").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut edits = Edits::default();
    let mut builder = ChangeSet::builder();
    for AppWorkload {
        app, workload, port, ..
    } in app_workloads(stack, kube)
    {
        if existing.contains(&app.job) {
            builder = builder.finding(Finding::new(
                FindingId::KubeScrapeJobExists,
                Severity::Info,
                format!(
                    "{} has a job `{}` already: left as it is",
                    gateway.scrape.describe(kube),
                    app.job
                ),
            ));
            continue;
        }
        if let Some(finding) = scraped_by_annotation(workload) {
            builder = builder.finding(finding);
        }
        let job = app_job(
            &app.job,
            workload,
            &port,
            &stack.settings.scrape.metrics_path,
            gateway.interval.as_deref(),
        )?;
        let comment = format!(
            "{} scraped directly (pullover scrape): its series get job=\"{}\"",
            workload.display(),
            app.job
        );
        list.edit(
            kube,
            &mut edits,
            |route| append_job(route, job.clone(), &comment),
            &format!("scrape {} directly: job `{}`", workload.display(), app.job),
        )?;
    }
    builder = edits.values_into(kube, builder);
    builder = edits.manifests_into(kube, builder)?;
    Ok(builder.build()?)
}

/// Pods annotated `prometheus.io/scrape: "true"`: a job scraping by annotation would read the
/// app a second time under its own job name.
fn scraped_by_annotation(workload: &Object) -> Option<Finding> {
    let annotated = workload
        .pod_template()
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("prometheus.io/scrape"))
        .and_then(crate::edit::yaml::scalar_string)
        .is_some_and(|v| v == "true");
    annotated.then(|| Finding::new(
        FindingId::KubePodsScrapedByAnnotation,
        Severity::Hazard,
        format!(
            "{}'s pods are annotated `prometheus.io/scrape: \"true\"`: a job scraping by annotation reads them too, under its own job name, so its series would be there twice",
            workload.display()
        ),
    ).tip("drop the annotation, or drop the new job and select the app's series under the annotation job by hand"))
}

/// The name of the Service port that reaches `port`: `Some(None)` when it has none, `None`
/// when no port of the Service reaches it.
fn existing_port(service: &Object, port: &(u16, Option<String>)) -> Option<Option<String>> {
    let ports = service.value.get("spec")?.get("ports")?.as_sequence()?;
    ports.iter().find_map(|p| {
        let number = p.get("port").and_then(Value::as_u64);
        let reaches = match p.get("targetPort") {
            Some(Value::String(name)) => port.1.as_deref() == Some(name.as_str()),
            Some(target) => target.as_u64() == Some(u64::from(port.0)),
            None => number == Some(u64::from(port.0)),
        };
        reaches.then(|| p.get("name").and_then(Value::as_str).map(str::to_string))
    })
}

fn yaml_string(s: &str) -> String {
    render_plain_or_quoted(s, None)
}

fn metadata(out: &mut String, workload: &Object, name: &str, labels: &[(String, String)]) {
    out.push_str(&format!("metadata:\n  name: {}\n", yaml_string(name)));
    if workload.namespace_written
        && let Some(namespace) = &workload.namespace
    {
        out.push_str(&format!("  namespace: {}\n", yaml_string(namespace)));
    }
    if !labels.is_empty() {
        out.push_str("  labels:\n");
        for (k, v) in labels {
            out.push_str(&format!("    {}: {}\n", yaml_string(k), yaml_string(v)));
        }
    }
}

fn render_service(
    workload: &Object,
    name: &str,
    selector: &[(String, String)],
    port_name: &str,
    port: &(u16, Option<String>),
) -> String {
    let mut out = format!(
        "# The Service the ServiceMonitor below selects: {} serves /metrics on port {}.\napiVersion: v1\nkind: Service\n",
        workload.display(),
        port.0
    );
    metadata(&mut out, workload, name, selector);
    out.push_str("spec:\n  selector:\n");
    for (k, v) in selector {
        out.push_str(&format!("    {}: {}\n", yaml_string(k), yaml_string(v)));
    }
    let target = match &port.1 {
        Some(named) => yaml_string(named),
        None => port.0.to_string(),
    };
    out.push_str(&format!(
        "  ports:\n    - name: {}\n      port: {}\n      targetPort: {target}\n",
        yaml_string(port_name),
        port.0
    ));
    out
}

#[allow(clippy::too_many_arguments)]
fn render_monitor(
    workload: &Object,
    app: &App,
    service_labels: &[(String, String)],
    copied: &[(String, String)],
    port_name: &str,
    stack: &Stack,
    gateway: &KubeGateway,
) -> String {
    let mut out = format!(
        "# Prometheus scrapes {} directly (pullover scrape); its targets get job=\"{}\".\n# Labels as on the gateway's ServiceMonitor, which the Prometheus already selects.\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n",
        workload.display(),
        app.job
    );
    metadata(&mut out, workload, &app.service, copied);
    out.push_str("spec:\n");
    // As on the gateway's: `job` is the value of this label of the Service.
    if let Some(label) = &gateway.job_label {
        out.push_str(&format!("  jobLabel: {}\n", yaml_string(label)));
    }
    out.push_str("  selector:\n    matchLabels:\n");
    for (k, v) in service_labels {
        out.push_str(&format!("      {}: {}\n", yaml_string(k), yaml_string(v)));
    }
    out.push_str(&format!(
        "  endpoints:\n    - port: {}\n      path: {}\n",
        yaml_string(port_name),
        yaml_string(&stack.settings.scrape.metrics_path)
    ));
    if let Some(interval) = gateway.interval.as_deref() {
        out.push_str(&format!("      interval: {}\n", yaml_string(interval)));
    }
    out
}
