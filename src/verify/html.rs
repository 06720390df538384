//! `verify --report`: the dual-run checks as one self-contained HTML page. The verdict
//! table as the text report has it, a chart per compared metric (old against new over the
//! window, and their difference) as inline SVG drawn with plotters, and the commands to go
//! on or roll back. Pure: the page comes back as a string; the command writes it.
//!
//! Every value reaches the page through the template's HTML auto-escaping; the charts hold
//! numbers only (plotters escapes what text it writes, too). Free text that may carry a URL
//! goes through the same secret masking as everything pullover prints.

use std::path::Path;
use std::time::{Duration, SystemTime};

use minijinja::{AutoEscape, Environment};
use plotters::prelude::*;
use serde::Serialize;

use super::check::{Check, Status, format_prometheus_duration, rfc3339};
use super::compare::{ComparedBy, Verdict, relative_difference};
use super::dual::DualRunTable;
use super::render::{MetricRow, summary, table_heading};
use super::run::VerifyReport;
use super::window::{MetricWindow, Points, WindowSeries};
use crate::changeset::redact::mask_line;

/// The report's file name inside `--report DIR`.
pub const REPORT_FILE_NAME: &str = "pullover-dual-run-report.html";

const TEMPLATE: &str = include_str!("../../templates/verify/dual-run-report.html.j2");

/// Line colours. Distinct from every other colour on the page (the browser test looks for
/// them), and from each other for colour-blind readers (orange/blue).
pub const OLD_COLOUR: RGBColor = RGBColor(242, 142, 43);
pub const NEW_COLOUR: RGBColor = RGBColor(31, 119, 180);
pub const DIFFERENCE_COLOUR: RGBColor = RGBColor(123, 78, 163);
const GRID_COLOUR: RGBColor = RGBColor(228, 228, 232);
const AXIS_COLOUR: RGBColor = RGBColor(120, 120, 128);
const TOLERANCE_COLOUR: RGBColor = RGBColor(150, 150, 156);

/// The old line is drawn wide and the new one narrow on top, so where the two agree exactly
/// the old one still shows as a band on both sides of the new one.
const OLD_STROKE: u32 = 6;
const NEW_STROKE: u32 = 2;

const CHART_SIZE: (u32, u32) = (960, 300);
/// Of [`CHART_SIZE`]'s height: the values; the rest is the difference.
const VALUES_HEIGHT: u32 = 190;
const Y_LABEL_WIDTH: u32 = 72;
/// plotters' SVG backend writes text at this size / 1.24: 12 px.
const LABEL_SIZE: u32 = 15;

/// What the page says beyond the report itself.
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// The stack folder, as the commands on the page should name it.
    pub stack: String,
    pub generated_at: SystemTime,
}

#[derive(Serialize)]
struct Colours {
    old: String,
    new: String,
    difference: String,
}

#[derive(Serialize)]
struct CheckModel {
    mark: &'static str,
    status: Status,
    kind: &'static str,
    subject: String,
    detail: String,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct RowModel {
    #[serde(flatten)]
    row: MetricRow,
    status: Status,
}

#[derive(Serialize)]
struct ChartModel {
    metric: String,
    verdict: &'static str,
    status: Status,
    old_query: String,
    new_query: String,
    /// The drawing; `None` with a `note` saying why.
    svg: Option<String>,
    note: Option<String>,
    series: Vec<String>,
    left_out: Vec<String>,
}

#[derive(Serialize)]
struct TableModel {
    heading: String,
    old_selector: String,
    new_selector: String,
    evaluated_at: String,
    window: String,
    tolerance: String,
    push_age: String,
    rate_interval: String,
    rows: Vec<RowModel>,
    charts: Vec<ChartModel>,
    charts_note: String,
}

#[derive(Serialize)]
struct Commands {
    go_on: String,
    roll_back: String,
}

#[derive(Serialize)]
struct PageModel {
    title: String,
    stack: String,
    stage: String,
    prometheus_url: Option<String>,
    generated_at: String,
    version: &'static str,
    passed: bool,
    /// How the summary is coloured: pass, fail, or inconclusive when only that keeps the gate shut.
    gate: Status,
    summary: Vec<String>,
    checks: Vec<CheckModel>,
    commands: Commands,
    tables: Vec<TableModel>,
    colours: Colours,
}

fn hex(colour: RGBColor) -> String {
    // As plotters writes colours into the SVG.
    format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
}

fn masked(text: &str) -> String {
    mask_line(text).into_owned()
}

/// A word the shell reads back as itself: as is when it is plain, else single-quoted.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn verdict_status(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Match | Verdict::OnlyOnNew => Status::Pass,
        Verdict::Differs | Verdict::MissingOnNew => Status::Fail,
        Verdict::Inconclusive => Status::Inconclusive,
        Verdict::TooFewEvents => Status::Warn,
    }
}

