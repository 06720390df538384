//! Phase 0, `expose`: each app that only pushes serves its metrics for scraping, as a
//! minimal diff of its own code in its own style (indentation, quotes, semicolons), and its
//! Compose service exposes the port. The scrape job `scrape` then adds reads the same port
//! (the app's, from Compose) and path (`/metrics`; a Spring Boot app's actuator path,
//! [`metrics_path`]). A Spring Boot app is changed by its config alone (`expose/spring.rs`).
//!
//! What the code says decides: an app whose code already serves /metrics (a route,
//! prometheus_client's server, promhttp, simpleclient's HTTPServer, the actuator endpoint)
//! has nothing to do; for prom-client and prometheus_client the route or server is planned;
//! for anything else a `todo` finding gives the snippet for that client, never a guessed
//! edit. The counter-state hazards the push calls show are reported here too, since the
//! dual-run comparison will show them after `scrape`. How each client is served:
//! `docs/expose.md`.

mod go;
mod java;
mod node;
mod python;
mod spring;
mod style;

use yaml_serde::Value;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, ChangeSetBuilder, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlEdit};
use crate::stack::app_code::serving::{self, Client};
use crate::stack::app_code::spring::{self as spring_config, SpringConfig};
use crate::stack::app_code::{self, Instance};
use crate::stack::source::SourceFile;
use crate::stack::{App, Stack};

/// Why a client's file was left for a person, and what to add by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplanned {
    pub reason: String,
    pub snippet: Option<String>,
}

impl Unplanned {
    fn new(reason: impl Into<String>) -> Unplanned {
        Unplanned {
            reason: reason.into(),
            snippet: None,
        }
    }

    fn snippet(mut self, snippet: impl Into<String>) -> Unplanned {
        self.snippet = Some(snippet.into());
        self
    }
}

/// What `expose` decided for one app, read by `scrape` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Its code serves metrics already.
    Serves {
        file: String,
        line: usize,
        how: &'static str,
    },
    /// Its code pushes and serves nothing: `expose` has an edit for it, or a snippet.
    PushesOnly { file: String, line: usize },
    /// No push call in the code read (or no code read): nothing to decide from.
    Unknown,
}

/// Whether the app's code serves metrics, pushes only, or cannot tell.
pub fn exposure(stack: &Stack, app: &App) -> Exposure {
    let files = stack.code_of(app);
    // A Spring Boot app is read by its config alone: Micrometer pushes or serves as it says.
    let configs = spring_configs(&files);
    if let Some((file, config)) = configs.iter().find(|(_, c)| c.exposes_prometheus()) {
        let offset = config.get(spring_config::EXPOSURE_INCLUDE).map_or(0, |s| s.offset);
        return Exposure::Serves {
            file: file.path.to_string(),
            line: file.line_col(offset).0,
            how: "the actuator's prometheus endpoint",
        };
    }
    if let Some((file, setting)) = configs.iter().find_map(|(f, c)| c.push_enabled().map(|s| (f, s))) {
        return Exposure::PushesOnly {
            file: file.path.to_string(),
            line: file.line_col(setting.offset).0,
        };
    }
    if let Some((file, serving)) = files
        .iter()
        .find_map(|f| serving::serves_metrics(f.text()).map(|s| (f, s)))
    {
        return Exposure::Serves {
            file: file.path.to_string(),
            line: file.line_col(serving.offset).0,
            how: serving.how,
        };
    }
    match pushing_file(&files) {
        Some((file, offset)) => Exposure::PushesOnly {
            file: file.path.to_string(),
            line: file.line_col(offset).0,
        },
        None => Exposure::Unknown,
    }
}

/// The app's Spring Boot config files (`application.yml`, `application-prod.properties`), read.
fn spring_configs<'s>(files: &[&'s SourceFile]) -> Vec<(&'s SourceFile, SpringConfig)> {
    files
        .iter()
        .filter_map(|f| SpringConfig::read(f.path.as_str(), f.text()).map(|c| (*f, c)))
        .collect()
}

/// Whether the app's build (pom.xml, build.gradle) has Micrometer's Prometheus registry.
fn has_prometheus_registry(files: &[&SourceFile]) -> bool {
    spring_config::has_prometheus_registry(files.iter().map(|f| (f.path.as_str(), f.text())))
}

