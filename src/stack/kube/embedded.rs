//! Dashboards and rule groups held inside manifests, as files of their own.
//!
//! A sidecar ConfigMap holds a dashboard's JSON in a block scalar; a PrometheusRule holds rule
//! groups under `spec`, exactly as a rule file holds them at its root. Each becomes a view: a
//! [`SourceFile`] at a path no file has (`manifests/dashboards.yaml#ConfigMap/api/api.json`),
//! whose text is the decoded JSON or the `spec` block as written. The shared planners read and
//! rewrite views as they do files; [`write_back`] puts the new text back where it came from, every
//! other byte of the manifest as it was. See `docs/kubernetes.md` ("How manifests are edited").

use std::collections::BTreeMap;
use std::ops::Range;

use yaml_serde::Value;

use super::model::KubeStack;
pub use super::model::{Carrier, Embedded, What};
use super::objects::{Object, Read};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, ScalarStyle, ScalarTextEdit, YamlDoc, YamlError};
use crate::stack::source::{RelPath, SourceFile, line_col};

/// Label the Grafana chart's sidecar loads dashboards by (any value).
pub const SIDECAR_LABEL: &str = "grafana_dashboard";

/// Every dashboard and rule group set inside the stack's manifests. What cannot be edited in
/// the repository (a Secret's base64 `data`, a `GrafanaDashboard` by `url`, `grafanaCom`,
/// `jsonnet` or `gzipJson`) is reported in `notes`.
pub fn find(kube: &KubeStack, notes: &mut Vec<Finding>) -> Result<Vec<Embedded>, Diagnostic> {
    let mut out = Vec::new();
    for (index, object) in kube.objects.iter().enumerate() {
        let manifest = &kube.manifests[object.manifest];
        let part = &manifest.stream.docs()[object.doc];
        let at = |offset: usize| Location::at(&manifest.file, part.range.start + offset);
        let sidecar = object.labels().iter().any(|(k, _)| k == SIDECAR_LABEL);
        match object.kind.as_str() {
            "ConfigMap" | "Secret" if sidecar => {
                for key in ["data", "stringData"] {
                    let Some(map) = object.value.get(key).and_then(Value::as_mapping) else {
                        continue;
                    };
                    for (name, _) in map {
                        let Some(name) = name.as_str().filter(|n| n.ends_with(".json")) else {
                            continue;
                        };
                        if object.kind == "Secret" && key == "data" {
                            notes.push(cannot_edit(object, &format!("its `data.{name}` is base64")));
                            continue;
                        }
                        let route = Route::root().key(key).key(name);
                        out.push(scalar_view(kube, index, What::Dashboard, route, name)?);
                    }
                }
            }
            "ConfigMap" => {
                // A rule file inside a ConfigMap (the plain prometheus chart's `alerting_rules.yml`).
                let Some(map) = object.value.get("data").and_then(Value::as_mapping) else {
                    continue;
                };
                for (name, value) in map {
                    let (Some(name), Some(text)) = (name.as_str(), value.as_str()) else {
                        continue;
                    };
                    let holds_rules = (name.ends_with(".yml") || name.ends_with(".yaml"))
                        && yaml_serde::from_str::<Value>(text)
                            .ok()
                            .and_then(|v| v.get("groups").cloned())
                            .is_some_and(|g| g.is_sequence());
                    if holds_rules {
                        let route = Route::root().key("data").key(name);
                        out.push(scalar_view(kube, index, What::RuleGroups, route, name)?);
                    }
                }
            }
            "PrometheusRule" => {
                let Some(value) = part.doc.root().and_then(|root| root.get("spec")).and_then(|e| e.value) else {
                    continue;
                };
                let value_range = value.range();
                let text = part.doc.text();
                if value.is_flow() || text[..value_range.start].rfind('\n').is_none() {
                    notes.push(
                        cannot_edit(object, "its `spec` is not a block mapping on lines of its own")
                            .at(at(value_range.start)),
                    );
                    continue;
                }
                let start = text[..value_range.start].rfind('\n').map_or(0, |i| i + 1);
                let end = text[value_range.end..]
                    .find('\n')
                    .map_or(text.len(), |i| value_range.end + i + 1);
                // Named as a rule file: the dual-run one is then `pullover-dual-run.yml`, which the
                // dashboards phase leaves alone as on Compose.
                let path = view_path(&manifest.file.path, object, &format!("{}.yml", object.name))?;
                let view = SourceFile::from_text(path, &text[start..end], manifest.file.mode);
                let (first_line, _) = line_col(manifest.file.text(), part.range.start + start);
                out.push(Embedded {
                    what: What::RuleGroups,
                    object: index,
                    carrier: Carrier::Slice { range: start..end },
                    view,
                    first_line,
                    indent: 0,
                });
            }
            "GrafanaDashboard" => {
                let spec = object.value.get("spec");
                if spec.and_then(|s| s.get("json")).and_then(Value::as_str).is_some() {
                    let route = Route::root().key("spec").key("json");
                    out.push(scalar_view(kube, index, What::Dashboard, route, "json")?);
                } else if let Some(source) = ["gzipJson", "url", "grafanaCom", "jsonnet", "oci"]
                    .into_iter()
                    .find(|key| spec.and_then(|s| s.get(*key)).is_some())
                {
                    notes.push(cannot_edit(
                        object,
                        &format!("its dashboard comes from `spec.{source}`"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The dashboards and rule groups inside one manifest's text, as views (empty for a file that
/// is not a manifest, or does not read): the live checks pair the queries of a manifest as it
/// was before and after the `dashboards` phase, view by view.
pub fn views_of(path: &RelPath, text: &str) -> Vec<SourceFile> {
    let file = SourceFile::from_text(path.clone(), text.to_string(), 0o644);
    let Ok(Read::Manifest(manifest, heads)) = super::objects::read(file) else {
        return Vec::new();
    };
    let mut kube = KubeStack::default();
    kube.manifests.push(manifest);
    kube.objects = heads
        .into_iter()
        .map(|head| Object {
            manifest: 0,
            doc: head.doc,
            api_version: head.api_version,
            kind: head.kind,
            name: head.name,
            namespace_written: head.namespace.is_some(),
            namespace: head.namespace,
            value: head.value,
        })
        .collect();
    find(&kube, &mut Vec::new())
        .map(|views| views.into_iter().map(|e| e.view).collect())
        .unwrap_or_default()
}

fn cannot_edit(object: &Object, why: &str) -> Finding {
    Finding::new(
        FindingId::KubeDashboardNotEditable,
        Severity::Todo,
        format!(
            "{}: {why}, which pullover cannot edit in the repository; its queries are not rewritten",
            object.display()
        ),
    )
    .tip("rewrite its queries where its source lives, as the dashboards phase does for the others")
}

fn view_path(path: &RelPath, object: &Object, key: &str) -> Result<RelPath, Diagnostic> {
    RelPath::new(format!("{}#{}/{}/{key}", path, object.kind, object.name)).map_err(Diagnostic::error)
}

fn scalar_view(kube: &KubeStack, index: usize, what: What, route: Route, key: &str) -> Result<Embedded, Diagnostic> {
    let object = &kube.objects[index];
    let manifest = &kube.manifests[object.manifest];
    let part = &manifest.stream.docs()[object.doc];
    let path = view_path(&manifest.file.path, object, key)?;
    let (style, text) = part.doc.scalar_text(&route).ok_or_else(|| {
        Diagnostic::error(format!(
            "{}: {} `{key}` is not a string pullover can read exactly",
            manifest.file.path,
            object.display()
        ))
        .help("write it as a literal block (`|`); nothing was written")
    })?;
    let node_start = part
        .doc
        .find(&route)
        .map_or(0, |node| node.range().start + part.range.start);
    // A block's content starts on the line after its header and is indented by its first line.
    let (header_line, header_column) = line_col(manifest.file.text(), node_start);
    let (first_line, indent) = match style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let after_header = manifest.file.text()[node_start..]
                .find('\n')
                .map_or(manifest.file.text().len(), |i| node_start + i + 1);
            let indent = manifest.file.text()[after_header..]
                .chars()
                .take_while(|c| *c == ' ')
                .count();
            (header_line + 1, indent)
        }
        _ => (header_line, header_column),
    };
    Ok(Embedded {
        what,
        object: index,
        carrier: Carrier::Scalar { route },
        view: SourceFile::from_text(path, text, manifest.file.mode),
        first_line,
        indent,
    })
}

/// A location in a view, as a location in its manifest.
pub fn locate(kube: &KubeStack, location: &Location) -> Option<Location> {
    let view = kube.embedded.iter().find(|e| e.view.path == location.path)?;
    let manifest = &kube.manifests[kube.objects[view.object].manifest];
    Some(Location {
        path: manifest.file.path.clone(),
        line: view.first_line + location.line.saturating_sub(1),
        column: location.column + view.indent,
        context: location.context.clone(),
    })
}

/// The manifests' new text once the views at the given paths have the given new text: each
/// view's edits land where it came from (line by line inside a scalar, so a block keeps its
/// indentation and every unchanged line byte for byte). Returns `(manifest index, new text)`.
pub fn write_back(kube: &KubeStack, rewritten: &[(RelPath, String)]) -> Result<Vec<(usize, String)>, Diagnostic> {
    // manifest → doc → (scalar edits, slice replacement)
    type DocEdits = (Vec<ScalarTextEdit>, Option<(Range<usize>, String)>);
    let mut by_manifest: BTreeMap<usize, BTreeMap<usize, DocEdits>> = BTreeMap::new();
    for (path, text) in rewritten {
        let view = kube
            .embedded
            .iter()
            .find(|e| &e.view.path == path)
            .ok_or_else(|| Diagnostic::error(format!("{path} was rewritten but is no view of a manifest")))?;
        let object = &kube.objects[view.object];
        let slot = by_manifest
            .entry(object.manifest)
            .or_default()
            .entry(object.doc)
            .or_default();
        match &view.carrier {
            Carrier::Scalar { route } => slot.0.push(ScalarTextEdit {
                route: route.clone(),
                edits: line_edits(view.view.text(), text),
            }),
            Carrier::Slice { range } => slot.1 = Some((range.clone(), text.clone())),
        }
    }
    let mut out = Vec::new();
    for (manifest_index, docs) in by_manifest {
        let manifest = &kube.manifests[manifest_index];
        let mut replaced = Vec::new();
        for (doc_index, (scalar_edits, slice)) in docs {
            let part = &manifest.stream.docs()[doc_index];
            let located = |e: YamlError| {
                let shifted = match e {
                    YamlError::Unsupported { route, reason, offset } => YamlError::Unsupported {
                        route,
                        reason,
                        offset: offset.map(|o| o + part.range.start),
                    },
                    other => other,
                };
                shifted.to_diagnostic(&manifest.file)
            };
            let mut text = if scalar_edits.is_empty() {
                part.doc.text().to_string()
            } else {
                part.doc.edit_scalar_text(&scalar_edits).map_err(located)?
            };
            if let Some((range, new)) = slice {
                if !scalar_edits.is_empty() {
                    return Err(Diagnostic::error(format!(
                        "{}: one document edited two ways (a bug in pullover); nothing was written",
                        manifest.file.path
                    )));
                }
                text = format!("{}{new}{}", &text[..range.start], &text[range.end..]);
                YamlDoc::parse(&text).map_err(located)?;
            }
            replaced.push((doc_index, text));
        }
        let new_text = manifest
            .stream
            .replace_docs(&replaced)
            .map_err(|e| e.to_diagnostic(&manifest.file))?;
        out.push((manifest_index, new_text));
    }
    Ok(out)
}

/// The edits that turn `old` into `new`, as small as the lines allow: where a line changed into
/// one other line, only the bytes between their common start and end.
pub fn line_edits(old: &str, new: &str) -> Vec<(Range<usize>, String)> {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines);
    let offset_of = |line: usize| old_lines[..line].iter().map(|l| l.len()).sum::<usize>();
    let mut edits = Vec::new();
    for op in diff {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        if old_range.len() == new_range.len() {
            for (o, n) in old_range.clone().zip(new_range.clone()) {
                let (a, b) = (old_lines[o], new_lines[n]);
                let prefix = common_prefix(a, b);
                let suffix = common_suffix(&a[prefix..], &b[prefix..]);
                let start = offset_of(o) + prefix;
                edits.push((
                    start..offset_of(o) + a.len() - suffix,
                    b[prefix..b.len() - suffix].to_string(),
                ));
            }
        } else {
            let start = offset_of(old_range.start);
            let end = offset_of(old_range.end);
            edits.push((start..end, new_lines[new_range].concat()));
        }
    }
    // Whole lines changed at the very end go before the final line break, not after it: a block
    // scalar's final break belongs to the block, and text after it would be the next key's.
    for (range, text) in &mut edits {
        let at_end = range.end == old.len() && old.ends_with('\n');
        let from_line_start = range.start > 0 && old.as_bytes()[range.start - 1] == b'\n';
        if at_end && from_line_start && (text.is_empty() || text.ends_with('\n')) {
            *range = range.start - 1..range.end - 1;
            if !text.is_empty() {
                text.pop();
                text.insert(0, '\n');
            }
        }
    }
    edits
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

fn common_suffix(a: &str, b: &str) -> usize {
    let mut n = 0;
    for (x, y) in a.chars().rev().zip(b.chars().rev()) {
        if x != y {
            break;
        }
        n += x.len_utf8();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_edits_touch_only_what_changed() {
        let old = "{\n  \"expr\": \"up{job=\\\"a\\\"}\"\n}\n";
        let new = "{\n  \"expr\": \"up{job=\\\"bb\\\"}\"\n}\n";
        let edits = line_edits(old, new);
        assert_eq!(edits.len(), 1);
        let (range, text) = &edits[0];
        assert_eq!(&old[range.clone()], "a");
        assert_eq!(text, "bb");
    }

    #[test]
    fn lines_added_or_removed_at_the_end_stay_before_the_final_break() {
        assert_eq!(line_edits("a\nb\n", "a\nb\nc\n"), vec![(3..3, "\nc".to_string())]);
        assert_eq!(line_edits("a\nb\nc\n", "a\n"), vec![(1..5, String::new())]);
    }

    #[test]
    fn lines_added_or_removed_are_whole_lines() {
        let edits = line_edits("a\nb\nc\n", "a\nx\ny\nc\n");
        assert_eq!(edits, vec![(2..4, "x\ny\n".to_string())]);
    }
}
