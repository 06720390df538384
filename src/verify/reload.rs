//! `--reload`: post `/-/reload`, then wait until Prometheus runs what the files say — the jobs
//! and rule groups in its running configuration, new targets scraped, removed ones gone.
//!
//! A 200 from `/-/reload` means the configuration loaded, but new targets show up only about
//! 5 s later (docs/label-facts.md, reload), and a 500 means Prometheus kept the old configuration.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::Serialize;
use yaml_serde::Value;

use super::check::{Progress, ProgressEvent};
use crate::duration::parse_prometheus_duration;
use crate::live::error::LiveError;
use crate::live::model::{TargetHealth, Targets};
use crate::live::prometheus::PrometheusClient;
use crate::stack::Stack;

/// The parts of `/api/v1/status/config` (Prometheus's normalised YAML) the checks read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveConfig {
    pub jobs: Vec<String>,
    /// As Prometheus resolved them: absolute, relative to its config file's folder.
    pub rule_files: Vec<String>,
}

impl LiveConfig {
    pub fn parse(yaml: &str) -> Result<LiveConfig, String> {
        let value: Value = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        let strings = |list: Option<&Value>, field: Option<&str>| -> Vec<String> {
            list.and_then(Value::as_sequence)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| match field {
                            Some(field) => item.get(field).and_then(Value::as_str),
                            None => item.as_str(),
                        })
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(LiveConfig {
            jobs: strings(value.get("scrape_configs"), Some("job_name")),
            rule_files: strings(value.get("rule_files"), None),
        })
    }
}

/// One scrape job as the stack's files define it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobView {
    pub name: String,
    /// Its scrape interval (the global one, or Prometheus's 1m default, when unset).
    pub interval: Duration,
    pub static_targets: usize,
}

/// What the stack's files tell Prometheus to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigView {
    pub jobs: Vec<JobView>,
    /// Names of the groups in the rule files prometheus.yml loads.
    pub rule_groups: Vec<String>,
}

impl ConfigView {
    pub fn of(stack: &Stack) -> ConfigView {
        let global = stack
            .prometheus
            .global_scrape_interval
            .as_deref()
            .and_then(parse_prometheus_duration)
            .unwrap_or(Duration::from_secs(60));
        let jobs = stack
            .prometheus
            .jobs
            .iter()
            .map(|job| JobView {
                name: job.name.clone(),
                interval: job
                    .scrape_interval
                    .as_deref()
                    .and_then(parse_prometheus_duration)
                    .unwrap_or(global),
                static_targets: job.targets.len(),
            })
            .collect();
        let rule_groups = stack
            .rule_files
            .iter()
            .flat_map(|f| rule_group_names(f.text()))
            .collect();
        ConfigView { jobs, rule_groups }
    }
}

