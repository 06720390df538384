//! Focused cases: matcher deletion, errors and their spans, quoting, other stack shapes.

use super::super::{PromqlErrorKind, QueryFindingKind, rewrite, structure, template};
use super::{etl, mapping, metrics_api, render};
use crate::promql::{AppMapping, SeriesMapping, rewrite_query};

fn honor_false() -> SeriesMapping {
    mapping(false, vec![metrics_api()])
}

fn honor_true() -> SeriesMapping {
    mapping(true, vec![metrics_api(), etl()])
}

#[test]
fn deleting_exported_job_keeps_the_selector_well_formed_wherever_it_stands() {
    let cases = [
        r#"x{exported_job="metrics-api", job="pushgateway", a="b"}"#,
        r#"x{job="pushgateway", exported_job="metrics-api", a="b"}"#,
        r#"x{a="b", job="pushgateway", exported_job="metrics-api"}"#,
        r#"x{job="pushgateway",exported_job="metrics-api",}"#,
        r#"x{ exported_job = "metrics-api" , job = "pushgateway" }"#,
    ];
    let rendered: Vec<String> = cases.iter().map(|q| render(q, &honor_false())).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    => x{job="metrics-api", a="b"}
    => x{job="metrics-api", a="b"}
    => x{a="b", job="metrics-api"}
    => x{job="metrics-api",}
    => x{ job = "metrics-api" }
    "#);
}

