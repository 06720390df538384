//! Errors a person can act on: what went wrong, where (file:line:col with the
//! source line and a caret), and what to do about it.
//!
//! Planners, the edit layer and discovery return `Diagnostic`s; the CLI edge
//! renders them once (see [`Diagnostic::render`]).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::changeset::redact::mask_line;
use crate::stack::source::{RelPath, SourceFile, line_col, line_span};

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// A stable kebab-case id, as findings have (`--format json` errors carry it); `error`
    /// when none was given.
    pub id: Option<&'static str>,
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
            id: None,
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

    /// Gives the error a stable id for programs (`--format json`).
    pub fn id(mut self, id: &'static str) -> Diagnostic {
        self.id = Some(id);
        self
    }

    /// The error as `--format json` prints it: a finding's fields (id, severity, message,
    /// tip, location), secrets masked as in the text.
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "id": self.id.unwrap_or("error"),
            "severity": "error",
            "message": mask_line(&self.message).into_owned(),
        });
        if !self.help.is_empty() {
            let help: Vec<String> = self.help.iter().map(|h| mask_line(h).into_owned()).collect();
            error["tip"] = serde_json::Value::String(help.join("; "));
        }
        if let Some(snippet) = &self.snippet {
            let (line, column) = snippet.line_col();
            error["location"] = serde_json::json!({
                "path": snippet.path.as_str(),
                "line": line,
                "column": column,
            });
        }
        error
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
        out.push_str(&format!(": {}\n", mask_line(&self.message)));
        if let Some(snippet) = &self.snippet {
            let (line, col) = snippet.line_col();
            let gutter = " ".repeat(line.to_string().len());
            out.push_str(&format!(
                "{gutter}{} {}:{line}:{col}\n",
                style("-->", |s| s.blue()),
                snippet.path
            ));
            let (shown, caret_start, caret_width) = shown_line(snippet);
            out.push_str(&format!("{gutter} {}\n", style("|", |s| s.blue())));
            out.push_str(&format!(
                "{} {} {}\n",
                style(&line.to_string(), |s| s.blue()),
                style("|", |s| s.blue()),
                shown
            ));
            let carets = format!("{}{}", " ".repeat(caret_start), "^".repeat(caret_width));
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

/// Source lines longer than this are shown as a window around the span.
const MAX_SHOWN_CHARS: usize = 120;

/// The source line of a snippet as shown: secrets masked, tabs as spaces, a
/// window of a very long line (a minified dashboard); with the caret's start
/// and width in characters of the shown text.
fn shown_line(snippet: &Snippet) -> (String, usize, usize) {
    let text = &snippet.text;
    let range = line_span(text, snippet.span.start);
    let raw = text.get(range.clone()).unwrap_or("");
    let line = raw.trim_start_matches('\u{feff}');
    let base = range.start + (raw.len() - line.len());
    let clamp = |offset: usize| {
        let mut at = offset.saturating_sub(base).min(line.len());
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let (start, end) = (
        clamp(snippet.span.start),
        clamp(snippet.span.end.max(snippet.span.start)),
    );
    let prefix = line.get(..start).unwrap_or("");
    let through = line.get(..end).unwrap_or("");
    // Masking can change lengths; measure the caret on the masked text.
    let masked_prefix = mask_line(prefix).chars().count();
    let masked_through = mask_line(through).chars().count();
    let shown: Vec<char> = mask_line(line)
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let caret = masked_prefix.min(shown.len());
    let width = masked_through.saturating_sub(masked_prefix).max(1);
    if shown.len() <= MAX_SHOWN_CHARS {
        return (shown.into_iter().collect(), caret, width);
    }
    let from = caret.saturating_sub(MAX_SHOWN_CHARS / 3);
    let to = (from + MAX_SHOWN_CHARS).min(shown.len());
    let mut window: String = if from > 0 { "…".into() } else { String::new() };
    window.extend(shown.get(from..to).unwrap_or_default());
    if to < shown.len() {
        window.push('…');
    }
    let caret_in_window = caret - from + usize::from(from > 0);
    let width = width.min(to.saturating_sub(caret)).max(1);
    (window, caret_in_window, width)
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

    #[test]
    fn a_secret_on_the_shown_line_is_masked_and_the_caret_follows() {
        // A plain value runs to the end of the line (it may hold spaces), so the
        // stray `]` is masked with it and the caret stays within the mask.
        let file = SourceFile::from_text(
            RelPath::new("prometheus.yml").unwrap(),
            "basic_auth:\n  password: hunter2 ]\n",
            0o644,
        );
        let d = Diagnostic::error("did not find expected key").at(&file, 32..33, "");
        insta::assert_snapshot!(d.render(false), @r"
        error: did not find expected key
         --> prometheus.yml:2:21
          |
        2 |   password: ********
          |                     ^
        ");
    }

    #[test]
    fn a_very_long_line_is_shown_as_a_window_around_the_span() {
        let line = format!("{}\"broken{}", "x".repeat(500), "y".repeat(500));
        let file = SourceFile::from_text(RelPath::new("d.json").unwrap(), line.as_str(), 0o644);
        let rendered = Diagnostic::error("unterminated string")
            .at(&file, 500..507, "")
            .render(false);
        let shown = rendered.lines().nth(3).unwrap();
        let carets = rendered.lines().nth(4).unwrap();
        assert!(shown.chars().count() < 140, "{shown}");
        assert!(shown.contains("…xxx") && shown.ends_with("yyy…"), "{shown}");
        // The carets sit under `"broken`, in the window.
        let at = carets.find('^').unwrap();
        let under: String = shown.chars().skip(at).take(7).collect();
        assert_eq!(under, "\"broken", "{rendered}");
        assert!(rendered.contains("--> d.json:1:501"), "{rendered}");
    }
}
