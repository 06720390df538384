//! The live layer against a real Prometheus 2.42 and Pushgateway 1.5 on loopback, and
//! against a fake server that misbehaves on purpose.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::support::live::eventually;
use crate::support::live::fake_http::{Canned, FakeHttp, SeenRequest};
use crate::support::live::stack::{APP_JOB, GATEWAY_JOB, LiveStack, PUSHED_INSTANCE, StackOptions};
use pullover::live::exposition::{CounterNamingProblem, check_exposition};
use pullover::live::{
    Auth, Endpoint, LiveError, MetricKind, PrometheusClient, PushedValue, QueryData, QueryOptions, RetryPolicy, Secret,
    TargetHealth,
};
use pullover::verify::compare::{
    CompareSettings, DualRunSpec, PushSource, PushedGroupRef, ScrapeTargetRef, Tolerance, Verdict,
};
use pullover::verify::dual_query::compare_dual_run;
use pullover::verify::gone::{GoneSpec, check_gone};

/// Both targets up, returned once Prometheus says so.
async fn wait_for_targets_up(client: &PrometheusClient) -> pullover::live::Targets {
    eventually(Duration::from_secs(15), || {
        let client = client.clone();
        async move {
            let targets = client.targets().await.ok()?;
            let up = |job: &str| targets.of_job(job).any(|t| t.health == TargetHealth::Up);
            (up(GATEWAY_JOB) && up(APP_JOB)).then_some(targets)
        }
    })
    .await
    .unwrap_or_else(|| panic!("both targets should be up within 15 s"))
}

