//! Phase 5, `docs`: the stack's docs describe the new flow, and a person gets a
//! checklist of what still mentions the Pushgateway.
//!
//! Only recognisable spots are rewritten, from `templates/docs/`; every other
//! byte of a doc stays as it is (CRLF, a missing final newline):
//! - an architecture line's hop `→ Pushgateway (9091) →` (any port or none,
//!   also ASCII `->`) becomes `/metrics ←scrape─`, so
//!   `App (8080) → Pushgateway (9091) → Prometheus` reads
//!   `App (8080) /metrics ←scrape─ Prometheus`;
//! - a metrics-flow section's body is replaced: the lines between
//!   `<!-- pullover:metrics-flow -->` and `<!-- /pullover:metrics-flow -->`
//!   when a doc has those markers, else the lines under a `Metrics flow`
//!   heading (any level, any case) up to the next heading of the same or a
//!   higher level. Blank lines around the body are kept.
//!
//! Then every line of the docs (as this phase leaves them) and of the apps'
//! code that still mentions the gateway becomes a `todo` finding with its
//! file:line:col.

use std::ops::Range;
use std::sync::LazyLock;

use minijinja::{Environment, context};
use regex::Regex;
use serde::Serialize;

use crate::changeset::finding_id::FindingId;
use crate::changeset::{ChangeSet, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::{Splice, apply_splices, line_ending};
use crate::stack::mentions::{MentionKind, MentionScanner};
use crate::stack::source::SourceFile;
use crate::stack::{App, Stack};

const HOP_TEMPLATE: &str = include_str!("../../templates/docs/architecture-hop.j2");
const FLOW_TEMPLATE: &str = include_str!("../../templates/docs/metrics-flow.md.j2");

pub const FLOW_START_MARKER: &str = "<!-- pullover:metrics-flow -->";
pub const FLOW_END_MARKER: &str = "<!-- /pullover:metrics-flow -->";

/// Longest line text shown in a checklist entry.
const SHOWN_LINE_CHARS: usize = 120;

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    let mut builder = ChangeSet::builder();
    let gateway = super::gateway_of(stack, super::PhaseId::Docs)?;
    let scanner = MentionScanner::new(Some(gateway));
    let flow = FlowModel::new(stack);
    let mut after_docs: Vec<SourceFile> = Vec::new();
    let mut any_spot = false;
    for doc in &stack.docs {
        let spots = find_spots(doc.text());
        any_spot |= !spots.is_empty();
        let after = rewrite(doc.text(), &spots, &flow)?;
        after_docs.push(SourceFile::from_text(doc.path.clone(), after.clone(), doc.mode));
        builder = builder.modify(doc, after, "describe the scraped metrics flow");
    }
    if !any_spot {
        let names: Vec<&str> = stack.docs.iter().map(|d| d.path.as_str()).collect();
        let searched = match names.as_slice() {
            [] => "no docs were found (README.md, METRICS.md): there is".to_string(),
            [one] => format!("{one} holds"),
            many => format!("{} hold", many.join(", ")),
        };
        builder = builder.finding(
            Finding::new(
                FindingId::NoDocsSpot,
                Severity::Todo,
                format!("{searched} no architecture line (`→ Pushgateway (9091) →`) and no metrics-flow section to update"),
            )
            .tip(format!(
                "update the docs by hand, or mark the section with {FLOW_START_MARKER} … {FLOW_END_MARKER}; name other docs with `docs:` in pullover.yaml"
            )),
        );
    }
    let mentions = checklist(&scanner, &after_docs, &stack.code);
    let count = mentions.len();
    builder = builder.findings(mentions);
    if count > 0 {
        builder = builder.finding(
            Finding::new(
                FindingId::PushgatewayMentionsLeft,
                Severity::Info,
                format!("{count} line(s) in docs and app code still mention the Pushgateway (listed above)"),
            )
            .tip("remove the push calls and the gateway address from the apps once Prometheus scrapes them; reword or delete the prose"),
        );
    }
    // What `analyze` would still find in rules and dashboards: queries on the gateway's series.
    builder = builder.findings(super::remove::still_on_gateway_series(stack, gateway));
    Ok(builder.build()?)
}

