//! `remove` on Kubernetes: what the move leaves unused.
//!
//! - Always: the dual-run manifest. The moved pushers' push settings (env vars naming the
//!   gateway or read only by the push, arguments naming it) stay and are reported: their code is
//!   not in the folder (`phase::remove::push_setting_kept`, the rule Compose follows too).
//! - Only when no batch job (CronJob, Job) still pushes: the gateway's workload, its Service,
//!   the ServiceMonitor scraping it and the PersistentVolumeClaims only it mounts; a file left
//!   with no document is deleted and dropped from its kustomization's `resources`; a Kustomize
//!   patch targeting a removed object is removed too (kustomize ignores it silently otherwise),
//!   with its file when nothing else uses it.
//!
//! See `docs/kubernetes.md` ("What each phase does").

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value;

use super::config_jobs::{JobList, PROMETHEUS_YML, job_route, object_holder, server_files};
use super::dual_run::{CHART_RULE_FILES, FILE_NAME as DUAL_RUN_FILE, GROUP, RULE_FILE, RULES_MAP};
use super::in_place::Edits;
use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, ChangeSetBuilder, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route, YamlEdit};
use crate::phase::remove::{is_push_setting, push_setting_kept};
use crate::stack::kube::objects::{Chart, Kustomization};
use crate::stack::kube::{KubeGateway, KubeStack, Pusher, ScrapePath, selects};

/// The prometheus chart's key for its Pushgateway subchart.
const PUSHGATEWAY_CHART: &str = "prometheus-pushgateway";
use crate::stack::source::RelPath;

/// What `remove` takes out of the manifests, gathered before any file is written.
#[derive(Default)]
struct Removal {
    /// Whole objects: (manifest, doc).
    objects: BTreeSet<(usize, usize)>,
    /// Edits inside documents that stay: manifest → doc → edits.
    edits: BTreeMap<usize, BTreeMap<usize, Vec<YamlEdit>>>,
    /// Where Prometheus is configured by its own config: the dual-run rules and the gateway's job.
    config: Edits,
}

/// Whether the gateway goes: only when no batch job (CronJob, Job) still pushes to it.
enum GatewayFate {
    Goes,
    /// Stays for these batch pushers.
    Stays(Vec<String>),
}

fn gateway_fate(kube: &KubeStack) -> GatewayFate {
    let batch: Vec<String> = kube
        .pushers
        .iter()
        .map(|p| &kube.objects[p.object])
        .filter(|o| !o.is_long_running())
        .map(|o| o.display())
        .collect();
    if batch.is_empty() {
        GatewayFate::Goes
    } else {
        GatewayFate::Stays(batch)
    }
}

pub fn plan(kube: &KubeStack, gateway: &KubeGateway) -> Result<ChangeSet, Diagnostic> {
    let mut builder = ChangeSet::builder();
    let mut removal = Removal::default();
    for object in &kube.objects {
        if object.name.starts_with("pullover-dual-run")
            && kube.manifests[object.manifest].file.path.file_name() == DUAL_RUN_FILE
        {
            removal.objects.insert((object.manifest, object.doc));
        }
    }
    // The apps' push settings stay: their code is not in this folder (the rule Compose
    // follows where it cannot see an app's code, `phase::remove::push_setting_kept`).
    for pusher in &kube.pushers {
        if kube.objects[pusher.object].is_long_running() {
            builder = builder.findings(push_settings_kept(kube, pusher));
        }
    }
    remove_dual_run_rules(kube, &gateway.scrape, &mut removal.config)?;
    match gateway_fate(kube) {
        GatewayFate::Goes => builder = remove_gateway(kube, gateway, &mut removal, builder)?,
        GatewayFate::Stays(batch) => {
            builder = builder.finding(Finding::new(
                FindingId::KubeGatewayStays,
                Severity::Info,
                format!(
                    "the gateway stays: {} still push{} to it, as batch jobs should",
                    batch.join(", "),
                    if batch.len() == 1 { "es" } else { "" }
                ),
            ));
        }
    }
    let (mut builder, deleted) = write_manifests(kube, &removal, builder)?;
    builder = removal.config.values_into(kube, builder);
    builder = update_kustomizations(kube, &removal.objects, &deleted, builder)?;
    Ok(builder.build()?)
}

