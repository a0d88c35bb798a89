//! The real server on a real socket, spoken to with raw HTTP/1.1: every applicable line of
//! `http-checklist.md` (numbers in the test names' comments), over builds written here.

use std::io::{BufReader, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::fixture::{Fixture, LAST_MODIFIED_HTTP};
use crate::common::http::{read_head, read_response, request, Http, Response};
use crate::common::server::InProcess;
use crate::common::{copy_tree, set_mtimes};
use assetc_server::{Build, HeaderRule, LoadError, Mount, Options};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn site() -> (Fixture, InProcess) {
    let f = Fixture::site();
    let s = InProcess::start(f.root(), &Options::default());
    (f, s)
}

fn ok(r: &Response) -> &Response {
    r.check_common();
    r
}

// A1, A2, A5, A7, D25, D26, F43, G56
#[test]
fn fingerprinted_urls_are_immutable_with_manifest_validators() {
    let (f, s) = site();
    let e = f.entry("css/app.css");
    let r = s.get(&format!("/{}", e.path));
    ok(&r);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"body { color: red }\n");
    assert_eq!(r.h("cache-control"), IMMUTABLE);
    assert_eq!(r.h("etag"), e.etag);
    assert!(assetc_server::etag::EntityTag::parse(r.h("etag").as_bytes()).is_some_and(|t| !t.weak));
    assert_eq!(r.h("last-modified"), LAST_MODIFIED_HTTP);
    assert_eq!(r.h("content-type"), "text/css; charset=utf-8");
    assert_eq!(r.h("content-length"), "20");
    assert_eq!(r.h("accept-ranges"), "bytes");
    assert!(!r.has("expires"), "D30: no Expires beside max-age");
    assert!(!r.has("vary"), "one representation: nothing varies");
    let js = s.get(&format!("/{}", f.entry("js/app.js").path));
    assert_eq!(js.h("content-type"), "text/javascript; charset=utf-8");
}

// D28, G58: the logical path serves the same bytes, revalidated
#[test]
fn logical_path_of_a_fingerprinted_file_is_revalidated_never_immutable() {
    let (f, s) = site();
    let hashed = s.get(&format!("/{}", f.entry("css/app.css").path));
    let logical = s.get("/css/app.css");
    ok(&logical);
    assert_eq!(logical.status, 200);
    assert_eq!(logical.body, hashed.body);
    assert_eq!(logical.h("etag"), hashed.h("etag"));
    assert_eq!(logical.h("cache-control"), "no-cache");
    assert_eq!(s.get("/css/app.css?v=1").h("cache-control"), "no-cache");
}

// D28: entry points
#[test]
fn entry_points_are_no_cache_with_etag_and_last_modified() {
    let (f, s) = site();
    for (url, logical) in [
        ("/index.html", "index.html"),
        ("/", "index.html"),
        ("/robots.txt", "robots.txt"),
    ] {
        let r = s.get(url);
        ok(&r);
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.h("cache-control"), "no-cache", "{url}");
        assert_eq!(r.h("etag"), f.entry(logical).etag, "{url}");
        assert_eq!(r.h("last-modified"), LAST_MODIFIED_HTTP);
    }
    assert_eq!(s.get("/").h("content-type"), "text/html; charset=utf-8");
    assert_eq!(
        s.get("/robots.txt").h("content-type"),
        "text/plain; charset=utf-8"
    );
}

// G58: the query is ignored; matching is case-sensitive and exact
#[test]
fn query_is_ignored_and_paths_match_exactly() {
    let (f, s) = site();
    let url = format!("/{}", f.entry("js/app.js").path);
    assert_eq!(s.get(&format!("{url}?v=1&x=%2F..")).status, 200);
    assert_eq!(s.get(&url.to_uppercase()).status, 404);
    assert_eq!(s.get("/INDEX.html").status, 404);
    assert_eq!(s.get("/index.html/").status, 404);
    assert_eq!(s.get("//index.html").status, 404);
    // A percent-encoded name is decoded once and found.
    let png = f.entry("img/social card.png").path.replace(' ', "%20");
    assert_eq!(s.get(&format!("/{png}")).status, 200);
}

// G53, G54: HEAD has exactly GET's headers, for memory and disk bodies, 200 and 404
#[test]
fn head_has_exactly_the_get_headers_and_no_body() {
    let (f, s) = site();
    for url in [
        "/".to_owned(),
        format!("/{}", f.entry("css/app.css").path),
        format!("/{}", f.entry("media/big.bin").path),
        "/empty.txt".to_owned(),
        "/nope".to_owned(),
    ] {
        let get = s.get(&url);
        let head = s.head(&url);
        ok(&head);
        assert_eq!(head.status, get.status, "{url}");
        // (`raw` fails on any byte after the head: a HEAD with a body.)
        let strip = Response::headers_but_date;
        assert_eq!(strip(&head), strip(&get), "{url}");
        assert!(get.has("content-length"));
    }
    let big = s.head(&format!("/{}", f.entry("media/big.bin").path));
    assert_eq!(big.h("content-length"), "300000");
}

// C20, C21, C22, D32, B14: what a 304 carries
#[test]
fn not_modified_carries_validators_and_cache_control_and_nothing_else() {
    let (f, s) = site();
    for (url, cc) in [
        (format!("/{}", f.entry("css/app.css").path), IMMUTABLE),
        ("/index.html".to_owned(), "no-cache"),
        (format!("/{}", f.entry("media/big.bin").path), IMMUTABLE),
    ] {
        let etag = s.get(&url).h("etag").to_owned();
        for method in ["GET", "HEAD"] {
            let r = s.request(method, &url, &[("If-None-Match", &etag)]);
            ok(&r);
            assert_eq!(r.status, 304, "{method} {url}");
            assert_eq!(r.h("etag"), etag);
            assert_eq!(r.h("cache-control"), cc);
            assert_eq!(r.h("last-modified"), LAST_MODIFIED_HTTP);
            for absent in [
                "content-type",
                "content-encoding",
                "content-length",
                "transfer-encoding",
                "accept-ranges",
            ] {
                assert!(!r.has(absent), "{method} {url}: 304 with {absent}");
            }
            // (And no body: `raw` fails on any byte after the head.)
        }
    }
}

// B14: weak comparison, lists, `*`
#[test]
fn if_none_match_lists_weak_tags_and_star() {
    let (f, s) = site();
    let etag = &f.entry("index.html").etag;
    let weak = format!("W/{etag}");
    let cases: &[(String, u16)] = &[
        (etag.clone(), 304),
        (weak.clone(), 304),
        (format!("\"a\", {weak}, \"b\""), 304),
        (format!("\"a\",{etag}"), 304),
        ("*".to_owned(), 304),
        ("\"a\", \"b\"".to_owned(), 200),
        (etag.trim_matches('"').to_owned(), 200),
        (etag.to_lowercase().replace('"', "'"), 200),
    ];
    for (value, status) in cases {
        assert_eq!(
            s.get_with("/index.html", &[("If-None-Match", value)])
                .status,
            *status,
            "{value}"
        );
    }
    // Two field lines form one list.
    let r = s.raw(format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nIf-None-Match: \"a\"\r\nIf-None-Match: {etag}\r\n\r\n").as_bytes());
    assert_eq!(r.status, 304);
}

