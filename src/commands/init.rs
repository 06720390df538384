//! `pullover init`: discover the stack (ignoring any pullover.yaml), show what
//! was found and why, and write `pullover.yaml` for review, atomically and
//! never over an existing one unless `--force`. Where discovery cannot decide
//! it asks on a terminal; without one (or with `--yes`) it fails and names the
//! key to set.

use std::io::{self, IsTerminal};

use anyhow::Result;
use serde::Serialize;

use super::{Context, Outcome};
use crate::changeset::redact::mask_text;
use crate::cli::InitArgs;
use crate::diagnostic::Diagnostic;
use crate::envelope::Envelope;
use crate::stack::Stack;
use crate::stack::discover::{AppQuestion, Ask, Evidence, PathQuestion};
use crate::stack::settings::{SETTINGS_FILE, SettingsFile};
use crate::stack::settings_yaml;
use crate::stack::source::{RelPath, SourceFile};
use crate::state::atomic::write_atomic;

#[derive(Serialize)]
struct InitJson<'a> {
    path: &'static str,
    written: bool,
    settings: &'a SettingsFile,
    evidence: &'a [Evidence],
}

pub fn run(ctx: &Context, args: &InitArgs) -> Result<Outcome> {
    let path = ctx.global.stack.join(SETTINGS_FILE);
    let existing = std::fs::symlink_metadata(&path).ok();
    // A symlink's own mode is 0777: never copy it, and never replace a link
    // (it may be shared with other stacks) or anything but a regular file.
    if let Some(meta) = &existing
        && !meta.is_file()
    {
        let what = if meta.file_type().is_symlink() {
            "a symlink"
        } else {
            "not a regular file"
        };
        return Err(Diagnostic::error(format!(
            "{SETTINGS_FILE} in {} is {what}; init writes only a regular {SETTINGS_FILE}, nothing was written",
            ctx.global.stack.display()
        ))
        .help("edit the file it points to, or remove the link and run `pullover init` again")
        .into());
    }
    let existing_mode = existing.map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o7777
    });
    if existing_mode.is_some() && !args.force {
        return Err(Diagnostic::error(format!(
            "{SETTINGS_FILE} exists already in {}",
            ctx.global.stack.display()
        ))
        .help(format!(
            "review or edit it; `pullover init --force` rewrites it from discovery (the current {SETTINGS_FILE} is ignored then)"
        ))
        .into());
    }
    let interactive = !args.yes && io::stdin().is_terminal() && io::stderr().is_terminal();
    let mut ask = TerminalAsk { interactive };
    let mut stack = Stack::discover(&ctx.global.stack, &ctx.global.overrides(), &mut ask)?;
    // The live servers' word on who pushes as what, when URLs are given (crate::identity).
    super::live_servers::observe_pushes(ctx, &mut stack)?;
    let mut settings = settings_yaml::settings_of(&stack);
    if stack.kube.is_some() {
        // A Kubernetes stack's prometheus.yml is pullover's own model of the scrape path, not a file.
        settings.prometheus_config = None;
    }
    let text = settings_yaml::render(&settings, &stack.evidence);
    check_reads_back(&text, &settings)?;

    if !ctx.json() {
        ctx.print(&report(ctx, &stack.evidence))?;
    }
    let has_grafana = stack
        .compose
        .as_ref()
        .is_some_and(|c| c.services.iter().any(crate::stack::discover::is_grafana_service));
    if has_grafana && stack.dashboards_dir().is_none() {
        ctx.note(
            "no dashboards folder found (nothing is bind-mounted where Grafana's provisioning reads dashboards), \
             so the `dashboards` phase has no dashboard to rewrite, as `plan` has none: name their folder with \
             --dashboards DIR or `dashboards: [DIR]` in pullover.yaml (`.` for the stack folder itself)",
        );
    }
    if stack.settings.gateway.is_none() {
        ctx.note(
            "no Pushgateway found (no service runs prom/pushgateway or is named pushgateway); \
             name it with --gateway SERVICE, or `gateway: {job: …}` in pullover.yaml when it runs outside the stack",
        );
    }
    let written = ctx.confirm(
        &format!("Write {SETTINGS_FILE}?"),
        args.yes,
        &format!("write {SETTINGS_FILE}"),
    )?;
    if written {
        write_atomic(&path, text.as_bytes(), existing_mode.unwrap_or(0o644))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if ctx.json() {
        ctx.print_json(&Envelope::new(
            "init",
            InitJson {
                path: SETTINGS_FILE,
                written,
                settings: &settings,
                evidence: &stack.evidence,
            },
        ))?;
    } else if written {
        ctx.print(&format!(
            "Wrote {SETTINGS_FILE}: each key says why it was chosen. Review it, then run `pullover plan`.\n"
        ))?;
    } else {
        ctx.print("Nothing was written.\n")?;
    }
    Ok(Outcome::Success)
}

