//! Artifact references: `REGISTRY/REPOSITORY[:TAG][@DIGEST]`, as
//! falcoctl and the container tools write them (`ghcr.io/org/rules:3`,
//! `localhost:5000/plugins/cloudtrail@sha256:…`). The registry is always
//! written out: a bare `rules/cloudtrail` is not guessed to be on some
//! public registry.

use std::fmt;

/// A parsed reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// `path/of/repository`.
    pub repository: String,
    /// The tag (`latest` when neither a tag nor a digest is given).
    pub tag: String,
    /// A pinned manifest digest (`sha256:…`), checked after the pull.
    pub digest: Option<String>,
}

/// Why a reference does not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{reference}' is not an artifact reference ({why}; write REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. localhost:5000/rules/cloudtrail:1)"
)]
pub struct ReferenceError {
    reference: String,
    why: &'static str,
}

impl Reference {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let err = |why| ReferenceError {
            reference: text.to_string(),
            why,
        };
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| err("only sha256 digests"))?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err("a sha256 digest has 64 hex digits"));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (text, None),
        };
        let (registry, path) = rest.split_once('/').ok_or_else(|| err("no registry"))?;
        if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
            return Err(err(
                "the first part must be a registry host (with a dot or a port)",
            ));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (path, None),
        };
        if !valid_repository(repository) {
            return Err(err(
                "repository names are lowercase letters, digits and . _ - /",
            ));
        }
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(err("a tag is up to 128 letters, digits, . _ -"));
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.unwrap_or("latest").to_string(),
            digest,
        })
    }

    /// What the manifest is fetched by: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest.as_deref().unwrap_or(&self.tag)
    }

    /// `registry/repository`, what a signature names.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)?;
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The distribution spec's repository grammar (lowercase components joined
/// by `/`, separators `.`, `_`, `__`, `-` inside a component).
fn valid_repository(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        })
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && (t.as_bytes()[0].is_ascii_alphanumeric() || t.as_bytes()[0] == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_the_container_tools() {
        let r = Reference::parse("localhost:5000/rules/cloudtrail:1.2.0").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "rules/cloudtrail");
        assert_eq!(r.tag, "1.2.0");
        assert_eq!(r.to_string(), "localhost:5000/rules/cloudtrail:1.2.0");
        let r = Reference::parse("ghcr.io/falcosecurity/rules/falco-rules").unwrap();
        assert_eq!((r.tag.as_str(), r.digest.as_deref()), ("latest", None));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("127.0.0.1:5000/p/json@{d}")).unwrap();
        assert_eq!(r.manifest_ref(), d);
        for bad in [
            "rules/cloudtrail",
            "cloudtrail",
            "localhost:5000/Rules",
            "localhost:5000/r:bad/tag",
            "localhost:5000/r@sha256:12",
            "localhost:5000/r:",
            "localhost:5000/-r",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
