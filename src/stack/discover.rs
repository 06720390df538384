//! Discovery: from the Compose file and prometheus.yml, work out the settings a
//! person did not pin. Each decision records why, so `init` can show it and a
//! failure can name the flag or key that settles it.

use crate::diagnostic::Diagnostic;
use crate::stack::app_code::{self, Instance};
use crate::stack::compose::{COMPOSE_FILE_NAMES, Compose, ComposeVars, Mount, Service};
use crate::stack::read::StackDir;
use crate::stack::settings::{Overrides, SettingsFile, setting_path};
use crate::stack::source::{RelPath, SourceFile};

/// One discovered setting and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    pub setting: String,
    pub value: String,
    pub because: String,
}

pub(crate) fn evidence(setting: &str, value: impl Into<String>, because: impl Into<String>) -> Evidence {
    Evidence {
        setting: setting.to_string(),
        value: value.into(),
        because: because.into(),
    }
}

/// What discovery does when it cannot decide alone. [`NeverAsk`] (every
/// command but `init`) fails with the key to set; `init` asks on a terminal.
pub trait Ask {
    /// Several services could be the apps that push: which are?
    fn apps(&mut self, question: &AppQuestion) -> Result<Vec<String>, Diagnostic>;
    /// A file or folder discovery could not find: where is it (relative to the
    /// stack)? `None` leaves an optional setting unset.
    fn path(&mut self, question: &PathQuestion) -> Result<Option<String>, Diagnostic>;
}

/// A service that may be an app, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub service: String,
    pub because: String,
}

#[derive(Debug, Clone)]
pub struct AppQuestion {
    /// Services whose environment, command or env_file points at the gateway.
    pub pushing: Vec<Candidate>,
    /// Services that only look like they might push.
    pub plausible: Vec<Candidate>,
    /// The error when nobody answers: names the key that settles it.
    pub unresolved: Diagnostic,
}

#[derive(Debug, Clone)]
pub struct PathQuestion {
    /// The pullover.yaml key the answer pins.
    pub setting: &'static str,
    pub prompt: String,
    pub required: bool,
    /// The error when nobody answers a required question, or when `init`
    /// cannot ask.
    pub unresolved: Diagnostic,
}

/// Never asks: a required answer fails with the key to set, an optional one stays unset.
pub struct NeverAsk;

impl Ask for NeverAsk {
    fn apps(&mut self, question: &AppQuestion) -> Result<Vec<String>, Diagnostic> {
        Err(question.unresolved.clone())
    }

    fn path(&mut self, question: &PathQuestion) -> Result<Option<String>, Diagnostic> {
        if question.required {
            Err(question.unresolved.clone())
        } else {
            Ok(None)
        }
    }
}

pub fn find_compose_file(
    dir: &StackDir,
    settings: &SettingsFile,
    root_env: &ComposeVars,
) -> Result<Option<(RelPath, Evidence)>, Diagnostic> {
    if let Some(path) = &settings.compose_file {
        let rel = setting_path("compose_file", path)?;
        return Ok(Some((
            rel,
            evidence("compose_file", path.clone(), "set in pullover.yaml"),
        )));
    }
    // `docker compose` reads COMPOSE_FILE from the project's .env; the first
    // file of a list is the one that defines the services.
    if let Some(listed) = root_env.get("COMPOSE_FILE") {
        let separator = root_env.get("COMPOSE_PATH_SEPARATOR").map_or(":", String::as_str);
        let first = listed.split(separator).next().unwrap_or(listed).trim();
        if let Ok(rel) = RelPath::new(first)
            && dir.file_entry(
                &rel,
                "the Compose file",
                "COMPOSE_FILE in .env names it; point it at the real Compose file",
            )?
        {
            return Ok(Some((
                rel.clone(),
                evidence("compose_file", rel.to_string(), "COMPOSE_FILE in .env names it"),
            )));
        }
    }
    // A name that is there but is no readable file inside the stack is an
    // error, never "no Compose file": that would read as nothing to migrate.
    for name in COMPOSE_FILE_NAMES.iter().copied() {
        let Ok(rel) = RelPath::new(name) else { continue };
        let help =
            format!("make {name} the stack's Compose file, or remove it and set `compose_file:` in pullover.yaml");
        if dir.file_entry(&rel, "the Compose file", &help)? {
            return Ok(Some((
                rel,
                evidence(
                    "compose_file",
                    name,
                    "the first Compose file name found in the stack root",
                ),
            )));
        }
    }
    Ok(None)
}

