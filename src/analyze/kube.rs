//! A Kubernetes stack's references: the gateway's objects, the path Prometheus scrapes it by,
//! and each pusher's mention of it; then every reference moved from pullover's views onto the
//! manifest lines they come from.

use super::{Action, Area, Reference, reference};
use crate::changeset::redact::mask_text;
use crate::changeset::{Finding, Location};
use crate::stack::Stack;
use crate::stack::kube::{KubeStack, ScrapePath};
use crate::stack::source::SourceFile;

/// The gateway's objects, how Prometheus scrapes it, and each pusher's mention of it.
pub(super) fn references(kube: &KubeStack, references: &mut Vec<Reference>, findings: &mut Vec<Finding>) {
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

/// References found in a dashboard or rule group kept inside a manifest point at the manifest's
/// own lines, and findings speak of Kubernetes objects rather than Compose services.
pub(super) fn in_manifests(stack: &Stack, kube: &KubeStack, references: &mut [Reference], findings: &mut [Finding]) {
    for reference in references.iter_mut() {
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
    for finding in findings.iter_mut() {
        *finding = crate::phase::kube::in_kubernetes(finding, stack, kube);
    }
}
