//! Command-line interface: flags and commands (clap derive). Each command's
//! work lives in `commands/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::phase::PhaseId;
use crate::stack::settings::{AppArg, Overrides};

const EXAMPLES: &str = "\
Examples:
  pullover --stack stacks/seed init            discover the stack, write pullover.yaml for review
  pullover --stack stacks/seed plan            show the next phase as a diff
  pullover apply                               apply it (asks first)
  pullover status                              where the migration stands, and drift
  pullover rollback                            undo the last applied phase
  pullover rollback --to baseline --yes        undo every phase
  pullover --prometheus-url http://localhost:9090 verify
                                               live checks for where the stack stands";

#[derive(Debug, Parser)]
#[command(
    name = "pullover",
    version,
    about = "Move a Prometheus stack off Pushgateway onto direct scraping, one reviewable phase at a time",
    long_about = "Move a Prometheus stack off Pushgateway onto direct scraping, one reviewable phase at a time.\n\n\
Phases, in order: scrape → dual-run → dashboards → remove → docs. Each is shown as a unified diff (`plan`), \
written crash-safely and journaled in .pullover/ (`apply`), and can be undone byte for byte (`rollback`).",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The stack folder (holding docker-compose.yml). Without it, the nearest folder from
    /// here up that holds a Compose file or pullover.yaml (as git finds its repository).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub stack: PathBuf,
    /// Whether `--stack` was on the command line (set by `main` from clap's matches); when
    /// not, `commands::run` walks up to the stack root.
    #[arg(skip)]
    pub stack_given: bool,
    /// An app that pushes today and is to be scraped directly (repeatable). SERVICE is a
    /// Compose service; a host outside Compose is spelled as one (`host.example:8080`, an IP
    /// address) or as `external:HOST:PORT`; NAME=HOST:PORT names its scrape job apart from the
    /// address it is scraped at.
    #[arg(long = "app", global = true, value_name = "SERVICE:PORT")]
    pub apps: Vec<AppArg>,
    /// The Compose service running Pushgateway (a host outside Compose: with a dot, an IP
    /// address, or `external:HOST`).
    #[arg(long, global = true, value_name = "SERVICE")]
    pub gateway: Option<String>,
    /// prometheus.yml, relative to the stack folder.
    #[arg(long, global = true, value_name = "PATH")]
    pub prometheus_config: Option<String>,
    /// A folder of Grafana dashboards, relative to the stack folder (repeatable).
    #[arg(long = "dashboards", global = true, value_name = "DIR")]
    pub dashboards: Vec<String>,
    /// Prometheus to verify against.
    #[arg(long, global = true, value_name = "URL", env = "PULLOVER_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// Pushgateway to read pushed groups from.
    #[arg(long, global = true, value_name = "URL", env = "PULLOVER_PUSHGATEWAY_URL")]
    pub pushgateway_url: Option<String>,
    /// The app's base URL (its /metrics is checked).
    #[arg(long, global = true, value_name = "URL", env = "PULLOVER_APP_URL")]
    pub app_url: Option<String>,
    /// `remove` also takes the push logic out of the apps' code (the push calls, their timer,
    /// the now-unused client and settings), as a diff; without it the push logic is kept and
    /// listed as a to-do.
    #[arg(long, global = true)]
    pub remove_push_code: bool,
    /// How long apply and rollback wait for another pullover working on the
    /// same stack (e.g. 30s, 2m); 0s refuses at once, naming it.
    #[arg(long, global = true, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration, env = "PULLOVER_LOCK_TIMEOUT")]
    pub lock_timeout: std::time::Duration,
    /// Output for people (text), programs (json), or a pull request (markdown; `plan` only).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            apps: self.apps.clone(),
            gateway: self.gateway.clone(),
            prometheus_config: self.prometheus_config.clone(),
            dashboards: self.dashboards.clone(),
            prometheus_url: self.prometheus_url.clone(),
            pushgateway_url: self.pushgateway_url.clone(),
            app_url: self.app_url.clone(),
            remove_push_code: self.remove_push_code,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// `plan` only: a pull-request description (GitHub-flavoured Markdown).
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Where coloured text goes: colour is decided per stream, so `pullover plan | less` still
/// shows coloured errors on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl ColorChoice {
    /// The one colour rule. `--color always|never` wins; otherwise the stream must be a
    /// terminal, `NO_COLOR` unset and `CLICOLOR` not `0` (`CLICOLOR_FORCE` forces it, as the
    /// `console` crate reads those two).
    pub fn enabled_for(self, stream: Stream) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none()
                    && match stream {
                        Stream::Stdout => console::colors_enabled(),
                        Stream::Stderr => console::colors_enabled_stderr(),
                    }
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Discover the stack, show what was found and why, and write pullover.yaml for review.
    #[command(
        after_help = "Examples:\n  pullover --stack stacks/seed init          show what discovery finds, ask, then write\n  pullover init --yes                        write without asking (fails, naming the key, where discovery cannot decide)\n  pullover --app worker:9100 init --force    pin the app and rewrite an existing pullover.yaml"
    )]
    Init(InitArgs),
    /// Applied phases, the next phase, and drift of every managed file.
    #[command(after_help = "Example:\n  pullover --stack stacks/seed status")]
    Status,
    /// Every Pushgateway reference and hazard in the stack, and what each phase does; writes nothing.
    #[command(after_help = "Examples:\n  pullover --stack stacks/seed analyze\n  pullover analyze --format json")]
    Analyze,
    /// Show the next (or named) phase as a unified diff; writes nothing.
    #[command(
        after_help = "Examples:\n  pullover plan\n  pullover plan dashboards --patch dashboards.patch\n  pullover plan --detailed-exitcode   # exit 2 when changes are pending\n  pullover plan --fail-on hazard      # exit 4 when a hazard remains\n  pullover plan --format markdown     # a pull-request description (see docs/ci-github-actions.md)"
    )]
    Plan(PlanArgs),
    /// Plan, show, confirm, write and journal the next (or named) phase.
    #[command(after_help = "Examples:\n  pullover apply\n  pullover apply scrape --yes")]
    Apply(ApplyArgs),
    /// Undo the last applied phase, or every phase after `--to PHASE`.
    #[command(
        after_help = "Examples:\n  pullover rollback\n  pullover rollback --to scrape\n  pullover rollback --to baseline --yes\n  pullover rollback --to 3             # N from `pullover history`"
    )]
    Rollback(RollbackArgs),
    /// What was applied and rolled back, when, by whom, with file hashes.
    #[command(after_help = "Example:\n  pullover history --format json")]
    History,
    /// Live checks for where the stack stands (exit 3 when one fails).
    #[command(
        long_about = "Live checks for where the stack stands, against the running Prometheus (and the app's /metrics):\n\
before `scrape`, the app serves valid exposition text; after `scrape`, Prometheus runs the new job and its target is up; \
after `dual-run`, pushed and scraped series agree; after `dashboards`, every rewritten query returns what its original did; \
after `remove`, nothing fresh comes from the Pushgateway.\n\n\
Exit codes: 0 every check passed, 3 a check failed or could not tell yet, 1 the checks could not run.",
        after_help = "Examples:\n  pullover --prometheus-url http://localhost:9090 verify\n  pullover verify --reload                 # reload Prometheus first\n  pullover verify --window 2m --tolerance 10%\n  pullover verify --report out/           # during dual-run: out/pullover-dual-run-report.html\n  pullover --app-url http://localhost:8080 verify --after baseline --format json"
    )]
    Verify(VerifyArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  pullover completions bash > ~/.local/share/bash-completion/completions/pullover\n  pullover completions zsh > \"${fpath[1]}/_pullover\"\n  pullover completions fish > ~/.config/fish/completions/pullover.fish"
    )]
    Completions(CompletionsArgs),
}

