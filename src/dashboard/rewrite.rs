//! Editing string values in place: only the edited bytes of the edited literals change.

use std::ops::Range;

use jsonc_parser::ast::Value;
use jsonc_parser::common::Ranged;

use super::error::{DashboardError, ErrorKind};
use super::json;
use super::literal::{DecodedLiteral, EncodingStyle};

/// Edits to one string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringEdit {
    /// Byte range of the literal in the source, quotes included (`QuerySite::literal`).
    pub literal: Range<usize>,
    /// Byte ranges in the DECODED value, each with the decoded text to put there. They must not
    /// overlap; each range must start and end between characters.
    pub edits: Vec<(Range<usize>, String)>,
}

/// Applies `edits` to `source` and returns the new text.
///
/// Bytes outside the edited ranges stay as written, inside the literal too (`\u003e`, `\/`,
/// `\n` survive); new text is escaped the way the file escapes strings (Go's `\u003c \u003e
/// \u0026` when the file uses them, `\/` when it does, `\uXXXX` for non-ASCII in ASCII-only
/// files). The result is parsed again and must equal the input with exactly the intended
/// strings replaced; otherwise nothing is returned but an error.
pub fn rewrite_strings(source: &str, edits: &[StringEdit]) -> Result<String, DashboardError> {
    rewrite_strings_read_back(source, edits).map(|(output, _)| output)
}

/// [`rewrite_strings`], also giving each edited literal's new value as the output reads it
/// (literal start in `source`, decoded text), in source order.
pub fn rewrite_strings_read_back(
    source: &str,
    edits: &[StringEdit],
) -> Result<(String, Vec<(usize, String)>), DashboardError> {
    let doc = json::parse_tree(source)?;
    json::check_duplicate_keys(&doc.root, source, doc.base)?;

    let mut ordered: Vec<&StringEdit> = edits.iter().filter(|edit| !edit.edits.is_empty()).collect();
    ordered.sort_by_key(|edit| (edit.literal.start, edit.literal.end));
    check_no_overlap(&ordered)?;

    let targets: Vec<Range<usize>> = ordered
        .iter()
        .map(|edit| edit.literal.start.wrapping_sub(doc.base)..edit.literal.end.wrapping_sub(doc.base))
        .collect();
    let mut pointers = vec![None; targets.len()];
    locate(&doc.root, &mut String::new(), &targets, &mut pointers);
    splice_and_verify(source, doc.style, &ordered, pointers)
}

/// [`rewrite_strings_read_back`] for literals `scan` (of this very `source`) found: the scan
/// parsed the tree, checked its keys, found these to be string values and learnt how the file
/// escapes, so the text is not read again. The output is verified the same way; errors name a
/// literal by its offset.
pub fn rewrite_scanned_strings(
    source: &str,
    scan: &super::DashboardScan,
    edits: &[StringEdit],
) -> Result<(String, Vec<(usize, String)>), DashboardError> {
    let style = scan.style;
    let mut ordered: Vec<&StringEdit> = edits.iter().filter(|edit| !edit.edits.is_empty()).collect();
    ordered.sort_by_key(|edit| (edit.literal.start, edit.literal.end));
    check_no_overlap(&ordered)?;
    let pointers = ordered
        .iter()
        .map(|edit| Some(format!("(the string at byte {})", edit.literal.start)))
        .collect();
    splice_and_verify(source, style, &ordered, pointers)
}

