//! What to build and how ([`BuildOptions`], every default written here once), and the
//! validation of the options that needs no walk: the base URL, and input and output paths
//! that must not contain each other.

use std::fs;
use std::path::{Path, PathBuf};

use globset::GlobSet;

use crate::build::compress::CompressOptions;
use crate::build::entry_points::EntryPoints;
use crate::build::patterns::{optional_glob_set, PathFilter};
use crate::error::BuildError;

/// The input directory when none is given.
pub const DEFAULT_INPUT: &str = "assets";
/// The output directory when none is given.
pub const DEFAULT_OUTPUT: &str = "build";
/// Generations kept by count: the newest this many.
pub const DEFAULT_KEEP: usize = 2;
/// Generations kept by age: any younger than this many seconds (an hour).
pub const DEFAULT_KEEP_AGE: i64 = 3600;

/// Whether the output also holds every renamed file (and its variants) at its logical path,
/// for static hosts: code that fetches a file by a name it built at run time (a runtime URL,
/// which no rewriter can see) then gets it from nginx, a CDN or a bucket as it does from
/// `assetc serve`, which answers logical paths itself. Such a copy is revalidated, never
/// immutable: a static host must send it with `Cache-Control: no-cache`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogicalPaths {
    /// Only the served names (the default).
    #[default]
    None,
    /// Hard links to the served files: no space taken, and `rsync -H`, `tar` and `cp -a`
    /// keep them linked.
    Link,
    /// Copies, for file systems or tools that cannot take hard links.
    Copy,
}

impl LogicalPaths {
    /// The spelling of the flag's value and of the records.
    pub fn token(self) -> &'static str {
        match self {
            LogicalPaths::None => "none",
            LogicalPaths::Link => "link",
            LogicalPaths::Copy => "copy",
        }
    }

    pub fn from_token(token: &str) -> Option<Self> {
        [LogicalPaths::None, LogicalPaths::Link, LogicalPaths::Copy]
            .into_iter()
            .find(|m| m.token() == token)
    }
}

/// What to build and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Prefix for rewritten references to fingerprinted files: `/` (keep each reference's
    /// own form), a path such as `/static/`, or an origin such as `https://cdn.example.com/`.
    pub base_url: String,
    /// Fail on any warning.
    pub strict: bool,
    /// If not empty, only files matching one of these are built.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Extra entry-point patterns beside [`crate::entry_points::DEFAULT_ENTRY_POINTS`].
    pub entry_points: Vec<String>,
    /// Files whose names already carry a content hash (a bundler's output): they keep
    /// their names and are still immutable.
    pub already_hashed: Vec<String>,
    /// Missing targets matching these (gitignore-like, against the resolved path, e.g.
    /// `api/**`, `*.php`) are not warned about: URLs another server answers.
    pub ignore_references: Vec<String>,
    /// Add `integrity` to local scripts and stylesheets in HTML.
    pub sri: bool,
    /// Also write renamed files at their logical paths (default: no).
    pub logical_paths: LogicalPaths,
    pub compress: CompressOptions,
    /// The build's time in seconds since the Unix epoch (`SOURCE_DATE_EPOCH` when set):
    /// what Last-Modified says for new bytes.
    pub build_time: i64,
    /// The wall clock, for the generations record and its retention.
    pub now: i64,
    /// Generations kept: the newest `keep` (default [`DEFAULT_KEEP`]), and any younger
    /// than `keep_age` seconds (default [`DEFAULT_KEEP_AGE`]).
    pub keep: usize,
    pub keep_age: i64,
    /// Worker threads (default: one per core). The output never depends on it.
    pub threads: Option<usize>,
    /// HTML appended to every page's `<head>` (`assetc dev`'s live-reload script). Never
    /// set for a production build.
    pub inject_html: Option<String>,
}

impl BuildOptions {
    /// Options with every default, for `input` → `output`.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>, build_time: i64) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            base_url: "/".into(),
            strict: false,
            include: Vec::new(),
            exclude: Vec::new(),
            entry_points: Vec::new(),
            already_hashed: Vec::new(),
            ignore_references: Vec::new(),
            sri: false,
            logical_paths: LogicalPaths::None,
            compress: CompressOptions::default(),
            build_time,
            now: build_time,
            keep: DEFAULT_KEEP,
            keep_age: DEFAULT_KEEP_AGE,
            threads: None,
            inject_html: None,
        }
    }
}

/// The separator of the logical-paths part of a generation's config key.
const LOGICAL_PATHS_KEY: &str = " logical_paths=";

