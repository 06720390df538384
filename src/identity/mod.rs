//! Who pushes as what: each migrated app's *pushed identity* — the `job` it pushes under, its
//! grouping labels (`instance`, or none) and the metric families it pushes — decided once when
//! the stack is read, from evidence, strongest first:
//!
//! 1. pinned in `pullover.yaml`;
//! 2. live: the groups a Pushgateway holds or Prometheus scrapes from it (when a URL is given);
//! 3. the app's code and config: its push calls (`jobName`, `push_to_gateway(job=…)`, …);
//! 4. the stack's own queries: an app metric selected with `job="X"` (or `exported_job="X"`
//!    under `honor_labels: false`) means something pushes it as job X;
//! 5. the app's service name, as a stated assumption.
//!
//! The pushed job is never assumed to be the service name while anything says otherwise: the
//! design card's own stack pushes as job `pushgateway`, the gateway's job name. A pin always
//! wins. Below a pin, sources that name different jobs leave the identity *undecided*: nothing
//! that depends on it is rewritten on a guess, and the finding names both sides and the key
//! that settles it. Every consumer (dashboards and rules rewrite, dual-run templates, `verify`,
//! `remove`, `analyze`, `init`) reads the result from [`crate::stack::App`].

pub mod clues;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use clues::{Family, QueryClue, family, family_name};

/// One pushed group seen on a live server: the grouping key the app pushed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPush {
    pub job: String,
    /// `""` for a group pushed without an instance.
    pub instance: String,
    /// The metric names the group holds; empty when the source does not say.
    pub metrics: Vec<String>,
    /// Where it was seen, as a person reads it: "Pushgateway at http://…".
    pub source: String,
}

/// Where a piece of evidence comes from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Pinned,
    Live,
    Code,
    Queries,
    Assumed,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Pinned => "pullover.yaml",
            Source::Live => "live servers",
            Source::Code => "the app's code",
            Source::Queries => "the queries",
            Source::Assumed => "assumption",
        }
    }
}

/// What the stack's settings and the app's code say, before queries and live servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub pinned_job: Option<String>,
    pub pinned_instances: Vec<String>,
    pub pinned_metrics: Vec<String>,
    /// The job its push calls name, and where.
    pub code_job: Option<(String, String)>,
    /// The instances its push calls name (`""`: none), and where.
    pub code_instances: Option<(Vec<String>, String)>,
}

/// One piece of evidence that decided (or disputes) an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub source: Source,
    pub job: String,
    /// As a person reads it: "its code pushes as job "pushgateway" (`pushAdd` at server.js:125)".
    pub says: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// An app's pushed identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedIdentity {
    /// The pushed job. While undecided, the strongest source's word (never acted on).
    pub job: String,
    /// The strongest source that named `job`.
    pub source: Source,
    /// `""` for a group pushed without an instance; empty when nothing says.
    pub instances: Vec<String>,
    /// Metric names it pushes, as the queries and live servers name them (a rewrite treats a
    /// histogram's `_bucket`/`_sum`/`_count` as one family); empty when unknown.
    pub metrics: Vec<String>,
    /// What decided, strongest first.
    pub evidence: Vec<Evidence>,
    /// Sources that name other jobs: with a pin they are overruled, else the identity is
    /// undecided.
    pub disputed_by: Vec<Evidence>,
}

impl PushedIdentity {
    /// Assumed from the service name until [`resolve`] runs.
    pub fn assumed(service: &str) -> PushedIdentity {
        PushedIdentity {
            job: service.to_string(),
            source: Source::Assumed,
            instances: Vec::new(),
            metrics: Vec::new(),
            evidence: Vec::new(),
            disputed_by: Vec::new(),
        }
    }

    /// Whether anything may be rewritten on it: decided, or pinned over disputes.
    pub fn is_decided(&self) -> bool {
        self.source == Source::Pinned || self.disputed_by.is_empty()
    }