/// Splices each edit into its literal (sorted, disjoint), in the file's escaping, and verifies.
fn splice_and_verify(
    source: &str,
    style: EncodingStyle,
    ordered: &[&StringEdit],
    pointers: Vec<Option<String>>,
) -> Result<(String, Vec<(usize, String)>), DashboardError> {
    let mut output = String::with_capacity(source.len() + 64);
    let mut expected = Vec::with_capacity(ordered.len());
    let mut cursor = 0;
    for (edit, pointer) in ordered.iter().zip(pointers) {
        let not_a_string = || {
            DashboardError::new(
                ErrorKind::NotAStringValue {
                    literal: edit.literal.clone(),
                },
                edit.literal.clone(),
            )
        };
        let pointer = pointer.ok_or_else(not_a_string)?;
        let raw = source.get(edit.literal.clone()).ok_or_else(not_a_string)?;
        let decoded = DecodedLiteral::decode(raw).ok_or_else(not_a_string)?;
        let (new_raw, intended) = decoded
            .splice(&edit.edits, style)
            .map_err(|kind| DashboardError::new(kind, edit.literal.clone()))?;
        output.push_str(source.get(cursor..edit.literal.start).ok_or_else(not_a_string)?);
        output.push_str(&new_raw);
        cursor = edit.literal.end;
        expected.push((pointer, new_raw, intended));
    }
    output.push_str(source.get(cursor..).unwrap_or_default());

    verify(&output, &expected)?;
    let values = ordered
        .iter()
        .zip(expected)
        .map(|(edit, (_, _, intended))| (edit.literal.start, intended))
        .collect();
    Ok((output, values))
}

fn check_no_overlap(ordered: &[&StringEdit]) -> Result<(), DashboardError> {
    for pair in ordered.windows(2) {
        if let [first, second] = pair
            && second.literal.start < first.literal.end
        {
            return Err(DashboardError::new(
                ErrorKind::OverlappingLiterals {
                    first: first.literal.clone(),
                    second: second.literal.clone(),
                },
                second.literal.clone(),
            ));
        }
    }
    Ok(())
}

/// Finds the pointer of each target range that is exactly a string value (not a key).
fn locate(value: &Value<'_>, path: &mut String, targets: &[Range<usize>], found: &mut [Option<String>]) {
    let range = value.range();
    let first = targets.partition_point(|target| target.start < range.start);
    match targets.get(first) {
        Some(target) if target.start < range.end => {}
        _ => return, // no target inside this value
    }
    match value {
        Value::StringLit(literal) => {
            if targets.get(first) == Some(&(literal.range.start..literal.range.end))
                && let Some(slot) = found.get_mut(first)
            {
                *slot = Some(path.clone());
            }
        }
        Value::Object(object) => {
            for property in &object.properties {
                let length = path.len();
                *path = json::pointer(path, property.name.as_str());
                locate(&property.value, path, targets, found);
                path.truncate(length);
            }
        }
        Value::Array(array) => {
            for (index, element) in array.elements.iter().enumerate() {
                let length = path.len();
                *path = json::index_pointer(path, index);
                locate(element, path, targets, found);
                path.truncate(length);
            }
        }
        _ => {}
    }
}

/// The output must parse to the input's value with exactly the intended strings replaced.
/// The output is the source with only the edited literals replaced, each one located in the
/// tree as a string value and the bytes between them copied. So it means the input with exactly
/// the intended strings replaced when each new literal reads, on its own, as one JSON string
/// holding the intended text, and the whole output still parses strictly. (Comparing whole
/// parsed values says no more, and costs two full parses of every dashboard.)
fn verify(output: &str, expected: &[(String, String, String)]) -> Result<(), DashboardError> {
    let failed = |pointer: &str, what: String| {
        DashboardError::new(
            ErrorKind::VerificationFailed {
                pointer: pointer.to_owned(),
                what,
            },
            0..0,
        )
    };
    for (pointer, new_raw, intended) in expected {
        if serde_json::from_str::<String>(new_raw).ok().as_ref() != Some(intended) {
            return Err(failed(
                pointer,
                "the string does not decode to the intended text".to_owned(),
            ));
        }
    }
    let body = output.strip_prefix(json::BOM).unwrap_or(output);
    serde_json::from_str::<serde::de::IgnoredAny>(body)
        .map_err(|error| failed("", format!("the file no longer parses: {error}")))?;
    Ok(())
}
