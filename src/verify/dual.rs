//! Checks during `dual-run`: every pushed group against its scraped twin (per metric, rates
//! for counters), the age of the last push, and whether both sides have enough history for a
//! `rate()` over the window to mean anything.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::check::{
    Check, CheckKind, Progress, ProgressEvent, Status, VerifySettings, format_prometheus_duration, rfc3339,
};
use super::compare::{
    CompareSettings, DualRunReport, DualRunSpec, MetricComparison, PushSource, PushedGroupRef, ScrapeTargetRef, Verdict,
};
use super::dual_query::compare_dual_run;
use super::scrape::find_app_target;
use super::selector::{Matcher, selector};
use super::settle;
use super::window::{WindowSeries, fetch_window_series};
use crate::live::error::LiveError;
use crate::live::model::{Target, Targets};
use crate::live::prometheus::PrometheusClient;
use crate::live::pushgateway::PushgatewayClient;
use crate::stack::{App, Stack};

/// One pushed group compared with its scrape target: the per-metric table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DualRunTable {
    pub app: String,
    /// The pushed group's `instance`; `None` when pushed without one.
    pub pushed_instance: Option<String>,
    pub scraped_instance: String,
    pub pushed_selector: String,
    pub scraped_selector: String,
    pub window_seconds: f64,
    pub relative_tolerance: f64,
    pub evaluated_at: f64,
    pub push_age_seconds: Option<f64>,
    pub max_push_age_seconds: f64,
    /// How far apart in time the pushed and the scraped copy may be read (the push lag plus
    /// the app's scrape interval), which bounds the difference timing explains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling_offset_seconds: Option<f64>,
    pub metrics: Vec<MetricComparison>,
    /// Counters that differ and reset within the window: when they last reset (Unix seconds).
    /// Such a metric cannot be judged until the reset is out of the window.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub reset_at: BTreeMap<String, f64>,
    /// Both sides of every compared metric over the window, for `verify --report`'s charts
    /// (fetched only then; the JSON report leaves the points out).
    #[serde(skip)]
    pub window_series: Option<WindowSeries>,
}

impl DualRunTable {
    fn new(app: &App, spec: &DualRunSpec, report: DualRunReport, spec_offset: Option<Duration>) -> DualRunTable {
        DualRunTable {
            app: app.service.clone(),
            pushed_instance: spec.pushed.instance.clone(),
            scraped_instance: spec.scraped.instance.clone(),
            pushed_selector: report.pushed_selector,
            scraped_selector: report.scraped_selector,
            window_seconds: report.window.as_secs_f64(),
            relative_tolerance: report.relative_tolerance,
            evaluated_at: report.evaluated_at,
            push_age_seconds: report.push_age_seconds,
            max_push_age_seconds: report.max_push_age.as_secs_f64(),
            sampling_offset_seconds: spec_offset.map(|o| o.as_secs_f64()),
            metrics: report.metrics,
            reset_at: BTreeMap::new(),
            window_series: None,
        }
    }

    pub fn push_is_stale(&self) -> bool {
        self.push_age_seconds.is_none_or(|age| age > self.max_push_age_seconds)
    }
}

/// `app-1 → 127.0.0.1:8080`: which pair a check is about.
fn pair_label(app: &App, pushed: &PushedGroupRef, scraped: &str) -> String {
    let pushed_instance = pushed.instance.as_deref().unwrap_or("(no instance)");
    format!("{} {pushed_instance} → {scraped}", app.service)
}

/// How long to wait until a side has samples across the whole window, or `None` when it
/// has. `samples` were counted over the window at `interval`; one missing at the edges is
/// fine.
pub fn history_wait(samples: f64, interval: Duration, window: Duration) -> Option<Duration> {
    let covered = interval.mul_f64(samples.max(0.0));
    if covered + interval >= window {
        None
    } else {
        Some(window.saturating_sub(covered))
    }
}

