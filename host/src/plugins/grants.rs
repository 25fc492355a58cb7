//! Turning grants into what the sandbox sees: the implicit grant of a
//! local open param (canonical, never the whole file system), and single
//! files granted without their directories.
//!
//! WASI grants directories. A file granted alone is shown to the plugin in
//! a private directory of the engine's, mounted at the file's own
//! directory path inside the sandbox and holding a hard link to the file,
//! so that its siblings stay out of reach. The file is opened without
//! following a symlink and must be a regular file; the link is made to
//! what was opened (a copy of it, up to [`MAX_COPY`], when it is on
//! another file system than the temporary directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a local open param grants: the canonical path (symlinks, `..` and
/// `/proc/*/root` resolved) and whether it is a directory. `None` when it
/// names nothing, or resolves to `/`.
#[derive(Debug, PartialEq, Eq)]
pub enum Implicit {
    /// Grant this directory.
    Dir(PathBuf),
    /// Grant this file alone.
    File(PathBuf),
    /// Grant nothing: the path resolves to the root of the file system.
    Root(PathBuf),
}

/// The grant a local open param implies (`None`: not a local path, or
/// nothing there).
pub fn implicit(open_params: &str) -> Option<Implicit> {
    if open_params.is_empty() || open_params.contains("://") {
        return None;
    }
    let p = std::fs::canonicalize(open_params).ok()?;
    if p.parent().is_none() {
        return Some(Implicit::Root(p));
    }
    let meta = std::fs::metadata(&p).ok()?;
    if meta.is_dir() {
        Some(Implicit::Dir(p))
    } else {
        Some(Implicit::File(p))
    }
}

/// The largest file copied when it cannot be linked.
pub const MAX_COPY: u64 = 64 << 20;

/// Why a file could not be granted alone.
#[derive(Debug, thiserror::Error)]
#[error("cannot grant {file} alone: {source}")]
pub struct FileGrantError {
    file: String,
    source: std::io::Error,
}

/// Puts `file` (a regular file, not through a symlink) into `dir`.
fn show(file: &Path, dir: &Path) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::open(file, flags, Mode::empty())?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(std::io::Error::other("not a regular file"));
    }
    let to = dir.join(file.file_name().unwrap_or_default());
    let opened = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&fd));
    if rustix::fs::linkat(CWD, opened.as_str(), CWD, &to, AtFlags::SYMLINK_FOLLOW).is_ok() {
        return Ok(());
    }
    if st.st_size as u64 > MAX_COPY {
        return Err(std::io::Error::other(format!(
            "it is on another file system than {} and larger than {MAX_COPY} bytes (set TMPDIR \
             to a directory on its file system, or grant its directory with grants.read_dirs)",
            dir.display()
        )));
    }
    let mut src = std::fs::File::from(fd);
    rustix::fs::fcntl_setfl(&src, OFlags::empty())?;
    let mut dst = std::fs::File::create_new(&to)?;
    std::io::copy(&mut std::io::Read::take(&mut src, MAX_COPY), &mut dst)?;
    Ok(())
}

/// Private directories that show granted files alone; removed when
/// dropped.
#[derive(Debug, Default)]
pub struct FileViews {
    /// (directory on the host, path it is seen at inside the sandbox).
    pub dirs: Vec<(PathBuf, PathBuf)>,
}

impl FileViews {
    /// One private directory per parent directory of `files`, holding them.
    pub fn new(files: &[PathBuf]) -> Result<FileViews, FileGrantError> {
        let mut by_parent: BTreeMap<&Path, Vec<&Path>> = BTreeMap::new();
        for f in files {
            if let Some(parent) = f.parent() {
                by_parent.entry(parent).or_default().push(f);
            }
        }
        let mut views = FileViews::default();
        for (parent, files) in by_parent {
            let err = |file: &Path, source| FileGrantError {
                file: file.display().to_string(),
                source,
            };
            let dir = private_dir().map_err(|e| err(parent, e))?;
            views.dirs.push((dir.clone(), parent.to_path_buf()));
            for f in files {
                show(f, &dir).map_err(|e| err(f, e))?;
            }
        }
        Ok(views)
    }
}

impl Drop for FileViews {
    fn drop(&mut self) {
        for (dir, _) in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A new directory only we can use, under the temporary directory.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "falco-wasm-grant-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_grants_are_canonical_and_never_the_root() {
        let base = std::env::temp_dir().join(format!("fw-grants-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("logs")).unwrap();
        std::fs::write(base.join("logs/a.json"), b"{}").unwrap();
        let base = base.canonicalize().unwrap();
        assert_eq!(implicit("/tmp/.."), Some(Implicit::Root("/".into())));
        assert_eq!(
            implicit("/proc/self/root"),
            Some(Implicit::Root("/".into()))
        );
        let dotted = format!("{}/logs/../logs", base.display());
        assert_eq!(implicit(&dotted), Some(Implicit::Dir(base.join("logs"))));
        std::os::unix::fs::symlink(base.join("logs"), base.join("link")).unwrap();
        let linked = format!("{}/link/a.json", base.display());
        assert_eq!(
            implicit(&linked),
            Some(Implicit::File(base.join("logs/a.json")))
        );
        assert_eq!(implicit("s3://bucket/x"), None);
        assert_eq!(implicit("/no/such/path"), None);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn a_file_is_shown_without_its_siblings() {
        let base = std::env::temp_dir().join(format!("fw-views-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("granted.json"), b"{}").unwrap();
        std::fs::write(base.join("secret"), b"s").unwrap();
        let views = FileViews::new(&[base.join("granted.json")]).unwrap();
        let (dir, seen_at) = &views.dirs[0];
        assert_eq!(seen_at, &base);
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["granted.json"]);
        let dir = dir.clone();
        drop(views);
        assert!(!dir.exists());
        // Not through a symlink, and only a regular file.
        std::os::unix::fs::symlink(base.join("secret"), base.join("link.json")).unwrap();
        assert!(FileViews::new(&[base.join("link.json")]).is_err());
        assert!(FileViews::new(&[PathBuf::from("/dev/zero")]).is_err());
        let _ = std::fs::remove_dir_all(&base);
    }
}
