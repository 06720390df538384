//! The language of the stack's own Prometheus: names and syntax that differ between 2.x and
//! 3.x, each parsed, rewritten or reported according to the version (and the feature flags).

use super::super::{Dialect, PrometheusVersion, QueryFindingKind, VersionSource, accepted_by, rewrite_query_in};
use super::{mapping, metrics_api};

fn dialect(version: &str, features: &[&str]) -> Dialect {
    Dialect::new(
        PrometheusVersion::parse(version).expect("a version"),
        features.iter().map(|f| f.to_string()).collect(),
        VersionSource::ImageTag {
            service: "prometheus".to_string(),
            image: format!("prom/prometheus:v{version}.0"),
        },
    )
}

/// What happens to one query on one server, in a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Rewritten to select the scraped series.
    Rewritten,
    /// Reported as rejected by the version; left as written.
    Rejected,
    /// Read by that version and selects no pushed series: left alone, no finding.
    Untouched,
}

use Outcome::{Rejected, Rewritten, Untouched};

fn outcome(query: &str, dialect: &Dialect) -> Outcome {
    let rewrite = rewrite_query_in(query, &mapping(true, vec![metrics_api()]), dialect)
        .unwrap_or_else(|e| panic!("`{query}` on {}: does not parse: {e}", dialect.describe()));
    let rejected: Vec<_> = rewrite
        .findings
        .iter()
        .filter(|f| f.kind == QueryFindingKind::RejectedByPrometheusVersion)
        .collect();
    if let Some(finding) = rejected.first() {
        assert!(rewrite.text.is_none(), "`{query}` was rewritten although rejected");
        assert!(
            finding.message.contains(&format!("Prometheus {}", dialect.version)),
            "the finding names the version: {}",
            finding.message
        );
        return Rejected;
    }
    assert!(rewrite.findings.is_empty(), "`{query}`: {:?}", rewrite.findings);
    match rewrite.text {
        Some(_) => Rewritten,
        None => Untouched,
    }
}

const EXPERIMENTAL: &str = "promql-experimental-functions";

