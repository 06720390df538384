//! Files of several YAML documents (`---` between them), as Kubernetes manifests are kept.
//!
//! The stream is cut at its document markers into byte ranges, each read as its own
//! [`YamlDoc`]; an edit to one document is an edit to its range, so every byte of the other
//! documents, the markers and the comments between them stays as it is. A marker is a line
//! that starts with `---` followed by nothing, a space, a tab or a comment: inside a block
//! scalar such a line would have to be indented, so it is never content. See
//! `docs/kubernetes.md` ("How manifests are edited").

use std::ops::Range;

use super::doc::YamlDoc;
use super::error::YamlError;

/// One document of a stream: its bytes in the file (its own `---` line included) and the
/// document read from them.
#[derive(Debug, Clone)]
pub struct StreamDoc {
    pub range: Range<usize>,
    pub doc: YamlDoc,
}

/// A YAML file of one or more documents.
#[derive(Debug, Clone)]
pub struct YamlStream {
    text: String,
    docs: Vec<StreamDoc>,
}

impl YamlStream {
    /// Reads every document; an error's offset is the file's.
    pub fn parse(text: &str) -> Result<YamlStream, YamlError> {
        let mut docs = Vec::new();
        for range in document_ranges(text) {
            let doc = YamlDoc::parse(&text[range.clone()]).map_err(|error| shifted(error, range.start))?;
            docs.push(StreamDoc { range, doc });
        }
        Ok(YamlStream {
            text: text.to_string(),
            docs,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The documents, empty ones (only comments or a marker) included, in file order.
    pub fn docs(&self) -> &[StreamDoc] {
        &self.docs
    }

    /// The file with the documents at the given indexes replaced by new text (`""` removes
    /// one, its marker line with it). Every other byte stays; the result is read again and
    /// must have the same documents, the replaced ones as given. When the first documents go,
    /// the marker of the one that is now first goes too (a comment on it stays), unless the
    /// file started with a marker of its own: a file is written as it was begun.
    pub fn replace_docs(&self, replaced: &[(usize, String)]) -> Result<String, YamlError> {
        let mut pieces: Vec<&str> = self.docs.iter().map(|d| &self.text[d.range.clone()]).collect();
        for (index, text) in replaced {
            let Some(piece) = pieces.get_mut(*index) else {
                return Err(YamlError::Syntax {
                    message: format!("there is no document {index} in this file"),
                    offset: 0,
                });
            };
            *piece = text;
        }
        let begun_with_marker = self.text.split_inclusive('\n').next().is_some_and(is_marker);
        let first_left = pieces.iter().position(|p| !p.is_empty());
        let mut out = String::with_capacity(self.text.len());
        for (index, piece) in pieces.iter().enumerate() {
            if Some(index) == first_left && index > 0 && !begun_with_marker {
                out.push_str(&without_marker(piece));
            } else {
                out.push_str(piece);
            }
        }
        YamlStream::parse(&out)?;
        Ok(out)
    }
}

/// A document's text without its marker line; a comment after the marker stays, on its own.
fn without_marker(text: &str) -> String {
    let Some(first) = text.split_inclusive('\n').next().filter(|line| is_marker(line)) else {
        return text.to_string();
    };
    let rest = &text[first.len()..];
    let comment = first[3..].trim_start_matches([' ', '\t']);
    if comment.starts_with('#') {
        format!("{comment}{rest}")
    } else {
        rest.to_string()
    }
}

/// Where each document starts and ends: at the start of its marker line (the first one at 0).
pub fn document_ranges(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if line_start > 0 && is_marker(line) {
            starts.push(line_start);
        }
        line_start += line.len();
    }
    // A file that starts with its marker has no document before it.
    let mut ranges: Vec<Range<usize>> = starts
        .windows(2)
        .map(|pair| pair[0]..pair[1])
        .chain(starts.last().map(|&start| start..text.len()))
        .collect();
    if ranges.len() > 1 && ranges[0].is_empty() {
        ranges.remove(0);
    }
    ranges
}

fn is_marker(line: &str) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    match line.strip_prefix("---") {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
}

fn shifted(error: YamlError, by: usize) -> YamlError {
    match error {
        YamlError::Syntax { message, offset } => YamlError::Syntax {
            message,
            offset: offset + by,
        },
        YamlError::Unsupported { route, reason, offset } => YamlError::Unsupported {
            route,
            reason,
            offset: offset.map(|o| o + by),
        },
        YamlError::AnchorInUse {
            route,
            anchor,
            alias_line,
            offset,
        } => YamlError::AnchorInUse {
            route,
            anchor,
            alias_line,
            offset: offset + by,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFESTS: &str = "# leading comment\napiVersion: v1\nkind: Service\n---\n# second\napiVersion: v1\nkind: ConfigMap\ndata:\n  a.json: |\n    {\"x\": 1}\n--- # third\nkind: Secret\n";

    #[test]
    fn cuts_at_markers_and_reads_each_document() {
        let stream = YamlStream::parse(MANIFESTS).unwrap();
        let kinds: Vec<_> = stream
            .docs()
            .iter()
            .map(|d| {
                d.doc
                    .value()
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(kinds, ["Service", "ConfigMap", "Secret"]);
        let joined: String = stream.docs().iter().map(|d| &MANIFESTS[d.range.clone()]).collect();
        assert_eq!(joined, MANIFESTS);
    }

    #[test]
    fn a_leading_marker_and_crlf() {
        let text = "---\r\na: 1\r\n---\r\nb: 2\r\n";
        let ranges = document_ranges(text);
        assert_eq!(ranges, vec![0..11, 11..text.len()]);
    }

    #[test]
    fn replacing_one_document_keeps_every_other_byte() {
        let stream = YamlStream::parse(MANIFESTS).unwrap();
        let second = stream.docs()[1].range.clone();
        let out = stream.replace_docs(&[(1, String::new())]).unwrap();
        assert_eq!(
            out,
            format!("{}{}", &MANIFESTS[..second.start], &MANIFESTS[second.end..])
        );
    }

    #[test]
    fn removing_the_first_documents_leaves_no_marker_the_file_did_not_begin_with() {
        let stream = YamlStream::parse(MANIFESTS).unwrap();
        let out = stream.replace_docs(&[(0, String::new())]).unwrap();
        assert_eq!(
            out,
            "# second\napiVersion: v1\nkind: ConfigMap\ndata:\n  a.json: |\n    {\"x\": 1}\n--- # third\nkind: Secret\n"
        );
        // A marker with a comment: the comment stays, as the first line.
        let out = stream.replace_docs(&[(0, String::new()), (1, String::new())]).unwrap();
        assert_eq!(out, "# third\nkind: Secret\n");
        // A file begun with a marker keeps beginning with one.
        let text = "---\r\na: 1\r\n---\r\nb: 2\r\n";
        let out = YamlStream::parse(text)
            .unwrap()
            .replace_docs(&[(0, String::new())])
            .unwrap();
        assert_eq!(out, "---\r\nb: 2\r\n");
    }

    #[test]
    fn an_error_names_the_offset_in_the_file() {
        let text = "a: 1\n---\nb: [1\n";
        let error = YamlStream::parse(text).unwrap_err();
        assert!(error.offset().unwrap() >= 5, "{error:?}");
    }
}
