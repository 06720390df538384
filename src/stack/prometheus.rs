//! A typed view of prometheus.yml: scrape jobs, their targets and
//! `honor_labels`, and `rule_files`.

use yaml_serde::Value;

use crate::changeset::Location;
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{ItemMatch, Route, YamlDoc, scalar_string};
use crate::stack::source::SourceFile;

#[derive(Debug, Clone)]
pub struct PromConfig {
    pub file: SourceFile,
    pub doc: YamlDoc,
    pub jobs: Vec<ScrapeJob>,
    pub rule_files: Vec<String>,
    pub global_scrape_interval: Option<String>,
    pub global_scrape_timeout: Option<String>,
}

/// One `static_configs` entry: its targets and the `labels` it adds to them.
pub type StaticLabels = (Vec<String>, Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeJob {
    pub name: String,
    pub honor_labels: bool,
    /// Targets of `static_configs`, as written.
    pub targets: Vec<String>,
    /// Whether the job also finds targets another way (file_sd, dns_sd, docker_sd…).
    pub has_service_discovery: bool,
    /// Its own `scrape_interval`, as written.
    pub scrape_interval: Option<String>,
    /// The `labels` of each of its `static_configs`, with that config's targets.
    pub static_labels: Vec<StaticLabels>,
    /// Byte offset of the job's `job_name` value, for findings.
    pub offset: usize,
}

impl PromConfig {
    pub fn parse(file: SourceFile) -> Result<PromConfig, Diagnostic> {
        let doc = YamlDoc::parse(file.text()).map_err(|e| e.to_diagnostic(&file))?;
        let value = doc.value();
        if !value.is_null() && !value.is_mapping() {
            return Err(Diagnostic::error(format!(
                "{} is not a Prometheus configuration (not a mapping)",
                file.path
            ))
            .help("point pullover at prometheus.yml with --prometheus-config PATH"));
        }
        if let Some(root) = doc.root() {
            check_top_level_keys(&file, &root.entries())?;
        }
        let mut jobs = Vec::new();
        let job_nodes = doc
            .root()
            .and_then(|r| r.get("scrape_configs"))
            .and_then(|e| e.value)
            .map(|n| n.items());
        let job_values = value
            .get("scrape_configs")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (index, job) in job_values.iter().enumerate() {
            let Some(name) = job.get("job_name").and_then(scalar_string) else {
                continue;
            };
            let offset = job_nodes
                .as_ref()
                .and_then(|items| items.get(index))
                .and_then(|item| item.value.as_ref())
                .and_then(|v| v.get("job_name"))
                .and_then(|e| e.value)
                .map_or(0, |v| v.range().start);
            if let Some(previous) = jobs.iter().find(|j: &&ScrapeJob| j.name == name) {
                let (line, _) = file.line_col(previous.offset);
                return Err(
                    Diagnostic::error(format!("found multiple scrape configs with job name \"{name}\""))
                        .at(&file, offset..offset + name.len(), "second definition")
                        .help(format!(
                            "the first is on line {line}; Prometheus refuses this config, fix it first"
                        )),
                );
            }
            let targets = job
                .get("static_configs")
                .and_then(Value::as_sequence)
                .map(|configs| {
                    configs
                        .iter()
                        .filter_map(|c| c.get("targets").and_then(Value::as_sequence))
                        .flatten()
                        .filter_map(scalar_string)
                        .collect()
                })
                .unwrap_or_default();
            let static_labels = job
                .get("static_configs")
                .and_then(Value::as_sequence)
                .map(|configs| {
                    configs
                        .iter()
                        .map(|c| {
                            let targets = c
                                .get("targets")
                                .and_then(Value::as_sequence)
                                .map(|t| t.iter().filter_map(scalar_string).collect())
                                .unwrap_or_default();
                            let labels = c
                                .get("labels")
                                .and_then(Value::as_mapping)
                                .map(|m| {
                                    m.iter()
                                        .filter_map(|(k, v)| Some((scalar_string(k)?, scalar_string(v)?)))
                                        .collect()
                                })
                                .unwrap_or_default();
                            (targets, labels)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let has_service_discovery = job
                .as_mapping()
                .is_some_and(|m| m.keys().filter_map(scalar_string).any(|k| k.ends_with("_sd_configs")));
            jobs.push(ScrapeJob {
                honor_labels: job.get("honor_labels").and_then(Value::as_bool).unwrap_or(false),
                name,
                targets,
                has_service_discovery,
                scrape_interval: job.get("scrape_interval").and_then(scalar_string),
                static_labels,
                offset,
            });
        }
        let rule_files = match value.get("rule_files") {
            Some(Value::Sequence(seq)) => seq.iter().filter_map(scalar_string).collect(),
            _ => Vec::new(),
        };
        let global = value.get("global");
        Ok(PromConfig {
            global_scrape_interval: global.and_then(|g| g.get("scrape_interval")).and_then(scalar_string),
            global_scrape_timeout: global.and_then(|g| g.get("scrape_timeout")).and_then(scalar_string),
            file,
            doc,
            jobs,
            rule_files,
        })
    }

    /// How often the job named `job` scrapes: its own `scrape_interval`, else the global one,
    /// else Prometheus's default (1m); with where that comes from.
    pub fn interval_of(&self, job: Option<&str>) -> (String, String) {
        if let Some((name, interval)) = job
            .and_then(|name| self.job(name))
            .and_then(|j| Some((&j.name, j.scrape_interval.clone()?)))
        {
            return (
                interval,
                format!("the `scrape_interval` of job `{name}` in {}", self.file.path),
            );
        }
        match &self.global_scrape_interval {
            Some(global) => (
                global.clone(),
                format!("the global `scrape_interval` in {}", self.file.path),
            ),
            None => ("1m".into(), "Prometheus's default `scrape_interval`".into()),
        }
    }

    pub fn job(&self, name: &str) -> Option<&ScrapeJob> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// Jobs with a static target on `host` (any port, or exactly `host:port`).
    pub fn jobs_targeting<'a>(&'a self, host: &'a str, port: Option<u16>) -> impl Iterator<Item = &'a ScrapeJob> + 'a {
        self.jobs.iter().filter(move |job| {
            job.targets.iter().any(|t| {
                let (h, p) = t
                    .rsplit_once(':')
                    .map_or((t.as_str(), None), |(h, p)| (h, p.parse::<u16>().ok()));
                h == host && (port.is_none() || p == port)
            })
        })
    }
}

/// The top-level keys of prometheus.yml (Prometheus 2.x and 3.x).
const TOP_LEVEL_KEYS: &[&str] = &[
    "global",
    "runtime",
    "rule_files",
    "scrape_config_files",
    "scrape_configs",
    "storage",
    "tracing",
    "alerting",
    "remote_write",
    "remote_read",
    "otlp",
];

/// A misspelt top-level key (`scrape_config:`) makes Prometheus refuse the file, and a
/// plan would add a second, real `scrape_configs` beside it: say so instead. Other unknown
/// keys are left to Prometheus (a newer release may know them).
fn check_top_level_keys(file: &SourceFile, entries: &[crate::edit::yaml::Entry]) -> Result<(), Diagnostic> {
    for entry in entries {
        if TOP_LEVEL_KEYS.contains(&entry.key.as_str()) {
            continue;
        }
        let near = TOP_LEVEL_KEYS
            .iter()
            .filter(|known| !entries.iter().any(|e| e.key == **known))
            .find(|known| edit_distance(&entry.key, known) <= 2);
        if let Some(known) = near {
            return Err(Diagnostic::error(format!(
                "{}: `{}` is not a Prometheus setting; did you mean `{known}`?",
                file.path, entry.key
            ))
            .at(file, entry.key_range.clone(), "Prometheus refuses an unknown key")
            .help(format!(
                "rename it to `{known}` and run pullover again; nothing was written"
            )));
        }
    }
    Ok(())
}

/// Levenshtein distance, for spotting misspelt keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Every `groups[].rules[]` entry of a rule file, with its route.
pub fn rules(doc: &YamlDoc) -> Vec<(Route, Value)> {
    let mut out = Vec::new();
    let groups = doc.value().get("groups").and_then(Value::as_sequence);
    for (g, group) in groups.into_iter().flatten().enumerate() {
        let Some(rules) = group.get("rules").and_then(Value::as_sequence) else {
            continue;
        };
        for (r, rule) in rules.iter().enumerate() {
            let route = Route::root()
                .key("groups")
                .item(ItemMatch::Index(g))
                .key("rules")
                .item(ItemMatch::Index(r));
            out.push((route, rule.clone()));
        }
    }
    out
}

/// Every rule's `expr` of a rule file, with where it is (`rule "Name"`).
pub fn rule_exprs(file: &SourceFile) -> Result<Vec<(String, Location)>, crate::edit::yaml::YamlError> {
    let doc = YamlDoc::parse(file.text())?;
    let mut out = Vec::new();
    for (route, rule) in rules(&doc) {
        let Some(expr) = rule.get("expr").and_then(Value::as_str) else {
            continue;
        };
        let offset = doc.find(&route.key("expr")).map_or(0, |node| node.range().start);
        let name = rule
            .get("alert")
            .or_else(|| rule.get("record"))
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        out.push((
            expr.to_string(),
            Location::at(file, offset).with_context(format!("rule {name:?}")),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::source::RelPath;

    fn config(text: &str) -> Result<PromConfig, Diagnostic> {
        PromConfig::parse(SourceFile::from_text(
            RelPath::new("prometheus.yml").unwrap(),
            text,
            0o644,
        ))
    }

    #[test]
    fn jobs_targets_and_honor_labels_are_read() {
        let c = config(
            "scrape_configs:\n  - job_name: batch\n    honor_labels: true\n    static_configs:\n      - targets: ['pushgateway:9091']\n  - job_name: files\n    file_sd_configs:\n      - files: [a.json]\n",
        )
        .unwrap();
        assert_eq!(c.jobs.len(), 2);
        assert!(c.jobs[0].honor_labels);
        assert_eq!(
            c.jobs_targeting("pushgateway", Some(9091))
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>(),
            ["batch"]
        );
        assert!(c.jobs[1].has_service_discovery);
    }

    #[test]
    fn a_job_defined_twice_is_an_error_at_the_second() {
        let err = config("scrape_configs:\n  - job_name: a\n  - job_name: a\n").unwrap_err();
        assert_eq!(err.location().as_deref(), Some("prometheus.yml:3:15"));
    }

    #[test]
    fn a_misspelt_top_level_key_is_an_error_at_the_key() {
        let err = config("scrape_config:\n  - job_name: a\n").unwrap_err();
        assert_eq!(err.location().as_deref(), Some("prometheus.yml:1:1"));
        assert!(err.message.contains("did you mean `scrape_configs`"), "{}", err.message);
        // A key Prometheus may learn later is left to Prometheus.
        assert!(config("x_future: 1\nscrape_configs: []\n").is_ok());
        // `scrape_configs` present: `scrape_config_files` is not a misspelling of it.
        assert!(config("scrape_config_files: []\nscrape_configs: []\n").is_ok());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("scrape_config", "scrape_configs"), 1);
        assert_eq!(edit_distance("rule_file", "rule_files"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("global", "global"), 0);
    }
}
