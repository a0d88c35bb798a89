//! Naming, leaves first: the reference graph's strongly connected components named level by
//! level (each level in parallel, every result placed by index), each file's references
//! rewritten to the served names of its targets before its own bytes are hashed.

use assetc_core::fingerprint::{integrity, sha256};
use assetc_core::url_ref::LocalRef;
use assetc_core::{content_type, fingerprint, fingerprinted_name, Digest, LogicalPath};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256, Sha384};

use crate::build::graph::components_in_dependency_order;
use crate::build::load::{Content, Node};
use crate::build::options::BuildOptions;
use crate::build::resolve::{Resolution, Resolver};
use crate::error::{BuildError, Warning, WarningKind};
use crate::scan::{html, rewrite, Edit, Format, FoundRef};

/// A node's final name and bytes.
#[derive(Clone)]
pub(crate) struct Named {
    pub served: LogicalPath,
    pub digest: Digest,
    pub size: u64,
    pub content_type: String,
    /// Final bytes of text; None for files copied as they are.
    pub bytes: Option<Vec<u8>>,
    /// SRI of text, known as soon as it is named (files get theirs when written).
    pub integrity: Option<String>,
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
}

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
                    rewritten =
                        html::inject(&rewritten, &node.charset, snippet).map_err(|source| {
                            BuildError::Rewrite {
                                path: logical.to_string(),
                                source,
                            }
                        })?;
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
    })
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
