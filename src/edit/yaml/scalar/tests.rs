//! Given a file, running scalar text edits, produces exactly this text (or refuses).

use proptest::prelude::*;

use super::*;
use crate::edit::yaml::ItemMatch;

fn given(text: &str) -> YamlDoc {
    YamlDoc::parse(text).unwrap_or_else(|e| panic!("fixture does not parse: {e}\n```\n{text}\n```"))
}

fn expr() -> Route {
    Route::root()
        .key("groups")
        .item(ItemMatch::Index(0))
        .key("rules")
        .item(ItemMatch::Index(0))
        .key("expr")
}

/// Replaces every occurrence of `from` in the decoded `expr` with `to`.
fn replacing(doc: &YamlDoc, from: &str, to: &str) -> ScalarTextEdit {
    let (_, value) = doc.scalar_text(&expr()).expect("expr is an editable scalar");
    ScalarTextEdit {
        route: expr(),
        edits: value
            .match_indices(from)
            .map(|(at, _)| (at..at + from.len(), to.to_string()))
            .collect(),
    }
}

#[track_caller]
fn produces(text: &str, from: &str, to: &str) -> String {
    let doc = given(text);
    match doc.edit_scalar_text(&[replacing(&doc, from, to)]) {
        Ok(out) => out,
        Err(e) => panic!("edit failed: {e}\n```\n{text}\n```"),
    }
}

#[track_caller]
fn refuses(text: &str, from: &str, to: &str) -> String {
    let doc = given(text);
    match doc.edit_scalar_text(&[replacing(&doc, from, to)]) {
        Ok(out) => panic!("expected a refusal, got\n```\n{out}\n```"),
        Err(e) => e.to_string(),
    }
}

fn rule(expr: &str) -> String {
    format!("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: {expr}\n        for: 1m # keep\n")
}

