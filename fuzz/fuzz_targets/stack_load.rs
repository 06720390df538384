//! The stack readers on any bytes: one file of a copy of `stacks/seed` (the Compose file,
//! prometheus.yml, a rule file, the provisioning file, a dashboard or pullover.yaml, chosen by
//! the first byte) is replaced by the input, then `Stack::load` and every phase's planner run.
//! No panic, no hang: an answer is a stack, a plan or a `Diagnostic`.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullover::phase::PhaseId;
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;

const TARGETS: &[&str] = &[
    "docker-compose.yml",
    "prometheus/prometheus.yml",
    "prometheus/rules/pushgateway.yml",
    "grafana/provisioning/dashboards/dashboards.yml",
    "grafana/dashboards/metrics-api.json",
    "pullover.yaml",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A private copy of the seed, and each target's original bytes (absent: `None`).
fn stack() -> &'static (PathBuf, Vec<Option<Vec<u8>>>) {
    static STACK: OnceLock<(PathBuf, Vec<Option<Vec<u8>>>)> = OnceLock::new();
    STACK.get_or_init(|| {
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks/seed");
        let dir = std::env::temp_dir().join(format!("pullover-fuzz-stack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&seed, &dir);
        let originals = TARGETS.iter().map(|t| std::fs::read(dir.join(t)).ok()).collect();
        (dir, originals)
    })
}

fuzz_target!(|data: &[u8]| {
    pullover::contained::install_panic_hook();
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (dir, originals) = stack();
    // Every target back as in the seed, then the chosen one replaced.
    for (target, original) in TARGETS.iter().zip(originals) {
        let path = dir.join(target);
        match original {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let target = TARGETS[usize::from(choice) % TARGETS.len()];
    std::fs::write(dir.join(target), rest).unwrap();
    let Ok(stack) = Stack::load(dir, &Overrides::default()) else {
        return;
    };
    for phase in PhaseId::ALL {
        if let Some(planner) = phase.planner() {
            let _ = planner(&stack);
        }
    }
});
