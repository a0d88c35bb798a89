//! The build, as a list of phases, one module each: options (validation) → walk → load and
//! hash → resolve references → naming, leaves first → runtime-URL notes → manifest →
//! (unless nothing changed) write the staged tree with variants and kept generations, and
//! the logical paths if asked → swap it in.

pub mod compress;
pub mod dictionary;
pub mod entry_points;
pub mod graph;
mod load;
pub(crate) mod logical_paths;
mod manifest;
mod naming;
pub mod options;
pub mod patterns;
mod resolve;
mod runtime_urls;
pub mod walk;
mod write;

use std::collections::BTreeMap;

use assetc_core::manifest::ManifestRef;
use assetc_core::Manifest;
use rayon::prelude::*;

use crate::build::load::{load, Node};
use crate::build::naming::{name_all, NamingContext};
pub use crate::build::options::BuildOptions;
use crate::build::resolve::{scan, Resolver};
use crate::build::walk::walk;
use crate::error::{BuildError, Note, Warning};
use crate::output::records::{Records, RecordsJson};
use crate::output::scan_cache::{CacheUse, ScanCache};
use crate::output::staging::{lock_and_tidy, Staging};

/// The kept generations, newest first (moved to `assetc_core::generations::retain`).
pub use assetc_core::generations::retain;

/// What a build did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BuildReport {
    pub files: usize,
    pub fingerprinted: usize,
    pub entry_points: usize,
    /// Bytes of all served (identity) files.
    pub bytes: u64,
    /// Per coding: how many variants, and their total size.
    pub variants: BTreeMap<String, VariantTotals>,
    pub warnings: Vec<Warning>,
    /// What may be fine but deserves a look (`--strict` ignores notes): strings in code
    /// that name files the build renames. None when logical paths are written.
    pub notes: Vec<Note>,
    /// False when the result equalled the previous build, which was left untouched.
    pub changed: bool,
    /// Files taken over from the previous build (hard-linked, not rewritten or recompressed).
    pub reused: usize,
    /// Files written (and compressed) anew.
    pub written: usize,
    /// Generations the output now holds, newest first.
    pub generations: usize,
    /// How often the scan cache (`.assetc/scan-cache`) spared parsing a text file again.
    pub scan_cache: CacheUse,
}

/// The variants of one coding in a build.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VariantTotals {
    pub files: usize,
    /// Size of the identity files these variants encode.
    pub identity_bytes: u64,
    /// Size of the variants.
    pub encoded_bytes: u64,
}

/// Reports how far a build is, for a progress bar. Every method has a no-op default.
pub trait Progress: Sync {
    /// A phase begins with `total` steps (files).
    fn phase(&self, _name: &'static str, _total: u64) {}
    /// `n` more steps of the current phase are done.
    fn advance(&self, _n: u64) {}
}

/// No progress reporting.
#[derive(Debug)]
pub struct Silent;

impl Progress for Silent {}

/// Builds `options.input` into `options.output`.
pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    build_with_progress(options, &Silent)
}

/// [`build`], reporting progress.
pub fn build_with_progress(
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    match options.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| BuildError::Io {
                path: options.input.clone(),
                source: std::io::Error::other(e),
            })?
            .install(|| build_inner(options, progress)),
        None => build_inner(options, progress),
    }
}

