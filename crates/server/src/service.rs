//! The actix-web service: a [`Mount`] serves a loaded [`Build`] at a path prefix. Per
//! request it decodes the path once, looks it up, decides, and hands the outcome to
//! `respond`; it also answers templates' questions (URLs, integrity) about the build.

use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use actix_web::dev::{fn_service, AppService, HttpServiceFactory, ResourceDef, ServiceRequest};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, Version};
use actix_web::{HttpRequest, HttpResponse};

use crate::build::Build;
use crate::error::LoadError;
use crate::http::date::{format_common_log_date, format_http_date, year_of};
use crate::http::decide::{decide, Decision, Validators};
use crate::route::{Body, Representation, ResourceRoute, Route};
use assetc_core::url_ref::encode_path;

use crate::http::path::{self, Decoded};
use crate::respond::{respond, Outcome};

/// How requests are logged, through `tracing` (target `assetc::access`, level INFO).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessLog {
    /// No access log.
    #[default]
    Off,
    /// The Common Log Format: `127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.1" 200 512`.
    Common,
    /// One JSON object per request.
    Json,
}

/// The tracing target of access log events.
pub const ACCESS_LOG_TARGET: &str = "assetc::access";

#[derive(Debug, Clone)]
struct Inner {
    /// `""` at the root, else `/static` (no trailing `/`).
    prefix: String,
    /// The build being served, read once per request and replaced whole by a reload:
    /// shared by every clone of the mount.
    current: Arc<ArcSwap<Build>>,
    access_log: AccessLog,
    /// `/static` → `./static/`, answered when the build has a root index.
    prefix_redirect: Option<Arc<str>>,
    /// Whether HTTP/1 responses may carry their headers as a header block.
    header_blocks: bool,
}

/// A build mounted at a URL prefix: an actix-web service (`App::new().service(mount)`)
/// and the handle templates use for URLs. Cheap to clone; clones share the served build,
/// so a [`Mount::reload`] on any of them is seen by all.
///
/// It can be registered on the `App` or inside a `web::scope`; either way it decodes the
/// raw request path below its prefix itself, exactly once.
///
/// Implementation notes: a mount at `/` matches every path, so it shadows the routes
/// registered after it on the same `App` or scope; register those first. A mount answers
/// every path under its prefix (404 for what the build does not have): it never falls
/// through to a later service.
#[derive(Debug, Clone)]
pub struct Mount {
    inner: Arc<Inner>,
}

/// A reload that took place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// The generation served before.
    pub previous: String,
    /// The generation served now.
    pub generation: String,
    /// Older generations whose fingerprinted files are served too.
    pub older_generations: usize,
    /// URLs the new build answers.
    pub routes: usize,
    /// Bytes the new build holds in memory...
    pub memory_bytes: u64,
    /// ...of which were shared with the previous build rather than read again.
    pub reused_bytes: u64,
    pub took: Duration,
}

impl Mount {
    /// Mounts `build` at `prefix` (`"/"` or `""` for the root, or e.g. `"/static"`).
    pub fn new(prefix: &str, build: impl Into<Arc<Build>>) -> Self {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let prefix_redirect = match prefix.rsplit('/').next() {
            Some(last) if !prefix.is_empty() => Some(format!("./{last}/").into()),
            _ => None,
        };
        Self {
            inner: Arc::new(Inner {
                prefix,
                current: Arc::new(ArcSwap::new(build.into())),
                access_log: AccessLog::Off,
                prefix_redirect,
                header_blocks: false,
            }),
        }
    }

    /// Logs each request in `format`.
    pub fn access_log(mut self, format: AccessLog) -> Self {
        // Clones made before this keep their own setting; the served build stays shared.
        Arc::make_mut(&mut self.inner).access_log = format;
        self
    }

