//! Strict JSON reading with byte spans.
//!
//! Three checks, cheapest first, so no input can crash us and every error has a position:
//! 1. a byte pass that bounds nesting (jsonc-parser and serde_json both recurse), refuses raw
//!    control characters in strings (jsonc-parser accepts them) and notes how the file escapes
//!    strings;
//! 2. jsonc-parser with every leniency off, for the tree with byte ranges;
//! 3. serde_json, the strict reference, for anything else jsonc-parser might let through (a
//!    property test checks the two agree on damaged dashboards).
//!
//! Duplicate keys are checked separately ([`check_duplicate_keys`]), only for files that turn
//! out to be dashboards.

use jsonc_parser::ast::{ObjectPropName, StringLit, Value};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::error::{DashboardError, ErrorKind};
use super::literal::EncodingStyle;
use super::position::line_col;

/// Deeper than any dashboard (they nest about 15 levels) and below serde_json's own limit (128).
pub const MAX_DEPTH: usize = 100;

pub(crate) const BOM: &str = "\u{feff}";

/// A parsed file. Ranges in `root` are relative to the text after the BOM; add `base`.
pub(crate) struct StrictDoc<'a> {
    /// Length of the BOM (0 or 3).
    pub base: usize,
    pub root: Value<'a>,
    pub style: EncodingStyle,
}

pub(crate) fn parse_strict(source: &str) -> Result<StrictDoc<'_>, DashboardError> {
    let doc = parse_tree(source)?;
    let body = source.get(doc.base..).unwrap_or_default();
    serde_json::from_str::<serde::de::IgnoredAny>(body).map_err(|error| serde_error(&error, body, doc.base))?;
    Ok(doc)
}

/// Steps 1 and 2 only: for callers that run serde_json over the same text anyway.
pub(crate) fn parse_tree(source: &str) -> Result<StrictDoc<'_>, DashboardError> {
    let (base, body) = match source.strip_prefix(BOM) {
        Some(body) => (BOM.len(), body),
        None => (0, source),
    };
    let style = prescan(body).map_err(|error| shift(error, base))?;
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = parse_to_ast(body, &CollectOptions::default(), &options).map_err(|error| {
        let range = error.range();
        DashboardError::new(
            ErrorKind::Syntax {
                message: error.kind().to_string(),
            },
            base + range.start..base + range.end,
        )
    })?;
    let root = parsed
        .value
        .ok_or_else(|| DashboardError::new(ErrorKind::Empty, base..base))?;
    Ok(StrictDoc { base, root, style })
}

fn shift(mut error: DashboardError, base: usize) -> DashboardError {
    error.span = error.span.start + base..error.span.end + base;
    error
}

/// serde_json reports 1-based line and byte column of the byte it stopped after.
fn serde_error(error: &serde_json::Error, body: &str, base: usize) -> DashboardError {
    let line_start = body
        .match_indices('\n')
        .nth(error.line().saturating_sub(2))
        .map_or(0, |(newline, _)| newline + 1);
    let line_start = if error.line() <= 1 { 0 } else { line_start };
    let offset = (line_start + error.column().saturating_sub(1)).min(body.len());
    let message = error.to_string();
    // serde_json appends " at line L column C"; we print our own position.
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |cut| &message[..cut])
        .to_owned();
    DashboardError::new(ErrorKind::Syntax { message }, base + offset..base + offset)
}

/// One pass over the bytes: bounds the nesting depth and records how strings are escaped.
fn prescan(body: &str) -> Result<EncodingStyle, DashboardError> {
    let bytes = body.as_bytes();
    let mut evidence = StyleEvidence::default();
    let mut depth = 0usize;
    let mut index = 0usize;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DashboardError::new(
                        ErrorKind::TooDeep { limit: MAX_DEPTH },
                        index..index + 1,
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => index = skip_string(bytes, index + 1, &mut evidence)?,
            _ => {}
        }
        index += 1;
    }
    Ok(evidence.style())
}

/// Skips string content starting at `index`; returns the index of the closing quote (or the end).
/// Raw control characters are refused here, where their position is exact.
fn skip_string(bytes: &[u8], mut index: usize, evidence: &mut StyleEvidence) -> Result<usize, DashboardError> {
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'"' => return Ok(index),
            0..0x20 => {
                return Err(DashboardError::new(
                    ErrorKind::Syntax {
                        message: format!("control character U+{byte:04X} inside a string (JSON needs it escaped)"),
                    },
                    index..index + 1,
                ));
            }
            b'\\' => match bytes.get(index + 1) {
                Some(b'u') => {
                    if let Some(hex) = bytes.get(index + 2..index + 6) {
                        evidence.saw_unicode_escape(hex);
                    }
                    index += 6;
                    continue;
                }
                Some(b'/') => evidence.escaped_slash = true,
                _ => {}
            },
            0x80.. => evidence.raw_non_ascii = true,
            _ => {}
        }
        index += if byte == b'\\' { 2 } else { 1 };
    }
    Ok(bytes.len())
}

#[derive(Default)]
struct StyleEvidence {
    html_escape: bool,
    line_separator_escape: bool,
    escaped_non_ascii: bool,
    raw_non_ascii: bool,
    escaped_slash: bool,
    lower_hex: bool,
    upper_hex: bool,
}

