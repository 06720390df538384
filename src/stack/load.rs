//! Reading a Compose stack (a Kubernetes one is read by `kube/`): flags, then `pullover.yaml`,
//! then discovery, one step a part of the stack — the Compose file, prometheus.yml, the
//! gateway, the apps, rules, dashboards, docs — each step adding the evidence of what it found.

use super::apps::{AppSources, resolve_apps};
use super::code::read_code;
use super::compose::{self, Compose, ComposeVars, parse_dotenv};
use super::dashboard_dirs::{read_dashboards, resolve_dashboard_dirs};
use super::discover::{self, Ask, Evidence, PathQuestion, evidence};
use super::gateway::resolve_gateway;
use super::prometheus::PromConfig;
use super::read::StackDir;
use super::settings::{Overrides, SETTINGS_FILE, ScrapeSettings, SettingsFile, setting_path};
use super::source::{RelPath, SourceFile};
use super::{App, DashboardFile, Gateway, Settings, Stack, flags, grafana, limits, prometheus_version, services};
use crate::diagnostic::Diagnostic;
use crate::duration::parse_prometheus_duration;

/// The Compose stack in `dir`: `pullover.yaml` read unless `use_settings_file` is false (what
/// `init` writes from); `ask` settles what discovery cannot decide alone.
pub(super) fn load_compose(
    dir: &StackDir,
    overrides: &Overrides,
    use_settings_file: bool,
    ask: &mut dyn Ask,
) -> Result<Stack, Diagnostic> {
    let settings_source = if use_settings_file {
        let settings_path = RelPath::new(SETTINGS_FILE).map_err(Diagnostic::error)?;
        dir.read_as(&settings_path, limits::Kind::Settings)?
    } else {
        None
    };
    let settings_file = settings_source.as_ref().map(SettingsFile::parse).transpose()?;
    let pinned = settings_file.clone().unwrap_or_default();
    let mut found = Vec::new();

    let compose = read_compose(dir, &pinned, &mut found)?;
    // A typo'd --app/--gateway, or `service:` in pullover.yaml, is an error naming the nearest
    // service, not a quiet guess.
    let overrides = &flags::check(compose.as_ref(), overrides)?;
    if let (Some(settings), Some(source)) = (&settings_file, &settings_source) {
        flags::check_settings(compose.as_ref(), settings, source)?;
    }
    let (prometheus_dialect, why) = prometheus_version::resolve(compose.as_ref(), &pinned, settings_source.as_ref())?;
    found.push(why);
    let prometheus = read_prometheus(dir, compose.as_ref(), &pinned, overrides, ask, &mut found)?;

    let gateway = resolve_gateway(compose.as_ref(), &prometheus, &pinned, overrides, &mut found)?;
    let code = read_code(dir, compose.as_ref(), &pinned)?;
    let apps = match &gateway {
        Some(gateway) => {
            let sources = AppSources {
                dir,
                compose: compose.as_ref(),
                pinned: &pinned,
                overrides,
                code: &code,
            };
            resolve_apps(&sources, gateway, ask, &mut found)?
        }
        None => Vec::new(),
    };

    let rule_patterns = rule_patterns(compose.as_ref(), &prometheus);
    let rule_files = read_rule_files(dir, &rule_patterns, &prometheus.file.path, &mut found)?;
    let dashboard_dirs = resolve_dashboard_dirs(dir, compose.as_ref(), &pinned, overrides, ask, &mut found)?;
    let dashboards = read_dashboards(dir, &dashboard_dirs)?;
    let docs = read_docs(dir, &pinned, &mut found)?;
    let service_files = compose
        .as_ref()
        .map(|c| services::read_service_files(dir, c))
        .unwrap_or_default();
    let datasources = grafana::read_datasources(dir, compose.as_ref());
    let known = grafana::known(&datasources);
    let dashboards = crate::parallel::map_in_parallel(dashboards, |file| DashboardFile::read(file, &known));
    let live = super::merge_live(pinned.live.clone().unwrap_or_default(), overrides);
    let scrape = scrape_settings(
        &pinned,
        gateway.as_ref(),
        &prometheus,
        settings_source.as_ref(),
        &mut found,
    );
    check_settings(&apps, &scrape, settings_source.as_ref())?;
    let settings = Settings::new(gateway, apps, scrape, live, overrides);
    let stack = Stack {
        compose,
        rule_files,
        rule_patterns,
        dashboards,
        docs,
        code,
        service_files,
        datasources,
        ..Stack::new(settings, settings_file, prometheus, prometheus_dialect, found)
    };
    Ok(stack.with_identities())
}

