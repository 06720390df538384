//! A read-only view of a query's selectors, for phases that need to know what a query selects
//! without rewriting it: which metrics an app pushes (`dual-run`), which pushed label sets the
//! dashboards name (`instance="app-1"` next to `job="metrics-api"`, `exported_job="batch-etl"`).

use std::ops::Range;

use super::error::PromqlError;
use super::parse::{expression_range, masked_for_parser, parse_expression};
use super::strings::{self, ValueShape};
use super::structure::{self, MatchOp, MetricName};

/// One selector as written: its literal metric name and matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorView {
    /// `None` when the name is a template variable, a regex or absent.
    pub metric: Option<String>,
    pub matchers: Vec<MatcherView>,
    /// Byte range of the selector in the query.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherView {
    pub label: String,
    /// `=`, `!=`, `=~` or `!~`.
    pub op: &'static str,
    /// The decoded value; `None` when it holds a template variable.
    pub value: Option<String>,
    /// The values it names: the literal, or each literal of a plain `a|b` alternation.
    pub values: Vec<String>,
    /// Whether `values` is everything it can match: false when a template variable or a regex
    /// pullover does not read is part of it.
    pub exact: bool,
}

impl MatcherView {
    /// `=` or `=~`.
    pub fn positive(&self) -> bool {
        matches!(self.op, "=" | "=~")
    }
}

impl SelectorView {
    /// The value of an `=` matcher on `label`.
    pub fn equals(&self, label: &str) -> Option<&str> {
        self.matchers
            .iter()
            .find(|m| m.label == label && m.op == "=")
            .and_then(|m| m.value.as_deref())
    }

    /// The values of the positive, exact matcher on `label`; `None` when there is none.
    pub fn named(&self, label: &str) -> Option<&[String]> {
        self.matchers
            .iter()
            .find(|m| m.label == label && m.positive() && m.exact)
            .map(|m| m.values.as_slice())
    }
}

/// Every selector of `query` (a PromQL expression or a Grafana `label_values(...)`/
/// `query_result(...)` variable query). A query that does not parse is an `Err`.
pub fn selectors(query: &str) -> Result<Vec<SelectorView>, PromqlError> {
    let Some(range) = expression_range(query)? else {
        return Ok(Vec::new());
    };
    let offset = range.start;
    let text = query
        .get(range.clone())
        .ok_or_else(|| PromqlError::syntax(range, "not a valid range of the query"))?;
    let Some(expression) = parse_expression(text).map_err(|e| e.shifted(offset))? else {
        return Ok(Vec::new());
    };
    Ok(expression
        .structure
        .selectors
        .iter()
        .map(|selector| SelectorView {
            metric: match &selector.name {
                MetricName::Literal(name) => Some(name.clone()),
                MetricName::Unknown | MetricName::Absent => None,
            },
            matchers: selector.matchers.iter().cloned().filter_map(matcher_view).collect(),
            span: selector.span.start + offset..selector.span.end + offset,
        })
        .collect())
}

fn matcher_view(matcher: structure::Matcher) -> Option<MatcherView> {
    let raw = &matcher.value.raw;
    let (values, exact) = match strings::value_shape(raw, matcher.op.is_regex()) {
        ValueShape::Literal(value) => (vec![value], true),
        ValueShape::Alternation(alternation) => (
            alternation.literals().map(str::to_string).collect(),
            !alternation.has_template(),
        ),
        _ => (Vec::new(), false),
    };
    Some(MatcherView {
        op: match matcher.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        },
        value: strings::decode(raw).filter(|v| !v.contains('$') && !v.contains("[[")),
        values,
        exact,
        label: matcher.label.text?,
    })
}

/// A range's span and, in a subquery, its step's: see [`range_spans`].
pub type RangeSpan = (Range<usize>, Option<Range<usize>>);

/// Where each range selector's and subquery's range is written (`5m` in `x[5m]` and in
/// `max_over_time(x[5m:30s])`), with the subquery's step (`30s`) when it has one: byte spans of
/// the query. A query that does not parse is an `Err`; Grafana variables are allowed (a
/// `[$__rate_interval]` range is not a duration and is left out).
pub fn range_spans(query: &str) -> Result<Vec<RangeSpan>, PromqlError> {
    use promql_parser::parser::token::{T_COLON, T_DURATION, T_LEFT_BRACKET, T_RIGHT_BRACKET};
    let Some(masked) = masked_for_parser(query)? else {
        return Ok(Vec::new());
    };
    let tokens = structure::tokens(&masked.text).map_err(|message| PromqlError::syntax(0..query.len(), message))?;
    let outside_variables = |span: &Range<usize>| {
        masked
            .variables
            .iter()
            .all(|v| v.span.end <= span.start || v.span.start >= span.end)
    };
    let mut spans = Vec::new();
    for (i, open) in tokens.iter().enumerate() {
        let (Some(range), Some(after)) = (tokens.get(i + 1), tokens.get(i + 2)) else {
            continue;
        };
        if open.id != T_LEFT_BRACKET || range.id != T_DURATION || !outside_variables(&range.span) {
            continue;
        }
        let step = match (after.id, tokens.get(i + 3), tokens.get(i + 4)) {
            (T_RIGHT_BRACKET, _, _) => None,
            (T_COLON, Some(step), Some(close)) if step.id == T_DURATION && close.id == T_RIGHT_BRACKET => {
                Some(step.span.clone()).filter(outside_variables)
            }
            (T_COLON, _, _) => None,
            _ => continue,
        };
        spans.push((range.span.clone(), step));
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_of_queries_and_variable_queries() {
        let found = selectors(r#"sum by (page) (rate(page_views_total{job="metrics-api", instance=~"$instance"}[$__rate_interval])) / on() up"#).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].metric.as_deref(), Some("page_views_total"));
        assert_eq!(found[0].equals("job"), Some("metrics-api"));
        assert_eq!(found[0].matchers[1].value, None, "a template variable is not a value");
        assert_eq!(found[1].metric.as_deref(), Some("up"));
        let lv = selectors(r#"label_values(etl_rows_processed_total{job="pushgateway"}, exported_job)"#).unwrap();
        assert_eq!(lv[0].metric.as_deref(), Some("etl_rows_processed_total"));
        assert!(selectors("sum(").is_err());
    }

    #[test]
    fn literal_and_alternation_values_are_named_templates_are_not() {
        let query = r#"sum(rate(x{job="metrics-api", instance=~"app-1|app-2", page=~"$page"}[$__rate_interval])) / y{instance!="a"}"#;
        let found = selectors(query).unwrap();
        assert_eq!(found.len(), 2);
        let first = &found[0];
        assert_eq!(first.metric.as_deref(), Some("x"));
        assert_eq!(first.named("job"), Some(&["metrics-api".to_string()][..]));
        assert_eq!(first.named("instance").map(<[String]>::len), Some(2));
        assert_eq!(first.named("page"), None);
        assert_eq!(found[1].named("instance"), None, "a negative matcher names nothing");
        assert_eq!(query.get(found[1].span.clone()), Some(r#"y{instance!="a"}"#));
    }

    #[test]
    fn label_values_reads_its_selector_and_bad_queries_are_errors() {
        let query = r#"label_values(up{exported_job="etl"}, exported_instance)"#;
        let found = selectors(query).unwrap();
        assert_eq!(found[0].named("exported_job"), Some(&["etl".to_string()][..]));
        assert_eq!(query.get(found[0].span.clone()), Some(r#"up{exported_job="etl"}"#));
        assert!(selectors("label_values(job)").unwrap().is_empty());
        assert!(selectors("sum(rate(x[5m])").is_err());
    }
}
