//! Settings: what `pullover.yaml` pins and what global flags override. Anything
//! left unset is discovered (`discover.rs`).

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::edit::yaml::YamlDoc;
use crate::stack::source::{RelPath, SourceFile};

/// A path from a setting (`pullover.yaml` key or its flag), checked to stay inside the stack.
pub fn setting_path(key: &str, value: &str) -> Result<RelPath, Diagnostic> {
    RelPath::new(value).map_err(|e| {
        Diagnostic::error(format!("{key}: {e}")).help(format!(
            "`{key}:` in pullover.yaml (or its flag) names a path relative to the stack folder, and inside it"
        ))
    })
}

pub const SETTINGS_FILE: &str = "pullover.yaml";

/// Spells a host outside Compose on purpose, in a flag or `pullover.yaml`: `external:HOST:PORT`.
pub const EXTERNAL: &str = "external:";

/// `pullover.yaml` as written. Every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compose_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewaySettings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppSettings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape: Option<ScrapeSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSettings>,
    /// The Prometheus release that reads the queries (`"2.45"`, `"3.1"`), when the image tag of
    /// the prometheus service does not say it (or says it wrongly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// The compose service running Pushgateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The Prometheus scrape job that scrapes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Its `honor_labels` (read from the job when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honor_labels: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// Compose service (or any host Prometheus can reach).
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The new scrape job's name (default: the service name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The `job` grouping key the app pushes with (default: the service name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_job: Option<String>,
    /// The `instance` grouping-key values it pushes with ("" = none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushed_instances: Vec<String>,
    /// Metric names it pushes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// Its code, folders or files (default: the service's `build:` context):
    /// read for its push calls and listed by the `docs` phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScrapeSettings {
    #[serde(default = "default_interval")]
    pub interval: String,
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
}

impl Default for ScrapeSettings {
    fn default() -> Self {
        ScrapeSettings {
            interval: default_interval(),
            metrics_path: default_metrics_path(),
        }
    }
}

fn default_interval() -> String {
    "30s".to_string()
}

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LiveSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushgateway_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
}

impl SettingsFile {
    pub fn parse(file: &SourceFile) -> Result<SettingsFile, Diagnostic> {
        // Parse through YamlDoc first for a located syntax error, then into the type.
        let doc = YamlDoc::parse(file.text()).map_err(|e| e.to_diagnostic(file))?;
        if doc.value().is_null() {
            return Ok(SettingsFile::default());
        }
        // From the text, not the parsed value: the error then knows its line and column.
        let settings: SettingsFile = yaml_serde::from_str(file.text()).map_err(|e| {
            let message = e.to_string();
            // The snippet shows where; drop yaml's own " at line L column C".
            let message = match (e.location(), message.rfind(" at line ")) {
                (Some(_), Some(cut)) => &message[..cut],
                _ => message.as_str(),
            };
            let error = Diagnostic::error(format!("{}: {message}", file.path))
                .help("see `pullover init`, which writes a pullover.yaml with every key explained");
            match e.location() {
                Some(at) => {
                    let start = at.index().min(file.text().len());
                    error.at(file, start..start + 1, "here")
                }
                None => error,
            }
        })?;
        for app in &settings.apps {
            check_host(&app.service).map_err(|message| {
                Diagnostic::error(format!("{}: apps: service {message}", file.path))
                    .help("set `service:` under `apps:` to the Compose service or host Prometheus scrapes")
            })?;
        }
        Ok(settings)
    }
}

/// An app's host as it goes into a scrape target (`host:port`): a Compose
/// service name, a DNS name, an IPv4 address or a bracketed IPv6 one.
/// Anything else (`../../etc`, a space, a quote) would write a target
/// Prometheus refuses, or YAML that means something else.
pub fn check_host(host: &str) -> Result<(), String> {
    let fail = || {
        Err(format!(
            "`{}` is not a host name: use a Compose service or DNS name (letters, digits, `-`, `_`, `.`), an IPv4 address or [IPv6]",
            host.escape_debug()
        ))
    };
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return if !inner.is_empty() && inner.parse::<std::net::Ipv6Addr>().is_ok() {
            Ok(())
        } else {
            fail()
        };
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
    };
    if host.len() > 253 || !host.split('.').all(label_ok) {
        return fail();
    }
    Ok(())
}

