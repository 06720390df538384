//! The stack's other text files, for `analyze` to search line by line for the gateway: docs,
//! app code, scripts — every file but those read as Compose, prometheus.yml, rules, dashboards
//! or Kubernetes manifests and values (their references are found where they are parsed) and
//! `pullover.yaml`.

use std::collections::BTreeSet;
use std::path::Path;

use super::Stack;
use super::read::StackDir;
use super::settings::SETTINGS_FILE;
use super::source::{RelPath, SourceFile};
use crate::diagnostic::Diagnostic;

/// Files larger than this are not searched (no doc or source file is this big).
const MAX_SEARCHED_BYTES: u64 = 1024 * 1024;

/// Folders never searched: pullover's state, VCS, dependencies, build output.
const SKIPPED_DIRS: [&str; 6] = [".pullover", ".git", "node_modules", "target", "vendor", "__pycache__"];

/// The files of the stack at `root` that `stack` has not parsed, as text, in path order;
/// binary and non-UTF-8 files left out.
pub fn read(root: &Path, stack: &Stack) -> Result<Vec<SourceFile>, Diagnostic> {
    let parsed: BTreeSet<&RelPath> = stack
        .compose
        .iter()
        .map(|c| &c.file.path)
        .chain([&stack.prometheus.file.path])
        .chain(stack.rule_files.iter().map(|f| &f.path))
        .chain(stack.dashboard_files().map(|f| &f.path))
        .chain(stack.kube.iter().flat_map(|k| k.manifests.iter().map(|m| &m.file.path)))
        .chain(stack.kube.iter().flat_map(|k| k.values.iter().map(|v| &v.file.path)))
        .collect();
    let dir = StackDir::open(root)?;
    Ok(dir.text_files(&SKIPPED_DIRS, MAX_SEARCHED_BYTES, |rel| {
        !parsed.contains(rel) && rel.as_str() != SETTINGS_FILE
    }))
}