// A8, B15, B16: If-Modified-Since in all three formats
#[test]
fn if_modified_since_accepts_three_formats_and_is_ignored_when_it_must_be() {
    let (f, s) = site();
    let etag = f.entry("index.html").etag.clone();
    let cases: &[(&[(&str, &str)], u16)] = &[
        (&[("If-Modified-Since", LAST_MODIFIED_HTTP)], 304),
        (
            &[("If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT")],
            304,
        ),
        (&[("If-Modified-Since", "Tue Nov 14 22:13:20 2023")], 304),
        (
            &[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:21 GMT")],
            304,
        ),
        (
            &[("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")],
            304,
        ),
        (
            &[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")],
            200,
        ),
        (
            &[("If-Modified-Since", "Tuesday, 14-Nov-23 22:13:19 GMT")],
            200,
        ),
        (&[("If-Modified-Since", "Tue Nov 14 22:13:19 2023")], 200),
        (&[("If-Modified-Since", "not a date")], 200),
        (&[("If-Modified-Since", "1700000000")], 200),
        (
            &[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", LAST_MODIFIED_HTTP),
            ],
            200,
        ),
    ];
    for (headers, status) in cases {
        let r = s.get_with("/index.html", headers);
        ok(&r);
        assert_eq!(r.status, *status, "{headers:?}");
    }
    assert_eq!(
        s.get_with(
            "/index.html",
            &[
                ("If-None-Match", &etag),
                ("If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT")
            ]
        )
        .status,
        304
    );
    let two = s.raw(format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nIf-Modified-Since: {LAST_MODIFIED_HTTP}\r\nIf-Modified-Since: {LAST_MODIFIED_HTTP}\r\n\r\n").as_bytes());
    assert_eq!(two.status, 200, "B15: more than one member is ignored");
}

// B13, B17, C24: If-Match and If-Unmodified-Since give 412
#[test]
fn if_match_is_strong_and_failures_are_412() {
    let (f, s) = site();
    let etag = f.entry("index.html").etag.clone();
    let cases: &[(&str, String, u16)] = &[
        ("If-Match", etag.clone(), 200),
        ("If-Match", "*".into(), 200),
        ("If-Match", format!("\"a\", {etag}"), 200),
        ("If-Match", format!("W/{etag}"), 412),
        ("If-Match", "\"a\"".into(), 412),
        ("If-Unmodified-Since", LAST_MODIFIED_HTTP.into(), 200),
        (
            "If-Unmodified-Since",
            "Tue, 14 Nov 2023 22:13:19 GMT".into(),
            412,
        ),
        (
            "If-Unmodified-Since",
            "Tuesday, 14-Nov-23 22:13:19 GMT".into(),
            412,
        ),
        (
            "If-Unmodified-Since",
            "Tue Nov 14 22:13:19 2023".into(),
            412,
        ),
        ("If-Unmodified-Since", "garbage".into(), 200),
    ];
    for (name, value, status) in cases {
        let r = s.get_with("/index.html", &[(name, value)]);
        ok(&r);
        assert_eq!(r.status, *status, "{name}: {value}");
        if r.status == 412 {
            assert!(
                r.body.is_empty() && !r.has("content-type"),
                "C24: no representation"
            );
            assert_eq!(r.h("cache-control"), "no-store");
        }
    }
    let r = s.request("HEAD", "/index.html", &[("If-Match", "\"a\"")]);
    assert_eq!(r.status, 412);
    // If-Match present: If-Unmodified-Since is not evaluated.
    let r = s.get_with(
        "/index.html",
        &[
            ("If-Match", &etag),
            ("If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"),
        ],
    );
    assert_eq!(r.status, 200);
}

// B11, B19: the order, and preconditions before Range
#[test]
fn preconditions_come_before_range() {
    let (f, s) = site();
    let etag = f.entry("index.html").etag.clone();
    let r = s.get_with(
        "/index.html",
        &[("If-None-Match", &etag), ("Range", "bytes=0-1")],
    );
    assert_eq!(r.status, 304);
    let r = s.get_with(
        "/index.html",
        &[("If-None-Match", &etag), ("Range", "bytes=9999-")],
    );
    assert_eq!(r.status, 304, "304 beats 416");
    let r = s.get_with(
        "/index.html",
        &[("If-Match", "\"x\""), ("Range", "bytes=0-1")],
    );
    assert_eq!(r.status, 412);
    let r = s.get_with(
        "/index.html",
        &[("If-Match", "\"x\""), ("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 412, "If-Match first");
    let r = s.get_with(
        "/index.html",
        &[
            ("If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"),
            ("If-None-Match", &etag),
        ],
    );
    assert_eq!(r.status, 412, "If-Unmodified-Since before If-None-Match");
    let r = s.get_with(
        "/index.html",
        &[("If-Match", &etag), ("Range", "bytes=0-1")],
    );
    assert_eq!(r.status, 206);
}

// B12: preconditions never turn 404, 405 or a redirect into 304/412
#[test]
fn preconditions_are_ignored_when_the_response_would_not_be_2xx() {
    let (_f, s) = site();
    for (method, url) in [
        ("GET", "/missing.css"),
        ("POST", "/index.html"),
        ("GET", "/docs"),
        ("GET", "/%2e%2e/x"),
    ] {
        for h in [
            ("If-None-Match", "*"),
            ("If-Match", "\"x\""),
            ("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"),
        ] {
            let r = s.request(method, url, &[h]);
            ok(&r);
            assert!(
                [404, 405, 308, 400].contains(&r.status),
                "{method} {url} {h:?}: {}",
                r.status
            );
        }
    }
}

// F46, F47, F49, D32: single ranges
#[test]
fn single_ranges_are_206_with_content_range() {
    let (f, s) = site();
    let url = format!("/{}", f.entry("css/app.css").path);
    let body = b"body { color: red }\n";
    for (range, start, end) in [
        ("bytes=0-3", 0, 4),
        ("bytes=5-", 5, 20),
        ("bytes=-4", 16, 20),
        ("bytes=-100", 0, 20),
        ("bytes=10-1000", 10, 20),
        ("BYTES=0-0", 0, 1),
        ("bytes=19-19", 19, 20),
    ] {
        let r = s.get_with(&url, &[("Range", range)]);
        ok(&r);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.h("content-range"),
            format!("bytes {}-{}/20", start, end - 1),
            "{range}"
        );
        assert_eq!(r.h("content-length"), (end - start).to_string());
        assert_eq!(r.body, &body[start..end], "{range}");
        assert_eq!(r.h("cache-control"), IMMUTABLE);
        assert_eq!(r.h("etag"), f.entry("css/app.css").etag);
        assert_eq!(r.h("content-type"), "text/css; charset=utf-8");
        assert_eq!(r.h("last-modified"), LAST_MODIFIED_HTTP);
    }
}

// F48: unsatisfiable and invalid ranges
#[test]
fn unsatisfiable_ranges_are_416_with_the_complete_length() {
    let (_f, s) = site();
    for range in [
        "bytes=20-",
        "bytes=100-200",
        "bytes=-0",
        "bytes=5-1",
        "bytes=",
        "bytes=abc",
        "bytes=0-1,x",
    ] {
        let r = s.get_with("/robots.txt", &[("Range", range)]);
        ok(&r);
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.h("content-range"), "bytes */14", "{range}");
        assert!(!r.h("cache-control").contains("immutable"));
    }
    // A zero-length file: only a non-zero suffix is satisfiable, answered with the whole.
    assert_eq!(
        s.get_with("/empty.txt", &[("Range", "bytes=0-")]).status,
        416
    );
    assert_eq!(
        s.get_with("/empty.txt", &[("Range", "bytes=0-")])
            .h("content-range"),
        "bytes */0"
    );
    let r = s.get_with("/empty.txt", &[("Range", "bytes=-5")]);
    assert_eq!((r.status, r.h("content-length")), (200, "0"));
}

// F44, F45, F51
#[test]
fn ranges_are_ignored_on_head_for_unknown_units_and_when_abusive() {
    let (_f, s) = site();
    let r = s.request("HEAD", "/robots.txt", &[("Range", "bytes=0-1")]);
    assert_eq!((r.status, r.h("content-length")), (200, "14"));
    for range in ["items=0-5", "", "0-5", "bytes 0-5"] {
        let r = s.get_with("/robots.txt", &[("Range", range)]);
        ok(&r);
        assert_eq!((r.status, r.body.len()), (200, 14), "{range:?}");
    }
    // Too many specs, or too many parts: the whole 200, never an error or a huge body.
    let many = format!("bytes={}", vec!["0-0"; 200].join(","));
    let r = s.get_with("/robots.txt", &[("Range", &many)]);
    assert_eq!((r.status, r.body.len()), (200, 14));
    let scattered: Vec<String> = (0..40)
        .map(|i| format!("{}-{}", i * 1000, i * 1000))
        .collect();
    let r = s.get_with(
        "/media/big.bin",
        &[("Range", &format!("bytes={}", scattered.join(",")))],
    );
    assert_eq!((r.status, r.body.len()), (200, 300_000));
    // Overlapping ranges coalesce into one part, whatever their number.
    let r = s.get_with(
        "/robots.txt",
        &[("Range", &format!("bytes={}", vec!["0-"; 60].join(",")))],
    );
    assert_eq!((r.status, r.body.len()), (206, 14));
}

fn parse_multipart(r: &Response) -> Vec<(String, String, Vec<u8>)> {
    let ct = r.h("content-type");
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("multipart");
    assert_eq!(r.h("content-length"), r.body.len().to_string());
    let delim = format!("--{boundary}");
    let body = &r.body;
    let mut parts = Vec::new();
    let mut pos = 0;
    loop {
        assert_eq!(&body[pos..pos + delim.len()], delim.as_bytes());
        pos += delim.len();
        if &body[pos..pos + 2] == b"--" {
            assert_eq!(&body[pos..], b"--\r\n");
            break;
        }
        assert_eq!(&body[pos..pos + 2], b"\r\n");
        pos += 2;
        let head_end = pos
            + body[pos..]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap();
        let head = std::str::from_utf8(&body[pos..head_end]).unwrap();
        let mut ctype = String::new();
        let mut crange = String::new();
        for line in head.split("\r\n") {
            let (n, v) = line.split_once(": ").unwrap();
            match n {
                "Content-Type" => ctype = v.to_owned(),
                "Content-Range" => crange = v.to_owned(),
                other => panic!("unexpected part header {other}"),
            }
        }
        let (first, last) = crange
            .strip_prefix("bytes ")
            .unwrap()
            .split_once('/')
            .unwrap()
            .0
            .split_once('-')
            .unwrap();
        let len = last.parse::<usize>().unwrap() - first.parse::<usize>().unwrap() + 1;
        let data_start = head_end + 4;
        parts.push((ctype, crange, body[data_start..data_start + len].to_vec()));
        pos = data_start + len;
        assert_eq!(&body[pos..pos + 2], b"\r\n");
        pos += 2;
    }
    parts
}

// F50: multipart/byteranges, from memory and from disk
#[test]
fn multiple_ranges_are_a_correct_multipart_byteranges() {
    let (f, s) = site();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let url = format!("/{}", f.entry("media/big.bin").path);
    let r = s.get_with(&url, &[("Range", "bytes=200000-200009, 0-9, -5")]);
    ok(&r);
    assert_eq!(r.status, 206);
    assert!(!r.has("content-range"), "no top-level Content-Range");
    assert_eq!(r.h("etag"), f.entry("media/big.bin").etag);
    let parts = parse_multipart(&r);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].1, "bytes 0-9/300000");
    assert_eq!(parts[0].2, &big[0..10]);
    assert_eq!(parts[1].1, "bytes 200000-200009/300000");
    assert_eq!(parts[1].2, &big[200_000..200_010]);
    assert_eq!(parts[2].1, "bytes 299995-299999/300000");
    assert_eq!(parts[2].2, &big[299_995..]);
    assert!(parts.iter().all(|p| p.0 == "application/octet-stream"));

    // The same from memory, and coalescing: ranges closer than a part header merge.
    let in_memory = Options {
        memory_file_limit: 1 << 20,
        ..Options::default()
    };
    let build = Build::open(f.root(), &in_memory).unwrap();
    assert!(build.memory_bytes() >= 300_000);
    let m = InProcess::start_mount(Mount::new("/", build));
    let r = m.get_with(&url, &[("Range", "bytes=-5,0-9,20-29,200000-200009")]);
    let parts = parse_multipart(&r);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].1, "bytes 0-29/300000");
    assert_eq!(parts[0].2, &big[0..30]);
    assert_eq!(parts[2].2, &big[299_995..]);
    let r = s.get_with("/index.html", &[("Range", "bytes=0-1,-2")]);
    assert_eq!((r.status, r.h("content-range")), (206, "bytes 0-34/35"));
}

