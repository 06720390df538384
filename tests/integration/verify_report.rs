//! `pullover verify --report DIR` on real servers: refused before dual-run, a page without
//! charts while the comparison cannot tell yet, then a chart per compared metric that headless
//! Chromium shows, checked by counting the pixels of the old and new lines in a screenshot.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use plotters::style::RGBColor;

use crate::support::browser::{self, CHROMIUM, Screenshot};
use crate::support::require_tool;
use crate::verify_e2e::E2e;
use pullover::verify::html::{NEW_COLOUR, OLD_COLOUR, REPORT_FILE_NAME};

const WINDOW_SIZE: (u32, u32) = (1200, 2000);
/// Per channel: antialiasing blends a line's edges into the white around it; its core keeps
/// the colour.
const COLOUR_TOLERANCE: u8 = 12;
/// Pixels of each line colour a screenshot with charts must show. Measured with charts:
/// 8,000–13,000 of the old line's, 3,500–5,200 of the new one's; the legend's swatches (the
/// only other place these colours appear) paint 24×5 and 24×2, and a page without charts none.
const MIN_LINE_PIXELS: usize = 1000;

/// The six pushed metrics of the test app (`app_build_info` is only served, never pushed).
const COMPARED: [&str; 6] = [
    "http_requests_total",
    "page_views_total",
    "queue_depth",
    "request_duration_seconds_bucket",
    "request_duration_seconds_count",
    "request_duration_seconds_sum",
];

fn rgb(colour: RGBColor) -> (u8, u8, u8) {
    (colour.0, colour.1, colour.2)
}

/// Pixels of the old line's colour and of the new line's.
fn line_pixels(shot: &Screenshot) -> (usize, usize) {
    (
        shot.count(rgb(OLD_COLOUR), COLOUR_TOLERANCE),
        shot.count(rgb(NEW_COLOUR), COLOUR_TOLERANCE),
    )
}

#[track_caller]
fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// The page's text as a person reads it (the template escapes `/` and quotes too).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn verify_report_during_dual_run_charts_every_compared_metric_and_chromium_shows_both_lines() {
    if !require_tool(CHROMIUM) {
        return;
    }
    let Some(e2e) = E2e::start("verify-report") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let report_dir = out.path().join("reports/dual-run");
    let report_arg = report_dir.display().to_string();

    e2e.run(&["apply", "scrape", "--yes", "--reload"]).success();
    let refused = e2e.run(&["verify", "--report", &report_arg]);
    refused.code(1);
    assert!(
        refused.stderr.contains(
            "--report charts the dual-run comparison, so it needs the stack in dual-run; the last applied phase is `scrape`"
        ),
        "{}",
        refused.stderr
    );
    assert!(!report_dir.exists(), "a refused --report writes nothing");

    e2e.run(&["apply", "dual-run", "--yes", "--reload"]).success();

    // Younger than the window: the checks cannot tell yet; the page says so, without charts.
    let early_dir = out.path().join("early");
    let early = e2e.run(&["verify", "--window", "2m", "--report", &early_dir.display().to_string()]);
    early.code(3);
    let early_page = early_dir.join(REPORT_FILE_NAME);
    let early_html = read(&early_page);
    assert!(
        early_html.contains("No charts: no pushed group could be compared"),
        "{early_html}"
    );
    assert_eq!(early_html.matches("<svg").count(), 0);

    e2e.wait_for_history(Duration::from_secs(6));
    let started = Instant::now();
    let plain = e2e.run(&["verify", "--window", "5s", "--tolerance", "20%"]);
    let without_report = started.elapsed();
    plain.success();
    let started = Instant::now();
    let run = e2e.run(&[
        "--format",
        "json",
        "verify",
        "--window",
        "5s",
        "--tolerance",
        "20%",
        "--report",
        &report_arg,
    ]);
    let with_report = started.elapsed();
    run.success();
    let page = report_dir.canonicalize().unwrap().join(REPORT_FILE_NAME);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["report_path"], page.display().to_string());
    assert!(
        json["dual_run"][0].get("window_series").is_none(),
        "the JSON keeps the points out"
    );
    assert!(
        run.stderr
            .contains(&format!("note: wrote the dual-run report to {}", page.display())),
        "{}",
        run.stderr
    );

    let html = read(&page);
    assert_eq!(
        html.matches("<svg").count(),
        COMPARED.len(),
        "one chart per compared metric"
    );
    for metric in COMPARED {
        assert!(
            html.contains(&format!(
                "<h3><code>{metric}</code> <span class=\"verdict pass\">match</span></h3>"
            )),
            "{metric}"
        );
    }
    let text = unescape(&html);
    let stack = e2e.stack.path().canonicalize().unwrap();
    for command in ["apply dashboards", "rollback"] {
        let line = format!("<pre>pullover --stack {} {command}</pre>", stack.display());
        assert!(text.contains(&line), "{line}");
    }
    eprintln!(
        "report: {} bytes; verify took {without_report:?} without --report, {with_report:?} with it",
        html.len()
    );

    let shot = browser::screenshot(&page, &out.path().join("report.png"), WINDOW_SIZE);
    let early_shot = browser::screenshot(&early_page, &out.path().join("early.png"), WINDOW_SIZE);
    assert_eq!((shot.width, shot.height), WINDOW_SIZE);
    let (old, new) = line_pixels(&shot);
    let (early_old, early_new) = line_pixels(&early_shot);
    eprintln!("line pixels (old, new): with charts ({old}, {new}); without ({early_old}, {early_new})");
    if std::env::var_os("PULLOVER_KEEP_SCREENSHOTS").is_some() {
        let keep = out.keep();
        eprintln!("screenshots kept in {}", keep.display());
    }
    assert!(
        old >= MIN_LINE_PIXELS && new >= MIN_LINE_PIXELS,
        "the screenshot shows too little of the lines: old {old}, new {new} pixels (want {MIN_LINE_PIXELS} each)"
    );
    // The same check on the page without charts fails: it tells charts from their absence.
    assert!(
        early_old < MIN_LINE_PIXELS && early_new < MIN_LINE_PIXELS,
        "a page without charts passed the line check: old {early_old}, new {early_new}"
    );
}
