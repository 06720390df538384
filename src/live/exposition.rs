//! Checking what an app serves at `/metrics`: a strict parser for the Prometheus text
//! exposition format 0.0.4 that reports every problem with its line and column instead of
//! stopping at the first, plus the checks a migration cares about (counter naming,
//! duplicate series) and the fetch that measures response time and size.
//!
//! Why not a crate: `prometheus-parse` 0.2 skips lines it cannot parse and splits labels on
//! `,`/`=` (breaks on `path="/a,b"`), `openmetrics-parser` 0.5 is LGPL-3.0 and unwraps on
//! input, `prom_text_format_parser` 0.1 stops at the first error; none gives line numbers.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use reqwest::Method;

use super::endpoint::Endpoint;
use super::error::LiveError;
use super::http::{Body, HttpClient, status_error};
use super::model::{MetricKind, parse_sample_value};
use crate::stack::source::line_col;

/// More issues than this are summarised in one last issue; a broken page can have thousands.
pub const MAX_ISSUES: usize = 200;

/// Ask for the text format: that is what this parser checks, and what Prometheus falls back
/// to when an app cannot serve OpenMetrics.
pub const ACCEPT_TEXT_FORMAT: &str = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks the format: Prometheus or the client parsers reject it.
    Error,
    /// Accepted, but probably not what the author meant.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExpositionIssue {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte span in the whole text.
    pub span: Range<usize>,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for ExpositionIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {severity}: {}", self.line, self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpositionSample {
    pub name: String,
    /// In the order written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// The family this sample belongs to (`x` for `x_bucket` of histogram `x`).
    pub family: String,
    pub line: usize,
}

