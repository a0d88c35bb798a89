//! The build: walk → load and hash → references → names, leaves first → manifest →
//! (unless nothing changed) staged tree with variants and kept generations → swap.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assetc_core::fingerprint::{hex, integrity, sha256};
use assetc_core::generations::{
    generation_manifest_path, Generation, Generations, GENERATIONS_FILE, STATE_DIR,
};
use assetc_core::url_ref::{classify, LocalRef, Reference};
use assetc_core::{
    content_type, fingerprint, fingerprinted_name, strong_etag, Digest, Entry, LogicalPath,
    Manifest, Variant, MANIFEST_FILE_NAME,
};
use globset::GlobSet;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256, Sha384};

use crate::compress::{compress_file, compressible, CompressOptions};
use crate::entry_points::EntryPoints;
use crate::error::{BuildError, Warning, WarningKind};
use crate::graph::components_in_dependency_order;
use crate::html::decode_char_refs;
use crate::output::Staging;
use crate::references::{rewrite, Edit, Format, FoundRef, Role};
use crate::walk::{glob_set, walk, PathFilter, SourceFile};

/// Text files larger than this are copied as they are, not scanned for references.
const MAX_SCANNED_SIZE: u64 = 64 << 20;

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
    pub compress: CompressOptions,
    /// The build's time in seconds since the Unix epoch (`SOURCE_DATE_EPOCH` when set):
    /// what Last-Modified says for new bytes.
    pub build_time: i64,
    /// The wall clock, for the generations record and its retention.
    pub now: i64,
    /// Generations kept: the newest `keep`, and any younger than `keep_age` seconds.
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
            compress: CompressOptions::default(),
            build_time,
            now: build_time,
            keep: 2,
            keep_age: 3600,
            threads: None,
            inject_html: None,
        }
    }
}

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
    /// False when the result equalled the previous build, which was left untouched.
    pub changed: bool,
    /// Files taken over from the previous build (hard-linked, not rewritten or recompressed).
    pub reused: usize,
    /// Files written (and compressed) anew.
    pub written: usize,
    /// Generations the output now holds, newest first.
    pub generations: usize,
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

/// One source file on its way through the build.
struct Node {
    source: SourceFile,
    format: Format,
    entry_point: bool,
    already_hashed: bool,
    content: Content,
    /// Charset label, for HTML.
    charset: String,
    /// Every local target found, by node index.
    references: BTreeSet<usize>,
}

enum Content {
    /// Text whose references are rewritten.
    Text(Vec<u8>),
    /// A file served as it is: hashed now, copied (and verified) when written.
    File {
        digest: Digest,
        size: u64,
        head: Vec<u8>,
    },
}

/// A node's final name and bytes.
#[derive(Clone)]
struct Named {
    served: LogicalPath,
    digest: Digest,
    size: u64,
    content_type: String,
    /// Final bytes of text; None for files copied as they are.
    bytes: Option<Vec<u8>>,
    /// SRI of text, known as soon as it is named (files get theirs when written).
    integrity: Option<String>,
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
    let base_url = normalize_base_url(&options.base_url)?;
    let (input, output) = check_paths(&options.input, &options.output)?;
    let previous = Previous::read(&output)?;
    let filter = PathFilter::new(&options.include, &options.exclude)?;
    let entry_points = EntryPoints::new(&options.entry_points)?;
    let already_hashed = if options.already_hashed.is_empty() {
        None
    } else {
        Some(glob_set(&options.already_hashed)?)
    };

    let ignored = if options.ignore_references.is_empty() {
        None
    } else {
        Some(glob_set(&options.ignore_references)?)
    };
    let mut warnings = Vec::new();
    let sources = walk(&input, &filter, &mut warnings)?;

