//! Cgroup v2 paths by id. The probe names a process's cgroup by the id of
//! its cgroup2 cgroup, which is the inode number of the cgroup's directory
//! in the cgroup2 file system; tenants' scopes select by path
//! (`cgroup_prefixes`). An id not known yet is looked up in the process's
//! own `/proc/PID/cgroup` (one read and one stat); failing that, the map is
//! read again off the whole cgroup2 mount, at most every [`RESCAN_EVERY`].

use rustc_hash::FxHashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The least time between two reads of the cgroup2 tree.
const RESCAN_EVERY: Duration = Duration::from_millis(200);

/// The most cgroups mapped (a host has hundreds to a few thousand).
const MAX_CGROUPS: usize = 65_536;

/// The deepest cgroup read.
const MAX_DEPTH: usize = 32;

/// Cgroup2 paths (as in `/proc/PID/cgroup`'s `0::` line) by cgroup id.
#[derive(Debug, Default)]
pub struct CgroupPaths {
    paths: FxHashMap<u64, Arc<str>>,
    last_scan: Option<Instant>,
    /// Ids looked up in vain, and when: not looked up again for
    /// [`RETRY_AFTER`] (a process in a cgroup this engine cannot see must
    /// not cost a file read per event).
    misses: FxHashMap<u64, Instant>,
}

/// How long an id looked up in vain is not looked up again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the cgroup2 file system is mounted, as this process sees it
/// (found once).
fn mount() -> Option<&'static Path> {
    static MOUNT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    MOUNT
        .get_or_init(|| cgroup2_mount(Path::new("/proc/self/mountinfo")))
        .as_deref()
}

/// The id of the cgroup at `path` (`/proc/PID/cgroup`'s form): for a
/// process read from `/proc`.
pub fn id_of(path: &str) -> Option<u64> {
    let dir = mount()?.join(path.trim_start_matches('/'));
    std::fs::metadata(dir).ok().map(|m| m.ino())
}

/// The cgroup2 path in the text of a `/proc/PID/cgroup` file.
pub fn path_in(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

impl CgroupPaths {
    /// The path of cgroup `id` of process `pid` (`proc`: where `/proc`
    /// is mounted; `None`: unknown, or no cgroup2 mount).
    pub fn path(&mut self, id: u64, pid: u32, proc: &Path) -> Option<Arc<str>> {
        if id == 0 {
            return None;
        }
        if let Some(p) = self.paths.get(&id) {
            return Some(Arc::clone(p));
        }
        if self
            .misses
            .get(&id)
            .is_some_and(|t| t.elapsed() < RETRY_AFTER)
        {
            return None;
        }
        let found = self.look_up(id, pid, proc);
        if found.is_none() {
            if self.misses.len() >= MAX_CGROUPS {
                self.misses.clear();
            }
            self.misses.insert(id, Instant::now());
        }
        found
    }

    /// An id not in the map: in the process's `/proc/PID/cgroup`, else in
    /// the whole tree (read again at most every [`RESCAN_EVERY`]).
    fn look_up(&mut self, id: u64, pid: u32, proc: &Path) -> Option<Arc<str>> {
        // the process's own view, while it lives
        let text = std::fs::read_to_string(proc.join(pid.to_string()).join("cgroup"));
        if let Some(path) = text.ok().as_deref().and_then(path_in)
            && id_of(path) == Some(id)
        {
            let path: Arc<str> = normal(path).into();
            if self.paths.len() < MAX_CGROUPS {
                self.paths.insert(id, Arc::clone(&path));
            }
            return Some(path);
        }
        if self.last_scan.is_some_and(|t| t.elapsed() < RESCAN_EVERY) {
            return None;
        }
        self.scan();
        self.paths.get(&id).cloned()
    }

    /// Reads the whole tree again.
    fn scan(&mut self) {
        self.last_scan = Some(Instant::now());
        let Some(mount) = mount().map(Path::to_path_buf) else {
            return;
        };
        let mut paths = FxHashMap::default();
        let mut todo = vec![(mount.clone(), String::from("/"), 0)];
        while let Some((dir, path, depth)) = todo.pop() {
            let Ok(meta) = std::fs::metadata(&dir) else {
                continue;
            };
            paths.insert(meta.ino(), Arc::from(path.as_str()));
            if depth >= MAX_DEPTH || paths.len() >= MAX_CGROUPS {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir())
                    && let Some(name) = e.file_name().to_str()
                {
                    let child = match path.as_str() {
                        "/" => format!("/{name}"),
                        p => format!("{p}/{name}"),
                    };
                    todo.push((e.path(), child, depth + 1));
                }
            }
        }
        self.paths = paths;
    }
}

/// A cgroup path without a trailing `/` (but `/` itself).
pub fn normal(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    }
}

/// Whether cgroup `path` is `prefix` or below it (component-wise:
/// `/a` covers `/a` and `/a/b`, not `/ab`).
pub fn under(path: &str, prefix: &str) -> bool {
    let prefix = normal(prefix);
    prefix == "/"
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The mount point of the cgroup2 file system in a `mountinfo` file.
fn cgroup2_mount(mountinfo: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(mountinfo).ok()?;
    text.lines().find_map(|l| {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        let (head, tail) = l.split_once(" - ")?;
        (tail.split_whitespace().next()? == "cgroup2")
            .then(|| head.split_whitespace().nth(4).map(unescape))
            .flatten()
    })
}

/// A `mountinfo` path field: octal escapes (`\040` for a space) decoded.
fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_whole_components() {
        assert!(under("/a/b", "/a"));
        assert!(under("/a", "/a/"));
        assert!(under("/a/b", "/"));
        assert!(!under("/ab", "/a"));
        assert!(!under("/", "/a"));
        assert_eq!(normal("/x/"), "/x");
        assert_eq!(normal("/"), "/");
    }

    #[test]
    fn the_cgroup2_mount_is_found_in_mountinfo() {
        let d = std::env::temp_dir().join(format!("fw-cg-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("mountinfo");
        std::fs::write(
            &f,
            "25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n\
             31 25 0:26 / /sys/fs/cgroup/un\\040ified rw shared:9 - cgroup2 cgroup2 rw\n",
        )
        .unwrap();
        assert_eq!(
            cgroup2_mount(&f),
            Some(PathBuf::from("/sys/fs/cgroup/un ified"))
        );
        std::fs::write(&f, "25 30 0:23 / /sys rw - sysfs sysfs rw\n").unwrap();
        assert_eq!(cgroup2_mount(&f), None);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn ids_are_the_inodes_of_the_cgroup2_directories() {
        let mut c = CgroupPaths::default();
        let Some(mount) = mount() else {
            eprintln!("SKIPPED: no cgroup2 file system mounted here");
            return;
        };
        let root = std::fs::metadata(mount).unwrap().ino();
        let proc = Path::new("/proc");
        assert_eq!(c.path(root, 1, proc).as_deref(), Some("/"));
        assert_eq!(id_of("/"), Some(root));
        assert_eq!(c.path(u64::MAX, 1, proc), None, "an unknown id");
        // this process's own cgroup, through /proc/self's view
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let own = path_in(&own).unwrap();
        let id = id_of(own).unwrap();
        let mut fresh = CgroupPaths::default();
        let me = std::process::id();
        assert_eq!(fresh.path(id, me, proc).as_deref(), Some(normal(own)));
        assert_eq!(path_in("1:cpu:/\n0::/a/b.scope\n"), Some("/a/b.scope"));
    }
}
