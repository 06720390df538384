//! Writes new YAML in the style of its neighbours: their indentation, their
//! `- ` placement, their quoting, flow or block lists.

use std::collections::HashMap;

use yaml_serde::Value;

use super::quoted::double_quoted;
use super::tree::{Node, NodeKind};
use crate::stack::source::line_col;

/// How a file writes things, learnt from the node a new one will sit beside.
#[derive(Debug, Clone)]
pub struct Style {
    /// Spaces a nested mapping is indented by.
    pub indent: usize,
    /// Whether block sequence items are indented under their key
    /// (`key:\n  - a`) or not (`key:\n- a`).
    pub indent_sequences: bool,
    /// Quote for strings when the file's neighbours quote them.
    pub default_quote: Option<char>,
    pub eol: &'static str,
    /// Per key path below the sibling (`static_configs.targets`): how its value
    /// is written there.
    hints: HashMap<String, Hint>,
    /// Per key name anywhere in the file (`scrape_interval`).
    by_name: HashMap<String, Hint>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Hint {
    quote: Option<char>,
    flow: bool,
}

impl Style {
    pub fn plain(eol: &'static str) -> Style {
        Style {
            indent: 2,
            indent_sequences: true,
            default_quote: None,
            eol,
            hints: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    /// Learns how the file writes things: indentation from the whole text, quoting per key
    /// name from the whole document `root`, and a default quote only when the file quotes
    /// nearly every string that could be plain.
    pub fn of_document(text: &str, root: Option<&Node>, eol: &'static str) -> Style {
        let mut style = Style::plain(eol);
        style.indent = detect_indent(text).unwrap_or(2);
        style.indent_sequences = detect_sequence_indent(text).unwrap_or(true);
        if let Some(root) = root {
            let mut by_path = HashMap::new();
            let mut quotes = Vec::new();
            collect_hints(root, "", &mut by_path, &mut quotes);
            for (path, hint) in by_path {
                let name = path.rsplit('.').next().unwrap_or(&path).to_string();
                style.by_name.entry(name).or_insert(hint);
            }
            let quoted: Vec<char> = quotes.iter().flatten().copied().collect();
            if !quotes.is_empty() && quoted.len() * 5 >= quotes.len() * 4 {
                let double = quoted.iter().filter(|q| **q == '"').count();
                style.default_quote = Some(if double * 2 >= quoted.len() { '"' } else { '\'' });
            }
        }
        style
    }

    /// The document's style with quoting per key path learnt from `sibling`, the node the new
    /// one will sit beside.
    pub fn beside(mut self, sibling: Option<&Node>) -> Style {
        self.hints.clear();
        if let Some(node) = sibling {
            collect_hints(node, "", &mut self.hints, &mut Vec::new());
        }
        self
    }

    fn hint(&self, path: &str) -> Hint {
        let name = path.rsplit('.').next().unwrap_or(path);
        self.hints
            .get(path)
            .or_else(|| self.by_name.get(name))
            .copied()
            .unwrap_or(Hint {
                quote: self.default_quote,
                flow: false,
            })
    }

    /// Renders `value` as the content of a block sequence item whose dash is at
    /// `dash_col` (0-based). Returns whole lines, each ending with the file's line break.
    pub fn render_item(&self, value: &Value, dash_col: usize, comment: Option<&str>) -> String {
        let pad = " ".repeat(dash_col);
        let mut out = String::new();
        if let Some(comment) = comment {
            out.push_str(&format!("{pad}# {comment}{}", self.eol));
        }
        match value {
            Value::Mapping(_) => {
                let body = self.render_mapping_lines(value, dash_col + 2, "");
                // First line goes after the dash.
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(body.trim_start_matches(' '));
            }
            _ => {
                out.push_str(&format!("{pad}- {}{}", self.scalar_or_flow(value, ""), self.eol));
            }
        }
        out
    }

    /// Renders `key: value` at column `col` (0-based), as whole lines.
    pub fn render_entry(&self, key: &str, value: &Value, col: usize, comment: Option<&str>) -> String {
        let mut out = String::new();
        if let Some(comment) = comment {
            out.push_str(&format!("{}# {comment}{}", " ".repeat(col), self.eol));
        }
        let mut single = yaml_serde::Mapping::new();
        single.insert(Value::String(key.to_string()), value.clone());
        out.push_str(&self.render_mapping_lines(&Value::Mapping(single), col, ""));
        out
    }

    fn render_mapping_lines(&self, value: &Value, col: usize, path: &str) -> String {
        let Value::Mapping(map) = value else {
            return String::new();
        };
        let pad = " ".repeat(col);
        let mut out = String::new();
        for (k, v) in map {
            let key = render_plain_or_quoted(&scalar_text(k), None);
            let child_path = if path.is_empty() {
                scalar_text(k)
            } else {
                format!("{path}.{}", scalar_text(k))
            };
            match v {
                Value::Mapping(m) if !m.is_empty() => {
                    out.push_str(&format!("{pad}{key}:{}", self.eol));
                    out.push_str(&self.render_mapping_lines(v, col + self.indent, &child_path));
                }
                Value::Sequence(seq) if !seq.is_empty() && !self.render_flow(seq, &child_path) => {
                    out.push_str(&format!("{pad}{key}:{}", self.eol));
                    let dash_col = if self.indent_sequences { col + self.indent } else { col };
                    for item in seq {
                        if let Value::Mapping(_) = item {
                            let body = self.render_mapping_lines(item, dash_col + 2, &child_path);
                            out.push_str(&format!("{}- {}", " ".repeat(dash_col), body.trim_start_matches(' ')));
                        } else {
                            out.push_str(&format!(
                                "{}- {}{}",
                                " ".repeat(dash_col),
                                self.scalar_or_flow(item, &child_path),
                                self.eol
                            ));
                        }
                    }
                }
                Value::String(s) if literal_block_fits(s) => {
                    // Text of several lines (a rule file inside a ConfigMap) reads as it will be
                    // read: a literal block, `|-` when it has no final line break.
                    let chomp = if s.ends_with('\n') { "" } else { "-" };
                    out.push_str(&format!("{pad}{key}: |{chomp}{}", self.eol));
                    let inner = " ".repeat(col + self.indent);
                    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                        if line.is_empty() {
                            out.push_str(self.eol);
                        } else {
                            out.push_str(&format!("{inner}{line}{}", self.eol));
                        }
                    }
                }
                _ => out.push_str(&format!(
                    "{pad}{key}: {}{}",
                    self.scalar_or_flow(v, &child_path),
                    self.eol
                )),
            }
        }
        out
    }

    fn render_flow(&self, seq: &[Value], path: &str) -> bool {
        self.hint(path).flow && seq.iter().all(|v| !matches!(v, Value::Mapping(_) | Value::Sequence(_)))
    }

    fn scalar_or_flow(&self, value: &Value, path: &str) -> String {
        match value {
            Value::Sequence(seq) => {
                let items: Vec<String> = seq.iter().map(|v| self.scalar_or_flow(v, path)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Mapping(m) if m.is_empty() => "{}".to_string(),
            Value::String(s) => render_plain_or_quoted(s, self.hint(path).quote),
            Value::Null => "null".to_string(),
            other => scalar_text(other),
        }
    }
}

/// Whether `s` reads back exactly from a literal block with no indentation indicator: several
/// lines, none starting with a space (the first would set the indentation), no tab or other
/// control character, no carriage return, at most one final line break, no trailing spaces.
fn literal_block_fits(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\n'])
        && !body.chars().any(|c| c.is_control() && c != '\n')
        && body.split('\n').all(|line| !line.ends_with(' '))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        _ => String::new(),
    }
}

/// Quotes `s` with `quote` when given, or when it could not be read back as
/// the same plain string.
pub fn render_plain_or_quoted(s: &str, quote: Option<char>) -> String {
    match quote {
        Some('\'') if !s.contains(['\n', '\r']) => format!("'{}'", s.replace('\'', "''")),
        Some(_) => double_quoted(s),
        None if needs_quotes(s) => double_quoted(s),
        None => s.to_string(),
    }
}

/// Whether a string written plain would read back as something else (a
/// number, a bool, null, a structure) or not parse at all.
pub fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
    ) {
        return true;
    }
    if s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o") || s.starts_with('.') {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains(['\n', '\r', '\t'])
        || s.contains(['{', '}', '[', ']', ','])
}

fn collect_hints(node: &Node, path: &str, hints: &mut HashMap<String, Hint>, quotes: &mut Vec<Option<char>>) {
    match node.kind() {
        NodeKind::Mapping => {
            for entry in node.entries() {
                let child = if path.is_empty() {
                    entry.key.clone()
                } else {
                    format!("{path}.{}", entry.key)
                };
                if let Some(value) = &entry.value {
                    if value.kind() == NodeKind::Scalar && !value.is_block_scalar() {
                        if value.scalar().is_some_and(|s| !needs_quotes(&s)) {
                            quotes.push(value.quote());
                        }
                        hints.entry(child.clone()).or_insert(Hint {
                            quote: value.quote(),
                            flow: false,
                        });
                    }
                    collect_hints(value, &child, hints, quotes);
                }
            }
        }
        NodeKind::Sequence => {
            let flow = node.is_flow();
            let first_scalar_quote = node
                .items()
                .iter()
                .filter_map(|it| it.value.clone())
                .find(|v| v.kind() == NodeKind::Scalar)
                .map(|v| v.quote());
            let hint = hints.entry(path.to_string()).or_default();
            hint.flow = flow;
            if let Some(q) = first_scalar_quote {
                hint.quote = q;
            }
            for item in node.items() {
                if let Some(value) = &item.value {
                    if value.kind() == NodeKind::Scalar && value.scalar().is_some_and(|s| !needs_quotes(&s)) {
                        quotes.push(value.quote());
                    }
                    collect_hints(value, path, hints, quotes);
                }
            }
        }
        _ => {}
    }
}

/// The most common indentation step between a key and its nested block mapping.
fn detect_indent(text: &str) -> Option<usize> {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    let mut prev: Option<(usize, bool)> = None; // (indent, ends with ':')
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.trim().is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        // Lines starting a block item count from the content after `- `.
        let (indent, content) = match trimmed.strip_prefix("- ") {
            Some(rest) => (indent + 2, rest),
            None => (indent, trimmed),
        };
        if let Some((p, opens)) = prev
            && opens
            && indent > p
            && !trimmed.starts_with("- ")
        {
            *counts.entry(indent - p).or_default() += 1;
        }
        let opens = content.trim_end_matches('\r').trim_end().ends_with(':');
        prev = Some((indent, opens));
    }
    counts
        .into_iter()
        .max_by_key(|(step, n)| (*n, std::cmp::Reverse(*step)))
        .map(|(step, _)| step)
}

