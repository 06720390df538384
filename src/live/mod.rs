//! Clients for running servers: the Prometheus HTTP API, Pushgateway's API and an app's
//! `/metrics` page, and the text exposition format that page serves. The checks built on
//! them (dual-run comparison, "gone", the gate) live in [`crate::verify`].
//!
//! Clients are async (reqwest + tokio, rustls). Every failure is a [`LiveError`] naming the
//! URL; nothing here panics on what a server sends, and every call is bounded in time.

pub mod endpoint;
pub mod error;
pub mod exposition;
mod http;
pub mod model;
pub mod observe;
pub mod prometheus;
pub mod pushgateway;

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
