//! Discovery: from the Compose file and prometheus.yml, work out the settings a
//! person did not pin. Each decision records why, so `init` can show it and a
//! failure can name the flag or key that settles it.

use crate::diagnostic::Diagnostic;
use crate::stack::compose::{COMPOSE_FILE_NAMES, Compose, Mount, Service};
use crate::stack::read::StackDir;
use crate::stack::settings::{Overrides, SettingsFile};
use crate::stack::source::RelPath;

/// One discovered setting and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    pub setting: String,
    pub value: String,
    pub because: String,
}

pub(crate) fn evidence(setting: &str, value: impl Into<String>, because: impl Into<String>) -> Evidence {
    Evidence {
        setting: setting.to_string(),
        value: value.into(),
        because: because.into(),
    }
}

pub fn find_compose_file(dir: &StackDir, settings: &SettingsFile) -> Result<Option<(RelPath, Evidence)>, Diagnostic> {
    if let Some(path) = &settings.compose_file {
        let rel = RelPath::new(path.clone()).map_err(|e| Diagnostic::error(format!("compose_file: {e}")))?;
        return Ok(Some((
            rel,
            evidence("compose_file", path.clone(), "set in pullover.yaml"),
        )));
    }
    Ok(COMPOSE_FILE_NAMES.iter().find_map(|name| {
        let rel = RelPath::new(*name).ok()?;
        dir.is_file(&rel).then(|| {
            (
                rel,
                evidence(
                    "compose_file",
                    *name,
                    "the first Compose file name found in the stack root",
                ),
            )
        })
    }))
}

fn is_pushgateway_image(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split(['@', ':']).next().unwrap_or(name);
    name == "pushgateway" || name == "prometheus-pushgateway"
}

pub fn find_gateway(
    compose: Option<&Compose>,
    settings: &SettingsFile,
    overrides: &Overrides,
) -> Result<Option<(String, Evidence)>, Diagnostic> {
    if let Some(name) = &overrides.gateway {
        return Ok(Some((
            name.clone(),
            evidence("gateway.service", name.clone(), "--gateway"),
        )));
    }
    if let Some(name) = settings.gateway.as_ref().and_then(|g| g.service.clone()) {
        return Ok(Some((
            name.clone(),
            evidence("gateway.service", name, "set in pullover.yaml"),
        )));
    }
    let Some(compose) = compose else { return Ok(None) };
    let by_image: Vec<&Service> = compose
        .services
        .iter()
        .filter(|s| s.image.as_deref().is_some_and(is_pushgateway_image))
        .collect();
    match by_image.as_slice() {
        [one] => {
            let image = one.image.clone().unwrap_or_default();
            return Ok(Some((
                one.name.clone(),
                evidence("gateway.service", one.name.clone(), format!("runs image {image}")),
            )));
        }
        [] => {}
        many => {
            let names: Vec<&str> = many.iter().map(|s| s.name.as_str()).collect();
            return Err(
                Diagnostic::error(format!("several services run Pushgateway: {}", names.join(", ")))
                    .help("pick the one to migrate with --gateway SERVICE or `gateway: {service: …}` in pullover.yaml"),
            );
        }
    }
    Ok(["pushgateway", "prometheus-pushgateway"].iter().find_map(|name| {
        compose.service(name).map(|s| {
            (
                s.name.clone(),
                evidence("gateway.service", s.name.clone(), "a service with that name"),
            )
        })
    }))
}

/// Host paths for a container path, through a service's bind mounts.
pub fn host_path_for(compose_dir: &str, mounts: &[Mount], container_path: &str) -> Option<RelPath> {
    let best = mounts
        .iter()
        .filter(|m| m.bind)
        .filter_map(|m| {
            let target = m.target.trim_end_matches('/');
            let rest = container_path.strip_prefix(target)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((m, rest))
        })
        .max_by_key(|(m, _)| m.target.len())?;
    let (mount, rest) = best;
    let source = mount.source.as_deref()?;
    let source = source.strip_prefix("./").unwrap_or(source);
    if source.starts_with('/') || source.starts_with('~') || source.starts_with('$') {
        return None;
    }
    RelPath::join_relative(compose_dir, &format!("{source}{rest}")).ok()
}

pub fn is_prometheus_service(s: &Service) -> bool {
    let image_is = s.image.as_deref().is_some_and(|i| {
        let name = i.rsplit('/').next().unwrap_or(i);
        let name = name.split(['@', ':']).next().unwrap_or(name);
        name == "prometheus"
    });
    image_is || s.name == "prometheus"
}

pub fn find_prometheus_config(
    dir: &StackDir,
    compose: Option<&Compose>,
    settings: &SettingsFile,
    overrides: &Overrides,
) -> Result<(RelPath, Evidence), Diagnostic> {
    let pinned = overrides
        .prometheus_config
        .clone()
        .map(|p| (p, "--prometheus-config"))
        .or_else(|| settings.prometheus_config.clone().map(|p| (p, "set in pullover.yaml")));
    if let Some((path, why)) = pinned {
        let rel = RelPath::new(path.clone()).map_err(|e| Diagnostic::error(format!("prometheus_config: {e}")))?;
        return Ok((rel, evidence("prometheus_config", path, why)));
    }
    if let Some(compose) = compose {
        let compose_dir = compose.file.path.parent().to_string();
        for service in compose.services.iter().filter(|s| is_prometheus_service(s)) {
            let in_container = service
                .command
                .iter()
                .find_map(|arg| arg.strip_prefix("--config.file="))
                .unwrap_or("/etc/prometheus/prometheus.yml");
            if let Some(rel) = host_path_for(&compose_dir, &service.volumes, in_container)
                && dir.is_file(&rel)
            {
                let why = format!("bind-mounted into service {} at {in_container}", service.name);
                return Ok((rel.clone(), evidence("prometheus_config", rel.to_string(), why)));
            }
        }
    }
    for candidate in ["prometheus.yml", "prometheus/prometheus.yml", "config/prometheus.yml"] {
        if let Ok(rel) = RelPath::new(candidate)
            && dir.is_file(&rel)
        {
            return Ok((rel, evidence("prometheus_config", candidate, "found at a usual place")));
        }
    }
    Err(Diagnostic::error("cannot find prometheus.yml").help(
        "pass --prometheus-config PATH, or set `prometheus_config:` in pullover.yaml (pullover looks for the file bind-mounted into the prometheus service)",
    ))
}

