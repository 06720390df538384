//! The Kubernetes objects of a stack folder: every YAML file read as a stream of documents,
//! each document with `apiVersion` and `kind` an [`Object`]; `kustomization.yaml` files and
//! Helm values files apart. See `docs/kubernetes.md` ("What pullover reads").

use yaml_serde::Value;

use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlDoc, YamlStream};
use crate::stack::source::{RelPath, SourceFile};

/// A YAML file of Kubernetes objects.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub file: SourceFile,
    pub stream: YamlStream,
}

/// One object: where it is (file and document) and what it says.
#[derive(Debug, Clone)]
pub struct Object {
    /// Index into [`super::KubeStack::manifests`].
    pub manifest: usize,
    /// Index of its document in the file.
    pub doc: usize,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`, else the `namespace:` of the kustomization listing its file.
    pub namespace: Option<String>,
    /// Whether `metadata.namespace` is written in the object itself.
    pub namespace_written: bool,
    pub value: Value,
}

impl Object {
    pub fn labels(&self) -> Vec<(String, String)> {
        string_map(self.value.get("metadata").and_then(|m| m.get("labels")))
    }

    pub fn annotations(&self) -> Vec<(String, String)> {
        string_map(self.value.get("metadata").and_then(|m| m.get("annotations")))
    }

    pub fn namespace_or_default(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }

    /// `Kind/namespace/name`, as a person names it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The pod template of a workload (`Deployment`, `StatefulSet`, `DaemonSet`, `Job`,
    /// `CronJob`), or `None`.
    pub fn pod_template(&self) -> Option<&Value> {
        let spec = self.value.get("spec")?;
        match self.kind.as_str() {
            "CronJob" => spec.get("jobTemplate")?.get("spec")?.get("template"),
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicaSet" => spec.get("template"),
            _ => None,
        }
    }

    pub fn pod_labels(&self) -> Vec<(String, String)> {
        string_map(
            self.pod_template()
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("labels")),
        )
    }

    /// `spec.selector.matchLabels`: the pods a workload owns, or what a monitor selects.
    pub fn match_labels(&self) -> Vec<(String, String)> {
        string_map(
            self.value
                .get("spec")
                .and_then(|s| s.get("selector"))
                .and_then(|s| s.get("matchLabels")),
        )
    }

    pub fn containers(&self) -> Vec<&Value> {
        self.pod_template()
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_sequence)
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    }

    /// A long-running workload (moved to direct scraping), not a batch one.
    pub fn is_long_running(&self) -> bool {
        matches!(self.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
    }

    pub fn is_batch(&self) -> bool {
        matches!(self.kind.as_str(), "CronJob" | "Job")
    }
}

/// A `kustomization.yaml`.
#[derive(Debug, Clone)]
pub struct Kustomization {
    pub file: SourceFile,
    pub doc: YamlDoc,
}

impl Kustomization {
    pub fn folder(&self) -> &str {
        self.file.path.parent()
    }

    /// Its `resources` entries as written.
    pub fn resources(&self) -> Vec<String> {
        strings(self.doc.value().get("resources"))
    }

    /// Files it names for `configMapGenerator`/`secretGenerator` (`files:`, `key=path` too),
    /// relative to the stack root.
    pub fn generated_files(&self) -> Vec<RelPath> {
        let mut out = Vec::new();
        for key in ["configMapGenerator", "secretGenerator"] {
            let generators = self.doc.value().get(key).and_then(Value::as_sequence);
            for generator in generators.into_iter().flatten() {
                for entry in strings(generator.get("files")) {
                    let path = entry.split_once('=').map_or(entry.as_str(), |(_, path)| path);
                    if let Ok(rel) = RelPath::join_relative(self.folder(), path) {
                        out.push(rel);
                    }
                }
            }
        }
        out
    }
}

/// Helm values of one of the charts pullover knows: a values file, or the inline values of an
/// Argo CD `Application` / Flux `HelmRelease` installing the chart.
#[derive(Debug, Clone)]
pub struct ValuesFile {
    /// The values file, or the manifest holding the release.
    pub file: SourceFile,
    /// The values file's document, or the release's.
    pub doc: YamlDoc,
    pub chart: Chart,
    /// The values as Helm reads them (a `values: |` string read as YAML).
    pub value: Value,
    /// The release object installing the chart (index into `KubeStack::objects`), and where its
    /// inline values are; `None` for a values file.
    pub release: Option<Release>,
}

/// An Argo CD `Application` or Flux `HelmRelease` installing a chart pullover knows.
#[derive(Debug, Clone)]
pub struct Release {
    pub object: usize,
    /// The Helm release name (the chart's objects are named after it).
    pub name: String,
    /// The namespace the chart is installed into.
    pub namespace: String,
    /// Where the inline values are in the release's document, and whether they are YAML held
    /// as text (`values: |`); `None` when it has none.
    pub values: Option<(Route, bool)>,
}

impl ValuesFile {
    /// Where the values are, as a person names it.
    pub fn describe(&self, objects: &[Object]) -> String {
        match &self.release {
            None => self.file.path.to_string(),
            Some(release) => format!(
                "{} ({} inline values)",
                self.file.path,
                objects[release.object].display()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    KubePrometheusStack,
    PrometheusPushgateway,
    Prometheus,
}

impl Chart {
    pub fn name(self) -> &'static str {
        match self {
            Chart::KubePrometheusStack => "kube-prometheus-stack",
            Chart::PrometheusPushgateway => "prometheus-pushgateway",
            Chart::Prometheus => "prometheus",
        }
    }

    /// The chart of this name (as a repository publishes it).
    pub fn named(name: &str) -> Option<Chart> {
        match name.rsplit('/').next().unwrap_or(name) {
            "kube-prometheus-stack" => Some(Chart::KubePrometheusStack),
            "prometheus-pushgateway" => Some(Chart::PrometheusPushgateway),
            "prometheus" => Some(Chart::Prometheus),
            _ => None,
        }
    }

    /// Which chart a values file is for, by the keys only that chart has (and its name).
    pub fn of(path: &RelPath, value: &Value) -> Option<Chart> {
        let has = |key: &str| value.get(key).is_some();
        if value.get("prometheus").and_then(|p| p.get("prometheusSpec")).is_some() || has("prometheusOperator") {
            Some(Chart::KubePrometheusStack)
        } else if has("serverFiles") || has("scrapeConfigs") || has("server") {
            Some(Chart::Prometheus)
        } else if path.file_name().contains("pushgateway") && (has("serviceMonitor") || has("persistentVolume")) {
            Some(Chart::PrometheusPushgateway)
        } else {
            None
        }
    }
}

/// What a YAML file of the stack is.
pub enum Read {
    Manifest(Manifest, Vec<ObjectHead>),
    Kustomization(Kustomization),
    Values(ValuesFile),
    Other,
}

/// What a document says of itself, before the kustomization's namespace is known.
pub struct ObjectHead {
    pub doc: usize,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Value,
}

/// Reads one YAML file. A file that does not parse, or a document with `kind` but no
/// `apiVersion` (or no `metadata.name`), is an error naming file, line and column.
pub fn read(file: SourceFile) -> Result<Read, Diagnostic> {
    let name = file.path.file_name();
    if matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization") {
        let doc = YamlDoc::parse(file.text()).map_err(|e| e.to_diagnostic(&file))?;
        return Ok(Read::Kustomization(Kustomization { file, doc }));
    }
    let stream = YamlStream::parse(file.text()).map_err(|e| e.to_diagnostic(&file))?;
    let mut heads = Vec::new();
    for (index, part) in stream.docs().iter().enumerate() {
        let value = part.doc.value();
        let kind = value.get("kind").and_then(Value::as_str);
        let api_version = value.get("apiVersion").and_then(Value::as_str);
        let at = |key: &str| {
            part.doc
                .root()
                .and_then(|root| root.get(key))
                .map_or(part.range.start, |entry| part.range.start + entry.range().start)
        };
        match (kind, api_version) {
            (None, None) => continue,
            (Some(kind), None) => {
                let offset = at("kind");
                return Err(Diagnostic::error(format!(
                    "{}: a `{kind}` without `apiVersion` is no Kubernetes object",
                    file.path
                ))
                .at(&file, offset..offset + 4, "here")
                .help("add its apiVersion (e.g. `apps/v1` for a Deployment); nothing was written"));
            }
            (None, Some(_)) => {
                let offset = at("apiVersion");
                return Err(Diagnostic::error(format!("{}: an object without `kind`", file.path))
                    .at(&file, offset..offset + 10, "here")
                    .help("add its kind; nothing was written"));
            }
            (Some(kind), Some(api_version)) => {
                if let Some(expected) = expected_api_version(kind)
                    && !expected.contains(&api_version)
                {
                    let offset = at("apiVersion");
                    return Err(Diagnostic::error(format!(
                        "{}: `{kind}` has apiVersion `{api_version}`, which Kubernetes does not serve it as",
                        file.path
                    ))
                    .at(&file, offset..offset + 10, "here")
                    .help(format!(
                        "write `apiVersion: {}`; nothing was written",
                        expected.join("` or `")
                    )));
                }
                let metadata = value.get("metadata");
                let Some(name) = metadata.and_then(|m| m.get("name")).and_then(Value::as_str) else {
                    let offset = at("kind");
                    return Err(
                        Diagnostic::error(format!("{}: a `{kind}` without `metadata.name`", file.path))
                            .at(&file, offset..offset + 4, "here")
                            .help("name it; nothing was written"),
                    );
                };
                if let Some(root) = part.doc.root() {
                    super::schema::check(&file, part.range.start, kind, name, root)?;
                }
                heads.push(ObjectHead {
                    doc: index,
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                    name: name.to_string(),
                    namespace: metadata
                        .and_then(|m| m.get("namespace"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    value: value.clone(),
                });
            }
        }
    }
    if !heads.is_empty() {
        return Ok(Read::Manifest(Manifest { file, stream }, heads));
    }
    if let [only] = stream.docs()
        && let Some(chart) = Chart::of(&file.path, only.doc.value())
    {
        let doc = only.doc.clone();
        let value = doc.value().clone();
        return Ok(Read::Values(ValuesFile {
            file,
            doc,
            chart,
            value,
            release: None,
        }));
    }
    Ok(Read::Other)
}

/// The apiVersions Kubernetes (1.25 and later) and the Prometheus Operator serve a kind as;
/// `None` for a kind pullover does not check.
fn expected_api_version(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => &["apps/v1"],
        "Service" | "ConfigMap" | "Secret" | "PersistentVolumeClaim" | "Pod" | "ServiceAccount" => &["v1"],
        "CronJob" | "Job" => &["batch/v1"],
        "Ingress" | "NetworkPolicy" => &["networking.k8s.io/v1"],
        "ServiceMonitor" | "PodMonitor" | "PrometheusRule" | "Prometheus" | "Probe" => &["monitoring.coreos.com/v1"],
        "ScrapeConfig" => &["monitoring.coreos.com/v1alpha1"],
        "GrafanaDashboard" => &["grafana.integreatly.org/v1beta1"],
        "Application" => &["argoproj.io/v1alpha1"],
        "HelmRelease" => &[
            "helm.toolkit.fluxcd.io/v2",
            "helm.toolkit.fluxcd.io/v2beta2",
            "helm.toolkit.fluxcd.io/v2beta1",
        ],
        _ => return None,
    })
}

pub fn string_map(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_mapping)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), crate::edit::yaml::scalar_string(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(crate::edit::yaml::scalar_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile::from_text(RelPath::new(path).unwrap(), text, 0o644)
    }

    #[test]
    fn a_kind_under_the_wrong_api_version_is_an_error_at_its_line() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Deployment\nmetadata: {name: b}\n";
        let Err(error) = read(file("m.yaml", text)) else {
            panic!("read a Deployment of apiVersion v1")
        };
        let rendered = error.render(false);
        assert!(rendered.contains("apiVersion `v1`"), "{rendered}");
        assert!(rendered.contains("m.yaml:5"), "{rendered}");
    }

    #[test]
    fn documents_without_kind_are_not_objects_and_values_files_are_told_apart() {
        let Ok(Read::Values(values)) = read(file(
            "values/prometheus-pushgateway.yaml",
            "serviceMonitor:\n  enabled: false\n",
        )) else {
            panic!("not read as values")
        };
        assert_eq!(values.chart, Chart::PrometheusPushgateway);
        assert!(matches!(read(file("x.yaml", "a: 1\n")), Ok(Read::Other)));
    }
}
