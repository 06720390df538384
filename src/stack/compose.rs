//! A typed view of a Compose file for discovery and for the `remove` phase.
//! Reading only: edits go through `edit::yaml` on the original text.

use yaml_serde::Value;

use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{YamlDoc, scalar_string};
use crate::stack::source::SourceFile;

pub const COMPOSE_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

#[derive(Debug, Clone)]
pub struct Compose {
    pub file: SourceFile,
    pub doc: YamlDoc,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, Default)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    /// The `build:` context (`build: ./api` or `build: {context: ./api}`).
    pub build: Option<String>,
    /// `KEY=value` pairs from list or map form (value `None` for a bare `KEY`).
    pub environment: Vec<(String, Option<String>)>,
    pub env_files: Vec<String>,
    pub command: Vec<String>,
    pub expose: Vec<u16>,
    /// Container ports from `ports:` (short and long syntax).
    pub container_ports: Vec<u16>,
    pub depends_on: Vec<String>,
    pub links: Vec<String>,
    pub volumes: Vec<Mount>,
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Host path (bind) or volume name (named); `None` for anonymous volumes.
    pub source: Option<String>,
    pub target: String,
    pub bind: bool,
}

impl Compose {
    pub fn parse(file: SourceFile) -> Result<Compose, Diagnostic> {
        let doc = YamlDoc::parse(file.text()).map_err(|e| e.to_diagnostic(&file))?;
        let mut value = doc.value().clone();
        // `<<: *common` merges matter for what a service is; resolve them for reading.
        value
            .apply_merge()
            .map_err(|e| Diagnostic::error(format!("{}: {e}", file.path)))?;
        let Some(services) = value.get("services").and_then(Value::as_mapping) else {
            return Err(Diagnostic::error(format!("{} has no `services:` mapping", file.path))
                .help("point pullover at the Compose file with `compose_file:` in pullover.yaml"));
        };
        let services = services
            .iter()
            .filter_map(|(name, svc)| Some(Service::from_value(scalar_string(name)?, svc)))
            .collect();
        Ok(Compose { file, doc, services })
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

impl Service {
    fn from_value(name: String, svc: &Value) -> Service {
        let strings = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::Sequence(seq)) => seq.iter().filter_map(scalar_string).collect(),
                Some(other) => scalar_string(other).into_iter().collect(),
                None => Vec::new(),
            }
        };
        let environment = match svc.get("environment") {
            Some(Value::Sequence(seq)) => seq
                .iter()
                .filter_map(scalar_string)
                .map(|entry| match entry.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (entry, None),
                })
                .collect(),
            Some(Value::Mapping(map)) => map
                .iter()
                .filter_map(|(k, v)| Some((scalar_string(k)?, scalar_string(v))))
                .collect(),
            _ => Vec::new(),
        };
        let env_files = match svc.get("env_file") {
            Some(Value::Sequence(seq)) => seq
                .iter()
                .filter_map(|v| scalar_string(v).or_else(|| v.get("path").and_then(scalar_string)))
                .collect(),
            other => strings(other),
        };
        let command = match svc.get("command") {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            other => strings(other),
        };
        let expose = strings(svc.get("expose"))
            .iter()
            .filter_map(|p| parse_port(p))
            .collect();
        let container_ports = match svc.get("ports") {
            Some(Value::Sequence(seq)) => seq
                .iter()
                .filter_map(|p| match p {
                    Value::Mapping(_) => p.get("target").and_then(scalar_string).and_then(|t| parse_port(&t)),
                    other => scalar_string(other).and_then(|s| container_port(&s)),
                })
                .collect(),
            _ => Vec::new(),
        };
        let depends_on = match svc.get("depends_on") {
            Some(Value::Mapping(map)) => map.keys().filter_map(scalar_string).collect(),
            other => strings(other),
        };
        let volumes = match svc.get("volumes") {
            Some(Value::Sequence(seq)) => seq.iter().filter_map(Mount::from_value).collect(),
            _ => Vec::new(),
        };
        let build = match svc.get("build") {
            Some(Value::Mapping(_)) => svc
                .get("build")
                .and_then(|b| b.get("context"))
                .and_then(scalar_string)
                .or_else(|| Some(".".to_string())),
            other => other.and_then(scalar_string),
        };
        Service {
            image: svc.get("image").and_then(scalar_string),
            build,
            environment,
            env_files,
            command,
            expose,
            container_ports,
            depends_on,
            links: strings(svc.get("links"))
                .into_iter()
                .map(|l| l.split(':').next().unwrap_or("").to_string())
                .collect(),
            volumes,
            profiles: strings(svc.get("profiles")),
            name,
        }
    }

    /// The port the service listens on: `expose`, then `ports` (container side).
    pub fn listen_port(&self) -> Option<u16> {
        self.expose.first().or(self.container_ports.first()).copied()
    }

    pub fn mentions(&self, needle: &str) -> bool {
        self.environment
            .iter()
            .any(|(_, v)| v.as_deref().is_some_and(|v| v.contains(needle)))
            || self.command.iter().any(|c| c.contains(needle))
    }
}