/// Knobs of the live checks, shared by `verify` and `apply` (whose gate runs them).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Live checks")]
pub struct LiveArgs {
    /// Relative difference accepted between old and new values (0.05 or 5%).
    #[arg(long, value_name = "RATIO", default_value = "0.05", value_parser = parse_tolerance)]
    pub tolerance: f64,
    /// Window of the rate() comparison during dual-run (at least 4 scrape intervals).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration_arg)]
    pub window: Duration,
    /// Requests to Prometheus in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Timeout of each request (Prometheus's own query timeout too).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_arg)]
    pub timeout: Duration,
    /// A pushed group whose last push is older than this counts as dead.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration_arg)]
    pub max_push_age: Duration,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check as if PHASE were the last one applied (`baseline`: none is).
    #[arg(long, value_name = "PHASE")]
    pub after: Option<String>,
    /// First reload Prometheus and wait until it runs the configuration in the files.
    #[arg(long)]
    pub reload: bool,
    /// During dual-run, also write DIR/pullover-dual-run-report.html: the checks, the
    /// per-metric verdicts, a chart of old against new over the window for every compared
    /// metric, and the commands to go on or roll back. One file, nothing fetched when opened.
    /// Refused at any other stage (the report is about the dual-run comparison).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Also measure what scraping costs the app: a bounded burst of requests to its /metrics
    /// (on this machine only: 127.0.0.1, ::1, localhost) for p50/p99 latency and size, and,
    /// with --load-url, that URL with and without concurrent /metrics requests; checks the
    /// scrape interval against the scrape duration and the shortest rate() range.
    #[arg(long)]
    pub load: bool,
    /// A user-facing URL of the app (on this machine) to time with and without /metrics load.
    #[arg(long, value_name = "URL", requires = "load")]
    pub load_url: Option<String>,
    /// Requests per measurement of --load (at most 2000).
    #[arg(long, value_name = "N", default_value_t = 100, requires = "load", value_parser = clap::value_parser!(u16).range(1..=2000))]
    pub load_requests: u16,
    /// Requests in flight at once during --load (at most 32).
    #[arg(long, value_name = "N", default_value_t = 4, requires = "load", value_parser = clap::value_parser!(u16).range(1..=32))]
    pub load_concurrency: u16,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `0.05`, `5%`.
fn parse_tolerance(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text.trim(), 1.0),
    };
    let value = number
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a ratio (0.05) or a percentage (5%)"))?
        / scale;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("`{text}`: the tolerance must be 0 or more"))
    }
}

