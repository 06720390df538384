use super::*;

fn row(name: &str, by: ComparedBy, old: usize, new: usize, diff: Option<f64>, verdict: Verdict) -> MetricComparison {
    MetricComparison {
        series_old: old,
        series_new: new,
        ..super::tests::metric(name, by, diff, verdict)
    }
}

#[test]
fn the_report_reads_as_a_table_and_names_the_failing_metric() {
    let report = DualRunReport {
        pushed_selector: r#"{job="metrics-api", instance="app-1"}"#.into(),
        scraped_selector: r#"{job="metrics-api", instance="metrics-api:8080"}"#.into(),
        window: Duration::from_secs(300),
        relative_tolerance: 0.05,
        evaluated_at: 1795591903.702,
        metrics: vec![
            row("app_build_info", ComparedBy::Value, 0, 1, None, Verdict::OnlyOnNew),
            row(
                "http_requests_total",
                ComparedBy::Rate,
                1,
                1,
                Some(0.5),
                Verdict::Differs,
            ),
            row("queue_depth", ComparedBy::Value, 1, 1, Some(0.0), Verdict::Match),
        ],
        push_age_seconds: Some(400.0),
        max_push_age: Duration::from_secs(120),
    };
    assert!(!report.passed());
    let failing: Vec<&str> = report.failing_metrics().map(|m| m.metric.as_str()).collect();
    assert_eq!(failing, ["http_requests_total"]);
    insta::assert_snapshot!(report.to_string(), @r#"
        old: {job="metrics-api", instance="app-1"}
        new: {job="metrics-api", instance="metrics-api:8080"}
        metric               old  new   max diff  by     verdict
        app_build_info         0    1          -  value  only on new
        http_requests_total    1    1      50.0%  rate   differs
        queue_depth            1    1       0.0%  value  match
        last push 400.0s ago (older than 120s: the pusher looks dead)
        "#);
}
