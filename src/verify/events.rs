//! How many events a counter counted in the window, on each side of the dual run: the
//! bound within which timing explains a difference between a pushed counter and its
//! scraped twin (docs/verify.md).

use std::collections::BTreeMap;
use std::time::Duration;

use super::compare::{EventCounts, SideValues, is_runtime_metric};

/// The rates of each counter-like metric: name → (pushed, scraped), keyed for pairing.
pub type RateValues = BTreeMap<String, (SideValues, SideValues)>;

/// The events each series of the counter `metric` counted in the window, where its values say
/// what an event is: a `_bucket` or `_count` counts observations, a `_total` with whole values
/// on both sides counts events (an integer counter that adds more than 1 at a time only looks
/// like more events, so the bound stays strict), and a `_sum` has its `_count`'s events, each
/// adding the mean observation. A runtime collector's other counters (`process_cpu_seconds_total`:
/// read from the process at the moment it is asked, like its gauges) count their increments,
/// `changes` over the window on each side, each the mean increment of the side that changes
/// less often. An app's own counter that does not count whole events is judged by the
/// tolerance alone: a steady counter's increments are no random events, and a doubled one
/// would hide among few of them. `raw` are the counter values at the evaluation time, `rates`
/// every rate compared.
pub fn event_counts(
    metric: &str,
    rates: &RateValues,
    changes: Option<&(SideValues, SideValues)>,
    raw: (&SideValues, &SideValues),
    window: Duration,
) -> BTreeMap<String, EventCounts> {
    let seconds = window.as_secs_f64();
    let Some((rate_old, rate_new)) = rates.get(metric) else {
        return BTreeMap::new();
    };
    let whole = |value: Option<&f64>| value.is_some_and(|v| v.is_finite() && v.fract() == 0.0);
    let counts_observations = metric.ends_with("_bucket") || metric.ends_with("_count");
    let mut counts = BTreeMap::new();
    for (key, old) in rate_old {
        let Some(new) = rate_new.get(key) else { continue };
        let counted = if let Some(base) = metric.strip_suffix("_sum") {
            let count_metric = format!("{base}_count");
            let count_key = key.strip_prefix(metric).map(|labels| format!("{count_metric}{labels}"));
            let count_rates = rates
                .get(&count_metric)
                .zip(count_key)
                .and_then(|((o, n), k)| Some((*o.get(&k)?, *n.get(&k)?)));
            let buckets = rates.get(&format!("{base}_bucket"));
            count_rates.and_then(|(count_old, count_new)| {
                let events = (count_old + count_new) * seconds;
                // A histogram's buckets bound each observation; a summary has only the mean.
                let size = match buckets {
                    Some(buckets) => largest_observation(key.strip_prefix(metric)?, buckets, (count_old, count_new))?,
                    None => (old + new) * seconds / events,
                };
                (events > 0.0).then_some(EventCounts {
                    old: count_old * seconds,
                    new: count_new * seconds,
                    size,
                    what: "observations",
                })
            })
        } else if counts_observations || (whole(raw.0.get(key)) && whole(raw.1.get(key))) {
            Some(EventCounts {
                old: old * seconds,
                new: new * seconds,
                size: 1.0,
                what: "events",
            })
        } else if is_runtime_metric(metric) {
            changes
                .and_then(|(o, n)| Some((*o.get(key)?, *n.get(key)?)))
                .filter(|(changes_old, changes_new)| *changes_old > 0.0 && *changes_new > 0.0)
                .map(|(changes_old, changes_new)| {
                    let size = (old * seconds / changes_old).max(new * seconds / changes_new);
                    EventCounts {
                        old: old * seconds / size,
                        new: new * seconds / size,
                        size,
                        what: "increments",
                    }
                })
        } else {
            None
        };
        if let Some(counted) = counted.filter(|c| c.size.is_finite() && c.size > 0.0) {
            counts.insert(key.clone(), counted);
        }
    }
    counts
}

