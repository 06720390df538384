//! `remove` on Kubernetes: what the move leaves unused.
//!
//! - Always: the dual-run manifest, and each moved pusher's env var (or single `--flag=URL`
//!   argument) naming the gateway. An argument split over two items (`--pushgateway`, `HOST`)
//!   is reported, never half removed.
//! - Only when no batch job (CronJob, Job) still pushes: the gateway's workload, its Service,
//!   the ServiceMonitor scraping it and the PersistentVolumeClaims only it mounts; a file left
//!   with no document is deleted and dropped from its kustomization's `resources`; a Kustomize
//!   patch targeting a removed object is removed too (kustomize ignores it silently otherwise),
//!   with its file when nothing else uses it.
//!
//! See `docs/kubernetes.md` ("What each phase does").

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value;

use super::dual_run::FILE_NAME as DUAL_RUN_FILE;
use crate::changeset::{ChangeSet, Finding, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route, YamlEdit};
use crate::phase::PhaseId;
use crate::stack::kube::{KubeStack, ScrapePath};
use crate::stack::source::RelPath;

pub fn plan(kube: &KubeStack) -> Result<ChangeSet, Diagnostic> {
    let Some(gateway) = &kube.gateway else {
        return Err(super::no_gateway(PhaseId::Remove));
    };
    let mut builder = ChangeSet::builder();
    // Objects to remove: (manifest, doc).
    let mut removed: BTreeSet<(usize, usize)> = BTreeSet::new();
    // Edits inside documents that stay: manifest → doc → edits.
    let mut edits: BTreeMap<usize, BTreeMap<usize, Vec<YamlEdit>>> = BTreeMap::new();

    for object in &kube.objects {
        if object.name.starts_with("pullover-dual-run")
            && kube.manifests[object.manifest].file.path.file_name() == DUAL_RUN_FILE
        {
            removed.insert((object.manifest, object.doc));
        }
    }
    let batch: Vec<String> = kube
        .pushers
        .iter()
        .map(|p| &kube.objects[p.object])
        .filter(|o| !o.is_long_running())
        .map(|o| o.display())
        .collect();
    for pusher in &kube.pushers {
        let object = &kube.objects[pusher.object];
        if !object.is_long_running() {
            continue;
        }
        let Some(container) = object
            .containers()
            .into_iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(pusher.container.as_str()))
        else {
            continue;
        };
        let container_route = Route::root()
            .key("spec")
            .key("template")
            .key("spec")
            .key("containers")
            .item(ItemMatch::Field {
                key: "name".into(),
                value: pusher.container.clone(),
            });
        let mentioned: Vec<&str> = pusher.mentions.iter().map(|(_, text)| text.as_str()).collect();
        for item in container.get("env").and_then(Value::as_sequence).into_iter().flatten() {
            let (Some(name), Some(value)) = (
                item.get("name").and_then(Value::as_str),
                item.get("value").and_then(crate::edit::yaml::scalar_string),
            ) else {
                continue;
            };
            if mentioned.contains(&value.as_str()) {
                edits
                    .entry(object.manifest)
                    .or_default()
                    .entry(object.doc)
                    .or_default()
                    .push(YamlEdit::Remove {
                        route: container_route.clone().key("env").item(ItemMatch::Field {
                            key: "name".into(),
                            value: name.to_string(),
                        }),
                    });
            }
        }
        for key in ["args", "command"] {
            for arg in crate::stack::kube::objects::strings(container.get(key)) {
                if !mentioned.contains(&arg.as_str()) {
                    continue;
                }
                if arg.starts_with('-') && arg.contains('=') {
                    edits
                        .entry(object.manifest)
                        .or_default()
                        .entry(object.doc)
                        .or_default()
                        .push(YamlEdit::Remove {
                            route: container_route.clone().key(key).item(ItemMatch::Scalar(arg.clone())),
                        });
                } else {
                    builder = builder.finding(
                        Finding::new(
                            "kube-pusher-arg-left",
                            Severity::Todo,
                            format!(
                                "{}: the `{key}` item `{arg}` names the gateway, and the flag before it goes with it: remove both by hand",
                                object.display()
                            ),
                        )
                        .at(pusher.mentions[0].0.clone()),
                    );
                }
            }
        }
        builder = builder.finding(Finding::new(
            "kube-push-code-left",
            Severity::Todo,
            format!(
                "{}: its code still pushes (now to no gateway): remove the push, as the `docs` checklist says on Compose",
                object.display()
            ),
        ));
    }

    if batch.is_empty() {
        let mut gateway_objects: Vec<usize> = gateway.workload.into_iter().chain(gateway.service).collect();
        if let ScrapePath::ServiceMonitor(monitor) = gateway.scrape {
            gateway_objects.push(monitor);
        }
        if let Some(workload) = gateway.workload {
            let claims: Vec<String> = kube.objects[workload]
                .pod_template()
                .and_then(|t| t.get("spec")?.get("volumes")?.as_sequence().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| {
                    v.get("persistentVolumeClaim")?
                        .get("claimName")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect();
            for (index, object) in kube.objects.iter().enumerate() {
                if object.kind == "PersistentVolumeClaim" && claims.contains(&object.name) {
                    gateway_objects.push(index);
                }
            }
        }
        for index in gateway_objects {
            removed.insert((kube.objects[index].manifest, kube.objects[index].doc));
        }
    } else {
        builder = builder.finding(Finding::new(
            "kube-gateway-stays",
            Severity::Info,
            format!(
                "the gateway stays: {} still push{} to it, as batch jobs should",
                batch.join(", "),
                if batch.len() == 1 { "es" } else { "" }
            ),
        ));
    }

    // Manifests: documents removed, edits inside the others; a file left empty is deleted.
    let mut deleted: Vec<RelPath> = Vec::new();
    let touched: BTreeSet<usize> = removed.iter().map(|(m, _)| *m).chain(edits.keys().copied()).collect();
    for manifest_index in touched {
        let manifest = &kube.manifests[manifest_index];
        let objects_in_file: BTreeSet<usize> = kube
            .objects
            .iter()
            .filter(|o| o.manifest == manifest_index)
            .map(|o| o.doc)
            .collect();
        let removed_here: BTreeSet<usize> = removed
            .iter()
            .filter(|(m, _)| *m == manifest_index)
            .map(|(_, d)| *d)
            .collect();
        if !objects_in_file.is_empty() && objects_in_file.is_subset(&removed_here) {
            builder = builder.delete(&manifest.file, "nothing in it is needed any more");
            deleted.push(manifest.file.path.clone());
            continue;
        }
        let mut replaced: Vec<(usize, String)> = removed_here.iter().map(|d| (*d, String::new())).collect();
        for (doc, doc_edits) in edits.get(&manifest_index).into_iter().flatten() {
            if removed_here.contains(doc) {
                continue;
            }
            let text = manifest.stream.docs()[*doc]
                .doc
                .edit(doc_edits)
                .map_err(|e| e.to_diagnostic(&manifest.file))?;
            replaced.push((*doc, text));
        }
        let after = manifest
            .stream
            .replace_docs(&replaced)
            .map_err(|e| e.to_diagnostic(&manifest.file))?;
        builder = builder.modify(&manifest.file, after, "remove what only the Pushgateway needed");
    }

    // Kustomizations: resources naming a deleted file, patches targeting a removed object.
    let removed_objects: Vec<(String, String)> = kube
        .objects
        .iter()
        .filter(|o| removed.contains(&(o.manifest, o.doc)))
        .map(|o| (o.kind.clone(), o.name.clone()))
        .collect();
    let mut patch_files: Vec<RelPath> = Vec::new();
    for k in &kube.kustomizations {
        let mut k_edits = Vec::new();
        for resource in k.resources() {
            if RelPath::join_relative(k.folder(), &resource).is_ok_and(|p| deleted.contains(&p)) {
                k_edits.push(YamlEdit::Remove {
                    route: Route::root().key("resources").item(ItemMatch::Scalar(resource)),
                });
            }
        }
        let patches = k
            .doc
            .value()
            .get("patches")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for patch in &patches {
            let target = patch.get("target");
            let kind = target.and_then(|t| t.get("kind")).and_then(Value::as_str);
            let name = target.and_then(|t| t.get("name")).and_then(Value::as_str);
            let hits = removed_objects
                .iter()
                .any(|(k2, n)| Some(n.as_str()) == name && kind.is_none_or(|kind| kind == k2));
            let Some(path) = patch.get("path").and_then(Value::as_str).filter(|_| hits) else {
                continue;
            };
            k_edits.push(YamlEdit::Remove {
                route: Route::root().key("patches").item(ItemMatch::Field {
                    key: "path".into(),
                    value: path.to_string(),
                }),
            });
            if let Ok(rel) = RelPath::join_relative(k.folder(), path) {
                patch_files.push(rel);
            }
        }
        if !k_edits.is_empty() {
            let after = k.doc.edit(&k_edits).map_err(|e| e.to_diagnostic(&k.file))?;
            builder = builder.modify(&k.file, after, "drop what targets the removed objects");
        }
    }
    for path in patch_files {
        if let Some(manifest) = kube.manifests.iter().find(|m| m.file.path == path)
            && !deleted.contains(&path)
        {
            builder = builder.delete(&manifest.file, "a patch of a removed object");
        }
    }
    builder.build().map_err(|e| Diagnostic::error(e.to_string()))
}
