//! What the Prometheus Operator puts on a scrape target (docs/kubernetes.md, "The label model"
//! and "Live checks").
//!
//! It turns each endpoint of a ServiceMonitor into a job named
//! `serviceMonitor/<namespace>/<name>/<index>` (a PodMonitor's: `podMonitor/…`) and sets the
//! targets' `job` label by relabelling (the Service's name, or a label `jobLabel` names), so
//! the live job name is never the `job` queries select; and it adds [`TARGET_LABELS`], which
//! differ between the gateway's target and the app's. The live checks read both.

use yaml_serde::Value;

use super::model::{KubeStack, ScrapePath, pod_monitor_job, selects};
use super::objects::{Object, strings};
use super::releases::chart_service_monitor;

/// The labels the operator adds to every target besides `job` and `instance`. Under
/// `honorLabels: true` pushed series carry the gateway's values of them, scraped ones the app's:
/// comparing the two sources leaves them out.
pub const TARGET_LABELS: [&str; 5] = ["namespace", "service", "pod", "endpoint", "container"];

/// The live name of each job the stack's ServiceMonitors and PodMonitors give targets
/// `job="<job>"`, with the monitor defining it (`Kind/name (file)`). Empty when no monitor
/// gives that job.
pub fn monitor_jobs(kube: &KubeStack, job: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for monitor in &kube.objects {
        let (prefix, endpoints_key, scraped) = match monitor.kind.as_str() {
            "ServiceMonitor" => ("serviceMonitor", "endpoints", service_jobs(kube, monitor)),
            "PodMonitor" => ("podMonitor", "podMetricsEndpoints", pod_jobs(kube, monitor)),
            _ => continue,
        };
        if !scraped.iter().any(|j| j == job) {
            continue;
        }
        let endpoints = monitor
            .value
            .get("spec")
            .and_then(|s| s.get(endpoints_key))
            .and_then(Value::as_sequence)
            .map_or(0, Vec::len);
        let defined_in = format!("{} ({})", monitor.display(), kube.manifests[monitor.manifest].file.path);
        for index in 0..endpoints {
            found.push((
                format!("{prefix}/{}/{}/{index}", monitor.namespace_or_default(), monitor.name),
                defined_in.clone(),
            ));
        }
    }
    // The prometheus-pushgateway chart's own ServiceMonitor is named after the gateway's Service
    // and gives it `job` = that name.
    if let Some(gateway) = &kube.gateway
        && let ScrapePath::ChartServiceMonitor { values } = gateway.scrape
        && gateway.job == job
    {
        let namespace = chart_service_monitor(&kube.values[values])
            .and_then(|m| m.namespace)
            .unwrap_or_else(|| gateway.namespace.clone());
        found.push((
            format!("serviceMonitor/{namespace}/{}/0", gateway.service_name),
            gateway.scrape.describe(kube),
        ));
    }
    found
}

/// Whether the monitor looks in `namespace`: its own, `namespaceSelector.matchNames`, or any.
fn watches(monitor: &Object, namespace: &str) -> bool {
    match monitor.value.get("spec").and_then(|s| s.get("namespaceSelector")) {
        Some(n) if n.get("any").and_then(Value::as_bool) == Some(true) => true,
        Some(n) if n.get("matchNames").is_some() => strings(n.get("matchNames")).iter().any(|m| m == namespace),
        _ => monitor.namespace_or_default() == namespace,
    }
}

fn job_label(monitor: &Object) -> Option<&str> {
    monitor
        .value
        .get("spec")
        .and_then(|s| s.get("jobLabel"))
        .and_then(Value::as_str)
}

/// The `job` of each Service a ServiceMonitor selects: the value of its label `jobLabel`
/// names, else its name.
fn service_jobs(kube: &KubeStack, monitor: &Object) -> Vec<String> {
    let selector = monitor.match_labels();
    kube.objects
        .iter()
        .filter(|o| o.kind == "Service" && watches(monitor, o.namespace_or_default()))
        .filter(|service| selects(&selector, &service.labels()))
        .map(|service| {
            job_label(monitor)
                .and_then(|label| service.labels().into_iter().find(|(k, v)| k == label && !v.is_empty()))
                .map_or_else(|| service.name.clone(), |(_, value)| value)
        })
        .collect()
}

/// The `job` of each workload whose pods a PodMonitor selects.
fn pod_jobs(kube: &KubeStack, monitor: &Object) -> Vec<String> {
    let selector = monitor.match_labels();
    kube.objects
        .iter()
        .filter(|o| o.is_long_running() && watches(monitor, o.namespace_or_default()))
        .filter(|workload| selects(&selector, &workload.pod_labels()))
        .map(|workload| pod_monitor_job(monitor, workload, job_label(monitor)))
        .collect()
}
