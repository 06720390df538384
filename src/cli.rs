//! Command-line interface: flags and commands (clap derive). Each command's
//! work lives in `commands/`.

use std::path::PathBuf;

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
  pullover rollback --to baseline --yes        undo every phase";

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
    /// The stack folder (holding docker-compose.yml).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub stack: PathBuf,
    /// An app that pushes today and is to be scraped directly (repeatable).
    #[arg(long = "app", global = true, value_name = "SERVICE:PORT")]
    pub apps: Vec<AppArg>,
    /// The Compose service running Pushgateway.
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
    /// How long apply and rollback wait for another pullover working on the
    /// same stack (e.g. 30s, 2m); 0s refuses at once, naming it.
    #[arg(long, global = true, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration, env = "PULLOVER_LOCK_TIMEOUT")]
    pub lock_timeout: std::time::Duration,
    /// Output for people (text) or programs (json).
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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
        after_help = "Examples:\n  pullover plan\n  pullover plan dashboards --patch dashboards.patch\n  pullover plan --detailed-exitcode   # exit 2 when changes are pending"
    )]
    Plan(PlanArgs),
    /// Plan, show, confirm, write and journal the next (or named) phase.
    #[command(after_help = "Examples:\n  pullover apply\n  pullover apply scrape --yes")]
    Apply(ApplyArgs),
    /// Undo the last applied phase, or every phase after `--to PHASE`.
    #[command(
        after_help = "Examples:\n  pullover rollback\n  pullover rollback --to scrape\n  pullover rollback --to baseline --yes"
    )]
    Rollback(RollbackArgs),
    /// What was applied and rolled back, when, by whom, with file hashes.
    #[command(after_help = "Example:\n  pullover history --format json")]
    History,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  pullover completions bash > ~/.local/share/bash-completion/completions/pullover\n  pullover completions zsh > \"${fpath[1]}/_pullover\"\n  pullover completions fish > ~/.config/fish/completions/pullover.fish"
    )]
    Completions(CompletionsArgs),
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
    /// Exit 2 when the plan has changes, 0 when it has none (as Terraform).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The phase to apply (default: the next one).
    pub phase: Option<PhaseId>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Undo every phase applied after this one (`baseline`: all of them).
    #[arg(long, value_name = "PHASE")]
    pub to: Option<String>,
    /// Roll back even when managed files changed since they were applied.
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}
