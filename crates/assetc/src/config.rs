//! `assetc.toml`: the whole schema of the project configuration, read from the directory
//! assetc runs in (never from the input, so it is never published). Command-line flags win
//! over it (see `settings`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::cli::{AccessLogFormat, LogicalPathsMode, Variants};

/// The whole file. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub build: BuildConfig,
    pub serve: ServeConfig,
    pub publish: PublishConfig,
}

/// `[publish]` in `assetc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// `s3://BUCKET[/PREFIX]`.
    pub to: Option<String>,
    /// An S3-compatible store's URL.
    pub endpoint: Option<String>,
    /// `"none"` (default) or `"keys"`.
    pub variants: Option<Variants>,
    /// Requests in flight at once [default: 8].
    pub jobs: Option<usize>,
    /// Delete keys no kept generation lists [default: false].
    pub delete: Option<bool>,
    /// `Cache-Control` of fingerprinted objects [default: `[serve]`'s, else
    /// `public, max-age=31536000, immutable`].
    pub cache_control_immutable: Option<String>,
    /// `Cache-Control` of pages, logical paths and the manifest [default: `[serve]`'s, else
    /// `no-cache`].
    pub cache_control_revalidate: Option<String>,
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
    /// `"none"` (default), `"link"` or `"copy"`: renamed files also at their logical paths.
    pub logical_paths: Option<LogicalPathsMode>,
    /// `["br", "zstd", "gzip"]` by default; `[]` for none.
    pub codings: Option<Vec<String>>,
    /// Files smaller than this many bytes are not compressed.
    pub compress_min_size: Option<u64>,
    /// A variant is kept only if it saves at least this share (0.1 = 10 %).
    pub compress_min_saving: Option<f64>,
    /// Dictionary deltas against this many newest kept older builds, 0 to 4 [default: 1].
    pub dictionaries: Option<usize>,
    pub keep: Option<usize>,
    pub keep_age: Option<String>,
}

/// `[serve]` in `assetc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    pub root: Option<PathBuf>,
    pub bind: Option<String>,
    /// The URL path the build is served under [default: `/`].
    pub prefix: Option<String>,
    pub workers: Option<usize>,
    pub access_log: Option<AccessLogFormat>,
    /// `Cache-Control` of fingerprinted URLs [default: `public, max-age=31536000, immutable`].
    pub cache_control_immutable: Option<String>,
    /// `Cache-Control` of entry points [default: `no-cache`].
    pub cache_control_revalidate: Option<String>,
    /// Bytes of small files kept in memory [default: 64 MiB].
    pub memory_budget: Option<u64>,
    /// Files above this size always stream from disk [default: 256 KiB].
    pub memory_file_limit: Option<u64>,
    /// Files on disk kept open at once [default: 256].
    pub open_files: Option<usize>,
    pub spa_fallback: Option<String>,
    pub clean_urls: Option<bool>,
    pub health_path: Option<String>,
    /// `Link: rel=preload` hints on pages [default: false].
    pub preload_links: Option<bool>,
    /// Serve dictionary deltas and offer files as dictionaries (RFC 9842) [default: true].
    pub dictionaries: Option<bool>,
    pub shutdown_timeout: Option<u64>,
    /// Seconds a client has to send its request head [default: 5].
    pub request_timeout: Option<u64>,
    /// Seconds an idle keep-alive connection is kept open; 0 turns keep-alive off [default: 5].
    pub keep_alive: Option<u64>,
    /// Look for new builds at the root [default: true].
    pub watch: Option<bool>,
    /// How often, e.g. `"1s"` or `"250ms"` [default: `"1s"`].
    pub watch_interval: Option<String>,
    /// `[[serve.headers]]`: `path = "/fonts/**"` and `headers = { "Access-Control-Allow-Origin" = "*" }`.
    pub headers: Vec<HeaderRuleConfig>,
}

/// One `[[serve.headers]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRuleConfig {
    /// A glob over URL paths (`/**`, `/fonts/*.woff2`).
    pub path: String,
    pub headers: BTreeMap<String, String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_table_deserialises_and_refuses_unknown_keys() {
        let cfg: ServeConfig = toml::from_str(
            r#"
            root = "dist"
            access_log = "json"
            cache_control_immutable = "public, max-age=31536000, s-maxage=31536000, immutable"
            [[headers]]
            path = "/fonts/**"
            headers = { "Access-Control-Allow-Origin" = "*" }
            "#,
        )
        .unwrap();
        assert_eq!(cfg.root.as_deref(), Some(std::path::Path::new("dist")));
        assert_eq!(cfg.access_log, Some(AccessLogFormat::Json));
        assert_eq!(cfg.headers[0].headers["Access-Control-Allow-Origin"], "*");
        assert!(toml::from_str::<ServeConfig>("rooot = \"x\"").is_err());
        let cfg: ServeConfig = toml::from_str("watch = false\nwatch_interval = \"250ms\"").unwrap();
        assert_eq!(
            (cfg.watch, cfg.watch_interval.as_deref()),
            (Some(false), Some("250ms"))
        );
        let cfg: ServeConfig = toml::from_str("request_timeout = 2\nkeep_alive = 0").unwrap();
        assert_eq!((cfg.request_timeout, cfg.keep_alive), (Some(2), Some(0)));
    }
}
