//! What `init` writes: the settings discovery found, as a `pullover.yaml` a
//! person can review, each key with a comment saying what it is and why
//! discovery chose it. Pure; `init` parses the text back and checks it means
//! exactly [`settings_of`] before writing it.

use crate::edit::yaml::render_plain_or_quoted;
use crate::stack::Stack;
use crate::stack::discover::Evidence;
use crate::stack::settings::{AppSettings, GatewaySettings, SettingsFile};

/// The settings a stack was read with, as `pullover.yaml` would pin them.
pub fn settings_of(stack: &Stack) -> SettingsFile {
    let live = &stack.settings.live;
    let has_live = live.prometheus_url.is_some() || live.pushgateway_url.is_some() || live.app_url.is_some();
    SettingsFile {
        compose_file: stack.compose.as_ref().map(|c| c.file.path.to_string()),
        prometheus_config: Some(stack.prometheus.file.path.to_string()),
        gateway: stack.settings.gateway.as_ref().map(|g| GatewaySettings {
            service: g.service.clone(),
            job: g.job.clone(),
            honor_labels: Some(g.honor_labels),
        }),
        apps: stack
            .settings
            .apps
            .iter()
            .map(|app| AppSettings {
                service: app.service.clone(),
                port: Some(app.port),
                job: Some(app.job.clone()),
                // A guess is never written as if it were a fact: an assumed or undecided pushed
                // job stays a comment for a person to settle (see `render`).
                pushed_job: (app.identity.is_decided() && app.identity.source != crate::identity::Source::Assumed)
                    .then(|| app.pushed_job.clone()),
                pushed_instances: if app.identity.is_decided() {
                    app.pushed_instances.clone()
                } else {
                    Vec::new()
                },
                // Learnt metric lists would stop the learning; only a pinned list is kept.
                metrics: app.known.pinned_metrics.clone(),
                code: app.code.iter().map(|c| c.to_string()).collect(),
            })
            .collect(),
        dashboards: stack
            .evidence
            .iter()
            .filter(|e| e.setting == "dashboards")
            .map(|e| e.value.clone())
            .collect(),
        docs: stack.docs.iter().map(|d| d.path.to_string()).collect(),
        scrape: Some(stack.settings.scrape.clone()),
        live: has_live.then(|| live.clone()),
        // Not pinned: the image tag stays the word on it, so an upgraded image is not contradicted.
        prometheus_version: None,
    }
}

const HEADER: &str = "\
# pullover.yaml: the settings `pullover init` discovered in this stack, for review.
# Every key is optional: edit a value to pin it, delete a key to let discovery
# decide it again on every run. Global flags (--app, --gateway,
# --prometheus-config, --dashboards) override this file.
";

/// `settings` as commented YAML; `evidence` supplies the "found:" comments. One section a
/// top-level key, in the order a person reads them.
pub fn render(settings: &SettingsFile, evidence: &[Evidence]) -> String {
    let mut out = Writer::default();
    out.raw(HEADER);
    if let Some(compose_file) = &settings.compose_file {
        out.blank();
        out.comment(0, "The Compose file.");
        out.found(0, evidence, "compose_file", None);
        out.scalar(0, "compose_file", compose_file);
    }
    if let Some(config) = &settings.prometheus_config {
        prometheus_config(&mut out, config, evidence);
    }
    prometheus_version(&mut out, settings.prometheus_version.as_ref(), evidence);
    if let Some(gateway) = &settings.gateway {
        gateway_section(&mut out, gateway, evidence);
    }
    if !settings.apps.is_empty() {
        out.blank();
        out.comment(
            0,
            "The apps that push today; each gets its own scrape job, named after it.",
        );
        out.line(0, "apps:");
        for app in &settings.apps {
            app_entry(&mut out, app, evidence);
        }
    }
    let dashboards = "Folders of Grafana dashboards the `dashboards` phase rewrites.";
    path_list(&mut out, "dashboards", dashboards, &settings.dashboards, evidence);
    let docs = "Docs the `docs` phase updates (architecture line, metrics flow).";
    path_list(&mut out, "docs", docs, &settings.docs, evidence);
    if let Some(scrape) = &settings.scrape {
        out.blank();
        out.comment(0, "How the new scrape jobs scrape the apps.");
        out.line(0, "scrape:");
        out.scalar(2, "interval", &scrape.interval);
        out.scalar(2, "metrics_path", &scrape.metrics_path);
    }
    if let Some(live) = &settings.live {
        out.blank();
        out.comment(0, "Where `verify` reaches the running stack.");
        out.line(0, "live:");
        for (key, value) in [
            ("prometheus_url", &live.prometheus_url),
            ("pushgateway_url", &live.pushgateway_url),
            ("app_url", &live.app_url),
        ] {
            if let Some(value) = value {
                out.scalar(2, key, value);
            }
        }
    }
    out.text
}

