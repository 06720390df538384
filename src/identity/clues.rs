//! Clues to who pushes as what, read out of the stack's own queries (dashboards and rules).
//!
//! Under `honor_labels: true` a pushed series keeps the `job` and `instance` it was pushed
//! with, so an app metric selected with `job="X"` means something pushes it as job X — also
//! when X is the gateway's own job name (`job="pushgateway"`): the pusher put `pushgateway` in
//! its URL. Under `honor_labels: false` the pushed job is in `exported_job`. See
//! docs/label-facts.md for the label facts this relies on.

use std::collections::HashMap;

use crate::changeset::Location;
use crate::promql::{SelectorView, selectors};

/// What a metric name says about where its series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `push_time_seconds`, `push_failure_time_seconds`, `pushgateway_*`: made by the gateway
    /// for each pushed group (carrying the group's labels) or about itself.
    GatewayOnly,
    /// `up`, `scrape_*` (made by Prometheus per target) and `go_*`, `process_*`, `promhttp_*`
    /// (exported by the gateway and by many apps alike).
    PerTarget,
    /// A recording rule's output (`job:x:rate5m`): where it comes from depends on the rule.
    Recorded,
    /// Anything else: an application metric.
    App,
}

pub fn family(metric: &str) -> Family {
    if matches!(metric, "push_time_seconds" | "push_failure_time_seconds") || metric.starts_with("pushgateway_") {
        Family::GatewayOnly
    } else if metric == "up"
        || ["scrape_", "go_", "process_", "promhttp_"]
            .iter()
            .any(|prefix| metric.starts_with(prefix))
    {
        Family::PerTarget
    } else if metric.contains(':') {
        Family::Recorded
    } else {
        Family::App
    }
}

pub use crate::promql::metric_family as family_name;

/// One pushed label set a query names: "something pushes `metric` as job `job` (instance
/// `instance`)", in grouping-key terms whatever `honor_labels` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryClue {
    pub job: String,
    /// `None`: the query says nothing about the instance.
    pub instance: Option<String>,
    pub metric: Option<String>,
    pub family: Option<Family>,
    /// The first query that says so.
    pub location: Location,
    /// The selector as written there.
    pub selector: String,
    /// How many queries say the same.
    pub count: usize,
}

/// What reading needs to know of the stack.
pub struct ReadContext<'a> {
    pub honor_labels: bool,
    pub gateway_job: &'a str,
    /// The gateway's targets (`pushgateway:9091`): an `instance` naming one is the gateway's own.
    pub gateway_instances: &'a [String],
    /// Scrape jobs that read something else (not the gateway, not a migrated app): a query on
    /// them says nothing about pushes.
    pub other_jobs: &'a [String],
}

/// Collects clues from queries, one per distinct label set.
#[derive(Default)]
pub struct ClueCollector {
    clues: Vec<QueryClue>,
    index: HashMap<(String, Option<String>, Option<String>), usize>,
    /// Each query read so far, with the clues it counted: a query copied into many dashboards
    /// is parsed once, and counts again each time it is met.
    read: HashMap<String, Vec<usize>>,
    /// The clues the query being read counts.
    counted: Vec<usize>,
}

impl ClueCollector {
    /// `location` is asked for only when the query gives a clue not seen before: most never do.
    pub fn read(&mut self, context: &ReadContext<'_>, query: &str, location: &dyn Fn() -> Location) {
        if let Some(counted) = self.read.get(query) {
            for &at in counted {
                if let Some(clue) = self.clues.get_mut(at) {
                    clue.count += 1;
                }
            }
            return;
        }
        if let Ok(found) = selectors(query) {
            for selector in &found {
                let text = query.get(selector.span.clone()).unwrap_or_default();
                if context.honor_labels {
                    self.read_honoring_labels(context, selector, text, location);
                } else {
                    self.read_exported_labels(selector, text, location);
                }
            }
        }
        let counted = std::mem::take(&mut self.counted);
        self.read.insert(query.to_string(), counted);
    }

    pub fn finish(self) -> Vec<QueryClue> {
        self.clues
    }

    /// Adds the clues another collector found (a part read on another core), in order.
    pub fn merge(&mut self, clues: Vec<QueryClue>) {
        for clue in clues {
            let key = (clue.job.clone(), clue.instance.clone(), clue.metric.clone());
            match self.index.get(&key) {
                Some(&at) => {
                    if let Some(mine) = self.clues.get_mut(at) {
                        mine.count += clue.count;
                    }
                }
                None => {
                    self.index.insert(key, self.clues.len());
                    self.clues.push(clue);
                }
            }
        }
    }

    fn add(
        &mut self,
        job: &str,
        instance: Option<&str>,
        metric: Option<&str>,
        text: &str,
        location: &dyn Fn() -> Location,
    ) {
        let key = (
            job.to_string(),
            instance.map(str::to_string),
            metric.map(str::to_string),
        );
        if let Some(&at) = self.index.get(&key) {
            if let Some(clue) = self.clues.get_mut(at) {
                clue.count += 1;
            }
            self.counted.push(at);
            return;
        }
        self.counted.push(self.clues.len());
        self.index.insert(key, self.clues.len());
        self.clues.push(QueryClue {
            job: job.to_string(),
            instance: instance.map(str::to_string),
            metric: metric.map(str::to_string),
            family: metric.map(family),
            location: location(),
            selector: text.to_string(),
            count: 1,
        });
    }

