//! The command line, declared with clap. Flags win over `assetc.toml`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Args)]
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

    /// Print nothing but warnings and errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
}
