//! `pullover analyze`: every Pushgateway reference in the stack, with what the phases will do
//! about each and the hazards a person must know (`analyze/` finds them). Reads only; writes
//! nothing.

use anyhow::Result;

use super::{Context, Outcome};
use crate::analyze::{self, Report};
use crate::changeset::redact::mask_text;
use crate::envelope::Envelope;
use crate::identity::quoted_instances;
use crate::stack::Stack;
use crate::stack::source::RelPath;

pub fn run(ctx: &Context) -> Result<Outcome> {
    let mut stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    super::live_servers::observe_pushes(ctx, &mut stack)?;
    super::live_servers::observe_prometheus_version(ctx, &mut stack)?;
    let report = analyze::analyze(&stack, &ctx.global.stack)?;
    if ctx.json() {
        ctx.print_json(&Envelope::new("analyze", &report))?;
    } else {
        ctx.print(&render(ctx, &report))?;
    }
    Ok(Outcome::Success)
}

fn render(ctx: &Context, report: &Report) -> String {
    let mut out = String::new();
    let Some(gateway) = &report.gateway else {
        out.push_str("No Pushgateway found in this stack: nothing to migrate.\n");
        return out;
    };
    out.push_str(&ctx.bold(&format!(
        "Pushgateway {}{}, scraped by job `{}` with honor_labels: {}\n",
        gateway
            .service
            .as_deref()
            .map(|s| format!("service `{s}` at "))
            .unwrap_or_default(),
        gateway.address,
        gateway.job.as_deref().unwrap_or("(none)"),
        gateway.honor_labels
    )));
    for app in &report.apps {
        let instances = if app.pushed_instances.is_empty() {
            String::new()
        } else {
            format!(", instance {}", quoted_instances(&app.pushed_instances))
        };
        out.push_str(&format!(
            "  {} pushes as job \"{}\"{instances}; scraped directly: job \"{}\" at {}\n",
            app.service, app.pushed_job, app.scrape_job, app.scrape_target
        ));
    }
    let prometheus = &report.prometheus;
    let features = if prometheus.features.is_empty() {
        String::new()
    } else {
        format!(", with --enable-feature={}", prometheus.features.join(","))
    };
    out.push_str(&format!(
        "  queries read as Prometheus {} ({}){features}\n",
        prometheus.version, prometheus.source
    ));
    let mut current: Option<&RelPath> = None;
    for reference in &report.references {
        if current != Some(&reference.path) {
            out.push('\n');
            out.push_str(&ctx.bold(&format!("{}\n", reference.path)));
            current = Some(&reference.path);
        }
        let place = format!("{}:{}", reference.line, reference.column);
        let what = match &reference.context {
            Some(context) => format!("{} · {context}", reference.what),
            None => reference.what.clone(),
        };
        out.push_str(&format!(
            "  {place:<8} {:<16} {:<9} {}\n",
            reference.kind,
            reference.action.label(),
            mask_text(&what)
        ));
        let pad = " ".repeat(38);
        if reference.kind == "query" {
            out.push_str(&indented(&pad, "", &mask_text(&reference.text)));
            if let Some(rewritten) = &reference.rewritten {
                out.push_str(&indented(&pad, "→ ", &mask_text(rewritten)));
            }
        } else if !reference.text.is_empty() && reference.findings.is_empty() {
            out.push_str(&indented(&pad, "", &mask_text(&reference.text)));
        }
        for finding in &reference.findings {
            out.push_str(&format!(
                "{pad}{} [{}] {}\n",
                finding.severity.label(),
                finding.id,
                mask_text(&finding.message)
            ));
            if let Some(tip) = &finding.tip {
                out.push_str(&format!("{pad}  = tip: {}\n", mask_text(tip)));
            }
        }
    }
    if !report.findings.is_empty() {
        out.push('\n');
        out.push_str(&ctx.bold("About the stack:\n"));
        out.push_str(&crate::changeset::render::render_findings(
            &report.findings,
            ctx.display(),
        ));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} reference{} in {} file{}: {} quer{} to rewrite, {} to report; {} hazard{}, {} to-do{}. Nothing was written.\n",
        s.references,
        plural(s.references),
        s.files,
        plural(s.files),
        s.rewrite,
        if s.rewrite == 1 { "y" } else { "ies" },
        s.report,
        s.hazards,
        plural(s.hazards),
        s.todos,
        plural(s.todos),
    ));
    out
}

/// `text` under `pad`, its first line after `marker` and the others lined up with it (a query
/// in a literal block keeps its shape).
fn indented(pad: &str, marker: &str, text: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = text.trim_end().lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let lead = if index == 0 {
            marker.to_string()
        } else {
            " ".repeat(marker.chars().count())
        };
        out.push_str(&format!("{pad}{lead}{line}\n"));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