fn prometheus_config(out: &mut Writer, config: &str, evidence: &[Evidence]) {
    out.blank();
    out.comment(0, "prometheus.yml, relative to this folder.");
    out.found(0, evidence, "prometheus_config", None);
    for rule_file in evidence.iter().filter(|e| e.setting == "rule_files") {
        out.comment(
            0,
            &format!("It loads the rule file {} ({}).", rule_file.value, rule_file.because),
        );
    }
    out.scalar(0, "prometheus_config", config);
}

fn prometheus_version(out: &mut Writer, pinned: Option<&String>, evidence: &[Evidence]) {
    let found_version = evidence.iter().find(|e| e.setting == "prometheus_version");
    if pinned.is_none() && found_version.is_none() {
        return;
    }
    out.blank();
    out.comment(0, "The Prometheus release that reads the queries (2.x and 3.x differ).");
    out.found(0, evidence, "prometheus_version", None);
    match (pinned, found_version) {
        (Some(version), _) => out.scalar(0, "prometheus_version", version),
        // Left to the image tag, so an upgraded image is not contradicted; pin it only
        // when discovery is wrong.
        (None, Some(found)) => out.comment(0, &format!("prometheus_version: \"{}\"", found.value)),
        (None, None) => {}
    }
}

fn gateway_section(out: &mut Writer, gateway: &GatewaySettings, evidence: &[Evidence]) {
    out.blank();
    out.comment(0, "The Pushgateway to migrate off.");
    out.line(0, "gateway:");
    if let Some(service) = &gateway.service {
        out.comment(2, "The Compose service that runs it.");
        out.found(2, evidence, "gateway.service", None);
        out.scalar(2, "service", service);
    }
    if let Some(job) = &gateway.job {
        out.comment(2, "The Prometheus scrape job that scrapes it.");
        out.found(2, evidence, "gateway.job", None);
        out.scalar(2, "job", job);
    }
    if let Some(honor) = gateway.honor_labels {
        out.comment(
            2,
            "Whether that job keeps the pushed job and instance labels (honor_labels).",
        );
        out.found(2, evidence, "gateway.honor_labels", None);
        out.line(2, &format!("honor_labels: {honor}"));
    }
}

/// One entry of `apps:`.
fn app_entry(out: &mut Writer, app: &AppSettings, evidence: &[Evidence]) {
    let key = |field: &str| format!("apps.{}.{field}", app.service);
    out.found(2, evidence, "apps", Some(&app.service));
    out.line(2, &format!("- service: {}", render_plain_or_quoted(&app.service, None)));
    if let Some(port) = app.port {
        out.comment(4, "The port it serves /metrics on.");
        out.found(4, evidence, &key("port"), None);
        out.line(4, &format!("port: {port}"));
    }
    if let Some(job) = &app.job {
        out.comment(4, "The name of its new scrape job.");
        out.scalar(4, "job", job);
    }
    if let Some(pushed_job) = &app.pushed_job {
        out.comment(4, "The `job` it pushes as: what dashboards and rules select today.");
        out.found(4, evidence, &key("pushed_job"), None);
        out.scalar(4, "pushed_job", pushed_job);
    } else if let Some(unsettled) = evidence.iter().find(|e| e.setting == key("pushed_job")) {
        out.comment(
            4,
            "The `job` it pushes as is not settled; set it to the job its series carry today:",
        );
        out.comment(4, &format!("{} ({})", unsettled.value, unsettled.because));
        out.comment(
            4,
            &format!("pushed_job: {}", render_plain_or_quoted(&unsettled.value, None)),
        );
    }
    if !app.pushed_instances.is_empty() {
        out.comment(4, "The `instance` values it pushes with (\"\" = no instance label).");
        out.found(4, evidence, &key("pushed_instances"), None);
        out.list(4, "pushed_instances", &app.pushed_instances);
    }
    if !app.metrics.is_empty() {
        out.comment(4, "Metric names it pushes.");
        out.list(4, "metrics", &app.metrics);
    }
    if !app.code.is_empty() {
        out.comment(4, "Its code: read for its push calls, listed by the `docs` phase.");
        out.found(4, evidence, &key("code"), None);
        out.list(4, "code", &app.code);
    }
}

