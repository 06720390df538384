//! Grafana's template variables, filled in as Grafana would before a query pair runs: each
//! variable's first value from Prometheus, `$__rate_interval` and friends from the scrape
//! interval.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value as Json;

use super::check::{Progress, format_prometheus_duration, unix_seconds};
use super::runner::{Job, JobOutput, RunOptions, RunStats, is_query_error, run_jobs};
use super::selector::promql_string;
use crate::live::error::LiveError;
use crate::live::model::{Labels, QueryData};
use crate::live::prometheus::PrometheusClient;
use crate::promql::fill::{self, TemplateFunction, VariableRef};

/// A dashboard's template variable, as far as filling queries needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DashboardVariable {
    pub name: String,
    pub kind: VariableKind,
    pub multi: bool,
    pub include_all: bool,
    /// The saved selection, used when nothing better is known.
    pub current: Vec<String>,
    /// Grafana's `regex` option: which part of each value to keep.
    pub regex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "query")]
pub enum VariableKind {
    Query(String),
    /// Custom and interval variables: the values, in order.
    List(Vec<String>),
    /// Constant and text box variables.
    Text(String),
    /// Data source and ad-hoc variables: nothing PromQL reads.
    Other,
}

/// The template variables of a dashboard text (Classic, V1 or V2 resource), in order.
pub fn dashboard_variables(text: &str) -> Vec<DashboardVariable> {
    let Ok(root) = serde_json::from_str::<Json>(text.trim_start_matches('\u{feff}')) else {
        return Vec::new();
    };
    let spec = root.get("spec");
    if let Some(variables) = spec.and_then(|s| s.get("variables")).and_then(Json::as_array) {
        return variables.iter().filter_map(v2_variable).collect();
    }
    let dashboard = [spec, root.get("dashboard"), Some(&root)]
        .into_iter()
        .flatten()
        .find(|d| d.get("templating").is_some());
    dashboard
        .and_then(|d| d.pointer("/templating/list"))
        .and_then(Json::as_array)
        .map(|list| list.iter().filter_map(classic_variable).collect())
        .unwrap_or_default()
}

