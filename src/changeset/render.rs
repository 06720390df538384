//! Renders a ChangeSet: git-style unified diffs (which `git apply` accepts),
//! the terminal report, and versioned JSON.

use serde::Serialize;
use similar::TextDiff;

use super::redact::mask_text;
use super::{ChangeKind, ChangeSet, FileChange, Finding, Severity};

/// Whether printed output may be coloured and must be masked.
#[derive(Debug, Clone, Copy)]
pub struct Display {
    pub color: bool,
    /// Mask secrets (everything printed); off only for `--patch` files.
    pub mask: bool,
}

/// The unified diff of one change with `a/` `b/` paths, `/dev/null` for a
/// created or deleted file, 3 lines of context.
pub fn file_diff(change: &FileChange) -> String {
    counted_file_diff(change).0
}

/// [`file_diff`] and the lines it adds and removes, from one diff.
pub fn counted_file_diff(change: &FileChange) -> (String, (usize, usize)) {
    // Names as git writes them: quoted with escapes when they hold a control
    // character, a quote or a backslash (`"a/x\ny.json"`).
    let path = change.path.as_str();
    let side = |prefix: &str| crate::stack::source::quote_path(&format!("{prefix}{path}")).into_owned();
    let (a_name, b_name) = (side("a/"), side("b/"));
    let (before, after) = texts(change);
    let mut out = format!("diff --git {a_name} {b_name}\n");
    let (old_name, new_name) = match change.kind() {
        ChangeKind::Create => {
            out.push_str(&format!(
                "new file mode 100{:o}\n",
                git_mode(change.after.as_ref().map_or(0o644, |s| s.mode))
            ));
            ("/dev/null".to_string(), b_name.clone())
        }
        ChangeKind::Delete => {
            out.push_str(&format!(
                "deleted file mode 100{:o}\n",
                git_mode(change.before.as_ref().map_or(0o644, |s| s.mode))
            ));
            (a_name.clone(), "/dev/null".to_string())
        }
        ChangeKind::Modify => (a_name.clone(), b_name.clone()),
    };
    let diff = TextDiff::from_lines(before.as_ref(), after.as_ref());
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &new_name)
        .to_string();
    if body.is_empty() {
        // An empty file created or deleted: git still needs the headers.
        out.push_str(&format!("--- {old_name}\n+++ {new_name}\n"));
    }
    out.push_str(&body);
    (out, counts(&diff))
}

/// The text before and after a change; an absent file is empty.
fn texts(change: &FileChange) -> (std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>) {
    fn text(state: &Option<super::FileState>) -> std::borrow::Cow<'_, str> {
        state
            .as_ref()
            .map(|s| String::from_utf8_lossy(&s.bytes))
            .unwrap_or_default()
    }
    (text(&change.before), text(&change.after))
}

