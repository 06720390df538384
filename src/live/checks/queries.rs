//! Checks after `dashboards`: every query the phase rewrote runs next to its original, with
//! Grafana's template variables filled in as Grafana would (each variable's first value from
//! Prometheus; `$__rate_interval` and friends from the scrape interval), and the results are
//! compared series by series. A rewritten query that comes back empty where the original had
//! data fails.
//!
//! The pairs come from the journal: the `dashboards` phase's before and after snapshots of
//! each file, scanned with [`crate::dashboard::scan`] and paired by JSON pointer (rule files:
//! `groups[].rules[].expr` by position). So this works for whatever the phase rewrote, without
//! knowing how it decided.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value as Json;

use super::runner::{Job, JobOutput, RunOptions, RunStats, is_query_error, run_jobs};
use super::settle;
use super::{Check, CheckKind, History, Progress, Status, VerifySettings, format_duration, unix_seconds};
use crate::dashboard::{self, Model, SiteKind};
use crate::live::compare::{SOURCE_LABELS, Tolerance, promql_string, reads_only_runtime_gauges, relative_difference};
use crate::live::error::LiveError;
use crate::live::model::{Labels, QueryData, Targets};
use crate::live::prometheus::PrometheusClient;
use crate::promql::fill::{self, TemplateFunction, VariableRef};
use crate::stack::Stack;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairKind {
    Panel,
    Variable,
    Annotation,
    Rule,
}

/// A query as the phase found it and as it left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryPair {
    /// JSON pointer, or `groups[0].rules[2].expr` in a rule file.
    pub location: String,
    /// `panel "Requests"`, `variable "page"`, `rule job:page_views:rate5m`.
    pub owner: String,
    pub kind: PairKind,
    pub old: String,
    pub new: String,
}

/// One file the phase rewrote: its query pairs and, for dashboards, its variables before and
/// after (a rewritten variable query lists other values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySource {
    pub file: String,
    pub old_variables: Vec<DashboardVariable>,
    pub new_variables: Vec<DashboardVariable>,
    pub pairs: Vec<QueryPair>,
}

/// Pairs the rewritten queries of one file from its text before and after the phase. `None`
/// for a file that is neither a dashboard nor a rule file.
pub fn pair_file(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        pair_dashboard(path, before, after)
    } else if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        pair_rules(path, before, after)
    } else {
        Ok(None)
    }
}

fn pair_dashboard(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let old = dashboard::scan(before).map_err(|e| format!("the version before the phase: {e}"))?;
    let new = dashboard::scan(after).map_err(|e| format!("the version after the phase: {e}"))?;
    if new.model == Model::NotADashboard {
        return Ok(None);
    }
    let old_sites: BTreeMap<&str, &dashboard::QuerySite> = old.sites.iter().map(|s| (s.pointer.as_str(), s)).collect();
    let mut pairs = Vec::new();
    for site in &new.sites {
        let kind = match site.kind {
            SiteKind::PanelTarget => PairKind::Panel,
            SiteKind::TemplateQuery => PairKind::Variable,
            SiteKind::Annotation => PairKind::Annotation,
            // A definition mirrors its query; a link is a URL, not a query.
            SiteKind::TemplateDefinition | SiteKind::PanelLink => continue,
        };
        let Some(old_site) = old_sites.get(site.pointer.as_str()) else {
            continue;
        };
        if old_site.value != site.value {
            pairs.push(QueryPair {
                location: site.pointer.clone(),
                owner: site.owner.to_string(),
                kind,
                old: old_site.value.clone(),
                new: site.value.clone(),
            });
        }
    }
    Ok(Some(QuerySource {
        file: path.to_string(),
        old_variables: dashboard_variables(before),
        new_variables: dashboard_variables(after),
        pairs,
    }))
}

/// One rule's `expr`, where it sits (`groups[0].rules[1].expr`) and whose it is (`record x`).
struct RuleExpr {
    location: String,
    owner: String,
    expr: String,
}