#[test]
fn a_plain_scalar_changes_only_the_edited_bytes() {
    let out = produces(
        &rule(r#"sum(x{job="a", instance="app-1"}) > 0"#),
        "app-1",
        "metrics-api:8080",
    );
    insta::assert_snapshot!(out, @r#"
    groups:
      - name: g
        rules:
          - alert: A
            expr: sum(x{job="a", instance="metrics-api:8080"}) > 0
            for: 1m # keep
    "#);
}

#[test]
fn a_multi_line_plain_scalar_keeps_its_line_breaks() {
    let text =
        "groups:\n  - rules:\n      - expr: sum(x{instance=\"app-1\"})\n          / sum(y{instance=\"app-1\"})\n";
    insta::assert_snapshot!(produces(text, "app-1", "api:80"), @r#"
    groups:
      - rules:
          - expr: sum(x{instance="api:80"})
              / sum(y{instance="api:80"})
    "#);
}

#[test]
fn single_quotes_double_an_apostrophe_in_new_text() {
    let out = produces(&rule(r#"'x{a=''1'', instance="app-1"}'"#), r#""app-1""#, "'app'");
    assert_eq!(out, rule(r#"'x{a=''1'', instance=''app''}'"#));
}

#[test]
fn double_quotes_escape_new_quotes_and_keep_old_escapes() {
    let out = produces(
        &rule(r#""rate(x{job=\"api\", route=\"\\/a\"}[5m]) \u003e 1""#),
        r#""api""#,
        r#""api-2""#,
    );
    assert_eq!(out, rule(r#""rate(x{job=\"api-2\", route=\"\\/a\"}[5m]) \u003e 1""#));
}

#[test]
fn a_literal_block_keeps_indentation_crlf_and_chomping() {
    let text = "groups:\r\n  - rules:\r\n      - expr: |-\r\n          sum(x{job=\"q\"})\r\n            /\r\n          sum(y{job=\"q\"})\r\n        for: 5m\r\n";
    let out = produces(text, "\"q\"", "\"worker\"");
    assert_eq!(
        out,
        "groups:\r\n  - rules:\r\n      - expr: |-\r\n          sum(x{job=\"worker\"})\r\n            /\r\n          sum(y{job=\"worker\"})\r\n        for: 5m\r\n"
    );
}

#[test]
fn new_lines_in_a_literal_block_are_indented_like_the_others() {
    let text = "groups:\n  - rules:\n      - expr: |\n          a\n          b\n        for: 5m\n";
    insta::assert_snapshot!(produces(text, "a", "a\n  and\nc"), @r"
    groups:
      - rules:
          - expr: |
              a
                and
              c
              b
            for: 5m
    ");
}

#[test]
fn whole_lines_added_or_removed_before_an_empty_line_of_a_literal_block_keep_it_empty() {
    let text = "values: |\n  a: 1\n  b: 2\n\n  c: 3\n";
    let doc = given(text);
    let route = Route::root().key("values");
    let edit = |at: std::ops::Range<usize>, new: &str| ScalarTextEdit {
        route: route.clone(),
        edits: vec![(at, new.to_string())],
    };
    // "a: 1\nb: 2\n\nc: 3\n": lines added at the empty line's start, then "b: 2" removed.
    let added = doc.edit_scalar_text(&[edit(10..10, "x: 9\ny: 8\n")]).unwrap();
    assert_eq!(added, "values: |\n  a: 1\n  b: 2\n  x: 9\n  y: 8\n\n  c: 3\n");
    let removed = doc.edit_scalar_text(&[edit(5..10, "")]).unwrap();
    assert_eq!(removed, "values: |\n  a: 1\n\n  c: 3\n");
}

#[test]
fn a_folded_block_is_edited_within_its_lines() {
    let text = "groups:\n  - rules:\n      - expr: >\n          sum(x{instance=\"app-1\"})\n          > 0\n";
    insta::assert_snapshot!(produces(text, "app-1", "api:80"), @r#"
    groups:
      - rules:
          - expr: >
              sum(x{instance="api:80"})
              > 0
    "#);
}

#[test]
fn an_edit_across_a_folded_line_break_is_refused() {
    let text = "groups:\n  - rules:\n      - expr: >\n          sum(x)\n          > 0\n";
    let doc = given(text);
    let edit = ScalarTextEdit {
        route: expr(),
        edits: vec![(5..8, "y) <".into())],
    };
    let err = doc.edit_scalar_text(&[edit]).unwrap_err();
    assert!(err.to_string().contains("spans a folded line break"), "{err}");
    assert!(refuses(&rule(r#"'a b'"#), "a", "x\ny").contains("line break"));
}

#[test]
fn what_cannot_be_mapped_exactly_is_refused() {
    let explicit = given("groups:\n  - rules:\n      - expr: |2\n            x\n");
    let edit = ScalarTextEdit {
        route: expr(),
        edits: vec![(2..3, "y".into())],
    };
    let err = explicit.edit_scalar_text(&[edit]).unwrap_err().to_string();
    assert!(err.contains("explicit indentation indicator"), "{err}");
    let alias = "x: &e up\ngroups:\n  - rules:\n      - expr: *e\n";
    let doc = given(alias);
    let edit = ScalarTextEdit {
        route: expr(),
        edits: vec![(0..2, "down".into())],
    };
    assert!(
        doc.edit_scalar_text(&[edit])
            .unwrap_err()
            .to_string()
            .contains("not a scalar")
    );
    let number = given(&rule("42"));
    let edit = ScalarTextEdit {
        route: expr(),
        edits: vec![(0..1, "5".into())],
    };
    assert!(
        number
            .edit_scalar_text(&[edit])
            .unwrap_err()
            .to_string()
            .contains("not a string")
    );
}

#[test]
fn an_edit_that_would_change_the_meaning_otherwise_is_refused_by_verification() {
    // `: ` in new plain text would turn the scalar into a mapping.
    let err = refuses(&rule("up == 0"), "up", "up: x");
    assert!(
        err.contains("nothing was written") || err.contains("cannot edit"),
        "{err}"
    );
}

#[test]
fn several_scalars_in_one_pass() {
    let text = "groups:\n  - rules:\n      - expr: a{i=\"1\"}\n      - expr: \"b{i=\\\"1\\\"}\"\n";
    let doc = given(text);
    let second = Route::root()
        .key("groups")
        .item(ItemMatch::Index(0))
        .key("rules")
        .item(ItemMatch::Index(1))
        .key("expr");
    let out = doc
        .edit_scalar_text(&[
            ScalarTextEdit {
                route: expr(),
                edits: vec![(4..7, "\"22\"".into())],
            },
            ScalarTextEdit {
                route: second,
                edits: vec![(4..7, "\"22\"".into())],
            },
        ])
        .unwrap();
    assert_eq!(
        out,
        "groups:\n  - rules:\n      - expr: a{i=\"22\"}\n      - expr: \"b{i=\\\"22\\\"}\"\n"
    );
}

/// Characters that stress every style: quotes, backslashes, `#`, `:`, controls, non-ASCII.
const POOL: &[char] = &[
    'a', 'z', '0', ' ', '{', '}', '=', '"', '\'', '\\', '#', ':', '-', '\t', '\n', '\u{1}', 'é', '中', '😀', '\u{2028}',
];

fn chars(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(POOL), 0..max).prop_map(|c| c.into_iter().collect())
}

/// How to write a value for each style, or `None` when the style cannot hold it.
fn written(value: &str, style: ScalarStyle) -> Option<String> {
    let plain_safe = |v: &str| {
        !v.is_empty()
            && v.chars().all(|c| c.is_alphanumeric() || "{}=\"-".contains(c))
            && !v.starts_with(['{', '}', '"', '-'])
    };
    match style {
        ScalarStyle::Plain => plain_safe(value).then(|| value.to_string()),
        ScalarStyle::SingleQuoted => (!value.chars().any(|c| c.is_control() || c == '\u{2028}'))
            .then(|| format!("'{}'", value.replace('\'', "''"))),
        ScalarStyle::DoubleQuoted => Some(format!("\"{}\"", escape_double(value))),
        ScalarStyle::Literal | ScalarStyle::Folded => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Any edit either lands exactly (the file decodes to the intended value and nothing
    /// outside the scalar moved) or is refused; double-quoted scalars take every edit.
    #[test]
    fn random_edits_land_exactly_or_are_refused(
        value in chars(16),
        style in prop::sample::select(&[ScalarStyle::Plain, ScalarStyle::SingleQuoted, ScalarStyle::DoubleQuoted][..]),
        start in 0usize..20,
        length in 0usize..4,
        replacement in chars(6),
        crlf in any::<bool>(),
    ) {
        let Some(raw) = written(&value, style) else { return Ok(()) };
        let eol = if crlf { "\r\n" } else { "\n" };
        let prefix = format!("# rules{eol}groups:{eol}  - rules:{eol}      - expr: ");
        let suffix = format!("{eol}        for: 1m{eol}");
        let text = format!("{prefix}{raw}{suffix}");
        let Ok(doc) = YamlDoc::parse(&text) else { return Ok(()) };
        prop_assume!(doc.scalar_text(&expr()).is_some_and(|(_, v)| v == value));
        let chars: Vec<usize> = value.char_indices().map(|(i, _)| i).chain([value.len()]).collect();
        let from = chars[start.min(chars.len() - 1)];
        let to = chars[(start + length).min(chars.len() - 1)];
        let edit = ScalarTextEdit { route: expr(), edits: vec![(from..to, replacement.clone())] };
        let intended = format!("{}{}{}", &value[..from], replacement, &value[to..]);
        match doc.edit_scalar_text(&[edit]) {
            Ok(out) => {
                prop_assert!(out.starts_with(&prefix), "bytes before the scalar moved:\n{out}");
                prop_assert!(out.ends_with(&suffix), "bytes after the scalar moved:\n{out}");
                let again = YamlDoc::parse(&out).unwrap();
                prop_assert_eq!(again.scalar_text(&expr()), Some((style, intended)));
            }
            Err(e) => prop_assert!(style != ScalarStyle::DoubleQuoted, "double-quoted refused: {e}\n{text}"),
        }
    }

    /// Literal blocks: edits within and across lines land exactly or are refused; plain
    /// replacements inside a line always land.
    #[test]
    fn literal_block_edits_land_exactly(
        lines in prop::collection::vec("[a-z{}=\"(]{1,8}", 1..4),
        line in 0usize..4,
        at in 0usize..8,
        replacement in "[a-z\n]{0,5}",
        keep in prop::sample::select(&["", "-", "+"][..]),
    ) {
        let body: String = lines.iter().map(|l| format!("          {l}\n")).collect();
        let text = format!("groups:\n  - rules:\n      - expr: |{keep}\n{body}        for: 1m\n");
        let doc = YamlDoc::parse(&text).unwrap();
        let (_, value) = doc.scalar_text(&expr()).unwrap();
        let line = line.min(lines.len() - 1);
        let start: usize = lines.iter().take(line).map(|l| l.len() + 1).sum::<usize>() + at.min(lines[line].len());
        let edit = ScalarTextEdit { route: expr(), edits: vec![(start..start, replacement.clone())] };
        let intended = format!("{}{}{}", &value[..start], replacement, &value[start..]);
        match doc.edit_scalar_text(&[edit]) {
            Ok(out) => {
                let again = YamlDoc::parse(&out).unwrap();
                prop_assert_eq!(again.scalar_text(&expr()).map(|(_, v)| v), Some(intended));
                prop_assert!(out.ends_with("        for: 1m\n"));
            }
            Err(e) => prop_assert!(replacement.contains('\n'), "refused a one-line insert: {e}\n{text}"),
        }
    }

    /// No input makes the scalar reader or editor panic.
    #[test]
    fn no_panic_on_any_scalar(raw in "[ -~\n\r\t'\"\\\\|>é]{0,40}", start in 0usize..50, end in 0usize..50) {
        let text = format!("a:\n  expr: {raw}\n");
        if let Ok(doc) = YamlDoc::parse(&text) {
            let route = Route::root().key("a").key("expr");
            let edit = ScalarTextEdit { route, edits: vec![(start.min(end)..end.max(start), "x\"'\n".into())] };
            let _ = doc.edit_scalar_text(&[edit]);
        }
    }
}