fn check_model(check: &Check) -> CheckModel {
    CheckModel {
        mark: check.status.mark(),
        status: check.status,
        kind: check.kind.label(),
        subject: masked(&check.subject),
        detail: masked(&check.detail),
        notes: check.notes.iter().map(|note| masked(note)).collect(),
    }
}

fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.max(0.0))
}

fn table_model(table: &DualRunTable) -> TableModel {
    let rows = table
        .metrics
        .iter()
        .map(|metric| RowModel {
            row: MetricRow::of(metric),
            status: verdict_status(metric.verdict),
        })
        .collect();
    let (charts, rate_interval, charts_note) = match &table.window_series {
        Some(window) => {
            let charts: Vec<ChartModel> = window
                .metrics
                .iter()
                .map(|metric| chart_model(table, window, metric))
                .collect();
            let note = if charts.is_empty() {
                "no metric has pushed series to draw".to_string()
            } else {
                String::new()
            };
            (charts, format_prometheus_duration(window.rate_interval), note)
        }
        None => (
            Vec::new(),
            String::new(),
            "the series over the window were not fetched".to_string(),
        ),
    };
    TableModel {
        heading: table_heading(table),
        old_selector: table.pushed_selector.clone(),
        new_selector: table.scraped_selector.clone(),
        evaluated_at: rfc3339(table.evaluated_at),
        window: format_prometheus_duration(seconds(table.window_seconds)),
        tolerance: format!("{:.0}%", table.relative_tolerance * 100.0),
        push_age: match table.push_age_seconds {
            Some(age) => format!("last push {age:.1}s before"),
            None => "no push_time_seconds for this group".to_string(),
        },
        rate_interval,
        rows,
        charts,
        charts_note,
    }
}

fn chart_model(table: &DualRunTable, window: &WindowSeries, metric: &MetricWindow) -> ChartModel {
    let verdict = table
        .metrics
        .iter()
        .find(|m| m.metric == metric.metric)
        .map_or(Verdict::Inconclusive, |m| m.verdict);
    let has_points = metric.pairs.iter().any(|p| !p.old.is_empty() || !p.new.is_empty());
    let (svg, note) = match &metric.error {
        Some(error) => (None, Some(format!("no chart: the query failed: {}", masked(error)))),
        None if !has_points => (
            None,
            Some("no chart: neither side has samples in the window".to_string()),
        ),
        None => match chart_svg(metric, window, table.relative_tolerance) {
            Ok(svg) => (Some(svg), None),
            Err(error) => (None, Some(format!("no chart: drawing failed: {error}"))),
        },
    };
    ChartModel {
        metric: metric.metric.clone(),
        verdict: verdict.as_str(),
        status: verdict_status(verdict),
        old_query: metric.old_query.clone(),
        new_query: metric.new_query.clone(),
        svg,
        note,
        series: metric.pairs.iter().map(|p| p.key.clone()).collect(),
        left_out: metric.left_out.clone(),
    }
}