fn is_pushgateway_image(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split(['@', ':']).next().unwrap_or(name);
    name == "pushgateway" || name == "prometheus-pushgateway"
}

pub fn find_gateway(
    compose: Option<&Compose>,
    settings: &SettingsFile,
    overrides: &Overrides,
) -> Result<Option<(String, Evidence)>, Diagnostic> {
    if let Some(name) = &overrides.gateway {
        return Ok(Some((
            name.clone(),
            evidence("gateway.service", name.clone(), "--gateway"),
        )));
    }
    if let Some(name) = settings.gateway.as_ref().and_then(|g| g.service.clone()) {
        return Ok(Some((
            name.clone(),
            evidence("gateway.service", name, "set in pullover.yaml"),
        )));
    }
    let Some(compose) = compose else { return Ok(None) };
    let by_image: Vec<&Service> = compose
        .services
        .iter()
        .filter(|s| s.image.as_deref().is_some_and(is_pushgateway_image))
        .collect();
    match by_image.as_slice() {
        [one] => {
            let image = one.image.clone().unwrap_or_default();
            return Ok(Some((
                one.name.clone(),
                evidence("gateway.service", one.name.clone(), format!("runs image {image}")),
            )));
        }
        [] => {}
        many => {
            let names: Vec<&str> = many.iter().map(|s| s.name.as_str()).collect();
            return Err(
                Diagnostic::error(format!("several services run Pushgateway: {}", names.join(", ")))
                    .help("pick the one to migrate with --gateway SERVICE or `gateway: {service: …}` in pullover.yaml"),
            );
        }
    }
    Ok(["pushgateway", "prometheus-pushgateway"].iter().find_map(|name| {
        compose.service(name).map(|s| {
            (
                s.name.clone(),
                evidence("gateway.service", s.name.clone(), "a service with that name"),
            )
        })
    }))
}

/// The bind mount that serves a container path (the longest matching target), and the
/// host path it maps it to, as written (`./prometheus/prometheus.yml`).
fn bind_source_for(mounts: &[Mount], container_path: &str) -> Option<String> {
    let (mount, rest) = mounts
        .iter()
        .filter(|m| m.bind)
        .filter_map(|m| {
            let target = m.target.trim_end_matches('/');
            let rest = container_path.strip_prefix(target)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((m, rest))
        })
        .max_by_key(|(m, _)| m.target.len())?;
    Some(format!("{}{rest}", mount.source.as_deref()?))
}

/// The stack file a bind-mount source names, when it names one inside the stack.
pub(crate) fn stack_path_of_source(compose_dir: &str, source: &str) -> Option<RelPath> {
    let source = source.strip_prefix("./").unwrap_or(source);
    if source.starts_with('/') || source.starts_with('~') || source.starts_with('$') {
        return None;
    }
    RelPath::join_relative(compose_dir, source).ok()
}

/// Host paths for a container path, through a service's bind mounts.
pub fn host_path_for(compose_dir: &str, mounts: &[Mount], container_path: &str) -> Option<RelPath> {
    stack_path_of_source(compose_dir, &bind_source_for(mounts, container_path)?)
}

pub fn is_prometheus_service(s: &Service) -> bool {
    let image_is = s.image.as_deref().is_some_and(|i| {
        let name = i.rsplit('/').next().unwrap_or(i);
        let name = name.split(['@', ':']).next().unwrap_or(name);
        name == "prometheus"
    });
    image_is || s.name == "prometheus"
}

