//! The stack as read: settings resolved from flags, `pullover.yaml` and
//! discovery, and the files the phases plan over. All reading happens here;
//! planners get a [`Stack`] and do no I/O.

pub mod compose;
pub mod discover;
pub mod prometheus;
pub mod read;
pub mod settings;
pub mod source;

use std::path::Path;

use compose::Compose;
use discover::{Evidence, evidence};
use prometheus::PromConfig;
use read::StackDir;
use settings::{LiveSettings, Overrides, SETTINGS_FILE, ScrapeSettings, SettingsFile};
use source::{RelPath, SourceFile};

use crate::diagnostic::Diagnostic;

/// Settings after flags, `pullover.yaml` and discovery.
#[derive(Debug, Clone)]
pub struct Settings {
    pub gateway: Option<Gateway>,
    pub apps: Vec<App>,
    pub scrape: ScrapeSettings,
    pub live: LiveSettings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The Compose service, when the gateway runs in the stack.
    pub service: Option<String>,
    /// Host and port Prometheus scrapes it at (`pushgateway:9091`).
    pub host: String,
    pub port: u16,
    /// The scrape job that scrapes it, when prometheus.yml has one.
    pub job: Option<String>,
    pub honor_labels: bool,
}

impl Gateway {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// An app that pushes today and will be scraped directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub service: String,
    pub port: u16,
    /// Name of the new scrape job.
    pub job: String,
    /// The `job` it pushes under.
    pub pushed_job: String,
    pub pushed_instances: Vec<String>,
    pub metrics: Vec<String>,
    /// False for a host that is not a Compose service (allowed, reported).
    pub in_compose: bool,
}