// F, large files: streamed from disk, never whole in memory, ranges read from the file
#[test]
fn large_files_stream_from_disk() {
    let f = Fixture::site();
    let options = Options {
        memory_file_limit: 1024,
        ..Options::default()
    };
    let build = Build::open(f.root(), &options).unwrap();
    assert!(
        build.memory_bytes() < 1024 * 10,
        "big file not in memory: {}",
        build.memory_bytes()
    );
    let s = InProcess::start_mount(Mount::new("/", build));
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let url = format!("/{}", f.entry("media/big.bin").path);
    let r = s.get(&url);
    assert_eq!((r.status, r.h("content-length")), (200, "300000"));
    assert!(r.body == big, "streamed body differs");
    let r = s.get_with(&url, &[("Range", "bytes=65530-131080")]);
    assert_eq!(r.status, 206);
    assert!(r.body == big[65_530..=131_080]);
    let r = s.get_with(&url, &[("Range", "bytes=-70000")]);
    assert!(r.body == big[230_000..]);
    // With a zero budget everything streams, the empty file included.
    let none = Build::open(
        f.root(),
        &Options {
            memory_budget: 0,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(none.memory_bytes(), 0);
    let s = InProcess::start_mount(Mount::new("/", none));
    assert_eq!(s.get("/robots.txt").body, b"User-agent: *\n");
    assert_eq!(s.get("/empty.txt").h("content-length"), "0");
    assert_eq!(
        s.get_with("/robots.txt", &[("Range", "bytes=0-3,6-9")])
            .status,
        206
    );
}

/// Reads through at most 4 KiB at a time, pausing before each of the first `pauses` reads:
/// a client slower than the server, so that the server's socket buffer fills.
struct SlowReader {
    inner: std::net::TcpStream,
    pauses: usize,
}

impl Read for SlowReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pauses > 0 {
            self.pauses -= 1;
            std::thread::sleep(Duration::from_millis(5));
            let n = buf.len().min(4096);
            return self.inner.read(&mut buf[..n]);
        }
        self.inner.read(buf)
    }
}

