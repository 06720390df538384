//! Properties over generated queries: no panics, a rewrite parses whenever the input did, bytes
//! outside the edits and every Grafana variable stay as written, and rewriting is idempotent.

use proptest::prelude::*;

use super::super::{PromqlErrorKind, check, template};
use super::{etl, mapping, metrics_api};
use crate::promql::{QueryRewrite, SeriesMapping, rewrite_query};

fn mappings() -> impl Strategy<Value = SeriesMapping> {
    prop_oneof![
        Just(mapping(true, vec![metrics_api(), etl()])),
        Just(mapping(false, vec![metrics_api()])),
        Just(mapping(false, vec![metrics_api(), etl()])),
    ]
}

fn metric() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "page_views_total",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "etl_rows_processed_total",
        "push_time_seconds",
        "pushgateway_http_requests_total",
        "up",
        "go_goroutines",
        "job:page_views:rate5m",
        "$metric",
        "${metric}",
        "node_${suffix}",
    ])
    .prop_map(str::to_string)
}

fn label() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "job",
        "instance",
        "exported_job",
        "exported_instance",
        "page",
        "le",
        "code",
    ])
    .prop_map(str::to_string)
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "pushgateway",
        "metrics-api",
        "etl-batch",
        "etl",
        "app-1",
        "",
        "pushgateway:9091",
        "metrics-api:8080",
        "node",
        "$job",
        "${job:regex}",
        "push.*",
        "metrics-api|node",
        "pushgateway|etl-batch",
        "app-1|metrics-api:8080",
        ".+",
        "/über",
        "5..",
    ])
    .prop_map(str::to_string)
}

fn matcher() -> impl Strategy<Value = String> {
    let op = prop::sample::select(vec!["=", "!=", "=~", "!~", " = ", "=~ "]);
    let quote = prop::sample::select(vec!['"', '"', '\'', '`']);
    (label(), op, value(), quote).prop_map(|(label, op, value, quote)| {
        let quote = if quote == '`' && value.contains('\\') {
            '"'
        } else {
            quote
        };
        format!("{label}{op}{quote}{value}{quote}")
    })
}

fn selector() -> impl Strategy<Value = String> {
    let separator = prop::sample::select(vec![", ", ",", ",\n  ", ", # note\n  "]);
    (
        metric(),
        prop::collection::vec(matcher(), 0..4),
        separator,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(metric, matchers, separator, trailing, nameless)| {
            if matchers.is_empty() {
                return metric;
            }
            let mut inside = matchers.join(separator);
            if trailing {
                inside.push(',');
            }
            if nameless {
                format!("{{{inside}}}")
            } else {
                format!("{metric}{{{inside}}}")
            }
        })
}

fn range() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "[5m]",
        "[$__rate_interval]",
        "[$__interval]",
        "[${__range}]",
        "[${__range_s}s]",
        "[[[interval]]]",
        "[ 1h ]",
    ])
    .prop_map(str::to_string)
}

fn labels() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 0..3).prop_map(|labels| labels.join(", "))
}

fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        selector(),
        (selector(), range()).prop_map(|(s, r)| format!("rate({s}{r})")),
        (selector(), range()).prop_map(|(s, r)| format!("increase({s}{r} offset 5m)")),
        selector().prop_map(|s| format!("time() - {s}")),
        Just("vector(1)".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("sum({e})")),
            (labels(), inner.clone()).prop_map(|(l, e)| format!("sum by ({l}) ({e})")),
            (labels(), inner.clone()).prop_map(|(l, e)| format!("sum({e}) by ({l})")),
            (labels(), inner.clone()).prop_map(|(l, e)| format!("count without ({l}) ({e})")),
            inner.clone().prop_map(|e| format!("topk($topk, {e})")),
            inner.clone().prop_map(|e| format!("histogram_quantile(0.95, {e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
            (labels(), labels(), inner.clone(), inner.clone())
                .prop_map(|(on, group, a, b)| { format!("{a} / on({on}) group_left({group}) {b}") }),
            (labels(), inner.clone(), inner.clone()).prop_map(|(l, a, b)| format!("{a}\n  unless ignoring({l}) {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|e| format!("{e} > $threshold")),
            (inner.clone(), label()).prop_map(|(e, l)| format!(r#"label_replace({e}, "dst", "$1", "{l}", "(.*)")"#)),
            inner.clone().prop_map(|e| format!("({e})")),
            inner
                .clone()
                .prop_map(|e| format!("max_over_time({e}[1h:$__interval])")),
            inner.clone().prop_map(|e| format!("# comment\n{e} # trailing")),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => expression(),
        1 => (selector(), label()).prop_map(|(s, l)| format!("label_values({s}, {l})")),
        1 => label().prop_map(|l| format!("label_values({l})")),
    ]
}

/// Everything a caller may rely on for one rewrite.
fn assert_sound(query: &str, mapping: &SeriesMapping) -> Result<(), TestCaseError> {
    let parsed = check(query).is_ok();
    let rewrite = match rewrite_query(query, mapping) {
        Ok(rewrite) => rewrite,
        Err(error) => {
            prop_assert_ne!(error.kind, PromqlErrorKind::RewriteInvalid, "{}", error.message);
            prop_assert!(!parsed, "parsed but failed: {}", error.message);
            prop_assert!(error.span.end <= query.len());
            return Ok(());
        }
    };
    prop_assert!(parsed, "did not parse but was rewritten");
    let QueryRewrite { text, edits, .. } = &rewrite;
    prop_assert_eq!(text.is_some(), !edits.is_empty());
    let Some(text) = text else {
        return Ok(());
    };
    prop_assert!(check(text).is_ok(), "rewrite does not parse: {}", text);

    // Outside the edits, the output is the input byte for byte.
    let mut rebuilt = String::new();
    let mut copied = 0;
    for edit in edits {
        prop_assert!(edit.range.start >= copied, "edits overlap or are unsorted");
        rebuilt.push_str(&query[copied..edit.range.start]);
        rebuilt.push_str(&edit.replacement);
        copied = edit.range.end;
    }
    rebuilt.push_str(&query[copied..]);
    prop_assert_eq!(&rebuilt, text);

    // Grafana variables are never inside an edit.
    for variable in template::find_variables(query) {
        for edit in edits {
            prop_assert!(
                edit.range.end <= variable.span.start || variable.span.end <= edit.range.start,
                "edit {:?} touches variable {:?}",
                edit.range,
                variable.span
            );
        }
    }

    // Idempotent.
    let again = rewrite_query(text, mapping);
    prop_assert_eq!(again.map(|r| r.text), Ok(None), "second rewrite of {}", text);
    Ok(())
}

proptest! {
    // About one generated query in ten is rewritten (most are left for a finding or do not
    // parse), so this runs enough cases to rewrite a few hundred.
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn generated_queries_rewrite_soundly(query in query(), mapping in mappings()) {
        assert_sound(&query, &mapping)?;
    }

    #[test]
    fn arbitrary_text_never_panics(query in any::<String>(), mapping in mappings()) {
        let _ = rewrite_query(&query, &mapping);
    }

    #[test]
    fn promql_like_noise_never_panics(
        query in r#"[a-z_{}()\[\]",=~!$:#@ .0-9\n'`|\\+*/-]{0,80}"#,
        mapping in mappings(),
    ) {
        assert_sound(&query, &mapping)?;
    }
}
