//! The report as a person reads it (one line per check, then the per-metric tables and the
//! queries that did not match) and as a program reads it (versioned JSON).

use std::time::Duration;

use serde::Serialize;

use super::check::{Check, CheckKind, Stage, Status, format_prometheus_duration};
use super::compare::{ComparedBy, MetricComparison, metric_column_width};
use super::dual::DualRunTable;
use super::queries::PairResult;
use super::run::VerifyReport;
use crate::envelope::Envelope;

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let styled = console::style(text).force_styling(true);
    match status {
        Status::Pass => styled.green(),
        Status::Warn | Status::Inconclusive => styled.yellow(),
        Status::Fail => styled.red(),
    }
    .bold()
    .to_string()
}

/// `✓ target           metrics-api: … is up` and its notes below.
pub fn check_line(check: &Check, color: bool) -> String {
    let mut out = format!(
        "{} {:<16} {}: {}\n",
        paint(check.status.mark(), check.status, color),
        check.kind.label(),
        check.subject,
        check.detail
    );
    for note in &check.notes {
        out.push_str(&format!("    {note}\n"));
    }
    out
}

/// The cells of one row of the per-metric table, as the text and HTML reports show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub series_old: usize,
    pub series_new: usize,
    /// `50.0%`, or `-` when nothing could be compared.
    pub max_difference: String,
    /// `rate` or `value`.
    pub compared_by: &'static str,
    /// `pushed/scraped` counter resets, `-` for values.
    pub resets: String,
    pub verdict: &'static str,
}

impl MetricRow {
    pub fn of(metric: &MetricComparison) -> MetricRow {
        let resets = match metric.compared_by {
            ComparedBy::Rate => format!("{}/{}", metric.resets_old, metric.resets_new),
            ComparedBy::Value | ComparedBy::Presence => "-".to_string(),
        };
        let compared_by = metric.compared_by.as_str();
        MetricRow {
            metric: metric.metric.clone(),
            series_old: metric.series_old,
            series_new: metric.series_new,
            max_difference: metric
                .max_relative_difference
                .map_or("-".to_string(), |d| format!("{:.1}%", d * 100.0)),
            compared_by,
            resets,
            verdict: metric.verdict.as_str(),
        }
    }
}

/// `metrics-api app-1 → 127.0.0.1:8080`: which pair a table is about.
pub fn table_heading(table: &DualRunTable) -> String {
    format!(
        "{} {} → {}",
        table.app,
        table.pushed_instance.as_deref().unwrap_or("(no instance)"),
        table.scraped_instance
    )
}

pub fn dual_run_table(table: &DualRunTable) -> String {
    let mut out = format!(
        "{} (rate over {}, tolerance {:.0}%)\n",
        table_heading(table),
        format_prometheus_duration(Duration::from_secs_f64(table.window_seconds.max(0.0))),
        table.relative_tolerance * 100.0
    );
    out.push_str(&format!(
        "  old: {}\n  new: {}\n",
        table.pushed_selector, table.scraped_selector
    ));
    let width = metric_column_width(&table.metrics);
    out.push_str(&format!(
        "  {:<width$}  {:>3}  {:>3}  {:>8}  {:<5}  {:>6}  verdict\n",
        "metric", "old", "new", "max diff", "by", "resets"
    ));
    for row in table.metrics.iter().map(MetricRow::of) {
        out.push_str(&format!(
            "  {:<width$}  {:>3}  {:>3}  {:>8}  {:<5}  {:>6}  {}\n",
            row.metric, row.series_old, row.series_new, row.max_difference, row.compared_by, row.resets, row.verdict
        ));
    }
    out
}

fn pair_block(pair: &PairResult, color: bool) -> String {
    let mut out = format!(
        "  {} {} ({}): {}\n",
        paint(pair.verdict.status.mark(), pair.verdict.status, color),
        pair.owner,
        pair.location,
        pair.verdict.detail
    );
    out.push_str(&format!(
        "      old: {}\n      new: {}\n",
        pair.old_query, pair.new_query
    ));
    out
}

pub fn render_text(report: &VerifyReport, color: bool) -> String {
    let mut out = match &report.prometheus_url {
        Some(url) if report.checks.iter().any(|c| c.kind != CheckKind::Exposition) => {
            format!("Checks after `{}` against {url}\n", report.stage)
        }
        _ => format!("Checks after `{}`\n", report.stage),
    };
    if report.stage == Stage::Baseline {
        out = "Checks before `scrape` (no phase applied yet)\n".to_string();
    }
    for check in &report.checks {
        out.push_str(&check_line(check, color));
    }
    for table in &report.dual_run {
        out.push('\n');
        out.push_str(&dual_run_table(table));
    }
    let shown: Vec<&PairResult> = report
        .queries
        .iter()
        .filter(|p| p.verdict.status != Status::Pass)
        .collect();
    if !shown.is_empty() {
        out.push_str("\nQueries that do not match (or could not be compared):\n");
        let mut file = "";
        for pair in shown {
            if pair.file != file {
                file = &pair.file;
                out.push_str(&format!(" {file}\n"));
            }
            out.push_str(&pair_block(pair, color));
        }
    }
    out.push('\n');
    out.push_str(&summary(report));
    out
}