fn build_inner(options: &BuildOptions, progress: &dyn Progress) -> Result<BuildReport, BuildError> {
    let v = options.validate()?;
    // Locked first: what the output holds is read once, and no other build changes it
    // until this one has committed or given up.
    let lock = lock_and_tidy(&v.output)?;
    // An output that is not a build is refused before any work; its records are read
    // after naming (below), when less else is held.
    RecordsJson::probe(&v.output)?;
    let mut warnings = Vec::new();
    let sources = walk(&v.input, &v.filter, &mut warnings)?;

    // Each file loaded, hashed and scanned in one go: its text is let go before the next
    // is read (later phases read it again), so memory grows with the files in flight, not
    // with the tree.
    progress.phase("hashing", sources.len() as u64);
    let resolver = Resolver::new(&sources, &v.base_url);
    let cache = ScanCache::read(&v.output);
    // Collected by index into one list, and then turned into the nodes in that list's
    // place (std's in-place `collect`): the tree's nodes (30 MB at 100,000 files) are never
    // held twice, as a collect through `Result` or an `unzip` would.
    let loaded: Vec<Result<(Node, resolve::Scan), BuildError>> = sources
        .into_par_iter()
        .map(|source| {
            let (node, text) = load(source, &v.entry_points, v.already_hashed.as_ref())?;
            let scan = scan(
                &node,
                text.as_deref(),
                &resolver,
                v.ignored.as_ref(),
                &cache,
            );
            progress.advance(1);
            Ok((node, scan))
        })
        .collect();
    let mut loaded: Vec<(Node, resolve::Scan)> = loaded.into_iter().collect::<Result<_, _>>()?;
    let mut rewritable = Vec::with_capacity(loaded.len());
    let mut positions = Vec::with_capacity(loaded.len());
    for (node, scan) in &mut loaded {
        node.references = std::mem::take(&mut scan.targets);
        positions.push(std::mem::take(&mut scan.positions));
        warnings.append(&mut scan.warnings);
        rewritable.push(scan.rewritable);
    }
    let nodes: Vec<Node> = loaded.into_iter().map(|(node, _)| node).collect();
    if options.strict && !warnings.is_empty() {
        return Err(BuildError::Strict { warnings });
    }

    // Naming writes each rewritten text into the staging tree as soon as it is named, so the
    // output is staged from here; a build that turns out unchanged drops it.
    let staging = Staging::begin_locked(&v.output, lock)?;
    let ctx = NamingContext::new(
        &nodes,
        &resolver,
        &v.base_url,
        &rewritable,
        &positions,
        &cache,
        options,
        staging.dir(),
    );
    let named = name_all(&ctx, &mut warnings)?;
    // Naming warns too (an already-hashed file whose bytes had to change), and `--strict`
    // means any warning.
    if options.strict && !warnings.is_empty() {
        return Err(BuildError::Strict { warnings });
    }

    // Runtime URLs load from any host once logical paths are written: no note then.
    let notes = if options.logical_paths == options::LogicalPaths::None {
        runtime_urls::runtime_urls(&nodes, &named, &resolver, &cache)?
    } else {
        Vec::new()
    };

    // Every lookup is done: the cache is left in the staging tree and its entries let go
    // before the previous build's records are read. At 100,000 files each is about 50 MB,
    // and holding both beside the nodes and names was the no-op rebuild's peak.
    let scan_cache = cache.used();
    cache.finish(&v.output, staging.dir())?;
    let previous = RecordsJson::read(&v.output)?;

    let config_key = options.config_key();
    let mut report = BuildReport {
        scan_cache,
        files: nodes.len(),
        fingerprinted: nodes.iter().filter(|n| !n.entry_point).count(),
        entry_points: nodes.iter().filter(|n| n.entry_point).count(),
        warnings,
        notes,
        ..BuildReport::default()
    };
    // Compared against the manifest as borrowed from its JSON: a no-op rebuild never makes
    // the owned one (twice the JSON's size).
    let same_config = |prev: &&RecordsJson| prev.config_key() == Some(config_key.as_str());
    if let Some(prev) = previous.as_ref().filter(same_config) {
        let old = prev.manifest()?;
        if manifest::unchanged(&nodes, &named, &resolver, &v.base_url, &old) {
            // Nothing to write (a text rewritten anew while naming came out as the output
            // holds it); what killed builds left beside the output went with the lock.
            // The output stays as it is; only a cache that could not answer everything (none
            // yet, or damaged) is replaced, so the next build parses nothing.
            if report.scan_cache.misses > 0 {
                ScanCache::move_into(staging.dir(), &v.output)?;
            }
            drop(staging);
            report.reused = nodes.len();
            report.generations = prev.generations().len().max(1);
            report.add_totals_ref(&old);
            return Ok(report);
        }
    }
    let previous = previous.map(RecordsJson::parse).transpose()?;

    let reusable = previous
        .as_ref()
        .map(|p| p.reusable(&config_key))
        .unwrap_or_default();
    let manifest::Assembled {
        mut manifest,
        to_write,
    } = manifest::assemble(
        &nodes,
        &named,
        &resolver,
        &v.base_url,
        previous.as_ref().map(|p| &p.manifest),
        &reusable,
        options.build_time,
    )?;
    drop(reusable);
    // The previous manifest is read no more: what follows needs only the previous build's
    // generations (an older one's manifest is read from disk). Held through the write, it
    // was 70 MB at 100,000 files.
    let previous = previous.map(Records::without_entries);

    // The reference record needs neither names nor the manifest: written on one worker
    // while the others write the tree (it is one serial stream, 25 MB at 100,000 files).
    let (tree, refs_part) = rayon::join(
        || {
            write::write_tree(
                staging.dir(),
                &v.output,
                &ctx,
                &named,
                &mut manifest,
                &to_write,
                &options.compress,
                progress,
            )
        },
        || write::write_refs_part(staging.dir(), &nodes, &positions),
    );
    let (tree, refs_part) = (tree?, refs_part?);
    // Names and the rewritten text held since naming are written: only the manifest and
    // the reference positions are needed from here on.
    drop(named);
    drop(cache);
    dictionary::add_deltas(
        staging.dir(),
        &v.output,
        previous.as_ref(),
        &mut manifest,
        options,
    )?;
    let kept = write::write_records(
        staging.dir(),
        &v.output,
        previous.as_ref(),
        &manifest,
        &refs_part,
        options,
    )?;
    logical_paths::write(staging.dir(), &manifest, options.logical_paths)?;
    staging.commit()?;

    report.written = tree.written;
    report.reused = tree.reused;
    report.add_totals(&manifest);
    report.changed = true;
    report.generations = kept.len();
    Ok(report)
}

impl BuildReport {
    fn add_totals(&mut self, manifest: &Manifest) {
        for entry in manifest.entries.values() {
            let variants = entry.variants.iter();
            self.add_entry(entry.size, variants.map(|(c, v)| (c.as_str(), v.size)));
        }
    }

    fn add_totals_ref(&mut self, manifest: &ManifestRef<'_>) {
        for (_, entry) in &manifest.entries {
            let variants = entry.variants.iter();
            self.add_entry(entry.size, variants.map(|(c, v)| (c.as_str(), v.size)));
        }
    }

    /// Adds one entry of `size` bytes with its variants' codings and sizes.
    fn add_entry<'c>(&mut self, size: u64, variants: impl Iterator<Item = (&'c str, u64)>) {
        self.bytes += size;
        for (coding, encoded) in variants {
            // Deltas add up per coding, whatever their dictionary.
            let coding = match assetc_core::DictCoding::parse_key(coding) {
                Some((dict, _)) => dict.token(),
                None => coding,
            };
            let t = self.variants.entry(coding.to_owned()).or_default();
            t.files += 1;
            t.identity_bytes += size;
            t.encoded_bytes += encoded;
        }
    }
}
