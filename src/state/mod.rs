//! State in `.pullover/` at the stack root: the journal, snapshots, the lock,
//! and the engine that writes phases (and undoes them) crash-safely.
//!
//! Nothing here knows about Prometheus: it moves [`FileChange`]s.
//!
//! [`FileChange`]: crate::changeset::FileChange

pub mod atomic;
pub mod engine;
pub mod failpoint;
pub mod journal;
pub mod objects;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::changeset::sha256_hex;
use crate::stack::source::RelPath;
use journal::{Blob, Journal, JournalError};
use objects::ObjectStore;

pub const STATE_DIR: &str = ".pullover";

#[derive(Debug, Clone)]
pub struct StateDir {
    /// The stack root (canonical), that managed paths are relative to.
    root: PathBuf,
    dir: PathBuf,
}

/// Proof that the state lock is held; only [`StateDir::with_lock`] makes one.
pub struct Locked<'a> {
    pub state: &'a StateDir,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("another pullover is working on this stack ({holder}); nothing was changed")]
    Busy { holder: String },
    #[error("{path} changed since the plan was shown; nothing was written")]
    ChangedSincePlan { path: RelPath },
    #[error("cannot finish the interrupted {action} of phase `{phase}`: {path} is neither as before nor as after it")]
    RecoveryConflict {
        action: String,
        phase: String,
        path: RelPath,
    },
    #[error("{path} resolves to {real} outside the stack folder; pullover never writes there")]
    OutsideRoot { path: RelPath, real: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

impl StateError {
    pub fn help(&self) -> Vec<String> {
        match self {
            StateError::Busy { .. } => vec!["wait for it to finish and run the command again".into()],
            StateError::ChangedSincePlan { .. } => vec!["run the command again to see the plan for the file as it is now".into()],
            StateError::RecoveryConflict { path, .. } => vec![
                format!("someone edited {path} while the interrupted command ran; compare it with `pullover history` and the snapshots in .pullover/objects"),
                "move your edit aside, restore the file, and run the command again".into(),
            ],
            StateError::Journal(_) => vec!["the journal is append-only JSON lines; restore .pullover/journal.jsonl from a backup or fix the named line".into()],
            _ => Vec::new(),
        }
    }
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> StateError {
    let context = context.into();
    move |source| StateError::Io { context, source }
}

impl StateDir {
    /// The state of the stack at `root`; the folder is created on first write.
    pub fn new(root: &Path) -> Result<StateDir, StateError> {
        let root = fs::canonicalize(root).map_err(io_err(format!("cannot open {}", root.display())))?;
        Ok(StateDir {
            dir: root.join(STATE_DIR),
            root,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    pub fn objects(&self) -> ObjectStore {
        ObjectStore::new(self.dir.join("objects"))
    }

    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    pub fn journal(&self) -> Result<Journal, StateError> {
        Ok(Journal::read(&self.journal_path())?)
    }

    /// Runs `work` holding the state lock. Another pullover holding it makes
    /// this fail at once with who holds it; a holder that died released it
    /// (flock), and what it left behind is reported in `stale`.
    pub fn with_lock<T, E: From<StateError>>(
        &self,
        command: &str,
        work: impl FnOnce(&Locked<'_>, Option<String>) -> Result<T, E>,
    ) -> Result<T, E> {
        fs::create_dir_all(&self.dir).map_err(io_err(format!("cannot create {}", self.dir.display())))?;
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        let mut lock = fd_lock::RwLock::new(file);
        let mut guard = match lock.try_write() {
            Ok(guard) => guard,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let holder = if holder.trim().is_empty() {
                    "holder unknown".to_string()
                } else {
                    holder.trim().to_string()
                };
                return Err(StateError::Busy { holder }.into());
            }
            Err(e) => return Err(io_err(format!("cannot lock {}", path.display()))(e).into()),
        };
        // A holder line left in the file means its owner died holding the lock.
        let mut previous = String::new();
        let _ = guard.read_to_string(&mut previous);
        let stale = (!previous.trim().is_empty()).then(|| previous.trim().to_string());
        let me = format!(
            "pid {} running `pullover {command}` since {}",
            std::process::id(),
            now()
        );
        write_holder(&mut guard, &me).map_err(io_err("cannot write the lock file"))?;
        let result = work(&Locked { state: self }, stale);
        let _ = write_holder(&mut guard, "");
        drop(guard);
        result
    }

    /// Where a managed file really is: through a symlink (inside the stack) to
    /// its target, so writes keep the link.
    pub fn real_path(&self, rel: &RelPath) -> Result<PathBuf, StateError> {
        let path = self.root.join(rel.as_str());
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let real = fs::canonicalize(&path).map_err(io_err(format!("cannot resolve the symlink {rel}")))?;
                if !real.starts_with(&self.root) {
                    return Err(StateError::OutsideRoot {
                        path: rel.clone(),
                        real: real.display().to_string(),
                    });
                }
                Ok(real)
            }
            _ => {
                // A path through a symlinked folder must not lead outside either.
                if let Some(parent) = path.parent().and_then(|p| fs::canonicalize(p).ok())
                    && !parent.starts_with(&self.root)
                {
                    return Err(StateError::OutsideRoot {
                        path: rel.clone(),
                        real: parent.display().to_string(),
                    });
                }
                Ok(path)
            }
        }
    }

    /// The hash and mode of a managed file as it is on disk, `None` if absent.
    pub fn disk_blob(&self, rel: &RelPath) -> Result<Option<Blob>, StateError> {
        let path = self.real_path(rel)?;
        match fs::read(&path) {
            Ok(bytes) => {
                let mode = fs::metadata(&path)
                    .map_err(io_err(format!("cannot stat {rel}")))?
                    .mode()
                    & 0o7777;
                Ok(Some(Blob {
                    sha256: sha256_hex(&bytes),
                    mode,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {rel}"))(e)),
        }
    }

    pub fn read_disk(&self, rel: &RelPath) -> Result<Option<Vec<u8>>, StateError> {
        let path = self.real_path(rel)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {rel}"))(e)),
        }
    }
}

fn write_holder(file: &mut File, text: &str) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(io::SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

pub fn current_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        // SAFETY: getuid(2) cannot fail and has no preconditions.
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}
