//! Phase 1, `scrape`: a direct scrape job for each app, next to the
//! Pushgateway job, in prometheus.yml. Nothing else changes.

use yaml_serde::{Mapping, Value};

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::duration::parse_prometheus_duration;
use crate::edit::yaml::{NodeKind, Route, YamlEdit};
use crate::promql::SelectorView;
use crate::stack::{App, Gateway, Stack, StackQuery};

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    let prom = &stack.prometheus;
    let gateway = super::gateway_of(stack, super::PhaseId::Scrape)?;
    let mut builder = ChangeSet::builder().findings(external_gateway(gateway));
    let mut new_jobs = Vec::new();
    let copyable = copyable_labels(stack, gateway);
    let on_apps = queries_on_apps(stack, gateway, &copyable);
    for (app, on_app) in stack.settings.apps.iter().zip(on_apps) {
        refuse_the_gateways_job_name(gateway, app)?;
        if let Some(existing) = prom.job(&app.job) {
            let location = Location::at(&prom.file, existing.offset);
            builder = builder.finding(job_exists(app, existing.targets.contains(&app.target())).at(location));
            continue;
        }
        builder = builder.findings(hazards_of_a_new_target(stack, gateway, app));
        let labels: Vec<(String, String)> = copyable
            .iter()
            .zip(&on_app.selects_label)
            .filter(|(_, selected)| **selected)
            .map(|(label, _)| label.clone())
            .collect();
        if !labels.is_empty() {
            builder = builder.finding(labels_copied(gateway, app, &labels));
        }
        builder = builder.findings(on_app.short_ranges);
        new_jobs.push(scrape_job(app, stack, &labels));
    }
    if new_jobs.is_empty() {
        return Ok(builder.build()?);
    }
    let after = prom
        .doc
        .edit(&add_jobs(stack, new_jobs)?)
        .map_err(|e| e.to_diagnostic(&prom.file))?;
    let services: Vec<&str> = stack.settings.apps.iter().map(|a| a.service.as_str()).collect();
    Ok(builder
        .modify(&prom.file, after, format!("scrape {} directly", services.join(", ")))
        .build()?)
}

/// A gateway outside the stack (found only as a scrape job) is scraped, never run, by it.
fn external_gateway(gateway: &Gateway) -> Option<Finding> {
    gateway.service.is_none().then(|| Finding::new(
        FindingId::ExternalGateway,
        Severity::Info,
        format!(
            "the Pushgateway at {} is not a service of this stack: it is scraped by job `{}`, and `remove` will remove that job and touch no service",
            gateway.address(),
            gateway.job.as_deref().unwrap_or("?")
        ),
    ).tip("if that is not the gateway, name it with `gateway: {service: …}` or `gateway: {job: …}` in pullover.yaml"))
}

/// The app's new job may not take the gateway job's name: `remove` removes that job.
fn refuse_the_gateways_job_name(gateway: &Gateway, app: &App) -> Result<(), Diagnostic> {
    if gateway.job.as_deref() != Some(app.job.as_str()) {
        return Ok(());
    }
    Err(Diagnostic::error(format!(
        "the new scrape job for {} would be named `{}`, the name of the Pushgateway's job",
        app.service, app.job
    ))
    .help(format!(
        "name it differently with `job:` for {} under `apps:` in pullover.yaml",
        app.service
    )))
}

/// A job of the app's job name exists: it scrapes the app already, or it is someone else's.
fn job_exists(app: &App, scrapes_the_app: bool) -> Finding {
    if scrapes_the_app {
        return Finding::new(
            FindingId::AlreadyScraped,
            Severity::Info,
            format!("{} is already scraped by job `{}`", app.target(), app.job),
        );
    }
    Finding::new(
        FindingId::JobNameTaken,
        Severity::Hazard,
        format!(
            "a job named `{}` exists but does not scrape {}; left as it is",
            app.job,
            app.target()
        ),
    )
    .tip(format!(
        "check that job, or pick another name with `job:` for {} in pullover.yaml",
        app.service
    ))
}