impl ExpositionSample {
    /// `name{a="1",b="2"}` with labels sorted: the identity of the series.
    pub fn series_key(&self) -> String {
        let mut labels: Vec<&(String, String)> = self.labels.iter().collect();
        labels.sort();
        let body: Vec<String> = labels
            .iter()
            .map(|(name, value)| format!("{name}=\"{}\"", escape_label_value(value)))
            .collect();
        if body.is_empty() {
            self.name.clone()
        } else {
            format!("{}{{{}}}", self.name, body.join(","))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Family {
    pub name: String,
    pub kind: MetricKind,
    /// Whether a `# TYPE` line declared the kind (untyped otherwise).
    pub declared: bool,
    pub help: Option<String>,
    /// Line of its first TYPE, HELP or sample line.
    pub first_line: usize,
    pub samples: usize,
    /// Distinct series (name + label set), `_bucket`/`_sum`/`_count` included.
    pub series: usize,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Exposition {
    pub families: Vec<Family>,
    pub samples: Vec<ExpositionSample>,
    pub issues: Vec<ExpositionIssue>,
}

impl Exposition {
    pub fn errors(&self) -> impl Iterator<Item = &ExpositionIssue> {
        self.issues.iter().filter(|issue| issue.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum CounterNamingProblem {
    /// A counter family whose name does not end in `_total`.
    MissingTotalSuffix,
    /// `# TYPE x counter` with samples named `x_total`: OpenMetrics naming served as text
    /// format, so Prometheus stores `x_total` without a type.
    OpenMetricsTypeLine { sample_name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CounterNaming {
    pub family: String,
    pub line: usize,
    pub problem: CounterNamingProblem,
}

impl CounterNaming {
    pub fn message(&self) -> String {
        match &self.problem {
            CounterNamingProblem::MissingTotalSuffix => format!(
                "counter {} is not named ..._total: client_golang, the Python client and \
                 OpenMetrics name counter samples ..._total; prom-client (Node.js) does not \
                 enforce it. rate() works either way, but rules and dashboards written for \
                 the convention will not find it",
                self.family
            ),
            CounterNamingProblem::OpenMetricsTypeLine { sample_name } => format!(
                "# TYPE names counter {} but its samples are {sample_name} (OpenMetrics \
                 naming in the text format): Prometheus stores {sample_name} without a type; \
                 name the TYPE line {sample_name} or serve OpenMetrics with its content type",
                self.family
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateSeries {
    /// `name{labels}` as in [`ExpositionSample::series_key`].
    pub series: String,
    pub lines: Vec<usize>,
}

/// Everything a text says about itself, without any I/O.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ExpositionAnalysis {
    pub exposition: Exposition,
    pub counters_without_total: Vec<CounterNaming>,
    /// Prometheus keeps the first and counts the rest as
    /// `prometheus_target_scrapes_sample_duplicate_timestamp_total`.
    pub duplicate_series: Vec<DuplicateSeries>,
}

impl ExpositionAnalysis {
    pub fn is_valid(&self) -> bool {
        self.exposition.errors().next().is_none()
    }
}

/// The result of fetching and checking one `/metrics` endpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpositionReport {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub response_time: Duration,
    pub size_bytes: usize,
    pub analysis: ExpositionAnalysis,
    /// Things about the response itself (content type, encoding).
    pub notes: Vec<String>,
}

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

/// Parses text exposition format 0.0.4. Never fails: problems become issues and the parser
/// goes on with the next line.
pub fn parse_exposition(text: &str) -> Exposition {
    let mut parser = Parser {
        text,
        ..Parser::default()
    };
    let mut offset = 0;
    let mut crlf_lines = 0usize;
    let mut first_crlf: Option<(usize, usize)> = None;
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line_start = offset;
        offset += raw_line.len() + 1;
        let line = match raw_line.strip_suffix('\r') {
            Some(stripped) => {
                crlf_lines += 1;
                first_crlf.get_or_insert((line_number, line_start + stripped.len()));
                stripped
            }
            None => raw_line,
        };
        parser.line(line, line_number, line_start);
    }
    if let Some((line, at)) = first_crlf {
        parser.issue_at_line(
            line,
            line_col(text, at).1,
            at..at + 1,
            Severity::Error,
            format!(
                "line ends with a carriage return ({crlf_lines} line(s) in all): the text \
                 format separates lines with \\n only"
            ),
        );
    }
    if !text.is_empty() && !text.ends_with('\n') {
        let (line, column) = line_col(text, text.len());
        parser.issue_at_line(
            line,
            column,
            text.len()..text.len(),
            Severity::Warning,
            "the last line does not end with a line break".into(),
        );
    }
    parser.finish()
}

#[derive(Default)]
struct Parser<'t> {
    /// Spans are clamped to the text and to character boundaries, so slicing the text with
    /// them never panics.
    text: &'t str,
    families: Vec<Family>,
    family_index: HashMap<String, usize>,
    /// Series keys per family, to count distinct series.
    family_series: Vec<std::collections::HashSet<String>>,
    type_lines: HashMap<String, usize>,
    help_lines: HashMap<String, usize>,
    current_family: Option<String>,
    /// Families whose group has ended, with the line that ended it.
    closed_families: HashMap<String, usize>,
    samples: Vec<ExpositionSample>,
    issues: Vec<ExpositionIssue>,
    dropped_issues: usize,
}

/// Where the parser stands in one line.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    line_number: usize,
    line_start: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.line.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_blanks(&mut self) -> usize {
        let blanks = self.rest().bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
        self.pos += blanks;
        blanks
    }

    fn eat(&mut self, wanted: char) -> bool {
        if self.peek() == Some(wanted) {
            self.pos += wanted.len_utf8();
            true
        } else {
            false
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` (metric names) or without `:` (label names).
    fn name(&mut self, allow_colon: bool) -> Option<&'a str> {
        let rest = self.rest();
        let ok_first = |b: u8| b.is_ascii_alphabetic() || b == b'_' || (allow_colon && b == b':');
        let ok_rest = |b: u8| ok_first(b) || b.is_ascii_digit();
        let first = rest.bytes().next()?;
        if !ok_first(first) {
            return None;
        }
        let len = 1 + rest.bytes().skip(1).take_while(|b| ok_rest(*b)).count();
        self.pos += len;
        rest.get(..len)
    }

    /// A run of non-blank characters.
    fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.bytes().take_while(|b| *b != b' ' && *b != b'\t').count();
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    fn column(&self) -> usize {
        self.line.get(..self.pos).map_or(1, |s| s.chars().count() + 1)
    }

    fn span(&self, len: usize) -> Range<usize> {
        let start = self.line_start + self.pos;
        start..start + len.max(1)
    }
}

impl Parser<'_> {
    fn issue(&mut self, cursor: &Cursor<'_>, len: usize, severity: Severity, message: String) {
        self.issue_at_line(cursor.line_number, cursor.column(), cursor.span(len), severity, message);
    }

    fn issue_at_line(&mut self, line: usize, column: usize, span: Range<usize>, severity: Severity, message: String) {
        if self.issues.len() >= MAX_ISSUES {
            self.dropped_issues += 1;
            return;
        }
        let mut end = span.end.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        let mut start = span.start.min(end);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        self.issues.push(ExpositionIssue {
            line,
            column,
            span: start..end,
            severity,
            message,
        });
    }

    fn line(&mut self, line: &str, line_number: usize, line_start: usize) {
        let mut cursor = Cursor {
            line,
            pos: 0,
            line_number,
            line_start,
        };
        cursor.skip_blanks();
        match cursor.peek() {
            None => {}
            Some('#') => self.comment_line(&mut cursor),
            Some(_) => self.sample_line(&mut cursor),
        }
    }

    fn comment_line(&mut self, cursor: &mut Cursor<'_>) {
        cursor.eat('#');
        cursor.skip_blanks();
        let keyword_start = cursor.pos;
        let keyword = cursor.token();
        let is_help = keyword == "HELP";
        if !is_help && keyword != "TYPE" {
            return; // an ordinary comment
        }
        if cursor.skip_blanks() == 0 && cursor.peek().is_none() {
            cursor.pos = keyword_start;
            self.issue(
                cursor,
                keyword.len(),
                Severity::Error,
                format!("# {keyword} needs a metric name"),
            );
            return;
        }
        let name_at = cursor.pos;
        let Some(name) = cursor.name(true) else {
            let token = cursor.token();
            cursor.pos = name_at;
            self.issue(
                cursor,
                token.len(),
                Severity::Error,
                format!("# {keyword}: {token:?} is not a valid metric name"),
            );
            return;
        };
        let name = name.to_string();
        if is_help {
            let help = if cursor.skip_blanks() > 0 || cursor.peek().is_none() {
                unescape_help(cursor.rest())
            } else {
                let token = cursor.token();
                cursor.pos = name_at;
                self.issue(
                    cursor,
                    name.len() + token.len(),
                    Severity::Error,
                    format!("# HELP: {:?} is not a valid metric name", format!("{name}{token}")),
                );
                return;
            };
            self.help_line(cursor, name_at, &name, help);
        } else {
            cursor.skip_blanks();
            let kind_at = cursor.pos;
            let kind_text = cursor.token();
            let kind = match kind_text {
                "counter" => MetricKind::Counter,
                "gauge" => MetricKind::Gauge,
                "histogram" => MetricKind::Histogram,
                "summary" => MetricKind::Summary,
                "untyped" => MetricKind::Untyped,
                _ => {
                    cursor.pos = kind_at;
                    let message = if kind_text.is_empty() {
                        format!("# TYPE {name} needs a type")
                    } else {
                        format!(
                            "unknown metric type {kind_text:?} (counter, gauge, histogram, \
                             summary or untyped)"
                        )
                    };
                    self.issue(cursor, kind_text.len(), Severity::Error, message);
                    return;
                }
            };
            cursor.skip_blanks();
            if cursor.peek().is_some() {
                let extra = cursor.rest().len();
                self.issue(
                    cursor,
                    extra,
                    Severity::Error,
                    "unexpected text after the metric type".into(),
                );
                return;
            }
            self.type_line(cursor, name_at, &name, kind);
        }
    }

    /// HELP or TYPE lines open their family's group; one for a family whose group already
    /// ended means the family is split.
    fn metadata_opens_group(&mut self, cursor: &mut Cursor<'_>, name_at: usize, name: &str) {
        let line = cursor.line_number;
        if self.current_family.as_deref() != Some(name) {
            if let Some(ended) = self.closed_families.get(name).copied() {
                cursor.pos = name_at;
                self.issue(
                    cursor,
                    name.len(),
                    Severity::Error,
                    format!(
                        "metadata for {name} after its group ended at line {ended}: all lines \
                         of a metric family must be together"
                    ),
                );
            }
            self.switch_family(name, line);
        }
        self.family_entry(name, line);
    }

    fn help_line(&mut self, cursor: &mut Cursor<'_>, name_at: usize, name: &str, help: String) {
        if let Some(first) = self.help_lines.get(name).copied() {
            cursor.pos = name_at;
            self.issue(
                cursor,
                name.len(),
                Severity::Error,
                format!("second # HELP line for {name} (first at line {first})"),
            );
            return;
        }
        self.help_lines.insert(name.to_string(), cursor.line_number);
        self.metadata_opens_group(cursor, name_at, name);
        let index = self.family_entry(name, cursor.line_number);
        if let Some(family) = self.families.get_mut(index) {
            family.help = Some(help);
        }
    }

    fn type_line(&mut self, cursor: &mut Cursor<'_>, name_at: usize, name: &str, kind: MetricKind) {
        if let Some(first) = self.type_lines.get(name).copied() {
            cursor.pos = name_at;
            self.issue(
                cursor,
                name.len(),
                Severity::Error,
                format!("second # TYPE line for {name} (first at line {first})"),
            );
            return;
        }
        let has_samples = self
            .family_index
            .get(name)
            .and_then(|index| self.families.get(*index))
            .is_some_and(|family| family.samples > 0);
        if has_samples {
            cursor.pos = name_at;
            self.issue(
                cursor,
                name.len(),
                Severity::Error,
                format!("# TYPE line for {name} comes after its samples"),
            );
            return;
        }
        self.type_lines.insert(name.to_string(), cursor.line_number);
        self.metadata_opens_group(cursor, name_at, name);
        let index = self.family_entry(name, cursor.line_number);
        if let Some(family) = self.families.get_mut(index) {
            family.kind = kind;
            family.declared = true;
        }
    }

    fn sample_line(&mut self, cursor: &mut Cursor<'_>) {
        let name_at = cursor.pos;
        let Some(name) = cursor.name(true) else {
            let token = cursor.token();
            cursor.pos = name_at;
            self.issue(
                cursor,
                token.len(),
                Severity::Error,
                format!("expected a metric name, found {token:?}"),
            );
            return;
        };
        let mut had_blank = cursor.skip_blanks() > 0;
        let mut labels: Vec<(String, String)> = Vec::new();
        if cursor.eat('{') {
            match self.labels(cursor) {
                Some(parsed) => labels = parsed,
                None => return,
            }
            // `}` ends the name part, so no blank is needed before the value.
            cursor.skip_blanks();
            had_blank = true;
        }
        let value_at = cursor.pos;
        let value_text = cursor.token();
        if value_text.is_empty() {
            self.issue(cursor, 1, Severity::Error, format!("{name}: missing value"));
            return;
        }
        if !had_blank {
            // `foo1` would have been read as the name; this is e.g. `foo"x" 1`.
            cursor.pos = value_at;
            self.issue(
                cursor,
                value_text.len(),
                Severity::Error,
                format!("unexpected {value_text:?} after the metric name {name}"),
            );
            return;
        }
        let Some(value) = parse_sample_value(value_text) else {
            cursor.pos = value_at;
            self.issue(
                cursor,
                value_text.len(),
                Severity::Error,
                format!("{value_text:?} is not a valid sample value (a float, NaN, +Inf or -Inf)"),
            );
            return;
        };
        cursor.skip_blanks();
        let mut timestamp_ms = None;
        if cursor.peek().is_some() {
            let timestamp_at = cursor.pos;
            let timestamp_text = cursor.token();
            match timestamp_text.parse::<i64>() {
                Ok(ms) => timestamp_ms = Some(ms),
                Err(_) => {
                    cursor.pos = timestamp_at;
                    self.issue(
                        cursor,
                        timestamp_text.len(),
                        Severity::Error,
                        format!("{timestamp_text:?} is not a valid timestamp (integer milliseconds)"),
                    );
                    return;
                }
            }
            cursor.skip_blanks();
            if cursor.peek().is_some() {
                let extra = cursor.rest().len();
                self.issue(
                    cursor,
                    extra,
                    Severity::Error,
                    "unexpected text after the timestamp".into(),
                );
                return;
            }
        }
        self.add_sample(cursor, name, labels, value, timestamp_ms);
    }

    /// After `{`: `name="value"` pairs separated by `,` (a trailing `,` is allowed), then `}`.
    fn labels(&mut self, cursor: &mut Cursor<'_>) -> Option<Vec<(String, String)>> {
        let mut labels: Vec<(String, String)> = Vec::new();
        loop {
            cursor.skip_blanks();
            if cursor.eat('}') {
                return Some(labels);
            }
            let name_at = cursor.pos;
            let Some(label) = cursor.name(false) else {
                let found = cursor.peek().map_or("end of line".to_string(), |c| format!("{c:?}"));
                self.issue(
                    cursor,
                    1,
                    Severity::Error,
                    format!("expected a label name or '}}', found {found}"),
                );
                return None;
            };
            cursor.skip_blanks();
            if !cursor.eat('=') {
                self.issue(
                    cursor,
                    1,
                    Severity::Error,
                    format!("expected '=' after label name {label}"),
                );
                return None;
            }
            cursor.skip_blanks();
            if !cursor.eat('"') {
                self.issue(
                    cursor,
                    1,
                    Severity::Error,
                    format!("the value of label {label} must be in double quotes"),
                );
                return None;
            }
            let value = self.label_value(cursor, label)?;
            if labels.iter().any(|(existing, _)| existing == label) {
                cursor.pos = name_at;
                self.issue(
                    cursor,
                    label.len(),
                    Severity::Error,
                    format!("label {label} appears twice"),
                );
                return None;
            }
            if label.starts_with("__") {
                let resume = cursor.pos;
                cursor.pos = name_at;
                self.issue(
                    cursor,
                    label.len(),
                    Severity::Warning,
                    format!("label names starting with __ are reserved for Prometheus ({label})"),
                );
                cursor.pos = resume;
            }
            labels.push((label.to_string(), value));
            cursor.skip_blanks();
            if cursor.eat(',') {
                continue;
            }
            if cursor.eat('}') {
                return Some(labels);
            }
            let found = cursor.peek().map_or("end of line".to_string(), |c| format!("{c:?}"));
            self.issue(
                cursor,
                1,
                Severity::Error,
                format!("expected ',' or '}}' after the value of label {label}, found {found}"),
            );
            return None;
        }
    }

    /// After the opening quote: text with `\\`, `\"` and `\n` escapes, up to the closing quote.
    fn label_value(&mut self, cursor: &mut Cursor<'_>, label: &str) -> Option<String> {
        let mut value = String::new();
        let mut chars = cursor.rest().char_indices();
        let start = cursor.pos;
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    cursor.pos = start + offset + 1;
                    return Some(value);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => {
                        cursor.pos = start + offset;
                        self.issue(
                            cursor,
                            1 + other.len_utf8(),
                            Severity::Error,
                            format!(
                                "invalid escape \\{other} in the value of label {label} (only \
                                 \\\\, \\\" and \\n)"
                            ),
                        );
                        return None;
                    }
                    None => break,
                },
                other => value.push(other),
            }
        }
        cursor.pos = start.saturating_sub(1);
        self.issue(
            cursor,
            1,
            Severity::Error,
            format!("the value of label {label} has no closing quote"),
        );
        None
    }

    fn add_sample(
        &mut self,
        cursor: &mut Cursor<'_>,
        name: &str,
        labels: Vec<(String, String)>,
        value: f64,
        timestamp_ms: Option<i64>,
    ) {
        let line = cursor.line_number;
        let family_name = self.family_of(name);
        if self.current_family.as_deref() != Some(family_name.as_str()) {
            if let Some(ended) = self.closed_families.get(&family_name).copied() {
                cursor.pos = 0;
                cursor.skip_blanks();
                self.issue(
                    cursor,
                    name.len(),
                    Severity::Error,
                    format!(
                        "sample of {family_name} after its group ended at line {ended}: all \
                         lines of a metric family must be together"
                    ),
                );
            }
            self.switch_family(&family_name, line);
        }
        let index = self.family_entry(&family_name, line);
        let kind = self
            .families
            .get(index)
            .map_or(MetricKind::Untyped, |family| family.kind);
        if kind == MetricKind::Histogram && name.ends_with("_bucket") && !labels.iter().any(|(label, _)| label == "le")
        {
            cursor.pos = 0;
            cursor.skip_blanks();
            self.issue(
                cursor,
                name.len(),
                Severity::Error,
                format!("histogram bucket {name} has no le label"),
            );
        }
        let sample = ExpositionSample {
            name: name.to_string(),
            labels,
            value,
            timestamp_ms,
            family: family_name,
            line,
        };
        let key = sample.series_key();
        if let (Some(family), Some(series)) = (self.families.get_mut(index), self.family_series.get_mut(index)) {
            family.samples += 1;
            series.insert(key);
            family.series = series.len();
        }
        self.samples.push(sample);
    }

    /// `x_bucket`/`x_sum`/`x_count` belong to histogram `x`, `x_sum`/`x_count` to summary `x`,
    /// as declared so far; anything else is its own family.
    fn family_of(&self, name: &str) -> String {
        if self.type_lines.contains_key(name) {
            return name.to_string();
        }
        for (suffix, kinds) in [
            ("_bucket", &[MetricKind::Histogram][..]),
            ("_sum", &[MetricKind::Histogram, MetricKind::Summary][..]),
            ("_count", &[MetricKind::Histogram, MetricKind::Summary][..]),
        ] {
            if let Some(base) = name.strip_suffix(suffix) {
                let declared = self
                    .family_index
                    .get(base)
                    .and_then(|index| self.families.get(*index))
                    .is_some_and(|family| family.declared && kinds.contains(&family.kind));
                if declared {
                    return base.to_string();
                }
            }
        }
        name.to_string()
    }

    fn switch_family(&mut self, name: &str, line: usize) {
        if let Some(previous) = self.current_family.take() {
            self.closed_families.entry(previous).or_insert(line);
        }
        self.current_family = Some(name.to_string());
    }

    fn family_entry(&mut self, name: &str, line: usize) -> usize {
        if let Some(index) = self.family_index.get(name) {
            return *index;
        }
        let index = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            kind: MetricKind::Untyped,
            declared: false,
            help: None,
            first_line: line,
            samples: 0,
            series: 0,
        });
        self.family_series.push(Default::default());
        self.family_index.insert(name.to_string(), index);
        index
    }

    fn finish(mut self) -> Exposition {
        if self.dropped_issues > 0 {
            let last_line = self.issues.last().map_or(1, |issue| issue.line);
            self.issues.push(ExpositionIssue {
                line: last_line,
                column: 1,
                span: 0..0,
                severity: Severity::Error,
                message: format!("{} more issue(s) not shown", self.dropped_issues),
            });
        }
        Exposition {
            families: self.families,
            samples: self.samples,
            issues: self.issues,
        }
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

fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn escape_label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// 1-based line and character column of a byte offset.
#[cfg(test)]
mod tests {
    use super::*;

    fn issues(text: &str) -> Vec<String> {
        parse_exposition(text).issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_typical_page_parses_into_families() {
        let text = "\
# HELP page_views_total Page views.
# TYPE page_views_total counter
page_views_total{page=\"/\",country=\"de\"} 42
page_views_total{page=\"/about\",country=\"us\"} 7 1795598648000
# TYPE lat histogram
lat_bucket{le=\"0.1\"} 1
lat_bucket{le=\"+Inf\"} 2
lat_sum 0.3
lat_count 2
temp NaN
";
        let parsed = parse_exposition(text);
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let summary: Vec<String> = parsed
            .families
            .iter()
            .map(|f| {
                format!(
                    "{} {} samples={} series={}",
                    f.name,
                    f.kind.as_str(),
                    f.samples,
                    f.series
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "page_views_total counter samples=2 series=2",
                "lat histogram samples=4 series=4",
                "temp untyped samples=1 series=1",
            ]
        );
        assert_eq!(parsed.families[0].help.as_deref(), Some("Page views."));
        assert_eq!(parsed.samples[1].timestamp_ms, Some(1795598648000));
    }

    #[test]
    fn every_broken_line_is_reported_with_line_col() {
        let text = "\
ok 1
bad{a=\"x} 1
also_bad{a=b} 1
nope 1x
# TYPE t wibble
7up 1
label_escape{a=\"\\q\"} 1
x{a=\"1\",a=\"2\"} 1
trailing 1 2 3
";
        assert_eq!(
            issues(text),
            [
                "2:7: error: the value of label a has no closing quote",
                "3:12: error: the value of label a must be in double quotes",
                "4:6: error: \"1x\" is not a valid sample value (a float, NaN, +Inf or -Inf)",
                "5:10: error: unknown metric type \"wibble\" (counter, gauge, histogram, summary or untyped)",
                "6:1: error: expected a metric name, found \"7up\"",
                "7:17: error: invalid escape \\q in the value of label a (only \\\\, \\\" and \\n)",
                "8:9: error: label a appears twice",
                "9:14: error: unexpected text after the timestamp",
            ]
        );
    }

    #[test]
    fn split_families_and_repeated_metadata_are_errors() {
        let text = "\
# TYPE a counter
a_total 1
# TYPE b gauge
b 1
a_total 2
# TYPE b gauge
";
        assert_eq!(
            issues(text),
            [
                "5:1: error: sample of a_total after its group ended at line 3: all lines of a metric family must be together",
                "6:8: error: second # TYPE line for b (first at line 3)",
            ]
        );
    }

    #[test]
    fn crlf_and_missing_final_newline_are_reported_once() {
        assert_eq!(
            issues("a 1\r\nb 2\r\nc 3"),
            [
                "1:4: error: line ends with a carriage return (2 line(s) in all): the text format separates lines with \\n only",
                "3:4: warning: the last line does not end with a line break",
            ]
        );
    }

    #[test]
    fn label_values_keep_commas_equals_and_escapes() {
        let parsed = parse_exposition("req{path=\"/a,b=c\",msg=\"say \\\"hi\\\"\\n\",} 1\n");
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        assert_eq!(
            parsed.samples[0].labels,
            [
                ("path".to_string(), "/a,b=c".to_string()),
                ("msg".to_string(), "say \"hi\"\n".to_string())
            ]
        );
    }

    #[test]
    fn counters_without_total_note_the_openmetrics_style() {
        let analysis = analyze_exposition(
            "\
# TYPE requests counter
requests 3
# TYPE jobs counter
jobs_total 4
# TYPE ok_total counter
ok_total 1
",
        );
        let found: Vec<(String, CounterNamingProblem)> = analysis
            .counters_without_total
            .iter()
            .map(|c| (c.family.clone(), c.problem.clone()))
            .collect();
        assert_eq!(
            found,
            [
                ("requests".to_string(), CounterNamingProblem::MissingTotalSuffix),
                (
                    "jobs".to_string(),
                    CounterNamingProblem::OpenMetricsTypeLine {
                        sample_name: "jobs_total".into()
                    }
                ),
            ]
        );
        assert!(analysis.counters_without_total[0].message().contains("prom-client"));
    }

    #[test]
    fn duplicate_series_are_found_whatever_the_label_order() {
        let analysis = analyze_exposition("x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 2\nx{a=\"2\"} 3\n");
        assert_eq!(
            analysis.duplicate_series,
            [DuplicateSeries {
                series: "x{a=\"1\",b=\"2\"}".into(),
                lines: vec![1, 2]
            }]
        );
        assert!(analysis.is_valid());
    }

    #[test]
    fn issue_spans_point_into_the_text() {
        let text = "a 1\nb{c=d} 2\n";
        let parsed = parse_exposition(text);
        let issue = &parsed.issues[0];
        assert_eq!(&text[issue.span.clone()], "d");
    }

    #[test]
    fn a_value_missing_at_the_very_end_still_has_a_span_inside_the_text() {
        let text = "a{b=\"c\"}";
        let parsed = parse_exposition(text);
        assert_eq!(parsed.issues[0].message, "a: missing value");
        assert!(text.get(parsed.issues[0].span.clone()).is_some());
    }

    proptest::proptest! {
        /// Any text made of the format's own characters parses without panicking, and every
        /// issue's span slices the text.
        #[test]
        fn any_text_parses_and_spans_slice(text in "[a-z_{}=\",#\\ \t\n\r0-9.+éE-]{0,80}") {
            let analysis = analyze_exposition(&text);
            for issue in &analysis.exposition.issues {
                proptest::prop_assert!(text.get(issue.span.clone()).is_some());
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "{",
            "}",
            "#",
            "# TYPE",
            "# HELP",
            "a{",
            "a{b",
            "a{b=",
            "a{b=\"",
            "a{b=\"\\",
            "é{} 1",
            "\u{0}",
            "a 1 -",
            "a{é=\"x\"} 1",
            "a{b=\"x\"é} 1",
            "\r",
            "\n\n",
        ] {
            let analysis = analyze_exposition(text);
            for issue in &analysis.exposition.issues {
                assert!(text.get(issue.span.clone()).is_some(), "{text:?}: {issue:?}");
            }
        }
    }
}
