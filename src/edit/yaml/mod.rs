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
//!
//! The parts, bottom up: `tree` (yaml-edit's nodes), `route`, `error`, `lines`, `quoted` (the
//! escapes of `"…"`, both ways), `render` (new nodes in the file's style), `doc` (the file read
//! both ways), then the edits on a [`YamlDoc`]: `insert`, `remove`, `edit` (the planner and its
//! checks), `scalar` (text inside scalars) and `stream` (files of several documents). This file
//! only names them; none of them imports it.

mod doc;
mod edit;
mod error;
mod insert;
mod lines;
mod quoted;
mod remove;
mod render;
mod route;
mod scalar;
mod stream;
mod tree;

pub use doc::YamlDoc;
pub use edit::YamlEdit;
pub use error::YamlError;
pub use render::{Style, needs_quotes, render_plain_or_quoted};
pub use route::{ItemMatch, Route, Seg, scalar_string};
pub use scalar::{ScalarStyle, ScalarTextEdit};
pub use stream::{StreamDoc, YamlStream, document_ranges};
pub use tree::{AnchorMark, Entry, Item, Node, NodeKind, decode_scalar};

#[cfg(test)]
mod tests;
