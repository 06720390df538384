//! Phase 4, `remove`: the Pushgateway goes. One ChangeSet:
//! - the Compose file loses the gateway service and what would dangle without
//!   it (its named volumes no one else mounts, `depends_on`/`links`/
//!   `volumes_from` entries, environment entries pointing at it that the app's
//!   code can do without, `x-` blocks only it used);
//! - prometheus.yml loses the jobs that scrape the gateway (found by target, or
//!   the job pinned as the gateway's) and the dual-run rule file entry;
//! - the dual-run rule file and comparison dashboard are deleted;
//! - findings say what is left for a person, with file and line: push logic in
//!   the app code, env vars kept or in env files, rules and panels that read the
//!   gateway's own series;
//! - with `--remove-push-code`, the apps' push logic goes as a diff of their code
//!   ([`push_code`]), and the Compose env vars only it read go with it.
//!
//! The new direct scrape jobs of the `scrape` phase stay; rule files and
//! dashboards are not edited here (the `dashboards` phase rewrites queries).

mod compose;
mod leftovers;
mod prometheus;
mod push_code;

#[cfg(test)]
mod tests;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::stack::{Gateway, Stack};

/// The rule file and dashboard the `dual-run` phase writes (its
/// `RULE_FILE_NAME` / `DASHBOARD_FILE_NAME`), which this phase deletes.
pub const DUAL_RUN_RULE_FILE: &str = "pullover-dual-run.yml";
pub const DUAL_RUN_DASHBOARD: &str = "pullover-dual-run.json";

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    let mut builder = ChangeSet::builder();
    let gateway = super::gateway_of(stack, super::PhaseId::Remove)?;

    let mut findings = not_scraped_yet(stack, gateway);
    let push_code = if stack.settings.remove_push_code {
        push_code::plan(stack)
    } else {
        push_code::Outcome::default()
    };

    if let Some(file) = stack.compose.as_ref() {
        let mut edits = Vec::new();
        let mut because = Vec::new();
        match gateway.service.as_deref() {
            Some(service) => {
                let outcome = compose::plan(stack, file, gateway, service, &push_code);
                findings.extend(outcome.findings);
                if !outcome.edits.is_empty() {
                    edits.extend(outcome.edits);
                    because.push(format!("remove the {service} service and what points at it"));
                }
            }
            None => findings.push(Finding::new(
                FindingId::GatewayNotInCompose,
                Severity::Info,
                format!(
                    "the Pushgateway at {} is not a service of {}: nothing to remove there",
                    gateway.address(),
                    file.file.path
                ),
            )),
        }
        // The mounts dual-run added for its own files go with them.
        let unmount = super::mounts::remove_mounts(file, &[DUAL_RUN_RULE_FILE, DUAL_RUN_DASHBOARD]);
        if !unmount.is_empty() {
            edits.extend(unmount);
            because.push("unmount the dual-run files".to_string());
        }
        if !edits.is_empty() {
            let after = file.doc.edit(&edits).map_err(|e| e.to_diagnostic(&file.file))?;
            builder = builder.modify(&file.file, after, because.join("; "));
        }
    }

    let prom = prometheus::plan(stack, gateway);
    findings.extend(prom.findings);
    if !prom.edits.is_empty() {
        let after = stack
            .prometheus
            .doc
            .edit(&prom.edits)
            .map_err(|e| e.to_diagnostic(&stack.prometheus.file))?;
        builder = builder.modify(&stack.prometheus.file, after, prom.because.join("; "));
    }

    for file in stack
        .rule_files
        .iter()
        .filter(|f| f.path.file_name() == DUAL_RUN_RULE_FILE)
    {
        builder = builder.delete(file, "dual-run is over: its comparison rules go");
    }
    for file in stack
        .dashboard_files()
        .filter(|f| f.path.file_name() == DUAL_RUN_DASHBOARD)
    {
        builder = builder.delete(file, "dual-run is over: its comparison dashboard goes");
    }

    for (file, after) in &push_code.edits {
        builder = builder.modify(
            file,
            after.clone(),
            "stop pushing: the push calls, their timer and client go (--remove-push-code)",
        );
    }
    findings.extend(leftovers::push_logic(stack, gateway, &push_code.edited()));
    findings.extend(push_code.findings);
    findings.extend(leftovers::env_file_entries(stack, gateway));
    findings.extend(leftovers::rules_on_gateway_series(stack, gateway));
    findings.extend(leftovers::dashboards_on_gateway_series(stack, gateway));

    Ok(builder.findings(findings).build()?)
}

