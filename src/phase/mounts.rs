//! The container's view of the files pullover writes. A file written beside prometheus.yml on
//! the host is in the Prometheus container only when a bind mount reaches it: Compose files
//! often mount `prometheus.yml` alone, or each rule file and dashboard on its own. `dual-run`
//! writes where a mounted folder reaches, or adds a mount for its file to the service (and
//! `remove` takes it out again).

use yaml_serde::{Mapping, Value};

use crate::edit::yaml::{ItemMatch, Route, YamlEdit, scalar_string};
use crate::stack::compose::{Compose, Service};
use crate::stack::discover::stack_path_of_source;
use crate::stack::source::RelPath;

/// Where `service` sees the stack file `rel`: through the bind mount whose source is the
/// longest folder (or the file itself) holding it.
pub fn container_path(compose: &Compose, service: &Service, rel: &RelPath) -> Option<String> {
    let compose_dir = compose.file.path.parent();
    service
        .volumes
        .iter()
        .filter(|m| m.bind)
        .filter_map(|m| {
            let source = stack_path_of_source(compose_dir, m.source.as_deref()?)?;
            let rest = if &source == rel {
                ""
            } else if source.as_str().is_empty() {
                rel.as_str()
            } else {
                rel.as_str().strip_prefix(source.as_str())?.strip_prefix('/')?
            };
            let target = m.target.trim_end_matches('/');
            let path = if rest.is_empty() {
                target.to_string()
            } else {
                format!("{target}/{rest}")
            };
            Some((source.as_str().len(), path))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, path)| path)
}

/// `dir` (a container folder) joined with a relative path, `.` and `..` resolved.
pub fn container_join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return normalize(rel);
    }
    normalize(&format!("{dir}/{rel}"))
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The folder part of a container path.
pub fn container_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A mount pullover adds, and how it reads in the Compose file.
pub struct AddedMount {
    pub edit: YamlEdit,
    /// `./prometheus/pullover-dual-run.yml:/etc/prometheus/pullover-dual-run.yml:ro`
    pub shown: String,
}

/// The edit that bind-mounts the stack file `rel` at `target` (read-only) into `service`, in
/// the syntax its `volumes` already use (short strings, or long mappings). `None` when the file
/// is not under the Compose file's folder.
pub fn add_mount(compose: &Compose, service: &Service, rel: &RelPath, target: &str) -> Option<AddedMount> {
    let compose_dir = compose.file.path.parent();
    let source = if compose_dir.is_empty() {
        rel.as_str()
    } else {
        rel.as_str().strip_prefix(compose_dir)?.strip_prefix('/')?
    };
    let source = format!("./{source}");
    let service_route = Route::root().key("services").key(service.name.as_str());
    let volumes = compose
        .doc
        .value()
        .get("services")
        .and_then(|s| s.get(service.name.as_str()))
        .and_then(|s| s.get("volumes"));
    let long = volumes
        .and_then(Value::as_sequence)
        .is_some_and(|items| items.iter().any(Value::is_mapping));
    let shown = format!("{source}:{target}:ro");
    let value = if long {
        let mut mount = Mapping::new();
        mount.insert("type".into(), "bind".into());
        mount.insert("source".into(), Value::String(source));
        mount.insert("target".into(), Value::String(target.to_string()));
        mount.insert("read_only".into(), Value::Bool(true));
        Value::Mapping(mount)
    } else {
        Value::String(shown.clone())
    };
    let edit = match volumes {
        Some(Value::Sequence(_)) => YamlEdit::Append {
            route: service_route.key("volumes"),
            value,
            comment: None,
        },
        Some(_) => return None,
        None => YamlEdit::InsertKey {
            route: service_route,
            key: "volumes".into(),
            value: Value::Sequence(vec![value]),
            comment: None,
        },
    };
    Some(AddedMount { edit, shown })
}

/// Removals of every bind mount, in any service, whose source is a file named one of `names`
/// (the mounts `dual-run` added for its own files).
pub fn remove_mounts(compose: &Compose, names: &[&str]) -> Vec<YamlEdit> {
    let mut edits = Vec::new();
    let Some(services) = compose.doc.value().get("services").and_then(Value::as_mapping) else {
        return edits;
    };
    for (name, service) in services {
        let Some(name) = scalar_string(name) else { continue };
        let Some(items) = service.get("volumes").and_then(Value::as_sequence) else {
            continue;
        };
        let ours = |source: &str| {
            let file = source.rsplit('/').next().unwrap_or(source);
            names.contains(&file)
        };
        let route = Route::root().key("services").key(name.as_str()).key("volumes");
        for item in items {
            match item {
                Value::String(short) if ours(short.split(':').next().unwrap_or("")) => edits.push(YamlEdit::Remove {
                    route: route.clone().item(ItemMatch::Scalar(short.clone())),
                }),
                Value::Mapping(_) => {
                    let (Some(source), Some(target)) = (
                        item.get("source").and_then(scalar_string),
                        item.get("target").and_then(scalar_string),
                    ) else {
                        continue;
                    };
                    if ours(&source) {
                        edits.push(YamlEdit::Remove {
                            route: route.clone().item(ItemMatch::Field {
                                key: "target".into(),
                                value: target,
                            }),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stack::compose::compose_yaml as compose;

    #[test]
    fn container_paths_through_folder_and_file_mounts() {
        let c = compose(
            "services:\n  prometheus:\n    volumes:\n      - ./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro\n      - type: bind\n        source: ./prometheus/rules\n        target: /etc/prometheus/rules\n",
        );
        let p = &c.services[0];
        let at = |rel: &str| container_path(&c, p, &RelPath::new(rel).unwrap());
        assert_eq!(
            at("prometheus/prometheus.yml").as_deref(),
            Some("/etc/prometheus/prometheus.yml")
        );
        assert_eq!(
            at("prometheus/rules/a.yml").as_deref(),
            Some("/etc/prometheus/rules/a.yml")
        );
        assert_eq!(at("prometheus/pullover-dual-run.yml"), None);
        assert_eq!(
            container_join("/etc/prometheus", "./rules/../x.yml"),
            "/etc/prometheus/x.yml"
        );
    }
}