    /// Every job the evidence names (the decided one first): while undecided, the queries on
    /// any of them wait.
    pub fn candidate_jobs(&self) -> Vec<&str> {
        let mut jobs = vec![self.job.as_str()];
        for other in &self.disputed_by {
            if !jobs.contains(&other.job.as_str()) {
                jobs.push(&other.job);
            }
        }
        jobs
    }
}

/// One app as resolution sees it.
pub struct AppFacts<'a> {
    pub service: &'a str,
    /// Its new scrape job.
    pub scrape_job: &'a str,
    /// Its new scrape target (`service:port`).
    pub target: &'a str,
    pub known: &'a Known,
}

pub struct Context<'a> {
    pub honor_labels: bool,
    pub gateway_job: &'a str,
}

/// Decides every app's identity from what is known, the queries' clues and the live groups.
pub fn resolve(
    apps: &[AppFacts<'_>],
    context: &Context<'_>,
    clues: &[QueryClue],
    observed: &[ObservedPush],
) -> Vec<PushedIdentity> {
    let attribution = Attribution { apps, context };
    let query_owners: Vec<Option<usize>> = clues.iter().map(|c| attribution.of_query(c)).collect();
    // The families the queries tie to each app help tie live groups to it.
    let query_families: Vec<BTreeSet<&str>> = (0..apps.len())
        .map(|index| {
            clues
                .iter()
                .zip(&query_owners)
                .filter(|(clue, owner)| **owner == Some(index) && clue.family == Some(Family::App))
                .filter_map(|(clue, _)| clue.metric.as_deref().map(family_name))
                .collect()
        })
        .collect();
    let groups: BTreeSet<(&str, &str)> = observed.iter().map(|g| (g.job.as_str(), g.instance.as_str())).collect();
    let live_owners: Vec<Option<usize>> = observed
        .iter()
        .map(|group| attribution.of_group(group, groups.len(), &query_families))
        .collect();
    apps.iter()
        .enumerate()
        .map(|(index, app)| {
            let of_app_queries: Vec<&QueryClue> = clues
                .iter()
                .zip(&query_owners)
                .filter(|(_, owner)| **owner == Some(index))
                .map(|(clue, _)| clue)
                .collect();
            let of_app_live: Vec<&ObservedPush> = observed
                .iter()
                .zip(&live_owners)
                .filter(|(_, owner)| **owner == Some(index))
                .map(|(group, _)| group)
                .collect();
            resolve_one(app, context, &of_app_queries, &of_app_live)
        })
        .collect()
}

/// Ties clues and live groups to apps, from what is known alone (no circles).
struct Attribution<'a, 'b> {
    apps: &'a [AppFacts<'b>],
    context: &'a Context<'a>,
}

impl Attribution<'_, '_> {
    fn known_job<'k>(app: &'k AppFacts<'_>) -> Option<&'k str> {
        app.known
            .pinned_job
            .as_deref()
            .or(app.known.code_job.as_ref().map(|(job, _)| job.as_str()))
    }