/// What a long-running pusher keeps and a person must take out with its push code: the env
/// vars and the `args`/`command` naming the gateway, and the push itself.
fn push_settings_kept(kube: &KubeStack, pusher: &Pusher) -> Vec<Finding> {
    let object = &kube.objects[pusher.object];
    let Some(container) = object
        .containers()
        .into_iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(pusher.container.as_str()))
    else {
        return Vec::new();
    };
    let manifest = &kube.manifests[object.manifest];
    let part = &manifest.stream.docs()[object.doc];
    let mentioned: Vec<&str> = pusher.mentions.iter().map(|(_, text)| text.as_str()).collect();
    let why = "its code is not in this folder of manifests to check";
    let mut findings = Vec::new();
    for item in container.get("env").and_then(Value::as_sequence).into_iter().flatten() {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = item.get("value").and_then(crate::edit::yaml::scalar_string);
        if value.is_some_and(|v| mentioned.contains(&v.as_str())) || is_push_setting(name) {
            let offset = manifest.file.text()[part.range.clone()]
                .find(&format!("name: {name}"))
                .map_or(part.range.start, |at| part.range.start + at);
            findings.push(
                push_setting_kept(&object.display(), &format!("`{name}`"), why)
                    .tip("remove it in the same deploy as the app's push code")
                    .at(Location::at(&manifest.file, offset)),
            );
        }
    }
    for key in ["args", "command"] {
        let named: Vec<String> = crate::stack::kube::objects::strings(container.get(key))
            .into_iter()
            .filter(|a| mentioned.contains(&a.as_str()))
            .collect();
        if let Some(arg) = named.first() {
            let at = pusher
                .mentions
                .iter()
                .find(|(_, text)| text == arg)
                .map(|(location, _)| location.clone());
            let finding = Finding::new(
                FindingId::CommandPointsAtGateway,
                Severity::Todo,
                format!(
                    "kept the `{key}` of {} naming the gateway (`{arg}`): {why}; an app that no longer knows the flag, or needs it, stops starting",
                    object.display()
                ),
            )
            .tip("remove the flag (and its value) in the same deploy as the app's push code");
            findings.push(match at {
                Some(at) => finding.at(at),
                None => finding,
            });
        }
    }
    findings.push(Finding::new(
        FindingId::KubePushCodeLeft,
        Severity::Todo,
        format!(
            "{}: its code still pushes (now to no gateway): remove the push, as the `docs` checklist says on Compose",
            object.display()
        ),
    ));
    findings
}

/// The gateway goes: its job in Prometheus' own config, its chart, its objects (workload,
/// Service, monitor, the claims only it mounts) and what only routes traffic to it.
fn remove_gateway(
    kube: &KubeStack,
    gateway: &KubeGateway,
    removal: &mut Removal,
    mut builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
    if let Some(list) = JobList::of(kube, &gateway.scrape) {
        list.edit(
            kube,
            &mut removal.config,
            |route| {
                vec![YamlEdit::Remove {
                    route: job_route(&route, &gateway.job),
                }]
            },
            "stop scraping the Pushgateway",
        )?;
    }
    builder = turn_off_chart(
        kube,
        gateway.workload.is_some(),
        builder,
        &mut removal.config,
        &mut removal.objects,
    )?;
    for index in gateway_objects(kube, gateway) {
        removal
            .objects
            .insert((kube.objects[index].manifest, kube.objects[index].doc));
    }
    // What only lets traffic reach the gateway: NetworkPolicies and Ingress routes.
    for object in &kube.objects {
        let route_edits = match object.kind.as_str() {
            "NetworkPolicy" => network_policy(kube, gateway, object, &mut builder),
            "Ingress" => ingress_routes(gateway, object),
            _ => continue,
        };
        match route_edits {
            Some(Gone::Whole) => {
                removal.objects.insert((object.manifest, object.doc));
            }
            Some(Gone::Parts(parts)) if !parts.is_empty() => removal
                .edits
                .entry(object.manifest)
                .or_default()
                .entry(object.doc)
                .or_default()
                .extend(parts),
            _ => {}
        }
    }
    Ok(builder)
}

