use super::*;
use crate::live::model::Labels;

fn app() -> App {
    App {
        service: "metrics-api".into(),
        port: 8080,
        job: "metrics-api".into(),
        pushed_job: "metrics-api".into(),
        pushed_instances: vec!["app-1".into()],
        metrics: vec![],
        in_compose: true,
        code: vec![],
        identity: crate::identity::PushedIdentity::assumed("metrics-api"),
        known: crate::identity::Known::default(),
    }
}

fn target(job: &str, address: &str, health: TargetHealth) -> Target {
    let labels: Labels = [
        ("job".to_string(), job.to_string()),
        ("instance".to_string(), address.to_string()),
    ]
    .into();
    Target {
        scrape_pool: job.into(),
        scrape_url: format!("http://{address}/metrics"),
        global_url: String::new(),
        labels,
        discovered_labels: [("__address__".to_string(), address.to_string())].into(),
        health,
        last_error: if health == TargetHealth::Down {
            "connect: connection refused".into()
        } else {
            String::new()
        },
        last_scrape: "2026-11-25T07:31:34Z".into(),
        last_scrape_duration: 0.002,
        scrape_interval: "30s".into(),
        scrape_timeout: "10s".into(),
    }
}

fn targets(list: Vec<Target>) -> Targets {
    Targets {
        active: list,
        dropped: vec![],
    }
}

#[test]
fn the_apps_target_is_found_by_address_and_judged_by_health() {
    let now = crate::live::model::parse_rfc3339("2026-11-25T07:31:36Z").unwrap();
    let up = target_check(
        &app(),
        &targets(vec![
            target("pushgateway", "pushgateway:9091", TargetHealth::Up),
            target("metrics-api", "metrics-api:8080", TargetHealth::Up),
        ]),
        now,
    );
    assert_eq!(up.status, Status::Pass);
    assert_eq!(
        up.detail,
        "job `metrics-api` target metrics-api:8080 is up, last scrape 2.0s ago, every 30s"
    );
    let down = target_check(
        &app(),
        &targets(vec![target("metrics-api", "metrics-api:8080", TargetHealth::Down)]),
        now,
    );
    assert_eq!(down.status, Status::Fail);
    assert!(
        down.detail.ends_with("is down: connect: connection refused"),
        "{}",
        down.detail
    );
    let new = target_check(
        &app(),
        &targets(vec![target("metrics-api", "metrics-api:8080", TargetHealth::Unknown)]),
        now,
    );
    assert_eq!(new.status, Status::Inconclusive);
    let missing = target_check(&app(), &targets(vec![]), now);
    assert_eq!(missing.status, Status::Fail);
    assert_eq!(
        missing.notes,
        ["new jobs show up in /api/v1/targets about 5 s after a reload"]
    );
}

#[test]
fn scrapes_near_the_timeout_warn_and_past_it_fail() {
    let t = target("metrics-api", "metrics-api:8080", TargetHealth::Up);
    let window = Duration::from_secs(300);
    let fast = scrape_duration_check(&app(), &t, Some(0.003), window);
    assert_eq!(fast.status, Status::Pass);
    assert_eq!(
        fast.detail,
        "longest in the last 5m: 3 ms, 0% of the 10s timeout (interval 30s)"
    );
    assert_eq!(
        scrape_duration_check(&app(), &t, Some(6.0), window).status,
        Status::Warn
    );
    assert_eq!(
        scrape_duration_check(&app(), &t, Some(10.0), window).status,
        Status::Fail
    );
    assert_eq!(
        scrape_duration_query(&app(), &t, window),
        r#"max_over_time(scrape_duration_seconds{job="metrics-api", instance="metrics-api:8080"}[300000ms])"#
    );
}

fn summary() -> ExpositionSummary {
    ExpositionSummary {
        app: "metrics-api".into(),
        url: "http://127.0.0.1:8080/metrics".into(),
        url_source: UrlSource::Given,
        status: 200,
        content_type: Some("text/plain; version=0.0.4".into()),
        response_seconds: 0.0032,
        size_bytes: 2048,
        families: 5,
        series: 9,
        errors: vec![],
        warnings: vec![],
        duplicate_series: vec![],
        counters_without_total: vec![],
        notes: vec![],
    }
}

#[test]
fn app_urls_come_from_the_flag_or_the_scrape_target() {
    let derived = app_urls(&[app()], "/metrics", None);
    assert_eq!(derived[0].url(), "http://metrics-api:8080/metrics");
    assert_eq!(derived[0].source, UrlSource::Target);
    for given in [
        "http://127.0.0.1:9100",
        "http://127.0.0.1:9100/",
        "http://127.0.0.1:9100/metrics",
    ] {
        let urls = app_urls(&[app()], "/metrics", Some(given));
        assert_eq!(urls.len(), 1);
        assert_eq!(urls[0].base, "http://127.0.0.1:9100/", "{given}");
        assert_eq!(urls[0].url(), "http://127.0.0.1:9100/metrics", "{given}");
        assert_eq!(urls[0].app, "metrics-api");
    }
    let prefixed = app_urls(&[app()], "/metrics", Some("https://apps.example/api/"));
    assert_eq!(prefixed[0].url(), "https://apps.example/api/metrics");
}

#[test]
fn a_valid_page_passes_with_its_size_and_response_time() {
    let check = exposition_check(&summary());
    assert_eq!(check.status, Status::Pass);
    assert_eq!(
        check.detail,
        "http://127.0.0.1:8080/metrics: valid text format, 5 families, 9 series, 2.0 KiB in 3ms"
    );
}

#[test]
fn format_errors_and_duplicates_fail_naming_the_lines() {
    let broken = ExpositionSummary {
        errors: vec!["4:12: error: the value of label le must be in double quotes".into()],
        duplicate_series: vec!["jobs (lines 2, 3)".into()],
        ..summary()
    };
    let check = exposition_check(&broken);
    assert_eq!(check.status, Status::Fail);
    assert_eq!(
        check.notes,
        [
            "4:12: error: the value of label le must be in double quotes",
            "jobs (lines 2, 3)"
        ]
    );
    let duplicates = ExpositionSummary {
        duplicate_series: vec!["jobs (lines 2, 3)".into()],
        ..summary()
    };
    assert!(exposition_check(&duplicates).detail.contains("1 duplicate series"));
    let naming = ExpositionSummary {
        counters_without_total: vec!["line 1: counter jobs is not named ..._total".into()],
        ..summary()
    };
    assert_eq!(exposition_check(&naming).status, Status::Warn);
}
