//! Which apps push, and for each what it is scraped as: its port, its code, and what its pins
//! and its own push calls say of who it pushes as ([`crate::identity`] decides that once the
//! queries are read). Each rule is one step:
//!
//! 1. the apps: `--app` flags (over their `pullover.yaml` entries), else `apps:` of
//!    `pullover.yaml`, else the Compose services discovery finds pushing (asking when some only
//!    look like apps);
//! 2. each app's port: pinned, else what its service listens on, else `expose`'s port for an
//!    app that only pushes and declares none, else an error naming the setting;
//! 3. its code and what that code pushes as.

use super::code::{CodeRoot, code_roots, code_under, roots_of};
use super::compose::{self, Compose, parse_dotenv};
use super::discover::{self, AppQuestion, Ask, Candidate, Evidence, evidence};
use super::read::StackDir;
use super::settings::{AppSettings, Overrides, SettingsFile};
use super::source::{RelPath, SourceFile};
use super::{App, Gateway, app_code};
use crate::diagnostic::Diagnostic;
use crate::identity::{self, PushedIdentity};

/// The port `expose` serves /metrics on for an app that listens on none (prometheus_client's
/// own documented example port).
pub const EXPOSE_DEFAULT_PORT: u16 = 8000;

/// What the apps are read from.
pub(super) struct AppSources<'a> {
    pub dir: &'a StackDir,
    pub compose: Option<&'a Compose>,
    pub pinned: &'a SettingsFile,
    pub overrides: &'a Overrides,
    /// Every app's code, read once ([`super::code::read_code`]).
    pub code: &'a [SourceFile],
}

/// The apps that push to `gateway`, each with what it is scraped as.
pub(super) fn resolve_apps(
    sources: &AppSources<'_>,
    gateway: &Gateway,
    ask: &mut dyn Ask,
    found: &mut Vec<Evidence>,
) -> Result<Vec<App>, Diagnostic> {
    let roots = code_roots(sources.compose, sources.pinned);
    let chosen = match pinned_apps(sources.pinned, sources.overrides) {
        Some((apps, why)) => {
            for app in &apps {
                found.push(evidence("apps", app.service.clone(), why));
            }
            apps
        }
        None => discovered_apps(sources, gateway, &roots, ask, found)?,
    };
    chosen
        .into_iter()
        .map(|app| app_of(sources, &roots, app, found))
        .collect()
}

/// The apps the flags name (each over its `pullover.yaml` entry: flags name service, port and
/// job, the other keys still come from the file), else those of `pullover.yaml`; with why.
fn pinned_apps(pinned: &SettingsFile, overrides: &Overrides) -> Option<(Vec<AppSettings>, &'static str)> {
    if !overrides.apps.is_empty() {
        let apps = overrides
            .apps
            .iter()
            .map(|a| {
                let base = pinned
                    .apps
                    .iter()
                    .find(|p| p.service == a.service)
                    .cloned()
                    .unwrap_or_default();
                AppSettings {
                    service: a.service.clone(),
                    port: a.port.or(base.port),
                    job: a.job.clone().or(base.job.clone()),
                    ..base
                }
            })
            .collect();
        return Some((apps, "--app"));
    }
    (!pinned.apps.is_empty()).then(|| (pinned.apps.clone(), "set in pullover.yaml"))
}

