//! Loading a build once: the manifest is read and checked against the files, and every URL
//! the server will ever answer is turned into a route with its response headers built in
//! advance. After this, a request is a map lookup and a header choice.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use assetc_core::generations::{generation_manifest_path, Generations, GENERATIONS_FILE};
use assetc_core::manifest::{EntryRef, ManifestRef, Text, VariantRef};
use assetc_core::url_ref::{encode_path, encode_segment};
use assetc_core::{LogicalPath, MANIFEST_FILE_NAME};
use rayon::prelude::*;

use crate::build::{Build, Logical};
use crate::error::LoadError;
use crate::handles::{identity, Beneath, DiskFile, Handles, LazyFile, Refused};
use crate::header_rules::{header_value, Rules};
use crate::http::date::format_http_date;
use crate::http::dictionary::{
    around_fingerprint, destination, match_pattern, pattern_matches, resolve, use_as_dictionary,
};
use crate::http::negotiate::{Coding, DictCoding};
use crate::http::path;
use crate::options::{Options, NOT_FOUND_PAGE};
use crate::preload::with_links;
use crate::route::{
    Body, Delta, Representation, Resource, ResourceRoute, Route, Routes, VARY_ACCEPT_ENCODING,
    VARY_DICTIONARY,
};
use crate::stamp::Stamp;

/// Whether a served or logical path can be reached by a request at all.
fn routable(path: &str) -> bool {
    // What no segment may hold (`\\`, and control characters: U+0000 to U+001F, U+007F, and
    // U+0080 to U+009F, `C2 80` to `C2 9F` in UTF-8), found in one pass over the bytes:
    // each test walking every segment again was a quarter of the route building at 100,000
    // files.
    let mut previous = 0u8;
    for &b in path.as_bytes() {
        if b < 0x20 || b == 0x7f || b == b'\\' || (previous == 0xc2 && (0x80..=0x9f).contains(&b)) {
            return false;
        }
        previous = b;
    }
    !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && (!segment.starts_with('.') || segment == ".well-known")
                && path::check_segment(segment).is_ok()
        })
}

/// `sha256-<base64>` (Subresource Integrity) from the manifest's lowercase hex digest.
fn integrity_of(hex: &str) -> Option<String> {
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(assetc_core::fingerprint::integrity_sha256(&digest))
}

/// Loads attempted before giving up on a root that keeps changing under the load.
const LOAD_ATTEMPTS: usize = 3;

impl Build {
    /// Loads the build at `root`: reads `assetc-manifest.json`, checks that every entry's
    /// file and every precompressed variant exists inside the root with the recorded size,
    /// reads small entry points into memory (small fingerprinted files are read at their
    /// first request) and opens the large ones, adds the fingerprinted
    /// files of the older generations `.assetc/generations.json` keeps, and builds every
    /// route. Fails on the first problem of the newest build; an older generation's file
    /// that fails its check is logged and still routed, answered 503 as after a start-up
    /// (`assetc verify` reports it).
    ///
    /// A load that raced a new build being swapped in (the root's [`Stamp`] changed while
    /// loading) is done again, so that manifest and files always come from one tree.
    pub fn open(root: impl AsRef<Path>, options: &Options) -> Result<Self, LoadError> {
        let build = Self::load_consistent(root.as_ref(), options, None);
        release_free_memory();
        build
    }

    /// Loads the build at this build's root again with the same options: the new build
    /// there, if one was swapped in. Files are checked as by [`Build::open`], but the bytes
    /// of a representation this build already holds in memory (the same strong ETag and
    /// size) are shared rather than read again, so a reload costs little memory or IO.
    pub fn reopen(&self) -> Result<Self, LoadError> {
        let build = Self::load_consistent(&self.root, &self.options, Some(self));
        release_free_memory();
        build
    }