pub fn find_prometheus_config(
    dir: &StackDir,
    compose: Option<&Compose>,
    settings: &SettingsFile,
    overrides: &Overrides,
) -> Result<(RelPath, Evidence), Diagnostic> {
    let pinned = overrides
        .prometheus_config
        .clone()
        .map(|p| (p, "--prometheus-config"))
        .or_else(|| settings.prometheus_config.clone().map(|p| (p, "set in pullover.yaml")));
    if let Some((path, why)) = pinned {
        let rel = setting_path("prometheus_config", &path)?;
        return Ok((rel, evidence("prometheus_config", path, why)));
    }
    if let Some(compose) = compose {
        let compose_dir = compose.file.path.parent().to_string();
        for service in compose.services.iter().filter(|s| is_prometheus_service(s)) {
            let in_container = service
                .command
                .iter()
                .find_map(|arg| arg.strip_prefix("--config.file="))
                .unwrap_or("/etc/prometheus/prometheus.yml");
            let Some(source) = bind_source_for(&service.volumes, in_container) else {
                continue; // baked into the image or on a named volume: try the usual places
            };
            let in_stack = stack_path_of_source(&compose_dir, &source);
            if let Some(rel) = &in_stack {
                // Read, not just looked at: a symlink out of the stack or a folder in its
                // place is an error of its own, clearer than "not found".
                if dir.read_as(rel, super::limits::Kind::PrometheusConfig)?.is_some() {
                    let why = format!("bind-mounted into service {} at {in_container}", service.name);
                    return Ok((rel.clone(), evidence("prometheus_config", rel.to_string(), why)));
                }
            }
            // Prometheus loads a file pullover cannot edit: a look-alike at a usual place
            // would be edited for nothing.
            let problem = match &in_stack {
                Some(rel) => format!("which does not exist (as {rel})"),
                None => "outside the stack folder".to_string(),
            };
            let mut error = Diagnostic::error(format!(
                "service {} loads {in_container} from `{source}`, {problem}",
                service.name
            ));
            if let Some(at) = compose.file.text().find(source.as_str()) {
                error = error.at(
                    &compose.file,
                    at..at + source.len(),
                    "Prometheus reads its configuration here",
                );
            }
            return Err(error.help(
                "pullover edits only files inside --stack: point --stack at the folder that holds it, \
                 or pass --prometheus-config PATH (`prometheus_config:` in pullover.yaml) if a file in the stack is the one Prometheus loads",
            ));
        }
    }
    for candidate in ["prometheus.yml", "prometheus/prometheus.yml", "config/prometheus.yml"] {
        if let Ok(rel) = RelPath::new(candidate)
            && dir.is_file(&rel)
        {
            return Ok((rel, evidence("prometheus_config", candidate, "found at a usual place")));
        }
    }
    Err(Diagnostic::error("cannot find prometheus.yml").help(
        "pass --prometheus-config PATH, or set `prometheus_config:` in pullover.yaml (pullover looks for the file bind-mounted into the prometheus service)",
    ))
}

/// Services that push: their environment or command names the gateway.
pub fn find_pushing_services<'c>(compose: &'c Compose, gateway: &str, dir: &StackDir) -> Vec<(&'c Service, String)> {
    let needles = [format!("{gateway}:"), format!("//{gateway}"), format!("={gateway}")];
    compose
        .services
        .iter()
        .filter(|s| s.name != gateway)
        .filter_map(|s| {
            if let Some((key, _)) = s.environment.iter().find(|(_, v)| {
                v.as_deref()
                    .is_some_and(|v| needles.iter().any(|n| v.contains(n.as_str())) || v == gateway)
            }) {
                return Some((s, format!("its environment {key} points at {gateway}")));
            }
            if s.command.iter().any(|c| needles.iter().any(|n| c.contains(n.as_str()))) {
                return Some((s, format!("its command points at {gateway}")));
            }
            let compose_dir = compose.file.path.parent();
            s.env_files.iter().find_map(|env_file| {
                let rel = RelPath::join_relative(compose_dir, env_file).ok()?;
                let file = dir.read(&rel).ok()??;
                let hit = file
                    .text()
                    .lines()
                    .find(|l| needles.iter().any(|n| l.contains(n.as_str())))?;
                let key = hit.split('=').next().unwrap_or(hit).trim().to_string();
                Some((s, format!("its env_file {rel} sets {key} to {gateway}")))
            })
        })
        .collect()
}