/// What may go wrong with the app's new target: nothing serves its metrics yet, Prometheus must
/// reach it outside Compose, or pushed and scraped series are told apart by instance only.
fn hazards_of_a_new_target(stack: &Stack, gateway: &Gateway, app: &App) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let super::expose::Exposure::PushesOnly { file, line } = super::expose::exposure(stack, app) {
        findings.push(
            Finding::new(
                FindingId::AppServesNoMetrics,
                Severity::Hazard,
                format!(
                    "{} pushes ({file}:{line}) and its code serves no /metrics: the new target will be down",
                    app.service
                ),
            )
            .tip("apply `expose` first (pullover plan expose shows the change to its code)"),
        );
    }
    if !app.in_compose {
        findings.push(Finding::new(
            FindingId::AppNotInCompose,
            Severity::Info,
            format!(
                "{} is not a service of the Compose file; Prometheus must reach it at {}",
                app.service,
                app.target()
            ),
        ));
    }
    if gateway.honor_labels && app.pushed_job == app.job {
        findings.push(
            Finding::new(
                FindingId::DoubleCountDuringDualRun,
                Severity::Hazard,
                format!(
                    "pushed and scraped series of {} will both carry job=\"{}\" and differ only by instance",
                    app.service, app.job
                ),
            )
            .tip(
                "sums over job alone double-count until the `remove` phase; the `dashboards` phase lists those queries",
            ),
        );
    }
    findings
}

fn labels_copied(gateway: &Gateway, app: &App, labels: &[(String, String)]) -> Finding {
    let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    Finding::new(
        FindingId::TargetLabelsCopied,
        Severity::Info,
        format!(
            "the gateway's target in job `{}` adds {}, and queries select {}'s series on it: the new target gets it too",
            gateway.job.as_deref().unwrap_or("?"),
            shown.join(", "),
            app.service
        ),
    )
}

/// The edits that add the new jobs (each with its comment) to prometheus.yml's `scrape_configs`,
/// or add that list when the file has none.
fn add_jobs(stack: &Stack, new_jobs: Vec<(Value, String)>) -> Result<Vec<YamlEdit>, Diagnostic> {
    let prom = &stack.prometheus;
    let scrape_configs = Route::root().key("scrape_configs");
    let has_jobs = prom.doc.find(&scrape_configs).is_some_and(|n| !n.items().is_empty());
    if has_jobs {
        return Ok(new_jobs
            .into_iter()
            .map(|(value, comment)| YamlEdit::Append {
                route: scrape_configs.clone(),
                value,
                comment: Some(comment),
            })
            .collect());
    }
    if prom.doc.value().get("scrape_configs").is_some() {
        return Err(
            Diagnostic::error(format!("{}: `scrape_configs` is empty or not a list", prom.file.path))
                .help("add the scrape job by hand, or write scrape_configs as a block list with at least one job"),
        );
    }
    if !prom
        .doc
        .root()
        .is_some_and(|root| root.kind() == NodeKind::Mapping && !root.is_flow())
    {
        return Err(Diagnostic::error(format!(
            "{} has no block mapping to add `scrape_configs` to: it is empty, only comments, or one flow mapping",
            prom.file.path
        ))
        .help("write the scrape job by hand, or give the file a block `scrape_configs:` list; nothing was written"));
    }
    let jobs = new_jobs.into_iter().map(|(v, _)| v).collect();
    Ok(vec![YamlEdit::InsertKey {
        route: Route::root(),
        key: "scrape_configs".into(),
        value: Value::Sequence(jobs),
        comment: Some("scraped directly (pullover: scrape)".into()),
    }])
}

