//! The base types of `promql/`: what the stack says about pushed series ([`SeriesMapping`]) and
//! what a rewrite produces ([`QueryRewrite`], its edits and findings). They import nothing of
//! the rest of the folder, so every file of it can use them.

use crate::changeset::finding_id::FindingId;
use std::fmt;
use std::ops::Range;

/// How the stack labels pushed series today, and what the directly scraped twins will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesMapping {
    /// `honor_labels` of the pushgateway scrape job.
    pub honor_labels: bool,
    /// `job_name` of the pushgateway scrape job (e.g. "pushgateway", or "batch").
    pub gateway_job: String,
    /// Targets of the gateway job as written (e.g. "pushgateway:9091").
    pub gateway_instances: Vec<String>,
    pub apps: Vec<AppMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMapping {
    /// The job name the app pushes under (grouping key `job`).
    pub pushed_job: String,
    /// Instance grouping-key values it pushes with; "" means pushed without instance.
    pub pushed_instances: Vec<String>,
    /// The new scrape job (== compose service name) and its target `service:port`.
    pub scrape_job: String,
    pub scrape_instance: String,
    /// Metric names the app is known to push (may be empty = unknown). A histogram's base name
    /// also covers its `_bucket`, `_sum` and `_count` series.
    pub metrics: Vec<String>,
}

impl AppMapping {
    /// Whether the app's scrape job has another name than the job it pushes as: then `job`
    /// alone tells its pushed series from the scraped ones.
    pub(crate) fn is_renamed(&self) -> bool {
        self.pushed_job != self.scrape_job
    }
}

/// A metric's family: a histogram's or summary's `x_bucket`, `x_sum` and `x_count` are `x`.
pub fn metric_family(metric: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .filter(|base| !base.is_empty())
        .unwrap_or(metric)
}

/// The outcome for one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRewrite {
    /// The rewritten query; `None` when it stays as written.
    pub text: Option<String>,
    /// The edits that turn the original into `text`, sorted, not overlapping.
    pub edits: Vec<QueryEdit>,
    pub findings: Vec<QueryFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryEdit {
    /// Byte range in the original query.
    pub range: Range<usize>,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFinding {
    pub kind: QueryFindingKind,
    pub message: String,
    pub suggestion: Option<String>,
    /// Byte range in the original query.
    pub range: Option<Range<usize>>,
    /// Whether this finding kept the whole query from being rewritten (a query is rewritten
    /// wholly or not at all).
    pub blocks_rewrite: bool,
}

/// What a finding is about. [`QueryFindingKind::id`] is stable, for JSON output and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryFindingKind {
    /// `push_time_seconds`, `push_failure_time_seconds`, `pushgateway_*`, the gateway's own `up`
    /// and process metrics: nothing scraped replaces them.
    NoScrapedEquivalent,
    /// The query selects both the pushed and the scraped series while both run.
    DoubleCountDuringDualRun,
    /// `job="<gateway job>"` on an app metric under `honor_labels: true`.
    MatchesNothingUnderHonorLabels,
    /// Pushed series of several apps and nothing says which.
    AmbiguousApp,
    /// Pushed series of a job (or a metric) none of the migrated apps pushes: it stays on the
    /// Pushgateway.
    PushedJobNotMigrated,
    /// One query reads both the pushed series and their scraped twins (a dual-run comparison).
    ComparesPushedAndScraped,
    /// A regex matcher that is not a plain alternation of literals.
    RegexNeedsReview,
    /// A matcher or name made of a template variable whose values must change too.
    VariableNeedsReview,
    /// `by (job, exported_job)`: rewriting would repeat `job`.
    DuplicateGroupingLabel,
    /// `label_replace`/`label_join` writing an `exported_*` label.
    LabelNeedsReview,
    /// Syntax pullover does not edit (`or` inside braces, a value the quote style cannot hold).
    UnsupportedSyntax,
    /// The query does not parse; see [`super::PromqlError::to_finding`].
    UnparseableQuery,
    /// The stack's Prometheus (its version, or the feature flags it runs with) rejects a function,
    /// modifier or syntax of the query: it fails there as written.
    RejectedByPrometheusVersion,
}

impl QueryFindingKind {
    pub fn id(self) -> FindingId {
        match self {
            QueryFindingKind::NoScrapedEquivalent => FindingId::NoScrapedEquivalent,
            QueryFindingKind::DoubleCountDuringDualRun => FindingId::DoubleCountDuringDualRun,
            QueryFindingKind::MatchesNothingUnderHonorLabels => FindingId::MatchesNothingUnderHonorLabels,
            QueryFindingKind::AmbiguousApp => FindingId::AmbiguousApp,
            QueryFindingKind::PushedJobNotMigrated => FindingId::PushedJobNotMigrated,
            QueryFindingKind::ComparesPushedAndScraped => FindingId::ComparesPushedAndScraped,
            QueryFindingKind::RegexNeedsReview => FindingId::RegexNeedsReview,
            QueryFindingKind::VariableNeedsReview => FindingId::VariableNeedsReview,
            QueryFindingKind::DuplicateGroupingLabel => FindingId::DuplicateGroupingLabel,
            QueryFindingKind::LabelNeedsReview => FindingId::LabelNeedsReview,
            QueryFindingKind::UnsupportedSyntax => FindingId::UnsupportedSyntax,
            QueryFindingKind::UnparseableQuery => FindingId::UnparseableQuery,
            QueryFindingKind::RejectedByPrometheusVersion => FindingId::RejectedByPrometheusVersion,
        }
    }

    /// Whether a finding of this kind keeps the query as written by default.
    pub(crate) fn blocks_rewrite(self) -> bool {
        matches!(
            self,
            QueryFindingKind::NoScrapedEquivalent
                | QueryFindingKind::AmbiguousApp
                | QueryFindingKind::PushedJobNotMigrated
                | QueryFindingKind::ComparesPushedAndScraped
                | QueryFindingKind::UnsupportedSyntax
                | QueryFindingKind::UnparseableQuery
                | QueryFindingKind::RejectedByPrometheusVersion
        )
    }
}

impl fmt::Display for QueryFindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id().as_str())
    }
}
