//! A strict parser for the Prometheus text exposition format 0.0.4 that reports every problem
//! with its line and column instead of stopping at the first.

use std::collections::HashMap;
use std::ops::Range;

use super::report::{Exposition, ExpositionIssue, ExpositionSample, Family, Severity};
use crate::live::model::{MetricKind, parse_sample_value};
use crate::stack::source::line_col;

/// More issues than this are summarised in one last issue; a broken page can have thousands.
pub const MAX_ISSUES: usize = 200;

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

    /// An error over `len` characters at the cursor.
    fn error(&mut self, cursor: &Cursor<'_>, len: usize, message: String) {
        self.issue(cursor, len, Severity::Error, message);
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
            self.error(cursor, keyword.len(), format!("# {keyword} needs a metric name"));
            return;
        }
        let name_at = cursor.pos;
        let Some(name) = cursor.name(true) else {
            let token = cursor.token();
            cursor.pos = name_at;
            self.error(
                cursor,
                token.len(),
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
                self.error(
                    cursor,
                    name.len() + token.len(),
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
                    self.error(cursor, kind_text.len(), message);
                    return;
                }
            };
            cursor.skip_blanks();
            if cursor.peek().is_some() {
                let extra = cursor.rest().len();
                self.error(cursor, extra, "unexpected text after the metric type".into());
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
                self.error(
                    cursor,
                    name.len(),
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
            self.error(
                cursor,
                name.len(),
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
            self.error(
                cursor,
                name.len(),
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
            self.error(
                cursor,
                name.len(),
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
            self.error(cursor, token.len(), format!("expected a metric name, found {token:?}"));
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
            self.error(cursor, 1, format!("{name}: missing value"));
            return;
        }
        if !had_blank {
            // `foo1` would have been read as the name; this is e.g. `foo"x" 1`.
            cursor.pos = value_at;
            self.error(
                cursor,
                value_text.len(),
                format!("unexpected {value_text:?} after the metric name {name}"),
            );
            return;
        }
        let Some(value) = parse_sample_value(value_text) else {
            cursor.pos = value_at;
            self.error(
                cursor,
                value_text.len(),
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
                    self.error(
                        cursor,
                        timestamp_text.len(),
                        format!("{timestamp_text:?} is not a valid timestamp (integer milliseconds)"),
                    );
                    return;
                }
            }
            cursor.skip_blanks();
            if cursor.peek().is_some() {
                let extra = cursor.rest().len();
                self.error(cursor, extra, "unexpected text after the timestamp".into());
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
                self.error(cursor, 1, format!("expected a label name or '}}', found {found}"));
                return None;
            };
            cursor.skip_blanks();
            if !cursor.eat('=') {
                self.error(cursor, 1, format!("expected '=' after label name {label}"));
                return None;
            }
            cursor.skip_blanks();
            if !cursor.eat('"') {
                self.error(
                    cursor,
                    1,
                    format!("the value of label {label} must be in double quotes"),
                );
                return None;
            }
            let value = self.label_value(cursor, label)?;
            if labels.iter().any(|(existing, _)| existing == label) {
                cursor.pos = name_at;
                self.error(cursor, label.len(), format!("label {label} appears twice"));
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
            self.error(
                cursor,
                1,
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
                        self.error(
                            cursor,
                            1 + other.len_utf8(),
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
        self.error(cursor, 1, format!("the value of label {label} has no closing quote"));
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
                self.error(
                    cursor,
                    name.len(),
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
            self.error(cursor, name.len(), format!("histogram bucket {name} has no le label"));
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