impl StyleEvidence {
    fn saw_unicode_escape(&mut self, hex: &[u8]) {
        let Some(code) = std::str::from_utf8(hex)
            .ok()
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        else {
            return;
        };
        self.lower_hex |= hex.iter().any(u8::is_ascii_lowercase);
        self.upper_hex |= hex.iter().any(u8::is_ascii_uppercase);
        match code {
            0x3c | 0x3e | 0x26 => self.html_escape = true,
            0x2028 | 0x2029 => self.line_separator_escape = true,
            0x80.. => self.escaped_non_ascii = true,
            _ => {}
        }
    }

    fn style(&self) -> EncodingStyle {
        let ascii_only = self.escaped_non_ascii && !self.raw_non_ascii;
        EncodingStyle {
            html_safe: self.html_escape,
            escaped_slash: self.escaped_slash,
            ascii_only,
            // Go's encoder escapes U+2028/U+2029 always, with or without HTML escaping.
            escape_line_separators: self.line_separator_escape || self.html_escape || ascii_only,
            upper_hex: self.upper_hex && !self.lower_hex,
        }
    }
}

/// Rejects objects that name a key twice (compared after decoding escapes, as Grafana does).
pub(crate) fn check_duplicate_keys(value: &Value<'_>, source: &str, base: usize) -> Result<(), DashboardError> {
    match value {
        Value::Object(object) => {
            let names: Vec<&StringLit<'_>> = object
                .properties
                .iter()
                .filter_map(|property| match &property.name {
                    ObjectPropName::String(name) => Some(name),
                    ObjectPropName::Word(_) => None,
                })
                .collect();
            if let Some((first, second)) = first_duplicate(&names) {
                return Err(DashboardError::new(
                    ErrorKind::DuplicateKey {
                        key: second.value.to_string(),
                        first: line_col(source, base + first.range.start),
                    },
                    base + second.range.start..base + second.range.end,
                ));
            }
            object
                .properties
                .iter()
                .try_for_each(|property| check_duplicate_keys(&property.value, source, base))
        }
        Value::Array(array) => array
            .elements
            .iter()
            .try_for_each(|element| check_duplicate_keys(element, source, base)),
        _ => Ok(()),
    }
}

fn first_duplicate<'n, 'a>(names: &[&'n StringLit<'a>]) -> Option<(&'n StringLit<'a>, &'n StringLit<'a>)> {
    if names.len() <= 16 {
        // Dashboard objects are small: comparing pairs beats hashing.
        for (later_index, later) in names.iter().enumerate() {
            if let Some(earlier) = names[..later_index].iter().find(|earlier| earlier.value == later.value) {
                return Some((earlier, later));
            }
        }
        return None;
    }
    let mut seen = std::collections::HashMap::with_capacity(names.len());
    for name in names {
        if let Some(earlier) = seen.insert(name.value.as_ref(), *name) {
            return Some((earlier, name));
        }
    }
    None
}

// --- reading the tree -------------------------------------------------------------------------

pub(crate) fn get<'v, 'a>(value: &'v Value<'a>, key: &str) -> Option<&'v Value<'a>> {
    value
        .as_object()?
        .properties
        .iter()
        .find(|property| property.name.as_str() == key)
        .map(|property| &property.value)
}

pub(crate) fn get_path<'v, 'a>(value: &'v Value<'a>, keys: &[&str]) -> Option<&'v Value<'a>> {
    keys.iter().try_fold(value, |value, key| get(value, key))
}

pub(crate) fn get_str<'v>(value: &'v Value<'_>, key: &str) -> Option<&'v str> {
    match get(value, key)? {
        Value::StringLit(literal) => Some(literal.value.as_ref()),
        _ => None,
    }
}

pub(crate) fn as_string_lit<'v, 'a>(value: Option<&'v Value<'a>>) -> Option<&'v StringLit<'a>> {
    match value? {
        Value::StringLit(literal) => Some(literal),
        _ => None,
    }
}

/// The elements of an array, or nothing for anything else.
pub(crate) fn elements<'v, 'a>(value: Option<&'v Value<'a>>) -> &'v [Value<'a>] {
    match value {
        Some(Value::Array(array)) => &array.elements,
        _ => &[],
    }
}

/// The entries of an object in file order, or nothing for anything else.
pub(crate) fn entries<'v, 'a>(value: Option<&'v Value<'a>>) -> impl Iterator<Item = (&'v str, &'v Value<'a>)> {
    let properties = match value {
        Some(Value::Object(object)) => object.properties.as_slice(),
        _ => &[],
    };
    properties
        .iter()
        .map(|property| (property.name.as_str(), &property.value))
}

/// `parent` + `/` + `token`, escaped per RFC 6901.
pub(crate) fn pointer(parent: &str, token: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + token.len() + 1);
    pointer.push_str(parent);
    pointer.push('/');
    for ch in token.chars() {
        match ch {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            ch => pointer.push(ch),
        }
    }
    pointer
}

/// `parent` followed by each of `keys`.
pub(crate) fn pointer_path(parent: &str, keys: &[&str]) -> String {
    keys.iter()
        .fold(parent.to_owned(), |pointer_so_far, key| pointer(&pointer_so_far, key))
}

pub(crate) fn index_pointer(parent: &str, index: usize) -> String {
    format!("{parent}/{index}")
}
