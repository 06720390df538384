//! The shapes where Prometheus is configured by its own config rather than by the Prometheus
//! Operator's objects: kube-prometheus-stack's `additionalScrapeConfigs` in a values file (a
//! list, or the same list as a string) and a `prometheus.yml` held in a ConfigMap (the plain
//! prometheus chart's server). Where their scrape jobs and rule files are, and the scrape job an
//! app gets there. See `docs/kubernetes.md` ("What each phase does").

use yaml_serde::{Mapping, Value};

use super::in_place::{Edits, Holder, ValuesAt, under};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlEdit};
use crate::stack::kube::objects::Object;
use crate::stack::kube::{KubeStack, ScrapePath};

/// The prometheus chart's `serverFiles`: each key a file of the server's ConfigMap.
pub fn server_files() -> Route {
    Route::root().key("serverFiles")
}

/// The ConfigMap key the plain chart's server reads its config from.
pub const PROMETHEUS_YML: &str = "prometheus.yml";

/// Where a shape keeps its scrape jobs.
#[derive(Debug, Clone)]
pub struct JobList {
    pub holder: Holder,
    /// The list itself, or the string holding YAML the list is in.
    pub outer: Route,
    /// When `outer` is a string: the list's route inside it.
    pub inner: Option<Route>,
}

impl JobList {
    /// The job list of a scrape path that is a Prometheus config; `None` for a ServiceMonitor.
    pub fn of(kube: &KubeStack, scrape: &ScrapePath) -> Option<JobList> {
        match scrape {
            ScrapePath::ValuesJob { values, list, .. } => {
                let rel = list.clone();
                let is_text = rel.find_value(&kube.values[*values].value)?.is_string();
                let at = ValuesAt::of(kube, *values, &rel).ok()?;
                let inner = match (at.inner, is_text) {
                    (None, false) => None,
                    // The list written as a YAML string.
                    (None, true) => Some(Route::root()),
                    (Some(inner), false) => Some(inner),
                    // A string inside the values' string: not edited.
                    (Some(_), true) => return None,
                };
                Some(JobList {
                    holder: at.holder,
                    outer: at.outer,
                    inner,
                })
            }
            ScrapePath::ConfigMapJob { object, .. } => Some(JobList {
                holder: object_holder(kube, *object),
                outer: Route::root().key("data").key(PROMETHEUS_YML),
                inner: Some(Route::root().key("scrape_configs")),
            }),
            ScrapePath::ServiceMonitor(_)
            | ScrapePath::PodMonitor(_)
            | ScrapePath::ChartServiceMonitor { .. }
            | ScrapePath::Unknown => None,
        }
    }

    /// The jobs as the stack holds them.
    pub fn jobs(&self, kube: &KubeStack) -> Vec<Value> {
        let doc = match self.holder {
            Holder::Values(index) => kube.values[index].doc.value(),
            Holder::Manifest { manifest, doc } => kube.manifests[manifest].stream.docs()[doc].doc.value(),
        };
        let Some(outer) = self.outer.find_value(doc) else {
            return Vec::new();
        };
        let list = match (&self.inner, outer) {
            (None, value) => Some(value.clone()),
            (Some(inner), Value::String(text)) => yaml_serde::from_str::<Value>(text)
                .ok()
                .and_then(|v| inner.find_value(&v).cloned()),
            _ => None,
        };
        list.and_then(|l| l.as_sequence().cloned()).unwrap_or_default()
    }

    /// Makes `make(route of the list)` in the document or the text holding the list.
    pub fn edit(
        &self,
        kube: &KubeStack,
        edits: &mut Edits,
        make: impl Fn(Route) -> Vec<YamlEdit>,
        because: &str,
    ) -> Result<(), Diagnostic> {
        match &self.inner {
            None => edits.edit(kube, self.holder, &make(self.outer.clone()), because),
            Some(inner) => edits.edit_inside(kube, self.holder, &self.outer, &make(inner.clone()), because),
        }
    }
}