    // Load: read text, hash files.
    progress.phase("hashing", sources.len() as u64);
    let mut nodes: Vec<Node> = sources
        .into_par_iter()
        .map(|source| {
            let node = load(source, &entry_points, already_hashed.as_ref());
            progress.advance(1);
            node
        })
        .collect::<Result<_, _>>()?;
    let index: HashMap<LogicalPath, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.source.logical.clone(), i))
        .collect();
    let paths: Vec<LogicalPath> = nodes.iter().map(|n| n.source.logical.clone()).collect();
    let resolver = Resolver {
        index: &index,
        paths: &paths,
    };

    // References: every local target, and a warning for each one that does not resolve.
    let scans: Vec<(BTreeSet<usize>, Vec<Warning>, bool)> = nodes
        .par_iter()
        .map(|node| scan(node, &resolver, ignored.as_ref()))
        .collect();
    let mut rewritable = Vec::with_capacity(nodes.len());
    for (node, (targets, node_warnings, ok)) in nodes.iter_mut().zip(scans) {
        node.references = targets;
        warnings.extend(node_warnings);
        rewritable.push(ok);
    }
    if options.strict && !warnings.is_empty() {
        return Err(BuildError::Strict { warnings });
    }

    // Names, leaves first, level by level in parallel.
    let ctx = NamingContext {
        nodes: &nodes,
        resolver: &resolver,
        base_url: &base_url,
        rewritable: &rewritable,
        options,
    };
    let named = name_all(&ctx, &mut warnings)?;

    // The manifest, with what the previous build already has.
    let config_key = options.compress.key();
    let reusable = previous
        .as_ref()
        .map(|p| p.reusable(&config_key))
        .unwrap_or_default();
    let mut manifest = Manifest::new(base_url.clone());
    let mut served_by: BTreeMap<&str, &str> = BTreeMap::new();
    let mut to_write = Vec::new();
    for (i, (node, n)) in nodes.iter().zip(&named).enumerate() {
        let logical = node.source.logical.as_str();
        if let Some(other) = served_by.insert(n.served.as_str(), logical) {
            return Err(BuildError::NameClash {
                a: other.into(),
                b: logical.into(),
                served: n.served.to_string(),
            });
        }
        let sha256 = hex(&n.digest);
        let last_modified = match previous
            .as_ref()
            .and_then(|p| p.manifest.entries.get(logical))
        {
            Some(prev) if prev.sha256 == sha256 => prev.last_modified,
            Some(prev) => options.build_time.max(prev.last_modified + 1),
            None => options.build_time,
        };
        let mut entry = Entry {
            content_type: n.content_type.clone(),
            etag: strong_etag(&n.digest),
            immutable: !node.entry_point,
            integrity: n.integrity.clone().unwrap_or_default(),
            last_modified,
            path: n.served.to_string(),
            references: node
                .references
                .iter()
                .map(|&t| paths[t].to_string())
                .collect(),
            sha256,
            size: n.size,
            variants: BTreeMap::new(),
        };
        match reusable.get(n.served.as_str()) {
            Some(old) if old.sha256 == entry.sha256 => {
                entry.integrity.clone_from(&old.integrity);
                entry.variants.clone_from(&old.variants);
            }
            _ => to_write.push(i),
        }
        manifest.entries.insert(logical.to_owned(), entry);
    }

    let mut report = BuildReport {
        files: nodes.len(),
        fingerprinted: nodes.iter().filter(|n| !n.entry_point).count(),
        entry_points: nodes.iter().filter(|n| n.entry_point).count(),
        warnings,
        ..BuildReport::default()
    };
    if let Some(prev) = &previous {
        if to_write.is_empty()
            && prev.manifest == manifest
            && prev.config_key.as_deref() == Some(config_key.as_str())
        {
            // Nothing to write, but what killed builds left beside the output still goes.
            crate::output::tidy(&output)?;
            report.changed = false;
            report.reused = nodes.len();
            report.generations = prev.generations.generations.len().max(1);
            totals(&manifest, &mut report);
            return Ok(report);
        }
    }

    // The new tree: reuse what the previous build has, write and compress the rest.
    let staging = Staging::begin(&output)?;
    let writing: std::collections::HashSet<usize> = to_write.iter().copied().collect();
    progress.phase("writing", nodes.len() as u64);
    // Every directory once, parents first, rather than a create_dir_all per file.
    let dirs: BTreeSet<&Path> = manifest
        .entries
        .values()
        .filter_map(|e| Path::new(&e.path).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    for dir in dirs {
        let dir = staging.dir().join(dir);
        match fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?
            }
            _ => {}
        }
    }
    let results: Vec<(usize, Option<Written>)> = (0..nodes.len())
        .into_par_iter()
        .map(|i| {
            let entry = &manifest.entries[paths[i].as_str()];
            let target = staging.dir().join(&entry.path);
            if !writing.contains(&i) && link_entry(&output, staging.dir(), entry).is_ok() {
                progress.advance(1);
                return Ok((i, None));
            }
            let written = write_entry(&nodes[i], &named[i], &target, &options.compress)?;
            progress.advance(1);
            Ok((i, Some(written)))
        })
        .collect::<Result<_, BuildError>>()?;
    for (i, written) in results {
        match written {
            Some((integrity, variants)) => {
                let entry = manifest
                    .entries
                    .get_mut(paths[i].as_str())
                    .expect("entry exists");
                entry.integrity = integrity;
                entry.variants = variants;
                report.written += 1;
            }
            None => report.reused += 1,
        }
    }
    totals(&manifest, &mut report);

    // Generations: this one, and the earlier ones still kept, whose files stay servable.
    let manifest_bytes = manifest.to_json();
    let id = fingerprint(&sha256(&manifest_bytes));
    let mut generations = vec![Generation {
        built_at: options.now,
        id: id.clone(),
        config: config_key.clone(),
    }];
    if let Some(prev) = &previous {
        generations.extend(
            prev.generations
                .generations
                .iter()
                .filter(|g| g.id != id)
                .cloned(),
        );
    }
    let kept = retain(generations, options.now, options.keep, options.keep_age);
    let state = staging.dir().join(STATE_DIR).join("generations");
    fs::create_dir_all(&state).map_err(BuildError::io(&state))?;
    for generation in &kept[1..] {
        let Some(old) = previous
            .as_ref()
            .and_then(|p| p.generation_manifest(&generation.id))
        else {
            continue;
        };
        for entry in old.entries.values().filter(|e| e.immutable) {
            if !staging.dir().join(&entry.path).exists() {
                let target = staging.dir().join(&entry.path);
                create_parent(&target)?;
                // A file an old generation lists but the output lacks cannot be restored; the
                // generation stays recorded and `assetc verify` reports the missing file.
                let _ = link_entry(&output, staging.dir(), entry);
            }
        }
        let path = staging.dir().join(generation_manifest_path(&generation.id));
        fs::write(&path, old.to_json()).map_err(BuildError::io(&path))?;
    }
    let record = staging.dir().join(generation_manifest_path(&id));
    fs::write(&record, &manifest_bytes).map_err(BuildError::io(&record))?;
    let record = staging.dir().join(GENERATIONS_FILE);
    fs::write(
        &record,
        Generations {
            generations: kept.clone(),
        }
        .to_json(),
    )
    .map_err(BuildError::io(&record))?;
    let manifest_path = staging.dir().join(MANIFEST_FILE_NAME);
    fs::write(&manifest_path, &manifest_bytes).map_err(BuildError::io(&manifest_path))?;

    staging.commit()?;
    report.changed = true;
    report.generations = kept.len();
    Ok(report)
}