fn rule_exprs(text: &str) -> Result<Option<Vec<RuleExpr>>, String> {
    let value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    let Some(groups) = value.get("groups").and_then(yaml_serde::Value::as_sequence) else {
        return Ok(None);
    };
    let mut exprs = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let rules = group
            .get("rules")
            .and_then(yaml_serde::Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (r, rule) in rules.iter().enumerate() {
            let Some(expr) = rule.get("expr").and_then(|e| {
                e.as_str()
                    .map(str::to_string)
                    .or_else(|| e.as_i64().map(|n| n.to_string()))
            }) else {
                continue;
            };
            let name = ["record", "alert"]
                .iter()
                .find_map(|key| {
                    rule.get(*key)
                        .and_then(yaml_serde::Value::as_str)
                        .map(|n| format!("{key} {n}"))
                })
                .unwrap_or_else(|| "rule".to_string());
            exprs.push(RuleExpr {
                location: format!("groups[{g}].rules[{r}].expr"),
                owner: name,
                expr,
            });
        }
    }
    Ok(Some(exprs))
}

fn pair_rules(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let old = rule_exprs(before).map_err(|e| format!("the version before the phase: {e}"))?;
    let new = rule_exprs(after).map_err(|e| format!("the version after the phase: {e}"))?;
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(None);
    };
    let old: BTreeMap<&str, &str> = old.iter().map(|e| (e.location.as_str(), e.expr.as_str())).collect();
    let pairs = new
        .iter()
        .filter_map(|new| {
            let old_expr = *old.get(new.location.as_str())?;
            (old_expr != new.expr).then(|| QueryPair {
                location: new.location.clone(),
                owner: new.owner.clone(),
                kind: PairKind::Rule,
                old: old_expr.to_string(),
                new: new.expr.clone(),
            })
        })
        .collect();
    Ok(Some(QuerySource {
        file: path.to_string(),
        old_variables: Vec::new(),
        new_variables: Vec::new(),
        pairs,
    }))
}

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
            "__interval" => format_duration(self.scrape_interval),
            "__interval_ms" => millis(self.scrape_interval),
            "__rate_interval" => format_duration(rate),
            "__rate_interval_ms" => millis(rate),
            "__range" => format_duration(self.range),
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
fn variable_job(query: &str) -> Result<Option<Job>, String> {
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
async fn resolve_variables(
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

/// What a query (or a variable query) returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Data(QueryData),
    /// Label values (a `label_values()` variable).
    Values(Vec<String>),
    /// Prometheus refused or could not evaluate it.
    Failed(String),
    /// Not run (nothing to compare, e.g. `label_names()`).
    Skipped(String),
}

/// The verdict on one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairVerdict {
    pub status: Status,
    pub detail: String,
    pub series_old: usize,
    pub series_new: usize,
    pub max_relative_difference: Option<f64>,
    /// Set when the pair was compared with its ranges shortened to the rewrite's series' age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortened_range: Option<ShortenedRange>,
}

/// A query's longest range, and the shorter one it was compared over because the rewrite's
/// series had not existed that long (docs/verify.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShortenedRange {
    pub range_seconds: f64,
    pub compared_seconds: f64,
}

/// Series keyed by their labels except the ones that say where they came from (old and new
/// read different sources by design); values of a key are sorted.
pub(crate) fn keyed(data: &QueryData) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let key = |labels: &Labels| -> String {
        let body: Vec<String> = labels
            .iter()
            .filter(|(name, _)| !SOURCE_LABELS.contains(&name.as_str()))
            .map(|(name, value)| format!("{name}={}", promql_string(value)))
            .collect();
        format!("{{{}}}", body.join(", "))
    };
    let mut map: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    match data {
        QueryData::Vector(series) => {
            for s in series {
                map.entry(key(&s.metric)).or_default().push(s.sample.value);
            }
        }
        QueryData::Matrix(series) => {
            for s in series {
                if let Some(last) = s.samples.last() {
                    map.entry(key(&s.metric)).or_default().push(last.value);
                }
            }
        }
        QueryData::Scalar(point) => {
            map.insert("scalar".into(), vec![point.value]);
        }
        QueryData::String { value, .. } => return Err(value.clone()),
    }
    for values in map.values_mut() {
        values.sort_by(|a, b| a.total_cmp(b));
    }
    Ok(map)
}

fn count(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Data(QueryData::Vector(s)) => s.len(),
        Outcome::Data(QueryData::Matrix(s)) => s.len(),
        Outcome::Data(_) => 1,
        Outcome::Values(v) => v.len(),
        Outcome::Failed(_) | Outcome::Skipped(_) => 0,
    }
}

