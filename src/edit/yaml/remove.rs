//! Removals: whole lines of an entry or item with the comments that belong to it, a collection
//! the removal empties, and never an anchor something else still uses.

use std::ops::Range;

use yaml_edit::SyntaxKind;

use super::doc::YamlDoc;
use super::error::YamlError;
use super::lines::{end_of_content_line, indent_of_line, is_comment_line, line_at, removed_lines};
use super::route::{self, ItemMatch, Route, Seg};
use super::tree::{self, Node, NodeKind, SyntaxNode};
use crate::edit::Splice;
use crate::stack::source::line_col;

impl YamlDoc {
    /// The lines of the only item of a block list, and nothing around them.
    pub(super) fn only_item_splice(&self, root: &Node, route: &Route) -> Result<Splice, YamlError> {
        let unsupported = |reason: &str, offset: Option<usize>| YamlError::Unsupported {
            route: route.clone(),
            reason: reason.into(),
            offset,
        };
        let Some((parent_route, Seg::Item(m))) = route.parent() else {
            return Err(YamlError::NotFound { route: route.clone() });
        };
        let seq = parent_route
            .find(root)
            .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let items = seq.items();
        let index = route::item_index_in_tree(&seq, m).ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let (Some(item), 1) = (items.get(index), items.len()) else {
            return Err(unsupported(
                "it is not the only item of its list",
                Some(seq.range().start),
            ));
        };
        let dash = item
            .dash_offset()
            .filter(|_| !seq.is_flow())
            .ok_or_else(|| unsupported("it is not a block list item", Some(item.range().start)))?;
        let text = &self.text;
        let line_start = text[..dash].rfind('\n').map_or(0, |i| i + 1);
        if !text[line_start..dash].chars().all(|c| c == ' ' || c == '\t') {
            return Err(unsupported("it shares its line with other content", Some(dash)));
        }
        let end = end_of_content_line(text, &item.syntax);
        Ok(Splice::delete(removed_lines(text, line_start..end)))
    }

