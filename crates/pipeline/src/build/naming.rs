//! Naming, leaves first: the reference graph's strongly connected components named level by
//! level (each level in parallel, every result placed by index), each file's references
//! rewritten to the served names of its targets before its own bytes are hashed.

use std::fs;
use std::path::Path;

use assetc_core::fingerprint::{integrity, sha256};
use assetc_core::url_ref::LocalRef;
use assetc_core::{content_type, fingerprint, fingerprinted_name, Digest, LogicalPath};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::build::graph::components_in_dependency_order;
use crate::build::load::{Content, Node};
use crate::build::options::BuildOptions;
use crate::build::resolve::{Resolution, Resolver};
use crate::error::{BuildError, Warning, WarningKind};
use crate::output::scan_cache::{CachedName, ScanCache};
use crate::output::staging::create_parent;
use crate::scan::{html, rewrite, rewrite_spliced, Edit, Format, FoundRef};

/// A node's final name and bytes.
#[derive(Clone)]
pub(crate) struct Named {
    pub served: LogicalPath,
    pub digest: Digest,
    pub size: u64,
    pub content_type: String,
    pub bytes: FinalBytes,
    /// SRI: of text when SRI is on or the text was written when named; other files get
    /// theirs when written.
    pub integrity: Option<String>,
}

/// Where a named file's final bytes come from when it is written.
#[derive(Clone)]
pub(crate) enum FinalBytes {
    /// The source as it is (copied and verified against the digest).
    Source,
    /// Rewritten text, held since naming: a cycle's members, which are written once the
    /// whole cycle is named (and, briefly, a text named alone until [`write_named`]).
    Held(Vec<u8>),
    /// Rewritten text already in the staging tree: a text named alone is written as soon as
    /// it is named, so no text is held from one phase to the next and none is made twice.
    Written,
    /// Rewritten text whose naming the scan cache answered: made again by [`final_bytes`]
    /// if it has to be written.
    Rewrite,
}

/// What a node's references are rewritten against: the names of the nodes so far (while
/// naming) or of all of them (when writing).
#[derive(Clone, Copy)]
enum Base<'n> {
    Naming(&'n [Option<Named>]),
    Named(&'n [Named]),
}

/// The names a node's references are rewritten to: the nodes named so far, and while a
/// cycle is named, its members' provisional names over them (an overlay, so that naming a
/// cycle never copies what the rest of the build has named, its text included).
#[derive(Clone, Copy)]
struct Names<'n> {
    base: Base<'n>,
    cycle: Option<&'n std::collections::HashMap<usize, Named>>,
}

impl<'n> Names<'n> {
    fn of(named: &'n [Option<Named>]) -> Self {
        Self {
            base: Base::Naming(named),
            cycle: None,
        }
    }

    fn get(&self, i: usize) -> Option<&'n Named> {
        self.cycle
            .and_then(|cycle| cycle.get(&i))
            .or(match self.base {
                Base::Naming(named) => named[i].as_ref(),
                Base::Named(named) => Some(&named[i]),
            })
    }
}

/// The final bytes of node `i` as naming made them, made again: its source (checked to be
/// the loaded one) rewritten against every node's final name. Only for a node named alone
/// (`FinalBytes::Rewrite`): its targets were all named when it was, so it comes out the
/// same, which the digest confirms.
pub(crate) fn final_bytes(
    ctx: &NamingContext<'_>,
    i: usize,
    named: &[Named],
) -> Result<Vec<u8>, BuildError> {
    let node = &ctx.nodes[i];
    let text = node.text()?.expect("only text is rewritten");
    let names = Names {
        base: Base::Named(named),
        cycle: None,
    };
    let bytes = final_text(ctx, i, &text, names)?;
    if sha256(&bytes) != named[i].digest {
        // The source was checked; rewriting it the same way gives the same bytes.
        return Err(BuildError::ChangedDuringBuild {
            path: node.source.path.clone(),
        });
    }
    Ok(bytes)
}

