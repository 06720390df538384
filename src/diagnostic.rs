//! Errors a person can act on: what went wrong, where (file:line:col with the
//! source line and a caret), and what to do about it.
//!
//! Planners, the edit layer and discovery return `Diagnostic`s; the CLI edge
//! renders them once (see [`Diagnostic::render`]).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::stack::source::{RelPath, SourceFile, line_col, line_span};

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub snippet: Option<Box<Snippet>>,
    pub help: Vec<String>,
}

/// The place an error points at. Line and column are worked out when shown.
#[derive(Debug, Clone)]
pub struct Snippet {
    pub path: RelPath,
    pub text: Arc<str>,
    pub span: Range<usize>,
    pub label: String,
}

impl Snippet {
    pub fn line_col(&self) -> (usize, usize) {
        line_col(&self.text, self.span.start)
    }
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            snippet: None,
            help: Vec::new(),
        }
    }

    /// Points the error at `span` of `file`.
    pub fn at(mut self, file: &SourceFile, span: Range<usize>, label: impl Into<String>) -> Diagnostic {
        self.snippet = Some(Box::new(Snippet {
            path: file.path.clone(),
            text: file.shared_text(),
            span,
            label: label.into(),
        }));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    /// `path:line:col`, when the error has a place.
    pub fn location(&self) -> Option<String> {
        self.snippet.as_ref().map(|s| {
            let (line, col) = s.line_col();
            format!("{}:{line}:{col}", s.path)
        })
    }

    /// The rustc-style rendering: message, `--> file:line:col`, the source line
    /// with a caret under the span, then `= help:` lines.
    pub fn render(&self, colored: bool) -> String {
        let style = |s: &str, f: fn(console::StyledObject<&str>) -> console::StyledObject<&str>| {
            if colored {
                f(console::style(s)).force_styling(true).to_string()
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        out.push_str(&style("error", |s| s.red().bold()));
        out.push_str(&format!(": {}\n", self.message));
        if let Some(snippet) = &self.snippet {
            let (line, col) = snippet.line_col();
            let gutter = " ".repeat(line.to_string().len());
            out.push_str(&format!(
                "{gutter}{} {}:{line}:{col}\n",
                style("-->", |s| s.blue()),
                snippet.path
            ));
            let line_range = line_span(&snippet.text, snippet.span.start);
            let source_line = snippet.text.get(line_range.clone()).unwrap_or("");
            let source_line = source_line.trim_start_matches('\u{feff}');
            let shown: String = source_line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
            let width = snippet
                .text
                .get(snippet.span.start.min(line_range.end)..snippet.span.end.min(line_range.end))
                .map_or(1, |s| s.chars().count().max(1));
            out.push_str(&format!("{gutter} {}\n", style("|", |s| s.blue())));
            out.push_str(&format!(
                "{} {} {}\n",
                style(&line.to_string(), |s| s.blue()),
                style("|", |s| s.blue()),
                shown
            ));
            let carets = format!("{}{}", " ".repeat(col.saturating_sub(1)), "^".repeat(width));
            let label = if snippet.label.is_empty() {
                String::new()
            } else {
                format!(" {}", snippet.label)
            };
            out.push_str(&format!(
                "{gutter} {} {}{}\n",
                style("|", |s| s.blue()),
                style(&carets, |s| s.red().bold()),
                style(&label, |s| s.red().bold())
            ));
        }
        for help in &self.help {
            let pad = self.snippet.as_ref().map_or(0, |s| s.line_col().0.to_string().len());
            out.push_str(&format!(
                "{} = {}: {help}\n",
                " ".repeat(pad),
                style("help", |s| s.bold())
            ));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location() {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_caret_and_help() {
        let file = SourceFile::from_text(
            RelPath::new("prometheus.yml").unwrap(),
            "scrape_configs:\n  - job_name: x\n     static_configs: []\n",
            0o644,
        );
        let d = Diagnostic::error("mapping values are not allowed here")
            .at(&file, 37..51, "indented one space too far")
            .help("fix the indentation; nothing was written");
        insta::assert_snapshot!(d.render(false), @r"
        error: mapping values are not allowed here
         --> prometheus.yml:3:6
          |
        3 |      static_configs: []
          |      ^^^^^^^^^^^^^^ indented one space too far
          = help: fix the indentation; nothing was written
        ");
        assert_eq!(d.to_string(), "prometheus.yml:3:6: mapping values are not allowed here");
    }
}
