//! Charts installed by a GitOps controller: an Argo CD `Application` (`spec.source`, or each of
//! `spec.sources`, with `helm.valuesObject` or `helm.values` as a YAML string) and a Flux
//! `HelmRelease` (`spec.chart.spec.chart`, `spec.values`). Each one installing a chart pullover
//! knows becomes a [`ValuesFile`] whose values are the inline ones, so discovery and the phases
//! read and edit them as they do a values file. See `docs/kubernetes.md` ("What pullover reads").

use yaml_serde::Value;

use super::objects::{Chart, Manifest, Object, Release, ValuesFile};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route};

/// The charts pullover knows that the stack's Applications and HelmReleases install.
pub fn read(manifests: &[Manifest], objects: &[Object]) -> Result<Vec<ValuesFile>, Diagnostic> {
    let mut out = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let spec = object.value.get("spec");
        let sources: Vec<Source> = match (object.kind.as_str(), object.api_version.split('/').next()) {
            ("Application", Some("argoproj.io")) => argo_sources(object),
            ("HelmRelease", Some("helm.toolkit.fluxcd.io")) => {
                let chart = spec
                    .and_then(|s| s.get("chart"))
                    .and_then(|c| c.get("spec"))
                    .and_then(|c| c.get("chart"))
                    .and_then(Value::as_str);
                let name = match spec.and_then(|s| s.get("releaseName")).and_then(Value::as_str) {
                    Some(name) => name.to_string(),
                    // Flux names the release `<targetNamespace>-<name>` when a target is set.
                    None => match spec.and_then(|s| s.get("targetNamespace")).and_then(Value::as_str) {
                        Some(target) => format!("{target}-{}", object.name),
                        None => object.name.clone(),
                    },
                };
                let namespace = spec
                    .and_then(|s| s.get("targetNamespace"))
                    .and_then(Value::as_str)
                    .unwrap_or(object.namespace_or_default())
                    .to_string();
                let values = spec
                    .and_then(|s| s.get("values"))
                    .filter(|v| v.is_mapping())
                    .map(|_| (Route::root().key("spec").key("values"), false));
                chart
                    .map(|chart| Source {
                        chart: chart.to_string(),
                        name,
                        namespace,
                        values,
                    })
                    .into_iter()
                    .collect()
            }
            _ => continue,
        };
        for source in sources {
            let Some(chart) = Chart::named(&source.chart) else {
                continue;
            };
            let manifest = &manifests[object.manifest];
            let part = &manifest.stream.docs()[object.doc];
            let value = match &source.values {
                None => Value::Mapping(Default::default()),
                Some((route, false)) => route.find_value(&object.value).cloned().unwrap_or(Value::Null),
                Some((route, true)) => {
                    let text = route
                        .find_value(&object.value)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    yaml_serde::from_str::<Value>(text).map_err(|e| {
                        let at = part
                            .doc
                            .find(route)
                            .map_or(part.range.start, |node| part.range.start + node.range().start);
                        Diagnostic::error(format!(
                            "{}: the Helm values held as text in {} do not parse: {e}",
                            manifest.file.path,
                            object.display()
                        ))
                        .at(&manifest.file, at..at + 1, "these values")
                        .help("fix them (Helm would refuse them too), then run pullover again; nothing was written")
                    })?
                }
            };
            out.push(ValuesFile {
                file: manifest.file.clone(),
                doc: part.doc.clone(),
                chart,
                value,
                release: Some(Release {
                    object: index,
                    name: source.name,
                    namespace: source.namespace,
                    values: source.values,
                }),
            });
        }
    }
    Ok(out)
}

struct Source {
    chart: String,
    name: String,
    namespace: String,
    values: Option<(Route, bool)>,
}

