//! Checks after `remove`: Prometheus scrapes no Pushgateway target, and no pushed series has
//! a sample newer than the removal. A removed job's series stay queryable for the 5-minute
//! lookback (docs/label-facts.md, staleness and the lookback window), so "gone" is judged by sample time, not by presence.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::check::{Check, CheckKind, Status, VerifySettings, rfc3339, unix_seconds};
use super::compare::{PushSource, PushedGroupRef};
use super::history::History;
use super::selector::{Matcher, selector};
use crate::live::error::LiveError;
use crate::live::exposition::check_exposition;
use crate::live::model::{Labels, Target};
use crate::live::prometheus::PrometheusClient;
use crate::stack::Stack;

/// Series listed under a failed check; JSON has them all.
const LISTED: usize = 5;

/// The check lines for a [`GoneReport`]. `removed_at` is when `remove` was applied (from the
/// journal); samples are judged from `report.since`, the later of that and Prometheus's last
/// reload (the removal takes effect when Prometheus loads it).
pub fn gone_check_lines(report: &GoneReport, gateway_job: &str, removed_at: Option<f64>) -> Vec<Check> {
    let since = match removed_at {
        Some(removed) if (report.since - removed).abs() >= 1.0 => format!(
            "`remove` applied at {}; counted from Prometheus's last reload at {}",
            rfc3339(removed),
            rfc3339(report.since)
        ),
        Some(removed) => rfc3339(removed),
        None => format!("Prometheus's last reload at {}", rfc3339(report.since)),
    };
    let targets = if report.gateway_targets.is_empty() {
        Check::new(
            CheckKind::Gone,
            "targets",
            Status::Pass,
            format!("Prometheus scrapes no target of job `{gateway_job}`"),
        )
    } else {
        let listed: Vec<String> = report
            .gateway_targets
            .iter()
            .map(|t| t.instance().unwrap_or(&t.scrape_url).to_string())
            .collect();
        Check::new(
            CheckKind::Gone,
            "targets",
            Status::Fail,
            format!(
                "Prometheus still scrapes job `{gateway_job}` ({}): it runs a configuration from before `remove`",
                listed.join(", ")
            ),
        )
        .note("reload it: `pullover verify --reload`, or `pullover apply --reload` next time")
    };
    let samples = if report.fresh_series.is_empty() {
        let lingering = if report.lingering_series > 0 {
            format!(
                "; {} series from before still answer queries and drop out within 5 minutes",
                report.lingering_series
            )
        } else {
            String::new()
        };
        Check::new(
            CheckKind::Gone,
            "samples",
            Status::Pass,
            format!("no sample from the Pushgateway newer than the removal ({since}){lingering}"),
        )
    } else {
        let mut check = Check::new(
            CheckKind::Gone,
            "samples",
            Status::Fail,
            format!(
                "{} series from the Pushgateway have samples newer than the removal ({since})",
                report.fresh_series.len()
            ),
        );
        for series in report.fresh_series.iter().take(LISTED) {
            let labels: Vec<String> = series
                .labels
                .iter()
                .filter(|(name, _)| name.as_str() != "__name__")
                .map(|(name, value)| format!("{name}={value:?}"))
                .collect();
            check = check.note(format!(
                "{}{{{}}} at {}",
                series.metric,
                labels.join(", "),
                rfc3339(series.timestamp)
            ));
        }
        if report.fresh_series.len() > LISTED {
            check = check.note(format!("… and {} more", report.fresh_series.len() - LISTED));
        }
        check
    };
    vec![targets, samples]
}

