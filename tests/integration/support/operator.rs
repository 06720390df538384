//! The Prometheus Operator's part, for a real Prometheus started by a test without a cluster:
//! the scrape jobs the operator generates from a stack's ServiceMonitors, with each target the
//! tests run on 127.0.0.1 written as a static target carrying the labels the operator's
//! relabelling would give it. What is mirrored, and why, is in docs/kubernetes.md ("Live
//! checks without a cluster").

use std::net::SocketAddr;
use std::path::Path;

use yaml_serde::Value;

use crate::support::kube::objects_of_kind;

/// A Service of the stack that runs here: one pod behind it, reached at `address` (standing for
/// the pod's IP and container port).
#[derive(Debug, Clone)]
pub struct RunningService {
    pub namespace: String,
    pub service: String,
    pub pod: String,
    pub container: String,
    pub address: SocketAddr,
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(*key))?.as_str()
}

fn namespace_of(object: &Value) -> &str {
    text(object, &["metadata", "namespace"]).unwrap_or("default")
}

/// Whether every `matchLabels` pair of `selector` is among `labels`.
fn selects(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    let Some(wanted) = selector.and_then(|s| s.get("matchLabels")).and_then(Value::as_mapping) else {
        return false;
    };
    wanted.iter().all(|(key, value)| {
        labels
            .and_then(|l| l.get(key.as_str().unwrap_or_default()))
            .is_some_and(|have| have == value)
    })
}

/// The `scrape_configs` entries (indented list items) the operator generates from every
/// ServiceMonitor under `root`, one job per endpoint, as it does:
/// - `job_name` is `serviceMonitor/<namespace>/<name>/<endpoint index>`, never the `job` label;
/// - `honor_labels` is the endpoint's `honorLabels` (false when unset); `interval` and `path`
///   become `scrape_interval` and `metrics_path`;
/// - a target is each Service of the monitor's namespace (or of `namespaceSelector.matchNames`,
///   or any with `any: true`) whose labels hold the `selector.matchLabels`, with a port named as
///   the endpoint's `port`; a Service without that port gives no target (the operator keeps only
///   endpoints of that port name);
/// - each target gets `job` = the value of the Service label `jobLabel` names, else the
///   Service's name; `namespace`, `service`, `pod`, `container`, `endpoint` (the port's name);
///   `instance` = the pod's address.
///
/// Only Services in `running` have a pod to scrape; the others give no target. `rendered` are
/// objects a chart renders (see [`pushgateway_chart`]), deployed next to the stack's own.
pub fn service_monitor_jobs(root: &Path, rendered: &[Value], running: &[RunningService]) -> String {
    let of_kind = |kind: &str| -> Vec<Value> {
        objects_of_kind(root, kind)
            .into_iter()
            .map(|(_, o)| o)
            .chain(rendered.iter().filter(|o| o["kind"].as_str() == Some(kind)).cloned())
            .collect()
    };
    let services = of_kind("Service");
    let mut out = String::new();
    for monitor in of_kind("ServiceMonitor") {
        let namespace = namespace_of(&monitor);
        let name = text(&monitor, &["metadata", "name"]).unwrap_or_default();
        let spec = &monitor["spec"];
        let namespaces: Option<Vec<&str>> = match spec.get("namespaceSelector") {
            Some(selector) if selector.get("any").and_then(Value::as_bool) == Some(true) => None,
            Some(selector) => Some(
                selector
                    .get("matchNames")
                    .and_then(Value::as_sequence)
                    .map(|names| names.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_else(|| vec![namespace]),
            ),
            None => Some(vec![namespace]),
        };
        let job_label = text(spec, &["jobLabel"]);
        let endpoints = spec
            .get("endpoints")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (index, endpoint) in endpoints.iter().enumerate() {
            let port = text(endpoint, &["port"]).unwrap_or_default();
            out.push_str(&format!("  - job_name: serviceMonitor/{namespace}/{name}/{index}\n"));
            let honor = endpoint.get("honorLabels").and_then(Value::as_bool).unwrap_or(false);
            out.push_str(&format!("    honor_labels: {honor}\n"));
            if let Some(interval) = text(endpoint, &["interval"]) {
                out.push_str(&format!(
                    "    scrape_interval: {interval}\n    scrape_timeout: {interval}\n"
                ));
            }
            if let Some(path) = text(endpoint, &["path"]) {
                out.push_str(&format!("    metrics_path: {path}\n"));
            }
            out.push_str("    static_configs:\n");
            let mut targets = 0;
            for service in &services {
                let service_namespace = namespace_of(service);
                let service_name = text(service, &["metadata", "name"]).unwrap_or_default();
                let in_namespace = namespaces
                    .as_ref()
                    .is_none_or(|names| names.contains(&service_namespace));
                let has_port = service["spec"]["ports"]
                    .as_sequence()
                    .is_some_and(|ports| ports.iter().any(|p| text(p, &["name"]) == Some(port)));
                if !in_namespace || !has_port || !selects(spec.get("selector"), service["metadata"].get("labels")) {
                    continue;
                }
                let Some(pod) = running
                    .iter()
                    .find(|r| r.namespace == service_namespace && r.service == service_name)
                else {
                    continue;
                };
                let job = job_label
                    .and_then(|label| text(service, &["metadata", "labels", label]))
                    .unwrap_or(service_name);
                out.push_str(&format!(
                    "      - targets: ['{address}']\n        labels:\n          job: {job:?}\n          \
                     namespace: {service_namespace:?}\n          service: {service_name:?}\n          \
                     pod: {pod_name:?}\n          container: {container:?}\n          endpoint: {port:?}\n          \
                     instance: '{address}'\n",
                    address = pod.address,
                    pod_name = pod.pod,
                    container = pod.container,
                ));
                targets += 1;
            }
            if targets == 0 {
                out.push_str("      []\n");
                // `static_configs: []` written as a flow list under the key.
                out.truncate(out.len() - "    static_configs:\n      []\n".len());
                out.push_str("    static_configs: []\n");
            }
        }
    }
    out
}

/// A whole `prometheus.yml`: 1 s global interval (the tests' pace), the operator's jobs.
pub fn operator_config(root: &Path, rendered: &[Value], running: &[RunningService]) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{}",
        service_monitor_jobs(root, rendered, running)
    )
}