    /// Loads until the root's stamp is the same before and after (at most
    /// `LOAD_ATTEMPTS` times), and records it.
    fn load_consistent(
        root: &Path,
        options: &Options,
        previous: Option<&Build>,
    ) -> Result<Self, LoadError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let before = Stamp::of(root);
            let result = Self::load(root, options, previous);
            let after = Stamp::of(root);
            if before == after || attempt == LOAD_ATTEMPTS {
                return result.map(|mut build| {
                    build.stamp = before;
                    build
                });
            }
        }
    }

    fn load(root: &Path, options: &Options, previous: Option<&Build>) -> Result<Self, LoadError> {
        let root = root.to_path_buf();
        let meta = std::fs::metadata(&root).map_err(|source| LoadError::Root {
            root: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(LoadError::RootNotADirectory { root });
        }
        let canonical_root = root.canonicalize().map_err(|source| LoadError::Root {
            root: root.clone(),
            source,
        })?;
        let manifest_path = root.join(MANIFEST_FILE_NAME);
        let json = read_manifest(&manifest_path).map_err(|source| LoadError::ManifestRead {
            path: manifest_path.clone(),
            source,
        })?;
        // The newest manifest's hash (its generation id) and the older generations'
        // manifests (each as large as the newest), read and parsed, come from their own
        // thread while this one parses the newest and checks its files. The older bytes
        // are kept out here, so that what the thread parses borrows from bytes that
        // outlive it.
        let older_json: OnceLock<Vec<OlderJson>> = OnceLock::new();
        std::thread::scope(|scope| {
            let older = scope.spawn(|| {
                let generation = assetc_core::fingerprint(&assetc_core::fingerprint::sha256(&json));
                let older =
                    parse_older(older_json.get_or_init(|| older_manifests(&root, &generation)));
                (generation, older)
            });
            let manifest =
                ManifestRef::from_json(&json).map_err(|source| LoadError::ManifestParse {
                    path: manifest_path.clone(),
                    source,
                })?;
            let newest = Newest {
                root: &root,
                canonical_root: &canonical_root,
                manifest,
            };
            Self::load_manifest(newest, options, previous, older)
        })
    }

    /// [`Build::load`] once the newest manifest is parsed; `older` gives the newest
    /// manifest's generation id and the older generations' manifests.
    fn load_manifest(
        newest: Newest<'_>,
        options: &Options,
        previous: Option<&Build>,
        older: std::thread::ScopedJoinHandle<'_, (String, Vec<(&str, ManifestRef<'_>)>)>,
    ) -> Result<Self, LoadError> {
        let Newest {
            root,
            canonical_root,
            manifest,
        } = newest;
        let manifest = &manifest;
        let root = root.to_path_buf();

        let immutable = header_value("Cache-Control", &options.cache_control_immutable)?;
        let revalidate = header_value("Cache-Control", &options.cache_control_revalidate)?;
        let rules = Rules::new(&options.header_rules)?;

        let beneath = Beneath::new(canonical_root).map_err(|source| LoadError::Root {
            root: root.clone(),
            source,
        })?;
        let files = Files {
            root: &root,
            beneath,
            // At start-up only: a reload keeps checking every file, so that a broken new
            // build is refused and the old one goes on serving.
            defer: previous.is_none(),
            reuse: previous.map(Build::memory_by_etag).unwrap_or_default(),
            reused: AtomicU64::new(0),
        };
        let mut budget = options.memory_budget;
        // By the entry's index in the manifest (its logical-path order): the route steps
        // below walk the entries in that order, so a lookup is an index, not a hash (a
        // tenth of the route building at 100,000 files).
        let mut resources: Vec<Option<Arc<Resource>>> = vec![None; manifest.entries.len()];
        let mut preload = if options.preload_links {
            crate::preload::page_links(manifest).map_err(|source| LoadError::ManifestParse {
                path: root.join(MANIFEST_FILE_NAME),
                source,
            })?
        } else {
            Default::default()
        };
        let planned = plan(entries_by_size(manifest), options, &mut budget);
        // The checks (an open and a stat each, a read for the bodies kept in memory) in
        // parallel; the first problem in that order is the one reported.
        let loaded: Vec<Result<Resource, LoadError>> = planned
            .par_iter()
            .map(|p| files.load_entry(p, files.defer))
            .collect();
        for (planned, resource) in planned.iter().zip(loaded) {
            let mut resource = resource?;
            resource.preload = preload.remove(planned.logical);
            resources[planned.index] = Some(Arc::new(resource));
        }
        let resources: Vec<Arc<Resource>> = resources
            .into_iter()
            .map(|r| r.expect("every entry is planned once"))
            .collect();
        let resource_of = |logical: &str| manifest.entries.index_of(logical).map(|i| &resources[i]);
        // The logical-path table (two strings per entry: a tenth of the start-up at 100,000
        // files) is built on its own thread while this one builds the routes.
        std::thread::scope(|scope| {
            let logical_paths = scope.spawn(|| logical_paths_of(manifest));
            // Whether each logical path can be requested, decided once for steps 2 and 3.
            let logical_routable: Vec<bool> =
                manifest.entries.keys().map(|l| routable(l)).collect();

            // Routes, most specific first: a URL already taken is never overwritten.
            let mut routes = Routes::with_capacity_and_hasher(
                manifest.entries.len() * 2 + 16,
                Default::default(),
            );
            let mut unroutable = Vec::new();
            let route = |resource: &Arc<Resource>, url: &str, cache_control: &HeaderValue| {
                Route::Resource(ResourceRoute::new(
                    resource.clone(),
                    cache_control.clone(),
                    with_links(resource.preload.as_ref(), rules.for_url(url)),
                ))
            };
            // Fingerprinted URLs of compressible files: the ones that can offer themselves as
            // dictionaries (only those copied: a third of a large build's are images).
            let offers = |immutable: bool, content_type: &str| {
                options.dictionaries
                    && immutable
                    && assetc_core::content_type::compressible(content_type)
            };
            // Their paths (URLs without the leading `/`).
            let mut fingerprinted: Vec<(&str, Arc<Resource>)> = Vec::new();
            // Every route's URL without the leading `/`, and the logical path behind it (""
            // for redirects and health), in the order the routes are added (see `add`).
            let mut listed: Vec<(&str, &str)> = Vec::new();
            let listing = options.dictionaries;
            // 1. Every served path, immutable when fingerprinted.
            for (i, (logical, entry)) in manifest.entries.iter().enumerate() {
                if !routable(&entry.path) {
                    unroutable.push(entry.path.as_str().to_owned());
                    continue;
                }
                let url = url_of(&entry.path);
                let cc = if entry.immutable {
                    &immutable
                } else {
                    &revalidate
                };
                let r = route(&resources[i], &url, cc);
                let listed = listing.then_some(&mut listed);
                if add(&mut routes, listed, url, (&entry.path, logical), r)
                    && offers(entry.immutable, &entry.content_type)
                {
                    fingerprinted.push((&entry.path, resources[i].clone()));
                }
            }
            // 2. Logical paths of fingerprinted files: the same bytes, revalidated.
            for (i, (logical, entry)) in manifest.entries.iter().enumerate() {
                if logical == &entry.path {
                    continue;
                }
                if !logical_routable[i] {
                    unroutable.push(logical.as_str().to_owned());
                    continue;
                }
                let url = url_of(logical);
                let r = route(&resources[i], &url, &revalidate);
                let listed = listing.then_some(&mut listed);
                add(&mut routes, listed, url, (logical, logical), r);
            }
            // 3. Directory indexes (`/dir/`), their redirects (`/dir`), and clean URLs.
            for (i, logical) in manifest.entries.keys().enumerate() {
                if !logical_routable[i] {
                    continue;
                }
                let resource = &resources[i];
                let (dir, name) = logical.rsplit_once('/').unwrap_or(("", logical));
                if name == "index.html" {
                    let url = if dir.is_empty() {
                        "/".to_owned()
                    } else {
                        format!("/{dir}/")
                    };
                    let r = route(resource, &url, &revalidate);
                    // The URL's path is a prefix of the logical path: `dir/`, or "" for `/`.
                    let path = &logical[..url.len() - 1];
                    let listed_now = listing.then_some(&mut listed);
                    add(&mut routes, listed_now, url, (path, logical), r);
                    if !dir.is_empty() {
                        let last = dir.rsplit('/').next().unwrap_or(dir);
                        // RFC 9110 §10.2.2: a relative reference; `./` keeps a segment that
                        // looks like a scheme or authority from being read as one.
                        let location: Arc<str> = format!("./{}/", encode_segment(last)).into();
                        let listed = listing.then_some(&mut listed);
                        let redirect = Route::Redirect(location);
                        add(&mut routes, listed, format!("/{dir}"), (dir, ""), redirect);
                    }
                } else if options.clean_urls {
                    if let Some(stem) = logical.strip_suffix(".html").filter(|s| !s.ends_with('/'))
                    {
                        let url = format!("/{stem}");
                        let r = route(resource, &url, &revalidate);
                        let listed = listing.then_some(&mut listed);
                        add(&mut routes, listed, url, (stem, logical), r);
                    }
                }
            }
            if let Some(health) = &options.health_path {
                let valid =
                    matches!(path::decode(health), Ok(path::Decoded::Path(p)) if p == *health);
                if !valid || health == "/" {
                    return Err(LoadError::BadHealthPath {
                        path: health.clone(),
                    });
                }
                if routes.contains_key(health.as_str()) {
                    return Err(LoadError::HealthPathTaken {
                        path: health.clone(),
                    });
                }
                let listed = listing.then_some(&mut listed);
                let path = &health[1..];
                add(
                    &mut routes,
                    listed,
                    health.clone(),
                    (path, ""),
                    Route::Health,
                );
            }
            // 4. The fingerprinted files of older kept generations, at their fingerprinted URLs
            // only: a page of the previous release still loads completely. Entry points and
            // logical paths are the newest build's alone.
            let mut older_generations = Vec::new();
            let mut older_urls = 0;
            let (generation, older) = older
                .join()
                .expect("reading the older manifests does not panic");
            for (id, old) in &older {
                let mut missing = Vec::new();
                let mut failing = Vec::new();
                let mut urls = Vec::new();
                let mut candidates = Vec::new();
                // One buffer for the lookups: most of an older generation's URLs are the
                // newest's too (files that did not change), and allocate nothing.
                let mut url = String::new();
                for (i, (logical, entry)) in old.entries.iter().enumerate() {
                    if !entry.immutable {
                        continue;
                    }
                    url.clear();
                    url.push('/');
                    url.push_str(&entry.path);
                    if routes.contains_key(url.as_str()) || !routable(&entry.path) {
                        continue;
                    }
                    urls.push(url.clone());
                    candidates.push((i, logical, entry));
                }
                let planned = plan(candidates, options, &mut budget);
                // A file that fails its check here (on a reload) is still routed, with its check
                // deferred to its first open as at start-up: that open fails too, and the
                // request is answered 503 `no-store` with the path logged, as after a start-up.
                // The manifest lists the file, so a 404 would tell a cache it does not exist
                // (and a 404 after a reload but a 503 after a start would be two answers to one
                // build); a missing file is the server's fault, logged here as well.
                let loaded: Vec<(Result<Resource, LoadError>, Option<LoadError>)> = planned
                    .par_iter()
                    .map(|p| match files.load_entry(p, files.defer) {
                        Err(e) if !files.defer && e.is_file_problem() => {
                            (files.load_entry(p, true), Some(e))
                        }
                        other => (other, None),
                    })
                    .collect();
                for ((url, (resource, problem)), planned) in
                    urls.into_iter().zip(loaded).zip(&planned)
                {
                    failing.extend(problem.map(|e| e.to_string()));
                    match resource {
                        Ok(resource) => {
                            let content_type = resource.identity().content_type.to_str();
                            let offered = offers(true, content_type.unwrap_or_default());
                            let resource = Arc::new(resource);
                            let r = route(&resource, &url, &immutable);
                            let listed = listing.then_some(&mut listed);
                            let path = planned.entry.path.as_str();
                            if add(&mut routes, listed, url, (path, planned.logical), r) {
                                if offered {
                                    fingerprinted.push((path, resource));
                                }
                                older_urls += 1;
                            }
                        }
                        Err(e) => missing.push(e.to_string()),
                    }
                }
                if !missing.is_empty() {
                    tracing::warn!(
                        generation = %id,
                        problems = ?missing,
                        "files of an older kept generation are not served (`assetc verify` reports them)"
                    );
                }
                if !failing.is_empty() {
                    tracing::warn!(
                        generation = %id,
                        problems = ?failing,
                        "files of an older kept generation cannot be read and are answered 503 (`assetc verify` reports them)"
                    );
                }
                older_generations.push((*id).to_owned());
            }

            if options.dictionaries {
                offer_dictionaries(&mut routes, listed, &fingerprinted);
            }

            let fallback = match &options.spa_fallback {
                None => None,
                Some(logical) => {
                    let logical = logical.trim_start_matches('/');
                    let resource =
                        resource_of(logical).ok_or_else(|| LoadError::UnknownFallback {
                            logical: logical.to_owned(),
                        })?;
                    Some(ResourceRoute::new(
                        resource.clone(),
                        revalidate.clone(),
                        with_links(
                            resource.preload.as_ref(),
                            rules.for_url(&format!("/{logical}")),
                        ),
                    ))
                }
            };
            let not_found = resource_of(NOT_FOUND_PAGE).cloned();
            let reused_bytes = files.reused.load(Ordering::Relaxed);
            drop(files);
            let miss_rules = (!options.header_rules.is_empty()).then_some(rules);
            if !unroutable.is_empty() {
                tracing::warn!(
                    paths = ?unroutable,
                    "some manifest paths can never be requested (dotfiles, Windows names or `:`) and are not served"
                );
            }
            let handles = Handles::new(options.open_files, root.clone());
            let logical_paths = logical_paths
                .join()
                .expect("building the logical-path table does not panic");
            Ok(Self {
                root: root.clone(),
                options: options.clone(),
                logical: logical_paths,
                generation,
                older_generations,
                older_urls,
                stamp: None,
                routes,
                not_found,
                fallback,
                miss_rules,
                revalidate,
                unroutable,
                memory_bytes: options.memory_budget - budget,
                reused_bytes,
                handles,
            })
        })
    }
}

