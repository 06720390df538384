//! The apps' own code and config: where each app's code is (`code:` in pullover.yaml, else its
//! Compose service's local `build:` context) and the files read from there.

use super::app_code;
use super::compose::Compose;
use super::read::StackDir;
use super::settings::SettingsFile;
use super::source::{RelPath, SourceFile};
use crate::diagnostic::Diagnostic;

/// No app's code is this big; beyond it a folder is a dependency tree.
const MAX_CODE_FILES: usize = 2000;
const MAX_CODE_BYTES: u64 = 1024 * 1024;

/// Where one app's code is, and why pullover looks there.
#[derive(Debug, Clone)]
pub(super) struct CodeRoot {
    pub service: String,
    pub paths: Vec<RelPath>,
    pub why: String,
}

/// Where each Compose service's (or pinned app's) code is: `code:` in
/// pullover.yaml, else the service's local `build:` context.
pub(super) fn code_roots(compose: Option<&Compose>, pinned: &SettingsFile) -> Vec<CodeRoot> {
    let mut roots: Vec<CodeRoot> = Vec::new();
    for app in pinned.apps.iter().filter(|a| !a.code.is_empty()) {
        let paths = app.code.iter().filter_map(|c| RelPath::new(c.clone()).ok()).collect();
        roots.push(CodeRoot {
            service: app.service.clone(),
            paths,
            why: "set in pullover.yaml".into(),
        });
    }
    let Some(compose) = compose else { return roots };
    for service in &compose.services {
        if roots.iter().any(|root| root.service == service.name) {
            continue;
        }
        let Some(build) = &service.build else { continue };
        // A Git URL or an absolute path is not in the stack.
        if build.contains("://") || build.starts_with("git@") || build.starts_with(['/', '~', '$']) {
            continue;
        }
        if let Ok(rel) = RelPath::join_relative(compose.file.path.parent(), build) {
            roots.push(CodeRoot {
                service: service.name.clone(),
                paths: vec![rel],
                why: format!("the `build:` context of service {}", service.name),
            });
        }
    }
    roots
}

/// The code folders of `service` and why, when it has any.
pub(super) fn roots_of(roots: &[CodeRoot], service: &str) -> Option<(Vec<RelPath>, String)> {
    roots
        .iter()
        .find(|root| root.service == service)
        .map(|root| (root.paths.clone(), root.why.clone()))
}

/// The files of every app's code, and the services' env files (`PUSHGATEWAY_ADDR=…` is config
/// too); binary and non-UTF-8 files left out.
pub(super) fn read_code(
    dir: &StackDir,
    compose: Option<&Compose>,
    pinned: &SettingsFile,
) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut files: Vec<SourceFile> = Vec::new();
    let env_files = compose.into_iter().flat_map(|c| {
        c.services.iter().flat_map(move |s| {
            s.env_files
                .iter()
                .filter_map(move |f| RelPath::join_relative(c.file.path.parent(), f).ok())
        })
    });
    let env_roots: Vec<RelPath> = env_files.collect();
    let roots = code_roots(compose, pinned)
        .into_iter()
        .map(|root| root.paths)
        .chain(std::iter::once(env_roots));
    for roots in roots {
        for root in roots {
            let paths = if dir.is_dir(&root) {
                dir.source_files_under(&root, app_code::CODE_SUFFIXES, app_code::SKIPPED_DIRS, MAX_CODE_FILES)
            } else {
                vec![root]
            };
            for path in paths {
                if files.iter().any(|f| f.path == path) || dir.size(&path).is_none_or(|n| n > MAX_CODE_BYTES) {
                    continue;
                }
                // Binary or non-UTF-8 files are not code pullover reads.
                if let Ok(Some(file)) = dir.read(&path) {
                    files.push(file);
                }
            }
        }
    }
    Ok(files)
}

/// The code files under `roots`.
pub(super) fn code_under<'s>(code: &'s [SourceFile], roots: &[RelPath]) -> Vec<&'s SourceFile> {
    code.iter()
        .filter(|f| {
            roots.iter().any(|root| {
                f.path == *root
                    || f.path
                        .as_str()
                        .strip_prefix(root.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .collect()
}
