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
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = 1 + before.bytes().filter(|&byte| byte == b'\n').count();
    let line_text = &before[line_start..];
    let line_text = match line_start {
        0 => line_text.strip_prefix('\u{feff}').unwrap_or(line_text),
        _ => line_text,
    };
    LineCol {
        line,
        column: 1 + line_text.chars().count(),
    }
}
