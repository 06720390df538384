//! Format-preserving YAML edits on top of yaml-edit's lossless tree.
//!
//! yaml-edit gives the exact byte range of every node; this layer turns
//! symbolic edits ([`YamlEdit`]) into [`Splice`]s on the original text, so
//! comments, blank lines, anchors, quoting, CRLF and a BOM outside the edit
//! stay byte for byte. What yaml-edit leaves to callers is done here: a removed
//! entry takes its attached leading comments and one surrounding blank line
//! with it, and a collection it empties is removed as well.
//!
//! After every edit the new text is parsed again with yaml_serde and must equal
//! the typed view of the old text with the intended change applied.

mod render;
mod route;
mod scalar;
mod stream;
mod tree;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use yaml_edit::{SyntaxKind, YamlFile};
use yaml_serde::Value;

pub use render::{Style, needs_quotes, render_plain_or_quoted};
pub use route::{ItemMatch, Route, Seg, scalar_string};
pub use scalar::{ScalarStyle, ScalarTextEdit};
pub use stream::{StreamDoc, YamlStream, document_ranges};
use tree::SyntaxNode;
pub use tree::{AnchorMark, Entry, Item, Node, NodeKind, decode_scalar};

use super::{Splice, apply_splices, line_ending};
use crate::diagnostic::Diagnostic;
use crate::stack::source::{SourceFile, line_col, offset_of_line};
use render::column_of;

/// A YAML file read both ways: the lossless tree for positions, the typed
/// value for meaning.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    text: String,
    root: Option<Node>,
    value: Value,
    /// How the file writes things, learnt from the whole document on the first insertion and
    /// kept through a series of edits: new nodes follow the file as its author wrote it.
    style: Arc<OnceLock<Style>>,
    /// Every anchor and alias of this text, found on the first removal that asks: a series of
    /// removals planned on one tree walks it once.
    anchors: OnceLock<Vec<AnchorMark>>,
}

/// An edit named by what it changes.
#[derive(Debug, Clone)]
pub enum YamlEdit {
    /// Append `value` as the last item of the sequence at `route`. A key with no value
    /// (`rule_files:` and only comments under it) becomes a block list of that one item, the
    /// comments kept above it.
    Append {
        route: Route,
        value: Value,
        comment: Option<String>,
    },
    /// Add `key: value` as the last entry of the block mapping at `route`.
    InsertKey {
        route: Route,
        key: String,
        value: Value,
        comment: Option<String>,
    },
    /// Remove the mapping entry or sequence item at `route`, with its attached
    /// leading comment lines; a collection it leaves empty is removed too.
    Remove { route: Route },
    /// Replace the scalar at `route`, keeping its quoting style.
    SetScalar { route: Route, value: String },
    /// Replace the scalar at `route` with a plain `true` or `false` (a chart's `enabled` flag:
    /// a quoted `"false"` would be a string, which Helm templates read as true).
    SetBool { route: Route, value: bool },
    /// Remove the only item of the block list at `route`'s parent and nothing else: the key
    /// stays with no value and the comment lines under it stay (the undo of an [`Append`] to
    /// a key with no value).
    ///
    /// [`Append`]: YamlEdit::Append
    RemoveOnlyItem { route: Route },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum YamlError {
    #[error("{message}")]
    Syntax { message: String, offset: usize },
    #[error("cannot edit `{route}`: {reason}")]
    Unsupported {
        route: Route,
        reason: String,
        offset: Option<usize>,
    },
    #[error("`{route}` is not in the file")]
    NotFound { route: Route },
    #[error(
        "cannot remove `{route}`: it defines the anchor `&{anchor}`, which `*{anchor}` on line {alias_line} still uses"
    )]
    AnchorInUse {
        route: Route,
        anchor: String,
        alias_line: usize,
        offset: usize,
    },
    #[error("after editing `{route}` the file would not mean what was intended ({detail}); nothing was written")]
    Verify { route: Route, detail: String },
}

