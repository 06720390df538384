//! The escapes of a double-quoted YAML scalar, both ways: one encoder for every text pullover
//! writes between `"` (a new node, or new text inside an existing scalar) and one decoder for
//! every `\` escape it reads (YAML 1.2, section 5.7). Imports nothing of the project.

/// Decodes the double-quoted escape at the start of `raw` (which starts with `\`): the character
/// and the escape's length in bytes.
pub(super) fn decode_escape(raw: &str) -> Result<(char, usize), String> {
    let mut chars = raw.chars();
    chars.next();
    let Some(kind) = chars.next() else {
        return Err("a `\\` at the end of a double-quoted scalar".into());
    };
    let simple = match kind {
        '0' => Some('\0'),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        't' | '\t' => Some('\t'),
        'n' => Some('\n'),
        'v' => Some('\u{b}'),
        'f' => Some('\u{c}'),
        'r' => Some('\r'),
        'e' => Some('\u{1b}'),
        ' ' => Some(' '),
        '"' => Some('"'),
        '/' => Some('/'),
        '\\' => Some('\\'),
        'N' => Some('\u{85}'),
        '_' => Some('\u{a0}'),
        'L' => Some('\u{2028}'),
        'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, 1 + kind.len_utf8()));
    }
    let digits = match kind {
        'x' => 2,
        'u' => 4,
        'U' => 8,
        other => return Err(format!("unknown escape `\\{other}`")),
    };
    let hex = raw
        .get(2..2 + digits)
        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("a `\\{kind}` escape without {digits} hex digits"))?;
    let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
    let c = char::from_u32(code).ok_or_else(|| format!("`\\{kind}{hex}` is not a character"))?;
    Ok((c, 2 + digits))
}

/// `text` as the inside of a double-quoted scalar.
pub(super) fn escape_double(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a whole double-quoted scalar, quotes included.
pub(super) fn double_quoted(text: &str) -> String {
    format!("\"{}\"", escape_double(text))
}

/// The inside of a one-line double-quoted scalar, decoded. An escape that is not YAML (the typed
/// parse refuses the file then) keeps the character after its `\`.
pub(super) fn decode_double_quoted(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(backslash) = rest.find('\\') {
        out.push_str(&rest[..backslash]);
        let escape = &rest[backslash..];
        let length = match decode_escape(escape) {
            Ok((c, length)) => {
                out.push(c);
                length
            }
            Err(_) => {
                let after = escape[1..].chars().next();
                out.push(after.unwrap_or('\\'));
                1 + after.map_or(0, char::len_utf8)
            }
        };
        rest = &escape[length..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_yaml_escape_decodes_as_the_typed_parse_reads_it() {
        let escapes = [
            r"\0",
            r"\a",
            r"\b",
            r"\t",
            "\\\t",
            r"\n",
            r"\v",
            r"\f",
            r"\r",
            r"\e",
            r"\ ",
            r#"\""#,
            r"\/",
            r"\\",
            r"\N",
            r"\_",
            r"\L",
            r"\P",
            r"\x41",
            r"\u00e9",
            r"\U0001F600",
        ];
        for escape in escapes {
            let typed: String = yaml_serde::from_str(&format!("\"a{escape}b\"")).unwrap();
            assert_eq!(decode_double_quoted(&format!("a{escape}b")), typed, "{escape}");
        }
    }

    #[test]
    fn an_escape_yaml_does_not_know_keeps_the_character_after_its_backslash() {
        assert_eq!(decode_double_quoted(r"a\qb"), "aqb");
        assert_eq!(decode_double_quoted(r"a\"), "a\\");
        assert_eq!(decode_double_quoted(r"\u12"), "u12");
    }

    #[test]
    fn quotes_backslashes_and_line_breaks_get_short_escapes_control_characters_their_code() {
        assert_eq!(double_quoted("say \"hi\"\\\n\t\r é"), r#""say \"hi\"\\\n\t\r é""#);
        assert_eq!(
            double_quoted("\0\u{1b}\u{7f}\u{85}\u{2028}\u{feff}"),
            r#""\0\x1B\x7F\N\L\uFEFF""#
        );
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back_as_itself(text in "(\\PC|[\\x00-\\x1f\\x7f\u{85}\u{2028}\u{2029}\u{feff}])*") {
            let written = double_quoted(&text);
            let typed: String = yaml_serde::from_str(&written).unwrap();
            prop_assert_eq!(&typed, &text);
            prop_assert_eq!(decode_double_quoted(&escape_double(&text)), text);
        }
    }
}