/// git records only 644 or 755.
fn git_mode(mode: u32) -> u32 {
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

/// The whole change set as one patch file (real bytes, no masking).
pub fn patch(changeset: &ChangeSet) -> String {
    changeset.changes.iter().map(file_diff).collect()
}

/// Lines added and removed in a change.
pub fn line_counts(change: &FileChange) -> (usize, usize) {
    let (before, after) = texts(change);
    counts(&TextDiff::from_lines(before.as_ref(), after.as_ref()))
}

fn counts(diff: &TextDiff<'_, '_, str>) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for op in diff.ops() {
        for change in diff.iter_changes(op) {
            match change.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    (added, removed)
}

/// A diff for a person: masked, coloured when allowed.
pub fn display_diff(diff: &str, display: Display) -> String {
    let text = if display.mask {
        mask_text(diff)
    } else {
        diff.to_string()
    };
    if !display.color {
        return text;
    }
    text.split_inclusive('\n')
        .map(|line| {
            let (content, eol) = match line.strip_suffix('\n') {
                Some(c) => (c, "\n"),
                None => (line, ""),
            };
            let styled =
                if content.starts_with("+++") || content.starts_with("---") || content.starts_with("diff --git") {
                    console::style(content).bold().force_styling(true).to_string()
                } else if content.starts_with('+') {
                    console::style(content).green().force_styling(true).to_string()
                } else if content.starts_with('-') {
                    console::style(content).red().force_styling(true).to_string()
                } else if content.starts_with("@@") {
                    console::style(content).cyan().force_styling(true).to_string()
                } else {
                    content.to_string()
                };
            format!("{styled}{eol}")
        })
        .collect()
}

pub fn render_findings(findings: &[Finding], display: Display) -> String {
    let mut out = String::new();
    for finding in findings {
        let label = finding.severity.label();
        let label = if display.color {
            let styled = console::style(format!("{label:>6}"));
            match finding.severity {
                Severity::Hazard => styled.red().bold(),
                Severity::Todo => styled.yellow().bold(),
                Severity::Info => styled.blue(),
            }
            .force_styling(true)
            .to_string()
        } else {
            format!("{label:>6}")
        };
        let message = if display.mask {
            mask_text(&finding.message)
        } else {
            finding.message.clone()
        };
        let waits = if finding.waits { " (waits)" } else { "" };
        out.push_str(&format!("{label} [{}]{waits} {message}\n", finding.id));
        if let Some(loc) = &finding.location {
            let context = loc.context.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            out.push_str(&format!(
                "         --> {}:{}:{}{context}\n",
                loc.path, loc.line, loc.column
            ));
        }
        if let Some(tip) = &finding.tip {
            out.push_str(&format!("         = tip: {tip}\n"));
        }
    }
    out
}

/// `1 file to change (+7 −0), 1 to create, 0 to delete`
pub fn summary(changeset: &ChangeSet) -> String {
    let lines = changeset
        .changes
        .iter()
        .map(line_counts)
        .fold((0, 0), |(a, r), (a2, r2)| (a + a2, r + r2));
    summary_counted(changeset, lines)
}

/// What a plan that writes no file says in place of its summary: "No changes" only when no
/// query waits for a decision and no to-do is left for a person (a script reads "No changes"
/// as "done"). With queries waiting it is the start of [`waiting_sentence`]'s line.
pub fn no_change_headline(changeset: &ChangeSet) -> String {
    let todos = changeset
        .findings
        .iter()
        .filter(|f| f.severity == crate::changeset::Severity::Todo)
        .count();
    if changeset.waiting() > 0 {
        "No file changes yet: ".to_string()
    } else if todos > 0 {
        format!(
            "No file changes: {todos} to-do{} above {} left for a person.\n",
            if todos == 1 { "" } else { "s" },
            if todos == 1 { "is" } else { "are" }
        )
    } else {
        "No changes: the files already look as this phase would leave them.\n".to_string()
    }
}

/// The line saying how many queries wait for a decision; `None` when none does.
pub fn waiting_sentence(changeset: &ChangeSet) -> Option<String> {
    let waiting = changeset.waiting();
    (waiting > 0).then(|| {
        format!(
            "{waiting} quer{} wait for a decision (the findings marked \"waits\" say which and on what); the phase is not done until they are settled.\n",
            if waiting == 1 { "y" } else { "ies" }
        )
    })
}

/// [`summary`] with the lines added and removed already counted.
pub fn summary_counted(changeset: &ChangeSet, (added, removed): (usize, usize)) -> String {
    let count = |k: ChangeKind| changeset.changes.iter().filter(|c| c.kind() == k).count();
    let modify = count(ChangeKind::Modify);
    format!(
        "{modify} file{} to change, {} to create, {} to delete (+{added} −{removed} lines)",
        if modify == 1 { "" } else { "s" },
        count(ChangeKind::Create),
        count(ChangeKind::Delete),
    )
}

/// The JSON form of one change (diff masked: JSON output is printed).
#[derive(Debug, Serialize)]
pub struct ChangeJson {
    pub path: String,
    pub action: ChangeKind,
    pub because: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    pub lines_added: usize,
    pub lines_removed: usize,
    pub diff: String,
}

pub fn changes_json(changeset: &ChangeSet) -> Vec<ChangeJson> {
    changeset
        .changes
        .iter()
        .map(|c| {
            let (added, removed) = line_counts(c);
            ChangeJson {
                path: c.path.to_string(),
                action: c.kind(),
                because: c.because.clone(),
                before_sha256: c.before.as_ref().map(|s| s.sha256()),
                after_sha256: c.after.as_ref().map(|s| s.sha256()),
                mode: c.after.as_ref().or(c.before.as_ref()).map(|s| format!("{:o}", s.mode)),
                lines_added: added,
                lines_removed: removed,
                diff: mask_text(&file_diff(c)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::FileState;
    use crate::stack::source::RelPath;

    fn change(before: Option<&str>, after: Option<&str>) -> FileChange {
        FileChange {
            path: RelPath::new("prometheus/x.yml").unwrap(),
            before: before.map(|t| FileState {
                bytes: t.as_bytes().into(),
                mode: 0o644,
            }),
            after: after.map(|t| FileState {
                bytes: t.as_bytes().into(),
                mode: 0o644,
            }),
            because: "test".into(),
        }
    }

    #[test]
    fn created_and_deleted_files_diff_against_dev_null() {
        insta::assert_snapshot!(file_diff(&change(None, Some("a: 1\nb: 2\n"))), @r"
        diff --git a/prometheus/x.yml b/prometheus/x.yml
        new file mode 100644
        --- /dev/null
        +++ b/prometheus/x.yml
        @@ -0,0 +1,2 @@
        +a: 1
        +b: 2
        ");
        insta::assert_snapshot!(file_diff(&change(Some("a: 1\n"), None)), @r"
        diff --git a/prometheus/x.yml b/prometheus/x.yml
        deleted file mode 100644
        --- a/prometheus/x.yml
        +++ /dev/null
        @@ -1 +0,0 @@
        -a: 1
        ");
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let diff = file_diff(&change(Some("a: 1"), Some("a: 2")));
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
