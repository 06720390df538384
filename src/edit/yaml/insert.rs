//! New nodes: an item appended to a list, a key added to a mapping, a first item under a key
//! with no value; each written in the file's own style beside its siblings.

use yaml_serde::Value;

use super::doc::YamlDoc;
use super::error::YamlError;
use super::lines::{
    blank_between, content_end, end_of_content_line, indent_of_line, is_comment_line, line_at, line_break_before_last,
};
use super::render::{column_of, render_plain_or_quoted};
use super::route::{Route, Seg, scalar_string};
use super::tree::{Item, Node, NodeKind};
use crate::edit::{Splice, line_ending};

impl YamlDoc {
    /// `key:` with no value, and only comment lines (or nothing) under it, becomes a block
    /// list: the item goes after the last comment line indented under the key, at that
    /// comment's column (else two columns in from the key).
    pub(super) fn null_to_list_splice(
        &self,
        root: &Node,
        route: &Route,
        value: &Value,
        comment: Option<&str>,
    ) -> Result<Splice, YamlError> {
        let unsupported = |reason: &str, offset: Option<usize>| YamlError::Unsupported {
            route: route.clone(),
            reason: reason.into(),
            offset,
        };
        let Some((parent_route, Seg::Key(key))) = route.parent() else {
            return Err(YamlError::NotFound { route: route.clone() });
        };
        let parent = parent_route
            .find(root)
            .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let entry = parent
            .get(key)
            .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        if parent.is_flow() || matches!(value, Value::Mapping(_) | Value::Sequence(_)) {
            return Err(unsupported("it has no value to append to", Some(entry.key_range.start)));
        }
        let text = &self.text;
        let eol = line_ending(text);
        let key_line_start = text[..entry.key_range.start].rfind('\n').map_or(0, |i| i + 1);
        let key_col = entry.key_range.start - key_line_start;
        let key_line_end = line_at(text, entry.key_range.start).map_or(text.len(), |r| r.end);
        // Nothing but the colon and a comment may follow the key on its line.
        let rest = text[entry.key_range.end..key_line_end].trim();
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
        if !(rest.is_empty() || rest.starts_with('#')) {
            return Err(unsupported(
                "its value is written on its line (`~` or `null`)",
                Some(entry.key_range.start),
            ));
        }
        let mut at = key_line_end;
        let mut column = None;
        let mut scan = key_line_end;
        while let Some(line) = line_at(text, scan) {
            let content = &text[line.clone()];
            if content.trim().is_empty() {
                scan = line.end;
            } else if is_comment_line(content) && indent_of_line(content) > key_col {
                column = Some(indent_of_line(content));
                at = line.end;
                scan = line.end;
            } else {
                break;
            }
        }
        let column = column.unwrap_or(key_col + 2);
        let lead = line_break_before_last(text, at, eol);
        let style = self.style_beside(None, eol);
        let item = style.render_item(value, column, comment);
        // A file without a final newline keeps not having one.
        let item = if lead.is_empty() {
            item.as_str()
        } else {
            item.trim_end_matches(['\r', '\n'])
        };
        Ok(Splice::insert(at, format!("{lead}{item}")))
    }

    /// The insertion that appends `value` to the list `seq`, and after it `more` (block lists
    /// only).
    pub(super) fn append_splice(
        &self,
        route: &Route,
        seq: &Node,
        (value, comment): (&Value, Option<&str>),
        more: &[(&Value, Option<&str>)],
    ) -> Result<Splice, YamlError> {
        let eol = line_ending(&self.text);
        if seq.kind() != NodeKind::Sequence {
            return Err(YamlError::Unsupported {
                route: route.clone(),
                reason: "it is not a list".into(),
                offset: Some(seq.range().start),
            });
        }
        let items = seq.items();
        if seq.is_flow() {
            if !more.is_empty() {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "several items appended to a flow list at once".into(),
                    offset: Some(seq.range().start),
                });
            }
            if matches!(value, Value::Mapping(_) | Value::Sequence(_)) {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "appending a block to a flow list".into(),
                    offset: Some(seq.range().start),
                });
            }
            let quote = items.iter().filter_map(|i| i.value.as_ref()).find_map(Node::quote);
            let rendered = render_plain_or_quoted(&render_scalar(value), quote);
            let close = seq.range().end.saturating_sub(1);
            if self.text.as_bytes().get(close) != Some(&b']') {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "the flow list does not end with `]`".into(),
                    offset: Some(seq.range().start),
                });
            }
            let last_end = items.last().and_then(|i| i.value.as_ref()).map(|v| v.range().end);
            return Ok(match last_end {
                Some(end) => Splice::insert(end, format!(", {rendered}")),
                None => Splice::insert(close, rendered),
            });
        }
        let Some(last) = items.last() else {
            return Err(YamlError::Unsupported {
                route: route.clone(),
                reason: "the list is empty".into(),
                offset: Some(seq.range().start),
            });
        };
        let dash = last.dash_offset().ok_or_else(|| YamlError::Unsupported {
            route: route.clone(),
            reason: "its items are not block items".into(),
            offset: Some(last.range().start),
        })?;
        let style = self.style_beside(last.value.as_ref(), eol);
        let separator = if items.len() >= 2 && has_blank_line_between(&self.text, &items[items.len() - 2], last) {
            eol
        } else {
            ""
        };
        let at = end_of_content_line(&self.text, &last.syntax);
        let lead = line_break_before_last(&self.text, at, eol);
        let column = column_of(&self.text, dash);
        let mut text = format!("{lead}{separator}{}", style.render_item(value, column, comment));
        // More items appended in a row follow the one before in the same style, with the same
        // spacing: that is what appending them one by one writes.
        for (value, comment) in more {
            text.push_str(separator);
            text.push_str(&style.render_item(value, column, *comment));
        }
        Ok(Splice::insert(at, text))
    }

    pub(super) fn insert_key_splice(
        &self,
        route: &Route,
        map: &Node,
        key: &str,
        value: &Value,
        comment: Option<&str>,
    ) -> Result<Splice, YamlError> {
        let eol = line_ending(&self.text);
        if map.kind() != NodeKind::Mapping || map.is_flow() {
            return Err(YamlError::Unsupported {
                route: route.clone(),
                reason: "keys are only added to block mappings".into(),
                offset: Some(map.range().start),
            });
        }
        if map.get(key).is_some() {
            return Err(YamlError::Unsupported {
                route: route.clone().key(key),
                reason: "the key exists already".into(),
                offset: Some(map.range().start),
            });
        }
        let entries = map.entries();
        let Some(last) = entries.last() else {
            return Err(YamlError::NotFound { route: route.clone() });
        };
        let style = self.style_beside(last.value.as_ref(), eol);
        let separator = if entries.len() >= 2
            && blank_between(
                &self.text,
                content_end(&entries[entries.len() - 2].syntax),
                last.key_range.start,
            ) {
            eol
        } else {
            ""
        };
        let at = end_of_content_line(&self.text, &last.syntax);
        let lead = line_break_before_last(&self.text, at, eol);
        let body = style.render_entry(key, value, column_of(&self.text, last.key_range.start), comment);
        Ok(Splice::insert(at, format!("{lead}{separator}{body}")))
    }
}

fn has_blank_line_between(text: &str, a: &Item, b: &Item) -> bool {
    blank_between(text, content_end(&a.syntax), b.dash_offset().unwrap_or(b.range().start))
}

fn render_scalar(value: &Value) -> String {
    scalar_string(value).unwrap_or_default()
}