/// Reads a source: text into memory, anything else hashed as a stream.
fn load(
    source: SourceFile,
    entry_points: &EntryPoints,
    already_hashed: Option<&GlobSet>,
) -> Result<Node, BuildError> {
    let mut format = Format::of(&source.logical);
    if format.is_text() {
        let size = fs::metadata(&source.path)
            .map_err(BuildError::io(&source.path))?
            .len();
        if size > MAX_SCANNED_SIZE {
            format = Format::Opaque;
        }
    }
    let content = if format.is_text() {
        Content::Text(fs::read(&source.path).map_err(BuildError::io(&source.path))?)
    } else {
        let (digest, size, head) = hash_file(&source.path)?;
        Content::File { digest, size, head }
    };
    let charset = match (&content, format) {
        (Content::Text(bytes), Format::Html) => {
            content_type::declared_charset("text/html", bytes).unwrap_or_else(|| "utf-8".into())
        }
        _ => "utf-8".into(),
    };
    let entry_point = entry_points.contains(&source.logical);
    let already_hashed = already_hashed.is_some_and(|set| set.is_match(source.logical.as_str()));
    Ok(Node {
        source,
        format,
        entry_point,
        already_hashed,
        content,
        charset,
        references: BTreeSet::new(),
    })
}

/// Finds a text node's local targets; returns them, its warnings, and whether it parsed.
fn scan(
    node: &Node,
    resolver: &Resolver<'_>,
    ignored: Option<&GlobSet>,
) -> (BTreeSet<usize>, Vec<Warning>, bool) {
    let mut targets = BTreeSet::new();
    let mut warnings = Vec::new();
    let Content::Text(bytes) = &node.content else {
        return (targets, warnings, true);
    };
    let from = &node.source.logical;
    let result = rewrite(node.format, bytes, &node.charset, |r| {
        match resolver.resolve(from, &r.value, r.role) {
            Resolution::Target(t) => {
                targets.insert(t);
            }
            Resolution::Untouchable => {}
            Resolution::Problem(WarningKind::BrokenReference { resolved, .. })
                if ignored.is_some_and(|set| set.is_match(&resolved)) => {}
            Resolution::Problem(kind) => warnings.push(Warning {
                file: from.to_string(),
                line: Some(r.line),
                column: Some(r.column),
                kind,
            }),
        }
        Edit::default()
    });
    match result {
        Ok(_) => (targets, warnings, true),
        Err(message) => {
            warnings.push(Warning {
                file: from.to_string(),
                line: None,
                column: None,
                kind: WarningKind::NotRewritten { message },
            });
            (BTreeSet::new(), warnings, false)
        }
    }
}

