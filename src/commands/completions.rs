//! `pullover completions SHELL`: a completion script generated from the same
//! clap definition the binary parses with, so it never goes stale.

use anyhow::Result;
use clap::CommandFactory;

use super::{Context, Outcome};
use crate::cli::{Cli, CompletionsArgs};

pub fn run(ctx: &Context, args: &CompletionsArgs) -> Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "pullover", &mut script);
    ctx.print(&String::from_utf8_lossy(&script))?;
    Ok(Outcome::Success)
}
