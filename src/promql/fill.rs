//! Filling Grafana template variables with values, as Grafana does before a query reaches
//! Prometheus, so a dashboard query can be run as Grafana would run it.
//!
//! Unlike the masking in `template.rs` (which only needs the variables the PromQL parser would
//! trip over), filling looks everywhere, string literals included: `method=~"$method"` is the
//! most common use. A name with no value stays as written, as Grafana leaves unknown variables.

use std::ops::Range;

use super::grafana::{self, GrafanaQuery};
use super::template;

/// One use of a variable in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRef {
    /// Byte range in the query, `$`/`[[` to the end.
    pub span: Range<usize>,
    /// `method` for `$method`, `${method:regex}` and `[[method]]`; `__rate_interval` for the
    /// built-in.
    pub name: String,
    /// `regex` for `${method:regex}`, `date:seconds` for `${__from:date:seconds}`.
    pub format: Option<String>,
    /// `field` for `${var.field}`.
    pub field: Option<String>,
}

/// Every variable used in `query`, in order.
pub fn variable_refs(query: &str) -> Vec<VariableRef> {
    let bytes = query.as_bytes();
    let mut refs = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let here = bytes.get(index).copied();
        if matches!(here, Some(b'$' | b'['))
            && let Some(end) = template::variable_end(bytes, index)
            && let Some(text) = query.get(index..end)
        {
            refs.push(parse_ref(text, index..end));
            index = end;
        } else {
            index += 1;
        }
    }
    refs
}

fn parse_ref(text: &str, span: Range<usize>) -> VariableRef {
    // `${name.field:format}`, `[[name:format]]`, `$name`.
    let body = if let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        inner
    } else if let Some(inner) = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
        inner
    } else {
        text.strip_prefix('$').unwrap_or(text)
    };
    let (head, format) = match body.split_once(':') {
        Some((head, format)) => (head, Some(format.to_string())),
        None => (body, None),
    };
    let (name, field) = match head.split_once('.') {
        Some((name, field)) => (name, Some(field.to_string())),
        None => (head, None),
    };
    VariableRef {
        span,
        name: name.to_string(),
        format,
        field,
    }
}

/// A query with its variables filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    /// Names used in the query that had no value (left as written), deduplicated, in order.
    pub unresolved: Vec<String>,
}

/// Replaces every variable `value` knows; the rest stays as written.
pub fn fill(query: &str, value: impl Fn(&VariableRef) -> Option<String>) -> Filled {
    let mut text = String::with_capacity(query.len());
    let mut unresolved: Vec<String> = Vec::new();
    let mut copied = 0;
    for reference in variable_refs(query) {
        let Some(replacement) = value(&reference) else {
            if !unresolved.contains(&reference.name) {
                unresolved.push(reference.name.clone());
            }
            continue;
        };
        text.push_str(query.get(copied..reference.span.start).unwrap_or_default());
        text.push_str(&replacement);
        copied = reference.span.end;
    }
    text.push_str(query.get(copied..).unwrap_or_default());
    Filled { text, unresolved }
}

/// Grafana's variable query functions for Prometheus (not PromQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateFunction {
    /// `label_values(label)` or `label_values(selector, label)`.
    LabelValues { selector: Option<String>, label: String },
    /// `query_result(expr)`.
    QueryResult { expr: String },
    /// `label_names()`, `metrics(regex)`: nothing to run against series.
    Other,
}

/// The Grafana function `query` is, `None` for plain PromQL, `Err` for a malformed call.
pub fn template_function(query: &str) -> Option<Result<TemplateFunction, String>> {
    let slice = |range: Range<usize>| query.get(range).unwrap_or_default().to_string();
    Some(match grafana::detect(query)? {
        Err((_, message)) => Err(message),
        Ok(GrafanaQuery::LabelValues { selector, label }) => Ok(TemplateFunction::LabelValues {
            selector: selector.map(slice),
            label: slice(label),
        }),
        Ok(GrafanaQuery::QueryResult { expression }) => Ok(TemplateFunction::QueryResult {
            expr: slice(expression).trim().to_string(),
        }),
        Ok(GrafanaQuery::Other) => Ok(TemplateFunction::Other),
    })
}

/// A value as Grafana's Prometheus data source writes a multi-value or "include All" variable:
/// regex metacharacters escaped.
pub fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(query: &str) -> Vec<(String, Option<String>)> {
        variable_refs(query).into_iter().map(|r| (r.name, r.format)).collect()
    }

    #[test]
    fn finds_variables_in_strings_ranges_and_every_syntax() {
        assert_eq!(
            names(r#"sum(rate(x{method=~"$method", page="${page:regex}"}[$__rate_interval])) / [[n]]"#),
            [
                ("method".to_string(), None),
                ("page".to_string(), Some("regex".to_string())),
                ("__rate_interval".to_string(), None),
                ("n".to_string(), None),
            ]
        );
        assert_eq!(
            names("x @ ${__to:date:seconds}"),
            [("__to".to_string(), Some("date:seconds".to_string()))]
        );
        assert!(names(r#"x{a=~"^b$"} and y[5m]"#).is_empty());
    }

    #[test]
    fn fills_known_variables_and_leaves_the_rest_as_grafana_does() {
        let filled = fill(
            r#"rate(x{method=~"$method", code="$code"}[$__rate_interval])"#,
            |r| match r.name.as_str() {
                "method" => Some("GET".into()),
                "__rate_interval" => Some("4s".into()),
                _ => None,
            },
        );
        assert_eq!(filled.text, r#"rate(x{method=~"GET", code="$code"}[4s])"#);
        assert_eq!(filled.unresolved, ["code"]);
    }

    #[test]
    fn label_values_and_query_result_are_told_apart_from_promql() {
        assert_eq!(
            template_function(r#"label_values(page_views_total{job="metrics-api"}, page)"#),
            Some(Ok(TemplateFunction::LabelValues {
                selector: Some(r#"page_views_total{job="metrics-api"}"#.into()),
                label: "page".into()
            }))
        );
        assert_eq!(
            template_function("label_values(job)"),
            Some(Ok(TemplateFunction::LabelValues {
                selector: None,
                label: "job".into()
            }))
        );
        assert_eq!(
            template_function("query_result(topk(3, x))"),
            Some(Ok(TemplateFunction::QueryResult {
                expr: "topk(3, x)".into()
            }))
        );
        assert_eq!(template_function("sum(x)"), None);
        assert!(matches!(template_function("label_values("), Some(Err(_))));
    }

    #[test]
    fn regex_escaping_covers_metacharacters() {
        assert_eq!(regex_escape("/a.b(c)"), r"/a\.b\(c\)");
    }
}
