//! Which Prometheus reads the stack's queries: `prometheus_version:` in pullover.yaml, else the
//! image tag of the Compose service running Prometheus, else an assumption that says so (the
//! command edge may then ask a live server, see `commands/live_servers.rs`). The `--enable-feature=`
//! flags come from that service's command.

use crate::diagnostic::Diagnostic;
use crate::promql::{Dialect, PrometheusVersion, VersionSource, enabled_features};
use crate::stack::compose::{Compose, Service};
use crate::stack::discover::{Evidence, evidence, is_prometheus_service};
use crate::stack::settings::SettingsFile;
use crate::stack::source::SourceFile;

/// The settings key.
pub const SETTING: &str = "prometheus_version";

/// What an image reference says about the version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageVersion {
    Version(PrometheusVersion),
    /// `latest`, or no tag at all.
    Latest,
    /// A digest only, or a tag that is no version (`main`).
    Unknown,
}

fn image_version(image: &str) -> ImageVersion {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, "latest")) => ImageVersion::Latest,
        Some((_, tag)) => PrometheusVersion::parse(tag).map_or(ImageVersion::Unknown, ImageVersion::Version),
        None if digest.is_some() => ImageVersion::Unknown,
        None => ImageVersion::Latest,
    }
}

/// The Prometheus the stack runs, and the evidence `init` and `analyze` show for it.
pub fn resolve(
    compose: Option<&Compose>,
    pinned: &SettingsFile,
    settings_source: Option<&SourceFile>,
) -> Result<(Dialect, Evidence), Diagnostic> {
    let service = compose.and_then(|c| c.services.iter().find(|s| is_prometheus_service(s)));
    let features = service.map(|s| enabled_features(&s.command)).unwrap_or_default();
    if let Some(text) = &pinned.prometheus_version {
        let Some(version) = PrometheusVersion::parse(text) else {
            let error = Diagnostic::error(format!("`{SETTING}: {text}` in pullover.yaml is not a Prometheus version"))
                .help(format!(
                    "write the release the stack runs, like `{SETTING}: \"2.45\"` or `\"3.1\"`; delete the key to read it from the image tag"
                ));
            return Err(
                match settings_source.and_then(|f| f.text().find(SETTING).map(|at| (f, at))) {
                    Some((file, at)) => error.at(file, at..at + SETTING.len(), "set here"),
                    None => error,
                },
            );
        };
        let dialect = Dialect::new(version, features, VersionSource::Settings);
        let found = evidence(SETTING, version.to_string(), "set in pullover.yaml");
        return Ok((dialect, found));
    }
    Ok(from_service(service, features))
}

fn from_service(service: Option<&Service>, features: Vec<String>) -> (Dialect, Evidence) {
    let newest = PrometheusVersion::NEWEST_KNOWN;
    let Some(service) = service else {
        let reason = format!(
            "no Prometheus service in the Compose file; the newest release pullover knows ({newest}) is assumed"
        );
        let found = evidence(SETTING, newest.to_string(), reason.clone());
        return (Dialect::assumed(reason), found);
    };
    let image = service.image.clone().unwrap_or_default();
    let (dialect, because) = match image_version(&image) {
        ImageVersion::Version(version) => {
            let source = VersionSource::ImageTag {
                service: service.name.clone(),
                image: image.clone(),
            };
            (
                Dialect::new(version, features, source),
                format!("the image tag of service {} ({image})", service.name),
            )
        }
        other => {
            let why = match (other, image.is_empty()) {
                (_, true) => format!("service {} names no image", service.name),
                (ImageVersion::Latest, false) => format!("image {image} of service {} is `latest`", service.name),
                _ => format!("image {image} of service {} names no version", service.name),
            };
            let reason = format!("{why}; the newest release pullover knows ({newest}) is assumed");
            let mut dialect = Dialect::assumed(reason.clone());
            dialect.features = features;
            (dialect, reason)
        }
    };
    let found = evidence(SETTING, dialect.version.to_string(), because);
    (dialect, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_from_the_image_tag() {
        let v = |major, minor| ImageVersion::Version(PrometheusVersion::new(major, minor));
        assert_eq!(image_version("prom/prometheus:v2.45.0"), v(2, 45));
        assert_eq!(image_version("quay.io/prometheus/prometheus:v3.1.0"), v(3, 1));
        assert_eq!(image_version("localhost:5000/prometheus:v2.53.0-distroless"), v(2, 53));
        assert_eq!(image_version("bitnami/prometheus:2.42.0-debian-11-r3"), v(2, 42));
        assert_eq!(image_version("prom/prometheus:v2.45.0@sha256:abc"), v(2, 45));
        assert_eq!(image_version("prom/prometheus"), ImageVersion::Latest);
        assert_eq!(image_version("prom/prometheus:latest"), ImageVersion::Latest);
        assert_eq!(image_version("prom/prometheus@sha256:abc"), ImageVersion::Unknown);
        assert_eq!(image_version("prom/prometheus:main"), ImageVersion::Unknown);
    }
}