/// The chart sources of an Argo CD Application: `spec.source`, or each of `spec.sources`. Its
/// inline values are `helm.valuesObject`, else `helm.values` (a YAML string); Argo CD takes
/// `valuesObject` when both are set.
fn argo_sources(object: &Object) -> Vec<Source> {
    let spec = object.value.get("spec");
    let namespace = spec
        .and_then(|s| s.get("destination"))
        .and_then(|d| d.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let mut routes = Vec::new();
    if spec.and_then(|s| s.get("source")).is_some() {
        routes.push(Route::root().key("spec").key("source"));
    }
    let many = spec.and_then(|s| s.get("sources")).and_then(Value::as_sequence);
    for i in 0..many.map_or(0, Vec::len) {
        routes.push(Route::root().key("spec").key("sources").item(ItemMatch::Index(i)));
    }
    routes
        .into_iter()
        .filter_map(|route| {
            let source = route.find_value(&object.value)?;
            // A chart from a Helm repository names it; one from git names the folder it is in.
            let chart = source
                .get("chart")
                .and_then(Value::as_str)
                .or_else(|| source.get("path").and_then(Value::as_str))?
                .trim_end_matches('/')
                .to_string();
            let helm = source.get("helm");
            let name = helm
                .and_then(|h| h.get("releaseName"))
                .and_then(Value::as_str)
                .unwrap_or(&object.name)
                .to_string();
            let helm_route = route.clone().key("helm");
            let values = if helm.and_then(|h| h.get("valuesObject")).is_some_and(Value::is_mapping) {
                Some((helm_route.key("valuesObject"), false))
            } else if helm.and_then(|h| h.get("values")).is_some_and(Value::is_string) {
                Some((helm_route.key("values"), true))
            } else {
                None
            };
            Some(Source {
                chart,
                name,
                namespace: namespace.clone(),
                values,
            })
        })
        .collect()
}

/// The name a chart gives its objects (Helm's `fullname` helper, as the prometheus-community
/// charts write it): `fullnameOverride`, else the release name when it holds the chart's name
/// (or `nameOverride`), else `<release>-<name>`; 63 characters at most.
pub fn fullname(release: &str, chart: &str, values: &Value) -> String {
    let text = |key: &str| values.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let full = match text("fullnameOverride") {
        Some(full) => full.to_string(),
        None => {
            let name = text("nameOverride").unwrap_or(chart);
            if release.contains(name) {
                release.to_string()
            } else {
                format!("{release}-{name}")
            }
        }
    };
    let mut cut: String = full.chars().take(63).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charts_objects_are_named_as_helm_names_them() {
        let none = Value::Mapping(Default::default());
        assert_eq!(
            fullname("prometheus-pushgateway", "prometheus-pushgateway", &none),
            "prometheus-pushgateway"
        );
        assert_eq!(
            fullname("pushgateway", "prometheus-pushgateway", &none),
            "pushgateway-prometheus-pushgateway"
        );
        let overridden: Value = yaml_serde::from_str("fullnameOverride: gateway\n").unwrap();
        assert_eq!(
            fullname("pushgateway", "prometheus-pushgateway", &overridden),
            "gateway"
        );
        let named: Value = yaml_serde::from_str("nameOverride: pgw\n").unwrap();
        assert_eq!(fullname("ops-pgw", "prometheus-pushgateway", &named), "ops-pgw");
    }
}

/// The gateway the prometheus chart's `prometheus-pushgateway` subchart runs (enabled unless its
/// values say `enabled: false`), where the prometheus chart's release is known (an Application
/// or HelmRelease installs it): the subchart names its Service by its own rule with the parent's
/// release name (`fullname` over the subchart's values), in the release's namespace (or the
/// subchart's `namespaceOverride`). `None` for a values file alone: its release name is not in
/// the stack.
pub fn pushgateway_subchart(values: &ValuesFile) -> Option<(String, String)> {
    if values.chart != Chart::Prometheus {
        return None;
    }
    let release = values.release.as_ref()?;
    let empty = Value::Mapping(Default::default());
    let sub = values.value.get(Chart::PrometheusPushgateway.name()).unwrap_or(&empty);
    if sub.get("enabled").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let namespace = sub
        .get("namespaceOverride")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(&release.namespace);
    Some((
        fullname(&release.name, Chart::PrometheusPushgateway.name(), sub),
        namespace.to_string(),
    ))
}

/// The prometheus-pushgateway chart's own ServiceMonitor, as its values render it
/// (`templates/servicemonitor.yaml` of the chart): rendered when `serviceMonitor.enabled` is
/// true; `honorLabels` defaults to true there, `additionalLabels` go on top of the chart's own
/// labels, and it lives in `serviceMonitor.namespace`, else the release's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartMonitor {
    pub honor_labels: bool,
    pub interval: Option<String>,
    /// `serviceMonitor.additionalLabels`: what a Prometheus selects it by (the chart's own
    /// labels only name the gateway).
    pub labels: Vec<(String, String)>,
    pub namespace: Option<String>,
}

/// The chart's ServiceMonitor of a prometheus-pushgateway values file, when it is enabled.
pub fn chart_service_monitor(values: &ValuesFile) -> Option<ChartMonitor> {
    if values.chart != Chart::PrometheusPushgateway {
        return None;
    }
    let monitor = values.value.get("serviceMonitor")?;
    if monitor.get("enabled").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let text = |key: &str| {
        monitor
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(ChartMonitor {
        honor_labels: monitor.get("honorLabels").and_then(Value::as_bool).unwrap_or(true),
        interval: text("interval"),
        labels: super::objects::string_map(monitor.get("additionalLabels")),
        namespace: text("namespace"),
    })
}