impl BuildOptions {
    /// What a generation records of the settings that shape the output's files beyond the
    /// manifest: the compression key, then the logical paths when they are written (so a
    /// build that only switches them is not taken for a no-op, and an older output's key,
    /// without them, still reads as `none`).
    pub(crate) fn config_key(&self) -> String {
        match self.logical_paths {
            LogicalPaths::None => self.compress.key(),
            mode => format!("{}{LOGICAL_PATHS_KEY}{}", self.compress.key(), mode.token()),
        }
    }
}

/// A generation's config key split into its compression key and its logical paths.
pub(crate) fn split_config_key(key: &str) -> (&str, LogicalPaths) {
    match key.split_once(LOGICAL_PATHS_KEY) {
        Some((compress, mode)) => (
            compress,
            LogicalPaths::from_token(mode).unwrap_or(LogicalPaths::None),
        ),
        None => (key, LogicalPaths::None),
    }
}

/// The options checked and compiled: what every phase reads.
pub(crate) struct Validated {
    /// The base URL, ending in `/`.
    pub base_url: String,
    /// The canonical input directory.
    pub input: PathBuf,
    /// The absolute output directory.
    pub output: PathBuf,
    pub filter: PathFilter,
    pub entry_points: EntryPoints,
    pub already_hashed: Option<GlobSet>,
    pub ignored: Option<GlobSet>,
}

impl BuildOptions {
    /// Checks the options that need no walk and compiles their patterns.
    pub(crate) fn validate(&self) -> Result<Validated, BuildError> {
        let base_url = normalize_base_url(&self.base_url)?;
        let (input, output) = check_paths(&self.input, &self.output)?;
        Ok(Validated {
            base_url,
            input,
            output,
            filter: PathFilter::new(&self.include, &self.exclude)?,
            entry_points: EntryPoints::new(&self.entry_points)?,
            already_hashed: optional_glob_set(&self.already_hashed)?,
            ignored: optional_glob_set(&self.ignore_references)?,
        })
    }
}

/// `/`, `/static/`, or `https://cdn.example.com/assets/`, always ending in `/`.
fn normalize_base_url(base: &str) -> Result<String, BuildError> {
    let error = |message: &str| BuildError::BaseUrl {
        base_url: base.to_owned(),
        message: message.to_owned(),
    };
    let base = base.trim();
    let is_origin = base.starts_with("https://") || base.starts_with("http://");
    if !(base.starts_with('/') || is_origin) {
        return Err(error(
            "it must be a path starting with `/` or an `http(s)://` origin",
        ));
    }
    if base.starts_with("//") {
        return Err(error(
            "a scheme-relative URL is ambiguous; write `https://host/` instead",
        ));
    }
    if base.contains(['?', '#', ' ', '"', '\'', '<', '>', '\\']) {
        return Err(error(
            "it must not contain a query, a fragment, spaces, quotes or backslashes",
        ));
    }
    Ok(if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    })
}

/// Canonical input and output paths, refusing an output inside the input and the reverse.
fn check_paths(input: &Path, output: &Path) -> Result<(PathBuf, PathBuf), BuildError> {
    let input = match fs::canonicalize(input) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BuildError::InputMissing {
                path: input.to_path_buf(),
            })
        }
        Err(e) => {
            return Err(BuildError::Io {
                path: input.to_path_buf(),
                source: e,
            })
        }
    };
    if !input.is_dir() {
        return Err(BuildError::InputNotDirectory { path: input });
    }
    let output_abs = absolute(output)?;
    if output_abs.starts_with(&input) {
        return Err(BuildError::OutputInsideInput {
            output: output.to_path_buf(),
            input,
        });
    }
    if input.starts_with(&output_abs) {
        return Err(BuildError::InputInsideOutput {
            output: output.to_path_buf(),
            input,
        });
    }
    Ok((input, output_abs))
}

/// An absolute path with every existing ancestor canonicalised, for a path that may not
/// exist yet.
fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(BuildError::io(path))?
            .join(path)
    };
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = fs::canonicalize(existing) {
            let mut result = canonical;
            for part in rest.iter().rev() {
                result.push(part);
            }
            return Ok(result);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return Ok(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(normalize_base_url("/").unwrap(), "/");
        assert_eq!(normalize_base_url("/static").unwrap(), "/static/");
        assert_eq!(
            normalize_base_url("https://cdn.example.com").unwrap(),
            "https://cdn.example.com/"
        );
        for bad in ["static/", "//cdn.example.com/", "/a?b", "ftp://x/"] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
    }
}