/// Waits until both sources have at least `samples` samples of `http_requests_total` in the
/// last `window`, so a rate over that window means something. Does not look at the values.
async fn wait_for_samples(
    client: &PrometheusClient,
    pushed_selector: &str,
    scraped_selector: &str,
    window: Duration,
    samples: f64,
) {
    let window_ms = window.as_millis();
    let ready = eventually(window * 3, || {
        let client = client.clone();
        let queries = [
            format!("count_over_time(http_requests_total{pushed_selector}[{window_ms}ms])"),
            format!("count_over_time(http_requests_total{scraped_selector}[{window_ms}ms])"),
        ];
        async move {
            for query in queries {
                let result = client.query(&query, None).await.ok()?;
                let count = result.data.as_vector().first()?.sample.value;
                if count < samples {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(ready.is_some(), "not enough samples on both sides");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reports_both_targets_up_with_typed_details() {
    let Some(stack) = LiveStack::start("targets", StackOptions::default()) else {
        return;
    };
    eprintln!(
        "ready after spawn: pushgateway {:?}, prometheus {:?}",
        stack.pushgateway.ready_after, stack.prometheus.ready_after
    );
    let client = stack.prometheus_client();
    let waited = Instant::now();
    let targets = wait_for_targets_up(&client).await;
    eprintln!("both targets up {:?} after Prometheus was ready", waited.elapsed());

    let app = targets.of_job(APP_JOB).next().unwrap();
    assert_eq!(app.instance(), Some(stack.app_instance().as_str()));
    assert_eq!(app.scrape_url, format!("http://{}/metrics", stack.app.addr));
    assert_eq!(app.scrape_interval_duration(), Some(Duration::from_secs(1)));
    assert!(app.last_error.is_empty(), "{}", app.last_error);
    assert!(app.last_scrape_duration > 0.0 && app.last_scrape_duration < 1.0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let age = now - app.last_scrape_unix().unwrap();
    assert!((0.0..10.0).contains(&age), "last scrape {age}s ago");
    let gateway = targets.of_job(GATEWAY_JOB).next().unwrap();
    assert_eq!(gateway.instance(), Some(stack.pushgateway.addr.to_string().as_str()));

    assert!(client.flags().await.unwrap().lifecycle_enabled());
    let build = client.buildinfo().await.unwrap();
    assert!(build.version.starts_with("2."), "{build:?}");
    let config = client.status_config().await.unwrap();
    assert!(config.contains("job_name: metrics-api"), "{config}");
    assert!(config.contains("honor_labels: true"), "{config}");

    let mut stack = stack;
    let prometheus_stop = stack.prometheus.stop();
    let gateway_stop = stack.pushgateway.stop();
    eprintln!("stopped by SIGTERM: prometheus in {prometheus_stop:?}, pushgateway in {gateway_stop:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_return_typed_vectors_matrices_scalars_and_prometheus_timings() {
    let Some(stack) = LiveStack::start("queries", StackOptions::default()) else {
        return;
    };
    let client = stack.prometheus_client();
    // Both sources carry job="metrics-api" under honor_labels: true; only instance differs.
    let vector = eventually(Duration::from_secs(15), || {
        let client = client.clone();
        async move {
            let result = client.query("page_views_total", None).await.ok()?;
            (result.data.as_vector().len() == 4).then_some(result)
        }
    })
    .await
    .unwrap_or_else(|| panic!("pushed and scraped page_views_total within 15 s"));
    let mut sources: Vec<(String, String)> = vector
        .data
        .as_vector()
        .iter()
        .map(|s| (s.metric["job"].clone(), s.metric["instance"].clone()))
        .collect();
    sources.sort();
    sources.dedup();
    let mut expected = vec![
        (APP_JOB.to_string(), PUSHED_INSTANCE.to_string()),
        (APP_JOB.to_string(), stack.app_instance()),
    ];
    expected.sort();
    assert_eq!(sources, expected);

    let end = SystemTime::now();
    let range = client
        .query_range(
            "sum by (instance) (page_views_total)",
            end - Duration::from_secs(4),
            end,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    let matrix = range.data.as_matrix();
    assert_eq!(matrix.len(), 2, "{matrix:?}");
    for series in matrix {
        assert!(!series.samples.is_empty());
        assert!(series.samples.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    }

    let scalar = client.query("scalar(vector(2)) * 3", None).await.unwrap();
    assert_eq!(scalar.data.result_type(), "scalar");
    assert!(matches!(scalar.data, QueryData::Scalar(p) if p.value == 6.0));
    let string = client.query("\"pullover\"", None).await.unwrap();
    assert!(matches!(string.data, QueryData::String { ref value, .. } if value == "pullover"));

    let timed = client
        .query_with("sum(rate(page_views_total[5s]))", None, &QueryOptions::with_stats())
        .await
        .unwrap();
    let timings = timed.stats.as_ref().unwrap().timings;
    eprintln!(
        "our wall time {:?}, Prometheus execTotalTime {:?} (eval {:.6}s, queue {:.6}s)",
        timed.elapsed,
        timings.exec_total(),
        timings.eval_total_time,
        timings.exec_queue_time
    );
    assert!(timings.exec_total() > Duration::ZERO);
    assert!(timings.exec_total() <= timed.elapsed);
    assert!(vector.stats.is_none(), "stats only when asked");

    let err = client.query("rate(x[5m)", None).await.unwrap_err();
    match &err {
        LiveError::Api { status, error_type, .. } => assert_eq!((*status, error_type.as_str()), (400, "bad_data")),
        other => panic!("expected an API error, got {other}"),
    }
    assert!(err.to_string().contains("parse error"), "{err}");

    let many = client
        .query_many(["vector(1)", "vector(2)", "vector(", "vector(4)"], None, 2)
        .await;
    let shown: Vec<String> = many
        .iter()
        .map(|result| match result {
            Ok(r) => r.data.as_vector()[0].sample.value.to_string(),
            Err(LiveError::Api { error_type, .. }) => error_type.clone(),
            Err(other) => other.to_string(),
        })
        .collect();
    assert_eq!(shown, ["1", "2", "bad_data", "4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushgateway_lists_the_pushed_group_with_its_push_time_and_families() {
    let Some(stack) = LiveStack::start("pushgateway", StackOptions::default()) else {
        return;
    };
    let gateway = stack.pushgateway_client();
    let groups = eventually(Duration::from_secs(5), || {
        let gateway = gateway.clone();
        async move {
            let groups = gateway.metrics().await.ok()?;
            (!groups.is_empty()).then_some(groups)
        }
    })
    .await
    .unwrap_or_else(|| panic!("the app pushes within 5 s"));
    let keys: Vec<_> = groups.iter().map(|g| &g.labels).collect();
    assert_eq!(groups.len(), 1, "{keys:?}");
    let group = &groups[0];
    assert_eq!((group.job(), group.instance()), (Some(APP_JOB), Some(PUSHED_INSTANCE)));
    assert_eq!(group.last_push_successful, Some(true));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let pushed_ago = now - group.push_time_seconds.unwrap();
    assert!((0.0..5.0).contains(&pushed_ago), "pushed {pushed_ago}s ago");
    let kinds: Vec<(&str, MetricKind, usize)> = group
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.metrics.len()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("http_requests_total", MetricKind::Counter, 1),
            ("page_views_total", MetricKind::Counter, 2),
            ("queue_depth", MetricKind::Gauge, 1),
            ("request_duration_seconds", MetricKind::Histogram, 1),
        ]
    );
    let histogram = &group.families[3].metrics[0].value;
    assert!(
        matches!(histogram, PushedValue::Histogram { buckets, .. } if buckets.len() == 2),
        "{histogram:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_valid_config_and_keeps_the_old_one_when_invalid() {
    let Some(stack) = LiveStack::start("reload", StackOptions::default()) else {
        return;
    };
    let client = stack.prometheus_client();
    wait_for_targets_up(&client).await;

    let new_job = format!(
        "  - job_name: metrics-api-copy\n    static_configs:\n      - targets: ['{}']\n",
        stack.app.addr
    );
    stack.write_config(&stack.config_with(&[&new_job]));
    let reloaded = Instant::now();
    client.reload().await.unwrap();
    let reload_took = reloaded.elapsed();
    let listed = eventually(Duration::from_secs(15), || {
        let client = client.clone();
        async move {
            let targets = client.targets().await.ok()?;
            targets.of_job("metrics-api-copy").next().map(|_| reloaded.elapsed())
        }
    })
    .await
    .unwrap_or_else(|| panic!("the new job's target should show up within 15 s"));
    let first_sample = eventually(Duration::from_secs(15), || {
        let client = client.clone();
        async move {
            let result = client.query("up{job=\"metrics-api-copy\"}", None).await.ok()?;
            (result.data.as_vector().first()?.sample.value == 1.0).then(|| reloaded.elapsed())
        }
    })
    .await
    .unwrap_or_else(|| panic!("the new job should be scraped within 15 s"));
    eprintln!(
        "reload answered in {reload_took:?}; new target listed after {listed:?}; \
         first up=1 sample after {first_sample:?}"
    );

    // A duplicate job name: Prometheus answers 500 and keeps running the previous config.
    let duplicate = format!(
        "  - job_name: {APP_JOB}\n    static_configs:\n      - targets: ['{}']\n",
        stack.app.addr
    );
    stack.write_config(&stack.config_with(&[&new_job, &duplicate]));
    let err = client.reload().await.unwrap_err();
    match &err {
        LiveError::ConfigRejected { body, .. } => assert!(
            body.contains("found multiple scrape configs with job name \"metrics-api\""),
            "{body}"
        ),
        other => panic!("expected the config to be rejected, got {other}"),
    }
    assert!(err.to_string().contains("keeps running the old one"), "{err}");
    client.ready().await.unwrap();
    let live_config = client.status_config().await.unwrap();
    assert!(live_config.contains("job_name: metrics-api-copy"), "{live_config}");
    assert_eq!(
        live_config.matches("job_name: metrics-api\n").count(),
        1,
        "{live_config}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_without_the_lifecycle_flag_says_how_to_enable_it() {
    let options = StackOptions {
        lifecycle: false,
        ..StackOptions::default()
    };
    let Some(stack) = LiveStack::start("reload-403", options) else {
        return;
    };
    let client = stack.prometheus_client();
    assert!(!client.flags().await.unwrap().lifecycle_enabled());
    let err = client.reload().await.unwrap_err();
    assert!(matches!(err, LiveError::LifecycleDisabled { .. }), "{err}");
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("--web.enable-lifecycle"), "{err}");
    assert!(err.to_string().contains("Lifecycle API is not enabled"), "{err}");
}

fn dual_run_spec(stack: &LiveStack, honor_labels: bool) -> DualRunSpec {
    DualRunSpec {
        source: PushSource {
            gateway_job: GATEWAY_JOB.into(),
            honor_labels,
        },
        pushed: PushedGroupRef {
            job: APP_JOB.into(),
            instance: Some(PUSHED_INSTANCE.into()),
        },
        scraped: ScrapeTargetRef {
            job: APP_JOB.into(),
            instance: stack.app_instance(),
        },
        ignore_labels: vec![],
    }
}

fn dual_run_options(honor_labels: bool) -> StackOptions {
    StackOptions {
        honor_labels,
        ..StackOptions::default()
    }
}

fn dual_run_settings() -> CompareSettings {
    CompareSettings {
        window: Duration::from_secs(6),
        // Measured 0.0% when the window is full of samples on both sides. Pushes and
        // scrapes both run every second at unrelated phases, so now and then a scrape may
        // see one push twice: one step in six moves a rate by ~17%.
        tolerance: Tolerance {
            relative: 0.2,
            absolute: 1e-9,
        },
        max_push_age: Duration::from_secs(3),
        concurrency: 4,
        sampling_offset: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_run_passes_when_pushed_and_served_values_agree() {
    let Some(stack) = LiveStack::start("dual-run-agree", dual_run_options(true)) else {
        return;
    };
    let client = stack.prometheus_client();
    let spec = dual_run_spec(&stack, true);
    let settings = dual_run_settings();
    let pushed = pullover::verify::selector::selector(None, &spec.pushed_matchers());
    let scraped = pullover::verify::selector::selector(None, &spec.scraped_matchers());
    let waited = Instant::now();
    // Samples from before the window start on both sides: a series that starts inside the
    // window is extrapolated differently and skews rate() by about one interval (seen: 14%).
    wait_for_samples(
        &client,
        &pushed,
        &scraped,
        settings.window + Duration::from_secs(2),
        8.0,
    )
    .await;
    let compared = Instant::now();
    let report = compare_dual_run(&client, &spec, &settings).await.unwrap();
    eprintln!(
        "waited {:?} for data, compared in {:?}\n{report}",
        waited.elapsed(),
        compared.elapsed()
    );
    let rows: Vec<(&str, usize, usize, &str)> = report
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.series_old, m.series_new, m.verdict.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("app_build_info", 0, 1, "only on new"),
            ("http_requests_total", 1, 1, "match"),
            ("page_views_total", 2, 2, "match"),
            ("queue_depth", 1, 1, "match"),
            ("request_duration_seconds_bucket", 2, 2, "match"),
            ("request_duration_seconds_count", 1, 1, "match"),
            ("request_duration_seconds_sum", 1, 1, "match"),
        ]
    );
    assert!(report.passed(), "{report}");
    assert!(!report.push_is_stale());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_run_names_the_metric_that_disagrees_and_spots_a_dead_pusher() {
    // honor_labels: false here, so the pushed series carry exported_job/exported_instance.
    let Some(stack) = LiveStack::start("dual-run-disagree", dual_run_options(false)) else {
        return;
    };
    stack.app.diverge_pushed_values(Duration::ZERO);
    let client = stack.prometheus_client();
    let spec = dual_run_spec(&stack, false);
    let settings = dual_run_settings();
    let pushed = pullover::verify::selector::selector(None, &spec.pushed_matchers());
    assert!(pushed.contains("exported_job=\"metrics-api\""), "{pushed}");
    let scraped = pullover::verify::selector::selector(None, &spec.scraped_matchers());
    // Samples from before the window start on both sides: a series that starts inside the
    // window is extrapolated differently and skews rate() by about one interval (seen: 14%).
    wait_for_samples(
        &client,
        &pushed,
        &scraped,
        settings.window + Duration::from_secs(2),
        8.0,
    )
    .await;

    let report = compare_dual_run(&client, &spec, &settings).await.unwrap();
    eprintln!("{report}");
    assert!(!report.passed());
    let failing: Vec<(&str, Verdict)> = report
        .failing_metrics()
        .map(|m| (m.metric.as_str(), m.verdict))
        .collect();
    assert_eq!(failing, [("http_requests_total", Verdict::Differs)]);
    let requests = report.failing_metrics().next().unwrap();
    let difference = requests.max_relative_difference.unwrap();
    // Pushed grows at 8/s, served at 4/s.
    assert!((0.4..0.6).contains(&difference), "{difference}");

    // The pusher dies: its series stay fresh in Prometheus, only push_time_seconds ages.
    stack.app.set_pushing(false);
    let stale_report = eventually(Duration::from_secs(10), || {
        let client = client.clone();
        let spec = spec.clone();
        let settings = settings.clone();
        async move {
            let report = compare_dual_run(&client, &spec, &settings).await.ok()?;
            report.push_is_stale().then_some(report)
        }
    })
    .await
    .unwrap_or_else(|| panic!("push_time_seconds should age past 3 s"));
    assert!(!stale_report.passed());
    assert!(
        stale_report.to_string().contains("the pusher looks dead"),
        "{stale_report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_removing_the_gateway_job_nothing_fresh_comes_from_it() {
    let Some(stack) = LiveStack::start("gone", StackOptions::default()) else {
        return;
    };
    let client = stack.prometheus_client();
    wait_for_targets_up(&client).await;
    let mut spec = GoneSpec {
        source: PushSource {
            gateway_job: GATEWAY_JOB.into(),
            honor_labels: true,
        },
        groups: vec![PushedGroupRef {
            job: APP_JOB.into(),
            instance: Some(PUSHED_INSTANCE.into()),
        }],
        since: SystemTime::now(),
    };
    let before = eventually(Duration::from_secs(5), || {
        let client = client.clone();
        let spec = spec.clone();
        async move {
            let report = check_gone(&client, &spec, 4).await.ok()?;
            (!report.fresh_series.is_empty()).then_some(report)
        }
    })
    .await
    .unwrap_or_else(|| panic!("fresh samples from the gateway before removal"));
    assert!(!before.gone());
    assert_eq!(before.gateway_targets.len(), 1);
    assert!(before.fresh_series.iter().any(|s| s.metric == "page_views_total"));

    let app_only = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {APP_JOB}\n    \
         static_configs:\n      - targets: ['{}']\n",
        stack.app.addr
    );
    stack.write_config(&app_only);
    client.reload().await.unwrap();
    spec.since = SystemTime::now();
    let started = Instant::now();
    let after = eventually(Duration::from_secs(10), || {
        let client = client.clone();
        let spec = spec.clone();
        async move {
            let report = check_gone(&client, &spec, 4).await.ok()?;
            report.gone().then_some(report)
        }
    })
    .await
    .unwrap_or_else(|| panic!("the gateway should be gone within 10 s of the reload"));
    eprintln!(
        "gone {:?} after reload; {} series still queryable from before",
        started.elapsed(),
        after.lingering_series
    );
    // No stale markers for a removed job: its series stay queryable (docs/label-facts.md, staleness), which is
    // why "gone" is judged by sample time.
    assert!(after.lingering_series > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_metrics_page_is_valid_exposition_text() {
    let Some(stack) = LiveStack::start("exposition", StackOptions::default()) else {
        return;
    };
    let endpoint = Endpoint::new(&stack.app.url()).unwrap();
    let report = check_exposition(&endpoint, "metrics").await.unwrap();
    assert!(report.analysis.is_valid(), "{:?}", report.analysis.exposition.issues);
    let families: Vec<(&str, MetricKind)> = report
        .analysis
        .exposition
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.kind))
        .collect();
    assert_eq!(
        families,
        [
            ("page_views_total", MetricKind::Counter),
            ("http_requests_total", MetricKind::Counter),
            ("request_duration_seconds", MetricKind::Histogram),
            ("queue_depth", MetricKind::Gauge),
            ("app_build_info", MetricKind::Gauge),
        ]
    );
    assert!(report.analysis.counters_without_total.is_empty());
    assert!(report.analysis.duplicate_series.is_empty());
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert!(report.size_bytes > 500);
    assert!(report.response_time < Duration::from_secs(1));
}

// ---- misbehaving servers: no Prometheus needed ----

fn fast_endpoint(url: &str) -> Endpoint {
    Endpoint::new(url)
        .unwrap()
        .with_timeout(Duration::from_millis(500))
        .with_retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            overall_timeout: Duration::from_secs(3),
        })
}

/// Requests that reached `/broken/…`: a 500 must not be retried.
static BROKEN_HITS: AtomicUsize = AtomicUsize::new(0);

fn misbehave(request: &SeenRequest) -> Canned {
    match request.path.as_str() {
        "/broken/api/v1/query" => {
            BROKEN_HITS.fetch_add(1, Ordering::SeqCst);
            Canned::new(500, "text/plain", "internal oops")
        }
        "/garbage/api/v1/query" => Canned::new(200, "application/json", "{\"status\":\"succ"),
        "/slow/api/v1/query" => Canned::new(200, "application/json", "{}").after(Duration::from_secs(5)),
        "/bad-page/metrics" => Canned::new(
            200,
            "text/plain; version=0.0.4",
            "# TYPE jobs counter\njobs 1\njobs 2\nlatency{le=0.1} 3\n",
        ),
        "/openmetrics/metrics" => Canned::new(
            200,
            "application/openmetrics-text; version=1.0.0",
            "# TYPE jobs counter\njobs_total 1\n# EOF\n",
        ),
        _ => Canned::new(404, "text/plain", "no such page"),
    }
}

#[tokio::test]
async fn an_unreachable_url_fails_fast_with_connection_refused() {
    let port = crate::support::live::free_port();
    let client = PrometheusClient::new(fast_endpoint(&format!("http://127.0.0.1:{port}"))).unwrap();
    let started = Instant::now();
    let err = client.query("up", None).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, LiveError::ConnectionRefused { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "http://127.0.0.1:{port}/api/v1/query: connection refused (is the server running \
             and listening on that address?)"
        )
    );
    // Three attempts with 50 + 100 ms backoff.
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn server_errors_bad_json_and_silence_become_clear_errors() {
    let server = FakeHttp::start(misbehave);
    let client = |prefix: &str| PrometheusClient::new(fast_endpoint(&format!("{}{prefix}", server.url()))).unwrap();

    let err = client("broken").query("up", None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}broken/api/v1/query: HTTP 500: internal oops", server.url())
    );
    assert_eq!(BROKEN_HITS.load(Ordering::SeqCst), 1, "a 500 is not retried");

    let err = client("garbage").query("up", None).await.unwrap_err();
    assert!(matches!(err, LiveError::Decode { status: 200, .. }), "{err}");
    assert!(err.to_string().contains("{\"status\":\"succ"), "{err}");

    let started = Instant::now();
    let err = client("slow").query("up", None).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        err.to_string(),
        format!("{}slow/api/v1/query: timed out after 0.5s", server.url())
    );
    assert!(took < Duration::from_millis(1500), "not retried: {took:?}");
}

#[tokio::test]
async fn auth_headers_and_path_prefixes_reach_the_server() {
    fn tenant_only(request: &SeenRequest) -> Canned {
        let head = &request.head_lowercase;
        if request.path == "/prometheus/api/v1/query"
            && head.contains("\r\nauthorization: bearer s3cret\r\n")
            && head.contains("\r\nx-scope-orgid: tenant-1\r\n")
        {
            Canned::new(
                200,
                "application/json",
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#,
            )
        } else {
            Canned::new(401, "text/plain", format!("no: {}", request.path))
        }
    }
    let server = FakeHttp::start(tenant_only);
    let endpoint = fast_endpoint(&format!("{}prometheus", server.url()))
        .with_auth(Auth::Bearer(Secret::new("s3cret")))
        .with_header("X-Scope-OrgID", "tenant-1");
    assert!(!format!("{endpoint:?}").contains("s3cret"));
    let result = PrometheusClient::new(endpoint)
        .unwrap()
        .query("up", None)
        .await
        .unwrap();
    assert_eq!(result.data.as_vector().len(), 1);
}

#[tokio::test]
async fn a_broken_metrics_page_is_reported_line_by_line() {
    let server = FakeHttp::start(misbehave);
    let report = check_exposition(&fast_endpoint(&format!("{}bad-page", server.url())), "metrics")
        .await
        .unwrap();
    let issues: Vec<String> = report
        .analysis
        .exposition
        .issues
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(issues, ["4:12: error: the value of label le must be in double quotes"]);
    assert_eq!(report.analysis.duplicate_series.len(), 1);
    assert_eq!(report.analysis.duplicate_series[0].lines, [2, 3]);
    assert_eq!(
        report.analysis.counters_without_total[0].problem,
        CounterNamingProblem::MissingTotalSuffix
    );

    let openmetrics = check_exposition(&fast_endpoint(&format!("{}openmetrics", server.url())), "metrics")
        .await
        .unwrap();
    assert!(openmetrics.notes[0].contains("application/openmetrics-text"));
    assert_eq!(
        openmetrics.analysis.counters_without_total[0].problem,
        CounterNamingProblem::OpenMetricsTypeLine {
            sample_name: "jobs_total".into()
        }
    );

    let missing = check_exposition(&fast_endpoint(&server.url()), "metrics")
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}