struct NamingContext<'a> {
    nodes: &'a [Node],
    resolver: &'a Resolver<'a>,
    base_url: &'a str,
    rewritable: &'a [bool],
    options: &'a BuildOptions,
}

/// Names every node: the strongly connected components of the reference graph (edges to
/// entry points do not count: their names never change), grouped into levels so that each
/// level depends only on earlier ones, each level in parallel.
fn name_all(
    ctx: &NamingContext<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Named>, BuildError> {
    let nodes = ctx.nodes;
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            n.references
                .iter()
                .copied()
                .filter(|&t| !nodes[t].entry_point)
                .collect()
        })
        .collect();
    let components = components_in_dependency_order(&edges);
    let mut component_of = vec![0; nodes.len()];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m] = c;
        }
    }
    let mut level = vec![0usize; components.len()];
    for (c, members) in components.iter().enumerate() {
        level[c] = members
            .iter()
            .flat_map(|&m| &edges[m])
            .map(|&d| component_of[d])
            .filter(|&dc| dc != c)
            .map(|dc| level[dc] + 1)
            .max()
            .unwrap_or(0);
    }
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for (c, &l) in level.iter().enumerate() {
        if levels.len() <= l {
            levels.resize(l + 1, Vec::new());
        }
        levels[l].push(c);
    }

    let mut named: Vec<Option<Named>> = vec![None; nodes.len()];
    for level_components in levels {
        let results: Vec<Vec<(usize, Named, Option<Warning>)>> = level_components
            .par_iter()
            .map(|&c| {
                let members = &components[c];
                let cycle = members.len() > 1 || edges[members[0]].contains(&members[0]);
                if cycle {
                    name_cycle(ctx, members, &named)
                } else {
                    name_one(ctx, members[0], &named, None).map(|(n, w)| vec![(members[0], n, w)])
                }
            })
            .collect::<Result<_, _>>()?;
        for (i, n, warning) in results.into_iter().flatten() {
            named[i] = Some(n);
            warnings.extend(warning);
        }
    }
    Ok(named
        .into_iter()
        .map(|n| n.expect("every node is named"))
        .collect())
}

