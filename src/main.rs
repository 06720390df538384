//! The `pullover` binary: parse arguments, run, map the result to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use pullover::cli::Cli;
use pullover::commands::{self, Outcome};

fn main() -> ExitCode {
    pullover::contained::install_panic_hook();
    // clap exits 2 on a usage error; 2 means "changes pending" here, so a
    // typo must not look like a plan to a CI script: usage errors exit 1.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let cli = match parsed {
        Ok((mut cli, matches)) => {
            cli.global.stack_given = matches.value_source("stack") == Some(ValueSource::CommandLine);
            cli
        }
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = match cli.global.color {
        pullover::cli::ColorChoice::Always => true,
        pullover::cli::ColorChoice::Never => false,
        pullover::cli::ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::ChangesPending) => ExitCode::from(2),
        Ok(Outcome::CheckFailed) => ExitCode::from(3),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", commands::render_error(&err, color));
            ExitCode::from(1)
        }
    }
}

/// `pullover plan | head` closing the pipe early is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
