//! What can stop a build (`BuildError`) and what it reports without stopping (`Warning`).

use std::fmt;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

/// A build that cannot complete. The previous output is always left as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("input directory `{path}` does not exist", path = path.display())]
    InputMissing { path: PathBuf },
    #[error("input `{path}` is not a directory", path = path.display())]
    InputNotDirectory { path: PathBuf },
    #[error(
        "output `{output}` is inside the input `{input}`; hint: choose an output outside the input, such as `build` beside it",
        output = output.display(), input = input.display()
    )]
    OutputInsideInput { output: PathBuf, input: PathBuf },
    #[error(
        "input `{input}` is inside the output `{output}`; hint: choose an output that does not contain the input",
        output = output.display(), input = input.display()
    )]
    InputInsideOutput { output: PathBuf, input: PathBuf },
    #[error(
        "output `{path}` exists and is not an assetc build (it has no `assetc-manifest.json`); hint: remove it or choose another `--output`",
        path = path.display()
    )]
    NotABuild { path: PathBuf },
    #[error(
        "the previous build's record `{path}` cannot be read; hint: remove the output directory and build again",
        path = path.display()
    )]
    PreviousManifest {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The operating system's reason is the error's source (printed after it in a chain).
    #[error("`{path}`", path = path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "`{path}` is not a regular file (a FIFO, socket or device); hint: remove it or add it to the excludes",
        path = path.display()
    )]
    NotAFile { path: PathBuf },
    #[error(
        "the file name `{path}` is not valid UTF-8, so no URL can name it; hint: rename it or add it to the excludes",
        path = path.display()
    )]
    NonUtf8Name { path: PathBuf },
    #[error(
        "the file name `{path}` cannot be a URL path; hint: rename it or add it to the excludes",
        path = path.display()
    )]
    InvalidName {
        path: PathBuf,
        source: assetc_core::LogicalPathError,
    },
    #[error(
        "`{path}` has the name of the manifest the build writes; hint: rename it or add it to the excludes",
        path = path.display()
    )]
    ManifestNameTaken { path: PathBuf },
    #[error(
        "`{path}` changed while it was being built; hint: build again once it is no longer being written",
        path = path.display()
    )]
    ChangedDuringBuild { path: PathBuf },
    #[error(
        "another assetc build or clean of `{output}` is running; hint: wait for it to finish",
        output = output.display()
    )]
    Busy { output: PathBuf },
    #[error("`{a}` and `{b}` would both be served as `{served}`; hint: rename one of them")]
    NameClash {
        a: String,
        b: String,
        served: String,
    },
    #[error("invalid glob `{glob}`: {message}")]
    Glob { glob: String, message: String },
    #[error("invalid base URL `{base_url}`: {message}")]
    BaseUrl { base_url: String, message: String },
    #[error("cannot rewrite `{path}`")]
    Rewrite {
        path: String,
        source: crate::scan::RewriteError,
    },
    #[error("{} warning{} and --strict is set", warnings.len(), if warnings.len() == 1 { "" } else { "s" })]
    Strict { warnings: Vec<Warning> },
}

impl BuildError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Something the build noticed and worked around. `--strict` turns any warning into a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The source file (logical path), or the input path for walk warnings.
    pub file: String,
    /// 1-based position of the reference, when the warning is about one.
    pub line: Option<u32>,
    pub column: Option<u32>,
    #[serde(flatten)]
    pub kind: WarningKind,
}

/// What a warning is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningKind {
    /// A local reference to a file that is not in the input.
    BrokenReference { reference: String, resolved: String },
    /// A reference whose `..` segments climb above the input root.
    OutsideRoot { reference: String },
    /// A root-relative subresource outside the path base URL the build is served under
    /// (`/x.css` with `--base-url /en/latest/`): a URL of the host, not a file of the build.
    /// (A link out of it, `<a href="/">`, is external, as `https://…` is.)
    /// `path` is its decoded path from the host root, without the leading `/` (what
    /// `--ignore-reference` globs match).
    OutsideBase {
        reference: String,
        base_url: String,
        path: String,
    },
    /// A reference whose percent-encoding does not decode to UTF-8.
    Undecodable { reference: String },
    /// A symlink to somewhere outside the input, not followed.
    SymlinkOutsideRoot { target: String },
    /// A symlink that points at nothing, or at one of its own ancestors.
    BrokenSymlink { message: String },
    /// A file whose text could not be rewritten (for example an unsupported encoding).
    NotRewritten { message: String },
}

/// Something the build noticed that may be fine: `--strict` never fails on a note. A warning
/// is a problem the build knows of (a reference it could not resolve); a note is evidence
/// that needs a person's judgement, such as a string that looks like a URL code fetches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The source file (logical path).
    pub file: String,
    /// 1-based position of what the note is about.
    pub line: u32,
    pub column: u32,
    #[serde(flatten)]
    pub kind: NoteKind,
}

/// What a note is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoteKind {
    /// A string in JavaScript, JSON or an inline script (not a reference the build rewrites)
    /// that names `target`, a file the build serves as `served`: code that fetches it by
    /// that name at run time gets it only where logical paths are answered (`assetc serve`,
    /// `--logical-paths`), and a 404 from any other static host. `others` counts further
    /// files the string could name (it was matched as a path suffix).
    RuntimeUrl {
        string: String,
        target: String,
        served: String,
        others: usize,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        match &self.kind {
            NoteKind::RuntimeUrl {
                string,
                target,
                served,
                others,
            } => {
                write!(f, ": the string `{string}` names `{target}`")?;
                if *others > 0 {
                    write!(
                        f,
                        " (or {others} other file{})",
                        if *others == 1 { "" } else { "s" }
                    )?;
                }
                write!(
                    f,
                    ", served as `{served}`: code fetching it by this name gets a 404 from a static host (keep its name with `--already-hashed` or `--entry-point`, or add `--logical-paths link`)"
                )
            }
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        match &self.kind {
            WarningKind::BrokenReference {
                reference,
                resolved,
            } => write!(
                f,
                ": reference `{reference}` resolves to `{resolved}`, which is not in the input"
            ),
            WarningKind::OutsideRoot { reference } => {
                write!(f, ": reference `{reference}` leaves the input root")
            }
            WarningKind::OutsideBase {
                reference,
                base_url,
                ..
            } => write!(
                f,
                ": reference `{reference}` is outside the base URL `{base_url}` the build is served under, so it names no file of the build and is left as written (write it under `{base_url}` or relative, or `--ignore-reference` it if another server answers it)"
            ),
            WarningKind::Undecodable { reference } => {
                write!(
                    f,
                    ": reference `{reference}` does not percent-decode to UTF-8"
                )
            }
            WarningKind::SymlinkOutsideRoot { target } => {
                write!(
                    f,
                    ": symlink to `{target}`, outside the input, not followed"
                )
            }
            WarningKind::BrokenSymlink { message } => {
                write!(f, ": symlink not followed: {message}")
            }
            WarningKind::NotRewritten { message } => write!(f, ": not rewritten: {message}"),
        }
    }
}
