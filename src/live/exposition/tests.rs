use super::*;

fn issues(text: &str) -> Vec<String> {
    parse_exposition(text).issues.iter().map(ToString::to_string).collect()
}

#[test]
fn a_typical_page_parses_into_families() {
    let text = "\
# HELP page_views_total Page views.
# TYPE page_views_total counter
page_views_total{page=\"/\",country=\"de\"} 42
page_views_total{page=\"/about\",country=\"us\"} 7 1795598648000
# TYPE lat histogram
lat_bucket{le=\"0.1\"} 1
lat_bucket{le=\"+Inf\"} 2
lat_sum 0.3
lat_count 2
temp NaN
";
    let parsed = parse_exposition(text);
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let summary: Vec<String> = parsed
        .families
        .iter()
        .map(|f| {
            format!(
                "{} {} samples={} series={}",
                f.name,
                f.kind.as_str(),
                f.samples,
                f.series
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "page_views_total counter samples=2 series=2",
            "lat histogram samples=4 series=4",
            "temp untyped samples=1 series=1",
        ]
    );
    assert_eq!(parsed.families[0].help.as_deref(), Some("Page views."));
    assert_eq!(parsed.samples[1].timestamp_ms, Some(1795598648000));
}

#[test]
fn every_broken_line_is_reported_with_line_col() {
    let text = "\
ok 1
bad{a=\"x} 1
also_bad{a=b} 1
nope 1x
# TYPE t wibble
7up 1
label_escape{a=\"\\q\"} 1
x{a=\"1\",a=\"2\"} 1
trailing 1 2 3
";
    assert_eq!(
        issues(text),
        [
            "2:7: error: the value of label a has no closing quote",
            "3:12: error: the value of label a must be in double quotes",
            "4:6: error: \"1x\" is not a valid sample value (a float, NaN, +Inf or -Inf)",
            "5:10: error: unknown metric type \"wibble\" (counter, gauge, histogram, summary or untyped)",
            "6:1: error: expected a metric name, found \"7up\"",
            "7:17: error: invalid escape \\q in the value of label a (only \\\\, \\\" and \\n)",
            "8:9: error: label a appears twice",
            "9:14: error: unexpected text after the timestamp",
        ]
    );
}

#[test]
fn split_families_and_repeated_metadata_are_errors() {
    let text = "\
# TYPE a counter
a_total 1
# TYPE b gauge
b 1
a_total 2
# TYPE b gauge
";
    assert_eq!(
        issues(text),
        [
            "5:1: error: sample of a_total after its group ended at line 3: all lines of a metric family must be together",
            "6:8: error: second # TYPE line for b (first at line 3)",
        ]
    );
}

#[test]
fn crlf_and_missing_final_newline_are_reported_once() {
    assert_eq!(
        issues("a 1\r\nb 2\r\nc 3"),
        [
            "1:4: error: line ends with a carriage return (2 line(s) in all): the text format separates lines with \\n only",
            "3:4: warning: the last line does not end with a line break",
        ]
    );
}

#[test]
fn label_values_keep_commas_equals_and_escapes() {
    let parsed = parse_exposition("req{path=\"/a,b=c\",msg=\"say \\\"hi\\\"\\n\",} 1\n");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert_eq!(
        parsed.samples[0].labels,
        [
            ("path".to_string(), "/a,b=c".to_string()),
            ("msg".to_string(), "say \"hi\"\n".to_string())
        ]
    );
}

#[test]
fn counters_without_total_note_the_openmetrics_style() {
    let analysis = analyze_exposition(
        "\
# TYPE requests counter
requests 3
# TYPE jobs counter
jobs_total 4
# TYPE ok_total counter
ok_total 1
",
    );
    let found: Vec<(String, CounterNamingProblem)> = analysis
        .counters_without_total
        .iter()
        .map(|c| (c.family.clone(), c.problem.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("requests".to_string(), CounterNamingProblem::MissingTotalSuffix),
            (
                "jobs".to_string(),
                CounterNamingProblem::OpenMetricsTypeLine {
                    sample_name: "jobs_total".into()
                }
            ),
        ]
    );
    assert!(analysis.counters_without_total[0].message().contains("prom-client"));
}

#[test]
fn duplicate_series_are_found_whatever_the_label_order() {
    let analysis = analyze_exposition("x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 2\nx{a=\"2\"} 3\n");
    assert_eq!(
        analysis.duplicate_series,
        [DuplicateSeries {
            series: "x{a=\"1\",b=\"2\"}".into(),
            lines: vec![1, 2]
        }]
    );
    assert!(analysis.is_valid());
}

#[test]
fn issue_spans_point_into_the_text() {
    let text = "a 1\nb{c=d} 2\n";
    let parsed = parse_exposition(text);
    let issue = &parsed.issues[0];
    assert_eq!(&text[issue.span.clone()], "d");
}

#[test]
fn a_value_missing_at_the_very_end_still_has_a_span_inside_the_text() {
    let text = "a{b=\"c\"}";
    let parsed = parse_exposition(text);
    assert_eq!(parsed.issues[0].message, "a: missing value");
    assert!(text.get(parsed.issues[0].span.clone()).is_some());
}

proptest::proptest! {
    /// Any text made of the format's own characters parses without panicking, and every
    /// issue's span slices the text.
    #[test]
    fn any_text_parses_and_spans_slice(text in "[a-z_{}=\",#\\ \t\n\r0-9.+éE-]{0,80}") {
        let analysis = analyze_exposition(&text);
        for issue in &analysis.exposition.issues {
            proptest::prop_assert!(text.get(issue.span.clone()).is_some());
        }
    }
}

#[test]
fn garbage_never_panics() {
    for text in [
        "{",
        "}",
        "#",
        "# TYPE",
        "# HELP",
        "a{",
        "a{b",
        "a{b=",
        "a{b=\"",
        "a{b=\"\\",
        "é{} 1",
        "\u{0}",
        "a 1 -",
        "a{é=\"x\"} 1",
        "a{b=\"x\"é} 1",
        "\r",
        "\n\n",
    ] {
        let analysis = analyze_exposition(text);
        for issue in &analysis.exposition.issues {
            assert!(text.get(issue.span.clone()).is_some(), "{text:?}: {issue:?}");
        }
    }
}
