use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::live::model::{InstantSeries, QueryData, SamplePoint};
use crate::verify::compare::Tolerance;
use crate::verify::outcome::ShortenedRange;
use crate::verify::pairs::pair_file;
use crate::verify::variables::{VariableKind, apply_variable_regex, dashboard_variables, split_custom};

/// A classic dashboard as the seed stack writes them, before the `dashboards` phase.
const BEFORE: &str = r#"{
  "title": "Metrics API",
  "panels": [
    {"id": 1, "title": "Requests", "type": "timeseries",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [
       {"refId": "A", "expr": "sum by (code) (rate(http_requests_total{job=\"metrics-api\", instance=\"app-1\", method=~\"$method\"}[$__rate_interval]))"},
       {"refId": "B", "expr": "time() - push_time_seconds{job=\"metrics-api\", instance=\"app-1\"}"}
     ],
     "links": [{"title": "explore", "url": "/explore?expr=up"}]},
    {"id": 2, "title": "Queue", "type": "stat",
     "datasource": {"type": "prometheus", "uid": "prom"},
     "targets": [{"refId": "A", "expr": "queue_depth{job=\"metrics-api\", instance=\"app-1\"}"}]}
  ],
  "templating": {"list": [
    {"name": "method", "type": "query", "datasource": {"type": "prometheus", "uid": "prom"},
     "definition": "label_values(http_requests_total{job=\"metrics-api\", instance=\"app-1\"}, method)",
     "query": {"query": "label_values(http_requests_total{job=\"metrics-api\", instance=\"app-1\"}, method)", "refId": "V"},
     "multi": true, "includeAll": true, "current": {"text": "All", "value": "$__all"}},
    {"name": "env", "type": "custom", "query": "prod : production, staging",
     "current": {"text": "prod", "value": "production"}},
    {"name": "ds", "type": "datasource", "query": "prometheus"}
  ]}
}"#;

/// The same after the phase: instance app-1 became the scrape target; push_time_seconds left.
fn after() -> String {
    BEFORE
        .replace(r#"instance=\"app-1\""#, r#"instance=\"metrics-api:8080\""#)
        .replace(
            r#"time() - push_time_seconds{job=\"metrics-api\", instance=\"metrics-api:8080\"}"#,
            r#"time() - push_time_seconds{job=\"metrics-api\", instance=\"app-1\"}"#,
        )
}

#[test]
fn rewritten_dashboard_queries_pair_by_pointer_and_untouched_ones_are_left_out() {
    let source = pair_file("grafana/dashboards/api.json", BEFORE, &after())
        .unwrap()
        .unwrap();
    let listed: Vec<String> = source
        .pairs
        .iter()
        .map(|p| format!("{:?} {} {} | {}", p.kind, p.location, p.owner, p.new))
        .collect();
    insta::assert_snapshot!(listed.join("\n"), @r#"
    Panel /panels/0/targets/0/expr panel "Requests" | sum by (code) (rate(http_requests_total{job="metrics-api", instance="metrics-api:8080", method=~"$method"}[$__rate_interval]))
    Panel /panels/1/targets/0/expr panel "Queue" | queue_depth{job="metrics-api", instance="metrics-api:8080"}
    Variable /templating/list/0/query/query variable "method" | label_values(http_requests_total{job="metrics-api", instance="metrics-api:8080"}, method)
    "#);
    assert_eq!(
        source.pairs[1].old,
        r#"queue_depth{job="metrics-api", instance="app-1"}"#
    );
}

#[test]
fn variables_are_read_with_their_kind_flags_and_saved_value() {
    let variables = dashboard_variables(BEFORE);
    let summary: Vec<(String, VariableKind, bool, Vec<String>)> = variables
        .iter()
        .map(|v| (v.name.clone(), v.kind.clone(), v.multi, v.current.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "method".to_string(),
                VariableKind::Query(
                    r#"label_values(http_requests_total{job="metrics-api", instance="app-1"}, method)"#.into()
                ),
                true,
                vec![]
            ),
            (
                "env".to_string(),
                VariableKind::List(vec!["production".into(), "staging".into()]),
                false,
                vec!["production".into()]
            ),
            ("ds".to_string(), VariableKind::Other, false, vec![]),
        ]
    );
}

#[test]
fn v2_resource_variables_are_read_too() {
    let v2 = r#"{"apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard", "spec": {
      "elements": {}, "layout": {"kind": "GridLayout", "spec": {"items": []}},
      "variables": [
        {"kind": "QueryVariable", "spec": {"name": "page", "multi": false,
          "query": {"kind": "DataQuery", "group": "prometheus", "spec": {"query": "label_values(page_views_total, page)"}}}},
        {"kind": "ConstantVariable", "spec": {"name": "q", "query": "0.95"}}
      ]}}"#;
    let variables = dashboard_variables(v2);
    assert_eq!(
        variables.iter().map(|v| (v.name.as_str(), &v.kind)).collect::<Vec<_>>(),
        [
            (
                "page",
                &VariableKind::Query("label_values(page_views_total, page)".into())
            ),
            ("q", &VariableKind::Text("0.95".into())),
        ]
    );
}

