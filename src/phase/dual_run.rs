//! Phase 2, `dual-run`: both sources live side by side. Adds, from
//! `templates/dual-run/`, a rule file that records the relative difference
//! between each pushed metric and its scraped twin (and alerts when they
//! diverge or the scrape is missing), and a comparison dashboard. The rule
//! file goes where an existing `rule_files` glob loads it, else next to
//! prometheus.yml with a `rule_files` entry.

use std::collections::BTreeSet;

use minijinja::{Environment, context};
use serde::Serialize;
use yaml_serde::Value;

use super::mounts;
use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, ChangeSetBuilder, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlDoc, YamlEdit};
use crate::promql;
use crate::stack::discover;
use crate::stack::source::RelPath;
use crate::stack::{App, Gateway, Stack, StackQuery};

/// File name of the rule file and dashboard this phase writes (and `remove` deletes).
pub const RULE_FILE_NAME: &str = "pullover-dual-run.yml";
pub const DASHBOARD_FILE_NAME: &str = "pullover-dual-run.json";

const RULES_TEMPLATE: &str = include_str!("../../templates/dual-run/rules.yml.j2");
const DASHBOARD_TEMPLATE: &str = include_str!("../../templates/dual-run/dashboard.json.j2");

/// Relative difference above which the divergence alert fires.
const TOLERANCE: f64 = 0.05;
const WINDOW: &str = "5m";

/// Labels that differ between the two sources by construction.
const SOURCE_LABELS: &str = "job, instance, exported_job, exported_instance";

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    let gateway = super::gateway_of(stack, super::PhaseId::DualRun)?;
    let mut builder = ChangeSet::builder().findings(decided_identities(stack)?);
    let (learned, unread) = learn_metrics(stack, gateway);
    let apps = app_models(stack, gateway, &learned);
    builder = builder
        .findings(unread)
        .findings(apps.iter().filter(|a| a.metrics.is_empty()).map(no_known_metrics));
    read_by_the_stacks_prometheus(&apps, &stack.prometheus_dialect)?;
    let rules_text = render_rules(&apps)?;
    let (rule_path, wire, pattern) = rule_file_location(stack);
    builder = upsert(
        builder,
        stack,
        &rule_path,
        rules_text,
        "compare pushed and scraped series (dual-run)",
    );
    if let Some(entry) = wire {
        let after = stack
            .prometheus
            .doc
            .edit(&[load_rule_file(stack, entry)?])
            .map_err(|e| e.to_diagnostic(&stack.prometheus.file))?;
        builder = builder.modify(&stack.prometheus.file, after, "load the dual-run rules");
    }
    let (mut compose_edits, findings) = mount_rule_file(stack, &rule_path, pattern.as_deref());
    builder = with_dashboard(builder.findings(findings), stack, &apps, &mut compose_edits)?;
    if let Some(compose) = stack.compose.as_ref().filter(|_| !compose_edits.is_empty()) {
        let after = compose
            .doc
            .edit(&compose_edits)
            .map_err(|e| e.to_diagnostic(&compose.file))?;
        builder = builder.modify(
            &compose.file,
            after,
            "mount the dual-run files where the containers read them",
        );
    }
    Ok(builder.build()?)
}

/// The identity findings of every app; an app whose pushed job is undecided stops the phase:
/// the comparison would watch the wrong series.
fn decided_identities(stack: &Stack) -> Result<Vec<Finding>, Diagnostic> {
    let mut findings = Vec::new();
    for app in &stack.settings.apps {
        if !app.identity.is_decided() {
            let mut error = Diagnostic::error(format!(
                "cannot write the dual-run comparison for {}: which job it pushes as is undecided ({}); nothing was written",
                app.service,
                app.identity.candidate_jobs().join(" or ")
            ));
            for side in app.identity.evidence.iter().chain(&app.identity.disputed_by) {
                error = error.help(side.says.clone());
            }
            return Err(error.help(format!(
                "set the job its series carry today: `apps: [{{service: {}, pushed_job: JOB}}]` in pullover.yaml",
                app.service
            )));
        }
        findings.extend(crate::identity::findings(&app.service, &app.identity));
    }
    Ok(findings)
}