impl Mount {
    fn from_value(value: &Value) -> Option<Mount> {
        match value {
            Value::Mapping(_) => {
                let kind = value.get("type").and_then(scalar_string);
                Some(Mount {
                    source: value.get("source").and_then(scalar_string),
                    target: value.get("target").and_then(scalar_string)?,
                    bind: kind.as_deref() == Some("bind"),
                })
            }
            other => {
                let spec = scalar_string(other)?;
                let mut parts = spec.splitn(3, ':');
                let first = parts.next()?.to_string();
                match parts.next() {
                    Some(target) => {
                        let bind = first.starts_with(['.', '/', '~', '$']);
                        Some(Mount {
                            source: Some(first),
                            target: target.to_string(),
                            bind,
                        })
                    }
                    None => Some(Mount {
                        source: None,
                        target: first,
                        bind: false,
                    }),
                }
            }
        }
    }
}

fn parse_port(s: &str) -> Option<u16> {
    s.split('/').next()?.parse().ok()
}

/// Container side of `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `"80"`.
fn container_port(spec: &str) -> Option<u16> {
    let without_proto = spec.split('/').next()?;
    let last = without_proto.rsplit(':').next()?;
    // A range ("8000-8010") has no single port.
    parse_port(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::source::RelPath;

    #[test]
    fn services_are_read_in_every_compose_form() {
        let text = "\
x-common: &common
  environment:
    LOG: info
services:
  api:
    <<: *common
    image: ghcr.io/acme/api:1
    ports: ['127.0.0.1:3000:8080/tcp', {target: 9000, published: 9000}]
    environment:
      PUSH: http://pushgateway:9091
    depends_on:
      pushgateway: {condition: service_healthy}
    volumes: ['./conf:/etc/api:ro', 'data:/data', '/tmp']
  worker:
    environment: [A=1, B]
    expose: ['9100']
    depends_on: [api]
    links: ['api:backend']
";
        let compose = Compose::parse(SourceFile::from_text(
            RelPath::new("compose.yaml").unwrap(),
            text,
            0o644,
        ))
        .unwrap();
        let api = compose.service("api").unwrap();
        assert_eq!(api.container_ports, vec![8080, 9000]);
        assert_eq!(api.listen_port(), Some(8080));
        assert_eq!(api.depends_on, vec!["pushgateway"]);
        assert!(api.mentions("pushgateway:9091"));
        assert_eq!(
            api.environment.len(),
            1,
            "a service's own environment replaces the merged one"
        );
        assert_eq!(
            api.volumes,
            vec![
                Mount {
                    source: Some("./conf".into()),
                    target: "/etc/api".into(),
                    bind: true
                },
                Mount {
                    source: Some("data".into()),
                    target: "/data".into(),
                    bind: false
                },
                Mount {
                    source: None,
                    target: "/tmp".into(),
                    bind: false
                },
            ]
        );
        let worker = compose.service("worker").unwrap();
        assert_eq!(
            worker.environment,
            vec![("A".into(), Some("1".into())), ("B".into(), None)]
        );
        assert_eq!(worker.listen_port(), Some(9100));
        assert_eq!(worker.links, vec!["api"]);
    }
}