pub fn summary(report: &VerifyReport) -> String {
    let mut parts = vec![format!("{} passed", report.count(Status::Pass))];
    for (status, word) in [
        (Status::Fail, "failed"),
        (Status::Inconclusive, "inconclusive"),
        (Status::Warn, "with warnings"),
    ] {
        let n = report.count(status);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let checks = report.checks.len();
    let mut line = format!(
        "{checks} {}: {}",
        if checks == 1 { "check" } else { "checks" },
        parts.join(", ")
    );
    if report.stats.queries > 0 {
        line.push_str(&format!(
            " ({} queries in {}; Prometheus's own time {})",
            report.stats.queries,
            seconds(report.stats.wall_seconds),
            seconds(report.stats.server_seconds)
        ));
    }
    line.push_str(".\n");
    if !report.passed() {
        line.push_str(if report.count(Status::Fail) > 0 {
            "The gate is closed: fix what failed before the next phase (`pullover apply` refuses until then, unless --force).\n"
        } else {
            "Not enough data yet to tell: run `pullover verify` again later.\n"
        });
    }
    line
}

/// `12 ms`, `1.25 s`.
pub fn seconds(value: f64) -> String {
    if value < 1.0 {
        format!("{:.0} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    passed: bool,
    #[serde(flatten)]
    report: &'a VerifyReport,
}

pub fn render_json(report: &VerifyReport) -> serde_json::Value {
    let body = VerifyJson {
        passed: report.passed(),
        report,
    };
    serde_json::to_value(Envelope::new("verify", body))
        .unwrap_or_else(|e| Envelope::new("verify", serde_json::json!({"error": e.to_string()})).to_value())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::phase::PhaseId;
    use crate::verify::compare::Verdict;
    use crate::verify::compare::tests::metric;
    use crate::verify::dual::tests::table;
    use crate::verify::runner::RunStats;

    /// A failed dual-run report, for the renderers' tests.
    pub(crate) fn report() -> VerifyReport {
        VerifyReport {
            stage: Stage::After(PhaseId::DualRun),
            prometheus_url: Some("http://127.0.0.1:9090/".into()),
            checks: vec![
                Check::new(
                    CheckKind::Target,
                    "metrics-api",
                    Status::Pass,
                    "job `metrics-api` target 127.0.0.1:8080 is up",
                ),
                Check::new(
                    CheckKind::DualRun,
                    "metrics-api app-1 → 127.0.0.1:8080",
                    Status::Fail,
                    "http_requests_total differs by 50.0% (rate)",
                ),
            ],
            exposition: vec![],
            dual_run: vec![table(
                vec![
                    metric("http_requests_total", ComparedBy::Rate, Some(0.5), Verdict::Differs),
                    metric("queue_depth", ComparedBy::Value, Some(0.0), Verdict::Match),
                ],
                Some(1.0),
            )],
            queries: vec![],
            load: None,
            stats: RunStats::default(),
        }
    }

    #[test]
    fn the_text_report_has_one_line_per_check_then_the_table() {
        insta::assert_snapshot!(render_text(&report(), false), @r#"
        Checks after `dual-run` against http://127.0.0.1:9090/
        ✓ target           metrics-api: job `metrics-api` target 127.0.0.1:8080 is up
        ✗ dual-run         metrics-api app-1 → 127.0.0.1:8080: http_requests_total differs by 50.0% (rate)

        metrics-api app-1 → 127.0.0.1:8080 (rate over 5m, tolerance 5%)
          old: {job="metrics-api", instance="app-1"}
          new: {job="metrics-api", instance="127.0.0.1:8080"}
          metric               old  new  max diff  by     resets  verdict
          http_requests_total    1    1     50.0%  rate      0/0  differs
          queue_depth            1    1      0.0%  value       -  match

        2 checks: 1 passed, 1 failed.
        The gate is closed: fix what failed before the next phase (`pullover apply` refuses until then, unless --force).
        "#);
    }

    #[test]
    fn json_is_versioned_and_says_whether_it_passed() {
        let json = render_json(&report());
        assert_eq!(json["version"], 1);
        assert_eq!(json["command"], "verify");
        assert_eq!(json["passed"], false);
        assert_eq!(json["stage"], "dual-run");
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["checks"][1]["kind"], "dual-run");
        assert_eq!(json["dual_run"][0]["metrics"][0]["verdict"], "differs");
    }
}
