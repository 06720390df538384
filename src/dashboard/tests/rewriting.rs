//! `rewrite_strings`: the diff touches only the edited strings, as written.

use std::collections::BTreeSet;
use std::ops::Range;

use super::super::{ErrorKind, QuerySite, SiteKind, StringEdit, rewrite_strings, scan};
use super::{CLASSIC_EXPORT, CRLF_NO_FINAL_NEWLINE, V1_RESOURCE_GO, V2_RESOURCE};

/// What pullover's planner does: point each `job="pushgateway"` at the scraped job.
fn retarget_pushgateway_job(sites: &[QuerySite]) -> Vec<StringEdit> {
    sites
        .iter()
        .filter(|site| site.kind != SiteKind::PanelLink)
        .filter_map(|site| {
            let edits: Vec<(Range<usize>, String)> = site
                .value
                .match_indices("job=\"pushgateway\"")
                .map(|(at, _)| (at + 5..at + 16, "metrics-api".to_owned()))
                .collect();
            (!edits.is_empty()).then(|| StringEdit {
                literal: site.literal.clone(),
                edits,
            })
        })
        .collect()
}

fn unified_diff(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(0)
        .header("a/dashboard.json", "b/dashboard.json")
        .to_string()
}

/// 1-based numbers of the lines that differ between `before` and `after` (same line count).
fn changed_lines(before: &str, after: &str) -> BTreeSet<usize> {
    let before: Vec<&str> = before.split('\n').collect();
    let after: Vec<&str> = after.split('\n').collect();
    assert_eq!(before.len(), after.len(), "an edit added or removed a line");
    (0..before.len())
        .filter(|&index| before[index] != after[index])
        .map(|index| index + 1)
        .collect()
}

fn lines_of(source: &str, edits: &[StringEdit]) -> BTreeSet<usize> {
    edits
        .iter()
        .map(|edit| source[..edit.literal.start].matches('\n').count() + 1)
        .collect()
}