/// The checklist: one `todo` per line that still mentions the gateway, docs
/// first, each file in line order.
pub fn checklist(scanner: &MentionScanner, docs: &[SourceFile], code: &[SourceFile]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (file, in_docs) in docs.iter().map(|f| (f, true)).chain(code.iter().map(|f| (f, false))) {
        for mention in scanner.scan(file.text()) {
            let what = match (mention.kind, in_docs) {
                (MentionKind::Name, true) => "the docs mention the Pushgateway",
                (kind, _) => kind.describe(),
            };
            let line: String = mention.line_text(file.text()).chars().take(SHOWN_LINE_CHARS).collect();
            findings.push(
                Finding::new(FindingId::PushgatewayMention, Severity::Todo, format!("{what}: {line}"))
                    .at(Location::at(file, mention.span.start)),
            );
        }
    }
    findings
}

/// A place in a doc this phase rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spot {
    /// `→ Pushgateway (9091) →` in an architecture line.
    Hop { span: Range<usize>, ascii: bool },
    /// The body of a metrics-flow section: from after its heading (or start
    /// marker) line to the next heading (or end marker) line.
    FlowSection { body: Range<usize> },
}

static HOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<arrow>→|->)[ \t]*(?i:push[ _-]?gateway)(?:[ \t]*\(\d{1,5}\))?[ \t]*(?:→|->)")
        .expect("static regex")
});

static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t#]*\r?$").expect("static regex"));

/// The recognisable spots of a Markdown text, in order, never overlapping.
pub fn find_spots(text: &str) -> Vec<Spot> {
    let lines = lines_of(text);
    let mut sections = marked_sections(text, &lines);
    if sections.is_empty() {
        sections = heading_sections(text, &lines);
    }
    let mut spots: Vec<Spot> = sections
        .iter()
        .map(|body| Spot::FlowSection { body: body.clone() })
        .collect();
    for hop in HOP.captures_iter(text) {
        let (Some(whole), Some(arrow)) = (hop.get(0), hop.name("arrow")) else {
            continue;
        };
        if sections.iter().any(|s| s.start < whole.end() && whole.start() < s.end) {
            continue;
        }
        spots.push(Spot::Hop {
            span: whole.range(),
            ascii: arrow.as_str() == "->",
        });
    }
    spots.sort_by_key(|s| match s {
        Spot::Hop { span, .. } => span.start,
        Spot::FlowSection { body } => body.start,
    });
    spots
}

/// Each line's range including its line break, with whether it is inside a
/// fenced code block (where a `#` line is not a heading).
fn lines_of(text: &str) -> Vec<(Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut fence: Option<&str> = None;
    for line in text.split_inclusive('\n') {
        let range = start..start + line.len();
        start = range.end;
        let trimmed = line.trim_start();
        let opens = ["```", "~~~"].into_iter().find(|f| trimmed.starts_with(f));
        let in_code = match (fence, opens) {
            (Some(f), Some(o)) if f == o => {
                fence = None;
                true
            }
            (Some(_), _) => true,
            (None, Some(o)) => {
                fence = Some(o);
                true
            }
            (None, None) => false,
        };
        out.push((range, in_code));
    }
    out
}

fn marked_sections(text: &str, lines: &[(Range<usize>, bool)]) -> Vec<Range<usize>> {
    let mut sections = Vec::new();
    let mut open: Option<usize> = None;
    for (range, _) in lines {
        let line = text.get(range.clone()).unwrap_or("").trim();
        if line == FLOW_START_MARKER {
            open = Some(range.end);
        } else if line == FLOW_END_MARKER
            && let Some(body_start) = open.take()
        {
            sections.push(body_start..range.start);
        }
    }
    sections
}

