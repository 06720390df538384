//! What every check is made of: where the stack stands ([`Stage`]), which checks run then
//! ([`CheckKind`]), one line of the report ([`Check`], [`Status`]), the settings and live
//! clients the checks are given, and how they report progress. These base types import
//! none of the checks, so every check can use them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::compare::Tolerance;
use crate::live::endpoint::Endpoint;
use crate::live::error::LiveError;
use crate::live::prometheus::PrometheusClient;
use crate::live::pushgateway::PushgatewayClient;
use crate::phase::PhaseId;

/// Where the stack stands: nothing applied yet, or the last applied phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Baseline,
    After(PhaseId),
}

impl Stage {
    /// The last phase (in phase order) among the applied ones.
    pub fn from_applied(applied: &[PhaseId]) -> Stage {
        applied
            .iter()
            .copied()
            .max_by_key(|phase| phase.number())
            .map_or(Stage::Baseline, Stage::After)
    }

    /// `baseline` or a phase name.
    pub fn parse(text: &str) -> Option<Stage> {
        if text == "baseline" {
            return Some(Stage::Baseline);
        }
        PhaseId::from_name(text).map(Stage::After)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Baseline => "baseline",
            Stage::After(phase) => phase.name(),
        }
    }

    /// The stage whose checks gate `apply phase`: the phase before it. `scrape` has none
    /// (nothing is live yet to check; `pullover verify` checks the app's /metrics).
    pub fn gate_for(phase: PhaseId) -> Option<Stage> {
        phase.previous().map(Stage::After)
    }

    /// The checks for this stage. The app's /metrics is checked before `scrape`, and later
    /// only when its URL was given (a derived `service:port` rarely resolves outside Compose).
    /// What holds from a phase on is checked at every later stage too: from `scrape` on,
    /// Prometheus runs the app's job, its target is up and scrapes fast, whatever else the
    /// stage adds. Before `scrape`, when a Prometheus is configured, it must run what the
    /// files say (the gateway's job, its target up): a rollback without reload shows there.
    pub fn checks(self, explicit_app_url: bool, prometheus: bool) -> Vec<CheckKind> {
        // After `expose` nothing is scraped yet: the checks are the baseline's.
        let stage = match self {
            Stage::After(PhaseId::Expose) => Stage::Baseline,
            other => other,
        };
        let mut checks = Vec::new();
        if matches!(stage, Stage::Baseline) || explicit_app_url {
            checks.push(CheckKind::Exposition);
        }
        match stage {
            Stage::Baseline => {
                if prometheus {
                    checks.extend([CheckKind::RunningConfig, CheckKind::Target]);
                }
            }
            Stage::After(phase) => {
                checks.extend([CheckKind::RunningConfig, CheckKind::Target, CheckKind::ScrapeDuration]);
                match phase {
                    PhaseId::Expose | PhaseId::Scrape => {}
                    PhaseId::DualRun => checks.push(CheckKind::DualRun),
                    PhaseId::Dashboards => checks.push(CheckKind::Queries),
                    PhaseId::Remove | PhaseId::Docs => checks.push(CheckKind::Gone),
                }
            }
        }
        checks
    }

    /// Nothing is scraped directly yet: no phase applied, or only `expose`.
    pub fn before_scrape(self) -> bool {
        matches!(self, Stage::Baseline | Stage::After(PhaseId::Expose))
    }

    pub fn needs_prometheus(self, explicit_app_url: bool) -> bool {
        self.checks(explicit_app_url, false)
            .iter()
            .any(|c| *c != CheckKind::Exposition)
    }

    /// Whether the Pushgateway's scrape job should still run at this stage.
    pub fn gateway_expected(self) -> bool {
        !matches!(self, Stage::After(PhaseId::Remove | PhaseId::Docs))
    }
}

impl Serialize for Stage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// The app serves valid text exposition format at /metrics.
    Exposition,
    /// Prometheus runs (not just has on disk) a configuration with the new job.
    RunningConfig,
    /// The new target is up.
    Target,
    /// Scrapes take well under the scrape timeout.
    ScrapeDuration,
    /// Pushed series agree with their scraped twins.
    DualRun,
    /// Rewritten queries return what their originals returned.
    Queries,
    /// No Pushgateway target and no fresh pushed sample left.
    Gone,
    /// `verify --load`: /metrics latency under a burst, the app's users under it, the
    /// interval against scrape duration and rate() ranges.
    Load,
}

impl CheckKind {
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Exposition => "app /metrics",
            CheckKind::RunningConfig => "running config",
            CheckKind::Target => "target",
            CheckKind::ScrapeDuration => "scrape duration",
            CheckKind::DualRun => "dual-run",
            CheckKind::Queries => "queries",
            CheckKind::Gone => "pushgateway gone",
            CheckKind::Load => "load",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Worth a look; does not fail the check.
    Warn,
    /// Cannot tell yet (too little data): fails the gate, says when to look again.
    Inconclusive,
    Fail,
}

