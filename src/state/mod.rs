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
pub mod nofollow;
pub mod objects;
pub mod revert;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::changeset::sha256_hex;
use crate::stack::source::RelPath;
use journal::{Blob, Journal, JournalError};
use objects::ObjectStore;

pub const STATE_DIR: &str = ".pullover";

/// How long a busy lock is retried even without `--lock-timeout`.
const MIN_LOCK_RETRY: Duration = Duration::from_millis(250);

/// What is read of the lock file: a holder line is about 100 bytes.
const MAX_LOCK_BYTES: u64 = 4096;

#[derive(Debug, Clone)]
pub struct StateDir {
    /// The stack root (canonical), that managed paths are relative to.
    root: PathBuf,
    dir: PathBuf,
    lock_timeout: Duration,
}

/// Proof that the state lock is held; only [`StateDir::with_lock`] makes one.
pub struct Locked<'a> {
    pub state: &'a StateDir,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("another pullover is working on this stack ({holder}); nothing was changed")]
    Busy { holder: String, waited: Duration },
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
    #[error("cannot write {path}: {problem} for user {user}; nothing was written")]
    NotWritable {
        path: RelPath,
        problem: String,
        user: String,
    },
    #[error("{error}; {}", if *undone { "the files written before it were put back, so every file is as it was" } else { "the next pullover command puts back the files written before it" })]
    WriteFailed { error: Box<StateError>, undone: bool },
    #[error(
        "{path} {problem}; pullover keeps its state only in real files and folders inside the stack, so nothing was read or written there"
    )]
    Unsafe { path: String, problem: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

impl StateError {
    pub fn help(&self) -> Vec<String> {
        match self {
            StateError::Busy { waited, .. } if waited.is_zero() => vec![
                "wait for it to finish and run the command again, or pass --lock-timeout 60s to wait for it".into(),
            ],
            StateError::Busy { waited, .. } => vec![format!(
                "it was still working after {}; wait for it to finish and run the command again",
                humantime::format_duration(*waited)
            )],
            StateError::WriteFailed { error, .. } => error.help(),
            StateError::ChangedSincePlan { .. } => {
                vec!["run the command again to see the plan for the file as it is now".into()]
            }
            StateError::RecoveryConflict { path, .. } => vec![
                format!(
                    "someone edited {path} while the interrupted command ran; compare it with `pullover history` and the snapshots in .pullover/objects"
                ),
                "move your edit aside, restore the file, and run the command again".into(),
            ],
            StateError::Journal(e) => e.help(),
            StateError::NotWritable { .. } => vec![
                "run pullover as the user who owns the stack's files (or with write access to that folder), then run the command again".into(),
            ],
            StateError::Unsafe { path, .. } => vec![format!(
                "{path} did not come from pullover: remove it (`rm {path}` removes a symlink, not its target; `rmdir` a folder), then run the command again"
            )],
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
            lock_timeout: Duration::ZERO,
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

    /// Whether `.pullover` exists, as a real folder (a symlink is an error).
    pub fn exists(&self) -> Result<bool, StateError> {
        nofollow::is_real_dir(&self.dir).map_err(self.refused(&self.dir))
    }

    /// The error for a path of the state folder that is not what it must be.
    fn refused(&self, path: &Path) -> impl FnOnce(nofollow::Refused) -> StateError {
        let shown = path.strip_prefix(&self.root).unwrap_or(path).display().to_string();
        move |refused| match refused {
            nofollow::Refused::Io(source) if source.kind() == io::ErrorKind::PermissionDenied => {
                match RelPath::new(shown.clone()) {
                    Ok(path) => StateError::NotWritable {
                        path,
                        problem: "permission denied".to_string(),
                        user: current_user(),
                    },
                    Err(_) => StateError::Io {
                        context: format!("cannot open {shown}"),
                        source,
                    },
                }
            }
            nofollow::Refused::Io(source) => StateError::Io {
                context: format!("cannot open {shown}"),
                source,
            },
            refused => StateError::Unsafe {
                path: shown,
                problem: refused.to_string(),
            },
        }
    }

    /// Checks that `.pullover` and each file and folder pullover keeps in it
    /// is what it must be (a real folder, regular files), so every command
    /// refuses a planted symlink, pipe or device the same way, before it reads
    /// or writes anything there. Returns whether `.pullover` exists.
    pub fn check_layout(&self) -> Result<bool, StateError> {
        if !self.exists()? {
            return Ok(false);
        }
        for file in [
            self.lock_path(),
            self.journal_path(),
            journal::head_path(&self.journal_path()),
        ] {
            nofollow::is_regular(&file).map_err(self.refused(&file))?;
        }
        let objects = self.dir.join("objects");
        nofollow::is_real_dir(&objects).map_err(self.refused(&objects))?;
        Ok(true)
    }

    /// The journal, verified; empty when there is none.
    pub fn journal(&self) -> Result<Journal, StateError> {
        if !self.check_layout()? {
            return Ok(Journal::default());
        }
        Ok(Journal::read(&self.journal_path())?)
    }

    /// How long [`StateDir::with_lock`] waits for another pullover to finish
    /// before refusing; zero (the default) refuses at once.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> StateDir {
        self.lock_timeout = timeout;
        self
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// Runs `work` holding the state lock. While another pullover holds it this
    /// waits up to the lock timeout, then fails naming the holder. A holder that
    /// died released it (flock); the line it left behind is explained in
    /// `stale`.
    pub fn with_lock<T, E: From<StateError>>(
        &self,
        command: &str,
        work: impl FnOnce(&Locked<'_>, Option<String>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.check_layout()?;
        let created_dir = nofollow::ensure_dir(&self.dir).map_err(self.refused(&self.dir))?;
        let journal_len = || fs::symlink_metadata(self.journal_path()).ok().map(|m| m.len());
        let journal_before = journal_len();
        let path = self.lock_path();
        // Looked at before it is opened, so not even a device is opened.
        let created_lock = !nofollow::is_regular(&path).map_err(self.refused(&path))?;
        let file = nofollow::open(
            &path,
            OpenOptions::new().create(true).truncate(false).read(true).write(true),
        )
        .map_err(self.refused(&path))?
        .ok_or_else(|| StateError::Io {
            context: format!("cannot create {}", path.display()),
            source: io::Error::from(io::ErrorKind::NotFound),
        })?;
        let mut lock = fd_lock::RwLock::new(file);
        let started = Instant::now();
        let mut waiting = false;
        let mut guard = loop {
            match lock.try_write() {
                Ok(guard) => break guard,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let holder = read_holder(&path);
                    // Even with no timeout, retry briefly: `status` takes a
                    // shared lock for an instant to look, which must not make
                    // an apply refuse.
                    if started.elapsed() >= self.lock_timeout.max(MIN_LOCK_RETRY) {
                        return Err(StateError::Busy {
                            holder: holder.unwrap_or_else(|| "holder unknown".into()),
                            waited: self.lock_timeout,
                        }
                        .into());
                    }
                    if !waiting && !self.lock_timeout.is_zero() {
                        waiting = true;
                        eprintln!(
                            "note: waiting up to {} for the other pullover ({}) to finish",
                            humantime::format_duration(self.lock_timeout),
                            holder.as_deref().unwrap_or("holder unknown")
                        );
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(io_err(format!("cannot lock {}", path.display()))(e).into()),
            }
        };
        // A holder line left in the file means its owner died holding the lock.
        let previous = nofollow::read_capped(&mut guard, MAX_LOCK_BYTES).unwrap_or_default();
        let stale = Holder::parse(&previous).map(|h| h.explain_stale());
        let me = format!(
            "pid {} running `pullover {command}` since {}",
            std::process::id(),
            now()
        );
        write_holder(&mut guard, &me).map_err(io_err("cannot write the lock file"))?;
        failpoint::hit("lock-acquired");
        let result = work(&Locked { state: self }, stale);
        let _ = write_holder(&mut guard, "");
        // A command that failed without journaling anything leaves no trace:
        // neither the lock file it made nor the folder it made for it (which
        // stays if a snapshot was written: the next apply collects it).
        if result.is_err() && created_lock && journal_len() == journal_before {
            let _ = fs::remove_file(&path);
            if created_dir {
                let _ = fs::remove_dir(&self.dir);
            }
        }
        drop(guard);
        result
    }

    /// Whether another pullover holds the lock now, or one died holding it.
    /// Takes no lock and writes nothing (for `status`).
    pub fn lock_state(&self) -> Result<LockState, StateError> {
        if !self.exists()? {
            return Ok(LockState::Free);
        }
        let path = self.lock_path();
        if !nofollow::is_regular(&path).map_err(self.refused(&path))? {
            return Ok(LockState::Free);
        }
        let Some(mut file) = nofollow::open(&path, OpenOptions::new().read(true)).map_err(self.refused(&path))? else {
            return Ok(LockState::Free);
        };
        let holder = nofollow::read_capped(&mut file, MAX_LOCK_BYTES)
            .ok()
            .and_then(|bytes| Holder::parse(&bytes));
        let lock = fd_lock::RwLock::new(file);
        let held = matches!(lock.try_read(), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        Ok(match (held, holder) {
            (true, holder) => LockState::Held {
                holder: holder.map_or_else(|| "holder unknown".into(), |h| h.line),
            },
            (false, Some(holder)) => LockState::Stale {
                explanation: holder.explain_stale(),
            },
            (false, None) => LockState::Free,
        })
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

/// Who holds (or held) the lock, from its holder line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    Free,
    /// Another pullover is working on the stack now.
    Held {
        holder: String,
    },
    /// A pullover died holding the lock; says which and whether it still runs.
    Stale {
        explanation: String,
    },
}

/// The line a lock holder writes: `pid 123 running `pullover apply` since …`.
struct Holder {
    line: String,
    pid: Option<i32>,
}

impl Holder {
    /// The line pullover wrote; anything else in the lock file (it may have
    /// come with a cloned repository) is never printed: it becomes "holder
    /// unknown".
    fn parse(bytes: &[u8]) -> Option<Holder> {
        let text = std::str::from_utf8(bytes).ok()?;
        let line = text.trim();
        if line.is_empty() {
            return None;
        }
        let written_by_pullover = line.len() <= 512
            && !line.chars().any(char::is_control)
            && line.contains(" running `pullover ")
            && line.contains("` since ");
        let pid = line
            .strip_prefix("pid ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|pid| pid.parse().ok())
            .filter(|_| written_by_pullover);
        Some(match pid {
            Some(pid) => Holder {
                line: line.to_string(),
                pid: Some(pid),
            },
            None => Holder {
                line: format!(
                    "holder unknown: the lock file holds {} bytes pullover did not write",
                    bytes.len()
                ),
                pid: None,
            },
        })
    }

    fn explain_stale(&self) -> String {
        let fate = match self.pid.map(process_is_running) {
            Some(false) => "it is no longer running: it crashed or was killed",
            _ => "it probably crashed",
        };
        format!(
            "the previous pullover ({}) ended without releasing its lock; {fate}",
            self.line
        )
    }
}

/// Whether a process with this pid exists (it may be another program that
/// got the pid since; then this errs on the side of "running").
fn process_is_running(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks for existence; no memory is touched.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn read_holder(path: &Path) -> Option<String> {
    let bytes = nofollow::read(path, MAX_LOCK_BYTES).ok()??;
    Holder::parse(&bytes).map(|h| h.line)
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
        .unwrap_or_else(user_of_uid)
}

/// The login name of the process's user from the password database (`root`), or `uid N`
/// when it has no entry (a container's arbitrary uid).
fn user_of_uid() -> String {
    // SAFETY: getuid(2) cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is a valid value for getpwuid_r to fill.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, buf's length is passed, and the strings
    // it fills live in buf, read below while buf is alive.
    let rc = unsafe { libc::getpwuid_r(uid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() && !entry.pw_name.is_null() {
        // SAFETY: getpwuid_r succeeded, so pw_name is a NUL-terminated string inside buf.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) }
            .to_string_lossy()
            .into_owned();
        if !name.is_empty() {
            return name;
        }
    }
    format!("uid {uid}")
}