/// The path the scrape job reads `app` at: the actuator's prometheus endpoint for a Spring
/// Boot app whose Micrometer registry pushes or is served (what `expose` makes it serve), else
/// `scrape.metrics_path`. A `metrics_path` set in pullover.yaml wins for every app.
pub fn metrics_path(stack: &Stack, app: &App) -> String {
    let chosen = &stack.settings.scrape.metrics_path;
    if *chosen != crate::stack::settings::ScrapeSettings::default().metrics_path {
        return chosen.clone();
    }
    let files = stack.code_of(app);
    let configs = spring_configs(&files);
    let micrometer = configs
        .iter()
        .any(|(_, c)| c.push_enabled().is_some() || c.exposes_prometheus());
    if !micrometer || !has_prometheus_registry(&files) {
        return chosen.clone();
    }
    // The file that moves the endpoint (a profile's may) says where; else the default place.
    let default = "/actuator/prometheus";
    configs
        .iter()
        .map(|(_, c)| c.prometheus_path())
        .find(|p| p != default)
        .unwrap_or_else(|| default.to_string())
}

/// The first file with a push call, and the call's offset.
fn pushing_file<'s>(files: &[&'s SourceFile]) -> Option<(&'s SourceFile, usize)> {
    files.iter().find_map(|f| {
        let calls = app_code::push_calls(f.text());
        calls.first().map(|c| (*f, c.span.start))
    })
}

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    super::gateway_of(stack, super::PhaseId::Expose)?;
    let mut builder = ChangeSet::builder();
    let mut exposed: Vec<&App> = Vec::new();
    for app in &stack.settings.apps {
        let files = stack.code_of(app);
        builder = builder.findings(hazards(&files));
        // Only an app whose code this phase changes gets its port exposed: one that serves
        // already is reached as it is today.
        match exposure(stack, app) {
            Exposure::Serves { file, line, how } => {
                builder = builder.finding(Finding::new(
                    FindingId::AlreadyServesMetrics,
                    Severity::Info,
                    format!(
                        "{} serves its metrics already ({how}, {file}:{line}): nothing to add",
                        app.service
                    ),
                ));
            }
            Exposure::Unknown => {
                builder = builder.finding(
                    Finding::new(
                        FindingId::NoPushCodeRead,
                        Severity::Todo,
                        format!(
                            "no push call found in the code read for {}: pullover cannot tell whether it serves /metrics",
                            app.service
                        ),
                    )
                    .tip("name its code with `code:` for it under `apps:` in pullover.yaml; `pullover verify` checks its /metrics live"),
                );
            }
            // Pushing by its config alone: the config is what changes. (A Spring app that pushes
            // from its Java code falls through to the snippet below.)
            Exposure::PushesOnly { .. } if spring_configs(&files).iter().any(|(_, c)| c.push_enabled().is_some()) => {
                let (next, edited) = plan_spring(stack, app, &files, builder);
                builder = next;
                if edited {
                    exposed.push(app);
                }
            }
            Exposure::PushesOnly { .. } => {
                let Some((file, offset)) = pushing_file(&files) else {
                    continue;
                };
                let (line, column) = file.line_col(offset);
                let location = Location {
                    path: file.path.clone(),
                    line,
                    column,
                    context: None,
                };
                match plan_file(file, app) {
                    Ok(after) => {
                        builder = builder.modify(
                            file,
                            after,
                            format!("{} serves its metrics at /metrics on port {}", app.service, app.port),
                        );
                        if serving::client_of(file.path.as_str(), file.text()) == Some(Client::JavaSimpleclient) {
                            builder = java_dependency(app, &files, location.clone(), builder);
                        }
                        exposed.push(app);
                    }
                    Err(unplanned) => {
                        let mut finding = Finding::new(
                            FindingId::ServeMetricsByHand,
                            Severity::Todo,
                            format!(
                                "{} pushes and serves no /metrics, and pullover does not edit this code: {}",
                                app.service, unplanned.reason
                            ),
                        )
                        .at(location);
                        if let Some(snippet) = unplanned.snippet {
                            finding = finding.tip(format!(
                                "add by hand (port {}, path /metrics), then `pullover verify`:\n{snippet}",
                                app.port
                            ));
                        }
                        builder = builder.finding(finding);
                    }
                }
            }
        }
    }
    builder = expose_ports(stack, &exposed, builder)?;
    Ok(builder.build()?)
}