/// The whole page.
pub fn render_report(report: &VerifyReport, context: &ReportContext) -> Result<String, String> {
    let stack = shell_word(&context.stack);
    let page = PageModel {
        title: "pullover dual-run report".to_string(),
        stack: context.stack.clone(),
        stage: report.stage.name().to_string(),
        prometheus_url: report.prometheus_url.as_deref().map(masked),
        generated_at: humantime::format_rfc3339_seconds(context.generated_at).to_string(),
        version: env!("CARGO_PKG_VERSION"),
        passed: report.passed(),
        gate: if report.passed() {
            Status::Pass
        } else if report.count(Status::Fail) > 0 {
            Status::Fail
        } else {
            Status::Inconclusive
        },
        summary: summary(report).lines().map(str::to_string).collect(),
        checks: report.checks.iter().map(check_model).collect(),
        commands: Commands {
            go_on: format!("pullover --stack {stack} apply dashboards"),
            roll_back: format!("pullover --stack {stack} rollback"),
        },
        tables: report.dual_run.iter().map(table_model).collect(),
        colours: Colours {
            old: hex(OLD_COLOUR),
            new: hex(NEW_COLOUR),
            difference: hex(DIFFERENCE_COLOUR),
        },
    };
    let mut env = Environment::new();
    // `render_str` names its template `<string>`, which the default callback would not
    // escape; this page is HTML whatever its name.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.render_str(TEMPLATE, minijinja::Value::from(minijinja::value::Serde(&page)))
        .map_err(|e| format!("the dual-run report template failed: {e}"))
}

/// `report_dir/pullover-dual-run-report.html`.
pub fn report_path(report_dir: &Path) -> std::path::PathBuf {
    report_dir.join(REPORT_FILE_NAME)
}

/// `(new − old) / max(|old|, |new|)` in percent at every timestamp both sides have; the
/// sign says which side is larger.
pub fn relative_differences(old: &Points, new: &Points) -> Points {
    let millis = |t: f64| (t * 1000.0).round() as i64;
    let new_at: std::collections::BTreeMap<i64, f64> = new.iter().map(|(t, v)| (millis(*t), *v)).collect();
    old.iter()
        .filter_map(|(t, old_value)| {
            let new_value = new_at.get(&millis(*t))?;
            let difference = relative_difference(*old_value, *new_value) * 100.0;
            let signed = if new_value < old_value { -difference } else { difference };
            signed.is_finite().then_some((*t, signed))
        })
        .collect()
}

/// Runs of points without a gap longer than `max_gap` seconds: a line across a gap would
/// draw samples that were never there.
pub fn segments(points: &[(f64, f64)], max_gap: f64) -> Vec<&[(f64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, pair) in points.windows(2).enumerate() {
        if let [(a, _), (b, _)] = pair
            && b - a > max_gap
        {
            out.push(&points[start..=index]);
            start = index + 1;
        }
    }
    if start < points.len() {
        out.push(&points[start..]);
    }
    out
}

/// The values axis: from 0 (or below, for negative values) to a little above the top.
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (0.0_f64, 0.0_f64);
    for value in values {
        low = low.min(value);
        high = high.max(value);
    }
    let pad = if high > low { (high - low) * 0.08 } else { 1.0 };
    (if low < 0.0 { low - pad } else { low }, high + pad)
}

/// The difference axis, symmetric: the tolerance twice over or the largest difference,
/// whichever is more, within ±200% (the most two values can differ by that measure).
fn difference_bound(differences: &[Points], tolerance_percent: f64) -> f64 {
    let largest = differences
        .iter()
        .flatten()
        .map(|(_, d)| d.abs())
        .fold(0.0_f64, f64::max);
    (tolerance_percent * 2.0).max(largest * 1.1).clamp(1.0, 200.0)
}

/// `1.5`, `0.25`, `12000`, `3.2e-5`: short axis labels.
fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        return format!("{value:.1e}");
    }
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.into() }
}

/// `-4m30s`, `0`: seconds before the comparison.
fn format_offset(offset: f64) -> String {
    let millis = (-offset * 1000.0).round();
    if millis <= 0.0 {
        return "0".into();
    }
    format!("-{}", format_prometheus_duration(Duration::from_millis(millis as u64)))
}

fn draw_error<E: std::fmt::Debug>(error: E) -> String {
    format!("{error:?}")
}

