//! Finding the gateway in a Kubernetes stack: its workload (by image), its Service, and the
//! path Prometheus scrapes it by (a ServiceMonitor, a PodMonitor, the chart's own
//! ServiceMonitor, or a job in a chart's values or a ConfigMap's prometheus.yml).

use yaml_serde::Value;

use super::model::{
    GATEWAY_PORT, KubeGateway, KubeStack, ScrapePath, pod_monitor_job, pod_monitor_of, selects, service_of,
};
use super::objects::{Chart, Object};
use super::releases;
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Severity};
use crate::edit::yaml::Route;
use crate::stack::discover::{Evidence, evidence};

pub(super) fn is_gateway_image(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split([':', '@']).next().unwrap_or(name);
    name == "pushgateway"
}

pub(super) fn is_aggregation_gateway_image(image: &str) -> bool {
    image.contains("aggregation-gateway")
}

/// Aggregation gateways sum what several pushers send: their series are no one app's.
pub(super) fn aggregation_gateways(kube: &KubeStack) -> Vec<Finding> {
    kube.objects
        .iter()
        .filter(|o| {
            o.containers()
                .iter()
                .any(|c| c.get("image").and_then(Value::as_str).is_some_and(is_aggregation_gateway_image))
        })
        .map(|o| {
            Finding::new(
                FindingId::KubeAggregationGateway,
                Severity::Todo,
                format!(
                    "{} runs an aggregation gateway: its series add up several pushers and are no one app's; pullover never rewrites them",
                    o.display()
                ),
            )
        })
        .collect()
}

