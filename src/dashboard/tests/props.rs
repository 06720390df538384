//! Property tests: random edits land exactly; random input never panics; strictness matches
//! serde_json.

use std::ops::Range;

use proptest::prelude::*;

use super::super::json::parse_strict;
use super::super::literal::{EncodingStyle, encode_into};
use super::super::{StringEdit, rewrite_strings, scan};
use super::{CLASSIC_EXPORT, LEGACY_ROWS, V1_RESOURCE_GO, V2_RESOURCE};

/// Characters that stress escaping: quotes, backslashes, HTML-ish, controls, non-ASCII, astral.
const POOL: &[char] = &[
    'a', 'z', 'J', '0', ' ', '{', '}', '=', '~', '"', '\\', '/', '<', '>', '&', '\n', '\t', '\r', '\u{1}', '\u{1f}',
    '\u{7f}', 'é', '中', '😀', '\u{2028}', '\u{feff}',
];

fn pool_char() -> impl Strategy<Value = char> {
    prop::sample::select(POOL)
}

/// How one character is written in the file.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    Raw,
    Short,
    LowerHex,
    UpperHex,
}

fn spell(ch: char, spelling: Spelling) -> String {
    let short = match ch {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '/' => Some("\\/"),
        '\n' => Some("\\n"),
        '\t' => Some("\\t"),
        '\r' => Some("\\r"),
        _ => None,
    };
    let must_escape = ch == '"' || ch == '\\' || ch < ' ';
    let hex = |upper: bool| {
        let mut units = [0u16; 2];
        ch.encode_utf16(&mut units)
            .iter()
            .map(|unit| match upper {
                true => format!("\\u{unit:04X}"),
                false => format!("\\u{unit:04x}"),
            })
            .collect::<String>()
    };
    match (spelling, short) {
        (Spelling::Raw, _) if !must_escape => ch.to_string(),
        (Spelling::Short | Spelling::Raw, Some(short)) => short.to_owned(),
        (Spelling::UpperHex, _) => hex(true),
        _ => hex(false),
    }
}

fn spelled_string() -> impl Strategy<Value = Vec<(char, String)>> {
    let spelling = prop_oneof![
        Just(Spelling::Raw),
        Just(Spelling::Short),
        Just(Spelling::LowerHex),
        Just(Spelling::UpperHex)
    ];
    prop::collection::vec((pool_char(), spelling), 0..24).prop_map(|chars| {
        chars
            .into_iter()
            .map(|(ch, spelling)| (ch, spell(ch, spelling)))
            .collect()
    })
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(pool_char(), 0..8).prop_map(|chars| chars.into_iter().collect())
}

/// Up to three edits as (first char, char count, new text); made disjoint later.
fn raw_edits() -> impl Strategy<Value = Vec<(usize, usize, String)>> {
    prop::collection::vec((0usize..32, 0usize..4, text()), 0..4)
}

