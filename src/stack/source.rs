//! Files as read from the stack: a path relative to the stack root, the exact bytes, the mode.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// A path inside the stack, relative to its root, always with `/` separators.
///
/// It cannot name anything outside the root (`..`, absolute paths and empty
/// components are rejected), which is what keeps every write inside the stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelPath(String);

impl RelPath {
    pub fn new(path: impl Into<String>) -> Result<Self, String> {
        let raw: String = path.into();
        let normalized = raw.replace('\\', "/");
        let trimmed = normalized.strip_prefix("./").unwrap_or(&normalized);
        if trimmed.is_empty() {
            return Err("empty path".to_string());
        }
        if trimmed.starts_with('/') {
            return Err(format!("`{raw}` is absolute; paths must be relative to the stack root"));
        }
        let mut parts = Vec::new();
        for part in trimmed.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(format!("`{raw}` leaves the stack root")),
                other => parts.push(other),
            }
        }
        if parts.is_empty() {
            return Err("empty path".to_string());
        }
        Ok(RelPath(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder part, `""` for a file at the root.
    pub fn parent(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    pub fn file_name(&self) -> &str {
        self.0.rsplit_once('/').map_or(&self.0, |(_, name)| name)
    }

    /// `self` joined with a relative path, normalising `.` and `..` inside the root.
    pub fn join_relative(dir: &str, rel: &str) -> Result<RelPath, String> {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        for part in rel.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(format!("`{rel}` leaves the stack root"));
                    }
                }
                other => parts.push(other),
            }
        }
        RelPath::new(parts.join("/"))
    }
}

impl TryFrom<String> for RelPath {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RelPath::new(value)
    }
}

impl From<RelPath> for String {
    fn from(value: RelPath) -> Self {
        value.0
    }
}

/// A file name as git prints it: unchanged when plain, else in double quotes
/// with C escapes (`\n`, `\t`, `\"`, `\\`, `\ooo` for other control bytes),
/// so a newline in a name can neither forge a `+` line in a diff nor move the
/// terminal's cursor. Non-ASCII letters stay as they are (git's
/// `core.quotePath=false`); `git apply` reads both forms.
pub fn quote_path(name: &str) -> std::borrow::Cow<'_, str> {
    let needs = |c: char| c.is_ascii_control() || c == '"' || c == '\\' || (c.is_control() && !c.is_ascii());
    if !name.chars().any(needs) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if needs(c) => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    std::borrow::Cow::Owned(out)
}

impl fmt::Display for RelPath {
    /// Quoted as git quotes names when it holds a control character (see
    /// [`quote_path`]); [`RelPath::as_str`] is the name itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote_path(&self.0))
    }
}

/// One file of the stack exactly as read. Text files only: pullover edits YAML,
/// JSON and Markdown, and refuses anything that is not UTF-8 (with the offset).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: RelPath,
    text: Arc<str>,
    pub mode: u32,
    /// Byte offsets where every [`LINES_PER_MARK`]-th line starts, built on the first
    /// [`SourceFile::line_col`]: a phase locates every query of a big dashboard, and scanning
    /// from the start each time is quadratic. `u32`, as files are capped far below 4 GiB
    /// ([`super::limits`]), and sparse: a big stack keeps one index per dashboard.
    line_starts: Arc<OnceLock<Vec<u32>>>,
}

impl SourceFile {
    pub fn from_text(path: RelPath, text: impl Into<Arc<str>>, mode: u32) -> SourceFile {
        SourceFile {
            path,
            text: text.into(),
            mode,
            line_starts: Arc::default(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past the
    /// end clamp to the end, so a span from any parser can be shown safely.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        // The start of every LINES_PER_MARK-th line: a stack keeps every dashboard's file, and
        // a full table of line starts would cost more than the files' findings need.
        let marks = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .match_indices('\n')
                        .skip(LINES_PER_MARK - 1)
                        .step_by(LINES_PER_MARK)
                        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
                )
                .collect()
        });
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last mark at or before `offset`; `marks[0]` is 0, so there is one.
        let mark = marks.partition_point(|&start| start as usize <= offset).max(1) - 1;
        let mark_start = marks.get(mark).map_or(0, |&start| (start as usize).min(offset));
        let between = &self.text[mark_start..offset];
        let line = mark * LINES_PER_MARK + newlines(between) + 1;
        let line_start = between.rfind('\n').map_or(mark_start, |i| mark_start + i + 1);
        let col = self.text[line_start..offset]
            .trim_start_matches('\u{feff}')
            .chars()
            .count()
            + 1;
        (line, col)
    }
}

/// The line breaks in `text`, counted a byte at a time (which the compiler vectorises; a `str`
/// pattern search does not).
fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// How many lines apart [`SourceFile::line_col`]'s marks are.
const LINES_PER_MARK: usize = 32;

/// 1-based line and column (in characters) of `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = newlines(before) + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].trim_start_matches('\u{feff}').chars().count() + 1;
    (line, col)
}

/// Byte range of the line holding `offset`, without its line break.
pub fn line_span(text: &str, offset: usize) -> Range<usize> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    };
    start..end
}

/// Byte offset of the start of 1-based `line` (clamped to the text).
pub fn offset_of_line(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_places_every_offset_as_a_scan_from_the_start_does() {
        let text = "\u{feff}a: 1\r\nb: \"é€\"\n\n  - x\nlast";
        let file = SourceFile::from_text(RelPath::new("f.yml").unwrap(), text, 0o644);
        for offset in 0..=text.len() + 3 {
            assert_eq!(file.line_col(offset), line_col(text, offset), "offset {offset}");
        }
    }

    proptest::proptest! {
        /// Past the marks too: files of many short lines, multi-byte characters and CRLF.
        #[test]
        fn the_sparse_line_index_agrees_with_a_scan_from_the_start(
            lines in proptest::collection::vec("[a é€\r]{0,4}", 0..200),
            probes in proptest::collection::vec(0usize..2000, 1..40),
        ) {
            let text = lines.join("\n");
            let file = SourceFile::from_text(RelPath::new("f.yml").unwrap(), text.as_str(), 0o644);
            for offset in probes {
                proptest::prop_assert_eq!(file.line_col(offset), line_col(&text, offset), "offset {}", offset);
            }
        }
    }

    #[test]
    fn rel_paths_stay_inside_the_root() {
        assert_eq!(RelPath::new("./a//b/./c.yml").unwrap().as_str(), "a/b/c.yml");
        assert!(RelPath::new("../etc/passwd").is_err());
        assert!(RelPath::new("a/../../b").is_err());
        assert!(RelPath::new("/etc/passwd").is_err());
        assert!(RelPath::new("").is_err());
        assert_eq!(
            RelPath::join_relative("prometheus", "rules/a.yml").unwrap().as_str(),
            "prometheus/rules/a.yml"
        );
        assert_eq!(
            RelPath::join_relative("prometheus", "../b.yml").unwrap().as_str(),
            "b.yml"
        );
        assert!(RelPath::join_relative("prometheus", "../../b.yml").is_err());
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "ab\ncé d\r\nx";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 6), (2, 3)); // after "cé" (é is 2 bytes)
        assert_eq!(line_col(text, 999), (3, 2));
        assert_eq!(&text[line_span(text, 4)], "cé d");
        assert_eq!(offset_of_line(text, 3), 10);
    }
}