impl Status {
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Inconclusive => "?",
            Status::Fail => "✗",
        }
    }

    /// Whether this keeps the gate closed (exit 3).
    pub fn fails(self) -> bool {
        matches!(self, Status::Fail | Status::Inconclusive)
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    /// What was checked: an app, a URL, a file.
    pub subject: String,
    pub status: Status,
    pub detail: String,
    /// More lines under the check (issues, hints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Check {
    pub fn new(kind: CheckKind, subject: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            kind,
            subject: subject.into(),
            status,
            detail: detail.into(),
            notes: Vec::new(),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Check {
        self.notes.push(note.into());
        self
    }
}

/// Knobs of the checks (flags of `verify` and `apply`).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifySettings {
    pub tolerance: Tolerance,
    /// `rate()` window of the dual-run comparison.
    pub window: Duration,
    pub concurrency: usize,
    /// Prometheus's own `timeout` for each query.
    pub query_timeout: Duration,
    /// A pushed group whose last push is older than this counts as dead.
    pub max_push_age: Duration,
    /// Also fetch both sides of every compared metric over the window (`verify --report`).
    pub window_series: bool,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            tolerance: Tolerance::default(),
            window: Duration::from_secs(300),
            concurrency: 8,
            query_timeout: Duration::from_secs(10),
            max_push_age: Duration::from_secs(120),
            window_series: false,
        }
    }
}

/// The live endpoints, as far as they are configured.
#[derive(Debug, Clone, Default)]
pub struct LiveTargets {
    pub prometheus: Option<PrometheusClient>,
    pub pushgateway: Option<PushgatewayClient>,
    /// `--app-url` (or `live.app_url`), as given.
    pub app_url: Option<String>,
    /// Timeouts, auth and retries for app URLs (the URL itself is replaced).
    pub app_endpoint_template: Option<Endpoint>,
}

/// What a long step reports, for a progress bar on a terminal.
pub enum ProgressEvent<'a> {
    Start { label: &'a str, total: u64 },
    Advance,
    Finish,
}

pub type Progress = Arc<dyn Fn(ProgressEvent<'_>) + Send + Sync>;

pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// A failure to run the checks at all (as opposed to a check that fails).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct VerifyError {
    pub error: LiveError,
    pub help: Vec<String>,
}

impl From<LiveError> for VerifyError {
    fn from(error: LiveError) -> Self {
        VerifyError {
            error,
            help: Vec::new(),
        }
    }
}

impl VerifyError {
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }
}

/// Unix seconds.
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

pub use crate::duration::format_prometheus_duration;

/// Unix seconds as `2026-11-25T07:31:34Z`.
pub(crate) fn rfc3339(unix: f64) -> String {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_is_the_last_applied_phase_in_phase_order() {
        assert_eq!(Stage::from_applied(&[]), Stage::Baseline);
        assert_eq!(
            Stage::from_applied(&[PhaseId::Scrape, PhaseId::DualRun]),
            Stage::After(PhaseId::DualRun)
        );
        assert_eq!(Stage::parse("baseline"), Some(Stage::Baseline));
        assert_eq!(Stage::parse("dual-run"), Some(Stage::After(PhaseId::DualRun)));
        assert_eq!(Stage::parse("nope"), None);
    }

    #[test]
    fn each_stage_runs_the_checks_of_its_gate() {
        let names = |stage: Stage, app_url: bool, prometheus: bool| -> Vec<&str> {
            stage
                .checks(app_url, prometheus)
                .into_iter()
                .map(CheckKind::label)
                .collect()
        };
        assert_eq!(names(Stage::Baseline, false, false), ["app /metrics"]);
        assert_eq!(
            names(Stage::Baseline, false, true),
            ["app /metrics", "running config", "target"]
        );
        assert_eq!(
            names(Stage::After(PhaseId::Scrape), false, true),
            ["running config", "target", "scrape duration"]
        );
        assert_eq!(
            names(Stage::After(PhaseId::Scrape), true, true),
            ["app /metrics", "running config", "target", "scrape duration"]
        );
        assert_eq!(
            names(Stage::After(PhaseId::DualRun), false, true),
            ["running config", "target", "scrape duration", "dual-run"]
        );
        assert_eq!(
            names(Stage::After(PhaseId::Dashboards), false, true),
            ["running config", "target", "scrape duration", "queries"]
        );
        // What holds from `scrape` on keeps being checked after `remove` and `docs`.
        for phase in [PhaseId::Remove, PhaseId::Docs] {
            assert_eq!(
                names(Stage::After(phase), true, true),
                [
                    "app /metrics",
                    "running config",
                    "target",
                    "scrape duration",
                    "pushgateway gone"
                ]
            );
        }
        assert!(!Stage::Baseline.needs_prometheus(false));
        assert!(Stage::After(PhaseId::Scrape).needs_prometheus(false));
    }

    #[test]
    fn gates_check_the_phase_before() {
        assert_eq!(Stage::gate_for(PhaseId::Scrape), None);
        assert_eq!(Stage::gate_for(PhaseId::DualRun), Some(Stage::After(PhaseId::Scrape)));
        assert_eq!(
            Stage::gate_for(PhaseId::Remove),
            Some(Stage::After(PhaseId::Dashboards))
        );
    }

    #[test]
    fn durations_read_like_prometheus_durations() {
        assert_eq!(format_prometheus_duration(Duration::from_secs(4)), "4s");
        assert_eq!(format_prometheus_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_prometheus_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_prometheus_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_prometheus_duration(Duration::ZERO), "0s");
    }
}
