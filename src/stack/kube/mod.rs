//! A stack kept as Kubernetes manifests in git: raw YAML, Kustomize bases and overlays, Helm
//! values of the kube-prometheus-stack, prometheus and prometheus-pushgateway charts.
//!
//! Reading finds the gateway (image, Service on 9091), how Prometheus scrapes it (a
//! ServiceMonitor, an `additionalScrapeConfigs` job, a job of the plain chart's
//! `prometheus.yml`), the pushers (env and args naming the gateway's Service), the dashboards
//! (ConfigMaps and Secrets with the sidecar label, bare JSON files a `configMapGenerator`
//! names) and the rules (PrometheusRule, rule files inside a ConfigMap). The label model and
//! what each phase does with it are in `docs/kubernetes.md`.
//!
//! The rest of pullover plans over a [`Stack`]: this module builds one whose dashboards and
//! rule files are [`embedded::Embedded`] views of the JSON and rule groups inside manifests, so
//! identity, query clues and the query rewrite are the Compose ones; the `phase::kube`
//! planners map their edits back into the manifests.

pub mod embedded;
pub mod objects;
pub mod releases;
pub mod schema;
pub mod target_labels;

use std::rc::Rc;

use yaml_serde::Value;

use crate::changeset::{Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::Route;
use crate::identity::{self, PushedIdentity};
use crate::stack::discover::{Evidence, evidence};
use crate::stack::prometheus::PromConfig;
use crate::stack::read::StackDir;
use crate::stack::settings::{Overrides, SETTINGS_FILE, SettingsFile};
use crate::stack::source::{RelPath, SourceFile};
use crate::stack::{App, Gateway, Settings, Stack, limits};
use embedded::Embedded;
use objects::{Chart, Kustomization, Manifest, Object, Read, ValuesFile};

/// The port a Pushgateway listens on.
pub const GATEWAY_PORT: u16 = 9091;

/// Folders never read: pullover's state, VCS, dependencies, build output.
const SKIPPED_DIRS: [&str; 5] = [".pullover", ".git", "node_modules", "target", "vendor"];

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

/// Whether `dir` holds a Kubernetes stack: no Compose file, and YAML with Kubernetes objects,
/// a kustomization or Helm values of a chart pullover knows.
pub fn detect(dir: &StackDir) -> bool {
    const COMPOSE: [&str; 4] = [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ];
    if COMPOSE
        .iter()
        .any(|name| RelPath::new(*name).is_ok_and(|rel| dir.is_file(&rel)))
    {
        return false;
    }
    if let Ok(rel) = RelPath::new(SETTINGS_FILE)
        && let Ok(Some(file)) = dir.read_as(&rel, limits::Kind::Settings)
        && let Ok(settings) = SettingsFile::parse(&file)
        && (settings.compose_file.is_some() || settings.prometheus_config.is_some())
    {
        return false;
    }
    yaml_files(dir).into_iter().any(|rel| {
        let name = rel.file_name();
        if name.starts_with("kustomization.") {
            return true;
        }
        dir.read(&rel)
            .ok()
            .flatten()
            .is_some_and(|file| matches!(objects::read(file), Ok(Read::Manifest(..) | Read::Values(_))))
    })
}

fn yaml_files(dir: &StackDir) -> Vec<RelPath> {
    dir.files_in_stack(&[".yaml", ".yml"], &SKIPPED_DIRS)
        .into_iter()
        .filter(|rel| rel.as_str() != SETTINGS_FILE)
        .collect()
}

/// Reads the stack as Kubernetes manifests and builds the [`Stack`] the planners read.
pub fn load(dir: &StackDir, overrides: &Overrides, use_settings_file: bool) -> Result<Stack, Diagnostic> {
    let settings_file = if use_settings_file {
        let rel = RelPath::new(SETTINGS_FILE).map_err(Diagnostic::error)?;
        dir.read_as(&rel, limits::Kind::Settings)?
            .as_ref()
            .map(SettingsFile::parse)
            .transpose()?
    } else {
        None
    };
    let pinned = settings_file.clone().unwrap_or_default();
    let mut kube = read_all(dir)?;
    let mut found = vec![evidence(
        "stack",
        "kubernetes",
        "no Compose file; YAML with Kubernetes objects, kustomizations or Helm values",
    )];
    kube.gateway = find_gateway(&kube, &mut found);
    kube.pushers = find_pushers(&kube);
    let mut notes = Vec::new();
    kube.embedded = embedded::find(&kube, &mut notes)?;
    kube.findings.extend(notes);
    kube.findings.extend(aggregation_gateways(&kube));
    let json_dashboards = json_dashboards(dir, &kube)?;

    let gateway = kube.gateway.as_ref().map(|g| Gateway {
        service: Some(g.service_name.clone()),
        host: format!("{}.{}.svc", g.service_name, g.namespace),
        port: g.port,
        job: Some(g.job.clone()),
        honor_labels: g.honor_labels,
    });
    let (apps, findings) = apps_of(&kube, &pinned, &mut found);
    kube.findings.extend(findings);
    if let Some(only) = overrides.gateway.as_deref()
        && gateway.as_ref().is_some_and(|g| g.service.as_deref() != Some(only))
    {
        return Err(Diagnostic::error(format!(
            "--gateway {only}: the gateway of this Kubernetes stack is the Service {}",
            gateway.as_ref().and_then(|g| g.service.clone()).unwrap_or_default()
        ))
        .help("leave --gateway out on a Kubernetes stack"));
    }

    // Jobs other pushers push as (a CronJob's push URL): queries on them are not the apps'.
    let other_jobs: Vec<String> = kube
        .pushers
        .iter()
        .filter(|p| !kube.objects[p.object].is_long_running())
        .filter_map(|p| p.url_job.as_ref().map(|(job, _)| job.clone()))
        .collect();
    let prometheus = synthetic_prometheus(gateway.as_ref(), &other_jobs)?;
    let mut docs = Vec::new();
    for name in ["README.md", "METRICS.md"] {
        let rel = RelPath::new(name).map_err(Diagnostic::error)?;
        if let Some(file) = dir.read(&rel)? {
            found.push(evidence("docs", name, "a usual docs file at the stack root"));
            docs.push(file);
        }
    }
    let mut dashboards: Vec<SourceFile> = json_dashboards;
    let mut rule_files = Vec::new();
    for view in &kube.embedded {
        match view.what {
            embedded::What::Dashboard => dashboards.push(view.view.clone()),
            embedded::What::RuleGroups => rule_files.push(view.view.clone()),
        }
    }
    let mut scrape = pinned.scrape.clone().unwrap_or_default();
    if let Some(interval) = kube.gateway.as_ref().and_then(|g| g.interval.clone()) {
        scrape.interval = interval;
    }
    // No Grafana provisioning is read here: queries name their data source or the default.
    let known = crate::dashboard::KnownDatasources::default();
    let dashboards = crate::parallel::map_in_parallel(dashboards, |file| super::DashboardFile::read(file, &known));
    let live = super::merge_live(pinned.live.clone().unwrap_or_default(), overrides);
    let settings = Settings::new(gateway, apps, scrape, live, overrides);
    let dialect = crate::promql::Dialect::assumed("a Kubernetes stack: the image tag is not read");
    let stack = Stack {
        rule_files,
        dashboards,
        docs,
        kube: Some(Rc::new(kube)),
        ..Stack::new(settings, settings_file, prometheus, dialect, found)
    };
    Ok(stack.with_identities())
}

/// The long-running pushers as the apps to move, each with what is known of who it pushes as;
/// a batch pusher, or one declaring no port, is a finding instead (returned beside them).
fn apps_of(kube: &KubeStack, pinned: &SettingsFile, found: &mut Vec<Evidence>) -> (Vec<App>, Vec<Finding>) {
    let mut apps = Vec::new();
    let mut findings = Vec::new();
    for pusher in &kube.pushers {
        let object = &kube.objects[pusher.object];
        if !object.is_long_running() {
            findings.push(batch_pusher_finding(kube, pusher));
            continue;
        }
        let Some((port, _)) = pusher.port else {
            findings.push(
                Finding::new(
                    "kube-pusher-without-port",
                    Severity::Todo,
                    format!(
                        "{} pushes to the gateway but its container `{}` declares no port to scrape",
                        object.display(),
                        pusher.container
                    ),
                )
                .waiting()
                .tip(
                    "add the port it serves /metrics on to the container's `ports:` (named `metrics`), then plan again",
                ),
            );
            continue;
        };
        let pin = pinned.apps.iter().find(|a| a.service == object.name);
        let known = identity::Known {
            pinned_job: pin.and_then(|p| p.pushed_job.clone()),
            pinned_instances: pin.map(|p| p.pushed_instances.clone()).unwrap_or_default(),
            pinned_metrics: pin.map(|p| p.metrics.clone()).unwrap_or_default(),
            code_job: pusher.url_job.clone(),
            code_instances: None,
        };
        let job = new_job(kube, pusher);
        found.push(evidence(
            &format!("apps.{}", object.name),
            format!("{} {} port {port}", object.kind, object.name),
            format!(
                "its container `{}` names the gateway ({})",
                pusher.container,
                pusher.mentions.first().map_or("", |(_, text)| text.as_str())
            ),
        ));
        apps.push(App {
            service: object.name.clone(),
            port,
            job,
            pushed_job: object.name.clone(),
            pushed_instances: Vec::new(),
            metrics: pin.map(|p| p.metrics.clone()).unwrap_or_default(),
            identity: PushedIdentity::assumed(&object.name),
            known,
            in_compose: false,
            code: Vec::new(),
        });
    }
    (apps, findings)
}

fn read_all(dir: &StackDir) -> Result<KubeStack, Diagnostic> {
    let mut kube = KubeStack::default();
    let mut heads = Vec::new();
    for rel in yaml_files(dir) {
        let Some(file) = dir.read(&rel)? else { continue };
        match objects::read(file)? {
            Read::Manifest(manifest, found) => {
                heads.push((kube.manifests.len(), found));
                kube.manifests.push(manifest);
            }
            Read::Kustomization(k) => kube.kustomizations.push(k),
            Read::Values(v) => kube.values.push(v),
            Read::Other => {}
        }
    }
    for (manifest, found) in heads {
        let path = kube.manifests[manifest].file.path.clone();
        let listed_by = kube.kustomizations.iter().find(|k| {
            k.resources()
                .iter()
                .any(|r| RelPath::join_relative(k.folder(), r).is_ok_and(|p| p == path))
        });
        let inherited = listed_by
            .and_then(|k| k.doc.value().get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_string);
        for head in found {
            kube.objects.push(Object {
                manifest,
                doc: head.doc,
                api_version: head.api_version,
                kind: head.kind,
                name: head.name,
                namespace_written: head.namespace.is_some(),
                namespace: head.namespace.or_else(|| inherited.clone()),
                value: head.value,
            });
        }
    }
    let inline = releases::read(&kube.manifests, &kube.objects)?;
    kube.values.extend(inline);
    Ok(kube)
}

/// Bare JSON dashboards: files a kustomization generates ConfigMaps from, that look like
/// dashboards (a `panels` or `rows` key).
fn json_dashboards(dir: &StackDir, kube: &KubeStack) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut out = Vec::new();
    for k in &kube.kustomizations {
        for rel in k
            .generated_files()
            .into_iter()
            .filter(|r| r.as_str().ends_with(".json"))
        {
            if out.iter().any(|f: &SourceFile| f.path == rel) {
                continue;
            }
            if let Some(file) = dir.read_as(&rel, limits::Kind::Dashboard)? {
                let looks_like_one = serde_json::from_str::<serde_json::Value>(file.text())
                    .is_ok_and(|v| v.get("panels").is_some() || v.get("rows").is_some());
                if looks_like_one {
                    out.push(file);
                }
            }
        }
    }
    Ok(out)
}

