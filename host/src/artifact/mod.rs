//! Rules files and plugins as signed OCI artifacts: push (signed), fetch
//! (signature, digests and media types checked before anything is used),
//! install (requirements met, grants accepted, written atomically) and
//! follow (install new versions as they are pushed).
//!
//! The flow: [`push::push`] → registry → [`fetch::fetch`] → [`install::install`],
//! and [`follow::Follower`] runs fetch and install on an interval.

pub mod fetch;
pub mod follow;
pub mod index;
pub mod install;
pub mod layout;
pub mod push;
pub mod reference;
pub mod registry;
pub mod sign;

use std::path::PathBuf;

/// Why an artifact was not pushed, fetched or installed. Nothing is
/// installed or changed on disk when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error(transparent)]
    Key(#[from] sign::SignError),
    /// The artifact is refused (signature, digest, media type, content,
    /// requirements).
    #[error("{reference}: refused: {why}")]
    Refused { reference: String, why: String },
    /// No signature of it could be read (yet: a signature may be pushed
    /// after the tag; follow looks again).
    #[error("{reference}: refused: {why}")]
    Unsigned { reference: String, why: String },
    /// Not in the registry.
    #[error("{reference}: not found{hint}")]
    NotFound { reference: String, hint: String },
    /// What was given to push is not right.
    #[error("{0}")]
    Input(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ArtifactError {
    fn refused(reference: &impl std::fmt::Display, why: impl Into<String>) -> ArtifactError {
        ArtifactError::Refused {
            reference: reference.to_string(),
            why: why.into(),
        }
    }

    fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
        move |source| ArtifactError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