/// The check line for one compared pair.
pub fn dual_run_check(subject: &str, table: &DualRunTable) -> Check {
    let tolerance = format!("{:.0}%", table.relative_tolerance * 100.0);
    let window = format_prometheus_duration(Duration::from_secs_f64(table.window_seconds.max(0.0)));
    let push_age = match table.push_age_seconds {
        Some(age) => format!("last push {age:.1}s ago"),
        None => "no push_time_seconds for this group".to_string(),
    };
    let mut problems: Vec<String> = Vec::new();
    let mut inconclusive: Vec<String> = Vec::new();
    let mut reset: Vec<String> = Vec::new();
    let mut too_few: Vec<&MetricComparison> = Vec::new();
    for metric in &table.metrics {
        match metric.verdict {
            // A counter that reset within the window: the two sides see the reset at
            // different times, so their rates disagree for a while without either being wrong.
            Verdict::Differs if let Some(at) = table.reset_at.get(&metric.metric) => reset.push(format!(
                "{} counter reset at {} ({} pushed, {} scraped in the window); compare again after {}",
                metric.metric,
                rfc3339(*at),
                metric.resets_old,
                metric.resets_new,
                rfc3339(at + table.window_seconds)
            )),
            Verdict::Differs => problems.push(format!(
                "{} differs by {} ({})",
                metric.metric,
                metric
                    .max_relative_difference
                    .map_or("?".to_string(), |d| format!("{:.1}%", d * 100.0)),
                metric.compared_by.as_str()
            )),
            Verdict::MissingOnNew => problems.push(format!(
                "{} missing on the scraped side ({} of {} series)",
                metric.metric,
                metric.missing_on_new.len(),
                metric.series_old
            )),
            Verdict::Inconclusive => inconclusive.push(metric.metric.clone()),
            Verdict::TooFewEvents => too_few.push(metric),
            Verdict::Match | Verdict::OnlyOnNew => {}
        }
    }
    let stale = table.push_is_stale();
    if stale {
        problems.push(format!(
            "{push_age} (more than {}): the pusher looks dead, though its series still look fresh in Prometheus",
            format_prometheus_duration(Duration::from_secs_f64(table.max_push_age_seconds.max(0.0)))
        ));
    }
    let compared = table.metrics.iter().filter(|m| m.series_old > 0).count();
    let (status, detail) = if table.metrics.is_empty() {
        (
            Status::Fail,
            format!(
                "no series on either side ({} / {})",
                table.pushed_selector, table.scraped_selector
            ),
        )
    } else if !problems.is_empty() {
        (Status::Fail, problems.join("; "))
    } else if !reset.is_empty() {
        (Status::Inconclusive, format!("cannot tell yet: {}", reset.join("; ")))
    } else if !inconclusive.is_empty() {
        (
            Status::Inconclusive,
            format!(
                "too few samples in the {window} window for {}: run again later",
                inconclusive.join(", ")
            ),
        )
    } else if !too_few.is_empty() {
        let names: Vec<&str> = too_few.iter().map(|m| m.metric.as_str()).collect();
        (
            Status::Warn,
            format!(
                "{} pushed metrics agree with the scraped ones within {tolerance} over {window}; {} counted too few events to judge ({}): they differ by no more than the timing of push and scrape explains; {push_age}",
                compared.saturating_sub(too_few.len()),
                too_few.len(),
                names.join(", ")
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "{compared} pushed metrics agree with the scraped ones within {tolerance} over {window}; {push_age}"
            ),
        )
    };
    let mut check = Check::new(CheckKind::DualRun, subject, status, detail);
    for metric in &too_few {
        if let Some(note) = too_few_events_note(metric, &window, table.sampling_offset_seconds) {
            check = check.note(note);
        }
    }
    for metric in &table.metrics {
        if metric.resets_old != metric.resets_new {
            check = check.note(format!(
                "{}: {} counter reset(s) pushed, {} scraped in the window",
                metric.metric, metric.resets_old, metric.resets_new
            ));
        }
    }
    check
}

/// `nodejs_gc_duration_seconds_count: 3 vs 2 events in 5s (33.3% apart); …`: the numbers
/// behind a [`Verdict::TooFewEvents`], from its most different series.
fn too_few_events_note(metric: &MetricComparison, window: &str, offset_seconds: Option<f64>) -> Option<String> {
    let (series, events) = metric
        .series
        .iter()
        .filter_map(|series| Some((series, series.events?)))
        .max_by(|a, b| a.1.difference.total_cmp(&b.1.difference))?;
    let count = |n: f64| {
        if (n - n.round()).abs() < 0.05 {
            format!("{}", n.round())
        } else {
            format!("{n:.1}")
        }
    };
    let offset = match offset_seconds {
        Some(seconds) => format!("the two copies are read up to {seconds:.1}s apart"),
        None => "how far apart the two copies are read is unknown".to_string(),
    };
    let what = events.what;
    Some(format!(
        "{}: {} vs {} {what} in {window} ({:.1}% apart, a difference of {}); {offset}, which explains a difference of up to {:.1}",
        series.key,
        count(events.old),
        count(events.new),
        series.relative_difference.unwrap_or(0.0) * 100.0,
        count(events.difference),
        events.allowed
    ))
}

