//! `dual-run` on Kubernetes: one new manifest next to the gateway's ServiceMonitor holding a
//! PrometheusRule (the divergence of each app metric between the pushed and the scraped series,
//! an alert when they disagree or the scrape is missing) and a sidecar ConfigMap with the
//! comparison dashboard. The two sources are told apart as the operator labels them
//! (`docs/kubernetes.md`, "The label model"): pushed series carry the gateway's `service`,
//! scraped ones the app's; every label the operator adds is left out of the comparison.

use std::collections::BTreeSet;

use serde_json::json;
use yaml_serde::Value;

use super::config_jobs::{PROMETHEUS_YML, object_holder, server_files};
use super::in_place::Edits;
use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, ChangeSetBuilder, Finding, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, YamlEdit, render_plain_or_quoted};
use crate::phase::PhaseId;
use crate::stack::kube::embedded::SIDECAR_LABEL;
use crate::stack::kube::objects::{Chart, Object};
use crate::stack::kube::releases::chart_service_monitor;
use crate::stack::kube::{KubeGateway, KubeStack, ScrapePath};
use crate::stack::source::RelPath;
use crate::stack::{App, Stack};

/// The file this phase writes (and `remove` would delete).
pub const FILE_NAME: &str = "pullover-dual-run.yaml";
/// The rule group's name, and its key in kube-prometheus-stack's `additionalPrometheusRulesMap`.
pub const GROUP: &str = "pullover-dual-run";
/// kube-prometheus-stack's values key for PrometheusRules it creates.
pub const RULES_MAP: &str = "additionalPrometheusRulesMap";
/// The rule file added to a Prometheus server's ConfigMap (named as on Compose, so the dashboards
/// phase leaves it alone).
pub const RULE_FILE: &str = crate::phase::dual_run::RULE_FILE_NAME;
/// The rule files the prometheus chart's `serverFiles."prometheus.yml"` lists by default.
pub const CHART_RULE_FILES: [&str; 4] = [
    "/etc/config/recording_rules.yml",
    "/etc/config/alerting_rules.yml",
    "/etc/config/rules",
    "/etc/config/alerts",
];
/// Where the prometheus chart mounts its server's ConfigMap.
const DEFAULT_CONFIG_FOLDER: &str = "/etc/config";

/// Labels that differ between the two sources by construction.
const SOURCE_LABELS: &str =
    "job, instance, exported_job, exported_instance, namespace, service, pod, endpoint, container";
const TOLERANCE: f64 = 0.05;
const WINDOW: &str = "5m";
const ALERT_FOR: &str = "10m";