/// Every app with the metrics it is known to write: those pullover.yaml lists and those
/// learned from the stack (`learned`: service and metric).
fn app_models(stack: &Stack, gateway: &Gateway, learned: &[(String, String)]) -> Vec<AppModel> {
    stack
        .settings
        .apps
        .iter()
        .map(|app| {
            let mut names: BTreeSet<String> = app.metrics.iter().cloned().collect();
            names.extend(
                learned
                    .iter()
                    .filter(|(a, _)| a == &app.service)
                    .map(|(_, m)| m.clone()),
            );
            AppModel::new(app, gateway, names)
        })
        .collect()
}

fn no_known_metrics(app: &AppModel) -> Finding {
    Finding::new(
        FindingId::NoKnownMetrics,
        Severity::Todo,
        format!(
            "no metric of {} is known: the rule file only checks that its scrape is not missing",
            app.service
        ),
    )
    .tip(format!(
        "list them as `metrics:` for {} under `apps:` in pullover.yaml",
        app.service
    ))
}

/// The edit of prometheus.yml that adds `entry` to `rule_files`.
fn load_rule_file(stack: &Stack, entry: String) -> Result<YamlEdit, Diagnostic> {
    let append = |entry: String| YamlEdit::Append {
        route: Route::root().key("rule_files"),
        value: Value::String(entry),
        comment: None,
    };
    Ok(match stack.prometheus.doc.find(&Route::root().key("rule_files")) {
        Some(node) if !node.items().is_empty() || node.is_flow() => append(entry),
        // `rule_files:` with only comments under it (Prometheus's sample config): a list
        // of one item, after the comments.
        _ if stack
            .prometheus
            .doc
            .value()
            .get("rule_files")
            .is_some_and(Value::is_null) =>
        {
            append(entry)
        }
        Some(_) => {
            return Err(Diagnostic::error(format!(
                "{}: `rule_files` is not a list pullover can add to",
                stack.prometheus.file.path
            ))
            .help(format!(
                "add `{RULE_FILE_NAME}` to rule_files by hand, or write rule_files as a list"
            )));
        }
        None => YamlEdit::InsertKey {
            route: Route::root(),
            key: "rule_files".into(),
            value: Value::Sequence(vec![Value::String(entry)]),
            comment: Some("pullover dual-run rules (removed by the `remove` phase)".into()),
        },
    })
}

/// The comparison dashboard in the provisioned dashboards folder, with the Compose edits that
/// let Grafana see it (added to `compose_edits`); without such a folder, a finding saying so.
fn with_dashboard(
    builder: ChangeSetBuilder,
    stack: &Stack,
    apps: &[AppModel],
    compose_edits: &mut Vec<YamlEdit>,
) -> Result<ChangeSetBuilder, Diagnostic> {
    let Some(dir) = stack.dashboards_dir() else {
        return Ok(builder.finding(
            Finding::new(
                FindingId::NoDashboardsFolder,
                Severity::Info,
                "no provisioned dashboards folder found: no comparison dashboard written",
            )
            .tip("name the folder Grafana provisions with --dashboards DIR"),
        ));
    };
    let path = RelPath::join_relative(dir.as_str(), DASHBOARD_FILE_NAME).map_err(Diagnostic::error)?;
    let (edits, findings) = mount_dashboard(stack, &dir, &path);
    compose_edits.extend(edits);
    Ok(upsert(
        builder.findings(findings),
        stack,
        &path,
        render_dashboard(apps)?,
        "a dashboard comparing pushed and scraped series",
    ))
}

