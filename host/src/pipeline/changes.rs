//! The tenants API's changes, applied: a tenant's files in `tenants_dir`
//! written (or removed), then a reload that must load that tenant; if it
//! does not, the files are put back as they were and nothing changed.

use super::hosting::Hosting;
use super::{Pipeline, SetupError};
use crate::server::api::{Change, ChangeKind};
use crate::tenants::TenantSpec;
use crate::tenants::spec::{entry_file, rules_file, tenants, tenants_dir};
use std::path::{Path, PathBuf};

/// A file's content before a change (`None`: it was not there).
struct Saved(PathBuf, Option<Vec<u8>>);

impl Saved {
    fn take(path: PathBuf) -> Saved {
        let old = std::fs::read(&path).ok();
        Saved(path, old)
    }

    fn restore(&self) {
        let _ = match &self.1 {
            Some(old) => std::fs::write(&self.0, old),
            None => std::fs::remove_file(&self.0),
        };
    }
}

impl Pipeline<'_> {
    /// Applies one change and answers it.
    pub(super) fn change_tenant(&self, c: Change, hosting: &mut Hosting<'_, '_>) {
        let answer = self.try_change(&c, hosting);
        let said = format!("tenants API: tenant '{}': {}", c.name, answer.1);
        if answer.0 < 300 {
            crate::log::info(&said);
        } else {
            crate::log::error(&said);
        }
        let _ = c.reply.send(answer);
    }

    fn try_change(&self, c: &Change, hosting: &mut Hosting<'_, '_>) -> (u16, String) {
        let config = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Ok(Some(dir)) = tenants_dir(&config) else {
            return (
                409,
                "tenants_dir is not configured: the API has nowhere to keep tenants".into(),
            );
        };
        let name = c.name.as_str();
        let listed = tenants(&config).unwrap_or_default();
        let current = listed.iter().find(|t| t.name == name);
        if current.is_some_and(|t| t.file.is_none()) {
            return (
                409,
                format!("tenant '{name}' is defined in the configuration file: change it there"),
            );
        }
        let (entry, rules) = (entry_file(&dir, name), rules_file(&dir, name));
        let own_rules = |t: &TenantSpec| {
            t.config.rules_files.is_empty() || t.config.rules_files == [rules.clone()]
        };
        if matches!(c.kind, ChangeKind::Rules(_)) && current.is_some_and(|t| !own_rules(t)) {
            return (
                409,
                format!("tenant '{name}' names its rules_files: its entry chooses its rules"),
            );
        }
        let existed = entry.is_file();
        let saved = [Saved::take(entry.clone()), Saved::take(rules.clone())];
        let written = match &c.kind {
            ChangeKind::Entry(text) => write(&dir, &entry, text),
            ChangeKind::Rules(_) | ChangeKind::Remove if !existed => {
                return (404, format!("no tenant '{name}' in {}", dir.display()));
            }
            ChangeKind::Rules(text) => write(&dir, &rules, text),
            ChangeKind::Remove => {
                std::fs::remove_file(&entry).and_then(|()| std::fs::remove_file(&rules).or(Ok(())))
            }
        };
        if let Err(e) = written {
            saved.iter().for_each(Saved::restore);
            return (500, format!("cannot write in {}: {e}", dir.display()));
        }
        match self.reload_with(c, hosting) {
            Ok(_) if !entry.is_file() => (200, "removed".into()),
            Ok(rules) if existed => (200, format!("updated; {rules} rule(s) enabled")),
            Ok(rules) => (201, format!("added; {rules} rule(s) enabled")),
            Err(e) => {
                saved.iter().for_each(Saved::restore);
                (400, e)
            }
        }
    }

    /// A reload that must load the changed tenant (unless it was removed
    /// or disabled); its rules enabled, or why not (nothing applied then;
    /// a tenant hears only about its own files).
    fn reload_with(&self, c: &Change, hosting: &mut Hosting<'_, '_>) -> Result<usize, String> {
        let s = (self.reload)().map_err(|e| match c.admin {
            true => e.to_string(),
            false => "the engine's configuration does not load now (its log says why)".into(),
        })?;
        if let Some(e) = s
            .failed_tenants
            .iter()
            .find(|e| e.tenant() == Some(&c.name))
        {
            // a tenant hears about its rules; its plugins and outputs are
            // the admin's (their paths and grants stay in the log)
            return Err(match (c.admin, e) {
                (false, SetupError::Tenant { source, .. })
                    if !matches!(**source, SetupError::Rules(_)) =>
                {
                    format!(
                        "tenant '{}': its plugins or outputs do not load now (the engine's log \
                         says why)",
                        c.name
                    )
                }
                _ => e.to_string(),
            });
        }
        let rules = s
            .tenants
            .iter()
            .find(|t| t.spec.name == c.name)
            .map_or(0, super::TenantSetup::active_count);
        let all = self.apply(s, hosting)?;
        self.reloaded(all);
        Ok(rules)
    }
}

fn write(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(path, text)
}
