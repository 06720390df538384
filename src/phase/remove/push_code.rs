//! `remove --remove-push-code`: the apps' push logic goes too, as a diff of their own code.
//! Without the flag `remove` keeps it (a fallback while the gateway is still reachable
//! elsewhere) and lists it for a person; with it, each JavaScript (prom-client), Python
//! (prometheus_client), Go (client_golang) or Java (simpleclient) file that pushes loses the push calls, the client built for them,
//! their timer, and the settings, requires and imported names nothing else reads any more —
//! only where that is certain ([`dead`]); elsewhere a `todo` names the file and line. Why
//! this is part of `remove` and not a phase of its own: `docs/expose.md`.

mod dead;
mod outline;

use std::collections::BTreeSet;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::edit::yaml::YamlEdit;
use crate::stack::app_code;
use crate::stack::app_code::spring::{Format, SpringConfig};
use crate::stack::source::{RelPath, SourceFile};
use crate::stack::{App, Stack};
use outline::Lang;

#[derive(Default)]
pub(super) struct Outcome {
    /// Each edited file as read, and its text without the push logic.
    pub edits: Vec<(SourceFile, String)>,
    pub findings: Vec<Finding>,
}

impl Outcome {
    /// The file as it reads after the edits (the file itself where it is not edited).
    pub fn code_after(&self, file: &SourceFile) -> SourceFile {
        self.edits.iter().find(|(f, _)| f.path == file.path).map_or_else(
            || file.clone(),
            |(f, after)| SourceFile::from_text(f.path.clone(), after.as_str(), f.mode),
        )
    }

    pub fn edited(&self) -> Vec<RelPath> {
        self.edits.iter().map(|(f, _)| f.path.clone()).collect()
    }
}

pub(super) fn plan(stack: &Stack) -> Outcome {
    let mut outcome = Outcome {
        edits: Vec::new(),
        findings: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for app in &stack.settings.apps {
        for file in stack.code_of(app) {
            if !seen.insert(file.path.clone()) {
                continue;
            }
            if let Some(config) = SpringConfig::read(file.path.as_str(), file.text())
                && config.configures_push()
            {
                switch_spring_push_off(app, file, &config, &mut outcome);
                continue;
            }
            let calls = app_code::push_calls(file.text());
            let Some(first) = calls.first() else { continue };
            let Some(lang) = Lang::of(file.path.as_str()) else {
                outcome.findings.push(
                    Finding::new(
                        FindingId::PushCodeKept,
                        Severity::Todo,
                        format!(
                            "{} pushes from {}: --remove-push-code edits JavaScript (prom-client), Python (prometheus_client), Go (client_golang) and Java (simpleclient) only",
                            app.service, file.path
                        ),
                    )
                    .tip("remove the push call, its timer and its client by hand; Prometheus scrapes /metrics now")
                    .at(Location::at(file, first.span.start)),
                );
                continue;
            };
            match dead::remove(file.text(), lang) {
                Ok(removal) => {
                    if let Some(line) = removal.mentions.first() {
                        let lines: Vec<String> = removal.mentions.iter().map(usize::to_string).collect();
                        outcome.findings.push(
                            Finding::new(
                                FindingId::PushMentionsLeft,
                                Severity::Todo,
                                format!(
                                    "after the edit, {} still speaks of pushing in comments or messages (line{} {})",
                                    file.path,
                                    if lines.len() == 1 { "" } else { "s" },
                                    lines.join(", ")
                                ),
                            )
                            .tip("reword them: the code no longer pushes (pullover does not rewrite prose)")
                            .at(Location {
                                path: file.path.clone(),
                                line: *line,
                                column: 1,
                                context: None,
                            }),
                        );
                    }
                    outcome.edits.push((file.clone(), removal.after));
                }
                Err(refusal) => {
                    outcome.findings.push(
                        Finding::new(
                            FindingId::PushCodeKept,
                            Severity::Todo,
                            format!(
                                "{}: pullover leaves the push logic of {} as it is: {}",
                                app.service, file.path, refusal.reason
                            ),
                        )
                        .tip("remove the push calls, their timer and client by hand (or keep them as a fallback)")
                        .at(Location {
                            path: file.path.clone(),
                            line: refusal.line,
                            column: 1,
                            context: None,
                        }),
                    );
                }
            }
        }
    }
    outcome
}

/// A Spring Boot app's push is Micrometer's, switched on in its config: it is switched off
/// there (`…pushgateway.enabled` set to `false`, in the file's own writing). The other
/// Pushgateway settings and the exporter dependency do nothing once it is off; they are listed,
/// not removed.
fn switch_spring_push_off(app: &App, file: &SourceFile, config: &SpringConfig, outcome: &mut Outcome) {
    let Some(enabled) = config.push_enabled() else {
        return;
    };
    let kept = |reason: String| {
        Finding::new(
            FindingId::PushCodeKept,
            Severity::Todo,
            format!(
                "{}: pullover leaves the push switched on in {}: {reason}",
                app.service, file.path
            ),
        )
        .tip(format!(
            "set `{}` to false by hand (or keep the push as a fallback)",
            enabled.key
        ))
        .at(Location::at(file, enabled.offset))
    };
    let after = match &config.format {
        Format::Yaml(doc) => doc.edit(&[YamlEdit::SetBool {
            route: enabled.route(),
            value: false,
        }]),
        Format::Properties if enabled.continued => {
            outcome
                .findings
                .push(kept("its value goes on over the next line".into()));
            return;
        }
        Format::Properties => {
            let text = file.text();
            let span = enabled.value_span.clone();
            Ok(format!("{}false{}", &text[..span.start], &text[span.end..]))
        }
    };
    match after {
        Ok(after) => {
            let left: Vec<String> = config
                .settings
                .iter()
                .filter(|s| s.key != enabled.key && s.key.to_ascii_lowercase().contains("pushgateway"))
                .map(|s| file.line_col(s.offset).0.to_string())
                .collect();
            if !left.is_empty() {
                outcome.findings.push(
                    Finding::new(
                        FindingId::PushSettingsLeft,
                        Severity::Info,
                        format!(
                            "{}'s Micrometer push is switched off; its other Pushgateway settings stay in {} (line{} {}), and so does the exporter dependency in its build",
                            app.service,
                            file.path,
                            if left.len() == 1 { "" } else { "s" },
                            left.join(", ")
                        ),
                    )
                    .tip("they do nothing while the push is off: delete them with the gateway, or keep them to switch it back on")
                    .at(Location::at(file, enabled.offset)),
                );
            }
            outcome.edits.push((file.clone(), after));
        }
        Err(e) => outcome.findings.push(kept(e.to_string())),
    }
}