/// Services that push: their environment or command names the gateway.
pub fn find_pushing_services<'c>(compose: &'c Compose, gateway: &str, dir: &StackDir) -> Vec<(&'c Service, String)> {
    let needles = [format!("{gateway}:"), format!("//{gateway}"), format!("={gateway}")];
    compose
        .services
        .iter()
        .filter(|s| s.name != gateway)
        .filter_map(|s| {
            if let Some((key, _)) = s.environment.iter().find(|(_, v)| {
                v.as_deref()
                    .is_some_and(|v| needles.iter().any(|n| v.contains(n.as_str())) || v == gateway)
            }) {
                return Some((s, format!("its environment {key} points at {gateway}")));
            }
            if s.command.iter().any(|c| needles.iter().any(|n| c.contains(n.as_str()))) {
                return Some((s, format!("its command points at {gateway}")));
            }
            let compose_dir = compose.file.path.parent();
            s.env_files.iter().find_map(|env_file| {
                let rel = RelPath::join_relative(compose_dir, env_file).ok()?;
                let file = dir.read(&rel).ok()??;
                let hit = file
                    .text()
                    .lines()
                    .find(|l| needles.iter().any(|n| l.contains(n.as_str())))?;
                let key = hit.split('=').next().unwrap_or(hit).trim().to_string();
                Some((s, format!("its env_file {rel} sets {key} to {gateway}")))
            })
        })
        .collect()
}

/// Folders of dashboards Grafana provisions: the provider `options.path`
/// mapped back through grafana's bind mounts.
pub fn find_dashboard_dirs(dir: &StackDir, compose: Option<&Compose>) -> Vec<(RelPath, Evidence)> {
    let mut found = Vec::new();
    if let Some(compose) = compose {
        let compose_dir = compose.file.path.parent().to_string();
        for grafana in compose
            .services
            .iter()
            .filter(|s| s.name.contains("grafana") || s.image.as_deref().is_some_and(|i| i.contains("grafana")))
        {
            let providers = host_path_for(&compose_dir, &grafana.volumes, "/etc/grafana/provisioning/dashboards");
            let provider_files = providers
                .map(|p| dir.files_under(&p, &[".yml", ".yaml"]))
                .unwrap_or_default();
            for provider in provider_files {
                let Ok(Some(file)) = dir.read(&provider) else { continue };
                let Ok(value) = yaml_serde::from_str::<yaml_serde::Value>(file.text()) else {
                    continue;
                };
                let paths = value
                    .get("providers")
                    .and_then(|p| p.as_sequence())
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("options")?.get("path")?.as_str().map(str::to_string));
                for container_path in paths {
                    if let Some(host) = host_path_for(&compose_dir, &grafana.volumes, &container_path)
                        && dir.is_dir(&host)
                        && !found.iter().any(|(p, _)| p == &host)
                    {
                        let why = format!(
                            "provisioned by {provider} (path {container_path} in service {})",
                            grafana.name
                        );
                        found.push((host.clone(), evidence("dashboards", host.to_string(), why)));
                    }
                }
            }
        }
    }
    if found.is_empty() {
        for candidate in ["grafana/dashboards", "dashboards"] {
            if let Ok(rel) = RelPath::new(candidate)
                && dir.is_dir(&rel)
            {
                found.push((
                    rel,
                    evidence("dashboards", candidate, "a dashboards folder at a usual place"),
                ));
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_map_back_through_the_longest_bind_mount() {
        let mounts = vec![
            Mount {
                source: Some("./prometheus".into()),
                target: "/etc/prometheus".into(),
                bind: true,
            },
            Mount {
                source: Some("./rules".into()),
                target: "/etc/prometheus/rules/".into(),
                bind: true,
            },
            Mount {
                source: Some("data".into()),
                target: "/prometheus".into(),
                bind: false,
            },
        ];
        assert_eq!(
            host_path_for("", &mounts, "/etc/prometheus/prometheus.yml")
                .unwrap()
                .as_str(),
            "prometheus/prometheus.yml"
        );
        assert_eq!(
            host_path_for("deploy", &mounts, "/etc/prometheus/rules/a.yml")
                .unwrap()
                .as_str(),
            "deploy/rules/a.yml"
        );
        assert!(host_path_for("", &mounts, "/prometheus/x").is_none());
        assert!(host_path_for("", &mounts, "/etc/prometheusx/y").is_none());
    }

    #[test]
    fn pushgateway_images_from_any_registry() {
        assert!(is_pushgateway_image("prom/pushgateway"));
        assert!(is_pushgateway_image("quay.io/prometheus/pushgateway:v1.9.0"));
        assert!(is_pushgateway_image("bitnami/pushgateway@sha256:abc"));
        assert!(!is_pushgateway_image("prom/prometheus:v2.42.0"));
    }
}
