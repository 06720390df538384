//! The phases, in order. Each is a pure planner: `(stack as read) → ChangeSet`.
//! Rendering, applying, journaling and rollback are generic and live elsewhere.

pub mod dashboards;
pub mod docs;
pub mod dual_run;
pub mod expose;
pub mod kube;
pub mod mounts;
pub mod remove;
pub mod scrape;

use serde::Serialize;

use crate::changeset::ChangeSet;
use crate::diagnostic::Diagnostic;
use crate::stack::{Gateway, Stack};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseId {
    Expose,
    Scrape,
    DualRun,
    Dashboards,
    Remove,
    Docs,
}

pub type Planner = fn(&Stack) -> Result<ChangeSet, Diagnostic>;

impl PhaseId {
    pub const ALL: [PhaseId; 6] = [
        PhaseId::Expose,
        PhaseId::Scrape,
        PhaseId::DualRun,
        PhaseId::Dashboards,
        PhaseId::Remove,
        PhaseId::Docs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PhaseId::Expose => "expose",
            PhaseId::Scrape => "scrape",
            PhaseId::DualRun => "dual-run",
            PhaseId::Dashboards => "dashboards",
            PhaseId::Remove => "remove",
            PhaseId::Docs => "docs",
        }
    }

    pub fn from_name(name: &str) -> Option<PhaseId> {
        PhaseId::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Position as the docs number phases: `expose` is 0 (only apps that push and serve
    /// nothing need it), `scrape` 1, … `docs` 5 ([`PhaseId::LAST`]).
    pub fn number(self) -> usize {
        PhaseId::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The last phase's number, the "of" in "phase 1/5".
    pub const LAST: usize = PhaseId::ALL.len() - 1;

    /// Whether `apply` of a later phase needs this one applied first. `expose` does not: an
    /// app that already serves /metrics has nothing for it, and `scrape` says when one does not.
    pub fn required_before_later(self) -> bool {
        self != PhaseId::Expose
    }

    /// The phases `apply self` needs applied first.
    pub fn required_before(self) -> impl Iterator<Item = PhaseId> {
        PhaseId::ALL
            .into_iter()
            .take_while(move |p| *p != self)
            .filter(|p| p.required_before_later())
    }

    pub fn summary(self) -> &'static str {
        match self {
            PhaseId::Expose => "make each app that only pushes serve its metrics at /metrics",
            PhaseId::Scrape => "add a direct scrape job for each app",
            PhaseId::DualRun => "run both sources; add a comparison dashboard and divergence rules",
            PhaseId::Dashboards => "rewrite dashboard and rule queries to the scraped series",
            PhaseId::Remove => "remove the Pushgateway service, its scrape job and the dual-run artefacts",
            PhaseId::Docs => "update the docs and list what is left for a person",
        }
    }

    /// What must hold, on the live system, before the next phase.
    pub fn gate(self) -> &'static str {
        match self {
            PhaseId::Expose => "the app serves valid exposition text at /metrics",
            PhaseId::Scrape => "the app serves /metrics and Prometheus reports the new target up",
            PhaseId::DualRun => "old and new series agree within tolerance",
            PhaseId::Dashboards => "every rewritten query returns what the old one returned",
            PhaseId::Remove => "no Pushgateway target and no fresh pushed sample left",
            PhaseId::Docs => "nothing",
        }
    }

    /// The phase's planner.
    pub fn planner(self) -> Planner {
        match self {
            PhaseId::Expose => expose::plan,
            PhaseId::Scrape => scrape::plan,
            PhaseId::DualRun => dual_run::plan,
            PhaseId::Dashboards => dashboards::plan,
            PhaseId::Remove => remove::plan,
            PhaseId::Docs => docs::plan,
        }
    }

    /// Whether the planner reads what live servers report ([`Stack::observed_pushes`]): every
    /// phase that depends on who pushes as what ([`crate::identity`]). The command asks them
    /// first when a URL is given.
    pub fn learns_from_live(self) -> bool {
        matches!(
            self,
            PhaseId::Scrape | PhaseId::DualRun | PhaseId::Dashboards | PhaseId::Remove
        )
    }

    /// The phase before, among those a later one requires (so `scrape` has none).
    pub fn previous(self) -> Option<PhaseId> {
        self.required_before().last()
    }
}

impl std::fmt::Display for PhaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The stack's Pushgateway, which every phase acts on; without one, the error of a phase that
/// has nothing to act on: the phase is not journalled as applied, and the message says what
/// would settle it.
pub fn gateway_of(stack: &Stack, phase: PhaseId) -> Result<&Gateway, Diagnostic> {
    stack.settings.gateway.as_ref().ok_or_else(|| no_gateway(phase))
}

/// The error of a phase that has nothing to act on because no Pushgateway was found: the phase
/// is not journalled as applied, and the message says what would settle it.
fn no_gateway(phase: PhaseId) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(format!(
        "no Pushgateway found in this stack: phase `{phase}` has nothing to act on"
    ))
    .help("found no Compose service running prom/pushgateway (or named pushgateway), and no scrape job pinned as the gateway's")
    .help("name it with --gateway SERVICE, `gateway: {service: …}` in pullover.yaml, or for a gateway outside Compose `gateway: {job: …}`; nothing was written")
}
