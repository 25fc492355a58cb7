//! User and group names from `/etc/passwd` and `/etc/group`: the host's, and
//! a container's own (read through `/proc/PID/root`) for its processes.

use std::collections::HashMap;
use std::path::Path;

/// One `/etc/passwd` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// The users and groups of one root filesystem.
#[derive(Clone, Debug, Default)]
pub struct UserDb {
    users: HashMap<u32, User>,
    groups: HashMap<u32, String>,
}

impl UserDb {
    /// Reads `ROOT/etc/passwd` and `ROOT/etc/group`; missing files give an empty table.
    pub fn load(root: &Path) -> UserDb {
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
        UserDb::parse(&read("etc/passwd"), &read("etc/group"))
    }

    /// Parses passwd and group contents (malformed lines are skipped).
    pub fn parse(passwd: &str, group: &str) -> UserDb {
        let mut db = UserDb::default();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 7
                && let Ok(uid) = f[2].parse()
            {
                db.users.entry(uid).or_insert_with(|| User {
                    name: f[0].to_string(),
                    home: f[5].to_string(),
                    shell: f[6].to_string(),
                });
            }
        }
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 3
                && let Ok(gid) = f[2].parse()
            {
                db.groups.entry(gid).or_insert_with(|| f[0].to_string());
            }
        }
        db
    }

    /// Every user, by uid.
    pub fn users(&self) -> impl Iterator<Item = (u32, &User)> {
        self.users.iter().map(|(k, v)| (*k, v))
    }

    /// Every group, by gid.
    pub fn groups(&self) -> impl Iterator<Item = (u32, &str)> {
        self.groups.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Adds a user (the first one of a uid stays).
    pub fn add_user(&mut self, uid: u32, user: User) {
        self.users.entry(uid).or_insert(user);
    }

    /// Adds a group (the first one of a gid stays).
    pub fn add_group(&mut self, gid: u32, name: String) {
        self.groups.entry(gid).or_insert(name);
    }

    /// Whether no user was read.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// A user by uid.
    pub fn user(&self, uid: u32) -> Option<&User> {
        self.users.get(&uid)
    }

    /// A group name by gid.
    pub fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_and_group() {
        let db = UserDb::parse(
            "root:x:0:0:root:/root:/bin/bash\nbroken\nwww-data:x:33:33:www:/var/www:/usr/sbin/nologin\n",
            "root:x:0:\nshadow:x:42:\n",
        );
        assert_eq!(db.user(33).unwrap().name, "www-data");
        assert_eq!(db.user(0).unwrap().shell, "/bin/bash");
        assert_eq!(db.group(42), Some("shadow"));
        assert!(db.user(1).is_none());
    }
}
