//! The phases on a stack kept as Kubernetes manifests ([`crate::stack::kube`]): pure planners,
//! as the Compose ones, returning a ChangeSet over the manifest files. What each does, and the
//! label model it follows, is in `docs/kubernetes.md`.
//!
//! A phase this version cannot yet do on Kubernetes is an error that says so (exit 1), never
//! an empty plan: "No changes" would tell a script the work is done.

mod dashboards;
mod dual_run;
pub use dashboards::in_kubernetes;
mod scrape;
#[cfg(test)]
mod tests;

use super::PhaseId;
use crate::changeset::ChangeSet;
use crate::diagnostic::Diagnostic;
use crate::stack::Stack;
use crate::stack::kube::KubeStack;

/// Plans `phase` on a Kubernetes stack.
pub fn plan(phase: PhaseId, stack: &Stack, kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    if kube.gateway.is_none() {
        return Err(no_gateway(phase));
    }
    let mut changeset = match phase {
        PhaseId::Scrape => scrape::plan(stack, kube)?,
        PhaseId::DualRun => dual_run::plan(stack, kube)?,
        PhaseId::Dashboards => dashboards::plan(stack, kube)?,
        PhaseId::Remove | PhaseId::Docs => return Err(not_yet(phase, None)),
    };
    changeset.findings.splice(0..0, kube.findings.iter().cloned());
    changeset.findings.dedup();
    Ok(changeset)
}

/// The error of a phase this version cannot do on a Kubernetes stack (or on this shape of one).
pub fn not_yet(phase: PhaseId, shape: Option<&str>) -> Diagnostic {
    let what = match shape {
        Some(shape) => format!("phase `{phase}` cannot yet be planned on this Kubernetes stack: {shape}"),
        None => format!("phase `{phase}` is not yet supported on a Kubernetes stack"),
    };
    Diagnostic::error(format!("{what}; nothing was planned"))
        .help("docs/kubernetes.md lists which phases and shapes work on Kubernetes stacks today")
        .help(format!(
            "do it by hand for now (the phase table in README.md says what `{phase}` does); pullover cannot record it as applied on this stack yet"
        ))
}

fn no_gateway(phase: PhaseId) -> Diagnostic {
    Diagnostic::error(format!(
        "no Pushgateway found in this Kubernetes stack: phase `{phase}` has nothing to act on"
    ))
    .help("pullover looks for a Deployment or StatefulSet running the pushgateway image, or values of the prometheus-pushgateway chart")
}