/// Every logical path with its served path and SRI, for [`Build::url`] and
/// [`Build::integrity`].
fn logical_paths_of(
    manifest: &ManifestRef<'_>,
) -> HashMap<Box<str>, Logical, foldhash::fast::RandomState> {
    let mut logical_paths =
        HashMap::with_capacity_and_hasher(manifest.entries.len(), Default::default());
    for (logical, entry) in manifest.entries.iter() {
        let recorded = (!entry.integrity.is_empty()).then(|| entry.integrity.as_str().to_owned());
        logical_paths.insert(
            logical.as_str().into(),
            Logical {
                served: entry.path.as_str().into(),
                integrity: recorded
                    .or_else(|| integrity_of(&entry.sha256))
                    .map(String::into_boxed_str),
            },
        );
    }
    logical_paths
}

/// How the process's allocator returns free memory to the system, when it is not glibc's
/// malloc (set by the binary that chose it, [`Build::release_memory_with`]).
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

impl Build {
    /// Sets how free memory is given back to the system after each load, for a process
    /// whose global allocator is not the C library's (mimalloc: `mi_collect(true)`). The
    /// first call wins.
    pub fn release_memory_with(release: fn()) {
        let _ = RELEASE.set(release);
    }
}

/// Gives the memory a load freed back to the system. A load's peak is the manifests being
/// parsed (at 100,000 files, 60 MB of JSON each and their parsed form); freed, an allocator
/// keeps much of it mapped for reuse (glibc trims only the top of its heap; mimalloc purges
/// after a delay, on the next allocations of the thread that owns the pages), and the
/// server's resident size would stay at the peak, twice what it holds (measured with glibc:
/// 359 MB resident for 157 MB live).
fn release_free_memory() {
    if let Some(release) = RELEASE.get() {
        release();
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it touches no live
    // allocation and is thread-safe (it takes each arena's lock).
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `Use-As-Dictionary` (RFC 9842 §2.1) on every fingerprinted URL of a compressible file
/// named `stem.<fingerprint>.ext`, whose pattern no URL of another logical path matches:
/// a browser then offers each version of a file only for later versions of the same file.
/// A pattern that another file's URL matches (`app.*.js` and `app.min.<fp>.js`) is left
/// out: a wrong offer costs the request a byte-identical fallback, but it also takes the
/// place of the right dictionary in the browser's choice (§2.2: the longest match wins).
///
/// `urls` is every route's URL without its leading `/` with the logical path behind it (""
/// for redirects and health), as [`add`] listed them: in manifest order, so nearly sorted
/// already, and a stable sort of runs costs a fraction of sorting the routes' keys
/// (which are in hash order: 5 to 9 % of a 100,000-file start-up). `fingerprinted` holds
/// the paths of the URLs that may offer themselves, each with the resource its route serves.
fn offer_dictionaries(
    routes: &mut Routes,
    mut urls: Vec<(&str, &str)>,
    fingerprinted: &[(&str, Arc<Resource>)],
) {
    // Sorted: the URLs a pattern may match share the text before its wildcard, a range of
    // this list. URLs are unique, so the order is the one of the URLs alone.
    urls.par_sort_by(|a, b| a.0.cmp(b.0));
    // Each offer is decided on every core (the routes and the list are only read), then
    // written in: a third of a 100,000-file start-up when it ran on one.
    let decided: Vec<Offer> = fingerprinted
        .par_iter()
        .filter_map(|(path, resource)| offer(&urls, path, resource))
        .collect();
    let name = actix_web::http::header::HeaderName::from_static("use-as-dictionary");
    let mut overlapping = Vec::new();
    for decided in decided {
        match decided {
            Offer::Overlapping(clash) => overlapping.push(clash),
            Offer::Header(url, value) => {
                if let Some(Route::Resource(route)) = routes.get_mut(url.as_str()) {
                    let mut extra: Vec<_> = route.extra.iter().cloned().collect();
                    extra.push((name.clone(), value));
                    route.extra = extra.into();
                }
            }
        }
    }
    if !overlapping.is_empty() {
        tracing::debug!(
            urls = ?overlapping,
            "no `Use-As-Dictionary` where the pattern would also match another file"
        );
    }
}

/// What [`offer_dictionaries`] writes for one fingerprinted path.
enum Offer {
    /// The route's URL and its `Use-As-Dictionary` value.
    Header(String, HeaderValue),
    /// The pattern would match another file too (`url ~ other`): no offer.
    Overlapping(String),
}

/// The offer of the route at `/path`, serving `resource`, if it makes one; `urls` as in
/// [`offer_dictionaries`], sorted.
fn offer(urls: &[(&str, &str)], path: &str, resource: &Resource) -> Option<Offer> {
    let url = format!("/{path}");
    let identity = resource.identity();
    let content_type = identity.content_type.to_str().unwrap_or_default();
    if !assetc_core::content_type::compressible(content_type) {
        return None;
    }
    let (dir, served_name) = url.rsplit_once('/').expect("a URL starts with `/`");
    let logical_name = resource.logical.rsplit('/').next().unwrap_or_default();
    let (before, after) = around_fingerprint(logical_name, served_name)?;
    let pattern = match_pattern(before, after);
    // The pattern as the browser resolves it against this URL: the URL's encoded
    // directory, then the relative pattern.
    let resolved = resolve(dir, &pattern);
    // Without the leading `/`, as the list holds URLs.
    let start = format!("{dir}/{before}");
    let start = &start[1..];
    let from = urls.partition_point(|(u, _)| *u < start);
    let clash = urls[from..]
        .iter()
        .take_while(|(u, _)| u.starts_with(start))
        .find(|(u, logical)| {
            *logical != &*resource.logical
                && pattern_matches(&resolved, &encode_path(&format!("/{u}")))
        });
    if let Some((other, _)) = clash {
        return Some(Offer::Overlapping(format!("{url} ~ /{other}")));
    }
    let value = use_as_dictionary(&pattern, destination(identity.content_type.as_bytes()));
    let value = HeaderValue::from_str(&value).ok()?;
    Some(Offer::Header(url, value))
}

/// 64 lowercase hex digits as 32 bytes.
fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether a generation id from `.assetc/generations.json` can name a file: a fingerprint.
fn valid_generation_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The manifests of the older generations the build keeps, newest first, without the
/// newest (`current`). A build without the record (or with an unreadable one) has none;
/// problems are logged, never fatal: the newest build is what must be whole.
fn older_manifests(root: &Path, current: &str) -> Vec<OlderJson> {
    let record = root.join(GENERATIONS_FILE);
    let generations = match std::fs::read(&record) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(path = %record.display(), error = %e, "cannot read the generations record; serving the newest generation only");
            return Vec::new();
        }
        Ok(bytes) => match Generations::from_json(&bytes) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(path = %record.display(), error = %e, "the generations record is not valid; serving the newest generation only");
                return Vec::new();
            }
        },
    };
    if generations.generations.first().map(|g| g.id.as_str()) != Some(current) {
        tracing::warn!(
            path = %record.display(),
            generation = current,
            "the generations record does not list the manifest's generation first"
        );
    }
    let mut out: Vec<OlderJson> = Vec::new();
    for generation in &generations.generations {
        let id = &generation.id;
        if id == current || out.iter().any(|o| o.id == *id) {
            continue;
        }
        if !valid_generation_id(id) {
            tracing::warn!(generation = %id, "a generation id in the record is not a fingerprint; skipped");
            continue;
        }
        let path = root.join(generation_manifest_path(id));
        match read_manifest(&path) {
            Ok(json) => out.push(OlderJson {
                id: id.clone(),
                path,
                json,
            }),
            Err(error) => tracing::warn!(
                generation = %id,
                path = %path.display(),
                %error,
                "cannot read a kept generation's manifest; its files are not served"
            ),
        }
    }
    out
}

