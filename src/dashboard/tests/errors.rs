//! Bad input gives an error with a position, never a panic or a stack overflow.

use std::fmt::Write as _;

use super::super::{ErrorKind, MAX_DEPTH, rewrite_strings, scan};

/// `line:col: message` for each input, as pullover would print it after the file name.
fn report(inputs: &[&str]) -> String {
    let mut out = String::new();
    for input in inputs {
        let line = match scan(input) {
            Ok(scanned) => format!("ok ({:?})", scanned.model),
            Err(error) => format!("{}: {}", error.location(input), error),
        };
        let _ = writeln!(out, "{:<28} {line}", format!("{input:?}"));
    }
    out
}

#[test]
fn malformed_json_is_reported_at_the_offending_character() {
    insta::assert_snapshot!(report(&[
        "",
        "  \n ",
        "{\"panels\": [],}",
        "{\"panels\": [1,]}",
        "{\n  // comment\n  \"panels\": []\n}",
        "{'panels': []}",
        "{panels: []}",
        "{\"panels\": [01]}",
        "{\"panels\": [.5]}",
        "{\"panels\": [NaN]}",
        "{\"title\": \"a\nb\", \"panels\": []}",
        "{\"title\": \"\\ud800\", \"panels\": []}",
        "{\"title\": \"\\x41\", \"panels\": []}",
        "{\"panels\": []} {}",
        "{\"panels\": [",
        "{\"panels\": \"",
        "\u{feff}\u{feff}{}",
    ]), @r#"
        ""                           1:1: the file is empty
        "  \n "                      1:1: the file is empty
        "{\"panels\": [],}"          1:14: not valid JSON: Trailing commas are not allowed
        "{\"panels\": [1,]}"         1:14: not valid JSON: Trailing commas are not allowed
        "{\n  // comment\n  \"panels\": []\n}" 2:3: not valid JSON: Comments are not allowed
        "{'panels': []}"             1:2: not valid JSON: Single-quoted strings are not allowed
        "{panels: []}"               1:2: not valid JSON: Expected string for object property
        "{\"panels\": [01]}"         1:14: not valid JSON: Expected comma
        "{\"panels\": [.5]}"         1:13: not valid JSON: Leading or trailing decimal points on numbers are not allowed
        "{\"panels\": [NaN]}"        1:13: not valid JSON: Unexpected token
        "{\"title\": \"a\nb\", \"panels\": []}" 1:13: not valid JSON: control character U+000A inside a string (JSON needs it escaped)
        "{\"title\": \"\\ud800\", \"panels\": []}" 1:12: not valid JSON: Invalid unicode escape sequence. 'd800 (unpaired high surrogate)' is not a valid UTF8 character
        "{\"title\": \"\\x41\", \"panels\": []}" 1:12: not valid JSON: Invalid escape
        "{\"panels\": []} {}"        1:16: not valid JSON: Text cannot contain more than one JSON value
        "{\"panels\": ["             1:12: not valid JSON: Unterminated array
        "{\"panels\": \""            1:12: not valid JSON: Unterminated string literal
        "\u{feff}\u{feff}{}"         1:1: not valid JSON: Unexpected token
    "#);
}

#[test]
fn duplicate_keys_in_a_dashboard_name_the_key_and_both_places() {
    let source = "{\n  \"panels\": [\n    {\n      \"targets\": [{\"expr\": \"up\"}],\n      \"title\": \"A\",\n      \"title\": \"B\"\n    }\n  ]\n}";
    let error = scan(source).expect_err("duplicate title");
    assert_eq!(
        format!("{}: {}", error.location(source), error),
        "6:7: key \"title\" appears twice in one object (first at 5:7)"
    );
    // Escapes are decoded before comparing, as Grafana's JSON parser does.
    let escaped = r#"{"panels": [], "ti\u0074le": "x", "title": "y"}"#;
    assert!(matches!(
        scan(escaped).expect_err("same key").kind,
        ErrorKind::DuplicateKey { ref key, .. } if key == "title"
    ));
}

#[test]
fn ten_thousand_levels_of_nesting_are_an_error_not_a_crash() {
    for open in ["[", "{\"a\":"] {
        let deep = open.repeat(10_000);
        let error = scan(&deep).expect_err("too deep");
        assert_eq!(error.kind, ErrorKind::TooDeep { limit: MAX_DEPTH });
        assert_eq!(error.offset(), MAX_DEPTH * open.len());
        assert!(rewrite_strings(&deep, &[]).is_err());
    }
    let inside_a_dashboard = format!(
        "{{\"panels\": [{{\"targets\": [{{\"expr\": \"up\", \"x\": {}{}}}]}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        scan(&inside_a_dashboard).map_err(|e| e.kind),
        Err(ErrorKind::TooDeep { .. })
    ));
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    let inner = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    let source = format!("{{\"panels\": [], \"x\": {inner}}}");
    assert!(scan(&source).is_ok());
    let too_deep = format!("{{\"panels\": [], \"x\": [{inner}]}}");
    assert!(scan(&too_deep).is_err());
}

#[test]
fn an_unknown_resource_version_is_an_error_not_a_silent_skip() {
    let source = r#"{"apiVersion": "dashboard.grafana.app/v3alpha0", "kind": "Dashboard", "spec": {}}"#;
    let error = scan(source).expect_err("unsupported");
    assert_eq!(
        format!("{}: {}", error.location(source), error),
        "1:16: unsupported dashboard apiVersion \"dashboard.grafana.app/v3alpha0\""
    );
    assert!(!error.help().is_empty());
}