#[test]
fn names_and_syntax_that_differ_between_2x_and_3x() {
    let pushed = r#"{job="metrics-api", instance="app-1"}"#;
    #[rustfmt::skip]
    let table: Vec<(String, &[&str], [Outcome; 4])> = vec![
        // query                                                     flags        2.42       2.55      3.1        3.11
        // Renamed in 3.0: valid on every 2.x, gone from 3.x (there behind a flag as
        // double_exponential_smoothing).
        (format!("holt_winters(http_requests_total{pushed}[10m], 0.1, 0.5)"), &[], [Rewritten, Rewritten, Rejected, Rejected]),
        (format!("double_exponential_smoothing(http_requests_total{pushed}[10m], 0.1, 0.5)"), &[], [Rejected, Rejected, Rejected, Rejected]),
        (format!("double_exponential_smoothing(http_requests_total{pushed}[10m], 0.1, 0.5)"), &[EXPERIMENTAL], [Rejected, Rejected, Rewritten, Rewritten]),
        // New aggregations and functions, experimental: the version and the flag.
        (format!("limitk(2, http_requests_total{pushed})"), &[], [Rejected, Rejected, Rejected, Rejected]),
        (format!("limitk(2, http_requests_total{pushed})"), &[EXPERIMENTAL], [Rejected, Rewritten, Rewritten, Rewritten]),
        (format!("limit_ratio(0.5, http_requests_total{pushed})"), &[EXPERIMENTAL], [Rejected, Rewritten, Rewritten, Rewritten]),
        (format!("info(http_requests_total{pushed})"), &[EXPERIMENTAL], [Rejected, Rewritten, Rewritten, Rewritten]),
        (format!("sort_by_label(http_requests_total{pushed}, \"path\")"), &[], [Rejected, Rejected, Rejected, Rejected]),
        (format!("mad_over_time(http_requests_total{pushed}[5m])"), &[EXPERIMENTAL], [Rejected, Rewritten, Rewritten, Rewritten]),
        (format!("ts_of_max_over_time(http_requests_total{pushed}[5m])"), &[EXPERIMENTAL], [Rejected, Rejected, Rejected, Rewritten]),
        (format!("first_over_time(http_requests_total{pushed}[5m])"), &[EXPERIMENTAL], [Rejected, Rejected, Rejected, Rewritten]),
        // Native histogram functions: stable, by version.
        (format!("histogram_avg(rate(http_request_duration_seconds{pushed}[5m]))"), &[], [Rejected, Rewritten, Rewritten, Rewritten]),
        (format!("histogram_count(rate(http_request_duration_seconds{pushed}[5m]))"), &[], [Rewritten, Rewritten, Rewritten, Rewritten]),
        // Quoted UTF-8 names: behind utf8-names in 2.55, the default in 3.0.
        (r#"{"http.server.duration", job="other"}"#.to_string(), &[], [Rejected, Rejected, Untouched, Untouched]),
        (r#"{"http.server.duration", job="other"}"#.to_string(), &["utf8-names"], [Rejected, Untouched, Untouched, Untouched]),
        (r#"sum by ("service.name") (up{job="other"})"#.to_string(), &[], [Rejected, Rejected, Untouched, Untouched]),
        (r#"http_requests_total{"http.method"="GET", job="metrics-api", instance="app-1"}"#.to_string(), &[], [Rejected, Rejected, Rewritten, Rewritten]),
        // Modifiers: @ (2.25 behind a flag, 2.33 on), range modifiers (3.7), fill (3.10).
        (format!("http_requests_total{pushed} @ 1609746000"), &[], [Rewritten, Rewritten, Rewritten, Rewritten]),
        (format!("http_requests_total{pushed} / fill(0) up{{job=\"other\"}}"), &["promql-binop-fill-modifiers"], [Rejected, Rejected, Rejected, Rewritten]),
        (format!("http_requests_total{pushed} / fill(0) up{{job=\"other\"}}"), &[], [Rejected, Rejected, Rejected, Rejected]),
        // Durations: negative offsets (on since 2.33), plain numbers as durations (2.54).
        (format!("http_requests_total{pushed} offset -5m"), &[], [Rewritten, Rewritten, Rewritten, Rewritten]),
        (format!("rate(http_requests_total{pushed}[300])"), &[], [Rejected, Rewritten, Rewritten, Rewritten]),
        // What every release reads stays as it was: rewritten on all of them.
        (format!("sum(rate(http_requests_total{pushed}[$__rate_interval]))"), &[], [Rewritten, Rewritten, Rewritten, Rewritten]),
        // A metric called like a 3.x keyword is no use of it.
        ("limitk{job=\"other\"} + fill".to_string(), &[], [Untouched, Untouched, Untouched, Untouched]),
    ];
    let versions = ["2.42", "2.55", "3.1", "3.11"];
    let mut failures = Vec::new();
    for (query, flags, expected) in &table {
        for (version, expected) in versions.iter().zip(expected) {
            let got = outcome(query, &dialect(version, flags));
            if got != *expected {
                failures.push(format!(
                    "`{query}` {flags:?} on {version}: expected {expected:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn holt_winters_on_2x_is_rewritten_with_every_other_byte_as_written() {
    let query = r#"holt_winters( http_requests_total{job="metrics-api",instance="app-1"} [10m] , 0.1,0.5 ) > 3"#;
    let rewrite = rewrite_query_in(query, &mapping(true, vec![metrics_api()]), &dialect("2.45", &[])).unwrap();
    assert_eq!(
        rewrite.text.as_deref(),
        Some(
            r#"holt_winters( http_requests_total{job="metrics-api",instance="metrics-api:8080"} [10m] , 0.1,0.5 ) > 3"#
        )
    );
    assert!(rewrite.findings.is_empty(), "{:?}", rewrite.findings);
}

#[test]
fn the_finding_says_which_server_rejects_what_and_why() {
    let query = r#"holt_winters(http_requests_total{job="metrics-api", instance="app-1"}[10m], 0.1, 0.5)"#;
    let rewrite = rewrite_query_in(query, &mapping(true, vec![metrics_api()]), &dialect("3.1", &[])).unwrap();
    let [finding] = rewrite.findings.as_slice() else {
        panic!("one finding: {:?}", rewrite.findings);
    };
    assert_eq!(
        finding.message,
        "Prometheus 3.1 (image prom/prometheus:v3.1.0 of service prometheus) rejects this query: the function \
         `holt_winters` is gone since Prometheus 3.0; it is called `double_exponential_smoothing` there (behind \
         --enable-feature=promql-experimental-functions, which the server's command does not set). It fails \
         there as written; left unchanged"
    );
    assert_eq!(finding.range, Some(0..12));
    assert!(finding.blocks_rewrite);
}

#[test]
fn an_assumed_version_says_it_is_assumed() {
    let assumed = Dialect::assumed("no Prometheus service in the Compose file");
    let error = accepted_by("holt_winters(x[5m], 0.1, 0.1)", &assumed).unwrap_err();
    assert!(
        error.starts_with("Prometheus 3.11 (assumed: no Prometheus service in the Compose file) rejects"),
        "{error}"
    );
}

#[test]
fn suggested_replacements_are_read_by_the_oldest_2x_release() {
    let oldest = Dialect::new(PrometheusVersion::new(2, 0), Vec::new(), VersionSource::Settings);
    let queries = [
        (true, r#"time() - push_time_seconds{job="metrics-api"}"#),
        (true, r#"push_failure_time_seconds{job="metrics-api"} > 0"#),
        (true, r#"pushgateway_build_info{job="pushgateway"}"#),
        (false, r#"up{job="pushgateway"}"#),
        (false, r#"sum(rate({job="pushgateway"}[5m]))"#),
        (false, r#"go_goroutines{job="pushgateway"}"#),
    ];
    let mut suggestions = Vec::new();
    for (honor_labels, query) in queries {
        let rewrite = rewrite_query_in(query, &mapping(honor_labels, vec![metrics_api()]), &oldest).unwrap();
        suggestions.extend(rewrite.findings.iter().filter_map(|f| f.suggestion.clone()));
    }
    assert!(suggestions.len() >= 4, "{suggestions:?}");
    for suggestion in &suggestions {
        accepted_by(suggestion, &oldest).unwrap_or_else(|reason| panic!("`{suggestion}`: {reason}"));
    }
}
