//! The mapping the rewrite follows: each app's pushed identity as the stack decided it
//! ([`crate::identity`]: pinned, live, the app's code, the queries, or the service name), and
//! the jobs whose queries wait while an app's identity is undecided.

use crate::changeset::Finding;
use crate::identity;
use crate::promql::{AppMapping, SeriesMapping, selectors};
use crate::stack::{Gateway, Stack};

/// What the rewrite may act on.
pub(super) struct Learnt {
    pub mapping: SeriesMapping,
    /// How each identity was decided, or why it is not.
    pub findings: Vec<Finding>,
    /// Apps whose identity is undecided: their candidate jobs, and the app.
    pub waiting: Vec<(String, Vec<String>)>,
}

pub(super) fn series_mapping(stack: &Stack, gateway: &Gateway) -> Learnt {
    let mut findings = Vec::new();
    let mut apps = Vec::new();
    let mut waiting = Vec::new();
    for app in &stack.settings.apps {
        findings.extend(identity::findings(&app.service, &app.identity));
        if !app.identity.is_decided() {
            let jobs = app.identity.candidate_jobs().into_iter().map(str::to_string).collect();
            waiting.push((app.service.clone(), jobs));
            continue;
        }
        apps.push(AppMapping {
            pushed_job: app.pushed_job.clone(),
            pushed_instances: app.pushed_instances.clone(),
            scrape_job: app.job.clone(),
            scrape_instance: app.target(),
            metrics: app.metrics.clone(),
        });
    }
    Learnt {
        mapping: SeriesMapping {
            honor_labels: gateway.honor_labels,
            gateway_job: gateway.job_label(),
            gateway_instances: gateway.instance_labels(&stack.prometheus),
            apps,
        },
        findings,
        waiting,
    }
}

/// The app whose undecided identity `query` waits for: a selector names one of its candidate
/// jobs (`job`, or `exported_job` without honor_labels) on something other than the gateway's
/// own health metrics.
pub(super) fn waits_for<'w>(query: &str, honor_labels: bool, waiting: &'w [(String, Vec<String>)]) -> Option<&'w str> {
    if waiting.is_empty() {
        return None;
    }
    let found = selectors(query).ok()?;
    let label = if honor_labels { "job" } else { "exported_job" };
    found.iter().find_map(|selector| {
        let gateways_own = selector
            .metric
            .as_deref()
            .is_some_and(|m| m == "up" || m.starts_with("scrape_") || m.starts_with("pushgateway_"));
        if gateways_own {
            return None;
        }
        let named = selector
            .matchers
            .iter()
            .filter(|m| m.label == label && m.positive())
            .flat_map(|m| m.values.iter());
        let mut named = named.peekable();
        named.peek()?;
        let names: Vec<&String> = named.collect();
        waiting
            .iter()
            .find(|(_, jobs)| names.iter().any(|n| jobs.contains(n)))
            .map(|(service, _)| service.as_str())
    })
}
