//! A YAML file read both ways: the lossless tree (yaml-edit) for positions, the typed value
//! (yaml_serde) for meaning. The edits ([`super::YamlEdit`], scalar text edits) are planned on it.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use yaml_edit::{SyntaxKind, YamlFile};
use yaml_serde::Value;

use super::error::YamlError;
use super::render::Style;
use super::route::{self, Route, Seg};
use super::tree::{self, AnchorMark, Item, Node, SyntaxNode};
use crate::stack::source::offset_of_line;

/// A YAML file read both ways: the lossless tree for positions, the typed
/// value for meaning.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    pub(super) text: String,
    pub(super) root: Option<Node>,
    pub(super) value: Value,
    /// How the file writes things, learnt from the whole document on the first insertion and
    /// kept through a series of edits: new nodes follow the file as its author wrote it.
    pub(super) style: Arc<OnceLock<Style>>,
    /// Every anchor and alias of this text, found on the first removal that asks: a series of
    /// removals planned on one tree walks it once.
    pub(super) anchors: OnceLock<Vec<AnchorMark>>,
}

impl YamlDoc {
    pub fn parse(text: &str) -> Result<YamlDoc, YamlError> {
        let (syntax, root, errors) = parse_lossless(text)?;
        // The typed parse is the judge of validity (yaml-edit accepts some invalid
        // YAML); it reports duplicate keys without a place, so find them here.
        let value = parse_typed(text).map_err(|err| match (&err, root.as_ref().and_then(find_duplicate_key)) {
            (YamlError::Syntax { message, .. }, Some((key, offset))) if message.contains("duplicate") => {
                YamlError::Syntax {
                    message: format!("duplicate key `{key}`"),
                    offset,
                }
            }
            _ => err,
        })?;
        if let Some(err) = errors {
            return Err(err);
        }
        if syntax.text() != text {
            return Err(YamlError::Syntax {
                message: "the lossless YAML parser does not reproduce this file exactly".into(),
                offset: 0,
            });
        }
        Ok(YamlDoc {
            text: text.to_string(),
            root,
            value,
            style: Arc::default(),
            anchors: OnceLock::new(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn root(&self) -> Option<&Node> {
        self.root.as_ref()
    }

    pub fn find(&self, route: &Route) -> Option<Node> {
        route.find(self.root.as_ref()?)
    }

    /// The byte range of the mapping entry (key included) or sequence item a
    /// route names, as [`YamlEdit::Remove`] would start from; `None` when the
    /// route does not lead there in the text (through an alias, say).
    pub fn extent(&self, route: &Route) -> Option<Range<usize>> {
        let (parent_route, seg) = route.parent()?;
        let parent = self.find(&parent_route)?;
        match seg {
            Seg::Key(key) => parent.get(key).map(|e| e.range()),
            Seg::Item(m) => {
                let index = route::item_index_in_tree(&parent, m)?;
                parent.items().get(index).map(Item::range)
            }
        }
    }

    /// Every anchor (`&name`) and alias (`*name`) of the document, in text order.
    pub fn anchor_marks(&self) -> &[AnchorMark] {
        self.anchors.get_or_init(|| match &self.root {
            // No `&`, no anchor, and an alias without one does not parse: no walk of the tree.
            Some(root) if self.text.contains('&') => tree::anchor_marks(&root.0),
            _ => Vec::new(),
        })
    }

    /// The file's style for a new node beside `sibling`.
    pub(super) fn style_beside(&self, sibling: Option<&Node>, eol: &'static str) -> Style {
        self.style
            .get_or_init(|| Style::of_document(&self.text, self.root.as_ref(), eol))
            .clone()
            .beside(sibling)
    }
}

/// The second occurrence of a key repeated in one mapping, anywhere below `node`.
fn find_duplicate_key(node: &Node) -> Option<(String, usize)> {
    let mut seen = std::collections::HashSet::new();
    for entry in node.entries() {
        if !seen.insert(entry.key.clone()) {
            return Some((entry.key, entry.key_range.start));
        }
    }
    let children = node
        .entries()
        .into_iter()
        .filter_map(|e| e.value)
        .chain(node.items().into_iter().filter_map(|i| i.value));
    children.into_iter().find_map(|child| find_duplicate_key(&child))
}

/// The lossless tree of `text`: its syntax node, the first document's root value, and the
/// parser's first error (reported after the typed parse, whose messages read better).
pub(super) fn parse_lossless(text: &str) -> Result<(SyntaxNode, Option<Node>, Option<YamlError>), YamlError> {
    // yaml-edit is the newer, less battle-tested parser: a panic inside it must
    // become an error, never a crash with a half-written plan.
    let parsed = crate::contained::contain(|| YamlFile::parse(text)).ok_or_else(|| YamlError::Syntax {
        message: "the lossless YAML parser failed on this file".into(),
        offset: 0,
    })?;
    let tree = parsed.tree();
    let syntax: SyntaxNode = rowan::ast::AstNode::syntax(&tree).clone();
    let root = syntax
        .children()
        .find(|c| c.kind() == SyntaxKind::DOCUMENT)
        .and_then(|document| Node::first_value_in(&document));
    let error = parsed.positioned_errors().first().map(|err| YamlError::Syntax {
        message: err.message.clone(),
        offset: err.range.start as usize,
    });
    Ok((syntax, root, error))
}

fn parse_typed(text: &str) -> Result<Value, YamlError> {
    // yaml_serde's libyaml port misreads a document that starts with a BOM and
    // `---`; the BOM carries no content, so parse without it.
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ('\u{feff}'.len_utf8(), rest),
        None => (0, text),
    };
    match yaml_serde::from_str::<Value>(body) {
        Ok(value) => Ok(value),
        Err(err) => {
            let offset = err.location().map_or(0, |loc| {
                let line_start = offset_of_line(body, loc.line());
                let line = &body[line_start..];
                line.char_indices()
                    .nth(loc.column().saturating_sub(1))
                    .map_or(line_start, |(i, _)| line_start + i)
            });
            let message = err.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            Err(YamlError::Syntax {
                message,
                offset: offset + bom,
            })
        }
    }
}
