//! Phase 3, `dashboards`: the queries that select pushed series, in Grafana dashboards and
//! Prometheus rule files, are rewritten to select their directly scraped twins.
//!
//! - The label sets follow the stack's real `honor_labels` and are learnt (see `learn.rs`) from
//!   `pullover.yaml`, the queries themselves and what live servers report
//!   ([`Stack::observed_pushes`], filled by the command when a URL is given).
//! - Each query is rewritten by [`crate::promql::rewrite_query`] at token spans, wholly or not at
//!   all; each file by [`crate::dashboard::rewrite_scanned_strings`] (JSON) or
//!   [`crate::edit::yaml::YamlDoc::edit_scalar_text`] (rule files), which change only the edited
//!   bytes and verify the result. A file where anything fails stays as it is and is reported.
//! - What cannot move (`push_time_seconds`, the gateway's own metrics, queries that add up both
//!   sources during dual-run, library panels, link URLs, queries that do not parse) is reported
//!   with dashboard, row, panel or rule, never silently changed.
//! - The dual-run comparison artefacts compare old and new series on purpose and are skipped.

mod findings;
mod learn;
mod plan_file;
mod read;
mod survey;
#[cfg(test)]
mod tests;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, Finding, Severity};
use crate::diagnostic::Diagnostic;
use crate::stack::Stack;
use crate::stack::source::SourceFile;

use plan_file::{Against, Rewrites, plan_source};
use read::{read_dashboard, read_rules};
use survey::Keep;
pub use survey::{PlannedQuery, QueryAction, QueryPlace, RewrittenFile, Survey};

#[cfg(test)]
use findings::label_values_parts;

// The comparison artefacts the `dual-run` phase writes read pushed and scraped series side by
// side on purpose.
use super::dual_run::{DASHBOARD_FILE_NAME as DUAL_RUN_DASHBOARD, RULE_FILE_NAME as DUAL_RUN_RULES};

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    super::gateway_of(stack, super::PhaseId::Dashboards)?;
    // The per-query record is for `analyze`; the plan needs the files and findings, moved.
    let Survey { findings, files, .. } = survey_with(stack, Keep::FilesAndFindings)?;
    let mut builder = ChangeSet::builder().findings(findings);
    for file in files {
        let Some(source) = stack.file(&file.path) else {
            return Err(Diagnostic::error(format!(
                "{} was planned but is not part of the stack",
                file.path
            )));
        };
        builder = builder.modify(source, file.text, file.because);
    }
    Ok(builder.build()?)
}

/// Reads every dashboard and rule file of the stack and works out what the phase does with each
/// query. A dashboard or rule file that cannot be read is an error with its file:line:col.
pub fn survey(stack: &Stack) -> Result<Survey, Diagnostic> {
    survey_with(stack, Keep::Everything)
}

fn survey_with(stack: &Stack, keep: Keep) -> Result<Survey, Diagnostic> {
    let Some(gateway) = &stack.settings.gateway else {
        return Ok(Survey {
            findings: vec![Finding::new(
                FindingId::NoPushgateway,
                Severity::Info,
                "no Pushgateway found in this stack: no query to rewrite",
            )],
            ..Survey::default()
        });
    };
    let mut skipped = Vec::new();
    let mut dashboard_files = Vec::new();
    for dashboard in &stack.dashboards {
        if dashboard.file.path.file_name() == DUAL_RUN_DASHBOARD {
            skipped.push(dual_run_skipped(&dashboard.file));
        } else {
            dashboard_files.push(dashboard);
        }
    }
    let mut rules = Vec::new();
    for file in &stack.rule_files {
        if file.path.file_name() == DUAL_RUN_RULES {
            skipped.push(dual_run_skipped(file));
            continue;
        }
        rules.push(read_rules(file)?);
    }

    let learn::Learnt {
        mapping,
        findings: learnt,
        waiting,
    } = learn::series_mapping(stack, gateway);

    let mut survey = Survey {
        findings: learnt,
        ..Survey::default()
    };
    survey.findings.extend(skipped);
    let against = Against {
        mapping: &mapping,
        waiting: &waiting,
        dialect: &stack.prometheus_dialect,
        gateway,
    };
    // Each dashboard is read and planned on its own, on every core, and the parts joined in file
    // order (the first error, in file order, stops the plan). A dashboard's query sites live only
    // while it is planned: a big stack's would not fit the memory budget all at once.
    let parts = crate::parallel::parts_in_parallel(dashboard_files, |dashboards| {
        let mut part = Survey::default();
        let mut rewrites = Rewrites::default();
        for dashboard in dashboards {
            if let Some(source) = read_dashboard(dashboard)? {
                plan_source(&source, None, against, keep, &mut rewrites, &mut part);
            }
        }
        Ok::<_, Diagnostic>(part)
    });
    let parts = parts.into_iter().collect::<Result<Vec<Survey>, Diagnostic>>()?;
    // Sized once: tens of thousands of findings, grown by doubling, would briefly be held twice.
    survey.files.reserve(parts.iter().map(|p| p.files.len()).sum());
    survey.findings.reserve(parts.iter().map(|p| p.findings.len()).sum());
    survey.queries.reserve(parts.iter().map(|p| p.queries.len()).sum());
    for part in parts {
        survey.files.extend(part.files);
        survey.findings.extend(part.findings);
        survey.queries.extend(part.queries);
    }
    for (source, doc) in &rules {
        plan_source(source, Some(doc), against, keep, &mut Rewrites::default(), &mut survey);
    }
    survey.mapping = Some(mapping);
    Ok(survey)
}

fn dual_run_skipped(file: &SourceFile) -> Finding {
    Finding::new(
        FindingId::DualRunArtefactSkipped,
        Severity::Info,
        format!(
            "{} compares pushed and scraped series on purpose; its queries stay as they are (the `remove` phase deletes it)",
            file.path
        ),
    )
}
