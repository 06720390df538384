//! Runs many Prometheus requests with bounded concurrency, all pinned to one evaluation time,
//! reporting progress and adding up Prometheus's own timings (`stats=all`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::check::{Progress, ProgressEvent};
use crate::live::error::LiveError;
use crate::live::model::QueryResult;
use crate::live::prometheus::{PrometheusClient, QueryOptions};

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// An instant query.
    Instant(String),
    /// `label_values([selector,] label)` over the range.
    LabelValues { label: String, selector: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobOutput {
    Query(QueryResult),
    Values(Vec<String>),
}

/// Totals of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RunStats {
    pub queries: usize,
    /// Our wall time for the batch, seconds.
    pub wall_seconds: f64,
    /// Sum of Prometheus's `execTotalTime` over the instant queries, seconds.
    pub server_seconds: f64,
}

impl RunStats {
    pub fn add(&mut self, other: RunStats) {
        self.queries += other.queries;
        self.wall_seconds += other.wall_seconds;
        self.server_seconds += other.server_seconds;
    }
}

/// Where and how the batch runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Evaluation time of every instant query, end of the label-values range.
    pub at: SystemTime,
    /// Start of the label-values range (Grafana asks over the dashboard's time range).
    pub range_start: SystemTime,
    pub concurrency: usize,
    /// Prometheus's own `timeout` per query.
    pub server_timeout: Duration,
}

/// Runs every job; results come back in order, one per job.
pub async fn run_jobs(
    client: &PrometheusClient,
    jobs: Vec<Job>,
    options: &RunOptions,
    label: &str,
    progress: &Progress,
) -> (Vec<Result<JobOutput, LiveError>>, RunStats) {
    let started = Instant::now();
    let total = jobs.len();
    progress(ProgressEvent::Start {
        label,
        total: total as u64,
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let query_options = QueryOptions {
        stats: true,
        server_timeout: Some(options.server_timeout),
    };
    let mut handles = Vec::with_capacity(total);
    for job in jobs {
        let client = client.clone();
        let permits = Arc::clone(&permits);
        let query_options = query_options.clone();
        let progress = Arc::clone(progress);
        let (at, range_start) = (options.at, options.range_start);
        let described = describe(&job);
        let handle = tokio::spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail in practice.
            let _permit = permits.acquire_owned().await.map_err(|e| LiveError::Task {
                expr: describe(&job),
                detail: e.to_string(),
            })?;
            let result = match &job {
                Job::Instant(expr) => client
                    .query_with(expr, Some(at), &query_options)
                    .await
                    .map(JobOutput::Query),
                Job::LabelValues { label, selector } => client
                    .label_values(label, selector.as_deref(), Some(range_start), Some(at))
                    .await
                    .map(JobOutput::Values),
            };
            progress(ProgressEvent::Advance);
            result
        });
        handles.push((described, handle));
    }
    let mut results = Vec::with_capacity(total);
    let mut server = Duration::ZERO;
    for (described, handle) in handles {
        let result = match handle.await {
            Ok(result) => result,
            Err(join_error) => Err(LiveError::Task {
                expr: described,
                detail: join_error.to_string(),
            }),
        };
        if let Ok(JobOutput::Query(query)) = &result
            && let Some(stats) = &query.stats
        {
            server += stats.timings.exec_total();
        }
        results.push(result);
    }
    progress(ProgressEvent::Finish);
    let stats = RunStats {
        queries: total,
        wall_seconds: started.elapsed().as_secs_f64(),
        server_seconds: server.as_secs_f64(),
    };
    (results, stats)
}

fn describe(job: &Job) -> String {
    match job {
        Job::Instant(expr) => expr.clone(),
        Job::LabelValues { label, selector: None } => format!("label_values({label})"),
        Job::LabelValues {
            label,
            selector: Some(selector),
        } => format!("label_values({selector}, {label})"),
    }
}

/// Whether a query error is the query's fault (Prometheus refused or could not evaluate it:
/// 400 bad_data, 422 execution) rather than the server's or the network's.
pub fn is_query_error(error: &LiveError) -> bool {
    matches!(error, LiveError::Api { status: 400 | 422, .. })
}