/// Whether block sequences are indented under their key, by majority.
fn detect_sequence_indent(text: &str) -> Option<bool> {
    let (mut indented, mut flush) = (0, 0);
    let mut prev_key_indent: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.trim().is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(key_indent) = prev_key_indent
            && (trimmed.starts_with("- ") || trimmed.trim_end() == "-")
        {
            if indent > key_indent {
                indented += 1;
            } else if indent == key_indent {
                flush += 1;
            }
        }
        let content = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let content_indent = if trimmed.starts_with("- ") { indent + 2 } else { indent };
        prev_key_indent = content.trim_end().ends_with(':').then_some(content_indent);
    }
    if indented + flush == 0 {
        None
    } else {
        Some(indented >= flush)
    }
}

/// 0-based column of a byte offset.
pub fn column_of(text: &str, offset: usize) -> usize {
    line_col(text, offset).1.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_quoted_only_when_they_would_change_meaning() {
        assert_eq!(render_plain_or_quoted("metrics-api:8080", None), "metrics-api:8080");
        assert_eq!(render_plain_or_quoted("30s", None), "30s");
        assert_eq!(render_plain_or_quoted("/metrics", None), "/metrics");
        assert_eq!(render_plain_or_quoted("true", None), "\"true\"");
        assert_eq!(render_plain_or_quoted("8080", None), "\"8080\"");
        assert_eq!(render_plain_or_quoted("a: b", None), "\"a: b\"");
        assert_eq!(render_plain_or_quoted("it's", Some('\'')), "'it''s'");
    }

    #[test]
    fn indentation_is_learnt_from_the_file() {
        assert_eq!(detect_indent("a:\n    b: 1\n    c:\n        d: 2\n"), Some(4));
        assert_eq!(detect_indent("a:\n  b: 1\n"), Some(2));
        assert_eq!(detect_sequence_indent("a:\n- x\n- y\nb:\n- z\n"), Some(false));
        assert_eq!(detect_sequence_indent("a:\n  - x\n"), Some(true));
    }

    #[test]
    fn text_of_several_lines_is_written_as_a_literal_block() {
        let mut map = yaml_serde::Mapping::new();
        map.insert(
            "rules.yml".into(),
            Value::String("groups:\n  - name: a\n\n    rules: []\n".into()),
        );
        let text = Style::plain("\n").render_entry("data", &Value::Mapping(map), 0, None);
        assert_eq!(
            text,
            "data:\n  rules.yml: |\n    groups:\n      - name: a\n\n        rules: []\n"
        );
        assert!(!literal_block_fits("  leading space\nsecond"));
        assert!(!literal_block_fits("two finals\n\n"));
        assert!(!literal_block_fits("one line\n"));
        assert!(literal_block_fits("a\nb"));
    }
}