/// The pushed groups to compare for `app`: as configured, else as Pushgateway or Prometheus
/// list them.
async fn pushed_groups(
    client: &PrometheusClient,
    gateway: Option<&PushgatewayClient>,
    source: &PushSource,
    app: &App,
) -> Result<Vec<PushedGroupRef>, LiveError> {
    let group = |instance: &str| PushedGroupRef {
        job: app.pushed_job.clone(),
        instance: (!instance.is_empty()).then(|| instance.to_string()),
    };
    if !app.pushed_instances.is_empty() {
        return Ok(app.pushed_instances.iter().map(|i| group(i)).collect());
    }
    if let Some(gateway) = gateway {
        return Ok(gateway
            .metrics()
            .await?
            .iter()
            .filter(|g| g.job() == Some(app.pushed_job.as_str()))
            .map(|g| group(g.instance().unwrap_or("")))
            .collect());
    }
    let (matchers, by) = if source.honor_labels {
        (vec![Matcher::equal("job", &app.pushed_job)], "instance")
    } else {
        (
            vec![
                Matcher::equal("job", &source.gateway_job),
                Matcher::equal("exported_job", &app.pushed_job),
            ],
            "exported_instance",
        )
    };
    let query = format!("count by ({by}) ({})", selector(Some("push_time_seconds"), &matchers));
    let mut groups: Vec<PushedGroupRef> = client
        .query(&query, None)
        .await?
        .data
        .as_vector()
        .iter()
        .map(|series| group(series.metric.get(by).map_or("", String::as_str)))
        .collect();
    groups.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok(groups)
}

/// The checks during dual-run: every pushed group of every app against its scrape target,
/// with the per-metric tables.
pub async fn dual_run_checks(
    client: &PrometheusClient,
    gateway_client: Option<&PushgatewayClient>,
    stack: &Stack,
    targets: &Targets,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<(Vec<Check>, Vec<DualRunTable>), LiveError> {
    let source = match push_source(stack) {
        Ok(source) => source,
        Err(check) => return Ok((vec![check], Vec::new())),
    };
    let run = GroupRun {
        client,
        gateway_interval: targets
            .of_job(&source.gateway_job)
            .find_map(|t| t.scrape_interval_duration()),
        source: &source,
        settings,
        progress,
        ignore_labels: match &stack.kube {
            Some(_) => crate::stack::kube::target_labels::TARGET_LABELS
                .map(String::from)
                .to_vec(),
            None => Vec::new(),
        },
    };
    let mut checks = Vec::new();
    let mut tables = Vec::new();
    for app in &stack.settings.apps {
        let target = match comparable_target(app, targets) {
            Ok(target) => target,
            Err(check) => {
                checks.push(check);
                continue;
            }
        };
        let groups = pushed_groups(client, gateway_client, &source, app).await?;
        if groups.is_empty() {
            checks.push(no_pushes_check(app));
            continue;
        }
        for pushed in groups {
            let (check, table) = run.compare_group(app, target, pushed).await?;
            checks.push(check);
            tables.extend(table);
        }
    }
    Ok((checks, tables))
}

/// How Prometheus scrapes the gateway, or the failed check that says why nothing can be
/// compared.
fn push_source(stack: &Stack) -> Result<PushSource, Check> {
    let Some(gateway) = &stack.settings.gateway else {
        return Err(Check::new(
            CheckKind::DualRun,
            "pushgateway",
            Status::Fail,
            "the stack has no Pushgateway, so there is nothing to compare",
        ));
    };
    let Some(job) = &gateway.job else {
        return Err(Check::new(
            CheckKind::DualRun,
            "pushgateway",
            Status::Fail,
            "no scrape job for the Pushgateway found in prometheus.yml, so pushed series cannot be selected",
        )
        .note("name it with `gateway: {job: …}` in pullover.yaml"));
    };
    Ok(PushSource {
        gateway_job: job.clone(),
        honor_labels: gateway.honor_labels,
    })
}

/// The app's scrape target, when its pushed series can be compared with it: the target is
/// there and the job the app pushes as is decided. Otherwise the failed check.
fn comparable_target<'t>(app: &App, targets: &'t Targets) -> Result<&'t Target, Check> {
    let Some(target) = find_app_target(targets, app) else {
        return Err(Check::new(
            CheckKind::DualRun,
            &app.service,
            Status::Fail,
            format!("no scrape target {} to compare the pushed series with", app.target()),
        ));
    };
    if !app.identity.is_decided() {
        let jobs: Vec<String> = app.identity.candidate_jobs().iter().map(|j| format!("`{j}`")).collect();
        return Err(Check::new(
            CheckKind::DualRun,
            &app.service,
            Status::Fail,
            format!(
                "which job it pushes as is undecided ({}): comparing either would be a guess",
                jobs.join(" or ")
            ),
        )
        .note(format!(
            "`pullover analyze` shows the evidence; set `pushed_job:` for {} in pullover.yaml",
            app.service
        )));
    }
    Ok(target)
}

