//! The command line, declared with clap: every command's flags, and nothing else (turning
//! them, `assetc.toml` and the environment into options is `settings`'s). Flags win over
//! `assetc.toml`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

/// Fingerprinted asset builds and a production origin with exact HTTP caching.
#[derive(Debug, Parser)]
#[command(name = "assetc", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file [default: `assetc.toml` in the current directory, if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an assets tree: fingerprint, rewrite references, write a manifest, swap atomically
    Build(BuildArgs),
    /// Serve a build with exact HTTP caching: immutable fingerprinted files, revalidated pages
    Serve(ServeArgs),
    /// Check a build: re-hash every file against the manifests; report missing, corrupted and extra files
    Verify(VerifyArgs),
    /// Remove the files of old builds that no kept generation needs
    Clean(CleanArgs),
    /// Develop: build into a private directory, serve with `no-store`, rebuild on change, live reload
    Dev(DevArgs),
    /// Why did a file's name change? The chain of causes since the previous generation, from the build alone
    Explain(ExplainArgs),
    /// Write one self-contained HTML report of a build: sizes, compression, references, what changed and why
    Report(ReportArgs),
    /// Upload a build to S3-compatible object storage: fingerprinted files first, then pages, then the manifest
    #[cfg(feature = "publish")]
    Publish(PublishArgs),
}

/// `assetc explain`
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    assetc explain css/site.css          why css/site.css has a new name (or not)\n  \
    assetc explain --changed             every renamed file, by root cause, with the bytes it costs\n  \
    assetc explain index.html --since Xk3p9Qa1bC-_ --json")]
pub struct ExplainArgs {
    /// The file to explain: a logical path as in the manifest (`css/site.css`), or a served one
    #[arg(value_name = "LOGICAL_PATH", required_unless_present = "changed")]
    pub path: Option<String>,

    /// Every file the last build renamed, grouped by root cause, with the bytes a returning
    /// visitor downloads because of each
    #[arg(long, conflicts_with = "path")]
    pub changed: bool,

    /// The build to read [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Compare with this kept generation (an id from `.assetc/generations.json`, or a unique
    /// prefix of one) [default: the previous one]
    #[arg(long, value_name = "GENERATION")]
    pub since: Option<String>,

    /// Print a machine-readable explanation on stdout (schema: ARCHITECTURE.md)
    #[arg(long)]
    pub json: bool,
}

/// `assetc publish`
#[cfg(feature = "publish")]
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The build to publish [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Where: `s3://BUCKET` or `s3://BUCKET/PREFIX`
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,

    /// An S3-compatible store's URL (`http://127.0.0.1:9000`) [default: `AWS_ENDPOINT_URL`, else AWS]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Print the plan (uploads with reasons, header refreshes, deletions) and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete the keys under the prefix that no kept generation lists, once the pages are up
    #[arg(long)]
    pub delete: bool,

    /// Precompressed variants: `none` (the CDN compresses) or `keys` (each as its own key,
    /// `app.css.br`, with `Content-Encoding`) [default: none]
    #[arg(long, value_name = "HOW")]
    pub variants: Option<Variants>,

    /// Requests in flight at once [default: 8]
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,

    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
}

/// `assetc report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The build to report on [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// The HTML file to write, outside the build [default: report.html]
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Open the report with `xdg-open` (when there is one; else print its path)
    #[arg(long)]
    pub open: bool,
}

