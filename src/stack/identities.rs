//! Who each app pushes as: the clues the stack's queries give, and the decision
//! ([`crate::identity`]) written into each app.

use super::discover::evidence;
use super::{App, DashboardFile, Stack, prometheus};
use crate::changeset::Location;
use crate::identity;

impl Stack {
    /// Decides who each app pushes as ([`crate::identity`]) and writes it into the app's
    /// `pushed_job`, `pushed_instances` and `metrics`, which every phase and check reads.
    pub(super) fn resolve_identities(&mut self) {
        let Some(gateway) = &self.settings.gateway else { return };
        let gateway_job = gateway.job_label();
        let targets: Vec<String> = self.settings.apps.iter().map(App::target).collect();
        let facts: Vec<identity::AppFacts<'_>> = self
            .settings
            .apps
            .iter()
            .zip(&targets)
            .map(|(app, target)| identity::AppFacts {
                service: &app.service,
                scrape_job: &app.job,
                target,
                known: &app.known,
            })
            .collect();
        let context = identity::Context {
            honor_labels: gateway.honor_labels,
            gateway_job: &gateway_job,
        };
        let decided = identity::resolve(&facts, &context, &self.query_clues, &self.observed_pushes);
        drop(facts);
        self.evidence
            .retain(|e| !e.setting.ends_with(".pushed_job") && !e.setting.ends_with(".pushed_instances"));
        for (app, identity) in self.settings.apps.iter_mut().zip(decided) {
            let key = |field: &str| format!("apps.{}.{field}", app.service);
            if identity.source != identity::Source::Pinned {
                let because: Vec<&str> = identity.evidence.iter().map(|e| e.says.as_str()).collect();
                let because = if !identity.is_decided() {
                    let sides: Vec<&str> = identity
                        .evidence
                        .iter()
                        .chain(&identity.disputed_by)
                        .map(|e| e.says.as_str())
                        .collect();
                    format!("undecided: {}", sides.join("; "))
                } else if identity.source == identity::Source::Assumed {
                    "assumed: the service name (nothing says otherwise)".to_string()
                } else {
                    because.join("; ")
                };
                self.evidence
                    .push(evidence(&key("pushed_job"), identity.job.clone(), because));
            }
            app.pushed_job = identity.job.clone();
            app.pushed_instances = identity.instances.clone();
            app.metrics = identity.metrics.clone();
            app.identity = identity;
        }
    }
}

/// The clues the stack's queries give about who pushes as what ([`identity::clues`]): every
/// dashboard (on every core) and rule file. A file that does not read gives none here; the
/// phases that read it report it.
pub(super) fn query_clues(stack: &Stack) -> Vec<identity::clues::QueryClue> {
    let Some(gateway) = &stack.settings.gateway else {
        return Vec::new();
    };
    let gateway_job = gateway.job_label();
    let gateway_instances = gateway.instance_labels(&stack.prometheus);
    let other_jobs: Vec<String> = stack
        .prometheus
        .jobs
        .iter()
        .map(|j| j.name.clone())
        .filter(|name| *name != gateway_job && !stack.settings.apps.iter().any(|a| a.job == *name))
        .collect();
    let context = identity::clues::ReadContext {
        honor_labels: gateway.honor_labels,
        gateway_job: &gateway_job,
        gateway_instances: &gateway_instances,
        other_jobs: &other_jobs,
    };
    let parts = crate::parallel::parts_in_parallel(stack.dashboards.iter().collect(), |part: Vec<&DashboardFile>| {
        let mut collector = identity::clues::ClueCollector::default();
        for dashboard in part {
            let Ok(scanned) = &dashboard.scan else { continue };
            for site in scanned
                .sites
                .iter()
                .filter(|s| s.kind != crate::dashboard::SiteKind::PanelLink)
            {
                let location =
                    || Location::at(&dashboard.file, site.literal.start).with_context(scanned.context(&site.owner));
                collector.read(&context, &site.value, &location);
            }
        }
        collector.finish()
    });
    let mut collector = identity::clues::ClueCollector::default();
    for part in parts {
        collector.merge(part);
    }
    for file in &stack.rule_files {
        for (expr, location) in prometheus::rule_exprs(file).unwrap_or_default() {
            collector.read(&context, &expr, &|| location.clone());
        }
    }
    collector.finish()
}