fn no_pushes_check(app: &App) -> Check {
    Check::new(
        CheckKind::DualRun,
        &app.service,
        Status::Fail,
        format!(
            "Prometheus has no push_time_seconds for job `{}`: the app does not push (any more), so nothing can be compared",
            app.pushed_job
        ),
    )
    .note(format!(
        "if it pushes under another job name, set `pushed_job:` for {} in pullover.yaml",
        app.service
    ))
}

fn too_little_history_check(subject: String, wait: &Wait, window: Duration) -> Check {
    Check::new(
        CheckKind::DualRun,
        subject,
        Status::Inconclusive,
        format!(
            "inconclusive: {} has less history than the {} window, and rate() over a series younger than its window reads 14–22% off; wait {} and run again",
            wait.side,
            format_prometheus_duration(window),
            format_prometheus_duration(round_up_seconds(wait.wait))
        ),
    )
    .note("or compare over a shorter window with --window (at least 4 scrape intervals)")
}

/// What comparing one pushed group needs besides the group.
struct GroupRun<'a> {
    client: &'a PrometheusClient,
    source: &'a PushSource,
    gateway_interval: Option<Duration>,
    settings: &'a VerifySettings,
    progress: &'a Progress,
    /// Labels both sides carry with different values, left out of the comparison: on
    /// Kubernetes the operator's target labels (the gateway's on the pushed side, the app's
    /// on the scraped one).
    ignore_labels: Vec<String>,
}

impl GroupRun<'_> {
    /// One pushed group of `app` against its scrape target: the check, and the table when
    /// the group could be compared.
    async fn compare_group(
        &self,
        app: &App,
        target: &Target,
        pushed: PushedGroupRef,
    ) -> Result<(Check, Option<DualRunTable>), LiveError> {
        let (client, settings) = (self.client, self.settings);
        let spec = DualRunSpec {
            source: self.source.clone(),
            pushed,
            scraped: ScrapeTargetRef {
                job: app.job.clone(),
                instance: target.instance().unwrap_or_default().to_string(),
            },
            ignore_labels: self.ignore_labels.clone(),
        };
        let subject = pair_label(app, &spec.pushed, &spec.scraped.instance);
        if let Err(error) = spec.validate() {
            return Ok((
                Check::new(CheckKind::DualRun, subject, Status::Fail, error.to_string()),
                None,
            ));
        }
        let app_interval = target.scrape_interval_duration();
        if let Some(wait) = history_check(client, &spec, app_interval, self.gateway_interval, settings.window).await? {
            return Ok((too_little_history_check(subject, &wait, settings.window), None));
        }
        (self.progress)(ProgressEvent::Start {
            label: "comparing pushed and scraped series",
            total: 0,
        });
        let scrape_interval = app_interval.unwrap_or(Duration::from_secs(15));
        let compare_settings = CompareSettings {
            window: settings.window,
            tolerance: settings.tolerance,
            max_push_age: settings.max_push_age,
            concurrency: settings.concurrency,
            sampling_offset: Some(settle::push_lag(client, scrape_interval, std::time::SystemTime::now()).await),
        };
        let report = compare_dual_run(client, &spec, &compare_settings).await;
        (self.progress)(ProgressEvent::Finish);
        let mut table = DualRunTable::new(app, &spec, report?, compare_settings.sampling_offset);
        table.reset_at = reset_times(client, &spec, &table).await?;
        let check = dual_run_check(&subject, &table);
        if settings.window_series {
            // `None` orders below `Some`: the longer of the known intervals.
            let interval = app_interval.max(self.gateway_interval);
            let window = Duration::from_secs_f64(table.window_seconds.max(0.0));
            let series = fetch_window_series(
                client,
                &spec,
                &table.metrics,
                window,
                table.evaluated_at,
                interval,
                settings.concurrency,
            );
            table.window_series = Some(series.await);
        }
        Ok((check, Some(table)))
    }
}