    /// Sends the headers of 200s and 304s to HTTP/1 requests as lines encoded once per URL
    /// and representation (the patched actix-http's `h1::HeaderBlock`), not as a header
    /// map built per request. Off by default: middleware that reads or changes response
    /// headers (actix-web's `Compress`, `DefaultHeaders`) does not see those headers, so
    /// only a server that wraps the mount in none should turn it on, as `assetc serve`
    /// does. HTTP/2 responses always use the header map.
    pub fn header_blocks(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.inner).header_blocks = on;
        self
    }

    /// The build being served now (a reload may replace it at any time).
    pub fn build(&self) -> Arc<Build> {
        self.inner.current.load_full()
    }

    /// Serves `build` from now on: requests already started finish on the previous one,
    /// which is returned.
    pub fn replace(&self, build: impl Into<Arc<Build>>) -> Arc<Build> {
        self.inner.current.swap(build.into())
    }

    /// Loads the build at the served build's root again (the new one, after a deploy
    /// swapped it in) with the same options, and serves it from now on. On error nothing
    /// changes: the current build keeps serving.
    pub fn reload(&self) -> Result<Reloaded, LoadError> {
        let started = Instant::now();
        let current = self.build();
        let new = Arc::new(current.reopen()?);
        let previous = self.replace(new.clone());
        Ok(Reloaded {
            previous: previous.generation().to_owned(),
            generation: new.generation().to_owned(),
            older_generations: new.older_generations().len(),
            routes: new.route_count(),
            memory_bytes: new.memory_bytes(),
            reused_bytes: new.reused_bytes(),
            took: started.elapsed(),
        })
    }

    /// The URL (root-relative, percent-encoded) of a logical path: its fingerprinted name
    /// under the prefix, e.g. `url("css/app.css")` → `/static/css/app.Xk3p9Qa1bC2d.css`.
    pub fn url(&self, logical: &str) -> Option<String> {
        let build = self.inner.current.load();
        let served = build.served_path(logical)?;
        // The encoder the build writes references with, so a template and a page spell a
        // file's URL the same way.
        Some(format!("{}/{}", self.inner.prefix, encode_path(served)))
    }

    /// The Subresource Integrity value of a logical path (`sha384-…` or `sha256-…`), for `integrity=`.
    pub fn integrity(&self, logical: &str) -> Option<String> {
        self.inner
            .current
            .load()
            .integrity(logical)
            .map(str::to_owned)
    }

    /// Answers a request as the service would, for use inside another handler: the
    /// request's whole path is matched against the mount's prefix.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let tail = req.uri().path().strip_prefix(self.inner.prefix.as_str());
        handle(&self.inner, req, tail)
    }
}

impl HttpServiceFactory for Mount {
    fn register(self, config: &mut AppService) {
        let root = config.is_root();
        let rdef = if root {
            ResourceDef::root_prefix(&self.inner.prefix)
        } else {
            ResourceDef::prefix(&self.inner.prefix)
        };
        let inner = self.inner;
        let service = fn_service(move |req: ServiceRequest| {
            let request = req.request();
            let tail = if root {
                request.uri().path().strip_prefix(inner.prefix.as_str())
            } else {
                tail_in_scope(request)
            };
            let res = handle(&inner, request, tail);
            std::future::ready(Ok::<_, actix_web::Error>(req.into_response(res)))
        });
        config.register_service(rdef, None, service, None);
    }
}

/// The raw (still percent-encoded) request path below everything the router matched: the
/// scopes around the mount and its own prefix. The router matches a requoted copy of the
/// path, so the matched length is only used where the raw path starts with exactly the
/// matched text (a prefix written with percent-encodings is not found, never misread).
fn tail_in_scope(req: &HttpRequest) -> Option<&str> {
    let info = req.match_info();
    let matched = info.as_str().len().checked_sub(info.unprocessed().len())?;
    let raw = req.uri().path();
    let consumed = info.as_str().get(..matched)?;
    raw.strip_prefix(consumed)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The `Date` value of the second `now` (RFC 9110 §6.6.1: one second's resolution), for
/// the responses that carry their own (`respond`), formatted once per second on each
/// worker thread: formatting it per request was 4.7 % of a small response's profile.
fn date_value(now: i64) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((second, value)) if *second == now => value.clone(),
            _ => {
                let value = HeaderValue::from_str(&format_http_date(now))
                    .expect("an IMF-fixdate is a valid header value");
                *last = Some((now, value.clone()));
                value
            }
        }
    })
}

