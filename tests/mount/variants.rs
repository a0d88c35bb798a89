//! Precompressed variants over a real socket (checklist section E, and the lines of A, C
//! and F that change with a content-coding): negotiation, one ETag per representation,
//! `Vary` on every response of a negotiated resource, ranges over the encoded bytes.

use crate::common::decode;
use crate::common::fixture::Fixture;
use crate::common::http::{Http, Response};
use crate::common::server::InProcess;
use assetc_server::{Build, LoadError, Options};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const CSS: &str = "css/app.css";

/// A site whose stylesheet and home page have br, zstd and gzip variants.
fn fixture() -> Fixture {
    let mut f = Fixture::site();
    let css: String = (0..200)
        .map(|i| format!(".rule-{i} {{ color: #{:06x}; margin: {i}px }}\n", i * 7919))
        .collect();
    f.add(CSS, css.as_bytes(), true);
    f.add_variants(CSS, &["br", "zstd", "gzip"]);
    f.add_variants("index.html", &["gzip"]);
    f.write_manifest();
    f
}

fn site() -> (Fixture, InProcess) {
    site_with(&Options::default())
}

fn site_with(options: &Options) -> (Fixture, InProcess) {
    let f = fixture();
    let s = InProcess::start(f.root(), options);
    (f, s)
}

fn css_url(f: &Fixture) -> String {
    format!("/{}", f.entry(CSS).path)
}

fn ae(value: &str) -> [(&str, &str); 1] {
    [("accept-encoding", value)]
}

/// The identity bytes of the stylesheet.
fn identity(f: &Fixture) -> Vec<u8> {
    std::fs::read(f.root().join(&f.entry(CSS).path)).unwrap()
}

fn variant_bytes(f: &Fixture, coding: &str) -> Vec<u8> {
    std::fs::read(f.root().join(&f.entry(CSS).variants[coding].path)).unwrap()
}

// E33, E34, E35, E36, E37, E39, E42, A3
#[test]
fn each_coding_is_served_with_its_own_etag_length_and_encoding() {
    let (f, s) = site();
    let url = css_url(&f);
    let e = f.entry(CSS);
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (Some(""), None),
        (Some("identity"), None),
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("gzip, deflate"), Some("gzip")),
        (Some("x-gzip"), Some("gzip")),
        (Some("zstd, gzip"), Some("zstd")),
        (Some("br;q=0.1, gzip;q=0.9"), Some("gzip")),
        (Some("*"), Some("br")),
        (Some("*;q=0, identity"), None),
        (Some("deflate"), None),
    ];
    for (header, coding) in cases {
        let r = match header {
            Some(h) => s.get_with(&url, &ae(h)),
            None => s.get(&url),
        };
        r.check_common();
        assert_eq!(r.status, 200, "{header:?}");
        assert_eq!(r.h("vary"), "Accept-Encoding", "{header:?}");
        assert_eq!(r.h("content-type"), "text/css; charset=utf-8", "{header:?}");
        assert_eq!(r.h("cache-control"), IMMUTABLE);
        assert_eq!(r.h("accept-ranges"), "bytes");
        match coding {
            None => {
                assert!(!r.has("content-encoding"), "E39: {header:?}");
                assert_eq!(r.h("etag"), e.etag);
                assert_eq!(r.body, identity(&f));
            }
            Some(coding) => {
                let v = &e.variants[*coding];
                assert_eq!(r.h("content-encoding"), *coding, "{header:?}");
                assert_eq!(r.h("etag"), v.etag, "{header:?}");
                assert_eq!(r.h("content-length"), v.size.to_string(), "E42");
                assert_eq!(r.body, variant_bytes(&f, coding));
            }
        }
    }
    // The gzip bytes are the identity's, encoded.
    let gz = s.get_with(&url, &ae("gzip"));
    assert_eq!(decode("gzip", &gz.body), identity(&f));
    // Every representation has a distinct ETag (A3).
    let mut etags: Vec<&str> = e.variants.values().map(|v| v.etag.as_str()).collect();
    etags.push(&e.etag);
    etags.sort_unstable();
    etags.dedup();
    assert_eq!(etags.len(), 4);
    // The logical path negotiates the same way, revalidated.
    let logical = s.get_with("/css/app.css", &ae("gzip"));
    assert_eq!(
        (logical.h("etag"), logical.h("cache-control")),
        (e.variants["gzip"].etag.as_str(), "no-cache")
    );
    assert_eq!(logical.h("vary"), "Accept-Encoding");
    // Several Accept-Encoding field lines are one list.
    let r = s.get_with(
        &url,
        &[
            ("accept-encoding", "gzip;q=0.5"),
            ("accept-encoding", "zstd;q=0.9"),
        ],
    );
    assert_eq!(r.h("content-encoding"), "zstd");
}

