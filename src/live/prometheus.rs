//! Async client for the Prometheus HTTP API (and Mimir/Cortex/Thanos, which share it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::endpoint::Endpoint;
use super::error::{LiveError, body_prefix};
use super::http::{Body, HttpClient, RawResponse, decode_api, status_error};
use super::model::{
    BuildInfo, Flags, InstantSeries, MetricMetadata, QueryData, QueryResult, QueryStats, RangeSeries, SamplePoint,
    Targets,
};

const JSON: &str = "application/json";

/// Per-query options beyond the expression and time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    /// Ask for `stats=all` and return Prometheus's own timings in [`QueryResult::stats`].
    pub stats: bool,
    /// Prometheus's `timeout` parameter: the server gives up after this long.
    pub server_timeout: Option<Duration>,
}

impl QueryOptions {
    pub fn with_stats() -> Self {
        QueryOptions {
            stats: true,
            server_timeout: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrometheusClient {
    http: Arc<HttpClient>,
}

impl PrometheusClient {
    pub fn new(endpoint: Endpoint) -> Result<PrometheusClient, LiveError> {
        Ok(PrometheusClient {
            http: Arc::new(HttpClient::new(endpoint)?),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.http.endpoint()
    }

    /// `GET /-/ready`: `Ok` once Prometheus serves queries.
    pub async fn ready(&self) -> Result<(), LiveError> {
        self.http.ready().await
    }

    /// `GET /api/v1/targets`: active and dropped targets.
    pub async fn targets(&self) -> Result<Targets, LiveError> {
        self.get_api("api/v1/targets").await
    }

    /// Instant query at `at` (Prometheus's "now" when `None`).
    pub async fn query(&self, expr: &str, at: Option<SystemTime>) -> Result<QueryResult, LiveError> {
        self.query_with(expr, at, &QueryOptions::default()).await
    }

    pub async fn query_with(
        &self,
        expr: &str,
        at: Option<SystemTime>,
        options: &QueryOptions,
    ) -> Result<QueryResult, LiveError> {
        let mut form = vec![("query".to_string(), expr.to_string())];
        if let Some(at) = at {
            form.push(("time".into(), unix_seconds_text(at)));
        }
        add_options(&mut form, options);
        self.run_query("api/v1/query", form).await
    }

    /// Range query; `step` must be positive.
    pub async fn query_range(
        &self,
        expr: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<QueryResult, LiveError> {
        self.query_range_with(expr, start, end, step, &QueryOptions::default())
            .await
    }

    pub async fn query_range_with(
        &self,
        expr: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
        options: &QueryOptions,
    ) -> Result<QueryResult, LiveError> {
        let mut form = vec![
            ("query".to_string(), expr.to_string()),
            ("start".into(), unix_seconds_text(start)),
            ("end".into(), unix_seconds_text(end)),
            ("step".into(), format!("{:.3}", step.as_secs_f64())),
        ];
        add_options(&mut form, options);
        self.run_query("api/v1/query_range", form).await
    }

    /// Runs instant queries with at most `concurrency` in flight; results come back in the
    /// order of `exprs`, one per expression, failures included. `at` pins every query to
    /// the same evaluation time so their results can be compared.
    pub async fn query_many<I, S>(
        &self,
        exprs: I,
        at: Option<SystemTime>,
        concurrency: usize,
    ) -> Vec<Result<QueryResult, LiveError>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bounded(exprs, concurrency, move |client, expr| async move {
            client.query(&expr, at).await
        })
        .await
    }

    /// Range queries over one `start`..`end` at one `step`, at most `concurrency` in flight;
    /// results in the order of `exprs`, failures included. One grid for all, so the points
    /// of two series line up by timestamp.
    pub async fn query_range_many<I, S>(
        &self,
        exprs: I,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
        concurrency: usize,
    ) -> Vec<Result<QueryResult, LiveError>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bounded(exprs, concurrency, move |client, expr| async move {
            client.query_range(&expr, start, end, step).await
        })
        .await
    }

    /// Runs `request` for every expression with at most `concurrency` in flight; results in
    /// the order of `exprs`.
    async fn bounded<I, S, F, Fut>(
        &self,
        exprs: I,
        concurrency: usize,
        request: F,
    ) -> Vec<Result<QueryResult, LiveError>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        F: Fn(PrometheusClient, String) -> Fut,
        Fut: std::future::Future<Output = Result<QueryResult, LiveError>> + Send + 'static,
    {
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = Vec::new();
        for expr in exprs {
            let expr: String = expr.into();
            let permits = Arc::clone(&permits);
            let task_expr = expr.clone();
            let query = request(self.clone(), expr.clone());
            let handle = tokio::spawn(async move {
                // The semaphore is never closed, so acquiring only fails if it were.
                let _permit = permits.acquire_owned().await.map_err(|e| LiveError::Task {
                    expr: task_expr,
                    detail: e.to_string(),
                })?;
                query.await
            });
            tasks.push((expr, handle));
        }
        let mut results = Vec::with_capacity(tasks.len());
        for (expr, handle) in tasks {
            results.push(match handle.await {
                Ok(result) => result,
                Err(join_error) => Err(LiveError::Task {
                    expr,
                    detail: join_error.to_string(),
                }),
            });
        }
        results
    }

    /// `GET /api/v1/status/config`: the configuration Prometheus runs, normalised by
    /// Prometheus (defaults filled in, comments gone) — not the file's text.
    pub async fn status_config(&self) -> Result<String, LiveError> {
        #[derive(Deserialize)]
        struct Config {
            yaml: String,
        }
        let config: Config = self.get_api("api/v1/status/config").await?;
        Ok(config.yaml)
    }

    /// `GET /api/v1/status/flags`.
    pub async fn flags(&self) -> Result<Flags, LiveError> {
        self.get_api("api/v1/status/flags").await
    }

    /// `GET /api/v1/status/buildinfo`.
    pub async fn buildinfo(&self) -> Result<BuildInfo, LiveError> {
        self.get_api("api/v1/status/buildinfo").await
    }

    /// `GET /api/v1/metadata`, for one metric or all: name → what targets reported.
    pub async fn metadata(&self, metric: Option<&str>) -> Result<BTreeMap<String, Vec<MetricMetadata>>, LiveError> {
        let path = match metric {
            Some(name) => format!("api/v1/metadata?metric={}", percent_encode_query(name)),
            None => "api/v1/metadata".to_string(),
        };
        self.get_api(&path).await
    }

    /// `GET /api/v1/label/<label>/values`: the values of one label, sorted, over series that
    /// match `selector` (all series when `None`) between `start` and `end` — what Grafana's
    /// `label_values(...)` variables list.
    pub async fn label_values(
        &self,
        label: &str,
        selector: Option<&str>,
        start: Option<SystemTime>,
        end: Option<SystemTime>,
    ) -> Result<Vec<String>, LiveError> {
        let mut params: Vec<String> = Vec::new();
        if let Some(selector) = selector {
            params.push(format!("match[]={}", percent_encode_query(selector)));
        }
        if let Some(start) = start {
            params.push(format!("start={}", unix_seconds_text(start)));
        }
        if let Some(end) = end {
            params.push(format!("end={}", unix_seconds_text(end)));
        }
        let mut path = format!("api/v1/label/{}/values", percent_encode_query(label));
        if !params.is_empty() {
            path.push('?');
            path.push_str(&params.join("&"));
        }
        self.get_api(&path).await
    }

    /// `GET /api/v1/rules`: the rule groups Prometheus has loaded, by name and file.
    pub async fn rule_groups(&self) -> Result<Vec<RuleGroup>, LiveError> {
        #[derive(Deserialize)]
        struct Groups {
            #[serde(default)]
            groups: Vec<RuleGroup>,
        }
        let groups: Groups = self.get_api("api/v1/rules").await?;
        Ok(groups.groups)
    }

    /// `POST /-/reload`. 200 → the new configuration is live (new targets appear a few
    /// seconds later, see docs/label-facts.md, reload); 403 → the lifecycle API is off; 500 → the
    /// configuration is invalid and the old one stays live, with Prometheus's reason.
    pub async fn reload(&self) -> Result<(), LiveError> {
        let response = self
            .http
            .send(Method::POST, "-/reload", Body::Empty, "text/plain")
            .await?;
        match response.status {
            200..=299 => Ok(()),
            403 => Err(LiveError::LifecycleDisabled {
                url: response.url,
                body: body_prefix(&response.body),
            }),
            500 => Err(LiveError::ConfigRejected {
                url: response.url,
                body: body_prefix(&response.body),
            }),
            _ => Err(status_error(&response)),
        }
    }

    async fn get_api<T: DeserializeOwned>(&self, path: &str) -> Result<T, LiveError> {
        let response = self.http.send(Method::GET, path, Body::Empty, JSON).await?;
        Ok(decode_api::<T>(&response)?.0)
    }

    /// Queries go as POST forms: long PromQL (rewritten dashboards) would overflow URL limits.
    async fn run_query(&self, path: &str, form: Vec<(String, String)>) -> Result<QueryResult, LiveError> {
        let response = self.http.send(Method::POST, path, Body::Form(form), JSON).await?;
        decode_query(&response)
    }
}

/// One loaded rule group (`/api/v1/rules`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default)]
    pub file: String,
}

fn add_options(form: &mut Vec<(String, String)>, options: &QueryOptions) {
    if options.stats {
        form.push(("stats".into(), "all".into()));
    }
    if let Some(timeout) = options.server_timeout {
        form.push(("timeout".into(), format!("{}ms", timeout.as_millis().max(1))));
    }
}

/// Unix seconds with millisecond precision, the resolution Prometheus keeps.
pub fn unix_seconds_text(time: SystemTime) -> String {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => format!("{:.3}", since.as_secs_f64()),
        Err(before) => format!("-{:.3}", before.duration().as_secs_f64()),
    }
}

fn percent_encode_query(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b':' | b'-' | b'.') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct RawQueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
    stats: Option<QueryStats>,
}

fn decode_query(response: &RawResponse) -> Result<QueryResult, LiveError> {
    let (raw, warnings) = decode_api::<RawQueryData>(response)?;
    let bad = |detail: String| LiveError::Decode {
        url: response.url.clone(),
        status: response.status,
        detail,
        body: body_prefix(&response.body),
    };
    let data = match raw.result_type.as_str() {
        "vector" => QueryData::Vector(
            serde_json::from_value::<Vec<InstantSeries>>(raw.result).map_err(|e| bad(format!("vector result: {e}")))?,
        ),
        "matrix" => QueryData::Matrix(
            serde_json::from_value::<Vec<RangeSeries>>(raw.result).map_err(|e| bad(format!("matrix result: {e}")))?,
        ),
        "scalar" => QueryData::Scalar(
            serde_json::from_value::<SamplePoint>(raw.result).map_err(|e| bad(format!("scalar result: {e}")))?,
        ),
        "string" => {
            let (timestamp, value) =
                serde_json::from_value::<(f64, String)>(raw.result).map_err(|e| bad(format!("string result: {e}")))?;
            QueryData::String { timestamp, value }
        }
        other => return Err(bad(format!("unknown resultType {other:?}"))),
    };
    Ok(QueryResult {
        data,
        warnings,
        stats: raw.stats,
        elapsed: response.elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &str) -> RawResponse {
        RawResponse {
            url: "http://p/api/v1/query".into(),
            status: 200,
            content_type: Some("application/json".into()),
            body: body.as_bytes().to_vec(),
            elapsed: Duration::from_millis(3),
        }
    }

    #[test]
    fn vector_results_with_stats_decode() {
        let result = decode_query(&response(
            r#"{"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"__name__":"page_views_total","instance":"app-1","job":"metrics-api","page":"/"},
               "value":[1795598648.762,"42"]}],
              "stats":{"timings":{"evalTotalTime":0.000930444,"resultSortTime":0,
                "queryPreparationTime":0.000331774,"innerEvalTime":0.000556538,
                "execQueueTime":0.000212867,"execTotalTime":0.001152605},
                "samples":{"totalQueryableSamples":2,"peakSamples":2}}}}"#,
        ))
        .unwrap();
        let series = result.data.as_vector();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].metric["instance"], "app-1");
        assert_eq!(series[0].sample.value, 42.0);
        let stats = result.stats.unwrap();
        assert_eq!(stats.timings.exec_total(), Duration::from_nanos(1_152_605));
        assert_eq!(stats.samples.unwrap().peak_samples, 2);
    }

    #[test]
    fn matrix_scalar_and_string_results_decode() {
        let matrix = decode_query(&response(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"job":"a"},"values":[[1,"4"],[2,"5"]]}]}}"#,
        ))
        .unwrap();
        assert_eq!(matrix.data.as_matrix()[0].samples.len(), 2);
        let scalar = decode_query(&response(
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1.5"]}}"#,
        ))
        .unwrap();
        assert_eq!(
            scalar.data,
            QueryData::Scalar(SamplePoint {
                timestamp: 1.0,
                value: 1.5
            })
        );
        let string = decode_query(&response(
            r#"{"status":"success","data":{"resultType":"string","result":[1,"abc"]}}"#,
        ))
        .unwrap();
        assert_eq!(string.data.result_type(), "string");
    }

    #[test]
    fn a_sample_that_is_not_a_number_is_a_decode_error_not_a_panic() {
        let err = decode_query(&response(
            r#"{"status":"success","data":{"resultType":"vector","result":[
              {"metric":{},"value":[1,"lots"]}]}}"#,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("\"lots\" is not a number"), "{err}");
    }

    #[test]
    fn times_are_sent_as_unix_seconds_with_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_591_903_702);
        assert_eq!(unix_seconds_text(t), "1795591903.702");
    }
}
