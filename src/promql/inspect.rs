//! A read-only view of a query's selectors, for phases that need to know what
//! a query selects (which metrics an app pushes) without rewriting it.

use super::grafana::{self, GrafanaQuery};
use super::structure::{self, MatchOp, MetricName};
use super::{PromqlError, masked_for_parser, strings};

/// One selector as written: its literal metric name and matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorView {
    /// `None` when the name is a template variable or absent.
    pub metric: Option<String>,
    pub matchers: Vec<MatcherView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherView {
    pub label: String,
    /// `=`, `!=`, `=~` or `!~`.
    pub op: &'static str,
    /// The decoded value; `None` when it holds a template variable.
    pub value: Option<String>,
}

impl SelectorView {
    /// The value of an `=` matcher on `label`.
    pub fn equals(&self, label: &str) -> Option<&str> {
        self.matchers
            .iter()
            .find(|m| m.label == label && m.op == "=")
            .and_then(|m| m.value.as_deref())
    }
}

/// Every selector of `query` (a PromQL expression or a Grafana `label_values(...)`/
/// `query_result(...)` variable query).
pub fn selectors(query: &str) -> Result<Vec<SelectorView>, PromqlError> {
    let range = match grafana::detect(query) {
        None => 0..query.len(),
        Some(Err((span, message))) => return Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => return Ok(Vec::new()),
        Some(Ok(GrafanaQuery::QueryResult { expression })) => expression,
        Some(Ok(GrafanaQuery::LabelValues { selector, .. })) => match selector {
            Some(selector) => selector,
            None => return Ok(Vec::new()),
        },
    };
    let text = query
        .get(range.clone())
        .ok_or_else(|| PromqlError::syntax(range, "not a valid range of the query"))?;
    let Some(masked) = masked_for_parser(text)? else {
        return Ok(Vec::new());
    };
    let tokens = structure::tokens(&masked.text).map_err(|message| PromqlError::syntax(0..text.len(), message))?;
    let structure = structure::structure(text, &masked.text, &tokens, &masked.variables);
    Ok(structure
        .selectors
        .into_iter()
        .map(|selector| SelectorView {
            metric: match selector.name {
                MetricName::Literal(name) => Some(name),
                MetricName::Unknown | MetricName::Absent => None,
            },
            matchers: selector
                .matchers
                .into_iter()
                .filter_map(|m| {
                    Some(MatcherView {
                        label: m.label.text?,
                        op: match m.op {
                            MatchOp::Equal => "=",
                            MatchOp::NotEqual => "!=",
                            MatchOp::Regex => "=~",
                            MatchOp::NotRegex => "!~",
                        },
                        value: strings::decode(&m.value.raw).filter(|v| !v.contains('$') && !v.contains("[[")),
                    })
                })
                .collect(),
        })
        .collect())
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
}