/// When each differing counter that reset in the window last reset, on either side.
async fn reset_times(
    client: &PrometheusClient,
    spec: &DualRunSpec,
    table: &DualRunTable,
) -> Result<BTreeMap<String, f64>, LiveError> {
    let mut times = BTreeMap::new();
    let at = std::time::UNIX_EPOCH + Duration::from_secs_f64(table.evaluated_at.max(0.0));
    let range = format!("[{}ms]", (table.window_seconds * 1000.0).round().max(1.0));
    for metric in &table.metrics {
        if metric.verdict != Verdict::Differs || metric.resets_old + metric.resets_new == 0 {
            continue;
        }
        let mut last: Option<f64> = None;
        for matchers in [spec.pushed_matchers(), spec.scraped_matchers()] {
            let query = format!("{}{range}", selector(Some(&metric.metric), &matchers));
            if let crate::live::model::QueryData::Matrix(series) = client.query(&query, Some(at)).await?.data
                && let Some(reset) = settle::last_reset(&series)
            {
                last = Some(last.map_or(reset, |l: f64| l.max(reset)));
            }
        }
        if let Some(reset) = last {
            times.insert(metric.metric.clone(), reset);
        }
    }
    Ok(times)
}

struct Wait {
    side: String,
    wait: Duration,
}

fn round_up_seconds(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs() + u64::from(duration.subsec_nanos() > 0))
}