/// A manifest's bytes. At 100,000 files a manifest is 60 MB, and reading it into fresh
/// 4 KiB pages was a tenth of the start-up in page faults alone (15,000 of them per
/// manifest): the buffer is asked for transparent huge pages (`MADV_HUGEPAGE`, honoured
/// where THP is `madvise` or `always`; advice only, so nothing changes where it is not).
fn read_manifest(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    advise_huge_pages(&mut bytes);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `MADV_HUGEPAGE` on the 2 MiB-aligned part of `buffer`'s capacity.
fn advise_huge_pages(buffer: &mut Vec<u8>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let end = start + buffer.capacity();
        let aligned = start.next_multiple_of(HUGE);
        if aligned + HUGE <= end {
            let len = (end - aligned) / HUGE * HUGE;
            // SAFETY: the range lies inside this Vec's allocation, which is live and
            // owned here; MADV_HUGEPAGE only changes how its pages are backed, never their
            // contents or the mapping's validity.
            #[allow(unsafe_code)]
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// An older generation's manifest, read and not yet parsed.
struct OlderJson {
    id: String,
    path: PathBuf,
    json: Vec<u8>,
}

/// The older manifests parsed, borrowing from their bytes; one that is not valid is
/// logged and left out.
fn parse_older(older: &[OlderJson]) -> Vec<(&str, ManifestRef<'_>)> {
    older
        .iter()
        .filter_map(|o| match ManifestRef::from_json(&o.json) {
            Ok(manifest) => Some((o.id.as_str(), manifest)),
            Err(error) => {
                tracing::warn!(
                    generation = %o.id,
                    path = %o.path.display(),
                    error = %error,
                    "cannot read a kept generation's manifest; its files are not served"
                );
                None
            }
        })
        .collect()
}

/// The newest build's manifest, parsed, and where it is.
struct Newest<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    manifest: ManifestRef<'a>,
}

/// Adds a route unless its URL is taken (routes are added most specific first, and a URL
/// already taken is never overwritten), and lists it with its path (the URL without the
/// leading `/`, a slice of the manifest's own strings) and logical path, for
/// [`offer_dictionaries`]: the list then holds exactly the routes, in nearly sorted order.
fn add<'m>(
    routes: &mut Routes,
    listed: Option<&mut Vec<(&'m str, &'m str)>>,
    url: String,
    (path, logical): (&'m str, &'m str),
    route: Route,
) -> bool {
    debug_assert_eq!(&url[1..], path);
    match routes.entry(url.into()) {
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(route);
            if let Some(listed) = listed {
                listed.push((path, logical));
            }
            true
        }
        std::collections::hash_map::Entry::Occupied(_) => false,
    }
}