fn is_gateway_image(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split([':', '@']).next().unwrap_or(name);
    name == "pushgateway"
}

fn is_aggregation_gateway_image(image: &str) -> bool {
    image.contains("aggregation-gateway")
}

/// Aggregation gateways sum what several pushers send: their series are no one app's.
fn aggregation_gateways(kube: &KubeStack) -> Vec<Finding> {
    kube.objects
        .iter()
        .filter(|o| {
            o.containers()
                .iter()
                .any(|c| c.get("image").and_then(Value::as_str).is_some_and(is_aggregation_gateway_image))
        })
        .map(|o| {
            Finding::new(
                "kube-aggregation-gateway",
                Severity::Todo,
                format!(
                    "{} runs an aggregation gateway: its series add up several pushers and are no one app's; pullover never rewrites them",
                    o.display()
                ),
            )
        })
        .collect()
}

/// Whether `selector` (a Service's `spec.selector` or a `matchLabels`) selects `labels`.
pub fn selects(selector: &[(String, String)], labels: &[(String, String)]) -> bool {
    !selector.is_empty() && selector.iter().all(|pair| labels.contains(pair))
}

fn container_ports(container: &Value) -> Vec<(u16, Option<String>)> {
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
        let selector = objects::string_map(spec.and_then(|s| s.get("selector")).and_then(|s| s.get("matchLabels")));
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

/// The `job` the app's series get when scraped directly: its Service's name, or, when the
/// gateway's ServiceMonitor names a `jobLabel` (and so does the app's), the value of that label
/// on the app's Service (the one `scrape` creates carries the pods' selector labels).
fn new_job(kube: &KubeStack, pusher: &Pusher) -> String {
    let workload = &kube.objects[pusher.object];
    // Under PodMonitors the app gets a PodMonitor named after it, next to it.
    if let Some(gateway) = &kube.gateway
        && let ScrapePath::PodMonitor(monitor) = gateway.scrape
    {
        // Next to the gateway's PodMonitor where that one is kept apart from the gateway's pods.
        let monitor_namespace = kube.objects[monitor].namespace_or_default();
        let namespace = if monitor_namespace != gateway.namespace {
            monitor_namespace
        } else {
            workload.namespace_or_default()
        };
        return gateway
            .job_label
            .as_deref()
            .and_then(|label| {
                workload
                    .pod_labels()
                    .into_iter()
                    .find(|(k, v)| k == label && !v.is_empty())
            })
            .map_or_else(|| format!("{namespace}/{}", workload.name), |(_, value)| value);
    }
    let service_labels = match service_of(kube, workload) {
        Some(i) => kube.objects[i].labels(),
        None => objects::string_map(
            workload
                .value
                .get("spec")
                .and_then(|s| s.get("selector"))
                .and_then(|s| s.get("matchLabels")),
        ),
    };
    kube.gateway
        .as_ref()
        .and_then(|g| g.job_label.as_ref())
        .filter(|_| {
            kube.gateway
                .as_ref()
                .is_some_and(|g| matches!(g.scrape, ScrapePath::ServiceMonitor(_)))
        })
        .and_then(|label| service_labels.into_iter().find(|(k, v)| k == label && !v.is_empty()))
        .map_or_else(|| app_service_name(kube, workload), |(_, value)| value)
}

fn find_gateway(kube: &KubeStack, found: &mut Vec<Evidence>) -> Option<KubeGateway> {
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
fn gateway_scraped(
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
        kube.objects.iter().position(|o| {
            o.kind == "ServiceMonitor"
                && selects(
                    &objects::string_map(
                        o.value
                            .get("spec")
                            .and_then(|s| s.get("selector"))
                            .and_then(|s| s.get("matchLabels")),
                    ),
                    &svc.labels(),
                )
        })
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
        let endpoint = object
            .value
            .get("spec")
            .and_then(|s| s.get("endpoints"))
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
        // `job` is the Service's name, or the value of the Service label `jobLabel` names.
        gateway.job_label = object
            .value
            .get("spec")
            .and_then(|s| s.get("jobLabel"))
            .and_then(Value::as_str)
            .map(str::to_string);
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
fn scraped_by_pod_monitor(kube: &KubeStack, found: &mut Vec<Evidence>, gateway: &mut KubeGateway, w: usize, m: usize) {
    let object = &kube.objects[m];
    let spec = object.value.get("spec");
    let endpoint = spec
        .and_then(|s| s.get("podMetricsEndpoints"))
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
fn scraped_by_config_job(kube: &KubeStack, found: &mut Vec<Evidence>, mut gateway: KubeGateway) -> KubeGateway {
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

/// Every workload container whose env values or args name the gateway's Service.
fn find_pushers(kube: &KubeStack) -> Vec<Pusher> {
    let Some(gateway) = &kube.gateway else {
        return Vec::new();
    };
    let names = |text: &str, own_namespace: bool| {
        let svc = &gateway.service_name;
        let ns = &gateway.namespace;
        [
            format!("{svc}.{ns}.svc.cluster.local"),
            format!("{svc}.{ns}.svc"),
            format!("{svc}.{ns}:"),
            format!("{svc}.{ns}/"),
        ]
        .iter()
        .any(|needle| text.contains(needle.as_str()))
            || (text.ends_with(&format!("{svc}.{ns}")))
            || (own_namespace && (text.contains(&format!("//{svc}:")) || text.starts_with(&format!("{svc}:"))))
    };
    let mut out = Vec::new();
    for (index, object) in kube.objects.iter().enumerate() {
        if Some(index) == gateway.workload || object.pod_template().is_none() {
            continue;
        }
        let own_namespace = object.namespace_or_default() == gateway.namespace;
        for container in object.containers() {
            let mut texts: Vec<String> = Vec::new();
            for item in container.get("env").and_then(Value::as_sequence).into_iter().flatten() {
                if let Some(value) = item.get("value").and_then(crate::edit::yaml::scalar_string) {
                    texts.push(value);
                }
            }
            for key in ["args", "command"] {
                texts.extend(objects::strings(container.get(key)));
            }
            let hits: Vec<String> = texts.into_iter().filter(|t| names(t, own_namespace)).collect();
            if hits.is_empty() {
                continue;
            }
            let manifest = &kube.manifests[object.manifest];
            let mentions = hits
                .iter()
                .map(|text| {
                    let offset = manifest.file.text()[manifest.stream.docs()[object.doc].range.start..]
                        .find(text.as_str())
                        .map_or(0, |at| at + manifest.stream.docs()[object.doc].range.start);
                    (Location::at(&manifest.file, offset), text.clone())
                })
                .collect();
            let url_job = hits.iter().find_map(|text| {
                let rest = text.split("/metrics/job/").nth(1)?;
                let job = rest.split('/').next()?.to_string();
                (!job.is_empty()).then(|| (job, format!("a push URL in {}", object.display())))
            });
            let ports = container_ports(container);
            let port = ports
                .iter()
                .find(|(_, n)| n.as_deref() == Some("metrics"))
                .or_else(|| ports.iter().find(|(_, n)| n.as_deref() == Some("http")))
                .or_else(|| ports.first())
                .cloned();
            out.push(Pusher {
                object: index,
                container: container
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                mentions,
                url_job,
                port,
            });
        }
    }
    out
}

fn batch_pusher_finding(kube: &KubeStack, pusher: &Pusher) -> Finding {
    let object = &kube.objects[pusher.object];
    let finding = Finding::new(
        "kube-batch-pusher-keeps-gateway",
        Severity::Info,
        format!(
            "{} is a batch job that pushes to the gateway: it stays on the gateway, and so does the gateway",
            object.display()
        ),
    )
    .tip("the Pushgateway is meant for service-level batch jobs; only long-running pushers move (docs/kubernetes.md)");
    match pusher.mentions.first() {
        Some((location, _)) => finding.at(location.clone()),
        None => finding,
    }
}

/// A `prometheus.yml` for the shared planners: the gateway's job with its `honor_labels` and
/// Service address, and the jobs batch pushers push as (so their queries are no app's). It is
/// never written anywhere.
fn synthetic_prometheus(gateway: Option<&Gateway>, other_jobs: &[String]) -> Result<PromConfig, Diagnostic> {
    let mut text = match gateway {
        Some(g) => format!(
            "scrape_configs:\n  - job_name: {:?}\n    honor_labels: {}\n    static_configs:\n      - targets: [{:?}]\n",
            g.job.clone().unwrap_or_default(),
            g.honor_labels,
            g.address()
        ),
        None => "scrape_configs: []\n".to_string(),
    };
    if gateway.is_some() {
        for job in other_jobs {
            text.push_str(&format!("  - job_name: {job:?}\n"));
        }
    }
    let path = RelPath::new(".pullover-kubernetes/prometheus.yml").map_err(Diagnostic::error)?;
    PromConfig::parse(SourceFile::from_text(path, text, 0o644))
}