#[test]
fn deleting_next_to_comments_removes_only_the_matcher_and_its_comma() {
    let query = "x{\n  job=\"pushgateway\", # the gateway\n  exported_job=\"metrics-api\", # the app\n  a=\"b\"\n}";
    insta::assert_snapshot!(render(query, &honor_false()), @r#"
    => x{
         job="metrics-api", # the gateway
          # the app
         a="b"
       }
    "#);
}

/// The first selector of `query` (which must parse without Grafana variables).
fn first_selector(query: &str) -> structure::Selector {
    let tokens = structure::tokens(query).unwrap_or_default();
    let found = structure::structure(query, query, &tokens, &[]);
    found
        .selectors
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no selector in {query}"))
}

#[test]
fn deleting_every_matcher_drops_the_braces_after_a_name_and_refuses_without_one() {
    let named = r#"rate(x {exported_job="a"}[5m])"#;
    let selector = first_selector(named);
    let doomed: Vec<&structure::Matcher> = selector.matchers.iter().collect();
    let edits = rewrite::deletion_edits(named, &selector, &doomed).unwrap_or_default();
    let ranges: Vec<_> = edits.iter().map(|e| named.get(e.range.clone())).collect();
    assert_eq!(ranges, [Some(r#"{exported_job="a"}"#)]);

    let nameless = r#"{exported_job="a"}"#;
    let selector = first_selector(nameless);
    let doomed: Vec<&structure::Matcher> = selector.matchers.iter().collect();
    // `{}` does not parse, so there is no edit that removes the last matcher of a nameless one.
    assert_eq!(rewrite::deletion_edits(nameless, &selector, &doomed), None);
}

#[test]
fn unparseable_queries_are_errors_with_the_span_of_the_problem() {
    let cases = [
        r#"sum(rate(page_views_total{job="pushgateway}[5m]))"#,
        r#"sum(rate(page_views_total[5m])"#,
        r#"sum(rate(page_views_total[5m]))) "#,
        r#"rate(page_views_total{job="metrics-api"})"#,
        r#"sum(rate(page_views_total[5m])) by"#,
        r#"sum(rate(page_views_total[5m]) + on(page) )"#,
        r#"page_views_total{job~"metrics-api"}"#,
        r#"unknown_fn(page_views_total)"#,
        r#"up $ 1"#,
        r#"label_values(up{job="pushgateway"}, instance"#,
        r#"label_values(up{job=}, instance)"#,
        "sum(\n  rate(page_views_total[5m]) by (page)\n)",
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|q| format!("{q}\n  {}", render(q, &honor_false())))
        .collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    sum(rate(page_views_total{job="pushgateway}[5m]))
      error (Syntax) at 30..49 `"pushgateway}[5m]))`: unterminated quoted string " (at `"pushgateway}[5m]))`)
    sum(rate(page_views_total[5m])
      error (Syntax) at 3..4 `(`: unclosed left parenthesis (at `(`)
    sum(rate(page_views_total[5m]))) 
      error (Syntax) at 31..32 `)`: unexpected right parenthesis ')' (at `)`)
    rate(page_views_total{job="metrics-api"})
      error (Syntax) at 0..41 `rate(page_views_total{job="metrics-api"})`: expected type matrix in call to function 'rate', got vector (at `rate(page_views_total{job="metrics-api"})`)
    sum(rate(page_views_total[5m])) by
      error (Syntax) at 32..34 `by`: invalid promql query (at `by`)
    sum(rate(page_views_total[5m]) + on(page) )
      error (Syntax) at 31..32 `+`: invalid promql query (at `+`)
    page_views_total{job~"metrics-api"}
      error (Syntax) at 20..21 `~`: unexpected character inside braces: '~' (at `~`)
    unknown_fn(page_views_total)
      error (Syntax) at 0..10 `unknown_fn`: unknown function with name 'unknown_fn' (at `unknown_fn`)
    up $ 1
      error (Syntax) at 3..4 `$`: unexpected character: '$' (at `$`)
    label_values(up{job="pushgateway"}, instance
      error (Syntax) at 0..12 `label_values`: `label_values(` is never closed
    label_values(up{job=}, instance)
      error (Syntax) at 15..16 `{`: invalid promql query (at `{`)
    sum(
      rate(page_views_total[5m]) by (page)
    )
      error (Syntax) at 34..36 `by`: invalid promql query (at `by`)
    "#);
}

#[test]
fn deeply_nested_queries_are_refused_not_overflowed() {
    let query = format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000));
    let error = rewrite_query(&query, &honor_true()).err();
    assert_eq!(error.as_ref().map(|e| e.kind), Some(PromqlErrorKind::TooDeep));
    assert_eq!(error.map(|e| e.span), Some(128..129));
}

#[test]
fn an_error_becomes_an_unparseable_query_finding_with_line_and_column() {
    let query = "sum(\n  rate(x[5m]) by (page)\n)";
    let Err(error) = rewrite_query(query, &honor_true()) else {
        panic!("expected an error");
    };
    // The parser stops at `by`: an aggregation modifier where an argument should end.
    assert_eq!(error.line_col(query), (2, 15));
    let finding = error.to_finding();
    assert_eq!(finding.kind, QueryFindingKind::UnparseableQuery);
    assert_eq!(finding.kind.id(), "unparseable-query");
    assert!(finding.blocks_rewrite);
}

#[test]
fn the_gateway_job_can_have_any_name() {
    let batch = SeriesMapping {
        honor_labels: false,
        gateway_job: "batch".to_string(),
        gateway_instances: vec!["10.0.0.7:9091".to_string(), "pgw-2:9091".to_string()],
        apps: vec![metrics_api()],
    };
    let cases = [
        r#"sum(rate(page_views_total{job="batch"}[5m])) by (exported_job)"#,
        r#"page_views_total{instance="pgw-2:9091", exported_instance="app-1"}"#,
        r#"page_views_total{job="pushgateway"}"#,
        r#"up{job="batch"}"#,
    ];
    let rendered: Vec<String> = cases.iter().map(|q| render(q, &batch)).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    => sum(rate(page_views_total{job="metrics-api"}[5m])) by (job)
    => page_views_total{instance="metrics-api:8080"}
    unchanged
    unchanged
       ! no-scraped-equivalent [keeps query]: `up{job="batch"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
         try: up{job="metrics-api"}
    "#);
}

#[test]
fn new_regex_alternatives_are_escaped_for_their_quote_style() {
    let by_ip = SeriesMapping {
        apps: vec![AppMapping {
            pushed_instances: vec!["app-1".to_string(), "app-2".to_string()],
            scrape_instance: "10.0.0.5:8080".to_string(),
            ..metrics_api()
        }],
        ..honor_true()
    };
    let cases = [
        r#"x{job="metrics-api", instance=~"app-1|app-2|other"}"#,
        r#"x{job="metrics-api", instance=~'app-1'}"#,
        "x{job=\"metrics-api\", instance=~`app-2`}",
        r#"x{job="metrics-api", instance="app-2"}"#,
    ];
    let rendered: Vec<String> = cases.iter().map(|q| render(q, &by_ip)).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    => x{job="metrics-api", instance=~"10\\.0\\.0\\.5:8080|other"}
    => x{job="metrics-api", instance=~'10\\.0\\.0\\.5:8080'}
    => x{job="metrics-api", instance=~`10[.]0[.]0[.]5:8080`}
    => x{job="metrics-api", instance="10.0.0.5:8080"}
    "#);
}

#[test]
fn several_apps_pushing_without_instance_need_a_job_to_tell_them_apart() {
    let two_batches = mapping(
        true,
        vec![
            etl(),
            AppMapping {
                pushed_job: "report".to_string(),
                scrape_job: "report".to_string(),
                scrape_instance: "report:9100".to_string(),
                ..etl()
            },
        ],
    );
    let cases = [
        r#"etl_rows_processed_total{instance=""}"#,
        r#"etl_rows_processed_total{job="report", instance=""}"#,
    ];
    let rendered: Vec<String> = cases.iter().map(|q| render(q, &two_batches)).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    unchanged
       ! ambiguous-app [keeps query]: `instance=""` is pushed by several apps (etl-batch, report); add a job matcher so pullover can tell which target replaces it. Left unchanged
    => etl_rows_processed_total{job="report", instance="report:9100"}
    "#);
}

#[test]
fn edits_point_at_the_original_text_and_leave_variables_alone() {
    let query =
        r#"sum by (exported_job) (rate(${metric}{job="pushgateway", instance=~"$instance"}[$__rate_interval]))"#;
    let rewrite = rewrite_query(query, &honor_false()).unwrap_or_default();
    let edits: Vec<String> = rewrite
        .edits
        .iter()
        .map(|e| format!("{:?} {:?} -> {:?}", e.range, query.get(e.range.clone()), e.replacement))
        .collect();
    insta::assert_snapshot!(edits.join("\n"), @r#"
    8..20 Some("exported_job") -> "job"
    42..55 Some("\"pushgateway\"") -> "\"metrics-api\""
    "#);
    for variable in template::find_variables(query) {
        assert!(
            rewrite
                .edits
                .iter()
                .all(|e| e.range.end <= variable.span.start || variable.span.end <= e.range.start)
        );
    }
}

/// Found by the property tests: PromQL rejects a label in both `on(...)` and `group_left(...)`.
#[test]
fn on_and_group_left_never_end_up_sharing_a_label() {
    let query =
        r#"page_views_total{job="pushgateway"} / on(exported_instance) group_left(instance) up{job="metrics-api"}"#;
    insta::assert_snapshot!(render(query, &honor_false()), @r#"
    => page_views_total{job="metrics-api"} / on(exported_instance) group_left(instance) up{job="metrics-api"}
       ! duplicate-grouping-label: `on(exported_instance)`: `exported_instance` would become `instance`, which the matching `on`/`group_*` list also names; PromQL forbids a label in both. Left as is
    "#);
}

/// Found by the property tests: `instance!=""` means "has an instance"; rewritten to
/// `instance!="etl:9102"` a nameless selector would match everything and not parse.
#[test]
fn has_an_instance_filters_are_not_pushed_groups() {
    let cases = [
        r#"{instance!=""}"#,
        r#"{instance!~""}"#,
        r#"etl_rows_processed_total{instance=~""}"#,
    ];
    let rendered: Vec<String> = cases.iter().map(|q| render(q, &honor_true())).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r#"
    unchanged
    unchanged
    => etl_rows_processed_total{instance=~"etl:9102"}
    "#);
}

#[test]
fn a_query_the_parser_panics_on_is_an_error_not_a_crash() {
    // Found by the fuzzer: promql-parser turns a bare number of seconds into a Duration and
    // panics when it does not fit.
    let query = format!(
        "rate(http_requests_total{{job=\"metrics-api\"}}[5{}][5m])",
        "9".repeat(80)
    );
    let error = rewrite_query(&query, &honor_true()).unwrap_err();
    assert!(error.message.contains("cannot read this query"), "{}", error.message);
    assert!(super::super::check(&query).is_err());
}
