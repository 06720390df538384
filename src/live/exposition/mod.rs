//! Checking what an app serves at `/metrics`: a strict parser for the Prometheus text
//! exposition format 0.0.4 that reports every problem with its line and column instead of
//! stopping at the first, plus the checks a migration cares about (counter naming,
//! duplicate series) and the fetch that measures response time and size. The parser is
//! `parser.rs`; what it finds, `report.rs`.
//!
//! Why not a crate: `prometheus-parse` 0.2 skips lines it cannot parse and splits labels on
//! `,`/`=` (breaks on `path="/a,b"`), `openmetrics-parser` 0.5 is LGPL-3.0 and unwraps on
//! input, `prom_text_format_parser` 0.1 stops at the first error; none gives line numbers.

mod parser;
mod report;

use std::collections::HashMap;

use reqwest::Method;

pub use parser::{MAX_ISSUES, parse_exposition};
pub use report::{
    CounterNaming, CounterNamingProblem, DuplicateSeries, Exposition, ExpositionAnalysis, ExpositionIssue,
    ExpositionReport, ExpositionSample, Family, Severity,
};

use super::endpoint::Endpoint;
use super::error::LiveError;
use super::http::{Body, HttpClient, status_error};
use super::model::MetricKind;
use crate::stack::source::line_col;

/// Ask for the text format: that is what this parser checks, and what Prometheus falls back
/// to when an app cannot serve OpenMetrics.
pub const ACCEPT_TEXT_FORMAT: &str = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

/// Fetches `path` below the endpoint (`metrics` for an app at `http://app:8080/`) and checks
/// it. A non-2xx answer is an error; a 200 with a broken body is a report with issues.
pub async fn check_exposition(endpoint: &Endpoint, path: &str) -> Result<ExpositionReport, LiveError> {
    let http = HttpClient::new(endpoint.clone())?;
    let response = http.send(Method::GET, path, Body::Empty, ACCEPT_TEXT_FORMAT).await?;
    if !(200..300).contains(&response.status) {
        return Err(status_error(&response));
    }
    let mut notes = Vec::new();
    if let Some(content_type) = &response.content_type {
        let lower = content_type.to_ascii_lowercase();
        if lower.starts_with("application/openmetrics-text") {
            notes.push(format!(
                "served {content_type} although the text format was asked for; checked as \
                 text format 0.0.4"
            ));
        } else if !lower.starts_with("text/plain") {
            notes.push(format!(
                "content type {content_type} is not text/plain; version=0.0.4: Prometheus \
                 2.x falls back to the text parser, newer versions may refuse the scrape"
            ));
        }
    }
    let (text, utf8_issue) = match std::str::from_utf8(&response.body) {
        Ok(text) => (text.to_string(), None),
        Err(err) => (
            String::from_utf8_lossy(&response.body).into_owned(),
            Some(err.valid_up_to()),
        ),
    };
    let mut analysis = analyze_exposition(&text);
    if let Some(offset) = utf8_issue {
        let (line, column) = line_col(&text, offset);
        analysis.exposition.issues.insert(
            0,
            ExpositionIssue {
                line,
                column,
                span: offset..offset + 1,
                severity: Severity::Error,
                message: "invalid UTF-8".into(),
            },
        );
    }
    if analysis.exposition.samples.is_empty() {
        notes.push("the page has no samples".into());
    }
    Ok(ExpositionReport {
        url: response.url,
        status: response.status,
        content_type: response.content_type,
        response_time: response.elapsed,
        size_bytes: response.body.len(),
        analysis,
        notes,
    })
}

/// Parses and checks a text, collecting every problem.
pub fn analyze_exposition(text: &str) -> ExpositionAnalysis {
    let exposition = parse_exposition(text);
    let counters_without_total = counter_naming(&exposition);
    let duplicate_series = duplicate_series(&exposition);
    ExpositionAnalysis {
        exposition,
        counters_without_total,
        duplicate_series,
    }
}

fn counter_naming(exposition: &Exposition) -> Vec<CounterNaming> {
    exposition
        .families
        .iter()
        .filter(|family| family.kind == MetricKind::Counter && !family.name.ends_with("_total"))
        .map(|family| {
            let total_name = format!("{}_total", family.name);
            let openmetrics_style = family.samples == 0
                && exposition
                    .families
                    .iter()
                    .any(|other| other.name == total_name && other.samples > 0);
            CounterNaming {
                family: family.name.clone(),
                line: family.first_line,
                problem: if openmetrics_style {
                    CounterNamingProblem::OpenMetricsTypeLine {
                        sample_name: total_name,
                    }
                } else {
                    CounterNamingProblem::MissingTotalSuffix
                },
            }
        })
        .collect()
}

fn duplicate_series(exposition: &Exposition) -> Vec<DuplicateSeries> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut duplicates: Vec<DuplicateSeries> = Vec::new();
    for sample in &exposition.samples {
        let key = sample.series_key();
        match seen.get(&key) {
            None => {
                seen.insert(key, duplicates.len());
                duplicates.push(DuplicateSeries {
                    series: sample.series_key(),
                    lines: vec![sample.line],
                });
            }
            Some(index) => {
                if let Some(entry) = duplicates.get_mut(*index) {
                    entry.lines.push(sample.line);
                }
            }
        }
    }
    duplicates.retain(|entry| entry.lines.len() > 1);
    duplicates
}

#[cfg(test)]
mod tests;