impl YamlError {
    pub fn offset(&self) -> Option<usize> {
        match self {
            YamlError::Syntax { offset, .. } => Some(*offset),
            YamlError::Unsupported { offset, .. } => *offset,
            YamlError::AnchorInUse { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    pub fn to_diagnostic(&self, file: &SourceFile) -> Diagnostic {
        let diag = match self {
            YamlError::Syntax { message, .. } => {
                Diagnostic::error(format!("{} is not valid YAML: {message}", file.path))
            }
            other => Diagnostic::error(format!("{}: {other}", file.path)),
        };
        let diag = match self.offset() {
            Some(offset) => {
                let end = file.text()[offset.min(file.text().len())..]
                    .find(['\n', '\r'])
                    .map_or(file.text().len(), |i| offset + i)
                    .max(offset + 1)
                    .min(file.text().len().max(offset + 1));
                diag.at(file, offset..end, "")
            }
            None => diag,
        };
        match self {
            YamlError::Syntax { .. } => {
                diag.help(format!("fix {} and run pullover again; nothing was written", file.path))
            }
            YamlError::Unsupported { .. } => {
                diag.help("make this edit by hand, or rewrite the node in block style; nothing was written")
            }
            // Compose keeps `x-` blocks for anchors; Prometheus and promtool
            // refuse any unknown top-level key, `x-` ones included.
            YamlError::AnchorInUse { anchor, .. } if file.path.file_name().contains("compose") => diag.help(format!(
                "move `&{anchor}` to an `x-` block that stays, or write its value out where `*{anchor}` is; nothing was written"
            )),
            YamlError::AnchorInUse { anchor, .. } => diag.help(format!(
                "write the value of `&{anchor}` out where `*{anchor}` is (this file cannot hold an `x-` block: Prometheus refuses unknown top-level keys); nothing was written"
            )),
            _ => diag,
        }
    }
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

    /// Applies `edits` one after another, looking each route up again in the
    /// text the previous edit produced. The result must mean the original plus the
    /// intended changes (its typed view is compared).
    pub fn edit(&self, edits: &[YamlEdit]) -> Result<String, YamlError> {
        // A typed parse of a big file costs more than the lossless one: check the meaning once,
        // at the end. Should that fail, check after every edit to name the one at fault.
        self.edit_checked_at_end(edits)
            .or_else(|_| self.edit_checked_each(edits))
    }

    fn edit_checked_at_end(&self, edits: &[YamlEdit]) -> Result<String, YamlError> {
        let mut text = self.text.clone();
        let mut root = self.root.clone();
        let mut expected = self.value.clone();
        let mut rest = edits;
        while let Some(edit) = rest.first() {
            let doc = YamlDoc {
                text,
                root,
                value: Value::Null,
                style: Arc::clone(&self.style),
                anchors: OnceLock::new(),
            };
            // Appends to one block list in a row are one insertion, planned on one tree; so are
            // edits in a row that cannot see each other (`independent_run`).
            let run = doc.block_appends_in_a_row(rest);
            let (splices, effective, planned) = match run.as_slice() {
                [_, _, ..] => {
                    let (splices, effective) = doc.plan_appends(&run)?;
                    (splices, effective, run.len())
                }
                _ => doc.independent_run(rest)?,
            };
            rest = rest.get(planned.max(1)..).unwrap_or_default();
            text = apply_splices(&doc.text, &splices).map_err(|e| YamlError::Verify {
                route: edit_route(edit).clone(),
                detail: e.to_string(),
            })?;
            // The next edit looks its route up in the new tree; after the last, the full parse
            // below reads the text anyway.
            root = if rest.is_empty() {
                None
            } else {
                parse_lossless(&text)?.1
            };
            for effective in &effective {
                apply_to_value(&mut expected, effective).ok_or_else(|| YamlError::Verify {
                    route: edit_route(edit).clone(),
                    detail: "the typed view has no such node".into(),
                })?;
            }
        }
        let Some(last) = edits.last() else {
            return Ok(text);
        };
        let new_doc = YamlDoc::parse(&text).map_err(|e| YamlError::Verify {
            route: edit_route(last).clone(),
            detail: format!("the result does not parse: {e}"),
        })?;
        if expected != new_doc.value {
            return Err(YamlError::Verify {
                route: edit_route(last).clone(),
                detail: "the typed view differs from the intended change".into(),
            });
        }
        Ok(new_doc.text)
    }

    fn edit_checked_each(&self, edits: &[YamlEdit]) -> Result<String, YamlError> {
        let mut doc = self.clone();
        for edit in edits {
            let (splices, effective) = doc.plan_edit(edit)?;
            let new_text = apply_splices(&doc.text, &splices).map_err(|e| YamlError::Verify {
                route: edit_route(edit).clone(),
                detail: e.to_string(),
            })?;
            let mut new_doc = YamlDoc::parse(&new_text).map_err(|e| YamlError::Verify {
                route: edit_route(edit).clone(),
                detail: format!("the result does not parse: {e}"),
            })?;
            let mut expected = doc.value.clone();
            apply_to_value(&mut expected, &effective).ok_or_else(|| YamlError::Verify {
                route: edit_route(edit).clone(),
                detail: "the typed view has no such node".into(),
            })?;
            if expected != new_doc.value {
                return Err(YamlError::Verify {
                    route: edit_route(edit).clone(),
                    detail: "the typed view differs from the intended change".into(),
                });
            }
            new_doc.style = Arc::clone(&self.style);
            doc = new_doc;
        }
        Ok(doc.text)
    }

    /// The appends at the start of `edits` that all go to one block list.
    fn block_appends_in_a_row<'e>(&self, edits: &'e [YamlEdit]) -> Vec<&'e YamlEdit> {
        let Some(YamlEdit::Append { route: first, .. }) = edits.first() else {
            return Vec::new();
        };
        let is_block_list = self
            .root
            .as_ref()
            .and_then(|root| first.find(root))
            .is_some_and(|seq| seq.kind() == NodeKind::Sequence && !seq.is_flow());
        if !is_block_list {
            return Vec::new();
        }
        edits
            .iter()
            .take_while(|edit| matches!(edit, YamlEdit::Append { route, .. } if route == first))
            .collect()
    }

    /// The first edit of `edits`, planned, with the edits after it that can be planned on the
    /// same tree because none of them sees another: each removes or sets a scalar, through
    /// routes that name no item by position, in a collection of its own (after a removal
    /// that empties its collection, in the collection's parent), with an untouched line
    /// between its text and the others'. Such
    /// edits give the same bytes planned together as one after another (a test holds the two
    /// ways equal), and a file with a hundred of them is parsed again once, not a hundred times.
    fn independent_run(&self, edits: &[YamlEdit]) -> Result<(Vec<Splice>, Vec<YamlEdit>, usize), YamlError> {
        let Some(first) = edits.first() else {
            return Ok((Vec::new(), Vec::new(), 0));
        };
        let (mut splices, effective) = self.plan_edit(first)?;
        let Some(claim) = self.claim(first, &effective, &splices) else {
            return Ok((splices, vec![effective], 1));
        };
        let mut claims = vec![claim];
        let mut effectives = vec![effective];
        for edit in &edits[1..] {
            if Claim::route_of(edit).is_none() {
                break;
            }
            // An edit that cannot be planned here is planned on the next tree, where the
            // edits before it are made (a removed alias frees its anchor, say).
            let Ok((more, effective)) = self.plan_edit(edit) else {
                break;
            };
            let Some(claim) = self.claim(edit, &effective, &more) else {
                break;
            };
            if !claims.iter().all(|other| other.independent_of(&claim, &self.text)) {
                break;
            }
            claims.push(claim);
            splices.extend(more);
            effectives.push(effective);
        }
        let planned = effectives.len();
        Ok((splices, effectives, planned))
    }

    /// What a planned edit touches, when it is an edit [`Self::independent_run`] may join.
    fn claim(&self, edit: &YamlEdit, effective: &YamlEdit, splices: &[Splice]) -> Option<Claim> {
        Claim::route_of(edit)?;
        // A removal that empties its collection removes that: what it touches is the collection.
        let route = edit_route(effective);
        let [splice] = splices else { return None };
        let (parent, _) = route.parent()?;
        Some(Claim {
            collection: self.find(&parent)?.range(),
            target: self.find(route)?.range(),
            spliced: splice.range.clone(),
        })
    }

    /// One insertion for appends in a row to one block list ([`Self::block_appends_in_a_row`]).
    fn plan_appends(&self, run: &[&YamlEdit]) -> Result<(Vec<Splice>, Vec<YamlEdit>), YamlError> {
        let values: Vec<(&Route, &Value, Option<&str>)> = run
            .iter()
            .filter_map(|edit| match edit {
                YamlEdit::Append { route, value, comment } => Some((route, value, comment.as_deref())),
                _ => None,
            })
            .collect();
        let Some(((route, value, comment), more)) = values.split_first() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let seq = self
            .root
            .as_ref()
            .and_then(|root| route.find(root))
            .ok_or_else(|| YamlError::NotFound {
                route: (*route).clone(),
            })?;
        let more: Vec<(&Value, Option<&str>)> = more.iter().map(|(_, value, comment)| (*value, *comment)).collect();
        let splice = self.append_splice(route, &seq, (value, *comment), &more)?;
        Ok((vec![splice], run.iter().map(|edit| (*edit).clone()).collect()))
    }

    /// The file's style for a new node beside `sibling`.
    fn style_beside(&self, sibling: Option<&Node>, eol: &'static str) -> Style {
        self.style
            .get_or_init(|| Style::of_document(&self.text, self.root.as_ref(), eol))
            .clone()
            .beside(sibling)
    }

    /// The splices for one edit, and the edit as actually made (a removal that
    /// empties its collection becomes the removal of that collection).
    fn plan_edit(&self, edit: &YamlEdit) -> Result<(Vec<Splice>, YamlEdit), YamlError> {
        let root = self.root.as_ref().ok_or_else(|| YamlError::NotFound {
            route: edit_route(edit).clone(),
        })?;
        match edit {
            YamlEdit::Append { route, value, comment } => {
                // yaml-edit gives a key with no value an empty scalar.
                let found = route
                    .find(root)
                    .filter(|node| !(node.kind() == NodeKind::Scalar && node.0.text().to_string().trim().is_empty()));
                let Some(seq) = found else {
                    let splice = self.null_to_list_splice(root, route, value, comment.as_deref())?;
                    return Ok((vec![splice], edit.clone()));
                };
                let splice = self.append_splice(route, &seq, (value, comment.as_deref()), &[])?;
                Ok((vec![splice], edit.clone()))
            }
            YamlEdit::RemoveOnlyItem { route } => {
                let splice = self.only_item_splice(root, route)?;
                Ok((vec![splice], edit.clone()))
            }
            YamlEdit::InsertKey {
                route,
                key,
                value,
                comment,
            } => {
                let map = route
                    .find(root)
                    .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
                let splice = self.insert_key_splice(route, &map, key, value, comment.as_deref())?;
                Ok((vec![splice], edit.clone()))
            }
            YamlEdit::Remove { route } => {
                let effective = self.effective_removal(root, route)?;
                let splice = self.removal_splice(root, &effective)?;
                Ok((vec![splice], YamlEdit::Remove { route: effective }))
            }
            YamlEdit::SetScalar { route, value } => {
                let node = route
                    .find(root)
                    .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
                if node.kind() != NodeKind::Scalar || node.is_block_scalar() {
                    return Err(YamlError::Unsupported {
                        route: route.clone(),
                        reason: "only plain and quoted scalars can be replaced".into(),
                        offset: Some(node.range().start),
                    });
                }
                let text = render_plain_or_quoted(value, node.quote());
                Ok((vec![Splice::replace(node.range(), text)], edit.clone()))
            }
            YamlEdit::SetBool { route, value } => {
                let node = route
                    .find(root)
                    .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
                if node.kind() != NodeKind::Scalar || node.is_block_scalar() {
                    return Err(YamlError::Unsupported {
                        route: route.clone(),
                        reason: "only plain and quoted scalars can be replaced".into(),
                        offset: Some(node.range().start),
                    });
                }
                Ok((vec![Splice::replace(node.range(), value.to_string())], edit.clone()))
            }
        }
    }

    /// `key:` with no value, and only comment lines (or nothing) under it, becomes a block
    /// list: the item goes after the last comment line indented under the key, at that
    /// comment's column (else two columns in from the key).
    fn null_to_list_splice(
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
        let lead = if at == text.len() && !text.ends_with('\n') {
            eol
        } else {
            ""
        };
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

    /// The lines of the only item of a block list, and nothing around them.
    fn only_item_splice(&self, root: &Node, route: &Route) -> Result<Splice, YamlError> {
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
        let mut start = line_start;
        let end = end_of_content_line(text, &item.syntax);
        // A file without a final newline keeps not having one.
        if end == text.len() && !text.ends_with('\n') && start > 0 {
            start -= 1;
            if start > 0 && text.as_bytes().get(start - 1) == Some(&b'\r') {
                start -= 1;
            }
        }
        Ok(Splice::delete(start..end))
    }

    /// The insertion that appends `value` to the list `seq`, and after it `more` (block lists
    /// only).
    fn append_splice(
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
        let lead = if at == self.text.len() && !self.text.ends_with('\n') {
            eol
        } else {
            ""
        };
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

    fn insert_key_splice(
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
        let lead = if at == self.text.len() && !self.text.ends_with('\n') {
            eol
        } else {
            ""
        };
        let body = style.render_entry(key, value, column_of(&self.text, last.key_range.start), comment);
        Ok(Splice::insert(at, format!("{lead}{separator}{body}")))
    }

    /// The route actually removed: `route` itself, or the key or item holding
    /// its collection when `route` is that collection's only child
    /// (`depends_on: [pushgateway]` → `depends_on`). One level only: a removal
    /// that would empty a mapping further up (a service left with no keys) is
    /// refused rather than guessed at.
    fn effective_removal(&self, root: &Node, route: &Route) -> Result<Route, YamlError> {
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

    fn removal_splice(&self, root: &Node, route: &Route) -> Result<Splice, YamlError> {
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
        // A file without a final newline keeps not having one: the line break
        // before the removed lines goes instead of the (missing) one after them.
        if end == text.len() && !text.ends_with('\n') && start > 0 {
            start -= 1;
            if start > 0 && text.as_bytes().get(start - 1) == Some(&b'\r') {
                start -= 1;
            }
        }
        Ok(Splice::delete(start..end))
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

/// The line starting at `offset` (with its line break), if any.
fn line_at(text: &str, offset: usize) -> Option<Range<usize>> {
    (offset < text.len()).then(|| {
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i + 1);
        offset..end
    })
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

fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches([' ', '\t', '\u{feff}']).starts_with('#')
}

fn indent_of_line(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
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

/// The text an edit of an independent run touches ([`YamlDoc::independent_run`]).
struct Claim {
    /// The mapping or sequence holding the edited node.
    collection: Range<usize>,
    target: Range<usize>,
    spliced: Range<usize>,
}

impl Claim {
    /// The route of an edit that may join an independent run: a removal or a scalar set whose
    /// route names no item by position (a removal before it would move the position).
    fn route_of(edit: &YamlEdit) -> Option<&Route> {
        let route = match edit {
            YamlEdit::Remove { route } | YamlEdit::SetScalar { route, .. } | YamlEdit::SetBool { route, .. } => route,
            _ => return None,
        };
        let positional = route.0.iter().any(|seg| matches!(seg, Seg::Item(ItemMatch::Index(_))));
        (!positional).then_some(route)
    }

    fn independent_of(&self, other: &Claim, text: &str) -> bool {
        let overlaps = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;
        let (before, after) = if self.spliced.start <= other.spliced.start {
            (&self.spliced, &other.spliced)
        } else {
            (&other.spliced, &self.spliced)
        };
        let untouched_line_between =
            before.end <= after.start && text.get(before.end..after.start).is_some_and(|gap| gap.contains('\n'));
        // Neither edit is inside the other's collection: siblings are never planned together
        // (the second removal may empty their collection), nor is an edit under the other.
        !overlaps(&self.collection, &other.target)
            && !overlaps(&other.collection, &self.target)
            && untouched_line_between
    }
}

fn edit_route(edit: &YamlEdit) -> &Route {
    match edit {
        YamlEdit::Append { route, .. }
        | YamlEdit::InsertKey { route, .. }
        | YamlEdit::Remove { route }
        | YamlEdit::SetScalar { route, .. }
        | YamlEdit::SetBool { route, .. }
        | YamlEdit::RemoveOnlyItem { route } => route,
    }
}

/// The typed meaning of an edit, applied to the typed view.
fn apply_to_value(value: &mut Value, edit: &YamlEdit) -> Option<()> {
    match edit {
        YamlEdit::Append { route, value: new, .. } => {
            let target = route.find_value_mut(value)?;
            if target.is_null() {
                *target = Value::Sequence(Vec::new());
            }
            target.as_sequence_mut()?.push(new.clone());
        }
        YamlEdit::RemoveOnlyItem { route } => {
            let (parent, _) = route.parent()?;
            let target = parent.find_value_mut(value)?;
            if target.as_sequence()?.len() != 1 {
                return None;
            }
            *target = Value::Null;
        }
        YamlEdit::InsertKey {
            route, key, value: new, ..
        } => {
            route
                .find_value_mut(value)?
                .as_mapping_mut()?
                .insert(Value::String(key.clone()), new.clone());
        }
        YamlEdit::Remove { route } => {
            let (parent, seg) = route.parent()?;
            let container = parent.find_value_mut(value)?;
            match seg {
                Seg::Key(key) => {
                    container.as_mapping_mut()?.shift_remove(key.as_str())?;
                }
                Seg::Item(m) => {
                    let seq = container.as_sequence_mut()?;
                    let index = route::item_index_in_values(seq, m)?;
                    seq.remove(index);
                }
            }
        }
        YamlEdit::SetScalar { route, value: new } => {
            *route.find_value_mut(value)? = Value::String(new.clone());
        }
        YamlEdit::SetBool { route, value: new } => {
            *route.find_value_mut(value)? = Value::Bool(*new);
        }
    }
    Some(())
}

fn render_scalar(value: &Value) -> String {
    scalar_string(value).unwrap_or_default()
}

/// The lossless tree of `text`: its syntax node, the first document's root value, and the
/// parser's first error (reported after the typed parse, whose messages read better).
fn parse_lossless(text: &str) -> Result<(SyntaxNode, Option<Node>, Option<YamlError>), YamlError> {
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

/// Offset just after the last token of `node` that is not whitespace or a comment.
fn content_end(node: &SyntaxNode) -> usize {
    node.descendants_with_tokens()
        .filter_map(|c| c.into_token())
        .filter(|t| !tree::is_trivia(t.kind()))
        .last()
        .map_or(tree::range_of(node).end, |t| usize::from(t.text_range().end()))
}

/// Offset just after the line break that ends the last line holding content
/// (not only comments) of `node`.
fn end_of_content_line(text: &str, node: &SyntaxNode) -> usize {
    let last_content = content_end(node);
    text[last_content..]
        .find('\n')
        .map_or(text.len(), |i| last_content + i + 1)
}

fn has_blank_line_between(text: &str, a: &Item, b: &Item) -> bool {
    blank_between(text, content_end(&a.syntax), b.dash_offset().unwrap_or(b.range().start))
}

/// Whether a whitespace-only line lies wholly between offsets `from` (mid-line,
/// after content) and `to`.
fn blank_between(text: &str, from: usize, to: usize) -> bool {
    let Some(between) = text.get(from..to) else {
        return false;
    };
    let lines: Vec<&str> = between.split('\n').collect();
    lines.len() >= 3 && lines[1..lines.len() - 1].iter().any(|l| l.trim().is_empty())
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

#[cfg(test)]
mod tests;