// E38, C: 406 for a negotiated resource when identity is refused and nothing else fits
#[test]
fn nothing_acceptable_is_406_with_vary_and_no_store() {
    let (f, s) = site();
    let url = css_url(&f);
    for header in [
        "identity;q=0",
        "*;q=0",
        "deflate, identity;q=0",
        "br;q=0, identity;q=0, zstd;q=0, gzip;q=0",
    ] {
        let r = s.get_with(&url, &ae(header));
        r.check_common();
        assert_eq!(r.status, 406, "{header}");
        assert_eq!(r.h("vary"), "Accept-Encoding");
        assert_eq!(r.h("cache-control"), "no-store");
        assert!(!r.has("etag") && !r.has("content-encoding"));
        let head = s.request("HEAD", &url, &ae(header));
        assert_eq!(head.status, 406, "{header} (and no body: `raw` checks)");
    }
    // §13.2.1: preconditions do not turn a 406 into a 304.
    let r = s.get_with(
        &url,
        &[("accept-encoding", "identity;q=0"), ("if-none-match", "*")],
    );
    assert_eq!(r.status, 406);
    // Another coding still acceptable: served, not 406.
    assert_eq!(
        s.get_with(&url, &ae("identity;q=0, gzip"))
            .h("content-encoding"),
        "gzip"
    );
    // A resource without variants is not negotiated: identity, no Vary, whatever is asked.
    let js = format!("/{}", f.entry("js/app.js").path);
    let r = s.get_with(&js, &ae("identity;q=0"));
    assert_eq!(r.status, 200);
    assert!(!r.has("vary") && !r.has("content-encoding"));
}

// A3, B13, B14, B18, C20, C23: validators are the selected representation's
#[test]
fn conditional_requests_compare_against_the_selected_representation() {
    let (f, s) = site();
    let url = css_url(&f);
    let e = f.entry(CSS);
    let gz = e.variants["gzip"].etag.as_str();
    let br = e.variants["br"].etag.as_str();
    // A 304 for the gzip representation carries the gzip ETag and Vary.
    let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("if-none-match", gz)]);
    r.check_common();
    assert_eq!(r.status, 304);
    assert_eq!(r.h("etag"), gz);
    assert_eq!(r.h("vary"), "Accept-Encoding");
    assert_eq!(r.h("cache-control"), IMMUTABLE);
    assert!(!r.has("content-encoding") && !r.has("content-type") && !r.has("content-length"));
    // Weak comparison for If-None-Match: W/"gz" matches too.
    let weak = format!("W/{gz}");
    let r = s.get_with(
        &url,
        &[("accept-encoding", "gzip"), ("if-none-match", &weak)],
    );
    assert_eq!(r.status, 304);
    // A cache holding several variants sends all their tags: the 304 names the one selected.
    let list = format!("{}, {gz}, {br}", e.etag);
    let r = s.get_with(&url, &[("accept-encoding", "br"), ("if-none-match", &list)]);
    assert_eq!((r.status, r.h("etag")), (304, br));
    let r = s.get_with(&url, &[("if-none-match", &list)]);
    assert_eq!((r.status, r.h("etag")), (304, e.etag.as_str()));
    // Another representation's tag does not match: the full selected representation.
    let r = s.get_with(
        &url,
        &[("accept-encoding", "gzip"), ("if-none-match", &e.etag)],
    );
    assert_eq!(
        (r.status, r.h("etag"), r.h("content-encoding")),
        (200, gz, "gzip")
    );
    let r = s.get_with(&url, &[("if-none-match", gz)]);
    assert_eq!((r.status, r.h("etag")), (200, e.etag.as_str()));
    assert!(!r.has("content-encoding"));
    // HEAD revalidates the same way.
    let r = s.request(
        "HEAD",
        &url,
        &[("accept-encoding", "gzip"), ("if-none-match", gz)],
    );
    assert_eq!((r.status, r.h("etag")), (304, gz));
    // If-Match is strong and against the selected representation: 412 with Vary.
    let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("if-match", gz)]);
    assert_eq!(r.status, 200);
    let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("if-match", &e.etag)]);
    r.check_common();
    assert_eq!(r.status, 412);
    assert_eq!(r.h("vary"), "Accept-Encoding");
    // If-Range with another representation's tag: the Range is ignored, full 200.
    let r = s.get_with(
        &url,
        &[
            ("accept-encoding", "gzip"),
            ("range", "bytes=0-9"),
            ("if-range", &e.etag),
        ],
    );
    assert_eq!((r.status, r.h("etag")), (200, gz));
    assert_eq!(r.body, variant_bytes(&f, "gzip"));
    let r = s.get_with(
        &url,
        &[
            ("accept-encoding", "gzip"),
            ("range", "bytes=0-9"),
            ("if-range", gz),
        ],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, variant_bytes(&f, "gzip")[..10]);
}

