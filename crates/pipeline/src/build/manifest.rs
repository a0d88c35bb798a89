//! The manifest: one entry per source, with the validators the server will send, and which
//! entries the current output already holds (those are linked, not written again).

use std::collections::BTreeMap;

use assetc_core::fingerprint::hex;
use assetc_core::manifest::ManifestRef;
use assetc_core::{strong_etag, Entry, Manifest};

use crate::build::load::Node;
use crate::build::naming::Named;
use crate::build::resolve::Resolver;
use crate::error::BuildError;
use crate::output::records::Reusable;

/// The new manifest, and the nodes whose files must be written (by index, ascending).
pub(crate) struct Assembled {
    pub manifest: Manifest,
    pub to_write: Vec<usize>,
}

/// Builds the manifest of `nodes` as `named`. `previous` is the current output's manifest
/// (for Last-Modified), `reusable` what the output holds by served path.
pub(crate) fn assemble(
    nodes: &[Node],
    named: &[Named],
    resolver: &Resolver,
    base_url: &str,
    previous: Option<&Manifest>,
    reusable: &Reusable<'_>,
    build_time: i64,
) -> Result<Assembled, BuildError> {
    let mut manifest = Manifest::new(base_url.to_owned());
    let mut served_by: BTreeMap<&str, &str> = BTreeMap::new();
    let mut to_write = Vec::new();
    // Collected, then built in one go: inserted one by one in order, the map's nodes would
    // be left half full (`assetc_core::sorted_map`).
    let mut entries = Vec::with_capacity(nodes.len());
    for (i, (node, n)) in nodes.iter().zip(named).enumerate() {
        let logical = node.source.logical.as_str();
        if let Some(other) = served_by.insert(n.served.as_str(), logical) {
            return Err(BuildError::NameClash {
                a: other.into(),
                b: logical.into(),
                served: n.served.to_string(),
            });
        }
        let sha256 = hex(&n.digest);
        let last_modified = last_modified(
            previous.and_then(|p| p.entries.get(logical)),
            &sha256,
            build_time,
        );
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
                .map(|&t| resolver.logical(t).to_string())
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
        entries.push((logical.to_owned(), entry));
    }
    manifest.entries = entries.into_iter().collect();
    Ok(Assembled { manifest, to_write })
}

/// Whether [`assemble`] would make exactly `previous`, for a build whose options are those
/// `previous` was made with (so the entries it can reuse are its own). Decided without
/// making the new manifest: on a no-op rebuild that would be a second copy of the largest
/// thing the build holds.
pub(crate) fn unchanged(
    nodes: &[Node],
    named: &[Named],
    resolver: &Resolver,
    base_url: &str,
    previous: &ManifestRef<'_>,
) -> bool {
    if previous.base_url.as_str() != base_url || previous.entries.len() != nodes.len() {
        return false;
    }
    let mut served = std::collections::HashSet::with_capacity(nodes.len());
    nodes.iter().zip(named).all(|(node, n)| {
        let Some(old) = previous.entries.get(node.source.logical.as_str()) else {
            return false;
        };
        // With the same bytes at the same path, `assemble` carries over Last-Modified,
        // the integrity and the variants: only the rest can differ.
        served.insert(n.served.as_str())
            && old.path.as_str() == n.served.as_str()
            && old.sha256.as_str() == hex(&n.digest)
            && old.size == n.size
            && old.etag.as_str() == strong_etag(&n.digest)
            && old.content_type.as_str() == n.content_type
            && old.immutable != node.entry_point
            && old.references().is_ok_and(|references| {
                references.len() == node.references.len()
                    && references
                        .iter()
                        .zip(&node.references)
                        .all(|(a, &t)| a.as_str() == resolver.logical(t).as_str())
            })
    })
}

/// Last-Modified is when an entry's current bytes first appeared: carried over while its
/// SHA-256 is unchanged, otherwise the build time but never earlier than the previous value
/// plus one second, so that If-Modified-Since (one-second resolution, RFC 9110 §13.1.3)
/// never answers 304 for new bytes.
fn last_modified(previous: Option<&Entry>, sha256: &str, build_time: i64) -> i64 {
    match previous {
        Some(prev) if prev.sha256 == sha256 => prev.last_modified,
        Some(prev) => build_time.max(prev.last_modified + 1),
        None => build_time,
    }
}
