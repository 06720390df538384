//! References in dashboards and rule files: the queries the `dashboards` phase surveys.

use super::{Action, Area, Reference};
use crate::changeset::Finding;
use crate::changeset::finding_id::FindingId;
use crate::changeset::redact::mask_text;
use crate::phase::dashboards::{self, QueryAction, Survey};

/// Each query the `dashboards` phase rewrites or reports, and the dashboard findings that have a
/// place of their own (library panels, skipped queries, files left as they are).
pub(super) fn references(survey: &Survey, out: &mut Vec<Reference>, findings: &mut Vec<Finding>) {
    for query in survey.queries.iter().filter(|q| q.action != QueryAction::Leave) {
        let location = &query.location;
        let area = match query.place {
            dashboards::QueryPlace::AlertRule | dashboards::QueryPlace::RecordingRule => Area::Rules,
            _ => Area::Dashboards,
        };
        out.push(Reference {
            path: location.path.clone(),
            line: location.line,
            column: location.column,
            area,
            kind: "query",
            action: match query.action {
                QueryAction::Rewrite => Action::Rewrite,
                _ => Action::Report,
            },
            what: if query.repeats {
                let other = match query.place {
                    dashboards::QueryPlace::VariableDefinition => "query",
                    _ => "definition",
                };
                format!("{} (same as its {other}, reported there)", query.place.label())
            } else {
                query.place.label().to_string()
            },
            context: location.context.clone(),
            text: mask_text(&query.query),
            rewritten: query.rewritten.as_deref().map(mask_text),
            findings: if query.repeats {
                Vec::new()
            } else {
                query.findings.clone()
            },
        });
    }
    let query_findings: Vec<&Finding> = survey.queries.iter().flat_map(|q| &q.findings).collect();
    for finding in survey.findings.iter().filter(|f| !query_findings.contains(f)) {
        match (finding.id, &finding.location) {
            (FindingId::LibraryPanel | FindingId::QuerySkipped | FindingId::FileNotRewritten, Some(location)) => out
                .push(Reference {
                    path: location.path.clone(),
                    line: location.line,
                    column: location.column,
                    area: Area::Dashboards,
                    kind: finding.id.as_str(),
                    action: Action::Review,
                    what: match finding.id {
                        FindingId::LibraryPanel => "library panel".to_string(),
                        FindingId::QuerySkipped => "query not read as PromQL".to_string(),
                        _ => "file left unchanged".to_string(),
                    },
                    context: location.context.clone(),
                    text: finding.message.clone(),
                    rewritten: None,
                    findings: vec![finding.clone()],
                }),
            _ => findings.push(finding.clone()),
        }
    }
}
