//! Reading files of the stack, and only of the stack: a path that resolves
//! (through `..` or a symlink) outside the root is refused.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::stack::limits::{self, Kind};
use crate::stack::source::{RelPath, SourceFile};

/// The largest file of any kind pullover reads (each kind has its own, smaller
/// limit in [`limits`]); snapshots are capped from it.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct StackDir {
    root: PathBuf,
    canonical_root: PathBuf,
}

impl StackDir {
    pub fn open(root: &Path) -> Result<StackDir, Diagnostic> {
        let canonical_root = fs::canonicalize(root).map_err(|e| {
            Diagnostic::error(format!("cannot open stack folder {}: {e}", root.display()))
                .help("pass the folder that holds your docker-compose.yml with --stack DIR")
        })?;
        if !canonical_root.is_dir() {
            return Err(Diagnostic::error(format!("{} is not a folder", root.display())));
        }
        Ok(StackDir {
            root: root.to_path_buf(),
            canonical_root,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, rel: &RelPath) -> PathBuf {
        self.canonical_root.join(rel.as_str())
    }

    /// Whether `rel` exists as a regular file inside the stack.
    pub fn is_file(&self, rel: &RelPath) -> bool {
        self.checked_path(rel).ok().is_some_and(|p| p.is_file())
    }

    pub fn is_dir(&self, rel: &RelPath) -> bool {
        self.checked_path(rel).ok().is_some_and(|p| p.is_dir())
    }

    /// Whether a file must be read at `rel`: `Ok(false)` when nothing is there,
    /// `Ok(true)` for a regular file inside the stack (maybe through a symlink
    /// inside it), and an error naming what is there instead: a folder, a
    /// named pipe, a dangling symlink, or a symlink out of the stack.
    pub fn file_entry(&self, rel: &RelPath, what: &str, help: &str) -> Result<bool, Diagnostic> {
        let path = self.path_of(rel);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Diagnostic::error(format!("cannot read {what} {rel}: {e}")).help(help.to_string())),
        };
        let real = if meta.file_type().is_symlink() {
            match fs::canonicalize(&path) {
                Ok(real) => real,
                Err(_) => {
                    let target = fs::read_link(&path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    return Err(Diagnostic::error(format!(
                        "{what} {rel} is a symlink to {target:?}, which does not exist; nothing was written"
                    ))
                    .help(help.to_string()));
                }
            }
        } else {
            path.clone()
        };
        self.checked_path(rel)?;
        let meta = fs::metadata(&real)
            .map_err(|e| Diagnostic::error(format!("cannot read {what} {rel}: {e}")).help(help.to_string()))?;
        if !meta.is_file() {
            let kind = {
                use std::os::unix::fs::FileTypeExt;
                let t = meta.file_type();
                if t.is_dir() {
                    "a folder"
                } else if t.is_fifo() {
                    "a named pipe"
                } else if t.is_socket() {
                    "a socket"
                } else {
                    "a device"
                }
            };
            return Err(
                Diagnostic::error(format!("{what} {rel} is {kind}, not a file; nothing was written"))
                    .help(help.to_string()),
            );
        }
        Ok(true)
    }

    /// Resolves `rel`, refusing anything whose real location is outside the root.
    fn checked_path(&self, rel: &RelPath) -> Result<PathBuf, Diagnostic> {
        let path = self.path_of(rel);
        match fs::canonicalize(&path) {
            Ok(real) if !real.starts_with(&self.canonical_root) => Err(Diagnostic::error(format!(
                "{rel} resolves to {} outside the stack folder",
                real.display()
            ))
            .help("pullover only reads and writes files inside --stack; copy the file into the stack or point the setting at the real file")),
            _ => Ok(path),
        }
    }

    /// Reads a file; `Ok(None)` when it does not exist. Its kind (and so its
    /// limits, see [`limits`]) follows from its name.
    pub fn read(&self, rel: &RelPath) -> Result<Option<SourceFile>, Diagnostic> {
        self.read_as(rel, Kind::by_name(rel))
    }

    /// Reads a file of a known kind, within that kind's size and nesting
    /// limits; `Ok(None)` when it does not exist.
    pub fn read_as(&self, rel: &RelPath, kind: Kind) -> Result<Option<SourceFile>, Diagnostic> {
        let path = self.checked_path(rel)?;
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Diagnostic::error(format!("cannot read {rel}: {e}"))),
        };
        if !meta.is_file() {
            return Err(Diagnostic::error(format!("{rel} is not a regular file")));
        }
        limits::check_size(rel, kind, meta.len())?;
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|file| file.take(kind.max_bytes() + 1).read_to_end(&mut bytes))
            .map_err(|e| Diagnostic::error(format!("cannot read {rel}: {e}")))?;
        // It may have grown since it was measured.
        limits::check_size(rel, kind, bytes.len() as u64)?;
        let mode = meta.permissions().mode() & 0o7777;
        let file = decode(rel.clone(), bytes, mode)?;
        limits::check_nesting(&file, kind)?;
        Ok(Some(file))
    }

    pub fn require(&self, rel: &RelPath, what: &str, help: &str) -> Result<SourceFile, Diagnostic> {
        self.require_as(rel, Kind::by_name(rel), what, help)
    }

    pub fn require_as(&self, rel: &RelPath, kind: Kind, what: &str, help: &str) -> Result<SourceFile, Diagnostic> {
        self.read_as(rel, kind)?
            .ok_or_else(|| Diagnostic::error(format!("{what} {rel} does not exist")).help(help.to_string()))
    }

    /// Files under `dir` whose names end in one of `extensions`, sorted, skipping
    /// hidden folders and anything resolving outside the root.
    pub fn files_under(&self, dir: &RelPath, extensions: &[&str]) -> Vec<RelPath> {
        self.files_under_skipping(dir, extensions, &[])
    }

    /// The files of the stack folder itself (not of its subfolders) whose names end in one of
    /// `extensions`, sorted; hidden ones skipped.
    pub fn files_at_root(&self, extensions: &[&str]) -> Vec<RelPath> {
        let mut out: Vec<RelPath> = fs::read_dir(&self.canonical_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                !name.starts_with('.') && extensions.iter().any(|ext| name.ends_with(ext)) && entry.path().is_file()
            })
            .filter_map(|entry| self.relative(&entry.path()))
            .collect();
        out.sort();
        out
    }

    /// [`StackDir::files_under`], not descending into folders named in `skip`
    /// (`node_modules`, `vendor`).
    pub fn files_under_skipping(&self, dir: &RelPath, extensions: &[&str], skip: &[&str]) -> Vec<RelPath> {
        self.walk(dir, extensions, skip, &[], usize::MAX)
    }

    /// Every file of the stack whose name ends in one of `extensions`, sorted, skipping hidden
    /// folders and folders named in `skip`.
    pub fn files_in_stack(&self, extensions: &[&str], skip: &[&str]) -> Vec<RelPath> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.canonical_root) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let Ok(rel) = RelPath::new(name.clone()) else { continue };
            if entry.path().is_dir() {
                if !skip.contains(&name.as_str()) {
                    out.extend(self.files_under_skipping(&rel, extensions, skip));
                }
            } else if extensions.iter().any(|ext| name.ends_with(ext)) && self.is_file(&rel) {
                out.push(rel);
            }
        }
        out.sort();
        out
    }

    /// Size in bytes of a regular file inside the stack.
    pub fn size(&self, rel: &RelPath) -> Option<u64> {
        let path = self.checked_path(rel).ok()?;
        fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len())
    }

    /// Like [`StackDir::files_under`] for a source tree: names ending in one of
    /// `suffixes`, folders named in `skip` (dependencies, build output) left
    /// out, `.env` files kept, at most `limit` files.
    pub fn source_files_under(&self, dir: &RelPath, suffixes: &[&str], skip: &[&str], limit: usize) -> Vec<RelPath> {
        self.walk(dir, suffixes, skip, &[".env"], limit)
    }

    /// The files under `dir` whose names end in one of `suffixes`, sorted, at most `limit` (the
    /// first ones in name order): hidden names other than those in `hidden_kept` and folders
    /// named in `skip` left out, and nothing whose real location is outside the root.
    fn walk(
        &self,
        dir: &RelPath,
        suffixes: &[&str],
        skip: &[&str],
        hidden_kept: &[&str],
        limit: usize,
    ) -> Vec<RelPath> {
        let mut out = Vec::new();
        let Ok(start) = self.checked_path(dir) else { return out };
        let mut visited = std::collections::HashSet::new();
        let mut pending = vec![start];
        while let Some(folder) = pending.pop() {
            // Each real folder once: a symlink loop (`a/loop -> ..`) or two
            // links to one folder must not list its files again and again.
            if !fs::canonicalize(&folder).is_ok_and(|real| visited.insert(real)) {
                continue;
            }
            let Ok(entries) = fs::read_dir(&folder) else { continue };
            let mut entries: Vec<_> = entries.flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !hidden_kept.contains(&name.as_str()) {
                    continue;
                }
                let Some(rel) = self.relative(&path) else { continue };
                if path.is_dir() {
                    if !skip.contains(&name.as_str())
                        && fs::canonicalize(&path).is_ok_and(|real| real.starts_with(&self.canonical_root))
                    {
                        pending.push(path);
                    }
                } else if suffixes.iter().any(|s| name.ends_with(s)) {
                    out.push(rel);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        out.sort();
        out
    }

    /// Every regular file of the stack (hidden ones too) of at most `max_bytes` that is UTF-8
    /// text and that `wanted` keeps, in path order. Hidden folders and folders named in `skip`
    /// are not entered, and no symlink is followed: a link may lead out of the stack.
    pub fn text_files(&self, skip: &[&str], max_bytes: u64, wanted: impl Fn(&RelPath) -> bool) -> Vec<SourceFile> {
        let mut paths = Vec::new();
        self.regular_files(&self.canonical_root, skip, max_bytes, &mut paths);
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| {
                let rel = RelPath::new(path.clone()).ok().filter(|rel| wanted(rel))?;
                let text = fs::read_to_string(self.canonical_root.join(&path)).ok()?;
                Some(SourceFile::from_text(rel, text, 0o644))
            })
            .collect()
    }

    /// The paths, relative to the root, of the regular files under `folder` for [`Self::text_files`].
    fn regular_files(&self, folder: &Path, skip: &[&str], max_bytes: u64, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(folder) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                if !name.starts_with('.') && !skip.contains(&name.as_str()) {
                    self.regular_files(&path, skip, max_bytes, out);
                }
            } else if kind.is_file()
                && entry.metadata().is_ok_and(|m| m.len() <= max_bytes)
                && let Ok(rel) = path.strip_prefix(&self.canonical_root)
                && let Some(rel) = rel.to_str()
            {
                out.push(rel.to_string());
            }
        }
    }

    /// Expands a glob relative to the stack root (`prometheus/rules/*.yml`).
    pub fn glob(&self, pattern: &str) -> Vec<RelPath> {
        let full = self.canonical_root.join(pattern);
        let Some(full) = full.to_str() else { return Vec::new() };
        let Ok(paths) = glob::glob(full) else { return Vec::new() };
        let mut out: Vec<RelPath> = paths
            .flatten()
            .filter(|p| p.is_file())
            .filter_map(|p| self.relative(&p))
            .collect();
        out.sort();
        out
    }

    fn relative(&self, path: &Path) -> Option<RelPath> {
        let rel = path.strip_prefix(&self.canonical_root).ok()?;
        RelPath::new(rel.to_str()?).ok()
    }
}

/// The file as text: pullover edits UTF-8 only, and says where a file is not.
fn decode(path: RelPath, bytes: Vec<u8>, mode: u32) -> Result<SourceFile, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::from_text(path, text, mode)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let bytes = err.as_bytes();
            // Windows editors save "Unicode" as UTF-16: name it, so the fix is obvious.
            let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
            let what = if utf16 {
                "UTF-16 text, not UTF-8"
            } else {
                "not valid UTF-8"
            };
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            // Point at the bad byte in a lossy copy; offsets before it are identical.
            Err(Diagnostic::error(format!("{path} is {what}"))
                .at(
                    &SourceFile::from_text(path.clone(), lossy, mode),
                    offset..offset + 1,
                    "invalid byte here",
                )
                .help("pullover edits text files only; convert the file to UTF-8 first"))
        }
    }
}

#[cfg(test)]
mod tests;