#[test]
fn retargeting_a_job_matcher_changes_only_the_lines_holding_edited_strings() {
    let scanned = scan(CLASSIC_EXPORT).expect("scans");
    let edits = retarget_pushgateway_job(&scanned.sites);
    let after = rewrite_strings(CLASSIC_EXPORT, &edits).expect("rewrites");

    assert_eq!(changed_lines(CLASSIC_EXPORT, &after), lines_of(CLASSIC_EXPORT, &edits));
    insta::assert_snapshot!(unified_diff(CLASSIC_EXPORT, &after), @r#"
        --- a/dashboard.json
        +++ b/dashboard.json
        @@ -164 +164 @@
        -          "expr": "up{job=\"pushgateway\"}",
        +          "expr": "up{job=\"metrics-api\"}",
        @@ -271 +271 @@
        -        "query": "label_values(up{job=\"pushgateway\"}, instance)",
        +        "query": "label_values(up{job=\"metrics-api\"}, instance)",
    "#);
}

#[test]
fn a_go_encoded_resource_keeps_its_escapes_and_new_gt_is_written_as_u003e() {
    let scanned = scan(V1_RESOURCE_GO).expect("scans");
    let mut edits = retarget_pushgateway_job(&scanned.sites);
    // Also tighten the alert threshold: "> 0" becomes ">= 1" (a new '>' and '=').
    let threshold = scanned
        .sites
        .iter()
        .find(|site| site.value.ends_with("> 0"))
        .expect("the failing-pushers query");
    let at = threshold.value.len() - 3;
    let edit = edits
        .iter_mut()
        .find(|edit| edit.literal == threshold.literal)
        .expect("also retargeted");
    edit.edits.push((at..at + 3, ">= 1".to_owned()));

    let after = rewrite_strings(V1_RESOURCE_GO, &edits).expect("rewrites");

    assert_eq!(changed_lines(V1_RESOURCE_GO, &after), lines_of(V1_RESOURCE_GO, &edits));
    insta::assert_snapshot!(unified_diff(V1_RESOURCE_GO, &after), @r#"
        --- a/dashboard.json
        +++ b/dashboard.json
        @@ -53 +53 @@
        -            "expr": "sum by (exported_job) (rate(jobs_failed_total{job=\"pushgateway\"}[5m])) \u003e 0",
        +            "expr": "sum by (exported_job) (rate(jobs_failed_total{job=\"metrics-api\"}[5m])) \u003e= 1",
        @@ -57 +57 @@
        -            "expr": "count(push_time_seconds{job=\"pushgateway\"} \u003c (time() - 3600))",
        +            "expr": "count(push_time_seconds{job=\"metrics-api\"} \u003c (time() - 3600))",
        @@ -73 +73 @@
        -          "definition": "label_values(push_time_seconds{job=\"pushgateway\"},exported_job)",
        +          "definition": "label_values(push_time_seconds{job=\"metrics-api\"},exported_job)",
        @@ -77 +77 @@
        -            "query": "label_values(push_time_seconds{job=\"pushgateway\"},exported_job)",
        +            "query": "label_values(push_time_seconds{job=\"metrics-api\"},exported_job)",
    "#);
}

#[test]
fn a_v2_resource_is_edited_at_its_own_paths() {
    let scanned = scan(V2_RESOURCE).expect("scans");
    let edits = retarget_pushgateway_job(&scanned.sites);
    let after = rewrite_strings(V2_RESOURCE, &edits).expect("rewrites");
    insta::assert_snapshot!(unified_diff(V2_RESOURCE, &after), @r#"
        --- a/dashboard.json
        +++ b/dashboard.json
        @@ -52 +52 @@
        -            "expr": "ALERTS{job=\"pushgateway\"}",
        +            "expr": "ALERTS{job=\"metrics-api\"}",
        @@ -289 +289 @@
        -              "__legacyStringValue": "label_values(up{job=\"pushgateway\"}, instance)"
        +              "__legacyStringValue": "label_values(up{job=\"metrics-api\"}, instance)"
    "#);
}

#[test]
fn crlf_line_endings_and_a_missing_final_newline_survive() {
    let before = CRLF_NO_FINAL_NEWLINE;
    let scanned = scan(before).expect("scans");
    let edits = retarget_pushgateway_job(&scanned.sites);

    let after = rewrite_strings(before, &edits).expect("rewrites");

    assert_eq!(
        after,
        before.replace("job=\\\"pushgateway\\\"", "job=\\\"metrics-api\\\"")
    );
    assert_eq!(after.matches("\r\n").count(), before.matches("\r\n").count());
    assert!(after.ends_with('}'));
}

#[test]
fn a_bom_and_odd_numbers_stay_byte_for_byte() {
    let before = "\u{feff}{\"panels\":[{\"targets\":[{\"expr\":\"up{job=\\\"pushgateway\\\"}\",\"intervalFactor\":1.50,\"x\":1e21,\"y\":-0.0}]}]}\n";
    let scanned = scan(before).expect("scans");
    let after = rewrite_strings(before, &retarget_pushgateway_job(&scanned.sites)).expect("rewrites");
    assert_eq!(
        after,
        "\u{feff}{\"panels\":[{\"targets\":[{\"expr\":\"up{job=\\\"metrics-api\\\"}\",\"intervalFactor\":1.50,\"x\":1e21,\"y\":-0.0}]}]}\n"
    );
}

/// Edits `value` of the only panel target of `source` with `edits`, returning the new literal.
fn edit_only_target(source: &str, edits: Vec<(Range<usize>, String)>) -> String {
    let scanned = scan(source).expect("scans");
    let site = &scanned.sites[0];
    let after = rewrite_strings(
        source,
        &[StringEdit {
            literal: site.literal.clone(),
            edits,
        }],
    )
    .expect("rewrites");
    let end = site.literal.end + after.len() - source.len();
    after[site.literal.start..end].to_owned()
}

/// The byte range of the first `needle` in `text`.
fn span(text: &str, needle: &str) -> Range<usize> {
    let start = text.find(needle).expect("needle present");
    start..start + needle.len()
}

#[test]
fn untouched_escapes_inside_an_edited_string_are_kept_as_written() {
    let source = r#"{"panels":[{"targets":[{"expr":"sum(x{job=\"pushgateway\",path=\"\/api\"})\n# caf\u00e9\t"}]}]}"#;
    let decoded = "sum(x{job=\"pushgateway\",path=\"/api\"})\n# caf\u{e9}\t";
    let literal = edit_only_target(source, vec![(span(decoded, "pushgateway"), "metrics-api".to_owned())]);
    assert_eq!(
        literal,
        r#""sum(x{job=\"metrics-api\",path=\"\/api\"})\n# caf\u00e9\t""#
    );
}

#[test]
fn new_text_is_escaped_minimally_in_a_plain_file() {
    let source = r#"{"panels":[{"title":"Café","targets":[{"expr":"up"}]}]}"#;
    let literal = edit_only_target(
        source,
        vec![(2..2, "{a=\"<&>\", b=\"x/y\\z\", c=\"é😀\n\"}".to_owned())],
    );
    assert_eq!(literal, r#""up{a=\"<&>\", b=\"x/y\\z\", c=\"é😀\n\"}""#);
}

#[test]
fn new_text_follows_the_files_escaping_style() {
    // PHP escapes slashes; Python escapes everything beyond ASCII (with surrogate pairs).
    let php = r#"{"panels":[{"links":[{"url":"http:\/\/x"}],"targets":[{"expr":"up"}]}]}"#;
    assert_eq!(
        edit_only_target(php, vec![(2..2, "{path=\"/a\"}".to_owned())]),
        r#""up{path=\"\/a\"}""#
    );
    let python = r#"{"panels":[{"title":"Caf\u00e9","targets":[{"expr":"up"}]}]}"#;
    assert_eq!(
        edit_only_target(python, vec![(2..2, "{team=\"é😀\"}".to_owned())]),
        r#""up{team=\"\u00e9\ud83d\ude00\"}""#
    );
    let go = r#"{"panels":[{"title":"A \u0026 B","targets":[{"expr":"up"}]}]}"#;
    assert_eq!(
        edit_only_target(go, vec![(2..2, " > 0 and x < 1 & y".to_owned())]),
        r#""up \u003e 0 and x \u003c 1 \u0026 y""#
    );
}

#[test]
fn several_edits_in_one_string_apply_in_decoded_coordinates() {
    let source =
        r#"{"panels":[{"targets":[{"expr":"up{job=\"pushgateway\", instance=\"pushgateway:9091\"} \u003e 0"}]}]}"#;
    let decoded = r#"up{job="pushgateway", instance="pushgateway:9091"} > 0"#;
    let literal = edit_only_target(
        source,
        vec![
            (
                span(decoded, r#"instance="pushgateway:9091""#),
                r#"instance="""#.to_owned(),
            ),
            (span(decoded, "pushgateway"), "metrics-api".to_owned()),
        ],
    );
    assert_eq!(literal, r#""up{job=\"metrics-api\", instance=\"\"} \u003e 0""#);
}

#[test]
fn no_edits_return_the_source_unchanged() {
    assert_eq!(rewrite_strings(CLASSIC_EXPORT, &[]).expect("no-op"), CLASSIC_EXPORT);
}

#[test]
fn edits_that_cannot_be_applied_safely_are_refused() {
    let source = r#"{"panels":[{"targets":[{"expr":"a😀b\u00e9c"}]}]}"#;
    let site = scan(source).expect("scans").sites.remove(0);
    let attempt = |edits: Vec<(Range<usize>, String)>| {
        let edit = StringEdit {
            literal: site.literal.clone(),
            edits,
        };
        rewrite_strings(source, &[edit]).map_err(|error| error.kind)
    };
    // Decoded "a😀béc": a=0, 😀=1..5, b=5, é=6..8, c=8.
    assert!(matches!(
        attempt(vec![(2..3, "x".into())]),
        Err(ErrorKind::EditOutOfRange { .. })
    ));
    assert!(matches!(
        attempt(vec![(7..8, "x".into())]),
        Err(ErrorKind::EditOutOfRange { .. })
    ));
    assert!(matches!(
        attempt(vec![(8..10, "x".into())]),
        Err(ErrorKind::EditOutOfRange { .. })
    ));
    assert!(matches!(
        attempt(vec![(0..2, "x".into()), (1..5, "y".into())]),
        Err(ErrorKind::OverlappingEdits { .. })
    ));
    assert!(matches!(
        attempt(vec![(3..3, "x".into()), (3..3, "y".into())]),
        Err(ErrorKind::OverlappingEdits { .. })
    ));
    let after = attempt(vec![(5..6, "B".into()), (6..8, "E".into())]).expect("adjacent edits are fine");
    assert!(after.contains(r#""a😀BEc""#), "{after}");
}

#[test]
fn a_range_that_is_not_a_string_value_is_refused() {
    let source = r#"{"panels":[{"targets":[{"expr":"up"}]}], "title": "t"}"#;
    let key = source.find("\"expr\"").expect("key");
    let value = source.find("\"up\"").expect("value");
    let refuse = |literal: Range<usize>| {
        let edit = StringEdit {
            literal,
            edits: vec![(0..0, "x".to_owned())],
        };
        rewrite_strings(source, &[edit]).map_err(|error| error.kind)
    };
    assert!(matches!(refuse(key..key + 6), Err(ErrorKind::NotAStringValue { .. })));
    assert!(matches!(
        refuse(value..value + 3),
        Err(ErrorKind::NotAStringValue { .. })
    ));
    assert!(matches!(
        refuse(value + 1..value + 3),
        Err(ErrorKind::NotAStringValue { .. })
    ));
    assert!(matches!(
        refuse(0..source.len()),
        Err(ErrorKind::NotAStringValue { .. })
    ));
    assert!(matches!(refuse(900..904), Err(ErrorKind::NotAStringValue { .. })));

    let twice = [value..value + 4, value..value + 4].map(|literal| StringEdit {
        literal,
        edits: vec![(0..0, "x".to_owned())],
    });
    assert!(matches!(
        rewrite_strings(source, &twice).map_err(|error| error.kind),
        Err(ErrorKind::OverlappingLiterals { .. })
    ));
}

#[test]
fn a_file_with_duplicate_keys_is_never_edited() {
    let source = r#"{"panels":[{"targets":[{"expr":"up","expr":"down"}]}]}"#;
    let value = source.find("\"up\"").expect("value");
    let edit = StringEdit {
        literal: value..value + 4,
        edits: vec![(0..2, "x".to_owned())],
    };
    let error = rewrite_strings(source, &[edit]).expect_err("refused");
    assert!(matches!(error.kind, ErrorKind::DuplicateKey { ref key, .. } if key == "expr"));
}
