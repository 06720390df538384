//! The commands. Each reads what it needs through `stack/` and `state/`,
//! prints through [`Context`], and returns an [`Outcome`] that `main` maps to
//! an exit code.

mod analyze;
mod apply;
mod completions;
mod drift;
mod history;
mod init;
mod live_servers;
mod plan;
mod rollback;
mod status;
mod verify;

use std::io::{self, IsTerminal, Write};

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::changeset::ChangeSet;
use crate::changeset::render::{self, Display};
use crate::cli::{Cli, Command, Format, GlobalArgs, Stream};
use crate::diagnostic::Diagnostic;
use crate::envelope::Envelope;
use crate::phase::PhaseId;
use crate::state::engine::{self, Recovery};
use crate::state::journal::{Action, AppliedPhase};
use crate::state::{LockState, Locked, StateDir, StateError};

/// How a successful run ends; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done, or nothing to do.
    Success,
    /// 2: `plan --detailed-exitcode` found changes.
    ChangesPending,
    /// 3: `verify` ran and a check failed.
    CheckFailed,
    /// 4: `plan --fail-on LEVEL` found findings at or above LEVEL.
    FindingsAtLevel,
}

pub struct Context {
    pub global: GlobalArgs,
    /// Colour on stdout (diffs, reports) and on stderr (notes, errors): one rule,
    /// [`crate::cli::ColorChoice::enabled_for`], per stream.
    pub color: bool,
    pub color_stderr: bool,
}

impl Context {
    pub fn json(&self) -> bool {
        self.global.format == Format::Json
    }

    pub fn display(&self) -> Display {
        Display {
            color: self.color,
            mask: true,
        }
    }

    /// Prints to stdout; a closed pipe surfaces as an error `main` treats as success.
    pub fn print(&self, text: &str) -> Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }

    pub fn print_json(&self, value: &impl Serialize) -> Result<()> {
        let mut text = serde_json::to_string_pretty(value)?;
        text.push('\n');
        self.print(&text)
    }

    /// Notes for a person go to stderr, so stdout stays a clean diff or JSON.
    pub fn note(&self, text: &str) {
        let label = if self.color_stderr {
            console::style("note").cyan().bold().force_styling(true).to_string()
        } else {
            "note".into()
        };
        eprintln!("{label}: {text}");
    }

    pub fn bold(&self, text: &str) -> String {
        if self.color {
            console::style(text).bold().force_styling(true).to_string()
        } else {
            text.to_string()
        }
    }

    pub fn state(&self) -> Result<StateDir> {
        let stack = &self.global.stack;
        if !stack.is_dir() {
            return Err(
                Diagnostic::error(format!("the stack folder {} does not exist", stack.display()))
                    .help("pass the folder that holds your docker-compose.yml with --stack DIR")
                    .into(),
            );
        }
        Ok(StateDir::new(stack)?.with_lock_timeout(self.global.lock_timeout))
    }

    /// Asks on the terminal; refuses (rather than hangs) when there is none.
    pub fn confirm(&self, question: &str, yes: bool, action: &str) -> Result<bool> {
        if yes {
            return Ok(true);
        }
        if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
            return Err(Diagnostic::error(format!(
                "{action} needs a confirmation and there is no terminal to ask on"
            ))
            .help(format!(
                "review the plan above, then run it again with --yes to {action} without asking"
            ))
            .into());
        }
        let term = console::Term::stderr();
        let answer = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact_on(&term)?;
        Ok(answer)
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let mut ctx = Context {
        color: cli.global.color.enabled_for(Stream::Stdout),
        color_stderr: cli.global.color.enabled_for(Stream::Stderr),
        global: cli.global,
    };
    if ctx.global.format == Format::Markdown && !matches!(cli.command, Command::Plan(_)) {
        return Err(
            Diagnostic::error("--format markdown is for `plan` (a pull-request description)")
                .help("use --format text or --format json with this command")
                .id("format-not-supported")
                .into(),
        );
    }
    if !ctx.global.stack_given && !matches!(cli.command, Command::Completions(_)) {
        find_stack_root(&mut ctx)?;
    }
    match cli.command {
        Command::Analyze => analyze::run(&ctx),
        Command::Status => status::run(&ctx),
        Command::Plan(args) => plan::run(&ctx, &args),
        Command::Apply(args) => apply::run(&ctx, &args),
        Command::Rollback(args) => rollback::run(&ctx, &args),
        Command::History => history::run(&ctx),
        Command::Verify(args) => verify::run(&ctx, &args),
        Command::Init(args) => init::run(&ctx, &args),
        Command::Completions(args) => completions::run(&ctx, &args),
    }
}

