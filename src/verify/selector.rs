//! PromQL selectors for the live checks: matchers, quoted strings, and the labels and series
//! that say where a series came from rather than what it measures.

use std::fmt;

/// Labels that say where a series came from rather than what it measures.
pub const SOURCE_LABELS: [&str; 4] = ["job", "instance", "exported_job", "exported_instance"];

/// Series Prometheus adds for every scrape target; nothing is pushed for them.
pub const SCRAPE_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Series Pushgateway adds for every group; the app never serves them.
pub const PUSH_SERIES: [&str; 2] = ["push_time_seconds", "push_failure_time_seconds"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

impl Matcher {
    pub fn equal(label: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            label: label.into(),
            op: MatchOp::Equal,
            value: value.into(),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{op}{}", self.label, promql_string(&self.value))
    }
}

/// A PromQL double-quoted string literal.
pub fn promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// `name{matchers}`, or `{__name__="name", matchers}` when the name is not a plain
/// identifier.
pub fn selector(metric: Option<&str>, matchers: &[Matcher]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut prefix = String::new();
    if let Some(name) = metric {
        if is_plain_metric_name(name) {
            prefix = name.to_string();
        } else {
            parts.push(Matcher::equal("__name__", name).to_string());
        }
    }
    parts.extend(matchers.iter().map(ToString::to_string));
    format!("{prefix}{{{}}}", parts.join(", "))
}

fn is_plain_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}
