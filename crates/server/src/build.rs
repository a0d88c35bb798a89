//! A build loaded for serving ([`Build`]): the manifest, and every URL's route. Loading is
//! `load`'s; this is what the loaded build holds and tells.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::header::HeaderValue;

use crate::handles::Handles;
use crate::header_rules::Rules;
use crate::options::Options;
use crate::route::{Body, Resource, ResourceRoute, Route, Routes};
use crate::stamp::Stamp;

/// What a template asks of a logical path: where it is served, and its SRI value.
#[derive(Debug)]
pub(crate) struct Logical {
    pub served: Box<str>,
    pub integrity: Option<Box<str>>,
}

/// A build loaded for serving: what templates ask of logical paths, and every URL's route.
/// The manifest itself is not kept (at 100,000 files it is most of the memory).
#[derive(Debug)]
pub struct Build {
    pub(crate) root: PathBuf,
    pub(crate) options: Options,
    pub(crate) logical: HashMap<Box<str>, Logical, foldhash::fast::RandomState>,
    /// The id of the newest generation: the fingerprint of its manifest's bytes, as
    /// `assetc build` names it in `.assetc/generations.json`.
    pub(crate) generation: String,
    /// Older kept generations whose fingerprinted files are served, newest first.
    pub(crate) older_generations: Vec<String>,
    /// URLs of fingerprinted files that only older generations list.
    pub(crate) older_urls: usize,
    /// The build root's identity when it was loaded (see [`Stamp`]).
    pub(crate) stamp: Option<Stamp>,
    pub(crate) routes: Routes,
    pub(crate) not_found: Option<Arc<Resource>>,
    pub(crate) fallback: Option<ResourceRoute>,
    /// Rules for responses to paths without a route (404s).
    pub(crate) miss_rules: Option<Rules>,
    pub(crate) revalidate: HeaderValue,
    pub(crate) unroutable: Vec<String>,
    pub(crate) memory_bytes: u64,
    pub(crate) reused_bytes: u64,
    /// The open handles of the files not in memory.
    pub(crate) handles: Handles,
}

impl Build {
    /// The build root as given to [`Build::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The options the build was loaded with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The id of the build's (newest) generation, as `.assetc/generations.json` names it.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// The older kept generations whose fingerprinted files are served too, newest first.
    pub fn older_generations(&self) -> &[String] {
        &self.older_generations
    }

    /// How many fingerprinted URLs only older generations list.
    pub fn older_urls(&self) -> usize {
        self.older_urls
    }

    /// The root's [`Stamp`] when the build was loaded.
    pub fn stamp(&self) -> Option<Stamp> {
        self.stamp
    }

    /// The served path (relative to the build root, not encoded) of a logical path.
    pub fn served_path(&self, logical: &str) -> Option<&str> {
        let logical = logical.trim_start_matches('/');
        self.logical.get(logical).map(|e| &*e.served)
    }

    /// The Subresource Integrity value of a logical path's served bytes: the manifest's
    /// (`sha384-…` for scripts and stylesheets, `sha256-…` for the rest) when it records
    /// one, else `sha256-…` from its digest.
    pub fn integrity(&self, logical: &str) -> Option<&str> {
        self.logical
            .get(logical.trim_start_matches('/'))
            .and_then(|e| e.integrity.as_deref())
    }

    /// Paths in the manifest that no request can reach (dotfiles, Windows device names,
    /// `:`), and that are therefore not served.
    pub fn unroutable(&self) -> &[String] {
        &self.unroutable
    }

    /// Number of URLs the build answers.
    pub fn route_count(&self) -> usize {
        self.routes.len()
    }

    /// Bytes of file content the memory budget holds: read at load (entry points), or read
    /// at its first request (fingerprinted files).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// Files on disk open now (at most [`Options::open_files`]).
    pub fn open_files(&self) -> usize {
        self.handles.len()
    }

    /// Bytes of `memory_bytes` shared with the build this one was reloaded from.
    pub fn reused_bytes(&self) -> u64 {
        self.reused_bytes
    }

    /// Every representation the memory budget holds (read, or to be read at its first
    /// request), by its strong ETag and length.
    pub(crate) fn memory_by_etag(&self) -> HashMap<(HeaderValue, u64), Body> {
        let mut out = HashMap::new();
        for route in self.routes.values() {
            let Route::Resource(route) = route else {
                continue;
            };
            let resource = &route.resource;
            let deltas = resource.deltas.iter().map(|d| &d.representation);
            for rep in resource.representations.iter().chain(deltas) {
                if matches!(rep.body, Body::Memory(_) | Body::Lazy(_)) {
                    out.entry((rep.etag.clone(), rep.len))
                        .or_insert_with(|| rep.body.clone());
                }
            }
        }
        out
    }
}