/// A text node's final bytes: its references rewritten (when its scan parsed) and the HTML
/// snippet injected.
fn final_text(
    ctx: &NamingContext<'_>,
    i: usize,
    text: &[u8],
    names: Names<'_>,
) -> Result<Vec<u8>, BuildError> {
    let node = &ctx.nodes[i];
    // Only a reference that resolved is ever rewritten (`rewrite_text`), so a stylesheet or
    // script whose scan resolved none comes out as it went in: not parsed a second time.
    // A page still goes through, for the snippet `assetc dev` injects.
    let unchanged = node.format != Format::Html && ctx.positions[i].is_empty();
    if !ctx.rewritable[i] || unchanged {
        return Ok(text.to_vec());
    }
    let rewritten = rewrite_text(ctx, node, text, names)?;
    match (node.format, &ctx.options.inject_html) {
        (Format::Html, Some(snippet)) => {
            html::inject(&rewritten, &node.charset, snippet).map_err(|source| BuildError::Rewrite {
                path: node.source.logical.to_string(),
                source,
            })
        }
        _ => Ok(rewritten),
    }
}

/// What naming reads: the loaded nodes, how their references resolve, and the options.
pub(crate) struct NamingContext<'a> {
    pub nodes: &'a [Node],
    pub resolver: &'a Resolver,
    /// The normalised base URL.
    pub base_url: &'a str,
    /// Per node: whether its scan parsed (a file that did not is kept as written).
    pub rewritable: &'a [bool],
    pub options: &'a BuildOptions,
    /// Per node: `(line, column, target)` of each reference that resolved, in order.
    pub positions: &'a [Vec<(u32, u32, usize)>],
    /// Naming results of earlier builds.
    pub cache: &'a ScanCache,
    /// The staging tree, where a text named alone is written as soon as it is named.
    pub staging: &'a Path,
}

impl<'a> NamingContext<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        nodes: &'a [Node],
        resolver: &'a Resolver,
        base_url: &'a str,
        rewritable: &'a [bool],
        positions: &'a [Vec<(u32, u32, usize)>],
        cache: &'a ScanCache,
        options: &'a BuildOptions,
        staging: &'a Path,
    ) -> Self {
        Self {
            nodes,
            resolver,
            base_url,
            rewritable,
            positions,
            cache,
            options,
            staging,
        }
    }

    /// The key of node `i`'s naming in the scan cache: its bytes (by digest), everything
    /// its rewrite reads (format, charset, whether it parsed, the base URL, SRI, the
    /// injected snippet, its path for the content type), and for each reference that
    /// resolved, in order, the target and the name and integrity it is rewritten to.
    fn name_key(&self, i: usize, names: Names<'_>) -> Option<Digest> {
        let node = &self.nodes[i];
        let mut key = node.cache_key("name");
        key.add(node.source.logical.as_str().as_bytes())
            .add(&[u8::from(self.rewritable[i]), u8::from(self.options.sri)])
            .add(self.base_url.as_bytes())
            .add(
                self.options
                    .inject_html
                    .as_deref()
                    .unwrap_or("\0")
                    .as_bytes(),
            );
        for &(line, column, target) in &self.positions[i] {
            key.add(&line.to_le_bytes()).add(&column.to_le_bytes());
            key.add(self.nodes[target].source.logical.as_str().as_bytes());
            if self.nodes[target].entry_point {
                key.add(b"entry point");
                continue;
            }
            // A target not named yet (only an entry point can be) cannot be keyed.
            let named = names.get(target)?;
            key.add(named.served.as_str().as_bytes());
            // Read by the rewrite only with SRI on; without it a target's SRI is known or
            // not depending on whether it was written when named or answered by the cache.
            if self.options.sri {
                key.add(named.integrity.as_deref().unwrap_or("").as_bytes());
            }
        }
        Some(key.finish())
    }
}

/// Writes a text named alone into the staging tree now, with its SRI, while its rewritten
/// bytes are in hand: otherwise they would be held until the write phase or, past a memory
/// budget, read, checked and rewritten again then (15 % of a cold build's CPU at 100,000
/// files).
fn write_named(ctx: &NamingContext<'_>, named: &mut Named) -> Result<(), BuildError> {
    if !matches!(named.bytes, FinalBytes::Held(_)) {
        return Ok(());
    }
    let FinalBytes::Held(bytes) = std::mem::replace(&mut named.bytes, FinalBytes::Written) else {
        unreachable!("checked above");
    };
    let target = ctx.staging.join(named.served.as_str());
    // The write phase creates every directory once; a file named before it creates its own.
    match fs::write(&target, &bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_parent(&target)?;
            fs::write(&target, &bytes).map_err(BuildError::io(&target))?;
        }
        written => written.map_err(BuildError::io(&target))?,
    }
    if named.integrity.is_none() {
        named.integrity = Some(integrity(&named.content_type, &named.digest, &bytes));
    }
    Ok(())
}