/// The Compose services that push to the gateway; when some services only look like apps, the
/// ones `ask` confirms.
fn discovered_apps(
    sources: &AppSources<'_>,
    gateway: &Gateway,
    roots: &[CodeRoot],
    ask: &mut dyn Ask,
    found: &mut Vec<Evidence>,
) -> Result<Vec<AppSettings>, Diagnostic> {
    let Some(compose) = sources.compose else {
        return Err(Diagnostic::error("no Compose file to find the pushing app in")
            .help("name it with --app SERVICE:PORT (repeatable)"));
    };
    let code_of = |service: &str| {
        roots_of(roots, service)
            .map(|(paths, _)| code_under(sources.code, &paths))
            .unwrap_or_default()
    };
    let pushing = discover::find_pushing_services(compose, &gateway.host, sources.dir);
    let pushing_names: Vec<&str> = pushing.iter().map(|(s, _)| s.name.as_str()).collect();
    let plausible = discover::find_plausible_services(compose, &gateway.host, gateway.port, &pushing_names, &code_of);
    let candidates = |services: &[(&compose::Service, String)]| -> Vec<Candidate> {
        services
            .iter()
            .map(|(s, why)| Candidate {
                service: s.name.clone(),
                because: why.clone(),
            })
            .collect()
    };
    let chosen: Vec<(String, String)> = if plausible.is_empty() {
        if pushing.is_empty() {
            return Err(Diagnostic::error(format!(
                "no service in {} points at {}",
                compose.file.path, gateway.host
            ))
            .help("name the app that pushes with --app SERVICE:PORT (repeatable), or `apps:` in pullover.yaml"));
        }
        pushing.iter().map(|(s, why)| (s.name.clone(), why.clone())).collect()
    } else {
        let question = app_question(compose, &gateway.host, candidates(&pushing), candidates(&plausible));
        let answer = ask.apps(&question)?;
        if answer.is_empty() {
            return Err(question.unresolved);
        }
        answer
            .into_iter()
            .map(|name| {
                let why = pushing
                    .iter()
                    .find(|(s, _)| s.name == name)
                    .map_or("chosen at the prompt".to_string(), |(_, why)| {
                        format!("{why} (confirmed at the prompt)")
                    });
                (name, why)
            })
            .collect()
    };
    Ok(chosen
        .into_iter()
        .map(|(service, why)| {
            found.push(evidence("apps", service.clone(), why));
            AppSettings {
                service,
                ..Default::default()
            }
        })
        .collect())
}

/// The question (and, unanswered, the error) when some services only look
/// like apps.
fn app_question(compose: &Compose, gateway: &str, pushing: Vec<Candidate>, plausible: Vec<Candidate>) -> AppQuestion {
    let mut unresolved = Diagnostic::error(format!(
        "cannot tell which services of {} push to {gateway}",
        compose.file.path
    ));
    for c in &pushing {
        unresolved = unresolved.help(format!("{} pushes: {}", c.service, c.because));
    }
    for c in &plausible {
        unresolved = unresolved.help(format!("{} might: {}", c.service, c.because));
    }
    let example: Vec<String> = pushing
        .iter()
        .chain(&plausible)
        .take(1)
        .map(|c| format!("{{service: {}}}", c.service))
        .collect();
    unresolved = unresolved.help(format!(
        "set `apps:` in pullover.yaml to the services that push (e.g. `apps: [{}]`), or pass --app SERVICE:PORT for each; nothing was written",
        example.join(", ")
    ));
    AppQuestion {
        pushing,
        plausible,
        unresolved,
    }
}

/// One app as the phases see it.
fn app_of(
    sources: &AppSources<'_>,
    roots: &[CodeRoot],
    app: AppSettings,
    found: &mut Vec<Evidence>,
) -> Result<App, Diagnostic> {
    let service = sources.compose.and_then(|c| c.service(&app.service));
    let key = |field: &str| format!("apps.{}.{field}", app.service);
    let port = match app.port {
        Some(port) => port,
        None => match port_source(sources, roots, &app.service, service) {
            PortSource::Listens(port) => {
                found.push(evidence(
                    &key("port"),
                    port.to_string(),
                    "from the service's expose/ports/PORT",
                ));
                port
            }
            PortSource::ExposeDefault => {
                found.push(evidence(
                    &key("port"),
                    EXPOSE_DEFAULT_PORT.to_string(),
                    "its code only pushes and it listens on no port: `expose` serves /metrics there",
                ));
                EXPOSE_DEFAULT_PORT
            }
            PortSource::Unknown => {
                return Err(
                    Diagnostic::error(format!("cannot tell which port {} serves /metrics on", app.service)).help(
                        format!(
                            "pass --app {}:PORT, or set `port:` for it under `apps:` in pullover.yaml",
                            app.service
                        ),
                    ),
                );
            }
        },
    };
    let (code_paths, code_why) = roots_of(roots, &app.service).unwrap_or_default();
    if app.code.is_empty() && !code_paths.is_empty() {
        let shown: Vec<&str> = code_paths.iter().map(RelPath::as_str).collect();
        found.push(evidence(&key("code"), shown.join(", "), code_why));
    }
    let known = known(sources, service, &app, &code_paths);
    let code = if app.code.is_empty() {
        code_paths
    } else {
        app.code.iter().filter_map(|c| RelPath::new(c.clone()).ok()).collect()
    };
    Ok(App {
        job: app.job.clone().unwrap_or_else(|| app.service.clone()),
        pushed_job: app.service.clone(),
        pushed_instances: Vec::new(),
        metrics: app.metrics.clone(),
        in_compose: service.is_some(),
        identity: PushedIdentity::assumed(&app.service),
        known,
        service: app.service,
        port,
        code,
    })
}

