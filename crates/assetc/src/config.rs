//! `assetc.toml`: project configuration, read from the directory assetc runs in (never
//! from the input, so it is never published). Command-line flags win over it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The whole file. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub build: BuildConfig,
    pub serve: crate::serve::ServeConfig,
}

/// `[build]`
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildConfig {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
    pub strict: Option<bool>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub entry_points: Vec<String>,
    pub already_hashed: Vec<String>,
    /// Missing reference targets not to warn about (gitignore-like globs on the resolved path).
    pub ignore_references: Vec<String>,
    pub sri: Option<bool>,
    /// `["br", "zstd", "gzip"]` by default; `[]` for none.
    pub codings: Option<Vec<String>>,
    /// Files smaller than this many bytes are not compressed.
    pub compress_min_size: Option<u64>,
    /// A variant is kept only if it saves at least this share (0.1 = 10 %).
    pub compress_min_saving: Option<f64>,
    pub keep: Option<usize>,
    pub keep_age: Option<String>,
}

pub const DEFAULT_CONFIG_FILE: &str = "assetc.toml";

impl Config {
    /// Reads `path`, or `assetc.toml` in the current directory when it exists.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self::default())
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read the configuration `{}`", path.display()))
            }
        };
        toml::from_str(&text)
            .with_context(|| format!("invalid configuration in `{}`", path.display()))
    }
}
