//! A read-only view of yaml-edit's lossless syntax tree: collections, entries
//! and items with their exact byte ranges in the source.

use std::ops::Range;

use rowan::NodeOrToken;
use yaml_edit::SyntaxKind;

use super::quoted::decode_double_quoted;

pub(crate) type SyntaxNode = rowan::SyntaxNode<yaml_edit::Lang>;

pub(crate) fn range_of(node: &SyntaxNode) -> Range<usize> {
    let r = node.text_range();
    usize::from(r.start())..usize::from(r.end())
}

/// A value node: a mapping, a sequence, a scalar, an alias or a tagged node.
#[derive(Debug, Clone)]
pub struct Node(pub(crate) SyntaxNode);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Mapping,
    Sequence,
    Scalar,
    Alias,
    Other,
}

/// `key: value` inside a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    pub(crate) syntax: SyntaxNode,
    pub key: String,
    pub key_range: Range<usize>,
    pub value: Option<Node>,
}

/// `- value` (block) or `value,` (flow) inside a sequence.
#[derive(Debug, Clone)]
pub struct Item {
    pub(crate) syntax: SyntaxNode,
    pub value: Option<Node>,
}

impl Node {
    /// The first value node under `parent` (a DOCUMENT, VALUE or SEQUENCE_ENTRY).
    pub(crate) fn first_value_in(parent: &SyntaxNode) -> Option<Node> {
        parent.children().find_map(|child| match child.kind() {
            SyntaxKind::MAPPING | SyntaxKind::SEQUENCE | SyntaxKind::SCALAR | SyntaxKind::ALIAS => Some(Node(child)),
            SyntaxKind::TAGGED_NODE => Some(Node(child)),
            _ => None,
        })
    }

    pub fn kind(&self) -> NodeKind {
        match self.0.kind() {
            SyntaxKind::MAPPING => NodeKind::Mapping,
            SyntaxKind::SEQUENCE => NodeKind::Sequence,
            SyntaxKind::SCALAR => NodeKind::Scalar,
            SyntaxKind::ALIAS => NodeKind::Alias,
            _ => NodeKind::Other,
        }
    }

    pub fn range(&self) -> Range<usize> {
        range_of(&self.0)
    }

    /// Flow collections start with `[` or `{`.
    pub fn is_flow(&self) -> bool {
        self.0
            .children_with_tokens()
            .find(|c| !is_trivia(c.kind()))
            .is_some_and(|c| matches!(c.kind(), SyntaxKind::LEFT_BRACKET | SyntaxKind::LEFT_BRACE))
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entry_iter().collect()
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        // Lazily: a lookup in a mapping of hundreds of services decodes keys only up to the hit.
        self.entry_iter().find(|e| e.key == key)
    }

    fn entry_iter(&self) -> impl Iterator<Item = Entry> {
        let entries = (self.kind() == NodeKind::Mapping).then(|| self.0.children());
        entries
            .into_iter()
            .flatten()
            .filter(|c| c.kind() == SyntaxKind::MAPPING_ENTRY)
            .filter_map(|entry| {
                let key_node = entry.children().find(|c| c.kind() == SyntaxKind::KEY)?;
                let key = key_node
                    .children()
                    .find(|c| c.kind() == SyntaxKind::SCALAR)
                    .map(|s| decode_scalar(&s.text().to_string()))
                    .unwrap_or_default();
                let value = entry
                    .children()
                    .find(|c| c.kind() == SyntaxKind::VALUE)
                    .and_then(|v| Node::first_value_in(&v));
                Some(Entry {
                    key_range: range_of(&key_node),
                    syntax: entry,
                    key,
                    value,
                })
            })
    }

    pub fn items(&self) -> Vec<Item> {
        if self.kind() != NodeKind::Sequence {
            return Vec::new();
        }
        self.0
            .children()
            .filter(|c| c.kind() == SyntaxKind::SEQUENCE_ENTRY)
            .map(|item| Item {
                value: Node::first_value_in(&item),
                syntax: item,
            })
            .collect()
    }

    /// The decoded text of a plain or quoted scalar (block scalars: `None`).
    pub fn scalar(&self) -> Option<String> {
        if self.kind() != NodeKind::Scalar || self.is_block_scalar() {
            return None;
        }
        Some(decode_scalar(&self.0.text().to_string()))
    }

    pub fn is_block_scalar(&self) -> bool {
        self.0
            .children_with_tokens()
            .any(|c| matches!(c.kind(), SyntaxKind::PIPE | SyntaxKind::GREATER))
    }

    /// The quote character of a quoted scalar.
    pub fn quote(&self) -> Option<char> {
        let text = self.0.text().to_string();
        match text.chars().next() {
            Some(q @ ('"' | '\'')) => Some(q),
            _ => None,
        }
    }
}

impl Entry {
    /// The whole `key: value` including nested block content and its final line break.
    pub fn range(&self) -> Range<usize> {
        range_of(&self.syntax)
    }
}

impl Item {
    pub fn range(&self) -> Range<usize> {
        range_of(&self.syntax)
    }

    /// Byte offset of the `- ` of a block item.
    pub fn dash_offset(&self) -> Option<usize> {
        self.syntax
            .children_with_tokens()
            .find(|c| c.kind() == SyntaxKind::DASH)
            .map(|c| match c {
                NodeOrToken::Node(n) => range_of(&n).start,
                NodeOrToken::Token(t) => usize::from(t.text_range().start()),
            })
    }
}

pub(crate) fn is_trivia(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        SyntaxKind::WHITESPACE | SyntaxKind::NEWLINE | SyntaxKind::INDENT | SyntaxKind::COMMENT
    )
}

/// Decodes a plain, single- or double-quoted flow scalar. Good enough for keys,
/// job names, targets and env entries; values that matter are checked against
/// the typed parse as well.
pub fn decode_scalar(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return decode_double_quoted(inner);
    }
    raw.to_string()
}

/// An anchor (`&name`) or alias (`*name`) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorMark {
    Anchor { name: String, offset: usize },
    Alias { name: String, offset: usize },
}

impl AnchorMark {
    pub fn name(&self) -> &str {
        match self {
            AnchorMark::Anchor { name, .. } | AnchorMark::Alias { name, .. } => name,
        }
    }

    pub fn offset(&self) -> usize {
        match self {
            AnchorMark::Anchor { offset, .. } | AnchorMark::Alias { offset, .. } => *offset,
        }
    }
}

/// Every anchor and alias below `node`, in text order.
pub(crate) fn anchor_marks(node: &SyntaxNode) -> Vec<AnchorMark> {
    node.descendants_with_tokens()
        .filter_map(|c| c.into_token())
        .filter_map(|t| {
            let offset = usize::from(t.text_range().start());
            match t.kind() {
                SyntaxKind::ANCHOR => Some(AnchorMark::Anchor {
                    name: t.text().trim_start_matches('&').to_string(),
                    offset,
                }),
                SyntaxKind::REFERENCE => Some(AnchorMark::Alias {
                    name: t.text().trim_start_matches('*').to_string(),
                    offset,
                }),
                _ => None,
            }
        })
        .collect()
}