/// `30s`, `5m`, `1m30s`, `250ms` (Prometheus style), or humantime's `1min 30s`.
fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    let duration = crate::duration::parse_prometheus_duration(text.trim())
        .or_else(|| humantime::parse_duration(text.trim()).ok())
        .ok_or_else(|| format!("`{text}` is not a duration (e.g. 30s, 5m, 1m30s)"))?;
    if duration.is_zero() {
        return Err(format!("`{text}`: the duration must be more than 0"));
    }
    Ok(duration)
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write without asking; where discovery cannot decide, fail and name the key to set.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Replace an existing pullover.yaml (discovery ignores it).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The phase to plan (default: the next one).
    pub phase: Option<PhaseId>,
    /// Also write the diff to FILE (real bytes, mode 0600), for `git apply`.
    #[arg(long, value_name = "FILE")]
    pub patch: Option<PathBuf>,
    /// Also save the plan to FILE (real bytes, mode 0600): `pullover apply FILE` writes exactly
    /// it, and refuses if anything it was planned from changed since (as Terraform's saved plan).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when it has none (as Terraform).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 4 when a finding at or above LEVEL remains (as pint's --fail-on); ahead of
    /// --detailed-exitcode's 2.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
}

/// The lowest severity `plan --fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Todo,
    Hazard,
}

impl FailOn {
    pub fn severity(self) -> crate::changeset::Severity {
        match self {
            FailOn::Info => crate::changeset::Severity::Info,
            FailOn::Todo => crate::changeset::Severity::Todo,
            FailOn::Hazard => crate::changeset::Severity::Hazard,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The phase to apply (default: the next one), or a plan saved by `pullover plan --out FILE`.
    #[arg(value_name = "PHASE|PLANFILE")]
    pub target: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// After writing, reload Prometheus (POST /-/reload) and wait until it runs the new configuration.
    #[arg(long)]
    pub reload: bool,
    /// Apply even when the live checks of the previous phase (its gate) fail.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Undo every phase applied after this one (`baseline`: all of them), or after entry N
    /// of `pullover history` (an apply whose phase is still applied).
    #[arg(long, value_name = "PHASE|N")]
    pub to: Option<String>,
    /// Roll back even where an edit made outside pullover meets pullover's own change: those
    /// lines get pullover's side back (the edit is journaled and kept in .pullover/objects).
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// After restoring, reload Prometheus and wait until it runs the restored configuration.
    #[arg(long)]
    pub reload: bool,
    /// Timeout of each request to Prometheus (with --reload).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_arg)]
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_read_as_ratios_or_percentages() {
        assert_eq!(parse_tolerance("0.05"), Ok(0.05));
        assert_eq!(parse_tolerance("5%"), Ok(0.05));
        assert!(parse_tolerance("-1").is_err());
        assert!(parse_tolerance("lots").is_err());
    }

    #[test]
    fn durations_read_prometheus_style_and_humantime() {
        assert_eq!(parse_duration_arg("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration_arg("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration_arg("2min"), Ok(Duration::from_secs(120)));
        assert!(parse_duration_arg("0s").is_err());
        assert!(parse_duration_arg("soon").is_err());
    }
}