// F, files on disk: up to 1 MiB sent with sendfile(2) on Linux by the patched actix-http,
// larger ones read in chunks on the blocking pool. Both reach a slow client whole and in
// order, pipelined one after the other with a range behind them; a file cut short on disk
// after it was opened ends its own response's connection at the file's end, and nothing
// else.
#[test]
fn files_on_disk_reach_slow_clients_whole_and_a_truncated_one_ends_its_connection() {
    let mut f = Fixture::new();
    let huge: Vec<u8> = (0..9_000_000u32).map(|i| (i % 253) as u8).collect();
    let mid: Vec<u8> = (0..1_000_000u32).map(|i| (i % 247) as u8).collect();
    let other: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let huge_path = f.add("media/huge.bin", &huge, true);
    let mid_path = f.add("media/mid.bin", &mid, true);
    let other_path = f.add("media/other.bin", &other, true);
    f.write_manifest();
    let options = Options {
        memory_budget: 0,
        ..Options::default()
    };
    let s = InProcess::start(f.root(), &options);

    let stream = s.connect();
    let keep_alive = |path: &str| format!("GET /{path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let pipelined = [
        keep_alive(&mid_path).into_bytes(),
        keep_alive(&huge_path).into_bytes(),
        request(
            "GET",
            &format!("/{other_path}"),
            &[("Range", "bytes=99990-")],
        ),
    ]
    .concat();
    (&stream).write_all(&pipelined).unwrap();
    let mut reader = BufReader::with_capacity(
        4096,
        SlowReader {
            inner: stream.try_clone().unwrap(),
            pauses: 100,
        },
    );
    let r = read_response(&mut reader, false).unwrap();
    assert_eq!((r.status, r.h("content-length")), (200, "1000000"));
    assert!(r.body == mid, "the body of 1,000,000 bytes differs");
    let r = read_response(&mut reader, false).unwrap();
    assert_eq!((r.status, r.h("content-length")), (200, "9000000"));
    assert!(r.body == huge, "the body of 9,000,000 bytes differs");
    let r = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (r.status, r.h("content-range"), &r.body[..]),
        (206, "bytes 99990-99999/100000", &other[99_990..])
    );

    // The file loses its tail on disk; the server holds it open from the request above.
    std::fs::OpenOptions::new()
        .write(true)
        .open(f.root().join(&mid_path))
        .unwrap()
        .set_len(300_000)
        .unwrap();
    let stream = s.connect();
    (&stream)
        .write_all(&request("GET", &format!("/{mid_path}"), &[]))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let r = read_head(&mut reader).unwrap();
    assert_eq!((r.status, r.h("content-length")), (200, "1000000"));
    let mut body = Vec::new();
    reader
        .read_to_end(&mut body)
        .expect("the connection ends at the file's end");
    // sendfile(2) stops exactly there; a read in chunks (256 KiB) would stop at a chunk's
    // start.
    #[cfg(target_os = "linux")]
    assert_eq!(body.len(), 300_000, "bytes sent before the close");
    assert!(body.len() <= 300_000 && body[..] == mid[..body.len()]);
    // Every other file is served as before.
    let r = s.get(&format!("/{other_path}"));
    assert!((r.status, &r.body) == (200, &other), "the other file");
}

// B18, F52: If-Range
#[test]
fn if_range_by_strong_etag_or_exact_date() {
    let (f, s) = site();
    let etag = f.entry("robots.txt").etag.clone();
    let cases: &[(String, u16)] = &[
        (etag.clone(), 206),
        (format!("W/{etag}"), 200),
        ("\"other\"".into(), 200),
        (LAST_MODIFIED_HTTP.into(), 206),
        ("Tuesday, 14-Nov-23 22:13:20 GMT".into(), 206),
        ("Tue Nov 14 22:13:20 2023".into(), 206),
        ("Tue, 14 Nov 2023 22:13:21 GMT".into(), 200),
        ("Tue, 14 Nov 2023 22:13:19 GMT".into(), 200),
        ("garbage".into(), 200),
    ];
    for (value, status) in cases {
        let r = s.get_with(
            "/robots.txt",
            &[("Range", "bytes=0-3"), ("If-Range", value)],
        );
        ok(&r);
        assert_eq!(r.status, *status, "If-Range: {value}");
        if r.status == 206 {
            assert_eq!(r.body, b"User");
            // §15.3.7: the required headers, not the representation's others.
            assert_eq!(r.h("etag"), etag);
            assert_eq!(r.h("cache-control"), "no-cache");
            assert!(!r.has("content-type") && !r.has("last-modified"));
        } else {
            assert_eq!(r.body.len(), 14);
        }
    }
    // Without a Range, If-Range changes nothing.
    assert_eq!(
        s.get_with("/robots.txt", &[("If-Range", "\"other\"")])
            .status,
        200
    );
}

// G55: methods
#[test]
fn other_methods_are_405_with_allow() {
    let (_f, s) = site();
    for method in [
        "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "BREW",
    ] {
        for url in ["/index.html", "/missing"] {
            let r = s.request(method, url, &[("Content-Length", "0")]);
            ok(&r);
            assert_eq!(r.status, 405, "{method} {url}");
            assert_eq!(r.h("allow"), "GET, HEAD");
            assert_eq!(r.h("cache-control"), "no-store");
        }
    }
}

// D26, D29: 404s
#[test]
fn not_found_uses_the_404_page_and_is_never_stored() {
    let (_f, s) = site();
    for url in [
        "/missing.css",
        "/css/app.XXXXXXXXXXXX.css",
        "/.env",
        "/.git/config",
        "/.assetc/state.json",
        "/assetc-manifest.jsonx",
    ] {
        let r = s.get(url);
        ok(&r);
        assert_eq!(r.status, 404, "{url}");
        assert_eq!(r.h("cache-control"), "no-store");
        assert_eq!(r.text(), "<!doctype html><title>not found</title>\n");
        assert_eq!(r.h("content-type"), "text/html; charset=utf-8");
        assert!(!r.has("etag") && !r.has("last-modified") && !r.has("accept-ranges"));
    }
    // The 404 page itself is a page too.
    assert_eq!(s.get("/404.html").status, 200);
    // Without a 404.html: a short text body.
    let mut f = Fixture::new();
    f.add("index.html", b"hi", false);
    f.write_manifest();
    let s = InProcess::start(f.root(), &Options::default());
    let r = s.get("/nope");
    assert_eq!(
        (r.status, r.text().as_str(), r.h("cache-control")),
        (404, "not found\n", "no-store")
    );
}

