//! Who pushes as what, per source of evidence (pin, live, code, queries, assumption), and
//! what happens when sources disagree.

use super::clues::{ClueCollector, ReadContext};
use super::*;
use crate::stack::source::RelPath;

const GATEWAY_INSTANCES: &[&str] = &["pushgateway:9091"];

fn clues(honor_labels: bool, queries: &[&str]) -> Vec<QueryClue> {
    let gateway_instances: Vec<String> = GATEWAY_INSTANCES.iter().map(|s| s.to_string()).collect();
    let other_jobs = vec!["prometheus".to_string()];
    let context = ReadContext {
        honor_labels,
        gateway_job: "pushgateway",
        gateway_instances: &gateway_instances,
        other_jobs: &other_jobs,
    };
    let mut collector = ClueCollector::default();
    for (index, query) in queries.iter().enumerate() {
        let location = Location {
            path: RelPath::new("grafana/dashboards/d.json").unwrap(),
            line: index + 1,
            column: 1,
            context: None,
        };
        collector.read(&context, query, &|| location.clone());
    }
    collector.finish()
}

fn live(job: &str, instance: &str, metrics: &[&str]) -> ObservedPush {
    ObservedPush {
        job: job.into(),
        instance: instance.into(),
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        source: "Pushgateway at http://127.0.0.1:9091".into(),
    }
}

fn code(job: &str, instance: &str) -> Known {
    Known {
        code_job: Some((job.into(), format!("`pushAdd` at server.js:88 pushes as job \"{job}\""))),
        code_instances: Some((vec![instance.into()], "server.js:88".into())),
        ..Known::default()
    }
}

fn pinned(job: &str) -> Known {
    Known {
        pinned_job: Some(job.into()),
        ..Known::default()
    }
}

/// One app, `metrics-api` on port 8080.
fn resolve_one_app(honor_labels: bool, known: Known, queries: &[&str], observed: &[ObservedPush]) -> PushedIdentity {
    let facts = [AppFacts {
        service: "metrics-api",
        scrape_job: "metrics-api",
        target: "metrics-api:8080",
        known: &known,
    }];
    let context = Context {
        honor_labels,
        gateway_job: "pushgateway",
    };
    resolve(&facts, &context, &clues(honor_labels, queries), observed)
        .pop()
        .unwrap()
}

const ON_GATEWAY_JOB: &[&str] = &[
    r#"sum(rate(page_views_total{job="pushgateway"}[5m]))"#,
    r#"http_requests_total{job="pushgateway", instance="app-1"}"#,
    r#"up{job="pushgateway"}"#,
    r#"pushgateway_http_requests_total{job="pushgateway"}"#,
];

#[test]
fn a_pin_decides_and_wins_over_everything_else() {
    let identity = resolve_one_app(
        true,
        pinned("metrics-api"),
        ON_GATEWAY_JOB,
        &[live("pushgateway", "app-1", &["page_views_total"])],
    );
    assert_eq!(identity.job, "metrics-api");
    assert_eq!(identity.source, Source::Pinned);
    assert!(identity.is_decided(), "a pin always wins");
    let disputes: Vec<Source> = identity.disputed_by.iter().map(|e| e.source).collect();
    assert_eq!(disputes, vec![Source::Live, Source::Queries]);
    let findings = findings("metrics-api", &identity);
    assert_eq!(findings[0].id, "pushed-identity-pinned-over-evidence");
}

#[test]
fn live_groups_decide_when_nothing_is_pinned() {
    // The queries say nothing; the gateway holds one group whose metrics the app's are.
    let identity = resolve_one_app(
        true,
        Known::default(),
        &[],
        &[live("pushgateway", "app-1", &["page_views_total", "push_time_seconds"])],
    );
    assert_eq!((identity.job.as_str(), identity.source), ("pushgateway", Source::Live));
    assert_eq!(identity.instances, vec!["app-1"]);
    assert_eq!(identity.metrics, vec!["page_views_total"]);
    assert!(
        identity.evidence[0]
            .says
            .contains("holds its group {job=\"pushgateway\", instance=\"app-1\"}")
    );
}

#[test]
fn the_apps_push_call_decides_without_pin_or_live() {
    let identity = resolve_one_app(true, code("pushgateway", "app-1"), &[], &[]);
    assert_eq!((identity.job.as_str(), identity.source), ("pushgateway", Source::Code));
    assert_eq!(identity.instances, vec!["app-1"]);
    assert!(identity.is_decided());
}

#[test]
fn app_metrics_on_the_gateway_job_decide_from_the_queries_alone() {
    let identity = resolve_one_app(true, Known::default(), ON_GATEWAY_JOB, &[]);
    assert_eq!(
        (identity.job.as_str(), identity.source),
        ("pushgateway", Source::Queries)
    );
    assert_eq!(identity.instances, vec!["app-1"]);
    assert_eq!(identity.metrics, vec!["http_requests_total", "page_views_total"]);
    let finding = &findings("metrics-api", &identity)[0];
    assert_eq!(finding.id, "pushed-identity");
    assert!(
        finding
            .message
            .contains("select its metrics with job=\"pushgateway\" (2 selectors"),
        "{}",
        finding.message
    );
    assert_eq!(finding.location.as_ref().map(|l| l.line), Some(1));
}

