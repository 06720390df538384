//! Everything about a folder tree a person could notice: each file's bytes
//! (as a hash) and mode, each symlink's target, each folder and its mode.
//! pullover's own `.pullover/` is left out.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File {
        sha256: String,
        mode: u32,
    },
    Link(PathBuf),
    Dir {
        mode: u32,
    },
    /// A named pipe, socket or device: never read (a pipe would block).
    Special {
        mode: u32,
    },
}

pub type Tree = BTreeMap<String, Entry>;

pub fn tree(root: &Path) -> Tree {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Tree) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".pullover") {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let meta = fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            out.insert(rel, Entry::Link(fs::read_link(&path).unwrap()));
        } else if meta.is_dir() {
            out.insert(rel, Entry::Dir { mode });
            walk(root, &path, out);
        } else if !meta.is_file() {
            out.insert(rel, Entry::Special { mode });
        } else {
            let bytes = fs::read(&path).unwrap_or_default();
            out.insert(
                rel,
                Entry::File {
                    sha256: pullover::changeset::sha256_hex(&bytes),
                    mode,
                },
            );
        }
    }
}

/// The paths whose entries differ between two trees (either side may lack one).
pub fn differing(a: &Tree, b: &Tree) -> Vec<String> {
    let mut paths: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Temp files a write left behind (`.pullover-*.tmp`).
pub fn temp_files(tree: &Tree) -> Vec<&String> {
    tree.keys()
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap_or(k);
            name.starts_with(".pullover-") && name.ends_with(".tmp")
        })
        .collect()
}