/// Services that might push although nothing in their environment, command
/// or env_file points at the gateway: they depend on or link to it, their
/// Compose entry holds its address (in a comment, a label, …), or their code
/// calls a push function. Only plausible: `init` asks about them, other
/// commands stop and name the key that settles it. The gateway, Prometheus and
/// Grafana are never apps; sharing a volume with the gateway (a backup job)
/// does not make a service plausible.
pub fn find_plausible_services<'c, 'f>(
    compose: &'c Compose,
    gateway: &str,
    port: u16,
    pushing: &[&str],
    code_of: &dyn Fn(&str) -> Vec<&'f SourceFile>,
) -> Vec<(&'c Service, String)> {
    let address = format!("{gateway}:{port}");
    let url = format!("//{gateway}");
    let entries = compose.doc.root().and_then(|r| r.get("services")).and_then(|e| e.value);
    compose
        .services
        .iter()
        .filter(|s| s.name != gateway && !pushing.contains(&s.name.as_str()))
        .filter(|s| !is_prometheus_service(s) && !is_grafana_service(s))
        .filter_map(|s| {
            if s.depends_on.iter().any(|d| d == gateway) {
                return Some((
                    s,
                    format!("it depends_on {gateway}, but nothing in its environment or command points at it"),
                ));
            }
            if s.links.iter().any(|l| l == gateway) {
                return Some((
                    s,
                    format!("it links to {gateway}, but nothing in its environment or command points at it"),
                ));
            }
            let own_text = entries
                .as_ref()
                .and_then(|services| services.get(&s.name))
                .and_then(|entry| {
                    let text = compose.file.text();
                    text.get(entry.key_range.start..own_end(text, entry.key_range.start, entry.range().end))
                });
            if own_text.is_some_and(|t| t.contains(&address) || t.contains(&url)) {
                return Some((
                    s,
                    format!("its Compose entry mentions {address}, outside its environment and command"),
                ));
            }
            code_of(&s.name).into_iter().find_map(|file| {
                let call = app_code::push_calls(file.text()).into_iter().next()?;
                let (line, _) = file.line_col(call.span.start);
                Some((s, format!("its code calls {} ({}:{line})", call.function, file.path)))
            })
        })
        .collect()
}

/// Where a service's own text ends: its entry, plus the comment lines after it
/// indented deeper than its key (a comment at the key's indentation belongs
/// to the next service).
fn own_end(text: &str, key_start: usize, entry_end: usize) -> usize {
    let line_start = text.get(..key_start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let key_column = key_start - line_start;
    let mut end = entry_end;
    for line in text.get(entry_end..).unwrap_or("").split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('#') && indent > key_column {
            end += line.len();
        } else if !trimmed.trim().is_empty() {
            break;
        } else {
            end += line.len();
        }
    }
    end
}

pub fn is_grafana_service(s: &Service) -> bool {
    s.name.contains("grafana") || s.image.as_deref().is_some_and(|i| i.contains("grafana"))
}

/// What an app's push calls say about the `job` and `instance` it pushes as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedAs {
    /// `None`: no call, calls that disagree, or a job pullover cannot read.
    pub job: Option<String>,
    pub job_because: String,
    /// `None` when unknown; `[""]` when the grouping key has no instance.
    pub instances: Option<Vec<String>>,
    pub instances_because: String,
}