/// One metric's chart: both sides over the window (top) and their relative difference
/// against the tolerance (bottom), as an `<svg>` element.
pub fn chart_svg(metric: &MetricWindow, window: &WindowSeries, tolerance: f64) -> Result<String, String> {
    let end = window.end;
    let x_range = (window.start - end).min(-0.001)..0.0;
    let max_gap = window.step.as_secs_f64() * 1.5;
    let relative = |points: &[(f64, f64)]| -> Vec<(f64, f64)> { points.iter().map(|(t, v)| (t - end, *v)).collect() };
    let (low, high) = value_range(
        metric
            .pairs
            .iter()
            .flat_map(|pair| pair.old.iter().chain(&pair.new))
            .map(|(_, value)| *value),
    );
    let differences: Vec<Points> = metric
        .pairs
        .iter()
        .map(|pair| relative_differences(&pair.old, &pair.new))
        .collect();
    let tolerance_percent = tolerance * 100.0;
    let bound = difference_bound(&differences, tolerance_percent);
    let x_labels = |x: &f64| format_offset(*x);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let (values_area, difference_area) = root.split_vertically(VALUES_HEIGHT);

        let mut values = ChartBuilder::on(&values_area)
            .margin_top(8)
            .margin_right(20)
            .y_label_area_size(Y_LABEL_WIDTH)
            .build_cartesian_2d(x_range.clone(), low..high)
            .map_err(draw_error)?;
        values
            .configure_mesh()
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|y| format_value(*y))
            .max_light_lines(0)
            .label_style(("sans-serif", LABEL_SIZE))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .y_desc(match metric.compared_by {
                ComparedBy::Rate => "per second",
                ComparedBy::Value | ComparedBy::Presence => "value",
            })
            .draw()
            .map_err(draw_error)?;
        for (points, colour, stroke) in metric
            .pairs
            .iter()
            .map(|pair| (&pair.old, OLD_COLOUR, OLD_STROKE))
            .chain(metric.pairs.iter().map(|pair| (&pair.new, NEW_COLOUR, NEW_STROKE)))
        {
            for segment in segments(points, max_gap) {
                values
                    .draw_series(LineSeries::new(relative(segment), colour.stroke_width(stroke)))
                    .map_err(draw_error)?;
            }
        }

        let mut difference = ChartBuilder::on(&difference_area)
            .margin_right(20)
            .margin_bottom(4)
            .x_label_area_size(26)
            .y_label_area_size(Y_LABEL_WIDTH)
            .build_cartesian_2d(x_range.clone(), -bound..bound)
            .map_err(draw_error)?;
        difference
            .configure_mesh()
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&x_labels)
            .y_label_formatter(&|d| format!("{}%", format_value(*d)))
            .max_light_lines(0)
            .label_style(("sans-serif", LABEL_SIZE))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .y_desc("difference")
            .draw()
            .map_err(draw_error)?;
        // Solid: plotters draws a dashed line as one element per dash, which bloats the page.
        for level in [tolerance_percent, -tolerance_percent] {
            difference
                .draw_series(LineSeries::new(
                    [(x_range.start, level), (0.0, level)],
                    TOLERANCE_COLOUR.stroke_width(1),
                ))
                .map_err(draw_error)?;
        }
        for points in &differences {
            for segment in segments(points, max_gap) {
                difference
                    .draw_series(LineSeries::new(
                        relative(segment),
                        DIFFERENCE_COLOUR.stroke_width(NEW_STROKE),
                    ))
                    .map_err(draw_error)?;
            }
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::check::CheckKind;
    use crate::verify::compare::tests as compared;
    use crate::verify::compare::{MetricComparison, SeriesComparison};
    use crate::verify::window::SeriesPair;
    use crate::verify::{dual, render};

    const END: f64 = 1_795_591_900.0;

    /// `rate` per second growing linearly from `from`, one point a second over 30 s.
    fn line(from: f64, slope: f64) -> Points {
        (0..=30)
            .map(|i| (END - 30.0 + f64::from(i), from + slope * f64::from(i)))
            .collect()
    }

    fn metric(name: &str, verdict: Verdict, difference: f64) -> MetricComparison {
        let mut metric = compared::metric(name, ComparedBy::Rate, Some(difference), verdict);
        metric.series = vec![SeriesComparison {
            key: format!("{name}{{}}"),
            old: Some(1.0),
            new: Some(1.0 + difference),
            relative_difference: Some(difference),
            within_tolerance: verdict == Verdict::Match,
            events: None,
        }];
        metric
    }

    fn window_of(metrics: &[MetricComparison]) -> WindowSeries {
        WindowSeries {
            start: END - 30.0,
            end: END,
            step: Duration::from_secs(1),
            rate_interval: Duration::from_secs(4),
            metrics: metrics
                .iter()
                .map(|m| MetricWindow {
                    metric: m.metric.clone(),
                    compared_by: m.compared_by,
                    old_query: format!("rate({}{{job=\"api\", instance=\"app-1\"}}[4000ms])", m.metric),
                    new_query: format!("rate({}{{job=\"api\", instance=\"api:8080\"}}[4000ms])", m.metric),
                    pairs: vec![SeriesPair {
                        key: format!("{}{{}}", m.metric),
                        old: line(2.0, 0.1),
                        new: line(2.0, 0.1 + m.max_relative_difference.unwrap_or(0.0)),
                    }],
                    left_out: vec![],
                    error: None,
                })
                .collect(),
        }
    }

    /// The renderers' failed report, over a 30 s window, with these metrics.
    fn report(metrics: Vec<MetricComparison>, charts: bool) -> VerifyReport {
        let mut report = render::tests::report();
        report.checks[1]
            .notes
            .push("seen at http://admin:hunter2@example.test/".into());
        let mut table = dual::tests::table(Vec::new(), Some(1.0));
        table.window_seconds = 30.0;
        table.evaluated_at = END;
        table.window_series = charts.then(|| window_of(&metrics));
        table.metrics = metrics;
        report.dual_run = vec![table];
        report
    }

    fn context() -> ReportContext {
        ReportContext {
            stack: "/srv/my stack".into(),
            generated_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_591_901),
        }
    }

    fn render(report: &VerifyReport) -> String {
        render_report(report, &context()).unwrap()
    }

    #[test]
    fn the_load_numbers_are_on_the_page_with_the_other_checks() {
        let mut with_load = report(vec![metric("page_views_total", Verdict::Match, 0.0)], false);
        with_load.checks.push(Check::new(
            CheckKind::Load,
            "metrics-api",
            Status::Warn,
            "http://127.0.0.1:8080/metrics: 100 requests, 4 at a time: p50 1400.0 ms, p99 1500.0 ms, 2048 bytes: slow",
        ));
        let html = render(&with_load);
        assert!(html.contains("p50 1400.0 ms, p99 1500.0 ms"), "{html}");
    }

    #[test]
    fn one_chart_per_compared_metric_with_both_lines_in_their_colours() {
        let html = render(&report(
            vec![
                metric("http_requests_total", Verdict::Differs, 0.5),
                metric("page_views_total", Verdict::Match, 0.0),
                metric("queue_depth", Verdict::Match, 0.0),
            ],
            true,
        ));
        assert_eq!(html.matches("<svg").count(), 3, "{html}");
        assert_eq!(html.matches("</figure>").count(), 3);
        for colour in [OLD_COLOUR, NEW_COLOUR, DIFFERENCE_COLOUR] {
            // One polyline each per chart (each line has no gap).
            assert_eq!(
                html.matches(&format!("stroke=\"{}\"", hex(colour))).count(),
                3,
                "{}",
                hex(colour)
            );
        }
        assert!(html.contains(r#"stroke-width="6""#));
        // Self-contained: nothing is fetched or run when the page opens.
        for fetch in ["<script", "<link", "<img", "src=", "href=", "@import", "url("] {
            assert!(!html.contains(fetch), "{fetch}");
        }
        assert!(
            html.contains(">\n-30s\n</text>"),
            "the time axis counts back from the comparison"
        );
    }

    #[test]
    fn the_verdict_table_has_the_text_reports_rows_and_verdicts() {
        let html = render(&report(
            vec![
                metric("http_requests_total", Verdict::Differs, 0.5),
                metric("queue_depth", Verdict::Match, 0.0),
            ],
            false,
        ));
        let rows: Vec<&str> = html
            .lines()
            .filter(|l| l.trim_start().starts_with("<tr><td>"))
            .collect();
        assert_eq!(
            rows,
            [
                r#"    <tr><td><code>http_requests_total</code></td><td>1</td><td>1</td><td>50.0%</td><td>rate</td><td>0&#x2f;0</td><td><span class="verdict fail">differs</span></td></tr>"#,
                r#"    <tr><td><code>queue_depth</code></td><td>1</td><td>1</td><td>0.0%</td><td>rate</td><td>0&#x2f;0</td><td><span class="verdict pass">match</span></td></tr>"#,
            ]
        );
        assert!(html.contains("No charts for this pair: the series over the window were not fetched"));
        assert_eq!(html.matches("<svg").count(), 0);
    }

    #[test]
    fn the_page_names_the_commands_to_go_on_or_roll_back_with_the_stack() {
        let html = render(&report(vec![metric("up_total", Verdict::Match, 0.0)], true));
        assert!(
            html.contains("<pre>pullover --stack &#x27;&#x2f;srv&#x2f;my stack&#x27; apply dashboards</pre>"),
            "{html}"
        );
        assert!(html.contains("<pre>pullover --stack &#x27;&#x2f;srv&#x2f;my stack&#x27; rollback</pre>"));
        assert!(html.contains("The gate before <code>dashboards</code> is closed"));
    }

    #[test]
    fn every_interpolated_string_is_escaped_and_urls_masked() {
        let mut hostile = metric("<script>alert(1)</script>", Verdict::Match, 0.0);
        hostile.series[0].key = "x{a=\"<b>&\"}".into();
        let mut page = report(vec![hostile], true);
        page.checks[0].subject = "<img src=x onerror=alert(1)>".into();
        page.dual_run[0].pushed_selector = r#"{job="</code><script>"}"#.into();
        let html = render_report(
            &page,
            &ReportContext {
                stack: "/tmp/<evil>".into(),
                ..context()
            },
        )
        .unwrap();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<evil>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("hunter2"), "the note's URL password must be masked");
        assert!(html.contains("admin:********@example.test"));
    }

    #[test]
    fn a_pair_that_could_not_be_compared_says_so_instead_of_a_chart() {
        let mut page = report(vec![metric("http_requests_total", Verdict::Match, 0.0)], true);
        if let Some(window) = &mut page.dual_run[0].window_series {
            window.metrics[0].error = Some("HTTP 422: query processing would load too many samples".into());
        }
        let html = render(&page);
        assert_eq!(html.matches("<svg").count(), 0);
        assert!(html.contains("no chart: the query failed: HTTP 422"), "{html}");
        page.dual_run.clear();
        assert!(render(&page).contains("No charts: no pushed group could be compared"));
    }

    #[test]
    fn differences_are_signed_percentages_where_both_sides_have_a_point() {
        let old = vec![(1.0, 2.0), (2.0, 4.0), (3.0, 0.0)];
        let new = vec![(1.0, 3.0), (2.0, 2.0), (3.0, 0.0), (4.0, 1.0)];
        assert_eq!(
            relative_differences(&old, &new),
            [(1.0, 1.0 / 3.0 * 100.0), (2.0, -50.0), (3.0, 0.0)]
        );
    }

    #[test]
    fn lines_break_at_gaps_longer_than_the_step_allows() {
        let points = [(0.0, 1.0), (1.0, 1.0), (5.0, 1.0), (6.0, 1.0), (7.0, 1.0)];
        let runs = segments(&points, 1.5);
        assert_eq!(runs, [&points[..2], &points[2..]]);
        assert!(segments(&[], 1.5).is_empty());
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(12000.0), "12000");
        assert_eq!(format_value(0.000032), "3.2e-5");
        assert_eq!(format_offset(-270.0), "-4m30s");
        assert_eq!(format_offset(0.0), "0");
        assert_eq!(shell_word("/srv/stack"), "/srv/stack");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