// G57: directories
#[test]
fn directories_serve_their_index_and_redirect_without_the_slash_safely() {
    let (f, s) = site();
    let r = s.get("/docs/");
    ok(&r);
    assert_eq!(
        (r.status, r.h("etag")),
        (200, f.entry("docs/index.html").etag.as_str())
    );
    assert_eq!(r.h("cache-control"), "no-cache");
    let r = s.get("/docs");
    ok(&r);
    assert_eq!(r.status, 308);
    assert_eq!(r.h("location"), "./docs/");
    assert_eq!(r.h("cache-control"), "no-cache");
    assert_eq!(s.get("/docs?a=1").h("location"), "./docs/?a=1");
    // Never scheme-relative, whatever the request looks like.
    for url in [
        "//docs",
        "//evil.example/docs",
        "/%2Fevil.example/docs",
        "/docs/..",
        "//evil.example",
    ] {
        let r = s.get(url);
        assert!(
            r.header("location").is_none_or(|l| !l.starts_with("//")),
            "{url}"
        );
        assert!([400, 404].contains(&r.status), "{url}: {}", r.status);
    }
    assert_eq!(s.get("/css/").status, 404, "no directory listings");
    assert_eq!(s.get("/css").status, 404);
}

// A4: two copies of one build answer identically and accept each other's validators
#[test]
fn two_servers_on_two_copies_give_identical_validators() {
    let f = Fixture::site();
    let copy = tempfile::tempdir().unwrap();
    // New files, and (as a later deploy's copy has) other mtimes.
    copy_tree(f.root(), copy.path());
    set_mtimes(copy.path(), SystemTime::now() + Duration::from_secs(3600));
    let meta_a = std::fs::metadata(f.root().join("index.html")).unwrap();
    let meta_b = std::fs::metadata(copy.path().join("index.html")).unwrap();
    assert_ne!(meta_a.modified().unwrap(), meta_b.modified().unwrap());
    #[cfg(unix)]
    assert_ne!(
        std::os::unix::fs::MetadataExt::ino(&meta_a),
        std::os::unix::fs::MetadataExt::ino(&meta_b)
    );

    let a = InProcess::start(f.root(), &Options::default());
    let b = InProcess::start(copy.path(), &Options::default());
    for url in [
        "/".to_owned(),
        "/robots.txt".to_owned(),
        format!("/{}", f.entry("media/big.bin").path),
    ] {
        let ra = a.get(&url);
        let rb = b.get(&url);
        assert_eq!(ra.h("etag"), rb.h("etag"), "{url}");
        assert_eq!(ra.h("last-modified"), rb.h("last-modified"), "{url}");
        let r = b.get_with(&url, &[("If-None-Match", ra.h("etag"))]);
        assert_eq!(r.status, 304, "{url}");
        let r = a.get_with(&url, &[("If-Modified-Since", rb.h("last-modified"))]);
        assert_eq!(r.status, 304, "{url}");
    }
}