/// Rules and dashboard panels that still read the gateway's series, for the `docs` checklist.
pub(crate) fn still_on_gateway_series(stack: &Stack, gateway: &Gateway) -> Vec<Finding> {
    let mut findings = leftovers::rules_on_gateway_series(stack, gateway);
    findings.extend(leftovers::dashboards_on_gateway_series(stack, gateway));
    findings
}

/// Apps with no direct scrape job yet: removing the gateway now loses their metrics.
fn not_scraped_yet(stack: &Stack, gateway: &Gateway) -> Vec<Finding> {
    let prom = &stack.prometheus;
    let offset = gateway.job.as_deref().and_then(|j| prom.job(j)).map_or(0, |j| j.offset);
    stack
        .settings
        .apps
        .iter()
        .filter(|app| stack.prometheus.job(&app.job).is_none())
        .map(|app| {
            Finding::new(
                FindingId::AppNotScraped,
                Severity::Hazard,
                format!(
                    "{} has no scrape job `{}` yet: without the Pushgateway its metrics would stop",
                    app.service, app.job
                ),
            )
            .tip("apply the `scrape` phase (and check it with `pullover verify`) before this one")
            .at(Location::at(&prom.file, offset))
        })
        .collect()
}

/// Whether a setting's value points at the gateway: `pushgateway`,
/// `pushgateway:9091`, `http://pushgateway:9091/`, `user@pushgateway`.
pub(crate) fn points_at(value: &str, host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    value.match_indices(host).any(|(at, _)| {
        let before = value[..at].chars().next_back();
        let after = value[at + host.len()..].chars().next();
        let boundary_before = before.is_none_or(|c| matches!(c, '/' | '@' | '=' | ',' | ';' | ' ' | '"' | '\''));
        let boundary_after = after.is_none_or(|c| matches!(c, ':' | '/' | ',' | ';' | ' ' | '"' | '\''));
        boundary_before && boundary_after
    })
}

/// Whether an environment variable is about the gateway by its name
/// (`PUSHGATEWAY_PORT`, `PUSH_GATEWAY`), whatever its value.
pub(crate) fn names_gateway(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    upper.contains("PUSHGATEWAY") || upper.contains("PUSH_GATEWAY")
}

/// An env var only the push reads (`PUSH_JOB`, `PUSH_INTERVAL_SECONDS`, `PUSHGATEWAY_JOB`,
/// `METRICS_PUSH_TIMEOUT`): with the push gone it configures nothing.
pub(crate) fn is_push_setting(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name.starts_with("PUSH_") || name.contains("PUSHGATEWAY") || name.contains("_PUSH_") || name.ends_with("_PUSH")
}

/// A push setting of an app (an env var naming the gateway or read only by the push, a flag
/// naming it) kept because the app's code is not in the stack to check: one rule on Compose and
/// Kubernetes. Removed, a setting the code reads without a fallback (or a flag it requires, or
/// no longer knows) stops the app starting; kept, it only points a push at a gateway that is no
/// more, which fails without taking the app down. It goes where the code is seen to do without
/// it (Compose, `--remove-push-code`), in the same deploy as the push code otherwise.
pub(crate) fn push_setting_kept(app: &str, what: &str, why: &str) -> Finding {
    Finding::new(
        FindingId::EnvVarKept,
        Severity::Todo,
        format!("kept {what} on {app}: {why}, and the app may need it"),
    )
}

/// An environment entry that belongs to the gateway.
pub(crate) fn is_gateway_env(key: &str, value: Option<&str>, gateway: &Gateway) -> bool {
    names_gateway(key) || value.is_some_and(|v| points_at(v, &gateway.host))
}