    fn known_instances<'k>(app: &'k AppFacts<'_>) -> Vec<&'k str> {
        if !app.known.pinned_instances.is_empty() {
            return app.known.pinned_instances.iter().map(String::as_str).collect();
        }
        app.known
            .code_instances
            .as_ref()
            .map(|(instances, _)| instances.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Narrows every app down, rule by rule (a rule that matches none is skipped, one that
    /// matches several keeps those): the one app left, if one is.
    fn narrow(&self, rules: &[&dyn Fn(&AppFacts<'_>) -> bool]) -> Narrowed {
        let mut candidates: Vec<usize> = (0..self.apps.len()).collect();
        let mut matched_any = false;
        for rule in rules {
            let matching: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| self.apps.get(i).is_some_and(rule))
                .collect();
            match matching.as_slice() {
                [] => {}
                [one] => return Narrowed::One(*one),
                _ => {
                    matched_any = true;
                    candidates = matching;
                }
            }
        }
        if matched_any { Narrowed::Several } else { Narrowed::None }
    }

    fn of_query(&self, clue: &QueryClue) -> Option<usize> {
        let job = clue.job.as_str();
        let instance = clue.instance.as_deref().filter(|i| !i.is_empty());
        let metric = clue.metric.as_deref().map(family_name);
        let gateway_job = self.context.gateway_job;
        let by_known_job = |app: &AppFacts<'_>| Self::known_job(app) == Some(job);
        let by_service = |app: &AppFacts<'_>| app.scrape_job == job && job != gateway_job;
        let by_instance = |app: &AppFacts<'_>| instance.is_some_and(|i| Self::known_instances(app).contains(&i));
        let by_metric =
            |app: &AppFacts<'_>| metric.is_some_and(|m| app.known.pinned_metrics.iter().any(|p| family_name(p) == m));
        match self.narrow(&[&by_known_job, &by_service, &by_instance, &by_metric]) {
            Narrowed::One(index) => Some(index),
            Narrowed::Several => None,
            // One app, and nothing ties the clue to anything else: something pushes its
            // metrics as this job, and it is the only pusher being migrated. Where its code
            // names another job, that is a dispute a person settles.
            Narrowed::None => match self.apps {
                [_] if !self.apps.iter().any(|a| Self::known_job(a) == Some(job)) => Some(0),
                _ => None,
            },
        }
    }

    fn of_group(&self, group: &ObservedPush, groups: usize, query_families: &[BTreeSet<&str>]) -> Option<usize> {
        let job = group.job.as_str();
        let instance = Some(group.instance.as_str()).filter(|i| !i.is_empty());
        let gateway_job = self.context.gateway_job;
        let index_of = |app: &AppFacts<'_>| self.apps.iter().position(|a| std::ptr::eq(a, app));
        let by_known_job = |app: &AppFacts<'_>| Self::known_job(app) == Some(job);
        let by_service = |app: &AppFacts<'_>| app.scrape_job == job && job != gateway_job;
        let by_metrics = |app: &AppFacts<'_>| {
            let families = index_of(app).and_then(|i| query_families.get(i));
            group.metrics.iter().any(|m| {
                let m = family_name(m);
                families.is_some_and(|f| f.contains(m)) || app.known.pinned_metrics.iter().any(|p| family_name(p) == m)
            })
        };
        let by_instance = |app: &AppFacts<'_>| instance.is_some_and(|i| Self::known_instances(app).contains(&i));
        match self.narrow(&[&by_known_job, &by_service, &by_metrics, &by_instance]) {
            Narrowed::One(index) => Some(index),
            Narrowed::Several => None,
            // A gateway may hold groups of pushers that are not being migrated: a group nothing
            // ties to an app is not its, unless it is the only group and the only app.
            Narrowed::None => (self.apps.len() == 1 && groups == 1).then_some(0),
        }
    }
}

enum Narrowed {
    One(usize),
    Several,
    None,
}

/// `instance` values as a person reads them: `"app-1", (none)`.
pub fn quoted_instances(instances: &[String]) -> String {
    let shown: Vec<String> = instances
        .iter()
        .map(|i| {
            if i.is_empty() {
                "(none)".to_string()
            } else {
                format!("\"{i}\"")
            }
        })
        .collect();
    shown.join(", ")
}

fn resolve_one(
    app: &AppFacts<'_>,
    context: &Context<'_>,
    queries: &[&QueryClue],
    live: &[&ObservedPush],
) -> PushedIdentity {
    let mut named: Vec<Evidence> = Vec::new();
    if let Some(job) = &app.known.pinned_job {
        named.push(Evidence {
            source: Source::Pinned,
            job: job.clone(),
            says: format!("pullover.yaml pins `pushed_job: {job}`"),
            location: None,
        });
    }
    let mut live_jobs: Vec<&str> = Vec::new();
    for group in live {
        if !live_jobs.contains(&group.job.as_str()) {
            live_jobs.push(&group.job);
            let instance = if group.instance.is_empty() {
                String::new()
            } else {
                format!(", instance=\"{}\"", group.instance)
            };
            named.push(Evidence {
                source: Source::Live,
                job: group.job.clone(),
                says: format!(
                    "the live {} holds its group {{job=\"{}\"{instance}}}",
                    group.source, group.job
                ),
                location: None,
            });
        }
    }
    if let Some((job, because)) = &app.known.code_job {
        named.push(Evidence {
            source: Source::Code,
            job: job.clone(),
            says: format!("its code: {because}"),
            location: None,
        });
    }
    // Queries on the app's own service name may read the scraped twin (or an app that pushes
    // under its own name): they name no other job.
    let (strong, weak): (Vec<&QueryClue>, Vec<&QueryClue>) = queries
        .iter()
        .partition(|clue| clue.job != app.scrape_job || clue.job == context.gateway_job);
    let mut query_jobs: Vec<(&str, usize, &QueryClue)> = Vec::new();
    for clue in &strong {
        match query_jobs.iter_mut().find(|(job, _, _)| *job == clue.job) {
            Some((_, count, _)) => *count += clue.count,
            None => query_jobs.push((&clue.job, clue.count, clue)),
        }
    }
    // The queries' word is the job most of them use: a stray selector on another job (a typo,
    // a stale panel) reads nothing and is reported where it is, not taken as a dispute.
    let most = query_jobs.iter().map(|(_, count, _)| *count).max().unwrap_or(0);
    query_jobs.retain(|(_, count, _)| *count == most);
    let label = if context.honor_labels { "job" } else { "exported_job" };
    for (job, count, first) in &query_jobs {
        named.push(Evidence {
            source: Source::Queries,
            job: job.to_string(),
            says: format!(
                "the dashboards and rules select its metrics with {label}=\"{job}\" ({count} {}, e.g. `{}`)",
                if *count == 1 { "selector" } else { "selectors" },
                first.selector
            ),
            location: Some(first.location.clone()),
        });
    }

    let (job, source) = match named.first() {
        Some(strongest) => (strongest.job.clone(), strongest.source),
        None if !weak.is_empty() => (app.scrape_job.to_string(), Source::Queries),
        // Its name: the scrape job, which is the service name unless `--app NAME=HOST:PORT` names it.
        None => (app.scrape_job.to_string(), Source::Assumed),
    };
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut disputed_by: Vec<Evidence> = Vec::new();
    for piece in named {
        if piece.job == job {
            evidence.push(piece);
        } else {
            disputed_by.push(piece);
        }
    }
    if source == Source::Queries
        && evidence.is_empty()
        && let Some(first) = weak.first()
    {
        let count: usize = weak.iter().map(|c| c.count).sum();
        evidence.push(Evidence {
            source: Source::Queries,
            job: job.clone(),
            says: format!(
                "the dashboards and rules select its metrics under its own name ({count} {}, e.g. `{}`)",
                if count == 1 { "selector" } else { "selectors" },
                first.selector
            ),
            location: Some(first.location.clone()),
        });
    }

    let instances = instances_of(app, &job, queries, live);
    let metrics = metrics_of(app, &job, queries, live);
    PushedIdentity {
        job,
        source,
        instances,
        metrics,
        evidence,
        disputed_by,
    }
}

fn instances_of(app: &AppFacts<'_>, job: &str, queries: &[&QueryClue], live: &[&ObservedPush]) -> Vec<String> {
    if !app.known.pinned_instances.is_empty() {
        return app.known.pinned_instances.clone();
    }
    let mut from_live: Vec<String> = live
        .iter()
        .filter(|g| g.job == job)
        .map(|g| g.instance.clone())
        .collect();
    if !from_live.is_empty() {
        from_live.sort();
        from_live.dedup();
        return from_live;
    }
    if let Some((instances, _)) = &app.known.code_instances
        && app.known.code_job.as_ref().is_none_or(|(code_job, _)| code_job == job)
    {
        return instances.clone();
    }
    let mut from_queries: Vec<String> = queries
        .iter()
        .filter(|c| c.job == job)
        .filter_map(|c| c.instance.clone())
        .filter(|i| i != app.target)
        .collect();
    from_queries.sort();
    from_queries.dedup();
    from_queries
}

fn metrics_of(app: &AppFacts<'_>, job: &str, queries: &[&QueryClue], live: &[&ObservedPush]) -> Vec<String> {
    if !app.known.pinned_metrics.is_empty() {
        return app.known.pinned_metrics.clone();
    }
    let mut metrics: BTreeSet<String> = BTreeSet::new();
    for group in live.iter().filter(|g| g.job == job) {
        metrics.extend(group.metrics.iter().filter(|m| family(m) == Family::App).cloned());
    }
    for clue in queries.iter().filter(|c| c.job == job || c.job == app.scrape_job) {
        if let (Some(metric), Some(Family::App)) = (&clue.metric, clue.family) {
            metrics.insert(metric.clone());
        }
    }
    metrics.into_iter().collect()
}

/// What a person reads about each app's identity: how it was decided and on what, or why it is
/// undecided and the key that settles it.
pub fn findings(service: &str, identity: &PushedIdentity) -> Vec<Finding> {
    let pin = |job: &str| {
        let instances = if identity.instances.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = identity
                .instances
                .iter()
                .map(|i| if i.is_empty() { "\"\"".to_string() } else { i.clone() })
                .collect();
            format!(", pushed_instances: [{}]", list.join(", "))
        };
        format!("pin it in pullover.yaml: `apps: [{{service: {service}, pushed_job: {job}{instances}}}]`")
    };
    let location = identity
        .evidence
        .iter()
        .chain(&identity.disputed_by)
        .find_map(|e| e.location.clone());
    let with_location = |finding: Finding| match &location {
        Some(location) => finding.at(location.clone()),
        None => finding,
    };
    if !identity.is_decided() {
        let sides: Vec<String> = identity
            .evidence
            .iter()
            .chain(&identity.disputed_by)
            .map(|e| e.says.clone())
            .collect();
        let jobs: Vec<String> = identity.candidate_jobs().iter().map(|j| format!("\"{j}\"")).collect();
        return vec![with_location(
            Finding::new(
                FindingId::PushedIdentityUndecided,
                Severity::Hazard,
                format!(
                    "which job {service} pushes as is undecided ({}): {}. Nothing that depends on it is rewritten",
                    jobs.join(" or "),
                    sides.join("; ")
                ),
            )
            .tip(format!(
                "set the job its series carry today: `apps: [{{service: {service}, pushed_job: JOB}}]` in pullover.yaml"
            )),
        )];
    }
    let instances = match identity.instances.as_slice() {
        [] => String::new(),
        [only] if only.is_empty() => ", with no instance".to_string(),
        list => format!(", instance {}", quoted_instances(list)),
    };
    let mut out = Vec::new();
    match identity.source {
        Source::Assumed => out.push(
            Finding::new(
                FindingId::PushedIdentityAssumed,
                Severity::Info,
                format!(
                    "nothing says which job {service} pushes as (no pin, no push call found in its code, no query on its metrics): assuming it pushes under its own name \"{}\"",
                    identity.job
                ),
            )
            .tip(pin(&identity.job)),
        ),
        Source::Pinned => {}
        _ => {
            let because: Vec<&str> = identity.evidence.iter().map(|e| e.says.as_str()).collect();
            out.push(with_location(
                Finding::new(
                    FindingId::PushedIdentity,
                    Severity::Info,
                    format!(
                        "{service} pushes as job \"{}\"{instances}: {}",
                        identity.job,
                        because.join("; ")
                    ),
                )
                .tip(pin(&identity.job)),
            ));
        }
    }
    if identity.source == Source::Pinned && !identity.disputed_by.is_empty() {
        let others: Vec<&str> = identity.disputed_by.iter().map(|e| e.says.as_str()).collect();
        out.push(with_location(Finding::new(
            FindingId::PushedIdentityPinnedOverEvidence,
            Severity::Hazard,
            format!(
                "pullover.yaml pins {service} to job \"{}\", but {}: the pin wins; check it",
                identity.job,
                others.join("; ")
            ),
        )));
    }
    out
}

#[cfg(test)]
mod tests;