/// How many components are named before their results are placed.
const NAMED_AT_ONCE: usize = 4096;

/// Names every node: the strongly connected components of the reference graph (edges to
/// entry points do not count: their names never change), grouped into levels so that each
/// level depends only on earlier ones, each level in parallel.
pub(crate) fn name_all(
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
    // A level's components depend only on lower levels, so a level is named a slice at a
    // time: the results waiting to be placed stay a few thousand, not the whole first
    // level (most of the tree; 17 MB at 100,000 files).
    for level_components in levels.iter().flat_map(|l| l.chunks(NAMED_AT_ONCE)) {
        let results: Vec<Vec<(usize, Named, Option<Warning>)>> = level_components
            .par_iter()
            .map(|&c| {
                let members = &components[c];
                let cycle = members.len() > 1 || edges[members[0]].contains(&members[0]);
                if cycle {
                    name_cycle(ctx, members, &named)
                } else {
                    let (mut n, w) = name_one(ctx, members[0], Names::of(&named), Rule::Alone)?;
                    write_named(ctx, &mut n)?;
                    Ok(vec![(members[0], n, w)])
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

/// How a node is named: alone, from the digest of its own final bytes, or as a member of a
/// cycle, from the fingerprint computed for it over the whole cycle.
#[derive(Clone, Copy)]
enum Rule<'a> {
    Alone,
    Cycle {
        fingerprint: &'a str,
        /// An already-hashed member that the cycle lets keep its name: it keeps it if its
        /// bytes come out unchanged (the other members were rewritten on that assumption,
        /// which `name_cycle` checks).
        keep: bool,
    },
}

/// A named node's final bytes (or where they come from), digest, size, content type and
/// SRI.
type Made = (FinalBytes, Digest, u64, String, Option<String>);

/// Names a node whose dependencies are all named (`names` holds them).
fn name_one(
    ctx: &NamingContext<'_>,
    i: usize,
    names: Names<'_>,
    rule: Rule<'_>,
) -> Result<(Named, Option<Warning>), BuildError> {
    let made = match &ctx.nodes[i].content {
        Content::File {
            digest,
            size,
            content_type,
            ..
        } => (
            FinalBytes::Source,
            *digest,
            *size,
            content_type.clone(),
            None,
        ),
        // Named alone, a text's result is cached: a rebuild with the same key neither reads
        // nor rewrites it (it is rewritten again only if it must be written).
        Content::Text { .. } if matches!(rule, Rule::Alone) => match ctx.name_key(i, names) {
            Some(key) => {
                let mut held = None;
                let cached = ctx.cache.name(key, || {
                    let (bytes, digest, size, content_type, integrity) =
                        name_text(ctx, i, names, rule)?;
                    let unchanged = matches!(bytes, FinalBytes::Source);
                    held = Some(bytes);
                    Ok::<_, BuildError>(CachedName {
                        digest,
                        size,
                        content_type,
                        integrity,
                        unchanged,
                    })
                })?;
                let bytes = held.unwrap_or(if cached.unchanged {
                    FinalBytes::Source
                } else {
                    FinalBytes::Rewrite
                });
                (
                    bytes,
                    cached.digest,
                    cached.size,
                    cached.content_type,
                    cached.integrity,
                )
            }
            None => name_text(ctx, i, names, rule)?,
        },
        Content::Text { .. } => name_text(ctx, i, names, rule)?,
    };
    Ok(finish(ctx, i, rule, made))
}

/// A text node's final bytes, made now, and whether they are held.
fn name_text(
    ctx: &NamingContext<'_>,
    i: usize,
    names: Names<'_>,
    rule: Rule<'_>,
) -> Result<Made, BuildError> {
    let node = &ctx.nodes[i];
    let text = node.text()?.expect("a text node has text");
    let rewritten = final_text(ctx, i, &text, names)?;
    // Text that comes out as it went in has the digest it was loaded with (`text` checked
    // it): hashed once, not twice.
    let unchanged = rewritten == text;
    let digest = if unchanged {
        *node.digest().0
    } else {
        sha256(&rewritten)
    };
    let size = rewritten.len() as u64;
    let head = &rewritten[..rewritten.len().min(1024)];
    let content_type = content_type::content_type(node.source.logical.as_str(), head);
    // A script's or stylesheet's SRI costs a SHA-384: needed now only to write `integrity`
    // attributes; otherwise `write_named` and `write_entry` compute it for the files they
    // write, and a reused entry keeps the previous build's.
    let integrity = ctx
        .options
        .sri
        .then(|| integrity(&content_type, &digest, &rewritten));
    // Text that comes out as it went in is not held twice: it is written from the source,
    // verified against this digest as a copied file is.
    let bytes = if unchanged {
        FinalBytes::Source
    } else {
        let mut rewritten = rewritten;
        if matches!(rule, Rule::Cycle { .. }) {
            // Held until the whole cycle is written: no spare capacity.
            rewritten.shrink_to_fit();
        }
        FinalBytes::Held(rewritten)
    };
    Ok((bytes, digest, size, content_type, integrity))
}

/// Node `i`'s name, from its final bytes.
fn finish(
    ctx: &NamingContext<'_>,
    i: usize,
    rule: Rule<'_>,
    (bytes, digest, size, content_type, integrity): Made,
) -> (Named, Option<Warning>) {
    let node = &ctx.nodes[i];
    let logical = &node.source.logical;
    let unchanged = matches!(bytes, FinalBytes::Source);
    let own_fingerprint;
    let fingerprint = match rule {
        Rule::Cycle { fingerprint, .. } => fingerprint,
        Rule::Alone => {
            own_fingerprint = fingerprint(&digest);
            own_fingerprint.as_str()
        }
    };
    // An already-hashed file keeps its name while its bytes are its own; in a cycle, only
    // the members `name_cycle` lets keep theirs.
    let may_keep = match rule {
        Rule::Alone => node.already_hashed,
        Rule::Cycle { keep, .. } => keep,
    };
    let mut warning = None;
    let served = if node.entry_point || (may_keep && unchanged) {
        logical.clone()
    } else {
        if node.already_hashed {
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
        }
        fingerprinted_name(logical, fingerprint)
    };
    (
        Named {
            served,
            digest,
            size,
            content_type,
            bytes,
            integrity,
        },
        warning,
    )
}

/// Names the members of a cycle as one unit: their fingerprints derive from the content of
/// the whole component (with references inside the cycle as written), so a change to any
/// member renames every member, deterministically.
///
/// Already-hashed members (a bundler's chunks, which nearly always import each other) keep
/// their names as long as their bytes stay their own: that is, unless they reference a file
/// assetc renames, inside the cycle or out. Which members can keep theirs is the largest set
/// closed under that rule (found by removing, until nothing changes, every member that
/// references a renamed one), then checked against the bytes each member really comes out
/// with; a member whose bytes changed anyway is renamed and the cycle named again, so the
/// loop ends after at most one round per member.
fn name_cycle(
    ctx: &NamingContext<'_>,
    members: &[usize],
    named: &[Option<Named>],
) -> Result<Vec<(usize, Named, Option<Warning>)>, BuildError> {
    let mut hasher = Sha256::new();
    for &i in members {
        // References inside the cycle are left as written here (`named` has no member yet).
        let (partial, _) = name_one(ctx, i, Names::of(named), Rule::Alone)?;
        let logical = ctx.nodes[i].source.logical.as_str();
        hasher.update((logical.len() as u64).to_le_bytes());
        hasher.update(logical.as_bytes());
        hasher.update(partial.digest);
    }
    let component_digest: Digest = hasher.finalize().into();
    let fingerprints: Vec<String> = members
        .iter()
        .map(|&i| {
            let mut h = Sha256::new();
            h.update(component_digest);
            h.update(ctx.nodes[i].source.logical.as_str().as_bytes());
            fingerprint(&h.finalize().into())
        })
        .collect();
    let position: std::collections::HashMap<usize, usize> =
        members.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let mut keep: Vec<bool> = members
        .iter()
        .map(|&i| ctx.nodes[i].already_hashed && !ctx.nodes[i].entry_point)
        .collect();
    for _round in 0..=members.len() {
        drop_keepers_of_renamed(ctx, members, named, &position, &mut keep);
        let mut provisional = std::collections::HashMap::with_capacity(members.len());
        for (k, &i) in members.iter().enumerate() {
            let node = &ctx.nodes[i];
            let served = if node.entry_point || keep[k] {
                node.source.logical.clone()
            } else {
                fingerprinted_name(&node.source.logical, &fingerprints[k])
            };
            provisional.insert(
                i,
                Named {
                    served,
                    digest: [0; 32],
                    size: 0,
                    content_type: String::new(),
                    bytes: FinalBytes::Source,
                    integrity: None,
                },
            );
        }
        let scratch = Names {
            base: Base::Naming(named),
            cycle: Some(&provisional),
        };
        let results: Vec<(usize, Named, Option<Warning>)> = members
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let rule = Rule::Cycle {
                    fingerprint: &fingerprints[k],
                    keep: keep[k],
                };
                name_one(ctx, i, scratch, rule).map(|(n, w)| (i, n, w))
            })
            .collect::<Result<_, _>>()?;
        let mut consistent = true;
        for (k, (i, n, _)) in results.iter().enumerate() {
            if keep[k] && n.served != ctx.nodes[*i].source.logical {
                keep[k] = false;
                consistent = false;
            }
        }
        if consistent {
            return Ok(results);
        }
    }
    unreachable!("every inconsistent round renames a member, so the rounds end")
}

/// Clears `keep` for every member that references a file which does not keep its name:
/// a member of the cycle that is not kept (and not an entry point), or a file outside it
/// that was renamed; repeated until nothing changes.
fn drop_keepers_of_renamed(
    ctx: &NamingContext<'_>,
    members: &[usize],
    named: &[Option<Named>],
    position: &std::collections::HashMap<usize, usize>,
    keep: &mut [bool],
) {
    let renamed = |keep: &[bool], t: usize| match position.get(&t) {
        Some(&k) => !keep[k] && !ctx.nodes[t].entry_point,
        None => named[t]
            .as_ref()
            .is_some_and(|n| n.served != ctx.nodes[t].source.logical),
    };
    let mut changed = true;
    while changed {
        changed = false;
        for (k, &i) in members.iter().enumerate() {
            if keep[k] && ctx.nodes[i].references.iter().any(|&t| renamed(keep, t)) {
                keep[k] = false;
                changed = true;
            }
        }
    }
}

/// Rewrites a text file's references to the served names of their targets.
fn rewrite_text(
    ctx: &NamingContext<'_>,
    node: &Node,
    text: &[u8],
    names: Names<'_>,
) -> Result<Vec<u8>, BuildError> {
    let from = &node.source.logical;
    let cross_origin = !ctx.base_url.starts_with('/');
    let visit = |r: &FoundRef| {
        let (Resolution::Target(target), Some(local)) =
            ctx.resolver.resolve_local(from, &r.value, r.role)
        else {
            return Edit::default();
        };
        // An entry point keeps its name and gets no `integrity`, whether or not it is named
        // yet: skipped, so that a file rewritten again when written comes out the same.
        if ctx.nodes[target].entry_point {
            return Edit::default();
        }
        let Some(target_named) = names.get(target) else {
            return Edit::default();
        };
        let url = new_reference(
            &local,
            ctx.resolver.logical(target),
            &target_named.served,
            ctx.base_url,
        );
        // SRI only for fingerprinted targets: an entry point's bytes change under the same
        // URL, so a copy of this page cached anywhere would block the next version of it.
        let integrity = if ctx.options.sri && r.takes_integrity && !ctx.nodes[target].entry_point {
            target_named.integrity.clone()
        } else {
            None
        };
        Edit {
            url,
            integrity,
            cross_origin,
        }
    };
    // The scan of these very bytes (the key holds their digest) found each reference's
    // span: spliced there, the text is not parsed a second time.
    let spliced = std::str::from_utf8(text).ok().and_then(|source| {
        let scan = ctx.cache.scanned(&node.cache_key("scan").finish())?;
        Some((source, scan.spliced(source)?))
    });
    match spliced {
        Some((source, refs)) => rewrite_spliced(source, &refs, visit),
        None => rewrite(node.format, text, &node.charset, visit),
    }
    .map_err(|source| BuildError::Rewrite {
        path: from.to_string(),
        source,
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

#[cfg(test)]
mod tests {
    use std::fs;

    use assetc_core::Manifest;

    use crate::build::{build, BuildOptions, BuildReport};

    /// Builds `files` with `--already-hashed assets/**`: the report, the manifest, and the
    /// served file's text by logical path.
    fn build_hashed(files: &[(&str, &str)]) -> (BuildReport, Manifest, impl Fn(&str) -> String) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("in").join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let mut options = BuildOptions::new(dir.path().join("in"), dir.path().join("out"), 0);
        options.already_hashed = vec!["assets/**".into()];
        options.compress.codings.clear();
        let report = build(&options).unwrap();
        let manifest =
            Manifest::from_json(&fs::read(dir.path().join("out/assetc-manifest.json")).unwrap())
                .unwrap();
        let out = dir.path().join("out");
        let paths = manifest.entries.clone();
        let text = move |logical: &str| {
            let _keep = &dir;
            fs::read_to_string(out.join(&paths[logical].path)).unwrap()
        };
        (report, manifest, text)
    }

    /// Every file of the output directory `out` (records included) and its bytes.
    fn tree(out: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        walkdir::WalkDir::new(out)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let path = e
                    .path()
                    .strip_prefix(out)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (path, fs::read(e.path()).unwrap())
            })
            .collect()
    }

    #[test]
    fn text_rewritten_again_from_the_cache_is_byte_identical_to_text_written_when_named() {
        // A cold build writes each rewritten text as it is named; a rebuild with another
        // coding (nothing to reuse) whose scan cache answers every naming makes each text
        // again when it is written. Both give the same files, byte for byte: with SRI, an
        // injected snippet, a path base URL, a cycle, a page naming an entry point, and
        // text that needs no rewriting.
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("index.html", "<link rel=stylesheet href=css/a.css><script src=js/m.js type=module></script><a href=about.html>x</a><img src=img/i.svg>"),
            ("about.html", "<link rel=stylesheet href=css/a.css><script src=js/m.js></script>"),
            ("css/a.css", "@import 'b.css'; body { background: url(../img/i.svg) }"),
            ("css/b.css", "p { background: url(../img/i.svg) }"),
            ("js/m.js", "import './n.js'; import './plain.js';"),
            ("js/n.js", "import './m.js'; export const x = 1;"),
            ("js/plain.js", "export const y = 2;"),
            ("img/i.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ];
        for (path, text) in files {
            let path = dir.path().join("in").join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let build_with = |codings: Vec<assetc_core::Coding>| {
            let mut options = BuildOptions::new(dir.path().join("in"), dir.path().join("out"), 7);
            options.compress.codings = codings;
            options.compress.min_size = 0;
            options.sri = true;
            options.base_url = "/static/".into();
            options.inject_html = Some("<script>1</script>".into());
            build(&options).unwrap()
        };
        let first = build_with(Vec::new());
        assert_eq!(first.scan_cache.hits, 0);
        let cold = tree(&dir.path().join("out"));
        let again = build_with(vec![assetc_core::Coding::Gzip]);
        assert!(again.scan_cache.hits > 0, "{:?}", again.scan_cache);
        assert_eq!((again.written, again.reused), (files.len(), 0));
        let again = tree(&dir.path().join("out"));
        let served = |tree: &std::collections::BTreeMap<String, Vec<u8>>| -> Vec<String> {
            tree.keys()
                .filter(|p| {
                    !p.starts_with(".assetc") && !p.ends_with(".gz") && !p.ends_with(".json")
                })
                .cloned()
                .collect()
        };
        assert_eq!(served(&cold), served(&again));
        for path in served(&cold) {
            assert!(again[&path] == cold[&path], "`{path}` differs");
        }
        let page = String::from_utf8(cold["index.html"].clone()).unwrap();
        assert!(page.contains("integrity=\"sha384-"), "{page}");
        assert!(page.contains("/static/css/a."), "{page}");
    }

    fn served<'m>(manifest: &'m Manifest, logical: &str) -> &'m str {
        &manifest.entries[logical].path
    }

    #[test]
    fn a_cycle_of_already_hashed_chunks_keeps_every_name() {
        let (report, m, _) = build_hashed(&[
            (
                "index.html",
                r#"<script type="module" src="/assets/a-AAAAAAAA.js"></script>"#,
            ),
            (
                "assets/a-AAAAAAAA.js",
                r#"import("./b-BBBBBBBB.js"); import "./d-DDDDDDDD.js"; export const x = 1;"#,
            ),
            (
                "assets/b-BBBBBBBB.js",
                r#"import { x } from "./a-AAAAAAAA.js";"#,
            ),
            ("assets/d-DDDDDDDD.js", "export {};"),
        ]);
        assert_eq!(report.warnings, []);
        for logical in [
            "assets/a-AAAAAAAA.js",
            "assets/b-BBBBBBBB.js",
            "assets/d-DDDDDDDD.js",
        ] {
            assert_eq!(served(&m, logical), logical);
            assert!(m.entries[logical].immutable, "{logical} is still immutable");
        }
    }

    #[test]
    fn a_cycle_member_whose_bytes_change_is_renamed_and_so_is_what_names_it() {
        // b imports a file assetc renames, so b's bytes change and it needs a new name; a
        // names b, so a's bytes change too, and c names a: the change reaches every member,
        // and each gets the warning an acyclic already-hashed file gets.
        let (report, m, _) = build_hashed(&[
            (
                "assets/a-AAAAAAAA.js",
                r#"import "./b-BBBBBBBB.js"; import "./c-CCCCCCCC.js";"#,
            ),
            (
                "assets/b-BBBBBBBB.js",
                r#"import "./a-AAAAAAAA.js"; import "../plain.js";"#,
            ),
            ("assets/c-CCCCCCCC.js", r#"import "./a-AAAAAAAA.js";"#),
            ("plain.js", "1"),
        ]);
        let a = served(&m, "assets/a-AAAAAAAA.js");
        let b = served(&m, "assets/b-BBBBBBBB.js");
        let c = served(&m, "assets/c-CCCCCCCC.js");
        for (logical, served) in [("a-AAAAAAAA", a), ("b-BBBBBBBB", b), ("c-CCCCCCCC", c)] {
            assert!(
                served.starts_with(&format!("assets/{logical}.")),
                "{served}"
            );
            assert_ne!(served, format!("assets/{logical}.js"));
        }
        let mut warned: Vec<&str> = report.warnings.iter().map(|w| w.file.as_str()).collect();
        warned.sort_unstable();
        assert_eq!(
            warned,
            [
                "assets/a-AAAAAAAA.js",
                "assets/b-BBBBBBBB.js",
                "assets/c-CCCCCCCC.js"
            ]
        );
        assert!(report.warnings[0]
            .to_string()
            .contains("marked as already hashed"));
    }

    #[test]
    fn only_the_members_that_reach_a_renamed_file_are_renamed() {
        // p ↔ q, named by a file assetc renames (r imports q): being named by a renamed file
        // changes no byte of p or q, so they keep their names.
        let (report, m, _) = build_hashed(&[
            ("assets/p-PPPPPPPP.js", r#"import "./q-QQQQQQQQ.js";"#),
            ("assets/q-QQQQQQQQ.js", r#"import "./p-PPPPPPPP.js";"#),
            ("r.js", r#"import "./assets/q-QQQQQQQQ.js";"#),
        ]);
        assert_eq!(report.warnings, []);
        assert_eq!(served(&m, "assets/p-PPPPPPPP.js"), "assets/p-PPPPPPPP.js");
        assert_eq!(served(&m, "assets/q-QQQQQQQQ.js"), "assets/q-QQQQQQQQ.js");
        assert_ne!(served(&m, "r.js"), "r.js");
    }

    #[test]
    fn a_mixed_cycle_renames_the_plain_member_and_the_hashed_one_that_names_it() {
        let (report, m, text) = build_hashed(&[
            ("assets/a-AAAAAAAA.js", r#"import "../plain.js";"#),
            ("plain.js", r#"import "./assets/a-AAAAAAAA.js";"#),
        ]);
        let a = served(&m, "assets/a-AAAAAAAA.js").to_owned();
        let plain = served(&m, "plain.js").to_owned();
        assert_ne!(a, "assets/a-AAAAAAAA.js");
        assert_ne!(plain, "plain.js");
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert_eq!(report.warnings[0].file, "assets/a-AAAAAAAA.js");
        // Each names the other's new name.
        let file = |served: &str| served.rsplit('/').next().unwrap().to_owned();
        assert_eq!(
            text("plain.js"),
            format!(r#"import "./assets/{}";"#, file(&a))
        );
        assert_eq!(
            text("assets/a-AAAAAAAA.js"),
            format!(r#"import "../{}";"#, file(&plain))
        );
    }
}
