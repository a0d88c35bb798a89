//! The one place responses are built: every status code the server sends is chosen here,
//! from an [`Outcome`] decided before. Header values that never change come from the build.

use std::collections::VecDeque;
use std::fs::File;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use actix_http::h1::{FileRange, HeaderBlock};
use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::body::{Segment, Segments, INLINE_LIMIT};
use crate::http::decide::Decision;
use crate::options::CACHE_CONTROL_NO_STORE;
use crate::route::{encode_lines, HeaderList, Representation, Resource, ResourceRoute};

/// Everything the response for a request depends on, decided.
#[derive(Debug)]
pub(crate) enum Outcome<'a> {
    /// A representation of a resource, with the decision of `decide`.
    Represent {
        route: &'a ResourceRoute,
        rep: &'a Representation,
        decision: Decision,
        /// Last-Modified to send (the manifest's, or the Date when that is in the future).
        last_modified: HeaderValue,
        /// The Date to send, when it cannot be left to actix-http (see [`respond`]).
        date: Option<HeaderValue>,
        /// The open file, for a representation on disk whose bytes are sent.
        file: Option<Arc<File>>,
    },
    /// 308 to a relative reference.
    Redirect {
        location: HeaderValue,
        cache_control: HeaderValue,
    },
    /// 200 `ok` for load balancers.
    Health,
    /// 404, with the build's 404 page when it has one.
    NotFound {
        page: Option<&'a Resource>,
        extra: Option<HeaderList>,
        /// The 404 page's open file, when it is on disk.
        file: Option<Arc<File>>,
    },
    /// 503: a file the manifest lists cannot be read now (gone, or replaced by a deploy
    /// before the reload). Transient: the next reload serves the new build's.
    Unavailable,
    /// 406: the resource has variants, and neither they nor identity are acceptable.
    NotAcceptable { route: &'a ResourceRoute },
    /// 400: a request path refused by `path::decode`.
    BadRequest,
    /// 405 for anything but GET and HEAD.
    MethodNotAllowed,
}

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const NO_STORE: HeaderValue = HeaderValue::from_static(CACHE_CONTROL_NO_STORE);
const BYTES: HeaderValue = HeaderValue::from_static("bytes");
const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD");
const RETRY_AFTER: HeaderValue = HeaderValue::from_static("1");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const NOT_FOUND_BODY: &str = "not found\n";

/// The headers of a 404 without a page or extra headers, as its header map below would
/// have them, encoded once.
static NOT_FOUND_LINES: LazyLock<Bytes> = LazyLock::new(|| {
    let mut map = HeaderMap::new();
    map.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    map.insert(header::CACHE_CONTROL, NO_STORE);
    map.insert(header::CONTENT_TYPE, TEXT);
    Bytes::from(encode_lines(&map).expect("no framing header"))
});