fn scrape_job(app: &App, stack: &Stack, labels: &[(String, String)]) -> (Value, String) {
    let scrape = &stack.settings.scrape;
    let mut job = Mapping::new();
    job.insert("job_name".into(), Value::String(app.job.clone()));
    job.insert("scrape_interval".into(), Value::String(scrape.interval.clone()));
    // A global scrape_timeout longer than our interval would make Prometheus refuse the config.
    let global_timeout = stack
        .prometheus
        .global_scrape_timeout
        .as_deref()
        .and_then(parse_prometheus_duration);
    if global_timeout
        .zip(parse_prometheus_duration(&scrape.interval))
        .is_some_and(|(t, i)| t > i)
    {
        job.insert("scrape_timeout".into(), Value::String(scrape.interval.clone()));
    }
    job.insert(
        "metrics_path".into(),
        Value::String(super::expose::metrics_path(stack, app)),
    );
    let mut static_config = Mapping::new();
    static_config.insert("targets".into(), Value::Sequence(vec![Value::String(app.target())]));
    if !labels.is_empty() {
        let labels: Mapping = labels
            .iter()
            .map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone())))
            .collect();
        static_config.insert("labels".into(), Value::Mapping(labels));
    }
    job.insert(
        "static_configs".into(),
        Value::Sequence(vec![Value::Mapping(static_config)]),
    );
    let comment = format!(
        "{}: scraped directly instead of through the Pushgateway (pullover: scrape)",
        app.service
    );
    (Value::Mapping(job), comment)
}

/// What the dashboards and rules say about one app's pushed series.
#[derive(Default)]
struct QueriesOnApp {
    /// For each of the gateway target's labels ([`copyable_labels`]): whether a query selects
    /// the app's pushed series on it.
    selects_label: Vec<bool>,
    /// `range-under-four-intervals` hazards, in query order.
    short_ranges: Vec<Finding>,
}

/// Reads every query of the dashboards and rule files once for all apps, keeping only what
/// each app's plan needs: a big stack has tens of thousands of queries and dozens of apps.
fn queries_on_apps(stack: &Stack, gateway: &Gateway, copyable: &[(String, String)]) -> Vec<QueriesOnApp> {
    let apps = &stack.settings.apps;
    let mut out: Vec<QueriesOnApp> = apps
        .iter()
        .map(|_| QueriesOnApp {
            selects_label: vec![false; copyable.len()],
            short_ranges: Vec::new(),
        })
        .collect();
    let rules = stack
        .rule_files
        .iter()
        .filter(|file| file.path.file_name() != super::dual_run::RULE_FILE_NAME)
        .filter_map(|file| crate::stack::prometheus::rule_exprs(file).ok())
        .flatten()
        .map(|(text, at)| StackQuery::located(text, at));
    let queries = stack
        .dashboards
        .iter()
        .filter(|d| d.file.path.file_name() != super::dual_run::DASHBOARD_FILE_NAME)
        .flat_map(|d| d.queries())
        .chain(rules);
    let pushed_series = PushedSeries::of_each_app(stack);
    let only_app = apps.len() == 1;
    for query in queries {
        let Ok(selectors) = crate::promql::selectors(&query.text) else {
            continue;
        };
        for selector in &selectors {
            let (job, exported_job) = (selector.equals("job"), selector.equals("exported_job"));
            if job.is_none() && exported_job.is_none() {
                continue;
            }
            for (series, on_app) in pushed_series.iter().zip(&mut out) {
                if !series.selected_by(selector, job, exported_job, gateway, only_app) {
                    continue;
                }
                for ((name, _), selected) in copyable.iter().zip(&mut on_app.selects_label) {
                    *selected |= selector.matchers.iter().any(|m| &m.label == name);
                }
                on_app
                    .short_ranges
                    .extend(short_range(stack, series.app, &query, selector));
            }
        }
    }
    out
}