/// Reads the push calls in an app's code, resolving environment variables
/// through `env` (the service's Compose environment).
pub fn pushed_as(files: &[&SourceFile], env: &dyn Fn(&str) -> Option<String>) -> PushedAs {
    let mut calls = Vec::new();
    for file in files {
        for call in app_code::push_calls(file.text()) {
            let (line, _) = file.line_col(call.span.start);
            calls.push((format!("{}:{line}", file.path), call));
        }
    }
    let Some((first_at, first)) = calls.first() else {
        return PushedAs {
            job: None,
            job_because: if files.is_empty() {
                "no code of it was read (no `build:` folder; name it with `code:`)".into()
            } else {
                "no push call found in its code".into()
            },
            instances: None,
            instances_because: String::new(),
        };
    };
    let where_ = if calls.len() == 1 {
        format!("`{}` at {first_at}", first.function)
    } else {
        format!("{} push calls (first: `{}` at {first_at})", calls.len(), first.function)
    };
    let mut jobs: Vec<String> = Vec::new();
    let mut unreadable_job = None;
    let mut instances: Vec<String> = Vec::new();
    let mut unreadable_instance = None;
    for (at, call) in &calls {
        match call.job.as_ref().and_then(|j| j.resolve(env)) {
            Some(job) if !jobs.contains(&job) => jobs.push(job),
            Some(_) => {}
            None => {
                let how = call.job.as_ref().map_or("?".into(), |j| j.describe());
                unreadable_job.get_or_insert(format!("{how} at {at}"));
            }
        }
        let instance = match &call.instance {
            Instance::None => Some(String::new()),
            Instance::Value(e) => e.resolve(env),
            Instance::Unknown => None,
        };
        match instance {
            Some(i) if !instances.contains(&i) => instances.push(i),
            Some(_) => {}
            None => {
                unreadable_instance.get_or_insert(at.clone());
            }
        }
    }
    let (job, job_because) = match (unreadable_job, jobs.as_slice()) {
        (Some(how), _) => (
            None,
            format!("the job of the push call is {how}, which pullover cannot read"),
        ),
        (None, [one]) => (Some(one.clone()), format!("{where_} pushes as job \"{one}\"")),
        (None, many) => (
            None,
            format!(
                "its push calls name several jobs ({}); pin the one its series carry",
                many.join(", ")
            ),
        ),
    };
    instances.sort();
    let (instances, instances_because) = match unreadable_instance {
        Some(at) => (
            None,
            format!("the grouping key of the push call at {at} cannot be read"),
        ),
        None => {
            let because = format!(
                "{where_} pushes with instance {}",
                crate::identity::quoted_instances(&instances)
            );
            (Some(instances), because)
        }
    };
    PushedAs {
        job,
        job_because,
        instances,
        instances_because,
    }
}

/// Folders of dashboards Grafana provisions: the provider `options.path`
/// mapped back through grafana's bind mounts.
/// Folders Grafana provisions dashboards from (through its bind mounts), else a usual place.
/// A provisioning file that is not YAML is an error: Grafana fails on it too, and a guess
/// could miss the folder it meant.
pub fn find_dashboard_dirs(dir: &StackDir, compose: Option<&Compose>) -> Result<Vec<(RelPath, Evidence)>, Diagnostic> {
    let mut found = Vec::new();
    if let Some(compose) = compose {
        let compose_dir = compose.file.path.parent().to_string();
        for grafana in compose.services.iter().filter(|s| is_grafana_service(s)) {
            let providers = host_path_for(&compose_dir, &grafana.volumes, "/etc/grafana/provisioning/dashboards");
            let provider_files = providers
                .map(|p| dir.files_under(&p, &[".yml", ".yaml"]))
                .unwrap_or_default();
            for provider in provider_files {
                // Too large or too deep is an error, as a file that is not YAML is below.
                let Some(file) = dir.read_as(&provider, super::limits::Kind::Provisioning)? else {
                    continue;
                };
                let doc = crate::edit::yaml::YamlDoc::parse(file.text()).map_err(|e| {
                    e.to_diagnostic(&file).help(
                        "or pin the dashboards folder with `dashboards: [DIR]` in pullover.yaml (--dashboards DIR)",
                    )
                })?;
                let value = doc.value();
                let paths = value
                    .get("providers")
                    .and_then(|p| p.as_sequence())
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("options")?.get("path")?.as_str().map(str::to_string));
                for container_path in paths {
                    if let Some(host) = host_path_for(&compose_dir, &grafana.volumes, &container_path)
                        && dir.is_dir(&host)
                        && !found.iter().any(|(p, _)| p == &host)
                    {
                        let why = format!(
                            "provisioned by {provider} (path {container_path} in service {})",
                            grafana.name
                        );
                        found.push((host.clone(), evidence("dashboards", host.to_string(), why)));
                    }
                }
            }
        }
    }
    if found.is_empty() {
        for candidate in ["grafana/dashboards", "dashboards"] {
            if let Ok(rel) = RelPath::new(candidate)
                && dir.is_dir(&rel)
            {
                found.push((
                    rel,
                    evidence("dashboards", candidate, "a dashboards folder at a usual place"),
                ));
                break;
            }
        }
    }
    Ok(found)
}

