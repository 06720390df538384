//! Tests for reading and editing dashboards. Fixtures are small, realistic exports of each model.

mod errors;
mod props;
mod rewriting;
mod scanning;

use std::fmt::Write as _;

use super::{DashboardScan, QuerySite, SiteKind, scan};

pub(super) const CLASSIC_EXPORT: &str = include_str!("fixtures/classic_export.json");
pub(super) const LEGACY_ROWS: &str = include_str!("fixtures/legacy_rows.json");
pub(super) const V1_RESOURCE_GO: &str = include_str!("fixtures/v1_resource_go.json");
pub(super) const V2_RESOURCE: &str = include_str!("fixtures/v2_resource.json");
/// Written on Windows: CRLF line endings and no final newline (kept inline so no git setting
/// can normalise it).
pub(super) const CRLF_NO_FINAL_NEWLINE: &str = "{\r\n  \"panels\": [\r\n    {\r\n      \"targets\": [\r\n        { \"expr\": \"up{job=\\\"pushgateway\\\"}\" }\r\n      ],\r\n      \"title\": \"Up\"\r\n    }\r\n  ],\r\n  \"templating\": { \"list\": [ { \"type\": \"query\", \"name\": \"job\", \"query\": \"label_values(up, job)\" } ] },\r\n  \"title\": \"CRLF\"\r\n}";

/// A scan as a person would read it: one block per site, skipped site and library panel.
pub(super) fn render(source: &str, scan: &DashboardScan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:?} {:?} uid={:?}",
        scan.model,
        scan.title.as_deref().unwrap_or("-"),
        scan.uid.as_deref().unwrap_or("-")
    );
    for site in &scan.sites {
        render_site(&mut out, source, site, "");
    }
    for skipped in &scan.skipped {
        render_site(
            &mut out,
            source,
            &skipped.site,
            &format!("SKIPPED ({}) ", skipped.reason),
        );
    }
    for library in &scan.library_panels {
        let _ = writeln!(
            out,
            "library panel {} {:?} at {} ({})",
            library.uid.as_deref().unwrap_or("-"),
            library.name.as_deref().unwrap_or("-"),
            library.pointer,
            library.owner
        );
    }
    out
}

fn render_site(out: &mut String, source: &str, site: &QuerySite, prefix: &str) {
    let datasource = match site.kind {
        SiteKind::PanelLink => String::new(),
        _ => format!(" | ds {}", site.datasource),
    };
    let _ = writeln!(
        out,
        "{prefix}{} {} @{} | {}{datasource}\n    {}",
        site.kind,
        site.pointer,
        site.location(source),
        site.owner,
        site.value
    );
}

/// Every site must point at a literal that decodes to its value, at its pointer.
#[track_caller]
pub(super) fn assert_sites_are_faithful(source: &str) -> DashboardScan {
    let scanned = scan(source).expect("fixture scans");
    let body = source.strip_prefix('\u{feff}').unwrap_or(source);
    let document: serde_json::Value = serde_json::from_str(body).expect("fixture is JSON");
    let all_sites = scanned
        .sites
        .iter()
        .chain(scanned.skipped.iter().map(|skipped| &skipped.site));
    for site in all_sites {
        let literal = &source[site.literal.clone()];
        let decoded: String = serde_json::from_str(literal).expect("literal is a JSON string");
        assert_eq!(decoded, site.value, "literal at {:?}", site.literal);
        assert_eq!(
            document.pointer(&site.pointer).and_then(|value| value.as_str()),
            Some(site.value.as_str()),
            "pointer {}",
            site.pointer
        );
    }
    scanned
}
