//! What a request reads: the route of a URL, the resource behind it, and each
//! representation's precomputed headers and body. Built at load, never changed after.

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::web::Bytes;

use crate::handles::{DiskFile, LazyFile};
use crate::http::dictionary::available_dictionary;
use crate::http::negotiate::{negotiate_with_dictionary, Coding, DictCoding, Negotiated};

/// Where a representation's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Small entry points, read at load.
    Memory(Bytes),
    /// Small fingerprinted files, read into memory at their first request (shared with
    /// the build a reload replaced, which may have read them already).
    Lazy(Arc<LazyFile>),
    /// The rest: a file checked at start-up, opened per request through the build's
    /// [`Handles`](crate::handles::Handles) and read by range.
    Disk(DiskFile),
}

impl Body {
    /// The bytes, when they are in memory (a lazy body once its first request read it).
    pub fn memory(&self) -> Option<&Bytes> {
        match self {
            Body::Memory(bytes) => Some(bytes),
            Body::Lazy(lazy) => lazy.get(),
            Body::Disk(_) => None,
        }
    }
}

/// One representation of a resource: the identity bytes, or a precompressed variant with
/// its own ETag and length (RFC 9110 §8.8.3: a strong ETag differs per content-coding).
#[derive(Debug)]
pub(crate) struct Representation {
    /// The `Content-Encoding` of this representation (`None`: identity, never sent).
    pub content_encoding: Option<HeaderValue>,
    /// The identity's `Content-Type`, for every representation (§8.4).
    pub content_type: HeaderValue,
    /// The strong ETag with its quotes, as sent.
    pub etag: HeaderValue,
    /// Seconds since the epoch, from the manifest.
    pub last_modified: i64,
    /// `last_modified` as an IMF-fixdate.
    pub last_modified_header: HeaderValue,
    /// The length of these (encoded) bytes.
    pub len: u64,
    pub body: Body,
    /// This representation's header lines for an HTTP/1 head, made at its first request
    /// (see [`Representation::header_lines`]). Boxed: 16 bytes in each of a large build's
    /// hundreds of thousands of representations until then, not 48.
    pub lines: OnceLock<Box<(Bytes, usize)>>,
}

impl Representation {
    /// The opaque part of the ETag, for comparisons.
    pub fn etag_opaque(&self) -> &[u8] {
        let b = self.etag.as_bytes();
        &b[1..b.len() - 1]
    }

    /// This representation's header lines for a 200 (`full`) or a 304, for a
    /// [`HeaderBlock`](actix_http::h1::HeaderBlock): the 304's (ETag, Last-Modified) are
    /// the first lines of the 200's (then Content-Type, Content-Encoding, Accept-Ranges).
    /// Made once, at the first request that needs them, rather than at load, where they
    /// would double the headers' memory of every representation never asked for.
    pub fn header_lines(&self, full: bool) -> Bytes {
        let (lines, validators) = &**self.lines.get_or_init(|| {
            let mut map = HeaderMap::new();
            map.insert(header::ETAG, self.etag.clone());
            map.insert(header::LAST_MODIFIED, self.last_modified_header.clone());
            let mut lines = encode_lines(&map).expect("no framing header");
            let validators = lines.len();
            map.clear();
            map.insert(header::CONTENT_TYPE, self.content_type.clone());
            if let Some(coding) = &self.content_encoding {
                map.insert(header::CONTENT_ENCODING, coding.clone());
            }
            map.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            lines.extend_from_slice(&encode_lines(&map).expect("no framing header"));
            Box::new((Bytes::from(lines), validators))
        });
        if full {
            lines.clone()
        } else {
            lines.slice(..*validators)
        }
    }
}

/// `name: value\r\n` for each of the map's values, as actix-http's HTTP/1 encoder writes
/// them; `None` for a map with a header that encoder writes or reads itself (Date,
/// Content-Length, Transfer-Encoding, Upgrade), whose response keeps the header map.
/// `Connection` is left out, as the encoder leaves it out of a map.
pub(crate) fn encode_lines(map: &HeaderMap) -> Option<Vec<u8>> {
    let mut lines = Vec::with_capacity(128);
    for (name, value) in map.iter() {
        match *name {
            header::CONNECTION => continue,
            header::DATE | header::CONTENT_LENGTH | header::TRANSFER_ENCODING | header::UPGRADE => {
                return None
            }
            _ => {}
        }
        lines.extend_from_slice(name.as_str().as_bytes());
        lines.extend_from_slice(b": ");
        lines.extend_from_slice(value.as_bytes());
        lines.extend_from_slice(b"\r\n");
    }
    Some(lines)
}

/// `Vary` of every response of a resource that has precompressed variants (§12.5.5).
pub(crate) const VARY_ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("Accept-Encoding");
/// `Vary` of every response of a resource that has dictionary deltas (RFC 9842 §6.2).
pub(crate) const VARY_DICTIONARY: HeaderValue =
    HeaderValue::from_static("Accept-Encoding, Available-Dictionary");

/// A delta of a resource (RFC 9842): its bytes encoded against an older version, the
/// dictionary a request names by SHA-256 in `Available-Dictionary`.
#[derive(Debug)]
pub(crate) struct Delta {
    pub dictionary: [u8; 32],
    pub coding: DictCoding,
    pub representation: Representation,
}