// A6: Last-Modified never later than Date
#[test]
fn a_future_last_modified_is_replaced_by_the_date() {
    let mut f = Fixture::new();
    f.add("future.html", b"soon", false);
    f.manifest
        .entries
        .get_mut("future.html")
        .unwrap()
        .last_modified = 4_102_444_800; // 2100
    f.write_manifest();
    let s = InProcess::start(f.root(), &Options::default());
    let r = s.get("/future.html");
    ok(&r);
    let lm = assetc_server::date::parse_http_date(r.h("last-modified").as_bytes(), 2026).unwrap();
    let date = assetc_server::date::parse_http_date(r.h("date").as_bytes(), 2026).unwrap();
    assert!(lm <= date, "Last-Modified {lm} after Date {date}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((lm - now).abs() < 60);
    // And a clamped date is no strong validator for If-Range.
    let r = s.get_with(
        "/future.html",
        &[("Range", "bytes=0-1"), ("If-Range", r.h("last-modified"))],
    );
    assert_eq!(r.status, 200);
}

// E41: nothing compresses on the fly; actix-files' inode ETag never appears
#[test]
fn responses_are_never_compressed_on_the_fly() {
    let (f, s) = site();
    for ae in ["gzip", "br", "gzip, deflate, br, zstd", "*"] {
        let r = s.get_with("/index.html", &[("Accept-Encoding", ae)]);
        assert!(!r.has("content-encoding"), "{ae}");
        assert_eq!(r.h("etag"), f.entry("index.html").etag);
        assert_eq!(r.body, b"<!doctype html><title>home</title>\n");
    }
}

// The configurable parts, all off by default.
#[test]
fn options_cache_control_header_rules_spa_clean_urls_and_health() {
    let f = Fixture::site();
    let defaults = InProcess::start(f.root(), &Options::default());
    assert_eq!(
        defaults.get("/about").status,
        404,
        "clean URLs off by default"
    );
    assert_eq!(
        defaults.get("/app/route").status,
        404,
        "no fallback by default"
    );
    assert_eq!(
        defaults.get("/healthz").status,
        404,
        "no health endpoint by default"
    );

    let options = Options {
        cache_control_immutable: "public, max-age=31536000, s-maxage=31536000, immutable".into(),
        cache_control_revalidate: "no-cache, s-maxage=60".into(),
        header_rules: vec![
            HeaderRule {
                glob: "/**".into(),
                headers: vec![(
                    "Content-Security-Policy".into(),
                    "default-src 'self'".into(),
                )],
            },
            HeaderRule {
                glob: "/**/*.woff2".into(),
                headers: vec![("Access-Control-Allow-Origin".into(), "*".into())],
            },
            HeaderRule {
                glob: "/js/*".into(),
                headers: vec![(
                    "Access-Control-Allow-Origin".into(),
                    "https://app.example".into(),
                )],
            },
        ],
        spa_fallback: Some("index.html".into()),
        clean_urls: true,
        health_path: Some("/healthz".into()),
        ..Options::default()
    };
    let mut f2 = Fixture::site();
    f2.add("fonts/a.woff2", b"wOF2", true);
    f2.write_manifest();
    let s = InProcess::start(f2.root(), &options);
    let css = s.get(&format!("/{}", f2.entry("css/app.css").path));
    assert_eq!(
        css.h("cache-control"),
        "public, max-age=31536000, s-maxage=31536000, immutable"
    );
    assert_eq!(css.h("content-security-policy"), "default-src 'self'");
    assert!(!css.has("access-control-allow-origin"));
    let font = s.get(&format!("/{}", f2.entry("fonts/a.woff2").path));
    assert_eq!(font.h("access-control-allow-origin"), "*");
    assert_eq!(font.h("content-type"), "font/woff2");
    let js = s.get(&format!("/{}", f2.entry("js/app.js").path));
    assert_eq!(js.h("access-control-allow-origin"), "https://app.example");
    let etag = js.h("etag").to_owned();
    let js304 = s.get_with(
        &format!("/{}", f2.entry("js/app.js").path),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(
        (js304.status, js304.h("access-control-allow-origin")),
        (304, "https://app.example")
    );
    let page = s.get("/index.html");
    assert_eq!(page.h("cache-control"), "no-cache, s-maxage=60");
    // A 404 gets the rules matching its path, and stays no-store.
    let missing = s.get("/missing.css");
    assert_eq!(
        (missing.status, missing.h("cache-control")),
        (404, "no-store")
    );
    assert_eq!(missing.h("content-security-policy"), "default-src 'self'");

    // Clean URLs.
    let about = s.get("/about");
    assert_eq!(
        (about.status, about.h("etag")),
        (200, f2.entry("about.html").etag.as_str())
    );
    assert_eq!(s.get("/about.html").status, 200);
    // SPA fallback: extension-less unknown paths get the page, missing assets stay 404.
    let route = s.get("/app/settings/profile");
    assert_eq!(
        (route.status, route.h("etag")),
        (200, f2.entry("index.html").etag.as_str())
    );
    assert_eq!(route.h("cache-control"), "no-cache, s-maxage=60");
    assert_eq!(
        s.get_with("/app/x", &[("If-None-Match", route.h("etag"))])
            .status,
        304
    );
    assert_eq!(s.get("/js/missing.js").status, 404);
    assert_eq!(s.get("/.env").status, 404);
    // Health.
    let h = s.get("/healthz");
    ok(&h);
    assert_eq!(
        (h.status, h.text().as_str(), h.h("cache-control")),
        (200, "ok\n", "no-store")
    );
    assert_eq!(s.head("/healthz").h("content-length"), "3");
}

#[test]
fn options_are_checked_at_start_up() {
    let f = Fixture::site();
    let err = |o: Options| Build::open(f.root(), &o).unwrap_err();
    assert!(matches!(
        err(Options {
            spa_fallback: Some("nope.html".into()),
            ..Options::default()
        }),
        LoadError::UnknownFallback { .. }
    ));
    assert!(matches!(
        err(Options {
            health_path: Some("/index.html".into()),
            ..Options::default()
        }),
        LoadError::HealthPathTaken { .. }
    ));
    assert!(matches!(
        err(Options {
            health_path: Some("healthz".into()),
            ..Options::default()
        }),
        LoadError::BadHealthPath { .. }
    ));
    assert!(matches!(
        err(Options {
            cache_control_revalidate: "a\nb".into(),
            ..Options::default()
        }),
        LoadError::BadHeaderValue { .. }
    ));
    let rule = HeaderRule {
        glob: "/**".into(),
        headers: vec![("ETag".into(), "\"x\"".into())],
    };
    assert!(matches!(
        err(Options {
            header_rules: vec![rule],
            ..Options::default()
        }),
        LoadError::ManagedHeader { .. }
    ));
}

// H66: fail closed, with a message naming the path
#[test]
fn broken_builds_fail_at_start_up_naming_the_path() {
    let msg = |root: &std::path::Path| {
        Build::open(root, &Options::default())
            .unwrap_err()
            .to_string()
    };

    let missing = tempfile::tempdir().unwrap().path().join("nope");
    let m = msg(&missing);
    assert!(
        m.contains("cannot read the build root") && m.contains(&missing.display().to_string()),
        "{m}"
    );

    let empty = tempfile::tempdir().unwrap();
    let m = msg(empty.path());
    assert!(
        m.contains("assetc-manifest.json") && m.contains("cannot read the manifest"),
        "{m}"
    );

    let f = Fixture::site();
    std::fs::write(f.root().join("assetc-manifest.json"), b"{ not json").unwrap();
    assert!(msg(f.root()).contains("is not valid"));

    let f = Fixture::site();
    std::fs::remove_file(f.root().join("about.html")).unwrap();
    let m = msg(f.root());
    assert!(m.contains("about.html") && m.contains("cannot open"), "{m}");

    // A fingerprinted file is checked at its first request (see below), and by a reload.
    let f = Fixture::site();
    let served = f.entry("css/app.css").path.clone();
    std::fs::remove_file(f.root().join(&served)).unwrap();
    let build = Build::open(f.root(), &Options::default()).unwrap();
    let m = build.reopen().unwrap_err().to_string();
    assert!(m.contains(&served) && m.contains("cannot open"), "{m}");

    let f = Fixture::site();
    std::fs::write(f.root().join("robots.txt"), b"changed after the build").unwrap();
    let m = msg(f.root());
    assert!(
        m.contains("robots.txt") && m.contains("23 bytes but the manifest says 14"),
        "{m}"
    );

    let mut f = Fixture::site();
    f.manifest.entries.get_mut("robots.txt").unwrap().path = "../outside.txt".into();
    f.write_manifest();
    assert!(msg(f.root()).contains("not a normal relative path"));

    let f = Fixture::site();
    std::fs::remove_file(f.root().join("robots.txt")).unwrap();
    std::fs::create_dir(f.root().join("robots.txt")).unwrap();
    assert!(msg(f.root()).contains("robots.txt"));
}

// A fingerprinted file read from disk is checked at its first open, not at start-up (its
// name carries its hash: kind and length are the check): one that is missing, of another
// length or a symlink out of the root is answered 503 no-store and never served, the rest
// is served, and a reload still checks every file and refuses the build.
#[test]
fn a_fingerprinted_file_on_disk_is_checked_at_its_first_open() {
    let f = Fixture::site();
    let served = f.entry("media/big.bin").path.clone();
    let url = format!("/{served}");
    std::fs::write(f.root().join(&served), b"short").unwrap();
    let build = Build::open(f.root(), &Options::default()).unwrap();
    let err = build.reopen().unwrap_err().to_string();
    assert!(
        err.contains(&served) && err.contains("5 bytes but the manifest says 300000"),
        "{err}"
    );
    let s = InProcess::start_mount(Mount::new("/", build));
    let r = s.get(&url);
    assert_eq!((r.status, r.h("cache-control")), (503, "no-store"));
    assert!(r.body != b"short");
    assert_eq!(s.get("/robots.txt").status, 200);
    std::fs::remove_file(f.root().join(&served)).unwrap();
    assert_eq!(s.get(&url).status, 503);
    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(outside.path().join("big.bin"), &big).unwrap();
        std::os::unix::fs::symlink(outside.path().join("big.bin"), f.root().join(&served)).unwrap();
        let r = s.get(&url);
        assert_eq!(r.status, 503, "a symlink out of the root is not followed");
        assert!(r.body != big);
    }
}

// A small fingerprinted file in the memory budget is read at its first request, not at
// start-up (a 100,000-file build then starts without reading or holding its 64 MB): until
// then a missing file or one of another length is answered 503 no-store, never other
// bytes; once read, the bytes stay in memory. Entry points are still read at start-up:
// their bytes change under one name, so later bytes could disagree with their ETag.
#[test]
fn a_small_fingerprinted_file_is_read_at_its_first_request() {
    let f = Fixture::site();
    let served = f.entry("css/app.css").path.clone();
    let url = format!("/{served}");
    let path = f.root().join(&served);
    let bytes = std::fs::read(&path).unwrap();
    let build = Build::open(f.root(), &Options::default()).unwrap();
    assert!(build.memory_bytes() >= bytes.len() as u64, "in the budget");
    let s = InProcess::start_mount(Mount::new("/", build));

    std::fs::remove_file(&path).unwrap();
    let r = s.get(&url);
    assert_eq!((r.status, r.h("cache-control")), (503, "no-store"));
    std::fs::write(&path, b"body{}").unwrap();
    let r = s.get(&url);
    assert_eq!(r.status, 503, "another length is not this file");
    assert!(r.body != b"body{}");

    std::fs::write(&path, &bytes).unwrap();
    let r = s.get(&url);
    assert_eq!(
        (r.status, r.h("etag")),
        (200, f.entry("css/app.css").etag.as_str())
    );
    assert_eq!(r.h("content-length"), bytes.len().to_string());
    assert!(r.body == bytes);
    // Read once: the file is no longer needed.
    std::fs::remove_file(&path).unwrap();
    let r = s.get_with(&url, &[("Range", "bytes=0-3")]);
    assert_eq!((r.status, &r.body[..]), (206, &bytes[..4]));

    // An entry point's bytes are the ones read at start-up, whatever replaced the file.
    std::fs::write(
        f.root().join("index.html"),
        b"<!doctype html><title>HOME</title>\n",
    )
    .unwrap();
    assert_eq!(s.get("/").text(), "<!doctype html><title>home</title>\n");
}

// H65: a symlink leaving the root is refused at start-up
#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"User-agent: *\n").unwrap();
    let f = Fixture::site();
    std::fs::remove_file(f.root().join("robots.txt")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        f.root().join("robots.txt"),
    )
    .unwrap();
    let err = Build::open(f.root(), &Options::default()).unwrap_err();
    assert!(matches!(err, LoadError::OutsideRoot { .. }), "{err}");
    assert!(err.to_string().contains("outside the build root"));
}

