//! Format-preserving edits: spans in, bytes out.
//!
//! Every edit is resolved against the current text to [`Splice`]s; applying them
//! copies every byte outside the spans unchanged. Format-specific layers
//! ([`yaml`], and the JSON string edits in `dashboard/`) find the spans.

pub mod yaml;

use std::ops::Range;

/// Replace `range` of the original text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub range: Range<usize>,
    pub text: String,
}

impl Splice {
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Splice {
        Splice {
            range,
            text: text.into(),
        }
    }
    pub fn insert(at: usize, text: impl Into<String>) -> Splice {
        Splice {
            range: at..at,
            text: text.into(),
        }
    }
    pub fn delete(range: Range<usize>) -> Splice {
        Splice {
            range,
            text: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    #[error("edits overlap at bytes {first:?} and {second:?}")]
    Overlap { first: Range<usize>, second: Range<usize> },
    #[error("edit {0:?} lies outside the text or splits a character")]
    OutOfBounds(Range<usize>),
}

/// Applies non-overlapping splices to `text`. Two inserts at the same offset
/// are kept in the order given.
pub fn apply_splices(text: &str, splices: &[Splice]) -> Result<String, SpliceError> {
    let mut order: Vec<&Splice> = splices.iter().collect();
    order.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut copied_to = 0;
    let mut previous: Option<&Splice> = None;
    for splice in order {
        let Range { start, end } = splice.range.clone();
        if start > end || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(SpliceError::OutOfBounds(splice.range.clone()));
        }
        if let Some(prev) = previous {
            let touches_inside = start < prev.range.end
                || (start == prev.range.start && start < end && prev.range.start < prev.range.end);
            if touches_inside {
                return Err(SpliceError::Overlap {
                    first: prev.range.clone(),
                    second: splice.range.clone(),
                });
            }
        }
        out.push_str(&text[copied_to..start]);
        out.push_str(&splice.text);
        copied_to = end;
        previous = Some(splice);
    }
    out.push_str(&text[copied_to..]);
    Ok(out)
}

/// The line break a file uses: `\r\n` if its first line break is one.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_copy_every_other_byte() {
        let text = "a: 1\nb: 2\nc: 3\n";
        let out = apply_splices(
            text,
            &[
                Splice::replace(3..4, "10"),
                Splice::delete(5..10),
                Splice::insert(15, "d: 4\n"),
            ],
        )
        .unwrap();
        assert_eq!(out, "a: 10\nc: 3\nd: 4\n");
    }

    #[test]
    fn overlapping_splices_are_rejected() {
        let err = apply_splices("abcdef", &[Splice::delete(1..4), Splice::delete(3..5)]).unwrap_err();
        assert!(matches!(err, SpliceError::Overlap { .. }));
        assert!(apply_splices("abc", &[Splice::delete(2..9)]).is_err());
        assert!(apply_splices("é", &[Splice::delete(1..2)]).is_err());
    }

    #[test]
    fn adjacent_splices_are_fine() {
        assert_eq!(
            apply_splices("abcd", &[Splice::delete(0..2), Splice::replace(2..3, "X")]).unwrap(),
            "Xd"
        );
        assert_eq!(
            apply_splices("ab", &[Splice::insert(1, "1"), Splice::insert(1, "2")]).unwrap(),
            "a12b"
        );
    }

    #[test]
    fn line_ending_follows_the_file() {
        assert_eq!(line_ending("a\r\nb"), "\r\n");
        assert_eq!(line_ending("a\nb\r\n"), "\n");
        assert_eq!(line_ending("a"), "\n");
    }
}