/// The Compose file, parsed with the variables of the `.env` beside it; none in a stack without.
fn read_compose(
    dir: &StackDir,
    pinned: &SettingsFile,
    found: &mut Vec<Evidence>,
) -> Result<Option<Compose>, Diagnostic> {
    let root_env = read_dotenv(dir, "");
    let Some((path, why)) = discover::find_compose_file(dir, pinned, &root_env)? else {
        return Ok(None);
    };
    found.push(why);
    let file = dir.require_as(
        &path,
        limits::Kind::Compose,
        "Compose file",
        "check `compose_file:` in pullover.yaml",
    )?;
    // Compose reads `.env` from the project folder: the Compose file's.
    let vars = match path.parent() {
        "" => root_env,
        folder => read_dotenv(dir, folder),
    };
    Ok(Some(Compose::parse_with_vars(file, &vars)?))
}

/// prometheus.yml: pinned or found, else where `ask` answers.
fn read_prometheus(
    dir: &StackDir,
    compose: Option<&Compose>,
    pinned: &SettingsFile,
    overrides: &Overrides,
    ask: &mut dyn Ask,
    found: &mut Vec<Evidence>,
) -> Result<PromConfig, Diagnostic> {
    let path = match discover::find_prometheus_config(dir, compose, pinned, overrides) {
        Ok((path, why)) => {
            found.push(why);
            path
        }
        Err(unresolved) => {
            let question = PathQuestion {
                setting: "prometheus_config",
                prompt: "Where is prometheus.yml (relative to the stack folder)?".into(),
                required: true,
                unresolved: unresolved.clone(),
            };
            let answer = ask.path(&question)?.ok_or(unresolved)?;
            let rel = setting_path("prometheus_config", &answer)?;
            found.push(evidence("prometheus_config", answer, "answered at the prompt"));
            rel
        }
    };
    PromConfig::parse(dir.require_as(
        &path,
        limits::Kind::PrometheusConfig,
        "Prometheus config",
        "pass --prometheus-config PATH relative to the stack folder",
    )?)
}

/// The docs `pullover.yaml` names, else the usual ones at the stack root, those that exist.
fn read_docs(dir: &StackDir, pinned: &SettingsFile, found: &mut Vec<Evidence>) -> Result<Vec<SourceFile>, Diagnostic> {
    let (doc_names, why) = if pinned.docs.is_empty() {
        (
            vec!["README.md".to_string(), "METRICS.md".to_string()],
            "a usual docs file at the stack root",
        )
    } else {
        (pinned.docs.clone(), "set in pullover.yaml")
    };
    let mut docs = Vec::new();
    for name in doc_names {
        let rel = setting_path("docs", &name)?;
        if let Some(file) = dir.read(&rel)? {
            found.push(evidence("docs", rel.to_string(), why));
            docs.push(file);
        }
    }
    Ok(docs)
}

/// The scrape settings pinned, the interval else the gateway job's: the new jobs scrape as often
/// as the gateway was, so queries written for its data (`rate(x[1m])` over a 5 s job) keep
/// enough samples.
fn scrape_settings(
    pinned: &SettingsFile,
    gateway: Option<&Gateway>,
    prometheus: &PromConfig,
    settings_source: Option<&SourceFile>,
    found: &mut Vec<Evidence>,
) -> ScrapeSettings {
    let mut scrape = pinned.scrape.clone().unwrap_or_default();
    if let Some(gateway) = gateway
        && !interval_pinned(settings_source)
    {
        let (interval, why) = prometheus.interval_of(gateway.job.as_deref());
        // One Prometheus itself would refuse is left to it: the default stays.
        if parse_prometheus_duration(&interval).is_some_and(|interval| !interval.is_zero()) {
            found.push(evidence("scrape.interval", interval.clone(), why));
            scrape.interval = interval;
        }
    }
    scrape
}

/// Whether pullover.yaml sets `scrape: {interval: …}` itself.
fn interval_pinned(source: Option<&SourceFile>) -> bool {
    source
        .and_then(|file| crate::edit::yaml::YamlDoc::parse(file.text()).ok())
        .is_some_and(|doc| doc.value().get("scrape").and_then(|s| s.get("interval")).is_some())
}