fn heading_sections(text: &str, lines: &[(Range<usize>, bool)]) -> Vec<Range<usize>> {
    let heading = |i: usize| -> Option<(usize, String)> {
        let (range, in_code) = lines.get(i)?;
        if *in_code {
            return None;
        }
        let caps = HEADING.captures(text.get(range.clone())?.trim_end_matches('\n'))?;
        Some((
            caps.name("hashes")?.as_str().len(),
            caps.name("title")?.as_str().to_string(),
        ))
    };
    let mut sections = Vec::new();
    for i in 0..lines.len() {
        let Some((level, title)) = heading(i) else { continue };
        if !title.trim().eq_ignore_ascii_case("metrics flow") {
            continue;
        }
        let body_start = lines.get(i).map_or(text.len(), |(r, _)| r.end);
        let body_end = (i + 1..lines.len())
            .find(|j| heading(*j).is_some_and(|(l, _)| l <= level))
            .and_then(|j| lines.get(j))
            .map_or(text.len(), |(r, _)| r.start);
        sections.push(body_start..body_end);
    }
    sections
}

#[derive(Debug, Serialize)]
struct FlowApp {
    service: String,
    port: u16,
    job: String,
    target: String,
}

/// What the templates are rendered from.
#[derive(Debug, Serialize)]
struct FlowModel {
    apps: Vec<FlowApp>,
    metrics_path: String,
    interval: String,
}

impl FlowModel {
    fn new(stack: &Stack) -> FlowModel {
        FlowModel {
            apps: stack
                .settings
                .apps
                .iter()
                .map(|app: &App| FlowApp {
                    service: app.service.clone(),
                    port: app.port,
                    job: app.job.clone(),
                    target: app.target(),
                })
                .collect(),
            metrics_path: stack.settings.scrape.metrics_path.clone(),
            interval: stack.settings.scrape.interval.clone(),
        }
    }
}

fn environment() -> Environment<'static> {
    Environment::new()
}

fn render_hop(flow: &FlowModel, ascii: bool) -> Result<String, Diagnostic> {
    let text = environment()
        .render_str(
            HOP_TEMPLATE,
            context! { metrics_path => &flow.metrics_path, ascii => ascii },
        )
        .map_err(|e| Diagnostic::error(format!("the docs architecture template failed: {e}")))?;
    Ok(text.trim().to_string())
}

/// The section body, with the doc's line break, ending in one.
fn render_flow(flow: &FlowModel, eol: &str) -> Result<String, Diagnostic> {
    let text = environment()
        .render_str(FLOW_TEMPLATE, minijinja::Value::from(minijinja::value::Serde(flow)))
        .map_err(|e| Diagnostic::error(format!("the docs metrics-flow template failed: {e}")))?;
    let mut out = String::new();
    for line in text.trim().lines() {
        out.push_str(line.trim_end());
        out.push_str(eol);
    }
    Ok(out)
}

/// `text` with every spot rewritten; bytes outside the spots are copied.
fn rewrite(text: &str, spots: &[Spot], flow: &FlowModel) -> Result<String, Diagnostic> {
    let eol = line_ending(text);
    let mut splices = Vec::new();
    for spot in spots {
        match spot {
            Spot::Hop { span, ascii } => splices.push(Splice::replace(span.clone(), render_hop(flow, *ascii)?)),
            Spot::FlowSection { body } if !flow.apps.is_empty() => {
                splices.push(section_splice(text, body.clone(), &render_flow(flow, eol)?, eol));
            }
            Spot::FlowSection { .. } => {}
        }
    }
    apply_splices(text, &splices).map_err(|e| Diagnostic::error(format!("docs phase: {e} (a bug in pullover)")))
}