/// Whether a selector picks one app's pushed series.
struct PushedSeries<'s> {
    app: &'s App,
    /// Several apps push under the app's job (the gateway's own, say): a selector is the app's
    /// only when it names one of its pushed instances.
    shared: bool,
}

impl<'s> PushedSeries<'s> {
    fn of_each_app(stack: &'s Stack) -> Vec<Self> {
        let apps = &stack.settings.apps;
        apps.iter()
            .map(|app| PushedSeries {
                app,
                shared: apps.iter().filter(|a| a.pushed_job == app.pushed_job).count() > 1,
            })
            .collect()
    }

    /// `job` and `exported_job` are the selector's `=` matchers on them, read once per selector.
    fn selected_by(
        &self,
        selector: &SelectorView,
        job: Option<&str>,
        exported_job: Option<&str>,
        gateway: &Gateway,
        only_app: bool,
    ) -> bool {
        let pushed_job = Some(self.app.pushed_job.as_str());
        let pushed = if gateway.honor_labels {
            job == pushed_job
        } else {
            exported_job == pushed_job || (only_app && gateway.job.is_some() && job == gateway.job.as_deref())
        };
        if !pushed {
            return false;
        }
        let instance_label = if gateway.honor_labels {
            "instance"
        } else {
            "exported_instance"
        };
        !self.shared
            || selector
                .named(instance_label)
                .is_some_and(|named| named.iter().any(|i| self.app.pushed_instances.contains(i)))
    }
}

/// The `labels` the gateway's static target adds (`job`, `instance` and `__` labels aside):
/// those that queries on an app's pushed series select on go onto its new target, or those
/// queries would match nothing.
fn copyable_labels(stack: &Stack, gateway: &Gateway) -> Vec<(String, String)> {
    let Some(job) = gateway.job.as_deref().and_then(|j| stack.prometheus.job(j)) else {
        return Vec::new();
    };
    let address = gateway.address();
    let mut out: Vec<(String, String)> = Vec::new();
    for (targets, labels) in &job.static_labels {
        if !(targets.contains(&address) || job.static_labels.len() == 1) {
            continue;
        }
        for (name, value) in labels {
            let reserved = matches!(name.as_str(), "job" | "instance") || name.starts_with("__");
            if !reserved && !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), value.clone()));
            }
        }
    }
    out
}

/// A range selector over the pushed series shorter than four intervals of the new job: `rate`
/// over it sees too few samples once the app is scraped at that interval.
fn short_range(stack: &Stack, app: &App, query: &StackQuery<'_>, selector: &SelectorView) -> Option<Finding> {
    let interval = &stack.settings.scrape.interval;
    let seconds = parse_prometheus_duration(interval)?.as_secs_f64();
    let range = range_after(&query.text, selector.span.end)?;
    // A template variable such as $__rate_interval does not parse: Grafana sizes it.
    let range_seconds = parse_prometheus_duration(range)?.as_secs_f64();
    if range_seconds >= 4.0 * seconds {
        return None;
    }
    let samples = (range_seconds / seconds).floor();
    Some(
        Finding::new(
            FindingId::RangeUnderFourIntervals,
            Severity::Hazard,
            format!(
                "`[{range}]` over {} is shorter than 4× the interval {} will be scraped at ({interval}): at most {samples} sample(s) per window",
                selector.metric.as_deref().unwrap_or("the pushed series"),
                app.service
            ),
        )
        .tip(format!(
            "widen the range to at least {}s or use $__rate_interval, or scrape more often with `scrape: {{interval: …}}` in pullover.yaml",
            4.0 * seconds
        ))
        .at(query.location()),
    )
}

/// The duration of a range selector `[5m]` (or of a subquery's range) right after `end`.
fn range_after(query: &str, end: usize) -> Option<&str> {
    let rest = query.get(end..)?.trim_start();
    let inner = rest.strip_prefix('[')?;
    let inner = &inner[..inner.find(']')?];
    Some(inner.split(':').next().unwrap_or(inner).trim())
}
