//! A Spring Boot app's own config (`application.yml` / `.properties`), read for what
//! Micrometer's Prometheus registry does: whether it pushes (the Pushgateway export is
//! enabled), whether the actuator exposes its `prometheus` endpoint, and at what path. Spring
//! reads the same setting nested in YAML, as one dotted YAML key, or as a properties line;
//! all three are read here as dotted keys. Pure, like the push-call reader beside it.

use std::ops::Range;

use yaml_serde::Value;

use crate::edit::yaml::{Route, YamlDoc};

/// The Pushgateway switch, Spring Boot 3's name then Spring Boot 2's.
pub const PUSH_ENABLED: [&str; 2] = [
    "management.prometheus.metrics.export.pushgateway.enabled",
    "management.metrics.export.prometheus.pushgateway.enabled",
];
/// What the actuator serves over HTTP (Spring's default is `health` alone).
pub const EXPOSURE_INCLUDE: &str = "management.endpoints.web.exposure.include";
const BASE_PATH: &str = "management.endpoints.web.base-path";
const PROMETHEUS_PATH: &str = "management.endpoints.web.path-mapping.prometheus";

/// The dependency that makes `/actuator/prometheus` exist.
const REGISTRY_ARTIFACT: &str = "micrometer-registry-prometheus";

/// How the config file is written.
#[derive(Debug, Clone)]
pub enum Format {
    Yaml(YamlDoc),
    Properties,
}

/// One setting as the file writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Dotted, as written (`management.endpoints.web.exposure.include`).
    pub key: String,
    /// The value read as text (a YAML list joined with commas).
    pub value: String,
    /// Where the setting starts (its key), for a finding.
    pub offset: usize,
    /// YAML: the keys leading to it, as written. Properties: the one key.
    pub path: Vec<String>,
    /// Properties: the value's bytes on its line. YAML: empty.
    pub value_span: Range<usize>,
    /// Properties: the value goes on over the next line (`\` at the end).
    pub continued: bool,
    /// YAML: the value is a list.
    pub is_list: bool,
}

impl Setting {
    /// The route of a YAML setting.
    pub fn route(&self) -> Route {
        self.path.iter().fold(Route::root(), |r, k| r.key(k.clone()))
    }
}

#[derive(Debug, Clone)]
pub struct SpringConfig {
    pub format: Format,
    pub settings: Vec<Setting>,
}

/// Whether `path` names a Spring Boot config file (`application.yml`, `application-prod.properties`).
pub fn is_config_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    (stem == "application" || stem.starts_with("application-")) && matches!(ext, "yml" | "yaml" | "properties")
}

/// Whether one of `files` (path, text) is a Maven or Gradle build with Micrometer's
/// Prometheus registry.
pub fn has_prometheus_registry<'a>(mut files: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    files.any(|(path, text)| {
        let name = path.rsplit('/').next().unwrap_or(path);
        matches!(name, "pom.xml" | "build.gradle" | "build.gradle.kts") && text.contains(REGISTRY_ARTIFACT)
    })
}

/// Spring's relaxed binding: `base-url`, `baseUrl` and `base_url` are one name.
fn canonical(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl SpringConfig {
    /// The config in `text`, when `path` is a Spring config file that parses.
    pub fn read(path: &str, text: &str) -> Option<SpringConfig> {
        if !is_config_file(path) {
            return None;
        }
        if path.ends_with(".properties") {
            return Some(SpringConfig {
                format: Format::Properties,
                settings: properties(text),
            });
        }
        let doc = YamlDoc::parse(text).ok()?;
        let mut settings = Vec::new();
        flatten(&doc, doc.value(), &mut Vec::new(), &mut settings);
        Some(SpringConfig {
            format: Format::Yaml(doc),
            settings,
        })
    }

    pub fn get(&self, key: &str) -> Option<&Setting> {
        let wanted = canonical(key);
        // Spring lets a later one win (profiles aside): so does this.
        self.settings.iter().rev().find(|s| canonical(&s.key) == wanted)
    }

    /// The Pushgateway switch, when the file turns it on.
    pub fn push_enabled(&self) -> Option<&Setting> {
        PUSH_ENABLED
            .iter()
            .find_map(|k| self.get(k))
            .filter(|s| s.value.eq_ignore_ascii_case("true"))
    }

    /// Whether the file sets any of Micrometer's Pushgateway settings (on or off).
    pub fn configures_push(&self) -> bool {
        self.settings.iter().any(|s| {
            let key = canonical(&s.key);
            PUSH_ENABLED
                .iter()
                .any(|k| key.starts_with(canonical(k).trim_end_matches("enabled")))
        })
    }

    /// Whether the actuator serves `prometheus` over HTTP.
    pub fn exposes_prometheus(&self) -> bool {
        self.get(EXPOSURE_INCLUDE)
            .is_some_and(|s| s.value.split(',').any(|v| matches!(v.trim(), "prometheus" | "*")))
    }

    /// Where the actuator serves `prometheus`: `/actuator/prometheus` unless the file moves it.
    pub fn prometheus_path(&self) -> String {
        let base = self.get(BASE_PATH).map_or("/actuator", |s| s.value.as_str());
        let endpoint = self.get(PROMETHEUS_PATH).map_or("prometheus", |s| s.value.as_str());
        let base = base.trim_end_matches('/');
        let endpoint = endpoint.trim_start_matches('/');
        if base.is_empty() {
            format!("/{endpoint}")
        } else if base.starts_with('/') {
            format!("{base}/{endpoint}")
        } else {
            format!("/{base}/{endpoint}")
        }
    }
}

/// Every scalar (or list of scalars) of the YAML document, under its dotted key.
fn flatten(doc: &YamlDoc, value: &Value, path: &mut Vec<String>, out: &mut Vec<Setting>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let Some(key) = scalar_text(key) else { continue };
                path.push(key);
                flatten(doc, child, path, out);
                path.pop();
            }
        }
        Value::Sequence(items) if !path.is_empty() => {
            let values: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            if let Some(values) = values {
                out.push(yaml_setting(doc, path, values.join(","), true));
            }
        }
        _ if !path.is_empty() => {
            if let Some(text) = scalar_text(value) {
                out.push(yaml_setting(doc, path, text, false));
            }
        }
        _ => {}
    }
}