/// Names a node whose dependencies are all named (`named` holds them). A member of a cycle
/// gets the fingerprint computed for it over the whole cycle.
fn name_one(
    ctx: &NamingContext<'_>,
    i: usize,
    named: &[Option<Named>],
    cycle_fingerprint: Option<&str>,
) -> Result<(Named, Option<Warning>), BuildError> {
    let node = &ctx.nodes[i];
    let logical = &node.source.logical;
    let (bytes, digest, size) = match &node.content {
        Content::File { digest, size, .. } => (None, *digest, *size),
        Content::Text(text) => {
            let mut rewritten = if ctx.rewritable[i] {
                rewrite_text(ctx, node, text, named)?
            } else {
                text.clone()
            };
            if let (Format::Html, Some(snippet)) = (node.format, &ctx.options.inject_html) {
                if ctx.rewritable[i] {
                    rewritten = crate::html::inject(&rewritten, &node.charset, snippet).map_err(
                        |message| BuildError::Rewrite {
                            path: logical.to_string(),
                            message,
                        },
                    )?;
                }
            }
            let digest = sha256(&rewritten);
            let size = rewritten.len() as u64;
            (Some(rewritten), digest, size)
        }
    };
    let head = match (&bytes, &node.content) {
        (Some(b), _) => &b[..b.len().min(1024)],
        (None, Content::File { head, .. }) => head.as_slice(),
        (None, Content::Text(_)) => &[][..],
    };
    let mut warning = None;
    let served = if node.entry_point {
        logical.clone()
    } else if node.already_hashed && cycle_fingerprint.is_none() {
        let unchanged = match (&bytes, &node.content) {
            (Some(b), Content::Text(original)) => b == original,
            _ => true,
        };
        if unchanged {
            logical.clone()
        } else {
            // Its name no longer covers its bytes: fingerprint it after all, so no browser
            // keeps stale bytes under a name it was told never changes.
            warning = Some(Warning {
                file: logical.to_string(),
                line: None,
                column: None,
                kind: WarningKind::NotRewritten {
                    message: "marked as already hashed, but it references files assetc renames, so it is fingerprinted too".into(),
                },
            });
            fingerprinted_name(logical, &fingerprint(&digest))
        }
    } else {
        fingerprinted_name(logical, cycle_fingerprint.unwrap_or(&fingerprint(&digest)))
    };
    // SRI costs a SHA-384 of every text file: needed now only to write `integrity`
    // attributes; otherwise `write_entry` computes it for the files it writes, and a
    // reused entry keeps the previous build's.
    let integrity = if ctx.options.sri {
        bytes.as_ref().map(|b| integrity(&Sha384::digest(b)))
    } else {
        None
    };
    let content_type = content_type::content_type(logical.as_str(), head);
    Ok((
        Named {
            served,
            digest,
            size,
            content_type,
            bytes,
            integrity,
        },
        warning,
    ))
}

/// Names the members of a cycle as one unit: their fingerprints derive from the content of
/// the whole component (with references inside the cycle as written), so a change to any
/// member renames every member, deterministically.
fn name_cycle(
    ctx: &NamingContext<'_>,
    members: &[usize],
    named: &[Option<Named>],
) -> Result<Vec<(usize, Named, Option<Warning>)>, BuildError> {
    let mut hasher = Sha256::new();
    for &i in members {
        let (partial, _) = name_one(ctx, i, named, Some("-"))?;
        let logical = ctx.nodes[i].source.logical.as_str();
        hasher.update((logical.len() as u64).to_le_bytes());
        hasher.update(logical.as_bytes());
        hasher.update(partial.digest);
    }
    let component_digest: Digest = hasher.finalize().into();
    let mut scratch = named.to_vec();
    let mut fingerprints = Vec::with_capacity(members.len());
    for &i in members {
        let mut h = Sha256::new();
        h.update(component_digest);
        h.update(ctx.nodes[i].source.logical.as_str().as_bytes());
        let fp = fingerprint(&h.finalize().into());
        let node = &ctx.nodes[i];
        let served = if node.entry_point {
            node.source.logical.clone()
        } else {
            fingerprinted_name(&node.source.logical, &fp)
        };
        scratch[i] = Some(Named {
            served,
            digest: [0; 32],
            size: 0,
            content_type: String::new(),
            bytes: None,
            integrity: None,
        });
        fingerprints.push(fp);
    }
    members
        .iter()
        .zip(&fingerprints)
        .map(|(&i, fp)| name_one(ctx, i, &scratch, Some(fp)).map(|(n, w)| (i, n, w)))
        .collect()
}

