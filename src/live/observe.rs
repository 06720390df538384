//! Which groups are pushed right now, as the live servers report them: Pushgateway's
//! `/api/v1/metrics` (grouping keys and metric names) and Prometheus's `push_time_seconds`
//! (one series per pushed group, under either `honor_labels`). The dashboards phase learns the
//! real pushed `job` and `instance` from these when the queries alone cannot tell.

use super::error::LiveError;
use super::model::InstantSeries;
use super::{PrometheusClient, PushGroup, PushgatewayClient};
use crate::stack::ObservedPush;

/// One series per pushed group, whatever `honor_labels` is: pushed `job`/`instance` (true) or
/// `exported_job`/`exported_instance` (false) sit in the labels.
pub const PUSHED_GROUPS_QUERY: &str = "count by (job, instance, exported_job, exported_instance) (push_time_seconds)";

/// The groups a Pushgateway holds, with their metric names.
pub fn from_pushgateway(groups: &[PushGroup], source: &str) -> Vec<ObservedPush> {
    groups
        .iter()
        .filter_map(|group| {
            Some(ObservedPush {
                job: group.job()?.to_string(),
                instance: group.instance().unwrap_or_default().to_string(),
                metrics: group.families.iter().map(|f| f.name.clone()).collect(),
                source: source.to_string(),
            })
        })
        .collect()
}

/// The groups behind Prometheus's `push_time_seconds` series ([`PUSHED_GROUPS_QUERY`]).
pub fn from_push_times(series: &[InstantSeries], source: &str) -> Vec<ObservedPush> {
    let mut out: Vec<ObservedPush> = Vec::new();
    for s in series {
        let label = |name: &str| s.metric.get(name).filter(|v| !v.is_empty()).cloned();
        // honor_labels false: the pushed key is under exported_*; job is the gateway's.
        let (job, instance) = match label("exported_job") {
            Some(job) => (Some(job), label("exported_instance")),
            None => (label("job"), label("instance")),
        };
        let Some(job) = job else { continue };
        let push = ObservedPush {
            job,
            instance: instance.unwrap_or_default(),
            metrics: Vec::new(),
            source: source.to_string(),
        };
        if !out.contains(&push) {
            out.push(push);
        }
    }
    out
}

/// Asks whichever of the two servers is given. Each answer stands on its own: one that fails
/// comes back as an error beside what the other said.
pub async fn observe_pushes(
    prometheus: Option<&PrometheusClient>,
    pushgateway: Option<&PushgatewayClient>,
) -> (Vec<ObservedPush>, Vec<LiveError>) {
    let mut observed = Vec::new();
    let mut errors = Vec::new();
    if let Some(client) = pushgateway {
        let source = format!("Pushgateway at {}", client.endpoint().base_url());
        match client.metrics().await {
            Ok(groups) => observed.extend(from_pushgateway(&groups, &source)),
            Err(error) => errors.push(error),
        }
    }
    if let Some(client) = prometheus {
        let source = format!("Prometheus at {}", client.endpoint().base_url());
        match client.query(PUSHED_GROUPS_QUERY, None).await {
            Ok(result) => observed.extend(from_push_times(result.data.as_vector(), &source)),
            Err(error) => errors.push(error),
        }
    }
    (observed, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Labels;

    fn series(labels: &[(&str, &str)]) -> InstantSeries {
        let metric: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        InstantSeries {
            metric,
            sample: crate::live::SamplePoint {
                timestamp: 0.0,
                value: 1.0,
            },
        }
    }

    #[test]
    fn push_times_give_the_pushed_key_under_either_honor_labels() {
        let honoring = series(&[("job", "metrics-api"), ("instance", "app-1")]);
        let exported = series(&[
            ("job", "pushgateway"),
            ("instance", "pushgateway:9091"),
            ("exported_job", "batch"),
        ]);
        let got = from_push_times(&[honoring, exported], "Prometheus at http://p/");
        let keys: Vec<(&str, &str)> = got.iter().map(|p| (p.job.as_str(), p.instance.as_str())).collect();
        assert_eq!(keys, [("metrics-api", "app-1"), ("batch", "")]);
        assert!(
            got.iter()
                .all(|p| p.metrics.is_empty() && p.source == "Prometheus at http://p/")
        );
    }

    #[test]
    fn a_series_without_any_job_is_no_group() {
        assert!(from_push_times(&[series(&[("instance", "x")])], "s").is_empty());
    }
}
