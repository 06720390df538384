//! Edits named by what they change ([`YamlEdit`]), planned as splices on the text and checked:
//! after the edits the file must parse to the old typed value with exactly the intended change.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use yaml_serde::Value;

use super::doc::{YamlDoc, parse_lossless};
use super::error::YamlError;
use super::render::render_plain_or_quoted;
use super::route::{self, ItemMatch, Route, Seg};
use super::tree::{Node, NodeKind};
use crate::edit::{Splice, apply_splices};

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

impl YamlDoc {
    /// Applies `edits` one after another, looking each route up again in the
    /// text the previous edit produced. The result must mean the original plus the
    /// intended changes (its typed view is compared).
    pub fn edit(&self, edits: &[YamlEdit]) -> Result<String, YamlError> {
        // A typed parse of a big file costs more than the lossless one: check the meaning once,
        // at the end. Should that fail, check after every edit to name the one at fault.
        self.edit_checked_at_end(edits)
            .or_else(|_| self.edit_checked_each(edits))
    }

    pub(super) fn edit_checked_at_end(&self, edits: &[YamlEdit]) -> Result<String, YamlError> {
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
                let node = replaceable_scalar(root, route)?;
                let text = render_plain_or_quoted(value, node.quote());
                Ok((vec![Splice::replace(node.range(), text)], edit.clone()))
            }
            YamlEdit::SetBool { route, value } => {
                let node = replaceable_scalar(root, route)?;
                Ok((vec![Splice::replace(node.range(), value.to_string())], edit.clone()))
            }
        }
    }
}

/// The plain or quoted scalar at `route`, which `SetScalar` and `SetBool` replace.
fn replaceable_scalar(root: &Node, route: &Route) -> Result<Node, YamlError> {
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
    Ok(node)
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