fn strings(value: Option<&Json>) -> Vec<String> {
    match value {
        Some(Json::String(text)) => vec![text.clone()],
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn option_values(variable: &Json) -> Vec<String> {
    variable
        .get("options")
        .and_then(Json::as_array)
        .map(|options| {
            options
                .iter()
                .filter_map(|o| o.get("value").and_then(Json::as_str))
                .filter(|v| *v != "$__all")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Grafana's custom-variable syntax: `a, b, text : value`, `\,` for a literal comma.
pub fn split_custom(query: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                current.push(',');
                chars.next();
            }
            ',' => values.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    values.push(current);
    values
        .into_iter()
        .map(|v| match v.split_once(" : ") {
            Some((_, value)) => value.trim().to_string(),
            None => v.trim().to_string(),
        })
        .filter(|v| !v.is_empty())
        .collect()
}

fn query_text(query: Option<&Json>) -> Option<String> {
    match query? {
        Json::String(text) => Some(text.clone()),
        object @ Json::Object(_) => ["query", "expr", "__legacyStringValue"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Json::as_str))
            .map(str::to_string),
        _ => None,
    }
}

fn make_variable(name: &str, kind_name: &str, fields: &Json, query: Option<String>) -> DashboardVariable {
    let text = query.clone().unwrap_or_default();
    let kind = match kind_name {
        "query" => VariableKind::Query(text),
        "custom" | "interval" => {
            let options = option_values(fields);
            VariableKind::List(if options.is_empty() {
                split_custom(&text)
            } else {
                options
            })
        }
        "constant" | "textbox" => VariableKind::Text(text),
        _ => VariableKind::Other,
    };
    let current = strings(fields.get("current").and_then(|c| c.get("value")))
        .into_iter()
        .filter(|v| v != "$__all")
        .collect();
    DashboardVariable {
        name: name.to_string(),
        kind,
        multi: fields.get("multi").and_then(Json::as_bool).unwrap_or(false),
        include_all: fields.get("includeAll").and_then(Json::as_bool).unwrap_or(false),
        current,
        regex: fields
            .get("regex")
            .and_then(Json::as_str)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    }
}

fn classic_variable(variable: &Json) -> Option<DashboardVariable> {
    let name = variable.get("name").and_then(Json::as_str)?;
    let kind = variable.get("type").and_then(Json::as_str).unwrap_or("");
    Some(make_variable(name, kind, variable, query_text(variable.get("query"))))
}

fn v2_variable(variable: &Json) -> Option<DashboardVariable> {
    let spec = variable.get("spec")?;
    let name = spec.get("name").and_then(Json::as_str)?;
    let kind = match variable.get("kind").and_then(Json::as_str)? {
        "QueryVariable" => "query",
        "CustomVariable" => "custom",
        "IntervalVariable" => "interval",
        "ConstantVariable" => "constant",
        "TextVariable" => "textbox",
        _ => "other",
    };
    let query = match kind {
        "query" => query_text(spec.get("query").and_then(|q| q.get("spec"))),
        _ => spec.get("query").and_then(Json::as_str).map(str::to_string),
    };
    Some(make_variable(name, kind, spec, query))
}

/// The time and scrape interval Grafana's built-in variables are computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillContext {
    pub at: SystemTime,
    /// The dashboard's time range (`$__range`), ending at `at`.
    pub range: Duration,
    /// The longer of the gateway's and the app's scrape interval.
    pub scrape_interval: Duration,
}

impl FillContext {
    pub const DEFAULT_RANGE: Duration = Duration::from_secs(3600);

    pub fn range_start(&self) -> SystemTime {
        self.at.checked_sub(self.range).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// `$__interval` (the scrape interval, Grafana's lower bound), `$__rate_interval`
    /// (4 × the scrape interval), `$__range`, `$__from`/`$__to` and their `_ms`/`_s` forms.
    pub fn builtin(&self, reference: &VariableRef) -> Option<String> {
        let millis = |d: Duration| d.as_millis().to_string();
        let rate = self.scrape_interval * 4;
        let from_ms = (unix_seconds(self.range_start()) * 1000.0).round() as i64;
        let to_ms = (unix_seconds(self.at) * 1000.0).round() as i64;
        let time = |ms: i64| match reference.format.as_deref() {
            Some("date:seconds") => (ms / 1000).to_string(),
            Some("date") | Some("date:iso") => {
                let time = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
                humantime::format_rfc3339_millis(time).to_string()
            }
            _ => ms.to_string(),
        };
        Some(match reference.name.as_str() {
            "__interval" => format_prometheus_duration(self.scrape_interval),
            "__interval_ms" => millis(self.scrape_interval),
            "__rate_interval" => format_prometheus_duration(rate),
            "__rate_interval_ms" => millis(rate),
            "__range" => format_prometheus_duration(self.range),
            "__range_s" => self.range.as_secs().to_string(),
            "__range_ms" => millis(self.range),
            "__from" => time(from_ms),
            "__to" => time(to_ms),
            _ => return None,
        })
    }
}

/// Variables with the value each query uses (first values, as the brief for `verify` says).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    values: BTreeMap<String, (DashboardVariable, String)>,
    pub notes: Vec<String>,
}

impl Resolved {
    pub fn insert(&mut self, variable: &DashboardVariable, value: String) {
        self.values.insert(variable.name.clone(), (variable.clone(), value));
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(_, value)| value.as_str())
    }

    /// The text a variable reference becomes, formatted as Grafana's Prometheus data source
    /// does: regex-escaped for multi-value and "All" variables and `:regex`, raw for `:raw`.
    pub fn format(&self, reference: &VariableRef) -> Option<String> {
        let (variable, value) = self.values.get(&reference.name)?;
        Some(match reference.format.as_deref() {
            Some("regex") => fill::regex_escape(value),
            Some("queryparam") => format!("var-{}={value}", variable.name),
            Some(_) => value.clone(),
            None if variable.multi || variable.include_all => fill::regex_escape(value),
            None => value.replace('\\', "\\\\"),
        })
    }
}

/// Fills a query with resolved variables and the built-ins.
pub fn fill_query(query: &str, resolved: &Resolved, context: &FillContext) -> fill::Filled {
    fill::fill(query, |reference| {
        resolved.format(reference).or_else(|| context.builtin(reference))
    })
}

/// Keeps the part of each value Grafana's variable `regex` keeps (`/pattern/`, the first
/// capture group when there is one); values it does not match are dropped.
pub fn apply_variable_regex(values: Vec<String>, regex: Option<&str>) -> Vec<String> {
    let Some(pattern) = regex else {
        return values;
    };
    let pattern = pattern
        .strip_prefix('/')
        .and_then(|p| p.rsplit_once('/'))
        .map(|(body, flags)| {
            if flags.contains('i') {
                format!("(?i){body}")
            } else {
                body.to_string()
            }
        })
        .unwrap_or_else(|| pattern.to_string());
    let Ok(regex) = regex::Regex::new(&pattern) else {
        return values;
    };
    values
        .into_iter()
        .filter_map(|value| {
            let captures = regex.captures(&value)?;
            let kept = captures
                .name("value")
                .or_else(|| captures.get(1))
                .or_else(|| captures.get(0))?;
            Some(kept.as_str().to_string())
        })
        .collect()
}

/// A series as Grafana's `query_result()` lists it: `name{labels} value timestamp`.
fn series_text(labels: &Labels, value: f64, timestamp: f64) -> String {
    let name = labels.get("__name__").cloned().unwrap_or_default();
    let body: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={}", promql_string(v)))
        .collect();
    format!(
        "{name}{{{}}} {value} {}",
        body.join(", "),
        (timestamp * 1000.0).round() as i64
    )
}

/// The job a variable query needs: label values, or an instant query for `query_result()` and
/// plain PromQL. `None` for `label_names()`/`metrics()`.
pub(crate) fn variable_job(query: &str) -> Result<Option<Job>, String> {
    match fill::template_function(query) {
        Some(Err(message)) => Err(message),
        Some(Ok(TemplateFunction::LabelValues { selector, label })) => Ok(Some(Job::LabelValues { label, selector })),
        Some(Ok(TemplateFunction::QueryResult { expr })) => Ok(Some(Job::Instant(expr))),
        Some(Ok(TemplateFunction::Other)) => Ok(None),
        None => Ok(Some(Job::Instant(query.to_string()))),
    }
}

fn values_of(output: &JobOutput) -> Vec<String> {
    match output {
        JobOutput::Values(values) => values.clone(),
        JobOutput::Query(result) => match &result.data {
            QueryData::Vector(series) => series
                .iter()
                .map(|s| series_text(&s.metric, s.sample.value, s.sample.timestamp))
                .collect(),
            QueryData::Scalar(point) => vec![point.value.to_string()],
            QueryData::String { value, .. } => vec![value.clone()],
            QueryData::Matrix(series) => series
                .iter()
                .filter_map(|s| {
                    let last = s.samples.last()?;
                    Some(series_text(&s.metric, last.value, last.timestamp))
                })
                .collect(),
        },
    }
}

/// Resolves a dashboard's variables in order (a variable's query may use earlier ones).
pub(crate) async fn resolve_variables(
    client: &PrometheusClient,
    variables: &[DashboardVariable],
    context: &FillContext,
    options: &RunOptions,
    progress: &Progress,
) -> Result<(Resolved, RunStats), LiveError> {
    let mut resolved = Resolved::default();
    let mut stats = RunStats::default();
    for variable in variables {
        let values: Vec<String> = match &variable.kind {
            VariableKind::Query(query) => {
                let filled = fill_query(query, &resolved, context);
                match variable_job(&filled.text) {
                    Ok(Some(job)) => {
                        let (mut results, run) = run_jobs(client, vec![job], options, "variables", progress).await;
                        stats.add(run);
                        match results.pop() {
                            Some(Ok(output)) => apply_variable_regex(values_of(&output), variable.regex.as_deref()),
                            Some(Err(error)) if is_query_error(&error) => {
                                resolved
                                    .notes
                                    .push(format!("variable `{}`: its query fails: {error}", variable.name));
                                Vec::new()
                            }
                            Some(Err(error)) => return Err(error),
                            None => Vec::new(),
                        }
                    }
                    Ok(None) => Vec::new(),
                    Err(message) => {
                        resolved.notes.push(format!("variable `{}`: {message}", variable.name));
                        Vec::new()
                    }
                }
            }
            VariableKind::List(values) => values.clone(),
            VariableKind::Text(text) => vec![text.clone()],
            VariableKind::Other => continue,
        };
        match values.into_iter().next().or_else(|| variable.current.first().cloned()) {
            Some(value) => resolved.insert(variable, value),
            None => resolved.notes.push(format!(
                "variable `{}` has no value; queries keep `${}` as written",
                variable.name, variable.name
            )),
        }
    }
    Ok((resolved, stats))
}
