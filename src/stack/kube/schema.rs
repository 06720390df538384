//! The fields the Prometheus Operator's CRDs know in a ServiceMonitor, PodMonitor and
//! PrometheusRule, down to the levels pullover reads and writes (the object, its metadata,
//! `spec`, its selectors, each endpoint, rule group and rule).
//!
//! The CRD schemas are structural: the API server drops a field they do not know (or refuses the
//! object), so a misspelt `honorLabel` or `intervall` validates with `kubectl` and then does
//! nothing. pullover reads such an object as an error naming the field's file, line and column,
//! before anything is planned. The lists follow the operator's CRDs as
//! `@kubernetes-models/prometheus-operator` 6.0.0 compiles them (the tests compare them, see
//! `docs/kubernetes.md`, "Validation"); deeper fields (`tlsConfig`, `relabelings`, ...) are
//! left to the API server.

use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Node, NodeKind};
use crate::stack::flags::edit_distance;
use crate::stack::source::SourceFile;

/// One level of an object: its name in the operator's API (the model's type name) and fields.
pub struct Level {
    pub model: &'static str,
    pub fields: &'static [&'static str],
}

pub const OBJECT: Level = Level {
    model: "ServiceMonitor",
    fields: &["apiVersion", "kind", "metadata", "spec", "status"],
};
pub const OBJECT_META: Level = Level {
    model: "ObjectMeta",
    fields: &[
        "annotations",
        "creationTimestamp",
        "deletionGracePeriodSeconds",
        "deletionTimestamp",
        "finalizers",
        "generateName",
        "generation",
        "labels",
        "managedFields",
        "name",
        "namespace",
        "ownerReferences",
        "resourceVersion",
        "selfLink",
        "uid",
    ],
};
pub const LABEL_SELECTOR: Level = Level {
    model: "LabelSelector",
    fields: &["matchExpressions", "matchLabels"],
};
pub const NAMESPACE_SELECTOR: Level = Level {
    model: "NamespaceSelector",
    fields: &["any", "matchNames"],
};
pub const SERVICE_MONITOR_SPEC: Level = Level {
    model: "ServiceMonitorSpec",
    fields: &[
        "attachMetadata",
        "bodySizeLimit",
        "convertClassicHistogramsToNHCB",
        "endpoints",
        "fallbackScrapeProtocol",
        "jobLabel",
        "keepDroppedTargets",
        "labelLimit",
        "labelNameLengthLimit",
        "labelValueLengthLimit",
        "namespaceSelector",
        "nativeHistogramBucketLimit",
        "nativeHistogramMinBucketFactor",
        "podTargetLabels",
        "sampleLimit",
        "scrapeClass",
        "scrapeClassicHistograms",
        "scrapeNativeHistograms",
        "scrapeProtocols",
        "selector",
        "selectorMechanism",
        "serviceDiscoveryRole",
        "targetLabels",
        "targetLimit",
    ],
};
pub const POD_MONITOR_SPEC: Level = Level {
    model: "PodMonitorSpec",
    fields: &[
        "attachMetadata",
        "bodySizeLimit",
        "convertClassicHistogramsToNHCB",
        "fallbackScrapeProtocol",
        "jobLabel",
        "keepDroppedTargets",
        "labelLimit",
        "labelNameLengthLimit",
        "labelValueLengthLimit",
        "namespaceSelector",
        "nativeHistogramBucketLimit",
        "nativeHistogramMinBucketFactor",
        "podMetricsEndpoints",
        "podTargetLabels",
        "sampleLimit",
        "scrapeClass",
        "scrapeClassicHistograms",
        "scrapeNativeHistograms",
        "scrapeProtocols",
        "selector",
        "selectorMechanism",
        "targetLimit",
    ],
};
pub const ENDPOINT: Level = Level {
    model: "Endpoint",
    fields: &[
        "authorization",
        "basicAuth",
        "bearerTokenFile",
        "bearerTokenSecret",
        "enableHttp2",
        "filterRunning",
        "followRedirects",
        "honorLabels",
        "honorTimestamps",
        "interval",
        "metricRelabelings",
        "noProxy",
        "oauth2",
        "params",
        "path",
        "port",
        "proxyConnectHeader",
        "proxyFromEnvironment",
        "proxyUrl",
        "relabelings",
        "scheme",
        "scrapeTimeout",
        "targetPort",
        "tlsConfig",
        "trackTimestampsStaleness",
    ],
};
pub const POD_METRICS_ENDPOINT: Level = Level {
    model: "PodMetricsEndpoint",
    fields: &[
        "authorization",
        "basicAuth",
        "bearerTokenSecret",
        "enableHttp2",
        "filterRunning",
        "followRedirects",
        "honorLabels",
        "honorTimestamps",
        "interval",
        "metricRelabelings",
        "noProxy",
        "oauth2",
        "params",
        "path",
        "port",
        "portNumber",
        "proxyConnectHeader",
        "proxyFromEnvironment",
        "proxyUrl",
        "relabelings",
        "scheme",
        "scrapeTimeout",
        "targetPort",
        "tlsConfig",
        "trackTimestampsStaleness",
    ],
};
pub const PROMETHEUS_RULE_SPEC: Level = Level {
    model: "PrometheusRuleSpec",
    fields: &["groups"],
};
pub const RULE_GROUP: Level = Level {
    model: "RuleGroup",
    fields: &[
        "interval",
        "labels",
        "limit",
        "name",
        "partial_response_strategy",
        "query_offset",
        "rules",
    ],
};
pub const RULE: Level = Level {
    model: "Rule",
    fields: &[
        "alert",
        "annotations",
        "expr",
        "for",
        "keep_firing_for",
        "labels",
        "record",
    ],
};