/// The addresses a Prometheus outside the gateway's network reaches it at: each host port
/// Compose publishes for its container port `port`, on `host.docker.internal`, `localhost`
/// and `127.0.0.1` (`9092:9091` → `host.docker.internal:9092`, …).
pub fn published_aliases(compose: &Compose, service: &str, port: u16) -> Vec<String> {
    use yaml_serde::Value;
    let Some(ports) = compose
        .doc
        .value()
        .get("services")
        .and_then(|s| s.get(service))
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_sequence)
    else {
        return Vec::new();
    };
    let mut published: Vec<u16> = Vec::new();
    for entry in ports {
        let pair = match entry {
            Value::Mapping(_) => entry
                .get("published")
                .and_then(crate::edit::yaml::scalar_string)
                .zip(entry.get("target").and_then(crate::edit::yaml::scalar_string)),
            other => crate::edit::yaml::scalar_string(other).and_then(|text| {
                let text = text.split('/').next().unwrap_or_default().to_string();
                let mut parts: Vec<&str> = text.rsplitn(3, ':').collect();
                parts.reverse();
                match parts.as_slice() {
                    [.., host, container] => Some((host.to_string(), container.to_string())),
                    _ => None,
                }
            }),
        };
        if let Some((host, container)) = pair
            && container.parse::<u16>().ok() == Some(port)
            && let Ok(host) = host.parse::<u16>()
            && !published.contains(&host)
        {
            published.push(host);
        }
    }
    published
        .iter()
        .flat_map(|p| ["host.docker.internal", "localhost", "127.0.0.1"].map(|h| format!("{h}:{p}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn container_paths_map_back_through_the_longest_bind_mount() {
        let mounts = vec![
            Mount {
                source: Some("./prometheus".into()),
                target: "/etc/prometheus".into(),
                bind: true,
            },
            Mount {
                source: Some("./rules".into()),
                target: "/etc/prometheus/rules/".into(),
                bind: true,
            },
            Mount {
                source: Some("data".into()),
                target: "/prometheus".into(),
                bind: false,
            },
        ];
        assert_eq!(
            host_path_for("", &mounts, "/etc/prometheus/prometheus.yml")
                .unwrap()
                .as_str(),
            "prometheus/prometheus.yml"
        );
        assert_eq!(
            host_path_for("deploy", &mounts, "/etc/prometheus/rules/a.yml")
                .unwrap()
                .as_str(),
            "deploy/rules/a.yml"
        );
        assert!(host_path_for("", &mounts, "/prometheus/x").is_none());
        assert!(host_path_for("", &mounts, "/etc/prometheusx/y").is_none());
    }

    #[test]
    fn pushgateway_images_from_any_registry() {
        assert!(is_pushgateway_image("prom/pushgateway"));
        assert!(is_pushgateway_image("quay.io/prometheus/pushgateway:v1.9.0"));
        assert!(is_pushgateway_image("bitnami/pushgateway@sha256:abc"));
        assert!(!is_pushgateway_image("prom/prometheus:v2.42.0"));
    }

    use crate::stack::compose::compose_yaml as compose;

    #[test]
    fn services_that_only_look_like_apps_are_plausible_and_infrastructure_is_not() {
        let c = compose(
            "\
services:
  api:
    environment: [PUSHGATEWAY_URL=http://pushgateway:9091]
  waits:
    depends_on: [pushgateway]
  linked:
    links: ['pushgateway:pgw']
  commented:
    image: acme/report
    # may push to http://pushgateway:9091 one day
  coded:
    build: ./coded
  backup:
    volumes: ['pushgateway_data:/backup/pushgateway:ro']
  prometheus:
    image: prom/prometheus
    depends_on: [pushgateway]
  grafana:
    image: grafana/grafana
    depends_on: [pushgateway]
  pushgateway:
    image: prom/pushgateway
",
        );
        let code = SourceFile::from_text(
            RelPath::new("coded/main.py").unwrap(),
            "push_to_gateway('pushgateway:9091', job='coded', registry=r)\n",
            0o644,
        );
        let code_of = |service: &str| if service == "coded" { vec![&code] } else { Vec::new() };
        let pushing = find_pushing_services(&c, "pushgateway", &StackDir::open(Path::new(".")).unwrap());
        let names: Vec<&str> = pushing.iter().map(|(s, _)| s.name.as_str()).collect();
        assert_eq!(names, ["api"]);
        let plausible: Vec<String> = find_plausible_services(&c, "pushgateway", 9091, &names, &code_of)
            .into_iter()
            .map(|(s, why)| format!("{}: {why}", s.name))
            .collect();
        assert_eq!(
            plausible,
            [
                "waits: it depends_on pushgateway, but nothing in its environment or command points at it",
                "linked: it links to pushgateway, but nothing in its environment or command points at it",
                "commented: its Compose entry mentions pushgateway:9091, outside its environment and command",
                "coded: its code calls push_to_gateway (coded/main.py:1)",
            ]
        );
    }

    #[test]
    fn the_pushed_job_and_instances_come_from_the_push_calls_and_the_environment() {
        let file = |path: &str, text: &str| SourceFile::from_text(RelPath::new(path).unwrap(), text, 0o644);
        let a = file(
            "w/a.py",
            "ID = os.environ.get('WORKER_ID', 'w-0')\npushadd_to_gateway(GW, job='worker', registry=r, grouping_key={'instance': ID})\n",
        );
        let b = file("w/b.py", "push_to_gateway(GW, job='worker', registry=r)\n");
        let env = |var: &str| (var == "WORKER_ID").then(|| "w-1".to_string());
        let found = pushed_as(&[&a, &b], &env);
        assert_eq!(found.job.as_deref(), Some("worker"));
        assert_eq!(found.instances, Some(vec![String::new(), "w-1".to_string()]));
        assert_eq!(
            found.instances_because,
            "2 push calls (first: `pushadd_to_gateway` at w/a.py:2) pushes with instance (none), \"w-1\""
        );

        let other = file("w/c.py", "push_to_gateway(GW, job='nightly', registry=r)\n");
        let disagree = pushed_as(&[&a, &other], &env);
        assert_eq!(disagree.job, None);
        assert!(
            disagree.job_because.contains("several jobs (worker, nightly)"),
            "{}",
            disagree.job_because
        );

        let unreadable = file("w/d.js", "gw.pushAdd({ jobName: name() });\n");
        let found = pushed_as(&[&unreadable], &env);
        assert_eq!(found.job, None);
        assert_eq!(
            found.job_because,
            "the job of the push call is `name()` at w/d.js:1, which pullover cannot read"
        );
        assert_eq!(
            pushed_as(&[], &env).job_because,
            "no code of it was read (no `build:` folder; name it with `code:`)"
        );
    }
}