// E33, C20, F49: Vary on every response of a resource with variants, identically
#[test]
fn vary_is_on_every_response_kind_of_a_negotiated_resource() {
    let (f, s) = site();
    let url = css_url(&f);
    let e = f.entry(CSS);
    let gz = e.variants["gzip"].etag.clone();
    let gz_len = e.variants["gzip"].size;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let requests: Vec<Case> = vec![
        ("GET", vec![], 200),
        ("GET", vec![("accept-encoding", "gzip")], 200),
        ("GET", vec![("accept-encoding", "br")], 200),
        ("HEAD", vec![], 200),
        ("HEAD", vec![("accept-encoding", "gzip")], 200),
        (
            "GET",
            vec![("accept-encoding", "gzip"), ("range", "bytes=0-99")],
            206,
        ),
        ("GET", vec![("range", "bytes=0-99")], 206),
        (
            "GET",
            vec![("accept-encoding", "gzip"), ("range", "bytes=0-1,5-9")],
            206,
        ),
        (
            "GET",
            vec![("accept-encoding", "gzip"), ("if-none-match", &gz)],
            304,
        ),
        ("HEAD", vec![("if-none-match", &e.etag)], 304),
        (
            "GET",
            vec![("accept-encoding", "gzip"), ("if-match", "\"other\"")],
            412,
        ),
        (
            "GET",
            vec![("if-unmodified-since", "Thu, 01 Jan 1970 00:00:00 GMT")],
            412,
        ),
        (
            "GET",
            vec![("accept-encoding", "gzip"), ("range", "bytes=999999-")],
            416,
        ),
        ("GET", vec![("accept-encoding", "identity;q=0")], 406),
    ];
    for (method, headers, status) in &requests {
        for target in [url.as_str(), "/css/app.css"] {
            let r = s.request(method, target, headers);
            r.check_common();
            assert_eq!(r.status, *status, "{method} {target} {headers:?}");
            assert_eq!(
                r.h("vary"),
                "Accept-Encoding",
                "{method} {target} {headers:?}"
            );
        }
    }
    // 416 names the encoded length.
    let r = s.get_with(
        &url,
        &[("accept-encoding", "gzip"), ("range", "bytes=999999-")],
    );
    assert_eq!(r.h("content-range"), format!("bytes */{gz_len}"));
    // The entry point with a gzip variant, at `/` and `/index.html`.
    for target in ["/", "/index.html"] {
        for headers in [vec![], vec![("accept-encoding", "gzip")]] {
            assert_eq!(
                s.request("GET", target, &headers).h("vary"),
                "Accept-Encoding"
            );
        }
    }
    // Resources without variants, and misses, do not vary.
    for target in [
        format!("/{}", f.entry("js/app.js").path),
        "/missing.css".into(),
        "/robots.txt".into(),
    ] {
        let r = s.get_with(&target, &ae("gzip"));
        assert!(!r.has("vary"), "{target}");
        assert!(!r.has("content-encoding"), "{target}");
    }
}

