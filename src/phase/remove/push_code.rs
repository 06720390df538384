//! `remove --remove-push-code`: the apps' push logic goes too, as a diff of their own code.
//! Without the flag `remove` keeps it (a fallback while the gateway is still reachable
//! elsewhere) and lists it for a person; with it, each JavaScript (prom-client) or Python
//! (prometheus_client) file that pushes loses the push calls, the client built for them,
//! their timer, and the settings, requires and imported names nothing else reads any more —
//! only where that is certain ([`dead`]); elsewhere a `todo` names the file and line. Why
//! this is part of `remove` and not a phase of its own: `docs/expose.md`.

mod dead;
mod outline;

use std::collections::BTreeSet;

use crate::changeset::{Finding, Location, Severity};
use crate::stack::Stack;
use crate::stack::app_code;
use crate::stack::source::{RelPath, SourceFile};
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
            let calls = app_code::push_calls(file.text());
            let Some(first) = calls.first() else { continue };
            let Some(lang) = Lang::of(file.path.as_str()) else {
                outcome.findings.push(
                    Finding::new(
                        "push-code-kept",
                        Severity::Todo,
                        format!(
                            "{} pushes from {}: --remove-push-code edits JavaScript (prom-client) and Python (prometheus_client) only",
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
                                "push-mentions-left",
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
                            "push-code-kept",
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