/// Metrics the gateway (or every Go/Node process) exports itself: never an app's.
fn is_app_metric(name: &str) -> bool {
    !(name == "up"
        || name.starts_with("push_")
        || name.starts_with("pushgateway_")
        || name.starts_with("process_")
        || name.starts_with("go_")
        || name.starts_with("scrape_"))
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

struct Selectors {
    app: String,
    old: String,
    new: String,
    metrics: Vec<(String, bool)>,
}

fn selectors(stack: &Stack, kube: &KubeStack, gateway: &KubeGateway, app: &App) -> Selectors {
    // Pushed series under honorLabels carry the labels the gateway's target gets: its Service
    // (ServiceMonitor), its pod (PodMonitor), or none of these (a job of Prometheus' own config).
    let old = match &gateway.scrape {
        _ if !gateway.honor_labels => {
            format!("job={}, exported_job={}", quote(&gateway.job), quote(&app.pushed_job))
        }
        ScrapePath::ServiceMonitor(_) | ScrapePath::ChartServiceMonitor { .. } => format!(
            "job={}, service={}",
            quote(&app.pushed_job),
            quote(&gateway.service_name)
        ),
        ScrapePath::PodMonitor(_) => match gateway.workload {
            Some(w) => format!(
                "job={}, pod=~{}",
                quote(&app.pushed_job),
                quote(&format!("{}-.*", kube.objects[w].name))
            ),
            None => format!("job={}", quote(&app.pushed_job)),
        },
        _ => format!("job={}, pod=\"\"", quote(&app.pushed_job)),
    };
    let namespace = kube
        .objects
        .iter()
        .find(|o| o.name == app.service && o.is_long_running())
        .and_then(|o| o.namespace.clone());
    let scraped = super::scraped_matcher(kube, app, "\"");
    let new = match namespace {
        Some(ns) => format!("job={}, namespace={}, {scraped}", quote(&app.job), quote(&ns)),
        None => format!("job={}, {scraped}", quote(&app.job)),
    };
    let mut names: BTreeSet<String> = app.metrics.iter().cloned().collect();
    names.extend(
        stack
            .query_clues
            .iter()
            .filter(|clue| clue.job == app.pushed_job)
            .filter_map(|clue| clue.metric.clone()),
    );
    let metrics = names
        .into_iter()
        .filter(|m| is_app_metric(m))
        .map(|m| {
            let counter =
                m.ends_with("_total") || m.ends_with("_count") || m.ends_with("_sum") || m.ends_with("_bucket");
            (m, counter)
        })
        .collect();
    Selectors {
        app: app.service.clone(),
        old,
        new,
        metrics,
    }
}

fn side(name: &str, counter: bool, selector: &str) -> String {
    if counter {
        format!("sum without ({SOURCE_LABELS}) (rate({name}{{{selector}}}[{WINDOW}]))")
    } else {
        format!("max without ({SOURCE_LABELS}) (avg_over_time({name}{{{selector}}}[{WINDOW}]))")
    }
}

fn divergence(name: &str, counter: bool, s: &Selectors) -> String {
    let old = side(name, counter, &s.old);
    let new = side(name, counter, &s.new);
    format!("max(abs(({old}) - ({new})) / clamp_min(abs({new}), 0.001))")
}

/// What the dual-run manifests begin with.
const HEADER: &str = "# pullover dual-run: the pushed (old) and scraped (new) series side by side.\n# Written by `pullover apply dual-run`; `pullover rollback` removes it again.\n";

pub fn plan(stack: &Stack, kube: &KubeStack, gateway: &KubeGateway) -> Result<ChangeSet, Diagnostic> {
    if gateway.scrape == ScrapePath::Unknown {
        return Err(super::not_yet(
            PhaseId::DualRun,
            &format!("the gateway is scraped by {}", gateway.scrape.describe(kube)),
        ));
    }
    let mut builder = ChangeSet::builder();
    let mut apps = Vec::new();
    for app in &stack.settings.apps {
        let s = decided_selectors(stack, kube, gateway, app)?;
        if s.metrics.is_empty() {
            builder = builder.finding(no_known_metrics(app));
        }
        apps.push(s);
    }
    match monitor_place(kube, gateway)? {
        Some(place) => beside_monitor(stack, kube, gateway, place, &apps, builder),
        None => in_config(stack, kube, gateway, &apps, builder),
    }
}

/// Where the dual-run manifest goes when the cluster finds the gateway by a monitor: next to
/// that monitor, in its namespace (when written), labelled as it is. The chart's ServiceMonitor
/// is only values (a values folder is not applied as manifests): next to the sidecar
/// dashboards, else to the first pusher, in the gateway's namespace, with the chart's
/// `additionalLabels`.
struct MonitorPlace<'k> {
    beside: &'k Object,
    namespace: Option<String>,
    labels: Vec<(String, String)>,
}

/// `None` when the gateway is scraped by a job in a configuration instead.
fn monitor_place<'k>(kube: &'k KubeStack, gateway: &KubeGateway) -> Result<Option<MonitorPlace<'k>>, Diagnostic> {
    match gateway.scrape {
        ScrapePath::ServiceMonitor(index) | ScrapePath::PodMonitor(index) => {
            let monitor = &kube.objects[index];
            Ok(Some(MonitorPlace {
                beside: monitor,
                namespace: monitor.namespace.clone().filter(|_| monitor.namespace_written),
                labels: monitor.labels(),
            }))
        }
        ScrapePath::ChartServiceMonitor { values } => {
            let sidecar_or_pusher = sidecar(kube).or_else(|| kube.pushers.first().map(|p| &kube.objects[p.object]));
            let Some(beside) = sidecar_or_pusher else {
                return Err(super::not_yet(
                    PhaseId::DualRun,
                    "the gateway is scraped by its chart's ServiceMonitor and no manifest of the stack (a sidecar dashboard, a pusher) says where the dual-run rule goes",
                ));
            };
            Ok(Some(MonitorPlace {
                beside,
                namespace: Some(gateway.namespace.clone()),
                labels: chart_service_monitor(&kube.values[values])
                    .map(|m| m.labels)
                    .unwrap_or_default(),
            }))
        }
        _ => Ok(None),
    }
}

