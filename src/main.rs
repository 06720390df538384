//! The `pullover` binary: parse arguments, run, map the result to an exit code.

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
            if err.use_stderr() && json_requested() {
                let message = err.to_string();
                let first = message.lines().next().unwrap_or("").trim_start_matches("error: ");
                let error = pullover::diagnostic::Diagnostic::error(first)
                    .id("usage")
                    .help("run `pullover --help` for the flags and commands");
                println!(
                    "{}",
                    serde_json::to_string_pretty(&pullover::envelope::Envelope::commandless(
                        serde_json::json!({"error": error.to_json()})
                    ))
                    .unwrap_or_default()
                );
            }
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = cli.global.color.enabled_for(pullover::cli::Stream::Stderr);
    let json = cli.global.format == pullover::cli::Format::Json;
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::ChangesPending) => ExitCode::from(2),
        Ok(Outcome::CheckFailed) => ExitCode::from(3),
        Ok(Outcome::FindingsAtLevel) => ExitCode::from(4),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Programs read the error from stdout as JSON; people still see it on stderr.
            if json {
                print!("{}", commands::error_json(&err));
            }
            eprint!("{}", commands::render_error(&err, color));
            ExitCode::from(1)
        }
    }
}

/// `--format json` (or `--format=json`) on a command line clap could not parse.
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--format=json") || args.windows(2).any(|w| w[0] == "--format" && w[1] == "json")
}

/// `pullover plan | head` closing the pipe early is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
