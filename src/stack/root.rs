//! Where the stack is when `--stack` is not given: the nearest folder, from the working
//! directory up, that holds a Compose file or a `pullover.yaml` (as git finds `.git`).

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::stack::compose::COMPOSE_FILE_NAMES;
use crate::stack::settings::SETTINGS_FILE;

/// The stack root as a path relative to `start` (`.`, `..`, `../..`), with the file that
/// marks it; an error, naming `start`, when no folder up to `/` holds one.
pub fn find_from(start: &Path) -> Result<(PathBuf, String), Diagnostic> {
    for (depth, dir) in start.ancestors().enumerate() {
        let marker = COMPOSE_FILE_NAMES
            .iter()
            .chain(std::iter::once(&SETTINGS_FILE))
            .find(|name| dir.join(name).is_file());
        if let Some(marker) = marker {
            let relative = if depth == 0 {
                PathBuf::from(".")
            } else {
                (0..depth).map(|_| "..").collect::<PathBuf>()
            };
            return Ok((relative, (*marker).to_string()));
        }
    }
    Err(Diagnostic::error(format!(
        "no Compose file in {} or any folder above it",
        start.display()
    ))
    .help(format!(
        "run pullover inside the stack (the folder holding {} or pullover.yaml, or any folder under it), or pass --stack DIR; nothing was written",
        COMPOSE_FILE_NAMES[2]
    ))
    .help("a stack of Kubernetes manifests has no such file: pass --stack DIR, or write its pullover.yaml with `pullover --stack DIR init`")
    .id("no-stack-root"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_the_compose_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), "services: {}\n").unwrap();
        let sub = dir.path().join("prometheus/rules");
        std::fs::create_dir_all(&sub).unwrap();
        let (root, marker) = find_from(&sub).unwrap();
        assert_eq!(root, PathBuf::from("../.."));
        assert_eq!(marker, "docker-compose.yml");
        assert_eq!(find_from(dir.path()).unwrap().0, PathBuf::from("."));
    }
}