impl App {
    pub fn target(&self) -> String {
        format!("{}:{}", self.service, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub settings: Settings,
    /// `pullover.yaml` as written, if there is one.
    pub settings_file: Option<SettingsFile>,
    pub compose: Option<Compose>,
    pub prometheus: PromConfig,
    pub rule_files: Vec<SourceFile>,
    /// `rule_files` patterns of prometheus.yml as written, each with its host
    /// glob relative to the stack root (`None` when it cannot be mapped).
    pub rule_patterns: Vec<(String, Option<String>)>,
    pub dashboards: Vec<SourceFile>,
    pub docs: Vec<SourceFile>,
    /// What discovery decided, and why.
    pub evidence: Vec<Evidence>,
}

impl Stack {
    pub fn load(root: &Path, overrides: &Overrides) -> Result<Stack, Diagnostic> {
        let dir = StackDir::open(root)?;
        load(&dir, overrides)
    }

    /// Every file this stack was read from.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.compose
            .iter()
            .map(|c| &c.file)
            .chain(std::iter::once(&self.prometheus.file))
            .chain(&self.rule_files)
            .chain(&self.dashboards)
            .chain(&self.docs)
    }

    pub fn file(&self, path: &RelPath) -> Option<&SourceFile> {
        self.files().find(|f| &f.path == path)
    }

    /// Folder new dashboards go to: the first provisioned dashboards folder.
    pub fn dashboards_dir(&self) -> Option<RelPath> {
        self.evidence
            .iter()
            .find(|e| e.setting == "dashboards")
            .and_then(|e| RelPath::new(e.value.clone()).ok())
    }
}

fn load(dir: &StackDir, overrides: &Overrides) -> Result<Stack, Diagnostic> {
    let settings_path = RelPath::new(SETTINGS_FILE).map_err(Diagnostic::error)?;
    let settings_file = dir.read(&settings_path)?.map(|f| SettingsFile::parse(&f)).transpose()?;
    let pinned = settings_file.clone().unwrap_or_default();
    let mut found = Vec::new();

    let compose = match discover::find_compose_file(dir, &pinned)? {
        Some((path, why)) => {
            found.push(why);
            let file = dir.require(&path, "Compose file", "check `compose_file:` in pullover.yaml")?;
            Some(Compose::parse(file)?)
        }
        None => None,
    };

    let (prom_path, why) = discover::find_prometheus_config(dir, compose.as_ref(), &pinned, overrides)?;
    found.push(why);
    let prometheus = PromConfig::parse(dir.require(
        &prom_path,
        "Prometheus config",
        "pass --prometheus-config PATH relative to the stack folder",
    )?)?;

    let gateway = resolve_gateway(compose.as_ref(), &prometheus, &pinned, overrides, &mut found)?;
    let apps = match &gateway {
        Some(gateway) => resolve_apps(dir, compose.as_ref(), gateway, &pinned, overrides, &mut found)?,
        None => Vec::new(),
    };

    let rule_patterns = rule_patterns(compose.as_ref(), &prometheus);
    let rule_files = read_rule_files(dir, &rule_patterns)?;
    let dashboard_dirs = resolve_dashboard_dirs(dir, compose.as_ref(), &pinned, overrides, &mut found)?;
    let mut dashboards = Vec::new();
    for folder in &dashboard_dirs {
        for path in dir.files_under(folder, &[".json"]) {
            if let Some(file) = dir.read(&path)? {
                dashboards.push(file);
            }
        }
    }
    let doc_names = if pinned.docs.is_empty() {
        vec!["README.md".to_string(), "METRICS.md".to_string()]
    } else {
        pinned.docs.clone()
    };
    let mut docs = Vec::new();
    for name in doc_names {
        let rel = RelPath::new(name.clone()).map_err(|e| Diagnostic::error(format!("docs: {e}")))?;
        if let Some(file) = dir.read(&rel)? {
            docs.push(file);
        }
    }

    let live = merge_live(pinned.live.clone().unwrap_or_default(), overrides);
    Ok(Stack {
        settings: Settings {
            gateway,
            apps,
            scrape: pinned.scrape.clone().unwrap_or_default(),
            live,
        },
        settings_file,
        compose,
        prometheus,
        rule_files,
        rule_patterns,
        dashboards,
        docs,
        evidence: found,
    })
}

fn merge_live(mut live: LiveSettings, overrides: &Overrides) -> LiveSettings {
    if overrides.prometheus_url.is_some() {
        live.prometheus_url = overrides.prometheus_url.clone();
    }
    if overrides.pushgateway_url.is_some() {
        live.pushgateway_url = overrides.pushgateway_url.clone();
    }
    if overrides.app_url.is_some() {
        live.app_url = overrides.app_url.clone();
    }
    live
}

fn resolve_gateway(
    compose: Option<&Compose>,
    prometheus: &PromConfig,
    pinned: &SettingsFile,
    overrides: &Overrides,
    found: &mut Vec<Evidence>,
) -> Result<Option<Gateway>, Diagnostic> {
    let service = discover::find_gateway(compose, pinned, overrides)?;
    let pinned_gateway = pinned.gateway.clone().unwrap_or_default();
    let (host, port) = match &service {
        Some((name, why)) => {
            found.push(why.clone());
            let port = compose
                .and_then(|c| c.service(name))
                .and_then(|s| s.listen_port())
                .unwrap_or(9091);
            (name.clone(), port)
        }
        None => match &pinned_gateway.job {
            // No Compose service: the job's first target names the gateway.
            Some(job) => match prometheus.job(job).and_then(|j| j.targets.first()) {
                Some(target) => {
                    let (h, p) = target.rsplit_once(':').unwrap_or((target.as_str(), "9091"));
                    (h.to_string(), p.parse().unwrap_or(9091))
                }
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    let job = match &pinned_gateway.job {
        Some(job) => Some(job.clone()),
        None => {
            let by_target: Vec<&str> = prometheus
                .jobs_targeting(&host, Some(port))
                .map(|j| j.name.as_str())
                .collect();
            match by_target.as_slice() {
                [one] => {
                    found.push(evidence(
                        "gateway.job",
                        *one,
                        format!("its static target is {host}:{port}"),
                    ));
                    Some(one.to_string())
                }
                [] => prometheus.job(&host).map(|j| {
                    found.push(evidence(
                        "gateway.job",
                        j.name.clone(),
                        "named after the gateway service",
                    ));
                    j.name.clone()
                }),
                many => {
                    return Err(Diagnostic::error(format!(
                        "several scrape jobs target {host}:{port}: {}",
                        many.join(", ")
                    ))
                    .help("set `gateway: {job: …}` in pullover.yaml to the job that scrapes the pushed metrics"));
                }
            }
        }
    };
    let honor_labels = pinned_gateway
        .honor_labels
        .or_else(|| job.as_deref().and_then(|j| prometheus.job(j)).map(|j| j.honor_labels))
        .unwrap_or(false);
    Ok(Some(Gateway {
        service: service.map(|(s, _)| s),
        host,
        port,
        job,
        honor_labels,
    }))
}

fn resolve_apps(
    dir: &StackDir,
    compose: Option<&Compose>,
    gateway: &Gateway,
    pinned: &SettingsFile,
    overrides: &Overrides,
    found: &mut Vec<Evidence>,
) -> Result<Vec<App>, Diagnostic> {
    let pinned_apps: Vec<settings::AppSettings> = if !overrides.apps.is_empty() {
        overrides
            .apps
            .iter()
            .map(|a| {
                // Flags name service and port; other keys still come from pullover.yaml.
                let base = pinned
                    .apps
                    .iter()
                    .find(|p| p.service == a.service)
                    .cloned()
                    .unwrap_or_default();
                settings::AppSettings {
                    service: a.service.clone(),
                    port: a.port.or(base.port),
                    ..base
                }
            })
            .collect()
    } else {
        pinned.apps.clone()
    };
    let candidates: Vec<settings::AppSettings> = if pinned_apps.is_empty() {
        let Some(compose) = compose else {
            return Err(Diagnostic::error("no Compose file to find the pushing app in")
                .help("name it with --app SERVICE:PORT (repeatable)"));
        };
        let pushing = discover::find_pushing_services(compose, &gateway.host, dir);
        if pushing.is_empty() {
            return Err(Diagnostic::error(format!(
                "no service in {} points at {}",
                compose.file.path, gateway.host
            ))
            .help("name the app that pushes with --app SERVICE:PORT (repeatable), or `apps:` in pullover.yaml"));
        }
        pushing
            .into_iter()
            .map(|(service, why)| {
                found.push(evidence("apps", service.name.clone(), why));
                settings::AppSettings {
                    service: service.name.clone(),
                    ..Default::default()
                }
            })
            .collect()
    } else {
        pinned_apps
    };
    candidates
        .into_iter()
        .map(|app| {
            let service = compose.and_then(|c| c.service(&app.service));
            let port = match app.port {
                Some(port) => port,
                None => {
                    let from_env = service.and_then(|s| {
                        s.environment
                            .iter()
                            .find(|(k, _)| k == "PORT")
                            .and_then(|(_, v)| v.as_deref()?.parse().ok())
                    });
                    let port = service.and_then(|s| s.listen_port()).or(from_env).ok_or_else(|| {
                        Diagnostic::error(format!("cannot tell which port {} serves /metrics on", app.service)).help(
                            format!(
                                "pass --app {}:PORT, or set `port:` for it under `apps:` in pullover.yaml",
                                app.service
                            ),
                        )
                    })?;
                    found.push(evidence(
                        &format!("apps.{}.port", app.service),
                        port.to_string(),
                        "from the service's expose/ports/PORT",
                    ));
                    port
                }
            };
            Ok(App {
                job: app.job.clone().unwrap_or_else(|| app.service.clone()),
                pushed_job: app.pushed_job.clone().unwrap_or_else(|| app.service.clone()),
                pushed_instances: app.pushed_instances.clone(),
                metrics: app.metrics.clone(),
                in_compose: service.is_some(),
                service: app.service,
                port,
            })
        })
        .collect()
}

/// Each `rule_files` pattern with its glob on the host, relative to the stack root.
fn rule_patterns(compose: Option<&Compose>, prometheus: &PromConfig) -> Vec<(String, Option<String>)> {
    let config_dir = prometheus.file.path.parent().to_string();
    prometheus
        .rule_files
        .iter()
        .map(|pattern| {
            let host = if pattern.starts_with('/') {
                // A container path: map it back through the prometheus service's mounts.
                compose.and_then(|c| {
                    c.services
                        .iter()
                        .filter(|s| discover::is_prometheus_service(s))
                        .find_map(|s| {
                            discover::host_path_for(c.file.path.parent(), &s.volumes, pattern).map(|p| p.to_string())
                        })
                })
            } else {
                RelPath::join_relative(&config_dir, pattern).ok().map(|p| p.to_string())
            };
            (pattern.clone(), host)
        })
        .collect()
}

fn read_rule_files(dir: &StackDir, patterns: &[(String, Option<String>)]) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut files: Vec<SourceFile> = Vec::new();
    for host_pattern in patterns.iter().filter_map(|(_, host)| host.as_deref()) {
        for path in dir.glob(host_pattern) {
            if !files.iter().any(|f| f.path == path)
                && let Some(file) = dir.read(&path)?
            {
                files.push(file);
            }
        }
    }
    Ok(files)
}

fn resolve_dashboard_dirs(
    dir: &StackDir,
    compose: Option<&Compose>,
    pinned: &SettingsFile,
    overrides: &Overrides,
    found: &mut Vec<Evidence>,
) -> Result<Vec<RelPath>, Diagnostic> {
    let explicit = if !overrides.dashboards.is_empty() {
        Some((overrides.dashboards.clone(), "--dashboards"))
    } else if !pinned.dashboards.is_empty() {
        Some((pinned.dashboards.clone(), "set in pullover.yaml"))
    } else {
        None
    };
    if let Some((dirs, why)) = explicit {
        return dirs
            .into_iter()
            .map(|d| {
                let rel = RelPath::new(d.clone()).map_err(|e| Diagnostic::error(format!("dashboards: {e}")))?;
                found.push(evidence("dashboards", rel.to_string(), why));
                Ok(rel)
            })
            .collect();
    }
    Ok(discover::find_dashboard_dirs(dir, compose)
        .into_iter()
        .map(|(rel, why)| {
            found.push(why);
            rel
        })
        .collect())
}