/// The scrape job a change took away (the `remove` phase's prometheus.yml before and after),
/// as the Pushgateway's job once the settings can no longer find it. With several removed,
/// the one that honours labels or is named after the gateway.
pub fn removed_gateway_job(before: &str, after: &str) -> Option<PushSource> {
    let jobs = |text: &str| -> Option<Vec<(String, bool)>> {
        let value: yaml_serde::Value = yaml_serde::from_str(text).ok()?;
        let list = value.get("scrape_configs")?.as_sequence()?;
        Some(
            list.iter()
                .filter_map(|job| {
                    let name = job.get("job_name")?.as_str()?.to_string();
                    let honor = job
                        .get("honor_labels")
                        .and_then(yaml_serde::Value::as_bool)
                        .unwrap_or(false);
                    Some((name, honor))
                })
                .collect(),
        )
    };
    let (old, new) = (jobs(before)?, jobs(after).unwrap_or_default());
    let removed: Vec<(String, bool)> = old
        .into_iter()
        .filter(|(name, _)| !new.iter().any(|(n, _)| n == name))
        .collect();
    let chosen = match removed.as_slice() {
        [one] => one.clone(),
        many => many
            .iter()
            .find(|(name, honor)| *honor || name.contains("pushgateway"))
            .or(many.first())?
            .clone(),
    };
    Some(PushSource {
        gateway_job: chosen.0,
        honor_labels: chosen.1,
    })
}

/// When Prometheus last loaded a configuration, from its own `/metrics`; `None` when it does
/// not say (Mimir, Thanos, a proxy in front).
async fn last_reload(client: &PrometheusClient) -> Option<f64> {
    let report = check_exposition(client.endpoint(), "metrics").await.ok()?;
    report
        .analysis
        .exposition
        .samples
        .iter()
        .find(|s| s.name == "prometheus_config_last_reload_success_timestamp_seconds")
        .map(|s| s.value)
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// Pushed groups Prometheus still knows (their series linger after removal) plus the
/// configured ones.
async fn lingering_groups(
    client: &PrometheusClient,
    source: &PushSource,
    stack: &Stack,
) -> Result<Vec<PushedGroupRef>, LiveError> {
    let (matchers, job_label, instance_label) = if source.honor_labels {
        (Vec::new(), "job", "instance")
    } else {
        (
            vec![Matcher::equal("job", &source.gateway_job)],
            "exported_job",
            "exported_instance",
        )
    };
    let query = format!(
        "count by ({job_label}, {instance_label}) ({})",
        selector(Some("push_time_seconds"), &matchers)
    );
    let mut groups: Vec<PushedGroupRef> = Vec::new();
    for series in client.query(&query, None).await?.data.as_vector() {
        if let Some(job) = series.metric.get(job_label) {
            groups.push(PushedGroupRef {
                job: job.clone(),
                instance: series.metric.get(instance_label).filter(|i| !i.is_empty()).cloned(),
            });
        }
    }
    for app in &stack.settings.apps {
        for instance in &app.pushed_instances {
            groups.push(PushedGroupRef {
                job: app.pushed_job.clone(),
                instance: (!instance.is_empty()).then(|| instance.clone()),
            });
        }
    }
    groups.sort_by(|a, b| (&a.job, &a.instance).cmp(&(&b.job, &b.instance)));
    groups.dedup();
    Ok(groups)
}

pub async fn gone_checks(
    client: &PrometheusClient,
    stack: &Stack,
    history: &History,
    settings: &VerifySettings,
) -> Result<Vec<Check>, LiveError> {
    let source = stack
        .settings
        .gateway
        .as_ref()
        .and_then(|g| {
            g.job.as_ref().map(|job| PushSource {
                gateway_job: job.clone(),
                honor_labels: g.honor_labels,
            })
        })
        .or_else(|| history.removed_gateway.clone());
    let Some(source) = source else {
        return Ok(vec![
            Check::new(
                CheckKind::Gone,
                "pushgateway",
                Status::Fail,
                "cannot tell which scrape job read the Pushgateway: neither the settings nor the journal say",
            )
            .note("name it with `gateway: {job: …}` in pullover.yaml"),
        ]);
    };
    let reloaded = last_reload(client).await;
    let since = match (history.removed_at, reloaded) {
        (Some(removed), Some(reloaded)) => removed.max(reloaded),
        (Some(at), None) | (None, Some(at)) => at,
        (None, None) => {
            return Ok(vec![Check::new(
                CheckKind::Gone,
                "samples",
                Status::Inconclusive,
                "cannot tell when the Pushgateway was removed (no `remove` in the journal, no reload time from Prometheus)",
            )]);
        }
    };
    let spec = GoneSpec {
        groups: lingering_groups(client, &source, stack).await?,
        since: UNIX_EPOCH + Duration::from_secs_f64(since.max(0.0)),
        source: source.clone(),
    };
    let report = check_gone(client, &spec, settings.concurrency).await?;
    Ok(gone_check_lines(&report, &source.gateway_job, history.removed_at))
}

/// What must be true after the gateway is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoneSpec {
    pub source: PushSource,
    pub groups: Vec<PushedGroupRef>,
    /// When the removal went live (the reload). A removed job's series stay queryable for
    /// the 5-minute lookback, so "gone" means no sample newer than this.
    pub since: SystemTime,
}