// E40, F46, F50: a range addresses the encoded bytes
#[test]
fn ranges_address_the_encoded_bytes() {
    let (f, s) = site();
    let url = css_url(&f);
    let gz = variant_bytes(&f, "gzip");
    let len = gz.len();
    assert!(len > 300);
    let v = &f.entry(CSS).variants["gzip"];
    // The encoded representation in three ranges, put back together and decoded.
    let cuts = [0, 100, 250, len];
    let mut joined = Vec::new();
    for w in cuts.windows(2) {
        let range = format!("bytes={}-{}", w[0], w[1] - 1);
        let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("range", &range)]);
        r.check_common();
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.h("content-encoding"), "gzip");
        assert_eq!(r.h("etag"), v.etag);
        assert_eq!(
            r.h("content-range"),
            format!("bytes {}-{}/{len}", w[0], w[1] - 1)
        );
        assert_eq!(r.h("content-length"), (w[1] - w[0]).to_string());
        joined.extend_from_slice(&r.body);
    }
    assert_eq!(joined, gz);
    assert_eq!(decode("gzip", &joined), identity(&f));
    // A suffix range is the end of the encoded bytes.
    let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("range", "bytes=-8")]);
    assert_eq!(r.body, gz[len - 8..]);
    assert_eq!(
        r.h("content-range"),
        format!("bytes {}-{}/{len}", len - 8, len - 1)
    );
    // Identity ranges address identity bytes at the same URL.
    let r = s.get_with(&url, &[("range", "bytes=0-5")]);
    assert_eq!(r.body, b".rule-");
    assert!(!r.has("content-encoding"));
    // Multipart over the encoded bytes: one Content-Encoding at the top, parts of the
    // encoded length.
    let r = s.get_with(
        &url,
        &[("accept-encoding", "gzip"), ("range", "bytes=0-9,200-209")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.h("content-encoding"), "gzip");
    assert!(r
        .h("content-type")
        .starts_with("multipart/byteranges; boundary="));
    let body = String::from_utf8_lossy(&r.body);
    assert!(
        body.contains(&format!("Content-Range: bytes 0-9/{len}")),
        "{body}"
    );
    assert!(body.contains("Content-Type: text/css; charset=utf-8"));
}