/// `groups[].name` of a rule file; nothing for a file that does not parse.
pub fn rule_group_names(text: &str) -> Vec<String> {
    let Ok(value) = yaml_serde::from_str::<Value>(text) else {
        return Vec::new();
    };
    value
        .get("groups")
        .and_then(Value::as_sequence)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| g.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What must be live after a reload, given the files before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ExpectedConfig {
    pub jobs: Vec<String>,
    pub added_jobs: Vec<JobView>,
    pub removed_jobs: Vec<String>,
    pub rule_groups: Vec<String>,
    pub removed_rule_groups: Vec<String>,
}

impl ExpectedConfig {
    pub fn between(before: &ConfigView, after: &ConfigView) -> ExpectedConfig {
        let names = |view: &ConfigView| -> BTreeSet<String> { view.jobs.iter().map(|j| j.name.clone()).collect() };
        let (old, new) = (names(before), names(after));
        let old_groups: BTreeSet<&String> = before.rule_groups.iter().collect();
        let new_groups: BTreeSet<&String> = after.rule_groups.iter().collect();
        ExpectedConfig {
            jobs: new.iter().cloned().collect(),
            added_jobs: after.jobs.iter().filter(|j| !old.contains(&j.name)).cloned().collect(),
            removed_jobs: old.difference(&new).cloned().collect(),
            rule_groups: new_groups.iter().map(|g| g.to_string()).collect(),
            removed_rule_groups: old_groups.difference(&new_groups).map(|g| g.to_string()).collect(),
        }
    }

    /// How long to wait for new targets: discovery takes about 5 s, then one interval until
    /// the first scrape; twice that, with a margin.
    pub fn deadline(&self) -> Duration {
        let longest = self
            .added_jobs
            .iter()
            .map(|j| j.interval)
            .max()
            .unwrap_or(Duration::ZERO);
        (Duration::from_secs(10) + longest * 2).max(Duration::from_secs(15))
    }

    fn needs_rules(&self) -> bool {
        !self.rule_groups.is_empty() || !self.removed_rule_groups.is_empty()
    }

    fn needs_targets(&self) -> bool {
        self.added_jobs.iter().any(|j| j.static_targets > 0) || !self.removed_jobs.is_empty()
    }
}

/// What the running configuration still lacks (jobs, rule groups); empty when it is live.
pub fn config_pending(expected: &ExpectedConfig, live: &LiveConfig, rule_groups: &[String]) -> Vec<String> {
    let mut pending = Vec::new();
    for job in &expected.jobs {
        if !live.jobs.contains(job) {
            pending.push(format!("job `{job}` is not in the running configuration"));
        }
    }
    for job in &expected.removed_jobs {
        if live.jobs.contains(job) {
            pending.push(format!("job `{job}` is still in the running configuration"));
        }
    }
    for group in &expected.rule_groups {
        if !rule_groups.contains(group) {
            pending.push(format!("rule group `{group}` is not loaded"));
        }
    }
    for group in &expected.removed_rule_groups {
        if rule_groups.contains(group) {
            pending.push(format!("rule group `{group}` is still loaded"));
        }
    }
    pending
}

/// Targets not yet as they should be: new jobs' targets listed and scraped once, removed
/// jobs' targets gone.
pub fn targets_pending(expected: &ExpectedConfig, targets: &Targets) -> Vec<String> {
    let mut pending = Vec::new();
    for job in expected.added_jobs.iter().filter(|j| j.static_targets > 0) {
        let listed: Vec<_> = targets.of_job(&job.name).collect();
        if listed.is_empty() {
            pending.push(format!("job `{}` has no target yet", job.name));
        } else if listed.iter().any(|t| t.health == TargetHealth::Unknown) {
            pending.push(format!("job `{}` has not been scraped yet", job.name));
        }
    }
    for job in &expected.removed_jobs {
        if targets.of_job(job).next().is_some() {
            pending.push(format!("job `{job}` still has targets"));
        }
    }
    pending
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReloadReport {
    /// How long `POST /-/reload` took.
    pub reload_seconds: f64,
    /// Whether the running configuration has every expected job and rule group.
    pub config_live: bool,
    /// Whether new targets were scraped and removed ones went away before the deadline.
    pub targets_settled: bool,
    /// Seconds from the reload until everything settled (or the deadline).
    pub waited_seconds: f64,
    /// What had not happened by the deadline.
    pub pending: Vec<String>,
}

impl ReloadReport {
    pub fn summary(&self) -> String {
        let waited = format!("{:.1}s", self.waited_seconds);
        match (self.config_live, self.targets_settled) {
            (true, true) => format!("Prometheus reloaded and runs the new configuration (settled after {waited})"),
            (true, false) => format!(
                "Prometheus reloaded and runs the new configuration, but after {waited}: {}",
                self.pending.join("; ")
            ),
            (false, _) => format!(
                "Prometheus accepted the reload but does not run what the files say after {waited}: {}",
                self.pending.join("; ")
            ),
        }
    }
}

/// Posts `/-/reload` and polls until the running configuration and targets match `expected`
/// or `deadline` passes. A 403 (lifecycle API off) or 500 (configuration rejected, the old one
/// stays live) is an `Err` naming the cause.
pub async fn reload_and_confirm(
    client: &PrometheusClient,
    expected: &ExpectedConfig,
    deadline: Duration,
    progress: &Progress,
) -> Result<ReloadReport, LiveError> {
    let started = Instant::now();
    client.reload().await?;
    let reload_seconds = started.elapsed().as_secs_f64();
    progress(ProgressEvent::Start {
        label: "waiting for Prometheus to run the new configuration",
        total: 0,
    });
    let result = async {
        loop {
            let live = LiveConfig::parse(&client.status_config().await?).map_err(|detail| LiveError::Decode {
                url: client.endpoint().base_url().to_string(),
                status: 200,
                detail: format!("the running configuration is not YAML: {detail}"),
                body: String::new(),
            })?;
            let groups = if expected.needs_rules() {
                client.rule_groups().await?.into_iter().map(|g| g.name).collect()
            } else {
                Vec::new()
            };
            let mut pending = config_pending(expected, &live, &groups);
            let config_live = pending.is_empty();
            if config_live && expected.needs_targets() {
                pending = targets_pending(expected, &client.targets().await?);
            }
            let settled = pending.is_empty();
            if settled || started.elapsed() >= deadline {
                return Ok(ReloadReport {
                    reload_seconds,
                    config_live,
                    targets_settled: settled,
                    waited_seconds: started.elapsed().as_secs_f64(),
                    pending,
                });
            }
            progress(ProgressEvent::Advance);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    .await;
    progress(ProgressEvent::Finish);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::model::Target;

    fn view(jobs: &[(&str, u64)], groups: &[&str]) -> ConfigView {
        ConfigView {
            jobs: jobs
                .iter()
                .map(|(name, interval)| JobView {
                    name: name.to_string(),
                    interval: Duration::from_secs(*interval),
                    static_targets: 1,
                })
                .collect(),
            rule_groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn the_running_config_is_read_from_prometheus_normalised_yaml() {
        let live = LiveConfig::parse(
            "global:\n  scrape_interval: 1s\nrule_files:\n- /etc/prometheus/rules/*.yml\nscrape_configs:\n- job_name: pushgateway\n  honor_labels: true\n- job_name: metrics-api\n  metrics_path: /metrics\n",
        )
        .unwrap();
        assert_eq!(live.jobs, ["pushgateway", "metrics-api"]);
        assert_eq!(live.rule_files, ["/etc/prometheus/rules/*.yml"]);
        assert!(LiveConfig::parse("{").is_err());
    }

    #[test]
    fn after_scrape_the_new_job_must_run_and_be_scraped() {
        let expected = ExpectedConfig::between(
            &view(&[("pushgateway", 15)], &["metrics-api"]),
            &view(&[("pushgateway", 15), ("metrics-api", 30)], &["metrics-api"]),
        );
        assert_eq!(expected.added_jobs.len(), 1);
        assert_eq!(expected.deadline(), Duration::from_secs(70));
        let old = LiveConfig {
            jobs: vec!["pushgateway".into()],
            rule_files: vec![],
        };
        assert_eq!(
            config_pending(&expected, &old, &["metrics-api".into()]),
            ["job `metrics-api` is not in the running configuration"]
        );
        let new = LiveConfig {
            jobs: vec!["pushgateway".into(), "metrics-api".into()],
            rule_files: vec![],
        };
        assert!(config_pending(&expected, &new, &["metrics-api".into()]).is_empty());
        let mut unscraped: Target = serde_json::from_value(serde_json::json!({
            "scrapePool": "metrics-api", "health": "unknown",
            "labels": {"job": "metrics-api", "instance": "metrics-api:8080"}
        }))
        .unwrap();
        let mut targets = Targets {
            active: vec![unscraped.clone()],
            dropped: vec![],
        };
        assert_eq!(
            targets_pending(&expected, &targets),
            ["job `metrics-api` has not been scraped yet"]
        );
        unscraped.health = TargetHealth::Up;
        targets.active = vec![unscraped];
        assert!(targets_pending(&expected, &targets).is_empty());
        assert_eq!(
            targets_pending(&expected, &Targets::default()),
            ["job `metrics-api` has no target yet"]
        );
    }

    #[test]
    fn after_a_rollback_removed_jobs_and_rule_groups_must_be_gone() {
        let expected = ExpectedConfig::between(
            &view(&[("pushgateway", 15), ("metrics-api", 30)], &["pullover-dual-run"]),
            &view(&[("pushgateway", 15)], &[]),
        );
        assert_eq!(expected.removed_jobs, ["metrics-api"]);
        assert_eq!(expected.removed_rule_groups, ["pullover-dual-run"]);
        let still = LiveConfig {
            jobs: vec!["pushgateway".into(), "metrics-api".into()],
            rule_files: vec![],
        };
        assert_eq!(
            config_pending(&expected, &still, &["pullover-dual-run".into()]),
            [
                "job `metrics-api` is still in the running configuration",
                "rule group `pullover-dual-run` is still loaded"
            ]
        );
    }

    #[test]
    fn each_job_scrapes_at_its_own_interval_else_the_global_one() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/fast-gateway");
        let stack = Stack::load(&root, &crate::stack::settings::Overrides::default()).unwrap();
        let view = ConfigView::of(&stack);
        let interval = |name: &str| view.jobs.iter().find(|j| j.name == name).map(|j| j.interval);
        assert_eq!(interval("pushgateway"), Some(Duration::from_secs(5)));
        assert_eq!(interval("prometheus"), Some(Duration::from_secs(60)));
    }

    #[test]
    fn rule_group_names_come_from_the_rule_files() {
        assert_eq!(
            rule_group_names("groups:\n  - name: a\n    rules: []\n  - name: b\n    rules: []\n"),
            ["a", "b"]
        );
        assert!(rule_group_names("not: [valid").is_empty());
    }
}