/// `/` and a path: a route's URL.
fn url_of(path: &str) -> String {
    let mut url = String::with_capacity(path.len() + 1);
    url.push('/');
    url.push_str(path);
    url
}

/// One manifest entry about to be loaded: the variants this server negotiates, and which
/// of its representations (identity first, then `variants`, then `deltas`) the memory
/// budget holds.
struct Planned<'m> {
    /// The entry's index in its manifest.
    index: usize,
    logical: &'m str,
    entry: &'m EntryRef<'m>,
    variants: Vec<(Coding, &'m VariantRef<'m>)>,
    /// Dictionary-compressed deltas (RFC 9842): coding, the dictionary's SHA-256, variant.
    deltas: Vec<(DictCoding, [u8; 32], &'m VariantRef<'m>)>,
    in_memory: Vec<bool>,
    /// `Content-Type` (`None`: not a valid header value) and `Last-Modified`, one value
    /// shared by every entry with the same (a build has a handful of each).
    content_type: Option<HeaderValue>,
    last_modified: HeaderValue,
}

/// The manifest's entries smallest first, each with its index: the memory budget then holds
/// as many files as it can, and the small ones, for which a disk read costs most relative
/// to the bytes sent. Entries are in logical-path order and unique, so (size, index) is the
/// order of (size, logical path), and an unstable sort of it is deterministic.
fn entries_by_size<'m>(
    manifest: &'m ManifestRef<'m>,
) -> Vec<(usize, &'m Text<'m>, &'m EntryRef<'m>)> {
    let mut by_size: Vec<(usize, &Text, &EntryRef)> = manifest
        .entries
        .iter()
        .enumerate()
        .map(|(i, (logical, entry))| (i, logical, entry))
        .collect();
    by_size.sort_unstable_by_key(|(i, _, entry)| (entry.size, *i));
    by_size
}

