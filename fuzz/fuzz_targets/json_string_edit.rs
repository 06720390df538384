//! The dashboard scanner and string-only JSON edit on any text: no panic; a successful edit of
//! one query string yields JSON that parses, with every byte outside that string literal as
//! it was, and the string decoding to exactly the intended value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullover::dashboard::{StringEdit, rewrite_strings, scan};

/// Replacement texts that stress escaping: quotes, backslashes, HTML-ish, controls, astral.
const REPLACEMENTS: &[&str] = &["x", "", "\"q\"", "\\", "<&>", "\n\t", "\u{1}", "é中😀", "\u{2028}", "/"];

fuzz_target!(|data: &[u8]| {
    // Contained panics (a parser crate giving up) are answers, not crashes; any other panic
    // still reaches libFuzzer's hook.
    pullover::contained::install_panic_hook();
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(source) = std::str::from_utf8(rest) else { return };
    let Ok(scanned) = scan(source) else { return };
    if scanned.sites.is_empty() {
        return;
    }
    let site = &scanned.sites[usize::from(choice) % scanned.sites.len()];
    let value = &site.value;
    // Replace a char-aligned middle stretch of the decoded value.
    let boundaries: Vec<usize> = (0..=value.len()).filter(|&i| value.is_char_boundary(i)).collect();
    let start = boundaries[usize::from(choice >> 4) % boundaries.len()];
    let end = boundaries[boundaries.len() - 1 - usize::from(choice & 3) % boundaries.len()].max(start);
    let replacement = REPLACEMENTS[usize::from(choice >> 2) % REPLACEMENTS.len()];
    let edit = StringEdit {
        literal: site.literal.clone(),
        edits: vec![(start..end, replacement.to_string())],
    };
    let Ok(out) = rewrite_strings(source, std::slice::from_ref(&edit)) else {
        return;
    };
    // As strict as the scanner: JSON syntax (serde_json's `IgnoredAny`); a source whose numbers
    // fit an f64 must still read as a `Value` (`1e999` does not, and only strings are edited).
    let body = out.strip_prefix('\u{feff}').unwrap_or(&out);
    assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok(),
        "edited JSON does not parse:\n{out}"
    );
    let source_body = source.strip_prefix('\u{feff}').unwrap_or(source);
    if serde_json::from_str::<serde_json::Value>(source_body).is_ok() {
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_ok(),
            "edited JSON no longer reads as a value:\n{out}"
        );
    }
    let literal = site.literal.clone();
    assert_eq!(
        &out[..literal.start],
        &source[..literal.start],
        "bytes before the literal changed"
    );
    let tail = &source[literal.end..];
    assert!(out.ends_with(tail), "bytes after the literal changed");
    let new_literal = &out[literal.start..out.len() - tail.len()];
    let decoded: String = serde_json::from_str(new_literal).expect("the new literal is a JSON string");
    let expected = format!("{}{replacement}{}", &value[..start], &value[end..]);
    assert_eq!(decoded, expected, "the string does not decode to the intended value");
});