/// A Spring Boot app whose Micrometer registry pushes: its config exposes the actuator's
/// `prometheus` endpoint (`expose/spring.rs`), in the file that lists what the actuator
/// exposes, else in the one that turns the push on. Says whether it planned the edit.
fn plan_spring(stack: &Stack, app: &App, files: &[&SourceFile], builder: ChangeSetBuilder) -> (ChangeSetBuilder, bool) {
    let configs = spring_configs(files);
    let include = spring_config::EXPOSURE_INCLUDE;
    let Some((file, config)) = configs
        .iter()
        .find(|(_, c)| c.get(include).is_some())
        .or_else(|| configs.iter().find(|(_, c)| c.push_enabled().is_some()))
    else {
        return (builder, false);
    };
    let at = |offset: usize| Location::at(file, offset);
    let offset = config.push_enabled().or(config.get(include)).map_or(0, |s| s.offset);
    let by_hand = |reason: String, snippet: String| {
        Finding::new(
            FindingId::ServeMetricsByHand,
            Severity::Todo,
            format!(
                "{} pushes with Micrometer and serves no /actuator/prometheus, and pullover does not edit its config: {reason}",
                app.service
            ),
        )
        .tip(format!("add by hand, then `pullover verify`:\n{snippet}"))
        .at(at(offset))
    };
    if !has_prometheus_registry(files) {
        let finding = by_hand(
            "no pom.xml or build.gradle with `micrometer-registry-prometheus` was read, and without it the actuator has no prometheus endpoint".into(),
            format!("the dependency io.micrometer:micrometer-registry-prometheus\n{}", spring::snippet()),
        );
        return (builder.finding(finding), false);
    }
    let mut builder = builder;
    if let Some(port) = configs
        .iter()
        .find_map(|(_, c)| c.get("management.server.port"))
        .filter(|p| p.value != app.port.to_string())
    {
        builder = builder.finding(
            Finding::new(
                FindingId::ActuatorOnAnotherPort,
                Severity::Todo,
                format!(
                    "{}'s actuator listens on management.server.port {}, the scrape job targets port {}",
                    app.service, port.value, app.port
                ),
            )
            .tip("set `port:` for the app under `apps:` in pullover.yaml to the actuator's port")
            .at(Location::at(file, port.offset)),
        );
    }
    match spring::plan(file.text(), config) {
        Ok(after) => (
            builder.modify(
                file,
                after,
                format!(
                    "{} serves its metrics at {} on port {} (the actuator's prometheus endpoint)",
                    app.service,
                    metrics_path(stack, app),
                    app.port
                ),
            ),
            true,
        ),
        Err(unplanned) => (
            builder.finding(by_hand(
                unplanned.reason,
                unplanned.snippet.unwrap_or_else(spring::snippet),
            )),
            false,
        ),
    }
}

/// The edit for the file that pushes, by its client.
fn plan_file(file: &SourceFile, app: &App) -> Result<String, Unplanned> {
    match serving::client_of(file.path.as_str(), file.text()) {
        Some(Client::PromClient) => node::plan(file.text()),
        Some(Client::PythonClient) => python::plan(file.text(), app.port),
        Some(Client::ClientGolang) => go::plan(file.text(), app.port),
        Some(Client::JavaSimpleclient) => java::plan(file.text(), app.port),
        Some(client) => Err(Unplanned::new(format!("its client is {}", client.name())).snippet(snippet(client, app))),
        None => Err(Unplanned::new(
            "its push is not made with a client library pullover reads (prom-client, prometheus_client, client_golang, simpleclient, Micrometer)",
        )
        .snippet(
            "serve the same metrics as text exposition format (https://prometheus.io/docs/instrumenting/exposition_formats/) at GET /metrics",
        )),
    }
}