pub fn object_holder(kube: &KubeStack, object: usize) -> Holder {
    Holder::Manifest {
        manifest: kube.objects[object].manifest,
        doc: kube.objects[object].doc,
    }
}

/// A label name as Kubernetes service discovery writes it into a meta label
/// (`app.kubernetes.io/name` → `app_kubernetes_io_name`).
fn meta_label_name(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn string_list(items: &[&str]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::String((*s).to_string())).collect())
}

fn relabel(source: &str, pairs: &[(&str, &str)]) -> Value {
    let mut rule = Mapping::new();
    rule.insert("source_labels".into(), string_list(&[source]));
    for (key, value) in pairs {
        rule.insert((*key).into(), Value::String((*value).to_string()));
    }
    Value::Mapping(rule)
}

/// The scrape job of an app: its pods found by Kubernetes service discovery (every replica is a
/// target of its own, no Service needed), kept by the workload's pod selector and the container
/// port serving /metrics; `job` is `job_name`, `instance` the pod's IP and port, and the pod's
/// `namespace` and `pod` are set as the Prometheus Operator sets them, so the scraped series can
/// be told from the pushed ones (which carry no `pod`).
pub fn app_job(
    job_name: &str,
    workload: &Object,
    port: &(u16, Option<String>),
    metrics_path: &str,
    interval: Option<&str>,
) -> Result<Value, Diagnostic> {
    let selector = super::pod_selector(workload);
    if selector.is_empty() {
        return Err(Diagnostic::error(format!(
            "{} has no `spec.selector.matchLabels` to find its pods by; nothing was written",
            workload.display()
        ))
        .help("give it a `matchLabels` selector, then plan again"));
    }
    let mut job = Mapping::new();
    job.insert("job_name".into(), Value::String(job_name.to_string()));
    if let Some(interval) = interval {
        job.insert("scrape_interval".into(), Value::String(interval.to_string()));
    }
    job.insert("metrics_path".into(), Value::String(metrics_path.to_string()));
    let mut sd = Mapping::new();
    sd.insert("role".into(), Value::String("pod".into()));
    let mut namespaces = Mapping::new();
    namespaces.insert("names".into(), string_list(&[workload.namespace_or_default()]));
    sd.insert("namespaces".into(), Value::Mapping(namespaces));
    job.insert(
        "kubernetes_sd_configs".into(),
        Value::Sequence(vec![Value::Mapping(sd)]),
    );
    let mut rules = Vec::new();
    for (label, value) in &selector {
        rules.push(relabel(
            &format!("__meta_kubernetes_pod_label_{}", meta_label_name(label)),
            &[("action", "keep"), ("regex", value)],
        ));
    }
    let number = port.0.to_string();
    rules.push(match &port.1 {
        Some(name) => relabel(
            "__meta_kubernetes_pod_container_port_name",
            &[("action", "keep"), ("regex", name)],
        ),
        None => relabel(
            "__meta_kubernetes_pod_container_port_number",
            &[("action", "keep"), ("regex", &number)],
        ),
    });
    rules.push(relabel("__meta_kubernetes_namespace", &[("target_label", "namespace")]));
    rules.push(relabel("__meta_kubernetes_pod_name", &[("target_label", "pod")]));
    job.insert("relabel_configs".into(), Value::Sequence(rules));
    Ok(Value::Mapping(job))
}

/// The edit that appends `job` to a job list at `list`.
pub fn append_job(list: Route, job: Value, comment: &str) -> Vec<YamlEdit> {
    vec![YamlEdit::Append {
        route: list,
        value: job,
        comment: Some(comment.to_string()),
    }]
}

/// The route of the job named `name` in a job list at `list`.
pub fn job_route(list: &Route, name: &str) -> Route {
    under(
        list,
        &Route::root().item(crate::edit::yaml::ItemMatch::Field {
            key: "job_name".into(),
            value: name.to_string(),
        }),
    )
}
