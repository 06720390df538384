//! Files of several YAML documents (`---` between them), as Kubernetes manifests are kept.
//!
//! The stream is cut at its document markers into byte ranges, each read as its own
//! [`YamlDoc`]; an edit to one document is an edit to its range, so every byte of the other
//! documents, the markers and the comments between them stays as it is. A marker is a line
//! that starts with `---` followed by nothing, a space, a tab or a comment: inside a block
//! scalar such a line would have to be indented, so it is never content. See
//! `docs/kubernetes.md` ("How manifests are edited").

use std::ops::Range;

use super::{YamlDoc, YamlError};

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
    /// must have the same documents, the replaced ones as given.
    pub fn replace_docs(&self, replaced: &[(usize, String)]) -> Result<String, YamlError> {
        let mut out = String::with_capacity(self.text.len());
        let mut copied_to = 0;
        let mut order: Vec<&(usize, String)> = replaced.iter().collect();
        order.sort_by_key(|(index, _)| *index);
        for (index, text) in order {
            let Some(doc) = self.docs.get(*index) else {
                return Err(YamlError::Syntax {
                    message: format!("there is no document {index} in this file"),
                    offset: 0,
                });
            };
            out.push_str(&self.text[copied_to..doc.range.start]);
            out.push_str(text);
            copied_to = doc.range.end;
        }
        out.push_str(&self.text[copied_to..]);
        YamlStream::parse(&out)?;
        Ok(out)
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
    fn an_error_names_the_offset_in_the_file() {
        let text = "a: 1\n---\nb: [1\n";
        let error = YamlStream::parse(text).unwrap_err();
        assert!(error.offset().unwrap() >= 5, "{error:?}");
    }
}