/// The gateway's own objects: its workload, Service and monitor, and the PersistentVolumeClaims
/// its pods mount.
fn gateway_objects(kube: &KubeStack, gateway: &KubeGateway) -> Vec<usize> {
    let mut objects: Vec<usize> = gateway.workload.into_iter().chain(gateway.service).collect();
    if let ScrapePath::ServiceMonitor(monitor) | ScrapePath::PodMonitor(monitor) = gateway.scrape {
        objects.push(monitor);
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
                objects.push(index);
            }
        }
    }
    objects
}

/// What becomes of a manifest the removal touches.
enum ManifestFate {
    /// Every object in it goes: the file goes.
    Deleted,
    /// Its documents with new text (empty for one removed).
    Rewritten(Vec<(usize, String)>),
}

fn manifest_fate(kube: &KubeStack, manifest_index: usize, removal: &Removal) -> Result<ManifestFate, Diagnostic> {
    let manifest = &kube.manifests[manifest_index];
    let objects_in_file: BTreeSet<usize> = kube
        .objects
        .iter()
        .filter(|o| o.manifest == manifest_index)
        .map(|o| o.doc)
        .collect();
    let removed_here: BTreeSet<usize> = removal
        .objects
        .iter()
        .filter(|(m, _)| *m == manifest_index)
        .map(|(_, d)| *d)
        .collect();
    if !objects_in_file.is_empty() && objects_in_file.is_subset(&removed_here) {
        return Ok(ManifestFate::Deleted);
    }
    let edits = removal.edits.get(&manifest_index);
    let mut replaced: Vec<(usize, String)> = removed_here.iter().map(|d| (*d, String::new())).collect();
    for (doc, text) in removal.config.manifest_docs(manifest_index) {
        if removed_here.contains(&doc) {
            continue;
        }
        if edits.is_some_and(|docs| docs.contains_key(&doc)) {
            return Err(Diagnostic::error(format!(
                "{}: one document edited two ways (a bug in pullover); nothing was written",
                manifest.file.path
            )));
        }
        replaced.push((doc, text));
    }
    for (doc, doc_edits) in edits.into_iter().flatten() {
        if removed_here.contains(doc) {
            continue;
        }
        let text = manifest.stream.docs()[*doc]
            .doc
            .edit(doc_edits)
            .map_err(|e| e.to_diagnostic(&manifest.file))?;
        replaced.push((*doc, text));
    }
    Ok(ManifestFate::Rewritten(replaced))
}

/// Every manifest the removal touches, deleted or rewritten; returns the deleted files' paths.
fn write_manifests(
    kube: &KubeStack,
    removal: &Removal,
    mut builder: ChangeSetBuilder,
) -> Result<(ChangeSetBuilder, Vec<RelPath>), Diagnostic> {
    let mut deleted: Vec<RelPath> = Vec::new();
    let touched: BTreeSet<usize> = removal
        .objects
        .iter()
        .map(|(m, _)| *m)
        .chain(removal.edits.keys().copied())
        .chain((0..kube.manifests.len()).filter(|m| removal.config.touches_manifest(*m)))
        .collect();
    for manifest_index in touched {
        let manifest = &kube.manifests[manifest_index];
        match manifest_fate(kube, manifest_index, removal)? {
            ManifestFate::Deleted => {
                builder = builder.delete(&manifest.file, "nothing in it is needed any more");
                deleted.push(manifest.file.path.clone());
            }
            ManifestFate::Rewritten(replaced) => {
                let after = manifest
                    .stream
                    .replace_docs(&replaced)
                    .map_err(|e| e.to_diagnostic(&manifest.file))?;
                builder = builder.modify(&manifest.file, after, "remove what only the Pushgateway needed");
            }
        }
    }
    Ok((builder, deleted))
}