/// How large an observation of a histogram series (`labels`, as in its `_sum`'s key) in the
/// window was, at most, in the root-mean-square sense that the noise of a sum goes by: each
/// observation counted as its bucket's upper bound `le`, on the side where that is larger.
/// `None` when some fell above the highest finite bound: then nothing bounds them.
fn largest_observation(labels: &str, buckets: &(SideValues, SideValues), count_rates: (f64, f64)) -> Option<f64> {
    let mut largest: f64 = 0.0;
    for (side, count) in [(&buckets.0, count_rates.0), (&buckets.1, count_rates.1)] {
        let mut cumulative: Vec<(f64, f64)> = side
            .iter()
            .filter_map(|(key, rate)| {
                let (le, rest) = without_label(key.split_once('{')?.1.strip_suffix('}')?, "le")?;
                (format!("{{{rest}}}") == labels).then_some((le.parse::<f64>().ok()?, *rate))
            })
            .collect();
        cumulative.sort_by(|a, b| a.0.total_cmp(&b.0));
        if count <= 0.0 || cumulative.is_empty() {
            continue;
        }
        let (mut below, mut squares) = (0.0, 0.0);
        for (le, rate) in cumulative {
            let in_bucket = (rate - below).max(0.0);
            if in_bucket > count * 1e-6 {
                if !le.is_finite() {
                    return None;
                }
                squares += in_bucket * le * le;
            }
            below = below.max(rate);
        }
        if below < count * (1.0 - 1e-6) {
            return None;
        }
        largest = largest.max((squares / count).sqrt());
    }
    (largest.is_finite() && largest > 0.0).then_some(largest)
}