/// Settings the scrape phase would write into prometheus.yml as they are: anything Prometheus
/// would refuse (or scrape wrongly) stops here, pointing at pullover.yaml where it came from.
fn check_settings(apps: &[App], scrape: &ScrapeSettings, source: Option<&SourceFile>) -> Result<(), Diagnostic> {
    let problem = |message: String, needle: &str, help: &str| {
        let error = Diagnostic::error(message).help(help.to_string());
        match source.and_then(|file| file.text().rfind(needle).map(|at| (file, at))) {
            Some((file, at)) => error.at(file, at..at + needle.len(), "set here"),
            None => error,
        }
    };
    if parse_prometheus_duration(&scrape.interval).is_none_or(|interval| interval.is_zero()) {
        return Err(problem(
            format!("scrape interval `{}` is not a Prometheus duration", scrape.interval),
            &scrape.interval,
            "write it like 30s, 1m or 1m30s under `scrape: {interval: …}` in pullover.yaml",
        ));
    }
    if !scrape.metrics_path.starts_with('/') {
        return Err(problem(
            format!("metrics path `{}` must start with /", scrape.metrics_path),
            &scrape.metrics_path,
            "write it like /metrics under `scrape: {metrics_path: …}` in pullover.yaml",
        ));
    }
    for (index, app) in apps.iter().enumerate() {
        if app.port == 0 {
            return Err(problem(
                format!("app {} has port 0", app.service),
                "port: 0",
                "set the port it serves /metrics on (`port:` under `apps:`, or --app SERVICE:PORT)",
            ));
        }
        if app.job.trim().is_empty() {
            return Err(problem(
                format!("app {} has an empty job name", app.service),
                "job:",
                "give it a job name (`job:` under `apps:`), or delete the key to use the service name",
            ));
        }
        if let Some(other) = apps[..index].iter().find(|other| other.job == app.job) {
            return Err(problem(
                format!(
                    "apps {} and {} would both be scraped as job `{}`",
                    other.service, app.service, app.job
                ),
                &format!("job: {}", app.job),
                "Prometheus refuses two jobs of one name: give each app its own `job:` under `apps:`",
            ));
        }
    }
    Ok(())
}

/// `KEY=value` pairs of `folder/.env`; none when it is missing or unreadable
/// (`docker compose` would then complain itself).
fn read_dotenv(dir: &StackDir, folder: &str) -> ComposeVars {
    RelPath::join_relative(folder, ".env")
        .ok()
        .and_then(|rel| dir.read(&rel).ok().flatten())
        .map(|file| parse_dotenv(file.text()))
        .unwrap_or_default()
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
                            discover::host_path_for(c.file.path.parent(), &s.volumes, pattern)
                                .map(|p| p.to_string())
                                .or_else(|| file_mounts_glob(c, s, pattern))
                        })
                })
            } else {
                RelPath::join_relative(&config_dir, pattern).ok().map(|p| p.to_string())
            };
            (pattern.clone(), host)
        })
        .collect()
}

/// A container glob (`/etc/prometheus/rules/*.yml`) no mounted folder reaches, when files
/// are mounted one by one at paths it matches: the same glob over the host folder they all
/// come from.
fn file_mounts_glob(compose: &Compose, service: &compose::Service, pattern: &str) -> Option<String> {
    let glob = glob::Pattern::new(pattern).ok()?;
    let (_, file_part) = pattern.rsplit_once('/')?;
    let mut folder: Option<String> = None;
    for mount in service.volumes.iter().filter(|m| m.bind && glob.matches(&m.target)) {
        let host = discover::host_path_for(compose.file.path.parent(), std::slice::from_ref(mount), &mount.target)?;
        let parent = host.parent().to_string();
        if folder.as_ref().is_some_and(|f| f != &parent) {
            return None;
        }
        folder = Some(parent);
    }
    let folder = folder?;
    Some(if folder.is_empty() {
        file_part.to_string()
    } else {
        format!("{folder}/{file_part}")
    })
}

fn read_rule_files(
    dir: &StackDir,
    patterns: &[(String, Option<String>)],
    config: &RelPath,
    found: &mut Vec<Evidence>,
) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut files: Vec<SourceFile> = Vec::new();
    for (pattern, host) in patterns {
        let Some(host) = host else { continue };
        for path in dir.glob(host) {
            if !files.iter().any(|f| f.path == path)
                && let Some(file) = dir.read(&path)?
            {
                found.push(evidence(
                    "rule_files",
                    path.to_string(),
                    format!("matched by `rule_files: {pattern}` in {config}"),
                ));
                files.push(file);
            }
        }
    }
    Ok(files)
}