/// The app's selectors, once which job it pushes as is decided.
fn decided_selectors(
    stack: &Stack,
    kube: &KubeStack,
    gateway: &KubeGateway,
    app: &App,
) -> Result<Selectors, Diagnostic> {
    if !app.identity.is_decided() {
        return Err(Diagnostic::error(format!(
            "cannot write the dual-run comparison for {}: which job it pushes as is undecided ({}); nothing was written",
            app.service,
            app.identity.candidate_jobs().join(" or ")
        ))
        .help(format!(
            "set it: `apps: [{{service: {}, pushed_job: JOB}}]` in pullover.yaml",
            app.service
        )));
    }
    Ok(selectors(stack, kube, gateway, app))
}

fn no_known_metrics(app: &App) -> Finding {
    Finding::new(
        FindingId::NoKnownMetrics,
        Severity::Todo,
        format!(
            "no metric of {} is known: the rule only checks that its scrape is not missing",
            app.service
        ),
    )
    .tip(format!(
        "list them as `metrics:` for {} under `apps:` in pullover.yaml",
        app.service
    ))
}

/// The stack's dashboard ConfigMap the Grafana sidecar loads, if any.
fn sidecar(kube: &KubeStack) -> Option<&Object> {
    kube.objects
        .iter()
        .find(|o| o.kind == "ConfigMap" && o.labels().iter().any(|(k, _)| k == SIDECAR_LABEL))
}

/// The sidecar label's value the stack's dashboards carry (`1` without one).
fn sidecar_value(sidecar: Option<&Object>) -> String {
    sidecar
        .and_then(|o| o.labels().into_iter().find(|(k, _)| k == SIDECAR_LABEL).map(|(_, v)| v))
        .unwrap_or_else(|| "1".to_string())
}

/// Where the cluster scrapes by monitor: a PrometheusRule and the dashboard ConfigMap in one
/// new manifest next to the gateway's monitor.
fn beside_monitor(
    stack: &Stack,
    kube: &KubeStack,
    gateway: &KubeGateway,
    place: MonitorPlace,
    apps: &[Selectors],
    builder: ChangeSetBuilder,
) -> Result<ChangeSet, Diagnostic> {
    let naming = |k: &str| k == "app" || k == "k8s-app" || k == "name" || k.starts_with("app.kubernetes.io/");
    // Labels the Prometheus selects rules by: those of a PrometheusRule of the stack, else the
    // gateway's ServiceMonitor's.
    let rule_labels: Vec<(String, String)> = kube
        .objects
        .iter()
        .find(|o| o.kind == "PrometheusRule")
        .map_or(place.labels, |rule| rule.labels())
        .into_iter()
        .filter(|(k, _)| !naming(k))
        .collect();
    let sidecar = sidecar(kube);
    let namespace = place.namespace;
    let interval = gateway
        .interval
        .clone()
        .unwrap_or_else(|| stack.settings.scrape.interval.clone());

    let mut text = String::from(HEADER);
    text.push_str("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n");
    metadata(&mut text, "pullover-dual-run", namespace.as_deref(), &rule_labels);
    push_rule_spec(&mut text, apps, &interval);
    text.push_str("---\n");
    let dashboard_namespace = sidecar
        .filter(|o| o.namespace_written)
        .and_then(|o| o.namespace.clone())
        .or(namespace.clone());
    push_dashboard(&mut text, apps, sidecar_value(sidecar), dashboard_namespace.as_deref())?;
    crate::edit::yaml::YamlStream::parse(&text).map_err(|e| {
        Diagnostic::error(format!(
            "the dual-run manifest pullover wrote does not parse (a bug): {e}"
        ))
    })?;
    let builder = write_beside(
        kube,
        place.beside,
        text,
        "compare pushed and scraped series (dual-run)",
        builder,
    )?;
    Ok(builder.build()?)
}