/// Replaces a section body's content, keeping the blank lines before and
/// after it and a missing final newline.
fn section_splice(text: &str, body: Range<usize>, rendered: &str, eol: &str) -> Splice {
    let slice = text.get(body.clone()).unwrap_or("");
    let leading: usize = slice
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty() && l.ends_with('\n'))
        .map(str::len)
        .sum();
    let content_and_trailing = slice.get(leading..).unwrap_or("");
    let content_len = content_and_trailing.trim_end().len();
    let mut content_end = leading + content_len;
    // Keep the content's own line break; only whole blank lines are "after".
    if let Some(rest) = slice.get(content_end..) {
        let own_break = if rest.starts_with("\r\n") {
            2
        } else if rest.starts_with('\n') {
            1
        } else {
            0
        };
        content_end += own_break;
    }
    let content = slice.get(leading..content_end).unwrap_or("");
    let new = if content.is_empty() {
        // An empty section: put the body after a blank line.
        format!("{eol}{rendered}")
    } else if !content.ends_with('\n') {
        rendered.strip_suffix(eol).unwrap_or(rendered).to_string()
    } else {
        rendered.to_string()
    };
    Splice::replace(body.start + leading..body.start + content_end, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(apps: &[(&str, u16)]) -> FlowModel {
        FlowModel {
            apps: apps
                .iter()
                .map(|(s, p)| FlowApp {
                    service: s.to_string(),
                    port: *p,
                    job: s.to_string(),
                    target: format!("{s}:{p}"),
                })
                .collect(),
            metrics_path: "/metrics".into(),
            interval: "30s".into(),
        }
    }

    fn given(text: &str) -> String {
        rewrite(text, &find_spots(text), &flow(&[("api", 3000)])).unwrap()
    }

    #[test]
    fn the_hop_becomes_a_scrape_arrow_in_any_spelling() {
        assert_eq!(
            given("Website → Metrics API (8080) → Pushgateway (9091) → Prometheus (9090) → Grafana\n"),
            "Website → Metrics API (8080) /metrics ←scrape─ Prometheus (9090) → Grafana\n"
        );
        assert_eq!(
            given("`api -> pushgateway -> prometheus`"),
            "`api /metrics <-scrape- prometheus`"
        );
        assert_eq!(given("a → Push Gateway (19091)→ b\r\n"), "a /metrics ←scrape─ b\r\n");
        let untouched = "The Pushgateway (9091) holds pushed values.\napi → Pushgateway\n";
        assert_eq!(given(untouched), untouched);
    }

    #[test]
    fn a_metrics_flow_heading_section_is_replaced_up_to_the_next_heading_of_its_level() {
        let text = "# Metrics\n\n## Metrics flow\n\n1. old\n2. steps\n\n### Details\nold detail\n\n## Other\nkept\n";
        insta::assert_snapshot!(given(text), @r#"
        # Metrics

        ## Metrics flow

        1. `api` keeps its metrics in its own registry and serves them in the
           Prometheus text format at `GET /metrics` on port 3000.
        2. Prometheus scrapes `api:3000` as job `api` every 30s.
           The series carry the labels of the target they were scraped from
           (`job="api", instance="api:3000"`).
        3. Grafana queries Prometheus.

        Nothing is pushed any more: when an app stops, its target goes down
        (`up == 0`) and its series go stale, so no "last push" timestamp is needed
        to notice it.

        ## Other
        kept
        "#);
    }

    #[test]
    fn markers_win_over_the_heading_and_crlf_and_no_final_newline_are_kept() {
        let text = "## Metrics flow\r\nkept\r\n<!-- pullover:metrics-flow -->\r\nold\r\n<!-- /pullover:metrics-flow -->\r\nafter";
        let out = given(text);
        assert!(
            out.starts_with("## Metrics flow\r\nkept\r\n<!-- pullover:metrics-flow -->\r\n1. `api`"),
            "{out}"
        );
        assert!(
            out.ends_with("to notice it.\r\n<!-- /pullover:metrics-flow -->\r\nafter"),
            "{out}"
        );
        assert!(
            !out.replace("\r\n", "").contains('\n'),
            "only CRLF line breaks: {out:?}"
        );
        let at_end = "## Metrics flow\n\nold, no final newline";
        let out = given(at_end);
        assert!(out.ends_with("to notice it."), "{out:?}");
        assert!(out.starts_with("## Metrics flow\n\n1. "), "{out:?}");
    }

    #[test]
    fn headings_in_code_blocks_do_not_count_and_rewriting_twice_changes_nothing() {
        let text = "```\n## Metrics flow\napi → Pushgateway (9091) → prom\n```\n## Metrics flow\nold\n";
        let once = given(text);
        assert!(
            once.starts_with("```\n## Metrics flow\napi /metrics ←scrape─ prom\n```\n## Metrics flow\n1."),
            "{once}"
        );
        assert_eq!(given(&once), once);
    }

    #[test]
    fn the_flow_template_names_no_gateway() {
        let two = render_flow(&flow(&[("api", 3000), ("billing", 9200)]), "\n").unwrap();
        assert!(!MentionScanner::new(None).mentions(&two), "{two}");
        assert!(two.contains("   - `billing` on port 9200;\n"), "{two}");
    }
}