/// What Helm renders from a prometheus-pushgateway values file, as far as the operator reads it:
/// the Service and, with `serviceMonitor.enabled: true`, the chart's ServiceMonitor (the chart's
/// `templates/service.yaml`, `templates/servicemonitor.yaml` and `_helpers.tpl`): both named
/// `<release>-prometheus-pushgateway` (the release's name when it contains the chart's), the
/// Service's port `http` (`service.portName`), the monitor's endpoint on that port with `path`
/// `/metrics`, the values' `interval` and `honorLabels` (the chart's default: true), labels
/// `app.kubernetes.io/name`/`instance` plus `serviceMonitor.additionalLabels`, selecting the
/// Service by those two labels in the release's namespace. Nothing when the file is gone.
pub fn pushgateway_chart(values: &Path, release: &str, namespace: &str) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(values) else {
        return Vec::new();
    };
    let values: Value = yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", values.display()));
    let chart = "prometheus-pushgateway";
    let name = if release.contains(chart) {
        release.to_string()
    } else {
        format!("{release}-{chart}")
    };
    let selector = format!("app.kubernetes.io/name: {chart}\napp.kubernetes.io/instance: {release}");
    let indent = |text: &str, by: &str| text.lines().map(|l| format!("{by}{l}\n")).collect::<String>();
    let mut rendered = vec![format!(
        "kind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n{labels}spec:\n  ports:\n    - name: http\n      port: 9091\n",
        labels = indent(&selector, "    ")
    )];
    let monitor = &values["serviceMonitor"];
    if monitor["enabled"].as_bool() == Some(true) {
        let mut labels = selector.clone();
        if let Some(extra) = monitor["additionalLabels"].as_mapping() {
            for (k, v) in extra {
                labels.push_str(&format!(
                    "\n{}: {:?}",
                    k.as_str().unwrap_or_default(),
                    v.as_str().unwrap_or_default()
                ));
            }
        }
        let interval = monitor["interval"]
            .as_str()
            .map(|i| format!("      interval: {i}\n"))
            .unwrap_or_default();
        let honor = monitor["honorLabels"].as_bool().unwrap_or(true);
        rendered.push(format!(
            "kind: ServiceMonitor\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n{labels}spec:\n  endpoints:\n    - port: http\n      path: /metrics\n      honorLabels: {honor}\n{interval}  namespaceSelector:\n    matchNames: [{namespace}]\n  selector:\n    matchLabels:\n{selector}",
            labels = indent(&labels, "    "),
            selector = indent(&selector, "      "),
        ));
    }
    rendered
        .iter()
        .map(|text| yaml_serde::from_str(text).unwrap_or_else(|e| panic!("rendered chart object: {e}\n{text}")))
        .collect()
}
