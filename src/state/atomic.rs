//! Crash-safe file writes: a temp file in the same folder, fsync, rename over
//! the target, fsync the folder. A reader (or a crash) sees the old bytes or
//! the new bytes, never a mix.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::failpoint;

const TEMP_PREFIX: &str = ".pullover-";
const TEMP_SUFFIX: &str = ".tmp";

pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_inner(path, bytes, mode, true)
}

/// [`write_atomic`] for pullover's own bookkeeping (`journal.head`): the
/// same steps, without the failpoints that count the writes of managed files.
pub fn write_atomic_quiet(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_inner(path, bytes, mode, false)
}

fn write_atomic_inner(path: &Path, bytes: &[u8], mode: u32, failpoints: bool) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a file path without a folder"))?;
    // Keep the owner of a file we replace (pullover often runs as root on
    // files a deploy user owns).
    let owner = fs::metadata(path).ok().map(|m| (m.uid(), m.gid()));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        // Best effort: an unprivileged user cannot chown, and then keeps the file.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid));
    }
    tmp.as_file().sync_all()?;
    if failpoints {
        failpoint::hit("temp-written");
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if failpoints {
        failpoint::hit("after-rename");
    }
    sync_dir(dir)
}

/// Whether `name` is a temp file [`write_atomic`] makes; one left behind means
/// a crash between writing it and renaming it.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Removes temp files a crashed write left in `dir`; returns how many.
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name().to_str().is_some_and(is_temp_name) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Removes a file durably; a file already gone is fine.
pub fn remove_durable(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates missing folders up to `dir`, returning those it created (outermost
/// first), so an undo can remove exactly them.
pub fn create_dirs(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(d) = current {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        current = d.parent();
    }
    missing.reverse();
    for d in &missing {
        fs::create_dir(d)?;
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_sets_mode_leaving_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yml");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new", 0o640).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        remove_durable(&path).unwrap();
        remove_durable(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn creates_only_missing_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let created = create_dirs(&dir.path().join("a/b/c")).unwrap();
        assert_eq!(
            created,
            vec![dir.path().join("a"), dir.path().join("a/b"), dir.path().join("a/b/c")]
        );
        assert!(create_dirs(&dir.path().join("a/b")).unwrap().is_empty());
    }
}