// G54, E34: HEAD of a variant has exactly the GET's headers and no body
#[test]
fn head_of_a_variant_has_the_get_headers() {
    let (f, s) = site();
    let url = css_url(&f);
    for coding in ["br", "zstd", "gzip"] {
        let get = s.get_with(&url, &ae(coding));
        let head = s.request("HEAD", &url, &ae(coding));
        head.check_common();
        assert_eq!(head.status, 200);
        let without_date = |r: &Response| {
            r.headers
                .iter()
                .filter(|(n, _)| n != "date")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(without_date(&head), without_date(&get), "{coding}");
        assert_eq!(
            head.h("content-length"),
            f.entry(CSS).variants[coding].size.to_string()
        );
        // HEAD ignores Range (F44), on a variant too.
        let r = s.request(
            "HEAD",
            &url,
            &[("accept-encoding", coding), ("range", "bytes=0-1")],
        );
        assert_eq!((r.status, r.h("content-encoding")), (200, coding));
    }
}

// Variants larger than the memory limit stream from disk like identity files.
#[test]
fn variants_stream_from_disk_when_large() {
    let options = Options {
        memory_file_limit: 0,
        ..Options::default()
    };
    let (f, s) = site_with(&options);
    let url = css_url(&f);
    let gz = variant_bytes(&f, "gzip");
    let r = s.get_with(&url, &ae("gzip"));
    assert_eq!(r.body, gz);
    let head = s.request("HEAD", &url, &ae("gzip"));
    assert_eq!(head.h("content-length"), gz.len().to_string());
    let r = s.get_with(&url, &[("accept-encoding", "gzip"), ("range", "bytes=10-")]);
    assert_eq!(r.body, gz[10..]);
    let build = Build::open(f.root(), &options).unwrap();
    assert_eq!(build.memory_bytes(), 0);
    let build = Build::open(f.root(), &Options::default()).unwrap();
    let expected: u64 = f
        .manifest
        .entries
        .values()
        .filter(|e| e.size <= Options::default().memory_file_limit)
        .map(|e| e.size + e.variants.values().map(|v| v.size).sum::<u64>())
        .sum();
    assert_eq!(build.memory_bytes(), expected, "variants count in memory");
}

// Variant files are checked like identity files: an entry point's at start-up, a
// fingerprinted file's at its first request and by every reload.
#[test]
fn variant_files_are_checked_at_start_up() {
    let f = fixture();
    let v = f.entry("index.html").variants["gzip"].clone();
    std::fs::remove_file(f.root().join(&v.path)).unwrap();
    let err = Build::open(f.root(), &Options::default()).unwrap_err();
    assert!(err.to_string().contains(&v.path), "{err}");

    let open = |f: &Fixture| Build::open(f.root(), &Options::default())?.reopen();
    // Missing.
    let f = fixture();
    let v = f.entry(CSS).variants["br"].clone();
    std::fs::remove_file(f.root().join(&v.path)).unwrap();
    let err = open(&f).unwrap_err();
    assert!(matches!(err, LoadError::Open { .. }), "{err}");
    assert!(err.to_string().contains(&v.path), "{err}");
    // Another size.
    let f = fixture();
    let v = f.entry(CSS).variants["zstd"].clone();
    std::fs::write(f.root().join(&v.path), b"short").unwrap();
    let err = open(&f).unwrap_err();
    assert!(
        matches!(err, LoadError::SizeMismatch { expected, actual: 5, .. } if expected == v.size),
        "{err}"
    );
    // A directory.
    let f = fixture();
    let v = f.entry(CSS).variants["gzip"].clone();
    std::fs::remove_file(f.root().join(&v.path)).unwrap();
    std::fs::create_dir(f.root().join(&v.path)).unwrap();
    assert!(open(&f).is_err());
    // A path that leaves the root, and one that is not normal.
    for bad in ["../outside.gz", "css//x.gz", "/etc/passwd"] {
        let mut f = fixture();
        f.manifest
            .entries
            .get_mut(CSS)
            .unwrap()
            .variants
            .get_mut("gzip")
            .unwrap()
            .path = bad.into();
        f.write_manifest();
        assert!(
            matches!(open(&f), Err(LoadError::BadServedPath { .. })),
            "{bad}"
        );
    }
    // A variant sharing the identity's ETag, or a weak one.
    let mut f = fixture();
    let identity_etag = f.entry(CSS).etag.clone();
    f.manifest
        .entries
        .get_mut(CSS)
        .unwrap()
        .variants
        .get_mut("gzip")
        .unwrap()
        .etag = identity_etag;
    f.write_manifest();
    let err = open(&f).unwrap_err();
    assert!(matches!(err, LoadError::SharedVariantEtag { .. }), "{err}");
    let mut f = fixture();
    f.manifest
        .entries
        .get_mut(CSS)
        .unwrap()
        .variants
        .get_mut("gzip")
        .unwrap()
        .etag = "W/\"x\"".into();
    f.write_manifest();
    assert!(matches!(open(&f), Err(LoadError::BadEntryField { .. })));
    // A coding this server does not know is left out, not fatal.
    let mut f = fixture();
    let gz = f.entry(CSS).variants["gzip"].clone();
    let entry = f.manifest.entries.get_mut(CSS).unwrap();
    entry.variants.clear();
    entry.variants.insert("deflate".into(), gz);
    f.write_manifest();
    let s = InProcess::start(f.root(), &Options::default());
    let r = s.get_with(&css_url(&f), &ae("deflate, gzip"));
    assert_eq!(r.status, 200);
    assert!(!r.has("content-encoding") && !r.has("vary"));
}

// Variants are representations of their resource, never URLs of their own.
#[test]
fn variant_files_are_not_urls() {
    let (f, s) = site();
    for coding in ["br", "zstd", "gzip"] {
        let path = &f.entry(CSS).variants[coding].path;
        assert_eq!(s.get(&format!("/{path}")).status, 404, "{path}");
    }
    assert_eq!(s.get("/index.html.gz").status, 404);
}

// E35 (robustness): a hostile Accept-Encoding is answered as a plain one would be
#[test]
fn hostile_accept_encoding_fields_are_answered_as_written() {
    let (f, s) = site();
    let url = css_url(&f);
    let many = vec!["deflate;q=0.5"; 1000].join(",") + ",gzip;q=0.1";
    let r = s.get_with(&url, &ae(&many));
    assert_eq!((r.status, r.h("content-encoding")), (200, "gzip"));
    let refusals = vec!["identity;q=0"; 1000].join(",");
    assert_eq!(s.get_with(&url, &ae(&refusals)).status, 406);
    let junk = ";;=,q=,*;q=9,".repeat(1000);
    let r = s.get_with(&url, &ae(&junk));
    assert_eq!(r.status, 200);
    assert!(!r.has("content-encoding"));
    let lines: Vec<(&str, &str)> = (0..50).map(|_| ("accept-encoding", "br;q=0")).collect();
    assert_eq!(s.get_with(&url, &lines).h("etag"), f.entry(CSS).etag);
}
