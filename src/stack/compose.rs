//! A typed view of a Compose file for discovery and for the `remove` phase.
//! Reading only: edits go through `edit::yaml` on the original text.

use std::collections::BTreeMap;

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
    /// The `build:` context folder (short form or `context:`), as written
    /// relative to the Compose file.
    pub build: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Host path (bind) or volume name (named); `None` for anonymous volumes.
    pub source: Option<String>,
    pub target: String,
    pub bind: bool,
}

/// Variables for Compose interpolation (`${VAR}`, `${VAR:-default}`), as read
/// from the project's `.env` file.
pub type ComposeVars = BTreeMap<String, String>;

impl Compose {
    pub fn parse(file: SourceFile) -> Result<Compose, Diagnostic> {
        Compose::parse_with_vars(file, &ComposeVars::new())
    }

    /// Parses with `vars` substituted into the paths the typed view reads
    /// (volume sources, `build`, `env_file`), as `docker compose` would. Other
    /// values stay as written: they are only ever compared, and an edit must
    /// find them as written.
    pub fn parse_with_vars(file: SourceFile, vars: &ComposeVars) -> Result<Compose, Diagnostic> {
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
            .filter_map(|(name, svc)| Some(Service::from_value(scalar_string(name)?, svc, vars)))
            .collect();
        Ok(Compose { file, doc, services })
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

impl Service {
    fn from_value(name: String, svc: &Value, vars: &ComposeVars) -> Service {
        let path = |raw: String| interpolate(&raw, vars).unwrap_or(raw);
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
                .map(path)
                .collect(),
            other => strings(other).into_iter().map(path).collect(),
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
            Some(Value::Sequence(seq)) => seq.iter().filter_map(|v| Mount::from_value(v, vars)).collect(),
            _ => Vec::new(),
        };
        let build = match svc.get("build") {
            // The Compose spec defaults `context` to the Compose file's folder.
            Some(Value::Mapping(_)) => svc
                .get("build")
                .and_then(|b| b.get("context"))
                .and_then(scalar_string)
                .or_else(|| Some(".".to_string())),
            Some(other) => scalar_string(other),
            None => None,
        }
        .map(path);
        Service {
            image: svc.get("image").and_then(scalar_string),
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
            build,
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
    fn from_value(value: &Value, vars: &ComposeVars) -> Option<Mount> {
        match value {
            Value::Mapping(_) => {
                let kind = value.get("type").and_then(scalar_string);
                Some(Mount {
                    source: value
                        .get("source")
                        .and_then(scalar_string)
                        .map(|s| interpolate(&s, vars).unwrap_or(s)),
                    target: value.get("target").and_then(scalar_string)?,
                    bind: kind.as_deref() == Some("bind"),
                })
            }
            other => {
                let raw = scalar_string(other)?;
                // `${DIR:-./conf}:/etc/x` holds a colon of its own: substitute first.
                let spec = interpolate(&raw, vars).unwrap_or(raw);
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

/// Substitutes `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`
/// as Compose does. `None` when a variable is unset and has no default (or the
/// syntax is not one of those): the caller keeps the text as written and
/// discovery then says which setting to pin.
pub fn interpolate(text: &str, vars: &ComposeVars) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}')?;
            let expr = &braced[..close];
            let op_at = expr.find([':', '-', '?', '+']).unwrap_or(expr.len());
            let (name, op) = expr.split_at(op_at);
            let (colon, op) = match op.strip_prefix(':') {
                Some(rest) => (true, rest),
                None => (false, op),
            };
            // With `:`, an empty value counts as unset.
            let set = vars.get(name).filter(|v| !(colon && v.is_empty()));
            let value = match (op.chars().next(), op.get(1..).unwrap_or("")) {
                (None, _) if !colon => vars.get(name)?.clone(),
                (Some('-'), default) => set.cloned().unwrap_or_else(|| default.to_string()),
                (Some('?'), _) => set?.clone(),
                (Some('+'), alternative) => set.map_or(String::new(), |_| alternative.to_string()),
                _ => return None,
            };
            out.push_str(&value);
            rest = &braced[close + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                return None;
            }
            out.push_str(vars.get(&after[..len])?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Some(out)
}

/// `KEY=value` lines of a `.env` file (comments, blank lines and `export `
/// skipped; one level of matching quotes removed).
pub fn parse_dotenv(text: &str) -> ComposeVars {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let value = value.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(value);
            Some((key.trim().to_string(), unquoted.to_string()))
        })
        .collect()
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

/// `text` as the stack's `compose.yaml`, for tests.
#[cfg(test)]
pub(crate) fn compose_yaml(text: &str) -> Compose {
    Compose::parse(SourceFile::from_text(
        crate::stack::source::RelPath::new("compose.yaml").expect("a relative path"),
        text,
        0o644,
    ))
    .expect("the test's Compose file parses")
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
        let compose = compose_yaml(text);
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

    #[test]
    fn build_contexts_in_short_and_long_form() {
        let text = "services:\n  a: {build: ./a}\n  b:\n    build: {context: ./b, dockerfile: D}\n  c: {image: x}\n";
        let compose = compose_yaml(text);
        let builds: Vec<Option<&str>> = compose.services.iter().map(|s| s.build.as_deref()).collect();
        assert_eq!(builds, [Some("./a"), Some("./b"), None]);
    }

    #[test]
    fn paths_from_dot_env_are_substituted_as_compose_does() {
        let vars = parse_dotenv("# paths\nPROM_DIR=./prom\nexport EMPTY=\nQUOTED='./q'\n\n");
        assert_eq!(vars.get("QUOTED").map(String::as_str), Some("./q"));
        let cases = [
            ("${PROM_DIR}:/etc/prometheus", Some("./prom:/etc/prometheus")),
            ("$PROM_DIR/rules", Some("./prom/rules")),
            ("${MISSING:-./default}", Some("./default")),
            ("${EMPTY:-./default}", Some("./default")),
            ("${EMPTY-./default}", Some("")),
            ("$$HOME", Some("$HOME")),
            ("${MISSING}", None),
            ("${MISSING:?must be set}", None),
            ("${PROM_DIR:?must be set}", Some("./prom")),
            ("${PROM_DIR:+./other}|${MISSING+x}", Some("./other|")),
            ("${PROM_DIR:x}", None),
            ("${UNCLOSED", None),
            ("plain", Some("plain")),
        ];
        for (text, expected) in cases {
            assert_eq!(interpolate(text, &vars).as_deref(), expected, "{text}");
        }
        let text = "services:\n  prometheus:\n    volumes: ['${PROM_DIR:-./prometheus}:/etc/prometheus:ro']\n    environment: ['A=${PROM_DIR}']\n";
        let compose = Compose::parse_with_vars(
            SourceFile::from_text(RelPath::new("compose.yaml").unwrap(), text, 0o644),
            &vars,
        )
        .unwrap();
        let prometheus = compose.service("prometheus").unwrap();
        assert_eq!(prometheus.volumes[0].source.as_deref(), Some("./prom"));
        assert!(prometheus.volumes[0].bind);
        assert_eq!(
            prometheus.environment,
            vec![("A".into(), Some("${PROM_DIR}".into()))],
            "values other than paths stay as written"
        );
    }
}
