//! Why a build cannot be served ([`LoadError`]). Every message names the path or value at
//! fault; the operating system's reason is the error's source, printed once after it.

use std::path::PathBuf;

/// Why a build cannot be served. Every message names the path or value at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("cannot read the build root `{root}`; hint: run `assetc build` first", root = root.display())]
    Root {
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("the build root `{root}` is not a directory", root = root.display())]
    RootNotADirectory { root: PathBuf },
    #[error(
        "cannot read the manifest `{path}`; hint: is this a build made by `assetc build`?",
        path = path.display()
    )]
    ManifestRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the manifest `{path}` is not valid", path = path.display())]
    ManifestParse {
        path: PathBuf,
        source: assetc_core::manifest::ManifestError,
    },
    #[error("the manifest entry `{logical}` has the served path `{served}`, which is not a normal relative path")]
    BadServedPath { logical: String, served: String },
    #[error(
        "cannot open `{path}` listed in the manifest; hint: the build is incomplete, rebuild it",
        path = path.display()
    )]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "out of file descriptors opening `{path}`: the build needs more open files than this process may have; hint: raise the limit (`ulimit -n`) or the memory budget",
        path = path.display()
    )]
    TooManyOpenFiles {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` listed in the manifest is not a regular file", path = path.display())]
    NotAFile { path: PathBuf },
    #[error("`{path}` resolves outside the build root `{root}`", path = path.display(), root = root.display())]
    OutsideRoot { path: PathBuf, root: PathBuf },
    #[error(
        "`{path}` is {actual} bytes but the manifest says {expected}; hint: the build changed after it was made, rebuild it",
        path = path.display()
    )]
    SizeMismatch {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("the manifest entry `{logical}` has the invalid {field} `{value}`")]
    BadEntryField {
        logical: String,
        field: &'static str,
        value: String,
    },
    #[error("the manifest entry `{logical}` has a `{coding}` variant whose ETag `{etag}` is also another representation's (each representation needs its own strong ETag)")]
    SharedVariantEtag {
        logical: String,
        coding: String,
        etag: String,
    },
    #[error("`{value}` is not a valid {what} header value")]
    BadHeaderValue { what: String, value: String },
    #[error("`{name}` is not a valid header name")]
    BadHeaderName { name: String },
    #[error("the header rule for `{glob}` sets `{name}`, which the server manages itself")]
    ManagedHeader { glob: String, name: String },
    #[error("`{glob}` is not a valid glob")]
    Glob {
        glob: String,
        source: globset::Error,
    },
    #[error("the fallback page `{logical}` is not in the manifest")]
    UnknownFallback { logical: String },
    #[error("the health path `{path}` must start with `/` and be a plain path")]
    BadHealthPath { path: String },
    #[error("the health path `{path}` is also a file in the build; hint: choose another")]
    HealthPathTaken { path: String },
}

impl LoadError {
    /// A problem with a file the manifest lists (missing, unreadable, of another kind or
    /// size, outside the root), not with the manifest itself: what a request for it could
    /// meet too, and would answer 503.
    pub(crate) fn is_file_problem(&self) -> bool {
        matches!(
            self,
            LoadError::Open { .. }
                | LoadError::TooManyOpenFiles { .. }
                | LoadError::NotAFile { .. }
                | LoadError::OutsideRoot { .. }
                | LoadError::SizeMismatch { .. }
        )
    }
}