impl GoneSpec {
    /// Selectors for everything that came through the gateway: its own series and each
    /// pushed group's.
    pub fn selectors(&self) -> Vec<Vec<Matcher>> {
        let mut selectors = vec![vec![Matcher::equal("job", &self.source.gateway_job)]];
        for group in &self.groups {
            let matchers = self.source.pushed_matchers(group);
            if !selectors.contains(&matchers) {
                selectors.push(matchers);
            }
        }
        selectors
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FreshSeries {
    pub metric: String,
    pub labels: Labels,
    /// Unix seconds of its newest sample.
    pub timestamp: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoneReport {
    pub since: f64,
    /// Active targets of the gateway's scrape job.
    pub gateway_targets: Vec<Target>,
    /// Series with a sample newer than `since`.
    pub fresh_series: Vec<FreshSeries>,
    /// Series still returned by queries (older samples inside the lookback window).
    pub lingering_series: u64,
}

impl GoneReport {
    pub fn gone(&self) -> bool {
        self.gateway_targets.is_empty() && self.fresh_series.is_empty()
    }
}

/// `count by (__name__) (selector)`: which metrics still answer, and how many series each.
pub fn gone_inventory_query(matchers: &[Matcher]) -> String {
    format!("count by (__name__) ({})", selector(None, matchers))
}

/// Series of `metric` whose newest sample is newer than `since` (timestamp() reads the
/// sample's own time only for a plain selector).
pub fn gone_fresh_query(metric: &str, matchers: &[Matcher], since: SystemTime) -> String {
    format!(
        "timestamp({}) > {:.3}",
        selector(Some(metric), matchers),
        unix_seconds(since)
    )
}

pub async fn check_gone(
    client: &PrometheusClient,
    spec: &GoneSpec,
    concurrency: usize,
) -> Result<GoneReport, LiveError> {
    let targets = client.targets().await?;
    let gateway_targets: Vec<Target> = targets
        .active
        .into_iter()
        .filter(|target| {
            target.scrape_pool == spec.source.gateway_job || target.job() == Some(spec.source.gateway_job.as_str())
        })
        .collect();

    let at = SystemTime::now();
    let selectors = spec.selectors();
    let inventories = client
        .query_many(selectors.iter().map(|m| gone_inventory_query(m)), Some(at), concurrency)
        .await;
    let mut lingering_series = 0u64;
    let mut fresh_queries: Vec<(String, String)> = Vec::new();
    for (matchers, result) in selectors.iter().zip(inventories) {
        for series in result?.data.as_vector() {
            let Some(name) = series.metric.get("__name__") else {
                continue;
            };
            lingering_series = lingering_series.saturating_add(series.sample.value.max(0.0) as u64);
            fresh_queries.push((name.clone(), gone_fresh_query(name, matchers, spec.since)));
        }
    }
    let fresh_results = client
        .query_many(
            fresh_queries.iter().map(|(_, query)| query.clone()),
            Some(at),
            concurrency,
        )
        .await;
    let mut fresh_series = Vec::new();
    for ((metric, _), result) in fresh_queries.iter().zip(fresh_results) {
        for series in result?.data.as_vector() {
            fresh_series.push(FreshSeries {
                metric: metric.clone(),
                labels: series.metric.clone(),
                timestamp: series.sample.value,
            });
        }
    }
    Ok(GoneReport {
        since: unix_seconds(spec.since),
        gateway_targets,
        fresh_series,
        lingering_series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_means_no_target_and_no_fresh_sample_though_old_series_linger() {
        let report = GoneReport {
            since: 1795591903.0,
            gateway_targets: vec![],
            fresh_series: vec![],
            lingering_series: 12,
        };
        let lines = gone_check_lines(&report, "pushgateway", Some(1795591903.0));
        assert!(lines.iter().all(|c| c.status == Status::Pass));
        assert_eq!(
            lines[1].detail,
            "no sample from the Pushgateway newer than the removal (2026-11-25T07:31:43Z); 12 series from before still answer queries and drop out within 5 minutes"
        );
    }

    #[test]
    fn the_removal_time_is_the_remove_phases_not_a_later_reload() {
        // `docs` applied with --reload a minute after `remove`: the removal is still `remove`'s.
        let report = GoneReport {
            since: 1795591963.0,
            gateway_targets: vec![],
            fresh_series: vec![],
            lingering_series: 0,
        };
        let lines = gone_check_lines(&report, "pushgateway", Some(1795591903.0));
        assert_eq!(
            lines[1].detail,
            "no sample from the Pushgateway newer than the removal (`remove` applied at 2026-11-25T07:31:43Z; counted from Prometheus's last reload at 2026-11-25T07:32:43Z)"
        );
    }

    #[test]
    fn the_removed_scrape_job_is_the_gateway_once_settings_cannot_find_it() {
        let before = "scrape_configs:\n  - job_name: metrics-api\n  - job_name: pushgateway\n    honor_labels: true\n";
        let after = "scrape_configs:\n  - job_name: metrics-api\n";
        assert_eq!(
            removed_gateway_job(before, after),
            Some(PushSource {
                gateway_job: "pushgateway".into(),
                honor_labels: true
            })
        );
        assert_eq!(removed_gateway_job(after, after), None);
        assert_eq!(removed_gateway_job("services: {}", after), None);
    }

    #[test]
    fn a_fresh_pushed_sample_fails_naming_the_series() {
        let report = GoneReport {
            since: 1795591903.0,
            gateway_targets: vec![],
            fresh_series: vec![FreshSeries {
                metric: "page_views_total".into(),
                labels: [
                    ("__name__".to_string(), "page_views_total".to_string()),
                    ("instance".to_string(), "app-1".to_string()),
                ]
                .into(),
                timestamp: 1795591910.0,
            }],
            lingering_series: 3,
        };
        let lines = gone_check_lines(&report, "pushgateway", Some(1795591903.0));
        assert_eq!(lines[1].status, Status::Fail);
        assert_eq!(
            lines[1].notes,
            ["page_views_total{instance=\"app-1\"} at 2026-11-25T07:31:50Z"]
        );
    }

    #[test]
    fn gone_queries_judge_by_sample_time() {
        let spec = GoneSpec {
            source: PushSource {
                gateway_job: "pushgateway".into(),
                honor_labels: true,
            },
            groups: vec![PushedGroupRef {
                job: "metrics-api".into(),
                instance: Some("app-1".into()),
            }],
            since: UNIX_EPOCH + Duration::from_millis(1_795_591_903_702),
        };
        let selectors = spec.selectors();
        assert_eq!(
            gone_inventory_query(&selectors[0]),
            r#"count by (__name__) ({job="pushgateway"})"#
        );
        assert_eq!(
            gone_fresh_query("page_views_total", &selectors[1], spec.since),
            r#"timestamp(page_views_total{job="metrics-api", instance="app-1"}) > 1795591903.702"#
        );
    }
}
