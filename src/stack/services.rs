//! What a service brings from the stack folder besides its Compose entry: the
//! code it is built from (`build:`) and its `env_file`s. Phases read them to
//! find push logic and settings that point at the Pushgateway; they never
//! edit them.

use crate::stack::compose::Compose;
use crate::stack::read::StackDir;
use crate::stack::source::{RelPath, SourceFile};

/// Source files worth reading for push logic and environment variables.
const CODE_EXTENSIONS: [&str; 16] = [
    ".js", ".mjs", ".cjs", ".ts", ".py", ".go", ".rb", ".java", ".kt", ".rs", ".php", ".cs", ".sh", ".ex", ".exs",
    ".scala",
];

/// Folders of dependencies and build output: not the app's own code.
const SKIPPED_FOLDERS: [&str; 9] = [
    "node_modules",
    "vendor",
    "target",
    "dist",
    "build",
    "__pycache__",
    "venv",
    "site-packages",
    "bower_components",
];

/// More files than this under one build folder are not read: it is not a
/// small app, and reading it would only make every plan slow.
const MAX_CODE_FILES: usize = 400;
/// Larger source files are skipped (generated or bundled code).
const MAX_CODE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ServiceFiles {
    pub service: String,
    /// The `build:` context, relative to the stack root, when it is inside the stack.
    pub build_dir: Option<RelPath>,
    /// Source files under `build_dir` (dependencies skipped), sorted by path.
    pub code: Vec<SourceFile>,
    /// `env_file`s that exist, in the order the service lists them.
    pub env_files: Vec<SourceFile>,
}

/// Reads, for every service with a build folder or env files in the stack,
/// those files. A file that cannot be read as text is skipped: this is
/// evidence for findings, never something pullover edits.
pub fn read_service_files(dir: &StackDir, compose: &Compose) -> Vec<ServiceFiles> {
    let compose_dir = compose.file.path.parent();
    let mut out = Vec::new();
    for service in &compose.services {
        // A build context at the stack root (`.`) would be the whole stack: not read.
        let build_dir = service
            .build
            .as_deref()
            .filter(|b| !b.contains("://") && !b.starts_with("git@"))
            .and_then(|b| RelPath::join_relative(compose_dir, b).ok());
        let mut code = Vec::new();
        if let Some(build) = &build_dir
            && dir.is_dir(build)
        {
            let paths = dir.files_under_skipping(build, &CODE_EXTENSIONS, &SKIPPED_FOLDERS);
            for path in paths.into_iter().take(MAX_CODE_FILES) {
                if let Ok(Some(file)) = dir.read(&path)
                    && file.bytes().len() <= MAX_CODE_BYTES
                {
                    code.push(file);
                }
            }
        }
        let mut env_files = Vec::new();
        for name in &service.env_files {
            let Ok(rel) = RelPath::join_relative(compose_dir, name) else {
                continue;
            };
            if let Ok(Some(file)) = dir.read(&rel) {
                env_files.push(file);
            }
        }
        if build_dir.is_some() || !env_files.is_empty() {
            out.push(ServiceFiles {
                service: service.name.clone(),
                build_dir,
                code,
                env_files,
            });
        }
    }
    out
}