/// Rewrites a text file's references to the served names of their targets.
fn rewrite_text(
    ctx: &NamingContext<'_>,
    node: &Node,
    text: &[u8],
    named: &[Option<Named>],
) -> Result<Vec<u8>, BuildError> {
    let from = &node.source.logical;
    let cross_origin = !ctx.base_url.starts_with('/');
    rewrite(node.format, text, &node.charset, |r: &FoundRef| {
        let (Resolution::Target(target), Some(local)) =
            ctx.resolver.resolve_local(from, &r.value, r.role)
        else {
            return Edit::default();
        };
        let Some(target_named) = named[target].as_ref() else {
            return Edit::default();
        };
        let url = new_reference(
            &local,
            ctx.resolver.logical(target),
            &target_named.served,
            ctx.base_url,
        );
        let integrity = if ctx.options.sri && r.takes_integrity {
            target_named.integrity.clone()
        } else {
            None
        };
        Edit {
            url,
            integrity,
            cross_origin,
        }
    })
    .map_err(|message| BuildError::Rewrite {
        path: from.to_string(),
        message,
    })
}

/// The reference rewritten to a fingerprinted name, or None when the target keeps its path.
fn new_reference(
    local: &LocalRef<'_>,
    logical: &LogicalPath,
    served: &LogicalPath,
    base_url: &str,
) -> Option<String> {
    if served == logical {
        return None;
    }
    Some(if base_url == "/" {
        local.with_file_name(served.file_name())
    } else {
        local.under_base(base_url, served.as_str())
    })
}

/// Resolves references as written to nodes.
struct Resolver<'a> {
    index: &'a HashMap<LogicalPath, usize>,
    paths: &'a [LogicalPath],
}

enum Resolution {
    Untouchable,
    Target(usize),
    Problem(WarningKind),
}

impl Resolver<'_> {
    fn logical(&self, target: usize) -> &LogicalPath {
        &self.paths[target]
    }

    fn resolve(&self, from: &LogicalPath, raw: &str, role: Role) -> Resolution {
        self.resolve_local(from, raw, role).0
    }

    /// Resolves a reference, and returns the split of it that resolved (a `%23` may have
    /// been read as a fragment).
    fn resolve_local<'r>(
        &self,
        from: &LogicalPath,
        raw: &'r str,
        role: Role,
    ) -> (Resolution, Option<LocalRef<'r>>) {
        let Reference::Local(local) = classify(raw) else {
            return (Resolution::Untouchable, None);
        };
        let first = self.resolve_path(from, &local, role);
        if let Resolution::Problem(WarningKind::BrokenReference { .. }) = first {
            if let Some(split) = local.with_encoded_fragment() {
                if let Resolution::Target(i) = self.resolve_path(from, &split, role) {
                    return (Resolution::Target(i), Some(split));
                }
            }
        }
        (first, Some(local))
    }

    fn resolve_path(&self, from: &LogicalPath, local: &LocalRef<'_>, role: Role) -> Resolution {
        let reference = local.trimmed.to_owned();
        let path = decode_char_refs(local.path);
        let decoded = match (LocalRef {
            path: &path,
            ..local.clone()
        })
        .decoded_path()
        {
            Ok(d) => d,
            Err(_) => return Resolution::Problem(WarningKind::Undecodable { reference }),
        };
        let resolved = match from.resolve(&decoded) {
            Ok(p) => p,
            Err(_) => return Resolution::Problem(WarningKind::OutsideRoot { reference }),
        };
        if let Some(&i) = self.index.get(&resolved) {
            return Resolution::Target(i);
        }
        if role == Role::Navigation && !decoded.ends_with('/') {
            // Clean URLs: `/about` names `about.html` or `about/index.html`.
            for candidate in [format!("{resolved}.html"), format!("{resolved}/index.html")] {
                if let Some(&i) = LogicalPath::new(candidate)
                    .ok()
                    .and_then(|p| self.index.get(&p))
                {
                    return Resolution::Target(i);
                }
            }
        }
        Resolution::Problem(WarningKind::BrokenReference {
            reference,
            resolved: resolved.to_string(),
        })
    }
}

/// What writing an entry produced: its integrity and its variants.
type Written = (String, BTreeMap<String, Variant>);

