//! References in the stack's other text files (docs, app code, scripts): each line that
//! mentions the gateway or pushes to it, and YAML dashboards pullover cannot rewrite.

use std::collections::BTreeSet;

use super::{Action, Area, Reference, reference};
use crate::stack::Stack;
use crate::stack::mentions::MentionScanner;
use crate::stack::source::{RelPath, SourceFile};

/// Extensions of prose: a mention there goes on the `docs` phase's checklist.
const DOC_EXTENSIONS: [&str; 4] = [".md", ".rst", ".txt", ".adoc"];

/// One reference per line of `files` that mentions the gateway; a YAML dashboard in a dashboards
/// folder is one reference of its own, its lines not searched.
pub(super) fn references(stack: &Stack, files: &[SourceFile], scanner: &MentionScanner, out: &mut Vec<Reference>) {
    let docs: BTreeSet<&RelPath> = stack.docs.iter().map(|f| &f.path).collect();
    let dashboard_dirs: Vec<&str> = stack
        .evidence
        .iter()
        .filter(|e| e.setting == "dashboards")
        .map(|e| e.value.as_str())
        .collect();
    for file in files {
        let rel = &file.path;
        let name = rel.file_name().to_ascii_lowercase();
        let in_dashboards = dashboard_dirs
            .iter()
            .any(|dir| rel.as_str().starts_with(&format!("{dir}/")));
        if in_dashboards && (name.ends_with(".yaml") || name.ends_with(".yml")) && looks_like_dashboard(file.text()) {
            out.push(reference(
                file,
                0,
                Area::Dashboards,
                "yaml-dashboard",
                Action::Review,
                "a dashboard in YAML: pullover rewrites JSON dashboards only; check its queries by hand".to_string(),
            ));
            continue;
        }
        let is_doc = docs.contains(rel) || DOC_EXTENSIONS.iter().any(|ext| name.ends_with(ext));
        let (area, kind, action, what) = if is_doc {
            (
                Area::Docs,
                "doc-mention",
                Action::Checklist,
                "the docs mention the Pushgateway",
            )
        } else {
            (
                Area::Code,
                "code-mention",
                Action::Review,
                "pushes to or configures the Pushgateway",
            )
        };
        let mut offset = 0;
        for line in file.text().split_inclusive('\n') {
            if let Some(at) = scanner.first_in_line(line) {
                out.push(reference(file, offset + at, area, kind, action, what.to_string()));
            }
            offset += line.len();
        }
    }
}

fn looks_like_dashboard(text: &str) -> bool {
    text.contains("kind: Dashboard") || text.lines().any(|l| l.trim_start().starts_with("panels:"))
}