pub(super) fn container_ports(container: &Value) -> Vec<(u16, Option<String>)> {
    container
        .get("ports")
        .and_then(Value::as_sequence)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| {
                    let number = p.get("containerPort").and_then(Value::as_u64)?;
                    let name = p.get("name").and_then(Value::as_str).map(str::to_string);
                    Some((u16::try_from(number).ok()?, name))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn find_gateway(kube: &KubeStack, found: &mut Vec<Evidence>) -> Option<KubeGateway> {
    let workload = kube.objects.iter().position(|o| {
        o.is_long_running()
            && o.containers()
                .iter()
                .any(|c| c.get("image").and_then(Value::as_str).is_some_and(is_gateway_image))
    });
    let service = match workload {
        Some(w) => service_of(kube, &kube.objects[w]),
        None => None,
    };
    let (service_name, namespace, port) = match service {
        Some(s) => {
            let object = &kube.objects[s];
            let port = object
                .value
                .get("spec")
                .and_then(|s| s.get("ports"))
                .and_then(Value::as_sequence)
                .and_then(|ports| ports.iter().find_map(|p| p.get("port").and_then(Value::as_u64)))
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(GATEWAY_PORT);
            (object.name.clone(), object.namespace_or_default().to_string(), port)
        }
        None => {
            // The prometheus-pushgateway chart: its Service is named after the release
            // (`prometheus-pushgateway` for the release of that name), in the release's namespace.
            let Some(values) = kube.values.iter().find(|v| v.chart == Chart::PrometheusPushgateway) else {
                // The prometheus chart's `prometheus-pushgateway` subchart, where its release is known.
                let (values, (name, namespace)) = kube
                    .values
                    .iter()
                    .find_map(|v| releases::pushgateway_subchart(v).map(|found| (v, found)))?;
                found.push(evidence(
                    "gateway.service",
                    name.clone(),
                    format!(
                        "{} installs the prometheus chart, whose prometheus-pushgateway subchart is enabled",
                        values.describe(&kube.objects)
                    ),
                ));
                return Some(gateway_scraped(kube, found, None, None, name, namespace, GATEWAY_PORT));
            };
            let (name, namespace) = match &values.release {
                Some(release) => (
                    releases::fullname(&release.name, Chart::PrometheusPushgateway.name(), &values.value),
                    release.namespace.clone(),
                ),
                None => ("prometheus-pushgateway".to_string(), "monitoring".to_string()),
            };
            found.push(evidence(
                "gateway.service",
                name.clone(),
                format!(
                    "{} holds values of the prometheus-pushgateway chart",
                    values.describe(&kube.objects)
                ),
            ));
            (name, namespace, GATEWAY_PORT)
        }
    };
    if let Some(w) = workload {
        found.push(evidence(
            "gateway.service",
            service_name.clone(),
            format!(
                "{} runs the pushgateway image; Service {service_name} selects it",
                kube.objects[w].display()
            ),
        ));
    }
    Some(gateway_scraped(
        kube,
        found,
        workload,
        service,
        service_name,
        namespace,
        port,
    ))
}

/// The gateway found as its Service `service_name` (the object `service`, when the stack holds
/// it) and its workload, with how Prometheus scrapes it: a ServiceMonitor selecting the Service,
/// a PodMonitor selecting its pods, the chart's own ServiceMonitor, a job of a chart's values or
/// of a ConfigMap's `prometheus.yml` naming it; else [`ScrapePath::Unknown`].
pub(super) fn gateway_scraped(
    kube: &KubeStack,
    found: &mut Vec<Evidence>,
    workload: Option<usize>,
    service: Option<usize>,
    service_name: String,
    namespace: String,
    port: u16,
) -> KubeGateway {
    let service_object = service.map(|s| &kube.objects[s]);
    // A ServiceMonitor selecting the Service.
    let monitor = service_object.and_then(|svc| {
        kube.objects
            .iter()
            .position(|o| o.kind == "ServiceMonitor" && selects(&o.match_labels(), &svc.labels()))
    });
    let mut gateway = KubeGateway {
        workload,
        service,
        service_name: service_name.clone(),
        namespace,
        port,
        scrape: ScrapePath::Unknown,
        job: service_name.clone(),
        honor_labels: false,
        interval: None,
        job_label: None,
    };
    if let Some(m) = monitor {
        let object = &kube.objects[m];
        read_monitor(&mut gateway, object, "endpoints");
        // `job` is the Service's name, or the value of the Service label `jobLabel` names.
        if let Some(label) = &gateway.job_label
            && let Some((_, value)) =
                service_object.and_then(|svc| svc.labels().into_iter().find(|(k, v)| k == label && !v.is_empty()))
        {
            gateway.job = value;
        }
        gateway.scrape = ScrapePath::ServiceMonitor(m);
        found.push(evidence(
            "gateway.job",
            gateway.job.clone(),
            format!(
                "ServiceMonitor {} selects Service {service_name} (honorLabels: {})",
                object.name, gateway.honor_labels
            ),
        ));
        return gateway;
    }
    // A PodMonitor selecting the gateway's pods.
    if let Some(w) = workload
        && let Some(m) = pod_monitor_of(kube, &kube.objects[w])
    {
        scraped_by_pod_monitor(kube, found, &mut gateway, w, m);
        return gateway;
    }
    // The chart's own ServiceMonitor, where the gateway is the chart's: its `job` is the Service's
    // name (it sets no `jobLabel`).
    if workload.is_none()
        && let Some((index, monitor)) = kube
            .values
            .iter()
            .enumerate()
            .find_map(|(i, v)| releases::chart_service_monitor(v).map(|m| (i, m)))
    {
        gateway.honor_labels = monitor.honor_labels;
        gateway.interval = monitor.interval;
        gateway.scrape = ScrapePath::ChartServiceMonitor { values: index };
        found.push(evidence(
            "gateway.job",
            gateway.job.clone(),
            format!(
                "the prometheus-pushgateway chart's ServiceMonitor (`serviceMonitor.enabled: true` in {}) selects Service {service_name} (honorLabels: {})",
                kube.values[index].describe(&kube.objects),
                gateway.honor_labels
            ),
        ));
        return gateway;
    }
    scraped_by_config_job(kube, found, gateway)
}

/// The gateway's pods (of workload `w`) scraped by PodMonitor `m`: its targets' `job` is
/// `<namespace>/<name>`, or the value of the pod label `jobLabel` names.
pub(super) fn scraped_by_pod_monitor(
    kube: &KubeStack,
    found: &mut Vec<Evidence>,
    gateway: &mut KubeGateway,
    w: usize,
    m: usize,
) {
    let object = &kube.objects[m];
    read_monitor(gateway, object, "podMetricsEndpoints");
    gateway.job = pod_monitor_job(object, &kube.objects[w], gateway.job_label.as_deref());
    gateway.scrape = ScrapePath::PodMonitor(m);
    found.push(evidence(
        "gateway.job",
        gateway.job.clone(),
        format!(
            "PodMonitor {} selects the pods of {} (honorLabels: {})",
            object.name,
            kube.objects[w].display(),
            gateway.honor_labels
        ),
    ));
}

/// The gateway's scrape path when no monitor scrapes it: a job naming it in a chart's values
/// (`additionalScrapeConfigs`, the prometheus chart's lists) or in a ConfigMap's
/// `prometheus.yml`; else it stays [`ScrapePath::Unknown`].
pub(super) fn scraped_by_config_job(
    kube: &KubeStack,
    found: &mut Vec<Evidence>,
    mut gateway: KubeGateway,
) -> KubeGateway {
    let service_name = gateway.service_name.clone();
    // A scrape job naming the gateway: additionalScrapeConfigs, or a ConfigMap's prometheus.yml.
    let names_gateway = |job: &Value| {
        let text = yaml_serde::to_string(job).unwrap_or_default();
        text.contains(&service_name) || text.contains("pushgateway")
    };
    for (index, values) in kube.values.iter().enumerate() {
        for list in job_lists(values.chart) {
            let jobs: Vec<Value> = match list.find_value(&values.value) {
                Some(Value::Sequence(items)) => items.clone(),
                // The same list written as a YAML string.
                Some(Value::String(text)) => yaml_serde::from_str::<Vec<Value>>(text).unwrap_or_default(),
                _ => Vec::new(),
            };
            let Some(job) = jobs.iter().find(|j| names_gateway(j)) else {
                continue;
            };
            let name = job.get("job_name").and_then(Value::as_str).unwrap_or("pushgateway");
            gateway.job = name.to_string();
            gateway.honor_labels = job.get("honor_labels").and_then(Value::as_bool).unwrap_or(false);
            gateway.interval = job.get("scrape_interval").and_then(Value::as_str).map(str::to_string);
            found.push(evidence(
                "gateway.job",
                name,
                format!(
                    "`{list}` in {} scrape the gateway (honor_labels: {})",
                    values.describe(&kube.objects),
                    gateway.honor_labels
                ),
            ));
            gateway.scrape = ScrapePath::ValuesJob {
                values: index,
                list,
                job: name.to_string(),
            };
            return gateway;
        }
    }
    for (index, object) in kube.objects.iter().enumerate().filter(|(_, o)| o.kind == "ConfigMap") {
        let Some(text) = object
            .value
            .get("data")
            .and_then(|d| d.get("prometheus.yml"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Ok(config) = yaml_serde::from_str::<Value>(text) else {
            continue;
        };
        let jobs = config
            .get("scrape_configs")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        if let Some(job) = jobs.iter().find(|j| names_gateway(j)) {
            let name = job.get("job_name").and_then(Value::as_str).unwrap_or("pushgateway");
            gateway.job = name.to_string();
            gateway.honor_labels = job.get("honor_labels").and_then(Value::as_bool).unwrap_or(false);
            gateway.interval = job.get("scrape_interval").and_then(Value::as_str).map(str::to_string);
            gateway.scrape = ScrapePath::ConfigMapJob {
                object: index,
                job: name.to_string(),
            };
            found.push(evidence(
                "gateway.job",
                name,
                format!(
                    "prometheus.yml in ConfigMap {} scrapes the gateway (honor_labels: {})",
                    object.name, gateway.honor_labels
                ),
            ));
            return gateway;
        }
    }
    gateway
}

/// Where a chart's values hold scrape jobs: kube-prometheus-stack's `additionalScrapeConfigs`;
/// the prometheus chart's `serverFiles."prometheus.yml".scrape_configs` (its own jobs, the
/// gateway's `prometheus-pushgateway` among them) and `extraScrapeConfigs` (a string appended to
/// them).
pub fn job_lists(chart: Chart) -> Vec<Route> {
    match chart {
        Chart::KubePrometheusStack => vec![
            Route::root()
                .key("prometheus")
                .key("prometheusSpec")
                .key("additionalScrapeConfigs"),
        ],
        Chart::Prometheus => vec![
            Route::root()
                .key("serverFiles")
                .key("prometheus.yml")
                .key("scrape_configs"),
            Route::root().key("extraScrapeConfigs"),
        ],
        Chart::PrometheusPushgateway => Vec::new(),
    }
}

/// What a ServiceMonitor or PodMonitor says of the gateway's scrape, from its first endpoint
/// (`endpoints` or `podMetricsEndpoints`): `honorLabels` (false when unset, as the operator
/// reads it), the interval, and the monitor's `jobLabel`.
fn read_monitor(gateway: &mut KubeGateway, monitor: &Object, endpoints: &str) {
    let spec = monitor.value.get("spec");
    let endpoint = spec
        .and_then(|s| s.get(endpoints))
        .and_then(Value::as_sequence)
        .and_then(|e| e.first());
    gateway.honor_labels = endpoint
        .and_then(|e| e.get("honorLabels"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    gateway.interval = endpoint
        .and_then(|e| e.get("interval"))
        .and_then(Value::as_str)
        .map(str::to_string);
    gateway.job_label = spec
        .and_then(|s| s.get("jobLabel"))
        .and_then(Value::as_str)
        .map(str::to_string);
}