/// `label`'s value and the other labels, from the body of a pairing key (`a="1",le="0.5"`).
fn without_label<'a>(body: &'a str, label: &str) -> Option<(String, String)> {
    let mut value = None;
    let mut rest: Vec<&'a str> = Vec::new();
    let mut start = 0;
    let mut in_string = false;
    let mut escaped = false;
    let bytes = body.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b',' if !in_string => {
                rest.push(body.get(start..i)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        rest.push(body.get(start..)?);
    }
    rest.retain(
        |pair| match pair.strip_prefix(label).and_then(|p| p.strip_prefix('=')) {
            Some(quoted) => {
                value = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .map(str::to_string);
                false
            }
            None => true,
        },
    );
    Some((value?, rest.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::compare::TimingNoise;

    #[test]
    fn events_are_counted_where_the_values_say_what_an_event_is() {
        let window = Duration::from_secs(10);
        let key = |name: &str| format!("{name}{{kind=\"minor\"}}");
        let rates: RateValues = [
            ("lat_bucket", 0.3, 0.2),
            ("gc_count", 0.3, 0.2),
            ("gc_sum", 0.06, 0.04),
            ("requests_total", 2.0, 2.5),
            ("process_cpu_seconds_total", 0.01, 0.02),
            ("work_seconds_total", 0.01, 0.02),
        ]
        .iter()
        .map(|(name, old, new)| {
            (
                name.to_string(),
                (
                    [(key(name), *old)].into_iter().collect(),
                    [(key(name), *new)].into_iter().collect(),
                ),
            )
        })
        .collect();
        let raw = |value: f64, name: &str| -> SideValues { [(key(name), value)].into_iter().collect() };
        let changes: (SideValues, SideValues) = (
            [
                (key("process_cpu_seconds_total"), 5.0),
                (key("work_seconds_total"), 5.0),
            ]
            .into_iter()
            .collect(),
            [
                (key("process_cpu_seconds_total"), 20.0),
                (key("work_seconds_total"), 20.0),
            ]
            .into_iter()
            .collect(),
        );
        let counts = |name: &str, old: f64, new: f64| {
            event_counts(name, &rates, Some(&changes), (&raw(old, name), &raw(new, name)), window)
                .get(&key(name))
                .copied()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let bucket = counts("lat_bucket", 0.5, 0.5).expect("a bucket counts observations");
        assert!(close(bucket.old, 3.0) && close(bucket.new, 2.0) && bucket.size == 1.0);
        // A summary's sum has its count's events, each the mean observation (1.0 s over 5).
        let sum = counts("gc_sum", 0.37, 0.35).expect("a sum counts its _count's events");
        assert!(
            close(sum.old, 3.0) && close(sum.new, 2.0) && close(sum.size, 0.2),
            "{sum:?}"
        );
        assert!(
            counts("requests_total", 120.0, 121.0).is_some(),
            "whole values count events"
        );
        assert_eq!(
            counts("requests_total", 120.5, 121.0),
            None,
            "no changes counted for it"
        );
        // Seconds are not events: 0.1 s in 5 pushes, 0.2 s in 20 scrapes; the pushed copy's
        // increments (0.02 s) are the coarser, so 5 against 10 of them.
        let cpu = counts("process_cpu_seconds_total", 1.25, 1.5).expect("increments");
        assert!(
            close(cpu.size, 0.02) && close(cpu.old, 5.0) && close(cpu.new, 10.0),
            "{cpu:?}"
        );
        // An app's own seconds counter: the tolerance alone (its increments are no events).
        assert_eq!(counts("work_seconds_total", 1.25, 1.5), None);
    }

    #[test]
    fn a_histograms_sum_is_weighed_by_its_largest_possible_observation() {
        let window = Duration::from_secs(10);
        let side = |pairs: &[(&str, f64)]| -> SideValues { pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect() };
        let buckets = |slow: f64| {
            side(&[
                (r#"lat_bucket{code="200",le="0.01"}"#, 0.2),
                (r#"lat_bucket{code="200",le="0.1"}"#, slow),
                (r#"lat_bucket{code="200",le="+Inf"}"#, 0.3),
            ])
        };
        let mut rates: RateValues = BTreeMap::new();
        rates.insert("lat_bucket".into(), (buckets(0.3), buckets(0.3)));
        rates.insert(
            "lat_count".into(),
            (
                side(&[(r#"lat_count{code="200"}"#, 0.3)]),
                side(&[(r#"lat_count{code="200"}"#, 0.3)]),
            ),
        );
        // Three requests each side, one of them slow: the sums 70% apart.
        rates.insert(
            "lat_sum".into(),
            (
                side(&[(r#"lat_sum{code="200"}"#, 0.0085)]),
                side(&[(r#"lat_sum{code="200"}"#, 0.0025)]),
            ),
        );
        let sum = |rates: &RateValues| {
            event_counts("lat_sum", rates, None, (&SideValues::new(), &SideValues::new()), window)
                .get(r#"lat_sum{code="200"}"#)
                .copied()
        };
        // Two in the 0.01 s bucket, one in the 0.1 s one: sqrt((2·0.01² + 0.1²)/3).
        let counted = sum(&rates).expect("bounded by the buckets");
        assert_eq!(counted.what, "observations");
        assert!((counted.size - (0.0102f64 / 3.0).sqrt()).abs() < 1e-9, "{counted:?}");
        let noise = TimingNoise {
            window,
            offset: Duration::from_secs(2),
        };
        // 0.06 s apart is one slow observation more on one side: timing.
        assert!(noise.explains(0.0085, 0.0025, counted));
        // A thousandfold sum (milliseconds written as seconds) is no timing.
        assert!(!noise.explains(8.5, 0.0025, counted));
        // An observation above every finite bound: nothing bounds it, the tolerance judges.
        rates.insert("lat_bucket".into(), (buckets(0.2), buckets(0.3)));
        assert_eq!(sum(&rates), None);
        assert_eq!(
            without_label(r#"code="2,0",le="0.5""#, "le"),
            Some(("0.5".to_string(), r#"code="2,0""#.to_string()))
        );
    }
}
