//! Content-addressed snapshots: `.pullover/objects/ab/cdef…` holds the bytes
//! whose sha256 is `abcdef…`. Every version of a managed file that a phase
//! replaced or wrote is here, so rollback can restore it exactly.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::changeset::sha256_hex;
use crate::state::atomic::{create_dirs, write_atomic};

#[derive(Debug, Clone)]
pub struct ObjectStore {
    dir: PathBuf,
}

impl ObjectStore {
    pub fn new(dir: PathBuf) -> ObjectStore {
        ObjectStore { dir }
    }

    fn path(&self, sha: &str) -> PathBuf {
        let (prefix, rest) = sha.split_at(sha.len().min(2));
        self.dir.join(prefix).join(rest)
    }

    /// Stores `bytes` (no-op if present) and returns their hash.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path(&sha);
        if !path.exists() {
            if let Some(parent) = path.parent() {
                create_dirs(parent)?;
            }
            write_atomic(&path, bytes, 0o600)?;
        }
        Ok(sha)
    }

    /// Reads an object back, checking its hash.
    pub fn get(&self, sha: &str) -> io::Result<Vec<u8>> {
        let bytes = fs::read(self.path(sha)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("snapshot {sha} is missing from {}: {e}", self.dir.display()),
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

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
