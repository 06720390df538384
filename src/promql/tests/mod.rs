//! Tests of the query rewrite: a table of real-world query shapes, focused cases, properties.

mod cases;
mod dialects;
mod focused;
mod gateway_job;
mod properties;
mod timing;

use super::{AppMapping, SeriesMapping, rewrite_query};

pub(super) fn metrics_api() -> AppMapping {
    AppMapping {
        pushed_job: "metrics-api".to_string(),
        pushed_instances: vec!["app-1".to_string()],
        scrape_job: "metrics-api".to_string(),
        scrape_instance: "metrics-api:8080".to_string(),
        metrics: vec![
            "page_views_total".to_string(),
            "http_requests_total".to_string(),
            "http_request_duration_seconds".to_string(),
        ],
    }
}

/// A batch job that pushed as `etl-batch` without an instance and is scraped as `etl`.
pub(super) fn etl() -> AppMapping {
    AppMapping {
        pushed_job: "etl-batch".to_string(),
        pushed_instances: vec![String::new()],
        scrape_job: "etl".to_string(),
        scrape_instance: "etl:9102".to_string(),
        metrics: vec![
            "etl_rows_processed_total".to_string(),
            "etl_last_success_timestamp_seconds".to_string(),
        ],
    }
}

pub(super) fn mapping(honor_labels: bool, apps: Vec<AppMapping>) -> SeriesMapping {
    SeriesMapping {
        honor_labels,
        gateway_job: "pushgateway".to_string(),
        gateway_instances: vec!["pushgateway:9091".to_string()],
        apps,
    }
}

/// One query's outcome, as a reviewer would read it.
pub(super) fn render(query: &str, mapping: &SeriesMapping) -> String {
    let rewrite = match rewrite_query(query, mapping) {
        Ok(rewrite) => rewrite,
        Err(error) => {
            return format!(
                "error ({:?}) at {:?} `{}`: {}",
                error.kind,
                error.span,
                query.get(error.span.clone()).unwrap_or("?"),
                error.message
            );
        }
    };
    // Every row also checks that a rewrite is final: rewriting it again changes nothing.
    if let Some(text) = &rewrite.text {
        let again = rewrite_query(text, mapping).unwrap_or_else(|e| panic!("`{text}` does not parse again: {e}"));
        assert_eq!(again.text, None, "rewriting `{text}` again changed it");
    }
    let mut out = match &rewrite.text {
        Some(text) => format!("=> {}", text.replace('\n', "\n   ")),
        None => "unchanged".to_string(),
    };
    for finding in &rewrite.findings {
        let kept = if finding.blocks_rewrite { " [keeps query]" } else { "" };
        out.push_str(&format!("\n   ! {}{kept}: {}", finding.kind, finding.message));
        if let Some(suggestion) = &finding.suggestion {
            out.push_str(&format!("\n     try: {suggestion}"));
        }
    }
    out
}

/// The outcome under each stack shape the table covers.
pub(super) fn table(query: &str) -> String {
    let modes = [
        (
            "honor_labels: true  (metrics-api same job, etl-batch -> etl)",
            mapping(true, vec![metrics_api(), etl()]),
        ),
        (
            "honor_labels: false (one app: metrics-api)",
            mapping(false, vec![metrics_api()]),
        ),
        (
            "honor_labels: false (two apps: metrics-api, etl-batch -> etl)",
            mapping(false, vec![metrics_api(), etl()]),
        ),
    ];
    modes
        .iter()
        .map(|(label, mapping)| format!("{label}\n   {}", render(query, mapping)))
        .collect::<Vec<_>>()
        .join("\n")
}
