//! Which label sets the pushed series really carry: from `pullover.yaml` when it pins them, else
//! learnt from the dashboards' and rules' own selectors (and from a live
//! Pushgateway or Prometheus when a URL is given; see [`observed_live`]). Everything learnt is reported, so a reviewer sees why a query changed.

use std::collections::BTreeSet;

use crate::changeset::{Finding, Location, Severity};
use crate::promql::{AppMapping, SelectorView, SeriesMapping, selectors};
use crate::stack::{App, Gateway, Stack};

/// A label set seen on pushed series, in grouping-key terms whatever `honor_labels` is: the `job`
/// and `instance` the app pushed with.
///
/// The dashboards phase makes these from the queries; a live source (Prometheus's
/// `count by (job, instance, exported_job, exported_instance)`, Pushgateway's `/api/v1/metrics`)
/// can hand more to [`super::plan_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedSeries {
    pub job: String,
    /// `None`: the evidence says nothing about the instance; `Some("")`: pushed without one.
    pub instance: Option<String>,
    pub metric: Option<String>,
    /// Whether the series are pushed for certain (`push_time_seconds{job=…}`, an instance that is
    /// no scrape target, `exported_job`, a live answer), rather than perhaps scraped.
    pub certain: bool,
    pub seen: Seen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// In a query: where, and the selector as written.
    Query { location: Location, selector: String },
    /// On a live server.
    Live { source: String },
}

impl Seen {
    fn location(&self) -> Option<Location> {
        match self {
            Seen::Query { location, .. } => Some(location.clone()),
            Seen::Live { .. } => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Seen::Query { selector, .. } => format!("`{selector}`"),
            Seen::Live { source } => format!("the live {source}"),
        }
    }
}

const JOB: &str = "job";
const INSTANCE: &str = "instance";

fn is_gateway_only(name: &str) -> bool {
    matches!(name, "push_time_seconds" | "push_failure_time_seconds") || name.starts_with("pushgateway_")
}