/// Writes a node's served file and its variants.
fn write_entry(
    node: &Node,
    named: &Named,
    target: &Path,
    compress: &CompressOptions,
) -> Result<Written, BuildError> {
    let integrity = match &named.bytes {
        Some(bytes) => {
            fs::write(target, bytes).map_err(BuildError::io(target))?;
            named
                .integrity
                .clone()
                .unwrap_or_else(|| integrity(&Sha384::digest(bytes)))
        }
        None => copy_verified(&node.source.path, target, &named.digest)?,
    };
    let mut variants = BTreeMap::new();
    if compressible(&named.content_type) && named.size >= compress.min_size {
        for &coding in &compress.codings {
            let path = PathBuf::from(format!("{}{}", target.display(), coding.suffix()));
            let (size, digest) =
                compress_file(target, &path, coding).map_err(BuildError::io(&path))?;
            if (size as f64) <= named.size as f64 * (1.0 - compress.min_saving) {
                variants.insert(
                    coding.token().to_owned(),
                    Variant {
                        etag: strong_etag(&digest),
                        path: format!("{}{}", named.served, coding.suffix()),
                        sha256: hex(&digest),
                        size,
                    },
                );
            } else {
                fs::remove_file(&path).map_err(BuildError::io(&path))?;
            }
        }
    }
    Ok((integrity, variants))
}

/// Hard-links an entry and its variants from the current output into the staging tree.
fn link_entry(output: &Path, staging: &Path, entry: &Entry) -> std::io::Result<()> {
    let paths = std::iter::once(entry.path.as_str())
        .chain(entry.variants.values().map(|v| v.path.as_str()));
    for path in paths {
        let (from, to) = (output.join(path), staging.join(path));
        let meta = fs::symlink_metadata(&from)?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a file"));
        }
        match fs::hard_link(&from, &to) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
    }
    Ok(())
}

fn create_parent(path: &Path) -> Result<(), BuildError> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent).map_err(BuildError::io(parent)),
        None => Ok(()),
    }
}

/// The kept generations, newest first: the newest `keep`, and any younger than `keep_age`.
pub fn retain(
    generations: Vec<Generation>,
    now: i64,
    keep: usize,
    keep_age: i64,
) -> Vec<Generation> {
    generations
        .into_iter()
        .enumerate()
        .filter(|(i, g)| *i == 0 || *i < keep || now - g.built_at < keep_age)
        .map(|(_, g)| g)
        .collect()
}

fn totals(manifest: &Manifest, report: &mut BuildReport) {
    for entry in manifest.entries.values() {
        report.bytes += entry.size;
        for (coding, variant) in &entry.variants {
            let t = report.variants.entry(coding.clone()).or_default();
            t.files += 1;
            t.identity_bytes += entry.size;
            t.encoded_bytes += variant.size;
        }
    }
}

thread_local! {
    /// One read buffer per worker: a fresh zeroed 256 KiB per file costs more than hashing
    /// a small file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 * 1024]);
}

/// Hashes a file as a stream: SHA-256, size, and its first KiB (for the charset).
fn hash_file(path: &Path) -> Result<(Digest, u64, Vec<u8>), BuildError> {
    BUFFER.with(|b| hash_file_with(path, &mut b.borrow_mut()))
}

fn hash_file_with(path: &Path, buf: &mut [u8]) -> Result<(Digest, u64, Vec<u8>), BuildError> {
    let mut reader = fs::File::open(path).map_err(BuildError::io(path))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BuildError::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        };
        if head.len() < 1024 {
            head.extend_from_slice(&buf[..n.min(1024 - head.len())]);
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hasher.finalize().into(), size, head))
}

/// Copies `from` to `to`, checking that the bytes still hash to `expected` (the file may
/// have changed since it was hashed); returns the SRI of the bytes.
fn copy_verified(from: &Path, to: &Path, expected: &Digest) -> Result<String, BuildError> {
    BUFFER.with(|b| copy_verified_with(from, to, expected, &mut b.borrow_mut()))
}

