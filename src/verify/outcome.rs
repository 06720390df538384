//! The verdict on one query pair: what the original and the rewrite returned, compared
//! series by series.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::check::Status;
use super::compare::{Tolerance, relative_difference};
use super::selector::{SOURCE_LABELS, promql_string};
use crate::live::model::{Labels, QueryData};

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
        Outcome::Data(data) => series_count(data),
        Outcome::Values(v) => v.len(),
        Outcome::Failed(_) | Outcome::Skipped(_) => 0,
    }
}

fn series_count(data: &QueryData) -> usize {
    match data {
        QueryData::Vector(s) => s.len(),
        QueryData::Matrix(s) => s.len(),
        _ => 1,
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

/// A verdict's status, what it says, and the largest relative difference seen.
type Judged = (Status, String, Option<f64>);

/// Compares what the original (`old`) and the rewritten query (`new`) returned. For label
/// values of a source label (`instance`, `job`…) only emptiness counts: the values differ by
/// design.
pub fn compare_outcomes(old: &Outcome, new: &Outcome, tolerance: Tolerance, values_label: Option<&str>) -> PairVerdict {
    let (status, detail, max_relative_difference) = match (old, new) {
        (_, Outcome::Skipped(why)) | (Outcome::Skipped(why), _) => (Status::Warn, format!("not compared: {why}"), None),
        (Outcome::Failed(old_error), Outcome::Failed(new_error)) => (
            Status::Warn,
            format!("the original fails too ({old_error}); the rewrite: {new_error}"),
            None,
        ),
        (_, Outcome::Failed(error)) => (Status::Fail, format!("the rewritten query fails: {error}"), None),
        (Outcome::Failed(error), _) => (
            Status::Pass,
            format!("the original failed ({error}); the rewritten query works"),
            None,
        ),
        (Outcome::Values(old_values), Outcome::Values(new_values)) => {
            compare_values(old_values, new_values, values_label)
        }
        (Outcome::Data(old_data), Outcome::Data(new_data)) => compare_data(old_data, new_data, tolerance),
        _ => (
            Status::Fail,
            "the original and the rewrite return different kinds of result".into(),
            None,
        ),
    };
    PairVerdict {
        status,
        detail,
        series_old: count(old),
        series_new: count(new),
        max_relative_difference,
        shortened_range: None,
    }
}

/// Label values (a `label_values()` variable), side by side.
fn compare_values(old_values: &[String], new_values: &[String], values_label: Option<&str>) -> Judged {
    let is_source = values_label.is_some_and(|label| SOURCE_LABELS.contains(&label));
    match (old_values.is_empty(), new_values.is_empty()) {
        (true, true) => (Status::Warn, "no values on either side".into(), None),
        (false, true) => (
            Status::Fail,
            format!("no values where the original listed {}", old_values.len()),
            None,
        ),
        _ if is_source => (
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
                (Status::Pass, format!("the same {} values", old_values.len()), None)
            } else {
                (Status::Fail, format!("values missing: {}", list(&missing)), None)
            }
        }
    }
}

/// Query results, keyed by their labels except the source labels: emptiness first, then
/// series by series.
fn compare_data(old_data: &QueryData, new_data: &QueryData, tolerance: Tolerance) -> Judged {
    let (old_keys, new_keys) = match (keyed(old_data), keyed(new_data)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(o), Err(n)) if o == n => return (Status::Pass, "the same string".into(), None),
        _ => {
            return (
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
        return (
            Status::Warn,
            "no data on either side: the original returns nothing either, so nothing to compare (not evidence against the rewrite)".into(),
            None,
        );
    }
    if new_keys.is_empty() {
        return (
            Status::Fail,
            format!("empty where the original returned {} series", series_count(old_data)),
            None,
        );
    }
    if old_keys.is_empty() {
        return (
            Status::Pass,
            format!(
                "the original returned nothing; the rewrite returns {} series",
                series_count(new_data)
            ),
            None,
        );
    }
    compare_series(&old_keys, &new_keys, tolerance)
}

/// Both sides returned series: every original series must have its twin, within the
/// tolerance and as many values.
fn compare_series(
    old_keys: &BTreeMap<String, Vec<f64>>,
    new_keys: &BTreeMap<String, Vec<f64>>,
    tolerance: Tolerance,
) -> Judged {
    let missing: Vec<&String> = old_keys.keys().filter(|k| !new_keys.contains_key(*k)).collect();
    let mut worst: Option<(f64, &String)> = None;
    let mut differ = false;
    let mut count_mismatch: Vec<&String> = Vec::new();
    for (key, old_values) in old_keys {
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
        (
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
        (
            Status::Fail,
            format!(
                "differs by {} at {key} (tolerance {})",
                percent(difference),
                percent(tolerance.relative)
            ),
            max,
        )
    } else if !count_mismatch.is_empty() {
        (
            Status::Fail,
            format!("a different number of series for {}", list(&count_mismatch)),
            max,
        )
    } else {
        (
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