fn list(keys: &[&String]) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<&str> = keys.iter().take(SHOWN).map(|k| k.as_str()).collect();
    if keys.len() > SHOWN {
        format!("{} and {} more", shown.join(", "), keys.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// Compares what the original (`old`) and the rewritten query (`new`) returned. For label
/// values of a source label (`instance`, `job`…) only emptiness counts: the values differ by
/// design.
pub fn compare_outcomes(old: &Outcome, new: &Outcome, tolerance: Tolerance, values_label: Option<&str>) -> PairVerdict {
    let verdict = |status: Status, detail: String, max: Option<f64>| PairVerdict {
        status,
        detail,
        series_old: count(old),
        series_new: count(new),
        max_relative_difference: max,
        shortened_range: None,
    };
    match (old, new) {
        (_, Outcome::Skipped(why)) | (Outcome::Skipped(why), _) => {
            verdict(Status::Warn, format!("not compared: {why}"), None)
        }
        (Outcome::Failed(old_error), Outcome::Failed(new_error)) => verdict(
            Status::Warn,
            format!("the original fails too ({old_error}); the rewrite: {new_error}"),
            None,
        ),
        (_, Outcome::Failed(error)) => verdict(Status::Fail, format!("the rewritten query fails: {error}"), None),
        (Outcome::Failed(error), _) => verdict(
            Status::Pass,
            format!("the original failed ({error}); the rewritten query works"),
            None,
        ),
        (Outcome::Values(old_values), Outcome::Values(new_values)) => {
            let is_source = values_label.is_some_and(|label| SOURCE_LABELS.contains(&label));
            match (old_values.is_empty(), new_values.is_empty()) {
                (true, true) => verdict(Status::Warn, "no values on either side".into(), None),
                (false, true) => verdict(
                    Status::Fail,
                    format!("no values where the original listed {}", old_values.len()),
                    None,
                ),
                _ if is_source => verdict(
                    Status::Pass,
                    format!(
                        "{} values (of a source label, so other values by design)",
                        new_values.len()
                    ),
                    None,
                ),
                _ => {
                    let new_set: BTreeSet<&String> = new_values.iter().collect();
                    let missing: Vec<&String> = old_values.iter().filter(|v| !new_set.contains(v)).collect();
                    if missing.is_empty() {
                        verdict(Status::Pass, format!("the same {} values", old_values.len()), None)
                    } else {
                        verdict(Status::Fail, format!("values missing: {}", list(&missing)), None)
                    }
                }
            }
        }
        (Outcome::Data(old_data), Outcome::Data(new_data)) => {
            let (old_keys, new_keys) = match (keyed(old_data), keyed(new_data)) {
                (Ok(o), Ok(n)) => (o, n),
                (Err(o), Err(n)) if o == n => return verdict(Status::Pass, "the same string".into(), None),
                _ => {
                    return verdict(
                        Status::Fail,
                        format!(
                            "the original returned a {}, the rewrite a {}",
                            old_data.result_type(),
                            new_data.result_type()
                        ),
                        None,
                    );
                }
            };
            if old_keys.is_empty() && new_keys.is_empty() {
                return verdict(
                    Status::Warn,
                    "no data on either side: the original returns nothing either, so nothing to compare (not evidence against the rewrite)".into(),
                    None,
                );
            }
            if new_keys.is_empty() {
                return verdict(
                    Status::Fail,
                    format!("empty where the original returned {} series", count(old)),
                    None,
                );
            }
            if old_keys.is_empty() {
                return verdict(
                    Status::Pass,
                    format!(
                        "the original returned nothing; the rewrite returns {} series",
                        count(new)
                    ),
                    None,
                );
            }
            let missing: Vec<&String> = old_keys.keys().filter(|k| !new_keys.contains_key(*k)).collect();
            let mut worst: Option<(f64, &String)> = None;
            let mut differ = false;
            let mut count_mismatch: Vec<&String> = Vec::new();
            for (key, old_values) in &old_keys {
                let Some(new_values) = new_keys.get(key) else { continue };
                if old_values.len() != new_values.len() {
                    count_mismatch.push(key);
                }
                for (a, b) in old_values.iter().zip(new_values) {
                    let difference = relative_difference(*a, *b);
                    differ |= !tolerance.accepts(*a, *b);
                    if worst.is_none_or(|(d, _)| difference > d) {
                        worst = Some((difference, key));
                    }
                }
            }
            let max = worst.map(|(d, _)| d);
            let percent = |d: f64| format!("{:.1}%", d * 100.0);
            if !missing.is_empty() {
                verdict(
                    Status::Fail,
                    format!(
                        "{} of {} series missing: {}",
                        missing.len(),
                        old_keys.len(),
                        list(&missing)
                    ),
                    max,
                )
            } else if differ {
                let (difference, key) = worst.map_or((0.0, String::new()), |(d, k)| (d, k.clone()));
                verdict(
                    Status::Fail,
                    format!(
                        "differs by {} at {key} (tolerance {})",
                        percent(difference),
                        percent(tolerance.relative)
                    ),
                    max,
                )
            } else if !count_mismatch.is_empty() {
                verdict(
                    Status::Fail,
                    format!("a different number of series for {}", list(&count_mismatch)),
                    max,
                )
            } else {
                verdict(
                    Status::Pass,
                    format!(
                        "{} series agree (max difference {})",
                        old_keys.len(),
                        percent(max.unwrap_or(0.0))
                    ),
                    max,
                )
            }
        }
        _ => verdict(
            Status::Fail,
            "the original and the rewrite return different kinds of result".into(),
            None,
        ),
    }
}

/// One compared pair, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    pub file: String,
    pub location: String,
    pub owner: String,
    pub kind: PairKind,
    /// The queries as run: variables filled.
    pub old_query: String,
    pub new_query: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved_variables: Vec<String>,
    #[serde(flatten)]
    pub verdict: PairVerdict,
}

/// Runs every pair of every source (variables resolved per dashboard and side) and compares
/// the results.
pub async fn compare_query_sources(
    client: &PrometheusClient,
    sources: &[QuerySource],
    context: &FillContext,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<(Vec<PairResult>, Vec<String>, RunStats), LiveError> {
    let options = RunOptions {
        at: context.at,
        range_start: context.range_start(),
        concurrency: settings.concurrency,
        server_timeout: settings.query_timeout,
    };
    let mut stats = RunStats::default();
    let mut notes = Vec::new();
    struct Prepared {
        file: String,
        pair: QueryPair,
        old: fill::Filled,
        new: fill::Filled,
        job: Result<Option<(Job, Job)>, String>,
        label: Option<String>,
    }
    let mut prepared = Vec::new();
    for source in sources {
        let uses_variables = source
            .pairs
            .iter()
            .any(|p| !fill::variable_refs(&p.old).is_empty() || !fill::variable_refs(&p.new).is_empty());
        let (old_vars, new_vars) = if uses_variables {
            let (old_vars, old_stats) =
                resolve_variables(client, &source.old_variables, context, &options, progress).await?;
            let (new_vars, new_stats) =
                resolve_variables(client, &source.new_variables, context, &options, progress).await?;
            stats.add(old_stats);
            stats.add(new_stats);
            (old_vars, new_vars)
        } else {
            (Resolved::default(), Resolved::default())
        };
        for note in old_vars.notes.iter().chain(&new_vars.notes) {
            let note = format!("{}: {note}", source.file);
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        for pair in &source.pairs {
            let old = fill_query(&pair.old, &old_vars, context);
            let new = fill_query(&pair.new, &new_vars, context);
            let (job, label) = match pair.kind {
                PairKind::Variable => {
                    let label = match fill::template_function(&new.text) {
                        Some(Ok(TemplateFunction::LabelValues { label, .. })) => Some(label),
                        _ => None,
                    };
                    let job = match (variable_job(&old.text), variable_job(&new.text)) {
                        (Ok(Some(o)), Ok(Some(n))) => Ok(Some((o, n))),
                        (Ok(None), _) | (_, Ok(None)) => Ok(None),
                        (Err(e), _) | (_, Err(e)) => Err(e),
                    };
                    (job, label)
                }
                _ => (
                    Ok(Some((Job::Instant(old.text.clone()), Job::Instant(new.text.clone())))),
                    None,
                ),
            };
            prepared.push(Prepared {
                file: source.file.clone(),
                pair: pair.clone(),
                old,
                new,
                job,
                label,
            });
        }
    }
    let jobs: Vec<Job> = prepared
        .iter()
        .filter_map(|p| p.job.as_ref().ok().and_then(Option::as_ref))
        .flat_map(|(o, n)| [o.clone(), n.clone()])
        .collect();
    let (results, run) = run_jobs(client, jobs, &options, "running old and new queries", progress).await;
    stats.add(run);
    let mut results = results.into_iter();
    let outcome = |output: Option<Result<JobOutput, LiveError>>| -> Result<Outcome, LiveError> {
        match output {
            Some(Ok(JobOutput::Query(result))) => Ok(Outcome::Data(result.data)),
            Some(Ok(JobOutput::Values(values))) => Ok(Outcome::Values(values)),
            Some(Err(error)) if is_query_error(&error) => Ok(Outcome::Failed(match &error {
                LiveError::Api { error, .. } => error.clone(),
                other => other.to_string(),
            })),
            Some(Err(error)) => Err(error),
            None => Ok(Outcome::Skipped("no result".into())),
        }
    };
    let mut pairs = Vec::new();
    for p in prepared {
        let (old_outcome, new_outcome) = match &p.job {
            Ok(Some(_)) => (outcome(results.next())?, outcome(results.next())?),
            Ok(None) => {
                let why = Outcome::Skipped("label_names() and metrics() list names, not series".into());
                (why.clone(), why)
            }
            Err(message) => {
                let failed = Outcome::Failed(message.clone());
                (failed.clone(), failed)
            }
        };
        let mut verdict = compare_outcomes(&old_outcome, &new_outcome, settings.tolerance, p.label.as_deref());
        if differs_only_in_value(&verdict) && reads_only_runtime_gauges(&p.new.text) {
            verdict = by_presence(verdict);
        }
        let mut unresolved: Vec<String> = p.old.unresolved.clone();
        for name in &p.new.unresolved {
            if !unresolved.contains(name) {
                unresolved.push(name.clone());
            }
        }
        if !unresolved.is_empty() && verdict.status == Status::Warn {
            verdict
                .detail
                .push_str(&format!(" (no value for ${})", unresolved.join(", $")));
        }
        pairs.push(PairResult {
            file: p.file,
            location: p.pair.location.clone(),
            owner: p.pair.owner.clone(),
            kind: p.pair.kind,
            old_query: p.old.text,
            new_query: p.new.text,
            unresolved_variables: unresolved,
            verdict,
        });
    }
    Ok((pairs, notes, stats))
}

/// Both sides returned the same series, and only their values differ.
fn differs_only_in_value(verdict: &PairVerdict) -> bool {
    verdict.status == Status::Fail && verdict.series_new > 0 && verdict.detail.starts_with("differs by")
}

/// The verdict for a query over runtime gauges whose series are all there on both sides.
fn by_presence(verdict: PairVerdict) -> PairVerdict {
    PairVerdict {
        status: Status::Pass,
        detail: format!(
            "{} series on both sides; compared by presence, as a runtime gauge is (its values differ between two reads of the process: {})",
            verdict.series_new, verdict.detail
        ),
        ..verdict
    }
}

/// A verdict that may be the sampling's doing rather than the rewrite's: both returned series,
/// and their values (or counts) differ; or the rewrite returned nothing, which a query over a
/// range longer than the rewrite's series have existed does before its first point (a
/// `[5m:30s]` subquery); the second look fails it again unless those series exist.
fn worth_a_second_look(verdict: &PairVerdict) -> bool {
    verdict.status == Status::Fail
        && verdict.series_old > 0
        && ((verdict.series_new > 0
            && (verdict.detail.starts_with("differs by")
                || verdict.detail.starts_with("a different number of series")))
            || (verdict.series_new == 0 && verdict.detail.starts_with("empty where the original returned")))
}

/// One check line per file, from its compared pairs.
pub fn file_checks(file: &str, pairs: &[&PairResult]) -> Check {
    let failed: Vec<&&PairResult> = pairs.iter().filter(|p| p.verdict.status.fails()).collect();
    let warned = pairs.iter().filter(|p| p.verdict.status == Status::Warn).count();
    let queries = |n: usize| {
        if n == 1 {
            "1 rewritten query".to_string()
        } else {
            format!("{n} rewritten queries")
        }
    };
    let undecided = failed
        .iter()
        .filter(|p| p.verdict.status == Status::Inconclusive)
        .count();
    let (status, detail) = if pairs.is_empty() {
        (Status::Pass, "no rewritten query".to_string())
    } else if !failed.is_empty() && undecided == failed.len() {
        (
            Status::Inconclusive,
            format!(
                "cannot tell yet for {} of {} (see below); none differs",
                undecided,
                queries(pairs.len())
            ),
        )
    } else if !failed.is_empty() {
        (
            Status::Fail,
            format!(
                "{} of {} do not return what the originals did",
                failed.len(),
                queries(pairs.len())
            ),
        )
    } else if warned > 0 {
        (
            Status::Warn,
            format!(
                "{} return what the originals did; {warned} could not be compared",
                queries(pairs.len() - warned)
            ),
        )
    } else if pairs.len() == 1 {
        (
            Status::Pass,
            "1 rewritten query returns what the original did".to_string(),
        )
    } else {
        (
            Status::Pass,
            format!("{} return what the originals did", queries(pairs.len())),
        )
    };
    let mut check = Check::new(CheckKind::Queries, file, status, detail);
    for pair in failed {
        check = check.note(format!("{}: {}", pair.owner, pair.verdict.detail));
    }
    // Said on the check itself: these passed over less history than their range.
    let shortened: Vec<&&PairResult> = pairs
        .iter()
        .filter(|p| p.verdict.status == Status::Pass && p.verdict.shortened_range.is_some())
        .collect();
    if !shortened.is_empty() {
        check.detail.push_str(&format!(
            " ({} of them over a range shortened to the new series' age, below)",
            shortened.len()
        ));
        for pair in shortened {
            check = check.note(format!("{}: {}", pair.owner, pair.verdict.detail));
        }
    }
    check
}

/// The longest scrape interval among the gateway's and the apps' targets; 15 s (Grafana's
/// default) when Prometheus lists none.
pub fn scrape_interval_of(targets: &Targets, jobs: &[&str]) -> Duration {
    targets
        .active
        .iter()
        .filter(|t| jobs.contains(&t.scrape_pool.as_str()) || t.job().is_some_and(|job| jobs.contains(&job)))
        .filter_map(|t| t.scrape_interval_duration())
        .max()
        .unwrap_or(Duration::from_secs(15))
}

pub async fn query_checks(
    client: &PrometheusClient,
    stack: &Stack,
    history: &History,
    targets: &Targets,
    settings: &VerifySettings,
    progress: &Progress,
) -> Result<(Vec<Check>, Vec<PairResult>, RunStats), LiveError> {
    let mut checks = Vec::new();
    for (file, reason) in &history.unpaired {
        checks.push(Check::new(
            CheckKind::Queries,
            file,
            Status::Warn,
            format!("its queries could not be paired: {reason}"),
        ));
    }
    if history.query_sources.iter().all(|s| s.pairs.is_empty()) {
        checks.push(Check::new(
            CheckKind::Queries,
            "dashboards",
            Status::Pass,
            "the `dashboards` phase rewrote no query, so there is nothing to compare",
        ));
        return Ok((checks, Vec::new(), RunStats::default()));
    }
    let mut jobs: Vec<&str> = stack.settings.apps.iter().map(|a| a.job.as_str()).collect();
    if let Some(job) = stack.settings.gateway.as_ref().and_then(|g| g.job.as_deref()) {
        jobs.push(job);
    }
    let context = FillContext {
        at: SystemTime::now(),
        range: FillContext::DEFAULT_RANGE,
        scrape_interval: scrape_interval_of(targets, &jobs),
    };
    let (mut pairs, notes, mut stats) =
        compare_query_sources(client, &history.query_sources, &context, settings, progress).await?;
    // A pair that disagrees at one instant gets a second look: the pushed copy lags, counters
    // reset, new series are younger than a query's range (see [`settle`]).
    let differing: Vec<usize> = pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| worth_a_second_look(&p.verdict))
        .map(|(i, _)| i)
        .collect();
    if !differing.is_empty() {
        let started = std::time::Instant::now();
        let lag = settle::push_lag(client, context.scrape_interval, context.at).await;
        let now = unix_seconds(context.at);
        for i in differing {
            let Some(pair) = pairs.get_mut(i) else { continue };
            let settled = settle::second_look(
                client,
                &pair.old_query,
                &pair.new_query,
                context.at,
                lag,
                settings.tolerance,
                context.scrape_interval,
            )
            .await?;
            if let Some(verdict) = settled.verdict(&pair.verdict, now) {
                pair.verdict = verdict;
            }
            stats.queries += 2 * (settle::LAG_STEPS as usize + 1);
        }
        stats.wall_seconds += started.elapsed().as_secs_f64();
    }
    for source in &history.query_sources {
        let of_file: Vec<&PairResult> = pairs.iter().filter(|p| p.file == source.file).collect();
        if source.pairs.is_empty() {
            continue;
        }
        let mut check = file_checks(&source.file, &of_file);
        for note in notes.iter().filter(|n| n.starts_with(&format!("{}: ", source.file))) {
            check = check.note(note.clone());
        }
        if check.status != Status::Pass {
            check.notes.push(format!(
                "$__rate_interval = {}, $__interval = {}, variables at their first values",
                format_duration(context.scrape_interval * 4),
                format_duration(context.scrape_interval)
            ));
        }
        checks.push(check);
    }
    Ok((checks, pairs, stats))
}

#[cfg(test)]
mod tests;
