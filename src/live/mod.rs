//! Live checks against running servers: the Prometheus HTTP API, Pushgateway's API and an
//! app's `/metrics` page, plus the dual-run comparison and the "gone" check built on them.
//!
//! Clients are async (reqwest + tokio, rustls). Every failure is a [`LiveError`] naming the
//! URL; nothing here panics on what a server sends, and every call is bounded in time.

pub mod checks;
pub mod compare;
pub mod endpoint;
pub mod error;
pub mod exposition;
mod http;
pub mod model;
pub mod observe;
pub mod prometheus;
pub mod pushgateway;

pub use compare::{
    CompareSettings, ComparedBy, DualRunReport, DualRunSpec, GoneReport, GoneSpec, MetricComparison, PushSource,
    PushedGroupRef, ScrapeTargetRef, Tolerance, Verdict, check_gone, compare_dual_run,
};
pub use endpoint::{Auth, AuthEnv, Endpoint, RetryPolicy, Secret, TlsOptions, connection_from_sources};
pub use error::LiveError;
pub use exposition::{ExpositionReport, analyze_exposition, check_exposition, parse_exposition};
pub use http::{MAX_BODY_BYTES, RawResponse};
pub use model::{
    BuildInfo, Flags, InstantSeries, Labels, MetricKind, QueryData, QueryResult, QueryStats, QueryTimings, RangeSeries,
    SamplePoint, Target, TargetHealth, Targets,
};
pub use prometheus::{PrometheusClient, QueryOptions, RuleGroup};
pub use pushgateway::{PushGroup, PushedFamily, PushedMetric, PushedValue, PushgatewayClient};