/// The PrometheusRule's `spec`: the rule group as `group_value` holds it, written as text.
fn push_rule_spec(text: &mut String, apps: &[Selectors], interval: &str) {
    text.push_str(&format!(
        "spec:\n  groups:\n    - name: pullover-dual-run\n      interval: {}\n      rules:\n",
        render_plain_or_quoted(interval, None)
    ));
    for s in apps {
        for (name, counter) in &s.metrics {
            text.push_str(&format!(
                "        - record: pullover_dual_run_divergence\n          expr: {}\n          labels:\n            app: {}\n            metric: {}\n",
                quote(&divergence(name, *counter, s)),
                quote(&s.app),
                quote(name)
            ));
        }
        let missing = format!("count({{{}}}) unless on() count({{{}}})", s.old, s.new);
        text.push_str(&format!(
            "        - alert: PulloverDualRunScrapedMissing\n          expr: {}\n          for: {ALERT_FOR}\n          labels:\n            severity: warning\n            app: {}\n",
            quote(&missing),
            quote(&s.app)
        ));
    }
    if apps.iter().any(|s| !s.metrics.is_empty()) {
        text.push_str(&format!(
            "        - alert: PulloverDualRunDivergence\n          expr: pullover_dual_run_divergence > {TOLERANCE}\n          for: {ALERT_FOR}\n          labels:\n            severity: warning\n"
        ));
    }
}

/// `text` as the dual-run manifest next to the manifest of `beside`, listed in its kustomization.
fn write_beside(
    kube: &KubeStack,
    beside: &Object,
    text: String,
    because: &str,
    builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
    let manifest = &kube.manifests[beside.manifest];
    let path = RelPath::join_relative(manifest.file.path.parent(), FILE_NAME).map_err(Diagnostic::error)?;
    let builder = builder.create(path.clone(), text, manifest.file.mode, because);
    list_with(kube, &manifest.file.path, &path, builder)
}

/// `new` goes into the `resources` of the kustomization that lists `beside` (the manifest it is
/// written next to), so it is deployed with it.
fn list_with(
    kube: &KubeStack,
    beside: &RelPath,
    new: &RelPath,
    builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
    let Some(k) = kube.kustomizations.iter().find(|k| {
        k.resources()
            .iter()
            .any(|r| RelPath::join_relative(k.folder(), r).is_ok_and(|p| &p == beside))
    }) else {
        return Ok(builder);
    };
    let entry = match k.folder() {
        "" => new.as_str(),
        folder => match new
            .as_str()
            .strip_prefix(folder)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            Some(rest) => rest,
            None => return Ok(builder),
        },
    };
    let after = k
        .doc
        .edit(&[YamlEdit::Append {
            route: Route::root().key("resources"),
            value: Value::String(entry.to_string()),
            comment: None,
        }])
        .map_err(|e| e.to_diagnostic(&k.file))?;
    Ok(builder.modify(&k.file, after, "deploy the dual-run comparison with the rest"))
}

/// `edit` (an Append or InsertKey made at the root) made at `route` instead.
fn at_route(edit: &YamlEdit, route: Route) -> YamlEdit {
    match edit.clone() {
        YamlEdit::Append { value, comment, .. } => YamlEdit::Append { route, value, comment },
        YamlEdit::InsertKey {
            key, value, comment, ..
        } => YamlEdit::InsertKey {
            route,
            key,
            value,
            comment,
        },
        other => other,
    }
}

/// The comparison dashboard as a ConfigMap the Grafana sidecar loads.
fn push_dashboard(
    text: &mut String,
    apps: &[Selectors],
    sidecar_value: String,
    namespace: Option<&str>,
) -> Result<(), Diagnostic> {
    text.push_str("# The comparison dashboard, loaded by the Grafana sidecar.\napiVersion: v1\nkind: ConfigMap\n");
    let labels = vec![(SIDECAR_LABEL.to_string(), sidecar_value)];
    metadata(text, "pullover-dual-run-dashboard", namespace, &labels);
    text.push_str("data:\n  pullover-dual-run.json: |-\n");
    let dashboard = serde_json::to_string_pretty(&dashboard(apps)).map_err(|e| Diagnostic::error(e.to_string()))?;
    for line in dashboard.lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    Ok(())
}