/// Answers `req`, whose path below the mount's prefix is `tail` (None: not under it).
fn handle(inner: &Inner, req: &HttpRequest, tail: Option<&str>) -> HttpResponse {
    // Only the access log reads the clock's instant: a second clock read per request
    // otherwise.
    let started = (inner.access_log != AccessLog::Off).then(Instant::now);
    let now = now_secs();
    let head = req.method() == Method::HEAD;
    // The one read of the served build: this request is answered from it whatever a
    // reload does meanwhile.
    let build = inner.current.load();
    let outcome = route(inner, &build, req, tail, now);
    let block = inner.header_blocks && req.version() <= Version::HTTP_11;
    let res = respond(outcome, head, block);
    if let Some(started) = started {
        log(inner.access_log, req, &res, now, started, head);
    }
    res
}

/// Decides what a request gets; no response is built here.
fn route<'a>(
    inner: &'a Inner,
    build: &'a Build,
    req: &HttpRequest,
    tail: Option<&str>,
    now: i64,
) -> Outcome<'a> {
    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or with several Host lines
    // or an invalid one (before anything else: such a request is not understood at all).
    if !host_is_valid(req) {
        return Outcome::BadRequest;
    }
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return Outcome::MethodNotAllowed;
    }
    let Some(rest) = tail else {
        return not_found(build, None);
    };
    if rest.is_empty() {
        return match &inner.prefix_redirect {
            Some(location) if build.routes.contains_key("/") => redirect(build, location, req),
            _ => not_found(build, None),
        };
    }
    // A path with nothing to decode that is a route is answered without the checks: every
    // route's URL passed them at load (`load::routable`), so `path::decode` would return it
    // unchanged (the checks were 6 % of a 304's instructions). Anything else is decoded
    // and checked first, as before.
    let plain = !rest.contains(['%', '\\']);
    let found = if plain { build.routes.get(rest) } else { None };
    if let Some(route) = found {
        debug_assert!(
            matches!(path::decode(rest), Ok(Decoded::Path(ref p)) if p == rest),
            "a route key `path::decode` changes or refuses: {rest:?}"
        );
        return answer(build, route, req, now);
    }
    let path = match path::decode(rest) {
        Err(_) => return Outcome::BadRequest,
        Ok(Decoded::Hidden) => return not_found(build, None),
        Ok(Decoded::Path(path)) => path,
    };
    // A plain path decodes to itself, which was looked up above.
    let found = if plain {
        None
    } else {
        build.routes.get(&*path)
    };
    match found {
        Some(route) => answer(build, route, req, now),
        None => {
            let last = path.rsplit('/').next().unwrap_or_default();
            match &build.fallback {
                Some(fallback) if !last.contains('.') => represent(build, fallback, req, now),
                _ => not_found(build, Some(&*path)),
            }
        }
    }
}

/// What a route answers.
fn answer<'a>(build: &'a Build, route: &'a Route, req: &HttpRequest, now: i64) -> Outcome<'a> {
    match route {
        Route::Resource(route) => represent(build, route, req, now),
        Route::Redirect(location) => redirect(build, location, req),
        Route::Health => Outcome::Health,
    }
}

/// RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host line; any request's Host, if
/// present, is valid. HTTP/1.0 may omit it; HTTP/2 carries `:authority` instead.
fn host_is_valid(req: &HttpRequest) -> bool {
    let mut hosts = req.headers().get_all(header::HOST);
    match (hosts.next(), hosts.next()) {
        (None, _) => req.version() != Version::HTTP_11,
        (Some(host), None) => valid_host(host.as_bytes()),
        (Some(_), Some(_)) => false,
    }
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2–3), where an empty value
/// is allowed (§7.2: the target URI has no authority): an IP-literal in brackets, or a
/// reg-name of unreserved characters, sub-delims and percent-encodings; a port of digits.
fn valid_host(value: &[u8]) -> bool {
    const SUB_DELIMS: &[u8] = b"!$&'()*+,;=";
    let unreserved_or_sub =
        |b: &u8| b.is_ascii_alphanumeric() || b"-._~".contains(b) || SUB_DELIMS.contains(b);
    let (host_ok, port) = if let Some(literal) = value.strip_prefix(b"[") {
        let Some(end) = literal.iter().position(|&b| b == b']') else {
            return false;
        };
        let inside = &literal[..end];
        let ok = !inside.is_empty() && inside.iter().all(|b| unreserved_or_sub(b) || *b == b':');
        (ok, &literal[end + 1..])
    } else {
        let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
        let name = &value[..end];
        let mut ok = true;
        let mut i = 0;
        while i < name.len() && ok {
            if name[i] == b'%' {
                ok = name
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
                i += 3;
            } else {
                ok = unreserved_or_sub(&name[i]);
                i += 1;
            }
        }
        (ok, &value[end..])
    };
    let port_ok = match port {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    host_ok && port_ok
}

fn represent<'a>(
    build: &Build,
    route: &'a ResourceRoute,
    req: &HttpRequest,
    now: i64,
) -> Outcome<'a> {
    let Some(rep) = route.resource.select(req.headers()) else {
        return Outcome::NotAcceptable { route };
    };
    // §8.8.2.1: a Last-Modified later than the Date is sent as the Date, and is then no
    // strong validator. Preconditions still compare against the real one (§13.1.3: the
    // bytes were modified then), so an If-Modified-Since from the previous build, a second
    // earlier, never matches bytes stamped a second ahead of the clock.
    //
    // actix-http's Date may trail `now` by its refresh interval (half a second, more on a
    // worker late to its timer): a Last-Modified this recent goes out with our own Date.
    let date = (rep.last_modified > now - OWN_DATE_WITHIN).then(|| date_value(now));
    let (lm_strong, lm_header) = match &date {
        Some(date) if rep.last_modified > now => (false, date.clone()),
        _ => (true, rep.last_modified_header.clone()),
    };
    let validators = Validators {
        etag: rep.etag_opaque(),
        last_modified: rep.last_modified,
        last_modified_is_strong: lm_strong,
        len: rep.len,
    };
    let decision = decide(req.method(), req.headers(), &validators, year_of(now));
    let sends_bytes = matches!(
        decision,
        Decision::Full | Decision::Partial { .. } | Decision::Multipart { .. }
    );
    let file = if sends_bytes {
        match open(build, rep) {
            Ok(file) => file,
            Err(()) => return Outcome::Unavailable,
        }
    } else {
        None
    };
    Outcome::Represent {
        route,
        rep,
        decision,
        last_modified: lm_header,
        date,
        file,
    }
}

/// Seconds before now within which a Last-Modified makes the response carry its own Date.
const OWN_DATE_WITHIN: i64 = 5;

/// The open file of a representation on disk (None for one in memory), through the
/// build's handle cache, or a lazy body read into memory at its first request; a file that
/// cannot be read is logged, and the request answered 503.
fn open(build: &Build, rep: &Representation) -> Result<Option<Arc<File>>, ()> {
    let opened = match &rep.body {
        Body::Memory(_) => return Ok(None),
        Body::Lazy(lazy) => lazy.load(&build.handles).map(|_| None),
        Body::Disk(disk) => build.handles.get(disk).map(Some),
    };
    opened.map_err(|error| {
        tracing::error!(
            error = %error,
            "a file the served build lists cannot be read; answering 503 until a build that has it is loaded"
        );
    })
}