/// Every level, for the tests that compare them with the operator's models.
pub const LEVELS: [&Level; 11] = [
    &OBJECT,
    &OBJECT_META,
    &LABEL_SELECTOR,
    &NAMESPACE_SELECTOR,
    &SERVICE_MONITOR_SPEC,
    &POD_MONITOR_SPEC,
    &ENDPOINT,
    &POD_METRICS_ENDPOINT,
    &PROMETHEUS_RULE_SPEC,
    &RULE_GROUP,
    &RULE,
];

impl Level {
    fn knows(&self, key: &str) -> bool {
        self.fields.contains(&key)
    }
}

/// The first field of a ServiceMonitor, PodMonitor or PrometheusRule document (`root`, at
/// `start` in `file`) that its CRD does not know, as an error at the field's key.
pub fn check(file: &SourceFile, start: usize, kind: &str, name: &str, root: &Node) -> Result<(), Diagnostic> {
    let spec: &Level = match kind {
        "ServiceMonitor" => &SERVICE_MONITOR_SPEC,
        "PodMonitor" => &POD_MONITOR_SPEC,
        "PrometheusRule" => &PROMETHEUS_RULE_SPEC,
        _ => return Ok(()),
    };
    let mut found = None;
    walk(
        root,
        &OBJECT,
        "",
        &mut |path, level, entry| {
            if found.is_none() {
                found = Some((path.to_string(), level, entry.key.clone(), entry.key_range.clone()));
            }
        },
        &|path| match path {
            "metadata" => Some(&OBJECT_META),
            "spec" => Some(spec),
            "spec.selector" => Some(&LABEL_SELECTOR),
            "spec.namespaceSelector" => Some(&NAMESPACE_SELECTOR),
            "spec.endpoints[]" => Some(&ENDPOINT),
            "spec.podMetricsEndpoints[]" => Some(&POD_METRICS_ENDPOINT),
            "spec.groups[]" => Some(&RULE_GROUP),
            "spec.groups[].rules[]" => Some(&RULE),
            _ => None,
        },
    );
    let Some((path, level, key, range)) = found else {
        return Ok(());
    };
    let near = level
        .fields
        .iter()
        .min_by_key(|f| edit_distance(&key.to_ascii_lowercase(), &f.to_ascii_lowercase()))
        .filter(|f| edit_distance(&key.to_ascii_lowercase(), &f.to_ascii_lowercase()) <= 2);
    let at = if path.is_empty() {
        key.clone()
    } else {
        format!("{path}.{key}")
    };
    let mut error = Diagnostic::error(format!(
        "{}: {kind} {name}: `{at}` is no field of the Prometheus Operator's {kind}: the API server drops it (or refuses the object), so it would do nothing",
        file.path
    ))
    .at(file, start + range.start..start + range.end, "unknown field");
    if let Some(near) = near {
        error = error.help(format!("did you mean `{near}`?"));
    }
    Err(error.help("fix or remove it, then run pullover again; nothing was written"))
}

type Levels<'a> = dyn Fn(&str) -> Option<&'static Level> + 'a;

/// Calls `unknown` for each key `level` (at `path`) and the levels below it do not know.
fn walk(
    node: &Node,
    level: &'static Level,
    path: &str,
    unknown: &mut dyn FnMut(&str, &'static Level, &crate::edit::yaml::Entry),
    below: &Levels,
) {
    for entry in node.entries() {
        if !level.knows(&entry.key) {
            unknown(path, level, &entry);
            continue;
        }
        let Some(value) = entry.value.as_ref() else { continue };
        let child = if path.is_empty() {
            entry.key.clone()
        } else {
            format!("{path}.{}", entry.key)
        };
        match value.kind() {
            NodeKind::Mapping => {
                if let Some(next) = below(&child) {
                    walk(value, next, &child, unknown, below);
                }
            }
            NodeKind::Sequence => {
                let items = format!("{child}[]");
                if let Some(next) = below(&items) {
                    for item in value.items() {
                        if let Some(item) = item.value.as_ref().filter(|v| v.kind() == NodeKind::Mapping) {
                            walk(item, next, &items, unknown, below);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::yaml::YamlDoc;
    use crate::stack::source::RelPath;

    fn checked(text: &str) -> Result<(), String> {
        let file = SourceFile::from_text(RelPath::new("m.yaml").unwrap(), text, 0o644);
        let doc = YamlDoc::parse(text).unwrap();
        let value = doc.value();
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
        check(&file, 0, kind, "x", doc.root().unwrap()).map_err(|e| e.render(false))
    }

    #[test]
    fn a_misspelt_field_is_refused_at_its_line_with_the_field_it_meant() {
        let text = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: x\nspec:\n  selector:\n    matchLabels: {app: x}\n  endpoints:\n    - port: web\n      honorLabel: true\n";
        let error = checked(text).unwrap_err();
        assert!(error.contains("`spec.endpoints[].honorLabel`"), "{error}");
        assert!(error.contains("m.yaml:10:7"), "{error}");
        assert!(error.contains("did you mean `honorLabels`?"), "{error}");
    }

    #[test]
    fn rules_and_pod_monitors_are_checked_to_their_rules_and_endpoints() {
        let rule = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: A\n          expr: up == 0\n          fore: 5m\n";
        assert!(checked(rule).unwrap_err().contains("`spec.groups[].rules[].fore`"));
        let fine = rule.replace("fore:", "for:");
        assert_eq!(checked(&fine), Ok(()));
        let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: x}}\n  podMetricsEndpoints:\n    - portNumber: 9400\n";
        assert_eq!(checked(monitor), Ok(()));
        let endpoint_field = monitor.replace("portNumber", "bearerTokenFile");
        assert!(
            checked(&endpoint_field).is_err(),
            "a ServiceMonitor endpoint's field in a PodMonitor"
        );
    }
}
