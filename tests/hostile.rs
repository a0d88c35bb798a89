//! Hostile input against the real `assetc serve` (issue 9): a corpus of hostile requests
//! over raw sockets (`hostile/corpus.rs`), slow clients (slowloris) against the request and
//! keep-alive timeouts, and a thousand connections from `wrk`. Every server binds
//! 127.0.0.1:0; every loop is bounded in count and time.
//!
//! The fixture is a real build with a secret file next to (outside) the build root and
//! symlinks inside the root pointing at it: no response may carry any part of it.

mod corpus;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::http::{read_response, Http};
use crate::common::server::{Builder, Server};
use crate::common::{assetc, Tree};
use corpus::After;

/// The most one corpus case may take, its follow-up request included. The corpus server's
/// request timeout is far longer, so a request the server merely waits out fails here.
const PER_CASE: Duration = Duration::from_secs(5);

/// The fixture: a built site, a secret beside the root, symlinks to it inside the root.
pub struct Site {
    tree: Tree,
    /// Served paths (no leading `/`) of the fingerprinted stylesheet (br, gzip and zstd
    /// variants, in memory) and of a 400 KiB file served from disk.
    pub css: String,
    pub big: String,
    /// The stylesheet's strong ETag (identity), quoted.
    pub css_etag: String,
    css_bytes: Vec<u8>,
    /// What `/`, `big` and a miss (the 404 page) are served with, byte for byte.
    index_bytes: Vec<u8>,
    big_bytes: Vec<u8>,
    not_found_bytes: Vec<u8>,
    secret: Vec<u8>,
}