/// The dual-run rule group as a value: a divergence record per app metric, an alert when the
/// scraped series are missing, one when the two sources disagree.
fn group_value(apps: &[Selectors], interval: &str) -> Value {
    let map = |pairs: Vec<(&str, Value)>| {
        Value::Mapping(pairs.into_iter().map(|(k, v)| (Value::String(k.into()), v)).collect())
    };
    let string = |s: &str| Value::String(s.to_string());
    let mut rules = Vec::new();
    for s in apps {
        for (name, counter) in &s.metrics {
            rules.push(map(vec![
                ("record", string("pullover_dual_run_divergence")),
                ("expr", string(&divergence(name, *counter, s))),
                ("labels", map(vec![("app", string(&s.app)), ("metric", string(name))])),
            ]));
        }
        rules.push(map(vec![
            ("alert", string("PulloverDualRunScrapedMissing")),
            (
                "expr",
                string(&format!("count({{{}}}) unless on() count({{{}}})", s.old, s.new)),
            ),
            ("for", string(ALERT_FOR)),
            (
                "labels",
                map(vec![("severity", string("warning")), ("app", string(&s.app))]),
            ),
        ]));
    }
    if apps.iter().any(|s| !s.metrics.is_empty()) {
        rules.push(map(vec![
            ("alert", string("PulloverDualRunDivergence")),
            ("expr", string(&format!("pullover_dual_run_divergence > {TOLERANCE}"))),
            ("for", string(ALERT_FOR)),
            ("labels", map(vec![("severity", string("warning"))])),
        ]));
    }
    map(vec![
        ("name", string(GROUP)),
        ("interval", string(interval)),
        ("rules", Value::Sequence(rules)),
    ])
}

/// Where Prometheus is configured by its own config: the rule group goes where that shape keeps
/// rules (kube-prometheus-stack's `additionalPrometheusRulesMap`; a rule file of its own in the
/// server's ConfigMap, named in `rule_files`), and the comparison dashboard next to the stack's
/// sidecar dashboards when it has any.
fn in_config(
    stack: &Stack,
    kube: &KubeStack,
    gateway: &KubeGateway,
    apps: &[Selectors],
    mut builder: ChangeSetBuilder,
) -> Result<ChangeSet, Diagnostic> {
    let interval = gateway
        .interval
        .clone()
        .unwrap_or_else(|| stack.settings.scrape.interval.clone());
    let group = group_value(apps, &interval);
    let mut groups = yaml_serde::Mapping::new();
    groups.insert("groups".into(), Value::Sequence(vec![group]));
    let mut edits = Edits::default();
    match &gateway.scrape {
        ScrapePath::ValuesJob { values, .. } if kube.values[*values].chart == Chart::Prometheus => {
            rules_in_server_files(kube, *values, &groups, &mut edits)?;
        }
        ScrapePath::ValuesJob { values, .. } => rules_in_rules_map(kube, *values, &groups, &mut edits)?,
        ScrapePath::ConfigMapJob { object, .. } => rules_in_configmap(kube, *object, &groups, &mut edits)?,
        ScrapePath::ServiceMonitor(_)
        | ScrapePath::PodMonitor(_)
        | ScrapePath::ChartServiceMonitor { .. }
        | ScrapePath::Unknown => {}
    }
    builder = edits.values_into(kube, builder);
    builder = edits.manifests_into(kube, builder)?;
    match sidecar(kube) {
        Some(sidecar) => {
            let namespace = sidecar.namespace.clone().filter(|_| sidecar.namespace_written);
            let mut text = String::from(HEADER);
            push_dashboard(&mut text, apps, sidecar_value(Some(sidecar)), namespace.as_deref())?;
            builder = write_beside(kube, sidecar, text, "the comparison dashboard (dual-run)", builder)?;
        }
        None => {
            builder = builder.finding(Finding::new(
                FindingId::KubeNoSidecarDashboards,
                Severity::Info,
                "no dashboard ConfigMap with the Grafana sidecar label in the stack: the comparison dashboard is not written; the rules compare the two sources",
            ));
        }
    }
    Ok(builder.build()?)
}

const BECAUSE: &str = "compare pushed and scraped series (dual-run)";
const SIDE_BY_SIDE: &str = "pullover dual-run: pushed (old) and scraped (new) series side by side";

/// Where the prometheus chart's `rule_files` gets the dual-run rule file.
enum RuleFilesAt {
    /// The values have no `serverFiles`: it is written whole, with the rule file.
    NewServerFiles,
    /// `serverFiles."prometheus.yml".rule_files` is a list: the file is appended.
    Listed,
    /// `serverFiles."prometheus.yml"` lacks `rule_files`: one naming the chart's and ours.
    NewRuleFiles,
    /// `serverFiles` lacks `prometheus.yml`: one holding such a `rule_files`.
    NewConfig,
}