/// Turns raw edits into sorted, disjoint char ranges within `len` chars.
fn disjoint(raw: Vec<(usize, usize, String)>, len: usize) -> Vec<(Range<usize>, String)> {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut sorted = raw;
    sorted.sort_by_key(|(start, _, _)| *start);
    let mut floor = 0;
    for (start, count, text) in sorted {
        let start = start.min(len).max(floor);
        let end = (start + count).min(len);
        let touches_previous_insert = edits
            .last()
            .is_some_and(|(last, _)| last.is_empty() && start == last.start && start == end);
        if touches_previous_insert {
            continue;
        }
        floor = end;
        edits.push((start..end, text));
    }
    edits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_edits_land_exactly_and_nothing_else_moves(
        target in spelled_string(),
        other in spelled_string(),
        raw in raw_edits(),
        crlf in any::<bool>(),
    ) {
        let literal: String = format!("\"{}\"", target.iter().map(|(_, raw)| raw.as_str()).collect::<String>());
        let other: String = other.iter().map(|(_, raw)| raw.as_str()).collect();
        let newline = if crlf { "\r\n" } else { "\n" };
        let source = format!(
            "{{{newline}  \"title\": \"{other}\",{newline}  \"panels\": [{{\"targets\": [{{\"expr\": {literal}, \"refId\": \"A\"}}], \"maxDataPoints\": 1.50}}]{newline}}}"
        );
        let decoded_chars: Vec<char> = target.iter().map(|(ch, _)| *ch).collect();
        let decoded: String = decoded_chars.iter().collect();

        let scanned = scan(&source).expect("generated dashboards are valid");
        let site = scanned.sites.iter().chain(scanned.skipped.iter().map(|s| &s.site))
            .find(|site| site.pointer == "/panels/0/targets/0/expr");
        let literal_range = match site {
            Some(site) => {
                prop_assert_eq!(&site.value, &decoded);
                site.literal.clone()
            }
            None => {
                // Blank strings are not query sites; locate the literal directly.
                prop_assert!(decoded.trim().is_empty());
                let start = source.find("\"expr\": ").expect("key") + 8;
                start..start + literal.len()
            }
        };
        prop_assert_eq!(&source[literal_range.clone()], literal.as_str());

        let char_edits = disjoint(raw, decoded_chars.len());
        let byte_at = |char_index: usize| decoded_chars[..char_index].iter().map(|ch| ch.len_utf8()).sum::<usize>();
        let edits: Vec<(Range<usize>, String)> = char_edits
            .iter()
            .map(|(range, text)| (byte_at(range.start)..byte_at(range.end), text.clone()))
            .collect();

        // The intended value and literal, built from the generator's own pieces.
        let style = parse_strict(&source).expect("parses").style;
        let mut intended = String::new();
        let mut expected_literal = String::from("\"");
        let mut char_cursor = 0;
        for (range, text) in &char_edits {
            for (ch, raw) in &target[char_cursor..range.start] {
                intended.push(*ch);
                expected_literal.push_str(raw);
            }
            intended.push_str(text);
            encode_into(&mut expected_literal, text, style);
            char_cursor = range.end;
        }
        for (ch, raw) in &target[char_cursor..] {
            intended.push(*ch);
            expected_literal.push_str(raw);
        }
        expected_literal.push('"');

        let edit = StringEdit { literal: literal_range.clone(), edits };
        let output = rewrite_strings(&source, &[edit]).expect("valid edits apply");

        let document: serde_json::Value = serde_json::from_str(&output).expect("output parses");
        prop_assert_eq!(document.pointer("/panels/0/targets/0/expr").and_then(|v| v.as_str()), Some(intended.as_str()));
        prop_assert_eq!(&output[..literal_range.start], &source[..literal_range.start]);
        let new_end = literal_range.end + output.len() - source.len();
        prop_assert_eq!(&output[new_end..], &source[literal_range.end..]);
        prop_assert_eq!(&output[literal_range.start..new_end], expected_literal.as_str());
    }

    #[test]
    fn encoded_text_decodes_to_itself_in_every_style(
        text in prop::collection::vec(any::<char>(), 0..16).prop_map(|chars| chars.into_iter().collect::<String>()),
        flags in any::<[bool; 5]>(),
    ) {
        let [html_safe, escaped_slash, ascii_only, escape_line_separators, upper_hex] = flags;
        let style = EncodingStyle { html_safe, escaped_slash, ascii_only, escape_line_separators, upper_hex };
        let mut literal = String::from("\"");
        encode_into(&mut literal, &text, style);
        literal.push('"');
        let decoded: String = serde_json::from_str(&literal).expect("valid JSON string");
        prop_assert_eq!(decoded, text);
        if ascii_only {
            prop_assert!(literal.is_ascii());
        }
        if html_safe {
            prop_assert!(!literal.contains(['<', '>', '&']));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = scan(&text);
        let _ = rewrite_strings(&text, &[StringEdit { literal: 0..text.len(), edits: vec![(0..0, "x".to_owned())] }]);
    }

    #[test]
    fn damaged_dashboards_never_panic_and_strictness_matches_serde_json(
        fixture in prop::sample::select(&[CLASSIC_EXPORT, LEGACY_ROWS, V1_RESOURCE_GO, V2_RESOURCE][..]),
        damage in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, "[\\[\\]{}\",:\\\\ 0-9a-zEe.+\\-\u{1}\u{e9}]{0,3}"), 1..4),
    ) {
        let mut text = fixture.to_owned();
        for (at, delete, insert) in damage {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + delete).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(start..end, &insert);
        }
        let ours = parse_strict(&text).map(|_| ());
        let reference = serde_json::from_str::<serde_json::Value>(&text).map(|_| ());
        prop_assert_eq!(ours.is_ok(), reference.is_ok(), "ours: {:?}, serde_json: {:?}", ours, reference);
        if let Err(error) = &ours {
            prop_assert!(error.span.start <= text.len() && error.span.end <= text.len());
        }
        if let Ok(scanned) = scan(&text) {
            for site in &scanned.sites {
                let decoded: String = serde_json::from_str(&text[site.literal.clone()]).expect("a literal");
                prop_assert_eq!(&decoded, &site.value);
                let edit = StringEdit { literal: site.literal.clone(), edits: vec![(0..0, "x".to_owned())] };
                let output = rewrite_strings(&text, &[edit]).expect("a prefix insert applies");
                prop_assert_eq!(output.len(), text.len() + 1);
            }
        }
    }
}
