//! Async client for Pushgateway's `/api/v1/metrics`: which groups were pushed, with which
//! grouping labels, when, and what they hold.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::endpoint::Endpoint;
use super::error::{LiveError, body_prefix};
use super::http::{Body, HttpClient, RawResponse, decode_api};
use super::model::{Labels, MetricKind, parse_sample_value};

/// One pushed group (one grouping key).
#[derive(Debug, Clone, PartialEq)]
pub struct PushGroup {
    /// The grouping key: `job` and, when pushed with one, `instance` and any others.
    pub labels: Labels,
    pub last_push_successful: Option<bool>,
    /// Unix seconds of the last successful push: the only thing that ages when the pusher
    /// dies (the pushed series themselves look fresh forever).
    pub push_time_seconds: Option<f64>,
    /// Unix seconds of the last failed push; 0 when none failed.
    pub push_failure_time_seconds: Option<f64>,
    /// The pushed families, without the two `push_*` ones above.
    pub families: Vec<PushedFamily>,
}

impl PushGroup {
    pub fn job(&self) -> Option<&str> {
        self.labels.get("job").map(String::as_str)
    }

    /// `None` for a group pushed without an instance (`/metrics/job/batch-x`).
    pub fn instance(&self) -> Option<&str> {
        self.labels
            .get("instance")
            .map(String::as_str)
            .filter(|instance| !instance.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PushedFamily {
    pub name: String,
    pub kind: MetricKind,
    pub help: Option<String>,
    pub metrics: Vec<PushedMetric>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PushedMetric {
    /// All labels, grouping labels included (an empty `instance` shows as `""`).
    pub labels: Labels,
    pub value: PushedValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushedValue {
    Single(f64),
    /// Buckets as (upper bound, cumulative count), ascending.
    Histogram {
        buckets: Vec<(f64, f64)>,
        count: f64,
        sum: f64,
    },
    /// Quantiles as (quantile, value), ascending.
    Summary {
        quantiles: Vec<(f64, f64)>,
        count: f64,
        sum: f64,
    },
}

#[derive(Debug, Clone)]
pub struct PushgatewayClient {
    http: Arc<HttpClient>,
}

impl PushgatewayClient {
    pub fn new(endpoint: Endpoint) -> Result<PushgatewayClient, LiveError> {
        Ok(PushgatewayClient {
            http: Arc::new(HttpClient::new(endpoint)?),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.http.endpoint()
    }

    /// `GET /-/ready`.
    pub async fn ready(&self) -> Result<(), LiveError> {
        self.http.ready().await
    }

    /// `GET /api/v1/metrics`.
    pub async fn metrics(&self) -> Result<Vec<PushGroup>, LiveError> {
        let response = self
            .http
            .send(Method::GET, "api/v1/metrics", Body::Empty, "application/json")
            .await?;
        decode_groups(&response)
    }
}

fn decode_groups(response: &RawResponse) -> Result<Vec<PushGroup>, LiveError> {
    let (groups, _warnings) = decode_api::<Vec<serde_json::Map<String, Value>>>(response)?;
    groups
        .iter()
        .map(parse_group)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|detail| LiveError::Decode {
            url: response.url.clone(),
            status: response.status,
            detail,
            body: body_prefix(&response.body),
        })
}

/// A group object holds `labels`, `last_push_successful` and one key per metric family.
fn parse_group(group: &serde_json::Map<String, Value>) -> Result<PushGroup, String> {
    let mut labels = None;
    let mut last_push_successful = None;
    let mut push_time_seconds = None;
    let mut push_failure_time_seconds = None;
    let mut families = Vec::new();
    for (key, value) in group {
        match (key.as_str(), value) {
            // A family could be called `labels`; only a map of strings is the grouping key.
            ("labels", Value::Object(_)) if labels.is_none() && parse_labels(value).is_ok() => {
                labels = Some(parse_labels(value)?);
            }
            ("last_push_successful", Value::Bool(ok)) => last_push_successful = Some(*ok),
            (name, Value::Object(_)) => {
                let family = parse_family(name, value)?;
                match name {
                    "push_time_seconds" => push_time_seconds = single_value(&family),
                    "push_failure_time_seconds" => {
                        push_failure_time_seconds = single_value(&family);
                    }
                    _ => families.push(family),
                }
            }
            (name, _) => return Err(format!("group field {name:?} has an unexpected shape")),
        }
    }
    Ok(PushGroup {
        labels: labels.ok_or("a group has no \"labels\"")?,
        last_push_successful,
        push_time_seconds,
        push_failure_time_seconds,
        families,
    })
}

fn single_value(family: &PushedFamily) -> Option<f64> {
    match family.metrics.first()?.value {
        PushedValue::Single(value) => Some(value),
        _ => None,
    }
}

fn parse_labels(value: &Value) -> Result<Labels, String> {
    let object = value.as_object().ok_or("labels are not an object")?;
    object
        .iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name.clone(), text.clone())),
            _ => Err(format!("label {name:?} is not a string")),
        })
        .collect()
}

fn parse_family(name: &str, value: &Value) -> Result<PushedFamily, String> {
    let context = |detail: &str| format!("family {name:?}: {detail}");
    let kind_text = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| context("no \"type\""))?;
    let kind = MetricKind::parse(kind_text).ok_or_else(|| context(&format!("unknown type {kind_text:?}")))?;
    let help = value.get("help").and_then(Value::as_str).map(str::to_string);
    let metrics = value
        .get("metrics")
        .and_then(Value::as_array)
        .ok_or_else(|| context("no \"metrics\" list"))?
        .iter()
        .map(|metric| parse_metric(kind, metric).map_err(|detail| context(&detail)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PushedFamily {
        name: name.to_string(),
        kind,
        help,
        metrics,
    })
}

fn parse_metric(kind: MetricKind, metric: &Value) -> Result<PushedMetric, String> {
    let labels = parse_labels(metric.get("labels").unwrap_or(&Value::Null))?;
    let number = |field: &str| -> Result<f64, String> {
        let text = metric
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {field:?}"))?;
        parse_sample_value(text).ok_or_else(|| format!("{field} {text:?} is not a number"))
    };
    let pairs = |field: &str| -> Result<Vec<(f64, f64)>, String> {
        let object = metric
            .get(field)
            .and_then(Value::as_object)
            .ok_or_else(|| format!("no {field:?}"))?;
        let mut pairs = object
            .iter()
            .map(|(bound, value)| {
                let bound_value =
                    parse_sample_value(bound).ok_or_else(|| format!("{field} key {bound:?} is not a number"))?;
                let count = value
                    .as_str()
                    .and_then(parse_sample_value)
                    .ok_or_else(|| format!("{field} {bound:?} has no numeric value"))?;
                Ok((bound_value, count))
            })
            .collect::<Result<Vec<_>, String>>()?;
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(pairs)
    };
    let value = match kind {
        MetricKind::Histogram => PushedValue::Histogram {
            buckets: pairs("buckets")?,
            count: number("count")?,
            sum: number("sum")?,
        },
        MetricKind::Summary => PushedValue::Summary {
            quantiles: pairs("quantiles")?,
            count: number("count")?,
            sum: number("sum")?,
        },
        MetricKind::Counter | MetricKind::Gauge | MetricKind::Untyped => PushedValue::Single(number("value")?),
    };
    Ok(PushedMetric { labels, value })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn response(body: &str) -> RawResponse {
        RawResponse {
            url: "http://g/api/v1/metrics".into(),
            status: 200,
            content_type: None,
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
        }
    }

    /// Shape as Pushgateway 1.5 answers (trimmed from a live response).
    const TWO_GROUPS: &str = r#"{"status":"success","data":[
      {"labels":{"instance":"app-1","job":"metrics-api"},"last_push_successful":true,
       "lat":{"time_stamp":"2026-11-25T09:24:01Z","type":"HISTOGRAM","metrics":[
         {"buckets":{"+Inf":"2","0.1":"1"},"count":"2","labels":{"instance":"app-1","job":"metrics-api"},"sum":"0.3"}]},
       "page_views_total":{"time_stamp":"2026-11-25T09:24:01Z","type":"COUNTER","help":"Page views.","metrics":[
         {"labels":{"country":"de","instance":"app-1","job":"metrics-api","page":"/"},"value":"42"}]},
       "push_failure_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"app-1","job":"metrics-api"},"value":"0"}]},
       "push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"app-1","job":"metrics-api"},"value":"1.7955986414498205e+09"}]}},
      {"batch_done":{"type":"UNTYPED","metrics":[{"labels":{"instance":"","job":"batch-x"},"value":"1"}]},
       "labels":{"job":"batch-x"},"last_push_successful":true,
       "push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"","job":"batch-x"},"value":"1795598641.46"}]}}]}"#;

    #[test]
    fn groups_carry_grouping_labels_push_time_and_families() {
        let groups = decode_groups(&response(TWO_GROUPS)).unwrap();
        assert_eq!(groups.len(), 2);
        let app = &groups[0];
        assert_eq!((app.job(), app.instance()), (Some("metrics-api"), Some("app-1")));
        assert_eq!(app.push_time_seconds, Some(1795598641.4498205));
        assert_eq!(app.push_failure_time_seconds, Some(0.0));
        let names: Vec<&str> = app.families.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["lat", "page_views_total"]);
        assert_eq!(
            app.families[0].metrics[0].value,
            PushedValue::Histogram {
                buckets: vec![(0.1, 1.0), (f64::INFINITY, 2.0)],
                count: 2.0,
                sum: 0.3
            }
        );
        let batch = &groups[1];
        assert_eq!((batch.job(), batch.instance()), (Some("batch-x"), None));
        assert_eq!(batch.families[0].kind, MetricKind::Untyped);
    }

    #[test]
    fn a_malformed_family_is_a_decode_error_naming_it() {
        let err = decode_groups(&response(
            r#"{"status":"success","data":[{"labels":{"job":"j"},"x":{"type":"COUNTER","metrics":[{"labels":{},"value":"many"}]}}]}"#,
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("family \"x\": value \"many\" is not a number"),
            "{err}"
        );
    }
}