/// Kustomizations: resources naming a deleted file, patches targeting a removed object (and
/// the patch's file, when nothing else deleted it).
fn update_kustomizations(
    kube: &KubeStack,
    removed: &BTreeSet<(usize, usize)>,
    deleted: &[RelPath],
    mut builder: ChangeSetBuilder,
) -> Result<ChangeSetBuilder, Diagnostic> {
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
        for path in patches_of_removed(k, &removed_objects) {
            k_edits.push(YamlEdit::Remove {
                route: Route::root().key("patches").item(ItemMatch::Field {
                    key: "path".into(),
                    value: path.clone(),
                }),
            });
            if let Ok(rel) = RelPath::join_relative(k.folder(), &path) {
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
    Ok(builder)
}

/// The `path` of each patch of the kustomization targeting one of `removed` (kind, name); a
/// target naming no kind matches any.
fn patches_of_removed(k: &Kustomization, removed: &[(String, String)]) -> Vec<String> {
    let patches = k
        .doc
        .value()
        .get("patches")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    patches
        .iter()
        .filter_map(|patch| {
            let target = patch.get("target");
            let kind = target.and_then(|t| t.get("kind")).and_then(Value::as_str);
            let name = target.and_then(|t| t.get("name")).and_then(Value::as_str);
            let hits = removed
                .iter()
                .any(|(k2, n)| Some(n.as_str()) == name && kind.is_none_or(|kind| kind == k2));
            patch
                .get("path")
                .and_then(Value::as_str)
                .filter(|_| hits)
                .map(str::to_string)
        })
        .collect()
}

/// The dual-run rules where a shape configured by its own config keeps them: the entry of
/// `additionalPrometheusRulesMap`, or the rule file in the server's ConfigMap and its line in
/// `rule_files`.
fn remove_dual_run_rules(kube: &KubeStack, scrape: &ScrapePath, config: &mut Edits) -> Result<(), Diagnostic> {
    let because = "the dual-run comparison is over";
    match scrape {
        ScrapePath::ValuesJob { values, .. } if kube.values[*values].chart == Chart::Prometheus => {
            let held = &kube.values[*values].value;
            let file = server_files().key(RULE_FILE);
            if file.find_value(held).is_none() {
                return Ok(());
            }
            // `serverFiles` as dual-run wrote it, where the values had none: it goes whole.
            let ours = format!("/etc/config/{RULE_FILE}");
            let written_whole = server_files()
                .find_value(held)
                .and_then(Value::as_mapping)
                .is_some_and(|files| {
                    let listed = crate::stack::kube::objects::strings(
                        files.get(PROMETHEUS_YML).and_then(|c| c.get("rule_files")),
                    );
                    files.len() == 2
                        && files
                            .get(PROMETHEUS_YML)
                            .and_then(Value::as_mapping)
                            .is_some_and(|c| c.len() == 1)
                        && listed
                            .iter()
                            .map(String::as_str)
                            .eq(CHART_RULE_FILES.iter().copied().chain([ours.as_str()]))
                });
            if written_whole {
                return config.edit_values(
                    kube,
                    *values,
                    &server_files(),
                    |route| vec![YamlEdit::Remove { route }],
                    because,
                );
            }
            config.edit_values(kube, *values, &file, |route| vec![YamlEdit::Remove { route }], because)?;
            let rule_files = server_files().key(PROMETHEUS_YML).key("rule_files");
            for listed in crate::stack::kube::objects::strings(rule_files.find_value(held))
                .into_iter()
                .filter(|f| f.rsplit('/').next() == Some(RULE_FILE))
            {
                config.edit_values(
                    kube,
                    *values,
                    &rule_files,
                    |route| {
                        vec![YamlEdit::Remove {
                            route: route.item(ItemMatch::Scalar(listed.clone())),
                        }]
                    },
                    because,
                )?;
            }
        }
        ScrapePath::ValuesJob { values, .. } => {
            let route = Route::root().key(RULES_MAP).key(GROUP);
            if route.find_value(&kube.values[*values].value).is_some() {
                config.edit_values(kube, *values, &route, |route| vec![YamlEdit::Remove { route }], because)?;
            }
        }
        ScrapePath::ConfigMapJob { object, .. } => {
            let configmap = &kube.objects[*object];
            let Some(data) = configmap.value.get("data") else {
                return Ok(());
            };
            if data.get(RULE_FILE).is_none() {
                return Ok(());
            }
            let holder = object_holder(kube, *object);
            config.edit(
                kube,
                holder,
                &[YamlEdit::Remove {
                    route: Route::root().key("data").key(RULE_FILE),
                }],
                because,
            )?;
            let listed: Vec<String> = data
                .get(PROMETHEUS_YML)
                .and_then(Value::as_str)
                .and_then(|t| yaml_serde::from_str::<Value>(t).ok())
                .map(|c| crate::stack::kube::objects::strings(c.get("rule_files")))
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f.rsplit('/').next() == Some(RULE_FILE))
                .collect();
            let removals: Vec<YamlEdit> = listed
                .into_iter()
                .map(|f| YamlEdit::Remove {
                    route: Route::root().key("rule_files").item(ItemMatch::Scalar(f)),
                })
                .collect();
            config.edit_inside(
                kube,
                holder,
                &Route::root().key("data").key(PROMETHEUS_YML),
                &removals,
                because,
            )?;
        }
        // The chart's ServiceMonitor goes with the chart's release.
        ScrapePath::ServiceMonitor(_)
        | ScrapePath::PodMonitor(_)
        | ScrapePath::ChartServiceMonitor { .. }
        | ScrapePath::Unknown => {}
    }
    Ok(())
}

/// The prometheus-pushgateway chart, when the gateway is that chart's and not a workload of the
/// stack: as a subchart of the prometheus chart its `enabled` flag turns false (in a values file
/// or a release's inline values); a release of its own installed by an Argo CD Application or a
/// Flux HelmRelease of the stack goes with that object, which is how a person removes a release
/// kept in git (the controller uninstalls it when it prunes); a release installed from a values
/// file by hand has its values file deleted and uninstalling it left to a person.
fn turn_off_chart(
    kube: &KubeStack,
    gateway_in_stack: bool,
    mut builder: ChangeSetBuilder,
    config: &mut Edits,
    removed: &mut BTreeSet<(usize, usize)>,
) -> Result<ChangeSetBuilder, Diagnostic> {
    if gateway_in_stack {
        return Ok(builder);
    }
    for (index, values) in kube.values.iter().enumerate() {
        match values.chart {
            Chart::Prometheus => {
                let route = Route::root().key(PUSHGATEWAY_CHART).key("enabled");
                if route.find_value(&values.value).and_then(Value::as_bool) == Some(true) {
                    config.edit_values(
                        kube,
                        index,
                        &route,
                        |route| vec![YamlEdit::SetBool { route, value: false }],
                        "turn the Pushgateway subchart off",
                    )?;
                }
            }
            Chart::PrometheusPushgateway => match &values.release {
                Some(release) => {
                    let object = &kube.objects[release.object];
                    removed.insert((object.manifest, object.doc));
                    builder = builder.finding(release_removed(object, &release.name));
                }
                None => {
                    builder = builder
                        .delete(&values.file, "the Pushgateway chart's values: nothing pushes to it any more")
                        .finding(
                            Finding::new(
                                FindingId::KubeUninstallGatewayRelease,
                                Severity::Todo,
                                format!(
                                    "{} held the values of the prometheus-pushgateway release: deleting the file does not uninstall it",
                                    values.file.path
                                ),
                            )
                            .tip("`helm uninstall prometheus-pushgateway -n monitoring`, or delete the HelmRelease / Argo CD Application that installs it"),
                        );
                }
            },
            Chart::KubePrometheusStack => {}
        }
    }
    Ok(builder)
}

/// What deleting the release object from git does in the cluster: Flux's helm-controller
/// uninstalls a deleted HelmRelease; Argo CD deletes an Application's resources only when it
/// carries the resources finalizer, and otherwise leaves the gateway running, orphaned.
fn release_removed(object: &crate::stack::kube::objects::Object, release: &str) -> Finding {
    let cascades = object.kind != "Application"
        || crate::stack::kube::objects::strings(object.value.get("metadata").and_then(|m| m.get("finalizers")))
            .iter()
            .any(|f| f.starts_with("resources-finalizer.argocd.argoproj.io"));
    if cascades {
        Finding::new(
            FindingId::KubeGatewayReleaseRemoved,
            Severity::Info,
            format!(
                "{} installing the Pushgateway (release `{release}`) is removed: once the sync prunes it, {} uninstalls the release",
                object.display(),
                if object.kind == "Application" { "Argo CD (its resources finalizer)" } else { "Flux's helm-controller" }
            ),
        )
        .tip("pruning must be on where this file is synced (Flux Kustomization `prune: true`, Argo CD `syncPolicy.automated.prune`), or delete the object by hand")
    } else {
        Finding::new(
            FindingId::KubeGatewayReleaseOrphaned,
            Severity::Todo,
            format!(
                "{} installing the Pushgateway (release `{release}`) is removed, but it has no `resources-finalizer.argocd.argoproj.io`: Argo CD deletes the Application and leaves the gateway running",
                object.display()
            ),
        )
        .tip("add the finalizer before this change is synced, or delete the gateway's resources by hand (`kubectl delete` them, or `argocd app delete --cascade` first)")
    }
}

/// What goes of an object that routes traffic to the gateway.
enum Gone {
    Whole,
    Parts(Vec<YamlEdit>),
}

fn labels_at(value: &Value, path: &[&str]) -> Vec<(String, String)> {
    let mut at = Some(value);
    for key in path {
        at = at.and_then(|v| v.get(*key));
    }
    crate::stack::kube::objects::string_map(at)
}

/// A NetworkPolicy for the gateway's pods goes whole; in another, an egress rule whose every
/// peer is the gateway's pods goes (unless it is the last: an egress list emptied means "no
/// egress" only when `policyTypes` says so, which is for a person to check).
fn network_policy(
    kube: &KubeStack,
    gateway: &crate::stack::kube::KubeGateway,
    object: &crate::stack::kube::objects::Object,
    builder: &mut ChangeSetBuilder,
) -> Option<Gone> {
    let pods = kube.objects[gateway.workload?].pod_labels();
    let spec = object.value.get("spec")?;
    let in_gateway_namespace = object.namespace_or_default() == gateway.namespace;
    if in_gateway_namespace && selects(&labels_at(spec, &["podSelector", "matchLabels"]), &pods) {
        return Some(Gone::Whole);
    }
    let rules = spec.get("egress").and_then(Value::as_sequence)?;
    let to_gateway = |rule: &Value| {
        let peers = rule.get("to").and_then(Value::as_sequence).cloned().unwrap_or_default();
        !peers.is_empty()
            && peers.iter().all(|peer| {
                let namespace_ok = match peer.get("namespaceSelector") {
                    Some(ns) => labels_at(ns, &["matchLabels"])
                        .contains(&("kubernetes.io/metadata.name".to_string(), gateway.namespace.clone())),
                    None => in_gateway_namespace,
                };
                namespace_ok && selects(&labels_at(peer, &["podSelector", "matchLabels"]), &pods)
            })
    };
    let gone: Vec<usize> = (0..rules.len()).filter(|i| to_gateway(&rules[*i])).collect();
    if gone.is_empty() {
        return None;
    }
    if gone.len() == rules.len() {
        *builder = std::mem::take(builder).finding(Finding::new(
            FindingId::KubeNetworkPolicyLeft,
            Severity::Todo,
            format!(
                "{}: its only egress rules lead to the gateway; removing them all would change what the policy allows, so it is left for you",
                object.display()
            ),
        ));
        return None;
    }
    Some(Gone::Parts(
        gone.into_iter()
            .rev()
            .map(|i| YamlEdit::Remove {
                route: Route::root().key("spec").key("egress").item(ItemMatch::Index(i)),
            })
            .collect(),
    ))
}

/// An Ingress's paths to the gateway's Service go, a rule left with none goes with its TLS host,
/// and an Ingress left with no rule goes whole.
fn ingress_routes(
    gateway: &crate::stack::kube::KubeGateway,
    object: &crate::stack::kube::objects::Object,
) -> Option<Gone> {
    if object.namespace_or_default() != gateway.namespace {
        return None;
    }
    let spec = object.value.get("spec")?;
    let to_gateway = |backend: Option<&Value>| {
        backend
            .and_then(|b| b.get("service"))
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            == Some(gateway.service_name.as_str())
    };
    let rules = spec
        .get("rules")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let mut edits = Vec::new();
    let mut gone_rules = Vec::new();
    let mut gone_hosts = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let paths = rule
            .get("http")
            .and_then(|h| h.get("paths"))
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        let gone: Vec<usize> = (0..paths.len())
            .filter(|i| to_gateway(paths[*i].get("backend")))
            .collect();
        if gone.is_empty() {
            continue;
        }
        if gone.len() == paths.len() {
            gone_rules.push(index);
            if let Some(host) = rule.get("host").and_then(Value::as_str) {
                gone_hosts.push(host.to_string());
            }
        } else {
            for path in gone.into_iter().rev() {
                edits.push(YamlEdit::Remove {
                    route: Route::root()
                        .key("spec")
                        .key("rules")
                        .item(ItemMatch::Index(index))
                        .key("http")
                        .key("paths")
                        .item(ItemMatch::Index(path)),
                });
            }
        }
    }
    let default_elsewhere = spec.get("defaultBackend").is_some_and(|b| !to_gateway(Some(b)));
    if !rules.is_empty() && gone_rules.len() == rules.len() && !default_elsewhere {
        return Some(Gone::Whole);
    }
    for index in gone_rules.into_iter().rev() {
        edits.push(YamlEdit::Remove {
            route: Route::root().key("spec").key("rules").item(ItemMatch::Index(index)),
        });
    }
    let tls = spec
        .get("tls")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (index, entry) in tls.iter().enumerate().rev() {
        let hosts = crate::stack::kube::objects::strings(entry.get("hosts"));
        let gone: Vec<&String> = hosts.iter().filter(|h| gone_hosts.contains(h)).collect();
        if gone.is_empty() {
            continue;
        }
        let entry_route = Route::root().key("spec").key("tls").item(ItemMatch::Index(index));
        if gone.len() == hosts.len() {
            edits.push(YamlEdit::Remove { route: entry_route });
        } else {
            for host in gone {
                edits.push(YamlEdit::Remove {
                    route: entry_route.clone().key("hosts").item(ItemMatch::Scalar(host.clone())),
                });
            }
        }
    }
    Some(Gone::Parts(edits))
}
