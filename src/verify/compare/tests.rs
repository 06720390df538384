use super::*;

/// A compared metric with one series on each side, for the tests of what shows it.
pub(crate) fn metric(name: &str, by: ComparedBy, diff: Option<f64>, verdict: Verdict) -> MetricComparison {
    MetricComparison {
        metric: name.into(),
        compared_by: by,
        series_old: 1,
        series_new: 1,
        missing_on_new: vec![],
        only_on_new: vec![],
        max_relative_difference: diff,
        worst_series: None,
        resets_old: 0,
        resets_new: 0,
        verdict,
        series: vec![],
    }
}

fn spec(honor_labels: bool, pushed_job: &str, scrape_job: &str) -> DualRunSpec {
    DualRunSpec {
        source: PushSource {
            gateway_job: "pushgateway".into(),
            honor_labels,
        },
        pushed: PushedGroupRef {
            job: pushed_job.into(),
            instance: Some("app-1".into()),
        },
        scraped: ScrapeTargetRef {
            job: scrape_job.into(),
            instance: "metrics-api:8080".into(),
        },
        ignore_labels: vec![],
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn selectors_follow_honor_labels() {
    let honored = spec(true, "metrics-api", "metrics-api");
    assert_eq!(
        selector(Some("page_views_total"), &honored.pushed_matchers()),
        r#"page_views_total{job="metrics-api", instance="app-1"}"#
    );
    assert_eq!(
        selector(None, &honored.scraped_matchers()),
        r#"{job="metrics-api", instance="metrics-api:8080"}"#
    );
    let exported = spec(false, "metrics-api", "metrics-api");
    assert_eq!(
        selector(None, &exported.pushed_matchers()),
        r#"{job="pushgateway", exported_job="metrics-api", exported_instance="app-1"}"#
    );
    let mut no_instance = spec(true, "batch-x", "batch-x");
    no_instance.pushed.instance = None;
    assert_eq!(
        selector(None, &no_instance.pushed_matchers()),
        r#"{job="batch-x", instance=""}"#
    );
    assert_eq!(
        selector(Some("odd.name"), &[Matcher::equal("a", "q\"uote")]),
        r#"{__name__="odd.name", a="q\"uote"}"#
    );
}

#[test]
fn twins_pair_by_every_label_except_the_source_labels() {
    let s = spec(false, "metrics-api", "metrics-api");
    let pushed = labels(&[
        ("__name__", "page_views_total"),
        ("job", "pushgateway"),
        ("instance", "pushgateway:9091"),
        ("exported_job", "metrics-api"),
        ("exported_instance", "app-1"),
        ("page", "/"),
    ]);
    let scraped = labels(&[
        ("__name__", "page_views_total"),
        ("job", "metrics-api"),
        ("instance", "metrics-api:8080"),
        ("page", "/"),
    ]);
    assert_eq!(s.pairing_key(&pushed), s.pairing_key(&scraped));
    assert_eq!(s.pairing_key(&scraped), r#"page_views_total{page="/"}"#);
}

#[test]
fn indistinguishable_sources_are_refused() {
    let mut same = spec(true, "metrics-api", "metrics-api");
    same.pushed.instance = Some("metrics-api:8080".into());
    let err = same.validate().unwrap_err();
    assert!(err.to_string().contains("cannot be compared"), "{err}");
    assert!(spec(true, "metrics-api", "metrics-api").validate().is_ok());
    assert!(spec(false, "metrics-api", "pushgateway").validate().is_err());
}

#[test]
fn counters_go_by_rate_gauges_by_value() {
    let kinds: BTreeMap<String, MetricKind> = [
        ("lat".to_string(), MetricKind::Histogram),
        ("rq".to_string(), MetricKind::Summary),
        ("temp".to_string(), MetricKind::Gauge),
        ("jobs".to_string(), MetricKind::Counter),
    ]
    .into();
    let by = |name: &str| compared_by(name, &kinds);
    assert_eq!(by("lat_bucket"), ComparedBy::Rate);
    assert_eq!(by("rq_count"), ComparedBy::Rate);
    assert_eq!(by("rq"), ComparedBy::Value);
    assert_eq!(by("temp"), ComparedBy::Value);
    assert_eq!(by("jobs"), ComparedBy::Rate);
    assert_eq!(by("page_views_total"), ComparedBy::Rate);
    assert_eq!(by("queue_depth"), ComparedBy::Value);
}

#[test]
fn runtime_gauges_go_by_presence_and_their_counters_by_rate() {
    let kinds: BTreeMap<String, MetricKind> = [
        ("nodejs_active_handles".to_string(), MetricKind::Gauge),
        ("process_cpu_seconds_total".to_string(), MetricKind::Counter),
    ]
    .into();
    let by = |name: &str| compared_by(name, &kinds);
    assert_eq!(by("nodejs_active_handles"), ComparedBy::Presence);
    assert_eq!(by("nodejs_eventloop_lag_seconds"), ComparedBy::Presence);
    assert_eq!(by("process_resident_memory_bytes"), ComparedBy::Presence);
    assert_eq!(by("go_goroutines"), ComparedBy::Presence);
    assert_eq!(by("process_cpu_seconds_total"), ComparedBy::Rate);
    assert_eq!(by("go_gc_duration_seconds_count"), ComparedBy::Rate);
    assert_eq!(by("processed_items"), ComparedBy::Value, "a prefix, not a substring");
}

#[test]
fn a_runtime_gauge_passes_on_presence_whatever_its_values_and_fails_when_missing() {
    let old = side(&["a", "b"], &[("a", 3.0), ("b", 40.0)], 0);
    let new = side(&["a", "b"], &[("a", 5.0), ("b", 90.0)], 0);
    let seen = compare_metric(
        "nodejs_active_handles",
        ComparedBy::Presence,
        &old,
        &new,
        Tolerance::default(),
    );
    assert_eq!(seen.verdict, Verdict::Match);
    let by_value = compare_metric("queue_depth", ComparedBy::Value, &old, &new, Tolerance::default());
    assert_eq!(by_value.verdict, Verdict::Differs);
    let gone = side(&["a"], &[("a", 5.0)], 0);
    let missing = compare_metric(
        "nodejs_active_handles",
        ComparedBy::Presence,
        &old,
        &gone,
        Tolerance::default(),
    );
    assert_eq!(missing.verdict, Verdict::MissingOnNew);
}

fn side(present: &[&str], values: &[(&str, f64)], resets: u64) -> Side {
    Side {
        present: present.iter().map(|s| s.to_string()).collect(),
        values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        resets,
    }
}

#[test]
fn rates_within_tolerance_match_and_beyond_differ() {
    let present = ["a{p=\"/\"}", "a{p=\"/x\"}"];
    let matched = compare_metric(
        "a",
        ComparedBy::Rate,
        &side(&present, &[(present[0], 3.0), (present[1], 1.0)], 0),
        &side(&present, &[(present[0], 3.1), (present[1], 1.0)], 0),
        Tolerance::default(),
    );
    assert_eq!(matched.verdict, Verdict::Match);
    assert_eq!(matched.worst_series.as_deref(), Some(present[0]));
    let differs = compare_metric(
        "a",
        ComparedBy::Rate,
        &side(&present, &[(present[0], 6.0), (present[1], 1.0)], 1),
        &side(&present, &[(present[0], 3.0), (present[1], 1.0)], 0),
        Tolerance::default(),
    );
    assert_eq!(differs.verdict, Verdict::Differs);
    assert_eq!(differs.max_relative_difference, Some(0.5));
    assert_eq!((differs.resets_old, differs.resets_new), (1, 0));
}

#[test]
fn a_pushed_series_without_twin_fails_and_app_only_series_pass() {
    let missing = compare_metric(
        "a",
        ComparedBy::Value,
        &side(
            &["a{p=\"/\"}", "a{p=\"/x\"}"],
            &[("a{p=\"/\"}", 1.0), ("a{p=\"/x\"}", 1.0)],
            0,
        ),
        &side(&["a{p=\"/\"}"], &[("a{p=\"/\"}", 1.0)], 0),
        Tolerance::default(),
    );
    assert_eq!(missing.verdict, Verdict::MissingOnNew);
    assert_eq!(missing.missing_on_new, ["a{p=\"/x\"}"]);
    let only_new = compare_metric(
        "process_cpu_seconds_total",
        ComparedBy::Rate,
        &side(&[], &[], 0),
        &side(&["k"], &[("k", 0.1)], 0),
        Tolerance::default(),
    );
    assert_eq!(only_new.verdict, Verdict::OnlyOnNew);
    assert!(only_new.verdict.passes());
}

/// Rates over `window` of a counter that counted `old` and `new` events.
fn counted(old: f64, new: f64, window: f64) -> (Side, Side, BTreeMap<String, EventCounts>) {
    let key = "gc_count{kind=\"minor\"}";
    (
        side(&[key], &[(key, old / window)], 0),
        side(&[key], &[(key, new / window)], 0),
        [(
            key.to_string(),
            EventCounts {
                old,
                new,
                size: 1.0,
                what: "events",
            },
        )]
        .into(),
    )
}

#[test]
fn a_difference_of_a_few_events_is_too_few_to_judge_and_thousands_still_differ() {
    let tolerance = Tolerance {
        relative: 0.2,
        absolute: 1e-9,
    };
    // The demo: 3 garbage collections pushed, 2 scraped in a 5 s window, the copies read up
    // to 3 s apart. 33% apart, and one collection is all it is.
    let noise = TimingNoise {
        window: Duration::from_secs(5),
        offset: Duration::from_secs(3),
    };
    let (old, new, events) = counted(3.0, 2.0, 5.0);
    let few = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
    assert_eq!(few.verdict, Verdict::TooFewEvents);
    assert_eq!(few.verdict.as_str(), "too few events");
    assert!(few.verdict.passes());
    let judged = few.series[0].events.expect("the events it was judged by");
    assert_eq!((judged.old, judged.new), (3.0, 2.0));
    assert!((judged.difference - 1.0).abs() < 1e-9, "{judged:?}");
    // 1 + 3·sqrt((3+2)·3s/5s)
    assert!((judged.allowed - (1.0 + 3.0 * 3f64.sqrt())).abs() < 1e-9, "{judged:?}");
    // The same 33% over thousands of events in the default 5-minute window, copies read
    // 30 s apart: far beyond what timing explains.
    let noise = TimingNoise {
        window: Duration::from_secs(300),
        offset: Duration::from_secs(30),
    };
    let (old, new, events) = counted(3000.0, 2000.0, 300.0);
    let many = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
    assert_eq!(many.verdict, Verdict::Differs);
    assert!(!many.verdict.passes());
    // Even with the copies read a whole window apart (1 + 3·sqrt(a+b) ≈ 213).
    let unknown = TimingNoise {
        window: Duration::from_secs(300),
        offset: Duration::from_secs(300),
    };
    let many = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &unknown, &events);
    assert_eq!(many.verdict, Verdict::Differs);
    // A pair within the tolerance stays a match, and without event counts a difference
    // beyond it is judged by the tolerance alone.
    let (old, new, events) = counted(100.0, 99.0, 300.0);
    let close = compare_metric_counting("gc_count", ComparedBy::Rate, &old, &new, tolerance, &noise, &events);
    assert_eq!(close.verdict, Verdict::Match);
    assert_eq!(close.series[0].events, None);
    let (old, new, _) = counted(3.0, 2.0, 5.0);
    let uncounted = compare_metric("gc_count", ComparedBy::Rate, &old, &new, tolerance);
    assert_eq!(uncounted.verdict, Verdict::Differs);
}

#[test]
fn timing_explains_a_few_events_more_the_further_apart_the_copies_are_read() {
    let noise = |window: u64, offset: u64| TimingNoise {
        window: Duration::from_secs(window),
        offset: Duration::from_secs(offset),
    };
    // One event can always fall between two samples.
    assert_eq!(noise(300, 0).allowed_difference(5.0, 5.0), 1.0);
    // 1 + 3·sqrt((a+b)·offset/window).
    assert!((noise(300, 30).allowed_difference(3000.0, 2000.0) - (1.0 + 3.0 * 500f64.sqrt())).abs() < 1e-9);
    assert!((noise(300, 300).allowed_difference(3000.0, 2000.0) - (1.0 + 3.0 * 5000f64.sqrt())).abs() < 1e-9);
    // An offset longer than the window counts as the window.
    assert_eq!(
        noise(5, 60).allowed_difference(3.0, 2.0),
        noise(5, 5).allowed_difference(3.0, 2.0)
    );
    // 10 events against none is not timing when the copies are read 3 s apart in 5 minutes.
    let events = EventCounts {
        old: 10.0,
        new: 0.0,
        size: 1.0,
        what: "events",
    };
    assert!(!noise(300, 3).explains(10.0 / 300.0, 0.0, events));
    assert!(!noise(300, 3).explains(f64::NAN, 0.0, events));
    // Pushed at 8/s, served at 4/s over 6 s, read 2 s apart: 48 against 24 is no timing.
    let doubled = EventCounts {
        old: 48.0,
        new: 24.0,
        size: 1.0,
        what: "events",
    };
    assert!(!noise(6, 2).explains(8.0, 4.0, doubled));
}

#[test]
fn too_few_samples_for_a_rate_is_inconclusive() {
    let result = compare_metric(
        "a",
        ComparedBy::Rate,
        &side(&["k"], &[("k", 1.0)], 0),
        &side(&["k"], &[], 0),
        Tolerance::default(),
    );
    assert_eq!(result.verdict, Verdict::Inconclusive);
}

#[test]
fn relative_difference_handles_zero_and_nan() {
    assert_eq!(relative_difference(0.0, 0.0), 0.0);
    assert_eq!(relative_difference(f64::NAN, f64::NAN), 0.0);
    assert_eq!(relative_difference(1.0, f64::NAN), f64::INFINITY);
    assert_eq!(relative_difference(0.0, 2.0), 1.0);
    assert!(Tolerance::default().accepts(0.0, 1e-12));
}

#[test]
fn rate_queries_use_the_window_in_milliseconds() {
    let q = metric_queries(
        &spec(true, "metrics-api", "metrics-api"),
        "page_views_total",
        Duration::from_secs(30),
    );
    assert_eq!(
        q.rate_new,
        r#"rate(page_views_total{job="metrics-api", instance="metrics-api:8080"}[30000ms])"#
    );
}