/// The prometheus chart writes every `serverFiles` key into its server's ConfigMap, mounted at
/// /etc/config: a rule file of its own there, named in `rule_files`.
fn rules_in_server_files(
    kube: &KubeStack,
    values: usize,
    groups: &yaml_serde::Mapping,
    edits: &mut Edits,
) -> Result<(), Diagnostic> {
    let config = server_files().key(PROMETHEUS_YML);
    let held = &kube.values[values].value;
    let listed = crate::stack::kube::objects::strings(config.clone().key("rule_files").find_value(held));
    let folder = listed
        .iter()
        .find_map(|f| f.rsplit_once('/').map(|(dir, _)| dir.to_string()))
        .unwrap_or_else(|| DEFAULT_CONFIG_FOLDER.to_string());
    let path = Value::String(format!("{folder}/{RULE_FILE}"));
    // Helm replaces a list of the chart's defaults with the one given: a `rule_files`
    // written here names the chart's own rule files too.
    let mut rule_files: Vec<Value> = CHART_RULE_FILES.iter().map(|f| Value::String((*f).into())).collect();
    rule_files.push(path.clone());
    let mut server_config = yaml_serde::Mapping::new();
    server_config.insert("rule_files".into(), Value::Sequence(rule_files.clone()));
    let at = if server_files().find_value(held).is_none() {
        RuleFilesAt::NewServerFiles
    } else if config
        .clone()
        .key("rule_files")
        .find_value(held)
        .is_some_and(Value::is_sequence)
    {
        RuleFilesAt::Listed
    } else if config.find_value(held).is_some() {
        RuleFilesAt::NewRuleFiles
    } else {
        RuleFilesAt::NewConfig
    };
    if !matches!(at, RuleFilesAt::NewServerFiles) {
        insert_rules(kube, values, &server_files(), RULE_FILE, groups, edits)?;
    }
    let ours = "the chart's rule files, and pullover's dual-run rules";
    let (at, edit) = match at {
        RuleFilesAt::NewServerFiles => {
            let mut files = yaml_serde::Mapping::new();
            files.insert(RULE_FILE.into(), Value::Mapping(groups.clone()));
            files.insert(PROMETHEUS_YML.into(), Value::Mapping(server_config));
            let edit = YamlEdit::InsertKey {
                route: Route::root(),
                key: "serverFiles".into(),
                value: Value::Mapping(files),
                comment: Some(format!("{SIDE_BY_SIDE}; the chart's own rule files stay listed")),
            };
            (Route::root(), edit)
        }
        RuleFilesAt::Listed => {
            let edit = YamlEdit::Append {
                route: Route::root(),
                value: path,
                comment: None,
            };
            (config.key("rule_files"), edit)
        }
        RuleFilesAt::NewRuleFiles => {
            let edit = YamlEdit::InsertKey {
                route: Route::root(),
                key: "rule_files".into(),
                value: Value::Sequence(rule_files),
                comment: Some(ours.into()),
            };
            (config, edit)
        }
        RuleFilesAt::NewConfig => {
            let edit = YamlEdit::InsertKey {
                route: Route::root(),
                key: PROMETHEUS_YML.into(),
                value: Value::Mapping(server_config),
                comment: Some(ours.into()),
            };
            (server_files(), edit)
        }
    };
    edits.edit_values(kube, values, &at, |route| vec![at_route(&edit, route)], BECAUSE)
}

/// `groups` as the entry `key` of the mapping at `at` of the values.
fn insert_rules(
    kube: &KubeStack,
    values: usize,
    at: &Route,
    key: &str,
    groups: &yaml_serde::Mapping,
    edits: &mut Edits,
) -> Result<(), Diagnostic> {
    edits.edit_values(
        kube,
        values,
        at,
        |route| {
            vec![YamlEdit::InsertKey {
                route,
                key: key.into(),
                value: Value::Mapping(groups.clone()),
                comment: Some(SIDE_BY_SIDE.into()),
            }]
        },
        BECAUSE,
    )
}