    fn read_honoring_labels(
        &mut self,
        context: &ReadContext<'_>,
        selector: &SelectorView,
        text: &str,
        location: &dyn Fn() -> Location,
    ) {
        // An alternation (`job=~"pushgateway|website"`) says one of them, not which.
        let Some([job]) = selector.named("job") else { return };
        let metric = selector.metric.as_deref();
        let family = metric.map(family);
        let instances: Vec<&str> = selector
            .named("instance")
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .filter(|i| !context.gateway_instances.iter().any(|g| g == i))
            .collect();
        let names_gateway_instance = selector
            .named("instance")
            .is_some_and(|named| named.iter().any(|i| context.gateway_instances.contains(i)));
        {
            if context.other_jobs.contains(job) {
                return;
            }
            let on_gateway_job = job == context.gateway_job;
            match family {
                // Nothing but a metric name tells an app metric; `{job="x"}` alone says little.
                None | Some(Family::Recorded) => return,
                // Under the gateway's job these are the gateway's own unless an instance says
                // which pushed group they belong to.
                Some(Family::PerTarget) if on_gateway_job && instances.is_empty() => return,
                Some(Family::PerTarget) if metric.is_some_and(|m| m == "up" || m.starts_with("scrape_")) => return,
                Some(Family::GatewayOnly) if metric.is_some_and(|m| m.starts_with("pushgateway_")) => return,
                _ => {}
            }
            if names_gateway_instance && instances.is_empty() {
                return;
            }
            if instances.is_empty() {
                self.add(job, None, metric, text, location);
            }
            for instance in &instances {
                self.add(job, Some(instance), metric, text, location);
            }
        }
    }

    fn read_exported_labels(&mut self, selector: &SelectorView, text: &str, location: &dyn Fn() -> Location) {
        let Some([job]) = selector.named("exported_job") else {
            return;
        };
        let metric = selector.metric.as_deref();
        if metric.is_some_and(|m| m.starts_with("pushgateway_") || family(m) == Family::Recorded) {
            return;
        }
        let instances: Vec<&str> = selector
            .named("exported_instance")
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        if instances.is_empty() {
            self.add(job, None, metric, text, location);
        }
        for instance in &instances {
            self.add(job, Some(instance), metric, text, location);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::source::RelPath;

    fn read(honor_labels: bool, queries: &[&str]) -> Vec<(String, Option<String>, Option<String>)> {
        let gateway_instances = vec!["pushgateway:9091".to_string()];
        let other_jobs = vec!["prometheus".to_string()];
        let context = ReadContext {
            honor_labels,
            gateway_job: "pushgateway",
            gateway_instances: &gateway_instances,
            other_jobs: &other_jobs,
        };
        let location = Location {
            path: RelPath::new("d.json").unwrap(),
            line: 1,
            column: 1,
            context: None,
        };
        let mut collector = ClueCollector::default();
        for query in queries {
            collector.read(&context, query, &|| location.clone());
        }
        collector
            .finish()
            .into_iter()
            .map(|c| (c.job, c.instance, c.metric))
            .collect()
    }

    fn clue(job: &str, instance: Option<&str>, metric: &str) -> (String, Option<String>, Option<String>) {
        (job.into(), instance.map(Into::into), Some(metric.into()))
    }

    #[test]
    fn app_metrics_on_the_gateway_job_say_something_pushes_as_that_job() {
        let found = read(
            true,
            &[
                r#"sum(rate(page_views_total{job="pushgateway"}[5m]))"#,
                r#"http_requests_total{job="pushgateway", instance="app-1"}"#,
                r#"http_requests_total{job=~"pushgateway|website"}"#,
                r#"time() - push_time_seconds{job="pushgateway", instance="app-1"}"#,
            ],
        );
        assert_eq!(
            found,
            vec![
                clue("pushgateway", None, "page_views_total"),
                clue("pushgateway", Some("app-1"), "http_requests_total"),
                clue("pushgateway", Some("app-1"), "push_time_seconds"),
            ]
        );
    }

    #[test]
    fn the_gateways_own_metrics_and_other_jobs_say_nothing() {
        let found = read(
            true,
            &[
                r#"up{job="pushgateway"}"#,
                r#"process_resident_memory_bytes{job="pushgateway"}"#,
                r#"pushgateway_http_requests_total{job="pushgateway"}"#,
                r#"x{job="pushgateway", instance="pushgateway:9091"}"#,
                r#"prometheus_tsdb_head_series{job="prometheus"}"#,
                r#"job:x:rate5m{job="pushgateway"}"#,
                r#"{job="pushgateway"}"#,
            ],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_shared_family_under_the_gateway_job_counts_with_a_pushed_instance() {
        let found = read(
            true,
            &[r#"process_start_time_seconds{job="pushgateway", instance="app-1"}"#],
        );
        assert_eq!(
            found,
            vec![clue("pushgateway", Some("app-1"), "process_start_time_seconds")]
        );
    }

    #[test]
    fn exported_labels_name_the_pushed_group_without_honor_labels() {
        let found = read(
            false,
            &[
                r#"rows_total{job="pushgateway", exported_job="batch-etl", exported_instance="etl-1"}"#,
                r#"label_values(request_seconds_bucket{job="pushgateway"}, route)"#,
            ],
        );
        assert_eq!(found, vec![clue("batch-etl", Some("etl-1"), "rows_total")]);
    }

    #[test]
    fn families_of_histograms() {
        assert_eq!(family_name("request_seconds_bucket"), "request_seconds");
        assert_eq!(family_name("request_seconds_count"), "request_seconds");
        assert_eq!(family_name("page_views_total"), "page_views_total");
        assert_eq!(family_name("_sum"), "_sum");
    }
}
