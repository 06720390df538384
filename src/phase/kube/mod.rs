//! The phases on a stack kept as Kubernetes manifests ([`crate::stack::kube`]): pure planners,
//! as the Compose ones, returning a ChangeSet over the manifest files. What each does, and the
//! label model it follows, is in `docs/kubernetes.md`.
//!
//! A phase this version cannot yet do on a shape of Kubernetes stack is an error that says so
//! (exit 1), never an empty plan: "No changes" would tell a script the work is done.

mod config_jobs;
mod dashboards;
mod dual_run;
mod in_place;
mod remove;
pub use dashboards::in_kubernetes;
mod scrape;

use super::PhaseId;
use crate::changeset::ChangeSet;
use crate::changeset::finding_id::FindingId;
use crate::diagnostic::Diagnostic;
use crate::stack::kube::objects::Object;
use crate::stack::kube::{KubeGateway, KubeStack, ScrapePath, app_service_name};
use crate::stack::{App, Stack};

/// Plans `phase` on a Kubernetes stack.
pub fn plan(phase: PhaseId, stack: &Stack, kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    // After `remove` there is no gateway left to find: `docs` learns it from the stack as it was.
    if phase == PhaseId::Docs {
        return docs(stack, kube);
    }
    let gateway = gateway_of(kube, phase)?;
    let mut changeset = match phase {
        PhaseId::Expose => expose(stack, kube)?,
        PhaseId::Scrape => scrape::plan(stack, kube, gateway)?,
        PhaseId::DualRun => dual_run::plan(stack, kube, gateway)?,
        PhaseId::Dashboards => dashboards::plan(stack, kube)?,
        PhaseId::Remove => remove::plan(kube, gateway)?,
        PhaseId::Docs => docs(stack, kube)?,
    };
    if phase == PhaseId::Remove && stack.settings.remove_push_code {
        // Never a silent no-op: the flag asked for work this folder cannot hold.
        changeset.findings.push(crate::changeset::Finding::new(
            FindingId::PushCodeKept,
            crate::changeset::Severity::Todo,
            "--remove-push-code: the apps' code is not in this folder of manifests, so their push logic stays; remove it in each app's own repository (docs/expose.md says what goes)",
        ));
    }
    changeset.findings.splice(0..0, kube.findings.iter().cloned());
    changeset.findings.dedup();
    Ok(changeset)
}

/// The apps' code is not in a folder of manifests (their images are built elsewhere), so
/// `expose` can only say what each pusher needs; `verify` checks its /metrics live.
fn expose(stack: &Stack, kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    use crate::changeset::{Finding, Severity};
    let findings = stack.settings.apps.iter().map(|app| {
        let finding = Finding::new(
            FindingId::ServeMetricsByHand,
            Severity::Todo,
            format!(
                "{}'s code is not in this folder of manifests: if it only pushes, make it serve /metrics on port {} (docs/expose.md has the code for each client) and build its image again",
                app.service, app.port
            ),
        )
        .tip("`pullover verify --app-url URL` checks its /metrics; then plan `scrape`");
        in_kubernetes(&finding, stack, kube)
    });
    Ok(ChangeSet::builder().findings(findings).build()?)
}

/// The shared planner: the docs are README.md and METRICS.md as on Compose; after `remove` the
/// gateway and apps come from the stack before it (`commands::plan`).
fn docs(stack: &Stack, kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    let mut changeset = super::docs::plan(stack)?;
    changeset.findings = changeset
        .findings
        .iter()
        .map(|f| in_kubernetes(f, stack, kube))
        .collect();
    Ok(changeset)
}

/// The error of a phase this version cannot yet do on this shape of Kubernetes stack.
pub fn not_yet(phase: PhaseId, shape: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "phase `{phase}` cannot yet be planned on this Kubernetes stack: {shape}; nothing was planned"
    ))
    .help("docs/kubernetes.md lists which phases and shapes work on Kubernetes stacks today")
    .help(format!(
        "do it by hand for now (the phase table in README.md says what `{phase}` does); pullover cannot record it as applied on this stack yet"
    ))
}

/// The stack's Pushgateway as Kubernetes reading found it, which every phase but `docs` acts on;
/// without one, the error that says so. [`crate::phase::gateway_of`] does this on Compose; here
/// the planners need the [`KubeGateway`] (its workload, Service and scrape path), and the help
/// names what reading manifests looks for, not Compose services.
fn gateway_of(kube: &KubeStack, phase: PhaseId) -> Result<&KubeGateway, Diagnostic> {
    kube.gateway.as_ref().ok_or_else(|| no_gateway(phase))
}

fn no_gateway(phase: PhaseId) -> Diagnostic {
    Diagnostic::error(format!(
        "no Pushgateway found in this Kubernetes stack: phase `{phase}` has nothing to act on"
    ))
    .help("pullover looks for a Deployment or StatefulSet running the pushgateway image, or values of the prometheus-pushgateway chart")
}

/// The matcher that selects the app's scraped series and not the pushed ones, its value quoted
/// with `quote` (`"`, or `\"` inside a JSON string): the app's Service under ServiceMonitors,
/// its pods (`<workload>-…`) under PodMonitors, else a `pod` at all, which a job of Prometheus'
/// own config gives the scraped series and the pushed ones lack (`config_jobs::app_job`).
pub fn scraped_matcher(kube: &KubeStack, app: &App, quote: &str) -> String {
    let workload = app_workload(kube, app).map(|index| &kube.objects[index]);
    match kube.gateway.as_ref().map(|g| &g.scrape) {
        Some(ScrapePath::ServiceMonitor(_) | ScrapePath::ChartServiceMonitor { .. }) | None => {
            let service = workload.map_or_else(|| app.job.clone(), |w| app_service_name(kube, w));
            format!("service={quote}{service}{quote}")
        }
        Some(ScrapePath::PodMonitor(_)) => format!("pod=~{quote}{}-.*{quote}", app.service),
        Some(_) => format!("pod!={quote}{quote}"),
    }
}

/// The long-running workload running `app` (its index in `kube.objects`): a batch job that
/// pushes keeps pushing, so no phase scrapes it.
pub fn app_workload(kube: &KubeStack, app: &App) -> Option<usize> {
    kube.objects
        .iter()
        .position(|o| o.name == app.service && o.is_long_running())
}

/// An app with the long-running workload that runs it and the container port serving its
/// /metrics (the pusher's, else the app's port unnamed).
pub struct AppWorkload<'k> {
    pub app: &'k App,
    pub index: usize,
    pub workload: &'k Object,
    pub port: (u16, Option<String>),
}

/// The apps of the stack that run as a long-running workload, in the order the settings list them.
pub fn app_workloads<'k>(stack: &'k Stack, kube: &'k KubeStack) -> impl Iterator<Item = AppWorkload<'k>> {
    stack.settings.apps.iter().filter_map(|app| {
        let index = app_workload(kube, app)?;
        let port = kube
            .pushers
            .iter()
            .find(|p| p.object == index)
            .and_then(|p| p.port.clone())
            .unwrap_or((app.port, None));
        Some(AppWorkload {
            app,
            index,
            workload: &kube.objects[index],
            port,
        })
    })
}

/// The labels a workload selects its pods by (`spec.selector.matchLabels`).
pub fn pod_selector(workload: &Object) -> Vec<(String, String)> {
    workload.match_labels()
}