/// `--variants`: object storage cannot negotiate, so precompressed files are either left
/// to the CDN (`none`) or uploaded as keys of their own for a CDN rule to pick (`keys`).
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Variants {
    #[default]
    None,
    Keys,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The build to check [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// The build to clean [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Keep the files of this many newest builds [default: 2]
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Also keep builds younger than this (`90s`, `30m`, `1h`, `2d`, `1w`) [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub age: Option<String>,

    /// Show what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Args)]
pub struct BuildArgs {
    /// Source tree to build [default: assets]
    #[arg(long, short, value_name = "DIR")]
    pub input: Option<PathBuf>,

    /// Directory to write the build to, replaced atomically [default: build]
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Prefix for rewritten asset URLs: `/`, a path like `/static/`, or an origin like
    /// `https://cdn.example.com/` [default: /]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Fail the build on any warning (for example a reference to a missing file)
    #[arg(long)]
    pub strict: bool,

    /// Build only files matching this glob (repeatable; gitignore-like)
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files matching this glob (repeatable; gitignore-like, e.g. `node_modules`, `*.scss`)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Keep this file's path instead of fingerprinting it (repeatable glob)
    #[arg(long, value_name = "GLOB")]
    pub entry_point: Vec<String>,

    /// Names already carrying a content hash (a bundler's output, e.g. `assets/*-????????.js`):
    /// they keep their names and are still served as immutable (repeatable glob)
    #[arg(long, value_name = "GLOB")]
    pub already_hashed: Vec<String>,

    /// Do not warn about missing targets matching this glob (repeatable; e.g. `api/**` for
    /// URLs another server answers)
    #[arg(long, value_name = "GLOB")]
    pub ignore_reference: Vec<String>,

    /// Add `integrity` to local scripts and stylesheets in HTML
    #[arg(long)]
    pub sri: bool,

    /// Also write each fingerprinted file at its logical path, for static hosts (nginx, a
    /// CDN, a bucket) to answer the names code fetches at run time as `assetc serve` does:
    /// `link` (hard links), `copy`, or `none`; serve those with `Cache-Control: no-cache`
    /// [default: none]
    #[arg(long, value_name = "HOW")]
    pub logical_paths: Option<LogicalPathsMode>,

    /// Precompressed variants to write: a comma list of `br`, `zstd`, `gzip`, or `none`
    /// [default: br,zstd,gzip]
    #[arg(long, value_name = "LIST")]
    pub codings: Option<String>,

    /// Compression-dictionary deltas (RFC 9842) of each changed file against its versions in
    /// this many newest kept older builds, 0 for none, at most 4 [default: 1]
    #[arg(long, value_name = "N")]
    pub dictionaries: Option<usize>,

    /// Keep the files of this many newest builds for pages still cached by clients [default: 2]
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Also keep builds younger than this (`90s`, `30m`, `1h`, `2d`, `1w`) [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub keep_age: Option<String>,

    /// Worker threads [default: one per core]; the output never depends on it
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,

    /// Print nothing but warnings and errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
}

/// `assetc serve`
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Build directory to serve (made by `assetc build`) [default: build]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080, or
    /// 0.0.0.0:$PORT when the `PORT` environment variable is set]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Serve the build under this URL path: the path of the `--base-url` it was built with
    /// (`/docs/`), for a site that lives under a sub-path [default: /]
    #[arg(long, value_name = "PATH")]
    pub prefix: Option<String>,

    /// Access log on stdout [default: off]
    #[arg(long, value_name = "FORMAT")]
    pub access_log: Option<AccessLogFormat>,

    /// Serve this page (a logical path such as `index.html`) for unknown extension-less
    /// paths: client-side routes of a single-page app
    #[arg(long, value_name = "PATH")]
    pub spa_fallback: Option<String>,

    /// Serve `about.html` at `/about`
    #[arg(long)]
    pub clean_urls: bool,

    /// Answer `200 ok` at this path for load balancers (e.g. `/healthz`)
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,

    /// Send pages a `Link` header of preload hints (stylesheets, their fonts, module scripts
    /// and their imports) for browsers, and for CDNs that turn them into 103 Early Hints
    #[arg(long)]
    pub preload_links: bool,

    /// Do not serve compression-dictionary deltas (RFC 9842 `dcb`/`dcz`) nor offer files
    /// as dictionaries (`Use-As-Dictionary`)
    #[arg(long)]
    pub no_dictionaries: bool,

    /// Seconds in-flight requests get to finish after SIGTERM [default: 30]
    #[arg(long, value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,

    /// Seconds a client has to send its request head after connecting; a slower one is
    /// answered 408 and disconnected [default: 5]
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,

    /// Seconds an idle keep-alive connection is kept open; 0 closes every connection after
    /// its response [default: 5]
    #[arg(long, value_name = "SECS")]
    pub keep_alive: Option<u64>,

    /// How often to look for a new build at the root (`250ms`, `1s`, `1m`) [default: 1s]
    #[arg(long, value_name = "DURATION")]
    pub watch_interval: Option<String>,

    /// Do not look for new builds; reload only on SIGHUP
    #[arg(long)]
    pub no_watch: bool,

    /// Files on disk kept open at once (the rest are opened when asked for) [default: 256]
    #[arg(long, value_name = "N")]
    pub open_files: Option<usize>,
}

/// `--logical-paths`: whether and how renamed files are also written at their logical paths.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogicalPathsMode {
    None,
    Link,
    Copy,
}

/// The access log's format.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogFormat {
    Off,
    Common,
    Json,
}

/// `assetc dev`
#[derive(Args, Debug)]
pub struct DevArgs {
    /// Source tree to build and watch [default: assets]
    #[arg(long, short, value_name = "DIR")]
    pub input: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Treat warnings (broken references) as build errors, shown in the page
    #[arg(long)]
    pub strict: bool,

    /// Private build directory [default: a directory under the system's temporary directory]
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}