#[test]
fn rule_expressions_pair_by_position() {
    let before = "groups:\n  - name: api\n    rules:\n      - record: job:views:rate5m\n        expr: sum(rate(page_views_total{instance=\"app-1\"}[5m]))\n      - alert: Stale\n        expr: time() - push_time_seconds > 300\n";
    let after = before.replace(r#"instance="app-1""#, r#"instance="metrics-api:8080""#);
    let source = pair_file("prometheus/rules/api.yml", before, &after).unwrap().unwrap();
    assert_eq!(source.pairs.len(), 1);
    assert_eq!(source.pairs[0].location, "groups[0].rules[0].expr");
    assert_eq!(source.pairs[0].owner, "record job:views:rate5m");
    assert_eq!(
        source.pairs[0].new,
        r#"sum(rate(page_views_total{instance="metrics-api:8080"}[5m]))"#
    );
    assert_eq!(
        pair_file("docker-compose.yml", "services: {}\n", "services: {}\n").unwrap(),
        None
    );
    assert!(pair_file("x.json", "{", "{}").is_err());
}

fn context() -> FillContext {
    FillContext {
        at: UNIX_EPOCH + Duration::from_secs(1_795_591_903),
        range: FillContext::DEFAULT_RANGE,
        scrape_interval: Duration::from_secs(15),
    }
}

#[test]
fn variables_fill_with_first_values_and_grafana_built_ins() {
    let mut resolved = Resolved::default();
    let variables = dashboard_variables(BEFORE);
    resolved.insert(&variables[0], "GET.v2".into());
    resolved.insert(&variables[1], "production".into());
    let filled = fill_query(
        r#"sum(rate(x{method=~"$method", env="${env}", raw="${method:raw}"}[$__rate_interval])) @ ${__to:date:seconds} / $__range_s + $unknown"#,
        &resolved,
        &context(),
    );
    assert_eq!(
        filled.text,
        r#"sum(rate(x{method=~"GET\.v2", env="production", raw="GET.v2"}[1m])) @ 1795591903 / 3600 + $unknown"#
    );
    assert_eq!(filled.unresolved, ["unknown"]);
    let interval = fill_query(
        "rate(x[$__interval]) $__interval_ms $__from",
        &Resolved::default(),
        &context(),
    );
    assert_eq!(interval.text, "rate(x[15s]) 15000 1795588303000");
}

#[test]
fn variable_regex_keeps_the_capture_group() {
    let values = vec!["127.0.0.1:8080".to_string(), "app-1".to_string()];
    assert_eq!(apply_variable_regex(values.clone(), Some("/(.*):\\d+/")), ["127.0.0.1"]);
    assert_eq!(apply_variable_regex(values.clone(), None), values);
    assert_eq!(split_custom(r"a\,b, c , x : y"), ["a,b", "c", "y"]);
}

fn vector(series: &[(&[(&str, &str)], f64)]) -> Outcome {
    Outcome::Data(QueryData::Vector(
        series
            .iter()
            .map(|(labels, value)| InstantSeries {
                metric: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                sample: SamplePoint {
                    timestamp: 1.0,
                    value: *value,
                },
            })
            .collect(),
    ))
}

fn tolerance() -> Tolerance {
    Tolerance {
        relative: 0.05,
        absolute: 1e-9,
    }
}

#[test]
fn series_pair_across_sources_and_agree_within_tolerance() {
    let old = vector(&[
        (&[("code", "200"), ("instance", "app-1")], 4.0),
        (&[("code", "500"), ("instance", "app-1")], 1.0),
    ]);
    let new = vector(&[
        (&[("code", "200"), ("instance", "metrics-api:8080")], 4.1),
        (&[("code", "500"), ("instance", "metrics-api:8080")], 1.0),
    ]);
    let verdict = compare_outcomes(&old, &new, tolerance(), None);
    assert_eq!(verdict.status, Status::Pass);
    assert_eq!(verdict.detail, "2 series agree (max difference 2.4%)");
}

#[test]
fn empty_where_the_original_had_data_fails() {
    let old = vector(&[(&[("code", "200")], 4.0)]);
    let verdict = compare_outcomes(&old, &vector(&[]), tolerance(), None);
    assert_eq!(verdict.status, Status::Fail);
    assert_eq!(verdict.detail, "empty where the original returned 1 series");
    let both = compare_outcomes(&vector(&[]), &vector(&[]), tolerance(), None);
    assert_eq!(both.status, Status::Warn);
}

#[test]
fn a_missing_series_or_a_different_value_fails_naming_it() {
    let old = vector(&[(&[("code", "200")], 4.0), (&[("code", "500")], 1.0)]);
    let missing = compare_outcomes(&old, &vector(&[(&[("code", "200")], 4.0)]), tolerance(), None);
    assert_eq!(missing.status, Status::Fail);
    assert_eq!(missing.detail, r#"1 of 2 series missing: {code="500"}"#);
    let differs = compare_outcomes(
        &old,
        &vector(&[(&[("code", "200")], 8.0), (&[("code", "500")], 1.0)]),
        tolerance(),
        None,
    );
    assert_eq!(differs.status, Status::Fail);
    assert_eq!(differs.detail, r#"differs by 50.0% at {code="200"} (tolerance 5.0%)"#);
    assert_eq!(differs.max_relative_difference, Some(0.5));
}

/// The seed's "Event loop lag" panel: the pushed and the scraped copy of a runtime gauge are
/// two reads of the process at different moments, so only their presence is judged; a
/// missing series, a counter or an app's own gauge still fail on their values.
#[test]
fn a_query_over_runtime_gauges_is_judged_by_its_series_being_there_on_both_sides() {
    let old = vector(&[(&[], 0.012)]);
    let lag = "max_over_time(nodejs_eventloop_lag_seconds{job=\"metrics-api\"}[5m:30s])";
    let differs = compare_outcomes(&old, &vector(&[(&[], 0.016)]), tolerance(), None);
    assert!(differs_only_in_value(&differs) && reads_only_runtime_gauges(lag));
    let judged = by_presence(differs);
    assert_eq!(judged.status, Status::Pass);
    assert!(
        judged
            .detail
            .starts_with("1 series on both sides; compared by presence"),
        "{}",
        judged.detail
    );
    let missing = compare_outcomes(&old, &vector(&[]), tolerance(), None);
    assert!(!differs_only_in_value(&missing));
    for not_a_runtime_gauge in [
        "rate(process_cpu_seconds_total{job=\"metrics-api\"}[5m])",
        "queue_depth{job=\"metrics-api\"}",
        "nodejs_heap_size_used_bytes / queue_depth",
        "{__name__=~\"nodejs_.*\"}",
    ] {
        assert!(!reads_only_runtime_gauges(not_a_runtime_gauge), "{not_a_runtime_gauge}");
    }
}

#[test]
fn a_failing_rewrite_fails_and_a_failing_original_is_only_noted() {
    let ok = vector(&[(&[], 1.0)]);
    let broken = Outcome::Failed("1:5: parse error".into());
    assert_eq!(compare_outcomes(&ok, &broken, tolerance(), None).status, Status::Fail);
    assert_eq!(compare_outcomes(&broken, &ok, tolerance(), None).status, Status::Pass);
    assert_eq!(
        compare_outcomes(&broken, &broken, tolerance(), None).status,
        Status::Warn
    );
}

#[test]
fn label_values_must_keep_their_values_except_for_source_labels() {
    let values = |v: &[&str]| Outcome::Values(v.iter().map(|s| s.to_string()).collect());
    let pages = compare_outcomes(&values(&["/", "/about"]), &values(&["/"]), tolerance(), Some("page"));
    assert_eq!(pages.status, Status::Fail);
    assert_eq!(pages.detail, "values missing: /about");
    let same = compare_outcomes(
        &values(&["/", "/about"]),
        &values(&["/", "/about"]),
        tolerance(),
        Some("page"),
    );
    assert_eq!(same.status, Status::Pass);
    let instances = compare_outcomes(
        &values(&["app-1"]),
        &values(&["metrics-api:8080"]),
        tolerance(),
        Some("instance"),
    );
    assert_eq!(instances.status, Status::Pass);
    let gone = compare_outcomes(&values(&["app-1"]), &values(&[]), tolerance(), Some("instance"));
    assert_eq!(gone.status, Status::Fail);
}

/// A compared panel query of `d.json` with its verdict.
fn panel_pair(owner: &str, status: Status, detail: &str, series_new: usize) -> PairResult {
    PairResult {
        file: "d.json".into(),
        location: "/panels/0/targets/0/expr".into(),
        owner: owner.into(),
        kind: PairKind::Panel,
        old_query: "a".into(),
        new_query: "b".into(),
        unresolved_variables: vec![],
        verdict: PairVerdict {
            status,
            detail: detail.into(),
            series_old: 1,
            series_new,
            max_relative_difference: None,
            shortened_range: None,
        },
    }
}

#[test]
fn a_file_check_lists_the_failing_pairs() {
    let pair = |owner: &str, status: Status, detail: &str| panel_pair(owner, status, detail, 0);
    let pairs = [
        pair("panel \"Requests\"", Status::Pass, "1 series agree"),
        pair(
            "panel \"Queue\"",
            Status::Fail,
            "empty where the original returned 1 series",
        ),
    ];
    let refs: Vec<&PairResult> = pairs.iter().collect();
    let check = file_checks("d.json", &refs);
    assert_eq!(check.status, Status::Fail);
    assert_eq!(
        check.detail,
        "1 of 2 rewritten queries do not return what the originals did"
    );
    assert_eq!(
        check.notes,
        ["panel \"Queue\": empty where the original returned 1 series"]
    );
}

#[test]
fn a_file_check_says_which_pairs_passed_over_a_shortened_range_and_what_had_no_data() {
    let pair = |owner: &str, status: Status, detail: &str, shortened: bool| {
        let mut pair = panel_pair(owner, status, detail, 1);
        pair.verdict.shortened_range = shortened.then_some(ShortenedRange {
            range_seconds: 300.0,
            compared_seconds: 40.0,
        });
        pair
    };
    let pairs = [
        pair("panel \"Requests\"", Status::Pass, "1 series agree", false),
        pair("panel \"Lag\"", Status::Pass, "1 series agree over the last 40s", true),
    ];
    let refs: Vec<&PairResult> = pairs.iter().collect();
    let check = file_checks("d.json", &refs);
    assert_eq!(check.status, Status::Pass);
    assert_eq!(
        check.detail,
        "2 rewritten queries return what the originals did (1 of them over a range shortened to the new series' age, below)"
    );
    assert_eq!(check.notes, ["panel \"Lag\": 1 series agree over the last 40s"]);

    // A query without data in either form is a warning: visible, and the gate stays open.
    let empty = QueryData::Vector(Vec::new());
    let nothing = compare_outcomes(&Outcome::Data(empty.clone()), &Outcome::Data(empty), tolerance(), None);
    assert_eq!(nothing.status, Status::Warn);
    assert!(!nothing.status.fails());
    assert!(
        nothing.detail.starts_with("no data on either side"),
        "{}",
        nothing.detail
    );
}
