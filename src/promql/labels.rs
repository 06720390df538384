//! Which label values a query's selectors name: what the `dashboards` phase learns the pushed
//! label sets from (`instance="app-1"` next to `job="metrics-api"`, `exported_job="batch-etl"`).
//! Read only; nothing is rewritten here.

use std::ops::Range;

use super::grafana::{self, GrafanaQuery};
use super::strings::{self, ValueShape};
use super::structure::{self, MetricName};
use super::{PromqlError, masked_for_parser};

/// One vector selector of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorLabels {
    /// The metric name, when it is written as a literal (not a variable, not a regex).
    pub metric: Option<String>,
    pub matchers: Vec<LabelMatcher>,
    /// Byte range of the selector in the query.
    pub span: Range<usize>,
}

/// One matcher of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    pub label: String,
    /// `=` or `=~`.
    pub positive: bool,
    /// The values it names: the literal, or each literal of a plain `a|b` alternation.
    pub values: Vec<String>,
    /// Whether `values` is everything it can match: false when a template variable or a regex
    /// pullover does not read is part of it.
    pub exact: bool,
}

impl SelectorLabels {
    /// The values of the positive, exact matchers on `label`; `None` when there is none.
    pub fn named(&self, label: &str) -> Option<&[String]> {
        self.matchers
            .iter()
            .find(|m| m.label == label && m.positive && m.exact)
            .map(|m| m.values.as_slice())
    }
}

/// The selectors of `query` (PromQL, or one of Grafana's `label_values(…)`/`query_result(…)`
/// variable queries), with what their matchers name. A query that does not parse is an `Err`.
pub fn selector_labels(query: &str) -> Result<Vec<SelectorLabels>, PromqlError> {
    let range = match grafana::detect(query) {
        None => Some(0..query.len()),
        Some(Err((span, message))) => return Err(PromqlError::syntax(span, message)),
        Some(Ok(GrafanaQuery::Other)) => None,
        Some(Ok(GrafanaQuery::QueryResult { expression })) => Some(expression),
        Some(Ok(GrafanaQuery::LabelValues { selector, .. })) => selector,
    };
    let Some(range) = range else {
        return Ok(Vec::new());
    };
    let offset = range.start;
    let text = query
        .get(range.clone())
        .ok_or_else(|| PromqlError::syntax(range, "not a valid range of the query"))?;
    let Some(masked) = masked_for_parser(text).map_err(|e| e.shifted(offset))? else {
        return Ok(Vec::new());
    };
    let tokens = structure::tokens(&masked.text)
        .map_err(|message| super::error::locate(text, &masked.text, &message).shifted(offset))?;
    let structure = structure::structure(text, &masked.text, &tokens, &masked.variables);
    Ok(structure
        .selectors
        .iter()
        .map(|selector| SelectorLabels {
            metric: match &selector.name {
                MetricName::Literal(name) => Some(name.clone()),
                _ => None,
            },
            matchers: selector
                .matchers
                .iter()
                .filter_map(|matcher| {
                    let label = matcher.label.text.clone()?;
                    let (values, exact) = match strings::value_shape(&matcher.value.raw, matcher.op.is_regex()) {
                        ValueShape::Literal(value) => (vec![value], true),
                        ValueShape::Alternation(alternation) => (
                            alternation.literals().map(str::to_string).collect(),
                            !alternation.has_template(),
                        ),
                        _ => (Vec::new(), false),
                    };
                    Some(LabelMatcher {
                        label,
                        positive: matcher.op.is_positive(),
                        values,
                        exact,
                    })
                })
                .collect(),
            span: selector.span.start + offset..selector.span.end + offset,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_alternation_values_are_named_templates_are_not() {
        let selectors = selector_labels(
            r#"sum(rate(x{job="metrics-api", instance=~"app-1|app-2", page=~"$page"}[$__rate_interval])) / y{instance!="a"}"#,
        )
        .unwrap();
        assert_eq!(selectors.len(), 2);
        let first = &selectors[0];
        assert_eq!(first.metric.as_deref(), Some("x"));
        assert_eq!(first.named("job"), Some(&["metrics-api".to_string()][..]));
        assert_eq!(first.named("instance").map(<[String]>::len), Some(2));
        assert_eq!(first.named("page"), None);
        assert_eq!(selectors[1].named("instance"), None, "a negative matcher names nothing");
    }

    #[test]
    fn label_values_reads_its_selector_and_bad_queries_are_errors() {
        let selectors = selector_labels(r#"label_values(up{exported_job="etl"}, exported_instance)"#).unwrap();
        assert_eq!(selectors[0].named("exported_job"), Some(&["etl".to_string()][..]));
        assert!(selector_labels("label_values(job)").unwrap().is_empty());
        assert!(selector_labels("sum(rate(x[5m])").is_err());
    }
}