fn copy_verified_with(
    from: &Path,
    to: &Path,
    expected: &Digest,
    buf: &mut [u8],
) -> Result<String, BuildError> {
    let mut reader = fs::File::open(from).map_err(BuildError::io(from))?;
    // Whole chunks go straight to the file: no second buffer.
    let mut writer = fs::File::create(to).map_err(BuildError::io(to))?;
    let mut sha256 = Sha256::new();
    let mut sha384 = Sha384::new();
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BuildError::Io {
                    path: from.to_path_buf(),
                    source: e,
                })
            }
        };
        sha256.update(&buf[..n]);
        sha384.update(&buf[..n]);
        writer.write_all(&buf[..n]).map_err(BuildError::io(to))?;
    }
    if &<[u8; 32]>::from(sha256.finalize()) != expected {
        return Err(BuildError::ChangedDuringBuild {
            path: from.to_path_buf(),
        });
    }
    Ok(integrity(&sha384.finalize()))
}

/// The build currently in the output.
struct Previous {
    manifest: Manifest,
    generations: Generations,
    config_key: Option<String>,
    root: PathBuf,
}

impl Previous {
    fn read(output: &Path) -> Result<Option<Self>, BuildError> {
        let Some(manifest) = read_previous_manifest(output)? else {
            return Ok(None);
        };
        let path = output.join(GENERATIONS_FILE);
        let generations = match fs::read(&path) {
            Ok(bytes) => {
                Generations::from_json(&bytes).map_err(|e| BuildError::PreviousManifest {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Generations::default(),
            Err(e) => return Err(BuildError::Io { path, source: e }),
        };
        let config_key = generations.generations.first().map(|g| g.config.clone());
        Ok(Some(Self {
            manifest,
            generations,
            config_key,
            root: output.to_path_buf(),
        }))
    }

    /// The manifest of a kept generation.
    fn generation_manifest(&self, id: &str) -> Option<Manifest> {
        let bytes = fs::read(self.root.join(generation_manifest_path(id))).ok()?;
        Manifest::from_json(&bytes).ok()
    }

    /// Entries whose files the output holds, by served path, if they were produced with the
    /// same configuration (so their variants are what this build would write).
    fn reusable(&self, config_key: &str) -> HashMap<String, Entry> {
        if self.config_key.as_deref() != Some(config_key) {
            return HashMap::new();
        }
        let mut map: HashMap<String, Entry> = HashMap::new();
        let older = self
            .generations
            .generations
            .iter()
            .skip(1)
            .filter_map(|g| self.generation_manifest(&g.id));
        for manifest in std::iter::once(self.manifest.clone()).chain(older) {
            for entry in manifest.entries.into_values() {
                map.entry(entry.path.clone()).or_insert(entry);
            }
        }
        map
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

/// The manifest of the build currently in `output`, if there is one.
fn read_previous_manifest(output: &Path) -> Result<Option<Manifest>, BuildError> {
    let path = output.join(MANIFEST_FILE_NAME);
    match fs::read(&path) {
        Ok(bytes) => {
            Manifest::from_json(&bytes)
                .map(Some)
                .map_err(|e| BuildError::PreviousManifest {
                    path,
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = match fs::read_dir(output) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => {
                    return Err(BuildError::Io {
                        path: output.to_path_buf(),
                        source: e,
                    })
                }
            };
            if empty {
                Ok(None)
            } else {
                Err(BuildError::NotABuild {
                    path: output.to_path_buf(),
                })
            }
        }
        Err(e) => Err(BuildError::Io { path, source: e }),
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

    #[test]
    fn retention_keeps_the_newest_n_and_the_young() {
        let g = |id: &str, built_at| Generation {
            built_at,
            id: id.into(),
            config: String::new(),
        };
        let all = vec![
            g("e", 10_000),
            g("d", 9_000),
            g("c", 8_000),
            g("b", 7_000),
            g("a", 1_000),
        ];
        let ids = |v: Vec<Generation>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
        assert_eq!(
            ids(retain(all.clone(), 10_000, 2, 3600)),
            ["e", "d", "c", "b"]
        );
        assert_eq!(ids(retain(all.clone(), 100_000, 2, 3600)), ["e", "d"]);
        assert_eq!(
            ids(retain(all.clone(), 100_000, 0, 0)),
            ["e"],
            "the newest is always kept"
        );
        assert_eq!(ids(retain(all, 100_000, 10, 0)).len(), 5);
    }
}