    /// The route actually removed: `route` itself, or the key or item holding
    /// its collection when `route` is that collection's only child
    /// (`depends_on: [pushgateway]` → `depends_on`). One level only: a removal
    /// that would empty a mapping further up (a service left with no keys) is
    /// refused rather than guessed at.
    pub(super) fn effective_removal(&self, root: &Node, route: &Route) -> Result<Route, YamlError> {
        let mut current = route.clone();
        loop {
            let Some((parent_route, _)) = current.parent() else {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "it would remove the whole document".into(),
                    offset: None,
                });
            };
            let parent = parent_route.find(root).ok_or_else(|| YamlError::NotFound {
                route: parent_route.clone(),
            })?;
            let siblings = match parent.kind() {
                NodeKind::Mapping => parent.entries().len(),
                NodeKind::Sequence => parent.items().len(),
                _ => 0,
            };
            if siblings > 1 {
                return Ok(current);
            }
            if parent_route.0.is_empty() {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "it is the only key of the document, which would be left empty".into(),
                    offset: Some(parent.range().start),
                });
            }
            if &current != route {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: format!("it would leave `{parent_route}` empty"),
                    offset: Some(parent.range().start),
                });
            }
            current = parent_route;
        }
    }

    pub(super) fn removal_splice(&self, root: &Node, route: &Route) -> Result<Splice, YamlError> {
        let (parent_route, seg) = route
            .parent()
            .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let parent = parent_route.find(root).ok_or_else(|| YamlError::NotFound {
            route: parent_route.clone(),
        })?;
        let children: Vec<SyntaxNode> = match parent.kind() {
            NodeKind::Mapping => parent.entries().into_iter().map(|e| e.syntax).collect(),
            NodeKind::Sequence => parent.items().into_iter().map(|i| i.syntax).collect(),
            _ => Vec::new(),
        };
        let index = match seg {
            Seg::Key(key) => parent.entries().iter().position(|e| &e.key == key),
            Seg::Item(m) => route::item_index_in_tree(&parent, m),
        }
        .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let target = children
            .get(index)
            .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
        let splice = if parent.is_flow() {
            let core = |n: &SyntaxNode| core_range(n);
            let range = match (index, children.get(index + 1)) {
                (_, Some(next)) => core(target).start..core(next).start,
                (i, None) if i > 0 => match children.get(i - 1) {
                    Some(previous) => core(previous).end..core(target).end,
                    None => core(target),
                },
                _ => core(target),
            };
            Splice::delete(range)
        } else {
            self.block_removal(route, tree::range_of(target), children.get(index + 1))?
        };
        self.check_anchors_survive(route, &splice.range)?;
        Ok(splice)
    }

    /// Refuses a removal that takes an anchor (`&common`) another part of the
    /// file still refers to (`*common`): the result would not parse.
    fn check_anchors_survive(&self, route: &Route, removed: &Range<usize>) -> Result<(), YamlError> {
        let marks = self.anchor_marks();
        for (i, mark) in marks.iter().enumerate() {
            let tree::AnchorMark::Alias { name, offset } = mark else {
                continue;
            };
            if removed.contains(offset) {
                continue;
            }
            // An alias refers to the closest anchor of that name before it.
            let defined_at = marks[..i].iter().rev().find_map(|m| match m {
                tree::AnchorMark::Anchor { name: n, offset } if n == name => Some(*offset),
                _ => None,
            });
            if let Some(anchor) = defined_at
                && removed.contains(&anchor)
            {
                return Err(YamlError::AnchorInUse {
                    route: route.clone(),
                    anchor: name.clone(),
                    alias_line: line_col(&self.text, *offset).0,
                    offset: anchor,
                });
            }
        }
        Ok(())
    }

    /// Whole lines of a block entry or item, its attached leading comments,
    /// comment lines indented under it that follow it, and one blank line when
    /// it sat between two. The first key of a list item (`- job_name: x`)
    /// shares its line with the dash: the next key moves up to take its place.
    fn block_removal(
        &self,
        route: &Route,
        node: Range<usize>,
        next_sibling: Option<&SyntaxNode>,
    ) -> Result<Splice, YamlError> {
        let text = &self.text;
        let line_start = text[..node.start].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &text[line_start..node.start];
        if !prefix.chars().all(|c| c == ' ' || c == '\t' || c == '\u{feff}') {
            return self.first_key_removal(route, node, prefix, next_sibling);
        }
        let indent = node.start - line_start;
        // The node's range ends after its last line break, or mid-line at EOF.
        let mut end = node.end.min(text.len());
        if end > node.start && text.as_bytes().get(end - 1) != Some(&b'\n') {
            let rest_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            let rest = text[end..rest_end].trim();
            if !(rest.is_empty() || rest.starts_with('#')) {
                return Err(YamlError::Unsupported {
                    route: route.clone(),
                    reason: "more content follows it on the same line".into(),
                    offset: Some(node.start),
                });
            }
            end = rest_end;
        }
        // Comment lines indented deeper than the node that follow it are its own (a commented-out
        // setting); blank lines between them go with them. A prose comment there heads what
        // follows (`# exporters` above the next jobs): it and what comes after it stay.
        let mut scan = end;
        while let Some(line) = line_at(text, scan) {
            let content = &text[line.clone()];
            if content.trim().is_empty() {
                scan = line.end;
            } else if is_comment_line(content) && indent_of_line(content) > indent && is_commented_out_yaml(content) {
                end = line.end;
                scan = line.end;
            } else {
                break;
            }
        }
        let mut start = line_start;
        // Attached leading comments: directly above, same indentation, no blank line between.
        while start > 0 {
            let prev_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            let prev = &text[prev_start..start];
            if is_comment_line(prev) && indent_of_line(prev) == indent {
                start = prev_start;
            } else {
                break;
            }
        }
        // Comments with nothing but `---` above them are the file's header, not the first key's.
        if start < line_start && is_header(&text[..start]) {
            start = line_start;
        }
        // A section banner (`# -- exporters ------`) above it heads the blocks after it too,
        // unless it names what is removed (`# === Pushgateway ===`): then it is that block's own.
        if start < line_start
            && next_sibling.is_some()
            && is_section_banner(&text[start..line_start], route_name(route).as_deref())
        {
            start = line_start;
        }
        let prev_line = (start > 0).then(|| {
            let s = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            s..start
        });
        let next_line = line_at(text, end);
        let is_blank = |r: &Range<usize>| text[r.clone()].trim().is_empty();
        let indent_of = |r: &Range<usize>| indent_of_line(&text[r.clone()]);
        let prev_blank = prev_line.as_ref().is_some_and(is_blank);
        let next_blank = next_line.as_ref().is_some_and(is_blank);
        let next_dedent = next_line.as_ref().is_none_or(|r| !is_blank(r) && indent_of(r) < indent);
        let prev_opener = prev_line
            .as_ref()
            .is_some_and(|r| !is_blank(r) && indent_of(r) < indent);
        if prev_blank && next_blank {
            if let Some(r) = next_line {
                end = r.end;
            }
        } else if prev_blank && next_dedent {
            if let Some(r) = prev_line {
                start = r.start;
            }
        } else if (prev_opener || is_header(&text[..start]))
            && next_blank
            && let Some(r) = next_line
        {
            end = r.end;
        }
        Ok(Splice::delete(removed_lines(text, start..end)))
    }

    /// `- first: 1\n  second: 2` without `first`: `- second: 2`.
    fn first_key_removal(
        &self,
        route: &Route,
        node: Range<usize>,
        prefix: &str,
        next_sibling: Option<&SyntaxNode>,
    ) -> Result<Splice, YamlError> {
        let unsupported = |reason: &str| YamlError::Unsupported {
            route: route.clone(),
            reason: reason.into(),
            offset: Some(node.start),
        };
        let after_dashes = prefix.trim_start_matches([' ', '\u{feff}']);
        let only_dashes = !after_dashes.is_empty() && after_dashes.split_whitespace().all(|part| part == "-");
        if !only_dashes {
            return Err(unsupported("it shares its line with other content"));
        }
        let Some(next) = next_sibling else {
            return Err(unsupported("it is the only key of its list item"));
        };
        let next_start = tree::range_of(next).start;
        let between = self.text.get(node.end.min(next_start)..next_start).unwrap_or_default();
        if node.end > next_start || !between.chars().all(|c| c == ' ') {
            return Err(unsupported(
                "comments or blank lines sit between it and the next key of its list item",
            ));
        }
        Ok(Splice::delete(node.start..next_start))
    }
}