impl Site {
    fn new() -> Self {
        let tree = Tree::new();
        let rule = |i: usize| format!(".rule-{i} {{ margin: {i}px; color: #{:06x}; }}\n", i * 7919);
        let css: String = (0..80).map(rule).collect();
        let big: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
        tree.file(
            "index.html",
            "<!doctype html><link rel=stylesheet href=\"css/site.css\"><h1>home</h1>\n",
        )
        .file("css/site.css", &css)
        .file("media/big.bin", &big)
        .file("404.html", "<!doctype html><h1>not here</h1>\n");
        tree.build(&[]).success();

        // The secret: outside the root, distinctive, reachable only through symlinks.
        let secret = format!(
            "ASSETC-SECRET-{:016x}-{:016x}\n",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        )
        .repeat(4)
        .into_bytes();
        let secret_path = tree.root().join("secret.txt");
        std::fs::write(&secret_path, &secret).unwrap();
        let out = tree.output();
        std::os::unix::fs::symlink("../secret.txt", out.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(&secret_path, out.join("abs.txt")).unwrap();
        std::os::unix::fs::symlink("../../secret.txt", out.join("css/leak.css")).unwrap();
        std::os::unix::fs::symlink("..", out.join("up")).unwrap();

        let manifest = tree.manifest();
        let entry = &manifest["entries"]["css/site.css"];
        let css_path = entry["path"].as_str().unwrap().to_owned();
        assert!(
            entry["variants"].get("br").is_some() && entry["variants"].get("gzip").is_some(),
            "the stylesheet has variants: {entry}"
        );
        let big_path = tree.served("media/big.bin");
        Site {
            css_bytes: std::fs::read(out.join(&css_path)).unwrap(),
            css: css_path,
            index_bytes: std::fs::read(out.join("index.html")).unwrap(),
            big_bytes: std::fs::read(out.join(&big_path)).unwrap(),
            not_found_bytes: std::fs::read(out.join("404.html")).unwrap(),
            big: big_path,
            css_etag: entry["etag"].as_str().unwrap().to_owned(),
            secret,
            tree,
        }
    }

    /// Whether `bytes` hold any 16-byte run of the secret.
    fn leaks(&self, bytes: &[u8]) -> bool {
        const RUN: usize = 16;
        let runs: HashSet<&[u8]> = self.secret.windows(RUN).collect();
        bytes.windows(RUN).any(|w| runs.contains(w))
    }
}

/// `assetc serve --root build --no-watch` plus `args` in `dir`, on 127.0.0.1:0.
fn serve(dir: &Path, args: &[&str]) -> Builder {
    Server::serve(dir)
        .args(&["--root", "build", "--no-watch"])
        .args(args)
}

/// A new connection to `server`, reads and writes bounded by [`PER_CASE`].
fn connect(server: &Server) -> TcpStream {
    let stream = server.connect();
    stream.set_read_timeout(Some(PER_CASE)).unwrap();
    stream.set_write_timeout(Some(PER_CASE)).unwrap();
    stream
}

/// Still running, no panic logged, and a normal request on a new connection gets the
/// right bytes.
#[track_caller]
fn assert_healthy(server: &mut Server, site: &Site) {
    server.assert_running();
    let mut reader = BufReader::new(connect(server));
    if let Err(e) = normal_request(&mut reader, site) {
        panic!("a normal request after the others: {e}");
    }
}

/// A normal GET of the fingerprinted stylesheet on `reader`'s connection: 200, the built
/// bytes, immutable.
fn normal_request(reader: &mut BufReader<TcpStream>, site: &Site) -> Result<(), String> {
    let request = format!("GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n", site.css);
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let response = read_response(reader, false).map_err(|e| format!("read: {e}"))?;
    if response.status != 200 || response.body != site.css_bytes {
        return Err(format!(
            "{} with {} bytes (expected 200 with the stylesheet's {})",
            response.status,
            response.body.len(),
            site.css_bytes.len()
        ));
    }
    if !response
        .header("cache-control")
        .is_some_and(|cc| cc.contains("immutable"))
    {
        return Err(format!(
            "no immutable Cache-Control: {:?}",
            response.headers
        ));
    }
    Ok(())
}

/// Sends one case and checks everything about its answer; returns the statuses seen.
fn run_case(server: &Server, site: &Site, case: &corpus::Case) -> Result<Vec<u16>, String> {
    let started = Instant::now();
    let stream = connect(server);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let written = writer.write_all(&case.request);
    if std::env::var_os("HOSTILE_DUMP").is_some() {
        std::fs::write("/tmp/hp/dump.bin", &case.request).unwrap();
    }
    let mut statuses = Vec::new();
    let mut raw = Vec::new();
    for (i, &expected) in case.expect.iter().enumerate() {
        let head = case.head.get(i).copied().unwrap_or(false);
        let response = match read_response(&mut reader, head) {
            Ok(response) => response,
            // A refused oversized head: the close may have reset the connection first.
            Err(_) if case.after == After::TooLarge && i == 0 => return Ok(statuses),
            Err(e) => {
                return Err(format!(
                    "response {} of {:?}: {e} (write: {written:?}; read so far {:?})",
                    i + 1,
                    case.expect,
                    String::from_utf8_lossy(&raw[..raw.len().min(2000)])
                ))
            }
        };
        raw.extend_from_slice(&response.raw);
        statuses.push(response.status);
        if response.status >= 500 {
            return Err(format!("a {} answer", response.status));
        }
        if response.status != expected {
            return Err(format!(
                "expected {:?}, got {statuses:?}…: {:?}",
                case.expect,
                String::from_utf8_lossy(&response.raw[..response.raw.len().min(300)])
            ));
        }
        if let (0, Some(coding)) = (i, case.coding) {
            let got = response.header("content-encoding").unwrap_or("");
            if got != coding {
                return Err(format!("Content-Encoding {got:?}, expected {coding:?}"));
            }
        }
    }
    if site.leaks(&raw) {
        return Err("a response holds bytes of the secret".to_owned());
    }
    match case.after {
        After::Open => normal_request(&mut reader, site)
            .map_err(|e| format!("the connection was not usable afterwards: {e}"))?,
        After::Close | After::TooLarge => {
            let mut rest = Vec::new();
            match reader.read_to_end(&mut rest) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                Err(e) => return Err(format!("the connection was not closed: {e}")),
            }
            if site.leaks(&rest) {
                return Err("bytes after the answer hold the secret".to_owned());
            }
            if !rest.is_empty() {
                return Err(format!(
                    "unexpected bytes after the answer: {:?}",
                    String::from_utf8_lossy(&rest[..rest.len().min(200)])
                ));
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    let took = started.elapsed();
    if took > PER_CASE {
        return Err(format!("took {took:?}"));
    }
    Ok(statuses)
}

#[test]
fn hostile_corpus_gets_exact_answers_and_never_the_secret() {
    let site = Site::new();
    // Timeouts far beyond PER_CASE: a request the server waits out fails the case.
    let mut server = serve(
        site.tree.root(),
        &["--request-timeout", "60", "--keep-alive", "60"],
    )
    .start();
    let cases = corpus::cases(&site);
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let only = std::env::var("HOSTILE_ONLY").ok();
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|o| c.label.contains(o.as_str())))
        .collect();
    let mut failures = Vec::new();
    // category → status → count, for the summary.
    let mut summary: BTreeMap<&str, BTreeMap<u16, usize>> = BTreeMap::new();
    for case in &cases {
        match run_case(&server, &site, case) {
            Ok(statuses) => {
                let seen = summary.entry(case.category).or_default();
                for status in statuses {
                    *seen.entry(status).or_default() += 1;
                }
            }
            Err(e) => failures.push(format!(
                "[{}] {}: {e}\n    request: {:?}",
                case.category,
                case.label,
                String::from_utf8_lossy(&case.request[..case.request.len().min(160)])
            )),
        }
        // After every case: alive, no panic, a normal request answered right.
        assert_healthy(&mut server, &site);
    }
    println!("{} hostile cases:", cases.len());
    for (category, statuses) in &summary {
        let n = cases.iter().filter(|c| c.category == *category).count();
        println!("  {category:16} {n:4} cases  statuses {statuses:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// One request of a pipeline: `method target version`, with `headers` (each ending in CRLF).
struct Ask {
    method: &'static str,
    target: String,
    version: &'static str,
    headers: String,
}

impl Ask {
    fn new(method: &'static str, target: &str, version: &'static str, headers: &str) -> Self {
        Self {
            method,
            target: target.to_owned(),
            version,
            headers: headers.to_owned(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        format!(
            "{} {} {}\r\nHost: localhost\r\n{}\r\n",
            self.method, self.target, self.version, self.headers
        )
        .into_bytes()
    }

    /// Whether its response closes the connection: `close`, or HTTP/1.0 without `keep-alive`
    /// (RFC 9112 §9.3).
    fn closes(&self) -> bool {
        let headers = self.headers.to_ascii_lowercase();
        headers.contains("connection: close")
            || (self.version == "HTTP/1.0" && !headers.contains("connection: keep-alive"))
    }

    /// The status and the complete body its response must have (the body a GET would get:
    /// a HEAD's Content-Length is that body's length, RFC 9110 §9.3.2).
    fn wanted<'s>(&self, site: &'s Site) -> (u16, &'s [u8]) {
        let css = format!("/{}", site.css);
        let big = format!("/{}", site.big);
        match self.target.as_str() {
            "/" => (200, &site.index_bytes),
            t if t == css && self.headers.contains("If-None-Match") => (304, &[]),
            t if t == css => (200, &site.css_bytes),
            t if t == big && self.headers.contains("Range: bytes=0-9") => {
                (206, &site.big_bytes[..10])
            }
            t if t == big => (200, &site.big_bytes),
            _ => (404, &site.not_found_bytes),
        }
    }
}

/// Reads the response to `ask` strictly, by its framing alone: the status line (version and
/// status), Content-Length (no chunking: assetc always knows the length), no body for a
/// HEAD or a 304 (RFC 9110 §9.3.2, §15.4.5), exactly the expected bytes otherwise, and
/// `Connection: close` exactly when the request asked for the close. A response framed for
/// another request fails here or desyncs the next read.
fn read_exchange(reader: &mut BufReader<TcpStream>, site: &Site, ask: &Ask) -> Result<(), String> {
    let no_body = ask.method == "HEAD";
    let response = read_response(reader, no_body).map_err(|e| format!("read: {e}"))?;
    let (status, body) = ask.wanted(site);
    let line = format!("{} {status} ", ask.version);
    if !response.raw.starts_with(line.as_bytes()) || response.status != status {
        return Err(format!(
            "expected `{line}…`, got {:?}",
            String::from_utf8_lossy(&response.raw[..response.raw.len().min(200)])
        ));
    }
    if response.header("transfer-encoding").is_some() {
        return Err(format!("a chunked response: {:?}", response.headers));
    }
    let length = response.header("content-length");
    let length_ok = match status {
        // A 304 may omit Content-Length; if present, it is the 200's (RFC 9110 §8.6).
        304 => length.is_none_or(|l| l == site.css_bytes.len().to_string()),
        _ => length == Some(body.len().to_string().as_str()),
    };
    if !length_ok {
        return Err(format!(
            "Content-Length {length:?}, expected {} ({} {})",
            body.len(),
            ask.method,
            ask.target
        ));
    }
    if !no_body && response.body != body {
        return Err(format!(
            "{} {}: a body of {} bytes that are not the expected {} bytes",
            ask.method,
            ask.target,
            response.body.len(),
            body.len()
        ));
    }
    let connection = response
        .header("connection")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let persistence_right = if ask.version == "HTTP/1.0" {
        // An HTTP/1.0 connection persists only if the response says `keep-alive` (RFC 9112
        // §9.3, Appendix C.2.2).
        connection.contains("keep-alive") != ask.closes()
    } else {
        connection.contains("close") == ask.closes()
    };
    if !persistence_right {
        return Err(format!(
            "{} {} {}: Connection {:?}",
            ask.method,
            ask.target,
            ask.version,
            response.header("connection")
        ));
    }
    Ok(())
}

/// Sends `asks` in one write and reads the answers: one per request up to the first that
/// closes the connection, then the close with nothing after it (RFC 9112 §9.6); without a
/// close, a normal request on the same connection afterwards.
fn run_pipeline(server: &Server, site: &Site, asks: &[Ask]) -> Result<(), String> {
    let stream = server.connect();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let bytes: Vec<u8> = asks.iter().flat_map(Ask::bytes).collect();
    (&stream)
        .write_all(&bytes)
        .map_err(|e| format!("write: {e}"))?;
    let answered = asks
        .iter()
        .position(Ask::closes)
        .map_or(asks.len(), |i| i + 1);
    for (i, ask) in asks[..answered].iter().enumerate() {
        read_exchange(&mut reader, site, ask).map_err(|e| format!("response {}: {e}", i + 1))?;
    }
    if answered < asks.len() || asks.last().is_some_and(Ask::closes) {
        let mut rest = Vec::new();
        match reader.read_to_end(&mut rest) {
            Ok(_) => {}
            // Unread pipelined requests at the close may turn it into a reset.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => return Err(format!("the connection was not closed: {e}")),
        }
        if !rest.is_empty() {
            return Err(format!(
                "{} bytes after the response that closed the connection: {:?}",
                rest.len(),
                String::from_utf8_lossy(&rest[..rest.len().min(200)])
            ));
        }
    } else {
        normal_request(&mut reader, site).map_err(|e| format!("afterwards: {e}"))?;
    }
    Ok(())
}

/// Pipelined requests (RFC 9112 §9.3.2) are answered in order, each framed for its own
/// method, version and connection options, whatever the requests around it: bodies of
/// different sizes (70 B, 5 KB, 400 KB from disk, the 404 page), HEAD and 304 without a
/// body, 206, HTTP/1.0 and 1.1, and a `close` in the middle, after which nothing more is
/// answered. (actix-http 3.20 framed a queued response for the request decoded last:
/// patches/actix-http.)
#[test]
fn pipelined_requests_are_answered_in_order_each_framed_for_its_own_request() {
    let site = Site::new();
    let mut server = serve(
        site.tree.root(),
        &["--request-timeout", "60", "--keep-alive", "60"],
    )
    .start();
    let css = format!("/{}", site.css);
    let big = format!("/{}", site.big);
    let inm = &format!("If-None-Match: {}\r\n", site.css_etag);
    let ask = |method, target: &str| Ask::new(method, target, "HTTP/1.1", "");
    let pipelines: Vec<(&str, Vec<Ask>)> = vec![
        (
            "GET, HEAD, GET",
            vec![ask("GET", "/"), ask("HEAD", &css), ask("GET", &big)],
        ),
        (
            "GET, GET, HEAD",
            vec![ask("GET", &css), ask("GET", "/"), ask("HEAD", &big)],
        ),
        (
            "HEAD, GET, HEAD",
            vec![ask("HEAD", "/"), ask("GET", &css), ask("HEAD", &big)],
        ),
        (
            "HEAD, 304, GET, 404, HEAD 404",
            vec![
                ask("HEAD", &big),
                Ask::new("GET", &css, "HTTP/1.1", inm),
                ask("GET", "/"),
                ask("GET", "/nope"),
                ask("HEAD", "/nope"),
                ask("GET", &css),
            ],
        ),
        (
            "close in the middle",
            vec![
                ask("GET", "/"),
                ask("HEAD", &big),
                Ask::new("GET", &css, "HTTP/1.1", "Connection: close\r\n"),
                ask("GET", &big),
                ask("GET", "/"),
            ],
        ),
        (
            "close on a HEAD in the middle",
            vec![
                ask("GET", &css),
                Ask::new("HEAD", "/", "HTTP/1.1", "Connection: close\r\n"),
                ask("GET", &css),
            ],
        ),
        (
            "HTTP/1.0 and 1.1 mixed",
            vec![
                Ask::new("GET", "/", "HTTP/1.0", "Connection: keep-alive\r\n"),
                ask("HEAD", &css),
                Ask::new("HEAD", &big, "HTTP/1.0", "Connection: keep-alive\r\n"),
                ask("GET", &big),
                Ask::new("GET", &css, "HTTP/1.0", "Connection: keep-alive\r\n"),
                ask("GET", "/"),
            ],
        ),
        (
            "HTTP/1.0 without keep-alive in the middle",
            vec![
                ask("GET", &css),
                Ask::new("HEAD", &css, "HTTP/1.0", "Connection: keep-alive\r\n"),
                Ask::new("GET", "/", "HTTP/1.0", ""),
                ask("GET", &css),
            ],
        ),
    ];
    // Fifty of mixed methods, versions and answers (200, 206, 304, 404, HEAD), in an order
    // where no two neighbours share their framing for long.
    let fifty: Vec<Ask> = (0..50)
        .map(|i| match i % 7 {
            0 => ask("GET", &css),
            1 => ask("HEAD", &big),
            2 => Ask::new("GET", &big, "HTTP/1.1", "Range: bytes=0-9\r\n"),
            3 => Ask::new("HEAD", "/", "HTTP/1.0", "Connection: keep-alive\r\n"),
            4 => Ask::new("GET", &css, "HTTP/1.1", inm),
            5 => ask("GET", "/nope"),
            _ => Ask::new("GET", "/", "HTTP/1.0", "Connection: keep-alive\r\n"),
        })
        .collect();
    let mut failures = Vec::new();
    for (label, asks) in pipelines.iter().chain([("50 mixed", fifty)].iter()) {
        if let Err(e) = run_pipeline(&server, &site, asks) {
            failures.push(format!("{label}: {e}"));
        }
        assert_healthy(&mut server, &site);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reads until the server closes `stream` (or resets it, or `limit` passes): what arrived and
/// how long it took.
fn until_closed(mut stream: TcpStream, limit: Duration) -> (Vec<u8>, Duration, bool) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0; 4096];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break false,
        }
    };
    (bytes, started.elapsed(), closed)
}

/// Whether `took` is the timeout `secs`: actix-http arms its timers from a clock it updates
/// every 500 ms, so a close comes up to that much early; a loaded machine makes it late.
fn about(took: Duration, secs: u64) -> bool {
    let secs = Duration::from_secs(secs);
    took + Duration::from_millis(700) >= secs && took < secs + Duration::from_millis(2500)
}

/// Slowloris: 200 connections drip their first request's head while a normal client keeps
/// being answered; each is answered 408 and closed at the request timeout. (The head of a
/// later request on a kept-alive connection: `a_slow_head_after_complete_requests_…`.)
#[test]
fn slow_clients_do_not_starve_others_and_are_cut_off_at_the_request_timeout() {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Slow connections held open at once.
    const SLOW: usize = 200;
    /// The server's request timeout: longer than the default (5 s), so that a close at the
    /// default would be too early.
    const REQUEST_TIMEOUT: u64 = 7;
    /// How often each slow client sends one more byte of its head.
    const DRIP: Duration = Duration::from_millis(250);

    let site = Site::new();
    let mut server = serve(
        site.tree.root(),
        &[
            "--request-timeout",
            &REQUEST_TIMEOUT.to_string(),
            "--workers",
            "2",
        ],
    )
    .open_files(1024)
    .start();

    // The slow clients: a request line and the start of a header, then a byte at a time.
    let done: Arc<Vec<AtomicBool>> = Arc::new((0..SLOW).map(|_| AtomicBool::new(false)).collect());
    let mut writers = Vec::with_capacity(SLOW);
    let mut readers = Vec::with_capacity(SLOW);
    for i in 0..SLOW {
        let mut stream = TcpStream::connect(server.addr()).expect("connect a slow client");
        stream
            .write_all(
                format!("GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow-{i}: ").as_bytes(),
            )
            .unwrap();
        writers.push(stream.try_clone().unwrap());
        let done = done.clone();
        readers.push(std::thread::spawn(move || {
            let limit = Duration::from_secs(REQUEST_TIMEOUT + 15);
            let result = until_closed(stream, limit);
            done[i].store(true, Ordering::Relaxed);
            result
        }));
    }
    let dripper = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Bounded: at most this many bytes per client, as long as any is still open.
            for _ in 0..(REQUEST_TIMEOUT + 15) * 4 {
                if done.iter().all(|d| d.load(Ordering::Relaxed)) {
                    break;
                }
                for (i, w) in writers.iter_mut().enumerate() {
                    if !done[i].load(Ordering::Relaxed) {
                        let _ = w.write_all(b"x");
                    }
                }
                std::thread::sleep(DRIP);
            }
        })
    };

