//! A plan as a pull-request description (`plan --format markdown`), in GitHub-flavoured
//! Markdown: the phase, a one-line summary, the findings grouped by severity as tables, each
//! file's diff in a fenced `diff` block (long ones folded in `<details>`), and the gate that
//! comes next. Pure: the caller prints it. Secrets are masked as in every printed diff.

use crate::changeset::redact::mask_text;
use crate::changeset::render::{counted_file_diff, no_change_headline, summary_counted, waiting_sentence};
use crate::changeset::{ChangeKind, ChangeSet, Finding, Severity};

/// Diffs longer than this many lines are folded in `<details>`.
pub const FOLD_LINES: usize = 40;

/// What the description says about the phase; the caller knows the phase model.
pub struct PhaseText<'a> {
    /// `scrape`.
    pub name: &'a str,
    /// 1-based position and the number of phases.
    pub number: usize,
    pub of: usize,
    /// What the phase does, in a few words.
    pub summary: &'a str,
    /// What must hold on the live system after it, before the next phase (`None`: last phase).
    pub gate: Option<&'a str>,
    /// The phase after it, whose apply runs the gate.
    pub next: Option<&'a str>,
}

pub fn render(phase: &PhaseText<'_>, changeset: &ChangeSet) -> String {
    let mut out = format!(
        "## pullover plan: phase {}/{} `{}`\n\n",
        phase.number, phase.of, phase.name
    );
    let diffs: Vec<(String, (usize, usize))> = changeset.changes.iter().map(counted_file_diff).collect();
    let lines = diffs.iter().fold((0, 0), |(a, r), (_, (a2, r2))| (a + a2, r + r2));
    let waiting = changeset.waiting();
    let mut summary = if changeset.is_empty() {
        "no file changes".to_string()
    } else {
        summary_counted(changeset, lines)
    };
    if waiting > 0 {
        summary.push_str(&format!(
            "; {waiting} quer{} wait for a decision",
            if waiting == 1 { "y" } else { "ies" }
        ));
    }
    out.push_str(&format!("**{}**: {summary}.\n\n", capitalized(phase.summary)));

    if !changeset.findings.is_empty() {
        out.push_str("### Findings\n\n");
        for severity in [Severity::Hazard, Severity::Todo, Severity::Info] {
            let some: Vec<&Finding> = changeset.findings.iter().filter(|f| f.severity == severity).collect();
            if !some.is_empty() {
                findings_table(&mut out, severity, &some);
            }
        }
    }

    out.push_str("### Changes\n\n");
    if changeset.is_empty() {
        // The same words as the text plan: never "No changes" while work is left.
        out.push_str(&no_change_headline(changeset));
        out.extend(waiting_sentence(changeset));
        out.push('\n');
    }
    for (change, (diff, (added, removed))) in changeset.changes.iter().zip(&diffs) {
        let diff = mask_text(diff);
        let kind = match change.kind() {
            ChangeKind::Create => "create",
            ChangeKind::Modify => "change",
            ChangeKind::Delete => "delete",
        };
        let fence = fence_for(&diff);
        let block = format!(
            "{fence}diff\n{}{}{fence}\n",
            diff,
            if diff.ends_with('\n') { "" } else { "\n" }
        );
        if diff.lines().count() > FOLD_LINES {
            out.push_str(&format!(
                "<details>\n<summary><code>{}</code>: {kind}, +{added} −{removed} lines ({})</summary>\n\n{block}\n</details>\n\n",
                html_escape(change.path.as_str()),
                html_escape(&change.because),
            ));
        } else {
            out.push_str(&format!(
                "**`{}`**: {kind}, +{added} −{removed} lines ({})\n\n{block}\n",
                change.path,
                inline(&change.because),
            ));
        }
    }

    out.push_str("### Next\n\n");
    match (phase.gate, phase.next) {
        (Some(gate), Some(next)) => out.push_str(&format!(
            "Apply with `pullover apply {}`, then reload Prometheus. The gate before `{next}`: {gate} \
             (`pullover verify` checks it; `pullover apply {next}` refuses until it passes).\n",
            phase.name
        )),
        (Some(gate), None) => out.push_str(&format!(
            "Apply with `pullover apply {}`, then reload Prometheus. `pullover verify` checks that {gate}.\n",
            phase.name
        )),
        _ => out.push_str(&format!(
            "Apply with `pullover apply {}`: the last phase; no live gate follows it.\n",
            phase.name
        )),
    }
    out
}

fn findings_table(out: &mut String, severity: Severity, findings: &[&Finding]) {
    let title = capitalized(severity.label());
    out.push_str(&format!("#### {title} ({})\n\n", findings.len()));
    out.push_str("| Finding | What | Where | Tip |\n| --- | --- | --- | --- |\n");
    for finding in findings {
        let waits = if finding.waits { " (waits)" } else { "" };
        let place = finding
            .location
            .as_ref()
            .map(|l| {
                let context = l
                    .context
                    .as_deref()
                    .map(|c| format!(" {}", cell(c)))
                    .unwrap_or_default();
                format!("`{}:{}:{}`{context}", l.path, l.line, l.column)
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}`{waits} | {} | {place} | {} |\n",
            finding.id,
            cell(&mask_text(&finding.message)),
            cell(&mask_text(finding.tip.as_deref().unwrap_or(""))),
        ));
    }
    out.push('\n');
}

/// Text for one table cell: on one line, pipes escaped, no raw HTML.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text for one line of Markdown: no line breaks, no raw HTML.
fn inline(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace('<', "&lt;")
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A backtick fence longer than any run of backticks in the text (CommonMark's rule).
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outrun_the_backticks_inside() {
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("plain"), "```");
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a | b\nc <x>"), "a \\| b c &lt;x>");
    }
}