/// Where the port of an app whose port is not pinned comes from.
enum PortSource {
    /// Its service's `expose`, `ports` or `PORT` environment variable.
    Listens(u16),
    /// It only pushes and declares no port: `expose` gives it [`EXPOSE_DEFAULT_PORT`].
    ExposeDefault,
    /// Nothing says (a port written but unreadable stays here: an error).
    Unknown,
}

fn port_source(
    sources: &AppSources<'_>,
    roots: &[CodeRoot],
    name: &str,
    service: Option<&compose::Service>,
) -> PortSource {
    let from_env = service.and_then(|s| {
        s.environment
            .iter()
            .find(|(k, _)| k == "PORT")
            .and_then(|(_, v)| v.as_deref()?.parse().ok())
    });
    if let Some(port) = service.and_then(|s| s.listen_port()).or(from_env) {
        return PortSource::Listens(port);
    }
    let declares_port = sources.compose.is_some_and(|c| {
        c.doc
            .value()
            .get("services")
            .and_then(|s| s.get(name))
            .is_some_and(|s| s.get("expose").is_some() || s.get("ports").is_some())
    });
    let pushes_only = || {
        let (paths, _) = roots_of(roots, name).unwrap_or_default();
        let files = code_under(sources.code, &paths);
        files.iter().any(|f| !app_code::push_calls(f.text()).is_empty())
            && !files
                .iter()
                .any(|f| app_code::serving::serves_metrics(f.text()).is_some())
    };
    if !declares_port && pushes_only() {
        PortSource::ExposeDefault
    } else {
        PortSource::Unknown
    }
}

/// What the pins and the app's own push calls say of who it pushes as; the queries and live
/// servers add theirs once read ([`crate::identity`] decides). The code is read even when
/// pinned: a pin that the code contradicts is worth a word.
fn known(
    sources: &AppSources<'_>,
    service: Option<&compose::Service>,
    app: &AppSettings,
    code_paths: &[RelPath],
) -> identity::Known {
    let env = service_env(sources.dir, sources.compose, service);
    let lookup = |var: &str| env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
    let pushed = discover::pushed_as(&code_under(sources.code, code_paths), &lookup);
    identity::Known {
        pinned_job: app.pushed_job.clone(),
        pinned_instances: app.pushed_instances.clone(),
        pinned_metrics: app.metrics.clone(),
        code_job: pushed.job.clone().map(|job| (job, pushed.job_because.clone())),
        code_instances: pushed.instances.clone().map(|i| (i, pushed.instances_because.clone())),
    }
}

/// A service's environment as its code sees it: `env_file` values, then
/// `environment` (which wins, as in Compose).
fn service_env(dir: &StackDir, compose: Option<&Compose>, service: Option<&compose::Service>) -> Vec<(String, String)> {
    let (Some(compose), Some(service)) = (compose, service) else {
        return Vec::new();
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for env_file in &service.env_files {
        let Ok(rel) = RelPath::join_relative(compose.file.path.parent(), env_file) else {
            continue;
        };
        if let Ok(Some(file)) = dir.read(&rel) {
            env.extend(parse_dotenv(file.text()));
        }
    }
    for (key, value) in &service.environment {
        if let Some(value) = value {
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
    }
    env
}