fn redirect<'a>(build: &'a Build, location: &str, req: &HttpRequest) -> Outcome<'a> {
    let location = match req.uri().query() {
        Some(query) => HeaderValue::from_str(&format!("{location}?{query}")),
        None => HeaderValue::from_str(location),
    };
    match location {
        Ok(location) => Outcome::Redirect {
            location,
            cache_control: build.revalidate.clone(),
        },
        Err(_) => Outcome::BadRequest,
    }
}

fn not_found<'a>(build: &'a Build, path: Option<&str>) -> Outcome<'a> {
    let extra = match (&build.miss_rules, path) {
        (Some(rules), Some(path)) => Some(rules.for_url(path)),
        _ => None,
    };
    let page = build.not_found.as_deref();
    let file = match page.map(|page| open(build, page.identity())) {
        Some(Err(())) => return Outcome::Unavailable,
        Some(Ok(file)) => file,
        None => None,
    };
    Outcome::NotFound { page, extra, file }
}

fn log(
    format: AccessLog,
    req: &HttpRequest,
    res: &HttpResponse,
    now: i64,
    started: Instant,
    head: bool,
) {
    let status = res.status().as_u16();
    let bytes = match res.headers().get(header::CONTENT_LENGTH) {
        _ if head || status == 304 => None,
        Some(v) => v.to_str().ok().and_then(|v| v.parse::<u64>().ok()),
        None => match actix_web::body::MessageBody::size(res.body()) {
            actix_web::body::BodySize::Sized(n) => Some(n),
            _ => None,
        },
    };
    let remote = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.ip().to_string());
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().to_string(), |pq| pq.as_str().to_owned());
    let version = format!("{:?}", req.version());
    match format {
        AccessLog::Off => {}
        AccessLog::Common => {
            let bytes = bytes.map_or_else(|| "-".to_owned(), |b| b.to_string());
            tracing::info!(
                target: ACCESS_LOG_TARGET,
                "{remote} - - [{}] \"{} {} {version}\" {status} {bytes}",
                format_common_log_date(now),
                req.method(),
                target.escape_default(),
            );
        }
        AccessLog::Json => {
            let line = serde_json::json!({
                "time": format_http_date(now),
                "remote": remote,
                "method": req.method().as_str(),
                "target": target,
                "version": version,
                "status": status,
                "bytes": bytes,
                "duration_us": started.elapsed().as_micros() as u64,
                "user_agent": req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
            });
            tracing::info!(target: ACCESS_LOG_TARGET, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_date_value_is_the_second_asked_for_whatever_came_before() {
        // 1994-11-06T08:49:37Z, RFC 9110 §5.6.7's example, then the next second, then back.
        for (now, expected) in [
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (784_111_778, "Sun, 06 Nov 1994 08:49:38 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        ] {
            assert_eq!(date_value(now), expected);
        }
    }

    #[test]
    fn host_values() {
        for good in [
            "",
            "localhost",
            "localhost:8080",
            "example.com:",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "[v1.fe80::a+en1]",
            "xn--bcher-kva.example",
            "a%20b",
            "host:99999999",
        ] {
            assert!(valid_host(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "a b",
            "x/y",
            "../../etc",
            "a\\b",
            "host:8o",
            "host:80:80",
            "[::1",
            "[]",
            "[::1]x",
            "a%2",
            "a%zz",
            "user@host",
            "a?b",
            "a#b",
            "\"x\"",
        ] {
            assert!(!valid_host(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn http11_needs_exactly_one_valid_host() {
        let req = |version, hosts: &[&str]| {
            let mut r = TestRequest::get().version(version);
            for host in hosts {
                r = r.append_header((header::HOST, *host));
            }
            host_is_valid(&r.to_http_request())
        };
        assert!(req(Version::HTTP_11, &["localhost"]));
        assert!(!req(Version::HTTP_11, &[]));
        assert!(!req(Version::HTTP_11, &["a", "a"]));
        assert!(!req(Version::HTTP_11, &["a b"]));
        assert!(req(Version::HTTP_10, &[]));
        assert!(!req(Version::HTTP_10, &["x/y"]));
        assert!(req(Version::HTTP_2, &[]));
    }
}