/// The Compose edits (and what they mean) that let Prometheus see the rule file at `path`:
/// none when a bind mount already reaches it where prometheus.yml's `rule_files` expects it, or
/// when Prometheus does not run from this Compose file with its config mounted.
fn mount_rule_file(stack: &Stack, path: &RelPath, pattern: Option<&str>) -> (Vec<YamlEdit>, Vec<Finding>) {
    let Some(compose) = &stack.compose else {
        return (Vec::new(), Vec::new());
    };
    let Some(service) = compose.services.iter().find(|s| discover::is_prometheus_service(s)) else {
        return (Vec::new(), Vec::new());
    };
    let Some(config) = mounts::container_path(compose, service, &stack.prometheus.file.path) else {
        return (Vec::new(), Vec::new());
    };
    let config_dir = mounts::container_dir(&config);
    let folder = match pattern {
        Some(pattern) => mounts::container_join(config_dir, mounts::container_dir(pattern)),
        None => mounts::container_join(config_dir, ""),
    };
    let expected = format!("{}/{RULE_FILE_NAME}", folder.trim_end_matches('/'));
    mount_file(compose, service, path, &expected, "Prometheus")
}

/// The Compose edits that let Grafana load the comparison dashboard: when its folder is not
/// mounted whole but its dashboards are mounted one by one, a mount for this one too.
fn mount_dashboard(
    stack: &Stack,
    dir: &crate::stack::DashboardsFolder,
    path: &RelPath,
) -> (Vec<YamlEdit>, Vec<Finding>) {
    let Some(compose) = &stack.compose else {
        return (Vec::new(), Vec::new());
    };
    let Some(service) = compose.services.iter().find(|s| discover::is_grafana_service(s)) else {
        return (Vec::new(), Vec::new());
    };
    if mounts::container_path(compose, service, path).is_some() {
        return (Vec::new(), Vec::new());
    }
    let sibling = stack
        .dashboard_files()
        .filter(|f| f.path.parent() == dir.as_str() && f.path.file_name() != DASHBOARD_FILE_NAME)
        .find_map(|f| mounts::container_path(compose, service, &f.path));
    match sibling {
        Some(sibling) => {
            let expected = format!("{}/{DASHBOARD_FILE_NAME}", mounts::container_dir(&sibling));
            mount_file(compose, service, path, &expected, "Grafana")
        }
        None => not_in_container(
            format!(
                "service {} mounts nothing of {dir}: Grafana will not load the comparison dashboard {path}",
                service.name
            ),
            "mount the folder Grafana's dashboard provider reads, or pin the dashboards folder with --dashboards DIR"
                .into(),
        ),
    }
}

/// No edit, and the hazard that a container will not see a file pullover writes.
fn not_in_container(message: String, tip: String) -> (Vec<YamlEdit>, Vec<Finding>) {
    let finding = Finding::new(FindingId::NotInContainer, Severity::Hazard, message).tip(tip);
    (Vec::new(), vec![finding])
}

/// A mount of `path` at `expected` in `service`, unless one already puts it there.
fn mount_file(
    compose: &crate::stack::compose::Compose,
    service: &crate::stack::compose::Service,
    path: &RelPath,
    expected: &str,
    what: &str,
) -> (Vec<YamlEdit>, Vec<Finding>) {
    let seen = mounts::container_path(compose, service, path);
    if seen.as_deref() == Some(expected) {
        return (Vec::new(), Vec::new());
    }
    let why = match &seen {
        Some(elsewhere) => format!("service {} sees {path} at {elsewhere}", service.name),
        None => format!("no bind mount of service {} reaches {path}", service.name),
    };
    match mounts::add_mount(compose, service, path, expected) {
        Some(added) => (
            vec![added.edit],
            vec![
                Finding::new(
                    FindingId::MountAdded,
                    Severity::Info,
                    format!(
                        "{why}: added the mount `{}` so {what} reads it at {expected}; `remove` takes it out again",
                        added.shown
                    ),
                )
                .tip(format!(
                    "recreate the container for the mount to apply: `docker compose up -d {}`",
                    service.name
                )),
            ],
        ),
        None => not_in_container(
            format!("{why}, and pullover cannot add a mount for it: {what} will not read it at {expected}"),
            format!("mount {path} at {expected} in service {} by hand", service.name),
        ),
    }
}

