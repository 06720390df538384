//! Grafana's templating-variable query functions for Prometheus, which are not PromQL:
//! `label_values(label)`, `label_values(selector, label)`, `label_names()`, `metrics(regex)` and
//! `query_result(expr)`.

use std::ops::Range;

use super::template;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GrafanaQuery {
    /// `label_values([selector,] label)`: spans of the selector and the trimmed label argument.
    LabelValues {
        selector: Option<Range<usize>>,
        label: Range<usize>,
    },
    /// `query_result(expr)`: span of the expression.
    QueryResult { expression: Range<usize> },
    /// `label_names(...)`, `metrics(...)`: nothing pullover rewrites.
    Other,
}

/// The Grafana function the whole of `text` is, if it is one. `Err` carries the span and message
/// of a malformed call.
pub(crate) fn detect(text: &str) -> Option<Result<GrafanaQuery, (Range<usize>, String)>> {
    let start = text.len() - text.trim_start().len();
    let rest = text.get(start..)?;
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = rest.get(..name_len)?;
    if !matches!(name, "label_values" | "label_names" | "metrics" | "query_result") {
        return None;
    }
    let after_name = start + name_len;
    let open = after_name + text.get(after_name..)?.len() - text.get(after_name..)?.trim_start().len();
    if text.as_bytes().get(open) != Some(&b'(') {
        return None;
    }
    let name_span = start..after_name;
    let Some((close, commas)) = matching_paren(text, open) else {
        return Some(Err((name_span, format!("`{name}(` is never closed"))));
    };
    if !text.get(close + 1..)?.trim().is_empty() {
        // Something follows the call: then it is not Grafana's function but PromQL that
        // happens to start with the name (`metrics(...)` is no PromQL function either).
        return None;
    }
    let inner = open + 1..close;
    let mut arguments = Vec::new();
    let mut arg_start = inner.start;
    for comma in commas {
        arguments.push(arg_start..comma);
        arg_start = comma + 1;
    }
    arguments.push(arg_start..inner.end);
    let arguments: Vec<Range<usize>> = arguments.into_iter().map(|a| trim(text, a)).collect();
    Some(match name {
        "label_values" => match arguments.as_slice() {
            [label] if !label.is_empty() => Ok(GrafanaQuery::LabelValues {
                selector: None,
                label: label.clone(),
            }),
            [selector, label] if !label.is_empty() && !selector.is_empty() => Ok(GrafanaQuery::LabelValues {
                selector: Some(selector.clone()),
                label: label.clone(),
            }),
            _ => Err((
                start..close + 1,
                "label_values takes a label, or a selector and a label".to_string(),
            )),
        },
        "query_result" => Ok(GrafanaQuery::QueryResult { expression: inner }),
        _ => Ok(GrafanaQuery::Other),
    })
}

fn trim(text: &str, range: Range<usize>) -> Range<usize> {
    let slice = text.get(range.clone()).unwrap_or_default();
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = range.start + slice.trim_end().len();
    start..end.max(start)
}

/// The `)` matching the `(` at `open`, and the commas at its top level (outside strings, braces
/// and nested parentheses).
fn matching_paren(text: &str, open: usize) -> Option<(usize, Vec<usize>)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut braces = 0usize;
    let mut commas = Vec::new();
    let mut index = open;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'"' | b'\'' | b'`' => {
                index = template::skip_string(bytes, index);
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((index, commas));
                }
            }
            b'{' => braces += 1,
            b'}' => braces = braces.saturating_sub(1),
            b',' if depth == 1 && braces == 0 => commas.push(index),
            _ => {}
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_label_values_into_selector_and_label() {
        let text = r#" label_values(up{job=~"a,b"}, instance) "#;
        let Some(Ok(GrafanaQuery::LabelValues {
            selector: Some(selector),
            label,
        })) = detect(text)
        else {
            panic!("not detected");
        };
        assert_eq!(text.get(selector), Some(r#"up{job=~"a,b"}"#));
        assert_eq!(text.get(label), Some("instance"));
    }

    #[test]
    fn leaves_promql_alone() {
        assert_eq!(detect("sum(rate(x[5m]))"), None);
        assert_eq!(detect("label_values_total"), None);
        assert!(matches!(detect("metrics(push_.*)"), Some(Ok(GrafanaQuery::Other))));
    }
}