/// Without `--stack`, the stack is the nearest folder from here up holding a Compose file
/// (as git finds its repository); with none, an error before anything is read or written.
fn find_stack_root(ctx: &mut Context) -> Result<()> {
    let here = std::env::current_dir().context("cannot read the working directory")?;
    let (root, marker) = crate::stack::root::find_from(&here)?;
    if root != std::path::Path::new(".") {
        ctx.note(&format!(
            "the stack is {} (the folder holding {marker}); pass --stack DIR to pick another",
            root.display()
        ));
    }
    ctx.global.stack = root;
    Ok(())
}

/// An error of a command that had built its JSON document already (apply's plan): with
/// `--format json` the document is printed with the error in it, one document on stdout.
#[derive(Debug)]
pub struct ErrorWithJson {
    pub document: serde_json::Value,
    pub error: anyhow::Error,
}

impl std::fmt::Display for ErrorWithJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for ErrorWithJson {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The error as `--format json` prints it on stdout: `{"version":1,"error":{…}}` with a
/// finding's fields (inside the command's own document when it had one, [`ErrorWithJson`]).
pub fn error_json(err: &anyhow::Error) -> String {
    let (err, mut document) = match err.downcast_ref::<ErrorWithJson>() {
        Some(with) => (&with.error, with.document.clone()),
        None => (err, Envelope::commandless(serde_json::json!({})).to_value()),
    };
    let diag = if let Some(diag) = err.downcast_ref::<Diagnostic>() {
        diag.clone()
    } else if let Some(state) = err.downcast_ref::<StateError>() {
        let mut diag = Diagnostic::error(state.to_string()).id("state");
        for help in state.help() {
            diag = diag.help(help);
        }
        diag
    } else {
        Diagnostic::error(format!("{err:#}"))
    };
    match document.as_object_mut() {
        Some(object) => {
            object.insert("error".into(), diag.to_json());
        }
        None => document = Envelope::commandless(serde_json::json!({"error": diag.to_json()})).to_value(),
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// The error as a person reads it: a [`Diagnostic`] with its place and help,
/// or the error chain on one line.
pub fn render_error(err: &anyhow::Error, color: bool) -> String {
    if let Some(with) = err.downcast_ref::<ErrorWithJson>() {
        return render_error(&with.error, color);
    }
    if let Some(diag) = err.downcast_ref::<Diagnostic>() {
        return diag.render(color);
    }
    if let Some(state) = err.downcast_ref::<StateError>() {
        let mut diag = Diagnostic::error(state.to_string());
        for help in state.help() {
            diag = diag.help(help);
        }
        return diag.render(color);
    }
    Diagnostic::error(format!("{err:#}")).render(color)
}

/// Finishes or undoes an interrupted apply or rollback, and says so.
fn recover(ctx: &Context, locked: &Locked<'_>, stale: Option<String>) -> Result<()> {
    if let Some(explanation) = stale {
        ctx.note(&explanation);
    }
    if let Some(recovery) = engine::recover(locked)? {
        ctx.note(&recovery_message(&recovery));
    }
    let collected = engine::collect_garbage(locked)?;
    if collected > 0 {
        ctx.note(&format!(
            "removed {collected} snapshot{} from .pullover/objects that no journal entry uses (left by an interrupted or undone apply)",
            if collected == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// Runs recovery only when the journal shows an interrupted transaction, so
/// read-only commands need no lock in the common case.
fn recover_if_needed(ctx: &Context, state: &StateDir) -> Result<()> {
    let journal = state.journal()?;
    let stale_lock = matches!(state.lock_state()?, LockState::Stale { .. });
    if engine::pending_recovery(&journal).is_some() || stale_lock {
        state.with_lock("recover", |locked, stale| recover(ctx, locked, stale))?;
    }
    Ok(())
}

fn recovery_message(r: &Recovery) -> String {
    let files = if r.restored.is_empty() {
        "no file needed restoring".to_string()
    } else {
        r.restored.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
    };
    match (r.action, r.finished) {
        (Action::Rollback, _) => format!("finished the interrupted rollback of phase `{}` ({files})", r.phase),
        _ => format!(
            "undid the interrupted apply of phase `{}`: every file is as before it ({files})",
            r.phase
        ),
    }
}

fn applied_ids(applied: &[AppliedPhase]) -> Vec<PhaseId> {
    applied.iter().filter_map(|p| PhaseId::from_name(&p.phase)).collect()
}

/// The first phase, in order, that is not applied, after the last applied one (an `expose`
/// left out because the apps serve /metrics already is not asked for again after `scrape`).
fn next_phase(applied: &[AppliedPhase]) -> Option<PhaseId> {
    let done = applied_ids(applied);
    let after = done.iter().map(|p| p.number()).max();
    PhaseId::ALL
        .into_iter()
        .filter(|p| after.is_none_or(|last| p.number() > last))
        .find(|p| !done.contains(p))
}

/// File diffs rendered at a time before they are printed.
const DIFFS_PER_PRINT: usize = 64;

/// Findings rendered and printed at a time (each stands alone).
const FINDINGS_PER_PRINT: usize = 256;

/// Prints the text report of a plan: header, diffs, findings, summary. File by file, so a plan
/// over a thousand dashboards is never one string in memory.
fn print_plan(ctx: &Context, phase: PhaseId, changeset: &ChangeSet) -> Result<()> {
    let display = ctx.display();
    ctx.print(&ctx.bold(&format!(
        "Phase {}/{} `{}`: {}\n",
        phase.number(),
        PhaseId::LAST,
        phase,
        phase.summary()
    )))?;
    ctx.print("\n")?;
    let mut lines = (0, 0);
    // A part of the diffs at a time, rendered on every core, printed in order.
    for part in changeset.changes.chunks(DIFFS_PER_PRINT) {
        let rendered = crate::parallel::map_in_parallel(part.iter().collect(), |change| {
            let (diff, counts) = render::counted_file_diff(change);
            let mut diff = render::display_diff(&diff, display);
            diff.push('\n');
            (diff, counts)
        });
        for (diff, (added, removed)) in rendered {
            lines = (lines.0 + added, lines.1 + removed);
            ctx.print(&diff)?;
        }
    }
    if !changeset.findings.is_empty() {
        ctx.print(&ctx.bold("Findings:\n"))?;
        for some in changeset.findings.chunks(FINDINGS_PER_PRINT) {
            ctx.print(&render::render_findings(some, display))?;
        }
        ctx.print("\n")?;
    }
    let mut out = if changeset.is_empty() {
        render::no_change_headline(changeset)
    } else {
        format!("Plan: {}.\n", render::summary_counted(changeset, lines))
    };
    out.extend(render::waiting_sentence(changeset));
    ctx.print(&out)
}

#[derive(Serialize)]
struct PlanJson<'a> {
    phase: PhaseId,
    changes: Vec<render::ChangeJson>,
    findings: &'a [crate::changeset::Finding],
    /// Managed files changed outside pullover since it last wrote them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    drift: Vec<drift::DriftJson>,
}

fn plan_json<'a>(
    command: &'a str,
    phase: PhaseId,
    changeset: &'a ChangeSet,
    drift: Vec<drift::DriftJson>,
) -> Envelope<'a, PlanJson<'a>> {
    Envelope::new(
        command,
        PlanJson {
            phase,
            changes: render::changes_json(changeset),
            findings: &changeset.findings,
            drift,
        },
    )
}

/// Drift of the managed files, when the stack has a journal.
fn current_drift(state: &StateDir) -> Result<(crate::state::journal::Journal, Vec<engine::Drift>)> {
    let journal = state.journal()?;
    let drift = engine::drift(state, &journal)?;
    Ok((journal, drift))
}