/// Which bodies go in memory, decided before any file is read, so that checking the files
/// in parallel keeps the budget's choice exact; and the header values entries share. The
/// budget takes representations smallest first across all entries, not entry by entry:
/// a 6.6 KB gzip variant, the body every browser gets, is then held in memory before the
/// 30 KB identity bytes of its own entry, which only clients without gzip read (in
/// `just bench`, entry-by-entry order left that variant on disk: a `pread` per request,
/// 7 % of the gzip case's profile). Ties go by the given order (entries smallest first),
/// then identity, variants, deltas.
fn plan<'m>(
    entries: Vec<(usize, &'m Text<'m>, &'m EntryRef<'m>)>,
    options: &Options,
    budget: &mut u64,
) -> Vec<Planned<'m>> {
    let mut content_types: HashMap<&str, Option<HeaderValue>, foldhash::fast::RandomState> =
        HashMap::default();
    let mut dates: HashMap<i64, HeaderValue, foldhash::fast::RandomState> = HashMap::default();
    let mut planned: Vec<Planned<'m>> = entries
        .into_iter()
        .map(|(index, logical, entry)| {
            let content_type = content_types
                .entry(entry.content_type.as_str())
                .or_insert_with(|| HeaderValue::from_str(&entry.content_type).ok())
                .clone();
            let last_modified = dates
                .entry(entry.last_modified)
                .or_insert_with(|| {
                    HeaderValue::from_str(&format_http_date(entry.last_modified))
                        .expect("an IMF-fixdate is a valid header value")
                })
                .clone();
            let (variants, deltas) = known_variants(logical, entry, options);
            let in_memory = vec![false; 1 + variants.len() + deltas.len()];
            Planned {
                index,
                logical,
                entry,
                variants,
                deltas,
                in_memory,
                content_type,
                last_modified,
            }
        })
        .collect();
    // (size, entry, representation) of every representation, smallest first.
    let mut sizes: Vec<(u64, usize, usize)> = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let all = std::iter::once(p.entry.size)
            .chain(p.variants.iter().map(|(_, v)| v.size))
            .chain(p.deltas.iter().map(|(_, _, v)| v.size));
        sizes.extend(all.enumerate().map(|(r, size)| (size, i, r)));
    }
    sizes.sort_unstable();
    for (size, i, r) in sizes {
        if size > options.memory_file_limit || size > *budget {
            // Every later one is at least as large.
            break;
        }
        *budget -= size;
        planned[i].in_memory[r] = true;
    }
    planned
}

/// An entry's variants in the content-codings this server negotiates, in its order of
/// preference (exactly the tokens the build writes; anything else it cannot negotiate and
/// leaves out), and its dictionary deltas when they are served.
#[allow(clippy::type_complexity)]
fn known_variants<'m>(
    logical: &str,
    entry: &'m EntryRef<'m>,
    options: &Options,
) -> (
    Vec<(Coding, &'m VariantRef<'m>)>,
    Vec<(DictCoding, [u8; 32], &'m VariantRef<'m>)>,
) {
    let mut variants = Vec::new();
    let mut deltas = Vec::new();
    for (key, variant) in &entry.variants {
        if let Some(coding) = Coding::ALL.into_iter().find(|c| c.token() == key.as_str()) {
            variants.push((coding, variant));
            continue;
        }
        match DictCoding::parse_key(key) {
            // Deltas of a fingerprinted file only: an entry point's URL keeps its
            // name, so no later version could use a dictionary pattern anyway.
            Some((coding, sha)) if options.dictionaries && entry.immutable => {
                let hash = decode_hex(sha).expect("parse_key checked 64 hex digits");
                deltas.push((coding, hash, variant));
            }
            Some(_) => {}
            None => tracing::warn!(
                logical,
                coding = key.as_str(),
                "a variant in a content-coding this server does not know is not served"
            ),
        }
    }
    variants.sort_by_key(|(coding, _)| *coding);
    (variants, deltas)
}

/// The files of one build root, as the manifest names them.
struct Files<'a> {
    root: &'a Path,
    beneath: Beneath<'a>,
    /// Fingerprinted files read from disk are checked at their first open rather than
    /// here (see [`Files::load_file`]): at start-up. A reload defers only the files of
    /// an older generation that fail their check.
    defer: bool,
    /// In-memory bytes of the build being reloaded, by strong ETag and length: the same
    /// tag means the same bytes (the manifest's tags are content hashes).
    reuse: HashMap<(HeaderValue, u64), Body>,
    reused: AtomicU64,
}

