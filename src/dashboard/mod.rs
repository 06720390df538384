//! Grafana dashboard files: find the strings that hold PromQL, and edit them in place.
//!
//! Pure: text in, text out, no I/O.
//!
//! - [`scan`] reads a file's text (strict JSON as Grafana writes it; a BOM is allowed) and
//!   returns a [`DashboardScan`]: the [`Model`], title, uid, every PromQL [`QuerySite`] (JSON
//!   pointer, [`SiteKind`], [`Owner`] panel/row/variable/annotation, [`Datasource`], decoded
//!   value, byte range of the literal), the sites it skipped and why ([`SkippedSite`]), and the
//!   library panels it references ([`LibraryPanelRef`]). Any other JSON is
//!   [`Model::NotADashboard`].
//! - [`rewrite_strings`] applies [`StringEdit`]s given in decoded-string coordinates. Bytes
//!   outside the edited ranges stay exactly as written (inside the literal too); new text is
//!   escaped the way the file escapes strings; the result is parsed again and compared with the
//!   intended value before it is returned.
//! - Errors ([`DashboardError`]) carry a byte span; [`DashboardError::location`] turns it into
//!   line and column for `file:line:col`.
//!
//! Where queries live in each model: `classic.rs` (Classic and V1 resources) and `v2.rs` (V2
//! resources). Which queries count as PromQL: `datasource.rs`.

mod classic;
mod datasource;
mod error;
mod json;
mod literal;
mod position;
mod rewrite;
mod scan;
mod site;
mod v2;

#[cfg(test)]
mod tests;

pub use datasource::{Datasource, KnownDatasources, SkipReason};
pub use error::{DashboardError, ErrorKind};
pub use json::MAX_DEPTH;
pub use position::{LineCol, line_col};
pub use rewrite::{StringEdit, rewrite_scanned_strings, rewrite_strings, rewrite_strings_read_back};
pub use scan::{DashboardScan, Model, StrayQuery, scan, scan_with};
pub use site::{Legend, LibraryPanelRef, Owner, QuerySite, SiteKind, SkippedSite};
