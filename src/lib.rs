//! pullover: move a Prometheus stack off Pushgateway onto direct scraping, one
//! reviewable phase at a time.
//!
//! - `stack/` reads the stack and resolves settings (all reading I/O);
//! - `phase/` holds one pure planner per phase, each returning a ChangeSet;
//! - `edit/` makes format-preserving edits (spans in, bytes out);
//! - `changeset/` renders plans as diffs, patches and JSON;
//! - `state/` journals, snapshots, locks and writes crash-safely (all writing I/O);
//! - `live/` talks HTTP to Prometheus, Pushgateway and an app's /metrics (and reads the
//!   exposition format); `verify/` holds the live checks built on those clients;
//! - `analyze/` inventories every Pushgateway reference of a stack (`pullover analyze`);
//! - `commands/` wires them into the CLI defined in `cli`.

pub mod analyze;
pub mod changeset;
pub mod cli;
pub mod commands;
pub mod contained;
pub mod dashboard;
pub mod diagnostic;
pub mod duration;
pub mod edit;
pub mod envelope;
pub mod identity;
pub mod live;
pub mod parallel;
pub mod phase;
pub mod promql;
pub mod stack;
pub mod state;
pub mod verify;
