//! `user.*` and `group.*` fields: the process's effective user and group,
//! and its login user, named from the process's (container's) user tables.

use super::SyscallEvent;
use super::proc::login_uid;
use crate::filter::value::ValueSink;

impl SyscallEvent<'_> {
    /// `user.*` and `group.*`; false for an unknown name.
    pub(super) fn user_field(&self, base: &str, out: &mut dyn ValueSink) -> bool {
        let Some(p) = self.proc else { return true };
        let db = self.state.users_of(p);
        let uid = p.creds.euid;
        match base {
            "user.uid" => out.num(uid as i64),
            "user.name" => out.bytes(
                db.user(uid)
                    .map_or_else(|| uid.to_string(), |u| u.name.clone())
                    .as_bytes(),
            ),
            "user.homedir" => db
                .user(uid)
                .into_iter()
                .for_each(|u| out.bytes(u.home.as_bytes())),
            "user.shell" => db
                .user(uid)
                .into_iter()
                .for_each(|u| out.bytes(u.shell.as_bytes())),
            "user.loginuid" => out.num(login_uid(p.loginuid)),
            "user.loginname" => {
                if p.loginuid != u32::MAX {
                    out.bytes(
                        db.user(p.loginuid)
                            .map_or_else(|| p.loginuid.to_string(), |u| u.name.clone())
                            .as_bytes(),
                    )
                }
            }
            "group.gid" => out.num(p.creds.egid as i64),
            "group.name" => {
                let g = p.creds.egid;
                out.bytes(
                    db.group(g)
                        .map_or_else(|| g.to_string(), str::to_string)
                        .as_bytes(),
                )
            }
            _ => return false,
        }
        true
    }
}