/// Whether `before` holds nothing but a BOM, `---`, directives, comments and blank lines.
fn is_header(before: &str) -> bool {
    before.lines().all(|line| {
        let line = line.trim_start_matches('\u{feff}').trim();
        line.is_empty() || line == "---" || line.starts_with('#') || line.starts_with('%')
    })
}

/// `# key: value`, `# - item`: a setting commented out, as opposed to prose.
fn is_commented_out_yaml(line: &str) -> bool {
    let body = line.trim_start().trim_start_matches('#').trim();
    if body.starts_with("- ") || body == "-" {
        return true;
    }
    body.split_once(':').is_some_and(|(key, rest)| {
        !key.is_empty()
            && key
                .trim_matches(['"', '\''])
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
            && (rest.is_empty() || rest.starts_with(' '))
    })
}

/// Whether the comment lines `comments` hold a banner line (a run of `-`, `=`, `*`, `#` or `~`)
/// and do not name `name`.
fn is_section_banner(comments: &str, name: Option<&str>) -> bool {
    let banner = comments.lines().any(|line| {
        let body = line.trim_start().trim_start_matches('#');
        ['-', '=', '*', '#', '~']
            .iter()
            .any(|c| body.contains(&c.to_string().repeat(3)))
    });
    let names_it = name.is_some_and(|name| comments.to_lowercase().contains(&name.to_lowercase()));
    banner && !names_it
}

/// The name of the mapping key or job a route ends at (`pushgateway`).
fn route_name(route: &Route) -> Option<String> {
    match route.0.last()? {
        Seg::Key(key) => Some(key.clone()),
        Seg::Item(ItemMatch::Field { value, .. }) | Seg::Item(ItemMatch::Scalar(value)) => Some(value.clone()),
        Seg::Item(_) => None,
    }
}

/// From the first to the last token of a flow child that is not a comma or trivia.
fn core_range(node: &SyntaxNode) -> Range<usize> {
    let tokens: Vec<_> = node
        .descendants_with_tokens()
        .filter_map(|c| c.into_token())
        .filter(|t| !tree::is_trivia(t.kind()) && t.kind() != SyntaxKind::COMMA)
        .collect();
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => usize::from(first.text_range().start())..usize::from(last.text_range().end()),
        _ => tree::range_of(node),
    }
}