/// Creates the file, or replaces it when a previous version differs.
fn upsert(
    builder: crate::changeset::ChangeSetBuilder,
    stack: &Stack,
    path: &RelPath,
    text: String,
    because: &str,
) -> crate::changeset::ChangeSetBuilder {
    match stack.files().find(|f| &f.path == path) {
        Some(existing) => builder.modify(existing, text, because),
        None => builder.create(path.clone(), text, 0o644, because),
    }
}

/// Where the rule file goes, the `rule_files` entry to add when no existing pattern loads it,
/// and the existing pattern that loads it.
fn rule_file_location(stack: &Stack) -> (RelPath, Option<String>, Option<String>) {
    for (pattern, host) in &stack.rule_patterns {
        let Some(host) = host else { continue };
        let dir = host.rsplit_once('/').map_or("", |(d, _)| d);
        if dir.contains(['*', '?', '[']) {
            continue;
        }
        let Ok(candidate) = RelPath::join_relative(dir, RULE_FILE_NAME) else {
            continue;
        };
        if glob::Pattern::new(host).is_ok_and(|p| p.matches(candidate.as_str())) {
            return (candidate, None, Some(pattern.clone()));
        }
    }
    let config_dir = stack.prometheus.file.path.parent();
    let path =
        RelPath::join_relative(config_dir, RULE_FILE_NAME).unwrap_or_else(|_| stack.prometheus.file.path.clone());
    let already = stack.prometheus.rule_files.iter().any(|r| r == RULE_FILE_NAME);
    (path, (!already).then(|| RULE_FILE_NAME.to_string()), None)
}

/// Metric names each app pushes, learnt from the queries of the dashboards and
/// rules that select its pushed series; plus a finding for each dashboard,
/// rule file or query that could not be read (nothing is learnt from it).
fn learn_metrics(stack: &Stack, gateway: &Gateway) -> (Vec<(String, String)>, Vec<Finding>) {
    let mut unread = Vec::new();
    // Each query with where it is, for a finding when it does not parse.
    let mut queries: Vec<StackQuery<'_>> = Vec::new();
    for dashboard in &stack.dashboards {
        let file = &dashboard.file;
        if file.path.file_name() == DASHBOARD_FILE_NAME {
            continue;
        }
        match &dashboard.scan {
            Ok(_) => queries.extend(dashboard.queries()),
            Err(error) => unread.push(
                Finding::new(
                    FindingId::UnreadableDashboard,
                    Severity::Info,
                    format!(
                        "{} is not a dashboard pullover can read ({error}); no metric was learnt from it",
                        file.path
                    ),
                )
                .at(Location::at(file, error.offset()))
                .tip(error.help()),
            ),
        }
    }
    for file in &stack.rule_files {
        if file.path.file_name() == RULE_FILE_NAME {
            continue;
        }
        match crate::stack::prometheus::rule_exprs(file) {
            Ok(exprs) => queries.extend(exprs.into_iter().map(|(text, at)| StackQuery::located(text, at))),
            Err(error) => unread.push(
                Finding::new(
                    FindingId::UnreadableRuleFile,
                    Severity::Info,
                    format!(
                        "{} is not a rule file pullover can read ({error}); no metric was learnt from it",
                        file.path
                    ),
                )
                .at(Location::at(file, error.offset().unwrap_or(0)))
                .tip("`promtool check rules` shows what Prometheus makes of it"),
            ),
        }
    }
    let mut found = BTreeSet::new();
    for query in &queries {
        let selectors = match promql::selectors(&query.text) {
            Ok(selectors) => selectors,
            Err(error) => {
                unread.push(
                    Finding::new(
                        FindingId::UnparseableQuery,
                        Severity::Info,
                        format!("a query does not parse as PromQL ({error}); no metric was learnt from it"),
                    )
                    .at(query.location()),
                );
                continue;
            }
        };
        for selector in selectors {
            let Some(metric) = &selector.metric else { continue };
            if !is_app_metric(metric) {
                continue;
            }
            for app in &stack.settings.apps {
                let pushed = if gateway.honor_labels {
                    selector.equals("job") == Some(app.pushed_job.as_str())
                } else {
                    selector.equals("exported_job") == Some(app.pushed_job.as_str())
                        || (stack.settings.apps.len() == 1
                            && gateway
                                .job
                                .as_deref()
                                .is_some_and(|j| selector.equals("job") == Some(j)))
                };
                if pushed {
                    found.insert((app.service.clone(), metric.clone()));
                }
            }
        }
    }
    (found.into_iter().collect(), unread)
}

