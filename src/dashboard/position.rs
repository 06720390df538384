//! Byte offsets to the line and column a person sees in an editor.

use std::fmt;

/// 1-based line and column. The column counts characters (not bytes) from the start of the line;
/// a BOM at the start of the file is not counted, as editors do not show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where byte `offset` of `source` is. Offsets past the end point just after the last character;
/// an offset inside a multi-byte character points at that character.
pub fn line_col(source: &str, offset: usize) -> LineCol {
    let (line, column) = crate::stack::source::line_col(source, offset);
    LineCol { line, column }
}
