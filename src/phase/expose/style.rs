//! The file's own style, so inserted code reads as its author's: indentation
//! unit, quote character, semicolons, line ending.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// One level of indentation (`"  "`, `"    "`, `"\t"`).
    pub unit: String,
    pub quote: char,
    /// Statements end with `;` (JavaScript).
    pub semicolons: bool,
    pub newline: &'static str,
}

impl Style {
    /// Reads the style of `text`; `default_unit` where nothing is indented.
    pub fn of(text: &str, default_unit: &str) -> Style {
        let mut unit: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('*') {
                continue;
            }
            let lead = &line[..line.len() - trimmed.len()];
            if lead.starts_with('\t') {
                unit = Some("\t".to_string());
                break;
            }
            if !lead.is_empty() && unit.as_ref().is_none_or(|u| lead.len() < u.len()) {
                unit = Some(lead.to_string());
            }
        }
        let singles = text.matches('\'').count();
        let doubles = text.matches('"').count();
        let statements = text
            .lines()
            .map(str::trim_end)
            .filter(|l| l.ends_with(')') || l.ends_with(");"))
            .count();
        let with_semicolon = text.lines().filter(|l| l.trim_end().ends_with(");")).count();
        Style {
            unit: unit.unwrap_or_else(|| default_unit.to_string()),
            quote: if singles > doubles { '\'' } else { '"' },
            semicolons: with_semicolon * 2 >= statements && with_semicolon > 0,
            newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }

    /// `lines` (written with `'` quotes, `;` ends and two-space levels written as `\u{1}`),
    /// each prefixed with `indent`, in this style.
    pub fn render(&self, indent: &str, lines: &[&str]) -> String {
        let mut out = String::new();
        for line in lines {
            let mut line = line.replace('\u{1}', &self.unit);
            if self.quote != '\'' {
                line = line.replace('\'', &self.quote.to_string());
            }
            if !self.semicolons
                && let Some(stripped) = line.strip_suffix(';')
            {
                line = stripped.to_string();
            }
            out.push_str(indent);
            out.push_str(&line);
            out.push_str(self.newline);
        }
        out
    }
}

/// The indentation of the line `offset` is on.
pub fn indent_at(text: &str, offset: usize) -> &str {
    let start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line = text.get(start..).unwrap_or("");
    let trimmed = line.trim_start_matches([' ', '\t']);
    &line[..line.len() - trimmed.len()]
}

/// The offset just after the line `offset` is on (after its newline).
pub fn next_line_start(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| offset + i + 1)
}

/// The indentation of the first non-blank line at or after `offset`.
pub fn indent_of_next_line(text: &str, offset: usize) -> Option<&str> {
    let mut at = offset;
    while at < text.len() {
        let end = next_line_start(text, at);
        let line = text.get(at..end)?;
        if !line.trim().is_empty() {
            return Some(indent_at(text, at));
        }
        at = end;
    }
    None
}

/// `text` with each `(offset, text)` inserted (offsets in the text as it was).
pub fn insert_all(text: &str, mut edits: Vec<(usize, String)>) -> String {
    edits.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(text.len() + edits.iter().map(|(_, t)| t.len()).sum::<usize>());
    let mut last = 0;
    for (at, added) in edits {
        out.push_str(text.get(last..at).unwrap_or(""));
        out.push_str(&added);
        last = at;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_follows_the_file() {
        let js = "const a = require(\"x\")\nfunction f() {\n    g(\"y\")\n}\n";
        let style = Style::of(js, "  ");
        assert_eq!(style.unit, "    ");
        assert_eq!(style.quote, '"');
        assert!(!style.semicolons);
        assert_eq!(
            style.render("", &["if (a) {", "\u{1}b('c');", "}"]),
            "if (a) {\n    b(\"c\")\n}\n"
        );
        let seed = "const a = require('x');\nfunction f() {\n  g('y');\n}\n";
        let style = Style::of(seed, "    ");
        assert_eq!((style.unit.as_str(), style.quote, style.semicolons), ("  ", '\'', true));
    }
}
