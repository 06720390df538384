//! References in the stack's YAML configuration: the Compose file and prometheus.yml, read
//! scalar by scalar with the key path to each.

use super::{Action, Area, Reference, reference};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Severity};
use crate::edit::yaml::{ItemMatch, Node, NodeKind, Route, YamlDoc};
use crate::stack::compose::Compose;
use crate::stack::mentions::MentionScanner;
use crate::stack::{Gateway, Stack};

/// The gateway's service in the Compose file, what depends on it, links to it or names it, and
/// its named volumes (a hazard when another service mounts one).
pub(super) fn compose_references(
    compose: &Compose,
    gateway: &Gateway,
    scanner: &MentionScanner,
    out: &mut Vec<Reference>,
    findings: &mut Vec<Finding>,
) {
    let file = &compose.file;
    let service = gateway.service.as_deref();
    // The gateway's named volumes, and who else mounts them.
    let volumes: Vec<String> = service
        .and_then(|s| compose.service(s))
        .map(|s| {
            s.volumes
                .iter()
                .filter(|m| !m.bind)
                .filter_map(|m| m.source.clone())
                .collect()
        })
        .unwrap_or_default();
    for volume in &volumes {
        let users: Vec<&str> = compose
            .services
            .iter()
            .filter(|s| Some(s.name.as_str()) != service)
            .filter(|s| s.volumes.iter().any(|m| !m.bind && m.source.as_deref() == Some(volume)))
            .map(|s| s.name.as_str())
            .collect();
        if !users.is_empty() {
            findings.push(
                Finding::new(
                    FindingId::SharedVolume,
                    Severity::Hazard,
                    format!(
                        "the Pushgateway's volume `{volume}` is also mounted by {}; removing the gateway must keep it",
                        users.join(", ")
                    ),
                )
                .tip("check what that service does with it (a backup of the gateway's data can go once the gateway does)"),
            );
        }
    }
    let names_volume = |text: &str| volumes.iter().any(|v| text == v || text.starts_with(&format!("{v}:")));
    for scalar in all_scalars(&compose.doc) {
        let path: Vec<&str> = scalar.path.iter().map(String::as_str).collect();
        let in_gateway = matches!(path.as_slice(), ["services", s, ..] if Some(*s) == service);
        if in_gateway {
            if let (["services", name], true) = (path.as_slice(), scalar.is_key) {
                let image = compose
                    .service(name)
                    .and_then(|s| s.image.clone())
                    .map(|i| format!(" (image {i})"))
                    .unwrap_or_default();
                out.push(reference(
                    file,
                    scalar.offset,
                    Area::Compose,
                    "gateway-service",
                    Action::Remove,
                    format!("the Pushgateway service `{name}`{image}"),
                ));
            }
            continue;
        }
        let volume_hit = names_volume(&scalar.text);
        if !(scanner.names_gateway(&scalar.text) || volume_hit) {
            continue;
        }
        let (kind, action, what) = match path.as_slice() {
            ["services", name, "depends_on", ..] => {
                ("depends-on", Action::Remove, format!("{name} depends on the gateway"))
            }
            ["services", name, "links", ..] => ("link", Action::Remove, format!("{name} links to the gateway")),
            ["services", name, "environment", ..] => (
                "env",
                Action::Remove,
                format!("{name}'s environment points at the gateway (the app may still read it)"),
            ),
            ["services", name, "volumes", ..] if volume_hit => {
                ("volume", Action::Review, format!("{name} mounts the gateway's volume"))
            }
            ["services", name, "command" | "entrypoint", ..] => {
                ("command", Action::Review, format!("{name}'s command names the gateway"))
            }
            ["volumes", name] if volume_hit => {
                ("volume", Action::Remove, format!("the gateway's named volume `{name}`"))
            }
            _ => (
                "mention",
                Action::Review,
                format!("`{}` names the gateway", scalar.path.join(".")),
            ),
        };
        out.push(reference(file, scalar.offset, Area::Compose, kind, action, what));
    }
}