/// Whether both sides have samples across the whole window; when not, how long to wait.
async fn history_check(
    client: &PrometheusClient,
    spec: &DualRunSpec,
    scrape_interval: Option<Duration>,
    gateway_interval: Option<Duration>,
    window: Duration,
) -> Result<Option<Wait>, LiveError> {
    let range = format!("[{}ms]", window.as_millis().max(1));
    let sides = [
        (
            format!(
                "count_over_time({}{range})",
                selector(Some("up"), &spec.scraped_matchers())
            ),
            scrape_interval,
            format!("the scrape job `{}`", spec.scraped.job),
        ),
        (
            format!(
                "count_over_time({}{range})",
                selector(Some("push_time_seconds"), &spec.pushed_matchers())
            ),
            gateway_interval,
            "the pushed group".to_string(),
        ),
    ];
    let mut longest: Option<Wait> = None;
    for (query, interval, side) in sides {
        let Some(interval) = interval else { continue };
        let samples = client
            .query(&query, None)
            .await?
            .data
            .as_vector()
            .first()
            .map_or(0.0, |series| series.sample.value);
        if let Some(wait) = history_wait(samples, interval, window)
            && longest.as_ref().is_none_or(|w| wait > w.wait)
        {
            longest = Some(Wait { side, wait });
        }
    }
    Ok(longest)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::verify::compare::ComparedBy;
    use crate::verify::compare::tests::metric;

    #[test]
    fn a_job_younger_than_the_window_must_wait_for_the_rest() {
        let interval = Duration::from_secs(1);
        let window = Duration::from_secs(30);
        assert_eq!(history_wait(12.0, interval, window), Some(Duration::from_secs(18)));
        assert_eq!(history_wait(29.0, interval, window), None);
        assert_eq!(history_wait(30.0, interval, window), None);
        assert_eq!(history_wait(0.0, interval, window), Some(window));
    }

    pub(crate) fn table(metrics: Vec<MetricComparison>, push_age: Option<f64>) -> DualRunTable {
        DualRunTable {
            app: "metrics-api".into(),
            pushed_instance: Some("app-1".into()),
            scraped_instance: "127.0.0.1:8080".into(),
            pushed_selector: r#"{job="metrics-api", instance="app-1"}"#.into(),
            scraped_selector: r#"{job="metrics-api", instance="127.0.0.1:8080"}"#.into(),
            window_seconds: 300.0,
            relative_tolerance: 0.05,
            evaluated_at: 0.0,
            push_age_seconds: push_age,
            max_push_age_seconds: 120.0,
            sampling_offset_seconds: None,
            metrics,
            reset_at: BTreeMap::new(),
            window_series: None,
        }
    }

    #[test]
    fn agreeing_metrics_pass_with_the_push_age() {
        let check = dual_run_check(
            "s",
            &table(
                vec![
                    metric("http_requests_total", ComparedBy::Rate, Some(0.01), Verdict::Match),
                    metric("queue_depth", ComparedBy::Value, Some(0.0), Verdict::Match),
                ],
                Some(1.2),
            ),
        );
        assert_eq!(check.status, Status::Pass);
        assert_eq!(
            check.detail,
            "2 pushed metrics agree with the scraped ones within 5% over 5m; last push 1.2s ago"
        );
    }

    #[test]
    fn a_differing_metric_and_a_dead_pusher_fail_by_name() {
        let mut reset = metric("page_views_total", ComparedBy::Rate, Some(0.0), Verdict::Match);
        reset.resets_old = 1;
        let check = dual_run_check(
            "s",
            &table(
                vec![
                    metric("http_requests_total", ComparedBy::Rate, Some(0.5), Verdict::Differs),
                    reset,
                ],
                Some(400.0),
            ),
        );
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.detail,
            "http_requests_total differs by 50.0% (rate); last push 400.0s ago (more than 2m): the pusher looks dead, though its series still look fresh in Prometheus"
        );
        assert_eq!(
            check.notes,
            ["page_views_total: 1 counter reset(s) pushed, 0 scraped in the window"]
        );
    }

    #[test]
    fn a_counter_that_reset_in_the_window_cannot_be_judged_yet_and_never_differs() {
        let mut reset = metric("http_requests_total", ComparedBy::Rate, Some(0.073), Verdict::Differs);
        reset.resets_old = 1;
        reset.resets_new = 1;
        let mut t = table(vec![reset], Some(1.0));
        t.reset_at.insert("http_requests_total".into(), 1795591903.0);
        let check = dual_run_check("s", &t);
        assert_eq!(check.status, Status::Inconclusive);
        assert_eq!(
            check.detail,
            "cannot tell yet: http_requests_total counter reset at 2026-11-25T07:31:43Z (1 pushed, 1 scraped in the window); compare again after 2026-11-25T07:36:43Z"
        );
        assert!(!check.detail.contains("differs"));
    }

    #[test]
    fn too_few_events_to_judge_is_said_and_does_not_close_the_gate() {
        let mut gc = metric(
            "nodejs_gc_duration_seconds_count",
            ComparedBy::Rate,
            Some(1.0 / 3.0),
            Verdict::TooFewEvents,
        );
        gc.series = vec![crate::verify::compare::SeriesComparison {
            key: r#"nodejs_gc_duration_seconds_count{kind="minor"}"#.into(),
            old: Some(0.6),
            new: Some(0.4),
            relative_difference: Some(1.0 / 3.0),
            within_tolerance: false,
            events: Some(crate::verify::compare::EventJudgement {
                what: "events",
                old: 3.0,
                new: 2.0,
                difference: 1.0,
                allowed: 6.196,
            }),
        }];
        let mut t = table(
            vec![
                metric("http_requests_total", ComparedBy::Rate, Some(0.0), Verdict::Match),
                gc,
            ],
            Some(0.4),
        );
        t.window_seconds = 5.0;
        t.sampling_offset_seconds = Some(3.0);
        let check = dual_run_check("s", &t);
        assert_eq!(check.status, Status::Warn);
        assert!(!check.status.fails());
        assert_eq!(
            check.detail,
            "1 pushed metrics agree with the scraped ones within 5% over 5s; 1 counted too few events to judge (nodejs_gc_duration_seconds_count): they differ by no more than the timing of push and scrape explains; last push 0.4s ago"
        );
        assert_eq!(
            check.notes,
            [
                r#"nodejs_gc_duration_seconds_count{kind="minor"}: 3 vs 2 events in 5s (33.3% apart, a difference of 1); the two copies are read up to 3.0s apart, which explains a difference of up to 6.2"#
            ]
        );
        // Next to a real difference it is the difference that speaks.
        t.metrics.push(metric(
            "page_views_total",
            ComparedBy::Rate,
            Some(0.5),
            Verdict::Differs,
        ));
        assert_eq!(dual_run_check("s", &t).status, Status::Fail);
    }

    #[test]
    fn too_few_samples_are_inconclusive_not_a_pass() {
        let check = dual_run_check(
            "s",
            &table(
                vec![metric(
                    "http_requests_total",
                    ComparedBy::Rate,
                    None,
                    Verdict::Inconclusive,
                )],
                Some(1.0),
            ),
        );
        assert_eq!(check.status, Status::Inconclusive);
        assert!(check.status.fails());
    }
}
