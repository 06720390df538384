//! The Kubernetes side of a stack as pullover reads it: the objects, the gateway and how it is
//! scraped, the pushers, and the dashboards and rule groups set inside manifests; with the
//! lookups every part asks of it. It imports none of the files that read or plan it, so they
//! can all import it.

use std::ops::Range;

use yaml_serde::Value;

use super::objects::{self, Kustomization, Manifest, Object, ValuesFile};
use crate::changeset::{Finding, Location};
use crate::edit::yaml::Route;
use crate::stack::source::SourceFile;

/// The port a Pushgateway listens on.
pub const GATEWAY_PORT: u16 = 9091;

/// The Kubernetes side of a [`Stack`].
#[derive(Debug, Clone, Default)]
pub struct KubeStack {
    pub manifests: Vec<Manifest>,
    pub objects: Vec<Object>,
    pub kustomizations: Vec<Kustomization>,
    pub values: Vec<ValuesFile>,
    pub gateway: Option<KubeGateway>,
    pub pushers: Vec<Pusher>,
    /// Dashboards and rule groups inside manifests, as the views the shared planners read.
    pub embedded: Vec<Embedded>,
    /// What reading found that a person must know (batch pushers, aggregation gateways,
    /// dashboards pullover cannot edit).
    pub findings: Vec<Finding>,
}

/// The Pushgateway and how Prometheus scrapes it.
#[derive(Debug, Clone)]
pub struct KubeGateway {
    /// Its Deployment/StatefulSet, when it is in the stack (index into `objects`).
    pub workload: Option<usize>,
    /// Its Service (index into `objects`), when it is in the stack.
    pub service: Option<usize>,
    pub service_name: String,
    pub namespace: String,
    pub port: u16,
    pub scrape: ScrapePath,
    /// The `job` its own series carry.
    pub job: String,
    pub honor_labels: bool,
    /// Its scrape interval, when the scrape path sets one.
    pub interval: Option<String>,
    /// The `jobLabel` of its ServiceMonitor: the Service label whose value is `job`.
    pub job_label: Option<String>,
}

/// How Prometheus scrapes the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapePath {
    /// A ServiceMonitor (index into `objects`) selecting its Service.
    ServiceMonitor(usize),
    /// A PodMonitor (index into `objects`) selecting its pods: the cluster scrapes by pod.
    PodMonitor(usize),
    /// The prometheus-pushgateway chart's own ServiceMonitor (`serviceMonitor.enabled: true` in
    /// the values at this index of `values`): a ServiceMonitor the stack holds only as values.
    ChartServiceMonitor { values: usize },
    /// A job of a scrape job list in a chart's values (index into `values`: a values file, or an
    /// Application's or HelmRelease's inline values) at `list`: kube-prometheus-stack's
    /// `additionalScrapeConfigs`, the prometheus chart's `serverFiles."prometheus.yml".scrape_configs`
    /// or `extraScrapeConfigs` (each a list, or the list as a YAML string).
    ValuesJob { values: usize, list: Route, job: String },
    /// A job of a `prometheus.yml` held in a ConfigMap (the plain prometheus chart's server).
    ConfigMapJob { object: usize, job: String },
    /// Nothing in the stack scrapes it (or pullover does not see how).
    Unknown,
}

impl ScrapePath {
    pub fn describe(&self, kube: &KubeStack) -> String {
        match self {
            ScrapePath::ServiceMonitor(i) => format!("ServiceMonitor {}", kube.objects[*i].name),
            ScrapePath::PodMonitor(i) => format!("PodMonitor {}", kube.objects[*i].name),
            ScrapePath::ChartServiceMonitor { values } => format!(
                "the prometheus-pushgateway chart's ServiceMonitor (`serviceMonitor.enabled` in {})",
                kube.values[*values].describe(&kube.objects)
            ),
            ScrapePath::ValuesJob { values, list, job } => {
                format!(
                    "job `{job}` of `{list}` in {}",
                    kube.values[*values].describe(&kube.objects)
                )
            }
            ScrapePath::ConfigMapJob { object, job } => {
                format!(
                    "job `{job}` of prometheus.yml in ConfigMap {}",
                    kube.objects[*object].name
                )
            }
            ScrapePath::Unknown => "nothing found in the stack".into(),
        }
    }
}