/// Global flags that override settings (`--app`, `--gateway`, …).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub apps: Vec<AppArg>,
    pub gateway: Option<String>,
    pub prometheus_config: Option<String>,
    pub dashboards: Vec<String>,
    pub prometheus_url: Option<String>,
    pub pushgateway_url: Option<String>,
    pub app_url: Option<String>,
    /// `--remove-push-code`.
    pub remove_push_code: bool,
}

/// `--app SERVICE[:PORT]`, or `--app NAME=HOST:PORT`: the app's name (its new scrape job)
/// apart from the address Prometheus scrapes it at (as `job:` next to `service:` and `port:`
/// in pullover.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppArg {
    pub service: String,
    pub port: Option<u16>,
    /// `NAME` of `NAME=HOST:PORT`.
    pub job: Option<String>,
}

impl std::str::FromStr for AppArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `external:HOST:PORT`: a host outside Compose on purpose (checked in `stack::flags`).
        if let Some(rest) = s.strip_prefix(EXTERNAL) {
            let inner: AppArg = rest.parse()?;
            return Ok(AppArg {
                service: format!("{}{}", EXTERNAL, inner.service),
                ..inner
            });
        }
        let (job, address) = match s.split_once('=') {
            Some((name, address)) => {
                let name = name.trim();
                if name.is_empty() {
                    return Err("expected NAME=HOST:PORT, e.g. metrics-api=127.0.0.1:8080".into());
                }
                (Some(name.to_string()), address)
            }
            None => (None, s),
        };
        let (service, port) = match address.rsplit_once(':') {
            Some((service, port)) => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("`{port}` is not a port number (expected SERVICE:PORT or NAME=HOST:PORT)"))?;
                (service, Some(port))
            }
            None => (address, None),
        };
        if service.is_empty() {
            return Err("expected SERVICE:PORT, e.g. metrics-api:8080, or NAME=HOST:PORT".into());
        }
        check_host(service)?;
        Ok(AppArg {
            service: service.to_string(),
            port,
            job,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::source::RelPath;

    #[test]
    fn app_args_parse_service_and_port() {
        assert_eq!(
            "metrics-api:8080".parse::<AppArg>().unwrap(),
            AppArg {
                service: "metrics-api".into(),
                port: Some(8080),
                job: None,
            }
        );
        assert_eq!(
            "metrics-api=127.0.0.1:38080".parse::<AppArg>().unwrap(),
            AppArg {
                service: "127.0.0.1".into(),
                port: Some(38080),
                job: Some("metrics-api".into()),
            }
        );
        assert!("=127.0.0.1:38080".parse::<AppArg>().is_err());
        assert_eq!(
            "worker".parse::<AppArg>().unwrap(),
            AppArg {
                service: "worker".into(),
                port: None,
                job: None,
            }
        );
        assert!("api:http".parse::<AppArg>().is_err());
        for bad in [
            "../../etc:80",
            "a b:80",
            "x\"y:80",
            "-x:80",
            "a..b:80",
            "[zz]:80",
            "a/b:80",
        ] {
            assert!(bad.parse::<AppArg>().is_err(), "{bad}");
        }
        for good in [
            "metrics-api:80",
            "10.0.0.7:80",
            "[::1]:80",
            "app_1.svc.cluster.local:80",
        ] {
            assert!(good.parse::<AppArg>().is_ok(), "{good}");
        }
    }

    #[test]
    fn unknown_keys_in_settings_are_errors() {
        let file = SourceFile::from_text(RelPath::new("pullover.yaml").unwrap(), "appz: []\n", 0o644);
        let err = SettingsFile::parse(&file).unwrap_err();
        assert!(err.message.contains("unknown field `appz`"), "{}", err.message);
    }
}