/// kube-prometheus-stack: the group as an entry of `additionalPrometheusRulesMap`.
fn rules_in_rules_map(
    kube: &KubeStack,
    values: usize,
    groups: &yaml_serde::Mapping,
    edits: &mut Edits,
) -> Result<(), Diagnostic> {
    let rules_map = Route::root().key(RULES_MAP);
    if rules_map
        .find_value(&kube.values[values].value)
        .is_some_and(Value::is_mapping)
    {
        return insert_rules(kube, values, &rules_map, GROUP, groups, edits);
    }
    let mut map = yaml_serde::Mapping::new();
    map.insert(GROUP.into(), Value::Mapping(groups.clone()));
    edits.edit_values(
        kube,
        values,
        &Route::root(),
        |route| {
            vec![YamlEdit::InsertKey {
                route,
                key: RULES_MAP.into(),
                value: Value::Mapping(map.clone()),
                comment: Some(format!("{SIDE_BY_SIDE}; `pullover remove` takes it out")),
            }]
        },
        BECAUSE,
    )
}

/// A server's ConfigMap: a rule file of its own in `data`, named in its `prometheus.yml`'s
/// `rule_files` under the folder the ConfigMap is mounted at.
fn rules_in_configmap(
    kube: &KubeStack,
    object: usize,
    groups: &yaml_serde::Mapping,
    edits: &mut Edits,
) -> Result<(), Diagnostic> {
    let holder = object_holder(kube, object);
    let configmap = &kube.objects[object];
    let config_route = Route::root().key("data").key(PROMETHEUS_YML);
    let config: Value = configmap
        .value
        .get("data")
        .and_then(|d| d.get(PROMETHEUS_YML))
        .and_then(Value::as_str)
        .and_then(|t| yaml_serde::from_str(t).ok())
        .unwrap_or(Value::Null);
    let rule_files = crate::stack::kube::objects::strings(config.get("rule_files"));
    // The folder the ConfigMap is mounted at: where the rule files it holds are read from.
    let folder = rule_files
        .iter()
        .find(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            configmap.value.get("data").and_then(|d| d.get(name)).is_some()
        })
        .and_then(|f| f.rsplit_once('/').map(|(dir, _)| dir.to_string()))
        .unwrap_or_else(|| DEFAULT_CONFIG_FOLDER.to_string());
    let path = format!("{folder}/{RULE_FILE}");
    let rule_text = crate::edit::yaml::Style::plain("\n").render_entry(
        "groups",
        &Value::Sequence(
            groups
                .get("groups")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default(),
        ),
        0,
        None,
    );
    edits.edit(
        kube,
        holder,
        &[YamlEdit::InsertKey {
            route: Route::root().key("data"),
            key: RULE_FILE.into(),
            value: Value::String(rule_text),
            comment: Some(SIDE_BY_SIDE.into()),
        }],
        BECAUSE,
    )?;
    let add = if config.get("rule_files").is_some_and(Value::is_sequence) {
        YamlEdit::Append {
            route: Route::root().key("rule_files"),
            value: Value::String(path),
            comment: None,
        }
    } else {
        YamlEdit::InsertKey {
            route: Route::root(),
            key: "rule_files".into(),
            value: Value::Sequence(vec![Value::String(path)]),
            comment: None,
        }
    };
    edits.edit_inside(kube, holder, &config_route, &[add], BECAUSE)
}

fn metadata(out: &mut String, name: &str, namespace: Option<&str>, labels: &[(String, String)]) {
    out.push_str(&format!("metadata:\n  name: {name}\n"));
    if let Some(namespace) = namespace {
        out.push_str(&format!("  namespace: {}\n", render_plain_or_quoted(namespace, None)));
    }
    if !labels.is_empty() {
        out.push_str("  labels:\n");
        for (k, v) in labels {
            out.push_str(&format!("    {}: {}\n", render_plain_or_quoted(k, None), quote(v)));
        }
    }
}

fn dashboard(apps: &[Selectors]) -> serde_json::Value {
    let mut panels = Vec::new();
    let mut y = 0;
    for s in apps {
        for (name, counter) in &s.metrics {
            panels.push(json!({
                "id": panels.len() + 1,
                "type": "timeseries",
                "title": format!("{} · {name}: pushed vs scraped", s.app),
                "gridPos": {"h": 8, "w": 24, "x": 0, "y": y},
                "targets": [
                    {"refId": "A", "expr": side(name, *counter, &s.old), "legendFormat": "pushed"},
                    {"refId": "B", "expr": side(name, *counter, &s.new), "legendFormat": "scraped"}
                ]
            }));
            y += 8;
        }
    }
    json!({
        "title": "pullover dual-run",
        "uid": "pullover-dual-run",
        "schemaVersion": 39,
        "panels": panels
    })
}