    // Meanwhile a normal client is answered promptly, again and again, until the slow ones
    // are gone (bounded by count and time).
    // A new connection every 50 requests (not every one: no pile of TIME_WAIT sockets).
    let started = Instant::now();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut reader = BufReader::new(connect(&server));
    while !done.iter().all(|d| d.load(Ordering::Relaxed))
        && answered < 50_000
        && started.elapsed() < Duration::from_secs(REQUEST_TIMEOUT + 15)
    {
        let t = Instant::now();
        if answered % 50 == 0 {
            reader = BufReader::new(connect(&server));
        }
        if let Err(e) = normal_request(&mut reader, &site) {
            panic!("a normal request among {SLOW} slow clients: {e}");
        }
        slowest = slowest.max(t.elapsed());
        answered += 1;
    }
    let open_for = started.elapsed();
    dripper.join().unwrap();

    let mut reset = 0;
    for (i, reader) in readers.into_iter().enumerate() {
        let (bytes, took, closed) = reader.join().unwrap();
        assert!(closed, "slow client {i} was never disconnected ({took:?})");
        assert!(
            about(took, REQUEST_TIMEOUT),
            "slow client {i} disconnected after {took:?}, not at the {REQUEST_TIMEOUT} s request timeout"
        );
        if bytes.is_empty() {
            // Our next byte can race the close: a reset may drop the 408 in flight.
            reset += 1;
        } else {
            assert!(
                bytes.starts_with(b"HTTP/1.1 408 "),
                "slow client {i} got {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    assert!(
        answered >= 20,
        "only {answered} normal requests in {open_for:?}"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "a normal request took {slowest:?} among the slow clients"
    );
    println!(
        "{SLOW} slow clients cut off at ~{REQUEST_TIMEOUT} s ({} with a 408, {reset} reset first); \
         {answered} normal requests meanwhile, slowest {slowest:?}",
        SLOW - reset
    );
    assert_healthy(&mut server, &site);
}

/// Slowloris on kept-alive connections (RFC 9110 §15.5.9): after 100 complete requests on a
/// connection, the head of the next one dripped a byte every 100 ms is answered 408 and cut
/// off at the request timeout, as a first request's is, while another client keeps being
/// answered; a partial head sent along with a complete request (pipelined) and then left
/// unfinished is cut off at the request timeout too; and a connection idle after its
/// responses is still closed at the keep-alive timeout. The keep-alive timeout is far
/// longer than the request timeout, so a close at the wrong one fails `about`.
/// (actix-http 3.20 armed the request timer for a connection's first head only, and the
/// first byte of a later head also cleared the keep-alive timer: patches/actix-http.)
#[test]
fn a_slow_head_after_complete_requests_is_cut_off_at_the_request_timeout() {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Slow kept-alive connections at once.
    const SLOW: usize = 20;
    /// Complete requests on each before its slow head.
    const BEFORE: usize = 100;
    const REQUEST_TIMEOUT: u64 = 3;
    const KEEP_ALIVE: u64 = 7;
    const DRIP: Duration = Duration::from_millis(100);
    /// How long any of them may stay open: well past both timeouts.
    const LIMIT: Duration = Duration::from_secs(KEEP_ALIVE + 8);

    let site = Site::new();
    let mut server = serve(
        site.tree.root(),
        &[
            "--request-timeout",
            &REQUEST_TIMEOUT.to_string(),
            "--keep-alive",
            &KEEP_ALIVE.to_string(),
        ],
    )
    .start();

    // Each slow client: BEFORE complete requests, then the start of a head.
    let done: Arc<Vec<AtomicBool>> = Arc::new((0..SLOW).map(|_| AtomicBool::new(false)).collect());
    let mut writers = Vec::with_capacity(SLOW);
    let mut readers = Vec::with_capacity(SLOW);
    for i in 0..SLOW {
        let mut reader = BufReader::new(connect(&server));
        for n in 0..BEFORE {
            if let Err(e) = normal_request(&mut reader, &site) {
                panic!("slow client {i}, request {n}: {e}");
            }
        }
        let mut stream = reader.into_inner();
        stream
            .write_all(
                format!("GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow-{i}: ").as_bytes(),
            )
            .unwrap();
        writers.push(stream.try_clone().unwrap());
        let done = done.clone();
        readers.push(std::thread::spawn(move || {
            let result = until_closed(stream, LIMIT);
            done[i].store(true, Ordering::Relaxed);
            result
        }));
    }
    let dripper = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Bounded: at most LIMIT / DRIP bytes per client, as long as any is still open.
            for _ in 0..LIMIT.as_millis() / DRIP.as_millis() {
                if done.iter().all(|d| d.load(Ordering::Relaxed)) {
                    break;
                }
                for (i, w) in writers.iter_mut().enumerate() {
                    if !done[i].load(Ordering::Relaxed) {
                        let _ = w.write_all(b"x");
                    }
                }
                std::thread::sleep(DRIP);
            }
        })
    };

    // A complete request with the start of the next head behind it, then nothing more.
    let stalled = {
        let mut reader = BufReader::new(connect(&server));
        let request = format!(
            "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: loc",
            site.css
        );
        reader.get_mut().write_all(request.as_bytes()).unwrap();
        let response = read_response(&mut reader, false).expect("the complete request's answer");
        assert_eq!(
            (response.status, &response.body),
            (200, &site.css_bytes),
            "the complete request before the partial head"
        );
        // Timed from its response: the server is idle with the partial head from then on.
        std::thread::spawn(move || until_closed(reader.into_inner(), LIMIT))
    };

    // An idle connection after its responses.
    let idle = {
        let mut reader = BufReader::new(connect(&server));
        for n in 0..BEFORE {
            if let Err(e) = normal_request(&mut reader, &site) {
                panic!("idle client, request {n}: {e}");
            }
        }
        std::thread::spawn(move || until_closed(reader.into_inner(), LIMIT))
    };

    // Meanwhile another client is answered promptly, again and again, until the slow ones
    // are gone (bounded by count and time).
    let started = Instant::now();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut reader = BufReader::new(connect(&server));
    while !done.iter().all(|d| d.load(Ordering::Relaxed))
        && answered < 50_000
        && started.elapsed() < LIMIT
    {
        let t = Instant::now();
        if let Err(e) = normal_request(&mut reader, &site) {
            panic!("a normal request among {SLOW} slow kept-alive clients: {e}");
        }
        slowest = slowest.max(t.elapsed());
        answered += 1;
        // A steady client, not a load generator: the machine is shared with the slow ones.
        std::thread::sleep(Duration::from_millis(5));
    }
    dripper.join().unwrap();

    let mut reset = 0;
    for (i, reader) in readers.into_iter().enumerate() {
        let (bytes, took, closed) = reader.join().unwrap();
        assert!(closed, "slow client {i} was never disconnected ({took:?})");
        assert!(
            about(took, REQUEST_TIMEOUT),
            "slow client {i}'s head (after {BEFORE} requests) was cut off after {took:?}, \
             not at the {REQUEST_TIMEOUT} s request timeout"
        );
        if bytes.is_empty() {
            // Our next byte can race the close: a reset may drop the 408 in flight.
            reset += 1;
        } else {
            assert!(
                bytes.starts_with(b"HTTP/1.1 408 ")
                    && bytes
                        .windows(17)
                        .any(|w| w.eq_ignore_ascii_case(b"connection: close")),
                "slow client {i} got {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    let (bytes, took, closed) = stalled.join().unwrap();
    assert!(
        closed && about(took, REQUEST_TIMEOUT) && bytes.starts_with(b"HTTP/1.1 408 "),
        "a partial pipelined head: closed {closed} after {took:?}, {:?}",
        String::from_utf8_lossy(&bytes)
    );
    let (bytes, took, closed) = idle.join().unwrap();
    assert!(
        closed && bytes.is_empty() && about(took, KEEP_ALIVE),
        "an idle kept-alive connection: closed {closed} after {took:?} (not {KEEP_ALIVE} s), {bytes:?}"
    );
    assert!(answered >= 20, "only {answered} normal requests");
    assert!(
        slowest < Duration::from_secs(2),
        "a normal request took {slowest:?} among the slow clients"
    );
    println!(
        "{SLOW} slow heads after {BEFORE} requests each cut off at ~{REQUEST_TIMEOUT} s \
         ({} with a 408, {reset} reset first); idle closed at {took:?}; \
         {answered} normal requests meanwhile, slowest {slowest:?}",
        SLOW - reset
    );
    assert_healthy(&mut server, &site);
}

/// A head never finished is answered 408 and closed after `request` seconds; an idle
/// keep-alive connection is closed `keep_alive` seconds after its response.
fn check_timeouts(server: &Server, site: &Site, request: u64, keep_alive: u64) {
    let mut partial = connect(server);
    partial
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let partial = std::thread::spawn(move || until_closed(partial, Duration::from_secs(15)));

    let mut idle = BufReader::new(connect(server));
    normal_request(&mut idle, site).unwrap();
    let (rest, took, closed) = until_closed(idle.into_inner(), Duration::from_secs(15));
    assert!(
        closed && rest.is_empty(),
        "idle keep-alive: {rest:?} {took:?}"
    );
    assert!(
        about(took, keep_alive),
        "an idle keep-alive connection closed after {took:?}, not {keep_alive} s"
    );

    let (bytes, took, closed) = partial.join().unwrap();
    assert!(closed, "a partial head was never cut off");
    assert!(
        about(took, request),
        "a partial head was cut off after {took:?}, not {request} s"
    );
    assert!(
        bytes.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn request_and_keep_alive_timeouts_come_from_flags_and_the_config_file() {
    let site = Site::new();
    let root = site.tree.root();
    let mut server = serve(root, &["--request-timeout", "1", "--keep-alive", "3"]).start();
    check_timeouts(&server, &site, 1, 3);
    assert_healthy(&mut server, &site);
    drop(server);

    // The `[serve]` keys of assetc.toml, in the directory `assetc serve` runs in.
    let config = root.join("assetc.toml");
    std::fs::write(&config, "[serve]\nrequest_timeout = 3\nkeep_alive = 1\n").unwrap();
    let mut server = serve(root, &[]).start();
    check_timeouts(&server, &site, 3, 1);
    assert_healthy(&mut server, &site);
    drop(server);
    std::fs::remove_file(&config).unwrap();

    // Keep-alive 0: every connection closes after its response.
    let server = serve(root, &["--keep-alive", "0"]).start();
    let mut reader = BufReader::new(connect(&server));
    normal_request(&mut reader, &site).unwrap();
    let (rest, took, closed) = until_closed(reader.into_inner(), Duration::from_secs(10));
    assert!(
        closed && rest.is_empty() && took < Duration::from_secs(2),
        "{took:?}"
    );
    drop(server);

    // No request timeout at all is refused at start-up.
    let out = assetc()
        .current_dir(root)
        .args(["serve", "--root", "build", "--bind", "127.0.0.1:0"])
        .args(["--request-timeout", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--request-timeout"), "{stderr}");
}

/// `wrk`'s totals, as `hostile/load.lua` prints them.
#[derive(Debug)]
struct WrkTotals {
    requests: u64,
    duration_us: u64,
    bytes: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
    status: u64,
}

fn wrk(addr: &str, files: u32, args: &[&str], paths: &[String]) -> (WrkTotals, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/load.lua");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec wrk \"$@\""))
        .arg("wrk")
        .args(args)
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .arg("--")
        .args(paths)
        .output()
        .expect("run wrk through bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed (is it installed? `just test-deps` installs it): {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("{\"requests\""))
        .unwrap_or_else(|| panic!("no totals from wrk:\n{stdout}"));
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    let n = |k: &str| json[k].as_u64().unwrap_or_else(|| panic!("{k} in {line}"));
    let totals = WrkTotals {
        requests: n("requests"),
        duration_us: n("duration_us"),
        bytes: n("bytes"),
        connect: n("connect"),
        read: n("read"),
        write: n("write"),
        timeout: n("timeout"),
        status: n("status"),
    };
    (totals, stdout)
}

#[test]
fn a_thousand_connections_from_wrk_get_no_errors() {
    const CONNECTIONS: u32 = 1000;
    // Descriptors for the connections plus the server's own files, on both sides: the
    // server and wrk each run under `ulimit -n 4096`.
    const FILES: u32 = 4096;
    let site = Site::new();
    let mut server = serve(site.tree.root(), &["--workers", "2"])
        .open_files(FILES)
        .start();
    let paths = vec![
        "/".to_owned(),
        "/css/site.css".to_owned(),
        format!("/{}", site.css),
        format!("/{}", site.big),
    ];
    let (totals, output) = wrk(
        &server.addr().to_string(),
        FILES,
        &[
            "-t2",
            &format!("-c{CONNECTIONS}"),
            "-d4s",
            "--timeout",
            "20s",
        ],
        &paths,
    );
    println!("{output}");
    let errors = totals.connect + totals.read + totals.write + totals.timeout;
    assert_eq!(errors, 0, "socket errors under load: {totals:?}\n{output}");
    assert_eq!(totals.status, 0, "4xx/5xx under load: {totals:?}\n{output}");
    assert!(!output.contains("Non-2xx or 3xx responses"), "{output}");
    assert!(totals.requests > 0 && totals.bytes > 0, "{totals:?}");
    println!(
        "{CONNECTIONS} connections: {} requests in {:.1} s ({:.0}/s), {} MB, no errors",
        totals.requests,
        totals.duration_us as f64 / 1e6,
        totals.requests as f64 * 1e6 / totals.duration_us.max(1) as f64,
        totals.bytes / 1_000_000
    );
    assert_healthy(&mut server, &site);
}
