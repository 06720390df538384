//! A saved plan (`pullover plan --out FILE`, then `pullover apply FILE`), as Terraform's saved
//! plan: the exact changes a phase makes, and the hashes of everything it was planned from (the
//! files of the stack it read and the journal's last entry), so `apply` writes exactly these
//! bytes or refuses when anything it was planned from changed. JSON, versioned; the format is
//! described in docs/saved-plans.md. Pure: building, checking and comparing; the command edge
//! reads and writes the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ChangeSet, FileState, sha256_hex};
use crate::stack::source::RelPath;

/// `format` of every saved plan.
pub const FORMAT: &str = "pullover-saved-plan";
/// The version this pullover writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub version: u32,
    /// The pullover that made it (`pullover 0.1.0`).
    pub tool: String,
    pub phase: String,
    pub time: String,
    /// The journal's last entry when planned (the hash its next entry chains to): an apply or
    /// rollback since makes the plan stale.
    pub journal: String,
    /// Every file of the stack the plan was made from: path → sha256.
    pub inputs: BTreeMap<RelPath, String>,
    /// Queries that waited for a decision: such a plan is not applied.
    #[serde(default)]
    pub waiting: usize,
    pub changes: Vec<SavedChange>,
    /// The findings, as `plan --format json` prints them (for the reader; not checked).
    #[serde(default)]
    pub findings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedChange {
    pub path: RelPath,
    pub because: String,
    /// The file the plan changes, as it was (`None`: the plan creates it).
    pub before: Option<SavedHash>,
    /// What the plan writes (`None`: the plan deletes it).
    pub after: Option<SavedContent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHash {
    pub sha256: String,
    pub mode: u32,
}

/// The bytes written: as text when they are UTF-8 (readable in review), else as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedContent {
    pub sha256: String,
    pub mode: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

impl SavedContent {
    fn of(state: &FileState) -> SavedContent {
        let (text, hex) = match std::str::from_utf8(&state.bytes) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(state.bytes.iter().map(|b| format!("{b:02x}")).collect())),
        };
        SavedContent {
            sha256: state.sha256(),
            mode: state.mode,
            text,
            hex,
        }
    }

    /// The bytes, checked against their hash.
    pub fn state(&self) -> Result<FileState, String> {
        let bytes: Vec<u8> = match (&self.text, &self.hex) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(hex)) => decode_hex(hex).ok_or("its `hex` is not hexadecimal")?,
            _ => return Err("a change needs exactly one of `text` and `hex`".into()),
        };
        if sha256_hex(&bytes) != self.sha256 {
            return Err("its content does not match its sha256 (the file was edited or damaged)".into());
        }
        Ok(FileState {
            bytes: bytes.into(),
            mode: self.mode,
        })
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a saved plan records beside the changes.
pub struct Context<'a> {
    pub tool: String,
    pub phase: &'a str,
    pub time: String,
    pub journal: String,
    pub inputs: BTreeMap<RelPath, String>,
    pub findings: serde_json::Value,
}

pub fn save(context: Context<'_>, changeset: &ChangeSet) -> SavedPlan {
    SavedPlan {
        format: FORMAT.into(),
        version: VERSION,
        tool: context.tool,
        phase: context.phase.to_string(),
        time: context.time,
        journal: context.journal,
        inputs: context.inputs,
        waiting: changeset.waiting(),
        changes: changeset
            .changes
            .iter()
            .map(|c| SavedChange {
                path: c.path.clone(),
                because: c.because.clone(),
                before: c.before.as_ref().map(|b| SavedHash {
                    sha256: b.sha256(),
                    mode: b.mode,
                }),
                after: c.after.as_ref().map(SavedContent::of),
            })
            .collect(),
        findings: context.findings,
    }
}

/// Reads a saved plan's text: its format and version first, so a file of another kind or of a
/// newer pullover is named as such rather than as "bad JSON".
pub fn parse(text: &str) -> Result<SavedPlan, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(format!("it is not a saved plan (no `\"format\": \"{FORMAT}\"`)"));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            return Err(format!(
                "it is a saved plan of version {v}; this pullover reads version {VERSION}"
            ));
        }
        None => return Err("it has no `version`".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("it does not read as a saved plan: {e}"))
}

/// How the inputs differ now from when the plan was made: "path (changed)", "(new)", "(gone)".
pub fn changed_inputs(saved: &BTreeMap<RelPath, String>, now: &BTreeMap<RelPath, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, sha) in saved {
        match now.get(path) {
            Some(current) if current == sha => {}
            Some(_) => out.push(format!("{path} (changed)")),
            None => out.push(format!("{path} (gone)")),
        }
    }
    for path in now.keys().filter(|p| !saved.contains_key(*p)) {
        out.push(format!("{path} (new)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::FileChange;

    fn state(bytes: &[u8]) -> FileState {
        FileState {
            bytes: bytes.to_vec().into(),
            mode: 0o644,
        }
    }

    fn plan() -> SavedPlan {
        let path = RelPath::new("prometheus/prometheus.yml").unwrap();
        let changeset = ChangeSet {
            changes: vec![
                FileChange {
                    path: path.clone(),
                    before: Some(state(b"a\n")),
                    after: Some(state(b"a\nb\n")),
                    because: "add a job".into(),
                },
                FileChange {
                    path: RelPath::new("bin.dat").unwrap(),
                    before: None,
                    after: Some(state(&[0xff, 0x00, 0x0a])),
                    because: "create".into(),
                },
            ],
            findings: Vec::new(),
        };
        let inputs = BTreeMap::from([(path, sha256_hex(b"a\n"))]);
        save(
            Context {
                tool: "pullover 0".into(),
                phase: "scrape",
                time: "t".into(),
                journal: "0".repeat(64),
                inputs,
                findings: serde_json::json!([]),
            },
            &changeset,
        )
    }

    #[test]
    fn a_saved_plan_reads_back_to_the_same_bytes_text_or_not() {
        let saved = plan();
        let text = serde_json::to_string_pretty(&saved).unwrap();
        let read = parse(&text).unwrap();
        assert_eq!(read, saved);
        assert_eq!(
            &*read.changes[0].after.as_ref().unwrap().state().unwrap().bytes,
            b"a\nb\n"
        );
        assert_eq!(
            &*read.changes[1].after.as_ref().unwrap().state().unwrap().bytes,
            &[0xff, 0x00, 0x0a]
        );
    }

    #[test]
    fn an_edited_content_another_format_or_version_is_refused() {
        let text = serde_json::to_string(&plan()).unwrap();
        let edited = parse(&text.replace("a\\nb\\n", "a\\nc\\n")).unwrap();
        assert!(
            edited.changes[0]
                .after
                .as_ref()
                .unwrap()
                .state()
                .unwrap_err()
                .contains("sha256")
        );
        assert!(
            parse(&text.replace("\"version\":1", "\"version\":2"))
                .unwrap_err()
                .contains("version 2")
        );
        assert!(parse("{\"version\":1}").unwrap_err().contains("not a saved plan"));
        assert!(parse("diff --git").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn changed_inputs_name_each_path_and_how() {
        let p = |s: &str| RelPath::new(s).unwrap();
        let saved = BTreeMap::from([(p("a"), "1".to_string()), (p("b"), "2".to_string())]);
        let now = BTreeMap::from([
            (p("a"), "1".to_string()),
            (p("b"), "3".to_string()),
            (p("c"), "4".to_string()),
        ]);
        assert_eq!(changed_inputs(&saved, &now), ["b (changed)", "c (new)"]);
        assert_eq!(changed_inputs(&saved, &saved), Vec::<String>::new());
    }
}