/// A top-level list of paths (`dashboards:`, `docs:`), each with what found it.
fn path_list(out: &mut Writer, key: &str, comment: &str, paths: &[String], evidence: &[Evidence]) {
    if paths.is_empty() {
        return;
    }
    out.blank();
    out.comment(0, comment);
    out.line(0, &format!("{key}:"));
    for path in paths {
        out.found(2, evidence, key, Some(path));
        out.line(2, &format!("- {}", render_plain_or_quoted(path, None)));
    }
}

#[derive(Default)]
struct Writer {
    text: String,
}

impl Writer {
    fn raw(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    fn line(&mut self, indent: usize, line: &str) {
        self.text.push_str(&" ".repeat(indent));
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn comment(&mut self, indent: usize, text: &str) {
        for line in text.lines() {
            self.line(indent, &format!("# {line}"));
        }
    }

    /// `# found: …` for each piece of evidence for `setting` (and `value`).
    fn found(&mut self, indent: usize, evidence: &[Evidence], setting: &str, value: Option<&str>) {
        for e in evidence
            .iter()
            .filter(|e| e.setting == setting && value.is_none_or(|v| v == e.value))
        {
            self.comment(indent, &format!("found: {}", e.because));
        }
    }

    fn scalar(&mut self, indent: usize, key: &str, value: &str) {
        self.line(indent, &format!("{key}: {}", render_plain_or_quoted(value, None)));
    }

    fn list(&mut self, indent: usize, key: &str, values: &[String]) {
        self.line(indent, &format!("{key}:"));
        for value in values {
            self.line(indent + 2, &format!("- {}", render_plain_or_quoted(value, None)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::discover::evidence;
    use crate::stack::settings::{LiveSettings, ScrapeSettings};
    use crate::stack::source::{RelPath, SourceFile};

    #[test]
    fn awkward_values_read_back_as_written() {
        let settings = SettingsFile {
            compose_file: Some("deploy/compose #1.yaml".into()),
            prometheus_config: Some("prom: config/prometheus.yml".into()),
            gateway: Some(GatewaySettings {
                service: Some("true".into()),
                job: Some("- job".into()),
                honor_labels: Some(false),
            }),
            apps: vec![AppSettings {
                service: "0123".into(),
                port: Some(80),
                job: Some("'quoted'".into()),
                pushed_job: Some("a\"b".into()),
                pushed_instances: vec![String::new(), "null".into(), "x, y".into()],
                metrics: vec!["up".into()],
                code: vec!["src/".into()],
            }],
            dashboards: vec!["[dash]".into()],
            docs: vec!["README.md".into()],
            scrape: Some(ScrapeSettings::default()),
            live: Some(LiveSettings {
                prometheus_url: Some("http://localhost:9090/?a=b#c".into()),
                pushgateway_url: None,
                app_url: None,
            }),
            prometheus_version: Some("2.45".into()),
        };
        let found = [evidence("apps", "0123", "a reason\nover two lines")];
        let text = render(&settings, &found);
        let file = SourceFile::from_text(RelPath::new("pullover.yaml").unwrap(), text.clone(), 0o644);
        assert_eq!(SettingsFile::parse(&file).unwrap(), settings, "{text}");
        assert!(
            text.contains("  # found: a reason\n  # over two lines\n  - service: \"0123\"\n"),
            "{text}"
        );
    }

    #[test]
    fn empty_settings_are_only_the_header() {
        let text = render(&SettingsFile::default(), &[]);
        assert_eq!(text, HEADER);
        let file = SourceFile::from_text(RelPath::new("pullover.yaml").unwrap(), text, 0o644);
        assert_eq!(SettingsFile::parse(&file).unwrap(), SettingsFile::default());
    }
}