#[test]
fn exported_job_decides_from_the_queries_without_honor_labels() {
    let identity = resolve_one_app(
        false,
        Known::default(),
        &[
            r#"rows_total{job="pushgateway", exported_job="batch-etl", exported_instance="etl-1"}"#,
            r#"label_values(request_seconds_bucket{job="pushgateway"}, route)"#,
        ],
        &[],
    );
    assert_eq!(identity.job, "batch-etl");
    assert_eq!(identity.instances, vec!["etl-1"]);
}

#[test]
fn the_service_name_is_a_stated_assumption() {
    let identity = resolve_one_app(true, Known::default(), &[r#"up{job="pushgateway"}"#], &[]);
    assert_eq!(
        (identity.job.as_str(), identity.source),
        ("metrics-api", Source::Assumed)
    );
    let finding = &findings("metrics-api", &identity)[0];
    assert_eq!(finding.id, "pushed-identity-assumed");
    assert!(finding.message.contains("assuming it pushes under its own name"));
}

#[test]
fn queries_under_the_apps_own_name_agree_with_any_other_source() {
    // The dashboards read job="metrics-api" (the scrape job to be, or the app pushing under its
    // own name): no dispute with the code saying "pushgateway".
    let identity = resolve_one_app(
        true,
        code("pushgateway", "app-1"),
        &[r#"sum(rate(page_views_total{job="metrics-api"}[5m]))"#],
        &[],
    );
    assert_eq!(identity.job, "pushgateway");
    assert!(identity.is_decided());
    let own = resolve_one_app(
        true,
        Known::default(),
        &[r#"page_views_total{job="metrics-api", instance="app-1"}"#],
        &[],
    );
    assert_eq!((own.job.as_str(), own.source), ("metrics-api", Source::Queries));
    assert_eq!(own.instances, vec!["app-1"]);
}

#[test]
fn code_and_queries_that_disagree_leave_it_undecided_naming_both() {
    let identity = resolve_one_app(true, code("metrics-api", "app-1"), ON_GATEWAY_JOB, &[]);
    assert!(!identity.is_decided());
    assert_eq!(identity.candidate_jobs(), vec!["metrics-api", "pushgateway"]);
    let finding = &findings("metrics-api", &identity)[0];
    assert_eq!(finding.id, "pushed-identity-undecided");
    assert!(finding.message.contains("its code:"), "{}", finding.message);
    assert!(finding.message.contains("job=\"pushgateway\""), "{}", finding.message);
    assert!(finding.tip.as_deref().is_some_and(|t| t.contains("pushed_job")));
}

#[test]
fn live_and_code_that_disagree_leave_it_undecided() {
    let identity = resolve_one_app(
        true,
        code("metrics-api", "app-1"),
        &[],
        &[live("pushgateway", "app-1", &["page_views_total"])],
    );
    // The group is tied to the app by its instance, which the code names.
    assert!(!identity.is_decided());
    assert_eq!(identity.job, "pushgateway", "the strongest word is kept for display");
}

#[test]
fn two_apps_on_the_gateway_job_are_told_apart_by_instance_and_code() {
    let api = code("pushgateway", "app-1");
    let billing = code("pushgateway", "billing-1");
    let facts = [
        AppFacts {
            service: "metrics-api",
            scrape_job: "metrics-api",
            target: "metrics-api:8080",
            known: &api,
        },
        AppFacts {
            service: "billing",
            scrape_job: "billing",
            target: "billing:9200",
            known: &billing,
        },
    ];
    let context = Context {
        honor_labels: true,
        gateway_job: "pushgateway",
    };
    let found = resolve(
        &facts,
        &context,
        &clues(
            true,
            &[
                r#"page_views_total{job="pushgateway", instance="app-1"}"#,
                r#"invoices_total{job="pushgateway", instance="billing-1"}"#,
            ],
        ),
        &[],
    );
    assert_eq!(found[0].job, "pushgateway");
    assert_eq!(found[0].instances, vec!["app-1"]);
    assert_eq!(found[0].metrics, vec!["page_views_total"]);
    assert_eq!(found[1].instances, vec!["billing-1"]);
    assert_eq!(found[1].metrics, vec!["invoices_total"]);
}

#[test]
fn a_stray_query_on_another_job_is_no_dispute() {
    // 3 selectors say "pushgateway", one says a job nothing pushes as (a typo): the code and the
    // queries' word agree.
    let mut queries = ON_GATEWAY_JOB.to_vec();
    queries.push(r#"http_requests_total{job="metrics-apj"}"#);
    let identity = resolve_one_app(true, code("pushgateway", "app-1"), &queries, &[]);
    assert!(identity.is_decided(), "{:?}", identity.disputed_by);
    assert_eq!(identity.job, "pushgateway");
}
