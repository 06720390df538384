//! Opening pullover's own files in `.pullover/` as what they claim to be.
//!
//! A stack folder is often a clone of someone else's repository, and git
//! stores symlinks: a `.pullover/lock` aimed at `/etc/shadow` must not be
//! read, printed or truncated, and a `.pullover` aimed at another folder must
//! not receive the journal. So the state folder and each folder in it must be a
//! real folder (checked with `symlink_metadata`, never followed), each file is
//! opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a named pipe cannot block the
//! open) and must then be a regular file (checked on the open descriptor), and
//! what is read from one is capped.
//!
//! The threat is a hostile checkout, not a concurrent attacker racing
//! pullover: the folder checks are not atomic with the opens that follow, but
//! the final component of every open is (`O_NOFOLLOW`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a path in `.pullover/` is refused: it is not a real file or folder.
#[derive(Debug)]
pub enum Refused {
    /// A symlink (its target, escaped, as far as it can be read).
    Symlink(String),
    /// Something else than what was expected: "a folder", "a named pipe"…
    Kind(&'static str),
    /// Larger than what pullover reads from this file.
    TooLarge {
        limit: u64,
    },
    Io(io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Symlink(target) => write!(f, "is a symlink (to {target})"),
            Refused::Kind(kind) => write!(f, "is {kind}"),
            Refused::TooLarge { limit } => {
                write!(f, "is larger than the {} pullover reads from it", human_bytes(*limit))
            }
            Refused::Io(e) => write!(f, "cannot be opened: {e}"),
        }
    }
}

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Refused {
        Refused::Io(e)
    }
}

pub fn human_bytes(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn kind_of(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_symlink() {
        "a symlink"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn symlink_refusal(path: &Path) -> Refused {
    let target = fs::read_link(path).map_or_else(|_| "?".to_string(), |t| format!("{:?}", t.display().to_string()));
    Refused::Symlink(target)
}

/// Whether `path` is a real folder: `Ok(false)` when absent, an error when it
/// is a symlink or anything but a folder.
pub fn is_real_dir(path: &Path) -> Result<bool, Refused> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symlink_refusal(path)),
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(meta) => Err(Refused::Kind(kind_of(meta.file_type()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Refused::Io(e)),
    }
}

/// Creates `path` as a real folder unless it is one; returns whether it made it.
/// `mkdir` never follows a symlink, a dangling one included (EEXIST).
pub fn ensure_dir(path: &Path) -> Result<bool, Refused> {
    if is_real_dir(path)? {
        return Ok(false);
    }
    match fs::create_dir(path) {
        Ok(()) => Ok(true),
        // Lost a race, or a dangling symlink: look again and say which.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => is_real_dir(path).map(|_| false),
        Err(e) => Err(Refused::Io(e)),
    }
}

/// Whether `path` is absent (`Ok(false)`) or a regular file (`Ok(true)`);
/// anything else is refused.
pub fn is_regular(path: &Path) -> Result<bool, Refused> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symlink_refusal(path)),
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(Refused::Kind(kind_of(meta.file_type()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Refused::Io(e)),
    }
}

/// Opens a regular file without following a symlink and without blocking on
/// a named pipe; `options` says how (read, append, create…).
/// `Ok(None)` when it does not exist (and `options` does not create it).
pub fn open(path: &Path, options: &mut OpenOptions) -> Result<Option<File>, Refused> {
    let file = match options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // O_NOFOLLOW on a symlink: ELOOP.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(symlink_refusal(path)),
        // A pipe with no reader, opened to write without blocking: ENXIO.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Err(Refused::Kind("a named pipe")),
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => return Err(Refused::Kind("a folder")),
        Err(e) => return Err(Refused::Io(e)),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Refused::Kind(kind_of(meta.file_type())));
    }
    Ok(Some(file))
}

/// Reads at most `limit` bytes of an open file; more is refused.
pub fn read_capped(file: &mut File, limit: u64) -> Result<Vec<u8>, Refused> {
    // Measured first, so a huge file is refused without reading it.
    if file.metadata()?.len() > limit {
        return Err(Refused::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads a whole regular file of at most `limit` bytes; `Ok(None)` when absent.
pub fn read(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Refused> {
    match open(path, OpenOptions::new().read(true))? {
        Some(mut file) => read_capped(&mut file, limit).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_pipes_devices_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "precious").unwrap();
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();
        let opened = open(&link, OpenOptions::new().read(true).write(true).create(true));
        assert!(matches!(opened, Err(Refused::Symlink(_))), "{opened:?}");
        assert!(matches!(is_real_dir(&link), Err(Refused::Symlink(_))));
        assert!(matches!(ensure_dir(&link), Err(Refused::Symlink(_))));
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(matches!(ensure_dir(&dangling), Err(Refused::Symlink(_))));
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");

        let pipe = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&pipe)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(read(&pipe, 10), Err(Refused::Kind("a named pipe"))));
        let append = open(&pipe, OpenOptions::new().append(true));
        assert!(matches!(append, Err(Refused::Kind("a named pipe"))), "{append:?}");
        assert!(matches!(
            read(Path::new("/dev/zero"), 10),
            Err(Refused::Kind("a character device"))
        ));
        assert!(matches!(read(dir.path(), 10), Err(Refused::Kind("a folder"))));
    }

    #[test]
    fn reads_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "12345").unwrap();
        assert_eq!(read(&path, 5).unwrap().unwrap(), b"12345");
        assert!(matches!(read(&path, 4), Err(Refused::TooLarge { limit: 4 })));
        assert!(read(&dir.path().join("absent"), 4).unwrap().is_none());
    }
}
