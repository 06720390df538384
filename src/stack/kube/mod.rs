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
mod gateway;
pub mod model;
pub mod objects;
pub mod releases;
pub mod schema;
pub mod target_labels;

use std::rc::Rc;

use yaml_serde::Value;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::identity::{self, PushedIdentity};
use crate::stack::discover::{Evidence, evidence};
use crate::stack::prometheus::PromConfig;
use crate::stack::read::StackDir;
use crate::stack::settings::{Overrides, SETTINGS_FILE, SettingsFile};
use crate::stack::source::{RelPath, SourceFile};
use crate::stack::{App, Gateway, Settings, Stack, limits};
pub use gateway::job_lists;
use gateway::{aggregation_gateways, container_ports, find_gateway};
pub use model::{
    GATEWAY_PORT, KubeGateway, KubeStack, Pusher, ScrapePath, app_service_name, pod_monitor_job, pod_monitor_of,
    selects, service_of,
};
use objects::{Object, Read};

/// Folders never read: pullover's state, VCS, dependencies, build output.
const SKIPPED_DIRS: [&str; 5] = [".pullover", ".git", "node_modules", "target", "vendor"];

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
                    FindingId::KubePusherWithoutPort,
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
        None => workload.match_labels(),
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
        FindingId::KubeBatchPusherKeepsGateway,
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