/// The scrape job of the gateway, its `honor_labels`, and any other value of prometheus.yml
/// naming the gateway.
pub(super) fn prometheus_references(
    stack: &Stack,
    gateway: &Gateway,
    scanner: &MentionScanner,
    out: &mut Vec<Reference>,
) {
    let prom = &stack.prometheus;
    let file = &prom.file;
    if let Some(job) = gateway.job.as_deref().and_then(|j| prom.job(j)) {
        out.push(reference(
            file,
            job.offset,
            Area::Prometheus,
            "scrape-job",
            Action::Remove,
            format!("the scrape job `{}` that scrapes the Pushgateway", job.name),
        ));
        let route = Route::root().key("scrape_configs").item(ItemMatch::Field {
            key: "job_name".into(),
            value: job.name.clone(),
        });
        let honor = prom
            .doc
            .find(&route)
            .and_then(|node| node.get("honor_labels"))
            .map(|entry| entry.key_range.start);
        let what = if gateway.honor_labels {
            "honor_labels: true — pushed series keep the job and instance they were pushed with".to_string()
        } else {
            "honor_labels: false — pushed series carry job and instance of the gateway, their own in exported_job and exported_instance".to_string()
        };
        match honor {
            Some(offset) => out.push(reference(
                file,
                offset,
                Area::Prometheus,
                "honor-labels",
                Action::Leave,
                what,
            )),
            None => out.push(reference(
                file,
                job.offset,
                Area::Prometheus,
                "honor-labels",
                Action::Leave,
                what,
            )),
        }
    }
    for scalar in all_scalars(&prom.doc) {
        // The gateway job itself is listed above.
        let in_job = scalar.path.first().is_some_and(|p| p == "scrape_configs")
            && gateway.job.as_deref().is_some_and(|job| {
                prom.doc
                    .value()
                    .get("scrape_configs")
                    .and_then(|jobs| jobs.as_sequence())
                    .and_then(|jobs| {
                        let index: usize = scalar.path.get(1)?.trim_matches(['[', ']']).parse().ok()?;
                        jobs.get(index)
                    })
                    .and_then(|j| j.get("job_name"))
                    .and_then(|n| n.as_str())
                    == Some(job)
            });
        if in_job || !scanner.names_gateway(&scalar.text) {
            continue;
        }
        out.push(reference(
            file,
            scalar.offset,
            Area::Prometheus,
            "mention",
            Action::Review,
            format!("`{}` names the gateway", scalar.path.join(".")),
        ));
    }
}

/// A scalar key or value of a YAML file, with the key path to it.
struct Scalar {
    path: Vec<String>,
    offset: usize,
    text: String,
    is_key: bool,
}

fn scalars(node: &Node, path: &mut Vec<String>, out: &mut Vec<Scalar>) {
    match node.kind() {
        NodeKind::Mapping => {
            for entry in node.entries() {
                path.push(entry.key.clone());
                out.push(Scalar {
                    path: path.clone(),
                    offset: entry.key_range.start,
                    text: entry.key.clone(),
                    is_key: true,
                });
                if let Some(value) = &entry.value {
                    scalars(value, path, out);
                }
                path.pop();
            }
        }
        NodeKind::Sequence => {
            for (index, item) in node.items().iter().enumerate() {
                path.push(format!("[{index}]"));
                if let Some(value) = &item.value {
                    scalars(value, path, out);
                }
                path.pop();
            }
        }
        NodeKind::Scalar => {
            if let Some(text) = node.scalar() {
                out.push(Scalar {
                    path: path.clone(),
                    offset: node.range().start,
                    text,
                    is_key: false,
                });
            }
        }
        _ => {}
    }
}

fn all_scalars(doc: &YamlDoc) -> Vec<Scalar> {
    let mut out = Vec::new();
    if let Some(root) = doc.root() {
        scalars(root, &mut Vec::new(), &mut out);
    }
    out
}