/// Series that only the gateway or Prometheus itself produce.
fn is_app_metric(name: &str) -> bool {
    !(name == "up"
        || name == "push_time_seconds"
        || name == "push_failure_time_seconds"
        || name.starts_with("pushgateway_")
        || name.starts_with("scrape_")
        || name.starts_with("pullover_"))
}

fn is_counter(name: &str) -> bool {
    ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .any(|s| name.ends_with(s))
}

#[derive(Debug, Serialize)]
struct AppModel {
    service: String,
    target: String,
    old_selector: String,
    new_selector: String,
    missing_expr: String,
    metrics: Vec<MetricModel>,
}

#[derive(Debug, Serialize)]
struct MetricModel {
    name: String,
    counter: bool,
    old_expr: String,
    new_expr: String,
    divergence_expr: String,
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

impl AppModel {
    fn new(app: &App, gateway: &Gateway, metrics: BTreeSet<String>) -> AppModel {
        let new_selector = format!("job={}, instance={}", quote(&app.job), quote(&app.target()));
        let old_selector = if gateway.honor_labels {
            match app.pushed_instances.as_slice() {
                [] if app.pushed_job == app.job => {
                    format!("job={}, instance!={}", quote(&app.pushed_job), quote(&app.target()))
                }
                // Pushed under the gateway's own job: the gateway's own series share it.
                [] if gateway.job.as_deref() == Some(app.pushed_job.as_str()) => format!(
                    "job={}, instance!={}",
                    quote(&app.pushed_job),
                    quote(&gateway.address())
                ),
                [] => format!("job={}", quote(&app.pushed_job)),
                [one] => format!("job={}, instance={}", quote(&app.pushed_job), quote(one)),
                many => {
                    let alternation: Vec<String> = many.iter().map(|i| regex_escape(i)).collect();
                    format!(
                        "job={}, instance=~{}",
                        quote(&app.pushed_job),
                        quote(&alternation.join("|"))
                    )
                }
            }
        } else {
            let job = gateway.job_label();
            format!("job={}, exported_job={}", quote(&job), quote(&app.pushed_job))
        };
        let metrics = metrics
            .into_iter()
            .map(|name| {
                let counter = is_counter(&name);
                let side = |selector: &str| {
                    if counter {
                        format!("sum without ({SOURCE_LABELS}) (rate({name}{{{selector}}}[{WINDOW}]))")
                    } else {
                        // Gauges are sampled at different moments by the two paths: compare averages.
                        format!("max without ({SOURCE_LABELS}) (avg_over_time({name}{{{selector}}}[{WINDOW}]))")
                    }
                };
                let old_expr = side(&old_selector);
                let new_expr = side(&new_selector);
                let divergence_expr =
                    format!("max(abs(({old_expr}) - ({new_expr})) / clamp_min(abs({new_expr}), 0.001))");
                MetricModel {
                    name,
                    counter,
                    old_expr,
                    new_expr,
                    divergence_expr,
                }
            })
            .collect();
        let missing_expr = format!("count({{{old_selector}}}) unless on() count({{{new_selector}}})");
        AppModel {
            service: app.service.clone(),
            target: app.target(),
            old_selector,
            new_selector,
            missing_expr,
            metrics,
        }
    }
}

/// Every query the rule file and the dashboard will hold, read as the stack's own Prometheus
/// reads it: pullover never writes PromQL that server rejects (a function it lacks, a modifier
/// behind a flag it does not run with).
fn read_by_the_stacks_prometheus(apps: &[AppModel], dialect: &crate::promql::Dialect) -> Result<(), Diagnostic> {
    for app in apps {
        let exprs = [
            app.missing_expr.clone(),
            format!("count({{{}}})", app.old_selector),
            format!("count({{{}}})", app.new_selector),
        ]
        .into_iter()
        .chain(
            app.metrics
                .iter()
                .flat_map(|m| [m.old_expr.clone(), m.new_expr.clone(), m.divergence_expr.clone()]),
        );
        for expr in exprs {
            crate::promql::accepted_by(&expr, dialect).map_err(|reason| {
                Diagnostic::error(format!(
                    "the dual-run query `{expr}` for {} would not run on the stack's Prometheus: {reason}",
                    app.service
                ))
                .help("nothing was written; list the app's metrics with `metrics:` under `apps:` in pullover.yaml, or report this")
            })?;
        }
    }
    Ok(())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env
}

fn render_rules(apps: &[AppModel]) -> Result<String, Diagnostic> {
    let env = environment();
    let text = env
        .render_str(
            RULES_TEMPLATE,
            context! {
                apps => minijinja::Value::from(minijinja::value::Serde(apps)),
                has_metrics => apps.iter().any(|a| !a.metrics.is_empty()),
                tolerance => TOLERANCE,
                tolerance_percent => TOLERANCE * 100.0,
                alert_for => "15m",
                interval => "30s",
            },
        )
        .map_err(|e| Diagnostic::error(format!("the dual-run rules template failed: {e}")))?;
    // Our own output must read back as YAML; a template bug must not reach a file.
    YamlDoc::parse(&text)
        .map_err(|e| Diagnostic::error(format!("the dual-run rules template produced invalid YAML: {e}")))?;
    Ok(text)
}

#[derive(Serialize)]
struct PanelModel {
    title: String,
    row: bool,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    unit: &'static str,
    targets: Vec<TargetModel>,
}

#[derive(Serialize)]
struct TargetModel {
    expr: String,
    legend: String,
    ref_id: &'static str,
}

fn render_dashboard(apps: &[AppModel]) -> Result<String, Diagnostic> {
    let mut panels = Vec::new();
    let mut y = 0;
    for app in apps {
        panels.push(PanelModel {
            title: format!("{} ({})", app.service, app.target),
            row: true,
            x: 0,
            y,
            w: 24,
            h: 1,
            unit: "",
            targets: Vec::new(),
        });
        y += 1;
        panels.push(PanelModel {
            title: "series: pushed vs scraped".into(),
            row: false,
            x: 0,
            y,
            w: 24,
            h: 6,
            unit: "short",
            targets: vec![
                TargetModel {
                    expr: format!("count({{{}}})", app.old_selector),
                    legend: "pushed".into(),
                    ref_id: "A",
                },
                TargetModel {
                    expr: format!("count({{{}}})", app.new_selector),
                    legend: "scraped".into(),
                    ref_id: "B",
                },
            ],
        });
        y += 6;
        for metric in &app.metrics {
            let what = if metric.counter { "rate" } else { "value" };
            panels.push(PanelModel {
                title: format!("{}: {what}, pushed vs scraped", metric.name),
                row: false,
                x: 0,
                y,
                w: 12,
                h: 8,
                unit: "short",
                targets: vec![
                    TargetModel {
                        expr: metric.old_expr.clone(),
                        legend: "pushed".into(),
                        ref_id: "A",
                    },
                    TargetModel {
                        expr: metric.new_expr.clone(),
                        legend: "scraped".into(),
                        ref_id: "B",
                    },
                ],
            });
            panels.push(PanelModel {
                title: format!("{}: relative difference", metric.name),
                row: false,
                x: 12,
                y,
                w: 12,
                h: 8,
                unit: "percentunit",
                targets: vec![TargetModel {
                    expr: metric.divergence_expr.clone(),
                    legend: "|pushed − scraped| / scraped".into(),
                    ref_id: "A",
                }],
            });
            y += 8;
        }
    }
    let env = environment();
    let text = env
        .render_str(
            DASHBOARD_TEMPLATE,
            context! { panels => minijinja::Value::from(minijinja::value::Serde(&panels)) },
        )
        .map_err(|e| Diagnostic::error(format!("the dual-run dashboard template failed: {e}")))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Diagnostic::error(format!("the dual-run dashboard template produced invalid JSON: {e}")))?;
    Ok(text)
}
