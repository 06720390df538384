//! Content-addressed snapshots: `.pullover/objects/ab/cdef…` holds the bytes
//! whose sha256 is `abcdef…`. Every version of a managed file that a phase
//! replaced or wrote is here, so rollback can restore it exactly.

use std::io;
use std::path::{Path, PathBuf};

use crate::changeset::sha256_hex;
use crate::state::atomic::write_atomic;
use crate::state::nofollow::{self, Refused};

/// The largest snapshot read back: pullover reads no stack file larger than
/// [`crate::stack::read::MAX_FILE_BYTES`], and writes none much larger.
pub const MAX_OBJECT_BYTES: u64 = 4 * crate::stack::read::MAX_FILE_BYTES;

#[derive(Debug, Clone)]
pub struct ObjectStore {
    dir: PathBuf,
}

impl ObjectStore {
    pub fn new(dir: PathBuf) -> ObjectStore {
        ObjectStore { dir }
    }

    /// Where the object `sha` lives. A hash from the journal that is not 64
    /// hex digits (`../../etc/passwd`) maps to a name that cannot exist, so
    /// it is "missing", never a path outside `objects/`.
    fn path(&self, sha: &str) -> PathBuf {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.dir.join("not-a-sha256");
        }
        let (prefix, rest) = sha.split_at(2);
        self.dir.join(prefix).join(rest)
    }

    fn refused(path: &Path) -> impl FnOnce(Refused) -> io::Error {
        let shown = path.display().to_string();
        move |refused| match refused {
            Refused::Io(e) => io::Error::new(e.kind(), format!("{shown}: {e}")),
            refused => io::Error::other(format!(
                "{shown} {refused}; pullover keeps its snapshots only in real files and folders inside the stack"
            )),
        }
    }

    /// The folder of an object: `objects/` and `objects/ab/` must be real
    /// folders (created if `create`); `Ok(None)` when absent.
    fn object_dir(&self, sha: &str, create: bool) -> io::Result<Option<PathBuf>> {
        let path = self.path(sha);
        let parent = path.parent().unwrap_or(&self.dir).to_path_buf();
        for dir in [&self.dir, &parent] {
            let exists = if create {
                nofollow::ensure_dir(dir).map(|_| true)
            } else {
                nofollow::is_real_dir(dir)
            }
            .map_err(Self::refused(dir))?;
            if !exists {
                return Ok(None);
            }
        }
        Ok(Some(parent))
    }

    /// Stores `bytes` (no-op if present) and returns their hash.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path(&sha);
        self.object_dir(&sha, true)?;
        if !nofollow::is_regular(&path).map_err(Self::refused(&path))? {
            write_atomic(&path, bytes, 0o600)?;
        }
        Ok(sha)
    }

    /// Reads an object back, checking its hash.
    pub fn get(&self, sha: &str) -> io::Result<Vec<u8>> {
        let path = self.path(sha);
        let found = match self.object_dir(sha, false)? {
            Some(_) => nofollow::read(&path, MAX_OBJECT_BYTES).map_err(Self::refused(&path))?,
            None => None,
        };
        let bytes = found.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("snapshot {sha} is missing from {}", self.dir.display()),
            )
        })?;
        if sha256_hex(&bytes) != sha {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "snapshot {sha} in {} is damaged (its content hash differs)",
                    self.dir.display()
                ),
            ));
        }
        Ok(bytes)
    }

    /// Removes every object whose hash is not in `keep`, and temp files a
    /// crashed write left; returns how many objects it removed. Only regular
    /// files named as objects are touched; a symlink or a stranger file
    /// fails the whole collection before anything is removed.
    pub fn collect(&self, keep: &std::collections::HashSet<String>) -> io::Result<usize> {
        if !nofollow::is_real_dir(&self.dir).map_err(Self::refused(&self.dir))? {
            return Ok(0);
        }
        let mut doomed = Vec::new();
        let mut prefixes = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let prefix = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let is_prefix = prefix.len() == 2 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
            if !is_prefix {
                if nofollow::is_regular(&path).unwrap_or(false) && crate::state::atomic::is_temp_name(&prefix) {
                    doomed.push(path);
                }
                continue;
            }
            if !nofollow::is_real_dir(&path).map_err(Self::refused(&path))? {
                continue;
            }
            prefixes.push(path.clone());
            for object in std::fs::read_dir(&path)? {
                let object = object?;
                let name = object.file_name().to_string_lossy().into_owned();
                let object_path = object.path();
                if !nofollow::is_regular(&object_path).map_err(Self::refused(&object_path))? {
                    continue;
                }
                let unused = name.len() == 62 && !keep.contains(&format!("{prefix}{name}"));
                if unused || crate::state::atomic::is_temp_name(&name) {
                    doomed.push(object_path);
                }
            }
        }
        let removed = doomed
            .iter()
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(crate::state::atomic::is_temp_name)
            })
            .count();
        for path in &doomed {
            std::fs::remove_file(path)?;
        }
        for prefix in prefixes {
            // Only when empty.
            let _ = std::fs::remove_dir(&prefix);
        }
        if !doomed.is_empty() {
            crate::state::atomic::sync_dir(&self.dir)?;
        }
        Ok(removed)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn objects_round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::new(dir.path().join("objects"));
        let sha = store.put(b"scrape_configs: []\n").unwrap();
        assert_eq!(store.get(&sha).unwrap(), b"scrape_configs: []\n");
        assert_eq!(store.put(b"scrape_configs: []\n").unwrap(), sha);
        fs::write(store.path(&sha), b"tampered").unwrap();
        assert_eq!(store.get(&sha).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