/// The file must mean exactly what was discovered; a rendering bug must not
/// reach the stack.
fn check_reads_back(text: &str, settings: &SettingsFile) -> Result<(), Diagnostic> {
    let rel = RelPath::new(SETTINGS_FILE).map_err(Diagnostic::error)?;
    let reread = SettingsFile::parse(&SourceFile::from_text(rel, text, 0o644))?;
    if &reread != settings {
        return Err(Diagnostic::error(format!(
            "the {SETTINGS_FILE} pullover rendered reads back differently from what it discovered (a bug in pullover)"
        ))
        .help("nothing was written; please report it with the output of `pullover --format json init --yes`"));
    }
    Ok(())
}

/// Each discovered setting, its value, and why.
fn report(ctx: &Context, evidence: &[Evidence]) -> String {
    let mut out = ctx.bold(&format!("Discovered in {}:\n", ctx.global.stack.display()));
    for e in evidence {
        out.push_str(&format!("  {}: {}\n      {}\n", e.setting, e.value, e.because));
    }
    out.push('\n');
    mask_text(&out)
}

/// Asks on the terminal; without one (or with `--yes`), returns the error that
/// names the key to set.
struct TerminalAsk {
    interactive: bool,
}

fn prompt_failed(err: dialoguer::Error) -> Diagnostic {
    Diagnostic::error(format!("the question could not be answered: {err}"))
        .help("answer it with the key or flag named above, then run `pullover init` again")
}

impl Ask for TerminalAsk {
    fn apps(&mut self, question: &AppQuestion) -> Result<Vec<String>, Diagnostic> {
        if !self.interactive {
            return Err(question.unresolved.clone());
        }
        let candidates: Vec<_> = question.pushing.iter().chain(&question.plausible).collect();
        let items: Vec<String> = candidates
            .iter()
            .map(|c| format!("{} ({})", c.service, c.because))
            .collect();
        let checked: Vec<bool> = candidates.iter().map(|c| question.pushing.contains(c)).collect();
        let chosen = dialoguer::MultiSelect::new()
            .with_prompt("Which services push to the Pushgateway? (space toggles, enter confirms)")
            .items(&items)
            .defaults(&checked)
            .interact_on(&console::Term::stderr())
            .map_err(prompt_failed)?;
        Ok(chosen
            .into_iter()
            .filter_map(|i| candidates.get(i).map(|c| c.service.clone()))
            .collect())
    }

    fn path(&mut self, question: &PathQuestion) -> Result<Option<String>, Diagnostic> {
        if !self.interactive {
            // As `plan` does: init is never stricter than plan. An optional setting nobody can
            // answer stays unset (and is said so below); a required one is the error.
            return crate::stack::discover::NeverAsk.path(question);
        }
        let answer: String = dialoguer::Input::new()
            .with_prompt(&question.prompt)
            .allow_empty(!question.required)
            .interact_text_on(&console::Term::stderr())
            .map_err(prompt_failed)?;
        let answer = answer.trim().to_string();
        Ok((!answer.is_empty()).then_some(answer))
    }
}
