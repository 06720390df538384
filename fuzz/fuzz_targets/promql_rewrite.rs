//! The PromQL rewrite on any query: no panic; a rewrite parses, keeps every byte outside its
//! edits, and rewriting its result again changes nothing (idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullover::promql::{AppMapping, SeriesMapping, check, rewrite_query};

fn mapping(honor_labels: bool) -> SeriesMapping {
    SeriesMapping {
        honor_labels,
        gateway_job: "pushgateway".into(),
        gateway_instances: vec!["pushgateway:9091".into()],
        apps: vec![AppMapping {
            pushed_job: "metrics-api".into(),
            pushed_instances: vec!["app-1".into(), String::new()],
            scrape_job: "metrics-api".into(),
            scrape_instance: "metrics-api:8080".into(),
            metrics: vec!["http_requests_total".into(), "page_views_total".into()],
        }],
    }
}

fuzz_target!(|data: &[u8]| {
    // Contained panics (a parser crate giving up) are answers, not crashes; any other panic
    // still reaches libFuzzer's hook.
    pullover::contained::install_panic_hook();
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else { return };
    let mapping = mapping(choice & 1 == 1);
    let Ok(rewrite) = rewrite_query(query, &mapping) else {
        return;
    };
    let Some(text) = rewrite.text else {
        assert!(rewrite.edits.is_empty(), "edits without a rewritten text");
        return;
    };
    assert!(check(&text).is_ok(), "rewrite does not parse: {query:?} → {text:?}");
    // Outside the edits, the original text, in order.
    let mut rebuilt = String::new();
    let mut copied = 0;
    for edit in &rewrite.edits {
        rebuilt.push_str(&query[copied..edit.range.start]);
        rebuilt.push_str(&edit.replacement);
        copied = edit.range.end;
    }
    rebuilt.push_str(&query[copied..]);
    assert_eq!(rebuilt, text, "the rewrite is not the original with its edits");
    let again = rewrite_query(&text, &mapping).expect("a rewrite must rewrite again");
    assert!(
        again.text.is_none() || again.text.as_deref() == Some(text.as_str()),
        "not idempotent: {query:?} → {text:?} → {:?}",
        again.text
    );
});