fn is_per_target(name: &str) -> bool {
    name == "up"
        || ["scrape_", "go_", "process_", "promhttp_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// What the live servers reported (see [`Stack::observed_pushes`]): certain evidence, one per
/// metric of each group (or one without a metric when the source does not name them).
pub(super) fn observed_live(stack: &Stack) -> Vec<PushedSeries> {
    let mut out = Vec::new();
    for push in &stack.observed_pushes {
        let series = |metric: Option<&String>| PushedSeries {
            job: push.job.clone(),
            instance: Some(push.instance.clone()),
            metric: metric.cloned(),
            certain: true,
            seen: Seen::Live {
                source: push.source.clone(),
            },
        };
        if push.metrics.is_empty() {
            out.push(series(None));
        }
        out.extend(push.metrics.iter().map(|m| series(Some(m))));
    }
    out
}

/// Reads pushed label sets out of queries.
pub(super) struct Reader {
    honor_labels: bool,
    gateway_job: String,
    /// Values of `instance` that name the gateway or an app's scrape target, not a pushed group.
    not_pushed_instances: Vec<String>,
    /// Jobs that scrape something else: never a pushed job.
    other_jobs: Vec<String>,
    /// The apps' new scrape jobs: their metrics are the apps' metrics too.
    scrape_jobs: Vec<String>,
}

impl Reader {
    pub(super) fn new(stack: &Stack, gateway: &Gateway) -> Reader {
        let gateway_job = gateway_job(gateway);
        let mut not_pushed_instances = gateway_instances(stack, gateway);
        not_pushed_instances.extend(stack.settings.apps.iter().map(App::target));
        let other_jobs = stack
            .prometheus
            .jobs
            .iter()
            .map(|j| j.name.clone())
            .filter(|name| *name != gateway_job && !stack.settings.apps.iter().any(|a| a.job == *name))
            .collect();
        Reader {
            honor_labels: gateway.honor_labels,
            gateway_job,
            not_pushed_instances,
            other_jobs,
            scrape_jobs: stack.settings.apps.iter().map(|a| a.job.clone()).collect(),
        }
    }

    /// The pushed label sets `query` names; nothing for a query that does not parse.
    pub(super) fn read(&self, query: &str, location: &Location) -> Vec<PushedSeries> {
        let Ok(selectors) = selectors(query) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for selector in &selectors {
            let seen = Seen::Query {
                location: location.clone(),
                selector: query.get(selector.span.clone()).unwrap_or_default().to_string(),
            };
            if self.honor_labels {
                self.read_honoring_labels(selector, &seen, &mut out);
            } else {
                self.read_exported_labels(selector, &seen, &mut out);
            }
            // A query already rewritten to the scraped series still says which metrics an app
            // has (these say nothing about instances).
            for job in selector.named(JOB).unwrap_or_default() {
                if self.scrape_jobs.contains(job) {
                    out.push(PushedSeries {
                        job: job.clone(),
                        instance: None,
                        metric: selector.metric.clone(),
                        certain: false,
                        seen: seen.clone(),
                    });
                }
            }
        }
        out
    }

    /// `honor_labels: true`: pushed series carry the pushed `job` and `instance`.
    fn read_honoring_labels(&self, selector: &SelectorView, seen: &Seen, out: &mut Vec<PushedSeries>) {
        let Some(jobs) = selector.named(JOB) else { return };
        let metric = selector.metric.clone();
        let push_metric = metric.as_deref().is_some_and(is_gateway_only);
        for job in jobs {
            if *job == self.gateway_job || self.other_jobs.contains(job) {
                continue;
            }
            match selector.named(INSTANCE) {
                None => out.push(PushedSeries {
                    job: job.clone(),
                    instance: None,
                    metric: metric.clone(),
                    certain: push_metric,
                    seen: seen.clone(),
                }),
                Some(instances) => {
                    for instance in instances.iter().filter(|i| !self.not_pushed_instances.contains(i)) {
                        out.push(PushedSeries {
                            job: job.clone(),
                            instance: Some(instance.clone()),
                            metric: metric.clone(),
                            certain: true,
                            seen: seen.clone(),
                        });
                    }
                }
            }
        }
    }

    /// `honor_labels: false`: the pushed job and instance are in `exported_job` /
    /// `exported_instance`.
    fn read_exported_labels(&self, selector: &SelectorView, seen: &Seen, out: &mut Vec<PushedSeries>) {
        let Some(jobs) = selector.named("exported_job") else {
            return;
        };
        let instances: Vec<Option<String>> = match selector.named("exported_instance") {
            Some(instances) => instances.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        for job in jobs {
            for instance in &instances {
                out.push(PushedSeries {
                    job: job.clone(),
                    instance: instance.clone(),
                    metric: selector.metric.clone(),
                    certain: true,
                    seen: seen.clone(),
                });
            }
        }
    }
}

pub(super) fn gateway_job(gateway: &Gateway) -> String {
    gateway.job.clone().unwrap_or_else(|| "pushgateway".to_string())
}

/// The gateway job's targets as written, or the gateway's address.
fn gateway_instances(stack: &Stack, gateway: &Gateway) -> Vec<String> {
    let targets = gateway
        .job
        .as_deref()
        .and_then(|job| stack.prometheus.job(job))
        .map(|job| job.targets.clone())
        .unwrap_or_default();
    if targets.is_empty() {
        vec![gateway.address()]
    } else {
        targets
    }
}

/// The mapping the rewrite follows, and a finding for everything learnt rather than pinned.
pub(super) fn series_mapping(stack: &Stack, gateway: &Gateway, seen: &[PushedSeries]) -> (SeriesMapping, Vec<Finding>) {
    let mut findings = Vec::new();
    let pinned = |app: &App| {
        stack
            .settings_file
            .as_ref()
            .and_then(|file| file.apps.iter().find(|pinned| pinned.service == app.service))
    };
    let apps = &stack.settings.apps;
    let gateway_job = gateway_job(gateway);
    let certainly_pushed = |job: &str| seen.iter().any(|s| s.certain && s.job == job);

    // Pushed job names: pinned, or the service name when the queries show it pushed, or the one
    // job the queries name that nothing else explains.
    let mut pushed_jobs: Vec<Option<String>> = apps
        .iter()
        .map(|app| {
            let pinned_job = pinned(app).and_then(|p| p.pushed_job.clone());
            match pinned_job {
                Some(job) => Some(job),
                None if certainly_pushed(&app.pushed_job) => Some(app.pushed_job.clone()),
                None => None,
            }
        })
        .collect();
    let mut candidates: Vec<&str> = Vec::new();
    for series in seen {
        let job = series.job.as_str();
        let explained = job == gateway_job
            || stack.prometheus.job(job).is_some()
            || apps.iter().any(|a| a.job == job)
            || pushed_jobs.iter().flatten().any(|j| j == job);
        if !explained && !candidates.contains(&job) {
            candidates.push(job);
        }
    }
    let unresolved: Vec<usize> = (0..apps.len())
        .filter(|&i| pushed_jobs.get(i).is_some_and(Option::is_none))
        .collect();
    let mut claimed: Vec<&str> = Vec::new();
    for &index in &unresolved {
        let Some(app) = apps.get(index) else { continue };
        // One app left to explain and one job left: that is it. Otherwise the app's known
        // metrics must point at exactly one of the jobs.
        let choice = match (unresolved.len(), candidates.as_slice()) {
            (1, [only]) => Some(*only),
            _ => {
                let metrics = pinned(app).map(|p| p.metrics.clone()).unwrap_or_default();
                let matching: Vec<&str> = candidates
                    .iter()
                    .copied()
                    .filter(|job| {
                        seen.iter()
                            .any(|s| s.job == *job && s.metric.as_ref().is_some_and(|m| metrics.iter().any(|x| x == m)))
                    })
                    .collect();
                match matching.as_slice() {
                    [only] => Some(*only),
                    _ => None,
                }
            }
        };
        if let Some(job) = choice
            && job != app.pushed_job
            && !claimed.contains(&job)
        {
            claimed.push(job);
            if let Some(slot) = pushed_jobs.get_mut(index) {
                *slot = Some(job.to_string());
            }
            let evidence = seen.iter().find(|s| s.job == job);
            let mut finding = Finding::new(
                "learnt-pushed-job",
                Severity::Info,
                format!(
                    "{} pushes as job \"{job}\", not \"{}\": no scrape job or other app explains that job in the queries{}",
                    app.service,
                    app.pushed_job,
                    evidence.map(|s| format!(", e.g. {}", s.seen.describe())).unwrap_or_default()
                ),
            )
            .tip(format!(
                "pin it in pullover.yaml: `apps: [{{service: {}, pushed_job: {job}}}]`",
                app.service
            ));
            if let Some(location) = evidence.and_then(|s| s.seen.location()) {
                finding = finding.at(location);
            }
            findings.push(finding);
        }
    }
    for job in candidates.iter().filter(|job| !claimed.contains(job)) {
        if let Some(series) = seen.iter().find(|s| s.job == *job && s.certain) {
            let mut finding = Finding::new(
                "pushed-job-not-migrated",
                Severity::Info,
                format!(
                    "the queries read pushed series of job \"{job}\" (e.g. {}), which none of the migrated apps pushes; they stay as they are",
                    series.seen.describe()
                ),
            )
            .tip("if an app of this stack pushes it, set `pushed_job:` for it under `apps:` in pullover.yaml");
            if let Some(location) = series.seen.location() {
                finding = finding.at(location);
            }
            findings.push(finding);
        }
    }

    let mut mappings = Vec::new();
    for (app, pushed_job) in apps.iter().zip(pushed_jobs) {
        let pushed_job = pushed_job.unwrap_or_else(|| app.pushed_job.clone());
        let of_app: Vec<&PushedSeries> = seen.iter().filter(|s| s.job == pushed_job).collect();
        // Selectors on the app's scrape job read the same metrics.
        let of_app_or_scraped: Vec<&PushedSeries> = seen
            .iter()
            .filter(|s| s.job == pushed_job || s.job == app.job)
            .collect();
        let mut pushed_instances = app.pushed_instances.clone();
        if pinned(app).is_none_or(|p| p.pushed_instances.is_empty()) {
            let mut learnt: Vec<(&str, &PushedSeries)> = Vec::new();
            for series in &of_app {
                if let Some(instance) = series.instance.as_deref()
                    && series.certain
                    && instance != app.target()
                    && !learnt.iter().any(|(i, _)| *i == instance)
                {
                    learnt.push((instance, series));
                }
            }
            if let Some((_, first)) = learnt.first() {
                let names: Vec<String> = learnt
                    .iter()
                    .map(|(i, _)| {
                        if i.is_empty() {
                            "none".to_string()
                        } else {
                            format!("\"{i}\"")
                        }
                    })
                    .collect();
                let label = if gateway.honor_labels {
                    "instance"
                } else {
                    "exported_instance"
                };
                let mut finding = Finding::new(
                    "learnt-pushed-instance",
                    Severity::Info,
                    format!(
                        "{} pushes with instance {} (from {label} next to job \"{pushed_job}\" in {}); the scraped series carry instance=\"{}\"",
                        app.service,
                        names.join(", "),
                        first.seen.describe(),
                        app.target()
                    ),
                )
                .tip(format!(
                    "pin it with `pushed_instances:` for {} under `apps:` in pullover.yaml",
                    app.service
                ));
                if let Some(location) = first.seen.location() {
                    finding = finding.at(location);
                }
                findings.push(finding);
                pushed_instances = learnt.iter().map(|(i, _)| i.to_string()).collect();
            }
        }
        let mut metrics = app.metrics.clone();
        if metrics.is_empty() {
            let learnt: BTreeSet<&str> = of_app_or_scraped
                .iter()
                .filter_map(|s| s.metric.as_deref())
                .filter(|m| !is_gateway_only(m) && !is_per_target(m) && !m.contains(':'))
                .collect();
            if !learnt.is_empty() {
                let list: Vec<&str> = learnt.iter().copied().collect();
                findings.push(
                    Finding::new(
                        "learnt-pushed-metrics",
                        Severity::Info,
                        format!(
                            "{} pushes {} (the metrics the queries read with job \"{pushed_job}\"{})",
                            app.service,
                            list.join(", "),
                            if app.job == pushed_job { String::new() } else { format!(" or \"{}\"", app.job) }
                        ),
                    )
                    .tip(format!(
                        "queries on these metrics without a job matcher are reported; pin the list with `metrics:` for {} in pullover.yaml",
                        app.service
                    )),
                );
                metrics = list.into_iter().map(str::to_string).collect();
            }
        }
        mappings.push(AppMapping {
            pushed_job,
            pushed_instances,
            scrape_job: app.job.clone(),
            scrape_instance: app.target(),
            metrics,
        });
    }
    let mapping = SeriesMapping {
        honor_labels: gateway.honor_labels,
        gateway_job,
        gateway_instances: gateway_instances(stack, gateway),
        apps: mappings,
    };
    (mapping, findings)
}
