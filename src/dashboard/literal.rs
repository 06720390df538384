//! JSON string literals as written: decoding with a map back to the raw bytes, and encoding new
//! text the way the file already encodes strings.
//!
//! Edits arrive in decoded coordinates (what a PromQL parser sees). Each is moved onto the raw
//! literal, so every byte the edit does not cover stays exactly as written (`\u003e`, `\/`, `\n`).

use std::ops::Range;

use super::error::ErrorKind;

/// How the file writes strings, so inserted text looks like its neighbours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EncodingStyle {
    /// `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (Go's encoding/json, so Grafana's own API).
    pub html_safe: bool,
    /// `/` as `\/` (PHP's json_encode).
    pub escaped_slash: bool,
    /// Every non-ASCII character as `\uXXXX` (Python's json.dumps default).
    pub ascii_only: bool,
    /// U+2028 and U+2029 as `\u2028`, `\u2029` (Go always does).
    pub escape_line_separators: bool,
    /// `\u00E9` rather than `\u00e9`.
    pub upper_hex: bool,
}

/// One stretch of a literal: either plain text (raw and decoded bytes are the same) or one escape
/// that decodes to exactly one character.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Byte range in the raw literal, counting the opening quote as byte 0.
    raw: (usize, usize),
    /// Byte range in the decoded value.
    decoded: (usize, usize),
    escape: bool,
}

/// A string literal decoded, remembering where each decoded byte came from.
#[derive(Debug)]
pub(crate) struct DecodedLiteral<'r> {
    raw: &'r str,
    pub value: String,
    pieces: Vec<Piece>,
}

impl<'r> DecodedLiteral<'r> {
    /// Decodes `raw`, a whole literal with its quotes. `None` if it is not a valid JSON string.
    pub fn decode(raw: &'r str) -> Option<Self> {
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        let mut value = String::with_capacity(inner.len());
        let mut pieces = Vec::new();
        let mut rest = inner;
        let mut raw_offset = 1; // after the opening quote
        while !rest.is_empty() {
            let plain_len = rest.find(['\\', '"']).unwrap_or(rest.len());
            if plain_len > 0 {
                let plain = &rest[..plain_len];
                if plain.chars().any(|ch| ch < ' ') {
                    return None;
                }
                pieces.push(Piece {
                    raw: (raw_offset, raw_offset + plain_len),
                    decoded: (value.len(), value.len() + plain_len),
                    escape: false,
                });
                value.push_str(plain);
                raw_offset += plain_len;
                rest = &rest[plain_len..];
                continue;
            }
            let (ch, escape_len) = decode_escape(rest)?;
            let decoded_start = value.len();
            value.push(ch);
            pieces.push(Piece {
                raw: (raw_offset, raw_offset + escape_len),
                decoded: (decoded_start, value.len()),
                escape: true,
            });
            raw_offset += escape_len;
            rest = rest.get(escape_len..)?;
        }
        Some(Self { raw, value, pieces })
    }

    /// Where decoded byte offset `decoded` falls in the raw literal; `None` if it is past the
    /// end or not between two characters.
    fn raw_offset(&self, decoded: usize) -> Option<usize> {
        if decoded == self.value.len() {
            return Some(self.raw.len() - 1); // the closing quote
        }
        if !self.value.is_char_boundary(decoded) {
            return None;
        }
        let index = self.pieces.partition_point(|piece| piece.decoded.1 <= decoded);
        let piece = self.pieces.get(index)?;
        match piece.escape {
            true => (decoded == piece.decoded.0).then_some(piece.raw.0),
            false => Some(piece.raw.0 + (decoded - piece.decoded.0)),
        }
    }

    /// Applies `edits` (decoded ranges, new decoded text). Returns the new raw literal and the
    /// decoded value it must have.
    pub fn splice(
        &self,
        edits: &[(Range<usize>, String)],
        style: EncodingStyle,
    ) -> Result<(String, String), ErrorKind> {
        let mut ordered: Vec<&(Range<usize>, String)> = edits.iter().collect();
        ordered.sort_by_key(|(range, _)| (range.start, range.end));
        for pair in ordered.windows(2) {
            if let [(first, _), (second, _)] = pair
                && (second.start < first.end || (second.start == first.start && first.is_empty() && second.is_empty()))
            {
                return Err(ErrorKind::OverlappingEdits {
                    first: first.clone(),
                    second: second.clone(),
                });
            }
        }
        let mut raw_out = String::with_capacity(self.raw.len() + 16);
        let mut intended = String::with_capacity(self.value.len() + 16);
        let mut raw_cursor = 0;
        let mut decoded_cursor = 0;
        for (range, text) in ordered {
            let out_of_range = || ErrorKind::EditOutOfRange {
                range: range.clone(),
                len: self.value.len(),
            };
            if range.start > range.end {
                return Err(out_of_range());
            }
            let raw_start = self.raw_offset(range.start).ok_or_else(out_of_range)?;
            let raw_end = self.raw_offset(range.end).ok_or_else(out_of_range)?;
            raw_out.push_str(self.raw.get(raw_cursor..raw_start).ok_or_else(out_of_range)?);
            encode_into(&mut raw_out, text, style);
            intended.push_str(self.value.get(decoded_cursor..range.start).ok_or_else(out_of_range)?);
            intended.push_str(text);
            raw_cursor = raw_end;
            decoded_cursor = range.end;
        }
        raw_out.push_str(self.raw.get(raw_cursor..).unwrap_or_default());
        intended.push_str(self.value.get(decoded_cursor..).unwrap_or_default());
        Ok((raw_out, intended))
    }
}

/// Decodes the escape at the start of `text` (which starts with a backslash): the character and
/// how many raw bytes it took.
fn decode_escape(text: &str) -> Option<(char, usize)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'\\') {
        return None;
    }
    let simple = match bytes.get(1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(text.get(2..6)?)?;
            if (0xD800..0xDC00).contains(&high) {
                let low = text.get(6..8).filter(|&u| u == "\\u").and(hex4(text.get(8..12)?))?;
                if !(0xDC00..0xE000).contains(&low) {
                    return None;
                }
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Some((char::from_u32(code)?, 12));
            }
            return Some((char::from_u32(high)?, 6));
        }
        _ => return None,
    };
    Some((simple, 2))
}

fn hex4(text: &str) -> Option<u32> {
    if text.len() != 4 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Appends `text` as JSON string content (no quotes) in the file's style.
pub(crate) fn encode_into(out: &mut String, text: &str, style: EncodingStyle) {
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => push_unicode_escape(out, ch, style),
            '<' | '>' | '&' if style.html_safe => push_unicode_escape(out, ch, style),
            '/' if style.escaped_slash => out.push_str("\\/"),
            '\u{2028}' | '\u{2029}' if style.escape_line_separators => push_unicode_escape(out, ch, style),
            ch if !ch.is_ascii() && style.ascii_only => push_unicode_escape(out, ch, style),
            ch => out.push(ch),
        }
    }
}

fn push_unicode_escape(out: &mut String, ch: char, style: EncodingStyle) {
    let mut units = [0u16; 2];
    for unit in ch.encode_utf16(&mut units) {
        let escaped = match style.upper_hex {
            true => format!("\\u{unit:04X}"),
            false => format!("\\u{unit:04x}"),
        };
        out.push_str(&escaped);
    }
}