/// What is behind a URL: one or more representations of the same content. With one
/// representation there is nothing to negotiate and no `Vary`.
#[derive(Debug)]
pub(crate) struct Resource {
    /// The identity first, then the variants in the server's order of preference.
    pub representations: Vec<Representation>,
    /// The codings of `representations[1..]`, in the same order.
    pub codings: Vec<Coding>,
    /// Dictionary deltas, a few per resource (two codings for each dictionary kept): a
    /// request's dictionary is looked up by a scan.
    pub deltas: Vec<Delta>,
    /// The logical path (of the generation it comes from).
    pub logical: Box<str>,
    /// `Vary` sent on every response of the resource when it has several representations.
    pub vary: Option<HeaderValue>,
    /// A page's preload hints (`Options::preload_links`), sent at every URL it is served at.
    pub preload: Option<HeaderValue>,
}

impl Resource {
    /// The representation for a request, by its `Accept-Encoding` (RFC 9110 §12.5.3);
    /// `None` when nothing available is acceptable (406). A resource with one
    /// representation is not negotiated: it answers identity whatever the request says
    /// (§12.5.3 allows ignoring the field), so that its responses never vary.
    ///
    /// With deltas, a request whose `Available-Dictionary` names one of their dictionaries
    /// may get a delta (RFC 9842 §6.1); an unknown or malformed hash is negotiated as if
    /// the field were absent.
    pub fn select(&self, request: &HeaderMap) -> Option<&Representation> {
        if self.codings.is_empty() && self.deltas.is_empty() {
            return Some(&self.representations[0]);
        }
        let lines = request
            .get_all(header::ACCEPT_ENCODING)
            .map(HeaderValue::as_bytes);
        let mut offered: [Option<&Delta>; 2] = [None, None];
        if !self.deltas.is_empty() {
            let field = request
                .get_all("available-dictionary")
                .map(HeaderValue::as_bytes);
            if let Some(hash) = available_dictionary(field) {
                for delta in self.deltas.iter().filter(|d| d.dictionary == hash) {
                    offered[delta.coding as usize] = Some(delta);
                }
            }
        }
        let mut dictionary = [DictCoding::Dcb; 2];
        let mut n = 0;
        for delta in offered.iter().flatten() {
            dictionary[n] = delta.coding;
            n += 1;
        }
        match negotiate_with_dictionary(lines, &self.codings, &dictionary[..n]) {
            Negotiated::Identity => Some(&self.representations[0]),
            Negotiated::Dictionary(coding) => {
                offered[coding as usize].map(|delta| &delta.representation)
            }
            Negotiated::Coding(coding) => {
                let i = self.codings.iter().position(|&c| c == coding)?;
                Some(&self.representations[i + 1])
            }
            Negotiated::NotAcceptable => None,
        }
    }

    /// The identity representation.
    pub fn identity(&self) -> &Representation {
        &self.representations[0]
    }
}

/// Headers of one URL: the same resource can be immutable at its fingerprinted URL and
/// revalidated at its logical one.
#[derive(Debug, Clone)]
pub(crate) struct ResourceRoute {
    pub resource: Arc<Resource>,
    pub cache_control: HeaderValue,
    pub extra: HeaderList,
    /// This URL's header lines for an HTTP/1 head, made at its first request (see
    /// [`ResourceRoute::header_lines`]). Boxed, as [`Representation::lines`].
    pub lines: OnceLock<Option<Box<Bytes>>>,
}

impl ResourceRoute {
    pub fn new(resource: Arc<Resource>, cache_control: HeaderValue, extra: HeaderList) -> Self {
        Self {
            resource,
            cache_control,
            extra,
            lines: OnceLock::new(),
        }
    }

    /// The header lines every 200 and 304 of this URL starts with, for a
    /// [`HeaderBlock`](actix_http::h1::HeaderBlock): X-Content-Type-Options, Vary, the
    /// extra headers and Cache-Control, inserted in the order `respond` inserts them (so a
    /// later one replaces an earlier one of the same name, as there). `None` when an
    /// extra header is one actix-http's encoder handles itself. Made once, at the first
    /// request that needs them (see [`Representation::header_lines`]).
    pub fn header_lines(&self) -> Option<&Bytes> {
        self.lines
            .get_or_init(|| {
                let mut map = HeaderMap::new();
                map.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                if let Some(vary) = &self.resource.vary {
                    map.insert(header::VARY, vary.clone());
                }
                for (name, value) in self.extra.iter() {
                    map.insert(name.clone(), value.clone());
                }
                map.insert(header::CACHE_CONTROL, self.cache_control.clone());
                encode_lines(&map).map(|lines| Box::new(Bytes::from(lines)))
            })
            .as_deref()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Route {
    Resource(ResourceRoute),
    /// `/dir` → `./dir/` (the value is the relative reference, already encoded).
    Redirect(Arc<str>),
    Health,
}

/// Extra headers for URLs.
pub(crate) type HeaderList = Arc<[(HeaderName, HeaderValue)]>;

/// The URL → route map. foldhash rather than SipHash: hashing the 200,000 keys of a large
/// build is a tenth of its start-up with SipHash, and the keys are the build's own (a
/// request only looks up, so chosen collisions cannot lengthen a chain it did not build).
pub(crate) type Routes = std::collections::HashMap<Box<str>, Route, foldhash::fast::RandomState>;