impl Files<'_> {
    /// The representations of one manifest entry: identity, then each precompressed
    /// variant with its own ETag and size.
    fn load_entry(&self, planned: &Planned<'_>, defer: bool) -> Result<Resource, LoadError> {
        let Planned {
            index: _,
            logical,
            entry,
            variants,
            deltas,
            in_memory,
            content_type,
            last_modified: last_modified_header,
        } = planned;
        let logical = *logical;
        let bad = |field: &'static str, value: &str| LoadError::BadEntryField {
            logical: logical.to_owned(),
            field,
            value: value.to_owned(),
        };
        let bad_path = |served: &str| LoadError::BadServedPath {
            logical: logical.to_owned(),
            served: served.to_owned(),
        };
        if !normal_path(&entry.path) {
            return Err(bad_path(&entry.path));
        }
        let etag = strong_etag(&entry.etag).ok_or_else(|| bad("etag", &entry.etag))?;
        let content_type = content_type
            .clone()
            .ok_or_else(|| bad("content type", &entry.content_type))?;

        let mut representations = Vec::with_capacity(1 + variants.len());
        representations.push(Representation {
            content_encoding: None,
            content_type: content_type.clone(),
            last_modified: entry.last_modified,
            last_modified_header: last_modified_header.clone(),
            len: entry.size,
            lines: Default::default(),
            body: self.load_file(
                &entry.path,
                entry.size,
                entry.immutable,
                &etag,
                in_memory[0],
                defer,
            )?,
            etag,
        });
        for ((coding, variant), &in_memory) in variants.iter().zip(&in_memory[1..]) {
            if !normal_path(&variant.path) {
                return Err(bad_path(&variant.path));
            }
            let etag =
                strong_etag(&variant.etag).ok_or_else(|| bad("variant etag", &variant.etag))?;
            // §8.8.3.3: a strong validator differs between the representations.
            if representations.iter().any(|r| r.etag == etag) {
                return Err(LoadError::SharedVariantEtag {
                    logical: logical.to_owned(),
                    coding: coding.token().to_owned(),
                    etag: variant.etag.as_str().to_owned(),
                });
            }
            representations.push(Representation {
                content_encoding: Some(HeaderValue::from_static(coding.token())),
                content_type: content_type.clone(),
                last_modified: entry.last_modified,
                last_modified_header: last_modified_header.clone(),
                len: variant.size,
                lines: Default::default(),
                body: self.load_file(
                    &variant.path,
                    variant.size,
                    entry.immutable,
                    &etag,
                    in_memory,
                    defer,
                )?,
                etag,
            });
        }
        let mut delta_representations = Vec::with_capacity(deltas.len());
        let deltas_in_memory = &in_memory[1 + variants.len()..];
        for (&(coding, dictionary, variant), &in_memory) in deltas.iter().zip(deltas_in_memory) {
            if !normal_path(&variant.path) {
                return Err(bad_path(&variant.path));
            }
            let etag =
                strong_etag(&variant.etag).ok_or_else(|| bad("variant etag", &variant.etag))?;
            let taken = representations
                .iter()
                .chain(
                    delta_representations
                        .iter()
                        .map(|d: &Delta| &d.representation),
                )
                .any(|r| r.etag == etag);
            if taken {
                return Err(LoadError::SharedVariantEtag {
                    logical: logical.to_owned(),
                    coding: coding.token().to_owned(),
                    etag: variant.etag.as_str().to_owned(),
                });
            }
            delta_representations.push(Delta {
                dictionary,
                coding,
                representation: Representation {
                    content_encoding: Some(HeaderValue::from_static(coding.token())),
                    content_type: content_type.clone(),
                    last_modified: entry.last_modified,
                    last_modified_header: last_modified_header.clone(),
                    len: variant.size,
                    lines: Default::default(),
                    body: self.load_file(
                        &variant.path,
                        variant.size,
                        true,
                        &etag,
                        in_memory,
                        defer,
                    )?,
                    etag,
                },
            });
        }
        let codings: Vec<Coding> = variants.iter().map(|(c, _)| *c).collect();
        let vary = if !delta_representations.is_empty() {
            Some(VARY_DICTIONARY)
        } else {
            (!codings.is_empty()).then_some(VARY_ACCEPT_ENCODING)
        };
        Ok(Resource {
            vary,
            representations,
            codings,
            deltas: delta_representations,
            logical: logical.into(),
            preload: None,
        })
    }

    /// Checks one file the manifest names (inside the root, a regular file of the recorded
    /// size) and reads it into memory when the plan says so (an entry point now, a
    /// fingerprinted file at its first request; or shares the body the previous build
    /// holds under the same ETag), or records where it is, to be opened on demand.
    fn load_file(
        &self,
        served: &str,
        size: u64,
        immutable: bool,
        etag: &HeaderValue,
        in_memory: bool,
        defer: bool,
    ) -> Result<Body, LoadError> {
        if immutable && defer {
            // Half of a large build's files, and most of its load's system calls: a
            // fingerprinted file is checked when a request first opens it (beneath the
            // root, a regular file of this length: its name carries its hash, so that is
            // the file the manifest means), and one that fails is answered 503, never
            // served; one the memory budget holds is read then (see `LazyFile`). An entry
            // point is not deferred: only the inode seen here tells its bytes from a later
            // build's. (Nothing to share when deferring: at start-up there is no previous
            // build, and on a reload only a failed check defers.)
            let file = DiskFile {
                served: served.into(),
                len: size,
                id: None,
                immutable,
            };
            return Ok(if in_memory {
                Body::Lazy(Arc::new(LazyFile::new(file)))
            } else {
                Body::Disk(file)
            });
        }
        // The one place a manifest path becomes a file path: at load, from the manifest.
        let path = || self.root.join(served);
        let refused = |e: Refused| e.into_load_error(path(), self.root);
        if in_memory {
            // Shared with the build being reloaded (still checked to be there): its bytes,
            // or for a fingerprinted file its lazy body, read or not. An entry point takes
            // only bytes already read: the same tag means the same bytes.
            let shared = match self.reuse.get(&(etag.clone(), size)) {
                Some(Body::Lazy(lazy)) if immutable => Some(Body::Lazy(lazy.clone())),
                Some(body) => body.memory().cloned().map(Body::Memory),
                None => None,
            };
            if let Some(body) = shared {
                self.beneath.open_file(served, size).map_err(refused)?;
                self.reused.fetch_add(size, Ordering::Relaxed);
                return Ok(body);
            }
            if immutable {
                // Read at its first request (see `LazyFile`); checked here on a reload,
                // like the fingerprinted files on disk.
                let id = Some(identity(
                    &self.beneath.open_file(served, size).map_err(refused)?.1,
                ));
                return Ok(Body::Lazy(Arc::new(LazyFile::new(DiskFile {
                    served: served.into(),
                    len: size,
                    id,
                    immutable,
                }))));
            }
        }
        let (mut file, meta) = self.beneath.open_file(served, size).map_err(refused)?;
        if in_memory {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes)
                .map_err(|e| open_error(path(), e))?;
            if bytes.len() as u64 != size {
                return Err(LoadError::SizeMismatch {
                    path: path(),
                    expected: size,
                    actual: bytes.len() as u64,
                });
            }
            Ok(Body::Memory(Bytes::from(bytes)))
        } else {
            // No descriptor kept: the file is opened again when a request needs it, through
            // the bounded handle cache, and checked to be this one.
            Ok(Body::Disk(DiskFile {
                served: served.into(),
                len: size,
                id: Some(identity(&meta)),
                immutable,
            }))
        }
    }
}