fn yaml_setting(doc: &YamlDoc, path: &[String], value: String, is_list: bool) -> Setting {
    let route = path.iter().fold(Route::root(), |r, k| r.key(k.clone()));
    Setting {
        key: path.join("."),
        value,
        offset: doc.extent(&route).map_or(0, |r| r.start),
        path: path.to_vec(),
        value_span: 0..0,
        continued: false,
        is_list,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The settings of a `.properties` file: `key=value`, `key: value` or `key value`, comments
/// (`#`, `!`) and blank lines skipped.
fn properties(text: &str) -> Vec<Setting> {
    let mut settings = Vec::new();
    let mut offset = 0;
    let mut in_continuation = false;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let was_continuation = in_continuation;
        let backslashes = body.len() - body.trim_end_matches('\\').len();
        in_continuation = backslashes % 2 == 1;
        let trimmed = body.trim_start();
        if was_continuation || trimmed.is_empty() || trimmed.starts_with(['#', '!']) {
            continue;
        }
        let lead = body.len() - trimmed.len();
        let key_len = trimmed.find(['=', ':', ' ', '\t']).unwrap_or(trimmed.len());
        let key = &trimmed[..key_len];
        let rest = &trimmed[key_len..];
        let after_space = rest.trim_start_matches([' ', '\t']);
        let after_sep = after_space
            .strip_prefix(['=', ':'])
            .map_or(after_space, |r| r.trim_start_matches([' ', '\t']));
        let value = after_sep.trim_end();
        let value_start = start + lead + key_len + (rest.len() - after_sep.len());
        settings.push(Setting {
            key: key.to_string(),
            value: value.to_string(),
            offset: start + lead,
            path: vec![key.to_string()],
            value_span: value_start..value_start + value.len(),
            continued: in_continuation,
            is_list: false,
        });
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_dotted_and_properties_keys_read_alike() {
        let nested =
            "management:\n  prometheus:\n    metrics:\n      export:\n        pushgateway:\n          enabled: true\n";
        let dotted = "management.prometheus.metrics.export.pushgateway.enabled: true\n";
        let props = "# push\nmanagement.prometheus.metrics.export.pushgateway.enabled = true\r\n";
        for (path, text) in [
            ("r/application.yml", nested),
            ("r/application.yaml", dotted),
            ("r/application.properties", props),
        ] {
            let config = SpringConfig::read(path, text).expect(path);
            let enabled = config.push_enabled().expect(path);
            // The offset is the setting's own key: its line is the one a finding names.
            let key = enabled.path.last().expect("a key");
            assert!(text[enabled.offset..].starts_with(key.as_str()), "{path}");
            assert!(config.configures_push());
        }
        let props_text = props;
        let props = SpringConfig::read("application.properties", props_text).expect("reads");
        let setting = props.push_enabled().expect("on");
        assert_eq!(&props_text[setting.value_span.clone()], "true");
    }

    #[test]
    fn exposure_and_path_follow_the_file() {
        let config = SpringConfig::read(
            "application.yml",
            "management:\n  endpoints:\n    web:\n      base-path: /manage\n      exposure:\n        include: [health, prometheus]\n",
        )
        .expect("reads");
        assert!(config.exposes_prometheus());
        assert_eq!(config.prometheus_path(), "/manage/prometheus");
        let config = SpringConfig::read(
            "application.properties",
            "management.endpoints.web.exposure.include=health\n",
        )
        .expect("reads");
        assert!(!config.exposes_prometheus());
        assert_eq!(config.prometheus_path(), "/actuator/prometheus");
        assert!(SpringConfig::read("config/logback.yml", "a: 1\n").is_none());
    }

    #[test]
    fn a_switched_off_push_is_no_push_and_a_continued_line_is_marked() {
        let config = SpringConfig::read(
            "application.properties",
            "management.metrics.export.prometheus.pushgateway.enabled=false\nmanagement.endpoints.web.exposure.include=health,\\\n  info\n",
        )
        .expect("reads");
        assert!(config.push_enabled().is_none());
        assert!(config.configures_push());
        assert!(config.get(EXPOSURE_INCLUDE).expect("set").continued);
        assert_eq!(config.settings.len(), 2);
    }
}