/// A workload whose container names the gateway in its env or args.
#[derive(Debug, Clone)]
pub struct Pusher {
    /// Index into `objects`.
    pub object: usize,
    pub container: String,
    /// Where the gateway is named (file, line, column), as written.
    pub mentions: Vec<(Location, String)>,
    /// The `job` a push URL names (`…/metrics/job/NAME`), and where.
    pub url_job: Option<(String, String)>,
    /// The port it serves /metrics on: the container port named `metrics` or `http`, else its
    /// first; with the port's name.
    pub port: Option<(u16, Option<String>)>,
}

/// Whether `selector` (a Service's `spec.selector` or a `matchLabels`) selects `labels`.
pub fn selects(selector: &[(String, String)], labels: &[(String, String)]) -> bool {
    !selector.is_empty() && selector.iter().all(|pair| labels.contains(pair))
}

/// The Service (index) in the object's namespace that selects its pods, when there is one.
pub fn service_of(kube: &KubeStack, workload: &Object) -> Option<usize> {
    let labels = workload.pod_labels();
    kube.objects.iter().position(|o| {
        o.kind == "Service"
            && o.namespace == workload.namespace
            && selects(
                &objects::string_map(o.value.get("spec").and_then(|s| s.get("selector"))),
                &labels,
            )
    })
}

/// The PodMonitor (index) that selects the workload's pods, when there is one.
pub fn pod_monitor_of(kube: &KubeStack, workload: &Object) -> Option<usize> {
    let pods = workload.pod_labels();
    let namespace = workload.namespace_or_default();
    kube.objects.iter().position(|o| {
        let spec = o.value.get("spec");
        let selector = o.match_labels();
        let namespaces = spec.and_then(|s| s.get("namespaceSelector"));
        let in_namespace = match namespaces {
            Some(n) if n.get("any").and_then(Value::as_bool) == Some(true) => true,
            Some(n) if n.get("matchNames").is_some() => {
                objects::strings(n.get("matchNames")).iter().any(|m| m == namespace)
            }
            _ => o.namespace_or_default() == namespace,
        };
        o.kind == "PodMonitor" && in_namespace && selects(&selector, &pods)
    })
}

/// The `job` a PodMonitor gives the workload's pods: the value of their label `job_label`
/// names, else `<namespace>/<PodMonitor name>`.
pub fn pod_monitor_job(monitor: &Object, workload: &Object, job_label: Option<&str>) -> String {
    job_label
        .and_then(|label| {
            workload
                .pod_labels()
                .into_iter()
                .find(|(k, v)| k == label && !v.is_empty())
        })
        .map_or_else(
            || format!("{}/{}", monitor.namespace_or_default(), monitor.name),
            |(_, value)| value,
        )
}

/// The name of the Service the app is scraped through: the one selecting its pods, else the one
/// `scrape` creates, named after the workload.
pub fn app_service_name(kube: &KubeStack, workload: &Object) -> String {
    service_of(kube, workload).map_or_else(|| workload.name.clone(), |i| kube.objects[i].name.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Dashboard,
    RuleGroups,
}

/// Where a view's text lives in its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carrier {
    /// The decoded text of the string scalar at `route` (a literal or folded block, or quoted).
    Scalar { route: Route },
    /// A byte range of the document's text, read as a YAML document of its own.
    Slice { range: Range<usize> },
}

#[derive(Debug, Clone)]
pub struct Embedded {
    pub what: What,
    /// Index into `KubeStack::objects`.
    pub object: usize,
    pub carrier: Carrier,
    pub view: SourceFile,
    /// The manifest line of the view's first line, and the columns its lines are indented by.
    pub(super) first_line: usize,
    pub(super) indent: usize,
}