// H59–H64, G62: the hostile corpus (`tests/hostile/corpus.rs`) pins the exact answer to
// hundreds of targets through the binary; these are the kinds it does not send, each with
// the status the decoding rules give (dot segments in any encoding, encoded separators,
// invalid UTF-8: 400; any other name not in the build: 404), at `/` and under a prefix.
#[test]
fn request_targets_beyond_the_hostile_corpus_get_exact_statuses() {
    let f = Fixture::site();
    let s = InProcess::start_app({
        let build = || Build::open(f.root(), &Options::default()).unwrap();
        let (root, prefixed) = (Mount::new("/", build()), Mount::new("/static", build()));
        move || {
            actix_web::App::new()
                .service(prefixed.clone())
                .service(root.clone())
        }
    });
    let targets: &[(&str, u16)] = &[
        // One dot, encoded: a dot segment too.
        ("/docs/%2e", 400),
        ("/docs/%2e/index.html", 400),
        ("/docs/%2E/", 400),
        // Dots then an encoded separator at the very end.
        ("/docs/%2e%2e%2f", 400),
        // A five-byte (overlong, invalid) UTF-8 sequence; a fullwidth solidus is no separator.
        ("/%f8%88%80%80%80", 400),
        ("/%ef%bc%8f..%ef%bc%8findex.html", 404),
        // The same under the prefix: the mount decodes the tail once, like the root's.
        ("/static/%2e%2e/index.html", 400),
        ("/static/docs/%2e", 400),
        ("/static/..%2findex.html", 400),
        ("/static/%2findex.html", 400),
        ("/static/css/%2e%2e/%2e%2e/index.html", 400),
        ("/static/index.html", 200),
        // Not the prefix: the root mount's, which refuses an encoded separator and has no
        // such file.
        ("/static%2findex.html", 400),
        ("/staticindex.html", 404),
    ];
    let mut wrong = Vec::new();
    for &(target, expected) in targets {
        let r = s.get(target);
        r.check_common();
        if r.status != expected {
            wrong.push(format!("{target}: {} (expected {expected})", r.status));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Raw overlong UTF-8 for `..`, never percent-decoded: refused before routing.
    let r = s.raw(b"GET /\xc0\xae\xc0\xae/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 400);
    assert_eq!(s.get("/index.html").status, 200, "still serving");
}

// The library: mounted at a prefix inside an app that renders URLs and integrity values.
#[test]
fn a_build_mounted_at_a_prefix_serves_and_answers_templates() {
    use actix_web::{web, App, HttpResponse};
    let f = Fixture::site();
    let assets = Mount::new(
        "/static",
        Build::open(f.root(), &Options::default()).unwrap(),
    );
    let css_url = assets.url("css/app.css").unwrap();
    assert_eq!(css_url, format!("/static/{}", f.entry("css/app.css").path));
    assert_eq!(assets.url("/css/app.css"), Some(css_url.clone()));
    assert!(assets.url("nope.css").is_none());
    let png = assets.url("img/social card.png").unwrap();
    assert!(png.contains("social%20card."), "{png}");
    let sri = assets.integrity("css/app.css").unwrap().to_owned();
    assert!(sri.starts_with("sha256-") && sri.len() == 7 + 44, "{sri}");

    let for_app = assets.clone();
    let s = InProcess::start_app(move || {
        App::new()
            .app_data(web::Data::new(for_app.clone()))
            .service(for_app.clone())
            .route(
                "/",
                web::get().to(|a: web::Data<Mount>| async move {
                    HttpResponse::Ok().content_type("text/html").body(format!(
                        r#"<link rel="stylesheet" href="{}" integrity="{}">"#,
                        a.url("css/app.css").unwrap(),
                        a.integrity("css/app.css").unwrap()
                    ))
                }),
            )
    });
    let page = s.get("/").text();
    assert_eq!(
        page,
        format!(r#"<link rel="stylesheet" href="{css_url}" integrity="{sri}">"#)
    );
    let css = s.get(&css_url);
    assert_eq!((css.status, css.h("cache-control")), (200, IMMUTABLE));
    assert_eq!(css.body, b"body { color: red }\n");
    assert_eq!(s.get(&png).status, 200);
    assert_eq!(s.get("/static/").h("etag"), f.entry("index.html").etag);
    assert_eq!(s.get("/static").h("location"), "./static/");
    assert_eq!(s.get("/static/missing").status, 404);
    assert_eq!(s.get("/static/%2e%2e/x").status, 400);
    assert_eq!(s.get("/staticx/css/app.css").status, 404);
    assert_eq!(
        s.get("/css/app.css").status,
        404,
        "nothing outside the prefix"
    );
}

#[path = "../../crates/server/examples/mount.rs"]
mod example;

// The runnable example, as it is: its routes mounted in an app on a real socket.
#[test]
fn the_mount_example_renders_urls_and_integrity_that_resolve() {
    let f = Fixture::site();
    let assets = Mount::new(
        "/static",
        Build::open(f.root(), &Options::default()).unwrap(),
    );
    let s = InProcess::start_app(move || {
        actix_web::App::new().configure(|cfg| example::configure(cfg, &assets))
    });
    let page = s.get("/").text();
    let css = format!("/static/{}", f.entry("css/app.css").path);
    assert!(page.contains(&format!(r#"href="{css}""#)), "{page}");
    let sri = page
        .split("integrity=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    // The integrity value is the SHA-256 of the bytes served at that URL.
    let served = s.get(&css);
    assert_eq!(served.status, 200);
    let digest = assetc_core::fingerprint::sha256(&served.body);
    use base64::Engine;
    assert_eq!(
        sri,
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    );
    assert_eq!(s.get("/static/").status, 200);
}

// Inside `web::scope`, a mount answers below the scope's path (it used to answer 404 to
// everything there), decodes its tail once, and writes URLs as the build writes them.
#[test]
fn a_mount_inside_a_scope_serves_below_the_scope() {
    let f = Fixture::site();
    let build = || Build::open(f.root(), &Options::default()).unwrap();
    let (at_root, in_scope) = (Mount::new("/", build()), Mount::new("/static", build()));
    let s = InProcess::start_app(move || {
        actix_web::App::new()
            .service(actix_web::web::scope("/app").service(in_scope.clone()))
            .service(actix_web::web::scope("/site").service(at_root.clone()))
    });
    let css = f.entry("css/app.css");
    let r = s.get(&format!("/app/static/{}", css.path));
    ok(&r);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"body { color: red }\n");
    assert_eq!(r.h("cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(
        s.get("/site/").body,
        b"<!doctype html><title>home</title>\n"
    );
    // Percent-encoding in the tail is decoded once, by the mount.
    let png = f.entry("img/social card.png").path.replace(' ', "%20");
    assert_eq!(s.get(&format!("/site/{png}")).body, b"\x89PNG fake");
    assert_eq!(s.get("/site/img/social%2520card.png").status, 404);
    assert_eq!(s.get("/app/static/nope.css").status, 404);
    // `/app/static` itself: no root index under this mount's prefix path, a 404.
    let statuses: Vec<u16> = ["/app/css/app.css", "/static/css/app.css"]
        .iter()
        .map(|p| s.get(p).status)
        .collect();
    assert_eq!(statuses, [404, 404], "outside the scopes nothing answers");
}

// `Mount::url` spells a name with a space or non-ASCII exactly as the build writes it in
// pages (one encoder for both).
#[test]
fn mount_urls_are_encoded_as_the_build_encodes_references() {
    let f = Fixture::site();
    let mount = Mount::new(
        "/static",
        Build::open(f.root(), &Options::default()).unwrap(),
    );
    let served = f.entry("img/social card.png").path.clone();
    assert_eq!(
        mount.url("img/social card.png").unwrap(),
        format!("/static/{}", assetc_core::url_ref::encode_path(&served))
    );
    assert!(mount
        .url("img/social card.png")
        .unwrap()
        .contains("social%20card."));
}

// What `assetc serve` sends (`Mount::header_blocks`: 200s and 304s written from header
// lines made once per URL and representation) against the header map of every other
// response: the same status, headers and body, for variants, header rules (one replacing
// another of the same name), preload links, HEAD, 304s and a Connection header rule.
#[test]
fn header_blocks_send_exactly_the_header_maps_headers() {
    let mut f = Fixture::site();
    f.add("css/site.css", b"body { color: blue; margin: 0 }\n", true);
    f.add_variants("css/site.css", &["gzip", "br"]);
    f.add(
        "page.html",
        b"<link rel=stylesheet href=css/app.css>\n",
        false,
    );
    f.write_manifest();
    let rule = |glob: &str, name: &str, value: &str| HeaderRule {
        glob: glob.into(),
        headers: vec![(name.into(), value.into())],
    };
    let options = Options {
        header_rules: vec![
            rule("/**", "x-frame-options", "DENY"),
            rule("/css/**", "x-frame-options", "SAMEORIGIN"),
            rule(
                "/**/*.html",
                "Content-Security-Policy",
                "default-src 'self'",
            ),
            rule("/robots.txt", "Connection", "close"),
        ],
        preload_links: true,
        ..Options::default()
    };
    let open = || Build::open(f.root(), &options).unwrap();
    let blocks = InProcess::start_mount(Mount::new("/", open()).header_blocks(true));
    let map = InProcess::start_mount(Mount::new("/", open()));
    let strip = |r: &Response| (r.status, r.headers_but_date(), r.body.clone());
    let site = f.entry("css/site.css").path.clone();
    for url in [
        "/".to_owned(),
        "/page.html".to_owned(),
        "/robots.txt".to_owned(),
        "/css/site.css".to_owned(),
        format!("/{site}"),
        format!("/{}", f.entry("css/app.css").path),
        format!("/{}", f.entry("media/big.bin").path),
        "/empty.txt".to_owned(),
    ] {
        for coding in ["identity", "gzip", "br"] {
            let ae = [("Accept-Encoding", coding)];
            let get = map.get_with(&url, &ae);
            assert_eq!(
                strip(&blocks.get_with(&url, &ae)),
                strip(&get),
                "{url} {coding}"
            );
            let etag = get.h("etag").to_owned();
            let inm = [("Accept-Encoding", coding), ("If-None-Match", &etag)];
            let not_modified = map.get_with(&url, &inm);
            assert_eq!(not_modified.status, 304, "{url}");
            assert_eq!(
                strip(&blocks.get_with(&url, &inm)),
                strip(&not_modified),
                "{url}"
            );
        }
        assert_eq!(strip(&blocks.head(&url)), strip(&map.head(&url)), "{url}");
    }
    // A 404 with a page or a rule's headers keeps its header map; one with neither has a
    // block.
    let mut bare = Fixture::new();
    bare.add("index.html", b"<!doctype html>\n", false);
    bare.write_manifest();
    let plain = || Build::open(bare.root(), &Options::default()).unwrap();
    let plain_blocks = InProcess::start_mount(Mount::new("/", plain()).header_blocks(true));
    let plain_map = InProcess::start_mount(Mount::new("/", plain()));
    for (blocks, map) in [(&blocks, &map), (&plain_blocks, &plain_map)] {
        let url = "/no/such/file.js";
        let not_found = map.get(url);
        assert_eq!(not_found.status, 404);
        assert_eq!(strip(&blocks.get(url)), strip(&not_found));
        assert_eq!(strip(&blocks.head(url)), strip(&map.head(url)));
    }
    assert_eq!(
        plain_blocks.get("/no/such/file.js").headers_but_date(),
        [
            ("cache-control", "no-store"),
            ("connection", "close"),
            ("content-length", "10"),
            ("content-type", "text/plain; charset=utf-8"),
            ("x-content-type-options", "nosniff"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );
}
