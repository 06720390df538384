//! What the journal says the checks need about phases applied before: which queries the
//! `dashboards` phase rewrote, and when `remove` took the gateway's job away.

use super::compare::PushSource;
use super::pairs::QuerySource;

/// What the journal says about phases the checks need: the query pairs of `dashboards`,
/// and when `remove` was applied and which scrape job it took away.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub query_sources: Vec<QuerySource>,
    /// Files of the `dashboards` phase that could not be paired, with the reason.
    pub unpaired: Vec<(String, String)>,
    /// Unix seconds when `remove` was applied.
    pub removed_at: Option<f64>,
    /// The Pushgateway's scrape job as it was before `remove`, when settings no longer say.
    pub removed_gateway: Option<PushSource>,
}