/// simpleclient's HTTPServer is in `simpleclient_httpserver`: added to the app's build beside
/// `simpleclient_pushgateway`, or named in a `todo` where no build lists that.
fn java_dependency(app: &App, files: &[&SourceFile], at: Location, builder: ChangeSetBuilder) -> ChangeSetBuilder {
    let builds = files.iter().filter(|f| {
        ["pom.xml", "build.gradle", "build.gradle.kts"]
            .iter()
            .any(|b| f.path.as_str().ends_with(b))
    });
    let mut listed = false;
    for build in builds {
        let text = build.text();
        listed |= text.contains("simpleclient_httpserver");
        if let Some(after) = java::dependency(build.path.as_str(), text) {
            return builder.modify(
                build,
                after,
                format!(
                    "{} depends on simpleclient_httpserver, beside simpleclient_pushgateway",
                    app.service
                ),
            );
        }
    }
    if listed {
        return builder;
    }
    builder.finding(
        Finding::new(
            FindingId::AddDependencyByHand,
            Severity::Todo,
            format!(
                "{}'s HTTPServer needs io.prometheus:simpleclient_httpserver, and no pom.xml or build.gradle read lists simpleclient_pushgateway to add it beside",
                app.service
            ),
        )
        .tip("add io.prometheus:simpleclient_httpserver to its build, at the version of its simpleclient")
        .at(at),
    )
}

/// What to add by hand for clients pullover does not edit.
fn snippet(client: Client, app: &App) -> String {
    let port = app.port;
    match client {
        Client::ClientGolang => go::snippet("registry", port),
        Client::JavaSimpleclient => java::snippet("registry", port),
        Client::Micrometer => format!(
            "management.endpoints.web.exposure.include=health,prometheus\nmanagement.server.port={port}\n# then set `metrics_path: /actuator/prometheus` under `scrape:` in pullover.yaml"
        ),
        Client::PromClient | Client::PythonClient => String::new(),
    }
}

/// Counter-state hazards the push code shows.
fn hazards(files: &[&SourceFile]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let calls = app_code::push_calls(file.text());
        if calls.is_empty() {
            continue;
        }
        for hazard in serving::counter_hazards(file.text()) {
            findings.push(
                Finding::new(hazard.id, Severity::Hazard, hazard.message)
                    .tip("the dual-run comparison after `scrape` shows the difference live; fix the push code or expect it there")
                    .at(Location::at(file, hazard.offset)),
            );
        }
        for call in calls
            .iter()
            .filter(|c| matches!(c.function.as_str(), "push" | "push_to_gateway"))
        {
            if call.instance == Instance::None {
                findings.push(
                    Finding::new(
                        FindingId::PushReplacesGroup,
                        Severity::Hazard,
                        format!(
                            "`{}` replaces the whole group and its grouping key has no instance: every replica pushing it overwrites the others, while a scrape reads each one",
                            call.function
                        ),
                    )
                    .tip("the scraped series add up over instances where the pushed ones showed the last pusher only")
                    .at(Location::at(file, call.span.start)),
                );
            }
        }
    }
    findings
}

/// `expose:` the app's port on its Compose service, where neither `expose` nor `ports` has it.
fn expose_ports(stack: &Stack, apps: &[&App], builder: ChangeSetBuilder) -> Result<ChangeSetBuilder, Diagnostic> {
    let Some(compose) = &stack.compose else {
        return Ok(builder);
    };
    let mut edits = Vec::new();
    let mut names = Vec::new();
    for app in apps.iter().filter(|a| a.in_compose) {
        let Some(service) = compose.service(&app.service) else {
            continue;
        };
        if service.expose.contains(&app.port) || service.container_ports.contains(&app.port) {
            continue;
        }
        let route = Route::root().key("services").key(app.service.clone());
        let edit = if service.expose.is_empty() {
            YamlEdit::InsertKey {
                route,
                key: "expose".into(),
                value: Value::Sequence(vec![Value::String(app.port.to_string())]),
                comment: None,
            }
        } else {
            YamlEdit::Append {
                route: route.key("expose"),
                value: Value::String(app.port.to_string()),
                comment: None,
            }
        };
        edits.push(edit);
        names.push(app.service.as_str());
    }
    if edits.is_empty() {
        return Ok(builder);
    }
    let after = compose.doc.edit(&edits).map_err(|e| e.to_diagnostic(&compose.file))?;
    Ok(builder.modify(
        &compose.file,
        after,
        format!("expose the metrics port of {}", names.join(", ")),
    ))
}