/// Builds the response for `outcome`. `head` says the request was HEAD: the headers are
/// exactly GET's (§9.3.2), the body is dropped.
///
/// Date (§6.6.1, on every response): actix-http writes its own into every response that
/// has none, from a clock it reads twice a second, which costs less than a header of our
/// own (one of the six a 304 carries; each costs a HeaderMap insert). Only a representation
/// whose Last-Modified is within a few seconds of now carries the Date it was decided with,
/// so that Last-Modified is never later than Date (§8.8.2.1).
///
/// `block`: the response may carry its headers as a [`HeaderBlock`] (an HTTP/1 request,
/// and a mount that allows it). A 200 or 304 of a representation that goes out with
/// actix-http's Date then gets the header lines its route and representation made once
/// (the same headers as below, by construction) instead of a header map built per
/// request: those inserts and their encoding were a fifth of a 304's instructions. So does
/// a 404 that has neither a page nor extra headers.
pub(crate) fn respond(outcome: Outcome<'_>, head: bool, block: bool) -> HttpResponse {
    let outcome = match outcome {
        Outcome::Represent {
            route,
            rep,
            decision: decision @ (Decision::Full | Decision::NotModified),
            date: None,
            file,
            ..
        } if block && route.header_lines().is_some() => {
            let url_lines = route.header_lines().expect("checked above").clone();
            let full = decision == Decision::Full;
            let lines = HeaderBlock::new([url_lines, rep.header_lines(full)]);
            let status = if full {
                StatusCode::OK
            } else {
                StatusCode::NOT_MODIFIED
            };
            let mut res = HttpResponse::build(status);
            res.extensions_mut().insert(lines);
            return if full {
                whole(res, rep, file, head)
            } else {
                res.body(())
            };
        }
        // A 404 without a page or headers of its own (nginx's most frequent answer to
        // scanners and stale links) is the same response every time.
        Outcome::NotFound {
            page: None,
            extra: None,
            ..
        } if block => {
            let mut res = HttpResponse::build(StatusCode::NOT_FOUND);
            res.extensions_mut()
                .insert(HeaderBlock::new([NOT_FOUND_LINES.clone()]));
            return res.body(NOT_FOUND_BODY);
        }
        outcome => outcome,
    };
    let status = match &outcome {
        Outcome::Represent { decision, .. } => match decision {
            Decision::Full => StatusCode::OK,
            Decision::Partial { .. } | Decision::Multipart { .. } => StatusCode::PARTIAL_CONTENT,
            Decision::NotModified => StatusCode::NOT_MODIFIED,
            Decision::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Decision::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
        },
        Outcome::Redirect { .. } => StatusCode::PERMANENT_REDIRECT,
        Outcome::Health => StatusCode::OK,
        Outcome::NotFound { .. } => StatusCode::NOT_FOUND,
        Outcome::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
        Outcome::BadRequest => StatusCode::BAD_REQUEST,
        Outcome::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Outcome::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut res = HttpResponse::build(status);
    // nosniff on every response.
    res.insert_header((header::X_CONTENT_TYPE_OPTIONS, NOSNIFF));

    match outcome {
        Outcome::Represent {
            route,
            rep,
            decision,
            last_modified,
            date,
            file,
        } => {
            if let Some(date) = date {
                res.insert_header((header::DATE, date));
            }
            if let Some(vary) = &route.resource.vary {
                res.insert_header((header::VARY, vary.clone()));
            }
            for (name, value) in route.extra.iter() {
                res.insert_header((name.clone(), value.clone()));
            }
            match decision {
                Decision::PreconditionFailed => {
                    // §15.5.13: the method is not performed; nothing to cache.
                    res.insert_header((header::CACHE_CONTROL, NO_STORE));
                    return res.body(());
                }
                Decision::RangeNotSatisfiable => {
                    // §15.5.17, §14.4: `bytes */complete-length`.
                    res.insert_header((header::CACHE_CONTROL, NO_STORE));
                    res.insert_header((header::CONTENT_RANGE, format!("bytes */{}", rep.len)));
                    return res.body(());
                }
                _ => {}
            }
            // §15.4.5, §15.3.7: 200, 206 and 304 all carry the validators and Cache-Control.
            res.insert_header((header::CACHE_CONTROL, route.cache_control.clone()));
            res.insert_header((header::ETAG, rep.etag.clone()));
            match decision {
                Decision::NotModified => {
                    // §15.4.5: Last-Modified guides the cache update; no content, no
                    // Content-Type or Content-Encoding, and no Content-Length.
                    res.insert_header((header::LAST_MODIFIED, last_modified));
                    res.body(())
                }
                Decision::Full => {
                    res.insert_header((header::LAST_MODIFIED, last_modified));
                    res.insert_header((header::CONTENT_TYPE, rep.content_type.clone()));
                    if let Some(coding) = &rep.content_encoding {
                        res.insert_header((header::CONTENT_ENCODING, coding.clone()));
                    }
                    // §14.3
                    res.insert_header((header::ACCEPT_RANGES, BYTES));
                    whole(res, rep, file, head)
                }
                Decision::Partial { range, if_range } => {
                    if !if_range {
                        // §15.3.7: without If-Range, all the 200's representation headers;
                        // with it, only the required ones.
                        res.insert_header((header::LAST_MODIFIED, last_modified));
                        res.insert_header((header::CONTENT_TYPE, rep.content_type.clone()));
                    }
                    if let Some(coding) = &rep.content_encoding {
                        res.insert_header((header::CONTENT_ENCODING, coding.clone()));
                    }
                    res.insert_header((
                        header::CONTENT_RANGE,
                        format!("bytes {}-{}/{}", range.start, range.end - 1, rep.len),
                    ));
                    let len = range.end - range.start;
                    sized(
                        res,
                        len,
                        VecDeque::from([segment(rep, file.as_ref(), range)]),
                    )
                }
                Decision::Multipart { ranges } => {
                    res.insert_header((header::LAST_MODIFIED, last_modified));
                    if let Some(coding) = &rep.content_encoding {
                        res.insert_header((header::CONTENT_ENCODING, coding.clone()));
                    }
                    multipart(res, rep, file.as_ref(), ranges)
                }
                Decision::PreconditionFailed | Decision::RangeNotSatisfiable => {
                    unreachable!("answered above")
                }
            }
        }
        Outcome::Redirect {
            location,
            cache_control,
        } => {
            res.insert_header((header::LOCATION, location));
            res.insert_header((header::CACHE_CONTROL, cache_control));
            res.body(())
        }
        Outcome::Health => {
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            res.insert_header((header::CONTENT_TYPE, TEXT));
            res.body("ok\n")
        }
        Outcome::NotFound { page, extra, file } => {
            // Never `immutable`, never cached: the asset may appear with the next deploy.
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            for (name, value) in extra.iter().flat_map(|e| e.iter()) {
                res.insert_header((name.clone(), value.clone()));
            }
            match page {
                Some(resource) => {
                    // Not negotiated: the page is the same for every request, no Vary.
                    let rep = resource.identity();
                    res.insert_header((header::CONTENT_TYPE, rep.content_type.clone()));
                    whole(res, rep, file, head)
                }
                None => {
                    res.insert_header((header::CONTENT_TYPE, TEXT));
                    res.body(NOT_FOUND_BODY)
                }
            }
        }
        Outcome::NotAcceptable { route } => {
            // §15.5.7; the answer depends on Accept-Encoding like every other of the
            // resource, so it carries the same Vary (§12.5.5).
            if let Some(vary) = &route.resource.vary {
                res.insert_header((header::VARY, vary.clone()));
            }
            for (name, value) in route.extra.iter() {
                res.insert_header((name.clone(), value.clone()));
            }
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            res.insert_header((header::CONTENT_TYPE, TEXT));
            res.body("not acceptable: Accept-Encoding excludes identity and every coding this resource has\n")
        }
        Outcome::BadRequest => {
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            res.insert_header((header::CONTENT_TYPE, TEXT));
            res.body("bad request\n")
        }
        Outcome::Unavailable => {
            // §15.6.4: temporary; a second is the watcher's default interval.
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            res.insert_header((header::RETRY_AFTER, RETRY_AFTER));
            res.insert_header((header::CONTENT_TYPE, TEXT));
            res.body("service unavailable: a file of this build cannot be read; retry shortly\n")
        }
        Outcome::MethodNotAllowed => {
            // §15.5.6: a 405 lists the supported methods.
            res.insert_header((header::ALLOW, ALLOW));
            res.insert_header((header::CACHE_CONTROL, NO_STORE));
            res.insert_header((header::CONTENT_TYPE, TEXT));
            res.body("method not allowed\n")
        }
    }
}

/// `range` of the representation's bytes: a slice of memory, or of `file` (opened for this
/// request, for a representation on disk).
fn segment(rep: &Representation, file: Option<&Arc<File>>, range: Range<u64>) -> Segment {
    match (rep.body.memory(), file) {
        (Some(bytes), _) => Segment::Bytes(bytes.slice(range.start as usize..range.end as usize)),
        (None, Some(file)) => Segment::File {
            file: file.clone(),
            offset: range.start,
            remaining: range.end - range.start,
        },
        (None, None) => {
            unreachable!("a body on disk is opened (a lazy one read) before it is sent")
        }
    }
}

/// The whole representation; for HEAD the same Content-Length with no body read.
fn whole(
    mut res: HttpResponseBuilder,
    rep: &Representation,
    file: Option<Arc<File>>,
    head: bool,
) -> HttpResponse {
    match rep.body.memory() {
        Some(bytes) => res.body(bytes.clone()),
        None if head => {
            res.no_chunking(rep.len);
            res.body(BodyStream::new(futures_util::stream::empty::<
                std::io::Result<Bytes>,
            >()))
        }
        None => sized(
            res,
            rep.len,
            VecDeque::from([segment(rep, file.as_ref(), 0..rep.len)]),
        ),
    }
}

fn sized(mut res: HttpResponseBuilder, len: u64, segments: VecDeque<Segment>) -> HttpResponse {
    // A body that is one range of a file is also offered to the patched actix-http as that
    // range, which it sends with sendfile(2) on plain TCP (neither the read into user space
    // nor the copy into the socket: 37 % of a 100 KB file's profile under wrk). Elsewhere
    // (TLS, other systems) the stream below is sent. Only a range the stream would also
    // read on the worker thread: sendfile reads there too, and a larger range of a file
    // not in the page cache would stall every connection of the worker on the disk.
    if let (
        1,
        Some(Segment::File {
            file,
            offset,
            remaining,
        }),
    ) = (segments.len(), segments.front())
    {
        if *remaining <= INLINE_LIMIT {
            res.extensions_mut()
                .insert(FileRange::new(file.clone(), *offset, *remaining));
        }
    }
    res.body(SizedStream::new(len, Segments::new(segments)))
}

/// The multipart boundary: derived from the ETag, so the same request gets the same bytes
/// on every replica; a representation cannot contain a delimiter built from its own hash.
fn boundary(rep: &Representation) -> String {
    let tag: String = rep
        .etag_opaque()
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .take(48)
        .map(|&b| b as char)
        .collect();
    format!("assetc-{tag}")
}

/// §15.3.7.2: `multipart/byteranges`, one part per range, each with its Content-Type and
/// Content-Range, and no top-level Content-Range.
fn multipart(
    mut res: HttpResponseBuilder,
    rep: &Representation,
    file: Option<&Arc<File>>,
    ranges: Vec<Range<u64>>,
) -> HttpResponse {
    let boundary = boundary(rep);
    let content_type = String::from_utf8_lossy(rep.content_type.as_bytes()).into_owned();
    let mut segments = VecDeque::with_capacity(ranges.len() * 2 + 1);
    let mut len = 0u64;
    for (i, range) in ranges.into_iter().enumerate() {
        let head = format!(
            "{}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
            if i == 0 { "" } else { "\r\n" },
            range.start,
            range.end - 1,
            rep.len
        );
        len += head.len() as u64 + (range.end - range.start);
        segments.push_back(Segment::Bytes(Bytes::from(head)));
        segments.push_back(segment(rep, file, range));
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    len += tail.len() as u64;
    segments.push_back(Segment::Bytes(Bytes::from(tail)));
    res.insert_header((
        header::CONTENT_TYPE,
        format!("multipart/byteranges; boundary={boundary}"),
    ));
    sized(res, len, segments)
}