impl Refused {
    fn into_load_error(self, path: PathBuf, root: &Path) -> LoadError {
        match self {
            Refused::Io(source) => open_error(path, source),
            Refused::Outside => LoadError::OutsideRoot {
                path,
                root: root.to_path_buf(),
            },
            Refused::NotAFile => LoadError::NotAFile { path },
            Refused::Size { actual, expected } => LoadError::SizeMismatch {
                path,
                expected,
                actual,
            },
        }
    }
}

/// A failed open: EMFILE and ENFILE are a limit of this process or system, not a broken
/// build, and say so.
fn open_error(path: PathBuf, source: std::io::Error) -> LoadError {
    if matches!(source.raw_os_error(), Some(23 | 24)) {
        LoadError::TooManyOpenFiles { path, source }
    } else {
        LoadError::Open { path, source }
    }
}

/// A relative path of normal segments, as the build writes every served path.
fn normal_path(path: &str) -> bool {
    LogicalPath::new(path).is_ok()
}

/// RFC 9110 §8.8.3: a strong entity-tag, `"` etagc* `"`, as a header value.
fn strong_etag(value: &str) -> Option<HeaderValue> {
    let ok = value.len() >= 2
        && value.starts_with('"')
        && crate::http::etag::EntityTag::parse(value.as_bytes()).is_some_and(|t| !t.weak);
    ok.then(|| HeaderValue::from_str(value).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest of entries `(logical, identity size, gzip size)`.
    fn manifest_json(entries: &[(&str, u64, Option<u64>)]) -> Vec<u8> {
        use assetc_core::manifest::{Entry, Manifest, Variant};
        let mut manifest = Manifest::new("/");
        for &(logical, size, gzip) in entries {
            let sha = "00".repeat(32);
            let mut variants = std::collections::BTreeMap::new();
            if let Some(size) = gzip {
                variants.insert(
                    "gzip".to_owned(),
                    Variant {
                        etag: "\"g\"".to_owned(),
                        path: format!("{logical}.gz"),
                        sha256: sha.clone(),
                        size,
                    },
                );
            }
            let entry = Entry {
                content_type: "text/html; charset=utf-8".to_owned(),
                etag: "\"i\"".to_owned(),
                immutable: false,
                integrity: String::new(),
                last_modified: 0,
                path: logical.to_owned(),
                references: Vec::new(),
                sha256: sha,
                size,
                variants,
            };
            manifest.entries.insert(logical.to_owned(), entry);
        }
        manifest.to_json()
    }

    #[test]
    fn the_budget_takes_representations_smallest_first_across_entries() {
        // Entry by entry (smallest identity first), `b.bin` and `page.html`'s identity
        // bytes would fill the budget and leave its 100-byte gzip variant on disk.
        let json = manifest_json(&[("b.bin", 3000, None), ("page.html", 20_000, Some(100))]);
        let manifest = ManifestRef::from_json(&json).unwrap();
        let mut budget = 23_000;
        let planned = plan(entries_by_size(&manifest), &Options::default(), &mut budget);
        let held: Vec<(&str, &[bool])> = planned
            .iter()
            .map(|p| (p.logical, p.in_memory.as_slice()))
            .collect();
        assert_eq!(
            held,
            [("b.bin", &[true][..]), ("page.html", &[false, true][..])]
        );
        assert_eq!(budget, 23_000 - 3000 - 100);
    }

    #[test]
    fn integrity_is_base64_of_the_digest() {
        // SHA-256("hello")
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(
            integrity_of(hex).as_deref(),
            Some("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        );
        assert_eq!(integrity_of("00"), None);
        assert_eq!(integrity_of(&"zz".repeat(32)), None);
    }

    #[test]
    fn running_out_of_descriptors_is_named_as_such() {
        let path = PathBuf::from("build/a.css");
        for errno in [23, 24] {
            let e = open_error(path.clone(), std::io::Error::from_raw_os_error(errno));
            assert!(
                matches!(e, LoadError::TooManyOpenFiles { .. }),
                "{errno}: {e}"
            );
            assert!(e
                .to_string()
                .starts_with("out of file descriptors opening `build/a.css`"));
        }
        let e = open_error(path, std::io::Error::from_raw_os_error(2));
        assert!(matches!(e, LoadError::Open { .. }), "{e}");
    }

    #[test]
    fn routable_paths() {
        for ok in [
            "a.css",
            "css/app.X.css",
            ".well-known/security.txt",
            "a b/ü.png",
            // U+00A0 (`C2 A0`) and U+0100 (`C4 80`): bytes next to the C1 controls'.
            "nbsp\u{a0}.txt",
            "\u{100}.txt",
        ] {
            assert!(routable(ok), "{ok}");
        }
        for bad in [
            "",
            ".env",
            "a/.git/x",
            "CON",
            "a/nul.txt",
            "a:b",
            "x.",
            "a//b",
            "a\\b",
            "tab\t.txt",
            "del\u{7f}.txt",
            // C1 controls: NEL and U+009F.
            "nel\u{85}.txt",
            "a/\u{9f}",
        ] {
            assert!(!routable(bad), "{bad}");
        }
    }
}
